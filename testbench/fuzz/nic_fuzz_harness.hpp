// NicFuzzHarness: one hw::Nic on a host platform made for fuzzing, elaborated once per process
// and returned to power-on before every input. An input is an op stream (nic_fuzz_ops.hpp):
// register writes, descriptors, frames, time, the interconnect's behaviour. After every op, and
// every simulated microsecond, the harness checks what a hostile guest must never achieve; a
// failed check prints what and where, and aborts (libFuzzer records the input). docs/reliability.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vnic::fuzz {

enum class Check : uint8_t {
  DmaOutsideMapping,   // a device access host memory let through is outside the host's mappings
  DmaWithoutBme,       // a DMA read or write was issued while Bus Master Enable was off
  WritebackUnposted,   // a write into a ring that is not a slot the driver posted since the last enable
  DmaAfterReset,       // a write issued before a soft reset landed after it
  RxDoneWithoutData,   // an RX descriptor landed with DD but its data never did
  RingConfig,          // a queue runs on a ring its enable should have refused
  HeadOutsideRing,     // HEAD reads beyond the ring size
  TailOutsideRing,     // a running queue's TAIL reads beyond the ring size
  HeadOverUnposted,    // HEAD moved over a slot the driver never posted
  PendingEvents,       // more callbacks scheduled than Nic::max_pending_events()
  CounterDecreased,    // a statistics counter went down (they only reset at power-on)
  RxConservation,      // frames in != rx_packets + the RX drop counters
  TxConservation,      // frames the medium got != tx_packets
  TxFrameMalformed,    // a frame on the wire is shorter than 64 B, longer than 9022 B, or has a bad FCS
  CallbackRate,        // too many callbacks in a simulated microsecond (kCallbacksPerGuestEvent)
  ZeroTimeStorm,       // more than kMaxAccessesPerInstant device accesses at one simulated instant
  kCount
};
inline constexpr std::size_t kNumChecks = static_cast<std::size_t>(Check::kCount);
std::string_view check_name(Check c);

// Limits of one input, so that every input finishes quickly.
inline constexpr unsigned kMaxOps = 512;
inline constexpr uint64_t kTimeBudgetPs = 2'000'000'000;  // Time ops add up to 2 ms at most
inline constexpr uint64_t kDrainPs = 200'000'000;          // then up to 200 us for the NIC to go quiet
// Callback rate, judged per simulated microsecond (a Time op runs in 1 us windows): at most
// Nic::max_callbacks_per_us() (docs/hw.md) in a window without guest activity, plus this many
// per guest event (register access by an op, frame arrival, link change) in the window an op
// opens. Measured (docs/reliability.md): 196 for 64-byte frames at line rate out of two queues
// with 64-frame bursts in and an interrupt per frame (seed stress-line-rate-both-ways); 3934
// for the interrupt loop of issue 10's case 4 before its fix.
inline constexpr uint64_t kCallbacksPerGuestEvent = 16;
// Device accesses at one simulated instant: far above any legitimate burst; a loop in zero time.
inline constexpr uint64_t kMaxAccessesPerInstant = 1'000'000;

// What the last input did.
struct InputReport {
  unsigned ops = 0;
  uint64_t sim_ps = 0;       // simulated time it took, drain included
  uint64_t frames_in = 0;    // frames injected from the wire
  uint64_t frames_out = 0;   // frames the medium got
  uint64_t msi = 0;          // interrupt messages that landed in the MSI window
  bool quiet = true;         // no callback left scheduled at the end
  uint64_t digest = 0;       // of every counter, host memory's statistics and the callbacks run:
                             // equal digests, same run (an input alone or after others)
};

// Over every input since construction.
struct HarnessStats {
  uint64_t inputs = 0;
  uint64_t ops = 0;
  std::size_t max_pending = 0;          // callbacks scheduled at once (after an op or a microsecond)
  std::size_t pending_bound = 0;        // Nic::max_pending_events()
  uint64_t max_callbacks_per_us = 0;        // in any window
  uint64_t max_callbacks_per_quiet_us = 0;  // in windows without guest activity
  std::size_t callbacks_bound = 0;          // Nic::max_callbacks_per_us()
  std::size_t max_frames_in_use = 0;    // the NIC's frame pool
  std::size_t max_pending_writes = 0;   // the DMA engine's posted writes not yet landed
  uint64_t not_quiet = 0;               // inputs still busy after the drain
  std::array<uint64_t, kNumChecks> skipped{};  // violations of checks turned off
};

class NicFuzzHarness {
 public:
  // Elaborates the platform (SystemC modules): once per process, from sc_main.
  NicFuzzHarness();
  ~NicFuzzHarness();
  NicFuzzHarness(const NicFuzzHarness&) = delete;
  NicFuzzHarness& operator=(const NicFuzzHarness&) = delete;

  // Power-on, then the input's ops, then the drain and the final checks. Returns 0 (libFuzzer's
  // convention); a failed check aborts.
  int run(const uint8_t* data, std::size_t size);

  // Turns checks off by name (comma-separated), to look past a known violation: they are then
  // counted in stats().skipped instead. Returns false (and changes nothing) for an unknown name.
  bool skip(std::string_view names);
  // Prints every op to stderr as it runs.
  void set_trace(bool on);

  const InputReport& last() const;
  const HarnessStats& stats() const;

 private:
  class Platform;
  std::unique_ptr<Platform> p_;
};

}  // namespace vnic::fuzz

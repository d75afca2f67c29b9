// Host-side trace events (CPU contexts, NAPI polls, the driver's transmits, deliveries and
// recoveries): typed, one struct, written next to the NIC's events by the platform's writer.
#pragma once

#include <cstdint>

namespace vnic::stack {

enum class HostTraceKind : uint8_t {
  HardIrq,    // a hard IRQ handler ran from t_ps to t_end_ps (a: vector)
  Softirq,    // a softirq run (__do_softirq) from t_ps to t_end_ps
  NapiPoll,   // one ->poll() from t_ps to t_end_ps (a: work done, b: budget)
  Xmit,       // start_xmit accepted a packet (a: length, b: its trace id)
  Deliver,    // the driver handed a packet to the stack (a: length)
  TxTimeout,  // the TX watchdog fired (b: ms stalled)
  Reset,      // the driver reset the device to recover
};

struct HostTraceEvent {
  int64_t t_ps = 0;
  int64_t t_end_ps = 0;  // for events with a duration, else == t_ps
  HostTraceKind kind{};
  uint16_t cpu = 0;
  uint32_t a = 0;
  uint64_t b = 0;
};

class HostTraceSink {
 public:
  virtual ~HostTraceSink() = default;
  // `source`: the host's name ("host_a").
  virtual void host_trace(const char* source, const HostTraceEvent& e) = 0;
};

const char* host_trace_kind_name(HostTraceKind k);

}  // namespace vnic::stack

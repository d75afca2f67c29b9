// Journey: a packet followed through the steps of ../shared/reference/linux-network-flow.md,
// built from the model's trace events (model/include/vnic/model/trace.hpp). A sampled packet's
// own events (made, mapped, on the ring, fetched, on the wire, arrived, DMAed, completed,
// polled, ...) carry its id; the per-interrupt steps (the NIC's message, the hard IRQ, NAPI
// scheduled, NET_RX_SOFTIRQ raised, the interrupt re-enabled) carry none, so each is attached to
// the sampled packets waiting for it. The forward chain runs from the sender's egress to the
// receiver's consumer; the completion branch runs on the sender after the frame has left
// (docs/journey.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vnic/model/trace.hpp"

namespace vnic::tb {

enum class Branch : uint8_t { Forward, Completion };

struct JourneyStep {
  uint64_t t_ps = 0;
  model::Step step{};
  model::TraceKind kind{};
  Branch branch = Branch::Forward;
  std::string source;   // "nic_a", "host_b"
  uint16_t lane = 0;    // queue / vector (NIC) or CPU (host)
  std::string drop;     // for a drop: the counter that took it
};

struct Journey {
  uint64_t packet = 0;
  std::vector<JourneyStep> steps;  // in the order the model passed them (time, then emission)
  bool ended = false;              // consumed, or dropped
  std::string dropped_at;          // the counter, if it was dropped
  // The forward chain and the completion branch, each in time order.
  std::vector<const JourneyStep*> branch(Branch b) const;
};

// One segment's statistics over every sampled packet that passed both its steps.
struct SegmentStats {
  std::string from, to;  // "egress:12 tx.ring", ...
  uint64_t count = 0;
  uint64_t p50_ps = 0, p99_ps = 0, max_ps = 0, total_ps = 0;
};

struct JourneyConfig {
  uint64_t every = 1;      // sample packets 1, 1 + every, 1 + 2 x every, ... of each sender
  std::string from_host;   // only packets made on this host ("" : any); see sender()
  uint64_t max_packets = 10'000;  // journeys kept (the breakdown uses all of them)
};

class JourneyRecorder final : public model::TraceSink {
 public:
  // Events are also passed on to `next` (the trace writer), if any.
  explicit JourneyRecorder(const JourneyConfig& cfg, model::TraceSink* next = nullptr) : cfg_(cfg), next_(next) {}
  // Which host a NIC's interrupts go to ("nic_a" -> "host_a" unless told otherwise).
  void pair(const std::string& nic, const std::string& host) { host_of_[nic] = host; }
  // Which host makes the packets whose ids are prefix * 2^32 + 1, 2, ... (for JourneyConfig's
  // from_host). Unless told otherwise, prefix 0 is host "a" and 1 is host "b".
  void sender(uint64_t prefix, const std::string& host) { sender_of_[prefix] = host; }

  void trace(const char* source, const model::TraceEvent& e) override;

  const std::map<uint64_t, Journey>& journeys() const { return journeys_; }
  // Per forward-chain segment (consecutive steps) and end to end, over the sampled packets
  // that were consumed; sorted by total time, largest first.
  std::vector<SegmentStats> breakdown() const;
  // One sampled packet's steps as a table: step, the reference's words, source, lane,
  // context, the function, simulated time, time since the previous step.
  std::string format(const Journey& j) const;
  // The breakdown as a table.
  std::string format_breakdown() const;
  // Everything as JSON (journeys and breakdown).
  std::string json() const;

 private:
  struct Wait {
    uint64_t packet;
    Branch branch;
    model::TraceKind next;  // the per-interrupt step it waits for
    uint64_t since_ps;
  };
  bool sampled(uint64_t packet) const;
  std::string host_of(const std::string& source) const;
  void add(Journey& j, const char* source, const model::TraceEvent& e, Branch b, model::Step step);
  void attach(const char* source, const model::TraceEvent& e);
  void advance(const char* source, const model::TraceEvent& e);

  JourneyConfig cfg_;
  model::TraceSink* next_;
  std::map<std::string, std::string> host_of_;
  std::map<uint64_t, std::string> sender_of_;
  std::map<uint64_t, Journey> journeys_;
  std::map<std::string, std::vector<Wait>> waiting_;  // by the source that will emit the step
  // A hard IRQ's event is emitted when its handler ends, after the steps inside it (NAPI
  // scheduled, softirq raised): those wait here until it comes, by source.
  std::map<std::string, std::vector<model::TraceEvent>> inside_irq_;
  uint64_t dropped_journeys_ = 0;  // sampled but over max_packets
};

// Where an event's code runs: "device", "hardirq", "softirq", "task".
std::string_view journey_context(model::TraceKind k);

}  // namespace vnic::tb

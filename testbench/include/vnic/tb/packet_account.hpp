// PacketAccount: conservation per packet. Every packet the model makes has an id (the journey
// vocabulary, model/include/vnic/model/trace.hpp); this sink follows each id through the trace
// and checks that it ends exactly once: delivered to an application (a Consumed event marked
// kConsumedByApplication, pktgen's checker, or a socket's reader at ingress 24: ping), consumed
// by the stack (any other Consumed: an ARP frame processed, an echo request answered), or
// dropped where exactly one named counter took it (TraceKind::Drop: Linux's drop reason, with
// the host counter if one counts it; RxDrop / TxDropped: the NIC's, the driver's or the link's
// counter). What has not ended when the run stops is in flight. A packet that ends twice, or
// has an event after its end, is an error of the model, listed by id (the sender's completion,
// TxDone and TxClean, may come after the end: it frees the sender's copy, not the packet). Tap
// clones (tcpdump) are not packets of their own: they never emit an end.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "vnic/model/trace.hpp"

namespace vnic::tb {

class PacketAccount final : public model::TraceSink {
 public:
  // Events are passed on to `next` (the journey recorder or the trace writer), if any.
  explicit PacketAccount(model::TraceSink* next = nullptr) : next_(next) {}

  void trace(const char* source, const model::TraceEvent& e) override;

  struct Totals {
    uint64_t made = 0;       // distinct packet ids seen
    uint64_t delivered = 0;  // read by an application
    uint64_t consumed = 0;   // used up by the stack
    uint64_t dropped = 0;    // sum of by_counter
    uint64_t in_flight = 0;  // no end yet
    std::map<std::string, uint64_t> by_counter;  // the one counter (or drop reason) of each drop
    uint64_t ended_twice = 0;      // errors: a second end for one id
    uint64_t after_end = 0;        // errors: an event for an id after its end
    std::vector<uint64_t> errors;  // the first ids in error (at most 20)
  };
  Totals totals() const;
  // No packet ended twice or had an event after its end.
  bool exact() const;
  // exact(), and every packet has ended (nothing in flight: the run's traffic is over).
  bool complete() const;
  // The account as text: one line per outcome, then one per counter, then errors.
  std::string report() const;

 private:
  enum class End : uint8_t { None, Delivered, Consumed, Dropped };
  struct Entry {
    End end = End::None;
    std::string counter;  // for a drop
  };
  void end(uint64_t id, End how, std::string counter);
  void error(uint64_t id);

  model::TraceSink* next_;
  std::unordered_map<uint64_t, Entry> packets_;
  uint64_t ended_twice_ = 0, after_end_ = 0;
  std::vector<uint64_t> errors_;
};

}  // namespace vnic::tb

// PktGen and RxChecker: the traffic ends of a driver host. PktGen is a kernel thread like Linux's
// pktgen: it builds pattern frames in skbs and calls the device's start_xmit directly, in bursts
// with xmit_more, waiting while the queue is stopped. RxChecker is the protocol hand-off's sink:
// it checks every byte and the order of what the stack delivers.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/trace.hpp"
#include "vnic/tb/traffic.hpp"

namespace vnic::tb {

struct PktGenConfig {
  TrafficPattern pattern{};
  uint64_t count = 0;
  uint32_t burst = 32;                         // packets per xmit_more batch (pktgen's burst)
  model::Duration interval{};                  // 0: as fast as the queue takes them
  model::Duration start = model::Duration::us(1);  // after the interface is up
};

struct PktGenStats {
  uint64_t sent = 0;          // accepted by start_xmit (NETDEV_TX_OK)
  uint64_t busy = 0;          // NETDEV_TX_BUSY: kept and sent again after a wake
  uint64_t alloc_waits = 0;   // no skb: waited and tried again
  uint64_t queue_waits = 0;   // queue stopped: waited for the wake
};

class PktGen {
 public:
  PktGen(stack::Cpu& cpu, stack::NetDevice& dev, stack::SkbPool& pool, const PktGenConfig& cfg);
  ~PktGen();
  // Starts sending cfg.start from now.
  void start();
  bool done() const { return next_seq_ >= cfg_.count && held_.empty(); }
  const PktGenStats& stats() const { return stats_; }
  const PktGenConfig& config() const { return cfg_; }
  // Each packet made is an event (its journey's start); packet k's id is id_base + k + 1, so ids
  // of different hosts never meet (the ids are kept whether or not a sink is set).
  void set_trace(stack::TraceSink* sink, const char* source, uint64_t id_base) {
    trace_ = sink;
    trace_source_ = source;
    id_base_ = id_base;
  }

 private:
  static void run_thunk(void* ctx, uint64_t) { static_cast<PktGen*>(ctx)->run(); }
  static void wake_thunk(void* ctx);
  void run();
  void schedule(model::Duration after);
  stack::SkBuff* build(uint64_t seq);

  stack::Cpu& cpu_;
  stack::NetDevice& dev_;
  stack::SkbPool& pool_;
  PktGenConfig cfg_;
  uint64_t next_seq_ = 0;
  std::vector<stack::SkBuff*> held_;  // built, not yet accepted (oldest first)
  bool scheduled_ = false;
  bool waiting_wake_ = false;
  PktGenStats stats_;
  stack::TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
  uint64_t id_base_ = 0;
};

struct RxCheckerStats {
  uint64_t frames = 0, ok = 0, bad_bytes = 0, out_of_order = 0, gap_frames = 0, not_for_us = 0;
  uint64_t next_seq = 0;
};

class RxChecker {
 public:
  const TrafficPattern& pattern() const { return pattern_; }
  void expect(const TrafficPattern& p) {
    pattern_ = p;
    frames_.set(p);
  }
  // One more sender whose raw frames to `me` this checker takes (a station on a switch).
  void expect_also(const TrafficPattern& p, const model::MacAddr& me) { frames_.add(p, me); }
  // Softnet::RxHandler.
  static void rx(void* ctx, stack::SkBuff* skb);
  // The IPv4/UDP form (an L4 handler's sink: skb's network header at the datagram); consumes skb.
  void rx_datagram(stack::SkBuff* skb);
  const RxCheckerStats& stats() const { return stats_; }
  // Each packet consumed is an event: the end of its journey.
  void set_trace(stack::TraceSink* sink, const char* source, stack::Cpu* cpu) {
    trace_ = sink;
    trace_source_ = source;
    cpu_ = cpu;
  }

 private:
  void take(stack::SkBuff* skb, std::optional<uint64_t> seq);  // counts, traces and consumes it
  void take(stack::SkBuff* skb, const RxExpect::Result& r);
  TrafficPattern pattern_{};  // the IPv4/UDP form's
  RxExpect frames_{};         // the raw frames' senders
  RxCheckerStats stats_;
  stack::TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
  stack::Cpu* cpu_ = nullptr;
};

}  // namespace vnic::tb

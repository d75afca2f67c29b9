// The transmit core of one CPU (net/core/dev.c, net/sched/sch_generic.c): dev_queue_xmit into the
// device's qdisc or straight to the driver, the qdisc run (sch_direct_xmit, bulk dequeue within
// BQL's limit, requeue on NETDEV_TX_BUSY), and NET_TX_SOFTIRQ (net_tx_action) running the
// qdiscs put on this CPU's output queue (__netif_schedule) by a wake or an unfinished run.
#pragma once

#include <cstdint>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/sched.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/trace.hpp"

namespace vnic::stack {

// NET_XMIT_SUCCESS / NET_XMIT_DROP, and -ENETDOWN for a device that is down or has no queue and a
// busy driver.
// NET_XMIT_CN: the qdisc took it but dropped packets of its flow (congestion notification).
enum class NetXmit : int { Success = 0, Drop = 1, Cn = 2, NetDown = -100 };

// Software GSO (stack/src/core/gso.cpp). Told of each segment made: its id, its index, the GSO
// skb's id.
struct GsoTrace {
  void (*fn)(void* ctx, uint64_t id, uint32_t index, uint64_t gso_id) = nullptr;
  void* ctx = nullptr;
};
// skb_gso_segment for TCP/IPv4: the segments (linked by next, from the skb's pool; the socket's
// charge moved to them) or nullptr (no memory, or not a TCP GSO skb). The GSO skb is left to
// the caller.
SkBuff* skb_gso_segment(Cpu& cpu, SkBuff* gso, const GsoTrace& tr);

struct TxCoreStats {
  uint64_t xmit = 0;          // dev_queue_xmit calls
  uint64_t gso_skbs = 0;      // GSO skbs cut into segments by validate_xmit_skb
  uint64_t gso_segments = 0;  // the segments made of them
  uint64_t gso_failed = 0;    // GSO skbs that could not be cut (no memory): dropped, tx_dropped
  uint64_t bypass = 0;        // sent straight to the driver by an empty bypass-capable qdisc
  uint64_t net_tx_action = 0; // NET_TX_SOFTIRQ runs
  uint64_t quota_exhausted = 0;  // qdisc runs stopped after dev_tx_weight packets, rescheduled
};

class TxCore {
 public:
  TxCore(Cpu& cpu, const NetCoreSysctls& sys);
  TxCore(const TxCore&) = delete;
  TxCore& operator=(const TxCore&) = delete;

  // Gives `dev` a root qdisc (the one default_qdisc names, or noqueue) and wakes it through this
  // CPU when the driver or BQL lifts a stop (netif_schedule_queue).
  void attach(NetDevice& dev, std::unique_ptr<Qdisc> q);
  // egress 10-11: the packet (skb->dev set) to its device's qdisc, or to the driver.
  NetXmit dev_queue_xmit(SkBuff* skb);
  // __netif_schedule: run q from NET_TX_SOFTIRQ on this CPU.
  void netif_schedule(Qdisc& q);
  void qdisc_run(Qdisc& q);

  // dev_queue_xmit_nit: called with each packet just before it goes to the driver (xmit_one),
  // when the device has ptype_all taps (NetStack's); the callee must not keep or free the skb.
  using NitFn = void (*)(void* ctx, Cpu& cpu, SkBuff* skb);
  void set_nit(NitFn fn, void* ctx) {
    nit_ = fn;
    nit_ctx_ = ctx;
  }

  const TxCoreStats& stats() const { return stats_; }
  void set_trace(TraceSink* sink, const char* source) {
    trace_ = sink;
    trace_source_ = source;
  }

 private:
  static void net_tx_action_thunk(void* ctx, uint64_t) { static_cast<TxCore*>(ctx)->net_tx_action(); }
  // validate_xmit_skb: a GSO skb becomes its segments (a list); nullptr if it was dropped.
  SkBuff* validate_xmit_skb(SkBuff* skb, NetDevice& dev);
  static void gso_trace_thunk(void* ctx, uint64_t id, uint32_t index, uint64_t gso_id);
  static void wake_thunk(void* ctx);
  static void qdisc_drop_thunk(void* ctx, SkBuff* skb, SkbDropReason why);
  static void ecn_mark_thunk(void* ctx, const SkBuff& skb, uint64_t sojourn_ns);  // EcnMark
  void dequeued(Qdisc& q, SkBuff* skb, model::Instant now);  // the QdiscDequeue event (sojourn)
  void net_tx_action();
  // sch_direct_xmit: hands a list (linked through next) to the driver; false if it refused some
  // (they are requeued) or the queue stopped.
  bool sch_direct_xmit(SkBuff* list, Qdisc& q);
  SkBuff* dequeue_skb(Qdisc& q, int* packets);
  void requeue(SkBuff* list, Qdisc& q);
  void emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet, model::Step step);
  // xmit_one: the taps, then ndo_start_xmit.
  NetdevTx xmit_one(NetDevice& dev, SkBuff* skb, bool more) {
    if (nit_ != nullptr) nit_(nit_ctx_, cpu_, skb);
    const NetdevTx r = dev.start_xmit(skb, more);
    if (r == NetdevTx::Ok) ++dev.tx_from_core;
    return r;
  }
  NitFn nit_ = nullptr;
  void* nit_ctx_ = nullptr;

  Cpu& cpu_;
  const NetCoreSysctls& sys_;
  Qdisc* output_head_ = nullptr;  // sd->output_queue
  Qdisc* output_tail_ = nullptr;
  TxCoreStats stats_;
  SkBuff* enqueuing_ = nullptr;    // the packet in ->enqueue() now (compared, never touched)
  bool enqueued_dropped_ = false;  // the qdisc dropped that very packet (NET_XMIT_CN)
  TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
};

}  // namespace vnic::stack

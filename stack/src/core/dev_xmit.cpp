// The transmit core (net/core/dev.c __dev_queue_xmit, net/sched/sch_generic.c __qdisc_run,
// sch_direct_xmit, dequeue_skb, dev_requeue_skb; net_tx_action), as Linux 6.1 runs it for a
// single-queue device whose root qdisc is lockless (pfifo_fast) or absent (noqueue).
#include "vnic/stack/dev_xmit.hpp"

#include <algorithm>
#include <cstdint>

namespace vnic::stack {

TxCore::TxCore(Cpu& cpu, const NetCoreSysctls& sys) : cpu_(cpu), sys_(sys) {
  cpu_.open_softirq(Softirq::NetTx, &TxCore::net_tx_action_thunk, this);
}

void TxCore::emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet, model::Step step) {
  if (trace_ == nullptr) [[likely]] return;
  const uint64_t t = static_cast<uint64_t>(cpu_.now().ps());
  trace_->trace(trace_source_, TraceEvent{t, t, k, step, static_cast<uint16_t>(cpu_.id()), a, b, packet});
}

void TxCore::attach(NetDevice& dev, std::unique_ptr<Qdisc> q) {
  dev.qdisc = std::move(q);
  if (!dev.qdisc) dev.qdisc = std::make_unique<NoQueue>(dev);
  dev.qdisc->owner = this;
  dev.qdisc->set_drop_fn(&TxCore::qdisc_drop_thunk, this);
  dev.qdisc->set_mark_fn(&TxCore::ecn_mark_thunk, this);
  dev.set_qdisc_waker(&TxCore::wake_thunk, dev.qdisc.get());
}

void TxCore::qdisc_drop_thunk(void* ctx, SkBuff* skb, SkbDropReason why) {
  // A packet the qdisc dropped itself (fq_codel's CoDel and overflow drops): its end.
  auto* self = static_cast<TxCore*>(ctx);
  if (skb == self->enqueuing_) self->enqueued_dropped_ = true;
  for_each_packet_id(*skb, [&](uint64_t id) {
    self->emit(TraceKind::TxDropped, skb->len, model::host_drop(model::HostDrop::QdiscDrop), id, model::egress(11));
  });
  kfree_skb(skb, why);
}

void TxCore::ecn_mark_thunk(void* ctx, const SkBuff& skb, uint64_t sojourn_ns) {
  // fq_codel set CE on it instead of dropping it (a: its sojourn in the qdisc, ns)
  auto* self = static_cast<TxCore*>(ctx);
  const auto a = static_cast<uint32_t>(std::min<uint64_t>(sojourn_ns, UINT32_MAX));
  for_each_packet_id(skb, [&](uint64_t id) { self->emit(TraceKind::EcnMark, a, 0, id, model::egress(11)); });
}

void TxCore::wake_thunk(void* ctx) {
  // netif_schedule_queue / netif_tx_wake_queue: a stop was lifted, run the qdisc (softirq).
  auto* q = static_cast<Qdisc*>(ctx);
  if (q->owner != nullptr && !q->empty()) static_cast<TxCore*>(q->owner)->netif_schedule(*q);
}

namespace {
// bstats_update: bytes as the qdisc counts them, packets as segments
template <class Stats>
void bstats_update(Stats& st, const SkBuff& skb) {
  st.bytes += qdisc_pkt_len(skb);
  st.packets += skb_is_gso(skb) ? std::max<uint32_t>(skb.gso_segs, 1) : 1u;
}
}  // namespace

void TxCore::gso_trace_thunk(void* ctx, uint64_t id, uint32_t index, uint64_t gso_id) {
  static_cast<TxCore*>(ctx)->emit(TraceKind::GsoSegment, index, gso_id, id, model::egress(11));
}

SkBuff* TxCore::validate_xmit_skb(SkBuff* skb, NetDevice& dev) {
  if (!skb_is_gso(*skb)) return skb;
  // netif_needs_gso: the model's device offers no TSO, so every GSO skb is cut here
  SkBuff* segs = skb_gso_segment(cpu_, skb, GsoTrace{trace_ != nullptr ? &TxCore::gso_trace_thunk : nullptr, this});
  if (segs == nullptr) {
    ++stats_.gso_failed;
    ++dev.gso_failed_core;
    ++dev.tx_dropped_core;  // validate_xmit_skb's out_null: dev_core_stats_tx_dropped_inc
    for_each_packet_id(*skb, [&](uint64_t pid) {
      emit(TraceKind::TxDropped, skb->len, model::host_drop(model::HostDrop::TxDroppedCore), pid, model::egress(11));
    });
    kfree_skb(skb);
    return nullptr;
  }
  ++stats_.gso_skbs;
  ++dev.gso_skbs_core;
  for (SkBuff* s = segs; s != nullptr; s = s->next) {
    ++stats_.gso_segments;
    ++dev.gso_segments_core;
  }
  skb->seg_ids.clear();
  consume_skb(skb);  // its segments go on under its ids
  return segs;
}

NetXmit TxCore::dev_queue_xmit(SkBuff* skb) {
  // egress 10: __dev_queue_xmit
  ++stats_.xmit;
  cpu_.charge(cpu_.costs().dev_queue_xmit);
  emit(TraceKind::DevQueueXmit, skb->len, 0, skb->trace_id, model::egress(10));
  NetDevice& dev = *skb->dev;
  Qdisc* q = dev.qdisc.get();
  if (q == nullptr || q->is_noqueue()) {
    // No queue: straight to the driver if it takes it; else the packet is lost (a virtual
    // device "asks to queue packet", or the device is down): -ENETDOWN, core tx_dropped.
    if (dev.up && !dev.netif_xmit_stopped()) {
      SkBuff* list = validate_xmit_skb(skb, dev);
      if (list == nullptr) return NetXmit::Drop;
      dev.tx_lock(cpu_);  // HARD_TX_LOCK
      NetdevTx r = NetdevTx::Ok;
      while (list != nullptr && r == NetdevTx::Ok) {
        SkBuff* next = list->next;
        list->next = nullptr;
        r = xmit_one(dev, list, next != nullptr);
        if (r != NetdevTx::Ok) {
          list->next = next;
          break;
        }
        list = next;
      }
      dev.tx_unlock(cpu_);
      if (list == nullptr) return NetXmit::Success;
      // the rest of a segment list the driver would not take: lost, as kfree_skb_list
      while (list != nullptr && list->next != nullptr) {
        SkBuff* n = list->next;
        list->next = nullptr;
        ++dev.tx_dropped_core;
        emit(TraceKind::TxDropped, list->len, model::host_drop(model::HostDrop::TxDroppedCore), list->trace_id,
             model::egress(10));
        kfree_skb(list);
        list = n;
      }
      skb = list;
    }
    ++dev.tx_dropped_core;
    for_each_packet_id(*skb, [&](uint64_t pid) {
      emit(TraceKind::TxDropped, skb->len, model::host_drop(model::HostDrop::TxDroppedCore), pid, model::egress(10));
    });
    kfree_skb(skb);  // __dev_queue_xmit's kfree_skb_list: no reason given (NOT_SPECIFIED)
    return NetXmit::NetDown;
  }
  // egress 11: the qdisc. An empty lockless qdisc that may be bypassed sends at once
  // (__dev_xmit_skb's TCQ_F_CAN_BYPASS path); the packet is counted as sent by the qdisc.
  cpu_.charge(cpu_.costs().qdisc);
  if (q->can_bypass() && q->empty() && !q->running) {
    ++stats_.bypass;
    q->running = true;
    bstats_update(q->stats, *skb);
    emit(TraceKind::QdiscEnqueue, skb->len, 1, skb->trace_id, model::egress(11));
    skb->next = nullptr;
    if (sch_direct_xmit(skb, *q) && !q->empty()) {
      q->running = false;
      qdisc_run(*q);
    }
    q->running = false;
    return NetXmit::Success;
  }
  NetXmit rc = NetXmit::Success;
  // A qdisc that answers NET_XMIT_CN may have dropped this very packet (its Drop already
  // traced): the enqueue event is for a packet that stays in the qdisc.
  const uint32_t len = skb->len;
  const uint64_t id = skb->trace_id;
  enqueuing_ = skb;
  enqueued_dropped_ = false;
  const QdiscRc qrc = q->enqueue(skb, cpu_.now());
  enqueuing_ = nullptr;
  if (qrc != QdiscRc::Drop && !enqueued_dropped_) emit(TraceKind::QdiscEnqueue, len, 0, id, model::egress(11));
  if (qrc == QdiscRc::Cn) {
    rc = NetXmit::Cn;
  } else if (qrc == QdiscRc::Drop) {
    ++q->stats.drops;
    for_each_packet_id(*skb, [&](uint64_t pid) {
      emit(TraceKind::TxDropped, skb->len, model::host_drop(model::HostDrop::QdiscDrop), pid, model::egress(11));
    });
    kfree_skb(skb, SkbDropReason::QdiscDrop);  // qdisc_drop_cpu
    rc = NetXmit::Drop;
  }
  qdisc_run(*q);
  return rc;
}

void TxCore::qdisc_run(Qdisc& q) {
  // qdisc_run_begin/__qdisc_run/qdisc_run_end: at most dev_tx_weight packets, then the rest
  // from NET_TX_SOFTIRQ, so one sender cannot keep the CPU.
  if (q.running) return;
  q.running = true;
  int quota = sys_.dev_weight * sys_.dev_weight_tx_bias;
  for (;;) {
    int packets = 0;
    SkBuff* list = dequeue_skb(q, &packets);
    if (list == nullptr) break;
    const bool more = sch_direct_xmit(list, q);
    quota -= packets;
    if (!more) break;
    if (quota <= 0) {
      ++stats_.quota_exhausted;
      netif_schedule(q);
      break;
    }
  }
  q.running = false;
}

SkBuff* TxCore::dequeue_skb(Qdisc& q, int* packets) {
  NetDevice& dev = q.dev();
  if (q.requeued != nullptr) {
    // A packet the driver refused goes first, but only once the queue is running again.
    if (dev.netif_xmit_stopped()) return nullptr;
    SkBuff* list = q.requeued;
    q.requeued = nullptr;
    for (SkBuff* s = list; s != nullptr; s = s->next) {
      ++*packets;
      q.stats.backlog_bytes -= s->len;
    }
    return list;
  }
  if (dev.netif_xmit_stopped()) return nullptr;
  const Instant now = cpu_.now();
  SkBuff* skb = q.dequeue(now);
  if (skb == nullptr) return nullptr;
  skb->next = nullptr;
  dequeued(q, skb, now);
  bstats_update(q.stats, *skb);
  *packets = 1;
  // try_bulk_dequeue_skb: more packets in one go while BQL's limit has room, so the driver gets
  // them with xmit_more and rings the doorbell once.
  if (dev.bql_enabled) {
    int bytelimit = dev.dql.avail() - static_cast<int>(skb->len);
    SkBuff* last = skb;
    while (bytelimit > 0) {
      SkBuff* n = q.dequeue(now);
      if (n == nullptr) break;
      n->next = nullptr;
      dequeued(q, n, now);
      bstats_update(q.stats, *n);
      bytelimit -= static_cast<int>(n->len);
      last->next = n;
      last = n;
      ++*packets;
    }
  }
  return skb;
}

void TxCore::dequeued(Qdisc& q, SkBuff* skb, Instant now) {
  if (trace_ == nullptr) [[likely]] return;
  const int64_t ns = (now - skb->tstamp).ps() / 1000;
  emit(TraceKind::QdiscDequeue, static_cast<uint32_t>(std::clamp<int64_t>(ns, 0, UINT32_MAX)), q.qlen(), skb->trace_id,
       model::egress(11));
}

bool TxCore::sch_direct_xmit(SkBuff* list, Qdisc& q) {
  // dev_hard_start_xmit: each packet with xmit_more while more follow; a refused one (or a queue
  // stopped with packets left) and the rest are requeued.
  NetDevice& dev = q.dev();
  // validate_xmit_skb_list, before the lock: GSO skbs become their segments
  SkBuff* skb = nullptr;
  {
    SkBuff** tail = &skb;
    for (SkBuff* s = list; s != nullptr;) {
      SkBuff* next = s->next;
      s->next = nullptr;
      SkBuff* v = validate_xmit_skb(s, dev);
      if (v != nullptr) {
        *tail = v;
        while (v->next != nullptr) v = v->next;
        tail = &v->next;
      }
      s = next;
    }
  }
  if (skb == nullptr) return true;
  dev.tx_lock(cpu_);  // HARD_TX_LOCK around dev_hard_start_xmit
  while (skb != nullptr) {
    if (dev.netif_xmit_stopped() || !dev.up) break;
    SkBuff* next = skb->next;
    skb->next = nullptr;
    if (xmit_one(dev, skb, next != nullptr) != NetdevTx::Ok) {
      skb->next = next;
      break;
    }
    skb = next;
  }
  dev.tx_unlock(cpu_);
  if (skb != nullptr) {
    requeue(skb, q);
    return false;
  }
  return true;
}

void TxCore::requeue(SkBuff* list, Qdisc& q) {
  // dev_requeue_skb: kept in the qdisc's slot, counted, and the qdisc scheduled.
  for (SkBuff* s = list; s != nullptr; s = s->next) {
    ++q.stats.requeues;
    q.stats.backlog_bytes += s->len;  // a requeued packet is in the qdisc's backlog again
  }
  SkBuff* tail = list;
  while (tail->next != nullptr) tail = tail->next;
  tail->next = q.requeued;
  q.requeued = list;
  netif_schedule(q);
}

void TxCore::netif_schedule(Qdisc& q) {
  // __netif_schedule: once on this CPU's output queue, raising NET_TX_SOFTIRQ.
  if (q.scheduled) return;
  q.scheduled = true;
  q.next_sched = nullptr;
  if (output_tail_ != nullptr) output_tail_->next_sched = &q; else output_head_ = &q;
  output_tail_ = &q;
  cpu_.raise_softirq(Softirq::NetTx);
}

void TxCore::net_tx_action() {
  // net_tx_action: take the output queue, clear each qdisc's SCHED bit, run it.
  ++stats_.net_tx_action;
  Qdisc* q = output_head_;
  output_head_ = output_tail_ = nullptr;
  while (q != nullptr) {
    Qdisc* next = q->next_sched;
    q->next_sched = nullptr;
    q->scheduled = false;
    qdisc_run(*q);
    q = next;
  }
}

}  // namespace vnic::stack

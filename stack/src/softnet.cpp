// Softnet: net_rx_action, NAPI state transitions, the backlog NAPI and softnet_stat, after
// net/core/dev.c of Linux 6.1 (the model's own code; the comments name the kernel functions).
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/trace.hpp"

#include <fmt/format.h>

namespace vnic::stack {

Softnet::Softnet(Cpu& cpu, const NetCoreSysctls& sysctls) : cpu_(cpu), sys_(sysctls) {
  backlog_.poll = &Softnet::process_backlog;
  backlog_.owner = this;
  backlog_.softnet = this;
  backlog_.weight = sys_.dev_weight * sys_.dev_weight_rx_bias;
  cpu_.open_softirq(Softirq::NetRx, &Softnet::net_rx_action_thunk, this);
}

void Softnet::netif_napi_add(Napi& n, Napi::PollFn poll, void* owner, int weight) {
  n = Napi{};
  n.poll = poll;
  n.owner = owner;
  n.weight = weight;
  n.softnet = this;
  n.sched = true;  // as netif_napi_add leaves it: disabled until napi_enable
}

void Softnet::napi_enable(Napi& n) {
  n.sched = false;
  n.missed = false;
  n.disable = false;
}

Co<void> Softnet::napi_disable(Napi& n) {
  n.disable = true;
  while (n.sched) co_await sleep(cpu_, Duration::us(100));  // usleep_range(20, 200)
  n.sched = true;  // owned by the disabler: napi_schedule() is a no-op until napi_enable
  n.disable = false;
}

void Softnet::list_add_tail(Napi& n) {
  n.next = nullptr;
  n.on_list = true;
  if (poll_tail_) poll_tail_->next = &n; else poll_head_ = &n;
  poll_tail_ = &n;
}

void Softnet::napi_schedule(Napi& n) {
  // napi_schedule_prep
  if (n.disable) return;
  if (n.sched) {
    n.missed = true;
    return;
  }
  n.sched = true;
  // __napi_schedule -> ____napi_schedule
  list_add_tail(n);
  cpu_.raise_softirq(Softirq::NetRx);
  emit(TraceKind::SoftirqRaise, 0, 0, 0);
}

bool Softnet::napi_complete_done(Napi& n, int work_done) {
  (void)work_done;
  // GRO: every held skb goes up (gro_flush_timeout 0), then the rx_list
  napi_gro_flush(n);
  gro_normal_list(n);
  if (n.missed) {
    // Scheduled again while polling: stay scheduled and poll once more.
    n.missed = false;
    if (!n.on_list) {
      list_add_tail(n);
      cpu_.raise_softirq(Softirq::NetRx);
    }
    return false;
  }
  n.sched = false;
  return true;
}

int Softnet::napi_poll(Napi& n, bool* repoll) {
  n.on_list = false;  // list_del_init
  int work = 0;
  const int weight = n.weight;
  if (n.sched) {
    const Instant t0 = cpu_.now();
    cpu_.charge(cpu_.costs().napi_poll);
    work = n.poll(&n, weight);
    ++n.polls;
    n.work += static_cast<uint64_t>(work);
    if (trace_ != nullptr) [[unlikely]] {
      trace_->trace(trace_source_, TraceEvent{static_cast<uint64_t>(t0.ps()), static_cast<uint64_t>(cpu_.now().ps()),
                                              TraceKind::NapiPoll, model::kNoStep, static_cast<uint16_t>(cpu_.id()),
                                              static_cast<uint32_t>(work), static_cast<uint64_t>(weight), 0});
    }
  }
  if (work < weight) return work;
  ++n.full_polls;
  // the whole weight used: napi_gro_flush(n, HZ >= 1000) flushes everything at HZ 250, then
  // gro_normal_list
  napi_gro_flush(n);
  gro_normal_list(n);
  if (n.disable) {  // napi_disable is waiting: give it up now
    napi_complete_done(n, work);
    return work;
  }
  if (n.on_list) return work;  // the driver rescheduled it itself (a driver bug Linux warns about)
  *repoll = true;
  return work;
}

void Softnet::net_rx_action() {
  ++stats_.net_rx_action;
  const uint64_t time_limit = jiffies(cpu_.now()) + usecs_to_jiffies(sys_.netdev_budget_usecs);
  int budget = sys_.netdev_budget;
  // list_splice_init(&sd->poll_list, &list)
  Napi* list = poll_head_;
  poll_head_ = poll_tail_ = nullptr;
  Napi* repoll_head = nullptr;
  Napi* repoll_tail = nullptr;
  for (;;) {
    if (list == nullptr) break;
    Napi* n = list;
    list = n->next;
    n->next = nullptr;
    bool again = false;
    budget -= napi_poll(*n, &again);
    if (again) {
      n->on_list = true;
      if (repoll_tail) repoll_tail->next = n; else repoll_head = n;
      repoll_tail = n;
    }
    // "If softirq window is exhausted then punt."
    const bool out_of_budget = budget <= 0;
    if (out_of_budget || jiffies(cpu_.now()) >= time_limit) {
      ++stats_.time_squeeze;
      ++(out_of_budget ? stats_.squeeze_budget : stats_.squeeze_time);
      break;
    }
  }
  // What was not polled, then what was scheduled meanwhile, then the repoll list, go back on
  // sd->poll_list: list_splice_tail_init(&sd->poll_list, &list); list_splice_tail(&repoll, &list);
  // list_splice(&list, &sd->poll_list).
  Napi* head = list;
  Napi* tail = nullptr;
  for (Napi* p = head; p; p = p->next) tail = p;
  auto append = [&](Napi* h, Napi* t) {
    if (h == nullptr) return;
    if (tail) tail->next = h; else head = h;
    tail = t;
  };
  append(poll_head_, poll_tail_);
  append(repoll_head, repoll_tail);
  poll_head_ = head;
  poll_tail_ = tail;
  if (poll_head_ != nullptr) cpu_.raise_softirq(Softirq::NetRx);
}

int Softnet::process_backlog(Napi* n, int quota) {
  Softnet& sd = *static_cast<Softnet*>(n->owner);
  n->weight = sd.sys_.dev_weight * sd.sys_.dev_weight_rx_bias;  // dev_rx_weight, re-read each time
  int work = 0;
  for (;;) {
    while (SkBuff* skb = sd.process_.pop_front()) {
      sd.emit(TraceKind::BacklogLevel, sd.backlog_len(), 0, 0);
      sd.netif_receive_skb(skb);
      if (++work >= quota) return work;
    }
    if (sd.input_.empty()) {
      // Inline napi_complete: only this CPU queues to its backlog.
      n->sched = false;
      n->missed = false;
      break;
    }
    sd.process_.splice_back(sd.input_);
  }
  return work;
}

void Softnet::netif_receive_skb(SkBuff* skb) {
  // __netif_receive_skb_core: count, then deliver to the protocol handler.
  ++stats_.processed;
  cpu_.charge(cpu_.costs().netif_receive);
  emit(TraceKind::ReceiveSkb, skb->len, 0, skb->trace_id);
  if (rx_fn_ == nullptr) {
    for_each_packet_id(*skb, [&](uint64_t id) {
      emit(TraceKind::RxDrop, skb->len, model::host_drop(model::HostDrop::RxNohandler), id, model::ingress(12));
    });
    ++stats_.rx_nohandler;
    kfree_skb(skb, SkbDropReason::UnhandledProto);  // __netif_receive_skb_core: no ptype
    return;
  }
  rx_fn_(rx_ctx_, skb);
}

int Softnet::netif_rx(SkBuff* skb) {
  // enqueue_to_backlog: the queue may hold netdev_max_backlog + 1 (the check is qlen <= max);
  // a device that is not running drops too.
  const uint32_t qlen = input_.size();
  const bool running = skb->dev == nullptr || skb->dev->up;
  if (running && qlen <= sys_.netdev_max_backlog) {
    if (qlen == 0 && !backlog_.sched) {
      backlog_.sched = true;
      list_add_tail(backlog_);
      cpu_.raise_softirq(Softirq::NetRx);
    }
    input_.push_back(skb);
    emit(TraceKind::NetifRx, backlog_len(), 0, skb->trace_id);
    emit(TraceKind::BacklogLevel, backlog_len(), 0, 0);
    return 0;
  }
  ++stats_.dropped;
  emit(TraceKind::RxDrop, skb->len, model::host_drop(model::HostDrop::SoftnetDropped), skb->trace_id,
       model::ingress(14));
  const SkbDropReason why = running ? SkbDropReason::CpuBacklog : SkbDropReason::NotSpecified;  // enqueue_to_backlog
  if (skb->dev != nullptr) {
    ++skb->dev->rx_dropped_core;  // dev_core_stats_rx_dropped_inc
    ++skb->dev->rx_backlog_dropped;
  }
  kfree_skb(skb, why);
  return 1;
}

std::string Softnet::softnet_stat_line() const {
  auto u32 = [](uint64_t v) { return static_cast<uint32_t>(v); };
  return fmt::format("{:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x} {:08x}",
                     u32(stats_.processed), u32(stats_.dropped), u32(stats_.time_squeeze), 0, 0, 0, 0, 0, 0,
                     u32(stats_.received_rps), u32(stats_.flow_limit_count), backlog_len(), cpu_.id());
}


bool eth_type_trans(SkBuff& skb, NetDevice& dev) {
  if (skb.len < 14) return false;
  const uint8_t* p = skb.head + skb.data;
  model::MacAddr dst;
  for (int i = 0; i < 6; ++i) dst.b[static_cast<std::size_t>(i)] = p[i];
  if (dst.is_multicast()) {
    skb.pkt_type = dst.is_broadcast() ? PktType::Broadcast : PktType::Multicast;
  } else {
    skb.pkt_type = dst == dev.dev_addr ? PktType::Host : PktType::OtherHost;
  }
  skb.protocol = static_cast<uint16_t>(uint16_t{p[12]} << 8 | p[13]);
  skb.dev = &dev;
  skb_reset_mac_header(skb);
  skb_pull(skb, 14);
  skb.mac_len = 14;  // Linux: skb_reset_mac_len in __netif_receive_skb_core, the same 14
  return true;
}

}  // namespace vnic::stack

// PktGen and RxChecker implementation.
#include "vnic/tb/pktgen.hpp"

namespace vnic::tb {

PktGen::PktGen(stack::Cpu& cpu, stack::NetDevice& dev, stack::SkbPool& pool, const PktGenConfig& cfg)
    : cpu_(cpu), dev_(dev), pool_(pool), cfg_(cfg) {
  dev_.set_tx_waker(&PktGen::wake_thunk, this);
}

PktGen::~PktGen() {
  dev_.set_tx_waker(nullptr, nullptr);
  for (stack::SkBuff* s : held_) stack::kfree_skb(s);
}

void PktGen::start() {
  if (cfg_.count > 0) schedule(cfg_.start);
}

void PktGen::schedule(model::Duration after) {
  if (scheduled_) return;
  scheduled_ = true;
  cpu_.call_at(cpu_.now() + after, &PktGen::run_thunk, this);
}

void PktGen::wake_thunk(void* ctx) {
  auto& g = *static_cast<PktGen*>(ctx);
  if (!g.waiting_wake_) return;
  g.waiting_wake_ = false;
  g.schedule(model::Duration{});
}

stack::SkBuff* PktGen::build(uint64_t seq) {
  const uint32_t len = frame_len(cfg_.pattern, seq);
  cpu_.charge(cpu_.costs().skb_alloc);
  stack::SkBuff* s = pool_.alloc(len, stack::SkbAlloc::Pktgen);
  if (s == nullptr) return nullptr;
  cpu_.charge(cpu_.costs().pktgen);
  fill_frame(cfg_.pattern, seq, s->bytes());
  s->trace_id = id_base_ + seq + 1;
  s->tstamp = cpu_.now();
  if (trace_ != nullptr) [[unlikely]] {
    const uint64_t t = static_cast<uint64_t>(cpu_.now().ps());
    trace_->trace(trace_source_, stack::TraceEvent{t, t, stack::TraceKind::PacketMade, model::kNoStep,
                                                   static_cast<uint16_t>(cpu_.id()), len, seq, s->trace_id});
  }
  return s;
}

void PktGen::run() {
  scheduled_ = false;
  const uint32_t burst = cfg_.interval.ps() > 0 ? 1 : cfg_.burst;
  // Build the burst first, so xmit_more is false on exactly the last packet handed over.
  while (held_.size() < burst && next_seq_ < cfg_.count) {
    stack::SkBuff* s = build(next_seq_);
    if (s == nullptr) break;
    held_.push_back(s);
    ++next_seq_;
  }
  if (held_.empty()) {
    if (next_seq_ < cfg_.count) {  // no skb to be had: the memory comes back as TX completes
      ++stats_.alloc_waits;
      schedule(model::Duration::us(10));
    }
    return;
  }
  std::size_t taken = 0;
  dev_.tx_lock(cpu_);  // __netif_tx_lock_bh: the stack may send on this queue from other CPUs
  while (taken < held_.size()) {
    if (dev_.netif_xmit_stopped()) break;  // stopped by the driver or by BQL
    const bool more = taken + 1 < held_.size();
    if (dev_.start_xmit(held_[taken], more) == stack::NetdevTx::Busy) {
      ++stats_.busy;
      break;
    }
    ++taken;
    ++stats_.sent;
  }
  dev_.tx_unlock(cpu_);
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(taken));
  if (!held_.empty()) {
    // The driver's TX clean (or BQL's completion, or the next open after a reset) wakes the
    // queue and us. An interface that stays down leaves pktgen waiting, as the real one would.
    ++stats_.queue_waits;
    waiting_wake_ = true;
    return;
  }
  if (next_seq_ < cfg_.count) schedule(cfg_.interval);  // yield the CPU between bursts
}

void RxChecker::take(stack::SkBuff* skb, std::optional<uint64_t> seq) {
  // The IPv4/UDP form: one sender, in order.
  RxExpect::Result r;
  if (seq) {
    r.ok = true;
    r.seq = *seq;
    r.out_of_order = *seq < stats_.next_seq;
    r.gap = *seq > stats_.next_seq ? *seq - stats_.next_seq : 0;
  }
  take(skb, r);
}

void RxChecker::take(stack::SkBuff* skb, const RxExpect::Result& r) {
  // The packet's end: read by the application (the checker stands for it).
  auto& st = stats_;
  ++st.frames;
  if (trace_ != nullptr && cpu_ != nullptr) [[unlikely]] {
    const uint64_t t = static_cast<uint64_t>(cpu_->now().ps());
    trace_->trace(trace_source_, stack::TraceEvent{t, t, stack::TraceKind::Consumed, model::kNoStep,
                                                   static_cast<uint16_t>(cpu_->id()), skb->len,
                                                   model::kConsumedByApplication, skb->trace_id});
  }
  if (skb->pkt_type == stack::PktType::OtherHost) ++st.not_for_us;
  if (!r.ok) {
    ++st.bad_bytes;
  } else {
    // Earlier than expected: reordered or duplicated; later: frames lost in between (per sender).
    if (r.out_of_order) ++st.out_of_order;
    st.gap_frames += r.gap;
    st.next_seq = r.seq + 1;
    ++st.ok;
  }
  stack::consume_skb(skb);  // delivered: used, not dropped
}

void RxChecker::rx_datagram(stack::SkBuff* skb) { take(skb, check_datagram(pattern_, skb->network_bytes())); }

void RxChecker::rx(void* ctx, stack::SkBuff* skb) {
  auto& c = *static_cast<RxChecker*>(ctx);
  c.take(skb, c.frames_.check(skb->mac_bytes()));
}

}  // namespace vnic::tb

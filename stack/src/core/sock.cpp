// struct sock's generic part (net/core/sock.c, net/core/datagram.c, Linux 6.1): buffer sizes,
// send-buffer ownership of skbs, the wake callbacks, datagram_poll and the blocking wait.
#include "vnic/stack/sock.hpp"

#include <algorithm>
#include <limits>

#include "vnic/stack/net.hpp"
#include "vnic/stack/softnet.hpp"

namespace vnic::stack {

uint32_t Sock::poll_mask() const {
  uint32_t mask = 0;
  if (err != 0) mask |= kEpollErr;  // (no error queue: IP_RECVERR is not built for UDP)
  if (!receive_queue.empty()) mask |= kEpollIn | kEpollRdNorm;
  if (writeable()) mask |= kEpollOut | kEpollWrNorm | kEpollWrBand;
  return mask;
}

bool Sock::data_ready(Cpu& c) {  // sock_def_readable
  if (!wq.active()) return false;
  wq.wake(kEpollIn | kEpollPri | kEpollRdNorm | kEpollRdBand, &c);
  return true;
}

bool Sock::write_space(Cpu& c) {  // sock_def_write_space
  // (refcount(sk_wmem_alloc) << 1) <= sk_sndbuf; called from sock_wfree before the skb's last
  // unit is gone, so the refcount is wmem_alloc + 2 there (1 for the socket, 1 for the skb).
  if ((uint64_t{wmem_alloc} + 2) * 2 > sndbuf) return false;
  if (!wq.active()) return false;
  wq.wake(kEpollOut | kEpollWrNorm | kEpollWrBand, &c);
  return true;
}

bool Sock::error_report(Cpu& c) {  // sock_def_error_report
  if (!wq.active()) return false;
  wq.wake(kEpollErr, &c);
  return true;
}

void sock_set_rcvbuf(Sock& sk, int val, const NetCoreSysctls& core) {
  // min_t(u32, val, rmem_max): a negative value is a huge u32, so it clamps to the maximum.
  uint32_t v = std::min(static_cast<uint32_t>(val), core.rmem_max);
  v = std::min<uint32_t>(v, std::numeric_limits<int>::max() / 2);
  sk.rcvbuf_locked = true;
  sk.rcvbuf = std::max(v * 2, kSockMinRcvbuf);
}

void sock_set_sndbuf_value(Sock& sk, int val, const NetCoreSysctls& core) {
  uint32_t v = std::min(static_cast<uint32_t>(val), core.wmem_max);
  v = std::min<uint32_t>(v, std::numeric_limits<int>::max() / 2);
  sk.sndbuf_locked = true;
  sk.sndbuf = std::max(v * 2, kSockMinSndbuf);
}

void sock_set_sndbuf(Sock& sk, int val, const NetCoreSysctls& core, Cpu& cpu) {
  sock_set_sndbuf_value(sk, val, core);
  sk.write_space(cpu);  // "Wake up sending tasks if we upped the value"
}

void sock_queue_purge(NetStack& net, SkbQueue& q, bool trace) {
  while (SkBuff* skb = q.pop_front()) {
    if (trace) {
      net.drop(net.cpu(0), skb, SkbDropReason::NotSpecified, model::ingress(22));
    } else {
      kfree_skb(skb, SkbDropReason::NotSpecified);
    }
  }
}

void skb_set_owner_w(SkBuff* skb, Sock& sk) {
  skb_orphan(*skb);
  skb->sk = &sk;
  skb->destructor = &sock_wfree;
  sk.wmem_alloc += skb->truesize;
}

void sock_wfree(SkBuff* skb) {
  Sock* sk = skb->sk;
  if (sk == nullptr) return;
  sk->wmem_alloc -= std::min(sk->wmem_alloc, skb->truesize);
  if (sk->dead) {  // the socket was closed: the last skb in flight frees it (sk_free)
    if (sk->wmem_alloc == 0) delete sk;
    return;
  }
  // The free runs on whichever CPU cleaned the skb; the stack's wakes are charged to its
  // receive CPU, where the model's TX completions are cleaned too.
  if (sk->softirq_cpu != nullptr) sk->write_space(*sk->softirq_cpu);
}

// ---- the blocking wait

void SockWait::await_suspend(std::coroutine_handle<> handle) {
  h = handle;
  entry = sk.wq.add(&SockWait::on_wake, this);
  if (until != kNever) {
    timer = cpu.call_at(until, &SockWait::on_timeout, this);
    has_timer = true;
  }
}

SockWait::~SockWait() {
  if (!h || done) return;  // never suspended, or resumed
  if (!woken) sk.wq.remove(entry);
  if (has_timer && !woken) cpu.cancel(timer);
  if (woken) cpu.cancel(resume_call);
}

void SockWait::on_wake(void* ctx, uint32_t key) {
  auto* w = static_cast<SockWait*>(ctx);
  if (w->woken || w->done) return;
  const bool freed = (key & kPollFree) != 0;
  if (!freed && key != 0 && w->events != 0 && (key & w->events) == 0) return;
  w->woken = true;
  w->freed = freed;
  w->sk.wq.remove(w->entry);
  const Cpu* waker = w->sk.wq.waker();
  if (w->has_timer) w->cpu.cancel(w->timer);
  const Instant at = waker != nullptr ? std::max(w->cpu.now(), waker->now()) : w->cpu.now();
  w->resume_call = w->cpu.call_at(at, &SockWait::on_resume, w);
}

void SockWait::on_resume(void* ctx, uint64_t) {
  auto* w = static_cast<SockWait*>(ctx);
  if (w->done) return;
  w->done = true;
  w->cpu.charge(w->cpu.costs().wakeup + w->cpu.costs().context_switch);
  w->h.resume();
}

void SockWait::on_timeout(void* ctx, uint64_t) {
  auto* w = static_cast<SockWait*>(ctx);
  if (w->woken || w->done) return;
  w->done = true;
  w->sk.wq.remove(w->entry);
  w->h.resume();
}

}  // namespace vnic::stack

// poll(2) and epoll(7): fs/eventpoll.c (ep_insert, ep_modify, ep_remove, ep_poll_callback,
// ep_send_events, ep_poll) and fs/select.c (do_poll, pollwake) of Linux 6.1, on simulated CPUs.
#include "vnic/stack/eventpoll.hpp"

#include <algorithm>
#include <cerrno>

namespace vnic::stack {

namespace {

// EP_PRIVATE_BITS: epoll's flags in the event word, never reported.
constexpr uint32_t kPrivateBits = kEpollWakeup | kEpollOneshot | kEpollEt | kEpollExclusive;
// EPOLLEXCLUSIVE_OK_BITS: what may come with EPOLLEXCLUSIVE.
constexpr uint32_t kExclusiveOkBits = kEpollIn | kEpollOut | kEpollErr | kEpollHup | kEpollWakeup | kEpollEt | kEpollExclusive;
constexpr int kMaxNests = 4;  // EP_MAX_NESTS

// A task resumed by a wake runs on its CPU when that CPU gets to it, never before the event.
Instant wake_time(const Cpu& task_cpu, const Cpu* waker) {
  return waker != nullptr ? std::max(task_cpu.now(), waker->now()) : task_cpu.now();
}

}  // namespace

void eventpoll_release(Pollable& file) { file.wait_queue().wake(kPollFree); }

// ---- the ready list

void Epoll::List::push_back(Item* i) {
  i->prev = tail;
  i->next = nullptr;
  if (tail != nullptr) {
    tail->next = i;
  } else {
    head = i;
  }
  tail = i;
  i->linked = true;
}

void Epoll::List::erase(Item* i) {
  if (i->prev != nullptr) {
    i->prev->next = i->next;
  } else {
    head = i->next;
  }
  if (i->next != nullptr) {
    i->next->prev = i->prev;
  } else {
    tail = i->prev;
  }
  i->prev = i->next = nullptr;
  i->linked = false;
}

Epoll::Item* Epoll::List::pop_front() {
  Item* i = head;
  if (i != nullptr) erase(i);
  return i;
}

void Epoll::List::splice_front(List& o) {
  if (o.empty()) return;
  if (head != nullptr) {
    o.tail->next = head;
    head->prev = o.tail;
  } else {
    tail = o.tail;
  }
  head = o.head;
  o.head = o.tail = nullptr;
}

// ---- the interest list

Epoll::~Epoll() {
  eventpoll_release(*this);  // out of any Epoll or poll() watching this one
  for (WaitAwaiter* w : sleepers_) {
    w->disarm_calls();
    w->ep_ = nullptr;  // the task stays suspended: its epoll fd is gone
  }
  for (auto& [file, item] : items_) file->wait_queue().remove(item->wq_handle);
}

uint32_t Epoll::item_poll(const Item& i) { return i.file->poll_mask() & i.events; }

bool Epoll::reaches(const Epoll* target, int depth) const {
  for (const auto& [file, item] : items_) {
    const auto* child = dynamic_cast<const Epoll*>(file);
    if (child == nullptr) continue;
    if (child == target || depth > kMaxNests || child->reaches(target, depth + 1)) return true;
  }
  return false;
}

int Epoll::ctl(int op, Pollable* file, uint32_t events, uint64_t data, Cpu* cpu) {
  if (cpu != nullptr) cpu->charge(cpu->costs().syscall);
  if (op != kEpollCtlAdd && op != kEpollCtlDel && op != kEpollCtlMod) return -EINVAL;
  if (file == nullptr) return -EBADF;
  if (file == this) return -EINVAL;
  auto* nested = dynamic_cast<Epoll*>(file);
  if (op != kEpollCtlDel && (events & kEpollExclusive) != 0) {
    // epoll adds its entry to the file's queue at ADD only, so MOD cannot change exclusivity.
    if (op == kEpollCtlMod) return -EINVAL;
    if (nested != nullptr || (events & ~kExclusiveOkBits) != 0) return -EINVAL;
  }
  if (op == kEpollCtlAdd && nested != nullptr && nested->reaches(this, 0)) return -ELOOP;

  const auto it = items_.find(file);
  switch (op) {
    case kEpollCtlAdd: {
      if (it != items_.end()) return -EEXIST;
      auto owned = std::make_unique<Item>(Item{this, file, events | kEpollErr | kEpollHup, data});
      Item* i = owned.get();
      items_.emplace(file, std::move(owned));
      i->wq_handle = file->wait_queue().add(&Epoll::ep_poll_callback, i);
      if (item_poll(*i) != 0 && !i->linked) insert_ready(i, cpu, 0, false);
      return 0;
    }
    case kEpollCtlDel:
      if (it == items_.end()) return -ENOENT;
      remove(it->second.get());
      return 0;
    default: {  // MOD
      if (it == items_.end()) return -ENOENT;
      Item* i = it->second.get();
      if ((i->events & kEpollExclusive) != 0) return -EINVAL;
      i->events = events | kEpollErr | kEpollHup;  // a ONESHOT item is armed again
      i->data = data;
      if (item_poll(*i) != 0 && !i->linked) insert_ready(i, cpu, 0, false);
      return 0;
    }
  }
}

void Epoll::remove(Item* i) {
  i->file->wait_queue().remove(i->wq_handle);
  if (i->linked) ready_.erase(i);
  items_.erase(i->file);  // frees i
}

std::size_t Epoll::ready() const {
  std::size_t n = 0;
  for (const Item* i = ready_.head; i != nullptr; i = i->next) ++n;
  return n;
}

std::size_t Epoll::waiters() const {
  return static_cast<std::size_t>(
      std::count_if(sleepers_.begin(), sleepers_.end(), [](const WaitAwaiter* w) { return !w->wake_pending_; }));
}

uint32_t Epoll::poll_mask() const {
  for (const Item* i = ready_.head; i != nullptr; i = i->next) {
    if (item_poll(*i) != 0) return kEpollIn | kEpollRdNorm;
  }
  return 0;
}

// ---- the wake-up path (the waker's context)

void Epoll::ep_poll_callback(void* ctx, uint32_t key) {
  Item* i = static_cast<Item*>(ctx);
  Epoll* ep = i->ep;
  if ((key & kPollFree) != 0) {  // the file is going away: eventpoll_release_file
    ep->remove(i);
    return;
  }
  ++ep->stats_.callbacks;
  // A disarmed ONESHOT item, or a key (0: the waker did not say) none of whose events are asked.
  if ((i->events & ~kPrivateBits) == 0 || (key != 0 && (key & i->events) == 0)) {
    ++ep->stats_.key_ignored;
    return;
  }
  ep->insert_ready(i, i->file->wait_queue().waker(), key, true);
}

void Epoll::insert_ready(Item* i, const Cpu* waker, uint32_t key, bool from_callback) {
  if (!i->linked) {  // appended: the ready list keeps the order items became ready
    ready_.push_back(i);
    ++stats_.queued;
  }
  // ep->wq is an exclusive queue: one blocked task per wake, first come first served.
  bool woke = false;
  for (WaitAwaiter* w : sleepers_) {
    if (w->wake_pending_) continue;
    w->woken(waker);
    ++stats_.wakeups;
    woke = true;
    break;
  }
  if (poll_wait_.active()) poll_wait_.wake(kEpollIn, waker);  // ep_poll_safewake
  if (from_callback && hook_ != nullptr) hook_(hook_ctx_, waker, i->file, key, woke);
}

// ---- epoll_wait (the task's context)

int Epoll::send_events(std::vector<EpollEvent>& out, int maxevents) {
  List tx = ready_;  // ep_start_scan
  ready_ = List{};
  int res = 0;
  while (!tx.empty() && res < maxevents) {
    Item* i = tx.pop_front();
    const uint32_t revents = item_poll(*i);
    if (revents == 0) continue;  // no longer ready: off the list until its next wake
    out.push_back(EpollEvent{revents, i->data});
    ++res;
    if ((i->events & kEpollOneshot) != 0) {
      i->events &= kPrivateBits;  // disarmed until MOD
    } else if ((i->events & kEpollEt) == 0) {
      ready_.push_back(i);  // level-triggered: checked again at the next wait
    }
  }
  ready_.splice_front(tx);  // ep_done_scan: the items not reached go first next time
  return res;
}

bool Epoll::WaitAwaiter::await_ready() {
  if (maxevents_ <= 0) {
    result_.ret = -EINVAL;
    cpu_.charge(cpu_.costs().syscall);
    return true;
  }
  deadline_ = cpu_.now() + Duration::ms(std::max(timeout_ms_, 0));
  if (!ep_->ready_.empty()) {
    const int n = ep_->send_events(result_.events, maxevents_);
    if (n > 0) {
      finish(n);
      return true;
    }
  }
  if (timeout_ms_ == 0) {
    finish(0);
    return true;
  }
  return false;
}

bool Epoll::WaitAwaiter::await_suspend(std::coroutine_handle<> h) {
  h_ = h;
  return block();
}

bool Epoll::WaitAwaiter::block() {
  if (timeout_ms_ > 0 && cpu_.now() >= deadline_) {  // woken for nothing after the deadline
    ++ep_->stats_.timeouts;
    finish(0);
    return false;
  }
  ++seq_;
  ep_->sleepers_.push_back(this);
  if (timeout_ms_ > 0) {
    timer_ = cpu_.call_at(deadline_, &WaitAwaiter::timeout_cb, this, seq_);
    timer_armed_ = true;
  }
  return true;
}

void Epoll::WaitAwaiter::woken(const Cpu* waker) {
  if (timer_armed_) {
    cpu_.cancel(timer_);
    timer_armed_ = false;
  }
  wake_call_ = cpu_.call_at(wake_time(cpu_, waker), &WaitAwaiter::wake_cb, this, seq_);
  wake_pending_ = true;
}

void Epoll::WaitAwaiter::finish(int ret) {
  result_.ret = ret;
  cpu_.charge(cpu_.costs().syscall + cpu_.costs().epoll_wait);
}

void Epoll::WaitAwaiter::disarm_calls() {
  if (timer_armed_) cpu_.cancel(timer_);
  if (wake_pending_) cpu_.cancel(wake_call_);
  timer_armed_ = wake_pending_ = false;
}

void Epoll::WaitAwaiter::leave() {
  disarm_calls();
  if (ep_ != nullptr) std::erase(ep_->sleepers_, this);
}

Epoll::WaitAwaiter::~WaitAwaiter() { leave(); }  // a task destroyed while blocked

void Epoll::WaitAwaiter::wake_cb(void* ctx, uint64_t seq) {
  auto* w = static_cast<WaitAwaiter*>(ctx);
  if (!w->wake_pending_ || seq != w->seq_ || w->ep_ == nullptr) return;
  w->wake_pending_ = false;
  w->leave();
  const CpuCosts& c = w->cpu_.costs();
  w->cpu_.charge(c.wakeup + c.context_switch);
  if (!w->ep_->ready_.empty()) {
    const int n = w->ep_->send_events(w->result_.events, w->maxevents_);
    if (n > 0) {
      w->finish(n);
      w->h_.resume();
      return;
    }
  }
  ++w->ep_->stats_.spurious_wakeups;  // e.g. another task took the data first
  if (!w->block()) w->h_.resume();
}

void Epoll::WaitAwaiter::timeout_cb(void* ctx, uint64_t seq) {
  auto* w = static_cast<WaitAwaiter*>(ctx);
  if (!w->timer_armed_ || seq != w->seq_ || w->ep_ == nullptr) return;
  w->timer_armed_ = false;
  w->leave();
  const CpuCosts& c = w->cpu_.costs();
  w->cpu_.charge(c.wakeup + c.context_switch);  // hrtimer_wakeup: try_to_wake_up too
  ++w->ep_->stats_.timeouts;
  w->finish(0);  // ep_poll: timed out and not woken, so the ready list is not looked at
  w->h_.resume();
}

// ---- poll(2)

PollAwaiter::~PollAwaiter() {  // a task destroyed while blocked
  if (timer_armed_) cpu_.cancel(timer_);
  if (wake_pending_) cpu_.cancel(wake_call_);
  unregister();
}

int PollAwaiter::scan() {  // do_poll's pass over the fds (do_pollfd)
  int count = 0;
  for (std::size_t k = 0; k < fds_.size(); ++k) {
    PollFd& p = fds_[k];
    if (p.file == nullptr || (!entries_.empty() && entries_[k].released)) {
      p.revents = kEpollNval;
    } else {
      p.revents = p.file->poll_mask() & (p.events | kEpollErr | kEpollHup);
    }
    count += p.revents != 0 ? 1 : 0;
  }
  return count;
}

bool PollAwaiter::await_ready() {
  deadline_ = cpu_.now() + Duration::ms(std::max(timeout_ms_, 0));
  const int n = scan();
  if (n > 0 || timeout_ms_ == 0) {
    finish(n);
    return true;
  }
  return false;
}

bool PollAwaiter::await_suspend(std::coroutine_handle<> h) {
  h_ = h;
  // __pollwait: an entry on every file's queue, for the whole call. No null file here (it would
  // have been POLLNVAL).
  entries_.reserve(fds_.size());
  for (const PollFd& p : fds_) entries_.push_back(Entry{this, p.file, p.events | kEpollErr | kEpollHup, 0, false});
  for (Entry& e : entries_) e.handle = e.file->wait_queue().add(&PollAwaiter::pollwake, &e);
  return sleep();
}

bool PollAwaiter::sleep() {
  if (timeout_ms_ > 0 && cpu_.now() >= deadline_) {
    if (stats_ != nullptr) ++stats_->timeouts;
    finish(0);
    return false;
  }
  ++seq_;
  sleeping_ = true;
  if (timeout_ms_ > 0) {
    timer_ = cpu_.call_at(deadline_, &PollAwaiter::timeout_cb, this, seq_);
    timer_armed_ = true;
  }
  return true;
}

void PollAwaiter::finish(int ret) {
  unregister();  // poll_freewait
  ret_ = ret;
  cpu_.charge(cpu_.costs().syscall);
}

void PollAwaiter::unregister() {
  for (Entry& e : entries_) {
    if (!e.released) e.file->wait_queue().remove(e.handle);
  }
  entries_.clear();
}

void PollAwaiter::pollwake(void* ctx, uint32_t key) {
  auto* e = static_cast<Entry*>(ctx);
  PollAwaiter* s = e->self;
  const Cpu* waker = e->file->wait_queue().waker();
  if ((key & kPollFree) != 0) {  // the file goes away: let go of its queue, report POLLNVAL
    e->file->wait_queue().remove(e->handle);
    e->released = true;
  } else if (key != 0 && (key & e->filter) == 0) {
    return;
  }
  if (!s->sleeping_) return;  // already woken (pwq->triggered)
  s->sleeping_ = false;
  if (s->timer_armed_) {
    s->cpu_.cancel(s->timer_);
    s->timer_armed_ = false;
  }
  if (s->stats_ != nullptr) ++s->stats_->wakeups;
  s->wake_call_ = s->cpu_.call_at(wake_time(s->cpu_, waker), &PollAwaiter::wake_cb, s, s->seq_);
  s->wake_pending_ = true;
}

void PollAwaiter::wake_cb(void* ctx, uint64_t seq) {
  auto* s = static_cast<PollAwaiter*>(ctx);
  if (!s->wake_pending_ || seq != s->seq_) return;
  s->wake_pending_ = false;
  const CpuCosts& c = s->cpu_.costs();
  s->cpu_.charge(c.wakeup + c.context_switch);
  const int n = s->scan();
  if (n > 0) {
    s->finish(n);
    s->h_.resume();
    return;
  }
  if (s->stats_ != nullptr) ++s->stats_->spurious_wakeups;
  if (!s->sleep()) s->h_.resume();
}

void PollAwaiter::timeout_cb(void* ctx, uint64_t seq) {
  auto* s = static_cast<PollAwaiter*>(ctx);
  if (!s->timer_armed_ || seq != s->seq_) return;
  s->timer_armed_ = false;
  s->sleeping_ = false;
  const CpuCosts& c = s->cpu_.costs();
  s->cpu_.charge(c.wakeup + c.context_switch);
  // do_poll scans once more after the timeout and returns what it finds.
  const int n = s->scan();
  if (n == 0 && s->stats_ != nullptr) ++s->stats_->timeouts;
  s->finish(n);
  s->h_.resume();
}

}  // namespace vnic::stack

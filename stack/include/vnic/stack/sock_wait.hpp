// Readiness, as poll(2), epoll(7) and blocking socket calls see it: a file's poll mask and the
// wait queue its owner wakes when the mask may have changed (include/linux/wait.h's
// wait_queue_head_t, f_op->poll, and the EPOLL* / POLL* bits of include/uapi/linux/eventpoll.h).
// A socket (UDP in part 2, TCP later) is a Pollable; epoll and blocking calls add entries to its
// queue. A wake runs every entry in the waker's context (sk_data_ready from the softirq on the
// receiving CPU), and an entry that resumes a task does so by a call on the task's CPU, charged
// the wake-up and context switch (CpuCosts::wakeup, context_switch).
#pragma once

#include <cstdint>
#include <vector>

namespace vnic::stack {

class Cpu;  // cpu.hpp

// Event bits, Linux's values (EPOLLIN == POLLIN, ...).
inline constexpr uint32_t kEpollIn = 0x001, kEpollPri = 0x002, kEpollOut = 0x004, kEpollErr = 0x008,
                          kEpollHup = 0x010, kEpollNval = 0x020, kEpollRdNorm = 0x040, kEpollRdBand = 0x080,
                          kEpollWrNorm = 0x100, kEpollWrBand = 0x200, kEpollMsg = 0x400, kEpollRdHup = 0x2000;
// epoll_ctl flags in the same word.
// POLLFREE (include/uapi/asm-generic/poll.h): the key of a wake that says the queue is going away.
// eventpoll_release() sends it; every entry must let go of the queue. Never reported to a task.
inline constexpr uint32_t kPollFree = 0x4000;
inline constexpr uint32_t kEpollExclusive = 1u << 28, kEpollWakeup = 1u << 29, kEpollOneshot = 1u << 30,
                          kEpollEt = 1u << 31;

// wait_queue_head_t. Entries are called in the order they were added; an entry may remove
// itself (or another) from inside its callback.
class WaitQueue {
 public:
  // key: the events that became true (Linux's poll_to_key(EPOLLIN | ...)), 0 if unknown.
  using WakeFn = void (*)(void* ctx, uint32_t key);
  // add_wait_queue: returns a handle for remove() (never 0).
  uint64_t add(WakeFn fn, void* ctx) {
    entries_.push_back(Entry{++seq_, fn, ctx});
    return seq_;
  }
  // remove_wait_queue: no effect for a handle already removed.
  void remove(uint64_t handle) {
    for (Entry& e : entries_) {
      if (e.handle == handle) e.fn = nullptr;  // compacted after the current wake, if any
    }
    if (depth_ == 0) compact();
  }
  // __wake_up: every entry, with `key`. `waker`: the CPU whose code wakes the queue (sk_data_ready's
  // softirq CPU); entries read it through waker() so a task they resume never runs before the
  // event (its now()). Null: the waker did not say.
  void wake(uint32_t key, const Cpu* waker = nullptr) {
    const Cpu* outer = waker_;
    waker_ = waker;
    ++depth_;
    for (std::size_t i = 0; i < entries_.size(); ++i) {  // entries added meanwhile run too
      const Entry e = entries_[i];
      if (e.fn != nullptr) e.fn(e.ctx, key);
    }
    waker_ = outer;
    if (--depth_ == 0) compact();
  }
  // During wake(): the waker's CPU as given to it (null outside a wake or if not given).
  const Cpu* waker() const { return waker_; }
  bool active() const {  // wq_has_sleeper: anyone to wake
    for (const Entry& e : entries_) {
      if (e.fn != nullptr) return true;
    }
    return false;
  }

 private:
  struct Entry {
    uint64_t handle;
    WakeFn fn;
    void* ctx;
  };
  void compact() {
    std::erase_if(entries_, [](const Entry& e) { return e.fn == nullptr; });
  }
  std::vector<Entry> entries_;
  uint64_t seq_ = 0;
  int depth_ = 0;
  const Cpu* waker_ = nullptr;
};

// A file as poll and epoll see it (struct file with its f_op->poll).
class Pollable {
 public:
  virtual ~Pollable() = default;
  // f_op->poll without a poll table: the events true now (EPOLLIN | EPOLLRDNORM when readable,
  // EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND when writable, EPOLLERR with a pending error, EPOLLHUP ...).
  virtual uint32_t poll_mask() const = 0;
  // The queue the file's owner wakes when the mask may have changed (sk_sleep(sk)).
  virtual WaitQueue& wait_queue() = 0;
};

}  // namespace vnic::stack

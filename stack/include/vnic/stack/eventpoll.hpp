// poll(2) and epoll(7) for simulated applications, after fs/select.c and fs/eventpoll.c of Linux 6.1:
// an Epoll is one epoll_create1() instance (its interest list, its ready list, the tasks blocked in
// epoll_wait), and poll() is do_sys_poll. Both see files as Pollables (sock_wait.hpp) and block a
// task as a coroutine awaitable on its simulated CPU. docs/stack.md, "poll and epoll".
#pragma once

#include <coroutine>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/sock_wait.hpp"

namespace vnic::stack {

// epoll_ctl's operations, Linux's numbers.
inline constexpr int kEpollCtlAdd = 1, kEpollCtlDel = 2, kEpollCtlMod = 3;

// struct epoll_event.
struct EpollEvent {
  uint32_t events = 0;
  uint64_t data = 0;
  bool operator==(const EpollEvent&) const = default;
};

// What epoll_wait returned: ret is the number of events (events.size()), 0 on a timeout, or -errno.
struct EpollResult {
  int ret = 0;
  std::vector<EpollEvent> events;
};

// How often blocked tasks were woken, and to what effect (for tests and reports).
struct WaitStats {
  uint64_t wakeups = 0;           // a blocked task was woken by a file's wake (try_to_wake_up)
  uint64_t spurious_wakeups = 0;  // ... and found nothing to report, so it slept again
  uint64_t timeouts = 0;          // a blocking wait ended by its timeout with nothing to report
};

// The counters of one Epoll.
struct EpollStats : WaitStats {
  uint64_t callbacks = 0;     // ep_poll_callback calls (every wake of a watched file's queue)
  uint64_t key_ignored = 0;   // ... whose key did not intersect the item's events, or a disarmed item
  uint64_t queued = 0;        // ... that put the item on the ready list (it was not on it)
};

// A file's close() must call this before the file goes away (eventpoll_release): it is removed from
// every Epoll that watches it, and every poll() blocked on it stops watching it (that fd then reads
// POLLNVAL). It wakes the file's queue with kPollFree; other entries on the queue see that key too.
void eventpoll_release(Pollable& file);

// One epoll instance (struct eventpoll). Single-threaded like the rest of the model: a file's wake
// runs in the waker's context and only schedules the blocked task; the task scans the ready list
// on its own CPU. An Epoll is itself pollable (readable while an item is ready), so it can be
// watched by poll() or by another Epoll, as an epoll fd can.
class Epoll final : public Pollable {
 public:
  Epoll() = default;
  ~Epoll() override;
  Epoll(const Epoll&) = delete;
  Epoll& operator=(const Epoll&) = delete;

  // epoll_ctl(op, file, {events, data}). 0 or -errno as do_epoll_ctl: -EBADF for a null file;
  // -EINVAL for an unknown op, the Epoll itself, EPOLLEXCLUSIVE with MOD or with bits other than
  // IN/OUT/ERR/HUP/WAKEUP/ET, MOD of an item added with EPOLLEXCLUSIVE, EPOLLEXCLUSIVE on an Epoll;
  // -ELOOP for an Epoll that reaches this one or nests too deep; -EEXIST for a second ADD;
  // -ENOENT for MOD/DEL of a file not in the set. ADD and MOD add EPOLLERR | EPOLLHUP to the
  // events, check the file at once and queue it if ready (waking a blocked task). `cpu`, if given,
  // is the caller's: charged the syscall and taken as the waker's time.
  int ctl(int op, Pollable* file, uint32_t events = 0, uint64_t data = 0, Cpu* cpu = nullptr);

  // epoll_wait(maxevents, timeout): co_await ep.wait(cpu, maxevents, timeout_ms). Returns at once
  // with -EINVAL for maxevents <= 0, with the ready events if any, or with 0 for timeout 0;
  // otherwise the task blocks until an event (timeout < 0: no limit) or for timeout_ms exactly on
  // the simulated clock. Costs: a wake-up from sleep (an event or the timeout) charges
  // wakeup + context_switch on `cpu`; the call charges syscall + epoll_wait when it returns.
  class WaitAwaiter {
   public:
    WaitAwaiter(Epoll& ep, Cpu& cpu, int maxevents, int timeout_ms)
        : ep_(&ep), cpu_(cpu), maxevents_(maxevents), timeout_ms_(timeout_ms) {}
    ~WaitAwaiter();
    WaitAwaiter(const WaitAwaiter&) = delete;
    WaitAwaiter& operator=(const WaitAwaiter&) = delete;
    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    EpollResult await_resume() { return std::move(result_); }

   private:
    friend class Epoll;
    bool block();  // false: the wait ended (timed out) instead
    void finish(int ret);
    void disarm_calls();  // cancels the timeout and a pending wake-up call
    void leave();         // disarm_calls, and off the Epoll's sleepers
    void woken(const Cpu* waker);
    static void wake_cb(void* ctx, uint64_t seq);
    static void timeout_cb(void* ctx, uint64_t seq);

    Epoll* ep_;
    Cpu& cpu_;
    int maxevents_;
    int timeout_ms_;
    Instant deadline_{};
    std::coroutine_handle<> h_{};
    uint64_t seq_ = 0;  // which sleep a timer or wake-up call belongs to
    uint64_t timer_ = 0, wake_call_ = 0;
    bool timer_armed_ = false, wake_pending_ = false;
    EpollResult result_;
  };
  WaitAwaiter wait(Cpu& cpu, int maxevents, int timeout_ms) { return WaitAwaiter(*this, cpu, maxevents, timeout_ms); }

  // Called in the waker's context each time a file's wake puts or keeps an item ready (its key
  // matched an armed item): the socket layer or platform emits its trace there (ingress 23).
  // `waker` is the CPU the file's owner passed to WaitQueue::wake (null if none), `task_woken`
  // whether this wake woke a task blocked in wait().
  using WakeHook = void (*)(void* ctx, const Cpu* waker, Pollable* file, uint32_t key, bool task_woken);
  void set_wake_hook(WakeHook fn, void* ctx) {
    hook_ = fn;
    hook_ctx_ = ctx;
  }

  const EpollStats& stats() const { return stats_; }
  std::size_t size() const { return items_.size(); }  // files in the interest list
  std::size_t ready() const;                          // items on the ready list
  std::size_t waiters() const;                        // tasks blocked in wait() and not yet woken

  // Pollable: EPOLLIN | EPOLLRDNORM while an item on the ready list has events (ep_eventpoll_poll).
  uint32_t poll_mask() const override;
  WaitQueue& wait_queue() override { return poll_wait_; }

 private:
  struct Item {  // struct epitem
    Epoll* ep;
    Pollable* file;
    uint32_t events;  // with EPOLLERR | EPOLLHUP and the private bits
    uint64_t data;
    uint64_t wq_handle = 0;
    Item* prev = nullptr;  // the ready list (rdllink)
    Item* next = nullptr;
    bool linked = false;
  };
  struct List {  // an intrusive list of Items: no allocation per event
    Item* head = nullptr;
    Item* tail = nullptr;
    bool empty() const { return head == nullptr; }
    void push_back(Item* i);
    void erase(Item* i);
    Item* pop_front();
    void splice_front(List& o);
  };

  static void ep_poll_callback(void* ctx, uint32_t key);
  static uint32_t item_poll(const Item& i);  // ep_item_poll: the file's mask & the item's events
  void insert_ready(Item* i, const Cpu* waker, uint32_t key, bool from_callback);
  void remove(Item* i);  // ep_remove
  int send_events(std::vector<EpollEvent>& out, int maxevents);
  bool reaches(const Epoll* target, int depth) const;  // ep_loop_check

  std::map<Pollable*, std::unique_ptr<Item>> items_;  // the interest list (Linux's rbtree)
  List ready_;
  // Tasks in wait(): blocked (woken first come first served, as ep->wq's exclusive waiters) or
  // woken with their wake-up call pending.
  std::vector<WaitAwaiter*> sleepers_;
  WaitQueue poll_wait_;  // ep->poll_wait: poll() or another Epoll watching this one
  EpollStats stats_;
  WakeHook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
};

// struct pollfd with the file in place of the fd (null: a bad fd, POLLNVAL).
struct PollFd {
  Pollable* file = nullptr;
  uint32_t events = 0;   // POLLIN, POLLOUT, ... (the EPOLL* bits; poll's share their values)
  uint32_t revents = 0;  // set by poll()
};

// poll(fds, timeout_ms) as do_sys_poll: co_await poll(cpu, fds, timeout). Each fd's revents is
// its file's mask & (events | POLLERR | POLLHUP), POLLNVAL for a null file; returns how many fds
// have revents. None: returns 0 at once for timeout 0, else the task registers on every file's
// queue and blocks until a wake whose key matches an fd's events, then scans again (nothing: it
// sleeps again, a spurious wake-up), or until the timeout (timeout < 0: no limit); the entries
// are removed on return. Costs as epoll_wait's, with syscall alone for the call. `stats`: counters
// to update, if any.
class PollAwaiter {
 public:
  PollAwaiter(Cpu& cpu, std::span<PollFd> fds, int timeout_ms, WaitStats* stats)
      : cpu_(cpu), fds_(fds), timeout_ms_(timeout_ms), stats_(stats) {}
  ~PollAwaiter();
  PollAwaiter(const PollAwaiter&) = delete;
  PollAwaiter& operator=(const PollAwaiter&) = delete;
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  int await_resume() const { return ret_; }

 private:
  struct Entry {  // struct poll_table_entry
    PollAwaiter* self;
    Pollable* file;
    uint32_t filter;  // events | POLLERR | POLLHUP
    uint64_t handle;
    bool released;    // the file went away (kPollFree)
  };
  int scan();
  bool sleep();
  void finish(int ret);
  void unregister();
  static void pollwake(void* ctx, uint32_t key);
  static void wake_cb(void* ctx, uint64_t seq);
  static void timeout_cb(void* ctx, uint64_t seq);

  Cpu& cpu_;
  std::span<PollFd> fds_;
  int timeout_ms_;
  WaitStats* stats_;
  Instant deadline_{};
  std::vector<Entry> entries_;  // one per fd while blocked (fds_ order)
  std::coroutine_handle<> h_{};
  uint64_t seq_ = 0;
  uint64_t timer_ = 0, wake_call_ = 0;
  bool timer_armed_ = false, wake_pending_ = false, sleeping_ = false;
  int ret_ = 0;
};
inline PollAwaiter poll(Cpu& cpu, std::span<PollFd> fds, int timeout_ms, WaitStats* stats = nullptr) {
  return PollAwaiter(cpu, fds, timeout_ms, stats);
}

}  // namespace vnic::stack

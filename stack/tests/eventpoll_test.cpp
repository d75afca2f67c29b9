// Epoll and poll(): level- and edge-triggered reporting, ONESHOT, maxevents and the ready list's
// rotation, timeouts and wake-ups on the simulated clock, epoll_ctl's errors, keys, close, the hook.
#include "vnic/stack/eventpoll.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <vector>

#include "support/fake_cpu.hpp"
#include "vnic/stack/co.hpp"

namespace vnic::stack {
namespace {

using testing::FakeCpu;

// A file whose readiness the test sets; set() wakes its queue as a socket's owner would.
struct FakeFile : Pollable {
  FakeFile() = default;
  FakeFile(const FakeFile&) = delete;
  FakeFile& operator=(const FakeFile&) = delete;
  ~FakeFile() override { eventpoll_release(*this); }  // what a socket's close() does
  uint32_t mask = 0;
  WaitQueue wq;
  uint32_t poll_mask() const override { return mask; }
  WaitQueue& wait_queue() override { return wq; }
  void set(uint32_t m, const Cpu* waker, uint32_t key) {
    mask = m;
    wq.wake(key, waker);
  }
};

constexpr uint32_t kIn = kEpollIn, kOut = kEpollOut;

struct Done {
  bool done = false;
  EpollResult r;
  Instant at{};
};

Co<void> epoll_task(Epoll& ep, Cpu& cpu, int maxevents, int timeout, Done& d) {
  d.r = co_await ep.wait(cpu, maxevents, timeout);
  d.at = cpu.now();
  d.done = true;
}

struct PollDone {
  bool done = false;
  int ret = -1;
  Instant at{};
};

Co<void> poll_task(Cpu& cpu, std::span<PollFd> fds, int timeout, WaitStats* stats, PollDone& d) {
  d.ret = co_await poll(cpu, fds, timeout, stats);
  d.at = cpu.now();
  d.done = true;
}

// epoll_wait(.., 0) run to completion (it never blocks).
EpollResult poll_now(Epoll& ep, FakeCpu& cpu, int maxevents = 16) {
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, maxevents, 0, d));
  EXPECT_TRUE(d.done);
  return d.r;
}

std::vector<uint64_t> datas(const EpollResult& r) {
  std::vector<uint64_t> v;
  for (const EpollEvent& e : r.events) v.push_back(e.data);
  return v;
}

Duration call_cost(const FakeCpu& c) { return c.costs().syscall + c.costs().epoll_wait; }
Duration wake_cost(const FakeCpu& c) { return c.costs().wakeup + c.costs().context_switch; }

TEST(Epoll, LevelTriggeredReportsAgainWhileReadable) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f;
  f.mask = kIn | kEpollRdNorm | kOut;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 42), 0);  // ready at ADD: queued by ep_insert
  EXPECT_EQ(ep.ready(), 1u);
  for (int i = 0; i < 3; ++i) {
    const EpollResult r = poll_now(ep, cpu);
    ASSERT_EQ(r.ret, 1);
    EXPECT_EQ(r.events[0], (EpollEvent{kIn, 42}));  // only what was asked
    EXPECT_EQ(ep.ready(), 1u);                     // put back for the next wait
  }
  EXPECT_EQ(cpu.now(), Instant{} + call_cost(cpu) * 3);
  f.mask = kOut;  // drained, without a wake: the next scan drops it
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
  EXPECT_EQ(ep.ready(), 0u);
  EXPECT_EQ(ep.stats().timeouts, 0u);  // timeout 0 is a poll, not a timeout
}

TEST(Epoll, EdgeTriggeredReportsOncePerWake) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f;
  f.mask = kIn;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn | kEpollEt, 7), 0);
  EXPECT_EQ(poll_now(ep, cpu).ret, 1);
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);  // still readable, but no new wake
  f.set(kIn, &cpu, kIn);                // more data: sk_data_ready
  const EpollResult r = poll_now(ep, cpu);
  ASSERT_EQ(r.ret, 1);
  EXPECT_EQ(r.events[0], (EpollEvent{kIn, 7}));
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
  // A level-triggered item on the same kind of file keeps reporting.
  FakeFile g;
  g.mask = kIn;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn, 8), 0);
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{8}));
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{8}));
}

TEST(Epoll, OneshotDisarmsUntilMod) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f;
  f.mask = kIn;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn | kEpollOneshot, 1), 0);
  EXPECT_EQ(poll_now(ep, cpu).ret, 1);
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
  f.set(kIn | kEpollErr, &cpu, kIn | kEpollErr);  // disarmed: even an error is not queued
  EXPECT_EQ(ep.ready(), 0u);
  EXPECT_EQ(ep.stats().key_ignored, 1u);
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
  ASSERT_EQ(ep.ctl(kEpollCtlMod, &f, kIn | kEpollOneshot, 2), 0);  // re-armed, and ready now
  const EpollResult r = poll_now(ep, cpu);
  ASSERT_EQ(r.ret, 1);
  EXPECT_EQ(r.events[0], (EpollEvent{kIn | kEpollErr, 2}));
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
}

TEST(Epoll, MaxeventsKeepsTheRestInOrderAndRotates) {
  FakeCpu cpu;
  Epoll ep;
  std::array<FakeFile, 3> f;  // data 0, 1, 2
  for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f[i], kIn, i), 0);
  // Ready in the order 1, 0, 2: the ready list is in that order.
  f[1].set(kIn, &cpu, kIn);
  f[0].set(kIn, &cpu, kIn);
  f[2].set(kIn, &cpu, kIn);
  f[0].set(kIn, &cpu, kIn);  // already queued: stays where it is
  EXPECT_EQ(ep.stats().queued, 3u);
  // Level-triggered: the ones reported go to the tail, the one not reached to the head.
  EXPECT_EQ(datas(poll_now(ep, cpu, 2)), (std::vector<uint64_t>{1, 0}));
  EXPECT_EQ(datas(poll_now(ep, cpu, 2)), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(datas(poll_now(ep, cpu, 2)), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(datas(poll_now(ep, cpu, 5)), (std::vector<uint64_t>{1, 0, 2}));

  // Edge-triggered: the rest stay for the next call, then nothing.
  Epoll et;
  std::array<FakeFile, 3> g;
  for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(et.ctl(kEpollCtlAdd, &g[i], kIn | kEpollEt, 10 + i), 0);
  g[2].set(kIn, &cpu, kIn);
  g[0].set(kIn, &cpu, kIn);
  g[1].set(kIn, &cpu, kIn);
  EXPECT_EQ(datas(poll_now(et, cpu, 2)), (std::vector<uint64_t>{12, 10}));
  EXPECT_EQ(datas(poll_now(et, cpu, 2)), (std::vector<uint64_t>{11}));
  EXPECT_EQ(poll_now(et, cpu, 2).ret, 0);
}

TEST(Epoll, TimeoutZeroReturnsAtOnce) {
  FakeCpu cpu;
  cpu.set_now(Instant{} + Duration::us(3));
  Epoll ep;
  FakeFile f;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, 8, 0, d));
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.r.ret, 0);
  EXPECT_EQ(d.at, Instant{} + Duration::us(3) + call_cost(cpu));
  EXPECT_FALSE(cpu.next_call_time().has_value());  // no timer armed
}

TEST(Epoll, PositiveTimeoutEndsExactlyAtTheDeadline) {
  FakeCpu cpu;
  const Instant t0 = Instant{} + Duration::us(7);
  cpu.set_now(t0);
  Epoll ep;
  FakeFile f;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, 8, 5, d));
  EXPECT_FALSE(d.done);
  EXPECT_EQ(ep.waiters(), 1u);
  ASSERT_TRUE(cpu.next_call_time().has_value());
  EXPECT_EQ(*cpu.next_call_time(), t0 + Duration::ms(5));  // the timer, exactly
  f.set(kOut, &cpu, kOut);  // not asked for: no wake-up, the timer stays
  cpu.run();
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.r.ret, 0);
  EXPECT_TRUE(d.r.events.empty());
  EXPECT_EQ(d.at, t0 + Duration::ms(5) + wake_cost(cpu) + call_cost(cpu));
  EXPECT_EQ(ep.stats().timeouts, 1u);
  EXPECT_EQ(ep.stats().wakeups, 0u);
  EXPECT_EQ(ep.waiters(), 0u);
}

TEST(Epoll, BlockedTaskWakesAtTheWakersTimePlusCosts) {
  FakeCpu task_cpu;
  FakeCpu rx_cpu;  // the softirq CPU that runs sk_data_ready
  Epoll ep;
  FakeFile f;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 99), 0);
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, task_cpu, 8, -1, d));
  EXPECT_FALSE(d.done);
  EXPECT_FALSE(task_cpu.next_call_time().has_value());  // -1: no timer
  task_cpu.run();
  EXPECT_FALSE(d.done);

  rx_cpu.set_now(Instant{} + Duration::us(30));
  f.set(kIn | kEpollRdNorm, &rx_cpu, kIn | kEpollRdNorm);
  EXPECT_FALSE(d.done);  // the callback only schedules the task
  EXPECT_EQ(ep.stats().wakeups, 1u);
  ASSERT_TRUE(task_cpu.next_call_time().has_value());
  EXPECT_EQ(*task_cpu.next_call_time(), Instant{} + Duration::us(30));
  task_cpu.run();
  ASSERT_TRUE(d.done);
  ASSERT_EQ(d.r.ret, 1);
  EXPECT_EQ(d.r.events[0], (EpollEvent{kIn, 99}));
  EXPECT_EQ(d.at, Instant{} + Duration::us(30) + wake_cost(task_cpu) + call_cost(task_cpu));
  EXPECT_EQ(d.at - Instant{}, Duration::ns(30'000 + 400 + 1500 + 100 + 150));  // the defaults, spelled out

  // A task CPU that is busier than the waker: the task runs when its CPU gets to it.
  FakeFile g;
  ASSERT_EQ(ep.ctl(kEpollCtlDel, &f), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn, 5), 0);
  Done d2;
  scope.spawn(epoll_task(ep, task_cpu, 8, -1, d2));
  task_cpu.set_now(Instant{} + Duration::us(100));
  rx_cpu.set_now(Instant{} + Duration::us(40));
  g.set(kIn, &rx_cpu, kIn);
  task_cpu.run();
  ASSERT_TRUE(d2.done);
  EXPECT_EQ(d2.at, Instant{} + Duration::us(100) + wake_cost(task_cpu) + call_cost(task_cpu));
}

TEST(Epoll, ErrAndHupAreAlwaysReported) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f, g;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, 0, 2), 0);  // asks nothing: still ERR and HUP
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, 8, -1, d));
  f.set(kEpollErr | kOut, &cpu, kEpollErr);  // sk_error_report
  cpu.run();
  ASSERT_TRUE(d.done);
  ASSERT_EQ(d.r.ret, 1);
  EXPECT_EQ(d.r.events[0], (EpollEvent{kEpollErr, 1}));
  g.set(kEpollHup | kIn, &cpu, kEpollHup | kIn);
  const EpollResult r = poll_now(ep, cpu);
  ASSERT_EQ(r.ret, 2);
  EXPECT_EQ(r.events[0], (EpollEvent{kEpollErr, 1}));  // level-triggered, still in error
  EXPECT_EQ(r.events[1], (EpollEvent{kEpollHup, 2}));
}

TEST(Epoll, CtlErrorsAsLinux) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f, g, h;
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), -EEXIST);
  EXPECT_EQ(ep.ctl(kEpollCtlMod, &g, kIn, 1), -ENOENT);
  EXPECT_EQ(ep.ctl(kEpollCtlDel, &g), -ENOENT);
  EXPECT_EQ(ep.ctl(kEpollCtlMod, &f, kIn | kEpollExclusive, 1), -EINVAL);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn | kEpollRdHup | kEpollExclusive, 1), -EINVAL);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn | kEpollEt | kEpollExclusive, 1), 0);
  EXPECT_EQ(ep.ctl(kEpollCtlMod, &g, kIn, 1), -EINVAL);  // an exclusive item cannot be modified
  EXPECT_EQ(ep.ctl(kEpollCtlDel, &g), 0);
  EXPECT_EQ(ep.ctl(4, &h, kIn, 1), -EINVAL);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, nullptr, kIn, 1), -EBADF);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &ep, kIn, 1), -EINVAL);
  EXPECT_EQ(ep.ctl(kEpollCtlMod, &f, kOut, 3, &cpu), 0);
  EXPECT_EQ(cpu.now(), Instant{} + cpu.costs().syscall);  // a caller's CPU pays the syscall
  EXPECT_EQ(ep.size(), 1u);
  // Epolls in epolls: no loops, no epoll as an exclusive item.
  Epoll a, b;
  EXPECT_EQ(a.ctl(kEpollCtlAdd, &b, kIn, 0), 0);
  EXPECT_EQ(b.ctl(kEpollCtlAdd, &a, kIn, 0), -ELOOP);
  EXPECT_EQ(ep.ctl(kEpollCtlAdd, &a, kIn | kEpollExclusive, 0), -EINVAL);
  // maxevents <= 0.
  for (int maxevents : {0, -1}) {
    TaskScope scope;
    Done d;
    scope.spawn(epoll_task(ep, cpu, maxevents, -1, d));
    ASSERT_TRUE(d.done);
    EXPECT_EQ(d.r.ret, -EINVAL);
  }
}

TEST(Epoll, DelOfAReadyItem) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f, g;
  f.mask = g.mask = kIn;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn, 2), 0);
  EXPECT_EQ(ep.ready(), 2u);
  EXPECT_TRUE(f.wq.active());
  ASSERT_EQ(ep.ctl(kEpollCtlDel, &f), 0);
  EXPECT_EQ(ep.ready(), 1u);
  EXPECT_FALSE(f.wq.active());  // its entry is gone from the file's queue
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{2}));
  f.set(kIn, &cpu, kIn);
  EXPECT_EQ(ep.stats().callbacks, 0u);
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{2}));
}

TEST(Epoll, AKeyThatDoesNotMatchDoesNothing) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, 8, -1, d));
  f.set(kOut, &cpu, kOut | kEpollWrNorm);  // sk_write_space: not asked
  EXPECT_EQ(ep.stats().callbacks, 1u);
  EXPECT_EQ(ep.stats().key_ignored, 1u);
  EXPECT_EQ(ep.ready(), 0u);
  EXPECT_FALSE(cpu.next_call_time().has_value());
  cpu.run();
  EXPECT_FALSE(d.done);
  EXPECT_EQ(ep.stats().wakeups, 0u);
  // Key 0 (the waker did not say): queued and the task woken, but nothing is readable: a
  // spurious wake-up, and the task sleeps again.
  f.set(kOut, &cpu, 0);
  EXPECT_EQ(ep.stats().wakeups, 1u);
  cpu.run();
  EXPECT_FALSE(d.done);
  EXPECT_EQ(ep.stats().spurious_wakeups, 1u);
  EXPECT_EQ(ep.waiters(), 1u);
  const Instant before = cpu.now();
  f.set(kOut | kIn, &cpu, kIn);
  cpu.run();
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.r.events, (std::vector<EpollEvent>{{kIn, 1}}));
  EXPECT_EQ(d.at, before + wake_cost(cpu) + call_cost(cpu));
  EXPECT_EQ(ep.stats().wakeups, 2u);
}

TEST(Epoll, OneWakeWakesOneBlockedTask) {
  FakeCpu cpu;
  Epoll ep;
  FakeFile f, g;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn | kEpollEt, 1), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn | kEpollEt, 2), 0);
  TaskScope scope;
  Done d1, d2;
  scope.spawn(epoll_task(ep, cpu, 8, -1, d1));
  scope.spawn(epoll_task(ep, cpu, 8, -1, d2));
  EXPECT_EQ(ep.waiters(), 2u);
  f.set(kIn, &cpu, kIn);
  EXPECT_EQ(ep.waiters(), 1u);
  cpu.run();
  ASSERT_TRUE(d1.done);  // first come, first served
  EXPECT_FALSE(d2.done);
  EXPECT_EQ(datas(d1.r), (std::vector<uint64_t>{1}));
  g.set(kIn, &cpu, kIn);
  cpu.run();
  ASSERT_TRUE(d2.done);
  EXPECT_EQ(datas(d2.r), (std::vector<uint64_t>{2}));
}

TEST(Epoll, ClosingAFileTakesItOutOfTheSet) {
  FakeCpu cpu;
  Epoll ep, other;
  FakeFile f, g;
  f.mask = kIn;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  ASSERT_EQ(other.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &g, kIn, 2), 0);
  EXPECT_EQ(ep.ready(), 1u);
  eventpoll_release(f);  // the socket's close()
  EXPECT_EQ(ep.size(), 1u);
  EXPECT_EQ(other.size(), 0u);
  EXPECT_EQ(ep.ready(), 0u);
  EXPECT_FALSE(f.wq.active());
  EXPECT_EQ(poll_now(ep, cpu).ret, 0);
  EXPECT_EQ(ep.ctl(kEpollCtlDel, &f), -ENOENT);
  g.mask = kIn;
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{}));  // no wake yet: not on the list
  g.set(kIn, &cpu, kIn);
  EXPECT_EQ(datas(poll_now(ep, cpu)), (std::vector<uint64_t>{2}));
  // An Epoll that goes away leaves no entry on its files' queues.
  {
    Epoll gone;
    ASSERT_EQ(gone.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
    EXPECT_TRUE(f.wq.active());
  }
  EXPECT_FALSE(f.wq.active());
}

TEST(Epoll, WakeHookSeesEveryAcceptedWake) {
  struct Rec {
    const Cpu* waker;
    Pollable* file;
    uint32_t key;
    bool task_woken;
  };
  std::vector<Rec> recs;
  FakeCpu cpu, rx;
  Epoll ep;
  ep.set_wake_hook(
      [](void* ctx, const Cpu* waker, Pollable* file, uint32_t key, bool task_woken) {
        static_cast<std::vector<Rec>*>(ctx)->push_back({waker, file, key, task_woken});
      },
      &recs);
  FakeFile f;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  f.set(kIn, &rx, kIn);            // nobody waiting
  f.set(kIn | kOut, &rx, kOut);    // not asked: no hook
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(ep, cpu, 8, -1, d));  // reports the first at once
  ASSERT_TRUE(d.done);
  f.mask = 0;
  Done d2;
  scope.spawn(epoll_task(ep, cpu, 8, -1, d2));  // finds it drained, blocks
  EXPECT_FALSE(d2.done);
  f.set(kIn, &rx, kIn);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].waker, &rx);
  EXPECT_EQ(recs[0].file, &f);
  EXPECT_EQ(recs[0].key, kIn);
  EXPECT_FALSE(recs[0].task_woken);
  EXPECT_TRUE(recs[1].task_woken);
  cpu.run();
  EXPECT_TRUE(d2.done);
}

TEST(Epoll, NestedEpollAndPollOnAnEpoll) {
  FakeCpu cpu;
  Epoll inner, outer;
  FakeFile f;
  ASSERT_EQ(inner.ctl(kEpollCtlAdd, &f, kIn, 1), 0);
  ASSERT_EQ(outer.ctl(kEpollCtlAdd, &inner, kIn, 77), 0);
  TaskScope scope;
  Done d;
  scope.spawn(epoll_task(outer, cpu, 8, -1, d));
  f.set(kIn, &cpu, kIn);  // inner's callback wakes outer through inner's poll_wait
  cpu.run();
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.r.events, (std::vector<EpollEvent>{{kIn, 77}}));
  std::array<PollFd, 1> fds{PollFd{&inner, kIn, 0}};
  PollDone p;
  scope.spawn(poll_task(cpu, fds, 0, nullptr, p));
  ASSERT_TRUE(p.done);
  EXPECT_EQ(p.ret, 1);
  EXPECT_EQ(fds[0].revents, kIn);
}

TEST(Poll, SeveralFdsBlockUntilOneMatches) {
  FakeCpu cpu, rx;
  FakeFile a, b, c;
  std::array<PollFd, 3> fds{PollFd{&a, kIn, 0}, PollFd{&b, kIn, 0}, PollFd{&c, kOut, 0}};
  WaitStats st;
  TaskScope scope;
  PollDone d;
  scope.spawn(poll_task(cpu, fds, -1, &st, d));
  EXPECT_FALSE(d.done);
  EXPECT_TRUE(a.wq.active() && b.wq.active() && c.wq.active());  // on every file's queue
  b.set(kOut, &rx, kOut);  // b asked IN: ignored
  EXPECT_FALSE(cpu.next_call_time().has_value());
  c.set(kIn, &rx, kIn);  // c asked OUT: ignored
  rx.set_now(Instant{} + Duration::us(12));
  a.set(kIn | kEpollRdNorm, &rx, kIn | kEpollRdNorm);
  a.set(kIn | kEpollRdNorm, &rx, kIn);  // woken already: one wake-up
  EXPECT_EQ(st.wakeups, 1u);
  cpu.run();
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.ret, 1);
  EXPECT_EQ(fds[0].revents, kIn);
  EXPECT_EQ(fds[1].revents, 0u);
  EXPECT_EQ(fds[2].revents, 0u);
  EXPECT_EQ(d.at, Instant{} + Duration::us(12) + wake_cost(cpu) + cpu.costs().syscall);
  EXPECT_FALSE(a.wq.active() || b.wq.active() || c.wq.active());  // removed on return
  EXPECT_EQ(st.spurious_wakeups, 0u);

  // Ready at the call: no blocking, the count of fds with revents (errors count too).
  b.mask = kEpollErr;
  c.mask = kOut | kIn;
  PollDone d2;
  scope.spawn(poll_task(cpu, fds, -1, &st, d2));
  ASSERT_TRUE(d2.done);
  EXPECT_EQ(d2.ret, 3);
  EXPECT_EQ(fds[1].revents, kEpollErr);
  EXPECT_EQ(fds[2].revents, kOut);
}

TEST(Poll, NullFileIsPollnvalAndTimeoutIsExact) {
  FakeCpu cpu;
  FakeFile a;
  std::array<PollFd, 2> fds{PollFd{&a, kIn, 0}, PollFd{nullptr, kIn, 0}};
  TaskScope scope;
  PollDone d;
  scope.spawn(poll_task(cpu, fds, -1, nullptr, d));
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.ret, 1);
  EXPECT_EQ(fds[1].revents, kEpollNval);

  const Instant t0 = Instant{} + Duration::us(50);
  cpu.set_now(t0);
  std::array<PollFd, 1> one{PollFd{&a, kIn, 0}};
  WaitStats st;
  PollDone d2;
  scope.spawn(poll_task(cpu, one, 2, &st, d2));
  EXPECT_FALSE(d2.done);
  EXPECT_EQ(*cpu.next_call_time(), t0 + Duration::ms(2));
  cpu.run();
  ASSERT_TRUE(d2.done);
  EXPECT_EQ(d2.ret, 0);
  EXPECT_EQ(d2.at, t0 + Duration::ms(2) + wake_cost(cpu) + cpu.costs().syscall);
  EXPECT_EQ(st.timeouts, 1u);
  EXPECT_FALSE(a.wq.active());

  PollDone d3;
  scope.spawn(poll_task(cpu, one, 0, &st, d3));
  ASSERT_TRUE(d3.done);
  EXPECT_EQ(d3.ret, 0);
  EXPECT_EQ(st.timeouts, 1u);
}

TEST(Poll, SpuriousWakeAndClosedFile) {
  FakeCpu cpu;
  FakeFile a, b;
  std::array<PollFd, 2> fds{PollFd{&a, kIn, 0}, PollFd{&b, kIn, 0}};
  WaitStats st;
  TaskScope scope;
  PollDone d;
  scope.spawn(poll_task(cpu, fds, -1, &st, d));
  a.set(0, &cpu, kIn);  // a wake whose data someone else took
  cpu.run();
  EXPECT_FALSE(d.done);
  EXPECT_EQ(st.spurious_wakeups, 1u);
  eventpoll_release(b);  // b is closed under the poll
  EXPECT_FALSE(b.wq.active());
  cpu.run();
  ASSERT_TRUE(d.done);
  EXPECT_EQ(d.ret, 1);
  EXPECT_EQ(fds[0].revents, 0u);
  EXPECT_EQ(fds[1].revents, kEpollNval);
  EXPECT_FALSE(a.wq.active());
}

}  // namespace
}  // namespace vnic::stack

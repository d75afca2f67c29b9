// Tests of the simulated host CPU: contexts, preemption, deferral order, softirq restarts,
// cancelled timers.
#include <gtest/gtest.h>

#include <systemc>

#include <vector>

#include "vnic/tb/host_cpu.hpp"

namespace {

using vnic::model::Duration;
using vnic::stack::Instant;
using vnic::tb::HostCpu;

struct Log {
  HostCpu* cpu = nullptr;
  std::vector<std::pair<int, int64_t>> runs;  // (tag, local time at start)
  Duration cost{};
  static void task(void* ctx, uint64_t tag) {
    auto& l = *static_cast<Log*>(ctx);
    l.runs.emplace_back(static_cast<int>(tag), l.cpu->now().ps());
    l.cpu->charge(l.cost);
  }
};

TEST(HostCpu, TasksWaitForTheCpuInArrivalOrder) {
  vnic::hw::EventQueue q("q");
  HostCpu cpu(q, 0, vnic::stack::CpuCosts{});
  Log log{&cpu, {}, Duration::us(10)};
  cpu.call_at(Instant::from_ps(0), &Log::task, &log, 1);
  cpu.call_at(Instant::from_ps(1'000'000), &Log::task, &log, 2);  // at 1 us: busy until 10 us
  cpu.call_at(Instant::from_ps(2'000'000), &Log::task, &log, 3);
  sc_core::sc_start();
  ASSERT_EQ(log.runs.size(), 3u);
  EXPECT_EQ(log.runs[0], (std::pair<int, int64_t>{1, 0}));
  EXPECT_EQ(log.runs[1], (std::pair<int, int64_t>{2, 10'000'000}));
  EXPECT_EQ(log.runs[2], (std::pair<int, int64_t>{3, 20'000'000}));
  EXPECT_EQ(cpu.stats().busy_process_ps, 30'000'000u);
  EXPECT_EQ(cpu.stats().deferred, 3u);  // task 3 waited twice
}

TEST(HostCpu, AHardIrqPreemptsAndTheInterruptedWorkEndsLater) {
  vnic::hw::EventQueue q("q");
  vnic::stack::CpuCosts costs{};
  costs.hardirq = Duration::us(1);
  HostCpu cpu(q, 0, costs);
  Log log{&cpu, {}, Duration::us(10)};
  Log irq{&cpu, {}, Duration::us(2)};
  cpu.call_at(Instant::from_ps(0), &Log::task, &log, 1);
  std::pair<HostCpu*, Log*> target{&cpu, &irq};
  q.at_ps(5'000'000, [](void* ctx, uint64_t) {  // an interrupt message lands at 5 us
    auto* p = static_cast<std::pair<HostCpu*, Log*>*>(ctx);
    p->first->hardirq(&Log::task, p->second, 9);
  }, &target);
  cpu.call_at(Instant::from_ps(6'000'000), &Log::task, &log, 2);
  sc_core::sc_start();
  ASSERT_EQ(irq.runs.size(), 1u);
  EXPECT_EQ(irq.runs[0].second, 6'000'000);  // at 5 us, after 1 us of entry: no waiting
  ASSERT_EQ(log.runs.size(), 2u);
  EXPECT_EQ(log.runs[1].second, 13'000'000);  // 10 us of work + 3 us of interrupt
  EXPECT_EQ(cpu.stats().busy_hardirq_ps, 3'000'000u);
}

TEST(HostCpu, ACancelledTimerNeitherRunsNorKeepsTheSimulationGoing) {
  vnic::hw::EventQueue q("q");
  HostCpu cpu(q, 0, vnic::stack::CpuCosts{});
  Log log{&cpu, {}, Duration{}};
  for (int i = 0; i < 1000; ++i) {
    const uint64_t h = cpu.call_at(Instant::from_ps(5'000'000'000'000), &Log::task, &log, 1);  // 5 s
    cpu.cancel(h);
  }
  cpu.call_at(Instant::from_ps(1'000'000), &Log::task, &log, 2);
  sc_core::sc_start();
  ASSERT_EQ(log.runs.size(), 1u);
  EXPECT_EQ(log.runs[0].first, 2);
  EXPECT_EQ(q.now_ps(), 1'000'000u);  // the cancelled 5 s timers did not move time
  EXPECT_EQ(q.pending(), 0u);
}

struct Soft {
  HostCpu* cpu;
  int runs = 0;
  int reraise = 0;
  static void handler(void* ctx, uint64_t) {
    auto& s = *static_cast<Soft*>(ctx);
    ++s.runs;
    s.cpu->charge(Duration::us(1));
    if (s.reraise-- > 0) s.cpu->raise_softirq(vnic::stack::Softirq::NetRx);
  }
};

TEST(HostCpu, SoftirqRestartsTenTimesThenYieldsToKsoftirqd) {
  vnic::hw::EventQueue q("q");
  HostCpu cpu(q, 0, vnic::stack::CpuCosts{});
  Soft s{&cpu, 0, 25};
  cpu.open_softirq(vnic::stack::Softirq::NetRx, &Soft::handler, &s);
  cpu.raise_softirq(vnic::stack::Softirq::NetRx);
  sc_core::sc_start();
  EXPECT_EQ(s.runs, 26);
  EXPECT_EQ(cpu.stats().softirq_runs, 3u);       // 10 + 10 + 6 rounds
  EXPECT_EQ(cpu.stats().ksoftirqd_wakeups, 2u);
}

}  // namespace

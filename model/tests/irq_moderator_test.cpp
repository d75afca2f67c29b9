// IrqModerator's three modes driven by a steady stream of completions (one every T), the
// interrupt rate against each rule's own prediction, worked out here from the rule alone:
//  - first-completion timer (the device's RX_USECS/RX_FRAMES): usecs U -> one interrupt per
//    ceil(U / T) * T (the timer is armed by the first completion after an interrupt); frames F
//    -> one per F * T;
//  - minimum interval (ixgbe/i40e ITR): the deadline is the last interrupt + U itself, so one
//    per U while completions come faster than that, else one per completion: max(U, T);
//  - packet timer (e1000 RDTR U, RADV A): with T < U the packet timer never expires and RADV
//    fires one per ceil(A / T) * T; with T > U every completion gets its own interrupt, U later.
#include <gtest/gtest.h>

#include <cstdint>

#include "vnic/model/irq_moderator.hpp"

namespace vnic::model {
namespace {

constexpr uint64_t kUs = IrqModerator::kPsPerUs;

// Completions every `period` ps for `duration` ps; interrupts fire at once when decided (the
// device adds its latency, which does not change the rate). Returns the interrupt count.
uint64_t run(IrqModerator& m, uint64_t period, uint64_t duration) {
  uint64_t irqs = 0;
  uint64_t next = 0;
  uint64_t deadline = IrqModerator::kNever;
  const auto fire = [&](uint64_t t) {
    ++irqs;
    m.fired(t);
    deadline = IrqModerator::kNever;
  };
  while (next < duration) {
    if (deadline != IrqModerator::kNever && deadline <= next) {  // the timer runs first at a tie
      const uint64_t t = deadline;
      const auto a = m.timer(t);
      deadline = a.deadline;
      if (a.fire) fire(t);
      continue;
    }
    const auto a = m.complete(1, next);
    deadline = a.deadline;
    if (a.fire) fire(next);
    next += period;
  }
  return irqs;
}

double rate_per_s(uint64_t irqs, uint64_t duration_ps) { return static_cast<double>(irqs) * 1e12 / static_cast<double>(duration_ps); }

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

TEST(IrqModerator, FirstCompletionTimerFiresCeilUsecsOverPeriodAfterArming) {
  const uint64_t duration = 100'000 * kUs;  // 100 ms
  for (const uint64_t period : {uint64_t{1} * kUs, 3 * kUs, 7 * kUs}) {
    for (const uint32_t usecs : {10u, 50u, 125u}) {
      IrqModerator m;
      m.set({IrqModerator::Mode::FirstCompletionTimer, usecs, 0, 0});
      const double want = 1e12 / static_cast<double>(ceil_div(usecs * kUs, period) * period);
      EXPECT_NEAR(rate_per_s(run(m, period, duration), duration), want, want * 0.01) << period << " " << usecs;
    }
  }
}

TEST(IrqModerator, FramesFireEveryFCompletions) {
  const uint64_t duration = 10'000 * kUs, period = 2 * kUs;
  for (const uint32_t frames : {2u, 16u, 64u}) {
    IrqModerator m;
    m.set({IrqModerator::Mode::FirstCompletionTimer, 0, frames, 0});
    const double want = 1e12 / static_cast<double>(frames * period);
    EXPECT_NEAR(rate_per_s(run(m, period, duration), duration), want, want * 0.01) << frames;
  }
  IrqModerator every;  // both 0: every completion
  EXPECT_EQ(run(every, period, duration), duration / period);
}

TEST(IrqModerator, MinIntervalCapsTheRateAtOnePerInterval) {
  const uint64_t duration = 100'000 * kUs;
  for (const uint64_t period : {uint64_t{1} * kUs, 3 * kUs, 40 * kUs, 200 * kUs}) {
    IrqModerator m;
    m.set({IrqModerator::Mode::MinInterval, 50, 0, 0});
    // Busier than the interval: one per 50 us; sparser: one per completion.
    const double want = 1e12 / static_cast<double>(std::max<uint64_t>(50 * kUs, period));
    EXPECT_NEAR(rate_per_s(run(m, period, duration), duration), want, want * 0.01) << period;
  }
}

TEST(IrqModerator, PacketTimerRestartsOnEveryCompletionAndAbsoluteTimerBoundsIt) {
  const uint64_t duration = 100'000 * kUs;
  // RDTR 20 us, RADV 100 us. Completions every 5 us keep pushing the packet timer: RADV fires,
  // one per ceil(100 / 5) * 5 = 100 us (the next completion after it re-arms RADV).
  {
    IrqModerator m;
    m.set({IrqModerator::Mode::PacketTimer, 20, 0, 100});
    const double want = 1e12 / static_cast<double>(ceil_div(100 * kUs, 5 * kUs) * 5 * kUs);
    EXPECT_NEAR(rate_per_s(run(m, 5 * kUs, duration), duration), want, want * 0.01);
  }
  // Completions every 30 us, past RDTR: each gets its interrupt 20 us later.
  {
    IrqModerator m;
    m.set({IrqModerator::Mode::PacketTimer, 20, 0, 100});
    const double want = 1e12 / static_cast<double>(30 * kUs);
    EXPECT_NEAR(rate_per_s(run(m, 30 * kUs, duration), duration), want, want * 0.01);
  }
  // No RADV: a steady stream faster than RDTR never interrupts until it stops.
  {
    IrqModerator m;
    m.set({IrqModerator::Mode::PacketTimer, 20, 0, 0});
    EXPECT_EQ(run(m, 5 * kUs, duration), 0u);
    EXPECT_GT(m.pending(), 0u);
    const auto a = m.timer(m.deadline());  // the stream stopped: RDTR expires
    EXPECT_TRUE(a.fire);
  }
}

TEST(IrqModerator, TimerCallbacksForAStaleOrMovedDeadlineDoNothing) {
  IrqModerator m;
  m.set({IrqModerator::Mode::FirstCompletionTimer, 50, 0, 0});
  const auto a = m.complete(1, 0);
  EXPECT_FALSE(a.fire);
  EXPECT_EQ(a.deadline, 50 * kUs);
  EXPECT_FALSE(m.timer(10 * kUs).fire);  // early: the deadline stands
  m.fired(20 * kUs);                     // an interrupt for another reason disarms it
  EXPECT_FALSE(m.timer(50 * kUs).fire);
  m.reset();
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(m.deadline(), IrqModerator::kNever);
}

}  // namespace
}  // namespace vnic::model

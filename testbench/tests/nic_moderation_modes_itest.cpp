// The device's three interrupt moderation rules (RX_USECS.MODE / TX_USECS.MODE, docs/hw.md
// "Interrupt moderation") at several packet rates: the interrupt count over a steady stream
// matches each rule's closed-form prediction within 1 %. Direct test hosts (no driver): the
// stream's completions land exactly one frame interval apart.
#include <gtest/gtest.h>

#include <systemc>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>

#include "vnic/tb/platform.hpp"

namespace {

using vnic::model::Duration;
using vnic::model::regs::Stat;
using vnic::tb::Platform;
using vnic::tb::Scenario;

constexpr uint32_t kFirstCompletion = 0, kMinInterval = 1, kPacketTimer = 2;

struct ModeCase {
  const char* name;
  bool tx;            // the sender's TX side instead of the receiver's RX side
  uint32_t mode;
  uint32_t usecs;     // the rule's time
  uint32_t frames;    // mode 0 only
  uint32_t abs_usecs; // mode 2 only
  uint32_t interval_ns;
};

// The interval between interrupts under a steady stream of completions `t` ns apart, from each
// rule's statement (not from the model's code). No rule's time is a multiple of `t` here, so a
// completion never lands at the very instant a timer expires.
double predicted_period_ns(const ModeCase& c) {
  const double t = c.interval_ns;
  const double u = c.usecs * 1000.0;
  // Completions after the one that armed a timer of `len`: those before its expiry are served by
  // it; the next one arms again. The interval is a whole number of frame intervals.
  auto armed_period = [t](double len) { return std::ceil(len / t) * t; };
  switch (c.mode) {
    case kFirstCompletion: {
      double p = armed_period(u);
      if (c.frames > 0) p = std::min(p, c.frames * t);  // the count is met first
      return p;
    }
    case kMinInterval:
      // At most one per `usecs`; a completion after a longer gap fires at once.
      return std::max(u, t);
    case kPacketTimer:
      // A completion gap longer than the packet timer: each completion fires on its own timer.
      if (t > u) return t;
      // Otherwise every completion restarts the packet timer and only the absolute bound ends it.
      return armed_period(c.abs_usecs * 1000.0);
  }
  return 0;
}

void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.name; }

struct Outcome {
  uint64_t irqs = 0;
  double expected = 0;
};

Outcome run(const ModeCase& c, uint64_t frames) {
  std::string err;
  auto s = vnic::tb::parse_scenario(vnic::tb::default_scenario_toml(), &err);
  EXPECT_TRUE(s) << err;
  s->hosts = "direct";
  auto& a = s->nic_side("a").host;
  auto& b = s->nic_side("b").host;
  a.count = frames;
  a.pattern.min_len = a.pattern.max_len = 60;
  a.interval = Duration::ns(c.interval_ns);
  b.count = 0;
  vnic::tb::Coalesce& k = c.tx ? a.coalesce : b.coalesce;
  if (c.tx) {
    k.tx_mode = c.mode;
    k.tx_usecs = c.usecs;
    k.tx_frames = c.frames;
    k.tx_abs_usecs = c.abs_usecs;
  } else {
    k.rx_mode = c.mode;
    k.rx_usecs = c.usecs;
    k.rx_frames = c.frames;
    k.rx_abs_usecs = c.abs_usecs;
  }
  Platform p(*s);
  p.run();
  EXPECT_EQ(p.test_host("b").stats().rx_ok, frames);
  Outcome o;
  o.irqs = c.tx ? p.nic("a").stat(Stat::irq_tx) : p.nic("b").stat(Stat::irq_rx);
  // The stream lasts frames x interval; one interrupt per period (the last one after it ends).
  o.expected = static_cast<double>(frames) * c.interval_ns / predicted_period_ns(c);
  return o;
}

class ModerationMode : public ::testing::TestWithParam<ModeCase> {};

TEST_P(ModerationMode, InterruptRateMatchesTheRule) {
  const ModeCase& c = GetParam();
  // Long enough for at least 400 interrupts, so the last partial period is under 0.25 %.
  const double period = predicted_period_ns(c);
  const auto frames = static_cast<uint64_t>(std::ceil(400.0 * period / c.interval_ns));
  const Outcome o = run(c, frames);
  EXPECT_NEAR(static_cast<double>(o.irqs), o.expected, 0.01 * o.expected)
      << c.name << ": " << frames << " frames " << c.interval_ns << " ns apart, predicted period " << period << " ns";
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ModerationMode,
    ::testing::Values(
        // Mode 0: a timer from the first completion after an interrupt, and a frame count.
        ModeCase{"first_50us_1.43Mpps", false, kFirstCompletion, 50, 0, 0, 700},
        ModeCase{"first_50us_333kpps", false, kFirstCompletion, 50, 0, 0, 3000},
        ModeCase{"first_50us_77kpps", false, kFirstCompletion, 50, 0, 0, 13000},
        ModeCase{"first_50us_32f_1.43Mpps", false, kFirstCompletion, 50, 32, 0, 700},
        ModeCase{"first_tx_16us_333kpps", true, kFirstCompletion, 16, 0, 0, 3000},
        // Mode 1: at most one interrupt per interval (ITR).
        ModeCase{"itr_20us_1.43Mpps", false, kMinInterval, 20, 0, 0, 700},
        ModeCase{"itr_20us_333kpps", false, kMinInterval, 20, 0, 0, 3000},
        ModeCase{"itr_20us_77kpps", false, kMinInterval, 20, 0, 0, 13000},
        ModeCase{"itr_20us_33kpps", false, kMinInterval, 20, 0, 0, 30000},
        ModeCase{"itr_tx_50us_333kpps", true, kMinInterval, 50, 0, 0, 3000},
        // Mode 2: a packet timer every completion restarts, bounded by an absolute timer.
        ModeCase{"pkt_8us_abs64_1.43Mpps", false, kPacketTimer, 8, 0, 64, 700},
        ModeCase{"pkt_8us_abs64_333kpps", false, kPacketTimer, 8, 0, 64, 3000},
        ModeCase{"pkt_8us_abs64_77kpps", false, kPacketTimer, 8, 0, 64, 13000},
        ModeCase{"pkt_tx_8us_abs100_333kpps", true, kPacketTimer, 8, 0, 100, 3000}),
    [](const ::testing::TestParamInfo<ModeCase>& i) {
      std::string n = i.param.name;
      for (char& ch : n) {
        if (ch == '.') ch = '_';
      }
      return n;
    });

TEST(ModerationModes, PacketTimerWithoutBoundWaitsForTheStreamToPause) {
  // RDTR alone (no RADV): while completions come closer than the packet timer, none fires; the
  // whole stream is one interrupt, after its last completion. (Fewer frames than the RX ring
  // holds: with no interrupt the host gives no buffers back.)
  const Outcome o = run(ModeCase{"pkt_only", false, kPacketTimer, 8, 0, 0, 3000}, 800);
  EXPECT_EQ(o.irqs, 1u);
}

TEST(ModerationModes, MinIntervalFiresTheFirstCompletionAtOnce) {
  // An idle queue's first completion is not delayed by the interval: a single frame gives one
  // interrupt (ITR bounds the rate, not the latency of a lone packet).
  const Outcome o = run(ModeCase{"itr_single", false, kMinInterval, 1000, 0, 0, 3000}, 1);
  EXPECT_EQ(o.irqs, 1u);
}

TEST(ModerationModes, ScenarioKeysNameTheRule) {
  std::string err;
  auto s = vnic::tb::parse_scenario(R"(
[scenario]
hosts = "direct"
[host.a]
frames = 1
[host.b]
rx-moderation = "packet-timer"
rx-usecs = 8
rx-abs-usecs = 64
tx-moderation = "min-interval"
)", &err);
  ASSERT_TRUE(s) << err;
  const vnic::tb::Coalesce& k = s->nic_side("b").host.coalesce;
  EXPECT_EQ(k.rx_mode, kPacketTimer);
  EXPECT_EQ(k.rx_abs_usecs, 64u);
  EXPECT_EQ(k.tx_mode, kMinInterval);
  EXPECT_EQ(s->nic_side("a").host.coalesce.rx_mode, kFirstCompletion);

  EXPECT_FALSE(vnic::tb::parse_scenario("[host.b]\nrx-moderation = \"adaptive\"\n", &err));
  EXPECT_NE(err.find("'adaptive' is not one of first-completion, min-interval, packet-timer"), std::string::npos) << err;
  EXPECT_FALSE(vnic::tb::parse_scenario("[host.b]\nrx-abs-usecs = 70000\n", &err));
  EXPECT_NE(err.find("rx-abs-usecs"), std::string::npos) << err;
}

TEST(ModerationModes, DriverHostsRefuseTheDeviceOnlyRules) {
  std::string err;
  auto s = vnic::tb::parse_scenario("[scenario]\nhosts = \"driver\"\n[host.b]\nrx-moderation = \"min-interval\"\n", &err);
  ASSERT_TRUE(s) << err;
  try {
    Platform p(*s);
    ADD_FAILURE() << "a driver host took a device-only moderation rule";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("need direct hosts"), std::string::npos) << e.what();
  }
}

}  // namespace

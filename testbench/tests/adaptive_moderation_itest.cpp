// Adaptive interrupt moderation (ethtool -C adaptive-rx/-tx: net_dim, as mlx5 uses it) on the
// platform: a load step replayed through an independent net_dim written here from lib/dim's rules,
// the interrupt rate against static moderation under the same load, and what set_coalesce writes
// into the device's moderation registers.
#include <gtest/gtest.h>

#include <systemc>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/driver_rig.hpp"
#include "support/scenario_util.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/tb/platform.hpp"
#include "vnic/tb/scenario.hpp"

namespace {

namespace regs = vnic::model::regs;
using vnic::driver::DimTraceEntry;
using vnic::driver::VnicDriver;
using vnic::model::Duration;
using vnic::model::regs::Stat;
using vnic::stack::Co;
using vnic::stack::DimSample;
using vnic::tb::DriverHost;
using vnic::tb::Platform;
using vnic::tb::Scenario;
using vnic::tb::testing::expect_conservation;
using vnic::tb::testing::resolve;
using vnic::tb::testing::run_for;
using D = vnic::driver::DrvStat;
using Kind = DimTraceEntry::Kind;

// ------------------------------------------------------------------ an independent net_dim
//
// Written from the rules of lib/dim/net_dim.c and lib/dim/dim.c (Linux 6.1), sharing nothing
// with stack/src/lib/dim.cpp but the sample's layout.
namespace ref {

constexpr int kProfiles = 5;
struct Moder {
  uint32_t usec, pkts;
};
// NET_DIM_RX_CQE_PROFILES and NET_DIM_TX_CQE_PROFILES (the device's timer starts at a completion).
constexpr Moder kRxCqe[kProfiles] = {{2, 256}, {8, 128}, {16, 64}, {32, 64}, {64, 64}};
constexpr Moder kTxCqe[kProfiles] = {{5, 128}, {8, 64}, {16, 32}, {32, 32}, {64, 32}};

struct Rates {
  int64_t ppms = 0, bpms = 0, epms = 0;
};

class NetDim {
 public:
  int ix = 0;

  // The dim work ran: measure again from the next sample.
  void work_done() { phase_ = Phase::Idle; }

  // One sample; true when a new profile is to be applied.
  bool sample(const DimSample& s) {
    if (phase_ == Phase::Applying) return false;
    if (phase_ == Phase::Measuring) {
      if (static_cast<uint16_t>(s.event_ctr - start_.event_ctr) < 64) return false;  // DIM_NEVENTS
      if (decide(rates(start_, s))) {
        phase_ = Phase::Applying;
        return true;
      }
    }
    start_ = s;
    phase_ = Phase::Measuring;
    return false;
  }

 private:
  enum class Phase { Idle, Measuring, Applying };
  enum class Tune { ParkedOnTop, ParkedTired, Right, Left };
  Phase phase_ = Phase::Idle;
  Tune tune_ = Tune::ParkedOnTop;
  int right_ = 0, left_ = 0, tired_ = 0;
  Rates prev_{};
  DimSample start_{};

  static int64_t per_ms(uint64_t n, uint64_t us) { return static_cast<int64_t>((n * 1000 + us - 1) / us); }
  // Packets, bytes and events per millisecond; events always count DIM_NEVENTS. A zero interval
  // leaves the rates at zero.
  static Rates rates(const DimSample& a, const DimSample& b) {
    Rates r;
    const auto us = static_cast<uint32_t>((b.time - a.time).ps() / 1'000'000);
    if (us == 0) return r;
    r.ppms = per_ms(static_cast<uint32_t>(b.pkt_ctr - a.pkt_ctr), us);
    r.bpms = per_ms(static_cast<uint32_t>(b.byte_ctr - a.byte_ctr), us);
    r.epms = per_ms(64, us);
    return r;
  }
  // +1 better, 0 same, -1 worse: more bytes, else more packets, else fewer interrupts; a change
  // counts when it is more than 10 % of the previous value.
  static int compare(const Rates& c, const Rates& p) {
    auto differs = [](int64_t v, int64_t r) { return r != 0 && 100 * std::llabs(v - r) / r > 10; };
    if (p.bpms == 0) return c.bpms != 0 ? 1 : 0;
    if (differs(c.bpms, p.bpms)) return c.bpms > p.bpms ? 1 : -1;
    if (p.ppms == 0) return c.ppms != 0 ? 1 : 0;
    if (differs(c.ppms, p.ppms)) return c.ppms > p.ppms ? 1 : -1;
    if (p.epms == 0) return 0;
    if (differs(c.epms, p.epms)) return c.epms < p.epms ? 1 : -1;
    return 0;
  }
  enum class Step { Moved, Tired, Edge };
  Step step() {
    if (tired_ == 2 * kProfiles) return Step::Tired;
    if (tune_ == Tune::Right) {
      if (ix == kProfiles - 1) return Step::Edge;
      ++ix;
      ++right_;
    } else if (tune_ == Tune::Left) {
      if (ix == 0) return Step::Edge;
      --ix;
      ++left_;
    }
    ++tired_;
    return Step::Moved;
  }
  void park(Tune t) {
    right_ = left_ = 0;
    if (t == Tune::ParkedOnTop) tired_ = 0;
    tune_ = t;
  }
  void leave_parking() {
    tune_ = ix == 0 ? Tune::Right : Tune::Left;
    (void)step();
  }
  bool decide(const Rates& c) {
    const Tune was = tune_;
    const int ix_was = ix;
    if (tune_ == Tune::ParkedOnTop) {
      if (compare(c, prev_) != 0) leave_parking();
    } else if (tune_ == Tune::ParkedTired) {
      if (--tired_ == 0) leave_parking();
    } else {
      if (compare(c, prev_) != 1) {  // turn around
        if (tune_ == Tune::Right) {
          tune_ = Tune::Left;
          left_ = 0;
        } else {
          tune_ = Tune::Right;
          right_ = 0;
        }
      }
      // On top: one step back after more than one step the other way.
      const bool top = tune_ == Tune::Right ? left_ > 1 && right_ == 1 : right_ > 1 && left_ == 1;
      if (top) {
        park(Tune::ParkedOnTop);
      } else {
        const Step r = step();
        if (r == Step::Edge) park(Tune::ParkedOnTop);
        if (r == Step::Tired) park(Tune::ParkedTired);
      }
    }
    if (was != Tune::ParkedOnTop || tune_ != Tune::ParkedOnTop) prev_ = c;
    return ix != ix_was;
  }
};

}  // namespace ref

// Replays one queue's trace through ref::NetDim; every sample's outcome, every programmed profile
// must match. Returns the profile index after each decision that changed it.
std::vector<int> replay(const std::vector<DimTraceEntry>& trace, bool tx, unsigned* samples = nullptr) {
  ref::NetDim dim;
  std::vector<int> chosen;
  unsigned n = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const DimTraceEntry& e = trace[i];
    if (e.tx != tx) continue;
    switch (e.kind) {
      case Kind::Reset:
        dim = ref::NetDim{};
        break;
      case Kind::Sample: {
        ++n;
        const bool apply = dim.sample(e.sample);
        EXPECT_EQ(e.scheduled, apply) << (tx ? "tx" : "rx") << " entry " << i;
        EXPECT_EQ(e.profile_ix, dim.ix) << (tx ? "tx" : "rx") << " entry " << i;
        if (apply) chosen.push_back(dim.ix);
        break;
      }
      case Kind::Work: {
        dim.work_done();
        EXPECT_EQ(e.profile_ix, dim.ix) << (tx ? "tx" : "rx") << " entry " << i;
        const ref::Moder m = (tx ? ref::kTxCqe : ref::kRxCqe)[dim.ix];
        EXPECT_EQ(e.moder.usec, m.usec) << "entry " << i;
        EXPECT_EQ(e.moder.pkts, m.pkts) << "entry " << i;
        break;
      }
    }
  }
  if (samples) *samples = n;
  return chosen;
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
  return s;
}

unsigned count(const std::vector<DimTraceEntry>& t, Kind k, bool tx) {
  unsigned n = 0;
  for (const auto& e : t) n += e.kind == k && e.tx == tx ? 1 : 0;
  return n;
}

// Co-routines a test starts on a host.
struct Regs {
  uint32_t rx_usecs = 0, rx_frames = 0, tx_usecs = 0, tx_frames = 0;
};
Co<void> read_regs(VnicDriver& d, Regs* r) {
  r->rx_usecs = co_await d.mmio_read(regs::kRxUsecs.offset_of(0));
  r->rx_frames = co_await d.mmio_read(regs::kRxFrames.offset_of(0));
  r->tx_usecs = co_await d.mmio_read(regs::kTxUsecs.offset_of(0));
  r->tx_frames = co_await d.mmio_read(regs::kTxFrames.offset_of(0));
}
// The same as a task of its own, from the CPU's context (see apply_steps).
Co<void> read_regs_task(DriverHost& h, Regs* r) {
  co_await vnic::stack::sleep(h.cpus(), Duration::us(1));
  co_await read_regs(h.driver(), r);
}

// -------------------------------------------------------------------------------- load step

// a -> b and c -> d carry the same load: idle, then 1514 B frames at 10 Gb/s line rate, then
// idle. b runs adaptive-rx and adaptive-tx, d the static default (rx-usecs 8, rx-frames 32); a
// runs adaptive-tx (its TX completions), c static.
constexpr uint64_t kFrames = 40'000;  // ~49 ms at 812,744 frames/s
constexpr const char* kLoadStep = R"([scenario]
name = "adaptive-load-step"
[host.a]
frames = 40000
min_len = 1514
max_len = 1514
start_ns = 3000000
adaptive-tx = true
[host.a.ping]
enabled = false
[host.b]
frames = 0
adaptive-rx = true
adaptive-tx = true
[host.c]
address = "10.0.1.1/24"
frames = 40000
min_len = 1514
max_len = 1514
start_ns = 3000000
[host.d]
address = "10.0.1.2/24"
frames = 0
[link.cd]
ends = ["c.eth0", "d.eth0"]
)";

TEST(AdaptiveModeration, LoadStepDecisionsMatchAnIndependentNetDimAndCutTheInterruptRate) {
  Scenario s = resolve(kLoadStep);
  ASSERT_TRUE(s.nic_side("b").host.coalesce.adaptive_rx);
  ASSERT_FALSE(s.nic_side("d").host.coalesce.adaptive_rx);
  Platform p(s);
  DriverHost& a = p.driver_host("a");
  DriverHost& b = p.driver_host("b");
  DriverHost& d = p.driver_host("d");
  std::vector<DimTraceEntry> ta, tb, td;
  a.driver().set_dim_trace(&ta);
  b.driver().set_dim_trace(&tb);
  d.driver().set_dim_trace(&td);
  for (unsigned i = 0; i < p.num_hosts(); ++i) p.host(i).bring_up();

  // Idle: the interfaces come up, nothing arrives, no poll completes: no sample.
  run_for(Duration::ms(3));
  ASSERT_TRUE(b.up());
  EXPECT_EQ(count(tb, Kind::Sample, false), 0u);
  EXPECT_EQ(b.driver().get_coalesce().use_adaptive_rx_coalesce, true);
  EXPECT_NE(b.ethtool_c().find("Adaptive RX: on  TX: on\n"), std::string::npos) << b.ethtool_c();
  EXPECT_NE(d.ethtool_c().find("Adaptive RX: off  TX: off\n"), std::string::npos) << d.ethtool_c();

  // Line rate. Let net_dim find its way (10 ms), then compare b's interrupts with d's.
  run_for(Duration::ms(10));
  const std::size_t settled = tb.size();
  const uint64_t b_irq0 = p.nic("b").stat(Stat::irq_rx), d_irq0 = p.nic("d").stat(Stat::irq_rx);
  const uint64_t b_vec0 = b.driver().stat(D::irq_queue_0), d_vec0 = d.driver().stat(D::irq_queue_0);
  const uint64_t a_tx0 = p.nic("a").stat(Stat::tx_packets), c_tx0 = p.nic("c").stat(Stat::tx_packets);
  run_for(Duration::ms(34));  // to 47 ms: still at line rate (the frames last until ~52 ms)
  const double window_s = 0.034;
  const uint64_t b_irq = p.nic("b").stat(Stat::irq_rx) - b_irq0, d_irq = p.nic("d").stat(Stat::irq_rx) - d_irq0;
  const uint64_t b_vec = b.driver().stat(D::irq_queue_0) - b_vec0, d_vec = d.driver().stat(D::irq_queue_0) - d_vec0;
  const uint64_t a_tx = p.nic("a").stat(Stat::tx_packets) - a_tx0, c_tx = p.nic("c").stat(Stat::tx_packets) - c_tx0;
  const int rx_ix_loaded = b.driver().rx_dim().profile_ix;
  Regs r;
  b.spawn(read_regs_task(b, &r));
  run_for(Duration::us(50));
  ASSERT_NE(r.rx_usecs, 0u);

  // Both links carried line rate over the window (adaptive TX on a did not slow it down).
  EXPECT_GT(a_tx, uint64_t{27'000});  // 812,744 frames/s x 34 ms = 27,633
  EXPECT_GT(c_tx, uint64_t{27'000});
  EXPECT_LT(a_tx > c_tx ? a_tx - c_tx : c_tx - a_tx, c_tx / 50);
  // Under line rate net_dim walks right (longer timer): RX interrupts fall well below those of
  // static moderation taking the same load.
  EXPECT_GT(rx_ix_loaded, 1) << "rx profile under load";
  EXPECT_LT(b_irq * 2, d_irq);
  EXPECT_LT(b_vec * 2, d_vec);
  // What the device runs with is what the last dim work programmed: the profile of the table.
  const DimTraceEntry* last_rx_work = nullptr;
  for (const auto& e : tb) {
    if (e.kind == Kind::Work && !e.tx) last_rx_work = &e;
  }
  ASSERT_NE(last_rx_work, nullptr);
  EXPECT_EQ(r.rx_usecs, ref::kRxCqe[last_rx_work->profile_ix].usec);
  EXPECT_EQ(r.rx_frames, ref::kRxCqe[last_rx_work->profile_ix].pkts);
  EXPECT_EQ(b.driver().stat(D::rx_queue_0_dim_changes), count(tb, Kind::Work, false));

  // Idle again: the last completions are polled, then nothing; the dims stay where they were.
  run_for(Duration::ms(20));
  EXPECT_TRUE(p.host(p.host_index("a")).traffic_done());
  const std::size_t idle_mark = tb.size();
  run_for(Duration::ms(10));
  EXPECT_EQ(tb.size(), idle_mark);  // no interrupts, no samples
  EXPECT_TRUE(b.up());

  // The independent net_dim, fed the same samples, makes the same decisions.
  unsigned b_rx_samples = 0, a_tx_samples = 0, b_tx_samples = 0;
  const std::vector<int> b_rx = replay(tb, false, &b_rx_samples);
  const std::vector<int> b_tx = replay(tb, true, &b_tx_samples);
  const std::vector<int> a_tx_seq = replay(ta, true, &a_tx_samples);
  EXPECT_GT(b_rx_samples, 500u);
  EXPECT_GE(b_rx.size(), 4u);  // it did move (0 -> 1 at the first decision, then on)
  EXPECT_GT(a_tx_samples, 1000u);
  EXPECT_FALSE(a_tx_seq.empty());
  // The samples are the queue's counters at the end of each completed poll: in time order, and
  // the last one (the poll after the last interrupt) holds the final counts.
  const DimTraceEntry* last_rx = nullptr;
  for (const auto& e : tb) {
    if (e.kind != Kind::Sample || e.tx) continue;
    if (last_rx != nullptr) {
      EXPECT_LE(last_rx->sample.time.ps(), e.sample.time.ps());
    }
    last_rx = &e;
  }
  ASSERT_NE(last_rx, nullptr);
  EXPECT_EQ(last_rx->sample.pkt_ctr, static_cast<uint32_t>(b.driver().stat(D::rx_queue_0_packets)));
  EXPECT_EQ(last_rx->sample.byte_ctr, static_cast<uint32_t>(b.driver().stat(D::rx_queue_0_bytes)));
  EXPECT_EQ(last_rx->sample.event_ctr, static_cast<uint16_t>(b.driver().stat(D::irq_queue_0)));
  // Static d: the dim path never ran (resets at open only).
  EXPECT_EQ(count(td, Kind::Sample, false) + count(td, Kind::Sample, true), 0u);
  EXPECT_EQ(d.driver().stat(D::rx_queue_0_dim_changes), 0u);
  unsigned rx_decided = 0;
  for (std::size_t i = 0; i < settled; ++i) rx_decided += tb[i].kind == Kind::Work && !tb[i].tx ? 1 : 0;

  std::printf("line rate, 1514 B: RX interrupts %.0f/s adaptive (b) vs %.0f/s static 8us/32 (d); vector %.0f/s vs %.0f/s\n",
              static_cast<double>(b_irq) / window_s, static_cast<double>(d_irq) / window_s,
              static_cast<double>(b_vec) / window_s, static_cast<double>(d_vec) / window_s);
  std::printf("b rx: %u samples, profiles chosen: %s (%u in the first 13 ms); under load ix %d, RX_USECS %u RX_FRAMES %u\n",
              b_rx_samples, join(b_rx).c_str(), rx_decided, rx_ix_loaded, r.rx_usecs, r.rx_frames);
  std::printf("b tx: %u samples, profiles chosen: %s; a tx: %u samples, profiles chosen: %s\n", b_tx_samples,
              join(b_tx).c_str(), a_tx_samples, join(a_tx_seq).c_str());

  expect_conservation(p);
  EXPECT_EQ(b.checker().stats().ok, kFrames);
  EXPECT_EQ(d.checker().stats().ok, kFrames);
}

// ------------------------------------------------------------------------- set_coalesce

struct CoalesceStep {
  vnic::stack::EthtoolCoalesce set{};
  int rc = 1;
  Regs regs{};
  vnic::stack::EthtoolCoalesce got{};
};

Co<void> apply_steps(DriverHost& h, std::vector<CoalesceStep>* steps) {
  // From a CPU's context (a task spawned by the test starts outside one, where the CPU's clock
  // does not advance and a read could overtake the posted writes before it).
  co_await vnic::stack::sleep(h.cpus(), Duration::us(1));
  VnicDriver& d = h.driver();
  for (CoalesceStep& s : *steps) {
    s.rc = co_await d.set_coalesce(s.set);
    co_await read_regs(d, &s.regs);
    s.got = d.get_coalesce();
  }
}

constexpr const char* kQuiet = R"([scenario]
name = "quiet"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.b]
frames = 0
)";

TEST(AdaptiveModeration, SetCoalesceProgramsTheDefaultProfileWhileAdaptiveAndTheStaticValuesWhenOff) {
  Platform p(resolve(kQuiet));
  DriverHost& b = p.driver_host("b");
  std::vector<DimTraceEntry> trace;
  b.driver().set_dim_trace(&trace);
  p.host(0).bring_up();
  b.bring_up();
  run_for(Duration::ms(2));
  ASSERT_TRUE(b.up());
  using C = vnic::stack::EthtoolCoalesce;
  std::vector<CoalesceStep> steps{
      {C{50, 20, 30, 10, false, false}},  // static
      {C{50, 20, 30, 10, true, false}},   // adaptive-rx on: RX gets net_dim's default profile
      {C{60, 16, 40, 12, true, true}},    // adaptive-tx on too: both at the default profile
      {C{70, 8, 44, 6, true, true}},      // static values while adaptive: kept, not programmed
      {C{70, 8, 44, 6, false, true}},     // adaptive-rx off: RX's static values again
      {C{70, 8, 44, 6, false, false}},    // adaptive-tx off
  };
  b.spawn(apply_steps(b, &steps));
  run_for(Duration::ms(1));
  for (const CoalesceStep& s : steps) ASSERT_EQ(s.rc, 0);
  const ref::Moder rx_def = ref::kRxCqe[1], tx_def = ref::kTxCqe[1];  // NET_DIM_DEF_PROFILE_CQE
  auto expect_regs = [](const CoalesceStep& s, uint32_t ru, uint32_t rf, uint32_t tu, uint32_t tf, int i) {
    EXPECT_EQ(s.regs.rx_usecs, ru) << "step " << i;
    EXPECT_EQ(s.regs.rx_frames, rf) << "step " << i;
    EXPECT_EQ(s.regs.tx_usecs, tu) << "step " << i;
    EXPECT_EQ(s.regs.tx_frames, tf) << "step " << i;
  };
  expect_regs(steps[0], 50, 20, 30, 10, 0);
  expect_regs(steps[1], rx_def.usec, rx_def.pkts, 30, 10, 1);
  expect_regs(steps[2], rx_def.usec, rx_def.pkts, tx_def.usec, tx_def.pkts, 2);
  expect_regs(steps[3], rx_def.usec, rx_def.pkts, tx_def.usec, tx_def.pkts, 3);
  expect_regs(steps[4], 70, 8, tx_def.usec, tx_def.pkts, 4);
  expect_regs(steps[5], 70, 8, 44, 6, 5);
  // get_coalesce reports what was set, the adaptive flags with it.
  for (int i = 0; i < 6; ++i) {
    const CoalesceStep& s = steps[static_cast<std::size_t>(i)];
    EXPECT_EQ(s.got.rx_coalesce_usecs, s.set.rx_coalesce_usecs) << i;
    EXPECT_EQ(s.got.tx_max_coalesced_frames, s.set.tx_max_coalesced_frames) << i;
    EXPECT_EQ(s.got.use_adaptive_rx_coalesce, s.set.use_adaptive_rx_coalesce) << i;
    EXPECT_EQ(s.got.use_adaptive_tx_coalesce, s.set.use_adaptive_tx_coalesce) << i;
  }
  // The dims restart (zeroed, mode CQE) at open and at each switch of an adaptive flag, not when
  // only the static values change: open, steps 1, 2, 4 and 5.
  EXPECT_EQ(count(trace, Kind::Reset, false), 5u);
  EXPECT_EQ(b.driver().rx_dim().mode, vnic::stack::DimCqPeriodMode::StartFromCqe);
  EXPECT_EQ(b.driver().rx_dim().profile_ix, 0);
  EXPECT_NE(b.ethtool_c().find("Adaptive RX: off  TX: off\nrx-usecs: 70\nrx-frames: 8\n"), std::string::npos)
      << b.ethtool_c();

  // Adaptive on, then down and up: open starts the dims again at the default profile.
  std::vector<CoalesceStep> on{{C{70, 8, 44, 6, true, true}}};
  b.spawn(apply_steps(b, &on));
  run_for(Duration::ms(1));
  int rc_stop = 1, rc_open = 1;
  b.spawn([](VnicDriver& d, int* s, int* o) -> Co<void> {
    *s = co_await d.stop();
    *o = co_await d.open();
  }(b.driver(), &rc_stop, &rc_open));
  run_for(Duration::ms(3));
  ASSERT_EQ(rc_stop, 0);
  ASSERT_EQ(rc_open, 0);
  Regs after;
  b.spawn(read_regs_task(b, &after));
  run_for(Duration::us(50));
  EXPECT_EQ(after.rx_usecs, rx_def.usec);
  EXPECT_EQ(after.rx_frames, rx_def.pkts);
  EXPECT_EQ(after.tx_usecs, tx_def.usec);
  EXPECT_EQ(after.tx_frames, tx_def.pkts);
  EXPECT_EQ(count(trace, Kind::Reset, false), 7u);  // the switch on, then open
  EXPECT_NE(b.ethtool_c().find("Adaptive RX: on  TX: on\n"), std::string::npos) << b.ethtool_c();
  expect_conservation(p);
}

// -------------------------------------------------------------------------- scenario keys

TEST(AdaptiveModeration, ScenarioKeysAreBooleansForDriverHosts) {
  const Scenario s = resolve("", {"host.b.adaptive-rx=true", "host.a.adaptive-tx=true"});
  EXPECT_TRUE(s.nic_side("b").host.coalesce.adaptive_rx);
  EXPECT_FALSE(s.nic_side("b").host.coalesce.adaptive_tx);
  EXPECT_TRUE(s.nic_side("a").host.coalesce.adaptive_tx);
  EXPECT_FALSE(s.nic_side("a").host.coalesce.adaptive_rx);
  std::string err;
  auto bad = vnic::tb::resolve_scenario({}, {*vnic::tb::parse_setting("host.b.adaptive-rx=7", &err)}, &err);
  EXPECT_FALSE(bad);
  EXPECT_NE(err.find("adaptive-rx"), std::string::npos) << err;
  // Direct hosts have no driver to run net_dim.
  const Scenario direct = resolve("", {"scenario.hosts=\"direct\"", "host.b.adaptive-rx=true"});
  try {
    Platform p(direct);
    ADD_FAILURE() << "a direct host took adaptive-rx";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("adaptive-rx"), std::string::npos) << e.what();
  }
}

}  // namespace

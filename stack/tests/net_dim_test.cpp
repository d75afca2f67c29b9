// net_dim (lib/dim/net_dim.c, lib/dim/dim.c, include/linux/dim.h, Linux 6.1): the profile
// tables, dim_calc_stats' integer rates, net_dim_stats_compare's 10 % rule and its order (bytes,
// packets, then fewer events), and the walk over the profiles under a load step, with each
// expected index derived by hand from net_dim_decision's rules (written out next to it).
#include <gtest/gtest.h>

#include <vector>

#include "vnic/stack/dim.hpp"

namespace vnic::stack {
namespace {

using model::Duration;
using model::Instant;

TEST(NetDim, ProfileTablesAreLinux61s) {
  const uint16_t rx_eqe[] = {1, 8, 64, 128, 256}, rx_cqe[] = {2, 8, 16, 32, 64};
  const uint16_t rx_cqe_pkts[] = {256, 128, 64, 64, 64};
  const uint16_t tx_eqe[] = {1, 8, 32, 64, 128}, tx_cqe[] = {5, 8, 16, 32, 64};
  const uint16_t tx_cqe_pkts[] = {128, 64, 32, 32, 32};
  for (int i = 0; i < kNetDimParamsNumProfiles; ++i) {
    EXPECT_EQ(net_dim_get_rx_moderation(DimCqPeriodMode::StartFromEqe, i), (DimCqModer{rx_eqe[i], 256, 0, 0}));
    EXPECT_EQ(net_dim_get_rx_moderation(DimCqPeriodMode::StartFromCqe, i), (DimCqModer{rx_cqe[i], rx_cqe_pkts[i], 0, 1}));
    EXPECT_EQ(net_dim_get_tx_moderation(DimCqPeriodMode::StartFromEqe, i), (DimCqModer{tx_eqe[i], 128, 0, 0}));
    EXPECT_EQ(net_dim_get_tx_moderation(DimCqPeriodMode::StartFromCqe, i), (DimCqModer{tx_cqe[i], tx_cqe_pkts[i], 0, 1}));
  }
  EXPECT_EQ(net_dim_get_def_rx_moderation(DimCqPeriodMode::StartFromEqe).usec, 8);
  EXPECT_EQ(net_dim_get_def_tx_moderation(DimCqPeriodMode::StartFromCqe).usec, 8);
}

TEST(NetDim, CalcStatsRoundsUpPerMillisecond) {
  // dim_calc_stats: DIV_ROUND_UP(x * USEC_PER_MSEC, delta_us); epms from DIM_NEVENTS.
  DimSample a, b;
  a.time = Instant::from_ps(0);
  b.time = Instant::from_ps(Duration::us(333).ps());
  b.pkt_ctr = 5000;
  b.byte_ctr = 7'500'000;
  b.event_ctr = 64;
  b.comp_ctr = 10;
  DimStats s;
  dim_calc_stats(a, b, s);
  EXPECT_EQ(s.ppms, 15016);             // ceil(5,000,000 / 333)
  EXPECT_EQ(s.bpms, 22'522'523);        // ceil(7,500,000,000 / 333)
  EXPECT_EQ(s.epms, 193);               // ceil(64,000 / 333)
  EXPECT_EQ(s.cpms, 31);                // ceil(10,000 / 333)
  EXPECT_EQ(s.cpe_ratio, 31 * 100 / 193);
  // Counters wrap (BIT_GAP(32)); a zero interval leaves the stats untouched.
  a.pkt_ctr = 0xFFFF'FF00u;
  b.pkt_ctr = 0x100;
  dim_calc_stats(a, b, s);
  EXPECT_EQ(s.ppms, 1538);  // ceil(512,000 / 333)
  DimStats z{7, 7, 7, 7, 7};
  dim_calc_stats(a, a, z);
  EXPECT_EQ(z, (DimStats{7, 7, 7, 7, 7}));
}

TEST(NetDim, StatsCompareBytesThenPacketsThenFewerEventsAtTenPercent) {
  const DimStats prev{100, 1000, 50, 0, 0};
  // IS_SIGNIFICANT_DIFF: 100 * |val - ref| / ref > 10 in integers: 1100 is 10, not more.
  EXPECT_EQ(net_dim_stats_compare({100, 1100, 50, 0, 0}, prev), DimStatsCompare::Same);
  EXPECT_EQ(net_dim_stats_compare({100, 1110, 50, 0, 0}, prev), DimStatsCompare::Better);
  EXPECT_EQ(net_dim_stats_compare({100, 880, 50, 0, 0}, prev), DimStatsCompare::Worse);
  // Bytes level: packets decide.
  EXPECT_EQ(net_dim_stats_compare({120, 1000, 50, 0, 0}, prev), DimStatsCompare::Better);
  EXPECT_EQ(net_dim_stats_compare({80, 1000, 50, 0, 0}, prev), DimStatsCompare::Worse);
  // Both level: fewer interrupts is better.
  EXPECT_EQ(net_dim_stats_compare({100, 1000, 40, 0, 0}, prev), DimStatsCompare::Better);
  EXPECT_EQ(net_dim_stats_compare({100, 1000, 60, 0, 0}, prev), DimStatsCompare::Worse);
  // Nothing before: any traffic is better.
  EXPECT_EQ(net_dim_stats_compare({1, 1, 1, 0, 0}, DimStats{}), DimStatsCompare::Better);
  EXPECT_EQ(net_dim_stats_compare(DimStats{}, DimStats{}), DimStatsCompare::Same);
}

TEST(NetDim, StepStopsAtTheEdgesAndWhenTired) {
  Dim d;
  d.tune_state = DimTuneState::GoingLeft;
  EXPECT_EQ(net_dim_step(d), DimStepResult::OnEdge);  // already at profile 0
  d.tune_state = DimTuneState::GoingRight;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(net_dim_step(d), DimStepResult::Stepped);
  EXPECT_EQ(d.profile_ix, 4);
  EXPECT_EQ(net_dim_step(d), DimStepResult::OnEdge);
  d.tired = 2 * kNetDimParamsNumProfiles;
  d.tune_state = DimTuneState::GoingLeft;
  EXPECT_EQ(net_dim_step(d), DimStepResult::TooTired);
  EXPECT_EQ(d.profile_ix, 4);
}

// A load step: the driver's sample after every 64 interrupts, the traffic's rate a function of
// the profile in force (best at profile 2) until the load drops. The caller applies each new
// profile and starts measuring again, as the drivers' dim work does.
TEST(NetDim, ALoadStepWalksRightTurnsParksAndLeavesWhenTheLoadDrops) {
  // Bytes per ms the link carries at each profile, then a tenth of it when idle.
  const int kBpms[kNetDimParamsNumProfiles] = {600'000, 800'000, 1'000'000, 850'000, 700'000};
  Dim d;
  DimSample s;
  uint64_t t_us = 0;
  std::vector<int> ix_after_decision;
  const auto feed = [&](bool idle) {
    // Two samples per round: the one that ends a measurement (64 events after the last start),
    // and, after a new profile, the one that starts the next.
    t_us += 1000;
    s.time = Instant::from_ps(Duration::us(static_cast<int64_t>(t_us)).ps());
    const int bpms = idle ? kBpms[d.profile_ix] / 10 : kBpms[d.profile_ix];
    s.byte_ctr += static_cast<uint32_t>(bpms);
    s.pkt_ctr += static_cast<uint32_t>(bpms / 1500);
    s.event_ctr = static_cast<uint16_t>(s.event_ctr + 64);
    if (net_dim(d, s)) {
      ix_after_decision.push_back(d.profile_ix);
      d.state = DimState::StartMeasure;
    } else if (d.state == DimState::MeasureInProgress) {
      ix_after_decision.push_back(-1);  // measured, no change
    }
  };
  s.time = Instant::from_ps(0);
  ASSERT_FALSE(net_dim(d, s));  // the first sample starts the measurement
  for (int r = 0; r < 12; ++r) feed(false);
  for (int r = 0; r < 2; ++r) feed(true);
  // Round by round (net_dim_decision):
  //  1: prev_stats empty -> BETTER; parked at 0 -> exit parking going right: 0 -> 1
  //  (a new profile restarts the measurement: the next sample only starts it)
  //  3: 800k vs 600k BETTER -> 1 -> 2;   5: 1000k vs 800k BETTER -> 2 -> 3
  //  7: 850k vs 1000k WORSE -> turn left (steps_left 0), not on top -> 3 -> 2
  //  9: 1000k vs 850k BETTER; going left with steps_right 3 and steps_left 1: on top -> park at 2
  //  10-12: 1000k vs 1000k SAME: stays parked
  //  13: idle, 100k vs 1000k WORSE -> exit parking going left: 2 -> 1
  //  14: the next sample only starts the measurement
  const std::vector<int> want = {1, -1, 2, -1, 3, -1, 2, -1, -1, -1, -1, -1, 1, -1};
  EXPECT_EQ(ix_after_decision, want);
  EXPECT_EQ(d.tune_state, DimTuneState::GoingLeft);
}

}  // namespace
}  // namespace vnic::stack

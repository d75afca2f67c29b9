// net_dim and its helpers (lib/dim/dim.c, lib/dim/net_dim.c, include/linux/dim.h, Linux 6.1).
#include "vnic/stack/dim.hpp"

#include <cstdlib>

namespace vnic::stack {

namespace {

constexpr uint16_t kRxCqPktsFromEqe = 256;  // NET_DIM_DEFAULT_RX_CQ_PKTS_FROM_EQE
constexpr uint16_t kTxCqPktsFromEqe = 128;  // NET_DIM_DEFAULT_TX_CQ_PKTS_FROM_EQE

// rx_profile[mode][ix], tx_profile[mode][ix]: {usec, pkts}.
constexpr DimCqModer kRxProfile[2][kNetDimParamsNumProfiles] = {
    {{1, kRxCqPktsFromEqe}, {8, kRxCqPktsFromEqe}, {64, kRxCqPktsFromEqe}, {128, kRxCqPktsFromEqe}, {256, kRxCqPktsFromEqe}},
    {{2, 256}, {8, 128}, {16, 64}, {32, 64}, {64, 64}},
};
constexpr DimCqModer kTxProfile[2][kNetDimParamsNumProfiles] = {
    {{1, kTxCqPktsFromEqe}, {8, kTxCqPktsFromEqe}, {32, kTxCqPktsFromEqe}, {64, kTxCqPktsFromEqe}, {128, kTxCqPktsFromEqe}},
    {{5, 128}, {8, 64}, {16, 32}, {32, 32}, {64, 32}},
};

DimCqModer pick(const DimCqModer (&table)[2][kNetDimParamsNumProfiles], DimCqPeriodMode mode, int ix) {
  const int m = mode == DimCqPeriodMode::StartFromCqe ? 1 : 0;
  const int i = ix < 0 ? 0 : ix >= kNetDimParamsNumProfiles ? kNetDimParamsNumProfiles - 1 : ix;
  DimCqModer c = table[m][i];
  c.cq_period_mode = static_cast<uint8_t>(mode);
  return c;
}

// IS_SIGNIFICANT_DIFF: more than 10 % apart (integer arithmetic, as the macro).
bool significant(int val, int ref) {
  if (ref == 0) return false;
  const unsigned long diff = 100UL * static_cast<unsigned long>(std::abs(val - ref));
  return diff / static_cast<unsigned long>(ref) > 10;
}

// DIV_ROUND_UP with the kernel's types: a 64-bit numerator (USEC_PER_MSEC is 1000L), a u32 divisor.
int div_round_up(uint64_t n, uint32_t d) { return static_cast<int>((n + d - 1) / d); }

void net_dim_exit_parking(Dim& dim) {
  dim.tune_state = dim.profile_ix != 0 ? DimTuneState::GoingLeft : DimTuneState::GoingRight;
  net_dim_step(dim);
}

}  // namespace

DimCqModer net_dim_get_rx_moderation(DimCqPeriodMode mode, int ix) { return pick(kRxProfile, mode, ix); }
DimCqModer net_dim_get_tx_moderation(DimCqPeriodMode mode, int ix) { return pick(kTxProfile, mode, ix); }
DimCqModer net_dim_get_def_rx_moderation(DimCqPeriodMode mode) {
  return net_dim_get_rx_moderation(mode, kNetDimDefProfile);
}
DimCqModer net_dim_get_def_tx_moderation(DimCqPeriodMode mode) {
  return net_dim_get_tx_moderation(mode, kNetDimDefProfile);
}

void dim_calc_stats(const DimSample& start, const DimSample& end, DimStats& curr) {
  // "u32 holds up to 71 minutes": ktime_us_delta truncated to u32; counters by BIT_GAP(32).
  const auto delta_us = static_cast<uint32_t>((end.time - start.time).ps() / 1'000'000);
  const uint32_t npkts = end.pkt_ctr - start.pkt_ctr;
  const uint32_t nbytes = end.byte_ctr - start.byte_ctr;
  const uint32_t ncomps = end.comp_ctr - start.comp_ctr;
  if (delta_us == 0) return;
  curr.ppms = div_round_up(uint64_t{npkts} * 1000, delta_us);
  curr.bpms = div_round_up(uint64_t{nbytes} * 1000, delta_us);
  curr.epms = div_round_up(uint64_t{kDimNevents} * 1000, delta_us);
  curr.cpms = div_round_up(uint64_t{ncomps} * 1000, delta_us);
  curr.cpe_ratio = curr.epms != 0 ? static_cast<int>(static_cast<uint64_t>(curr.cpms * 100) / static_cast<uint64_t>(curr.epms)) : 0;
}

DimStatsCompare net_dim_stats_compare(const DimStats& curr, const DimStats& prev) {
  // Throughput in bytes first, then packets; then fewer interrupts is better.
  if (prev.bpms == 0) return curr.bpms != 0 ? DimStatsCompare::Better : DimStatsCompare::Same;
  if (significant(curr.bpms, prev.bpms)) return curr.bpms > prev.bpms ? DimStatsCompare::Better : DimStatsCompare::Worse;
  if (prev.ppms == 0) return curr.ppms != 0 ? DimStatsCompare::Better : DimStatsCompare::Same;
  if (significant(curr.ppms, prev.ppms)) return curr.ppms > prev.ppms ? DimStatsCompare::Better : DimStatsCompare::Worse;
  if (prev.epms == 0) return DimStatsCompare::Same;
  if (significant(curr.epms, prev.epms)) return curr.epms < prev.epms ? DimStatsCompare::Better : DimStatsCompare::Worse;
  return DimStatsCompare::Same;
}

DimStepResult net_dim_step(Dim& dim) {
  if (dim.tired == kNetDimParamsNumProfiles * 2) return DimStepResult::TooTired;
  switch (dim.tune_state) {
    case DimTuneState::ParkingOnTop:
    case DimTuneState::ParkingTired:
      break;
    case DimTuneState::GoingRight:
      if (dim.profile_ix == kNetDimParamsNumProfiles - 1) return DimStepResult::OnEdge;
      ++dim.profile_ix;
      ++dim.steps_right;
      break;
    case DimTuneState::GoingLeft:
      if (dim.profile_ix == 0) return DimStepResult::OnEdge;
      --dim.profile_ix;
      ++dim.steps_left;
      break;
  }
  ++dim.tired;
  return DimStepResult::Stepped;
}

bool dim_on_top(const Dim& dim) {
  switch (dim.tune_state) {
    case DimTuneState::ParkingOnTop:
    case DimTuneState::ParkingTired:
      return true;
    case DimTuneState::GoingRight:
      return dim.steps_left > 1 && dim.steps_right == 1;
    case DimTuneState::GoingLeft:
      break;
  }
  return dim.steps_right > 1 && dim.steps_left == 1;
}

void dim_turn(Dim& dim) {
  switch (dim.tune_state) {
    case DimTuneState::ParkingOnTop:
    case DimTuneState::ParkingTired:
      break;
    case DimTuneState::GoingRight:
      dim.tune_state = DimTuneState::GoingLeft;
      dim.steps_left = 0;
      break;
    case DimTuneState::GoingLeft:
      dim.tune_state = DimTuneState::GoingRight;
      dim.steps_right = 0;
      break;
  }
}

void dim_park_on_top(Dim& dim) {
  dim.steps_right = 0;
  dim.steps_left = 0;
  dim.tired = 0;
  dim.tune_state = DimTuneState::ParkingOnTop;
}

void dim_park_tired(Dim& dim) {
  dim.steps_right = 0;
  dim.steps_left = 0;
  dim.tune_state = DimTuneState::ParkingTired;
}

bool net_dim_decision(const DimStats& curr, Dim& dim) {
  const DimTuneState prev_state = dim.tune_state;
  const uint8_t prev_ix = dim.profile_ix;
  switch (dim.tune_state) {
    case DimTuneState::ParkingOnTop:
      if (net_dim_stats_compare(curr, dim.prev_stats) != DimStatsCompare::Same) net_dim_exit_parking(dim);
      break;
    case DimTuneState::ParkingTired:
      --dim.tired;
      if (dim.tired == 0) net_dim_exit_parking(dim);
      break;
    case DimTuneState::GoingRight:
    case DimTuneState::GoingLeft: {
      if (net_dim_stats_compare(curr, dim.prev_stats) != DimStatsCompare::Better) dim_turn(dim);
      if (dim_on_top(dim)) {
        dim_park_on_top(dim);
        break;
      }
      switch (net_dim_step(dim)) {
        case DimStepResult::OnEdge: dim_park_on_top(dim); break;
        case DimStepResult::TooTired: dim_park_tired(dim); break;
        case DimStepResult::Stepped: break;
      }
      break;
    }
  }
  // The stats are kept unless it was parked on top and stays there.
  if (prev_state != DimTuneState::ParkingOnTop || dim.tune_state != DimTuneState::ParkingOnTop) dim.prev_stats = curr;
  return dim.profile_ix != prev_ix;
}

bool net_dim(Dim& dim, const DimSample& end_sample) {
  switch (dim.state) {
    case DimState::MeasureInProgress: {
      const auto nevents = static_cast<uint16_t>(end_sample.event_ctr - dim.start_sample.event_ctr);  // BIT_GAP(16)
      if (nevents < kDimNevents) return false;
      DimStats curr{};
      dim_calc_stats(dim.start_sample, end_sample, curr);
      if (net_dim_decision(curr, dim)) {
        dim.state = DimState::ApplyNewProfile;  // schedule_work(&dim->work)
        return true;
      }
      [[fallthrough]];
    }
    case DimState::StartMeasure:
      // dim_update_sample: the time (ktime_get: this sample's), packets, bytes, events; not comps.
      dim.start_sample.time = end_sample.time;
      dim.start_sample.pkt_ctr = end_sample.pkt_ctr;
      dim.start_sample.byte_ctr = end_sample.byte_ctr;
      dim.start_sample.event_ctr = end_sample.event_ctr;
      dim.state = DimState::MeasureInProgress;
      break;
    case DimState::ApplyNewProfile:
      break;
  }
  return false;
}

}  // namespace vnic::stack

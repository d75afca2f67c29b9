// Dynamic interrupt moderation (lib/dim/dim.c, lib/dim/net_dim.c, include/linux/dim.h of Linux
// 6.1): the algorithm behind `ethtool -C ethX adaptive-rx on` in drivers that use net_dim. The
// driver feeds it a sample (time, packets, bytes, interrupts) at the end of each NAPI poll; every
// DIM_NEVENTS (64) interrupts it compares the throughput since the last decision with the one
// before and walks a five-entry profile table (usec, frames) left or right, parking where it
// stops improving. When it picks a new profile it says so (Linux schedules dim->work, whose
// handler programs the device and sets state back to DIM_START_MEASURE): the caller does both.
//
// Pure: no clock of its own (samples carry their time), no allocation, deterministic.
#pragma once

#include <cstdint>

#include "vnic/model/units.hpp"

namespace vnic::stack {

// struct dim_cq_moder: one profile.
struct DimCqModer {
  uint16_t usec = 0;
  uint16_t pkts = 0;
  uint16_t comps = 0;
  uint8_t cq_period_mode = 0;
  constexpr bool operator==(const DimCqModer&) const = default;
};

// enum dim_cq_period_mode: whether the timer starts at the first event (EQE) or completion (CQE).
enum class DimCqPeriodMode : uint8_t { StartFromEqe = 0, StartFromCqe = 1 };

inline constexpr int kNetDimParamsNumProfiles = 5;  // NET_DIM_PARAMS_NUM_PROFILES
inline constexpr uint16_t kDimNevents = 64;          // DIM_NEVENTS
inline constexpr uint8_t kNetDimDefProfile = 1;      // NET_DIM_DEF_PROFILE_CQE / _EQE

// net_dim_get_rx_moderation / net_dim_get_tx_moderation: profile `ix` (0..4) of the tables.
DimCqModer net_dim_get_rx_moderation(DimCqPeriodMode mode, int ix);
DimCqModer net_dim_get_tx_moderation(DimCqPeriodMode mode, int ix);
// net_dim_get_def_rx_moderation / _tx_: profile 1 of the mode.
DimCqModer net_dim_get_def_rx_moderation(DimCqPeriodMode mode);
DimCqModer net_dim_get_def_tx_moderation(DimCqPeriodMode mode);

// struct dim_sample.
struct DimSample {
  model::Instant time{};
  uint32_t pkt_ctr = 0;
  uint32_t byte_ctr = 0;
  uint16_t event_ctr = 0;
  uint32_t comp_ctr = 0;
};

// struct dim_stats: per millisecond.
struct DimStats {
  int ppms = 0;       // packets
  int bpms = 0;       // bytes
  int epms = 0;       // events (interrupts)
  int cpms = 0;       // completions
  int cpe_ratio = 0;  // completions per event, x100
  constexpr bool operator==(const DimStats&) const = default;
};

enum class DimState : uint8_t { StartMeasure, MeasureInProgress, ApplyNewProfile };
enum class DimTuneState : uint8_t { ParkingOnTop, ParkingTired, GoingRight, GoingLeft };
enum class DimStatsCompare : uint8_t { Worse, Same, Better };
enum class DimStepResult : uint8_t { Stepped, TooTired, OnEdge };

// struct dim (a zeroed one, as drivers allocate it: start measuring, parked on top, profile 0;
// a driver may set profile_ix and mode before the first sample).
struct Dim {
  DimState state = DimState::StartMeasure;
  DimStats prev_stats{};
  DimSample start_sample{};
  uint8_t profile_ix = 0;
  DimCqPeriodMode mode = DimCqPeriodMode::StartFromEqe;
  DimTuneState tune_state = DimTuneState::ParkingOnTop;
  uint8_t steps_right = 0;
  uint8_t steps_left = 0;
  uint8_t tired = 0;
};

// net_dim: one sample. True when it chose a new profile (state is now ApplyNewProfile; Linux's
// schedule_work): the caller applies net_dim_get_*_moderation(dim.mode, dim.profile_ix) and sets
// dim.state = DimState::StartMeasure, as the drivers' dim work handlers do.
bool net_dim(Dim& dim, const DimSample& end_sample);

// The pieces, by their Linux names (public for tests).
// dim_calc_stats: the rates between two samples. A zero interval leaves `curr` as it was (6.1
// returns without writing it; its callers' stack value is then undefined: here it is whatever the
// caller passed, zeros by default).
void dim_calc_stats(const DimSample& start, const DimSample& end, DimStats& curr);
DimStatsCompare net_dim_stats_compare(const DimStats& curr, const DimStats& prev);
bool net_dim_decision(const DimStats& curr, Dim& dim);
DimStepResult net_dim_step(Dim& dim);
bool dim_on_top(const Dim& dim);
void dim_turn(Dim& dim);
void dim_park_on_top(Dim& dim);
void dim_park_tired(Dim& dim);

}  // namespace vnic::stack

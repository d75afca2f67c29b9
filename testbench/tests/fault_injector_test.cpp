// FaultInjector: deterministic per seed, bit-error statistics, exact every-Nth modes.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vnic/tb/fault_injector.hpp"

namespace {
using vnic::tb::FaultConfig;
using vnic::tb::FaultInjector;
using vnic::tb::FaultVerdict;

std::vector<uint8_t> run(const FaultConfig& c, int frames, std::size_t len, uint64_t stream = 0) {
  FaultInjector f(c, stream);
  std::vector<uint8_t> all;
  std::vector<uint8_t> frame(len);
  for (int i = 0; i < frames; ++i) {
    std::fill(frame.begin(), frame.end(), uint8_t{0});
    const FaultVerdict v = f.apply(frame);
    all.push_back(static_cast<uint8_t>(v));
    all.insert(all.end(), frame.begin(), frame.end());
  }
  return all;
}

TEST(FaultInjector, SameSeedSameFaultsOtherSeedOtherFaults) {
  FaultConfig c;
  c.bit_error_rate = 1e-4;
  c.drop_probability = 0.01;
  c.seed = 42;
  EXPECT_EQ(run(c, 2000, 1000), run(c, 2000, 1000));
  FaultConfig d = c;
  d.seed = 43;
  EXPECT_NE(run(c, 2000, 1000), run(d, 2000, 1000));
  EXPECT_NE(run(c, 2000, 1000, 0), run(c, 2000, 1000, 1));  // the two directions differ
}

TEST(FaultInjector, ObservedBitErrorRateMatchesTheConfiguredRate) {
  FaultConfig c;
  c.bit_error_rate = 1e-5;
  c.seed = 7;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(1500);
  uint64_t bits = 0, corrupted = 0;
  for (int i = 0; i < 20000; ++i) {
    if (f.apply(frame) == FaultVerdict::Corrupted) ++corrupted;
    bits += frame.size() * 8;
  }
  // Each flip toggles a bit of the reused buffer, so count flips from the stats.
  const double expect = static_cast<double>(bits) * c.bit_error_rate;  // 2400
  EXPECT_NEAR(static_cast<double>(f.stats().bits_flipped), expect, 4 * std::sqrt(expect));
  EXPECT_EQ(f.stats().frames_corrupted, corrupted);
  EXPECT_EQ(f.stats().frames_seen, 20000u);
}

TEST(FaultInjector, EveryNthModesAreExact) {
  FaultConfig c;
  c.drop_every = 10;
  c.corrupt_every = 7;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(64);
  for (int i = 1; i <= 700; ++i) {
    std::vector<uint8_t> before = frame;
    const FaultVerdict v = f.apply(frame);
    if (i % 10 == 0) {
      EXPECT_EQ(v, FaultVerdict::Drop) << i;
    } else if (i % 7 == 0) {
      EXPECT_EQ(v, FaultVerdict::Corrupted) << i;
      EXPECT_NE(before, frame);
    } else {
      EXPECT_EQ(v, FaultVerdict::Pass) << i;
      EXPECT_EQ(before, frame);
    }
  }
  EXPECT_EQ(f.stats().frames_dropped, 70u);
  EXPECT_EQ(f.stats().frames_corrupted, 100u - 10u);  // multiples of 70 are dropped first
}

TEST(FaultInjector, ZeroRatesNeverTouchAFrame) {
  FaultConfig c;
  FaultInjector f(c, 0);
  EXPECT_FALSE(f.active());
  std::vector<uint8_t> frame(1500, 0xAB);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(f.apply(frame), FaultVerdict::Pass);
  EXPECT_EQ(frame, std::vector<uint8_t>(1500, 0xAB));
  EXPECT_EQ(f.stats().bits_flipped, 0u);
}
}  // namespace

// FaultInjector: deterministic per seed, bit-error statistics, exact every-Nth modes.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "vnic/tb/fault_injector.hpp"

namespace {
using vnic::tb::FaultConfig;
using vnic::tb::FaultInjector;
using vnic::tb::FaultVerdict;
using vnic::tb::Xoshiro256;

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

TEST(FaultInjector, GeneratorIsXoshiro256StarStarSeededBySplitmix64) {
  // Reference values from an independent implementation of the published algorithms, so the
  // faults of a seed are the same with every compiler and standard library.
  Xoshiro256 a(0);
  EXPECT_EQ(a.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(a.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(a.next(), 0x1a5f849d4933e6e0ull);
  EXPECT_EQ(a.next(), 0x6aa594f1262d2d2cull);
  Xoshiro256 b(12345);
  EXPECT_EQ(b.next(), 0xbe6a36374160d49bull);
  EXPECT_EQ(b.next(), 0x214aaa0637a688c6ull);
  Xoshiro256 c(1);
  for (int i = 0; i < 10000; ++i) {
    const double u = c.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_LT(c.below(7), 7u);
  }
  EXPECT_EQ(c.below(0), 0u);
}

TEST(FaultInjector, FlippedBitCountsAreExactAndFramesMayTakeSeveral) {
  FaultConfig c;
  c.bit_error_rate = 1e-4;
  c.seed = 5;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(1000);
  const int n = 20000;
  uint64_t bits = 0, hit = 0, multi = 0, fcs_hit = 0;
  for (int i = 0; i < n; ++i) {
    std::fill(frame.begin(), frame.end(), uint8_t{0});
    const FaultVerdict v = f.apply(frame);
    uint64_t d = 0;
    for (uint8_t b : frame) d += static_cast<uint64_t>(std::popcount(b));
    EXPECT_EQ(v == FaultVerdict::Corrupted, d > 0) << i;
    bits += d;
    hit += d > 0 ? 1 : 0;
    multi += d > 1 ? 1 : 0;
    fcs_hit += std::any_of(frame.end() - 4, frame.end(), [](uint8_t b) { return b != 0; }) ? 1 : 0;
  }
  EXPECT_EQ(f.stats().bits_flipped, bits);
  EXPECT_EQ(f.stats().frames_corrupted, hit);
  // P(frame hit) = 1 - (1 - p)^8000 = 0.5507; the flips per frame are Binomial(8000, p).
  const double p_hit = 1.0 - std::pow(1.0 - c.bit_error_rate, 8000.0);
  EXPECT_NEAR(static_cast<double>(hit), n * p_hit, 5 * std::sqrt(n * p_hit * (1 - p_hit)));
  EXPECT_NEAR(static_cast<double>(bits), n * 0.8, 5 * std::sqrt(n * 0.8));
  EXPECT_GT(multi, 2000u);  // P(>= 2 flips) = 19 %: not capped at one flip a frame
  EXPECT_GT(fcs_hit, 0u);   // the FCS is on the wire too
}

TEST(FaultInjector, TinyRateStillMatchesOverManyFrames) {
  FaultConfig c;
  c.bit_error_rate = 1e-9;
  c.seed = 9;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(1518);
  for (int i = 0; i < 2'000'000; ++i) f.apply(frame);  // one draw per flip: fast
  const double expect = 2e6 * 1518 * 8 * 1e-9;      // 24.3
  EXPECT_NEAR(static_cast<double>(f.stats().bits_flipped), expect, 5 * std::sqrt(expect));
  EXPECT_GT(f.stats().bits_flipped, 0u);
}

TEST(FaultInjector, RateOneFlipsEveryBit) {
  FaultConfig c;
  c.bit_error_rate = 1.0;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(64, 0x00);
  EXPECT_EQ(f.apply(frame), FaultVerdict::Corrupted);
  EXPECT_EQ(frame, std::vector<uint8_t>(64, 0xFF));
  EXPECT_EQ(f.stats().bits_flipped, 512u);
}

TEST(FaultInjector, DropProbabilityMatchesAndDroppedFramesAreLeftAlone) {
  FaultConfig c;
  c.drop_probability = 0.25;
  c.bit_error_rate = 1e-3;
  c.seed = 17;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(100);
  uint64_t drops = 0;
  for (int i = 0; i < 40000; ++i) {
    std::fill(frame.begin(), frame.end(), uint8_t{0});
    if (f.apply(frame) == FaultVerdict::Drop) {
      ++drops;
      ASSERT_TRUE(std::all_of(frame.begin(), frame.end(), [](uint8_t b) { return b == 0; })) << i;
    }
  }
  EXPECT_EQ(f.stats().frames_dropped, drops);
  EXPECT_NEAR(static_cast<double>(drops), 10000.0, 5 * std::sqrt(40000 * 0.25 * 0.75));
  EXPECT_EQ(f.stats().frames_seen, 40000u);
}

TEST(FaultInjector, CorruptEveryNthDoesNotUndoABitError) {
  // One-byte frames at a 10 % bit error rate: a lone error is common, and a second flip of a
  // random bit would land on it an eighth of the time and leave the frame intact.
  FaultConfig c;
  c.bit_error_rate = 0.1;
  c.corrupt_every = 1;
  c.seed = 2;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(1);
  uint64_t bits = 0;
  for (int i = 0; i < 2000; ++i) {
    frame[0] = 0;
    ASSERT_EQ(f.apply(frame), FaultVerdict::Corrupted) << i;
    ASSERT_NE(frame[0], 0) << i;
    bits += static_cast<uint64_t>(std::popcount(frame[0]));
  }
  EXPECT_EQ(f.stats().frames_corrupted, 2000u);
  EXPECT_EQ(f.stats().bits_flipped, bits);
}

TEST(FaultInjector, ListedFramesAreDroppedExactlyAndChangeNoOtherDraw) {
  FaultConfig c;
  c.drop_frames = {1, 5, 6, 1000};
  FaultInjector f(c, 0);
  EXPECT_TRUE(f.active());
  std::vector<uint8_t> frame(64);
  for (uint64_t i = 1; i <= 1200; ++i) {
    const bool listed = i == 1 || i == 5 || i == 6 || i == 1000;
    EXPECT_EQ(f.apply(frame), listed ? FaultVerdict::Drop : FaultVerdict::Pass) << i;
  }
  EXPECT_EQ(f.stats().frames_dropped, 4u);
  // With a drop probability too, the listed frames do not move the other frames' draws.
  FaultConfig r;
  r.drop_probability = 0.3;
  r.seed = 11;
  FaultConfig rl = r;
  rl.drop_frames = {2, 3, 50};
  FaultInjector a(r, 0), b(rl, 0);
  for (uint64_t i = 1; i <= 500; ++i) {
    const FaultVerdict va = a.apply(frame), vb = b.apply(frame);
    if (i == 2 || i == 3 || i == 50) {
      EXPECT_EQ(vb, FaultVerdict::Drop) << i;
    } else {
      EXPECT_EQ(va, vb) << i;
    }
  }
}

TEST(FaultInjector, DuplicateAndHoldRatesMatchOver100kFramesAndRepeatPerSeed) {
  FaultConfig c;
  c.duplicate_rate = 0.01;
  c.reorder_rate = 0.05;
  c.seed = 31;
  auto draws = [](const FaultConfig& cfg, uint64_t stream) {
    FaultInjector f(cfg, stream);
    std::vector<uint8_t> frame(64), out;
    for (int i = 0; i < 100'000; ++i) {
      if (f.apply(frame) == FaultVerdict::Drop) continue;
      out.push_back(static_cast<uint8_t>((f.duplicate() ? 1 : 0) | (f.hold() ? 2 : 0)));
    }
    EXPECT_EQ(f.stats().frames_duplicated,
              static_cast<uint64_t>(std::count_if(out.begin(), out.end(), [](uint8_t v) { return v & 1; })));
    EXPECT_EQ(f.stats().frames_held,
              static_cast<uint64_t>(std::count_if(out.begin(), out.end(), [](uint8_t v) { return v & 2; })));
    return out;
  };
  const auto a = draws(c, 0);
  ASSERT_EQ(a.size(), 100'000u);
  const double dup = static_cast<double>(std::count_if(a.begin(), a.end(), [](uint8_t v) { return v & 1; }));
  const double held = static_cast<double>(std::count_if(a.begin(), a.end(), [](uint8_t v) { return v & 2; }));
  EXPECT_NEAR(dup, 1000.0, 5 * std::sqrt(1e5 * 0.01 * 0.99));
  EXPECT_NEAR(held, 5000.0, 5 * std::sqrt(1e5 * 0.05 * 0.95));
  EXPECT_EQ(a, draws(c, 0));  // the same seed, the same draws
  EXPECT_NE(a, draws(c, 1));  // the other direction its own
  FaultConfig d = c;
  d.seed = 32;
  EXPECT_NE(a, draws(d, 0));
}

TEST(FaultInjector, ReorderAndDuplicationMoveNoDropOrBitError) {
  // The drops and bit errors of a seed are the same with reordering and duplication on, and
  // duplication's draws the same with reordering on or off.
  FaultConfig base;
  base.drop_probability = 0.05;
  base.bit_error_rate = 1e-4;
  base.seed = 8;
  FaultConfig more = base;
  more.reorder_rate = 0.3;
  more.duplicate_rate = 0.2;
  FaultConfig dup_only = base;
  dup_only.duplicate_rate = 0.2;
  FaultInjector a(base, 0), b(more, 0), c(dup_only, 0);
  EXPECT_FALSE(FaultInjector(FaultConfig{}, 0).active());
  FaultConfig only_reorder;
  only_reorder.reorder_rate = 0.1;
  EXPECT_TRUE(FaultInjector(only_reorder, 0).active());
  std::vector<uint8_t> fa(500), fb(500), fc(500);
  for (int i = 0; i < 20'000; ++i) {
    std::fill(fa.begin(), fa.end(), uint8_t{0});
    fb = fa;
    fc = fa;
    const FaultVerdict va = a.apply(fa), vb = b.apply(fb), vc = c.apply(fc);
    ASSERT_EQ(va, vb) << i;
    ASSERT_EQ(va, vc) << i;
    ASSERT_EQ(fa, fb) << i;
    if (va == FaultVerdict::Drop) continue;
    EXPECT_FALSE(a.duplicate());  // rate 0: never, and no draw
    EXPECT_FALSE(a.hold());
    ASSERT_EQ(b.duplicate(), c.duplicate()) << i;
    b.hold();
  }
  EXPECT_EQ(a.stats().bits_flipped, b.stats().bits_flipped);
  EXPECT_GT(b.stats().frames_held, 0u);
}

TEST(FaultInjector, RateOneHoldsAndDuplicatesEveryFrame) {
  FaultConfig c;
  c.reorder_rate = 1.0;
  c.duplicate_rate = 1.0;
  FaultInjector f(c, 0);
  std::vector<uint8_t> frame(64);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(f.apply(frame), FaultVerdict::Pass);
    ASSERT_TRUE(f.duplicate());
    ASSERT_TRUE(f.hold());
  }
}
}  // namespace

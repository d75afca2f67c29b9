// Host descriptor ring index math: one slot kept empty, wrap-around, validity of sizes.
#include <gtest/gtest.h>

#include "vnic/model/host_ring.hpp"

namespace {
using namespace vnic::model;

TEST(HostRing, EmptyAtStartFullAtSizeMinusOne) {
  HostRing r(8);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.free(), 7u);
  EXPECT_TRUE(r.produce(7));
  EXPECT_TRUE(r.full());
  EXPECT_EQ(r.used(), 7u);
  EXPECT_FALSE(r.produce(1));  // one slot always stays empty
  EXPECT_EQ(r.tail(), 7u);
}

TEST(HostRing, RefusedOperationsChangeNothing) {
  HostRing r(16);
  EXPECT_TRUE(r.produce(5));
  EXPECT_FALSE(r.produce(11));
  EXPECT_EQ(r.tail(), 5u);
  EXPECT_FALSE(r.consume(6));
  EXPECT_EQ(r.head(), 0u);
  EXPECT_TRUE(r.consume(5));
  EXPECT_TRUE(r.empty());
}

TEST(HostRing, WrapsAroundForManyLaps) {
  HostRing r(8);
  uint64_t produced = 0, consumed = 0;
  for (int step = 0; step < 10000; ++step) {
    const uint32_t n = static_cast<uint32_t>(step % 5);
    if (r.produce(n)) produced += n;
    const uint32_t m = static_cast<uint32_t>((step * 7) % 4);
    if (r.consume(m)) consumed += m;
    ASSERT_EQ(r.used(), produced - consumed);
    ASSERT_EQ(r.tail(), produced % 8);
    ASSERT_EQ(r.head(), consumed % 8);
  }
}

TEST(HostRing, UsedAndFreeForEveryHeadTailPair) {
  const RingIndex ri(8);
  for (uint32_t h = 0; h < 8; ++h) {
    for (uint32_t t = 0; t < 8; ++t) {
      EXPECT_EQ(ri.used(h, t), (t + 8 - h) % 8);
      EXPECT_EQ(ri.used(h, t) + ri.free(h, t), 7u);
      EXPECT_EQ(ri.empty(h, t), h == t);
      EXPECT_EQ(ri.full(h, t), (t + 1) % 8 == h);
    }
  }
  EXPECT_EQ(ri.next(7), 0u);
  EXPECT_EQ(ri.add(6, 5), 3u);
  EXPECT_TRUE(ri.in_range(7));
  EXPECT_FALSE(ri.in_range(8));
}

TEST(HostRing, ValidSizes) {
  auto ok = [](uint32_t s) { return RingIndex::is_valid_size(s, 8, 4096); };
  EXPECT_FALSE(ok(0));
  EXPECT_FALSE(ok(1));
  EXPECT_FALSE(ok(4));
  EXPECT_FALSE(ok(7));
  EXPECT_TRUE(ok(8));
  EXPECT_FALSE(ok(12));
  EXPECT_TRUE(ok(4096));
  EXPECT_FALSE(ok(8192));
}
}  // namespace

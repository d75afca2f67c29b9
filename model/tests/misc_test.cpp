// Units, MAC addresses and the multicast hash, and the frame pool.
#include <gtest/gtest.h>

#include <random>

#include "vnic/model/crc32.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/mac_addr.hpp"
#include "vnic/model/units.hpp"

namespace {
using namespace vnic::model;

TEST(Units, WireTimesAreExactAtEveryRate) {
  EXPECT_EQ(BitRate::gbps(10).time_for_bytes(1538).ps(), 1'230'400);
  EXPECT_EQ(BitRate::gbps(10).time_for_bytes(84).ps(), 67'200);
  EXPECT_EQ(BitRate::gbps(1).time_for_bytes(84).ps(), 672'000);
  EXPECT_EQ(BitRate::gbps(25).time_for_bytes(84).ps(), 26'880);
  EXPECT_EQ(BitRate::gbps(40).time_for_bytes(84).ps(), 16'800);
  EXPECT_EQ(BitRate::gbps(100).time_for_bytes(1538).ps(), 123'040);
  EXPECT_EQ(BitRate::bps(3).time_for_bytes(1).ps(), 2'666'666'666'667);  // rounds up
  EXPECT_EQ(BitRate{}.time_for_bytes(100).ps(), 0);
  // No overflow for large counts.
  EXPECT_EQ(BitRate::gbps(100).time_for_bytes(1'000'000'000'000ull).ps(), 80'000'000'000'000);
}

TEST(Units, DurationAndInstantArithmetic) {
  const Instant t0 = Instant::from_ps(1000);
  const Instant t1 = t0 + Duration::ns(5);
  EXPECT_EQ((t1 - t0).ps(), 5000);
  EXPECT_LT(t0, t1);
  EXPECT_EQ(Duration::us(1), Duration::ns(1000));
  EXPECT_EQ((Duration::ms(2) / 4).ps(), 500'000'000);
  EXPECT_DOUBLE_EQ(Duration::us(3).us_f(), 3.0);
}

TEST(MacAddr, ParseFormatAndBits) {
  const auto m = MacAddr::parse("02:1A:ff:00:10:9b");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->str(), "02:1a:ff:00:10:9b");
  EXPECT_TRUE(m->is_unicast());
  EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  for (const char* bad : {"", "02:00:00:00:00", "02-00-00-00-00-01", "0g:00:00:00:00:01", "02:00:00:00:00:011"}) {
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
  }
  EXPECT_EQ(m->lo_word(), 0x00FF1A02u);
  EXPECT_EQ(m->hi_word(), 0x9B10u);
  EXPECT_EQ(MacAddr::from_words(m->lo_word(), m->hi_word()), *m);
}

TEST(MacAddr, MulticastHashIsTheTopSixBitsOfTheCrc) {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 1000; ++i) {
    MacAddr a;
    for (auto& b : a.b) b = static_cast<uint8_t>(rng());
    const unsigned idx = mc_hash_index(a);
    EXPECT_LT(idx, 64u);
    EXPECT_EQ(idx, crc32_zlib(a.b) >> 26);
  }
}

TEST(FramePool, ReusesBuffersAndCountsUse) {
  FramePool pool(2048);
  {
    Frame a = pool.alloc(100);
    Frame b = pool.alloc(1514);
    EXPECT_EQ(pool.in_use(), 2u);
    EXPECT_EQ(a.size(), 100u);
    EXPECT_GE(b.capacity(), 2048u);
  }
  EXPECT_EQ(pool.in_use(), 0u);
  for (int i = 0; i < 1000; ++i) {
    Frame f = pool.alloc(60);
    Frame g = pool.alloc(60);
  }
  EXPECT_EQ(pool.buffers(), 2u);  // steady state allocates nothing new
  EXPECT_FALSE(pool.alloc(4096));  // above capacity: empty frame
}

TEST(FramePool, MoveResizeAppendCopy) {
  FramePool pool(64);
  Frame a = pool.copy_of(std::vector<uint8_t>{1, 2, 3});
  Frame b = std::move(a);
  EXPECT_FALSE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.bytes()[2], 3);
  EXPECT_TRUE(b.append(std::vector<uint8_t>{4, 5}));
  EXPECT_EQ(b.size(), 5u);
  EXPECT_FALSE(b.resize(65));
  EXPECT_EQ(b.size(), 5u);
  EXPECT_FALSE(b.append(std::vector<uint8_t>(60, 0)));
  EXPECT_EQ(b.size(), 5u);
  b.release();
  EXPECT_EQ(pool.in_use(), 0u);
}
}  // namespace

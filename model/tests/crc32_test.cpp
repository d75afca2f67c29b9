// CRC-32/FCS: check value, residue, single-bit detection, isa-l vs zlib agreement, chaining.
#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

#include "vnic/model/bytes.hpp"
#include "vnic/model/crc32.hpp"

namespace {
using namespace vnic::model;

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32, CheckValueOf123456789) {
  EXPECT_EQ(crc32_ieee(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_zlib(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee({}), 0u);
}

TEST(Crc32, FrameFollowedByItsFcsChecksToTheResidue) {
  std::vector<uint8_t> f(64);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i * 31 + 7);
  write_fcs(f);
  // FCS is least significant byte first.
  const uint32_t crc = crc32_ieee(std::span<const uint8_t>(f).first(60));
  EXPECT_EQ(f[60], crc & 0xFF);
  EXPECT_EQ(f[63], crc >> 24);
  EXPECT_EQ(crc32_ieee(f), kCrcResidue);
  EXPECT_EQ(crc32_zlib(f), 0x2144DF1Cu);
  EXPECT_TRUE(fcs_ok(f));
}

TEST(Crc32, EverySingleBitFlipIsDetected) {
  std::vector<uint8_t> f(64);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<uint8_t>(i ^ 0x5A);
  write_fcs(f);
  for (std::size_t bit = 0; bit < f.size() * 8; ++bit) {
    f[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(fcs_ok(f)) << "bit " << bit;
    f[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  EXPECT_TRUE(fcs_ok(f));
  std::vector<uint8_t> big(1518);
  std::mt19937_64 rng(3);
  for (auto& b : big) b = static_cast<uint8_t>(rng());
  write_fcs(big);
  for (std::size_t bit = 0; bit < big.size() * 8; bit += 97) {
    big[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(fcs_ok(big)) << "bit " << bit;
    big[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

TEST(Crc32, IsalAndZlibAgreeOnTenThousandRandomFrames) {
  std::mt19937_64 rng(20261125);
  std::vector<uint8_t> buf(9018);
  for (int n = 0; n < 10000; ++n) {
    const std::size_t len = 1 + rng() % 9018;
    for (std::size_t i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(rng());
    const std::span<const uint8_t> s(buf.data(), len);
    ASSERT_EQ(crc32_ieee(s), crc32_zlib(s)) << "frame " << n << " of " << len << " bytes";
  }
}

TEST(Crc32, ChainingEqualsOneShot) {
  const auto all = as_bytes("the quick brown fox jumps over the lazy dog");
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    EXPECT_EQ(crc32_ieee(all.subspan(cut), crc32_ieee(all.first(cut))), crc32_ieee(all));
    EXPECT_EQ(crc32_zlib(all.subspan(cut), crc32_zlib(all.first(cut))), crc32_zlib(all));
  }
}

TEST(Crc32, ShortInputsAreNotGoodFrames) {
  std::vector<uint8_t> three(3, 0);
  EXPECT_FALSE(fcs_ok(three));
  write_fcs(three);  // too short to hold an FCS: unchanged, no crash
  EXPECT_EQ(three, std::vector<uint8_t>(3, 0));
}
}  // namespace

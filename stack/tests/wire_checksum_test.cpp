// Tests of the Internet checksum: RFC 1071's worked example and properties, known headers, and
// RFC 1624's incremental update.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "vnic/stack/wire/checksum.hpp"

namespace vnic::stack::wire {
namespace {

// The textbook loop, one 16-bit word at a time, folded at every step: the reference.
uint16_t reference_sum(std::span<const uint8_t> b) {
  uint32_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    s += static_cast<uint32_t>(b[i]) << 8 | (i + 1 < b.size() ? b[i + 1] : 0u);
    s = (s & 0xFFFFu) + (s >> 16);
  }
  return static_cast<uint16_t>(s);
}

std::vector<uint8_t> pseudo_random_bytes(std::size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<uint8_t>(seed >> 24);
  }
  return v;
}

// RFC 1071 3: the numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (the carries
// 0x2ddf0 folded), so the checksum is its complement 220d.
TEST(WireChecksum, Rfc1071WorkedExample) {
  const std::array<uint8_t, 8> b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  InternetChecksum c;
  c.add(b);
  EXPECT_EQ(c.sum(), 0xddf2);
  EXPECT_EQ(c.checksum(), 0x220d);
  EXPECT_EQ(internet_checksum(b), 0x220d);
}

// RFC 1071 2(B): byte-order independence: the same bytes swapped pairwise sum to the swapped sum.
TEST(WireChecksum, Rfc1071ByteOrderIndependence) {
  const std::array<uint8_t, 8> swapped{0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6};
  EXPECT_EQ(InternetChecksum{}.add(swapped).sum(), 0xf2dd);
}

// RFC 1071 1: an odd final byte is padded with a zero octet on the right.
TEST(WireChecksum, OddLengthPadsWithZero) {
  const std::array<uint8_t, 3> odd{0x12, 0x34, 0x56};
  const std::array<uint8_t, 4> padded{0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(InternetChecksum{}.add(odd).sum(), InternetChecksum{}.add(padded).sum());
  EXPECT_EQ(InternetChecksum{}.add(odd).sum(), 0x1234 + 0x5600);
}

TEST(WireChecksum, EmptyDataSumsToZero) {
  EXPECT_EQ(InternetChecksum{}.sum(), 0);
  EXPECT_EQ(internet_checksum({}), 0xFFFF);
  EXPECT_FALSE(checksum_ok({}));  // Linux's ip_fast_csum answers non-zero too: no data cannot check
}

// The accumulator takes the data in pieces of any length, odd ones included, and gives the sum
// of the whole (what a pseudo-header followed by a segment needs).
TEST(WireChecksum, AnySplitGivesTheSameSum) {
  const auto data = pseudo_random_bytes(67, 7);
  const uint16_t whole = reference_sum(data);
  ASSERT_EQ(InternetChecksum{}.add(data).sum(), whole);
  const std::span<const uint8_t> d(data);
  for (std::size_t i = 0; i <= d.size(); ++i) {
    for (std::size_t j = i; j <= d.size(); ++j) {
      InternetChecksum c;
      c.add(d.first(i)).add(d.subspan(i, j - i)).add(d.subspan(j));
      ASSERT_EQ(c.sum(), whole) << "split at " << i << " and " << j;
    }
  }
}

TEST(WireChecksum, MatchesTheReferenceOnEveryLength) {
  for (std::size_t n = 0; n < 300; ++n) {
    const auto data = pseudo_random_bytes(n, static_cast<uint32_t>(n) + 1);
    ASSERT_EQ(InternetChecksum{}.add(data).sum(), reference_sum(data)) << n << " bytes";
  }
  const std::vector<uint8_t> ones(65536 + 3, 0xFF);  // the most carries
  EXPECT_EQ(InternetChecksum{}.add(ones).sum(), reference_sum(ones));
}

// add16/add32 are the same as adding the field's big-endian bytes, at even and odd offsets.
TEST(WireChecksum, NumbersAreAddedAsTheirBigEndianBytes) {
  const std::array<uint8_t, 7> bytes{0xAB, 0xC0, 0xA8, 0x01, 0x0A, 0x00, 0x11};
  const std::span<const uint8_t> b(bytes);
  InternetChecksum by_bytes;
  by_bytes.add(b);
  InternetChecksum by_numbers;
  by_numbers.add(b.first(1)).add32(0xC0A8010A).add16(0x0011);  // the numbers start at an odd offset
  EXPECT_EQ(by_numbers.sum(), by_bytes.sum());
  InternetChecksum even;
  even.add32(0xC0A8010A).add16(0x0011);
  EXPECT_EQ(even.sum(), reference_sum(b.subspan(1)));
}

// A widely published IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) and its checksum b861.
TEST(WireChecksum, KnownIpv4Header) {
  std::array<uint8_t, 20> h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_TRUE(checksum_ok(h));  // RFC 1071 1(3): the sum over the header, checksum included, is all ones
  h[10] = h[11] = 0;
  EXPECT_EQ(internet_checksum(h), 0xb861);
  h[15] = 0x02;  // one bit changed: no longer checks
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_FALSE(checksum_ok(h));
}

TEST(WireChecksum, AllZeroDataNeverChecks) {
  const std::array<uint8_t, 20> zeros{};
  EXPECT_FALSE(checksum_ok(zeros));
  EXPECT_EQ(internet_checksum(zeros), 0xFFFF);
}

// RFC 1624 3: its example: m = 0x5555 becomes 0x3285, the rest sums to 0xCD7A, HC = 0xDD2F;
// recomputation gives 0x0000, and so does eqn. 3 (eqn. 2 would give 0xFFFF, -0).
TEST(WireChecksum, Rfc1624Example) {
  EXPECT_EQ(checksum_adjust(0xDD2F, 0x5555, 0x3285), 0x0000);
  EXPECT_EQ(static_cast<uint16_t>(~fold(0xCD7Au + 0x3285u)), 0x0000);
}

// RFC 1624 eqn. 3 agrees with a full recomputation for every word of a header and many values.
TEST(WireChecksum, IncrementalUpdateEqualsRecomputation) {
  auto h = pseudo_random_bytes(20, 99);
  h[10] = h[11] = 0;
  const uint16_t hc = internet_checksum(h);
  for (std::size_t word = 0; word < 10; ++word) {
    if (word == 5) continue;  // the checksum field itself
    for (uint32_t v = 0; v < 0x10000; v += 251) {
      auto changed = h;
      const uint16_t old_word = static_cast<uint16_t>(h[2 * word] << 8 | h[2 * word + 1]);
      changed[2 * word] = static_cast<uint8_t>(v >> 8);
      changed[2 * word + 1] = static_cast<uint8_t>(v);
      ASSERT_EQ(checksum_adjust(hc, old_word, static_cast<uint16_t>(v)), internet_checksum(changed))
          << "word " << word << " value " << v;
    }
  }
}

// A 32-bit field (an address rewritten by NAT) updated through both halves.
TEST(WireChecksum, IncrementalUpdateOf32BitField) {
  auto h = pseudo_random_bytes(20, 5);
  h[10] = h[11] = 0;
  const uint16_t hc = internet_checksum(h);
  auto changed = h;
  const uint32_t old_src = uint32_t{h[12]} << 24 | uint32_t{h[13]} << 16 | uint32_t{h[14]} << 8 | h[15];
  const uint32_t new_src = 0x0A000001;
  changed[12] = 10, changed[13] = 0, changed[14] = 0, changed[15] = 1;
  EXPECT_EQ(checksum_adjust32(hc, old_src, new_src), internet_checksum(changed));
}

// Where eqn. 3 and a recomputation differ: the new data is all zeros (0x0000 against 0xFFFF, the
// same number); both verify, as the header is then never real.
TEST(WireChecksum, IncrementalUpdateToAllZeros) {
  std::array<uint8_t, 4> d{0x12, 0x34, 0x00, 0x00};
  const uint16_t hc = internet_checksum(d);
  EXPECT_EQ(checksum_adjust(hc, 0x1234, 0x0000), 0x0000);
  d[0] = d[1] = 0;
  EXPECT_EQ(internet_checksum(d), 0xFFFF);
}

}  // namespace
}  // namespace vnic::stack::wire

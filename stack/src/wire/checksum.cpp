// The Internet checksum's summing loop (RFC 1071).
#include "vnic/stack/wire/checksum.hpp"

#include "vnic/stack/wire/endian.hpp"

namespace vnic::stack::wire {

namespace {

// The sum of `b` as big-endian 16-bit words from its first byte, unfolded. Eight bytes a step,
// as two 32-bit words: a 32-bit word's value is congruent to the sum of its halves modulo
// 0xFFFF (2^16 = 1 there), so folding later gives the same result; a 64-bit accumulator
// cannot overflow on anything shorter than 16 GiB.
uint64_t sum_words(std::span<const uint8_t> b) {
  uint64_t s = 0;
  std::size_t i = 0;
  const std::size_t n = b.size();
  for (; i + 8 <= n; i += 8) s += uint64_t{load_be32(b, i)} + load_be32(b, i + 4);
  for (; i + 2 <= n; i += 2) s += load_be16(b, i);
  if (i < n) s += uint64_t{b[i]} << 8;  // the odd last byte, padded with a zero octet
  return s;
}

}  // namespace

InternetChecksum& InternetChecksum::add(std::span<const uint8_t> bytes) {
  const uint64_t s = sum_words(bytes);
  acc_ += odd_ ? swap16(fold(s)) : s;
  if (bytes.size() % 2 != 0) odd_ = !odd_;
  return *this;
}

uint16_t internet_checksum(std::span<const uint8_t> bytes) { return InternetChecksum{}.add(bytes).checksum(); }

bool checksum_ok(std::span<const uint8_t> bytes) { return InternetChecksum{}.add(bytes).verifies(); }

}  // namespace vnic::stack::wire

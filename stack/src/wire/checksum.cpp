// The Internet checksum's summing loop (RFC 1071).
#include "vnic/stack/wire/checksum.hpp"

#include <bit>
#include <cstring>

#include "vnic/stack/wire/endian.hpp"

namespace vnic::stack::wire {

namespace {

// The sum of `b` as big-endian 16-bit words from its first byte, folded to 16 bits. RFC 1071
// 2(B): the one's complement sum does not depend on byte order, so the words are summed in the
// host's order, eight bytes a load, and the folded result is swapped once at the end (on a
// little-endian host). Each 8-byte load adds as its two 32-bit halves: a 32-bit word is
// congruent to the sum of its 16-bit halves modulo 0xFFFF (2^16 = 1 there), and the 64-bit
// accumulator cannot overflow on anything shorter than 16 GiB. Linux's csum_partial is the same
// idea (do_csum in lib/checksum.c, and x86's unrolled add-with-carry loop).
uint64_t sum_words(std::span<const uint8_t> b) {
  const uint8_t* p = b.data();
  std::size_t n = b.size();
  uint64_t s0 = 0, s1 = 0;
  for (; n >= 16; n -= 16, p += 16) {  // two independent accumulators
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    s0 += (w0 & 0xFFFF'FFFFu) + (w0 >> 32);
    s1 += (w1 & 0xFFFF'FFFFu) + (w1 >> 32);
  }
  uint64_t s = s0 + s1;
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    s += (w & 0xFFFF'FFFFu) + (w >> 32);
    p += 8;
    n -= 8;
  }
  for (; n >= 2; n -= 2, p += 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    s += w;
  }
  // The odd last byte, padded with a zero octet: the high byte of a big-endian word.
  if (n != 0) s += std::endian::native == std::endian::little ? uint64_t{p[0]} : uint64_t{p[0]} << 8;
  const uint16_t folded = fold(s);
  return std::endian::native == std::endian::little ? swap16(folded) : folded;
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

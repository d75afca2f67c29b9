// The Internet checksum (RFC 1071) in one place: an accumulator over any number of spans (a
// pseudo-header and a segment), verification, and incremental update (RFC 1624).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vnic::stack::wire {

// Whether a parser verifies a checksum. Skip is for bytes a device already verified (Linux's
// CHECKSUM_UNNECESSARY) or that we built ourselves; untrusted bytes are always verified.
enum class ChecksumCheck : uint8_t { Verify, Skip };

constexpr uint16_t swap16(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }

// Folds a wide sum into 16 bits with end-around carries (RFC 1071 2(C)). The result is 0 only
// when the sum is 0, i.e. every summed word was 0.
constexpr uint16_t fold(uint64_t s) {
  s = (s & 0xFFFFFFFFu) + (s >> 32);
  s = (s & 0xFFFFu) + (s >> 16);
  s = (s & 0xFFFFu) + (s >> 16);
  s = (s & 0xFFFFu) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// The one's-complement sum of a byte stream taken as big-endian 16-bit words, with a final odd
// byte padded by a zero octet (RFC 1071 1). The stream may arrive in pieces of any length: a
// piece that starts at an odd offset is summed as if even and byte-swapped, which is exact
// because the one's-complement sum does not depend on byte order (RFC 1071 2(B)).
class InternetChecksum {
 public:
  InternetChecksum& add(std::span<const uint8_t> bytes);
  // A 16- or 32-bit field given as a number (an address, a length): the same as adding its
  // big-endian bytes.
  constexpr InternetChecksum& add16(uint16_t w) {
    acc_ += odd_ ? swap16(w) : w;
    return *this;
  }
  constexpr InternetChecksum& add32(uint32_t w) {
    add16(static_cast<uint16_t>(w >> 16));
    return add16(static_cast<uint16_t>(w));
  }

  // The folded sum; over data that includes a correct checksum field it is 0xFFFF.
  constexpr uint16_t sum() const { return fold(acc_); }
  // The value for the checksum field: the complement of the sum (RFC 1071 1(2)).
  constexpr uint16_t checksum() const { return static_cast<uint16_t>(~sum()); }
  // True when the data summed so far includes its checksum field and checks (RFC 1071 1(3)).
  constexpr bool verifies() const { return sum() == 0xFFFF; }

 private:
  uint64_t acc_ = 0;
  bool odd_ = false;  // an odd number of bytes added so far
};

// The checksum field value for `bytes` (whose checksum field, if inside, must be zero).
uint16_t internet_checksum(std::span<const uint8_t> bytes);
// True when `bytes`, checksum field included, sum to 0xFFFF (RFC 1071 1(3)).
bool checksum_ok(std::span<const uint8_t> bytes);

// RFC 1624 3, eqn. 3: the new checksum when one 16-bit word of the summed data changes from
// `old_word` to `new_word`, without summing the data again: HC' = ~(~HC + ~m + m'). It equals
// a recomputation except when the new data is all zeros (then a recomputation gives 0xFFFF and
// this 0x0000, the same number in one's complement); unlike eqn. 2 it never yields -0 (0xFFFF)
// for a valid header.
constexpr uint16_t checksum_adjust(uint16_t hc, uint16_t old_word, uint16_t new_word) {
  const uint64_t s = uint64_t{static_cast<uint16_t>(~hc)} + static_cast<uint16_t>(~old_word) + new_word;
  return static_cast<uint16_t>(~fold(s));
}
// The same for a 32-bit field (an address rewritten by NAT): its two halves in turn.
constexpr uint16_t checksum_adjust32(uint16_t hc, uint32_t old_word, uint32_t new_word) {
  hc = checksum_adjust(hc, static_cast<uint16_t>(old_word >> 16), static_cast<uint16_t>(new_word >> 16));
  return checksum_adjust(hc, static_cast<uint16_t>(old_word), static_cast<uint16_t>(new_word));
}

}  // namespace vnic::stack::wire

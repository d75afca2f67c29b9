// UDP (RFC 768) on the wire: a checked view over a datagram's bytes, the IPv4 pseudo-header
// checksum, and a Repr with parse()/emit() (the smoltcp style of the other wire formats).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/result.hpp"

namespace vnic::stack::wire {

inline constexpr std::size_t kUdpHeaderLen = 8;
inline constexpr uint8_t kIpprotoUdp = 17;
// The largest payload one IPv4 datagram carries: 65535 - 20 (IP) - 8 (UDP).
inline constexpr std::size_t kUdpMaxPayload = 65507;

// Why __udp4_lib_rcv refuses a datagram, in its order.
enum class UdpError : uint8_t {
  Truncated,    // fewer than 8 bytes: no header (InErrors, NOT_SPECIFIED)
  BadLength,    // the length field is above the bytes there or below 8 (InErrors, PKT_TOO_SMALL)
  BadChecksum,  // a non-zero checksum that does not verify (InCsumErrors + InErrors, UDP_CSUM)
};
std::string_view name(UdpError e);

// The pseudo-header sum of RFC 768 (source, destination, zero, protocol 17, UDP length) plus the
// datagram's bytes; `udp` is the header and payload (its checksum field as it is).
InternetChecksum udp_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp);
// The value for the checksum field of `udp` (whose field must be zero): 0 is sent as 0xFFFF
// (RFC 768: an all-zero result is transmitted as all ones, since 0 means "no checksum").
uint16_t udp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp);
// A received checksum: true if it is 0 (none, allowed on IPv4) or verifies.
bool udp_checksum_ok(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> udp);

template <typename Byte>
class BasicUdpPacket {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);

 public:
  // __udp4_lib_rcv's checks: 8 header bytes, then 8 <= length <= the bytes there. The view
  // spans `length` bytes (the trailing bytes beyond it are link padding, pskb_trim_rcsum's).
  // The checksum is a separate step (verify()), because Linux may defer it to recvmsg.
  static constexpr Result<BasicUdpPacket, UdpError> checked(std::span<Byte> b) {
    if (b.size() < kUdpHeaderLen) return Err{UdpError::Truncated};
    const uint16_t len = load_be16(b, 4);
    if (len > b.size() || len < kUdpHeaderLen) return Err{UdpError::BadLength};
    return BasicUdpPacket(b.first(len));
  }
  constexpr uint16_t src_port() const { return load_be16(b_, 0); }
  constexpr uint16_t dst_port() const { return load_be16(b_, 2); }
  constexpr uint16_t length() const { return load_be16(b_, 4); }
  constexpr uint16_t checksum() const { return load_be16(b_, 6); }
  constexpr std::span<Byte> payload() const { return b_.subspan(kUdpHeaderLen); }
  constexpr std::span<Byte> bytes() const { return b_; }
  bool verify(Ipv4Addr src, Ipv4Addr dst) const { return udp_checksum_ok(src, dst, b_); }

 private:
  constexpr explicit BasicUdpPacket(std::span<Byte> b) : b_(b) {}
  std::span<Byte> b_;
};
using UdpPacket = BasicUdpPacket<const uint8_t>;
using UdpPacketMut = BasicUdpPacket<uint8_t>;

// A UDP header as plain fields.
struct UdpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t payload_len = 0;

  // The header of `b` (checked() then, with Verify, the checksum against the pseudo-header).
  static Result<UdpRepr, UdpError> parse(std::span<const uint8_t> b, Ipv4Addr src, Ipv4Addr dst,
                                         ChecksumCheck check = ChecksumCheck::Verify);
  constexpr std::size_t total_len() const { return kUdpHeaderLen + payload_len; }
  // Writes the header into `b` (at least total_len() bytes, the payload already in place after
  // the header) with the checksum over the pseudo-header (`checksum` false: 0, no checksum).
  void emit(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, bool checksum = true) const;
};

}  // namespace vnic::stack::wire

// TCP (RFC 9293) on the wire: a checked view over a segment's bytes, the options as Linux 6.1's
// tcp_parse_options reads them (RFC 9293 3.1, RFC 7323, RFC 2018), the IPv4 pseudo-header
// checksum, and a Repr whose emit() lays options out as tcp_options_write does (so a pcap looks
// like Linux's). The first piece of part 3a; the protocol itself (tcp_input.cpp, ...) comes next.
#pragma once

#include <array>
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

inline constexpr std::size_t kTcpHeaderLen = 20;
inline constexpr std::size_t kTcpMaxOptionsLen = 40;
inline constexpr uint8_t kIpprotoTcp = 6;

// The flags byte (RFC 9293 3.1; CWR/ECE from RFC 3168).
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10,
                         kTcpUrg = 0x20, kTcpEce = 0x40, kTcpCwr = 0x80;

// Option kinds and lengths (include/net/tcp.h).
inline constexpr uint8_t kTcpOptEol = 0, kTcpOptNop = 1, kTcpOptMss = 2, kTcpOptWindow = 3, kTcpOptSackPerm = 4,
                         kTcpOptSack = 5, kTcpOptTimestamp = 8;
inline constexpr uint8_t kTcpOlenMss = 4, kTcpOlenWindow = 3, kTcpOlenSackPerm = 2, kTcpOlenTimestamp = 10,
                         kTcpOlenSackBase = 2, kTcpOlenSackPerBlock = 8;
inline constexpr uint8_t kTcpMaxWscale = 14;  // TCP_MAX_WSCALE (RFC 7323 2.3)
inline constexpr std::size_t kTcpMaxSackBlocks = 4;

// Why tcp_v4_rcv refuses a segment before looking for its socket, in its order.
enum class TcpError : uint8_t {
  Truncated,         // fewer than 20 bytes (discard_it: no counter)
  BadDataOffset,     // doff < 5 (bad_packet: InErrs, PKT_TOO_SMALL)
  TruncatedOptions,  // doff * 4 beyond the bytes there (discard_it: no counter)
  BadChecksum,       // does not verify (csum_error: InCsumErrors + InErrs, TCP_CSUM)
};
std::string_view name(TcpError e);

struct TcpSackBlock {
  uint32_t start = 0, end = 0;
  constexpr bool operator==(const TcpSackBlock&) const = default;
};

// What the options area says, read as tcp_parse_options reads it: EOL ends it, NOP is skipped,
// an option with a length below 2 or beyond the area ends it ("silly options", "partial
// options"), and a known kind with the wrong length is ignored. Whether an option counts (MSS,
// window scale and SACK-permitted only on a SYN, the sysctls) is the protocol's business.
struct TcpOptions {
  uint16_t mss = 0;             // 0: none
  bool has_wscale = false;
  uint8_t wscale = 0;           // as sent (the protocol clamps it to 14)
  bool sack_permitted = false;
  bool has_timestamp = false;
  uint32_t tsval = 0, tsecr = 0;
  std::array<TcpSackBlock, kTcpMaxSackBlocks> sack{};
  uint8_t num_sack = 0;
  uint8_t unknown = 0;          // other kinds seen with a sane length (saw_unknown)
  constexpr bool operator==(const TcpOptions&) const = default;
};
TcpOptions tcp_parse_options(std::span<const uint8_t> area);

// The pseudo-header sum (source, destination, zero, protocol 6, TCP length) plus the segment.
InternetChecksum tcp_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> tcp);
// The checksum field's value for `tcp` (its field zero). Unlike UDP, 0 is sent as 0.
uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, std::span<const uint8_t> tcp);

template <typename Byte>
class BasicTcpPacket {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);

 public:
  // tcp_v4_rcv's checks before the checksum: the fixed header, doff >= 5, the options there.
  static constexpr Result<BasicTcpPacket, TcpError> checked(std::span<Byte> b) {
    if (b.size() < kTcpHeaderLen) return Err{TcpError::Truncated};
    const std::size_t doff = b[12] >> 4;
    if (doff < kTcpHeaderLen / 4) return Err{TcpError::BadDataOffset};
    if (doff * 4 > b.size()) return Err{TcpError::TruncatedOptions};
    return BasicTcpPacket(b);
  }
  constexpr uint16_t src_port() const { return load_be16(b_, 0); }
  constexpr uint16_t dst_port() const { return load_be16(b_, 2); }
  constexpr uint32_t seq() const { return load_be32(b_, 4); }
  constexpr uint32_t ack() const { return load_be32(b_, 8); }
  constexpr std::size_t header_len() const { return static_cast<std::size_t>(b_[12] >> 4) * 4; }
  constexpr uint8_t flags() const { return b_[13]; }
  constexpr bool ae() const { return (b_[12] & 0x01) != 0; }  // the reserved bit AccECN calls AE
  constexpr uint16_t window() const { return load_be16(b_, 14); }
  constexpr uint16_t checksum() const { return load_be16(b_, 16); }
  constexpr uint16_t urgent() const { return load_be16(b_, 18); }
  constexpr std::span<Byte> options() const { return b_.subspan(kTcpHeaderLen, header_len() - kTcpHeaderLen); }
  constexpr std::span<Byte> payload() const { return b_.subspan(header_len()); }
  constexpr std::span<Byte> bytes() const { return b_; }
  bool verify(Ipv4Addr src, Ipv4Addr dst) const { return tcp_pseudo_sum(src, dst, b_).verifies(); }

 private:
  constexpr explicit BasicTcpPacket(std::span<Byte> b) : b_(b) {}
  std::span<Byte> b_;
};
using TcpPacket = BasicTcpPacket<const uint8_t>;
using TcpPacketMut = BasicTcpPacket<uint8_t>;

// A TCP header as plain fields.
struct TcpRepr {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t urgent = 0;
  TcpOptions options{};
  uint16_t payload_len = 0;

  // The header of `b` (checked(), then with Verify the checksum), its options parsed.
  static Result<TcpRepr, TcpError> parse(std::span<const uint8_t> b, Ipv4Addr src, Ipv4Addr dst,
                                         ChecksumCheck check = ChecksumCheck::Verify);
  // The options' length as tcp_options_write lays them out (a multiple of 4, at most 40; SACK
  // blocks beyond what fits are left out, as tcp_established_options trims them).
  std::size_t options_len() const;
  std::size_t header_len() const { return kTcpHeaderLen + options_len(); }
  std::size_t total_len() const { return header_len() + payload_len; }
  // Writes the header and options into `b` (at least total_len() bytes, the payload already in
  // place after them), then the checksum. Options in Linux's order and packing: MSS; SACK-
  // permitted and timestamps as one word pair (or NOP NOP + timestamps, or NOP NOP +
  // SACK-permitted); NOP + window scale; NOP NOP + SACK blocks.
  // checksum false: the field left 0 (a GSO skb's segments get theirs when they are cut).
  void emit(std::span<uint8_t> b, Ipv4Addr src, Ipv4Addr dst, bool checksum = true) const;
};

// Sequence-number arithmetic modulo 2^32 (RFC 9293 3.4; Linux's before()/after()).
constexpr bool seq_before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
constexpr bool seq_after(uint32_t a, uint32_t b) { return seq_before(b, a); }

}  // namespace vnic::stack::wire

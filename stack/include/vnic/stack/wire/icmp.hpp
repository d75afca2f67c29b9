// ICMP for IPv4 (RFC 792): the checked view, IcmpRepr parse/emit for echo, destination
// unreachable (with RFC 1191's next-hop MTU), redirect, time exceeded and parameter problem, and
// which Linux 6.1 counters each malformed message is counted under.
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

enum class IcmpType : uint8_t {
  EchoReply = 0,
  DestUnreachable = 3,
  SourceQuench = 4,
  Redirect = 5,
  EchoRequest = 8,
  RouterAdvertisement = 9,
  RouterSolicitation = 10,
  TimeExceeded = 11,
  ParameterProblem = 12,
  Timestamp = 13,
  TimestampReply = 14,
  InfoRequest = 15,
  InfoReply = 16,
  AddressMaskRequest = 17,
  AddressMaskReply = 18,
  ExtendedEchoRequest = 42,  // RFC 8335 (PROBE)
};
// The highest type in Linux's handler table (NR_ICMP_TYPES); a higher one is an error there.
inline constexpr uint8_t kIcmpLinuxMaxType = 18;

// Destination unreachable codes (RFC 792, RFC 1812 5.2.7.1).
enum class IcmpUnreachable : uint8_t {
  Net = 0,
  Host = 1,
  Protocol = 2,
  Port = 3,
  FragmentationNeeded = 4,  // and DF set: the next-hop MTU rides along (RFC 1191 4)
  SourceRouteFailed = 5,
  NetUnknown = 6,
  HostUnknown = 7,
  HostIsolated = 8,
  NetProhibited = 9,
  HostProhibited = 10,
  NetTos = 11,
  HostTos = 12,
  AdminProhibited = 13,
  HostPrecedence = 14,
  PrecedenceCutoff = 15,
};
enum class IcmpTimeExceeded : uint8_t { Ttl = 0, Reassembly = 1 };

inline constexpr std::size_t kIcmpHeaderLen = 8;  // type, code, checksum, 4 bytes that depend on the type
// An error quotes the offending datagram's header and at least its first 64 bits of data
// (RFC 792); Linux needs as much before it hands the error to the protocol (icmp_socket_deliver).
inline constexpr std::size_t kIcmpQuoteMinData = 8;

constexpr bool is_icmp_error(IcmpType t) {
  return t == IcmpType::DestUnreachable || t == IcmpType::Redirect || t == IcmpType::TimeExceeded ||
         t == IcmpType::ParameterProblem;
}

// Why a buffer is not an ICMP message the stack handles, in the order Linux 6.1's icmp_rcv and its
// handlers test them (every message has counted InMsgs first):
enum class IcmpError : uint8_t {
  BadChecksum,     // over the whole message, tested before anything else: InCsumErrors and
                   // InErrors (drop reason ICMP_CSUM)
  Truncated,       // fewer than the 8 header bytes: InErrors
  UnknownType,     // a type above 18 (and not 42): InErrors (UNHANDLED_PROTO)
  Unsupported,     // a type Linux has a handler for that is not modelled here (timestamp,
                   // address mask, source quench, router discovery, PROBE, unassigned ones):
                   // no error counter; Linux answers or silently consumes these
  QuoteTruncated,  // an error quoting fewer than 20 bytes, or less than the quoted header and
                   // 8 bytes of its data: InErrors (icmp_unreach, icmp_socket_deliver)
  QuoteBadHeader,  // an error quoting a header with IHL < 5: InErrors (IP_INHDR)
};
std::string_view name(IcmpError e);

// The Linux counters (Icmp: in /proc/net/snmp) a malformed message increments.
struct LinuxIcmpCounts {
  bool in_errors = false;
  bool in_csum_errors = false;
};
constexpr LinuxIcmpCounts linux_icmp_counts(IcmpError e) {
  switch (e) {
    case IcmpError::BadChecksum: return {true, true};
    case IcmpError::Unsupported: return {false, false};
    case IcmpError::Truncated:
    case IcmpError::UnknownType:
    case IcmpError::QuoteTruncated:
    case IcmpError::QuoteBadHeader: break;
  }
  return {true, false};
}

// A checked view over a message (the IPv4 payload, trimmed to the datagram's total length).
template <typename Byte>
class BasicIcmpPacket {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);
  static constexpr bool kMutable = !std::is_const_v<Byte>;

 public:
  // icmp_rcv's order: the checksum over every byte (unless a device verified it: Skip), then
  // the 8-byte header.
  static constexpr Result<BasicIcmpPacket, IcmpError> checked(std::span<Byte> b,
                                                              ChecksumCheck check = ChecksumCheck::Verify) {
    if (check == ChecksumCheck::Verify && !checksum_ok(b)) return Err{IcmpError::BadChecksum};
    if (b.size() < kIcmpHeaderLen) return Err{IcmpError::Truncated};
    return BasicIcmpPacket(b);
  }

  constexpr IcmpType type() const { return static_cast<IcmpType>(b_[0]); }
  constexpr uint8_t code() const { return b_[1]; }
  constexpr uint16_t checksum() const { return load_be16(b_, 2); }
  constexpr uint32_t rest_of_header() const { return load_be32(b_, 4); }
  constexpr uint16_t echo_ident() const { return load_be16(b_, 4); }  // echo request/reply
  constexpr uint16_t echo_seq() const { return load_be16(b_, 6); }
  constexpr uint8_t pointer() const { return b_[4]; }                  // parameter problem
  constexpr uint16_t next_hop_mtu() const { return load_be16(b_, 6); } // fragmentation needed
  constexpr Ipv4Addr gateway() const { return load_ipv4(b_, 4); }      // redirect
  constexpr std::span<Byte> data() const { return b_.subspan(kIcmpHeaderLen); }  // echo data, or the quote
  constexpr std::span<Byte> bytes() const { return b_; }

  bool verify_checksum() const { return checksum_ok(b_); }
  void fill_checksum() const requires kMutable {
    store_be16(b_, 2, 0);
    store_be16(b_, 2, internet_checksum(b_));
  }

 private:
  constexpr explicit BasicIcmpPacket(std::span<Byte> b) : b_(b) {}
  std::span<Byte> b_;
};

using IcmpPacket = BasicIcmpPacket<const uint8_t>;
using IcmpPacketMut = BasicIcmpPacket<uint8_t>;

// A message as plain values. Which fields mean something depends on the type; the others are 0.
// `data` is a span into the parsed buffer (a Repr lives no longer than its bytes).
struct IcmpRepr {
  IcmpType type = IcmpType::EchoRequest;
  uint8_t code = 0;
  uint16_t ident = 0;             // echo request/reply (RFC 792)
  uint16_t seq = 0;               // echo request/reply
  uint16_t next_hop_mtu = 0;      // destination unreachable, fragmentation needed (RFC 1191 4)
  uint8_t pointer = 0;            // parameter problem: the offending octet (RFC 792)
  Ipv4Addr gateway;               // redirect
  std::span<const uint8_t> data;  // echo: the data echoed; an error: the quoted datagram

  static constexpr IcmpRepr echo_request(uint16_t ident, uint16_t seq, std::span<const uint8_t> data) {
    return {IcmpType::EchoRequest, 0, ident, seq, 0, 0, {}, data};
  }
  static constexpr IcmpRepr echo_reply(uint16_t ident, uint16_t seq, std::span<const uint8_t> data) {
    return {IcmpType::EchoReply, 0, ident, seq, 0, 0, {}, data};
  }
  static constexpr IcmpRepr dest_unreachable(IcmpUnreachable code, std::span<const uint8_t> quote,
                                             uint16_t next_hop_mtu = 0) {
    return {IcmpType::DestUnreachable, static_cast<uint8_t>(code), 0, 0,
            code == IcmpUnreachable::FragmentationNeeded ? next_hop_mtu : uint16_t{0}, 0, {}, quote};
  }
  static constexpr IcmpRepr time_exceeded(IcmpTimeExceeded code, std::span<const uint8_t> quote) {
    return {IcmpType::TimeExceeded, static_cast<uint8_t>(code), 0, 0, 0, 0, {}, quote};
  }
  static constexpr IcmpRepr parameter_problem(uint8_t pointer, std::span<const uint8_t> quote) {
    return {IcmpType::ParameterProblem, 0, 0, 0, 0, pointer, {}, quote};
  }
  static constexpr IcmpRepr redirect(uint8_t code, Ipv4Addr gateway, std::span<const uint8_t> quote) {
    return {IcmpType::Redirect, code, 0, 0, 0, 0, gateway, quote};
  }

  // The view's checks, then the type's: echo (any code, as Linux), or an error whose quote
  // holds an IPv4 header (IHL >= 5, version not judged, as Linux) and 8 bytes after it.
  static Result<IcmpRepr, IcmpError> parse(std::span<const uint8_t> bytes, ChecksumCheck check = ChecksumCheck::Verify);
  constexpr std::size_t buffer_len() const { return kIcmpHeaderLen + data.size(); }
  // Writes the whole message (buffer_len() bytes) with its checksum; `out` must hold it.
  void emit(std::span<uint8_t> out) const;
  bool operator==(const IcmpRepr& o) const;
};

}  // namespace vnic::stack::wire

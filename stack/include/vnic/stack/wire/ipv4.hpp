// IPv4 (RFC 791): addresses and prefixes, the checked header view, Ipv4Repr parse/emit, and which
// Linux 6.1 counters each malformed header is counted under.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/result.hpp"

namespace vnic::stack::wire {

// ---- Addresses --------------------------------------------------------------------------------

struct Ipv4Addr {
  std::array<uint8_t, 4> b{};  // in wire order: a.b.c.d is {a, b, c, d}

  // As a number, a.b.c.d = a << 24 | b << 16 | c << 8 | d (what masks are computed on).
  static constexpr Ipv4Addr from_u32(uint32_t v) {
    return Ipv4Addr{{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                     static_cast<uint8_t>(v)}};
  }
  constexpr uint32_t to_u32() const {
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
  }
  static constexpr Ipv4Addr any() { return {}; }
  static constexpr Ipv4Addr broadcast() { return from_u32(0xFFFFFFFFu); }

  // The mask of a prefix length (0..32): /24 is 255.255.255.0.
  static constexpr Ipv4Addr netmask(uint8_t prefix_len) {
    assert(prefix_len <= 32);
    return from_u32(prefix_len == 0 ? 0u : ~uint32_t{0} << (32 - prefix_len));
  }
  // The prefix length of a contiguous mask; none for a mask with a hole (255.0.255.0).
  constexpr std::optional<uint8_t> mask_prefix_len() const {
    const uint32_t m = to_u32();
    const uint32_t inverted = ~m;
    if ((inverted & (inverted + 1)) != 0) return std::nullopt;  // the zeros must be a low run
    uint8_t n = 0;
    for (uint32_t v = m; v != 0; v <<= 1) ++n;
    return n;
  }

  constexpr bool is_unspecified() const { return to_u32() == 0; }                  // 0.0.0.0
  constexpr bool is_broadcast() const { return to_u32() == 0xFFFFFFFFu; }          // limited broadcast
  constexpr bool is_multicast() const { return (b[0] & 0xF0u) == 0xE0u; }          // 224.0.0.0/4 (RFC 5771)
  constexpr bool is_loopback() const { return b[0] == 127; }                       // 127.0.0.0/8 (RFC 1122 3.2.1.3)
  constexpr bool is_link_local() const { return b[0] == 169 && b[1] == 254; }      // 169.254.0.0/16 (RFC 3927)

  std::string str() const;                                     // "192.0.2.1"
  static std::optional<Ipv4Addr> parse(std::string_view s);    // dotted quad, as inet_pton (no leading zeros)

  constexpr auto operator<=>(const Ipv4Addr&) const = default;
};

constexpr Ipv4Addr load_ipv4(std::span<const uint8_t> b, std::size_t off) {
  return Ipv4Addr{{b[off], b[off + 1], b[off + 2], b[off + 3]}};
}
constexpr void store_ipv4(std::span<uint8_t> b, std::size_t off, const Ipv4Addr& a) {
  for (std::size_t i = 0; i < 4; ++i) b[off + i] = a.b[i];
}

// An address with a prefix length (an interface address or a route): "10.0.0.1/24".
struct Ipv4Cidr {
  Ipv4Addr addr;
  uint8_t prefix_len = 0;  // 0..32

  static constexpr std::optional<Ipv4Cidr> make(Ipv4Addr a, uint8_t len) {
    if (len > 32) return std::nullopt;
    return Ipv4Cidr{a, len};
  }
  static constexpr std::optional<Ipv4Cidr> from_netmask(Ipv4Addr a, Ipv4Addr mask) {
    const auto len = mask.mask_prefix_len();
    if (!len) return std::nullopt;
    return Ipv4Cidr{a, *len};
  }
  constexpr Ipv4Addr netmask() const { return Ipv4Addr::netmask(prefix_len); }
  constexpr Ipv4Cidr network() const { return {Ipv4Addr::from_u32(addr.to_u32() & netmask().to_u32()), prefix_len}; }
  constexpr bool contains(Ipv4Addr a) const {
    const uint32_t m = netmask().to_u32();
    return (a.to_u32() & m) == (addr.to_u32() & m);
  }
  constexpr bool contains(const Ipv4Cidr& subnet) const {
    return prefix_len <= subnet.prefix_len && contains(subnet.addr);
  }
  // The directed broadcast address; none for /31 (RFC 3021 point-to-point) and /32, as iproute2
  // gives none for `brd +` there.
  constexpr std::optional<Ipv4Addr> broadcast() const {
    if (prefix_len >= 31) return std::nullopt;
    return Ipv4Addr::from_u32(addr.to_u32() | ~netmask().to_u32());
  }

  std::string str() const;
  static std::optional<Ipv4Cidr> parse(std::string_view s);  // "a.b.c.d/n"

  constexpr bool operator==(const Ipv4Cidr&) const = default;
};

// ---- The header -------------------------------------------------------------------------------

// The protocol field's values we name (IANA); any other value is kept as is.
enum class IpProtocol : uint8_t { Icmp = 1, Igmp = 2, Tcp = 6, Udp = 17 };

inline constexpr std::size_t kIpv4MinHeaderLen = 20;  // IHL 5
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;  // IHL 15
inline constexpr std::size_t kIpv4MaxOptionsLen = kIpv4MaxHeaderLen - kIpv4MinHeaderLen;
inline constexpr std::size_t kIpv4MaxTotalLen = 0xFFFF;
inline constexpr uint16_t kIpv4FlagDf = 0x4000;          // don't fragment
inline constexpr uint16_t kIpv4FlagMf = 0x2000;          // more fragments
inline constexpr uint16_t kIpv4FlagReserved = 0x8000;    // must be zero (RFC 791 3.1); not judged on input
inline constexpr uint16_t kIpv4FragOffsetMask = 0x1FFF;  // in units of 8 octets

// Why a buffer is not an IPv4 datagram, in the order Linux 6.1's ip_rcv_core tests them, and what
// it counts (linux_ip_counts below):
//  - fewer than 20 bytes, a version other than 4, an IHL under 5, or fewer bytes than the IHL
//    announces: the header cannot be read: InHdrErrors (drop reason IP_INHDR);
//  - then the header checksum over IHL*4 bytes; a bad one counts InCsumErrors and also
//    InHdrErrors, since Linux's csum_error path falls through into the header-error path (IP_CSUM);
//  - then the total length: longer than the buffer is a truncated packet, InTruncatedPkts only,
//    not a header error (PKT_TOO_SMALL); shorter than the header is InHdrErrors (IP_INHDR).
//    Bytes beyond the total length are link padding, trimmed (pskb_trim_rcsum), not an error.
// Every one of these is after InReceives, which ip_rcv_core counts first.
enum class Ipv4Error : uint8_t {
  Truncated,            // fewer than 20 bytes
  BadVersion,           // version is not 4
  BadHeaderLength,      // IHL < 5
  OptionsTruncated,     // the buffer ends inside the IHL*4 header
  BadChecksum,          // the header checksum does not verify (RFC 791 3.1, RFC 1071)
  TotalLengthTooBig,    // total length > buffer
  TotalLengthTooSmall,  // total length < IHL*4
};
std::string_view name(Ipv4Error e);

// The Linux counters a malformed header increments (Ip: in /proc/net/snmp; InCsumErrors and
// InTruncatedPkts are IpExt: in /proc/net/netstat), and the skb drop reason it is freed with.
struct LinuxIpCounts {
  bool in_hdr_errors = false;
  bool in_csum_errors = false;
  bool in_truncated_pkts = false;
  std::string_view drop_reason;  // enum skb_drop_reason without its SKB_DROP_REASON_ prefix
};
constexpr LinuxIpCounts linux_ip_counts(Ipv4Error e) {
  switch (e) {
    case Ipv4Error::BadChecksum: return {true, true, false, "IP_CSUM"};
    case Ipv4Error::TotalLengthTooBig: return {false, false, true, "PKT_TOO_SMALL"};
    case Ipv4Error::Truncated:
    case Ipv4Error::BadVersion:
    case Ipv4Error::BadHeaderLength:
    case Ipv4Error::OptionsTruncated:
    case Ipv4Error::TotalLengthTooSmall: break;
  }
  return {true, false, false, "IP_INHDR"};
}

// Where the options break RFC 791 3.1's layout (a type octet with no length octet after it, a
// length under 2 or past the header's end): the bad option's offset from the header's first byte,
// which is what Linux's ip_options_compile answers with an ICMP parameter problem (its pp_ptr).
// Linux counts the datagram under InHdrErrors (ip_rcv_options), after PRE_ROUTING.
struct Ipv4BadOption {
  uint8_t pointer = 0;
};

// A checked view over a datagram: Byte is `const uint8_t` to read, `uint8_t` to edit in place
// (forwarding: TTL and checksum). Once checked, every accessor stays inside the buffer.
template <typename Byte>
class BasicIpv4Packet {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, uint8_t>);
  static constexpr bool kMutable = !std::is_const_v<Byte>;

 public:
  // Linux's ip_rcv_core checks in its order (see Ipv4Error). With ChecksumCheck::Skip the header
  // checksum is not looked at (bytes we built); untrusted bytes use Verify. `b` may be longer
  // than the datagram (link padding): payload() ends at the total length.
  static constexpr Result<BasicIpv4Packet, Ipv4Error> checked(std::span<Byte> b,
                                                              ChecksumCheck check = ChecksumCheck::Verify) {
    if (b.size() < kIpv4MinHeaderLen) return Err{Ipv4Error::Truncated};
    const BasicIpv4Packet p(b);
    if (p.version() != 4) return Err{Ipv4Error::BadVersion};
    if (p.ihl() < 5) return Err{Ipv4Error::BadHeaderLength};
    if (b.size() < p.header_len()) return Err{Ipv4Error::OptionsTruncated};
    if (check == ChecksumCheck::Verify && !p.verify_checksum()) return Err{Ipv4Error::BadChecksum};
    if (p.total_len() > b.size()) return Err{Ipv4Error::TotalLengthTooBig};
    if (p.total_len() < p.header_len()) return Err{Ipv4Error::TotalLengthTooSmall};
    return p;
  }

  constexpr uint8_t version() const { return b_[0] >> 4; }
  constexpr uint8_t ihl() const { return b_[0] & 0x0Fu; }  // in 32-bit words
  constexpr std::size_t header_len() const { return std::size_t{ihl()} * 4; }
  constexpr uint8_t tos() const { return b_[1]; }
  constexpr uint8_t dscp() const { return b_[1] >> 2; }   // RFC 2474
  constexpr uint8_t ecn() const { return b_[1] & 3u; }    // RFC 3168
  constexpr uint16_t total_len() const { return load_be16(b_, 2); }
  constexpr uint16_t ident() const { return load_be16(b_, 4); }
  constexpr uint16_t flags_frag() const { return load_be16(b_, 6); }
  constexpr bool dont_fragment() const { return (flags_frag() & kIpv4FlagDf) != 0; }
  constexpr bool more_fragments() const { return (flags_frag() & kIpv4FlagMf) != 0; }
  constexpr bool reserved_flag() const { return (flags_frag() & kIpv4FlagReserved) != 0; }
  constexpr uint16_t frag_offset() const { return static_cast<uint16_t>((flags_frag() & kIpv4FragOffsetMask) * 8u); }  // octets
  constexpr bool is_fragment() const { return (flags_frag() & (kIpv4FlagMf | kIpv4FragOffsetMask)) != 0; }
  constexpr uint8_t ttl() const { return b_[8]; }
  constexpr IpProtocol protocol() const { return static_cast<IpProtocol>(b_[9]); }
  constexpr uint16_t checksum() const { return load_be16(b_, 10); }
  constexpr Ipv4Addr src() const { return load_ipv4(b_, 12); }
  constexpr Ipv4Addr dst() const { return load_ipv4(b_, 16); }

  constexpr std::span<Byte> bytes() const { return b_; }  // as given, padding included
  constexpr std::span<Byte> header() const { return b_.first(header_len()); }
  constexpr std::span<Byte> options() const { return b_.subspan(kIpv4MinHeaderLen, header_len() - kIpv4MinHeaderLen); }
  constexpr std::span<Byte> datagram() const { return b_.first(total_len()); }  // without padding
  constexpr std::span<Byte> payload() const { return b_.subspan(header_len(), total_len() - header_len()); }

  // RFC 791 3.1: the one's-complement sum over the header, checksum included, is all ones.
  bool verify_checksum() const { return checksum_ok(header()); }

  // RFC 791 3.1's option layout, lengths only: End of Option List (0) ends the list and what
  // follows is padding; No Operation (1) is one octet; every other option is type, length
  // (counting both), data. What an option means is not interpreted here.
  constexpr Result<void, Ipv4BadOption> check_options() const {
    const std::span<Byte> o = options();
    std::size_t i = 0;
    while (i < o.size()) {
      const uint8_t type = o[i];
      if (type == 0) break;
      if (type == 1) {
        ++i;
        continue;
      }
      const auto here = Ipv4BadOption{static_cast<uint8_t>(kIpv4MinHeaderLen + i)};
      if (o.size() - i < 2) return Err{here};
      const uint8_t len = o[i + 1];
      if (len < 2 || len > o.size() - i) return Err{here};
      i += len;
    }
    return {};
  }

  constexpr void set_tos(uint8_t v) const requires kMutable { b_[1] = v; }
  constexpr void set_ttl(uint8_t v) const requires kMutable { b_[8] = v; }
  constexpr void set_checksum(uint16_t v) const requires kMutable { store_be16(b_, 10, v); }
  constexpr void set_src(Ipv4Addr a) const requires kMutable { store_ipv4(b_, 12, a); }
  constexpr void set_dst(Ipv4Addr a) const requires kMutable { store_ipv4(b_, 16, a); }
  void fill_checksum() const requires kMutable {
    set_checksum(0);
    set_checksum(internet_checksum(header()));
  }
  // Forwarding's TTL decrement with the checksum updated in place, exactly as Linux's
  // ip_decrease_ttl computes it: the TTL is the high byte of the header's fifth 16-bit word, so
  // one less TTL is 0x0100 less in the sum and 0x0100 more in its complement, the checksum; the
  // carry wraps around, and a result of 0xFFFF (-0) is stored as 0x0000 (+0). (RFC 1624's
  // eqn. 3, checksum_adjust, gives the same number and the same bytes except for that zero.)
  // The caller has seen ttl() > 1 (ip_forward sends Time Exceeded otherwise). Returns the new TTL.
  constexpr uint8_t decrement_ttl() const requires kMutable {
    assert(ttl() > 0);
    uint32_t c = uint32_t{checksum()} + 0x0100u;
    c += c >= 0xFFFFu ? 1u : 0u;
    set_checksum(static_cast<uint16_t>(c));
    set_ttl(static_cast<uint8_t>(ttl() - 1));
    return ttl();
  }

  constexpr operator BasicIpv4Packet<const uint8_t>() const requires kMutable {  // NOLINT: a view may narrow
    return BasicIpv4Packet<const uint8_t>(b_);
  }

 private:
  template <typename>
  friend class BasicIpv4Packet;
  constexpr explicit BasicIpv4Packet(std::span<Byte> b) : b_(b) {}

  std::span<Byte> b_;
};

using Ipv4Packet = BasicIpv4Packet<const uint8_t>;
using Ipv4PacketMut = BasicIpv4Packet<uint8_t>;

// An IPv4 header as plain values. The options are kept as bytes (in the parsed buffer: a Repr
// lives no longer than the bytes it came from) and written back as they are; the reserved flag
// is not kept (emit writes 0, RFC 791 3.1).
struct Ipv4Repr {
  Ipv4Addr src;
  Ipv4Addr dst;
  IpProtocol protocol = IpProtocol::Icmp;
  uint8_t ttl = 64;  // Linux's ip_default_ttl
  uint8_t tos = 0;   // DSCP and ECN
  uint16_t ident = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t frag_offset = 0;            // octets, a multiple of 8
  std::span<const uint8_t> options;    // up to 40 bytes, a multiple of 4 (pad with EOL)
  uint16_t payload_len = 0;            // total length - header length

  // ip_rcv_core's checks (Ipv4Packet::checked), then the fields.
  static Result<Ipv4Repr, Ipv4Error> parse(std::span<const uint8_t> bytes, ChecksumCheck check = ChecksumCheck::Verify);
  static Ipv4Repr from(const Ipv4Packet& p);

  constexpr std::size_t header_len() const { return kIpv4MinHeaderLen + options.size(); }
  constexpr std::size_t total_len() const { return header_len() + payload_len; }
  // Writes the header_len() header bytes, checksum filled in; the payload is the caller's, at
  // header_len(). The Repr must be valid (options, fragment offset, total length): our bug if not.
  void emit(std::span<uint8_t> out) const;
  bool operator==(const Ipv4Repr& o) const;
};

// The IPv4 pseudo-header sum (RFC 768, RFC 9293 3.1: source, destination, zero, protocol,
// transport length) plus the transport bytes (their checksum field as it is), for UDP and TCP.
inline InternetChecksum ipv4_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, std::span<const uint8_t> l4) {
  InternetChecksum c;
  c.add32(src.to_u32()).add32(dst.to_u32()).add16(protocol).add16(static_cast<uint16_t>(l4.size()));
  c.add(l4);
  return c;
}

}  // namespace vnic::stack::wire

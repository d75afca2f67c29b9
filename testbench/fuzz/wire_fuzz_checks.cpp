// The wire parsers' fuzz checks: oracles written apart from the parsers (plain loops in Linux's
// order), round trips, and the checksum's properties.
#include "wire_fuzz_checks.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vnic/stack/wire/arp.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"
#include "vnic/stack/wire/udp.hpp"

namespace vnic::fuzz::wire {

namespace w = vnic::stack::wire;

namespace {

[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* fmt, ...) {
  std::fprintf(stderr, "vnic-wire-fuzz: ");
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "\n");
  std::abort();
}

void require(bool ok, const char* what) {
  if (!ok) fail("%s", what);
}

void require_same(std::string_view got, std::string_view want, const char* what) {
  if (got != want) {
    fail("%s: the parser says %.*s, Linux's order says %.*s", what, static_cast<int>(got.size()), got.data(),
         static_cast<int>(want.size()), want.data());
  }
}

std::string outcome(std::string_view layer, std::string_view result) {
  std::string s(layer);
  s += '.';
  s += result;
  return s;
}

std::string_view result_name(const auto& r) {
  return r ? std::string_view("ok") : w::name(r.error());
}

// The one's-complement sum the slow way: a word at a time, folded at every step.
uint16_t slow_sum(std::span<const uint8_t> b) {
  uint32_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    s += static_cast<uint32_t>(b[i]) << 8 | (i + 1 < b.size() ? b[i + 1] : 0u);
    s = (s & 0xFFFFu) + (s >> 16);
  }
  return static_cast<uint16_t>(s);
}

uint16_t be16(std::span<const uint8_t> b, std::size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

// 0x0000 and 0xFFFF are the two zeros of one's complement: a checksum field may hold either.
bool same_ones_complement(uint16_t a, uint16_t b) { return a == b || (a == 0 && b == 0xFFFF) || (a == 0xFFFF && b == 0); }

// Reading every field of a checked view: ASan reports a read outside the input.
volatile uint32_t sink;
void touch(std::span<const uint8_t> s) {
  uint32_t x = 0;
  for (uint8_t b : s) x += b;
  sink = x;
}

// ---- Oracles: Linux 6.1's checks in its order, restated ----

std::string_view ethernet_oracle(std::span<const uint8_t> b, std::size_t* header_len) {
  if (b.size() < 14) return "Truncated";
  std::size_t at = 12;
  for (int tags = 0; tags < 2; ++tags) {
    const uint16_t t = be16(b, at);
    if (t != 0x8100 && t != 0x88A8) break;
    if (b.size() < at + 4 + 2) return "TruncatedTag";
    at += 4;
  }
  *header_len = at + 2;
  return "ok";
}

std::string_view arp_oracle(std::span<const uint8_t> b) {
  if (b.size() < 28) return "Truncated";                 // arp_rcv: arp_hdr_len(dev)
  if (b[4] != 6 || b[5] != 4) return "BadAddressLength"; // arp_rcv: ar_hln, ar_pln
  const uint16_t hrd = be16(b, 0);
  if (hrd != 1 && hrd != 6) return "UnsupportedHardware";  // arp_process: ARPHRD_ETHER or IEEE802
  if (be16(b, 2) != 0x0800) return "UnsupportedProtocol";
  const uint16_t op = be16(b, 6);
  if (op != 1 && op != 2) return "UnsupportedOperation";
  return "ok";
}

std::string_view ipv4_oracle(std::span<const uint8_t> b, bool verify) {
  if (b.size() < 20) return "Truncated";  // pskb_may_pull(sizeof(struct iphdr))
  const std::size_t ihl = b[0] & 0x0Fu;
  if (b[0] >> 4 != 4) return "BadVersion";
  if (ihl < 5) return "BadHeaderLength";
  if (b.size() < ihl * 4) return "OptionsTruncated";  // pskb_may_pull(ihl * 4)
  if (verify && slow_sum(b.first(ihl * 4)) != 0xFFFF) return "BadChecksum";
  const std::size_t tot = be16(b, 2);
  if (tot > b.size()) return "TotalLengthTooBig";
  if (tot < ihl * 4) return "TotalLengthTooSmall";
  return "ok";
}

std::string_view icmp_oracle(std::span<const uint8_t> b, bool verify) {
  if (verify && slow_sum(b) != 0xFFFF) return "BadChecksum";  // skb_checksum_simple_validate
  if (b.size() < 8) return "Truncated";                       // pskb_pull(sizeof(*icmph))
  const uint8_t t = b[0];
  if (t == 0 || t == 8) return "ok";
  if (t == 3 || t == 5 || t == 11 || t == 12) {
    const auto q = b.subspan(8);
    if (q.size() < 20) return "QuoteTruncated";
    if ((q[0] & 0x0Fu) < 5) return "QuoteBadHeader";
    if (q.size() < (q[0] & 0x0Fu) * 4u + 8u) return "QuoteTruncated";
    return "ok";
  }
  if (t > 18 && t != 42) return "UnknownType";
  return "Unsupported";
}

// ---- Per format ----

std::string check_icmp(std::span<const uint8_t> b);
std::string check_arp(std::span<const uint8_t> b);

std::string check_ipv4(std::span<const uint8_t> b, int depth) {
  const auto r = w::Ipv4Repr::parse(b);
  require_same(result_name(r), ipv4_oracle(b, true), "ipv4 parse");
  const auto skip = w::Ipv4Packet::checked(b, w::ChecksumCheck::Skip);
  require_same(result_name(skip), ipv4_oracle(b, false), "ipv4 parse without the checksum");
  if (!r.ok() && r.error() != w::Ipv4Error::BadChecksum) {
    const auto c = w::linux_ip_counts(r.error());
    require(c.in_hdr_errors != c.in_truncated_pkts && !c.in_csum_errors, "ipv4 counters of a length error");
  }

  if (skip) {
    const w::Ipv4Packet& p = *skip;
    touch(p.header());
    touch(p.options());
    touch(p.payload());
    touch(p.datagram());
    sink = p.src().to_u32() ^ p.dst().to_u32() ^ p.ident() ^ p.frag_offset() ^ p.ttl() ^ p.tos();
    require(p.payload().size() + p.header_len() == p.total_len() && p.total_len() <= b.size(), "ipv4 payload bounds");
    if (const auto o = p.check_options(); !o) {
      require(o.error().pointer >= w::kIpv4MinHeaderLen && o.error().pointer < p.header_len(), "ipv4 option pointer");
    }
    // Forwarding's decrement in place, on a copy.
    {
      std::vector<uint8_t> copy(b.begin(), b.end());
      const auto m = w::Ipv4PacketMut::checked(copy, w::ChecksumCheck::Skip);
      require(m.ok(), "ipv4 mutable view");
      m->fill_checksum();
      require(w::Ipv4Packet(*m).verify_checksum(), "ipv4 fill_checksum");
    }
    if (p.ttl() > 0) {
      std::vector<uint8_t> copy(b.begin(), b.end());
      const auto m = w::Ipv4PacketMut::checked(copy, w::ChecksumCheck::Skip);
      require(m.ok(), "ipv4 mutable view");
      const bool was_good = p.verify_checksum();
      const uint16_t rfc1624 = w::checksum_adjust(p.checksum(), be16(b, 8), static_cast<uint16_t>(be16(b, 8) - 0x100));
      m->decrement_ttl();
      const w::Ipv4Packet after = *m;
      require(after.verify_checksum() == was_good, "ipv4 TTL decrement changed whether the checksum checks");
      require(after.ttl() == p.ttl() - 1, "ipv4 TTL decrement");
      require(same_ones_complement(after.checksum(), rfc1624),
              "ipv4 TTL decrement differs from RFC 1624 other than in the sign of zero");
    }
  }

  if (r) {
    const w::Ipv4Repr& repr = *r;
    require(repr.header_len() == std::size_t{b[0] & 0x0Fu} * 4, "ipv4 repr header length");
    std::vector<uint8_t> out(repr.total_len());
    repr.emit(out);
    std::copy_n(b.begin() + static_cast<long>(repr.header_len()), repr.payload_len,
                out.begin() + static_cast<long>(repr.header_len()));
    const auto back = w::Ipv4Repr::parse(out);
    if (!back) fail("ipv4 emitted header does not parse: %s", std::string(w::name(back.error())).c_str());
    require(*back == repr, "ipv4 round trip");
    for (std::size_t i = 0; i < repr.header_len(); ++i) {
      if (i == 10 || i == 11) continue;  // the checksum: +0 or -0
      const uint8_t mask = i == 6 ? 0x7F : 0xFF;  // the reserved flag is not kept
      if ((out[i] & mask) != (b[i] & mask)) fail("ipv4 emit differs from the input at byte %zu", i);
    }
    if ((b[6] & 0x80) == 0) require(same_ones_complement(be16(out, 10), be16(b, 10)), "ipv4 emitted checksum");
    // The receive path hands an unfragmented ICMP datagram's payload on (ip_local_deliver).
    if (repr.protocol == w::IpProtocol::Icmp && !repr.more_fragments && repr.frag_offset == 0) {
      return check_icmp(skip->payload());
    }
    return outcome("ipv4", "ok");
  }
  if (r.error() == w::Ipv4Error::BadChecksum && depth == 0) {
    // Past the checksum, with the checksum right: what a fuzzer rarely guesses.
    // The header is readable (the checksum is judged after its length), the total length may
    // not be, so the view cannot be had: fill the field by hand.
    std::vector<uint8_t> fixed(b.begin(), b.end());
    const std::size_t hl = std::size_t{b[0] & 0x0Fu} * 4;
    fixed[10] = fixed[11] = 0;
    const uint16_t c = w::internet_checksum(std::span(fixed).first(hl));
    fixed[10] = static_cast<uint8_t>(c >> 8);
    fixed[11] = static_cast<uint8_t>(c);
    const std::string deeper = check_ipv4(fixed, depth + 1);
    require(deeper != "ipv4.BadChecksum", "ipv4 checksum filled in does not check");
  }
  return outcome("ipv4", w::name(r.error()));
}

void icmp_round_trip(const w::IcmpRepr& repr, std::span<const uint8_t> b) {
  require(repr.buffer_len() == b.size(), "icmp repr length");
  std::vector<uint8_t> out(repr.buffer_len());
  repr.emit(out);
  const auto back = w::IcmpRepr::parse(out);
  if (!back) fail("icmp emitted message does not parse: %s", std::string(w::name(back.error())).c_str());
  require(*back == repr, "icmp round trip");
  require(out[0] == b[0] && out[1] == b[1], "icmp type and code");
  require(std::equal(out.begin() + 8, out.end(), b.begin() + 8), "icmp data");
  if (repr.type == w::IcmpType::EchoRequest || repr.type == w::IcmpType::EchoReply ||
      repr.type == w::IcmpType::Redirect) {
    require(std::equal(out.begin() + 4, out.begin() + 8, b.begin() + 4), "icmp rest of header");
  }
}

std::string check_icmp(std::span<const uint8_t> b) {
  const auto r = w::IcmpRepr::parse(b);
  require_same(result_name(r), icmp_oracle(b, true), "icmp parse");
  const auto skip = w::IcmpRepr::parse(b, w::ChecksumCheck::Skip);
  require_same(result_name(skip), icmp_oracle(b, false), "icmp parse without the checksum");
  if (const auto v = w::IcmpPacket::checked(b, w::ChecksumCheck::Skip)) {
    touch(v->data());
    sink = v->rest_of_header() ^ v->checksum() ^ v->gateway().to_u32();
  }
  if (r) icmp_round_trip(*r, b);
  if (skip) icmp_round_trip(*skip, b);  // emit fills the checksum in: it must then check
  return outcome("icmp", result_name(r));
}

std::string check_arp(std::span<const uint8_t> b) {
  const auto r = w::ArpRepr::parse(b);
  require_same(result_name(r), arp_oracle(b), "arp parse");
  if (const auto v = w::ArpPacket::checked(b)) {
    require(v->packet_len() <= b.size(), "arp view bounds");
    touch(v->sender_hardware_addr());
    touch(v->sender_protocol_addr());
    touch(v->target_hardware_addr());
    touch(v->target_protocol_addr());
  }
  if (r) {
    std::vector<uint8_t> out(w::ArpRepr::buffer_len());
    r->emit(out);
    const auto back = w::ArpRepr::parse(out);
    require(back.ok() && *back == *r, "arp round trip");
    require(std::equal(out.begin(), out.end(), b.begin()), "arp emit differs from the input");
  }
  return outcome("arp", result_name(r));
}

std::string check_ethernet(std::span<const uint8_t> b) {
  const auto r = w::EthernetRepr::parse(b);
  std::size_t want_header = 0;
  require_same(result_name(r), ethernet_oracle(b, &want_header), "ethernet parse");
  if (!r) return outcome("ethernet", w::name(r.error()));
  const auto f = w::EthernetFrame::checked(b).value();
  require(f.header_len() == want_header && r->header_len() == want_header, "ethernet header length");
  for (std::size_t i = 0; i < f.tag_count(); ++i) sink = f.tag(i).tci();
  touch(f.payload());
  std::vector<uint8_t> out(b.size());
  r->emit(out);
  std::copy(b.begin() + static_cast<long>(r->header_len()), b.end(), out.begin() + static_cast<long>(r->header_len()));
  require(std::equal(out.begin(), out.end(), b.begin(), b.end()), "ethernet emit differs from the input");
  const auto back = w::EthernetRepr::parse(out);
  require(back.ok() && *back == *r, "ethernet round trip");
  switch (r->ethertype) {  // eth_type_trans, then the packet handler for the type
    case w::EtherType::Arp: return check_arp(f.payload());
    case w::EtherType::Ipv4: return check_ipv4(f.payload(), 0);
    default: return outcome("ethernet", "ok");
  }
}

// Input: two split points, a word index and a new value, then the data.
std::string check_checksum(std::span<const uint8_t> in) {
  if (in.size() < 5) return outcome("checksum", "short");
  const auto d = in.subspan(5);
  const std::size_t i = in[0] % (d.size() + 1);
  const std::size_t j = i + in[1] % (d.size() - i + 1);
  w::InternetChecksum pieces;
  pieces.add(d.first(i)).add(d.subspan(i, j - i)).add(d.subspan(j));
  const uint16_t whole = slow_sum(d);
  require(pieces.sum() == whole, "checksum of the pieces differs from the whole");
  require(w::InternetChecksum{}.add(d).sum() == whole, "checksum of the whole");
  require(w::checksum_ok(d) == (whole == 0xFFFF), "checksum_ok");
  if (d.size() >= 2) {
    // RFC 1624 eqn. 3 against recomputation: one word of the data changes.
    std::vector<uint8_t> v(d.begin(), d.end());
    const std::size_t at = 2 * (in[2] % (v.size() / 2));
    const uint16_t old_word = be16(v, at);
    const uint16_t new_word = static_cast<uint16_t>(in[3] << 8 | in[4]);
    const uint16_t hc = static_cast<uint16_t>(~slow_sum(v));
    v[at] = in[3];
    v[at + 1] = in[4];
    const uint16_t recomputed = static_cast<uint16_t>(~slow_sum(v));
    const uint16_t incremental = w::checksum_adjust(hc, old_word, new_word);
    const bool all_zero = std::all_of(v.begin(), v.end(), [](uint8_t x) { return x == 0; });
    if (incremental != recomputed && !(all_zero && incremental == 0 && recomputed == 0xFFFF)) {
      fail("RFC 1624 update %04x, recomputed %04x", incremental, recomputed);
    }
  }
  return outcome("checksum", "ok");
}

// ---- UDP and TCP: the pseudo-header's addresses, then the transport bytes ----

constexpr std::size_t kAddrBytes = 8;
constexpr std::size_t kMaxTransport = 65515;  // 65535 - the smallest IPv4 header

uint32_t be32(std::span<const uint8_t> b, std::size_t at) {
  return static_cast<uint32_t>(b[at]) << 24 | static_cast<uint32_t>(b[at + 1]) << 16 |
         static_cast<uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

// The pseudo-header sum the slow way (RFC 768, RFC 9293 3.1), then the transport bytes.
uint16_t slow_pseudo_sum(std::span<const uint8_t> addrs, uint8_t proto, std::span<const uint8_t> l4) {
  std::vector<uint8_t> all(addrs.begin(), addrs.end());
  all.push_back(0);
  all.push_back(proto);
  all.push_back(static_cast<uint8_t>(l4.size() >> 8));
  all.push_back(static_cast<uint8_t>(l4.size()));
  all.insert(all.end(), l4.begin(), l4.end());
  return slow_sum(all);
}

std::string_view udp_error_name(w::UdpError e) {
  switch (e) {
    case w::UdpError::Truncated: return "Truncated";
    case w::UdpError::BadLength: return "BadLength";
    case w::UdpError::BadChecksum: return "BadChecksum";
  }
  return "?";
}

std::string_view tcp_error_name(w::TcpError e) {
  switch (e) {
    case w::TcpError::Truncated: return "Truncated";
    case w::TcpError::BadDataOffset: return "BadDataOffset";
    case w::TcpError::TruncatedOptions: return "TruncatedOptions";
    case w::TcpError::BadChecksum: return "BadChecksum";
  }
  return "?";
}

template <typename R, typename F>
std::string_view named(const R& r, F error_name) {
  return r ? std::string_view("ok") : error_name(r.error());
}

// __udp4_lib_rcv's order: the header, the length field, then (unless 0) the checksum over the
// length field's bytes.
std::string_view udp_oracle(std::span<const uint8_t> addrs, std::span<const uint8_t> b, bool verify) {
  if (b.size() < 8) return "Truncated";
  const std::size_t len = be16(b, 4);
  if (len > b.size() || len < 8) return "BadLength";
  if (verify && be16(b, 6) != 0 && slow_pseudo_sum(addrs, 17, b.first(len)) != 0xFFFF) return "BadChecksum";
  return "ok";
}

std::string check_udp_at(std::span<const uint8_t> addrs, std::span<const uint8_t> b, int depth) {
  const w::Ipv4Addr src{{addrs[0], addrs[1], addrs[2], addrs[3]}};
  const w::Ipv4Addr dst{{addrs[4], addrs[5], addrs[6], addrs[7]}};
  const auto r = w::UdpRepr::parse(b, src, dst);
  require_same(named(r, udp_error_name), udp_oracle(addrs, b, true), "udp parse");
  const auto skip = w::UdpRepr::parse(b, src, dst, w::ChecksumCheck::Skip);
  require_same(named(skip, udp_error_name), udp_oracle(addrs, b, false), "udp parse without the checksum");
  const auto v = w::UdpPacket::checked(b);
  require(v.ok() == skip.ok(), "udp view and repr disagree");
  if (v) {
    touch(v->bytes());
    touch(v->payload());
    sink = v->src_port() ^ v->dst_port() ^ v->checksum();
    require(v->length() == v->bytes().size() && v->bytes().size() <= b.size() &&
                v->payload().size() + w::kUdpHeaderLen == v->length(),
            "udp view bounds");
    const bool slow = v->checksum() == 0 || slow_pseudo_sum(addrs, 17, v->bytes()) == 0xFFFF;
    require(v->verify(src, dst) == slow, "udp verify differs from the slow sum");
    require(w::udp_checksum_ok(src, dst, v->bytes()) == slow, "udp_checksum_ok differs from the slow sum");
    require(r.ok() == slow, "udp parse's checksum verdict");
  }
  if (skip) {
    const w::UdpRepr& repr = *skip;
    require(repr.src_port == be16(b, 0) && repr.dst_port == be16(b, 2) && repr.total_len() == be16(b, 4),
            "udp repr fields");
    std::vector<uint8_t> out(repr.total_len());
    std::copy_n(b.begin() + 8, repr.payload_len, out.begin() + 8);
    repr.emit(out, src, dst);
    require(std::equal(out.begin(), out.begin() + 6, b.begin()), "udp emitted header");
    require(std::equal(out.begin() + 8, out.end(), b.begin() + 8), "udp emitted payload");
    const uint16_t sent = be16(out, 6);
    require(sent != 0, "udp emitted a checksum of 0 (RFC 768: sent as 0xFFFF)");
    require(slow_pseudo_sum(addrs, 17, out) == 0xFFFF, "udp emitted checksum does not verify");
    if (r && be16(b, 6) != 0) require(sent == be16(b, 6), "udp emitted checksum differs from the input's good one");
    const auto back = w::UdpRepr::parse(out, src, dst);
    require(back.ok() && back->src_port == repr.src_port && back->dst_port == repr.dst_port &&
                back->payload_len == repr.payload_len,
            "udp round trip");
    repr.emit(out, src, dst, false);
    require(be16(out, 6) == 0 && w::UdpRepr::parse(out, src, dst).ok(), "udp emitted without a checksum");
  }
  if (!r && r.error() == w::UdpError::BadChecksum && depth == 0) {
    // With the checksum filled in, it must check.
    std::vector<uint8_t> fixed(b.begin(), b.end());
    fixed[6] = fixed[7] = 0;
    const uint16_t c = w::udp_checksum(src, dst, std::span<const uint8_t>(fixed).first(be16(b, 4)));
    fixed[6] = static_cast<uint8_t>(c >> 8);
    fixed[7] = static_cast<uint8_t>(c);
    require(check_udp_at(addrs, fixed, depth + 1) == "udp.ok", "udp checksum filled in does not check");
  }
  return outcome("udp", named(r, udp_error_name));
}

std::string check_udp(std::span<const uint8_t> in) {
  if (in.size() < kAddrBytes) return outcome("udp", "short");
  const auto b = in.subspan(kAddrBytes);
  return check_udp_at(in.first(kAddrBytes), b.first(std::min(b.size(), kMaxTransport)), 0);
}

// tcp_v4_rcv's order: the fixed header, doff, the options there, the checksum over all of it.
std::string_view tcp_oracle(std::span<const uint8_t> addrs, std::span<const uint8_t> b, bool verify) {
  if (b.size() < 20) return "Truncated";
  const std::size_t doff = b[12] >> 4;
  if (doff < 5) return "BadDataOffset";
  if (doff * 4 > b.size()) return "TruncatedOptions";
  if (verify && slow_pseudo_sum(addrs, 6, b) != 0xFFFF) return "BadChecksum";
  return "ok";
}

// tcp_parse_options restated as Linux 6.1 writes it (a length counting down, a pointer counting
// up), without the SYN and sysctl conditions, which the model leaves to the protocol.
w::TcpOptions tcp_options_oracle(std::span<const uint8_t> area) {
  w::TcpOptions o;
  std::size_t ptr = 0;
  long length = static_cast<long>(area.size());
  while (length > 0) {
    const uint8_t opcode = area[ptr++];
    if (opcode == 0) return o;  // TCPOPT_EOL
    if (opcode == 1) {          // TCPOPT_NOP
      --length;
      continue;
    }
    if (length < 2) return o;  // "silly options"
    const long opsize = area[ptr++];
    if (opsize < 2) return o;
    if (opsize > length) return o;  // "don't parse partial options"
    const auto val = area.subspan(ptr, static_cast<std::size_t>(opsize - 2));
    if (opcode == 2) {
      if (opsize == 4) o.mss = be16(val, 0);
    } else if (opcode == 3) {
      if (opsize == 3) {
        o.has_wscale = true;
        o.wscale = val[0];
      }
    } else if (opcode == 4) {
      if (opsize == 2) o.sack_permitted = true;
    } else if (opcode == 8) {
      if (opsize == 10) {
        o.has_timestamp = true;
        o.tsval = be32(val, 0);
        o.tsecr = be32(val, 4);
      }
    } else if (opcode == 5) {
      if (opsize >= 10 && (opsize - 2) % 8 == 0) {
        const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(opsize - 2) / 8, 4);
        for (std::size_t i = 0; i < n; ++i) o.sack[i] = {be32(val, 8 * i), be32(val, 8 * i + 4)};
        o.num_sack = static_cast<uint8_t>(n);
      }
    } else {
      ++o.unknown;
    }
    ptr += static_cast<std::size_t>(opsize - 2);
    length -= opsize;
  }
  return o;
}

// What the options come back as after emit: unknown kinds are not emitted, SACK blocks only as
// many as fit beside the others (the rest, and stale entries past num_sack, read back as 0).
w::TcpOptions tcp_options_after_emit(w::TcpOptions o) {
  std::size_t others = 0;
  if (o.mss != 0) others += 4;
  if (o.has_timestamp) others += 12;
  if (o.sack_permitted && !o.has_timestamp) others += 4;
  if (o.has_wscale) others += 4;
  std::size_t fit = 0;
  if (o.num_sack != 0 && others + 12 <= 40) fit = std::min<std::size_t>(o.num_sack, (40 - others - 4) / 8);
  o.num_sack = static_cast<uint8_t>(fit);
  for (std::size_t i = fit; i < o.sack.size(); ++i) o.sack[i] = {};
  o.unknown = 0;
  return o;
}

void tcp_round_trip(std::span<const uint8_t> addrs, const w::TcpRepr& repr, std::span<const uint8_t> b) {
  const w::Ipv4Addr src{{addrs[0], addrs[1], addrs[2], addrs[3]}};
  const w::Ipv4Addr dst{{addrs[4], addrs[5], addrs[6], addrs[7]}};
  const std::size_t in_hlen = static_cast<std::size_t>(b[12] >> 4) * 4;
  require(repr.payload_len == b.size() - in_hlen, "tcp repr payload length");
  const std::size_t olen = repr.options_len();
  require(olen % 4 == 0 && olen <= w::kTcpMaxOptionsLen, "tcp options do not fit in 40 bytes");
  std::vector<uint8_t> out(repr.total_len());
  std::copy(b.begin() + static_cast<long>(in_hlen), b.end(), out.begin() + static_cast<long>(repr.header_len()));
  repr.emit(out, src, dst);
  require(static_cast<std::size_t>(out[12] >> 4) * 4 == repr.header_len() && (out[12] & 0x0F) == 0,
          "tcp emitted data offset");
  require(std::equal(out.begin(), out.begin() + 12, b.begin()) && out[13] == b[13] &&
              std::equal(out.begin() + 14, out.begin() + 16, b.begin() + 14) &&
              std::equal(out.begin() + 18, out.begin() + 20, b.begin() + 18),
          "tcp emitted fixed header differs from the input");
  require(std::equal(out.begin() + static_cast<long>(repr.header_len()), out.end(),
                     b.begin() + static_cast<long>(in_hlen)),
          "tcp emitted payload differs from the input");
  require(slow_pseudo_sum(addrs, 6, out) == 0xFFFF, "tcp emitted checksum does not verify");
  const auto back = w::TcpRepr::parse(out, src, dst);
  if (!back) fail("tcp emitted segment does not parse: %s", std::string(tcp_error_name(back.error())).c_str());
  const w::TcpRepr& got = *back;
  require(got.src_port == repr.src_port && got.dst_port == repr.dst_port && got.seq == repr.seq &&
              got.ack == repr.ack && got.flags == repr.flags && got.window == repr.window &&
              got.urgent == repr.urgent && got.payload_len == repr.payload_len &&
              got.options == tcp_options_after_emit(repr.options),
          "tcp round trip");
  // Linux's layout is a fixed point: what was emitted emits again to the same bytes.
  std::vector<uint8_t> again(back->total_len());
  std::copy(out.begin() + static_cast<long>(repr.header_len()), out.end(),
            again.begin() + static_cast<long>(back->header_len()));
  back->emit(again, src, dst);
  require(again == out, "tcp emit of an emitted segment differs");
}

std::string check_tcp_at(std::span<const uint8_t> addrs, std::span<const uint8_t> b, int depth) {
  const w::Ipv4Addr src{{addrs[0], addrs[1], addrs[2], addrs[3]}};
  const w::Ipv4Addr dst{{addrs[4], addrs[5], addrs[6], addrs[7]}};
  const auto r = w::TcpRepr::parse(b, src, dst);
  require_same(named(r, tcp_error_name), tcp_oracle(addrs, b, true), "tcp parse");
  const auto skip = w::TcpRepr::parse(b, src, dst, w::ChecksumCheck::Skip);
  require_same(named(skip, tcp_error_name), tcp_oracle(addrs, b, false), "tcp parse without the checksum");
  const auto v = w::TcpPacket::checked(b);
  require(v.ok() == skip.ok(), "tcp view and repr disagree");
  if (v) {
    touch(v->options());
    touch(v->payload());
    touch(v->bytes());
    sink = v->src_port() ^ v->dst_port() ^ v->seq() ^ v->ack() ^ v->flags() ^ v->window() ^ v->checksum() ^
           v->urgent() ^ static_cast<uint32_t>(v->ae());
    require(v->header_len() >= w::kTcpHeaderLen && v->header_len() <= b.size() &&
                v->options().size() == v->header_len() - w::kTcpHeaderLen &&
                v->options().size() <= w::kTcpMaxOptionsLen && v->payload().size() == b.size() - v->header_len(),
            "tcp view bounds");
    const bool slow = slow_pseudo_sum(addrs, 6, b) == 0xFFFF;
    require(v->verify(src, dst) == slow, "tcp verify differs from the slow sum");
    require(w::tcp_pseudo_sum(src, dst, b).verifies() == slow, "tcp_pseudo_sum differs from the slow sum");
    require(r.ok() == slow, "tcp parse's checksum verdict");
    const w::TcpOptions want = tcp_options_oracle(v->options());
    require(w::tcp_parse_options(v->options()) == want, "tcp options differ from Linux's walk");
    require(skip->options == want && skip->seq == v->seq() && skip->ack == v->ack() && skip->flags == v->flags() &&
                skip->window == v->window() && skip->urgent == v->urgent() && skip->src_port == v->src_port() &&
                skip->dst_port == v->dst_port(),
            "tcp repr fields");
    tcp_round_trip(addrs, *skip, b);
  }
  if (!r && r.error() == w::TcpError::BadChecksum && depth == 0) {
    std::vector<uint8_t> fixed(b.begin(), b.end());
    fixed[16] = fixed[17] = 0;
    const uint16_t c = w::tcp_checksum(src, dst, fixed);
    fixed[16] = static_cast<uint8_t>(c >> 8);
    fixed[17] = static_cast<uint8_t>(c);
    require(check_tcp_at(addrs, fixed, depth + 1) == "tcp.ok", "tcp checksum filled in does not check");
  }
  return outcome("tcp", named(r, tcp_error_name));
}

std::string check_tcp(std::span<const uint8_t> in) {
  if (in.size() < kAddrBytes) return outcome("tcp", "short");
  const auto b = in.subspan(kAddrBytes);
  return check_tcp_at(in.first(kAddrBytes), b.first(std::min(b.size(), kMaxTransport)), 0);
}

}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::Ethernet: return "ethernet";
    case Format::Arp: return "arp";
    case Format::Ipv4: return "ipv4";
    case Format::Icmp: return "icmp";
    case Format::Checksum: return "checksum";
    case Format::Udp: return "udp";
    case Format::Tcp: return "tcp";
  }
  return "?";
}

std::optional<Format> format_from_name(std::string_view s) {
  for (Format f : kFormats) {
    if (format_name(f) == s) return f;
  }
  return std::nullopt;
}

std::string check_input(Format f, std::span<const uint8_t> input) {
  switch (f) {
    case Format::Ethernet: return check_ethernet(input);
    case Format::Arp: return check_arp(input);
    case Format::Ipv4: return check_ipv4(input, 0);
    case Format::Icmp: return check_icmp(input);
    case Format::Checksum: return check_checksum(input);
    case Format::Udp: return check_udp(input);
    case Format::Tcp: return check_tcp(input);
  }
  return {};
}

}  // namespace vnic::fuzz::wire

// The wire fuzz targets' seeds: the hand-made packets of the unit tests (checked with tshark),
// emitted messages of every kind, and each malformed case in Linux's order.
#include "wire_fuzz_seeds.hpp"

#include <algorithm>
#include <string_view>

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

using Bytes = std::vector<uint8_t>;

Bytes hex(std::string_view s) {
  Bytes v;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(static_cast<uint8_t>(nibble(s[i]) << 4 | nibble(s[i + 1])));
  return v;
}

Bytes cat(const Bytes& a, const Bytes& b) {
  Bytes v = a;
  v.insert(v.end(), b.begin(), b.end());
  return v;
}

Bytes first(const Bytes& b, std::size_t n) { return Bytes(b.begin(), b.begin() + static_cast<long>(n)); }

// The IPv4 header checksum recomputed after an edit (so a seed reaches the check it is about).
Bytes ip_fixed(Bytes b) {
  const std::size_t hl = std::min<std::size_t>(std::size_t{b[0] & 0x0Fu} * 4, b.size());
  b[10] = b[11] = 0;
  const uint16_t c = w::internet_checksum(std::span(b).first(hl));
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  return b;
}
Bytes icmp_fixed(Bytes b) {
  b[2] = b[3] = 0;
  const uint16_t c = w::internet_checksum(b);
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}
Bytes icmp_bytes(const w::IcmpRepr& r) {
  Bytes out(r.buffer_len());
  r.emit(out);
  return out;
}
Bytes ip_datagram(w::IpProtocol proto, const Bytes& payload, uint8_t ttl = 64) {
  w::Ipv4Repr r;
  r.src = w::Ipv4Addr{{192, 168, 1, 1}};
  r.dst = w::Ipv4Addr{{192, 168, 1, 10}};
  r.protocol = proto;
  r.ttl = ttl;
  r.tos = 0xc0;
  r.ident = 0x5678;
  r.payload_len = static_cast<uint16_t>(payload.size());
  Bytes out(r.header_len());
  r.emit(out);
  return cat(out, payload);
}
Bytes frame(std::string_view header_hex, const Bytes& payload) { return cat(hex(header_hex), payload); }

// The unit tests' packets (stack/tests/wire_*_test.cpp).
const Bytes kPingIp = hex(
    "450000544d2e400040016a1fc0a8010ac0a80101080090481c2a0001c3b2a1650000000020a1070000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const Bytes kPingReplyIp = hex(
    "45000054a1b000004001559dc0a80101c0a8010a000098481c2a0001c3b2a1650000000020a1070000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const Bytes kPortUnreachableIp = hex(
    "45c0003d567800004001a02cc0a80101c0a8010a03031cd40000000045000021123440004011a53cc0a8010ac0a8"
    "01019c400009000d000068656c6c6f");
const Bytes kFragNeededIp = hex(
    "45c00038333300004001c376c0a80101c0a8010a0304eb73000005784500001c222240003f064e03c0a8010a0a00"
    "00050001020304050607");
const Bytes kRouterAlertIp = hex("46c00020000040000102424fc0a8010ae0000016940400001600" "09e9e0000016");
const Bytes kArpRequest = hex("0001080006040001525400123456c0a8010a000000000000c0a80101");
const std::string_view kToB = "5254006789ab5254001234560800";
const std::string_view kToA = "5254001234565254006789ab0800";

// UDP and TCP inputs: the pseudo-header's addresses (10.0.0.1 to 10.0.0.2), then the bytes.
const w::Ipv4Addr kSrc{{10, 0, 0, 1}};
const w::Ipv4Addr kDst{{10, 0, 0, 2}};
Bytes with_addrs(const Bytes& l4) { return cat(hex("0a0000010a000002"), l4); }
Bytes udp_datagram(uint16_t sport, uint16_t dport, const Bytes& payload, bool checksum = true) {
  const w::UdpRepr r{sport, dport, static_cast<uint16_t>(payload.size())};
  Bytes out(r.total_len());
  std::copy(payload.begin(), payload.end(), out.begin() + 8);
  r.emit(out, kSrc, kDst, checksum);
  return out;
}
Bytes udp_fixed(Bytes b) {
  b[6] = b[7] = 0;
  const uint16_t c = w::udp_checksum(kSrc, kDst, std::span<const uint8_t>(b).first(std::min<std::size_t>(
                                                     b.size(), static_cast<std::size_t>(b[4] << 8 | b[5]))));
  b[6] = static_cast<uint8_t>(c >> 8);
  b[7] = static_cast<uint8_t>(c);
  return b;
}
Bytes tcp_segment(const w::TcpRepr& r, const Bytes& payload = {}) {
  Bytes out(r.header_len() + payload.size());
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<long>(r.header_len()));
  w::TcpRepr rp = r;
  rp.payload_len = static_cast<uint16_t>(payload.size());
  rp.emit(out, kSrc, kDst);
  return out;
}
// A segment with a hand-made options area (a multiple of 4 bytes) and a good checksum.
Bytes tcp_fixed(Bytes b) {
  b[16] = b[17] = 0;
  const uint16_t c = w::tcp_checksum(kSrc, kDst, b);
  b[16] = static_cast<uint8_t>(c >> 8);
  b[17] = static_cast<uint8_t>(c);
  return b;
}
Bytes tcp_with_options(std::string_view options_hex, const Bytes& payload = {}) {
  const Bytes opts = hex(options_hex);
  Bytes b = hex("9c40145100000001000000005010faf000000000");  // 40000 > 5201, ACK, window 64240
  b[12] = static_cast<uint8_t>(((20 + opts.size()) / 4) << 4);
  b = cat(cat(b, opts), payload);
  return tcp_fixed(b);
}
w::TcpRepr linux_syn() {  // tcpdump: "mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7"
  w::TcpRepr r;
  r.src_port = 40000;
  r.dst_port = 5201;
  r.seq = 0xDEADBEEF;
  r.flags = w::kTcpSyn;
  r.window = 64240;
  r.options.mss = 1460;
  r.options.sack_permitted = true;
  r.options.has_timestamp = true;
  r.options.tsval = 0x01020304;
  r.options.has_wscale = true;
  r.options.wscale = 7;
  return r;
}

}  // namespace

std::vector<WireSeed> wire_seed_corpus() {
  std::vector<WireSeed> s;
  auto add = [&](Format f, std::string name, Bytes b) { s.push_back({f, std::move(name), std::move(b)}); };
  const Bytes quote = Bytes(kFragNeededIp.begin() + 28, kFragNeededIp.end());  // an IP header + 8 bytes
  const Bytes echo_request = Bytes(kPingIp.begin() + 20, kPingIp.end());

  // ---- checksum: two split points, a word index, a new word, then the data ----
  add(Format::Checksum, "checksum.ok--rfc1071-example-split-odd", cat(hex("0305010000"), hex("0001f203f4f5f6f7")));
  add(Format::Checksum, "checksum.ok--ping-header-ttl-to-63", cat(hex("0b0e043f01"), first(kPingIp, 20)));
  add(Format::Checksum, "checksum.ok--odd-length", cat(hex("0102000000"), hex("123456")));
  add(Format::Checksum, "checksum.ok--all-ones-1500", cat(hex("ff7f00ffff"), Bytes(1500, 0xFF)));
  add(Format::Checksum, "checksum.ok--to-all-zeros", cat(hex("0000000000"), hex("1234")));

  // ---- ICMP messages ----
  add(Format::Icmp, "icmp.ok--linux-ping-echo-request", echo_request);
  add(Format::Icmp, "icmp.ok--linux-ping-echo-reply", Bytes(kPingReplyIp.begin() + 20, kPingReplyIp.end()));
  add(Format::Icmp, "icmp.ok--port-unreachable-quoting-udp", Bytes(kPortUnreachableIp.begin() + 20, kPortUnreachableIp.end()));
  add(Format::Icmp, "icmp.ok--fragmentation-needed-mtu-1400", Bytes(kFragNeededIp.begin() + 20, kFragNeededIp.end()));
  add(Format::Icmp, "icmp.ok--time-exceeded", icmp_bytes(w::IcmpRepr::time_exceeded(w::IcmpTimeExceeded::Ttl, quote)));
  add(Format::Icmp, "icmp.ok--parameter-problem-pointer-22", icmp_bytes(w::IcmpRepr::parameter_problem(22, quote)));
  add(Format::Icmp, "icmp.ok--redirect-host",
      icmp_bytes(w::IcmpRepr::redirect(1, w::Ipv4Addr{{192, 168, 1, 254}}, quote)));
  add(Format::Icmp, "icmp.ok--echo-without-data", icmp_bytes(w::IcmpRepr::echo_request(1, 2, {})));
  add(Format::Icmp, "icmp.Unsupported--timestamp-request", icmp_fixed(hex("0d000000000100010000000000000000000000000000")));
  add(Format::Icmp, "icmp.Unsupported--extended-echo-probe", icmp_fixed(hex("2a00000000010100")));
  add(Format::Icmp, "icmp.UnknownType--type-200", icmp_fixed(hex("c8000000000000000102")));
  {
    Bytes b = echo_request;
    b[40] ^= 0x01;
    add(Format::Icmp, "icmp.BadChecksum--echo-data-changed", b);
  }
  add(Format::Icmp, "icmp.Truncated--four-bytes-that-check", icmp_fixed(hex("08000000")));
  add(Format::Icmp, "icmp.BadChecksum--seven-bytes", first(echo_request, 7));
  add(Format::Icmp, "icmp.QuoteTruncated--header-and-7-bytes",
      icmp_bytes(w::IcmpRepr::dest_unreachable(w::IcmpUnreachable::Port, first(quote, 27))));
  add(Format::Icmp, "icmp.QuoteTruncated--under-20-bytes",
      icmp_bytes(w::IcmpRepr::time_exceeded(w::IcmpTimeExceeded::Reassembly, first(quote, 19))));
  {
    Bytes q = quote;
    q[0] = 0x44;
    add(Format::Icmp, "icmp.QuoteBadHeader--quoted-ihl-4", icmp_bytes(w::IcmpRepr::dest_unreachable(w::IcmpUnreachable::Host, q)));
    q[0] = 0x46;
    add(Format::Icmp, "icmp.QuoteTruncated--quoted-ihl-6",
        icmp_bytes(w::IcmpRepr::dest_unreachable(w::IcmpUnreachable::Host, q)));
  }

  // ---- IPv4 datagrams ----
  add(Format::Ipv4, "icmp.ok--linux-ping", kPingIp);
  add(Format::Ipv4, "icmp.ok--port-unreachable", kPortUnreachableIp);
  add(Format::Ipv4, "icmp.ok--fragmentation-needed", kFragNeededIp);
  add(Format::Ipv4, "ipv4.ok--router-alert-option-igmp", kRouterAlertIp);
  add(Format::Ipv4, "ipv4.ok--udp", ip_datagram(w::IpProtocol::Udp, hex("9c400009000d000068656c6c6f")));
  add(Format::Ipv4, "ipv4.ok--padded-to-46-bytes", cat(kRouterAlertIp, Bytes(14, 0)));
  {
    Bytes b = kPingIp;
    b[6] = 0x20;  // MF: a first fragment is not handed to ICMP
    add(Format::Ipv4, "ipv4.ok--first-fragment", ip_fixed(b));
    b[6] = 0x80;  // the reserved flag
    b[7] = 0x05;
    add(Format::Ipv4, "ipv4.ok--reserved-flag-and-offset", ip_fixed(b));
  }
  {
    Bytes b = first(kPingIp, 20);
    b[0] = 0x4f;  // 40 bytes of options: NOPs, a record route, a timestamp, EOL
    b[3] = 60;
    b[9] = 17;  // UDP (no payload): the datagram's end here is not an ICMP message's
    const Bytes opts = hex("0101070b04000000000000000000000044100500000000000000000000000000000000000000");
    b.insert(b.end(), opts.begin(), opts.end());
    b.resize(60, 0);
    add(Format::Ipv4, "ipv4.ok--forty-bytes-of-options", ip_fixed(b));
    b[21] = 0x07;  // a record route whose length runs past the header
    b[22] = 0x30;
    add(Format::Ipv4, "ipv4.ok--malformed-option-list", ip_fixed(b));
  }
  add(Format::Ipv4, "ipv4.Truncated--19-bytes", first(kPingIp, 19));
  {
    Bytes b = kPingIp;
    b[0] = 0x65;
    add(Format::Ipv4, "ipv4.BadVersion--version-6", ip_fixed(b));
    b[0] = 0x44;
    add(Format::Ipv4, "ipv4.BadHeaderLength--ihl-4", b);
    b = first(kPingIp, 24);
    b[0] = 0x47;
    add(Format::Ipv4, "ipv4.OptionsTruncated--ihl-7-in-24-bytes", b);
    b = kPingIp;
    b[8] = 63;  // TTL changed, checksum kept
    add(Format::Ipv4, "ipv4.BadChecksum--ttl-changed", b);
    b[3] = 0xff;
    add(Format::Ipv4, "ipv4.BadChecksum--and-total-length-too-big", b);
    add(Format::Ipv4, "ipv4.TotalLengthTooBig--cut-at-60", first(kPingIp, 60));
    b = kPingIp;
    b[3] = 19;
    add(Format::Ipv4, "ipv4.TotalLengthTooSmall--19", ip_fixed(b));
    b = kPingIp;
    b[30] ^= 0xff;  // inside the ICMP message
    add(Format::Ipv4, "icmp.BadChecksum--echo-changed", b);
  }

  // ---- ARP ----
  add(Format::Arp, "arp.ok--linux-request", kArpRequest);
  add(Format::Arp, "arp.ok--linux-request-with-padding", cat(kArpRequest, Bytes(18, 0)));
  {
    w::ArpRepr reply{w::ArpOp::Reply, w::ArpHardware::Ethernet, w::MacAddr{{0x52, 0x54, 0x00, 0x67, 0x89, 0xab}},
                     w::Ipv4Addr{{192, 168, 1, 1}}, w::MacAddr{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
                     w::Ipv4Addr{{192, 168, 1, 10}}};
    Bytes b(28);
    reply.emit(b);
    add(Format::Arp, "arp.ok--reply", b);
    reply.hardware = w::ArpHardware::Ieee802;
    reply.emit(b);
    add(Format::Arp, "arp.ok--ieee802-hardware-type", b);
  }
  add(Format::Arp, "arp.Truncated--27-bytes", first(kArpRequest, 27));
  {
    Bytes b = kArpRequest;
    b[4] = 8;
    add(Format::Arp, "arp.BadAddressLength--hln-8", b);
    b = kArpRequest;
    b[1] = 2;
    add(Format::Arp, "arp.UnsupportedHardware--htype-2", b);
    b = kArpRequest;
    b[2] = 0x86, b[3] = 0xdd;
    add(Format::Arp, "arp.UnsupportedProtocol--ipv6", b);
    b = kArpRequest;
    b[7] = 3;
    add(Format::Arp, "arp.UnsupportedOperation--rarp-request", b);
  }

  // ---- Ethernet frames (and what they carry) ----
  add(Format::Ethernet, "icmp.ok--linux-ping", frame(kToB, kPingIp));
  add(Format::Ethernet, "icmp.ok--linux-ping-reply", frame(kToA, kPingReplyIp));
  add(Format::Ethernet, "icmp.ok--port-unreachable", frame(kToA, kPortUnreachableIp));
  add(Format::Ethernet, "icmp.ok--8021q-vid-100-pcp-5", frame("5254006789ab5254001234568100a0640800", kPingIp));
  add(Format::Ethernet, "arp.ok--linux-request-padded",
      frame("ffffffffffff5254001234560806", cat(kArpRequest, Bytes(18, 0))));
  add(Format::Ethernet, "arp.ok--8021ad-s-tag-and-c-tag", frame("ffffffffffff52540012345688a8700a810000140806", kArpRequest));
  add(Format::Ethernet, "ipv4.ok--router-alert-igmp", frame("01005e000016525400123456" "0800", kRouterAlertIp));
  add(Format::Ethernet, "ethernet.ok--ipv6-not-followed", frame("333300000001525400123456" "86dd", hex("6000000000003afe")));
  add(Format::Ethernet, "ethernet.ok--8023-length-field", frame("0180c2000000525400123456" "0026", hex("424203000000")));
  add(Format::Ethernet, "ethernet.ok--third-tag-is-the-type",
      frame("ffffffffffff52540012345688a8000a81000014", hex("810000300800")));
  add(Format::Ethernet, "ethernet.Truncated--13-bytes", hex("ffffffffffff525400123456" "08"));
  add(Format::Ethernet, "ethernet.TruncatedTag--8021q-tag-cut", hex("5254006789ab5254001234568100a064"));
  add(Format::Ethernet, "ethernet.TruncatedTag--inner-tag-cut", hex("ffffffffffff52540012345688a8700a8100"));
  {
    Bytes b = kPingIp;
    b[8] = 1;
    add(Format::Ethernet, "ipv4.BadChecksum--ttl-changed", frame(kToB, b));
    b = kArpRequest;
    b[7] = 4;
    add(Format::Ethernet, "arp.UnsupportedOperation--rarp-reply", frame("ffffffffffff5254001234560806", b));
  }

  // ---- UDP datagrams (after the pseudo-header's addresses) ----
  add(Format::Udp, "udp.ok--dns-query",
      with_addrs(udp_datagram(53000, 53, hex("12340100000100000000000003777777076578616d706c6503636f6d0000010001"))));
  add(Format::Udp, "udp.ok--no-checksum", with_addrs(udp_datagram(9, 9, hex("68656c6c6f"), false)));
  add(Format::Udp, "udp.ok--empty", with_addrs(udp_datagram(1, 2, {})));
  add(Format::Udp, "udp.ok--link-padding-after-the-length",
      with_addrs(cat(udp_datagram(68, 67, hex("0102")), Bytes(8, 0))));
  {
    // A payload word chosen so that the sum comes to 0: sent as 0xFFFF (RFC 768).
    Bytes b = udp_datagram(4000, 4001, hex("00000000"), false);
    const uint16_t sum = static_cast<uint16_t>(~w::udp_pseudo_sum(kSrc, kDst, b).checksum());
    const uint16_t wanted = static_cast<uint16_t>(0xFFFF - sum);
    b[8] = static_cast<uint8_t>(wanted >> 8);
    b[9] = static_cast<uint8_t>(wanted);
    add(Format::Udp, "udp.ok--sum-zero-sent-as-ffff", with_addrs(udp_fixed(b)));
  }
  add(Format::Udp, "udp.short--seven-address-bytes", hex("0a0000010a0000"));
  add(Format::Udp, "udp.Truncated--7-bytes", with_addrs(first(udp_datagram(1, 2, hex("aa")), 7)));
  {
    Bytes b = udp_datagram(5000, 5001, hex("0102030405"));
    Bytes c = b;
    c[5] = 0xff;  // length beyond the bytes there
    add(Format::Udp, "udp.BadLength--length-past-the-end", with_addrs(c));
    c = b;
    c[4] = 0;
    c[5] = 7;
    add(Format::Udp, "udp.BadLength--length-7", with_addrs(c));
    c = b;
    c[12] ^= 0x40;
    add(Format::Udp, "udp.BadChecksum--payload-changed", with_addrs(c));
    c = b;
    c[5] = 10;  // shorter than the bytes: the checksum is over the length field's bytes
    add(Format::Udp, "udp.BadChecksum--length-cut-checksum-kept", with_addrs(c));
    add(Format::Udp, "udp.ok--length-cut-checksum-fixed", with_addrs(udp_fixed(c)));
  }

  // ---- TCP segments (after the pseudo-header's addresses) ----
  add(Format::Tcp, "tcp.ok--linux-syn-mss-sackok-ts-wscale", with_addrs(tcp_segment(linux_syn())));
  {
    w::TcpRepr r = linux_syn();
    r.src_port = 5201;
    r.dst_port = 40000;
    r.seq = 0x11223344;
    r.ack = 0xDEADBEF0;
    r.flags = w::kTcpSyn | w::kTcpAck;
    r.window = 65160;
    r.options.tsecr = 0x01020304;
    r.options.tsval = 0x0a0b0c0d;
    add(Format::Tcp, "tcp.ok--linux-syn-ack", with_addrs(tcp_segment(r)));
    w::TcpRepr d;
    d.src_port = 40000;
    d.dst_port = 5201;
    d.seq = 0xDEADBEF0;
    d.ack = 0x11223345;
    d.flags = w::kTcpAck | w::kTcpPsh;
    d.window = 502;
    d.options.has_timestamp = true;
    d.options.tsval = 0x01020400;
    d.options.tsecr = 0x0a0b0c0d;
    add(Format::Tcp, "tcp.ok--data-with-timestamps", with_addrs(tcp_segment(d, hex("48656c6c6f2c20776f726c640a"))));
    d.flags = w::kTcpAck;
    d.options.num_sack = 3;
    d.options.sack[0] = {0x11224000, 0x11224800};
    d.options.sack[1] = {0x11225000, 0x11225800};
    d.options.sack[2] = {0x11226000, 0x11226800};
    add(Format::Tcp, "tcp.ok--ack-with-ts-and-3-sack-blocks", with_addrs(tcp_segment(d)));
    d.options.has_timestamp = false;
    d.options.num_sack = 4;
    d.options.sack[3] = {0x11227000, 0x11227800};
    add(Format::Tcp, "tcp.ok--ack-with-4-sack-blocks", with_addrs(tcp_segment(d)));
    w::TcpRepr f;
    f.src_port = 40000;
    f.dst_port = 5201;
    f.flags = w::kTcpFin | w::kTcpAck | w::kTcpUrg | w::kTcpEce | w::kTcpCwr;
    f.urgent = 1;
    add(Format::Tcp, "tcp.ok--every-flag-but-syn-rst-no-options", with_addrs(tcp_segment(f, hex("00"))));
  }
  add(Format::Tcp, "tcp.ok--mss-wrong-length-3", with_addrs(tcp_with_options("0203050101010101")));
  add(Format::Tcp, "tcp.ok--silly-length-1", with_addrs(tcp_with_options("020405b4080100000000000000000000")));
  add(Format::Tcp, "tcp.ok--partial-option-at-the-end", with_addrs(tcp_with_options("0101080c0102030405060708")));
  add(Format::Tcp, "tcp.ok--eol-then-junk", with_addrs(tcp_with_options("00020405b4030307")));
  add(Format::Tcp, "tcp.ok--experimental-and-md5-kinds",
      with_addrs(tcp_with_options("fe04f9890101131200112233445566778899aabbccddeeff01010000")));
  add(Format::Tcp, "tcp.ok--wscale-15-and-two-mss", with_addrs(tcp_with_options("03030f01020405b4020405dc")));
  add(Format::Tcp, "tcp.ok--two-sack-options", with_addrs(tcp_with_options(
      "0101050a00000010000000200101051200000030000000400000005000000060")));
  add(Format::Tcp, "tcp.ok--sack-bad-length-11", with_addrs(tcp_with_options("0101050b000000100000002000000000")));
  add(Format::Tcp, "tcp.ok--sackok-wrong-length-and-ts-9",
      with_addrs(tcp_with_options("040300080901020304050607")));
  add(Format::Tcp, "tcp.ok--forty-bytes-of-nops", with_addrs(tcp_with_options(
      "01010101010101010101010101010101010101010101010101010101010101010101010101010101")));
  add(Format::Tcp, "tcp.ok--reserved-bits-and-ae", [] {
    Bytes b = tcp_with_options("");
    b[12] |= 0x0f;
    return with_addrs(tcp_fixed(b));
  }());
  add(Format::Tcp, "tcp.short--no-addresses", hex("0a000001"));
  add(Format::Tcp, "tcp.Truncated--19-bytes", with_addrs(first(tcp_segment(linux_syn()), 19)));
  {
    Bytes b = tcp_segment(linux_syn());
    Bytes c = b;
    c[12] = 0x40;
    add(Format::Tcp, "tcp.BadDataOffset--doff-4", with_addrs(c));
    c[12] = 0x00;
    add(Format::Tcp, "tcp.BadDataOffset--doff-0", with_addrs(c));
    c = b;
    c[12] = 0xf0;
    add(Format::Tcp, "tcp.TruncatedOptions--doff-15-in-40-bytes", with_addrs(c));
    c = b;
    c[24] ^= 0x01;
    add(Format::Tcp, "tcp.BadChecksum--option-changed", with_addrs(c));
    c = b;
    c[0] = 0x0a;  // the addresses matter: the same bytes from another source
    add(Format::Tcp, "tcp.BadChecksum--port-changed", with_addrs(c));
    add(Format::Tcp, "tcp.BadChecksum--other-source-address", cat(hex("0a0000030a000002"), b));
  }
  return s;
}

}  // namespace vnic::fuzz::wire

// Tests of IPv4 addresses and prefixes, the header view and Ipv4Repr (RFC 791 3.1): real headers,
// every malformed case in ip_rcv_core's order and the counters Linux gives it, options, the
// in-place TTL decrement.
#include <gtest/gtest.h>

#include <cstring>
#include <string_view>
#include <vector>

#include "support/hex.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack::wire {
namespace {

using vnic::stack::testing::hex;

// A Linux ping's datagram (192.168.1.10 -> 192.168.1.1, DF, TTL 64, 56 data bytes; checksum
// 0x6a1f) and an IGMP report with a Router Alert option (RFC 2113; IHL 6, TTL 1, TOS 0xc0;
// checksum 0x424f). Both checked with tshark.
const auto kPing = hex(
    "450000544d2e400040016a1fc0a8010ac0a80101080090481c2a0001c3b2a1650000000020a1070000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const auto kRouterAlert = hex("46c00020000040000102424fc0a8010ae0000016940400001600" "09e9e0000016");

std::vector<uint8_t> refill_checksum(std::vector<uint8_t> b) {
  const std::size_t hl = std::size_t{b[0] & 0x0Fu} * 4;
  b[10] = b[11] = 0;
  const uint16_t c = internet_checksum(std::span(b).first(hl));
  b[10] = static_cast<uint8_t>(c >> 8);
  b[11] = static_cast<uint8_t>(c);
  return b;
}

// ---- Addresses ----

TEST(WireIpv4Addr, ParseAndPrint) {
  const auto a = Ipv4Addr::parse("192.168.1.10");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (Ipv4Addr{{192, 168, 1, 10}}));
  EXPECT_EQ(a->str(), "192.168.1.10");
  EXPECT_EQ(a->to_u32(), 0xC0A8010Au);
  EXPECT_EQ(Ipv4Addr::from_u32(0xC0A8010Au), *a);
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0"), Ipv4Addr::any());
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255"), Ipv4Addr::broadcast());
}

// As inet_pton: four decimal parts 0..255, no leading zeros (inet_aton would read them as octal).
TEST(WireIpv4Addr, RefusesEverythingElse) {
  for (std::string_view s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..2.3",
                             " 1.2.3.4", "1.2.3.4 ", "+1.2.3.4", "1.2.3.-4", "1.2.3.4.", "a.b.c.d", "1234.1.1.1",
                             "0x1.2.3.4", "1.2.3.4/24"}) {
    EXPECT_FALSE(Ipv4Addr::parse(s)) << s;
  }
}

TEST(WireIpv4Addr, Kinds) {
  EXPECT_TRUE(Ipv4Addr::any().is_unspecified());
  EXPECT_TRUE(Ipv4Addr::broadcast().is_broadcast());
  EXPECT_TRUE(Ipv4Addr::parse("224.0.0.1")->is_multicast());      // RFC 5771: 224.0.0.0/4
  EXPECT_TRUE(Ipv4Addr::parse("239.255.255.255")->is_multicast());
  EXPECT_FALSE(Ipv4Addr::parse("240.0.0.1")->is_multicast());
  EXPECT_FALSE(Ipv4Addr::parse("223.255.255.255")->is_multicast());
  EXPECT_TRUE(Ipv4Addr::parse("127.0.0.1")->is_loopback());       // RFC 1122 3.2.1.3: 127/8
  EXPECT_TRUE(Ipv4Addr::parse("127.255.0.9")->is_loopback());
  EXPECT_TRUE(Ipv4Addr::parse("169.254.3.4")->is_link_local());   // RFC 3927
  EXPECT_FALSE(Ipv4Addr::parse("192.168.1.1")->is_multicast());
}

TEST(WireIpv4Addr, MasksAndPrefixLengths) {
  for (uint8_t n = 0; n <= 32; ++n) EXPECT_EQ(Ipv4Addr::netmask(n).mask_prefix_len(), n);
  EXPECT_EQ(Ipv4Addr::netmask(24), Ipv4Addr::parse("255.255.255.0"));
  EXPECT_EQ(Ipv4Addr::netmask(0), Ipv4Addr::any());
  EXPECT_EQ(Ipv4Addr::netmask(32), Ipv4Addr::broadcast());
  EXPECT_FALSE(Ipv4Addr::parse("255.0.255.0")->mask_prefix_len());
  EXPECT_FALSE(Ipv4Addr::parse("0.255.255.255")->mask_prefix_len());
  EXPECT_FALSE(Ipv4Addr::parse("255.255.255.254")->mask_prefix_len() != 31);
}

TEST(WireIpv4Cidr, ContainsNetworkBroadcast) {
  const auto c = Ipv4Cidr::parse("192.168.1.10/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "192.168.1.10/24");
  EXPECT_EQ(c->netmask(), Ipv4Addr::parse("255.255.255.0"));
  EXPECT_EQ(c->network(), Ipv4Cidr::parse("192.168.1.0/24"));
  EXPECT_EQ(c->broadcast(), Ipv4Addr::parse("192.168.1.255"));
  EXPECT_TRUE(c->contains(*Ipv4Addr::parse("192.168.1.1")));
  EXPECT_TRUE(c->contains(*Ipv4Addr::parse("192.168.1.255")));
  EXPECT_FALSE(c->contains(*Ipv4Addr::parse("192.168.2.1")));
  EXPECT_TRUE(c->contains(*Ipv4Cidr::parse("192.168.1.128/25")));
  EXPECT_FALSE(c->contains(*Ipv4Cidr::parse("192.168.0.0/16")));
  const auto all = Ipv4Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(Ipv4Addr::broadcast()));
  EXPECT_EQ(all->broadcast(), Ipv4Addr::broadcast());
  EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.0/31")->broadcast());  // RFC 3021
  EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.1/32")->broadcast());
  EXPECT_TRUE(Ipv4Cidr::parse("10.0.0.1/32")->contains(*Ipv4Addr::parse("10.0.0.1")));
  EXPECT_FALSE(Ipv4Cidr::parse("10.0.0.1/32")->contains(*Ipv4Addr::parse("10.0.0.2")));
  EXPECT_EQ(Ipv4Cidr::from_netmask(*Ipv4Addr::parse("10.1.2.3"), *Ipv4Addr::parse("255.255.0.0")),
            Ipv4Cidr::parse("10.1.2.3/16"));
  EXPECT_FALSE(Ipv4Cidr::from_netmask(*Ipv4Addr::parse("10.1.2.3"), *Ipv4Addr::parse("255.0.255.0")));
  for (std::string_view s : {"10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/08", "10.0.0.1/2x", "/24", "10.0.0.1/-1"}) {
    EXPECT_FALSE(Ipv4Cidr::parse(s)) << s;
  }
}

// ---- The header ----

TEST(WireIpv4, LinuxPingHeader) {
  const auto p = Ipv4Packet::checked(kPing);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->version(), 4);
  EXPECT_EQ(p->header_len(), 20u);
  EXPECT_EQ(p->total_len(), 84);
  EXPECT_EQ(p->ident(), 0x4d2e);
  EXPECT_TRUE(p->dont_fragment());
  EXPECT_FALSE(p->more_fragments());
  EXPECT_FALSE(p->is_fragment());
  EXPECT_EQ(p->ttl(), 64);
  EXPECT_EQ(p->protocol(), IpProtocol::Icmp);
  EXPECT_EQ(p->checksum(), 0x6a1f);
  EXPECT_EQ(p->src(), Ipv4Addr::parse("192.168.1.10"));
  EXPECT_EQ(p->dst(), Ipv4Addr::parse("192.168.1.1"));
  EXPECT_EQ(p->payload().size(), 64u);
  EXPECT_EQ(p->payload()[0], 0x08);  // the ICMP echo request's type
  EXPECT_TRUE(p->options().empty());

  const auto r = Ipv4Repr::parse(kPing);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_len, 64);
  EXPECT_EQ(r->tos, 0);
  EXPECT_EQ(r->ident, 0x4d2e);
}

// Emit writes the same 20 bytes, checksum included (RFC 791 3.1; RFC 1071).
TEST(WireIpv4, EmitIsByteExact) {
  for (const auto* pkt : {&kPing, &kRouterAlert}) {
    const auto r = Ipv4Repr::parse(*pkt);
    ASSERT_TRUE(r);
    std::vector<uint8_t> out(r->header_len());
    r->emit(out);
    EXPECT_EQ(out, std::vector<uint8_t>(pkt->begin(), pkt->begin() + static_cast<long>(r->header_len())));
  }
}

TEST(WireIpv4, ReprRoundTripOfEveryField) {
  const std::vector<uint8_t> opts = hex("0101010107070400000000000000");  // NOPs, a record route, EOL pad (16)
  Ipv4Repr r;
  r.src = *Ipv4Addr::parse("10.1.2.3");
  r.dst = *Ipv4Addr::parse("203.0.113.9");
  r.protocol = IpProtocol::Udp;
  r.ttl = 1;
  r.tos = 0xB9;
  r.ident = 0xBEEF;
  r.more_fragments = true;
  r.frag_offset = 8 * 0x1FFF;  // the largest offset (RFC 791: 13 bits of 8-octet units)
  std::vector<uint8_t> padded(opts.begin(), opts.end());
  padded.resize(16, 0);
  r.options = padded;
  r.payload_len = 3;
  std::vector<uint8_t> out(r.total_len(), 0xAA);
  r.emit(out);
  const auto back = Ipv4Repr::parse(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->options.data(), out.data() + 20);
  EXPECT_EQ(out[20 + 16], 0xAA);  // the payload is the caller's
}

// RFC 791 3.1 flags: bit 0 reserved (not kept: written as 0), DF, MF; the offset in 8-octet units.
TEST(WireIpv4, FlagsAndFragmentOffset) {
  auto b = kPing;
  b[6] = 0xA0;  // reserved + MF, offset 0x0010 units
  b[7] = 0x10;
  b = refill_checksum(b);
  const auto p = Ipv4Packet::checked(b);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->reserved_flag());
  EXPECT_FALSE(p->dont_fragment());
  EXPECT_TRUE(p->more_fragments());
  EXPECT_EQ(p->frag_offset(), 128);
  EXPECT_TRUE(p->is_fragment());
  const auto r = Ipv4Repr::from(*p);
  std::vector<uint8_t> out(20);
  r.emit(out);
  EXPECT_EQ(out[6], 0x20);  // the reserved bit is written as zero
  EXPECT_EQ(out[7], 0x10);
}

// ---- Malformed headers, in ip_rcv_core's order ----

TEST(WireIpv4, TruncatedAtEveryByteOfTheFixedHeader) {
  for (std::size_t n = 0; n < kIpv4MinHeaderLen; ++n) {
    const auto r = Ipv4Repr::parse(std::span(kPing).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), Ipv4Error::Truncated) << n;
  }
}

// Every buffer length short of the whole datagram fails, each with the error Linux would count.
TEST(WireIpv4, TruncatedAtEveryByteOfTheDatagram) {
  for (const auto* pkt : {&kPing, &kRouterAlert}) {
    const std::size_t hl = std::size_t{(*pkt)[0] & 0x0Fu} * 4;
    for (std::size_t n = 0; n < pkt->size(); ++n) {
      const auto r = Ipv4Repr::parse(std::span(*pkt).first(n));
      ASSERT_FALSE(r) << n;
      const Ipv4Error want = n < 20 ? Ipv4Error::Truncated : n < hl ? Ipv4Error::OptionsTruncated : Ipv4Error::TotalLengthTooBig;
      EXPECT_EQ(r.error(), want) << n;
    }
    EXPECT_TRUE(Ipv4Repr::parse(*pkt));
  }
}

// RFC 791 3.1: version 4.
TEST(WireIpv4, WrongVersion) {
  for (uint8_t v : {0, 1, 5, 6, 15}) {
    auto b = kPing;
    b[0] = static_cast<uint8_t>(v << 4 | 5);
    const auto r = Ipv4Repr::parse(refill_checksum(b));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Ipv4Error::BadVersion) << int{v};
  }
}

// RFC 791 3.1: IHL counts 32-bit words, at least 5.
TEST(WireIpv4, HeaderLengthUnderFive) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    auto b = kPing;
    b[0] = static_cast<uint8_t>(0x40 | ihl);
    const auto r = Ipv4Repr::parse(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Ipv4Error::BadHeaderLength) << int{ihl};
  }
}

TEST(WireIpv4, HeaderLongerThanTheBuffer) {
  auto b = std::vector<uint8_t>(kPing.begin(), kPing.begin() + 40);
  for (uint8_t ihl = 11; ihl <= 15; ++ihl) {
    b[0] = static_cast<uint8_t>(0x40 | ihl);
    const auto r = Ipv4Repr::parse(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Ipv4Error::OptionsTruncated) << int{ihl};
  }
}

// RFC 791 3.1 / RFC 1071: a change to any header byte but the first is a bad checksum (the first
// changes version or IHL, tested before).
TEST(WireIpv4, BadChecksumOnAnyChangedByte) {
  for (std::size_t i = 1; i < 20; ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xFF}) {
      auto b = kPing;
      b[i] ^= flip;
      const auto r = Ipv4Repr::parse(b);
      ASSERT_FALSE(r) << i;
      EXPECT_EQ(r.error(), Ipv4Error::BadChecksum) << i;
    }
  }
}

TEST(WireIpv4, TotalLength) {
  auto b = kPing;
  b[3] = 85;  // one more than the buffer
  auto r = Ipv4Repr::parse(refill_checksum(b));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Ipv4Error::TotalLengthTooBig);
  b[2] = 0xFF, b[3] = 0xFF;
  EXPECT_EQ(Ipv4Repr::parse(refill_checksum(b)).error(), Ipv4Error::TotalLengthTooBig);
  for (uint16_t len : {0, 1, 19}) {
    b[2] = 0, b[3] = static_cast<uint8_t>(len);
    r = Ipv4Repr::parse(refill_checksum(b));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Ipv4Error::TotalLengthTooSmall) << len;
  }
  b[3] = 20;  // a header alone is a datagram
  r = Ipv4Repr::parse(refill_checksum(b));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_len, 0);
  auto o = kRouterAlert;
  o[3] = 23;  // shorter than its 24-byte header
  EXPECT_EQ(Ipv4Repr::parse(refill_checksum(o)).error(), Ipv4Error::TotalLengthTooSmall);
}

// Link padding after the total length (a 60-byte minimum frame) is trimmed, not an error
// (ip_rcv_core's pskb_trim_rcsum).
TEST(WireIpv4, PaddingAfterTheDatagramIsIgnored) {
  auto b = kRouterAlert;
  b.resize(46, 0);
  const auto p = Ipv4Packet::checked(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->datagram().size(), 32u);
  EXPECT_EQ(p->payload().size(), 8u);
  EXPECT_EQ(p->bytes().size(), 46u);
}

// ip_rcv_core tests the checksum before the total length: a datagram wrong in both counts as a
// checksum error; a truncated one with a good checksum as a truncated packet.
TEST(WireIpv4, ChecksumIsJudgedBeforeTotalLength) {
  auto b = kPing;
  b[3] = 200;
  EXPECT_EQ(Ipv4Repr::parse(b).error(), Ipv4Error::BadChecksum);
  EXPECT_EQ(Ipv4Repr::parse(refill_checksum(b)).error(), Ipv4Error::TotalLengthTooBig);
  b[0] = 0x55;  // version before checksum
  EXPECT_EQ(Ipv4Repr::parse(b).error(), Ipv4Error::BadVersion);
}

TEST(WireIpv4, SkipLeavesTheChecksumAlone) {
  auto b = kPing;
  b[10] ^= 0xFF;
  EXPECT_FALSE(Ipv4Repr::parse(b));
  EXPECT_TRUE(Ipv4Repr::parse(b, ChecksumCheck::Skip));
  b[3] = 200;
  EXPECT_EQ(Ipv4Repr::parse(b, ChecksumCheck::Skip).error(), Ipv4Error::TotalLengthTooBig);
}

// What Linux counts (ip_rcv_core): header errors in InHdrErrors; a bad checksum in both
// InCsumErrors and InHdrErrors; a total length past the buffer in InTruncatedPkts only.
TEST(WireIpv4, LinuxCounters) {
  struct Row {
    Ipv4Error e;
    bool hdr, csum, trunc;
    std::string_view reason;
  };
  for (const Row& row : {Row{Ipv4Error::Truncated, true, false, false, "IP_INHDR"},
                         Row{Ipv4Error::BadVersion, true, false, false, "IP_INHDR"},
                         Row{Ipv4Error::BadHeaderLength, true, false, false, "IP_INHDR"},
                         Row{Ipv4Error::OptionsTruncated, true, false, false, "IP_INHDR"},
                         Row{Ipv4Error::BadChecksum, true, true, false, "IP_CSUM"},
                         Row{Ipv4Error::TotalLengthTooBig, false, false, true, "PKT_TOO_SMALL"},
                         Row{Ipv4Error::TotalLengthTooSmall, true, false, false, "IP_INHDR"}}) {
    const LinuxIpCounts c = linux_ip_counts(row.e);
    EXPECT_EQ(c.in_hdr_errors, row.hdr) << name(row.e);
    EXPECT_EQ(c.in_csum_errors, row.csum) << name(row.e);
    EXPECT_EQ(c.in_truncated_pkts, row.trunc) << name(row.e);
    EXPECT_EQ(c.drop_reason, row.reason) << name(row.e);
  }
}

// ---- Options: RFC 791 3.1's layout, lengths only ----

TEST(WireIpv4, RouterAlertOption) {
  const auto p = Ipv4Packet::checked(kRouterAlert);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header_len(), 24u);
  EXPECT_EQ(p->options().size(), 4u);
  EXPECT_EQ(p->options()[0], 0x94);  // copied flag + option 20 (RFC 2113)
  EXPECT_EQ(p->tos(), 0xc0);
  EXPECT_EQ(p->dscp(), 0x30);
  EXPECT_EQ(p->ecn(), 0);
  EXPECT_EQ(p->protocol(), IpProtocol::Igmp);
  EXPECT_TRUE(p->check_options());
}

std::vector<uint8_t> with_options(std::string_view opts_hex) {
  const auto opts = hex(opts_hex);
  std::vector<uint8_t> b(kPing.begin(), kPing.begin() + 20);
  b[0] = static_cast<uint8_t>(0x40 | (20 + opts.size()) / 4);
  b[3] = static_cast<uint8_t>(20 + opts.size());
  b.insert(b.end(), opts.begin(), opts.end());
  return refill_checksum(b);
}

TEST(WireIpv4, WellFormedOptionLists) {
  for (std::string_view o : {"01010101", "00000000", "00ffffff",  // EOL: the rest is padding
                             "0101940400000000", "07070400000000000000000000000000", "8603000000000000",
                             "44040500", "0102020000000000"}) {
    const auto b = with_options(o);
    const auto p = Ipv4Packet::checked(b);
    ASSERT_TRUE(p) << o;
    EXPECT_TRUE(p->check_options()) << o;
  }
}

// Linux's ip_options_compile refuses these and points its parameter problem at the option.
TEST(WireIpv4, MalformedOptionLists) {
  struct Row {
    std::string_view opts;
    uint8_t pointer;
  };
  const Row rows[] = {
      {"01010194", 23},                          // a type octet with no length octet after it
      {"07010000", 20},                          // length 1 (it counts type and length: at least 2)
      {"07000000", 20},                          // length 0
      {"07050000", 20},                          // length past the header's end
      {"01010710000000000000000000000000", 22},  // NOPs, then 16 bytes announced with 14 left
      {"9404000001ff0000", 25},                  // a good option and a NOP, then length 0
  };
  for (const Row& r : rows) {
    const auto b = with_options(r.opts);
    const auto p = Ipv4Packet::checked(b);
    ASSERT_TRUE(p) << r.opts;  // lengths of the header itself are fine: only the list is bad
    const auto bad = p->check_options();
    ASSERT_FALSE(bad) << r.opts;
    EXPECT_EQ(bad.error().pointer, r.pointer) << r.opts;
  }
}

// ---- Forwarding: the TTL decrement in place ----

// Linux's ip_decrease_ttl on a little-endian host: the checksum's raw 16 bits plus htons(0x0100),
// plus one if that reached 0xFFFF, stored back; our big-endian arithmetic must give the same
// bytes for every checksum value.
TEST(WireIpv4, DecrementTtlMatchesLinuxForEveryChecksum) {
  for (uint32_t c = 0; c <= 0xFFFF; ++c) {
    auto b = kPing;
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
    uint16_t raw;  // what a little-endian CPU reads from the field
    std::memcpy(&raw, &b[10], 2);
    uint32_t check = raw;
    check += 0x0001;  // htons(0x0100) on a little-endian host
    const uint16_t linux_raw = static_cast<uint16_t>(check + (check >= 0xFFFF ? 1 : 0));
    const auto p = Ipv4PacketMut::checked(b, ChecksumCheck::Skip);
    ASSERT_TRUE(p);
    p->decrement_ttl();
    uint16_t ours;
    std::memcpy(&ours, &b[10], 2);
    ASSERT_EQ(ours, linux_raw) << "checksum " << c;
  }
}

TEST(WireIpv4, DecrementTtlKeepsTheChecksumValid) {
  auto b = kPing;
  for (int ttl = 255; ttl >= 1; --ttl) {
    b[8] = static_cast<uint8_t>(ttl);
    b = refill_checksum(b);
    const auto p = Ipv4PacketMut::checked(b);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->decrement_ttl(), ttl - 1);
    ASSERT_TRUE(Ipv4Packet(*p).verify_checksum()) << ttl;
  }
}

TEST(WireIpv4, EditAndFillChecksum) {
  auto b = kPing;
  const auto p = Ipv4PacketMut::checked(b);
  ASSERT_TRUE(p);
  p->set_src(*Ipv4Addr::parse("10.0.0.1"));
  p->set_dst(*Ipv4Addr::parse("10.0.0.2"));
  p->set_tos(0x10);
  p->set_ttl(3);
  EXPECT_FALSE(Ipv4Packet(*p).verify_checksum());
  p->fill_checksum();
  const auto r = Ipv4Repr::parse(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src, Ipv4Addr::parse("10.0.0.1"));
  EXPECT_EQ(r->ttl, 3);
}

}  // namespace
}  // namespace vnic::stack::wire

// Tests of the ICMP view and IcmpRepr (RFC 792): Linux's ping and its reply, errors with their
// quotes (port unreachable, RFC 1191's fragmentation needed, time exceeded, parameter problem,
// redirect), every malformed case in icmp_rcv's order and what Linux counts for it.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/hex.hpp"
#include "vnic/stack/wire/icmp.hpp"

namespace vnic::stack::wire {
namespace {

using vnic::stack::testing::hex;

// ICMP messages (the IPv4 payloads) checked with tshark:
// iputils ping's echo request (id 0x1c2a, seq 1; 56 data bytes: a 16-byte timeval, then
// 0x10..0x37; checksum 0x9048) and the reply (0x9848);
const auto kEchoRequest = hex(
    "080090481c2a0001c3b2a1650000000020a1070000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const auto kEchoReply = hex(
    "000098481c2a0001c3b2a1650000000020a1070000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
// port unreachable quoting a UDP datagram to port 9 whole (20 + 13 bytes; checksum 0x1cd4);
const auto kPortUnreachable = hex(
    "03031cd40000000045000021123440004011a53cc0a8010ac0a801019c400009000d000068656c6c6f");
// fragmentation needed with next-hop MTU 1400 (RFC 1191), quoting a TCP header's first 8 bytes.
const auto kFragNeeded = hex("0304eb73000005784500001c222240003f064e03c0a8010a0a0000050001020304050607");

std::vector<uint8_t> refill_checksum(std::vector<uint8_t> b) {
  b[2] = b[3] = 0;
  const uint16_t c = internet_checksum(b);
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

std::vector<uint8_t> emit(const IcmpRepr& r) {
  std::vector<uint8_t> out(r.buffer_len());
  r.emit(out);
  return out;
}

// RFC 792 echo: type 8 / 0, code 0, identifier, sequence number, the data echoed.
TEST(WireIcmp, LinuxPing) {
  const auto r = IcmpRepr::parse(kEchoRequest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, IcmpType::EchoRequest);
  EXPECT_EQ(r->code, 0);
  EXPECT_EQ(r->ident, 0x1c2a);
  EXPECT_EQ(r->seq, 1);
  EXPECT_EQ(r->data.size(), 56u);
  EXPECT_EQ(r->data[16], 0x10);
  EXPECT_EQ(emit(*r), kEchoRequest);
  // The reply echoes identifier, sequence and data; only type and checksum change.
  const auto reply = IcmpRepr::echo_reply(r->ident, r->seq, r->data);
  EXPECT_EQ(emit(reply), kEchoReply);
  const auto back = IcmpRepr::parse(kEchoReply);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, reply);
}

// RFC 792 destination unreachable: the quoted datagram's header and (at least) 64 bits of data.
TEST(WireIcmp, PortUnreachable) {
  const auto r = IcmpRepr::parse(kPortUnreachable);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, IcmpType::DestUnreachable);
  EXPECT_EQ(r->code, static_cast<uint8_t>(IcmpUnreachable::Port));
  EXPECT_EQ(r->data.size(), 33u);
  const auto quoted = Ipv4Packet::checked(r->data);
  ASSERT_TRUE(quoted);  // this quote holds the whole datagram, so it checks as one
  EXPECT_EQ(quoted->protocol(), IpProtocol::Udp);
  EXPECT_EQ(emit(*r), kPortUnreachable);
  EXPECT_EQ(emit(IcmpRepr::dest_unreachable(IcmpUnreachable::Port, r->data)), kPortUnreachable);
}

// RFC 1191 4: fragmentation needed carries the next-hop MTU in the header's low 16 bits.
TEST(WireIcmp, FragmentationNeededCarriesTheMtu) {
  const auto r = IcmpRepr::parse(kFragNeeded);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, static_cast<uint8_t>(IcmpUnreachable::FragmentationNeeded));
  EXPECT_EQ(r->next_hop_mtu, 1400);
  EXPECT_EQ(r->data.size(), 28u);
  // The quote is a header and 8 bytes: its total length (28) fits here, but in general it need not.
  EXPECT_EQ(emit(IcmpRepr::dest_unreachable(IcmpUnreachable::FragmentationNeeded, r->data, 1400)), kFragNeeded);
  // Other codes have the field unused: not read, written as zero.
  EXPECT_EQ(IcmpRepr::dest_unreachable(IcmpUnreachable::Host, r->data, 1400).next_hop_mtu, 0);
  auto b = kFragNeeded;
  b[1] = static_cast<uint8_t>(IcmpUnreachable::Host);
  const auto host = IcmpRepr::parse(refill_checksum(b));
  ASSERT_TRUE(host);
  EXPECT_EQ(host->next_hop_mtu, 0);
}

// A quote is a header and 8 bytes: the original's total length may say more than is quoted.
TEST(WireIcmp, QuoteOfALongDatagram) {
  auto quote = hex("450005dc222240003f064e03c0a8010a0a0000050001020304050607");  // total length 1500
  const IcmpRepr r = IcmpRepr::time_exceeded(IcmpTimeExceeded::Ttl, quote);
  const auto b = emit(r);
  const auto back = IcmpRepr::parse(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->type, IcmpType::TimeExceeded);
}

TEST(WireIcmp, ParameterProblemAndRedirect) {
  const auto quote = std::span(kFragNeeded).subspan(8);
  const auto pp = IcmpRepr::parameter_problem(22, quote);
  auto b = emit(pp);
  EXPECT_EQ(b[4], 22);  // RFC 792: the pointer is the header's fifth byte
  auto back = IcmpRepr::parse(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, pp);
  const auto rd = IcmpRepr::redirect(1, *Ipv4Addr::parse("192.168.1.254"), quote);
  b = emit(rd);
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + 4, b.begin() + 8), hex("c0a801fe"));
  back = IcmpRepr::parse(b);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, rd);
  EXPECT_EQ(back->gateway, Ipv4Addr::parse("192.168.1.254"));
}

// Linux does not judge an echo's code; it is kept.
TEST(WireIcmp, EchoCodeIsKept) {
  auto b = kEchoRequest;
  b[1] = 7;
  b = refill_checksum(b);  // kept: the Repr's data points into it
  const auto r = IcmpRepr::parse(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 7);
  EXPECT_EQ(emit(*r), b);
}

// ---- Malformed messages, in icmp_rcv's order ----

// RFC 792: the checksum covers the whole message; a change to any byte is caught.
TEST(WireIcmp, BadChecksumOnAnyChangedByte) {
  for (std::size_t i = 0; i < kEchoRequest.size(); ++i) {
    auto b = kEchoRequest;
    b[i] ^= 0x40;
    const auto r = IcmpRepr::parse(b);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error(), IcmpError::BadChecksum) << i;
    EXPECT_TRUE(IcmpRepr::parse(b, ChecksumCheck::Skip) || i == 0) << i;  // byte 0 changes the type
  }
}

// Shorter than the 8-byte header: icmp_rcv verifies the checksum first, over what there is.
TEST(WireIcmp, TruncatedAtEveryByteOfTheHeader) {
  for (std::size_t n = 0; n < kIcmpHeaderLen; ++n) {
    const auto cut = std::vector<uint8_t>(kEchoRequest.begin(), kEchoRequest.begin() + static_cast<long>(n));
    const auto skip = IcmpRepr::parse(cut, ChecksumCheck::Skip);
    ASSERT_FALSE(skip) << n;
    EXPECT_EQ(skip.error(), IcmpError::Truncated) << n;
    const auto verify = IcmpRepr::parse(cut);
    ASSERT_FALSE(verify);
    EXPECT_EQ(verify.error(), IcmpError::BadChecksum) << n;  // these prefixes do not check
  }
  // A 4-byte message whose checksum checks gets past the checksum and is then too short.
  const auto four = refill_checksum(hex("08000000"));
  EXPECT_EQ(IcmpRepr::parse(four).error(), IcmpError::Truncated);
}

// Every cut of an error's quote short of a header and 8 bytes.
TEST(WireIcmp, QuoteTruncatedAtEveryByte) {
  for (std::size_t n = kIcmpHeaderLen; n < kFragNeeded.size(); ++n) {
    auto b = std::vector<uint8_t>(kFragNeeded.begin(), kFragNeeded.begin() + static_cast<long>(n));
    const auto r = IcmpRepr::parse(refill_checksum(b));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), IcmpError::QuoteTruncated) << n;
  }
}

// The quoted header's IHL decides how much must follow; under 5 is a mangled header.
TEST(WireIcmp, QuotedHeaderLength) {
  auto b = kFragNeeded;
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    b[8] = static_cast<uint8_t>(0x40 | ihl);
    const auto r = IcmpRepr::parse(refill_checksum(b));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), IcmpError::QuoteBadHeader) << int{ihl};
  }
  b[8] = 0x46;  // 24-byte header: 32 bytes needed, 28 there
  EXPECT_EQ(IcmpRepr::parse(refill_checksum(b)).error(), IcmpError::QuoteTruncated);
  b.insert(b.end(), 3, 0);
  EXPECT_EQ(IcmpRepr::parse(refill_checksum(b)).error(), IcmpError::QuoteTruncated);
  b.push_back(0);
  EXPECT_TRUE(IcmpRepr::parse(refill_checksum(b)));
  b[8] = 0x65;  // Linux does not judge the quoted version
  EXPECT_TRUE(IcmpRepr::parse(refill_checksum(b)));
}

// Types: above Linux's table (18) an error, except PROBE (42); known but not modelled ones are
// Unsupported (Linux answers or consumes them without an error).
TEST(WireIcmp, Types) {
  for (int t = 0; t < 256; ++t) {
    auto b = kFragNeeded;
    b[0] = static_cast<uint8_t>(t);
    b[1] = 0;
    const auto r = IcmpRepr::parse(refill_checksum(b));
    const auto type = static_cast<IcmpType>(t);
    if (type == IcmpType::EchoRequest || type == IcmpType::EchoReply || is_icmp_error(type)) {
      EXPECT_TRUE(r) << t;
    } else if (t > kIcmpLinuxMaxType && t != 42) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), IcmpError::UnknownType) << t;
    } else {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), IcmpError::Unsupported) << t;
    }
  }
}

TEST(WireIcmp, LinuxCounters) {
  EXPECT_TRUE(linux_icmp_counts(IcmpError::BadChecksum).in_csum_errors);
  EXPECT_TRUE(linux_icmp_counts(IcmpError::BadChecksum).in_errors);
  for (IcmpError e : {IcmpError::Truncated, IcmpError::UnknownType, IcmpError::QuoteTruncated, IcmpError::QuoteBadHeader}) {
    EXPECT_TRUE(linux_icmp_counts(e).in_errors) << name(e);
    EXPECT_FALSE(linux_icmp_counts(e).in_csum_errors) << name(e);
  }
  EXPECT_FALSE(linux_icmp_counts(IcmpError::Unsupported).in_errors);
}

TEST(WireIcmp, ViewAndFillChecksum) {
  auto b = kEchoRequest;
  const auto p = IcmpPacketMut::checked(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->echo_ident(), 0x1c2a);
  EXPECT_EQ(p->echo_seq(), 1);
  EXPECT_EQ(p->rest_of_header(), 0x1c2a0001u);
  b[0] = 0;  // turn it into the reply in place, as a responder may
  EXPECT_FALSE(IcmpPacket(IcmpPacket::checked(b, ChecksumCheck::Skip).value()).verify_checksum());
  p->fill_checksum();
  EXPECT_EQ(b, kEchoReply);
}

}  // namespace
}  // namespace vnic::stack::wire

// Tests of the ARP view and ArpRepr (RFC 826, Ethernet/IPv4): a Linux request, replies, every
// malformed case in the order Linux tests them, round trips.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/hex.hpp"
#include "vnic/stack/wire/arp.hpp"

namespace vnic::stack::wire {
namespace {

using vnic::stack::testing::hex;

// Who has 192.168.1.1? Tell 192.168.1.10: the 28 ARP bytes as Linux sends them (target hardware
// address zero) and the 18 zero bytes of padding to the 60-byte minimum frame. Checked with tshark.
const auto kRequest = hex("0001080006040001525400123456c0a8010a000000000000c0a80101000000000000000000000000000000000000");
const MacAddr kHostA{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const MacAddr kHostB{{0x52, 0x54, 0x00, 0x67, 0x89, 0xab}};
const Ipv4Addr kIpA{{192, 168, 1, 10}};
const Ipv4Addr kIpB{{192, 168, 1, 1}};

TEST(WireArp, LinuxRequest) {
  const auto r = ArpRepr::parse(kRequest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, ArpOp::Request);
  EXPECT_EQ(r->hardware, ArpHardware::Ethernet);
  EXPECT_EQ(r->sender_mac, kHostA);
  EXPECT_EQ(r->sender_ip, kIpA);
  EXPECT_EQ(r->target_mac, MacAddr{});
  EXPECT_EQ(r->target_ip, kIpB);
  std::vector<uint8_t> out(ArpRepr::buffer_len());
  r->emit(out);
  EXPECT_EQ(out, std::vector<uint8_t>(kRequest.begin(), kRequest.begin() + 28));
}

TEST(WireArp, ReplyRoundTrip) {
  const ArpRepr reply{ArpOp::Reply, ArpHardware::Ethernet, kHostB, kIpB, kHostA, kIpA};
  std::vector<uint8_t> out(ArpRepr::buffer_len());
  reply.emit(out);
  EXPECT_EQ(out, hex("00010800060400025254006789abc0a80101525400123456c0a8010a"));
  const auto back = ArpRepr::parse(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, reply);
}

// RFC 826's view: the fixed 8 bytes, then addresses of the sizes they announce.
TEST(WireArp, ViewOfAnyAddressSizes) {
  auto b = hex("0001080008100001");  // hln 8, pln 16: needs 8 + 2 * 24 bytes
  b.resize(8 + 48 - 1);
  const auto short_view = ArpPacket::checked(b);
  ASSERT_FALSE(short_view);
  EXPECT_EQ(short_view.error(), ArpError::Truncated);
  b.push_back(0);
  const auto p = ArpPacket::checked(b);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sender_hardware_addr().size(), 8u);
  EXPECT_EQ(p->target_protocol_addr().size(), 16u);
  EXPECT_EQ(p->target_protocol_addr().data() + 16, b.data() + b.size());
  EXPECT_FALSE(ArpPacket::checked(std::span(b).first(7)));
}

// Linux pulls the 28 bytes of an Ethernet/IPv4 packet before it reads a field (arp_rcv).
TEST(WireArp, TruncatedAtEveryByte) {
  for (std::size_t n = 0; n < kArpEthIpv4Len; ++n) {
    const auto r = ArpRepr::parse(std::span(kRequest).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), ArpError::Truncated) << n;
  }
  EXPECT_TRUE(ArpRepr::parse(std::span(kRequest).first(kArpEthIpv4Len)));
}

// arp_rcv: hln must be the device's address length (6) and pln 4.
TEST(WireArp, AddressLengthsOtherThanEthernetAndIpv4) {
  for (auto [at, value] : {std::pair{4, 8}, {4, 0}, {5, 16}, {5, 6}}) {
    auto b = kRequest;
    b[at] = static_cast<uint8_t>(value);
    const auto r = ArpRepr::parse(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ArpError::BadAddressLength) << at << "=" << value;
  }
}

// arp_process on an Ethernet device takes hardware type 1 and 6 (IEEE 802, after RFC 2625).
TEST(WireArp, HardwareTypes) {
  auto b = kRequest;
  b[1] = 6;
  const auto ieee = ArpRepr::parse(b);
  ASSERT_TRUE(ieee);
  EXPECT_EQ(ieee->hardware, ArpHardware::Ieee802);
  std::vector<uint8_t> out(28);
  ieee->emit(out);
  EXPECT_EQ(out[1], 6);  // kept
  for (uint16_t htype : {0, 2, 7, 32, 0x0100}) {
    b[0] = static_cast<uint8_t>(htype >> 8);
    b[1] = static_cast<uint8_t>(htype);
    const auto r = ArpRepr::parse(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ArpError::UnsupportedHardware) << htype;
  }
}

TEST(WireArp, ProtocolOtherThanIpv4) {
  auto b = kRequest;
  b[2] = 0x86;  // IPv6's EtherType
  b[3] = 0xdd;
  const auto r = ArpRepr::parse(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ArpError::UnsupportedProtocol);
}

// arp_process answers requests and replies only (not RARP 3/4, InARP 8/9, ...).
TEST(WireArp, OperationsOtherThanRequestAndReply) {
  for (uint16_t op : {0, 3, 4, 8, 9, 0x0101}) {
    auto b = kRequest;
    b[6] = static_cast<uint8_t>(op >> 8);
    b[7] = static_cast<uint8_t>(op);
    const auto r = ArpRepr::parse(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), ArpError::UnsupportedOperation) << op;
  }
}

// The order: lengths before hardware, hardware before protocol, protocol before operation.
TEST(WireArp, ChecksComeInLinuxOrder) {
  auto b = kRequest;
  b[0] = 9, b[2] = 9, b[6] = 9;  // bad hardware, protocol and operation
  EXPECT_EQ(ArpRepr::parse(b).error(), ArpError::UnsupportedHardware);
  b[4] = 8;
  EXPECT_EQ(ArpRepr::parse(b).error(), ArpError::BadAddressLength);
  b[0] = 0;
  b[4] = 6;
  EXPECT_EQ(ArpRepr::parse(b).error(), ArpError::UnsupportedProtocol);
  EXPECT_EQ(ArpRepr::parse(std::span(b).first(20)).error(), ArpError::Truncated);
}

TEST(WireArp, EditOperationInPlace) {
  auto b = kRequest;
  const auto p = ArpPacketMut::checked(b);
  ASSERT_TRUE(p);
  p->set_operation(ArpOp::Reply);
  EXPECT_EQ(ArpRepr::parse(b)->op, ArpOp::Reply);
}

}  // namespace
}  // namespace vnic::stack::wire

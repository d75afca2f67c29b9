// Tests of the Ethernet view and EthernetRepr: untagged and VLAN-tagged frames (IEEE 802.1Q,
// 802.1ad), truncation at every byte, round trips.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "support/hex.hpp"
#include "vnic/stack/wire/ethernet.hpp"

namespace vnic::stack::wire {
namespace {

using vnic::stack::testing::hex;

// A Linux ping (192.168.1.10 -> 192.168.1.1), untagged, and the same in an 802.1Q tag
// (PCP 5, VID 100), and an ARP request under an 802.1ad S-tag (PCP 3, DEI, VID 10) and a C-tag
// (VID 20). Checked with tshark.
const auto kPing = hex(
    "5254006789ab5254001234560800450000544d2e400040016a1fc0a8010ac0a80101080090481c2a0001c3b2a16500000000"
    "20a1070000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const auto kVlanPing = hex(
    "5254006789ab5254001234568100a0640800450000544d2e400040016a1fc0a8010ac0a80101080090481c2a0001c3b2a165"
    "0000000020a1070000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");
const auto kQinqArp = hex(
    "ffffffffffff52540012345688a8700a8100001408060001080006040001525400123456c0a8010a000000000000c0a80101");
const MacAddr kHostA{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const MacAddr kHostB{{0x52, 0x54, 0x00, 0x67, 0x89, 0xab}};

TEST(WireEthernet, UntaggedFrame) {
  const auto r = EthernetRepr::parse(kPing);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->dst, kHostB);
  EXPECT_EQ(r->src, kHostA);
  EXPECT_EQ(r->tag_count, 0);
  EXPECT_EQ(r->ethertype, EtherType::Ipv4);
  EXPECT_EQ(r->header_len(), kEthHeaderLen);
  const auto f = EthernetFrame::checked(kPing);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload().size(), kPing.size() - 14);
  EXPECT_EQ(f->payload().data(), kPing.data() + 14);
  EXPECT_EQ(f->outer_type(), 0x0800);
}

TEST(WireEthernet, EmitGivesTheSameHeaderBytes) {
  const auto r = EthernetRepr::parse(kQinqArp);
  ASSERT_TRUE(r);
  std::vector<uint8_t> out(r->header_len());
  r->emit(out);
  EXPECT_EQ(out, std::vector<uint8_t>(kQinqArp.begin(), kQinqArp.begin() + 22));
}

// IEEE 802.1Q 9.6: TPID 0x8100, then the TCI: PCP (3 bits), DEI (1), VID (12); the type follows.
TEST(WireEthernet, Ieee8021qTag) {
  const auto r = EthernetRepr::parse(kVlanPing);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->tag_count, 1);
  EXPECT_EQ(r->tags[0], (VlanTag{EtherType::Vlan, 5, false, 100}));
  EXPECT_EQ(r->ethertype, EtherType::Ipv4);
  EXPECT_EQ(r->header_len(), 18u);
  const auto f = EthernetFrame::checked(kVlanPing);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->outer_type(), 0x8100);
  // The tagged payload is the same IPv4 packet as the untagged frame's.
  EXPECT_TRUE(std::equal(f->payload().begin(), f->payload().end(), kPing.begin() + 14, kPing.end()));
}

// IEEE 802.1ad: an S-tag (TPID 0x88A8) outside a C-tag (0x8100).
TEST(WireEthernet, Ieee8021adStackedTags) {
  const auto r = EthernetRepr::parse(kQinqArp);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->tag_count, 2);
  EXPECT_EQ(r->tags[0], (VlanTag{EtherType::QinQ, 3, true, 10}));
  EXPECT_EQ(r->tags[1], (VlanTag{EtherType::Vlan, 0, false, 20}));
  EXPECT_EQ(r->ethertype, EtherType::Arp);
  EXPECT_EQ(r->header_len(), 22u);
}

// A third tag is not read: its TPID is the payload's type (two tags cover QinQ).
TEST(WireEthernet, ThirdTagIsThePayloadType) {
  auto b = hex("ffffffffffff52540012345688a8000a81000014810000300800");
  const auto r = EthernetRepr::parse(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tag_count, 2);
  EXPECT_EQ(r->ethertype, EtherType::Vlan);
  EXPECT_EQ(r->header_len(), 22u);
}

TEST(WireEthernet, TruncatedAtEveryByteOfTheHeader) {
  for (std::size_t n = 0; n < kEthHeaderLen; ++n) {
    const auto r = EthernetRepr::parse(std::span(kPing).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), EthernetError::Truncated) << n;
  }
  EXPECT_TRUE(EthernetRepr::parse(std::span(kPing).first(kEthHeaderLen)));  // an empty payload is fine
}

// A TPID announces 4 more bytes (TCI and the next type): the frame must hold them all.
TEST(WireEthernet, TruncatedInsideEveryTag) {
  for (std::size_t n = kEthHeaderLen; n < 18; ++n) {
    const auto r = EthernetRepr::parse(std::span(kVlanPing).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), EthernetError::TruncatedTag) << n;
  }
  EXPECT_TRUE(EthernetRepr::parse(std::span(kVlanPing).first(18)));
  for (std::size_t n = 18; n < 22; ++n) {
    const auto r = EthernetRepr::parse(std::span(kQinqArp).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), EthernetError::TruncatedTag) << n;
  }
  EXPECT_TRUE(EthernetRepr::parse(std::span(kQinqArp).first(22)));
}

TEST(WireEthernet, TciRoundTrip) {
  for (uint8_t pcp = 0; pcp < 8; ++pcp) {
    for (bool dei : {false, true}) {
      for (uint16_t vid : {0, 1, 100, 4094, 4095}) {
        const VlanTag t{EtherType::Vlan, pcp, dei, vid};
        EXPECT_EQ(VlanTag::from_tci(EtherType::Vlan, t.tci()), t);
      }
    }
  }
  EXPECT_EQ((VlanTag{EtherType::Vlan, 5, false, 100}.tci()), 0xa064);
}

// IEEE 802.3 3.2.6: a value below 0x0600 is a length (802.2 LLC follows); it is kept as is.
TEST(WireEthernet, LengthFieldIsReportedRaw) {
  auto b = hex("0180c20000005254001234560026424203000000");  // an STP BPDU's start
  const auto r = EthernetRepr::parse(b);
  ASSERT_TRUE(r);
  EXPECT_EQ(static_cast<uint16_t>(r->ethertype), 0x0026);
  EXPECT_LT(static_cast<uint16_t>(r->ethertype), kEthP8023Min);
}

TEST(WireEthernet, ReprRoundTripWithTags) {
  EthernetRepr r;
  r.dst = MacAddr::broadcast();
  r.src = kHostA;
  r.tag_count = 2;
  r.tags[0] = VlanTag{EtherType::QinQ, 7, true, 4095};
  r.tags[1] = VlanTag{EtherType::Vlan, 1, false, 0};
  r.ethertype = EtherType::Ipv6;
  std::vector<uint8_t> out(r.header_len() + 3, 0xEE);
  r.emit(out);
  const auto back = EthernetRepr::parse(out);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(out.back(), 0xEE);  // emit writes the header only
}

TEST(WireEthernet, EditInPlace) {
  auto b = kVlanPing;
  const auto f = EthernetFrameMut::checked(b);
  ASSERT_TRUE(f);
  f->set_dst(kHostA);
  f->set_src(kHostB);
  f->set_ethertype(EtherType::Arp);
  const EthernetFrame ro = *f;
  EXPECT_EQ(ro.dst(), kHostA);
  EXPECT_EQ(ro.src(), kHostB);
  EXPECT_EQ(ro.ethertype(), EtherType::Arp);
  EXPECT_EQ(ro.tag(0).vid, 100);  // the tag is untouched
}

}  // namespace
}  // namespace vnic::stack::wire

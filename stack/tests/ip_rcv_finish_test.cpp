// ip_rcv / ip_rcv_finish with ip_route_input_slow and ip_error (net/ipv4/ip_input.c,
// net/ipv4/route.c, Linux 6.1): local and broadcast destinations are delivered; with forwarding
// off anything else is "host unreachable" (InAddrErrors, IP_INADDRERRORS, no ICMP); martians are
// dropped before any IP error counter; a frame for another host is dropped before InReceives.
#include <gtest/gtest.h>

#include <stdexcept>

#include "support/net_rig.hpp"

namespace vnic::stack {
namespace {

using testing::NetRig;

struct L4Log {
  std::vector<std::vector<uint8_t>> payloads;
  std::vector<uint8_t> rt_types;
  static void fn(void* ctx, SkBuff* skb) {
    auto* l = static_cast<L4Log*>(ctx);
    l->payloads.emplace_back(skb->bytes().begin(), skb->bytes().end());
    l->rt_types.push_back(skb->rt_type);
    consume_skb(skb);
  }
};

struct IcmpLog {
  struct Call {
    uint8_t type, code;
    uint32_t info;
  };
  std::vector<Call> calls;
  static void fn(void* ctx, Cpu&, const SkBuff&, uint8_t type, uint8_t code, uint32_t info) {
    static_cast<IcmpLog*>(ctx)->calls.push_back({type, code, info});
  }
};

struct IpRcvFinish : ::testing::Test {
  NetRig r;
  L4Log l4;
  IcmpLog icmp;
  void SetUp() override {
    r.net->inet_add_protocol(253, &L4Log::fn, &l4);
    r.net->set_icmp_send(&IcmpLog::fn, &icmp);
  }
  void rx(const char* src, const char* dst, uint64_t id, model::MacAddr mac = testing::kMacA) {
    r.receive(r.frame(0x0800, NetRig::datagram(src, dst, 253, {9, 8, 7, 6}), id, mac));
  }
};

TEST_F(IpRcvFinish, ALocalDestinationIsDeliveredWithRtnLocal) {
  rx("10.0.0.2", "10.0.0.1", 1);
  ASSERT_EQ(l4.payloads.size(), 1u);
  EXPECT_EQ(l4.payloads[0], (std::vector<uint8_t>{9, 8, 7, 6}));
  EXPECT_EQ(l4.rt_types[0], kRtnLocal);
  EXPECT_EQ(r.net->ip_mib().InReceives, 1u);
  EXPECT_EQ(r.net->ip_mib().InDelivers, 1u);
  EXPECT_EQ(r.net->rt_cache_stats().in_slow_tot, 1u);
}

TEST_F(IpRcvFinish, SubnetAndLimitedBroadcastAreDeliveredAndCountedInBcast) {
  rx("10.0.0.2", "10.0.0.255", 1, model::MacAddr::broadcast());
  rx("10.0.0.2", "255.255.255.255", 2, model::MacAddr::broadcast());
  ASSERT_EQ(l4.payloads.size(), 2u);
  EXPECT_EQ(l4.rt_types[0], kRtnBroadcast);
  EXPECT_EQ(l4.rt_types[1], kRtnBroadcast);
  EXPECT_EQ(r.net->ip_mib().InBcastPkts, 2u);
  EXPECT_EQ(r.net->ip_mib().InBcastOctets, 2u * 24u);
  EXPECT_EQ(r.net->rt_cache_stats().in_brd, 2u);
}

TEST_F(IpRcvFinish, NotLocalWithForwardingOffIsInAddrErrorsWithoutIcmp) {
  // ip_route_input_slow: not forwarding, so both "no route" and "a route elsewhere" are
  // -EHOSTUNREACH; ip_error counts InAddrErrors and sends nothing.
  rx("10.0.0.2", "10.0.0.9", 1);     // on the subnet, not ours
  rx("10.0.0.2", "192.0.2.1", 2);    // no route at all
  EXPECT_TRUE(l4.payloads.empty());
  EXPECT_EQ(r.net->ip_mib().InAddrErrors, 2u);
  EXPECT_EQ(r.net->ip_mib().InNoRoutes, 0u);
  EXPECT_EQ(r.net->ip_mib().InReceives, 2u);
  EXPECT_TRUE(icmp.calls.empty());
  EXPECT_EQ(r.end_of(1)->reason, SkbDropReason::IpInaddrerrors);
  EXPECT_EQ(r.end_of(2)->reason, SkbDropReason::IpInaddrerrors);
  EXPECT_EQ(r.net->rt_cache_stats().in_no_route, 2u);
  const auto ev = r.sink.of_packet(1);
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev.back().kind, TraceKind::Drop);
  EXPECT_EQ(ev.back().step, model::ingress(17));
}

TEST_F(IpRcvFinish, MartianSourcesAndDestinationsAreDroppedWithoutAnIpCounter) {
  rx("10.0.0.1", "10.0.0.1", 1);       // from our own address (accept_local 0)
  rx("224.0.0.5", "10.0.0.1", 2);      // multicast source
  rx("127.0.0.1", "10.0.0.1", 3);      // loopback source
  rx("10.0.0.2", "127.0.0.1", 4);      // loopback destination (route_localnet 0)
  rx("10.0.0.2", "0.1.2.3", 5);        // zeronet destination
  EXPECT_TRUE(l4.payloads.empty());
  EXPECT_EQ(r.net->rt_cache_stats().in_martian_src, 3u);
  EXPECT_EQ(r.net->rt_cache_stats().in_martian_dst, 2u);
  EXPECT_EQ(r.net->ip_mib().InAddrErrors, 0u);
  EXPECT_EQ(r.net->ip_mib().InHdrErrors, 0u);
  for (uint64_t id = 1; id <= 5; ++id) EXPECT_EQ(r.end_of(id)->reason, SkbDropReason::NotSpecified) << id;
}

TEST_F(IpRcvFinish, MulticastIsDeliveredOnlyForTheAllHostsGroup) {
  rx("10.0.0.2", "224.0.0.1", 1, model::MacAddr{{0x01, 0x00, 0x5e, 0, 0, 1}});
  rx("10.0.0.2", "224.0.0.9", 2, model::MacAddr{{0x01, 0x00, 0x5e, 0, 0, 9}});
  ASSERT_EQ(l4.payloads.size(), 1u);
  EXPECT_EQ(l4.rt_types[0], kRtnMulticast);
  EXPECT_EQ(r.net->ip_mib().InMcastPkts, 1u);
  EXPECT_EQ(r.net->stats().mc_not_joined, 1u);
}

TEST_F(IpRcvFinish, AFrameForAnotherHostIsDroppedBeforeInReceives) {
  rx("10.0.0.2", "10.0.0.1", 1, model::MacAddr{{0x02, 0, 0, 0, 0, 0x77}});
  EXPECT_EQ(r.net->ip_mib().InReceives, 0u);
  EXPECT_EQ(r.dev.rx_otherhost_dropped_core, 1u);
  EXPECT_EQ(r.end_of(1)->reason, SkbDropReason::Otherhost);
}

TEST_F(IpRcvFinish, ABadChecksumIsCountedByIpRcvCoreAndTraced) {
  auto dg = NetRig::datagram("10.0.0.2", "10.0.0.1", 253, {1, 2, 3, 4});
  dg[10] ^= 0xFF;
  r.receive(r.frame(0x0800, dg, 3));
  EXPECT_EQ(r.net->ip_mib().InCsumErrors, 1u);
  EXPECT_EQ(r.net->ip_mib().InHdrErrors, 1u);
  EXPECT_EQ(r.end_of(3)->reason, SkbDropReason::IpCsum);
  const auto ev = r.sink.of_packet(3);
  ASSERT_GE(ev.size(), 3u);
  EXPECT_EQ(ev[1].kind, TraceKind::IpRcv);
  EXPECT_EQ(ev.back().kind, TraceKind::Drop);
  EXPECT_EQ(ev.back().step, model::ingress(15));
}

TEST_F(IpRcvFinish, MalformedOptionsAreInHdrErrorsWithAParameterProblem) {
  // IHL 6: one option word, type 0x44 (timestamp) with length 1: ip_options_compile refuses it
  // at offset 20.
  auto dg = NetRig::datagram("10.0.0.2", "10.0.0.1", 253, {0x44, 0x01, 0, 0, 1, 2, 3, 4});
  dg[0] = 0x46;
  dg[10] = dg[11] = 0;
  const uint16_t c = wire::internet_checksum(std::span<const uint8_t>(dg).first(24));
  dg[10] = static_cast<uint8_t>(c >> 8);
  dg[11] = static_cast<uint8_t>(c);
  r.receive(r.frame(0x0800, dg, 4));
  EXPECT_TRUE(l4.payloads.empty());
  EXPECT_EQ(r.net->ip_mib().InHdrErrors, 1u);
  ASSERT_EQ(icmp.calls.size(), 1u);
  EXPECT_EQ(icmp.calls[0].type, 12);
  EXPECT_EQ(icmp.calls[0].info, 20u << 24);
}

TEST(IpRcvFinishConfig, AnUnknownDefaultQdiscIsRefusedWithAClearError) {
  testing::FakeCpu cpu;
  testing::FakeMemory mem;
  SkbPool pool(mem, 2048, 16);
  NetStackConfig cfg;
  cfg.default_qdisc = "sfq";
  try {
    NetStack n(cfg, {&cpu}, pool);
    FAIL() << "accepted default_qdisc=sfq";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("default_qdisc"), std::string::npos);
  }
}

}  // namespace
}  // namespace vnic::stack

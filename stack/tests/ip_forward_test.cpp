// IPv4 forwarding (net/ipv4/ip_forward.c and route.c's forward route and ip_error, Linux 6.1;
// RFC 1812 5.2 and 5.3): a router with two devices. TTL decremented with the checksum still
// valid (RFC 1812 5.3.1, RFC 1624), Time Exceeded when it would reach zero (RFC 792, RFC 1812
// 5.3.1), net unreachable for no route (ip_error, its bucket shared with ICMP's limit on the
// source's inet_peer),
// fragmentation needed with the next hop's MTU for DF (RFC 1191), priority from the TOS
// (rt_tos2priority), the counters Linux moves and the trace's forward step.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "support/router_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::kMacC;
using testing::kMacR1;
using testing::RouterRig;

TEST(IpForward, TtlDecrementedChecksumValidCountersAndTrace) {
  RouterRig r;
  r.arrive(RouterRig::udp("10.0.2.2"), 41);
  ASSERT_EQ(r.dev1.frames.size(), 1u);
  EXPECT_TRUE(r.dev.frames.empty());
  const std::vector<uint8_t>& f = r.dev1.frames[0];
  const auto eth = wire::EthernetRepr::parse(f);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kMacC);
  EXPECT_EQ(eth->src, kMacR1);
  // The checksum verifies after the TTL changed (ip_decrease_ttl's incremental update).
  const auto ip = wire::Ipv4Packet::checked(RouterRig::ip_of(f), wire::ChecksumCheck::Verify);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->ttl(), 63);
  EXPECT_EQ(ip->ident(), 0x1234);
  EXPECT_EQ(r.dev1.ids[0], 41u);  // the same packet, the same id
  const IpMib& m = r.net->ip_mib();
  EXPECT_EQ(m.OutForwDatagrams, 1u);
  EXPECT_EQ(m.OutRequests, 1u);                 // 6.1's ip_output counts forwarded datagrams too
  EXPECT_EQ(m.OutOctets, 2u * ip->total_len());  // ip_forward_finish and ip_output both add them
  EXPECT_EQ(m.InDelivers, 0u);
  const auto ev = r.sink.of_packet(41);
  bool forwarded = false;
  for (const TraceEvent& e : ev) {
    if (e.kind == TraceKind::IpForward) {
      forwarded = true;
      EXPECT_EQ(e.step, model::ingress(17));
      EXPECT_EQ(e.a, 63u);
      EXPECT_EQ(e.b, static_cast<uint64_t>(r.ifindex1));
    }
  }
  EXPECT_TRUE(forwarded);
  EXPECT_NE(r.net->proc_net_snmp_ip().find("Ip: 1 64 "), std::string::npos);  // Forwarding 1
}

TEST(IpForward, TtlOneIsTimeExceededFromTheIncomingSide) {
  RouterRig r;
  r.arrive(RouterRig::udp("10.0.2.2", 32, 1), 42);
  EXPECT_TRUE(r.dev1.frames.empty());
  ASSERT_EQ(r.dev.frames.size(), 1u);  // the ICMP back to the sender
  const auto ip = wire::Ipv4Packet::checked(RouterRig::ip_of(r.dev.frames[0]), wire::ChecksumCheck::Verify);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), ip4("10.0.1.1"));  // the route back's source
  EXPECT_EQ(ip->dst(), ip4("10.0.1.2"));
  const auto icmp = ip->payload();
  EXPECT_EQ(icmp[0], 11);  // ICMP_TIME_EXCEEDED
  EXPECT_EQ(icmp[1], 0);   // ICMP_EXC_TTL
  // The quote is the datagram as it arrived: TTL 1.
  EXPECT_EQ(icmp[8 + 8], 1);
  EXPECT_EQ(r.net->ip_mib().InHdrErrors, 1u);
  EXPECT_EQ(r.net->ip_mib().OutForwDatagrams, 0u);
  const auto* end = r.end_of(42);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->reason, SkbDropReason::IpInhdr);
}

TEST(IpForward, NoRouteIsNetUnreachableTwoAtOnceThenOneEveryTwoSeconds) {
  // ip_error's bucket (ip_rt_error_cost 1 s, burst 5 s) and icmpv4_xrlim_allow (icmp_ratelimit
  // 1 s, burst 6 s) charge the same inet_peer of the source (route.c ip_error, icmp.c): each
  // unreachable costs 2 s of tokens. A new peer holds 5 s after ip_error's cap: two ICMPs, the
  // third refused by ICMP's limit (ip_error already took its token), the rest by ip_error's.
  RouterRig r;
  for (int i = 0; i < 10; ++i) r.arrive(RouterRig::udp("192.168.9.9"), 100 + static_cast<uint64_t>(i));
  EXPECT_EQ(r.net->ip_mib().InNoRoutes, 10u);
  ASSERT_EQ(r.dev.frames.size(), 2u);
  for (const auto& f : r.dev.frames) {
    const auto ip = wire::Ipv4Packet::checked(RouterRig::ip_of(f), wire::ChecksumCheck::Verify);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->payload()[0], 3);  // ICMP_DEST_UNREACH
    EXPECT_EQ(ip->payload()[1], 0);  // ICMP_NET_UNREACH
  }
  EXPECT_EQ(r.net->stats().ip_error_ratelimited, 7u);
  EXPECT_EQ(r.icmp.mib().RateLimitHost, 1u);
  EXPECT_EQ(r.end_of(100)->reason, SkbDropReason::IpInnoroutes);
  // One second later ip_error has a token but ICMP's look at the same bucket finds none.
  r.cpu.set_now(r.cpu.now() + Duration::ms(1000));
  r.arrive(RouterRig::udp("192.168.9.9"), 200);
  EXPECT_EQ(r.dev.frames.size(), 2u);
  // Two seconds after the burst there is enough for both.
  r.cpu.set_now(r.cpu.now() + Duration::ms(2000));
  r.arrive(RouterRig::udp("192.168.9.9"), 201);
  EXPECT_EQ(r.dev.frames.size(), 3u);
}

TEST(IpForward, DfTooBigForTheNextHopIsFragNeededWithItsMtu) {
  RouterRig r;
  r.dev1.mtu = 1000;
  r.arrive(RouterRig::udp("10.0.2.2", 1100, 64, true), 43);
  EXPECT_TRUE(r.dev1.frames.empty());
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto ip = wire::Ipv4Packet::checked(RouterRig::ip_of(r.dev.frames[0]), wire::ChecksumCheck::Verify);
  ASSERT_TRUE(ip);
  const auto icmp = ip->payload();
  EXPECT_EQ(icmp[0], 3);  // ICMP_DEST_UNREACH
  EXPECT_EQ(icmp[1], 4);  // ICMP_FRAG_NEEDED
  EXPECT_EQ(wire::load_be16(icmp, 6), 1000);  // RFC 1191: the next-hop MTU
  EXPECT_EQ(r.net->ip_mib().FragFails, 1u);
  EXPECT_EQ(r.end_of(43)->reason, SkbDropReason::PktTooBig);
}

TEST(IpForward, PriorityFollowsTheTos) {
  // rt_tos2priority (ip_fwd_update_priority 1): IPTOS_LOWDELAY (0x10) is TC_PRIO_INTERACTIVE
  // (6), pfifo_fast's band 0; IPTOS_THROUGHPUT (0x08) is TC_PRIO_BULK (2), band 2. With eth1's
  // queue stopped the packets wait in pfifo_fast, where their bands show (the first one takes
  // the requeue slot: an empty qdisc hands it straight to the stopped driver).
  RouterRig r;
  r.dev1.netif_tx_stop_queue();
  r.arrive(RouterRig::udp("10.0.2.2"), 44);
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0x10), 45);
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0x08), 46);
  const auto* q = dynamic_cast<const PfifoFast*>(r.dev1.qdisc.get());
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->band_len(0), 1u);
  EXPECT_EQ(q->band_len(1), 0u);
  EXPECT_EQ(q->band_len(2), 1u);
}

TEST(IpForward, NotForwardingIsInAddrErrorsWithoutIcmp) {
  NetStackConfig c;
  RouterRig r(c);
  r.arrive(RouterRig::udp("10.0.2.2"), 47);
  EXPECT_TRUE(r.dev1.frames.empty());
  EXPECT_TRUE(r.dev.frames.empty());
  EXPECT_EQ(r.net->ip_mib().InAddrErrors, 1u);
  EXPECT_EQ(r.net->ip_mib().OutForwDatagrams, 0u);
}

TEST(IpForward, OurOwnSourceAddressIsAMartian) {
  RouterRig r;
  std::vector<uint8_t> d = RouterRig::udp("10.0.2.2");
  wire::Ipv4Repr rep = *wire::Ipv4Repr::parse(d);
  rep.src = ip4("10.0.2.1");
  rep.emit(d);
  r.arrive(d, 48);
  EXPECT_TRUE(r.dev1.frames.empty());
  EXPECT_EQ(r.net->rt_cache_stats().in_martian_src, 1u);
  EXPECT_EQ(r.net->ip_mib().OutForwDatagrams, 0u);
}

}  // namespace
}  // namespace vnic::stack

// Local IPv4 output (ip_queue_xmit / ip_make_skb -> ip_local_out -> ip_output ->
// ip_finish_output2 -> neigh_output -> dev_queue_xmit, Linux 6.1): the header's bytes, the
// counters (OutRequests/OutOctets in ip_output, OutNoRoutes, FragFails), the errors, and a
// packet that waits for ARP and leaves when the reply comes.
#include <gtest/gtest.h>

#include "support/net_rig.hpp"
#include "vnic/stack/wire/arp.hpp"
#include "vnic/stack/wire/ethernet.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::NetRig;

SkBuff* payload(NetRig& r, uint32_t n) {
  SkBuff* s = r.net->alloc_skb(r.cpu, n);
  for (uint32_t i = 0; i < n; ++i) s->bytes()[i] = static_cast<uint8_t>(i);
  return s;
}

TEST(IpQueueXmit, TheHeaderIsBuiltAsLinuxBuildsIt) {
  NetRig r;
  r.net->neigh().neigh_add(r.dev, ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
  ASSERT_EQ(r.net->ip_send(r.cpu, payload(r, 8), {.daddr = ip4("10.0.0.2"), .protocol = 17, .tos = 0x10}), 0);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto& f = r.dev.frames[0];
  const auto eth = wire::EthernetRepr::parse(f);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, testing::kMacB);
  EXPECT_EQ(eth->src, testing::kMacA);
  EXPECT_EQ(eth->ethertype, wire::EtherType::Ipv4);
  const auto ip = wire::Ipv4Repr::parse(std::span<const uint8_t>(f).subspan(14));  // checksum verified
  ASSERT_TRUE(ip) << wire::name(ip.error());
  EXPECT_EQ(ip->src, ip4("10.0.0.1"));  // the route's source: the device's address
  EXPECT_EQ(ip->dst, ip4("10.0.0.2"));
  EXPECT_EQ(ip->ttl, 64);               // ip_default_ttl
  EXPECT_EQ(ip->tos, 0x10);
  EXPECT_TRUE(ip->dont_fragment);
  EXPECT_EQ(ip->ident, 0);              // DF without a connected socket: id 0
  EXPECT_EQ(ip->payload_len, 8);
  EXPECT_EQ(f[14 + 20 + 7], 7);         // the payload follows
  EXPECT_EQ(r.net->ip_mib().OutRequests, 1u);
  EXPECT_EQ(r.net->ip_mib().OutOctets, 28u);
  EXPECT_EQ(r.end_of(r.dev.ids[0])->reason, SkbDropReason::NotDroppedYet);
}

TEST(IpQueueXmit, CallerTtlAndNonDfIdsFromTheSeededGenerator) {
  auto ids = [](uint64_t seed) {
    NetStackConfig cfg;
    cfg.seed = seed;
    cfg.ipv4.ip_default_ttl = 32;
    NetRig r(cfg);
    r.net->neigh().neigh_add(r.dev, ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
    std::vector<uint16_t> v;
    for (int i = 0; i < 3; ++i) {
      r.net->ip_send(r.cpu, payload(r, 4), {.daddr = ip4("10.0.0.2"), .protocol = 1, .df = false});
      const auto ip = wire::Ipv4Repr::parse(std::span<const uint8_t>(r.dev.frames.back()).subspan(14));
      EXPECT_EQ(ip->ttl, 32);
      EXPECT_FALSE(ip->dont_fragment);
      v.push_back(ip->ident);
    }
    r.net->ip_send(r.cpu, payload(r, 4), {.daddr = ip4("10.0.0.2"), .protocol = 1, .ttl = 1});
    EXPECT_EQ(wire::Ipv4Repr::parse(std::span<const uint8_t>(r.dev.frames.back()).subspan(14))->ttl, 1);
    return v;
  };
  const auto a = ids(1);
  EXPECT_EQ(a, ids(1));  // same seed, same ids
  EXPECT_NE(a, ids(2));
  EXPECT_EQ(static_cast<uint16_t>(a[1] - a[0]), 1);  // one slot, within a jiffy: consecutive
  EXPECT_EQ(static_cast<uint16_t>(a[2] - a[1]), 1);
}

TEST(IpQueueXmit, NoRouteIsEnetunreachWithOutNoRoutesAndNoPacket) {
  NetRig r;
  SkBuff* s = payload(r, 8);
  const uint64_t id = s->trace_id;
  EXPECT_EQ(r.net->ip_send(r.cpu, s, {.daddr = ip4("192.0.2.1"), .protocol = 17}), -kENETUNREACH);
  EXPECT_EQ(r.net->ip_mib().OutNoRoutes, 1u);
  EXPECT_EQ(r.net->ip_mib().OutRequests, 0u);
  EXPECT_TRUE(r.dev.frames.empty());
  EXPECT_EQ(r.end_of(id)->reason, SkbDropReason::IpOutnoroutes);
  EXPECT_EQ(r.pool.live(), 0u);
  // A source that is not ours has no route either.
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 8), {.saddr = ip4("10.0.0.7"), .daddr = ip4("10.0.0.2"), .protocol = 17}),
            -kENETUNREACH);
  // An unreachable route: -EHOSTUNREACH.
  FibRoute u;
  u.dst = testing::cidr("198.51.100.0/24");
  u.type = RouteType::Unreachable;
  ASSERT_EQ(r.net->ip_route_add(u), 0);
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 8), {.daddr = ip4("198.51.100.1"), .protocol = 17}), -kEHOSTUNREACH);
  EXPECT_EQ(r.net->ip_mib().OutNoRoutes, 3u);
}

TEST(IpQueueXmit, LargerThanTheMtuIsEmsgsizeWithFragFails) {
  NetRig r;
  r.dev.mtu = 576;
  r.net->neigh().neigh_add(r.dev, ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 557), {.daddr = ip4("10.0.0.2"), .protocol = 17}), -kEMSGSIZE);
  EXPECT_EQ(r.net->ip_mib().FragFails, 1u);
  EXPECT_EQ(r.net->ip_mib().OutRequests, 1u);  // ip_output counted it before ip_finish_output
  EXPECT_TRUE(r.dev.frames.empty());
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 556), {.daddr = ip4("10.0.0.2"), .protocol = 17}), 0);  // 576 fits
  EXPECT_EQ(r.dev.frames.size(), 1u);
}

TEST(IpQueueXmit, AGatewayRouteResolvesTheGateway) {
  NetRig r;
  FibRoute d;
  d.dst = testing::cidr("0.0.0.0/0");
  d.gateway = ip4("10.0.0.254");
  d.dev = r.ifindex;
  ASSERT_EQ(r.net->ip_route_add(d), 0);
  const NetStack::RouteOut ro = r.net->route_output(ip4("203.0.113.5"));
  EXPECT_EQ(ro.err, 0);
  EXPECT_EQ(ro.oif, r.ifindex);
  EXPECT_EQ(ro.next_hop, ip4("10.0.0.254"));
  EXPECT_EQ(ro.saddr, ip4("10.0.0.1"));
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 8), {.daddr = ip4("203.0.113.5"), .protocol = 17}), 0);
  ASSERT_EQ(r.dev.frames.size(), 1u);  // the ARP request for the gateway
  const auto arp = wire::ArpRepr::parse(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->target_ip, ip4("10.0.0.254"));
}

TEST(IpQueueXmit, AnUnresolvedNextHopQueuesThePacketUntilTheArpReply) {
  NetRig r;
  SkBuff* s = payload(r, 8);
  const uint64_t id = s->trace_id;
  EXPECT_EQ(r.net->ip_send(r.cpu, s, {.daddr = ip4("10.0.0.2"), .protocol = 17}), 0);  // queued counts as sent
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto req = wire::ArpRepr::parse(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, wire::ArpOp::Request);
  EXPECT_EQ(req->sender_ip, ip4("10.0.0.1"));
  EXPECT_EQ(req->target_ip, ip4("10.0.0.2"));
  EXPECT_EQ(r.net->ip_neigh(), "10.0.0.2 dev eth0  INCOMPLETE\n");
  // The reply arrives.
  wire::ArpRepr rep;
  rep.op = wire::ArpOp::Reply;
  rep.sender_mac = testing::kMacB;
  rep.sender_ip = ip4("10.0.0.2");
  rep.target_mac = testing::kMacA;
  rep.target_ip = ip4("10.0.0.1");
  std::vector<uint8_t> b(wire::ArpRepr::buffer_len());
  rep.emit(b);
  r.receive(r.frame(0x0806, b, 99));
  ASSERT_EQ(r.dev.frames.size(), 2u);
  EXPECT_EQ(r.dev.ids[1], id);  // the waiting datagram left, with its id
  const auto eth = wire::EthernetRepr::parse(r.dev.frames[1]);
  EXPECT_EQ(eth->dst, testing::kMacB);
  EXPECT_EQ(r.net->ip_neigh(), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:0b REACHABLE\n");
  // Its events: 5, 6, 7, 8, the neighbour (waiting), then dev_queue_xmit (10).
  std::vector<TraceKind> kinds;
  for (const TraceEvent& e : r.sink.of_packet(id)) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<TraceKind>{TraceKind::PacketMade, TraceKind::IpSend, TraceKind::IpHeader,
                                           TraceKind::RouteOutput, TraceKind::IpOutput, TraceKind::NeighOutput,
                                           TraceKind::DevQueueXmit, TraceKind::QdiscEnqueue}));
}

TEST(IpQueueXmit, ABroadcastGoesToTheBroadcastAddressWithoutArp) {
  NetRig r;
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 8), {.daddr = ip4("10.0.0.255"), .protocol = 17, .df = false}), 0);
  EXPECT_EQ(r.net->ip_send(r.cpu, payload(r, 8),
                           {.daddr = ip4("255.255.255.255"), .protocol = 17, .df = false, .oif = r.ifindex}),
            0);
  ASSERT_EQ(r.dev.frames.size(), 2u);
  for (const auto& f : r.dev.frames) {
    EXPECT_EQ(wire::EthernetRepr::parse(f)->dst, model::MacAddr::broadcast());
    EXPECT_EQ(wire::Ipv4Repr::parse(std::span<const uint8_t>(f).subspan(14))->src, ip4("10.0.0.1"));
  }
  EXPECT_EQ(r.net->ip_mib().OutBcastPkts, 2u);
}

TEST(IpQueueXmit, ASendToOurOwnAddressGoesOutThroughLoAndComesBackIn) {
  NetRig r;
  SkBuff* skb = payload(r, 8);
  const uint64_t id = skb->trace_id;
  EXPECT_EQ(r.net->ip_send(r.cpu, skb, {.daddr = ip4("10.0.0.1"), .protocol = 17}), 0);
  EXPECT_TRUE(r.dev.frames.empty());  // not on eth0
  EXPECT_EQ(r.net->loopback().lstats_packets(), 1u);
  EXPECT_EQ(r.net->loopback().lstats_bytes(), 28u);  // from the IP header
  EXPECT_EQ(r.net->ip_mib().OutRequests, 1u);
  r.cpu.run();  // the backlog: ip_rcv, no handler for UDP in this rig
  EXPECT_EQ(r.net->ip_mib().InReceives, 1u);
  EXPECT_EQ(r.net->ip_mib().InUnknownProtos, 1u);
  ASSERT_NE(r.end_of(id), nullptr);
  EXPECT_EQ(r.end_of(id)->reason, SkbDropReason::IpNoproto);
  EXPECT_EQ(r.pool.live(), 0u);
}

}  // namespace
}  // namespace vnic::stack

// __netif_receive_skb_core (net/core/dev.c, Linux 6.1): ptype_all taps get a clone with the
// Ethernet header, tc ingress (clsact) filters and their counters, ptype_base dispatch, and a
// frame nobody handles counted in the device's rx_dropped with UNHANDLED_PROTO.
#include <gtest/gtest.h>

#include "support/net_rig.hpp"
#include "vnic/stack/wire/arp.hpp"

namespace vnic::stack {
namespace {

using testing::NetRig;

struct TapLog {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<bool> outgoing;
  std::vector<uint64_t> ids;
  std::vector<const SkBuff*> seen;
  static void fn(void* ctx, const SkBuff& skb, bool out, Instant) {
    auto* t = static_cast<TapLog*>(ctx);
    t->frames.emplace_back(skb.bytes().begin(), skb.bytes().end());
    t->outgoing.push_back(out);
    t->ids.push_back(skb.trace_id);
    t->seen.push_back(&skb);
  }
};

struct PackLog {
  std::vector<SkBuff*> got;
  static void fn(void* ctx, SkBuff* skb) {
    static_cast<PackLog*>(ctx)->got.push_back(skb);
    consume_skb(skb);
  }
};

TEST(NetifReceiveSkbCore, ATapSeesAClonedFrameWithItsEthernetHeaderAndThePacketGoesOn) {
  NetRig r;
  TapLog tap;
  ASSERT_EQ(r.net->add_tap(r.ifindex, &TapLog::fn, &tap), 0);
  PackLog pk;
  r.net->dev_add_pack(0x88B5, &PackLog::fn, &pk);
  SkBuff* s = r.frame(0x88B5, std::vector<uint8_t>(46, 0xAB), 42);
  r.receive(s);
  ASSERT_EQ(tap.frames.size(), 1u);
  EXPECT_FALSE(tap.outgoing[0]);
  EXPECT_EQ(tap.ids[0], 42u);
  EXPECT_NE(tap.seen[0], s);  // a clone, not the packet itself
  ASSERT_EQ(tap.frames[0].size(), 60u);  // the Ethernet header is there
  EXPECT_EQ(tap.frames[0][12], 0x88);
  EXPECT_EQ(tap.frames[0][13], 0xB5);
  ASSERT_EQ(pk.got.size(), 1u);  // and the original reached its handler
  EXPECT_EQ(r.pool.stats().clones, 1u);
  EXPECT_EQ(r.pool.live(), 0u);  // the clone went back
  EXPECT_EQ(r.ends.size(), 1u);  // one end for packet 42: the clone is not counted
  EXPECT_EQ(r.sink.count(TraceKind::Tap), 1u);
}

TEST(NetifReceiveSkbCore, TapsSeeOutgoingFramesAtDevQueueXmitNit) {
  NetRig r;
  TapLog tap;
  r.net->add_tap(r.ifindex, &TapLog::fn, &tap);
  r.net->neigh().neigh_add(r.dev, testing::ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
  SkBuff* s = r.net->alloc_skb(r.cpu, 8);
  ASSERT_EQ(r.net->ip_send(r.cpu, s, {.daddr = testing::ip4("10.0.0.2"), .protocol = 253}), 0);
  ASSERT_EQ(tap.frames.size(), 1u);
  EXPECT_TRUE(tap.outgoing[0]);
  EXPECT_EQ(tap.frames[0].size(), 14u + 20u + 8u);
  EXPECT_EQ(tap.frames[0], r.dev.frames.at(0));
}

TEST(NetifReceiveSkbCore, TcIngressDropIsCountedInTheFilterAndClsactWithReasonTcIngress) {
  NetRig r;
  ASSERT_EQ(r.net->tc_filter_add_ingress(r.ifindex, TcFilter{}), -kEINVAL);  // no clsact yet
  ASSERT_EQ(r.net->tc_qdisc_add_clsact(r.ifindex), 0);
  EXPECT_EQ(r.net->tc_qdisc_add_clsact(r.ifindex), -kEEXIST);
  TcFilter f;
  f.protocol = 0x0800;
  f.ip_proto = 17;
  f.src_ip = testing::cidr("10.0.0.2/32");
  f.action = TcAction::Shot;
  ASSERT_EQ(r.net->tc_filter_add_ingress(r.ifindex, f), 0);
  PackLog udp;
  r.net->inet_add_protocol(17, &PackLog::fn, &udp);
  const auto dg = NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(8, 0));
  r.receive(r.frame(0x0800, dg, 1));
  // Another source passes (no filter matches: TC_ACT_UNSPEC).
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.3", "10.0.0.1", 17, std::vector<uint8_t>(8, 0)), 2));
  EXPECT_EQ(udp.got.size(), 1u);
  const ClsactStats* cs = r.net->clsact_stats(r.ifindex);
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ(cs->packets, 2u);
  EXPECT_EQ(cs->bytes, 2u * 46u);  // qdisc_pkt_len: skb->len at ingress, link padding included
  EXPECT_EQ(cs->drops, 1u);
  const auto& filters = *r.net->tc_ingress_filters(r.ifindex);
  EXPECT_EQ(filters[0].pref, 49152u);
  EXPECT_EQ(filters[0].packets, 1u);
  EXPECT_EQ(filters[0].drops, 1u);
  ASSERT_NE(r.end_of(1), nullptr);
  EXPECT_EQ(r.end_of(1)->reason, SkbDropReason::TcIngress);
  EXPECT_EQ(r.net->ip_mib().InReceives, 1u);  // the dropped one never reached ip_rcv
  const std::string q = r.net->tc_s_qdisc();
  EXPECT_NE(q.find("qdisc clsact ffff: dev eth0 parent ffff:fff1 \n Sent 92 bytes 2 pkt (dropped 1, overlimits 0 "
                   "requeues 0) \n backlog 0b 0p requeues 0\n"),
            std::string::npos)
      << q;
  const std::string fs = r.net->tc_s_filter_ingress(r.ifindex);
  EXPECT_NE(fs.find("filter protocol ip pref 49152 flower chain 0 handle 0x1 \n  eth_type ipv4\n  ip_proto udp\n"
                    "  src_ip 10.0.0.2\n"),
            std::string::npos)
      << fs;
  EXPECT_NE(fs.find("gact action drop"), std::string::npos);
  EXPECT_NE(fs.find("\tSent 46 bytes 1 pkt (dropped 1, overlimits 0 requeues 0) \n"), std::string::npos) << fs;
}

TEST(NetifReceiveSkbCore, TcIngressFiltersRunInPrefOrderAndThFirstMatchDecides) {
  NetRig r;
  r.net->tc_qdisc_add_clsact(r.ifindex);
  TcFilter drop_all;
  drop_all.pref = 20;
  drop_all.action = TcAction::Shot;
  TcFilter pass_ip;
  pass_ip.pref = 10;
  pass_ip.protocol = 0x0800;
  pass_ip.action = TcAction::Ok;
  ASSERT_EQ(r.net->tc_filter_add_ingress(r.ifindex, drop_all), 0);
  ASSERT_EQ(r.net->tc_filter_add_ingress(r.ifindex, pass_ip), 0);
  EXPECT_EQ(r.net->tc_filter_add_ingress(r.ifindex, pass_ip), -kEINVAL);  // pref 10 taken
  PackLog pk;
  r.net->dev_add_pack(0x88B5, &PackLog::fn, &pk);
  r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 253, {1, 2, 3, 4}), 1));
  r.receive(r.frame(0x88B5, std::vector<uint8_t>(46), 2));
  EXPECT_EQ(pk.got.size(), 0u);  // the catch-all drop (pref 20) took the non-IP frame
  EXPECT_EQ(r.end_of(2)->reason, SkbDropReason::TcIngress);
  EXPECT_EQ(r.net->ip_mib().InReceives, 1u);  // the IP one passed (pref 10)
  const auto& f = *r.net->tc_ingress_filters(r.ifindex);
  EXPECT_EQ(f[0].pref, 10u);
  EXPECT_EQ(f[0].packets, 1u);
  EXPECT_EQ(f[1].drops, 1u);
}

TEST(NetifReceiveSkbCore, NoProtocolHandlerCountsRxDroppedNotRxNohandlerAsLinux61Does) {
  NetRig r;
  r.receive(r.frame(0x88B5, std::vector<uint8_t>(46), 9));
  EXPECT_EQ(r.dev.rx_dropped_core, 1u);  // deliver_exact false: dev_core_stats_rx_dropped_inc
  EXPECT_EQ(r.net->rx_nohandler(r.ifindex), 0u);
  ASSERT_NE(r.end_of(9), nullptr);
  EXPECT_EQ(r.end_of(9)->reason, SkbDropReason::UnhandledProto);
  const auto ev = r.sink.of_packet(9);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, TraceKind::Drop);
  EXPECT_EQ(ev.back().a, static_cast<uint32_t>(SkbDropReason::UnhandledProto));
  EXPECT_EQ(ev.front().kind, TraceKind::ReceiveCore);
  EXPECT_EQ(ev.front().step, model::ingress(13));
  EXPECT_NE(r.net->ip_s_link().find("    RX:  bytes packets errors dropped  missed   mcast           \n"),
            std::string::npos)
      << r.net->ip_s_link();
}

TEST(NetifReceiveSkbCore, ArpFramesGoToArpRcvAndAreConsumed) {
  NetRig r;
  // A request from 10.0.0.2 for our 10.0.0.1: answered, the sender learned.
  wire::ArpRepr arp;
  arp.op = wire::ArpOp::Request;
  arp.sender_mac = testing::kMacB;
  arp.sender_ip = testing::ip4("10.0.0.2");
  arp.target_ip = testing::ip4("10.0.0.1");
  std::vector<uint8_t> b(wire::ArpRepr::buffer_len());
  arp.emit(b);
  r.receive(r.frame(0x0806, b, 5, model::MacAddr::broadcast()));
  ASSERT_NE(r.end_of(5), nullptr);
  EXPECT_EQ(r.end_of(5)->reason, SkbDropReason::NotDroppedYet);  // consumed
  ASSERT_EQ(r.dev.frames.size(), 1u);  // the reply, through dev_queue_xmit
  EXPECT_EQ(r.dev.frames[0][21], 2);   // ARP op reply
  EXPECT_EQ(r.net->ip_neigh(), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:0b STALE\n");
  EXPECT_GT(r.dev.ids[0], (uint64_t{1} << 32 | NetStack::kStackIdBit));  // the reply has a stack id
}

}  // namespace
}  // namespace vnic::stack

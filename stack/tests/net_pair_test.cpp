// Two NetStacks back to back (support/wire_pair.hpp): ARP resolves, an IPv4 datagram reaches the
// peer's inet_protos handler, the trace shows each step of egress 5-11 and ingress 12-19 under one
// packet id, every packet made ends exactly once, and the hosts' views print as iproute2 and
// /proc print them.
#include <gtest/gtest.h>

#include <map>

#include "support/net_rig.hpp"
#include "support/wire_pair.hpp"

namespace vnic::stack {
namespace {

using testing::cidr;
using testing::ip4;
using testing::RecordingSink;
using testing::WirePair;

struct Sink253 {
  NetStack* net = nullptr;
  std::vector<std::vector<uint8_t>> got;
  static void fn(void* ctx, SkBuff* skb) {
    auto* s = static_cast<Sink253*>(ctx);
    s->got.emplace_back(skb->bytes().begin(), skb->bytes().end());
    s->net->consume(s->net->cpu(0), skb, model::ingress(19));
  }
};

struct NetPair : ::testing::Test {
  WirePair p{cidr("10.0.0.1/24"), cidr("10.0.0.2/24")};
  RecordingSink sink;
  Sink253 rx;
  void SetUp() override {
    p.a.net->set_trace(&sink, "host_a");
    p.b.net->set_trace(&sink, "host_b");
    p.a.softnet.set_trace(&sink, "host_a");
    p.b.softnet.set_trace(&sink, "host_b");
    p.a.net->set_id_base(uint64_t{1} << 32);
    p.b.net->set_id_base(uint64_t{2} << 32);
    rx.net = p.b.net.get();
    p.b.net->inet_add_protocol(253, &Sink253::fn, &rx);
  }
  uint64_t send(uint32_t n) {
    SkBuff* s = p.a.net->alloc_skb(p.a.cpu, n);
    for (uint32_t i = 0; i < n; ++i) s->bytes()[i] = static_cast<uint8_t>(0xC0 + i);
    const uint64_t id = s->trace_id;
    EXPECT_EQ(p.a.net->ip_send(p.a.cpu, s, {.daddr = ip4("10.0.0.2"), .protocol = 253}), 0);
    p.run();
    return id;
  }
};

TEST_F(NetPair, ArpResolvesAndTheDatagramReachesThePeersHandler) {
  send(16);
  ASSERT_EQ(rx.got.size(), 1u);
  EXPECT_EQ(rx.got[0].size(), 16u);
  EXPECT_EQ(rx.got[0][0], 0xC0);
  EXPECT_EQ(p.a.net->ip_neigh(), "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:0b REACHABLE\n");
  EXPECT_EQ(p.b.net->ip_neigh(), "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:0a STALE\n");
  EXPECT_EQ(p.a.dev.sent.size(), 2u);  // the ARP request, then the datagram
  EXPECT_EQ(p.b.dev.sent.size(), 1u);  // the ARP reply
  EXPECT_EQ(p.a.net->ip_mib().OutRequests, 1u);
  EXPECT_EQ(p.b.net->ip_mib().InReceives, 1u);
  EXPECT_EQ(p.b.net->ip_mib().InDelivers, 1u);
  // A second datagram goes at once (the entry is REACHABLE).
  send(4);
  EXPECT_EQ(rx.got.size(), 2u);
  EXPECT_EQ(p.a.dev.sent.size(), 3u);
}

TEST_F(NetPair, TheTraceShowsEachStepOfTheDatagramUnderOneId) {
  const uint64_t id = send(16);
  std::vector<std::pair<std::string, model::Step>> got;
  for (const auto& r : sink.events) {
    if (r.e.packet == id && !r.e.step.none()) got.emplace_back(r.source, r.e.step);
  }
  const std::vector<std::pair<std::string, model::Step>> want = {
      {"host_a", model::egress(5)},   {"host_a", model::egress(6)},   {"host_a", model::egress(7)},
      {"host_a", model::egress(8)},   {"host_a", model::egress(10)},  {"host_a", model::egress(11)},
      {"host_b", model::ingress(14)}, {"host_b", model::ingress(12)}, {"host_b", model::ingress(13)},
      {"host_b", model::ingress(15)}, {"host_b", model::ingress(17)}, {"host_b", model::ingress(18)},
      {"host_b", model::ingress(19)}, {"host_b", model::ingress(19)},  // L4 hand-off, then consumed
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(id >> 32, 1u);
  EXPECT_NE(id & NetStack::kStackIdBit, 0u);  // the stack's own id range
}

TEST_F(NetPair, EveryPacketMadeEndsExactlyOnce) {
  send(16);
  send(4);
  // One unknown protocol too: dropped on b with IP_NOPROTO.
  SkBuff* s = p.a.net->alloc_skb(p.a.cpu, 4);
  p.a.net->ip_send(p.a.cpu, s, {.daddr = ip4("10.0.0.2"), .protocol = 99});
  p.run();
  std::map<uint64_t, int> made, ended;
  for (const auto& r : sink.events) {
    if (r.e.kind == TraceKind::PacketMade) ++made[r.e.packet];
    if (r.e.kind == TraceKind::Consumed || r.e.kind == TraceKind::Drop) ++ended[r.e.packet];
  }
  EXPECT_EQ(made.size(), 5u);  // 3 datagrams, the ARP request and reply
  EXPECT_EQ(made, ended);
  for (const auto& [id, n] : made) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(p.b.net->ip_mib().InUnknownProtos, 1u);
  EXPECT_EQ(p.a.pool.live(), 0u);
  EXPECT_EQ(p.b.pool.live(), 0u);
}

TEST_F(NetPair, TheViewsPrintAsIproute2AndProcDo) {
  send(16);
  // lo first, as `ip addr` and `ip -s link` list it on Linux (its counters: nothing looped yet).
  EXPECT_EQ(p.a.net->ip_addr(),
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "    inet 127.0.0.1/8 scope host lo\n"
            "       valid_lft forever preferred_lft forever\n"
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n"
            "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff\n"
            "    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0\n"
            "       valid_lft forever preferred_lft forever\n");
  EXPECT_EQ(p.a.net->ip_route(), "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n");
  EXPECT_EQ(p.a.net->ip_s_link(),
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default "
            "qlen 1000\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "    RX:  bytes packets errors dropped  missed   mcast           \n"
            "             0       0      0       0       0       0 \n"
            "    TX:  bytes packets errors dropped carrier collsns           \n"
            "             0       0      0       0       0       0 \n"
            "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group "
            "default qlen 1000\n"
            "    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff\n"
            "    RX:  bytes packets errors dropped  missed   mcast           \n"
            "            42       1      0       0       0       0 \n"
            "    TX:  bytes packets errors dropped carrier collsns           \n"
            "            92       2      0       0       0       0 \n");
  const std::string q = p.a.net->tc_s_qdisc();
  EXPECT_NE(q.find("\nqdisc pfifo_fast 0: dev eth0 root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1\n"
                   " Sent 92 bytes 2 pkt (dropped 0, overlimits 0 requeues 0) \n"),
            std::string::npos)
      << q;
  EXPECT_EQ(p.b.net->proc_net_snmp_ip().substr(p.b.net->proc_net_snmp_ip().find("\nIp: ") + 1),
            "Ip: 2 64 1 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0\n");
  const std::string ext = p.a.net->netstat_ipext();
  EXPECT_EQ(ext.substr(ext.find("\nIpExt: ") + 1), "IpExt: 0 0 0 0 0 0 0 36 0 0 0 0 0 0 0 0 0 0\n");
}

}  // namespace
}  // namespace vnic::stack

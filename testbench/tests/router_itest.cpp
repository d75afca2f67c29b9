// Three hosts in a line, the middle one forwarding between its two NICs (builtin:router):
//   a 10.0.1.2 -- 10.0.1.1 [b] 10.0.2.1 -- 10.0.2.2 c
// on the whole platform (NICs, drivers, links, stacks). The TTL decremented on the way (RFC 1812
// 5.3.1), Time Exceeded from the router when it runs out (RFC 792), 4000-byte pings fragmented
// by the sender and reassembled at the far end both ways (RFC 791, RFC 815; ip_do_fragment,
// ip_defrag), a FORWARD DROP rule stopping exactly the packets it matches, a REJECT answering
// with the ICMP ipt_REJECT sends, and the journeys of a forwarded packet, a fragmented one and
// one a rule dropped; the per-packet account complete in each.
#include <gtest/gtest.h>

#include <systemc>

#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/apps/ping_app.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/netfilter.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
using vnic::model::Step;
using vnic::model::TraceKind;
namespace model = vnic::model;
namespace stack = vnic::stack;

Scenario router(const std::vector<std::string>& sets = {}) {
  Scenario s = vnic::tb::testing::builtin("router", sets);
  s.account = true;
  return s;
}

const stack::IpMib& mib(Platform& pf, const char* host) { return pf.driver_host(host).net().ip_mib(); }

bool has(const vnic::tb::Journey& j, TraceKind k, Step s, const char* source = nullptr) {
  for (const auto& st : j.steps) {
    if (st.kind == k && st.step == s && (source == nullptr || st.source == source)) return true;
  }
  return false;
}

TEST(Router, TtlIsDecrementedAndFourThousandBytePingsAreFragmentedAndReassembledBothWays) {
  Platform pf(router());
  pf.run();
  const stack::PingApp* ping = pf.driver_host("a").ping();
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->stats().transmitted, 10u);
  EXPECT_EQ(ping->stats().received, 10u);
  // c's replies left with TTL 64 and crossed one router.
  EXPECT_NE(ping->output().find("4008 bytes from 10.0.2.2: icmp_seq=1 ttl=63 "), std::string::npos) << ping->output();
  // 4028-byte datagrams at MTU 1500: three fragments each (1480 + 1480 + 1048 bytes of data),
  // made at a (requests) and c (replies), joined at the other end; b forwards every fragment
  // and c's 5000-frame UDP flood, and reassembles nothing.
  for (const char* h : {"a", "c"}) {
    SCOPED_TRACE(h);
    EXPECT_EQ(mib(pf, h).FragOKs, 10u);
    EXPECT_EQ(mib(pf, h).FragCreates, 30u);
    EXPECT_EQ(mib(pf, h).ReasmReqds, 30u);
    EXPECT_EQ(mib(pf, h).ReasmOKs, 10u);
    EXPECT_EQ(mib(pf, h).ReasmFails, 0u);
    EXPECT_EQ(pf.driver_host(h).net().frag_queues(), 0u);
  }
  EXPECT_EQ(mib(pf, "b").OutForwDatagrams, 5000u + 60u);
  EXPECT_EQ(mib(pf, "b").ReasmReqds, 0u);
  EXPECT_EQ(mib(pf, "b").InDelivers, 0u);
  ASSERT_EQ(pf.driver_host("a").udp_sinks(), 1u);
  EXPECT_EQ(pf.driver_host("a").udp_sink(0).stats().ok, 5000u);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
  EXPECT_TRUE(pf.all_ok());
}

TEST(Router, ATtlOfOneIsTimeExceededFromTheRouter) {
  Platform pf(router({"host.a.ping.ttl=1", "host.a.ping.size=56", "host.a.ping.count=3", "host.c.frames=0"}));
  pf.run();
  const stack::PingApp* ping = pf.driver_host("a").ping();
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->stats().received, 0u);
  EXPECT_EQ(ping->stats().errors, 3u);
  EXPECT_NE(ping->output().find("From 10.0.1.1 icmp_seq=1 Time to live exceeded"), std::string::npos)
      << ping->output();
  EXPECT_EQ(mib(pf, "b").InHdrErrors, 3u);
  EXPECT_EQ(mib(pf, "b").OutForwDatagrams, 0u);
  EXPECT_EQ(pf.driver_host("b").icmp().mib().out_type(11), 3u);  // ICMP_TIME_EXCEEDED
  EXPECT_EQ(mib(pf, "c").InReceives, 0u);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
}

TEST(Router, AForwardDropRuleStopsExactlyTheMatchingPacketsAndCountsThem) {
  // c's UDP flood to a is dropped at b; the pings (ICMP, fragmented) pass untouched.
  Platform pf(router({R"(host.b.iptables=["-A FORWARD -p udp --dport 9 -j DROP"])"}));
  pf.run();
  const auto& ipt = pf.driver_host("b").net().iptables();
  const auto rule = ipt.rule_counters(stack::NfTable::Filter, "FORWARD", 1);
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->packets, 5000u);
  ASSERT_EQ(pf.driver_host("a").udp_sinks(), 1u);
  EXPECT_EQ(pf.driver_host("a").udp_sink(0).stats().frames, 0u);
  EXPECT_EQ(pf.driver_host("a").ping()->stats().received, 10u);
  // The policy took every fragment of the 20 pings' datagrams (request and reply: 60).
  EXPECT_EQ(ipt.policy_counters(stack::NfTable::Filter, "FORWARD")->packets, 60u);
  EXPECT_EQ(mib(pf, "b").OutForwDatagrams, 60u);
  const auto t = pf.account()->totals();
  EXPECT_EQ(t.by_counter.at("NETFILTER_DROP (netfilter)"), 5000u);
  EXPECT_EQ(t.dropped, 5000u);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
}

TEST(Router, ARejectRuleAnswersWithPortUnreachableAsIptRejectDoes) {
  Platform pf(router({R"(host.b.iptables=["-A FORWARD -p icmp --icmp-type echo-request -j REJECT"])",
                      "host.a.ping.size=56", "host.a.ping.count=3", "host.c.frames=0"}));
  pf.run();
  const stack::PingApp* ping = pf.driver_host("a").ping();
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->stats().received, 0u);
  EXPECT_NE(ping->output().find("From 10.0.1.1 icmp_seq=1 Destination Port Unreachable"), std::string::npos)
      << ping->output();
  EXPECT_EQ(pf.driver_host("b").icmp().mib().out_type(3), 3u);
  EXPECT_EQ(mib(pf, "c").InReceives, 0u);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
}

TEST(Router, JourneysOfAForwardedAFragmentedAndARuleDroppedPacket) {
  // A few flood frames from c (a rule drops those to port 9: here all of them) and two pings.
  Scenario s = router({"host.a.ping.count=2", "host.c.frames=3",
                       R"(host.b.iptables=["-A FORWARD -s 10.0.2.2 -p udp -j DROP"])"});
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const auto* rec = pf.journeys();
  ASSERT_NE(rec, nullptr);
  const auto& ids = pf.driver_host("a").ping()->request_ids();
  ASSERT_EQ(ids.size(), 2u);
  // The fragmented echo request: cut at a (egress 9), forwarded by b (ingress 17), joined at c
  // (ingress 18) and answered there by ICMP, under the one id it was made with.
  const auto req = rec->journeys().find(ids[0]);
  ASSERT_NE(req, rec->journeys().end());
  const vnic::tb::Journey& j = req->second;
  EXPECT_TRUE(j.ended);
  EXPECT_TRUE(j.dropped_at.empty());
  EXPECT_TRUE(has(j, TraceKind::IpFragment, model::egress(9), "host_a"));
  EXPECT_TRUE(has(j, TraceKind::IpForward, model::ingress(17), "host_b"));
  EXPECT_TRUE(has(j, TraceKind::QdiscEnqueue, model::egress(11), "host_b"));
  EXPECT_TRUE(has(j, TraceKind::IpDefrag, model::ingress(18), "host_c"));
  EXPECT_TRUE(has(j, TraceKind::IpReasm, model::ingress(18), "host_c"));
  EXPECT_TRUE(has(j, TraceKind::Consumed, model::ingress(19), "host_c"));
  // Its second fragment: its own id, made at egress 9, ended when it was joined.
  const auto frag = rec->journeys().find(model::fragment_id(ids[0], 1480));
  ASSERT_NE(frag, rec->journeys().end());
  EXPECT_TRUE(has(frag->second, TraceKind::IpFragment, model::egress(9), "host_a"));
  EXPECT_TRUE(has(frag->second, TraceKind::IpForward, model::ingress(17), "host_b"));
  EXPECT_TRUE(frag->second.ended);
  EXPECT_FALSE(has(frag->second, TraceKind::IpReasm, model::ingress(18)));
  // A flood frame from c: forwarded as far as the FORWARD hook, where rule 1 drops it.
  int dropped = 0;
  for (const auto& [id, fj] : rec->journeys()) {
    if (!has(fj, TraceKind::NfHook, model::ingress(17), "host_b")) continue;
    if (fj.dropped_at.empty()) continue;
    ++dropped;
    EXPECT_EQ(fj.dropped_at, "NETFILTER_DROP (netfilter)");
    EXPECT_TRUE(has(fj, TraceKind::IpForward, model::ingress(17), "host_b"));
    EXPECT_FALSE(has(fj, TraceKind::QdiscEnqueue, model::egress(11), "host_b"));
  }
  EXPECT_EQ(dropped, 3);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
}

TEST(Router, APreroutingRuleEmitsIngress16) {
  // The raw table's PREROUTING hook runs (and shows as ingress 16) only once the table exists.
  Scenario s = router({"host.a.ping.count=1", "host.a.ping.size=56", "host.c.frames=0",
                       R"(host.b.iptables=["-t raw -A PREROUTING -p icmp -j ACCEPT"])"});
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const auto& ids = pf.driver_host("a").ping()->request_ids();
  ASSERT_EQ(ids.size(), 1u);
  const auto it = pf.journeys()->journeys().find(ids[0]);
  ASSERT_NE(it, pf.journeys()->journeys().end());
  EXPECT_TRUE(has(it->second, TraceKind::NfHook, model::ingress(16), "host_b"));
  EXPECT_FALSE(has(it->second, TraceKind::NfHook, model::ingress(16), "host_c"));  // c has no table
  EXPECT_EQ(pf.driver_host("a").ping()->stats().received, 1u);
}

}  // namespace

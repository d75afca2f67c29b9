// NF_HOOK at the five IPv4 hooks (net/ipv4/ip_input.c ip_rcv and ip_local_deliver, ip_forward.c
// ip_forward, ip_output.c __ip_local_out and ip_output; net/netfilter/core.c nf_hook_slow,
// Linux 6.1) through a router with iptables rules: a rule stops exactly the packets it matches
// and counts them, the drop is NETFILTER_DROP, REJECT answers with the ICMP ipt_REJECT sends
// (port unreachable by default), a LOCAL_OUT drop is -EPERM to the sender, and the trace shows
// the hook with the rule that decided.
#include <gtest/gtest.h>

#include <vector>

#include "support/router_rig.hpp"
#include "vnic/stack/netfilter.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::RouterRig;

void iptables(RouterRig& r, const char* cmd) {
  const IptResult res = r.net->iptables().exec(cmd);
  ASSERT_TRUE(res.ok()) << cmd << ": " << res.err;
}

TEST(NfHook, ForwardDropStopsExactlyTheMatchingPacketsAndCountsThem) {
  RouterRig r;
  iptables(r, "-A FORWARD -p udp --dport 9 -j DROP");
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0, 1000, 9), 51);   // dropped
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0, 1000, 10), 52);  // forwarded
  r.arrive(RouterRig::udp("10.0.2.2", 100, 64, false, 0, 1000, 9), 53);  // dropped
  ASSERT_EQ(r.dev1.frames.size(), 1u);
  EXPECT_EQ(r.dev1.ids[0], 52u);
  EXPECT_TRUE(r.dev.frames.empty());  // DROP answers nothing
  const auto c = r.net->iptables().rule_counters(NfTable::Filter, "FORWARD", 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->packets, 2u);
  EXPECT_EQ(c->bytes, (20u + 8 + 32) + (20u + 8 + 100));
  EXPECT_EQ(r.end_of(51)->reason, SkbDropReason::NetfilterDrop);
  EXPECT_EQ(r.end_of(53)->reason, SkbDropReason::NetfilterDrop);
  EXPECT_EQ(r.net->stats().nf_dropped, 2u);
  // ip_forward ran first (TTL decremented, ForwDatagrams only for the one that left).
  EXPECT_EQ(r.net->ip_mib().OutForwDatagrams, 1u);
  // The trace: the hook at ingress 17 (the forward branch) with rule 1 deciding.
  bool seen = false;
  for (const TraceEvent& e : r.sink.of_packet(51)) {
    if (e.kind == TraceKind::NfHook) {
      seen = true;
      EXPECT_EQ(e.a, 2u);  // NF_INET_FORWARD
      EXPECT_EQ(e.b, 1u);
      EXPECT_EQ(e.step, model::ingress(17));
    }
  }
  EXPECT_TRUE(seen);
  const std::string listing = r.net->iptables().exec("-L FORWARD -v -n -x").out;
  EXPECT_NE(listing.find("DROP"), std::string::npos) << listing;
}

TEST(NfHook, RejectAnswersPortUnreachableByDefaultAndTheChosenTypeOtherwise) {
  RouterRig r;
  iptables(r, "-A FORWARD -d 10.0.2.2 -p udp --dport 9 -j REJECT");
  iptables(r, "-A FORWARD -d 10.0.2.2 -p udp --dport 7 -j REJECT --reject-with icmp-host-prohibited");
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0, 1000, 9), 61);
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0, 1000, 7), 62);
  EXPECT_TRUE(r.dev1.frames.empty());
  ASSERT_EQ(r.dev.frames.size(), 2u);
  const auto a = wire::Ipv4Packet::checked(RouterRig::ip_of(r.dev.frames[0]), wire::ChecksumCheck::Verify);
  const auto b = wire::Ipv4Packet::checked(RouterRig::ip_of(r.dev.frames[1]), wire::ChecksumCheck::Verify);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->dst(), ip4("10.0.1.2"));
  EXPECT_EQ(a->payload()[0], 3);   // ICMP_DEST_UNREACH
  EXPECT_EQ(a->payload()[1], 3);   // ICMP_PORT_UNREACH (ipt_REJECT's default)
  EXPECT_EQ(b->payload()[1], 10);  // ICMP_HOST_ANO (icmp-host-prohibited)
  EXPECT_EQ(r.end_of(61)->reason, SkbDropReason::NetfilterDrop);
}

TEST(NfHook, PreroutingAndInputDropBeforeTheirOkfn) {
  RouterRig r;
  iptables(r, "-t raw -A PREROUTING -s 10.0.1.2 -p udp --sport 5 -j DROP");
  iptables(r, "-A INPUT -p udp -j DROP");
  // PREROUTING: before the route lookup, so neither forwarded nor delivered.
  r.arrive(RouterRig::udp("10.0.2.2", 32, 64, false, 0, 5, 9), 71);
  EXPECT_TRUE(r.dev1.frames.empty());
  EXPECT_EQ(r.net->rt_cache_stats().in_slow_tot, 0u);
  // INPUT: a datagram for the router itself, after the route said local.
  r.arrive(RouterRig::udp("10.0.1.1", 32, 64, false, 0, 1000, 9), 72);
  EXPECT_EQ(r.net->ip_mib().InDelivers, 0u);
  EXPECT_EQ(r.net->ip_mib().InUnknownProtos, 0u);  // never reached the protocol dispatch
  EXPECT_EQ(r.end_of(71)->reason, SkbDropReason::NetfilterDrop);
  EXPECT_EQ(r.end_of(72)->reason, SkbDropReason::NetfilterDrop);
  EXPECT_EQ(r.net->iptables().rule_counters(NfTable::Raw, "PREROUTING", 1)->packets, 1u);
  EXPECT_EQ(r.net->iptables().rule_counters(NfTable::Filter, "INPUT", 1)->packets, 1u);
}

TEST(NfHook, OutputDropIsEpermForTheSenderAndPostroutingSeesForwardedPackets) {
  RouterRig r;
  iptables(r, "-A OUTPUT -d 10.0.2.2 -j DROP");
  iptables(r, "-t mangle -A POSTROUTING -o eth1 -j ACCEPT");
  SkBuff* skb = r.net->alloc_skb(r.cpu, 8);
  ASSERT_NE(skb, nullptr);
  NetStack::IpSend p;
  p.daddr = ip4("10.0.2.2");
  p.protocol = 17;
  EXPECT_EQ(r.net->ip_send(r.cpu, skb, p), -kEPERM);
  EXPECT_TRUE(r.dev1.frames.empty());
  EXPECT_EQ(r.net->ip_mib().OutDiscards, 1u);  // ip_send_skb counts a failed ip_local_out
  EXPECT_EQ(r.net->ip_mib().OutRequests, 0u);  // it never reached ip_output
  // A forwarded packet is not LOCAL_OUT's, but POST_ROUTING sees it on its way out of eth1.
  r.arrive(RouterRig::udp("10.0.2.2"), 81);
  EXPECT_EQ(r.dev1.frames.size(), 1u);
  EXPECT_EQ(r.net->iptables().rule_counters(NfTable::Mangle, "POSTROUTING", 1)->packets, 1u);
  EXPECT_EQ(r.net->iptables().policy_counters(NfTable::Filter, "OUTPUT")->packets, 0u);
}

TEST(NfHook, NoTableLoadedMeansNoHookEventAndNoCost) {
  RouterRig r;
  const Instant before = r.cpu.now();
  r.arrive(RouterRig::udp("10.0.2.2"), 91);
  EXPECT_EQ(r.sink.count(TraceKind::NfHook), 0u);
  const Duration without = r.cpu.now() - before;
  iptables(r, "-P FORWARD ACCEPT");  // loads filter: its hooks run (and count) from now on
  const Instant t1 = r.cpu.now();
  r.arrive(RouterRig::udp("10.0.2.2"), 92);
  EXPECT_GT(r.sink.count(TraceKind::NfHook), 0u);
  // Only filter's FORWARD is on a forwarded packet's way (raw and mangle are not loaded).
  EXPECT_EQ((r.cpu.now() - t1) - without, r.cpu.costs().nf_hook);
}

}  // namespace
}  // namespace vnic::stack

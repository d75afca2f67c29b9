// The protocol stack on the platform: hosts with their drivers, NICs and links, pinging each
// other. Ping loss against the link's loss rate (RFC 792 echo: a request and its reply must both
// survive), an ARP entry aging through its NUD states with 6.1's timers (neigh_timer_handler), a
// host with two NICs reaching its peers by its routes (fib_lookup), the journeys of an ICMP echo
// both ways and of a packet the stack drops (NEIGH_FAILED), and the per-packet account of every
// built-in scenario.
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/neighbour.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
using vnic::tb::testing::resolve;
using vnic::model::Step;
using vnic::model::TraceKind;
namespace model = vnic::model;
namespace stack = vnic::stack;

// Only the stack's traffic: no pktgen frames on either host.
constexpr const char* kQuiet = R"([host.a]
frames = 0
[host.b]
frames = 0
)";

TEST(StackSystem, PingLossIsOneMinusBothWaysSurvivingOverALossyLink_Rfc792Echo) {
  // Each frame is lost with p per direction: a request and its reply both survive with (1-p)^2.
  const double p = 0.05;
  Scenario s = resolve(std::string(kQuiet) + R"(
[link]
drop_rate = 0.05
[host.a.ping]
dst = "10.0.0.2"
count = 10000
interval_ms = 1
)");
  s.account = true;
  Platform pf(s);
  pf.run();
  const stack::PingApp* ping = pf.driver_host("a").ping();
  ASSERT_NE(ping, nullptr);
  const auto& st = ping->stats();
  EXPECT_TRUE(st.finished);
  EXPECT_EQ(st.transmitted, 10000u);
  const double loss = 1.0 - static_cast<double>(st.received) / static_cast<double>(st.transmitted);
  const double want = 1.0 - (1.0 - p) * (1.0 - p);
  const double sigma = std::sqrt(want * (1.0 - want) / 10000.0);
  EXPECT_NEAR(loss, want, 4 * sigma) << "loss " << loss << " against " << want;
  // The summary says it as ping does.
  EXPECT_NE(ping->output().find("10000 packets transmitted, " + std::to_string(st.received) + " received"),
            std::string::npos)
      << ping->output();
  // Every lost frame is one the link dropped, and each packet ended once.
  const auto t = pf.account()->totals();
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
  const uint64_t link_drops = pf.link().stats(0).dropped_fault + pf.link().stats(1).dropped_fault;
  EXPECT_EQ(t.dropped, link_drops);
  EXPECT_EQ(t.by_counter.at("link.dropped_fault"), link_drops);
  EXPECT_EQ(t.delivered, st.received);  // the replies ping read
  EXPECT_TRUE(pf.all_ok());
}

TEST(StackSystem, AnArpEntryAgesThroughItsStatesWithLinuxTimers_NeighTimerHandler) {
  // a pings b three times, 60 s apart. The first ping resolves b (INCOMPLETE -> REACHABLE); after
  // reachable_time (drawn in [15, 45) s from base_reachable_time 30 s) the entry is STALE; the
  // second ping finds it STALE and moves it to DELAY; with no confirmation (ICMP confirms
  // nothing) PROBE follows delay_first_probe_time (5 s) later and a unicast request is sent; its
  // reply makes the entry REACHABLE again, STALE reachable_time later. (The third ping keeps the run going past 65 s.)
  Scenario s = resolve(std::string(kQuiet) + R"(
[host.a.ping]
dst = "10.0.0.2"
count = 3
interval_ms = 60000
)");
  Platform pf(s);
  vnic::tb::DriverHost& a = pf.driver_host("a");
  struct Sample {
    double t_s;
    uint8_t state;
  };
  std::vector<Sample> seen;
  const auto state = [&] {
    const stack::Neighbour* n = a.net().neigh().find(a.driver(0), stack::Ipv4Addr::from_u32(0x0A000002));
    return n == nullptr ? uint8_t{stack::kNudNone} : n->nud_state;
  };
  pf.run(
      [&] {
        const double t = static_cast<double>(vnic::hw::to_ps(sc_core::sc_time_stamp())) / 1e12;
        const uint8_t st = state();
        if (seen.empty() || seen.back().state != st) seen.push_back({t, st});
      },
      10'000'000'000);  // every 10 ms
  std::vector<uint8_t> order;
  for (const auto& x : seen) order.push_back(x.state);
  // PROBE lasts one round trip (tens of us): the 10 ms samples see DELAY, then REACHABLE.
  ASSERT_GE(order.size(), 5u);
  order.resize(5);
  ASSERT_EQ(order, (std::vector<uint8_t>{stack::kNudReachable, stack::kNudStale, stack::kNudDelay,
                                         stack::kNudReachable, stack::kNudStale}));
  const double reach = static_cast<double>(a.net().neigh().reachable_time().ps()) / 1e12;
  EXPECT_GE(reach, 15.0);
  EXPECT_LT(reach, 45.0);
  // Samples every 10 ms; the entry became REACHABLE a few ms into the run.
  EXPECT_NEAR(seen[1].t_s, reach + 0.01, 0.011);  // REACHABLE -> STALE after reachable_time
  EXPECT_NEAR(seen[2].t_s, 60.0, 0.011);          // the second ping: STALE -> DELAY
  EXPECT_NEAR(seen[3].t_s, 65.0, 0.011);          // delay_first_probe_time later: PROBE, its reply: REACHABLE
  EXPECT_NEAR(seen[4].t_s, 65.0 + reach + 0.01, 0.011);  // and STALE again after reachable_time
  // One broadcast request at the start, one unicast probe at 65 s (the run ends once the third
  // ping's reply is in, before the probe its DELAY would send at 125 s).
  EXPECT_EQ(a.net().neigh().arp_stats().requests_sent, 2u);
  EXPECT_EQ(a.ping()->stats().received, 3u);
}

TEST(StackSystem, AHostWithTwoNicsReachesEachPeerByItsRoutes_FibLookup) {
  // a: eth0 10.0.0.1/24 to b, eth1 10.0.1.1/24 to c. a pings b (out eth0 by the connected
  // route 10.0.0.0/24); c pings a (a's replies go out eth1 by 10.0.1.0/24). Each link carries
  // only its own peer's traffic.
  Scenario s = resolve(R"([host.a]
frames = 0
[host.a.eth1]
mac = "02:00:00:00:01:0a"
address = "10.0.1.1/24"
frames = 0
[host.a.ping]
dst = "10.0.0.2"
count = 20
interval_ms = 10
[host.b]
frames = 0
[host.c]
mac = "02:00:00:00:00:0c"
address = "10.0.1.2/24"
frames = 0
[host.c.ping]
dst = "10.0.1.1"
count = 20
interval_ms = 10
start_ms = 1           # once host a's eth1 is up (a opens eth0, then eth1)
[link.ac]
ends = ["a.eth1", "c.eth0"]
)");
  s.account = true;
  Platform pf(s);
  pf.run();
  vnic::tb::DriverHost& a = pf.driver_host("a");
  EXPECT_EQ(a.net().ip_route(),
            "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n"
            "10.0.1.0/24 dev eth1 proto kernel scope link src 10.0.1.1 \n");
  EXPECT_EQ(a.ping()->stats().received, 20u);
  EXPECT_EQ(pf.driver_host("c").ping()->stats().received, 20u);
  // Frames per link: 20 requests and 20 replies each way plus one ARP exchange, nothing crossed over.
  EXPECT_EQ(pf.link("link").stats(0).frames, 21u);  // a -> b: 20 requests, 1 ARP request
  EXPECT_EQ(pf.link("link").stats(1).frames, 21u);  // b -> a: 20 replies, 1 ARP reply
  EXPECT_EQ(pf.link("ac").stats(0).frames, 21u);    // a -> c: 20 replies, 1 ARP reply
  EXPECT_EQ(pf.link("ac").stats(1).frames, 21u);    // c -> a: 20 requests, 1 ARP request
  EXPECT_EQ(a.icmp().mib().in_type(8), 20u);   // InEchos
  EXPECT_EQ(a.icmp().mib().out_type(0), 20u);  // OutEchoReps
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
  EXPECT_EQ(pf.account()->totals().dropped, 0u);
}

TEST(StackSystem, TcpdumpOnADeviceSeesWhatTheStackSendsAndReceives_PtypeAllTap) {
  // A ptype_all tap on b's eth0 (dev_queue_xmit_nit out, __netif_receive_skb_core in): the ARP
  // exchange and the echoes in the order they crossed the device, without FCS, as tcpdump -w
  // writes them. pktgen's frames bypass the stack on the way out (as Linux's pktgen does), so the
  // tap sees a's 300 pattern frames coming in and none of b's going out.
  const std::string file = ::testing::TempDir() + "vnic_tcpdump_b_" + std::to_string(::getpid()) + ".pcap";
  Scenario s = resolve(R"([host.a]
frames = 300
[host.b]
frames = 300
tcpdump = ")" + file + R"("
)");
  {
    Platform pf(s);
    pf.run();
  }  // the capture is closed with its host
  std::string err;
  const auto recs = vnic::tb::read_pcap(file, &err);
  ASSERT_TRUE(recs) << err;
  std::vector<std::string> seen;  // the stack's frames: ARP and IPv4/ICMP, in capture order
  uint64_t pattern = 0;
  for (const auto& r : *recs) {
    ASSERT_GE(r.bytes.size(), 14u);
    const uint16_t type = static_cast<uint16_t>(r.bytes[12] << 8 | r.bytes[13]);
    if (type == 0x88B5) {
      ++pattern;
      continue;
    }
    if (type == 0x0806) {
      seen.push_back(r.bytes[21] == 1 ? "arp request" : "arp reply");
    } else if (type == 0x0800) {
      ASSERT_GE(r.bytes.size(), 14u + 20 + 8);
      seen.push_back(r.bytes[34] == 8 ? "echo request" : r.bytes[34] == 0 ? "echo reply" : "icmp");
    } else {
      seen.push_back("other");
    }
  }
  EXPECT_EQ(pattern, 300u);
  std::vector<std::string> want{"arp request", "arp reply"};
  for (int i = 0; i < 5; ++i) {
    want.push_back("echo request");
    want.push_back("echo reply");
  }
  EXPECT_EQ(seen, want);
  // In time order.
  for (std::size_t i = 1; i < recs->size(); ++i) EXPECT_LE((*recs)[i - 1].ts_ns, (*recs)[i].ts_ns);
  std::remove(file.c_str());
}

// The steps (with their kind) of one journey's forward chain.
std::vector<std::pair<Step, TraceKind>> chain(const vnic::tb::Journey& j) {
  std::vector<std::pair<Step, TraceKind>> out;
  for (const auto* st : j.branch(vnic::tb::Branch::Forward)) out.emplace_back(st->step, st->kind);
  return out;
}
bool has_step(const vnic::tb::Journey& j, Step s) {
  for (const auto& st : j.steps) {
    if (st.step == s) return true;
  }
  return false;
}

TEST(StackSystem, AnEchoBothWaysPassesEveryStackStepWithOneIdEach_Journey) {
  // a pings b and b pings a, once each: four ICMP packets (two requests, two replies), each with
  // its own id from the application (or ICMP) that made it to the socket (or ICMP) that took it.
  Scenario s = resolve(std::string(kQuiet) + R"(
[host.a.ping]
dst = "10.0.0.2"
count = 1
[host.b.ping]
dst = "10.0.0.1"
count = 1
)");
  s.journey_every = 1;
  s.account = true;
  Platform pf(s);
  pf.run();
  const auto* rec = pf.journeys();
  ASSERT_NE(rec, nullptr);
  for (const char* host : {"a", "b"}) {
    const auto& ids = pf.driver_host(host).ping()->request_ids();
    ASSERT_EQ(ids.size(), 1u) << host;
    const auto it = rec->journeys().find(ids[0]);
    ASSERT_NE(it, rec->journeys().end()) << host;
    const vnic::tb::Journey& req = it->second;
    EXPECT_TRUE(req.ended) << host;
    EXPECT_TRUE(req.dropped_at.empty()) << host;
    // The sender's egress through the stack, then the receiver's ingress to ICMP, which answers.
    for (int e : {1, 2, 5, 6, 7, 8, 10, 11, 12, 15, 16}) EXPECT_TRUE(has_step(req, model::egress(e))) << host << " egress " << e;
    for (int i : {1, 2, 3, 12, 13, 15, 17, 18, 19}) EXPECT_TRUE(has_step(req, model::ingress(i))) << host << " ingress " << i;
    EXPECT_EQ(chain(req).back(), (std::pair<Step, TraceKind>{model::ingress(19), TraceKind::Consumed})) << host;
    // No step runs backwards in time along the chain.
    uint64_t t = 0;
    for (const auto* st : req.branch(vnic::tb::Branch::Forward)) {
      EXPECT_GE(st->t_ps, t) << host;
      t = st->t_ps;
    }
  }
  // The replies: made by ICMP on the peer, read by ping at ingress 24 (socket steps 20, 22, 23).
  int replies = 0;
  for (const auto& [id, j] : rec->journeys()) {
    if (!has_step(j, model::ingress(24))) continue;
    ++replies;
    for (int e : {5, 6, 7, 8, 10, 11, 12}) EXPECT_TRUE(has_step(j, model::egress(e))) << "egress " << e;
    for (int i : {13, 15, 17, 18, 19, 20, 22, 23, 24}) EXPECT_TRUE(has_step(j, model::ingress(i))) << "ingress " << i;
    EXPECT_EQ(chain(j).back(), (std::pair<Step, TraceKind>{model::ingress(24), TraceKind::Consumed}));
  }
  EXPECT_EQ(replies, 2);
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
}

TEST(StackSystem, APacketTheStackDropsEndsItsJourneyWithItsDropReason_NeighFailed) {
  // b pings 10.0.0.77, which nobody has: ARP asks mcast_solicit (3) times, one retrans_time
  // (1 s) apart, then the entry is FAILED and the waiting echo request is dropped with
  // NEIGH_FAILED (neigh_invalidate). Its journey is egress 1-8 and that drop.
  Scenario s = resolve(std::string(kQuiet) + R"(
[host.a.ping]
dst = "10.0.0.2"
count = 1
[host.b.ping]
dst = "10.0.0.77"
count = 1
)");
  s.journey_every = 1;
  s.account = true;
  Platform pf(s);
  pf.run();
  const auto& ids = pf.driver_host("b").ping()->request_ids();
  ASSERT_EQ(ids.size(), 1u);
  const auto it = pf.journeys()->journeys().find(ids[0]);
  ASSERT_NE(it, pf.journeys()->journeys().end());
  const vnic::tb::Journey& j = it->second;
  EXPECT_TRUE(j.ended);
  for (int e : {1, 2, 5, 6, 7, 8}) EXPECT_TRUE(has_step(j, model::egress(e))) << "egress " << e;
  EXPECT_FALSE(has_step(j, model::egress(10))) << "it never reached dev_queue_xmit";
  EXPECT_EQ(j.steps.back().kind, TraceKind::Drop);
  const auto t = pf.account()->totals();
  EXPECT_EQ(t.by_counter.at("NEIGH_FAILED"), 1u) << pf.account()->report();
  EXPECT_TRUE(pf.account()->complete()) << pf.account()->report();
  EXPECT_EQ(pf.driver_host("b").net().neigh().stats().res_failed, 1u);
  EXPECT_EQ(pf.driver_host("b").ping()->stats().received, 0u);
}

// Every built-in scenario, and the default, with the per-packet account: each packet made ends
// exactly once, nothing is left in flight, and the counter sums still hold.
class EveryScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryScenario, EachPacketEndsOnceAndTheCountersConserve) {
  std::string err;
  std::vector<vnic::tb::ScenarioLayer> layers;
  if (GetParam() != "default") {
    auto layer = vnic::tb::scenario_layer("builtin:" + GetParam(), &err);
    ASSERT_TRUE(layer) << err;
    layers.push_back(*layer);
  }
  auto r = vnic::tb::resolve_scenario(layers, {}, &err);
  ASSERT_TRUE(r) << err;
  Scenario s = r->scenario;
  if (s.hosts != "driver") GTEST_SKIP() << "direct hosts run no stack";
  s.account = true;
  Platform pf(s);
  pf.run();
  const auto* acc = pf.account();
  EXPECT_TRUE(acc->exact()) << acc->report();
  if (s.stop_after.ps() == 0) {
    EXPECT_EQ(acc->totals().in_flight, 0u) << acc->report();
  }
  EXPECT_GT(acc->totals().made, 0u);
  EXPECT_TRUE(pf.all_ok());
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> v{"default"};
  for (const auto& b : vnic::tb::builtin_scenarios()) v.emplace_back(b.name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Builtins, EveryScenario, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n;
                           for (char c : i.param) n += (c == '-') ? '_' : c;
                           return n;
                         });

}  // namespace

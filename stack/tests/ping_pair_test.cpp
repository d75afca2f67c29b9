// PingApp (iputils ping) over the ping socket between two NetStacks joined back to back: ten
// echo requests answered with the lines and the summary ping prints, the same output for the same
// seed, an error from the peer printed as "From ... icmp_seq=N ...", no route ("ping: connect:
// Network is unreachable"), the deadline, and the trace of one request and its reply: every step
// once, one id each, one end each.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "support/pair_rig.hpp"
#include "vnic/stack/apps/ping_app.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/ping.hpp"

#include <fmt/format.h>

namespace vnic::stack {
namespace {

using testing::cidr;
using testing::ip4;
using testing::lines;
using testing::RecordingSink;

struct PingPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  TaskScope tasks;
  RecordingSink sink;

  PingPair() { max_steps = 10'000'000; }
  void trace() {
    a.net->set_trace(&sink, "host_a");
    b.net->set_trace(&sink, "host_b");
  }
};

PingOptions to(const char* dst, uint32_t count) {
  PingOptions o;
  o.dst = ip4(dst);
  o.count = count;
  return o;
}

// iputils' output for ten answered requests: the header, one line per reply with the
// sequence, the TTL (IP_RECVTTL) and the round trip as gather_statistics formats it, then finish().
TEST(PingPair, TenEchoRequestsAnswered) {
  PingPair p;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 10));
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  EXPECT_EQ(p.tasks.running(), 0u);  // the task ended by itself
  const PingStats& s = app.stats();
  EXPECT_EQ(s.transmitted, 10u);
  EXPECT_EQ(s.received, 10u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.exit_code, 0);
  ASSERT_EQ(s.rtts_us.size(), 10u);
  const auto l = lines(app.output());
  ASSERT_EQ(l.size(), 15u) << app.output();
  EXPECT_EQ(l[0], "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.");
  for (int i = 0; i < 10; ++i) {
    EXPECT_GT(s.rtts_us[static_cast<std::size_t>(i)], 0);
    EXPECT_LT(s.rtts_us[static_cast<std::size_t>(i)], 1000);  // a back-to-back wire: microseconds
    EXPECT_EQ(l[static_cast<std::size_t>(1 + i)], fmt::format("64 bytes from 10.0.0.2: icmp_seq={} ttl=64{}", i + 1,
                                                              iputils_time(s.rtts_us[static_cast<std::size_t>(i)])));
  }
  EXPECT_EQ(l[11], "");
  EXPECT_EQ(l[12], "--- 10.0.0.2 ping statistics ---");
  // "time": from the start to the last send, nine intervals (each late by one round trip).
  EXPECT_EQ(l[13], "10 packets transmitted, 10 received, 0% packet loss, time 9000ms");
  const long mn = *std::min_element(s.rtts_us.begin(), s.rtts_us.end());
  const long mx = *std::max_element(s.rtts_us.begin(), s.rtts_us.end());
  EXPECT_EQ(l[14].substr(0, 23), "rtt min/avg/max/mdev = ");
  EXPECT_EQ(l[14].substr(23, 6), fmt::format("{}.{:03}/", mn / 1000, mn % 1000));
  EXPECT_NE(l[14].find(fmt::format("/{}.{:03}/", mx / 1000, mx % 1000)), std::string::npos);
  // The counters on both sides: 6.1 counts each ping-socket request twice in OutMsgs/OutType8.
  EXPECT_EQ(p.icmp_a.mib().out_type(8), 20u);
  EXPECT_EQ(p.icmp_a.mib().in_type(0), 10u);
  EXPECT_EQ(p.icmp_b.mib().in_type(8), 10u);
  EXPECT_EQ(p.icmp_b.mib().out_type(0), 10u);
  EXPECT_EQ(p.icmp_a.ping().size(), 1u);
}

// Same seed, same scenario: byte-identical output.
TEST(PingPair, SameSeedSameOutput) {
  std::string out[2];
  for (std::string& o : out) {
    PingPair p;
    PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 4));
    p.tasks.spawn(app.run());
    p.run_until(Instant{} + Duration::s(60));
    o = app.output() + p.icmp_a.proc_net_snmp_icmp() + p.icmp_b.proc_net_snmp_icmp();
  }
  EXPECT_EQ(out[0], out[1]);
}

// The peer answers every request with protocol unreachable (its ICMP handler is gone): ping_err
// queues each error on the socket's error queue (IP_RECVERR) and ping prints pr_icmph's text;
// the errors end the run (nreceived + nerrors >= count) with exit code 1.
TEST(PingPair, ErrorsFromThePeerArePrinted) {
  PingPair p;
  p.b.net->inet_add_protocol(1, nullptr, nullptr);
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 3));
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  EXPECT_EQ(app.output(),
            "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n"
            "From 10.0.0.2 icmp_seq=1 Destination Protocol Unreachable\n"
            "From 10.0.0.2 icmp_seq=2 Destination Protocol Unreachable\n"
            "From 10.0.0.2 icmp_seq=3 Destination Protocol Unreachable\n"
            "\n--- 10.0.0.2 ping statistics ---\n"
            "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2000ms\n"
            "\n");
  EXPECT_EQ(app.stats().errors, 3u);
  EXPECT_EQ(app.stats().exit_code, 1);
  EXPECT_EQ(p.b.net->ip_mib().InUnknownProtos, 3u);
  EXPECT_EQ(p.icmp_a.mib().in_type(3), 1u * 3);
}

// icmp_ratelimit seen through ping: at -i 0.2 the peer's errors come in a burst of 6 and then one
// per 250 jiffies: the tokens 1500 -> 1250, +50 each 200 ms, -250 each error sent: errors for
// seq 1-7, none for 8-10 (100, 150, 200 tokens); ping then lingers 10 s (-W) for nothing.
TEST(PingPair, PeerRateLimitSeenByPing) {
  PingPair p;
  p.b.net->inet_add_protocol(1, nullptr, nullptr);
  PingOptions o = to("10.0.0.2", 10);
  o.interval_ms = 200;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, o);
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  const auto l = lines(app.output());
  ASSERT_EQ(l.size(), 12u) << app.output();
  for (int i = 1; i <= 7; ++i)
    EXPECT_EQ(l[static_cast<std::size_t>(i)], fmt::format("From 10.0.0.2 icmp_seq={} Destination Protocol Unreachable", i));
  EXPECT_EQ(l[10], "10 packets transmitted, 0 received, +7 errors, 100% packet loss, time 1800ms");
  EXPECT_EQ(p.icmp_b.mib().RateLimitHost, 3u);
  EXPECT_EQ(p.icmp_b.mib().RateLimitGlobal, 0u);
  EXPECT_EQ(p.icmp_b.mib().out_type(3), 7u);
  // The linger: 10 s after the last send with nothing received.
  EXPECT_GE(p.a.cpu.now(), Instant{} + Duration::ms(11800));
}

// No route: the connect() that finds the source fails before the header is printed; exit 2.
TEST(PingPair, NoRoutePrintsConnectError) {
  PingPair p;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("192.168.7.7", 3));
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  EXPECT_EQ(app.output(), "ping: connect: Network is unreachable\n");
  EXPECT_EQ(app.stats().exit_code, 2);
  EXPECT_EQ(app.stats().send_failures, 1u);
  EXPECT_EQ(app.stats().transmitted, 0u);
  EXPECT_EQ(p.a.net->ip_mib().OutNoRoutes, 1u);
  EXPECT_TRUE(p.a.dev.sent.empty());
  // The socket call itself refuses too, and counts the same way.
  PingSock* sk = p.icmp_a.ping().socket();
  EXPECT_EQ(p.icmp_a.ping().sendmsg(p.a.cpu, *sk, ip4("192.168.7.7"), 1, std::vector<uint8_t>(56)), -101);
  EXPECT_EQ(p.a.net->ip_mib().OutNoRoutes, 2u);
  EXPECT_EQ(p.icmp_a.mib().OutMsgs, 0u);
  p.icmp_a.ping().close(sk);
}

// The route goes away mid-run: sendmsg fails with -ENETUNREACH (OutNoRoutes); iputils counts
// the probe as transmitted and, its error queue being empty, prints nothing for it (pinger's
// hard_local_error with i < 0); the run ends one interval after the last attempt.
TEST(PingPair, SendFailureMidRunCountedAsPingDoes) {
  PingPair p;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 4));
  p.tasks.spawn(app.run());
  p.a.cpu.call_at(Instant{} + Duration::ms(1500),
                  [](void* ctx, uint64_t) { static_cast<Fib*>(ctx)->del(cidr("10.0.0.0/24")); }, &p.a.net->fib(), 0);
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  const auto l = lines(app.output());
  ASSERT_EQ(l.size(), 7u) << app.output();
  EXPECT_EQ(l[5], "4 packets transmitted, 2 received, 50% packet loss, time 3000ms");
  EXPECT_EQ(app.stats().send_failures, 2u);
  EXPECT_EQ(app.stats().exit_code, 0);  // something came back and there was no deadline
  EXPECT_EQ(p.a.net->ip_mib().OutNoRoutes, 2u);
  EXPECT_EQ(p.icmp_a.mib().out_type(8), 4u);  // two requests, each counted twice
}

// -w: the alarm ends the run whatever the count; sends at 0, 1 and 2 s.
TEST(PingPair, DeadlineEndsTheRun) {
  PingPair p;
  PingOptions o = to("10.0.0.2", 0);
  o.deadline_s = 3;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, o);
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  const auto l = lines(app.output());
  ASSERT_EQ(l.size(), 8u) << app.output();
  EXPECT_EQ(l[6], "3 packets transmitted, 3 received, 0% packet loss, time 2000ms");
  EXPECT_EQ(app.stats().exit_code, 0);
  // Nobody at 10.0.0.3: ARP gives up after its 3 probes (1 s apart) and each echo request that
  // waited is reported (arp_error_report: a host unreachable from our own address, through lo);
  // with -w, ping stops at the first error (main_loop: deadline && nerrors), before a 4th send.
  PingOptions o2 = to("10.0.0.3", 0);
  o2.deadline_s = 4;
  o2.start = p.a.cpu.now() + Duration::s(1);
  PingApp lost(*p.a.net, p.icmp_a, p.a.cpu, o2);
  p.tasks.spawn(lost.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(lost.done());
  EXPECT_EQ(lost.output(),
            "PING 10.0.0.3 (10.0.0.3) 56(84) bytes of data.\n"
            "From 10.0.0.1 icmp_seq=1 Destination Host Unreachable\n"
            "From 10.0.0.1 icmp_seq=2 Destination Host Unreachable\n"
            "From 10.0.0.1 icmp_seq=3 Destination Host Unreachable\n"
            "\n--- 10.0.0.3 ping statistics ---\n"
            "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2000ms\n"
            "pipe 3\n");
  EXPECT_EQ(lost.stats().exit_code, 1);
}

// Neither a count nor a deadline: ping runs until interrupted (SIGINT), then prints its summary.
TEST(PingPair, InterruptEndsAnEndlessRun) {
  PingPair p;
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 0));
  p.tasks.spawn(app.run());
  p.a.cpu.call_at(Instant{} + Duration::ms(2500), [](void* ctx, uint64_t) { static_cast<PingApp*>(ctx)->interrupt(); },
                  &app, 0);
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  EXPECT_EQ(p.tasks.running(), 0u);
  const auto l = lines(app.output());
  ASSERT_EQ(l.size(), 8u) << app.output();
  EXPECT_EQ(l[6], "3 packets transmitted, 3 received, 0% packet loss, time 2000ms");
  EXPECT_EQ(app.stats().exit_code, 0);
  EXPECT_EQ(app.request_ids().size(), 3u);  // nothing sent after the interrupt
}

// The trace of one echo request and its reply (the second, past ARP): each step once under the
// packet's own id, the request used up by the peer's ICMP (Consumed at ingress 19), the reply a new
// packet whose journey ends when ping reads it (ingress 20, 22, 23, 24, then Consumed).
TEST(PingPair, TraceOfOneRequestAndItsReply) {
  PingPair p;
  p.trace();
  PingApp app(*p.a.net, p.icmp_a, p.a.cpu, to("10.0.0.2", 2));
  p.tasks.spawn(app.run());
  p.run_until(Instant{} + Duration::s(60));
  ASSERT_TRUE(app.done());
  ASSERT_EQ(app.request_ids().size(), 2u);
  const uint64_t req = app.request_ids()[1];
  // The reply is the packet ping read second.
  std::vector<uint64_t> read;
  for (const auto& r : p.sink.events)
    if (r.e.kind == TraceKind::AppRecv) read.push_back(r.e.packet);
  ASSERT_EQ(read.size(), 2u);
  const uint64_t rep = read[1];
  EXPECT_NE(req, rep);
  EXPECT_EQ(req >> 32, 1u);  // host_a's ids
  EXPECT_EQ(rep >> 32, 2u);  // host_b's

  struct Seen {
    std::string source;
    TraceKind kind;
    std::string step;
  };
  auto journey = [&](uint64_t id) {
    std::vector<Seen> v;
    for (const auto& r : p.sink.events)
      if (r.e.packet == id) v.push_back({r.source, r.e.kind, std::string(model::step_name(r.e.step))});
    return v;
  };
  auto steps_of = [](const std::vector<Seen>& v) {
    std::vector<std::string> out;
    for (const Seen& s : v) out.push_back(s.source + " " + s.step + " " + std::string(model::trace_kind_name(s.kind)));
    return out;
  };
  EXPECT_EQ(steps_of(journey(req)),
            (std::vector<std::string>{
                "host_a egress:1 sock.sendmsg", "host_a egress:2 packet.made", "host_a egress:5 ip.send",
                "host_a egress:6 ip.header", "host_a egress:7 ip_route_output", "host_a egress:8 ip_output",
                "host_a - neigh_output", "host_a egress:10 dev_queue_xmit", "host_a egress:11 qdisc.enqueue",
                "host_b ingress:13 netif_receive_skb_core", "host_b ingress:15 ip_rcv",
                "host_b ingress:17 ip_route_input", "host_b ingress:18 ip_local_deliver",
                "host_b ingress:19 ip_protocol_deliver", "host_b ingress:19 consumed"}));
  const auto rj = journey(rep);
  ASSERT_FALSE(rj.empty());
  EXPECT_EQ(rj.front().kind, TraceKind::PacketMade);
  EXPECT_EQ(rj.front().source, "host_b");
  // From its arrival on host_a to ping's read: ingress 13 ... 24, the end at 24.
  std::vector<std::string> on_a;
  for (const Seen& s : rj)
    if (s.source == "host_a") on_a.push_back(s.step + " " + std::string(model::trace_kind_name(s.kind)));
  EXPECT_EQ(on_a, (std::vector<std::string>{"ingress:13 netif_receive_skb_core", "ingress:15 ip_rcv",
                                            "ingress:17 ip_route_input", "ingress:18 ip_local_deliver",
                                            "ingress:19 ip_protocol_deliver", "ingress:20 sock.lookup",
                                            "ingress:22 sock.queue", "ingress:23 sock.wake",
                                            "ingress:24 app.recvmsg", "ingress:24 consumed"}));
  // Every packet of the run (ARP frames included) has exactly one end, its last event.
  std::map<uint64_t, int> ends;
  std::map<uint64_t, TraceKind> last;
  for (const auto& r : p.sink.events) {
    if (r.e.packet == 0) continue;
    last[r.e.packet] = r.e.kind;
    if (r.e.kind == TraceKind::Consumed || r.e.kind == TraceKind::Drop) ++ends[r.e.packet];
  }
  for (const auto& [id, kind] : last) {
    EXPECT_EQ(ends[id], 1) << std::hex << id;
    EXPECT_TRUE(kind == TraceKind::Consumed || kind == TraceKind::Drop) << std::hex << id;
  }
}

}  // namespace
}  // namespace vnic::stack

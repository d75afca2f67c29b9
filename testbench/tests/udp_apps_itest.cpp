// UDP applications on driver hosts through the whole platform (NICs, drivers, links, stacks):
// builtin:udp-slow-reader (what the reader did not get is exactly Udp: RcvbufErrors), builtin:udp-iperf
// (a paced flow loses nothing; jitter as RFC 3550 computes it from the arrivals; the report's numbers
// are the socket's and the MIB's), builtin:udp-rr (the round trip grows by 2 x rx-usecs when both
// hosts' RX interrupts wait for the moderation timer), a datagram's journey from sendmsg (egress 1)
// to recvmsg (ingress 24), and the same outputs for the same run.
#include <gtest/gtest.h>

#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "vnic/stack/apps/udp_apps.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
using vnic::model::TraceKind;
namespace model = vnic::model;
namespace stack = vnic::stack;

Scenario builtin(const char* name, const std::vector<std::string>& sets = {}) {
  std::string err;
  auto layer = vnic::tb::scenario_layer(std::string("builtin:") + name, &err);
  EXPECT_TRUE(layer) << err;
  std::vector<vnic::tb::ScenarioSetting> ss;
  for (const auto& a : sets) {
    auto s = vnic::tb::parse_setting(a, &err);
    EXPECT_TRUE(s) << a << ": " << err;
    if (s) ss.push_back(*s);
  }
  auto r = vnic::tb::resolve_scenario({*layer}, ss, &err);
  EXPECT_TRUE(r) << err;
  return r ? r->scenario : Scenario{};
}

// SystemC elaborates one platform per process: a test that compares runs makes each in a child
// and gets back what it printed.
template <class F>
std::string in_child(F f) {
  int fd[2];
  if (pipe(fd) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const std::string out = f();
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fd[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fd[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return out;
}

// What b's reader did not read is what its socket refused, datagram for datagram: every other
// counter on the way (a's send buffer and qdisc, the NICs, the drivers, the backlog) is 0.
TEST(UdpApps, SlowReaderLosesExactlyItsRcvbufErrors) {
  Platform pf(builtin("udp-slow-reader"));
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  const stack::UdpSender* cli = a.udp_sender();
  const stack::UdpReceiver* srv = b.udp_receiver();
  ASSERT_NE(cli, nullptr);
  ASSERT_NE(srv, nullptr);
  ASSERT_TRUE(cli->done());
  ASSERT_TRUE(srv->done());
  EXPECT_EQ(cli->stats().datagrams, 2000u);
  EXPECT_EQ(cli->stats().send_errors, 0u);
  const uint64_t sent = cli->stats().datagrams + cli->stats().fins;
  const uint64_t read = srv->stats().datagrams + srv->stats().fins;
  EXPECT_GT(sent - read, 1000u);  // 20 us per read against ~1.3 us per datagram on the wire
  EXPECT_EQ(b.udp().mib().RcvbufErrors, sent - read);
  EXPECT_EQ(b.udp().mib().InErrors, sent - read);
  EXPECT_EQ(b.udp().mib().InDatagrams, read);
  EXPECT_EQ(a.udp().mib().OutDatagrams, sent);
  EXPECT_EQ(a.udp().mib().SndbufErrors, 0u);
  for (const auto& t : b.rx_drops(0)) EXPECT_EQ(t.value, 0) << t.name;
  for (const auto& t : a.tx_drops(0)) EXPECT_EQ(t.value, 0) << t.name;
  EXPECT_EQ(a.net().neigh().stats().unresolved_discards, 0u);
  // iperf's Lost is the same count (the FIN's sequence reveals the losses at the end).
  EXPECT_EQ(srv->stats().lost, 2000u - srv->stats().datagrams);
  EXPECT_EQ(srv->bad_payloads(), 0u);
  // No datagram was read twice, none out of order (one queue, one reader).
  EXPECT_EQ(srv->stats().out_of_order, 0u);
}

// 1000 datagrams at 500 Mbit/s: nothing lost, the sender kept every slot, the jitter is RFC 3550's
// recomputed here from the arrival and send times the server saw, the report's numbers are the MIB's.
TEST(UdpApps, PacedIperfLosesNothingAndItsJitterIsRfc3550s) {
  Platform pf(builtin("udp-iperf"));
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  const stack::UdpSender* cli = a.udp_sender();
  const stack::UdpReceiver* srv = b.udp_receiver();
  ASSERT_TRUE(cli != nullptr && srv != nullptr);
  ASSERT_TRUE(srv->done());
  EXPECT_EQ(cli->stats().datagrams, 1000u);
  EXPECT_EQ(cli->stats().late, 0u);
  EXPECT_EQ(srv->stats().datagrams, 1000u);
  EXPECT_EQ(srv->stats().lost, 0u);
  EXPECT_EQ(srv->stats().bytes, 1000u * 1472);
  EXPECT_EQ(b.udp().mib().InDatagrams, 1001u);  // and the FIN
  EXPECT_EQ(b.udp().mib().RcvbufErrors, 0u);
  EXPECT_EQ(a.udp().mib().OutDatagrams, 1001u);
  const auto& arr = srv->arrivals();
  ASSERT_EQ(arr.size(), 1000u);
  double j = 0;
  for (std::size_t k = 1; k < arr.size(); ++k) {
    const int64_t t1 = arr[k].stamp.ps() / 1'000'000 - arr[k].sent_us;
    const int64_t t0 = arr[k - 1].stamp.ps() / 1'000'000 - arr[k - 1].sent_us;
    j += (std::abs(static_cast<double>(t1 - t0)) / 1e6 - j) / 16;
    // Sent in its slot: k * 1472 * 8 / 500e6 s = k * 23.552 us after the first, to the microsecond.
    EXPECT_NEAR(static_cast<double>(arr[k].sent_us - arr[0].sent_us), static_cast<double>(k) * 23.552, 1.0);
  }
  EXPECT_NEAR(srv->stats().jitter_s, j, 1e-12);
  // A paced flow far below line rate meets an idle path: the transit varies by under a few us.
  EXPECT_LT(srv->stats().jitter_s, 5e-6);
  ASSERT_TRUE(cli->stats().server_report);
  EXPECT_EQ(cli->stats().srv_datagrams, 1000u);
  EXPECT_EQ(cli->stats().srv_bytes, srv->stats().bytes);
  EXPECT_NE(srv->output().find(" 0/1000 (0%)\n"), std::string::npos) << srv->output();
}

// The mean round trip (us) of builtin:udp-rr with `sets`, run in a child; -1 if a transaction was lost.
double rr_mean_us(const std::vector<std::string>& sets) {
  const std::string r = in_child([&] {
    Platform pf(builtin("udp-rr", sets));
    pf.run();
    const stack::UdpRrClient* c = pf.driver_host("a").udp_rr_client();
    if (c == nullptr || !c->done() || c->stats().transactions != 200 || c->stats().lost != 0) return std::string("-1");
    return std::to_string(c->stats().mean_us());
  });
  return r.empty() ? -1.0 : std::stod(r);
}

// UDP_RR at low load: with rx-usecs 50 (rx-frames 0: the timer alone) on both hosts each RX
// interrupt waits 50 us after the packet's completion (the first-completion rule), once on b for
// the request and once on a for the response: the mean round trip grows by 2 x 50 us. Tolerance
// 5 us: the two runs also differ in what the TX completions share with those interrupts (a TX
// clean folded into the delayed NAPI poll), a few hundred ns each, and in rounding to the
// moderation timer's 1 us granularity.
TEST(UdpApps, RoundTripGrowsByTwiceRxUsecs) {
  const std::vector<std::string> base = {"host.a.rx-usecs=0", "host.a.rx-frames=1", "host.b.rx-usecs=0",
                                         "host.b.rx-frames=1"};
  const std::vector<std::string> slow = {"host.a.rx-usecs=50", "host.a.rx-frames=0", "host.b.rx-usecs=50",
                                         "host.b.rx-frames=0"};
  const double m0 = rr_mean_us(base);
  const double m50 = rr_mean_us(slow);
  EXPECT_GT(m0, 1.0);
  EXPECT_LT(m0, 50.0);  // wire, NIC, IRQ, NAPI, stack and wake-up on both sides: tens of us at most
  EXPECT_NEAR(m50 - m0, 100.0, 5.0) << "rx-usecs 0: " << m0 << " us, rx-usecs 50: " << m50 << " us";
}

// One datagram's journey from the sending application to the reading one: egress 1-4 (sendmsg,
// the skb, its send-buffer charge, the UDP header) on a and ingress 19-24 (udp_rcv, the socket
// lookup, the enqueue, the wake-up, recvmsg) on b, under the id sendmsg gave it.
TEST(UdpApps, DatagramJourneyFromSendmsgToRecvmsg) {
  Scenario s = builtin("udp-iperf", {"host.a.udp_send.count=5"});
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const auto* rec = pf.journeys();
  ASSERT_NE(rec, nullptr);
  const auto& ids = pf.driver_host("a").udp_sender()->packet_ids();
  ASSERT_EQ(ids.size(), 5u);
  const auto& arr = pf.driver_host("b").udp_receiver()->arrivals();
  ASSERT_EQ(arr.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(arr[k].packet, ids[k]);  // the id end to end
  const auto it = rec->journeys().find(ids[2]);
  ASSERT_NE(it, rec->journeys().end());
  const vnic::tb::Journey& j = it->second;
  EXPECT_TRUE(j.ended);
  EXPECT_TRUE(j.dropped_at.empty());
  const auto has = [&](model::Step st, const char* src) {
    for (const auto& x : j.steps) {
      if (x.step == st && x.source == src) return true;
    }
    return false;
  };
  for (int e = 1; e <= 4; ++e) EXPECT_TRUE(has(model::egress(e), "host_a")) << "egress " << e;
  for (int i = 19; i <= 24; ++i) {
    if (i == 21) continue;  // TCP's state machine: not on a datagram's path
    if (i == 23) continue;  // the wake-up: only when the reader was asleep (checked below over all)
    EXPECT_TRUE(has(model::ingress(i), "host_b")) << "ingress " << i;
  }
  bool woke = false;
  for (uint64_t id : ids) {
    const auto f = rec->journeys().find(id);
    if (f == rec->journeys().end()) continue;
    for (const auto& x : f->second.steps) woke = woke || (x.step == model::ingress(23) && x.source == "host_b");
  }
  EXPECT_TRUE(woke);  // a reader waiting between paced datagrams is woken (sk_data_ready)
}

// Two runs of each built-in with the same seed: the same report views, byte for byte.
TEST(UdpApps, BuiltinsRerunByteIdentical) {
  for (const char* name : {"udp-iperf", "udp-rr", "udp-slow-reader"}) {
    SCOPED_TRACE(name);
    std::string out[2];
    for (std::string& o : out) {
      o = in_child([&] {
        Platform pf(builtin(name));
        pf.run();
        std::string v;
        for (const char* h : {"a", "b"}) {
          for (const auto& view : pf.driver_host(h).views(0, {})) v += view.file + "\n" + view.text;
        }
        return v;
      });
    }
    EXPECT_GT(out[0].size(), 1000u);
    EXPECT_NE(out[0].find("iperf") == std::string::npos && out[0].find("Latency") == std::string::npos, true);
    EXPECT_EQ(out[0], out[1]);
  }
}

}  // namespace

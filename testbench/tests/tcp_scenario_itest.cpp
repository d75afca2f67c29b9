// TCP applications as scenarios run them, through the whole platform (NICs, drivers, links,
// stacks): several on each host of three (two iperf3 tests side by side, TCP_RR and TCP_CRR to
// two netservers), each client finding its server on the other host (iperf3's receiver line,
// netperf's remote socket sizes), the views numbered per host, no packet ending twice; a platform
// destroyed with its connections open and every trace sink on.
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
namespace stack = vnic::stack;

// a (10.0.0.1 on eth0 to b, 10.0.1.1 on eth1 to c) runs two iperf3 clients, one to b and one to
// c; b runs TCP_RR to a's netserver on 12866, c TCP_CRR to a's netserver on 7000.
constexpr const char* kThreeTcp = R"([scenario]
name = "tcp-three"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.eth1]
address = "10.0.1.1/24"
frames = 0
[[host.a.tcp_iperf3_client]]
dst = "b"
bytes = 1048576
[[host.a.tcp_iperf3_client]]
dst = "10.0.1.2"
port = 5202
bytes = 524288
len = 65536
[[host.a.netserver]]
[[host.a.netserver]]
port = 7000
[host.b]
frames = 0
[host.b.tcp_iperf3_server]
[host.b.tcp_rr]
dst = "a"
req = 100
resp = 200
count = 50
nodelay = true
latency = true
[host.c]
address = "10.0.1.2/24"
frames = 0
[host.c.tcp_iperf3_server]
port = 5202
[host.c.tcp_crr]
dst = "10.0.1.1"
port = 7000
count = 20
[link.ac]
ends = ["a.eth1", "c.eth0"]
)";

std::string view(const vnic::tb::DriverHost& h, const std::string& file, std::string* cmd = nullptr) {
  for (const auto& v : h.views(0, {})) {
    if (v.file != file) continue;
    if (cmd != nullptr) *cmd = v.command;
    return v.text;
  }
  return "(no " + file + ")";
}

TEST(TcpScenario, SeveralAppsPerHostFindTheirServersAndNoPacketEndsTwice) {
  Scenario s = vnic::tb::testing::resolve(kThreeTcp);
  s.account = true;
  Platform pf(s);
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  auto& c = pf.driver_host("c");
  // iperf3: both tests whole, the receiver's figures the server's own.
  ASSERT_NE(a.iperf3_client(0), nullptr);
  ASSERT_NE(a.iperf3_client(1), nullptr);
  EXPECT_EQ(a.iperf3_client(2), nullptr);
  for (auto [cli, srv, bytes] : {std::tuple{a.iperf3_client(0), b.iperf3_server(), uint64_t{1048576}},
                                 std::tuple{a.iperf3_client(1), c.iperf3_server(), uint64_t{524288}}}) {
    ASSERT_NE(srv, nullptr);
    EXPECT_TRUE(cli->done() && srv->done());
    EXPECT_EQ(cli->result().errors(), 0u) << cli->output();
    EXPECT_EQ(cli->result().bytes_sent, bytes);
    EXPECT_EQ(srv->result().bytes_received, bytes) << srv->output();
    EXPECT_NE(cli->output().find("receiver"), std::string::npos);
    EXPECT_EQ(cli->output().find("0.00 Bytes"), std::string::npos) << cli->output();  // the server was found
  }
  // netperf: each netserver served its client's test and sizes.
  const stack::NetperfTcpClient* rr = b.tcp_rr_client();
  const stack::NetperfTcpClient* crr = c.tcp_crr_client();
  ASSERT_NE(rr, nullptr);
  ASSERT_NE(crr, nullptr);
  EXPECT_EQ(rr->stats().transactions, 50u) << rr->output();
  EXPECT_EQ(rr->stats().errors(), 0u);
  EXPECT_EQ(crr->stats().transactions, 20u) << crr->output();
  EXPECT_EQ(crr->stats().connections, 20u);
  EXPECT_EQ(crr->stats().errors(), 0u);
  ASSERT_NE(a.netserver(0), nullptr);
  ASSERT_NE(a.netserver(1), nullptr);
  EXPECT_EQ(a.netserver(0)->transactions(), 50u);
  EXPECT_EQ(a.netserver(0)->connections(), 1u);
  EXPECT_EQ(a.netserver(1)->transactions(), 20u);
  EXPECT_EQ(a.netserver(1)->connections(), 20u);
  EXPECT_EQ(a.netserver(0)->errors() + a.netserver(1)->errors(), 0u);
  EXPECT_EQ(crr->stats().rss, a.netserver(1)->sndbuf());  // the remote sizes from the netserver
  // Views: numbered when a host runs several, with the commands.
  std::string cmd;
  EXPECT_NE(view(a, "iperf3-client.0.txt", &cmd).find("1.00 MBytes"), std::string::npos);
  EXPECT_EQ(cmd, "iperf3 -c 10.0.0.2 -p 5201 -l 131072 -n 1048576");
  EXPECT_NE(view(a, "iperf3-client.1.txt", &cmd).find("512 KBytes"), std::string::npos);
  EXPECT_EQ(cmd, "iperf3 -c 10.0.1.2 -p 5202 -l 65536 -n 524288");
  EXPECT_NE(view(c, "iperf3-server.txt", &cmd).find("Accepted connection from 10.0.1.1"), std::string::npos);
  EXPECT_EQ(cmd, "iperf3 -s -p 5202");
  EXPECT_NE(view(b, "netperf-tcp-rr.txt", &cmd).find("Minimum Latency Microseconds"), std::string::npos);
  EXPECT_EQ(cmd.rfind("netperf -t TCP_RR -H 10.0.0.1 -l -50 -- -P ,12866 -r 100,200 -D -o min_latency,", 0), 0u)
      << cmd;
  EXPECT_NE(view(c, "netperf-tcp-crr.txt", &cmd).find("MIGRATED TCP Connect/Request/Response TEST"), std::string::npos);
  EXPECT_EQ(cmd, "netperf -t TCP_CRR -H 10.0.1.1 -l -20 -- -P ,7000 -r 1,1");
  // Every packet ended once, nothing in flight, the counters conserve.
  EXPECT_TRUE(pf.account()->exact()) << pf.account()->report();
  EXPECT_EQ(pf.account()->totals().in_flight, 0u) << pf.account()->report();
  EXPECT_TRUE(pf.all_ok());
}

// Two cores transmitting on one device (cpu0's softirq sending ACKs, cpu1's application its FIN
// or window update) keep the TX tail in ring order. It went backwards while TCP's close() sent
// the FIN on the stack's CPU (cpu0) at that CPU's time from a task running on cpu1: cpu0, ahead,
// had rung tail 557 at 1327.14 us, the FIN took slot 557 and rang 558 at 1280.19 us; the NIC took
// 558 then 557 for a wrap and sent stale descriptors again (b->a delivered 34 more than sent,
// 7 packets in flight, the peer's RSTs for the stale ACKs). close() now runs on the caller's CPU.
TEST(TcpScenario, TwoCoresTransmittingOnOneDeviceKeepTheTailMonotonic) {
  Scenario s = vnic::tb::testing::builtin("tcp-iperf3", {"host.a.tcp_iperf3_client.bytes=1048576"});
  s.account = true;
  Platform pf(s);
  pf.run();
  EXPECT_TRUE(pf.account()->exact()) << pf.account()->report();
  EXPECT_EQ(pf.account()->totals().in_flight, 0u) << pf.account()->report();
  EXPECT_TRUE(pf.all_ok());
}

// The run stopped in the middle of an iperf3 transfer (stop_after), every trace sink on (the
// writer, the journey recorder, the account), both ends still connected when the Platform goes:
// the hosts' teardown closes their sockets (the applications' destructors: a FIN each way, the
// stack run to send it), after the sinks are gone, so it reaches none. It crashed when those
// events went into the account, freed before the hosts.
TEST(TcpScenario, DestroyedMidTransferWithEveryTraceSinkOn) {
  const std::string trace = ::testing::TempDir() + "vnic_tcp_teardown_" + std::to_string(::getpid()) + ".json";
  Scenario s = vnic::tb::testing::builtin("tcp-iperf3", {"host.a.tcp_iperf3_client.bytes=1073741824"});
  s.stop_after = vnic::model::Duration::ms(3);
  s.account = true;
  s.journey_every = 16;
  s.trace = trace;
  {
    Platform pf(s);
    pf.run();
    const stack::Iperf3Client* cli = pf.driver_host("a").iperf3_client(0);
    const stack::Iperf3Server* srv = pf.driver_host("b").iperf3_server();
    ASSERT_NE(cli, nullptr);
    ASSERT_NE(srv, nullptr);
    EXPECT_FALSE(cli->done());
    EXPECT_FALSE(srv->done());
    EXPECT_GT(srv->result().bytes_received, 0u) << srv->output();
    EXPECT_TRUE(pf.account()->exact()) << pf.account()->report();
    ASSERT_NE(pf.journeys(), nullptr);
  }
  // The writer closed its file at the end of the run, before the teardown.
  std::ifstream in(trace, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("\"otherData\""), std::string::npos);
  EXPECT_EQ(text.substr(text.size() >= 2 ? text.size() - 2 : 0), "}\n");
  std::remove(trace.c_str());
}

}  // namespace

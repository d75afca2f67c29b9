// The TCP applications (stack/src/apps/tcp_apps.cpp) between two NetStacks joined back to back:
// iperf3's unit_snprintf against its C code, the bulk transfer's counts (sent = received = the
// socket's bytes_received, intervals summing to the totals, Retr = tcp_info's total_retrans),
// its report lines, netperf TCP_RR's transactions and latency, TCP_CRR's connections and the
// TIME-WAITs it leaves on the server, errors counted, and the same output for the same run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "support/pair_rig.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/tcp.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::lines;

struct TcpAppsPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  Tcp tcp_a{*a.net, icmp_a};
  Tcp tcp_b{*b.net, icmp_b};
  TaskScope tasks;

  TcpAppsPair() { static_arp(); }
  void run_for(Duration d) { run_until(std::max(a.cpu.now(), b.cpu.now()) + d); }
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

// ------------------------------------------------------------------------------ iperf3 formats

// unit_snprintf (iperf3 src/units.c), the expected strings worked out from its code: 'A' divides
// by 1024 while >= 1024, 'a' takes bytes * 8 and divides by 1000, up to Tera; then "%4.2f %s"
// under 9.995, "%4.1f %s" under 99.95, else "%4.0f %s" (so 999.6 Kbit prints "1000 Kbit").
TEST(Iperf3Format, UnitSnprintf) {
  EXPECT_EQ(iperf3_unit_snprintf(0, 'A'), "0.00 Byte");
  EXPECT_EQ(iperf3_unit_snprintf(0, 'a'), "0.00 bit");
  EXPECT_EQ(iperf3_unit_snprintf(500, 'A'), " 500 Byte");
  EXPECT_EQ(iperf3_unit_snprintf(1023, 'A'), "1023 Byte");
  EXPECT_EQ(iperf3_unit_snprintf(1024, 'A'), "1.00 KByte");
  EXPECT_EQ(iperf3_unit_snprintf(131072, 'A'), " 128 KByte");
  EXPECT_EQ(iperf3_unit_snprintf(14480, 'A'), "14.1 KByte");          // 10 * 1448: a first Cwnd
  EXPECT_EQ(iperf3_unit_snprintf(1170000000.0, 'A'), "1.09 GByte");   // 1.0896 GiB
  EXPECT_EQ(iperf3_unit_snprintf(117500000.0, 'a'), " 940 Mbit");     // 940e6 bits
  EXPECT_EQ(iperf3_unit_snprintf(124950, 'a'), "1000 Kbit");          // 999.6 Kbit: "%4.0f"
  EXPECT_EQ(iperf3_unit_snprintf(1248.75, 'a'), "9.99 Kbit");
  EXPECT_EQ(iperf3_unit_snprintf(12500, 'a'), " 100 Kbit");
  EXPECT_EQ(iperf3_unit_snprintf(5e15, 'A'), "4547 TByte");           // Tera is the last unit
  EXPECT_EQ(iperf3_unit_snprintf(3.0 * 1024 * 1024, 'M'), "3.00 MByte");  // a forced unit
  EXPECT_EQ(iperf3_unit_snprintf(125000, 'm'), "1.00 Mbit");
  EXPECT_EQ(iperf3_unit_snprintf(125000, 'k'), "1000 Kbit");
  EXPECT_EQ(iperf3_unit_snprintf(-5, 'A'), "-5.00 Byte");
}

// ------------------------------------------------------------------------------ iperf3 runs

struct Iperf3Run {
  std::unique_ptr<Iperf3Server> srv;
  std::unique_ptr<Iperf3Client> cli;
};

Iperf3Run start_iperf3(TcpAppsPair& p, uint64_t bytes, Duration duration, Duration interval) {
  Iperf3Run r;
  Iperf3ServerOptions so;
  so.interval = interval;
  r.srv = std::make_unique<Iperf3Server>(p.tcp_b, p.b.cpu, so);
  Iperf3ClientOptions co;
  co.dst = {ip4("10.0.0.2"), 5201};
  co.bytes = bytes;
  co.duration = duration;
  co.interval = interval;
  co.start = Instant{} + Duration::ms(1);
  co.server = r.srv.get();
  r.cli = std::make_unique<Iperf3Client>(p.tcp_a, p.a.cpu, co);
  p.tasks.spawn(r.srv->run());
  p.tasks.spawn(r.cli->run());
  return r;
}

uint64_t interval_sum(const Iperf3Result& r) {
  uint64_t s = 0;
  for (const auto& i : r.intervals) s += i.bytes;
  return s;
}

// -n 8 MiB in 128 KiB writes: every byte written arrives, the server's count is the socket's
// bytes_received, the intervals (1 ms: the pair moves ~9 Gbit/s) sum to the totals on both sides, the client's Retr sum
// is tcp_info's total_retrans, and the reports carry iperf3's lines.
TEST(Iperf3Pair, BytesTransferExact) {
  TcpAppsPair p;
  auto r = start_iperf3(p, 8u << 20, Duration::s(10), Duration::ms(1));
  p.run_until(Instant{} + Duration::s(20));
  ASSERT_TRUE(r.cli->done());
  ASSERT_TRUE(r.srv->done());
  EXPECT_EQ(p.tasks.running(), 0u);
  const Iperf3Result& c = r.cli->result();
  const Iperf3Result& s = r.srv->result();
  EXPECT_EQ(c.errors(), 0u);
  EXPECT_EQ(s.errors(), 0u);
  EXPECT_EQ(c.bytes_sent, 8u << 20);
  EXPECT_EQ(s.bytes_received, c.bytes_sent);
  EXPECT_EQ(s.tcp_bytes_received, s.bytes_received + 1);  // tcpi_bytes_received counts the FIN (tcp_rcv_nxt_update)
  EXPECT_LE(c.tcp_bytes_acked, c.bytes_sent);  // what was acked when the last write returned
  EXPECT_EQ(c.bytes_received, s.bytes_received);  // the exchange brought the server's count back
  EXPECT_EQ(interval_sum(c), c.bytes_sent);
  EXPECT_EQ(interval_sum(s), s.bytes_received);
  int64_t retr = 0;
  for (const auto& i : c.intervals) retr += i.retrans;
  EXPECT_EQ(retr, c.retransmits);
  EXPECT_EQ(c.retransmits, 0);
  EXPECT_GT(c.seconds, 0.0);
  EXPECT_GT(s.seconds, 0.0);
  EXPECT_GT(c.intervals.size(), 1u);
  // The intervals tile the run: each starts where the one before ended.
  for (std::size_t i = 1; i < c.intervals.size(); ++i) EXPECT_EQ(c.intervals[i].start_s, c.intervals[i - 1].end_s);
  EXPECT_DOUBLE_EQ(c.intervals.back().end_s, c.seconds);

  const auto cl = lines(r.cli->output());
  ASSERT_GE(cl.size(), 8u) << r.cli->output();
  EXPECT_EQ(cl[0], "Connecting to host 10.0.0.2, port 5201");
  EXPECT_TRUE(starts_with(cl[1], "[  5] local 10.0.0.1 port ")) << cl[1];
  EXPECT_NE(cl[1].find(" connected to 10.0.0.2 port 5201"), std::string::npos);
  EXPECT_EQ(cl[2], "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd");
  std::size_t printed = 0;
  for (const auto& i : c.intervals) printed += i.printed ? 1 : 0;
  const std::size_t sep = 3 + printed;
  ASSERT_EQ(cl.size(), sep + 6) << r.cli->output();
  for (std::size_t i = 3; i < sep; ++i) {
    EXPECT_TRUE(starts_with(cl[i], "[  5] ")) << cl[i];
    EXPECT_NE(cl[i].find(" sec  "), std::string::npos);
    EXPECT_NE(cl[i].find("Bytes       "), std::string::npos) << cl[i];  // Cwnd, then 7 spaces
  }
  EXPECT_EQ(cl[sep], "- - - - - - - - - - - - - - - - - - - - - - - - -");
  EXPECT_EQ(cl[sep + 1], "[ ID] Interval           Transfer     Bitrate         Retr");
  // "[%3d]%s %6.2f-%-6.2f sec  %ss  %ss/sec  %3ld            %s": 8 MiB is "8.00 MBytes".
  char t[32];
  std::snprintf(t, sizeof t, "%6.2f-%-6.2f", 0.0, c.seconds);
  EXPECT_TRUE(starts_with(cl[sep + 2], std::string("[  5] ") + t + " sec  8.00 MBytes  ")) << cl[sep + 2];
  EXPECT_NE(cl[sep + 2].find("/sec    0            sender"), std::string::npos) << cl[sep + 2];
  std::snprintf(t, sizeof t, "%6.2f-%-6.2f", 0.0, s.seconds);
  EXPECT_TRUE(starts_with(cl[sep + 3], std::string("[  5] ") + t + " sec  8.00 MBytes  ")) << cl[sep + 3];
  EXPECT_NE(cl[sep + 3].find("/sec                  receiver"), std::string::npos) << cl[sep + 3];
  EXPECT_EQ(cl[sep + 4], "");
  EXPECT_EQ(cl[sep + 5], "iperf Done.");

  const auto sl = lines(r.srv->output());
  ASSERT_GE(sl.size(), 9u);
  EXPECT_EQ(sl[0], "-----------------------------------------------------------");
  EXPECT_EQ(sl[1], "Server listening on 5201 (test #1)");
  EXPECT_TRUE(starts_with(sl[3], "Accepted connection from 10.0.0.1, port ")) << sl[3];
  EXPECT_TRUE(starts_with(sl[4], "[  5] local 10.0.0.2 port 5201 connected to 10.0.0.1 port ")) << sl[4];
  EXPECT_EQ(sl[5], "[ ID] Interval           Transfer     Bitrate");
  EXPECT_EQ(sl[sl.size() - 3], "- - - - - - - - - - - - - - - - - - - - - - - - -");
  EXPECT_EQ(sl.back(), cl[sep + 3]);  // the server's receiver line is the client's
}

// Parse "[  5]   0.10-0.20   sec  ..." into its interval.
bool parse_interval(const std::string& l, double& a, double& b) {
  return std::sscanf(l.c_str(), "[  5] %lf-%lf sec", &a, &b) == 2;
}

// -t 10 ms with -i 2 ms: one line per interval of simulated time (5, the last ends at -t); the
// intervals' bytes add up to the totals on both sides.
TEST(Iperf3Pair, DurationRunOneLinePerInterval) {
  TcpAppsPair p;
  auto r = start_iperf3(p, 0, Duration::ms(10), Duration::ms(2));
  p.run_until(Instant{} + Duration::s(10));
  ASSERT_TRUE(r.cli->done());
  ASSERT_TRUE(r.srv->done());
  const Iperf3Result& c = r.cli->result();
  EXPECT_EQ(r.srv->result().bytes_received, c.bytes_sent);
  EXPECT_EQ(interval_sum(c), c.bytes_sent);
  EXPECT_EQ(interval_sum(r.srv->result()), c.bytes_sent);
  std::size_t printed = 0;
  for (const auto& l : lines(r.cli->output())) {
    double a = 0, b = 0;
    if (l.find("sender") == std::string::npos && l.find("receiver") == std::string::npos && parse_interval(l, a, b))
      ++printed;
  }
  EXPECT_EQ(printed, 5u) << r.cli->output();
  std::vector<Iperf3Interval> kept;
  for (const auto& i : c.intervals) {
    if (i.printed) kept.push_back(i);
  }
  ASSERT_EQ(kept.size(), 5u);
  // Each ends when the blocking write running at its expiry returns: at or after the boundary,
  // before the next one; the next starts there.
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const double boundary = 0.002 * static_cast<double>(i + 1);
    if (i + 1 < kept.size()) {
      EXPECT_GE(kept[i].end_s, boundary - 1e-9) << r.cli->output();
      EXPECT_LT(kept[i].end_s, boundary + 0.002) << r.cli->output();
      EXPECT_EQ(kept[i + 1].start_s, kept[i].end_s);
    }
  }
  EXPECT_GE(c.seconds, 0.010);
  EXPECT_LT(c.seconds, 0.012);  // the last write returns after -t
  EXPECT_GT(c.bytes_sent, 0u);
}

// Lost data segments: the sender's Retr column sums to the change of tcp_info's total_retrans
// over the test (at most RetransSegs, which counts on through the close), and the bytes all arrive.
TEST(Iperf3Pair, RetransmitsCountedPerInterval) {
  TcpAppsPair p;
  int seen = 0;
  p.a.dev.drop_if = [&](std::span<const uint8_t> f) {
    if (f.size() < 14 + 20 + 20 + 1000 || f[14 + 9] != 6) return false;
    return ++seen % 200 == 0;  // every 200th full data segment
  };
  auto r = start_iperf3(p, 4u << 20, Duration::s(10), Duration::ms(10));
  p.run_until(Instant{} + Duration::s(30));
  ASSERT_TRUE(r.cli->done());
  ASSERT_TRUE(r.srv->done());
  const Iperf3Result& c = r.cli->result();
  EXPECT_EQ(r.srv->result().bytes_received, 4u << 20);
  EXPECT_GT(c.retransmits, 0);
  int64_t retr = 0;
  for (const auto& i : c.intervals) retr += i.retrans;
  EXPECT_EQ(retr, c.retransmits);
  // Retr stops at the last sample (the test's end); the socket may retransmit after it, closing.
  EXPECT_LE(static_cast<uint64_t>(c.retransmits), p.tcp_a.mib().RetransSegs);
  char want[32];
  std::snprintf(want, sizeof want, "/sec  %3ld            sender", static_cast<long>(c.retransmits));
  EXPECT_NE(r.cli->output().find(want), std::string::npos) << r.cli->output();
}

// No server: connect is refused; the client counts it and prints iperf3's error, no crash.
TEST(Iperf3Pair, ConnectRefusedCounted) {
  TcpAppsPair p;
  Iperf3ClientOptions co;
  co.dst = {ip4("10.0.0.2"), 5201};
  co.bytes = 1 << 20;
  Iperf3Client cli(p.tcp_a, p.a.cpu, co);
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(1));
  ASSERT_TRUE(cli.done());
  EXPECT_EQ(cli.result().connect_errors, 1u);
  EXPECT_EQ(cli.result().last_errno, kECONNREFUSED);
  EXPECT_EQ(cli.result().bytes_sent, 0u);
  EXPECT_EQ(cli.output(),
            "iperf3: error - unable to connect to server - server may have stopped running or use a different port, "
            "firewall issue, etc.: Connection refused\n");
}

// ------------------------------------------------------------------------------ netperf TCP_RR

// 200 transactions of 64/128 bytes: the server answered each, the mean latency agrees with the
// transaction rate (one transaction at a time: rate ~ 1e6 / mean, the mean of whole-us
// truncations at most 1 us below), the legacy report as send_tcp_rr prints it.
TEST(NetperfTcpRr, TransactionsAndLatency) {
  TcpAppsPair p;
  NetperfTcpServerOptions so;
  so.req = 64;
  so.resp = 128;
  so.max_connections = 1;
  NetperfTcpServer srv(p.tcp_b, p.b.cpu, so);
  NetperfTcpOptions o;
  o.dst = {ip4("10.0.0.2"), so.port};
  o.req = 64;
  o.resp = 128;
  o.count = 200;
  o.start = Instant{} + Duration::ms(1);
  o.server = &srv;
  NetperfTcpClient cli(p.tcp_a, p.a.cpu, o);
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(5));
  ASSERT_TRUE(cli.done());
  ASSERT_TRUE(srv.done());
  EXPECT_EQ(p.tasks.running(), 0u);
  const NetperfTcpStats& st = cli.stats();
  EXPECT_EQ(st.errors(), 0u);
  EXPECT_EQ(srv.errors(), 0u);
  EXPECT_EQ(st.transactions, 200u);
  EXPECT_EQ(srv.transactions(), st.transactions);
  EXPECT_EQ(st.connections, 1u);
  EXPECT_EQ(cli.hist().total(), 200u);
  ASSERT_GT(st.transaction_rate(), 0.0);
  const double per_tran_us = 1e6 / st.transaction_rate();
  double exact_mean_us = 0;
  for (int64_t ps : st.rtt_ps) exact_mean_us += static_cast<double>(ps) / 1e6;
  exact_mean_us /= static_cast<double>(st.rtt_ps.size());
  EXPECT_NEAR(exact_mean_us, per_tran_us, 0.01 * per_tran_us);  // back to back: the loop is the latency
  EXPECT_LE(st.mean_us(), exact_mean_us + 1.0);
  EXPECT_GE(st.mean_us(), exact_mean_us - 1.0);
  EXPECT_DOUBLE_EQ(cli.hist().mean(), st.mean_us());
  const auto l = lines(cli.output());
  ASSERT_EQ(l.size(), 8u) << cli.output();
  EXPECT_EQ(l[0], "MIGRATED TCP REQUEST/RESPONSE TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to 10.0.0.2 () port 0 "
                  "AF_INET : first burst 0");
  EXPECT_EQ(l[1], "Local /Remote");
  EXPECT_EQ(l[3], "Send   Recv   Size     Size    Time     Rate         ");
  EXPECT_EQ(l[5], "");
  char want[128];
  std::snprintf(want, sizeof want, "%-6d %-6d %-6d   %-6d  %-6.2f   %7.2f   ", static_cast<int>(st.lss),
                static_cast<int>(st.lsr), 64, 128, st.elapsed_s, st.transaction_rate());
  EXPECT_EQ(l[6], want);
  EXPECT_EQ(l[6].substr(0, 14), "16384  131072 ");  // tcp_wmem[1], tcp_rmem[1] at socket()
  EXPECT_EQ(l[7], "16384  131072");  // the server's
  // Both sides closed gracefully: the client (shutdown first) holds the TIME-WAIT.
  p.run_for(Duration::ms(100));
  EXPECT_EQ(p.tcp_a.time_wait_count(), 1u);
  EXPECT_EQ(p.tcp_b.time_wait_count(), 0u);
}

// -o with the latency keys: the same CSV as UDP_RR's; a duration-bounded run.
TEST(NetperfTcpRr, CsvLatencyByDuration) {
  TcpAppsPair p;
  NetperfTcpServerOptions so;
  so.max_connections = 1;
  NetperfTcpServer srv(p.tcp_b, p.b.cpu, so);
  NetperfTcpOptions o;
  o.dst = {ip4("10.0.0.2"), so.port};
  o.duration = Duration::ms(50);
  o.csv_latency = true;
  o.nodelay = true;
  NetperfTcpClient cli(p.tcp_a, p.a.cpu, o);
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(5));
  ASSERT_TRUE(cli.done());
  EXPECT_GT(cli.stats().transactions, 10u);
  EXPECT_EQ(srv.transactions(), cli.stats().transactions);
  EXPECT_GE(cli.stats().elapsed_s, 0.05);
  const auto l = lines(cli.output());
  ASSERT_EQ(l.size(), 3u) << cli.output();
  EXPECT_NE(l[0].find(" : nodelay : first burst 0"), std::string::npos);
  EXPECT_TRUE(starts_with(l[1], "Minimum Latency Microseconds,"));
  EXPECT_EQ(l[2].substr(l[2].size() - 4), ",1,1");
}

// No server: ECONNREFUSED counted, netperf's perror line, a report with no transactions.
TEST(NetperfTcpRr, ConnectRefusedCounted) {
  TcpAppsPair p;
  NetperfTcpOptions o;
  o.dst = {ip4("10.0.0.2"), 12866};
  o.count = 10;
  NetperfTcpClient cli(p.tcp_a, p.a.cpu, o);
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(1));
  ASSERT_TRUE(cli.done());
  EXPECT_EQ(cli.stats().connect_errors, 1u);
  EXPECT_EQ(cli.stats().transactions, 0u);
  EXPECT_NE(cli.output().find("netperf: send_omni: connect_data_socket failed: Connection refused\n"),
            std::string::npos);
}

// ------------------------------------------------------------------------------ netperf TCP_CRR

// 25 transactions, each its own connection: ActiveOpens 25 on the client, PassiveOpens 25 on the
// server; netserver closes first (recv_omni's close_data_socket right after the response, the
// client's disconnect_data_socket waiting for that EOF), so the 25 TIME-WAITs are the server's.
TEST(NetperfTcpCrr, ConnectionPerTransactionServerHoldsTimeWait) {
  TcpAppsPair p;
  NetperfTcpServerOptions so;
  so.test = NetperfTcpTest::CRR;
  so.req = 32;
  so.resp = 1024;
  NetperfTcpServer srv(p.tcp_b, p.b.cpu, so);
  NetperfTcpOptions o;
  o.test = NetperfTcpTest::CRR;
  o.dst = {ip4("10.0.0.2"), so.port};
  o.req = 32;
  o.resp = 1024;
  o.count = 25;
  o.start = Instant{} + Duration::ms(1);
  o.server = &srv;
  NetperfTcpClient cli(p.tcp_a, p.a.cpu, o);
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(2));
  ASSERT_TRUE(cli.done());
  const NetperfTcpStats& st = cli.stats();
  EXPECT_EQ(st.errors(), 0u);
  EXPECT_EQ(st.transactions, 25u);
  EXPECT_EQ(st.connections, 25u);
  EXPECT_EQ(srv.connections(), 25u);
  EXPECT_EQ(srv.transactions(), 25u);
  EXPECT_EQ(srv.errors(), 0u);
  EXPECT_EQ(p.tcp_a.mib().ActiveOpens, 25u);
  EXPECT_EQ(p.tcp_b.mib().PassiveOpens, 25u);
  EXPECT_EQ(p.tcp_b.time_wait_count(), 25u);
  EXPECT_EQ(p.tcp_a.time_wait_count(), 0u);
  EXPECT_EQ(p.tcp_a.mib().AttemptFails, 0u);
  EXPECT_EQ(p.tcp_b.mib().EstabResets + p.tcp_a.mib().EstabResets, 0u);
  ASSERT_GT(st.transaction_rate(), 0.0);
  double exact_mean_us = 0;
  for (int64_t ps : st.rtt_ps) exact_mean_us += static_cast<double>(ps) / 1e6;
  exact_mean_us /= static_cast<double>(st.rtt_ps.size());
  EXPECT_NEAR(exact_mean_us, 1e6 / st.transaction_rate(), 0.01 * exact_mean_us);
  const auto l = lines(cli.output());
  ASSERT_EQ(l.size(), 8u) << cli.output();
  EXPECT_EQ(l[0], "MIGRATED TCP Connect/Request/Response TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to 10.0.0.2 () "
                  "port 0 AF_INET");
  char want[128];
  std::snprintf(want, sizeof want, "%-6d %-6d %-6d   %-6d  %-6.2f   %7.2f   ", static_cast<int>(st.lss),
                static_cast<int>(st.lsr), 32, 1024, st.elapsed_s, st.transaction_rate());
  EXPECT_EQ(l[6], want);
  srv.stop();
  p.run_for(Duration::ms(50));
  EXPECT_TRUE(srv.done());
  EXPECT_EQ(p.tasks.running(), 0u);
}

// The CRR client's local ports: pick_next_port_number from first_port, the server's port skipped.
TEST(NetperfTcpCrr, LocalPortsInSequence) {
  TcpAppsPair p;
  NetperfTcpServerOptions so;
  so.test = NetperfTcpTest::CRR;
  so.port = 5003;
  NetperfTcpServer srv(p.tcp_b, p.b.cpu, so);
  NetperfTcpOptions o;
  o.test = NetperfTcpTest::CRR;
  o.dst = {ip4("10.0.0.2"), 5003};
  o.count = 4;
  o.first_port = 5001;
  NetperfTcpClient cli(p.tcp_a, p.a.cpu, o);
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::ms(500));
  ASSERT_TRUE(cli.done());
  EXPECT_EQ(cli.stats().transactions, 4u);
  std::vector<uint16_t> ports;
  for (const auto& f : p.a.dev.sent) {
    if (f.size() >= 14 + 20 + 20 && f[14 + 9] == 6 && (f[14 + 20 + 13] & 0x12) == 0x02)  // SYN without ACK
      ports.push_back(static_cast<uint16_t>(f[14 + 20] << 8 | f[14 + 21]));
  }
  EXPECT_EQ(ports, (std::vector<uint16_t>{5001, 5002, 5004, 5005}));
  srv.stop();
  p.run_for(Duration::ms(50));
}

// ------------------------------------------------------------------------------ determinism

TEST(TcpApps, SameRunSameOutput) {
  std::string out[2];
  for (std::string& o : out) {
    TcpAppsPair p;
    auto r = start_iperf3(p, 2u << 20, Duration::s(10), Duration::ms(5));
    NetperfTcpServerOptions so;
    so.test = NetperfTcpTest::CRR;
    NetperfTcpServer srv(p.tcp_b, p.b.cpu, so);
    NetperfTcpOptions no;
    no.test = NetperfTcpTest::CRR;
    no.dst = {ip4("10.0.0.2"), so.port};
    no.count = 10;
    no.csv_latency = true;
    no.start = Instant{} + Duration::ms(3);
    NetperfTcpClient cli(p.tcp_a, p.a.cpu, no);
    p.tasks.spawn(srv.run());
    p.tasks.spawn(cli.run());
    p.run_until(Instant{} + Duration::s(3));
    ASSERT_TRUE(r.cli->done());
    ASSERT_TRUE(cli.done());
    srv.stop();
    p.run_for(Duration::ms(50));
    o = r.cli->output() + r.srv->output() + cli.output() + p.tcp_a.ss_tin() + p.tcp_b.proc_net_snmp_tcp();
  }
  EXPECT_EQ(out[0], out[1]);
}

}  // namespace
}  // namespace vnic::stack

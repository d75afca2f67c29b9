// The UDP applications (stack/src/apps/udp_apps.cpp) between two NetStacks joined back to back:
// iperf's formats and its client/server exchange (loss, jitter by RFC 3550, the FIN's report), a
// slow reader's receive-buffer drops, netperf UDP_RR's transactions and histogram, and the same
// output for the same run.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "support/pair_rig.hpp"
#include "vnic/stack/apps/udp_apps.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/udp.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::lines;

struct UdpPair : testing::PairRig {
  Icmp icmp_a{*a.net};
  Icmp icmp_b{*b.net};
  Udp udp_a{*a.net, icmp_a};
  Udp udp_b{*b.net, icmp_b};
  TaskScope tasks;

};

// byte_snprintf's adaptive formats (iperf 2.1.8 src/stdio.c): bytes in 1024s, bits (the argument
// is bytes) in 1000s, up to Peta, four places: #.### under 0.9995, #.##, ##.#, ###.
TEST(IperfFormat, ByteSnprintf) {
  EXPECT_EQ(iperf_byte_snprintf(212992, 'A'), " 208 KByte");
  EXPECT_EQ(iperf_byte_snprintf(1470.0 * 893, 'A'), "1.25 MByte");
  EXPECT_EQ(iperf_byte_snprintf(125'000'000 / 8.0 * 1.05, 'a'), " 131 Mbit");
  EXPECT_EQ(iperf_byte_snprintf(2'050'000, 'a'), "16.4 Mbit");
  EXPECT_EQ(iperf_byte_snprintf(1e9 / 8, 'a'), "1.00 Gbit");
  EXPECT_EQ(iperf_byte_snprintf(500, 'A'), " 500 Byte");
  EXPECT_EQ(iperf_byte_snprintf(0, 'a'), "0.000 bit");
  EXPECT_EQ(iperf_byte_snprintf(0, 'A'), "0.000 Byte");
  EXPECT_EQ(iperf_byte_snprintf(0.5, 'A'), "0.500 Byte");
  EXPECT_EQ(iperf_byte_snprintf(0.99949, 'A'), "0.999 Byte");
  EXPECT_EQ(iperf_byte_snprintf(0.9995, 'A'), "1.00 Byte");
  EXPECT_EQ(iperf_byte_snprintf(1023, 'A'), "1023 Byte");
  EXPECT_EQ(iperf_byte_snprintf(2.0 * 1024 * 1024 * 1024 * 1024 * 1024, 'A'), "2.00 PByte");
  EXPECT_EQ(iperf_byte_snprintf(3e15 / 8, 'a'), "3.00 Pbit");
  EXPECT_EQ(iperf_byte_snprintf(5e18 / 8, 'a'), "5000 Pbit");  // Peta is the last unit
}

// RFC 3550 A.8 by hand: transits 10, 12, 11 us: J = 2/16, then J + (1 - J)/16.
TEST(IperfFormat, JitterStep) {
  double j = rfc3550_jitter_step(0, 12e-6, 10e-6);
  EXPECT_DOUBLE_EQ(j, 2e-6 / 16);
  j = rfc3550_jitter_step(j, 11e-6, 12e-6);
  EXPECT_DOUBLE_EQ(j, 2e-6 / 16 + (1e-6 - 2e-6 / 16) / 16);
}

// netperf 2.7's histogram (netlib.c HIST_add / HIST_search_bucket / HIST_get_percentile, 100
// buckets a decade): the percentile interpolates inside the bucket that reaches p * total. The
// figures are netperf's own functions' on the same values (was the bucket's base with 10 buckets
// a decade: 7/30/30/1000).
TEST(NetperfHistTest, PercentilesInterpolateInTheirBucket) {
  NetperfHist h;
  for (int i = 0; i < 50; ++i) h.add(7);
  for (int i = 0; i < 40; ++i) h.add(34);
  for (int i = 0; i < 10; ++i) h.add(1234);
  EXPECT_EQ(h.total(), 100u);
  EXPECT_EQ(h.percentile(0.50), 7);     // unit_usec[70]: (70 + 50/50) * 1 / 10
  EXPECT_EQ(h.percentile(0.51), 34);    // ten_usec[34]: (34 + 1/40) * 10 / 10
  EXPECT_EQ(h.percentile(0.90), 35);    // (34 + 40/40)
  EXPECT_EQ(h.percentile(0.99), 1290);  // unit_msec[12]: (12 + 9/10) * 1000 / 10
  EXPECT_EQ(h.min(), 7);
  EXPECT_EQ(h.max(), 1234);
  EXPECT_DOUBLE_EQ(h.mean(), (50.0 * 7 + 40 * 34 + 10 * 1234) / 100);
  const double sq = 50.0 * 49 + 40 * 34 * 34 + 10.0 * 1234 * 1234, sum = 50.0 * 7 + 40 * 34 + 10 * 1234;
  EXPECT_DOUBLE_EQ(h.stddev(), std::sqrt((sq * 100 - sum * sum) / (100.0 * 100)));
  NetperfHist r;  // 1000 round trips of 130 us: hundred_usec[13], (13 + 500/1000) * 100 / 10
  for (int i = 0; i < 1000; ++i) r.add(130);
  EXPECT_EQ(r.percentile(0.50), 135);
  EXPECT_EQ(r.percentile(0.90), 139);
  EXPECT_EQ(r.percentile(0.99), 139);
  EXPECT_EQ(r.stddev(), 0.0);
  NetperfHist big;  // 100 s or more: "ridiculous", in the total; no bucket reaches the count: 1e8
  big.add(150'000'000);
  big.add(200'000'000);
  EXPECT_EQ(big.total(), 2u);
  EXPECT_EQ(big.percentile(0.50), 100'000'000);
  EXPECT_EQ(NetperfHist{}.percentile(0.5), 0);  // (int)(p * 0): 0
}

UdpSendOptions send_to(const char* dst, uint64_t count, uint64_t rate) {
  UdpSendOptions o;
  o.dst = {ip4(dst), 5001};
  o.count = count;
  o.rate_bps = rate;
  return o;
}

// 200 datagrams of 1470 bytes at 100 Mbit/s: each leaves in its slot (117.6 us apart), none is
// lost, the server's jitter is RFC 3550's over the arrival and send times it read (recomputed
// here as iperf 2.1.8 does: from transit 0, the first datagram at the time its read returned,
// the FIN included), its report comes back in the FIN's ack and both print iperf's lines, the
// FIN counted as datagram 201 with its bytes.
TEST(UdpIperfPair, PacedFlowLosesNothingAndReportsJitter) {
  UdpPair p;
  UdpReceiver srv(*p.b.net, p.udp_b, p.b.cpu, UdpRecvOptions{});
  UdpSender cli(*p.a.net, p.udp_a, p.a.cpu, send_to("10.0.0.2", 200, 100'000'000));
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(5));
  ASSERT_TRUE(cli.done());
  ASSERT_TRUE(srv.done());
  EXPECT_EQ(p.tasks.running(), 0u);
  const auto& s = srv.stats();
  EXPECT_EQ(cli.stats().datagrams, 200u);
  EXPECT_EQ(cli.stats().late, 0u);
  EXPECT_EQ(s.datagrams, 200u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.out_of_order, 0u);
  EXPECT_EQ(s.bytes, 200u * 1470);
  EXPECT_EQ(s.fin_bytes, 1470u);
  EXPECT_EQ(s.total(), 201u);  // the FIN's id
  EXPECT_EQ(s.fin.seq, 201);
  EXPECT_EQ(srv.bad_payloads(), 0u);
  // The slots: datagram k's send time (in its header) is t0 + k * 117.6 us, to the microsecond.
  const auto& arr = srv.arrivals();
  ASSERT_EQ(arr.size(), 200u);
  for (std::size_t k = 1; k < arr.size(); ++k) {
    EXPECT_EQ(arr[k].seq, static_cast<int64_t>(k + 1));
    const int64_t want = arr[0].sent_us + static_cast<int64_t>((k * 1470 * 8 * 1'000'000) / 100'000'000);
    EXPECT_NEAR(static_cast<double>(arr[k].sent_us), static_cast<double>(want), 1.0);
  }
  // Jitter: RFC 3550 applied here to (arrival us - send us), from 0, the first datagram's arrival
  // the time its read returned, then each one's stamp, then the FIN's.
  EXPECT_GE(s.first, arr[0].stamp);
  double j = 0, prev = 0;
  for (std::size_t k = 0; k <= arr.size(); ++k) {
    const UdpArrival& a = k < arr.size() ? arr[k] : s.fin;
    const Instant at = k == 0 ? s.first : a.stamp;
    const double transit = static_cast<double>(at.ps() / 1'000'000 - a.sent_us) / 1e6;
    j += (std::abs(transit - prev) - j) / 16;
    prev = transit;
  }
  EXPECT_NEAR(s.jitter_s, j, 1e-12);
  // The MIB on both sides: 200 data datagrams + the FIN one way, the ack the other.
  EXPECT_EQ(p.udp_a.mib().OutDatagrams, 201u);
  EXPECT_EQ(p.udp_b.mib().InDatagrams, 201u);
  EXPECT_EQ(p.udp_b.mib().OutDatagrams, 1u);
  EXPECT_EQ(p.udp_a.mib().InDatagrams, 1u);
  EXPECT_EQ(p.udp_b.mib().RcvbufErrors, 0u);
  // The client's report has the server's numbers.
  ASSERT_TRUE(cli.stats().server_report);
  EXPECT_EQ(cli.stats().srv_datagrams, 201u);
  EXPECT_EQ(cli.stats().srv_lost, 0u);
  EXPECT_EQ(cli.stats().srv_bytes, 201u * 1470);
  EXPECT_EQ(cli.stats().fin_bytes, 1470u);
  EXPECT_EQ(cli.stats().sent_report, 201u);
  EXPECT_NEAR(cli.stats().srv_jitter_s, s.jitter_s, 1e-6);
  const auto cl = lines(cli.output());
  ASSERT_EQ(cl.size(), 12u) << cli.output();
  EXPECT_EQ(cl[1], "Client connecting to 10.0.0.2, UDP port 5001");
  EXPECT_EQ(cl[2], "Sending 1470 byte datagrams, IPG target: 117.60 us (kalman adjust)");
  EXPECT_EQ(cl[3], "UDP buffer size:  208 KByte (default)");
  EXPECT_EQ(cl[5].rfind("[  1] local 10.0.0.1 port ", 0), 0u);
  EXPECT_EQ(cl[6], "[ ID] Interval       Transfer     Bandwidth");
  // Transfer: 200 datagrams and the FIN, 201 x 1470 bytes (was 287 KBytes, 100 Mbits/sec without the FIN).
  EXPECT_EQ(cl[7].rfind("[  1] 0.0000-0.0234 sec   289 KBytes   101 Mbits/sec", 0), 0u) << cl[7];
  EXPECT_EQ(cl[8], "[  1] Sent 201 datagrams");
  EXPECT_EQ(cl[9], "[  1] Server Report:");
  EXPECT_EQ(cl[11].find(" 0/201 (0%)"), cl[11].size() - 11) << cl[11];
  const auto sl = lines(srv.output());
  ASSERT_EQ(sl.size(), 7u) << srv.output();
  EXPECT_EQ(sl[1], "Server listening on UDP port 5001");
  EXPECT_EQ(sl[4].rfind("[  1] local 10.0.0.2 port 5001 connected with 10.0.0.1 port ", 0), 0u);
  EXPECT_EQ(sl[5], "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams");
  // The server's report line is the one the client printed from the ack: the same figures, the
  // jitter as the ack carries it (whole microseconds).
  EXPECT_EQ(sl[6].substr(0, 50), cl[11].substr(0, 50));
  EXPECT_EQ(sl[6].substr(sl[6].size() - 14), cl[11].substr(cl[11].size() - 14));
}

// A slow reader (50 us per datagram) and a flood with a small SO_RCVBUF: what the server did not
// read is exactly RcvbufErrors (the FIN included: the client's later try gets through).
TEST(UdpIperfPair, SlowReaderOverflowsItsReceiveBuffer) {
  UdpPair p;
  UdpRecvOptions ro;
  ro.read_cost = Duration::us(50);
  ro.rcvbuf = 8192;  // doubled: 16384, a few datagrams of truesize ~2.3 KiB
  p.static_arp();
  UdpReceiver srv(*p.b.net, p.udp_b, p.b.cpu, ro);
  UdpSender cli(*p.a.net, p.udp_a, p.a.cpu, send_to("10.0.0.2", 500, 0));
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(10));
  ASSERT_TRUE(cli.done());
  ASSERT_TRUE(srv.done());
  const auto& s = srv.stats();
  EXPECT_EQ(cli.stats().datagrams, 500u);
  EXPECT_GT(s.lost, 100u);
  // The FIN's id shows the losses at the end; the one read is a later try, whose id is one higher
  // for each try before it (iperf's AwaitServerFinPacket): Total is 500 + the tries, Lost counts
  // the earlier FINs' ids too, as iperf's server does.
  EXPECT_EQ(s.total(), 500u + cli.stats().fins);
  EXPECT_EQ(s.datagrams + s.lost + 1, s.total());
  const uint64_t not_read = (cli.stats().datagrams + cli.stats().fins) - (s.datagrams + s.fins);
  EXPECT_EQ(p.udp_b.mib().RcvbufErrors, not_read);
  EXPECT_EQ(p.udp_b.mib().InErrors, not_read);
  EXPECT_EQ(p.a.dev.lost, 0u);
  EXPECT_EQ(p.b.softnet.stats().dropped, 0u);
  EXPECT_EQ(p.udp_a.mib().SndbufErrors, 0u);
  EXPECT_EQ(p.a.dev.stats.tx_packets, cli.stats().datagrams + cli.stats().fins);
  ASSERT_TRUE(cli.stats().server_report);
}

// netperf UDP_RR: 50 transactions of 64/128 bytes; every one answered, its round trip recorded,
// the ids of both datagrams known; the output's columns.
TEST(UdpRrPair, TransactionsAndLatency) {
  UdpPair p;
  UdpRrServer srv(p.udp_b, p.b.cpu, 12865, 128);
  UdpRrOptions o;
  o.dst = {ip4("10.0.0.2"), 12865};
  o.req = 64;
  o.resp = 128;
  o.count = 50;
  UdpRrClient cli(*p.a.net, p.udp_a, p.a.cpu, o);
  p.tasks.spawn(srv.run());
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(5));
  ASSERT_TRUE(cli.done());
  EXPECT_EQ(cli.stats().transactions, 50u);
  EXPECT_EQ(cli.stats().lost, 0u);
  EXPECT_EQ(srv.requests(), 50u);
  EXPECT_EQ(srv.responses(), 50u);
  ASSERT_EQ(cli.packet_ids().size(), 50u);
  for (const auto& [req, resp] : cli.packet_ids()) {
    EXPECT_EQ(req >> 32, 1u);
    EXPECT_EQ(resp >> 32, 2u);
  }
  for (int64_t r : cli.stats().rtt_ps) EXPECT_GT(r, 0);
  const auto l = lines(cli.output());
  ASSERT_EQ(l.size(), 3u) << cli.output();
  EXPECT_EQ(l[0].rfind("MIGRATED UDP REQUEST/RESPONSE TEST from 0.0.0.0", 0), 0u);
  EXPECT_EQ(l[2].substr(l[2].size() - 7), ",64,128");
  EXPECT_FALSE(srv.done());
  srv.stop();
  p.run_until(Instant{} + Duration::s(6));
  EXPECT_TRUE(srv.done());
  EXPECT_EQ(p.tasks.running(), 0u);
}

// A server that never answers: each transaction times out and counts lost.
TEST(UdpRrPair, TimeoutsCountLost) {
  UdpPair p;
  UdpSock* sink = p.udp_b.socket();
  ASSERT_EQ(p.udp_b.bind(*sink, {ip4("0.0.0.0"), 12865}), 0);
  UdpRrOptions o;
  o.dst = {ip4("10.0.0.2"), 12865};
  o.count = 3;
  o.timeout = Duration::ms(10);
  UdpRrClient cli(*p.a.net, p.udp_a, p.a.cpu, o);
  p.tasks.spawn(cli.run());
  p.run_until(Instant{} + Duration::s(5));
  ASSERT_TRUE(cli.done());
  EXPECT_EQ(cli.stats().transactions, 0u);
  EXPECT_EQ(cli.stats().lost, 3u);
  EXPECT_GE(p.a.cpu.now(), Instant{} + Duration::ms(30));
}

// Same run twice: the same bytes out.
TEST(UdpIperfPair, SameRunSameOutput) {
  std::string out[2];
  for (std::string& o : out) {
    UdpPair p;
    UdpRecvOptions ro;
    ro.use_epoll = true;
    UdpReceiver srv(*p.b.net, p.udp_b, p.b.cpu, ro);
    UdpSender cli(*p.a.net, p.udp_a, p.a.cpu, send_to("10.0.0.2", 50, 50'000'000));
    p.tasks.spawn(srv.run());
    p.tasks.spawn(cli.run());
    p.run_until(Instant{} + Duration::s(5));
    ASSERT_TRUE(srv.done());
    o = cli.output() + srv.output() + p.udp_a.ss_uampn() + p.udp_b.proc_net_snmp_udp();
  }
  EXPECT_EQ(out[0], out[1]);
}

}  // namespace
}  // namespace vnic::stack

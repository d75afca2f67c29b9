// Hosts on a learning switch ([switch.NAME], builtin:switch8): eight driver hosts all to all,
// every packet ending exactly once (the per-packet account, flood copies as packets of their
// own), each port's two sums and the switch's own; a 10G NIC into a 1G switch port (tail drops
// counted, conserved); a NIC on a switch and a link refused.
#include <gtest/gtest.h>

#include <systemc>

#include <stdexcept>
#include <string>

#include "support/scenario_util.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/stack/apps/udp_apps.hpp"
#include "vnic/stack/udp.hpp"
#include "vnic/tb/driver_host.hpp"
#include "vnic/tb/platform.hpp"
#include "vnic/tb/scenario.hpp"

namespace {

using vnic::model::regs::Stat;
using vnic::tb::Platform;
using vnic::tb::PortId;
using vnic::tb::Scenario;
using vnic::tb::testing::resolve;
namespace stack = vnic::stack;

TEST(Switch, EightHostsAllToAllEveryPacketEndsOnceAndEveryCounterAddsUp) {
  Scenario s = resolve("builtin:switch8", {"scenario.hosts=\"driver\""});
  s.account = true;
  Platform p(s);
  p.run();
  ASSERT_EQ(p.num_hosts(), 8u);
  ASSERT_EQ(p.num_links(), 0u);
  ASSERT_EQ(p.num_switches(), 1u);
  auto& sw = p.eth_switch("sw0");
  uint64_t sent = 0, delivered = 0, copies = 0, filtered = 0, switch_drops = 0;
  for (const PortId port : p.ports()) {
    std::string detail;
    EXPECT_EQ(p.unaccounted(port, &detail), 0) << p.label(port) << ": " << detail;
    EXPECT_TRUE(p.rx_clean(port)) << p.label(port);
    EXPECT_EQ(p.sent(port), 7000u) << p.label(port);
    // Each host hears from each of the other seven: 1000 frames each.
    EXPECT_EQ(p.delivered(port), 7000u) << p.label(port);
    const auto sp = p.switch_port(port);
    ASSERT_TRUE(sp);
    sent += p.sent(port);
    delivered += p.delivered(port);
    filtered += p.nic(port).stat(Stat::rx_filtered);
    const auto& st = sw.stats(sp->second);
    copies += st.flood_copies;
    switch_drops += st.dropped_queue_full + st.dropped_filtered + st.tx_dropped_link_down + st.rx_dropped_link_down;
  }
  std::string detail;
  EXPECT_EQ(p.switch_unaccounted(0, &detail), 0) << detail;
  // The first frame from each host to a host not heard from yet was flooded to all seven others:
  // six copies beyond the frame, each filtered by a NIC it was not for.
  EXPECT_GT(copies, 0u);
  EXPECT_EQ(copies % 6, 0u);
  EXPECT_EQ(filtered, copies);
  EXPECT_EQ(switch_drops, 0u);
  // Every packet, copies included, ended exactly once: delivered to pktgen's checker or in the
  // NIC's rx_filtered.
  const auto* a = p.account();
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->complete()) << a->report();
  const auto t = a->totals();
  EXPECT_EQ(t.made, sent + copies);
  EXPECT_EQ(t.delivered, delivered);
  EXPECT_EQ(t.dropped, copies);
  EXPECT_EQ(t.by_counter.at("rx_filtered"), copies);
  EXPECT_TRUE(p.all_ok());
  // The learning table knows all eight, each on its own port.
  const auto fdb = sw.fdb(p.end_ps());
  ASSERT_EQ(fdb.size(), 8u);
  for (unsigned k = 0; k < 8; ++k) {
    EXPECT_EQ(fdb[k].port, k);
    EXPECT_EQ(fdb[k].mac, p.scenario().host_list[k].nics[0].mac);
  }
  const std::string report = p.report();
  EXPECT_NE(report.find("$ bridge fdb show br sw0\n02:00:00:00:00:0a dev sw0-p0 master sw0 (a) age"), std::string::npos)
      << report;
  EXPECT_NE(report.find("conservation sw0: in 56000 + flood copies"), std::string::npos) << report;
  EXPECT_NE(report.find("conservation a->sw0: sent 7000 = into sw0 7000"), std::string::npos) << report;
}

// UDP through sockets, all to all on the switch (builtin:switch8-udp): 56 iperf flows of 300
// datagrams. Every packet ends once; the only drops are where the scenario puts them, each in
// one counter: h's 1 Gb/s switch port (seven senders at 2.8 Gbit/s: dropped_queue_full) and g's
// slow readers (Udp: RcvbufErrors); each server's Lost is exactly what its client sent and it
// did not read, and the flows that pass neither bottleneck lose nothing.
TEST(Switch, EightHostsUdpAllToAllEveryDatagramReadOrDroppedOnce) {
  Scenario s = resolve("builtin:switch8-udp");
  s.account = true;
  Platform p(s);
  p.run();
  ASSERT_EQ(p.num_hosts(), 8u);
  const auto* a = p.account();
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->complete()) << a->report();
  const auto t = a->totals();
  const std::string kSwitch = "switch.dropped_queue_full", kRcvbuf = "SOCKET_RCVBUFF (Udp.RcvbufErrors)";
  for (const auto& [counter, n] : t.by_counter) {
    EXPECT_TRUE(counter == kSwitch || counter == kRcvbuf) << counter << ": " << n;
  }
  ASSERT_TRUE(t.by_counter.contains(kSwitch)) << a->report();
  ASSERT_TRUE(t.by_counter.contains(kRcvbuf)) << a->report();
  // The account's drops are the counters' own, and only at the two bottlenecks.
  auto& sw = p.eth_switch("sw0");
  uint64_t queue_full = 0, rcvbuf_errors = 0;
  for (unsigned k = 0; k < 8; ++k) {
    queue_full += sw.stats(k).dropped_queue_full;
    if (k != 7) {
      EXPECT_EQ(sw.stats(k).dropped_queue_full, 0u) << "port " << k;
    }
  }
  const std::string names = "abcdefgh";
  for (unsigned h = 0; h < 8; ++h) {
    const uint64_t e = p.driver_host(names.substr(h, 1)).udp().mib().RcvbufErrors;
    rcvbuf_errors += e;
    if (names[h] != 'g') {
      EXPECT_EQ(e, 0u) << names[h];
    }
  }
  EXPECT_EQ(t.by_counter.at(kSwitch), queue_full);
  EXPECT_EQ(t.by_counter.at(kRcvbuf), rcvbuf_errors);
  // Flow by flow: sender x's client k goes to the k-th other host y, whose server for x is its
  // (x < y ? x : x - 1)-th (servers on ports 5001.., its own left out).
  uint64_t sent = 0, read = 0, lost = 0;
  for (unsigned x = 0; x < 8; ++x) {
    const auto& hx = p.driver_host(names.substr(x, 1));
    unsigned k = 0;
    for (unsigned y = 0; y < 8; ++y) {
      if (y == x) continue;
      const stack::UdpSender* cli = hx.udp_sender(k++);
      const stack::UdpReceiver* srv = p.driver_host(names.substr(y, 1)).udp_receiver(x < y ? x : x - 1);
      ASSERT_NE(cli, nullptr);
      ASSERT_NE(srv, nullptr);
      ASSERT_EQ(srv->socket()->num, 5001 + x);
      const auto& c = cli->stats();
      const auto& r = srv->stats();
      EXPECT_EQ(c.datagrams, 300u);
      EXPECT_TRUE(r.finished) << names[x] << "->" << names[y];
      EXPECT_EQ(srv->bad_payloads(), 0u);
      EXPECT_EQ(r.out_of_order, 0u);
      // iperf 2.1.8's server counts the FIN it read as a datagram (Total: its id, 301, or one
      // more for each FIN try lost before it, as the client raises the id each try) and the ids
      // below it not read as Lost: the data datagrams lost and the FINs lost before it.
      EXPECT_GE(r.total(), c.datagrams + 1) << names[x] << "->" << names[y];
      EXPECT_LE(r.total(), c.datagrams + c.fins) << names[x] << "->" << names[y];
      EXPECT_EQ(r.lost, r.total() - 1 - r.datagrams) << names[x] << "->" << names[y];
      if (c.server_report) {
        EXPECT_EQ(c.srv_lost, r.lost);
      }
      if (y != 6 && y != 7) {
        EXPECT_EQ(r.lost, 0u) << names[x] << "->" << names[y];
      }
      sent += c.datagrams;
      read += r.datagrams;
      lost += r.lost - (r.total() - 1 - c.datagrams);  // the data datagrams lost
    }
  }
  EXPECT_EQ(sent, 56u * 300u);
  EXPECT_EQ(read + lost, sent);
  EXPECT_GT(lost, 0u);
  // Data datagrams are most of what was dropped; the rest are FINs and their acks.
  EXPECT_LE(lost, t.dropped);
  EXPECT_GE(t.delivered, read);
  EXPECT_TRUE(p.all_ok());
}

TEST(Switch, ATenGigNicIntoAOneGigPortTailDropsCountedAndConserved) {
  Scenario s = resolve(R"([scenario]
hosts = "direct"
[switch.sw0]
ports = 2
queue_bytes = 65536
port_speed = { b = "1G" }
[host.a]
switch = "sw0"
frames = 3000
min_len = 1514
max_len = 1514
interval_ns = 0
[host.b]
switch = "sw0"
frames = 0
)", {}, "test.toml");
  Platform p(s);
  p.run();
  auto& sw = p.eth_switch("sw0");
  EXPECT_EQ(sw.port(0).rate().gbps_f(), 10.0);
  EXPECT_EQ(sw.port(1).rate().gbps_f(), 1.0);
  const auto& b = sw.stats(1);
  EXPECT_EQ(sw.stats(0).rx_frames, 3000u);
  // 10 Gb/s in, 1 Gb/s out: about nine in ten frames find the 64 KiB queue full.
  EXPECT_GT(b.dropped_queue_full, 2400u);
  EXPECT_LT(b.dropped_queue_full, 2800u);
  EXPECT_EQ(b.tx_frames + b.dropped_queue_full, 3000u);
  EXPECT_EQ(p.delivered(p.port("b")), b.tx_frames);
  EXPECT_LE(b.queue_max_bytes, 65536u);
  for (const PortId port : p.ports()) {
    std::string detail;
    EXPECT_EQ(p.unaccounted(port, &detail), 0) << p.label(port) << ": " << detail;
    EXPECT_TRUE(p.rx_clean(port)) << p.label(port);
  }
  std::string detail;
  EXPECT_EQ(p.switch_unaccounted(0, &detail), 0) << detail;
  EXPECT_NE(detail.find("dropped_queue_full " + std::to_string(b.dropped_queue_full)), std::string::npos) << detail;
  EXPECT_TRUE(p.all_ok());
  EXPECT_NE(p.report().find("switch sw0 port 1 (b, 1 Gb/s): rx_frames 0"), std::string::npos) << p.report();
}

TEST(Switch, PktgensIpv4ModeOnASwitchIsRefused) {
  Scenario s = resolve("builtin:switch8", {"host.c.address=\"10.0.0.3/24\"", "host.c.dst_ip=\"10.0.0.1\""});
  try {
    Platform p(s);
    FAIL() << "built";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("host.c.eth0.dst_ip: a NIC on a switch"), std::string::npos) << e.what();
  }
}

}  // namespace

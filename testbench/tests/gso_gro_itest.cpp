// GSO and GRO as a user of the scenarios sees and switches them: iperf3 over TCP from a to b with
// the devices' offloads as Linux leaves them, with `gro = false` on b, `gso = false` (ethtool -K)
// and `gso_max_segs = 1` (ip link) on a, and what ethtool -S (rx_queue_0_gro_*,
// tx_queue_0_gso_*) and ethtool -k show.
#include <gtest/gtest.h>

#include <systemc>

#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::driver::DrvStat;
using vnic::tb::DriverHost;
using vnic::tb::Platform;
using vnic::tb::Scenario;

constexpr uint64_t kBytes = 2 * 1024 * 1024;

std::string view(const DriverHost& h, const std::string& file) {
  for (const auto& v : h.views(0, {})) {
    if (v.file == file) return v.text;
  }
  return "(no " + file + ")";
}

// What one run left: b's GRO, a's GSO, the TCP MIBs on both ends.
struct Outcome {
  uint64_t received = 0;                               // iperf3 -s's bytes
  uint64_t a_out_segs = 0, a_retrans = 0, b_in_segs = 0;
  uint64_t b_rx_packets = 0, gro_packets = 0, gro_payload = 0, gro_skbs = 0, gro_held = 0, gro_normal = 0;
  uint64_t gso_skbs = 0, gso_segments = 0, gso_failed = 0;
  uint64_t a_xmit = 0, a_gso_skbs_cores = 0;           // dev_queue_xmit calls on a's CPUs, GSO skbs they cut
  uint64_t a_to_driver = 0;                            // packets a's transmit core handed the driver
  std::string a_ethtool_s, b_ethtool_s, a_ethtool_k, b_ethtool_k;
  bool ok = false;
};

Outcome run_iperf3(const std::vector<std::string>& sets, uint64_t bytes = kBytes) {
  std::vector<std::string> all{"host.a.tcp_iperf3_client.bytes=" + std::to_string(bytes)};
  all.insert(all.end(), sets.begin(), sets.end());
  Scenario s = vnic::tb::testing::builtin("tcp-iperf3", all);
  s.account = true;
  Platform pf(s);
  pf.run();
  Outcome r;
  DriverHost& a = pf.driver_host("a");
  DriverHost& b = pf.driver_host("b");
  const auto* srv = b.iperf3_server();
  r.received = srv != nullptr ? srv->result().bytes_received : 0;
  r.a_out_segs = a.tcp().mib().OutSegs;
  r.a_retrans = a.tcp().mib().RetransSegs;
  r.b_in_segs = b.tcp().mib().InSegs;
  const auto& bd = b.driver();
  r.b_rx_packets = bd.stat(DrvStat::rx_queue_0_packets);
  r.gro_packets = bd.stat(DrvStat::rx_queue_0_gro_packets);
  r.gro_payload = bd.stat(DrvStat::rx_queue_0_gro_payload_bytes);
  r.gro_skbs = bd.stat(DrvStat::rx_queue_0_gro_skbs);
  r.gro_held = bd.stat(DrvStat::rx_queue_0_gro_held);
  r.gro_normal = bd.stat(DrvStat::rx_queue_0_gro_normal);
  const auto& ad = a.driver();
  r.gso_skbs = ad.stat(DrvStat::tx_queue_0_gso_skbs);
  r.gso_segments = ad.stat(DrvStat::tx_queue_0_gso_segments);
  r.gso_failed = ad.stat(DrvStat::tx_queue_0_gso_failed);
  for (unsigned c = 0; c < a.net().cpu_count(); ++c) {
    r.a_xmit += a.net().tx(c).stats().xmit;
    r.a_gso_skbs_cores += a.net().tx(c).stats().gso_skbs;
  }
  r.a_to_driver = ad.tx_from_core;
  r.a_ethtool_s = view(a, "ethtool-S.txt");
  r.b_ethtool_s = view(b, "ethtool-S.txt");
  r.a_ethtool_k = view(a, "ethtool-k.txt");
  r.b_ethtool_k = view(b, "ethtool-k.txt");
  r.ok = pf.all_ok() && pf.account()->exact() && pf.account()->totals().in_flight == 0;
  EXPECT_TRUE(pf.account()->exact()) << pf.account()->report();
  return r;
}

std::string line(const char* name, uint64_t v) { return "     " + std::string(name) + ": " + std::to_string(v) + "\n"; }

// The GRO identity: every packet NAPI took went up merged (gro_packets, in gro_skbs skbs), held and
// then sent up alone (gro_held - gro_skbs), or as it came (gro_normal).
void expect_gro_conserves(const Outcome& r) {
  EXPECT_EQ(r.b_rx_packets, r.gro_packets + (r.gro_held - r.gro_skbs) + r.gro_normal);
}

// Defaults (gso and gro on, Linux's): a's GSO skbs cut at the device, b's NAPI merging them
// again, and ethtool -S showing both, its new lines after the driver's others and before the
// device's, in the order named.
TEST(GsoGroScenario, EthtoolSShowsTheCountersMovingOnABulkTransfer) {
  const Outcome r = run_iperf3({});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes);
  ASSERT_EQ(r.a_retrans, 0u);  // the MIB identities below hold for a run without loss
  // a: TCP built GSO skbs, the core cut them; the same count in a's one device and its CPUs'.
  EXPECT_GT(r.gso_skbs, 0u);
  EXPECT_GT(r.gso_segments, 2 * r.gso_skbs);
  EXPECT_EQ(r.gso_failed, 0u);
  EXPECT_EQ(r.gso_skbs, r.a_gso_skbs_cores);
  EXPECT_GT(r.a_to_driver, r.a_xmit);  // more packets reached the driver than skbs dev_queue_xmit took
  EXPECT_EQ(r.a_to_driver - r.a_xmit, r.gso_segments - r.gso_skbs);
  // b: GRO merged most of the data; each merged packet carried at most one MSS (1448 bytes with
  // timestamps), and all but the last of each GRO skb exactly that.
  EXPECT_GT(r.gro_skbs, 0u);
  EXPECT_GT(r.gro_packets, 2 * r.gro_skbs);
  EXPECT_LE(r.gro_payload, 1448 * r.gro_packets);
  EXPECT_GT(r.gro_payload, 1448 * (r.gro_packets - r.gro_skbs));
  EXPECT_GE(r.gro_held, r.gro_skbs);
  expect_gro_conserves(r);
  // b's TCP counts InSegs once per skb (tcp_v4_rcv): a's segments less what GRO merged away.
  EXPECT_EQ(r.b_in_segs, r.a_out_segs - (r.gro_packets - r.gro_skbs));
  EXPECT_LT(r.b_in_segs, r.a_out_segs);
  // ethtool -S: the new lines in order, after resets and before the device's first counter.
  const std::string first_dev(vnic::model::regs::kStatInfo[0].name);
  const std::string b_lines = line("rx_queue_0_gro_packets", r.gro_packets) +
                              line("rx_queue_0_gro_payload_bytes", r.gro_payload) +
                              line("rx_queue_0_gro_skbs", r.gro_skbs) + line("rx_queue_0_gro_held", r.gro_held) +
                              line("rx_queue_0_gro_normal", r.gro_normal);
  const auto at = r.b_ethtool_s.find(b_lines);
  ASSERT_NE(at, std::string::npos) << r.b_ethtool_s;
  EXPECT_EQ(r.b_ethtool_s.rfind("     resets: ", at), r.b_ethtool_s.rfind("\n", at - 2) + 1) << r.b_ethtool_s;
  const std::string a_lines = line("tx_queue_0_gso_skbs", r.gso_skbs) + line("tx_queue_0_gso_segments", r.gso_segments) +
                              line("tx_queue_0_gso_failed", 0) + "     " + first_dev + ": ";
  EXPECT_NE(r.a_ethtool_s.find(a_lines), std::string::npos) << r.a_ethtool_s;
  // ethtool -k: both software offloads on, the device's own off and fixed.
  for (const std::string* k : {&r.a_ethtool_k, &r.b_ethtool_k}) {
    EXPECT_NE(k->find("generic-segmentation-offload: off [requested on]\ngeneric-receive-offload: on\n"),
              std::string::npos)
        << *k;
    EXPECT_NE(k->find("tcp-segmentation-offload: off [fixed]\n"), std::string::npos) << *k;
  }
  EXPECT_EQ(r.a_ethtool_k.rfind("Features for eth0:\n", 0), 0u) << r.a_ethtool_k;
}

// ethtool -K eth0 gro off on b: every packet goes up as it came (GRO_NORMAL), so b's TCP sees
// each of a's segments as its own skb: InSegs equals a's OutSegs. a's GSO is untouched.
TEST(GsoGroScenario, GroOffOnTheReceiverSendsEverySegmentUpAlone) {
  const Outcome r = run_iperf3({"host.b.gro=false"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes);
  ASSERT_EQ(r.a_retrans, 0u);
  EXPECT_EQ(r.gro_skbs, 0u);
  EXPECT_EQ(r.gro_packets, 0u);
  EXPECT_EQ(r.gro_payload, 0u);
  EXPECT_EQ(r.gro_held, 0u);
  EXPECT_EQ(r.gro_normal, r.b_rx_packets);
  expect_gro_conserves(r);
  EXPECT_EQ(r.b_in_segs, r.a_out_segs);
  EXPECT_GT(r.gso_skbs, 0u);  // a's own setting
  EXPECT_NE(r.b_ethtool_s.find(line("rx_queue_0_gro_skbs", 0)), std::string::npos);
  EXPECT_NE(r.b_ethtool_k.find("generic-receive-offload: off\n"), std::string::npos) << r.b_ethtool_k;
  EXPECT_NE(r.a_ethtool_k.find("generic-receive-offload: on\n"), std::string::npos) << r.a_ethtool_k;
}

// ethtool -K gso off on a: Linux 6.1's sk_setup_caps gives TCP GSO whatever the device's
// features say, so TCP still builds GSO skbs and the device cuts them; only ethtool -k changes.
TEST(GsoGroScenario, GsoOffOnTheSenderStillLetsTcpBuildGsoSkbs) {
  const Outcome r = run_iperf3({"host.a.gso=false"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes);
  EXPECT_GT(r.gso_skbs, 0u);
  EXPECT_GE(r.gso_segments, 2 * r.gso_skbs);
  EXPECT_NE(r.a_ethtool_k.find("generic-segmentation-offload: off\n"), std::string::npos) << r.a_ethtool_k;
}

// gso_max_segs 1 on a (ip link set dev eth0 gso_max_segs 1): sk_gso_max_segs 1, so tcp_sendmsg
// builds one-segment skbs and every segment is one packet for dev_queue_xmit and the driver. b
// still merges what arrives. (1 MiB; 2 MiB below, with what the writer's wake needs.)
TEST(GsoGroScenario, GsoMaxSegsOneSendsOneSegmentPerSkb) {
  const Outcome r = run_iperf3({"host.a.gso_max_segs=1"}, kBytes / 2);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes / 2);
  ASSERT_EQ(r.a_retrans, 0u);
  EXPECT_EQ(r.gso_skbs, 0u);
  EXPECT_EQ(r.gso_segments, 0u);
  EXPECT_EQ(r.a_gso_skbs_cores, 0u);
  EXPECT_EQ(r.a_to_driver, r.a_xmit);
  EXPECT_GE(r.a_xmit, r.a_out_segs);  // every segment its own dev_queue_xmit (ARP besides)
  EXPECT_GT(r.gro_skbs, 0u);
  expect_gro_conserves(r);
  EXPECT_EQ(r.b_in_segs, r.a_out_segs - (r.gro_packets - r.gro_skbs));
  EXPECT_NE(r.a_ethtool_s.find(line("tx_queue_0_gso_skbs", 0) + line("tx_queue_0_gso_segments", 0)),
            std::string::npos);
  EXPECT_NE(r.a_ethtool_k.find("generic-segmentation-offload: off [requested on]\n"), std::string::npos)
      << r.a_ethtool_k;
}

// [driver] sets every NIC's offloads, a NIC's own keys win (one Platform a process: SystemC
// elaborates once).
TEST(GsoGroScenario, DriverKeysSetEveryNicAndANicsOwnWin) {
  Scenario s = vnic::tb::testing::builtin("tcp-iperf3", {"driver.gso=false", "driver.gro=false", "host.b.gro=true",
                                                         "driver.gso_max_size=40000", "host.a.gso_max_segs=7"});
  Platform pf(s);
  const auto& a = pf.driver_host("a").driver();
  const auto& b = pf.driver_host("b").driver();
  EXPECT_FALSE(a.gso);
  EXPECT_FALSE(b.gso);
  EXPECT_FALSE(a.gro);
  EXPECT_TRUE(b.gro);
  EXPECT_EQ(a.gso_max_size, 40000u);
  EXPECT_EQ(b.gso_max_size, 40000u);
  EXPECT_EQ(a.gso_max_segs, 7u);
  EXPECT_EQ(b.gso_max_segs, 65535u);
}

// gso_max_segs and gso_max_size bound the GSO skbs TCP builds (sk_setup_caps).
void expect_at_most_per_skb(const std::string& set, uint32_t per_skb) {
  const Outcome r = run_iperf3({set});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes);
  EXPECT_GT(r.gso_skbs, 0u);
  EXPECT_LE(r.gso_segments, uint64_t{per_skb} * r.gso_skbs);
  EXPECT_GE(r.gso_segments, 2 * r.gso_skbs);
}

TEST(GsoGroScenario, GsoMaxSegsBoundsTheGsoSkbs) { expect_at_most_per_skb("host.a.gso_max_segs=4", 4); }

// sk_gso_max_size = 3600 - MAX_TCP_HEADER - 1 = 3279 bytes: two 1448-byte segments.
TEST(GsoGroScenario, GsoMaxSizeBoundsTheGsoSkbs) { expect_at_most_per_skb("host.a.gso_max_size=3600", 2); }

// One-segment skbs (gso_max_segs 1 on a: sk_gso_max_segs 1), iperf3 -n 2 MiB with
// 128 KiB writes: the writer blocks on the full send buffer many times, and each time the ACKs
// that free space wake it (sk_stream_write_space), even while the qdisc holds half the buffer in
// skbs. It used to stop short of 2 MiB, every byte sent acknowledged and the connection open: the
// wake was refused on sk_wmem_alloc (sock_def_write_space's test) after SOCK_NOSPACE was cleared,
// and nothing woke the writer again.
TEST(GsoGroScenario, OneSegmentSkbsTwoMebibytesComplete) {
  const Outcome r = run_iperf3({"host.a.gso_max_segs=1"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.received, kBytes);
  EXPECT_EQ(r.gso_skbs, 0u);
  EXPECT_EQ(r.a_gso_skbs_cores, 0u);
  EXPECT_GE(r.a_xmit, r.a_out_segs);  // one dev_queue_xmit a segment
  EXPECT_GE(r.a_out_segs, kBytes / 1448);
}

}  // namespace

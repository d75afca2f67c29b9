// The host's real kernel as the peer of one of our simulated hosts: a driver host (NIC, driver
// model, protocol stack, ICMP and ping) on one side of an EthLink, a TapPort on the other, the TAP
// in a throw-away network namespace. ARP both ways, `ping -c 50 -i 0.2` both ways at once (the
// kernel's iputils ping and our PingApp), tshark's verdict on the TAP-side capture, and both
// sides' /proc/net/snmp. docs/tap.md, "The kernel as the peer of a simulated host".
// Skips with the reason where TAP devices or namespaces are not available (not root, no
// /dev/net/tun, no `ip netns`). (sc_main is tests/support/sc_gtest_main.cpp.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/netns.hpp"
#include "support/tap_rig.hpp"
#include "support/tshark.hpp"

namespace {

using vnic::model::Duration;
using namespace vnic::tb::test;  // the TAP peer rig and its helpers (tests/support)

constexpr uint32_t kCount = 50;
constexpr int kIntervalMs = 200;

std::string temp_path(const std::string& stem, const std::string& ext) {
  return vnic::tb::test::temp_path("tap_peer", stem, ext);
}

TEST(TapPeer, KernelAndSimulatedHostResolveEachOtherAndPingBothWaysWithoutLoss) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(run_command("command -v ping").ok()) << "ping is missing: install iputils-ping (scripts/install-deps.sh)";
  const bool tshark = vnic::tb::test::have_tshark();
  if (!tshark) {
    ADD_FAILURE() << "tshark is missing: install it (it is in scripts/debian-packages.txt; scripts/install-deps.sh) "
                     "so the TAP-side capture can be dissected";
  }

  // VNIC_TAP_PEER_PCAP names a capture to keep (to look at by hand); else a temporary one.
  const char* keep = std::getenv("VNIC_TAP_PEER_PCAP");
  const std::string pcap_path = keep != nullptr && *keep != '\0' ? std::string(keep) : temp_path("tap", ".pcap");
  const std::string kping_path = temp_path("kernel_ping", ".out");
  TapPeerConfig cfg;
  vnic::stack::PingOptions ping;
  ping.dst = *vnic::stack::Ipv4Addr::parse("10.77.0.1");
  ping.count = kCount;
  ping.interval_ms = kIntervalMs;
  cfg.host.ping = ping;
  cfg.tap.pcap = pcap_path;
  // The bound of the run: both pings need ~10 s; the loop below stops the port once both are done.
  cfg.tap.run_for = Duration::s(20);
  TapPeerRig rig(cfg);
  vnic::tb::DriverHost& host = rig.host;
  vnic::tb::TapPort& port = rig.port;

  // The run, in steps of 10 ms of simulated time (each ~10 ms of wall time: the port paces it).
  // Once our host's NIC is up the kernel's ping starts in the namespace, at the same time as our
  // PingApp; when both have printed their summaries, 50 ms more and the port stops.
  host.bring_up();
  std::unique_ptr<Background> kping;  // not movable: built in place
  uint64_t kping_at_ps = 0;
  uint64_t stop_at_ps = 0;
  const auto wall0 = std::chrono::steady_clock::now();
  while (port.running()) {
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    if (!kping && host.up()) {
      kping = std::make_unique<Background>(
          "ip netns exec " + rig.ns.name() + " ping -n -c " + std::to_string(kCount) + " -i 0.2 10.77.0.2", kping_path);
      kping_at_ps = now_ps();
    }
    if (stop_at_ps == 0 && kping && host.ping() != nullptr && host.ping()->done() &&
        slurp(kping_path).find("packet loss") != std::string::npos) {
      stop_at_ps = now_ps() + 50'000'000'000;
    }
    if (stop_at_ps != 0 && now_ps() >= stop_at_ps) port.stop();
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));  // what is still on the wire
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  port.close_capture();

  ASSERT_NE(kping, nullptr) << "our host's NIC never came up: probe " << host.probe_rc() << ", open "
                                 << host.open_rc();
  const CmdResult kr = kping->wait(std::chrono::seconds(5));
  const vnic::tb::TapPortStats& s = port.stats();
  std::cout << "[ NOTE     ] " << wall_s << " s of wall time for " << now_ps() / 1'000'000'000 << " ms simulated; "
            << "kernel ping started at " << kping_at_ps / 1'000'000'000 << " ms; " << s.polls << " polls, "
            << s.late_polls << " late, max lag " << s.max_lag_ns / 1000 << " us; TAP: " << s.tap_reads
            << " frames from the kernel, " << s.tap_writes << " to it\n";
  EXPECT_TRUE(host.stack_error().empty()) << host.stack_error();

  // ARP both ways: our neighbour table has the kernel's MAC, the kernel's has ours.
  const std::string our_neigh = host.net().ip_neigh();
  EXPECT_NE(our_neigh.find("10.77.0.1 dev eth0 lladdr " + cfg.ns_mac + " "), std::string::npos) << our_neigh;
  const CmdResult kneigh = rig.ns.exec("ip neigh show 10.77.0.2 dev " + rig.ifname);
  EXPECT_TRUE(kneigh.ok()) << kneigh.output;
  EXPECT_NE(kneigh.output.find("lladdr " + cfg.host_mac.str()), std::string::npos) << kneigh.output;

  // The kernel's ping: every request answered by our host, nothing odd about the replies.
  EXPECT_EQ(kr.exit_code, 0) << kr.output;
  EXPECT_NE(kr.output.find("50 packets transmitted, 50 received, 0% packet loss"), std::string::npos) << kr.output;
  for (const char* odd : {"DUP!", "BAD CHECKSUM", "wrong data", "From "}) {
    EXPECT_EQ(kr.output.find(odd), std::string::npos) << odd << " in the kernel's ping output:\n" << kr.output;
  }

  // Our ping: every request answered by the kernel, and iputils' summary.
  ASSERT_NE(host.ping(), nullptr);
  const vnic::stack::PingApp& app = *host.ping();
  const vnic::stack::PingStats& ps = app.stats();
  EXPECT_TRUE(ps.finished);
  EXPECT_EQ(ps.transmitted, kCount);
  EXPECT_EQ(ps.received, kCount);
  EXPECT_EQ(ps.errors + ps.repeats + ps.checksum + ps.send_failures, 0u);
  EXPECT_EQ(ps.exit_code, 0);
  EXPECT_NE(app.output().find("PING 10.77.0.1 (10.77.0.1) 56(84) bytes of data."), std::string::npos)
      << app.output();
  EXPECT_NE(app.output().find("--- 10.77.0.1 ping statistics ---\n50 packets transmitted, 50 received, 0% packet loss"),
            std::string::npos)
      << app.output();
  EXPECT_NE(app.output().find("rtt min/avg/max/mdev = "), std::string::npos) << app.output();

  // Our host's /proc/net/snmp: the kernel's 50 requests answered, 50 replies to ours, no errors.
  const std::string icmp_text = host.icmp().proc_net_snmp_icmp();
  const auto icmp = snmp_row(icmp_text, "Icmp");
  ASSERT_FALSE(icmp.empty()) << icmp_text;
  EXPECT_EQ(icmp.at("InEchos"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("OutEchoReps"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("InEchoReps"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("InErrors"), 0u) << icmp_text;
  EXPECT_EQ(icmp.at("InCsumErrors"), 0u) << icmp_text;
  EXPECT_EQ(icmp.at("InDestUnreachs") + icmp.at("OutDestUnreachs"), 0u) << icmp_text;
  const std::string ip_text = host.net().proc_net_snmp_ip();
  const auto ip = snmp_row(ip_text, "Ip");
  ASSERT_FALSE(ip.empty()) << ip_text;
  EXPECT_EQ(ip.at("InHdrErrors"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InAddrErrors"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InUnknownProtos"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InDiscards"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InDelivers"), 2 * kCount) << ip_text;
  const std::string ipext_text = host.net().netstat_ipext();
  const auto ipext = snmp_row(ipext_text, "IpExt");
  ASSERT_FALSE(ipext.empty()) << ipext_text;
  EXPECT_EQ(ipext.at("InCsumErrors"), 0u) << ipext_text;

  // The kernel's /proc/net/snmp in the namespace: what our host sent it was good IP and ICMP.
  const CmdResult ksnmp = rig.ns.exec("cat /proc/net/snmp");
  ASSERT_TRUE(ksnmp.ok()) << ksnmp.output;
  const auto kicmp = snmp_row(ksnmp.output, "Icmp");
  const auto kip = snmp_row(ksnmp.output, "Ip");
  EXPECT_EQ(kicmp.at("InEchos"), kCount) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InEchoReps"), kCount) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InErrors"), 0u) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InCsumErrors"), 0u) << ksnmp.output;
  EXPECT_EQ(kip.at("InHdrErrors"), 0u) << ksnmp.output;
  EXPECT_EQ(kip.at("InAddrErrors"), 0u) << ksnmp.output;
  EXPECT_EQ(kip.at("InDiscards"), 0u) << ksnmp.output;

  // The port: nothing dropped either way, and the kernel counted what the port wrote and read.
  EXPECT_EQ(s.wire_rx_frames, s.tap_writes);
  EXPECT_EQ(s.tap_reads, s.wire_tx_frames);
  EXPECT_GE(s.tap_writes, 2u * kCount);
  EXPECT_GE(s.tap_reads, 2u * kCount);
  EXPECT_TRUE(port.last_error().empty()) << port.last_error();
  const CmdResult kls = rig.ns.exec("ip -j -s link show dev " + rig.ifname);
  ASSERT_TRUE(kls.ok()) << kls.output;
  const nlohmann::json ks = nlohmann::json::parse(kls.output).at(0).at("stats64");
  EXPECT_EQ(ks.at("rx").at("packets").get<uint64_t>(), s.tap_writes);
  EXPECT_EQ(ks.at("rx").at("bytes").get<uint64_t>(), s.tap_write_bytes);
  EXPECT_EQ(ks.at("tx").at("packets").get<uint64_t>(), s.tap_reads);
  EXPECT_EQ(rig.link.stats(0).tx_overlap_errors + rig.link.stats(1).tx_overlap_errors, 0u);

  // The TAP-side capture: tshark finds no malformed frame and no bad IP or ICMP checksum, and
  // verifies both checksums of all 200 ICMP messages (4 per round: two requests, two replies).
  ASSERT_EQ(port.captured(), s.tap_reads + s.tap_writes);
  if (tshark) {
    std::string err;
    const auto flagged = vnic::tb::test::tshark_flagged(pcap_path, &err);
    ASSERT_TRUE(flagged.has_value()) << err;
    EXPECT_TRUE(flagged->empty()) << "tshark flags " << flagged->size() << " frame(s) in " << pcap_path;
    EXPECT_EQ(vnic::tb::test::tshark_count(
                  pcap_path, "icmp && icmp.checksum.status == \"Good\" && ip.checksum.status == \"Good\""),
              static_cast<int>(4 * kCount))
        << pcap_path;
    EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "icmp"), static_cast<int>(4 * kCount)) << pcap_path;
    EXPECT_GE(vnic::tb::test::tshark_count(pcap_path, "arp.opcode == 1"), 1) << pcap_path;
    EXPECT_GE(vnic::tb::test::tshark_count(pcap_path, "arp.opcode == 2"), 1) << pcap_path;
  }
  if (!HasFailure() && keep == nullptr) ::unlink(pcap_path.c_str());
}

}  // namespace

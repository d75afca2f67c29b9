// IPv4 fragmentation and reassembly against the host's real kernel: the TapPeerRig (one of our
// driver hosts on an EthLink whose other side is a TapPort, the TAP in a throw-away namespace)
// and a 4000-byte ping both ways at once — the kernel's iputils `ping -s 4000` to our host and our
// PingApp with size 4000 to the kernel. Each 4028-byte datagram goes out in three fragments at
// MTU 1500 (ip_do_fragment, egress step 9) and is put back together by the other side (ip_defrag):
// both sides' /proc/net/snmp Reasm*/Frag* rows, both pings' replies, and tshark's reading of the
// TAP-side capture (every fragment, every reassembly, nothing malformed).
// docs/tap.md, "Fragments: a 4000-byte ping both ways". Skips with the reason where TAP devices or
// namespaces are not available. (sc_main is tests/support/sc_gtest_main.cpp.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/netns.hpp"
#include "support/tap_rig.hpp"
#include "support/tshark.hpp"

namespace {

using vnic::model::Duration;
using namespace vnic::tb::test;  // the TAP peer rig and its helpers (tests/support)

constexpr uint32_t kCount = 5;
constexpr int kIntervalMs = 200;
constexpr uint32_t kSize = 4000;            // ping -s: ICMP data after the 8-byte header
constexpr uint32_t kIcmpLen = kSize + 8;    // 4008: "4008 bytes from ..."
constexpr uint32_t kDatagram = kIcmpLen + 20;  // 4028: three fragments at MTU 1500
constexpr uint64_t kFrags = 3;             // 1480 + 1480 + 1048 bytes of ICMP
// Datagrams fragmented by each side, and reassembled by each side: its echo requests and its
// echo replies (to the other side's requests).
constexpr uint64_t kDatagramsEachWay = 2 * kCount;

std::string temp_path(const std::string& stem, const std::string& ext) {
  return vnic::tb::test::temp_path("tap_frag", stem, ext);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string f;
  while (std::getline(in, f, '\t')) out.push_back(f);
  return out;
}

TEST(TapFrag, FourThousandBytePingBothWaysIsFragmentedAndReassembledByUsAndByTheKernel) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  if (!run_command("command -v ping").ok()) GTEST_SKIP() << "ping is missing: install iputils-ping";
  if (!vnic::tb::test::have_tshark()) {
    GTEST_SKIP() << "tshark is missing: install it (scripts/debian-packages.txt) so the fragments on the "
                    "TAP side can be dissected";
  }

  // VNIC_TAP_FRAG_PCAP names a capture to keep (to look at by hand); else a temporary one.
  const char* keep = std::getenv("VNIC_TAP_FRAG_PCAP");
  const std::string pcap_path = keep != nullptr && *keep != '\0' ? std::string(keep) : temp_path("tap", ".pcap");
  const std::string kping_path = temp_path("kernel_ping", ".out");
  TapPeerConfig cfg;
  vnic::stack::PingOptions ping;
  ping.dst = *vnic::stack::Ipv4Addr::parse("10.77.0.1");
  ping.count = kCount;
  ping.interval_ms = kIntervalMs;
  ping.size = kSize;
  cfg.host.ping = ping;
  cfg.tap.pcap = pcap_path;
  cfg.tap.run_for = Duration::s(10);  // the bound: both pings need ~1 s
  TapPeerRig rig(cfg);
  vnic::tb::DriverHost& host = rig.host;
  vnic::tb::TapPort& port = rig.port;

  // As the TapPeer test: 10 ms steps of simulated time (paced to the wall clock by the port); the
  // kernel's ping starts once our NIC is up, with our PingApp; 50 ms after both summaries, stop.
  host.bring_up();
  std::unique_ptr<Background> kping;
  uint64_t stop_at_ps = 0;
  const auto wall0 = std::chrono::steady_clock::now();
  while (port.running()) {
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    if (!kping && host.up()) {
      kping = std::make_unique<Background>("ip netns exec " + rig.ns.name() + " ping -n -c " +
                                               std::to_string(kCount) + " -i 0.2 -s " + std::to_string(kSize) +
                                               " 10.77.0.2",
                                           kping_path);
    }
    if (stop_at_ps == 0 && kping && host.ping() != nullptr && host.ping()->done() &&
        slurp(kping_path).find("packet loss") != std::string::npos) {
      stop_at_ps = now_ps() + 50'000'000'000;
    }
    if (stop_at_ps != 0 && now_ps() >= stop_at_ps) port.stop();
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));  // what is still on the wire
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  port.close_capture();

  ASSERT_NE(kping, nullptr) << "our host's NIC never came up: probe " << host.probe_rc() << ", open "
                                << host.open_rc();
  const CmdResult kr = kping->wait(std::chrono::seconds(5));
  const vnic::tb::TapPortStats& s = port.stats();
  std::cout << "[ NOTE     ] " << wall_s << " s of wall time for " << now_ps() / 1'000'000'000 << " ms simulated; "
            << s.polls << " polls, " << s.late_polls << " late, max lag " << s.max_lag_ns / 1000
            << " us; TAP: " << s.tap_reads << " frames from the kernel, " << s.tap_writes << " to it\n";
  EXPECT_TRUE(host.stack_error().empty()) << host.stack_error();

  // The kernel's ping: each 4028-byte request reassembled by us, each of our fragmented 4028-byte
  // replies reassembled by the kernel and reported with its ICMP size.
  const std::string n = std::to_string(kCount);
  const std::string sizes = std::to_string(kSize) + "(" + std::to_string(kDatagram) + ")";  // 4000(4028)
  EXPECT_EQ(kr.exit_code, 0) << kr.output;
  EXPECT_NE(kr.output.find("PING 10.77.0.2 (10.77.0.2) " + sizes + " bytes of data."), std::string::npos) << kr.output;
  EXPECT_EQ(occurrences(kr.output, std::to_string(kIcmpLen) + " bytes from 10.77.0.2: icmp_seq="), kCount) << kr.output;
  EXPECT_NE(kr.output.find(n + " packets transmitted, " + n + " received, 0% packet loss"), std::string::npos)
      << kr.output;
  for (const char* odd : {"DUP!", "BAD CHECKSUM", "wrong data", "truncated", "From "}) {
    EXPECT_EQ(kr.output.find(odd), std::string::npos) << odd << " in the kernel's ping output:\n" << kr.output;
  }

  // Our ping: the kernel reassembled each request, we reassembled each of its replies.
  ASSERT_NE(host.ping(), nullptr);
  const vnic::stack::PingApp& app = *host.ping();
  const vnic::stack::PingStats& ps = app.stats();
  EXPECT_TRUE(ps.finished);
  EXPECT_EQ(ps.transmitted, kCount);
  EXPECT_EQ(ps.received, ps.transmitted);
  EXPECT_EQ(ps.errors + ps.repeats + ps.checksum + ps.send_failures, 0u);
  EXPECT_EQ(ps.exit_code, 0);
  EXPECT_NE(app.output().find("PING 10.77.0.1 (10.77.0.1) " + sizes + " bytes of data."), std::string::npos)
      << app.output();
  EXPECT_EQ(occurrences(app.output(), std::to_string(kIcmpLen) + " bytes from 10.77.0.1: icmp_seq="), kCount)
      << app.output();

  // Our host's /proc/net/snmp: 3 fragments in for each of the 10 datagrams (5 requests, 5
  // replies) and each reassembled; 10 datagrams out, each cut into 3.
  const std::string ip_text = host.net().proc_net_snmp_ip();
  const auto ip = snmp_row(ip_text, "Ip");
  ASSERT_FALSE(ip.empty()) << ip_text;
  std::cout << "[ NOTE     ] our host's Ip: ReasmReqds " << ip.at("ReasmReqds") << ", ReasmOKs " << ip.at("ReasmOKs")
            << ", ReasmFails " << ip.at("ReasmFails") << ", FragOKs " << ip.at("FragOKs") << ", FragCreates "
            << ip.at("FragCreates") << ", FragFails " << ip.at("FragFails") << "\n";
  EXPECT_EQ(ip.at("ReasmReqds"), kFrags * kDatagramsEachWay) << ip_text;
  EXPECT_EQ(ip.at("ReasmOKs"), kDatagramsEachWay) << ip_text;
  EXPECT_EQ(ip.at("ReasmFails"), 0u) << ip_text;
  EXPECT_EQ(ip.at("ReasmTimeout"), 0u) << ip_text;
  EXPECT_EQ(ip.at("FragOKs"), kDatagramsEachWay) << ip_text;
  EXPECT_EQ(ip.at("FragCreates"), kFrags * kDatagramsEachWay) << ip_text;
  EXPECT_EQ(ip.at("FragFails"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InHdrErrors") + ip.at("InAddrErrors") + ip.at("InDiscards") + ip.at("OutDiscards"), 0u) << ip_text;
  EXPECT_EQ(ip.at("InDelivers"), kDatagramsEachWay) << ip_text;
  const std::string icmp_text = host.icmp().proc_net_snmp_icmp();
  const auto icmp = snmp_row(icmp_text, "Icmp");
  ASSERT_FALSE(icmp.empty()) << icmp_text;
  EXPECT_EQ(icmp.at("InEchos"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("OutEchoReps"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("InEchoReps"), kCount) << icmp_text;
  EXPECT_EQ(icmp.at("InErrors") + icmp.at("InCsumErrors") + icmp.at("OutTimeExcds"), 0u) << icmp_text;

  // The kernel's /proc/net/snmp in the namespace: the same figures by its own count.
  const CmdResult ksnmp = rig.ns.exec("cat /proc/net/snmp");
  ASSERT_TRUE(ksnmp.ok()) << ksnmp.output;
  const auto kip = snmp_row(ksnmp.output, "Ip");
  const auto kicmp = snmp_row(ksnmp.output, "Icmp");
  std::cout << "[ NOTE     ] kernel's Ip: ReasmReqds " << kip.at("ReasmReqds") << ", ReasmOKs " << kip.at("ReasmOKs")
            << ", ReasmFails " << kip.at("ReasmFails") << ", FragOKs " << kip.at("FragOKs") << ", FragCreates "
            << kip.at("FragCreates") << ", FragFails " << kip.at("FragFails") << "\n";
  EXPECT_EQ(kip.at("ReasmReqds"), kFrags * kDatagramsEachWay) << ksnmp.output;
  EXPECT_EQ(kip.at("ReasmOKs"), kDatagramsEachWay) << ksnmp.output;
  EXPECT_EQ(kip.at("ReasmFails"), 0u) << ksnmp.output;
  EXPECT_EQ(kip.at("ReasmTimeout"), 0u) << ksnmp.output;
  EXPECT_EQ(kip.at("FragOKs"), kDatagramsEachWay) << ksnmp.output;
  EXPECT_EQ(kip.at("FragCreates"), kFrags * kDatagramsEachWay) << ksnmp.output;
  EXPECT_EQ(kip.at("InHdrErrors") + kip.at("InAddrErrors") + kip.at("InDiscards"), 0u) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InEchos"), kCount) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InEchoReps"), kCount) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InErrors") + kicmp.at("InCsumErrors"), 0u) << ksnmp.output;

  // The port: nothing dropped (no fragment over max_frame 1514), the kernel counted the same.
  EXPECT_EQ(s.wire_rx_frames, s.tap_writes);
  EXPECT_EQ(s.tap_reads, s.wire_tx_frames);
  EXPECT_EQ(s.wire_rx_oversize + s.tap_oversize + s.fcs_errors + s.write_errors, 0u);
  EXPECT_TRUE(port.last_error().empty()) << port.last_error();

  // The TAP-side capture, as tshark reads it (its IPv4 reassembly on, checksums checked).
  ASSERT_EQ(port.captured(), s.tap_reads + s.tap_writes);
  std::string err;
  const auto flagged = vnic::tb::test::tshark_flagged(pcap_path, &err);
  ASSERT_TRUE(flagged.has_value()) << err;
  EXPECT_TRUE(flagged->empty()) << "tshark flags " << flagged->size() << " frame(s) in " << pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "ip.fragment.error || ip.fragment.overlap || "
                                                    "ip.fragment.multipletails || ip.fragment.toolongfragment"),
            0)
      << pcap_path;
  // Every fragment: 4 kinds of datagram (requests and replies each way) x kCount x 3.
  const int frags = static_cast<int>(kFrags * 2 * kDatagramsEachWay);
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "ip.flags.mf == 1 || ip.frag_offset > 0"), frags) << pcap_path;
  // Every datagram reassembled by tshark from 3 fragments into a 4008-byte ICMP message with a
  // good checksum (the ICMP layer is dissected in the frame that completes the datagram).
  const int datagrams = static_cast<int>(2 * kDatagramsEachWay);
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "ip.fragment.count == 3 && ip.reassembled.length == " +
                                                        std::to_string(kIcmpLen)),
            datagrams)
      << pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "icmp && icmp.checksum.status == \"Good\""), datagrams)
      << pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "icmp.type == 8 && ip.src == 10.77.0.2"),
            static_cast<int>(kCount))
      << pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path, "icmp.type == 0 && ip.src == 10.77.0.2"),
            static_cast<int>(kCount))
      << pcap_path;

  // Each datagram's fragments as the wire shows them, per sender and IP id: offsets 0, 1480 and
  // 2960 bytes (tshark prints the field, in 8-byte units: 0, 185, 370), IP total lengths 1500,
  // 1500, 1068, MF on all but the last, no DF, header checksum good (ip.checksum.status 1).
  const auto rows = vnic::tb::test::tshark_fields(
      pcap_path, "ip.flags.mf == 1 || ip.frag_offset > 0",
      {"ip.src", "ip.id", "ip.frag_offset", "ip.len", "ip.flags.mf", "ip.flags.df", "ip.checksum.status"}, &err);
  ASSERT_TRUE(rows.has_value()) << err;
  std::map<std::pair<std::string, std::string>, std::vector<std::vector<std::string>>> by_datagram;
  for (const std::string& r : *rows) {
    const auto f = split_tabs(r);
    ASSERT_EQ(f.size(), 7u) << r;
    by_datagram[{f[0], f[1]}].push_back(f);
  }
  EXPECT_EQ(by_datagram.size(), static_cast<std::size_t>(datagrams));
  std::string seen;  // one datagram's fragments, for the note
  for (const auto& [key, fr] : by_datagram) {
    ASSERT_EQ(fr.size(), kFrags) << key.first << " id " << key.second;
    std::string shape;
    for (const auto& f : fr) {
      shape += "[off " + f[2] + " len " + f[3] + " mf " + f[4] + " df " + f[5] + " " + f[6] + "]";
    }
    if (seen.empty() || key.first == "10.77.0.2") seen = key.first + " id " + key.second + ": " + shape;
    EXPECT_EQ(shape,
              "[off 0 len 1500 mf 1 df 0 1][off 185 len 1500 mf 1 df 0 1][off 370 len 1068 mf 0 df 0 1]")
        << key.first << " id " << key.second;
  }
  std::cout << "[ NOTE     ] tshark: " << rows->size() << " fragments of " << by_datagram.size()
            << " datagrams; e.g. " << seen << "\n";
  if (!HasFailure() && keep == nullptr) ::unlink(pcap_path.c_str());
}

}  // namespace

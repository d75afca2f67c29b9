// End-to-end tests of the vnic binary: determinism, scenario errors and flag errors, the report
// folder, the built-in scenarios.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Result {
  int status = -1;
  std::string out;
};

// Runs `vnic <args>` (stdout captured, stderr to the given file or discarded).
Result vnic(const std::string& args, const std::string& err_file = "/dev/null") {
  const std::string cmd = std::string(VNIC_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  r.status = ::pclose(p);
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tmp(const std::string& stem) {
  return std::string(::testing::TempDir()) + stem + std::to_string(::getpid());
}

TEST(Cli, SameScenarioAndSeedGiveByteIdenticalOutputAndPcap) {
  const std::string p1 = tmp("vnic_det1_") + ".pcap", p2 = tmp("vnic_det2_") + ".pcap";
  const Result a = vnic("run --frames 3000 --seed 5 --pcap " + p1);
  const Result b = vnic("run --frames 3000 --seed 5 --pcap " + p2);
  ASSERT_EQ(a.status, 0) << a.out;
  ASSERT_EQ(b.status, 0);
  EXPECT_EQ(a.out, b.out);
  const std::string c1 = slurp(p1), c2 = slurp(p2);
  EXPECT_GT(c1.size(), 3000u * 60);
  EXPECT_TRUE(c1 == c2);
  // Another seed gives other traffic (other frame sizes), so other bytes on the wire.
  const std::string p3 = tmp("vnic_det3_") + ".pcap";
  ASSERT_EQ(vnic("run --frames 3000 --seed 6 --pcap " + p3).status, 0);
  EXPECT_FALSE(slurp(p3) == c1);
  for (const auto& p : {p1, p2, p3}) std::remove(p.c_str());
}

TEST(Cli, TheEventQueueQuantumDoesNotChangeResults) {
  const Result a = vnic("run --frames 3000 --quantum-ns 0 --no-timing");
  const Result b = vnic("run --frames 3000 --quantum-ns 50000 --no-timing");
  ASSERT_EQ(a.status, 0);
  EXPECT_EQ(a.out, b.out);
}

TEST(Cli, RtlRingDeliversIdenticalBytesAndCounters) {
  const std::string p1 = tmp("vnic_ring_model_") + ".pcap", p2 = tmp("vnic_ring_rtl_") + ".pcap";
  const Result a = vnic("run --frames 20000 --no-timing --pcap " + p1);
  const Result b = vnic("run --frames 20000 --no-timing --ring rtl --pcap " + p2);
  ASSERT_EQ(a.status, 0) << a.out;
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_TRUE(slurp(p1) == slurp(p2));
  EXPECT_GT(slurp(p1).size(), 20000u * 60);
  for (const auto& p : {p1, p2}) std::remove(p.c_str());
}

TEST(Cli, BrokenRtlRingFailsTheTrafficCheck) {
  const Result r = vnic("run --frames 20000 --no-timing --ring rtl-broken");
  EXPECT_EQ(r.status >> 8, 1) << r.out;
}

TEST(Cli, RtlRingAtAnotherDepthIsRefusedClearly) {
  const std::string path = tmp("vnic_rtl_depth_") + ".toml";
  std::ofstream(path) << "[nic]\nring = \"rtl\"\ndesc_cache_depth = 32\n";
  const std::string errf = tmp("vnic_rtl_err_");
  const Result r = vnic("run -s " + path, errf);
  EXPECT_EQ(r.status >> 8, 2);
  EXPECT_NE(slurp(errf).find("depth 64"), std::string::npos) << slurp(errf);
  std::remove(path.c_str());
  std::remove(errf.c_str());
}

TEST(Cli, TraceFollowsAFrameAcrossTheWireAndIsDeterministic) {
  const std::string j1 = tmp("vnic_trace1_") + ".json", j2 = tmp("vnic_trace2_") + ".json";
  const std::string txt = tmp("vnic_trace_") + ".txt";
  ASSERT_EQ(vnic("run --frames 200 --no-timing --trace " + j1).status, 0);
  ASSERT_EQ(vnic("run --frames 200 --no-timing --trace " + j2).status, 0);
  ASSERT_EQ(vnic("run --frames 200 --no-timing --trace " + txt).status, 0);
  const std::string a = slurp(j1);
  EXPECT_EQ(a, slurp(j2));
  EXPECT_EQ(a.rfind("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 0), 0u);
  EXPECT_NE(a.find("\"dropped_over_limit\":0}}"), std::string::npos);
  // Packet 1 of host a: made, mapped, on the ring, launched, on the wire, arrived at nic_b,
  // DMAed, completed, polled, handed to the stack and consumed; its TX completion cleaned.
  for (const char* kind : {"packet.made", "tx.map", "tx.ring", "tx.launch", "tx.wire", "rx.arrive", "rx.accept",
                           "rx.dma", "rx.complete", "irq", "hardirq", "napi_schedule", "softirq.raise", "rx.poll",
                           "skb.alloc", "eth_type_trans", "netif_receive_skb", "consumed", "tx.done", "tx.clean"}) {
    EXPECT_NE(a.find(std::string("\"name\":\"") + kind + "\""), std::string::npos) << kind;
  }
  // Flow events join a packet's slices; counter tracks carry ring levels and interrupt rates.
  EXPECT_NE(a.find("\"bind_id\":\"0x1\""), std::string::npos);
  EXPECT_NE(a.find("\"name\":\"ring qp0.tx\""), std::string::npos);
  EXPECT_NE(a.find("\"ph\":\"C\""), std::string::npos);
  const std::string t = slurp(txt);
  EXPECT_NE(t.find("nic_b    qp0.rx rx.arrive          ingress:1  packet=1 "), std::string::npos) << t.substr(0, 400);
  EXPECT_NE(t.find("host_b   cpu0   consumed           -          packet=1 "), std::string::npos) << t.substr(0, 400);
  // A limit caps the file and says how many events it left out.
  ASSERT_EQ(vnic("run --frames 200 --no-timing --trace-limit 10 --trace " + j1).status, 0);
  EXPECT_EQ(slurp(j1).find("\"dropped_over_limit\":0}"), std::string::npos);
  for (const auto& p : {j1, j2, txt}) std::remove(p.c_str());
}

TEST(Cli, DefaultRunPrintsEthtoolStatsForBothNics) {
  const Result r = vnic("run --frames 500");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("[host a]$ ethtool -S eth0"), std::string::npos);
  EXPECT_NE(r.out.find("[host b]$ ethtool -S eth0"), std::string::npos);
  // Each NIC receives 506 frames: the other host's 500 pattern frames + the stack's 6 (the
  // default's ping -c 5 from a: b gets 1 ARP request + 5 echo requests, a 1 ARP reply + 5 echo
  // replies); softnet's processed counts them all (0x1fa = 506).
  EXPECT_NE(r.out.find("     rx_queue_0_packets: 506\n"), std::string::npos);
  EXPECT_NE(r.out.find("     rx_packets: 506\n"), std::string::npos);
  EXPECT_NE(r.out.find("[host a]$ cat /proc/net/softnet_stat\n000001fa 00000000 00000000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[host b]$ cat /proc/net/softnet_stat\n000001fa 00000000 00000000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Link is Up - 10000Mbps/Full"), std::string::npos);
  EXPECT_NE(r.out.find("[ok]"), std::string::npos);
  EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos);
}

TEST(Cli, DirectHostsRunTheDeviceAlone) {
  const Result r = vnic("run --frames 300 --hosts direct --no-timing");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("$ ethtool -S eth_a"), std::string::npos);
  EXPECT_EQ(r.out.find("softnet_stat"), std::string::npos);
  EXPECT_NE(r.out.find("[ok]"), std::string::npos);
  EXPECT_NE(vnic("run --hosts kernel").status, 0);
}

TEST(Cli, BadScenarioFilesGetAClearErrorAndExitCode2) {
  const std::string path = tmp("vnic_bad_") + ".toml";
  const std::pair<const char*, const char*> cases[] = {
      {"[link]\nspeed = \"7G\"\n", "link.speed"},
      {"[host.a]\ntx = 1000\n", "host.a.tx"},
      {"[host.a]\nmac = \"zz:00\"\n", "host.a.mac"},
      {"[host.a]\nbogus = 1\n", "host.a.bogus"},
      {"[pcie]\nmps = 300\n", "pcie.mps"},
      {"[link]\nber = -1.0\n", "link.ber"},
      {"this is not toml", "1:"},
  };
  for (const auto& [text, key] : cases) {
    std::ofstream(path) << text;
    const std::string errf = tmp("vnic_err_");
    const Result r = vnic("run -s " + path, errf);
    EXPECT_EQ(r.status >> 8, 2) << text;
    EXPECT_NE(slurp(errf).find(key), std::string::npos) << slurp(errf);
    std::remove(errf.c_str());
  }
  std::remove(path.c_str());
}

TEST(Cli, UnwritableOutputFilesAreAClearError) {
  const std::string errf = tmp("vnic_out_err_");
  EXPECT_EQ(vnic("run --frames 10 --pcap /nonexistent-dir/x.pcap", errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("/nonexistent-dir/x.pcap"), std::string::npos) << slurp(errf);
  EXPECT_EQ(vnic("run --frames 10 --trace /nonexistent-dir/t.json", errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("/nonexistent-dir/t.json"), std::string::npos) << slurp(errf);
  std::remove(errf.c_str());
}

TEST(Cli, BadFlagsAreRefused) {
  for (const char* args : {"run --frames -3", "run --no-such-flag", "run -s /nonexistent/file.toml", "",
                           "run --progress sometimes", "sweep --out x", "plot"}) {
    EXPECT_EQ(vnic(args).status >> 8, 2) << args;
  }
  EXPECT_EQ(vnic("run --help").status, 0);
  // Bad flags are bad input: exit status 2, as the README says, whatever the parser's own code.
  EXPECT_EQ(WEXITSTATUS(vnic("run --frames -3").status), 2);
  EXPECT_EQ(WEXITSTATUS(vnic("run --no-such-flag").status), 2);
  EXPECT_EQ(WEXITSTATUS(vnic("--help").status), 0);
}

TEST(Cli, AScenarioFileIsReadOverTheDefault) {
  const std::string path = tmp("vnic_one_key_") + ".toml";
  std::ofstream(path) << "[host.a]\nrx-usecs = 20\n";
  const Result r = vnic("run --no-timing -s " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  // The default's traffic still runs; only host a's rx-usecs changed.
  // 20006 = the default's 20000 pattern frames + the stack's 1 ARP request + 5 echo requests
  // (ping -c 5 from a); b->a carries 1 ARP reply + 5 echo replies beside its 20000.
  EXPECT_NE(r.out.find("conservation a->b: sent 20006 = delivered 20006"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conservation b->a: sent 20006 = delivered 20006"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[host a]$ ethtool -c eth0\nCoalesce parameters for eth0:\nAdaptive RX: off  TX: off\nrx-usecs: 20\n"), std::string::npos);
  EXPECT_NE(r.out.find("[host b]$ ethtool -c eth0\nCoalesce parameters for eth0:\nAdaptive RX: off  TX: off\nrx-usecs: 8\n"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Cli, ARunWhereNoHostSendsSaysSo) {
  const std::string errf = tmp("vnic_nosend_err_");
  const Result r =
      vnic("run --no-timing --set host.a.frames=0 --set host.b.frames=0 --set host.a.ping.enabled=false", errf);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(slurp(errf).find("no host sends anything"), std::string::npos) << slurp(errf);
  // The default's ping still sends: no note.
  vnic("run --no-timing --set host.a.frames=0 --set host.b.frames=0", errf);
  EXPECT_EQ(slurp(errf).find("no host sends anything"), std::string::npos) << slurp(errf);
  vnic("run --no-timing --frames 10", errf);
  EXPECT_EQ(slurp(errf).find("no host sends anything"), std::string::npos) << slurp(errf);
  std::remove(errf.c_str());
}

TEST(Cli, TheReportComesBeforeTheTimingLineOnOneTerminal) {
  const Result r = vnic("run --frames 100", "&1");  // stderr into the same pipe as stdout
  ASSERT_EQ(r.status, 0);
  const auto link = r.out.find("link b->a:");
  const auto timing = r.out.find("ring model, hosts driver: wall");
  ASSERT_NE(timing, std::string::npos) << r.out;
  EXPECT_LT(link, timing);
}

TEST(Cli, SetChangesAnyKeyAndIsCheckedLikeTheFile) {
  const Result r = vnic("run --no-timing --frames 300 --set host.b.rx-usecs=50 --set link.speed=25G");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("[host b]$ ethtool -c eth0\nCoalesce parameters for eth0:\nAdaptive RX: off  TX: off\nrx-usecs: 50\n"), std::string::npos);
  EXPECT_NE(r.out.find("link: 25 Gb/s"), std::string::npos);
  const std::pair<const char*, const char*> bad[] = {
      {"--set host.b.rx-usecs=abc", "host.b.rx-usecs: expected an integer"},
      {"--set host.b.bogus=1", "host.b.bogus: unknown key"},
      {"--set nokey", "expected KEY=VALUE"},
      {"--set link.speed=7G", "link.speed"},
      {"-s builtin:nope", "builtin:nope"},
  };
  const std::string errf = tmp("vnic_set_err_");
  for (const auto& [args, msg] : bad) {
    const Result b = vnic(std::string("run ") + args, errf);
    EXPECT_EQ(b.status >> 8, 2) << args;
    EXPECT_TRUE(b.out.empty()) << args;
    EXPECT_NE(slurp(errf).find(msg), std::string::npos) << args << ": " << slurp(errf);
    EXPECT_EQ(vnic(std::string("show ") + args, errf).status >> 8, 2) << args;
  }
  std::remove(errf.c_str());
}

TEST(Cli, ShowPrintsTheResolvedScenarioWhichReadsBackTheSame) {
  const Result r = vnic("show -s builtin:moderation --set host.b.rx-usecs=64 --seed 9");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("name = 'moderation'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rx-usecs = 64"), std::string::npos);
  EXPECT_NE(r.out.find("seed = 9"), std::string::npos);
  EXPECT_NE(r.out.find("netdev_budget = 300"), std::string::npos);  // from the default
  const std::string path = tmp("vnic_show_") + ".toml";
  std::ofstream(path) << r.out;
  EXPECT_EQ(vnic("show -s " + path).out, r.out);
  std::remove(path.c_str());
}

TEST(Cli, ListNamesEveryBuiltinWithASentence) {
  const Result r = vnic("list");
  ASSERT_EQ(r.status, 0);
  for (const char* name : {"line-rate", "moderation", "ring-overflow", "bad-fcs", "backlog-overflow", "three-hosts",
                           "router", "bufferbloat", "switch8", "switch8-udp", "udp-iperf", "udp-slow-reader", "udp-rr",
                           "tcp-iperf3", "tcp-rr", "tcp-crr", "tcp-bufferbloat"}) {
    EXPECT_NE(r.out.find(std::string(name) + " "), std::string::npos) << name;
  }
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 17);
}

namespace fs = std::filesystem;
using Json = nlohmann::json;

Json summary(const std::string& dir) { return Json::parse(slurp(dir + "/summary.json")); }

// Every file under `dir`, by relative path.
std::map<std::string, std::string> folder(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path().string());
  }
  return files;
}

// The text of the report between "[host X]$ COMMAND\n" and the next prompt.
std::string report_section(const std::string& report, const std::string& prompt) {
  const auto at = report.find(prompt);
  if (at == std::string::npos) return "";
  const auto from = at + prompt.size();
  return report.substr(from, report.find("[host ", from) - from);
}

TEST(CliOut, TheFolderHoldsAFilePerHostAndViewAndASummary) {
  const std::string dir = tmp("vnic_out_");
  fs::remove_all(dir);
  const Result r = vnic("run --no-timing --frames 500 --seed 3 --out " + dir);
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(slurp(dir + "/report.txt"), r.out);
  for (const char* h : {"host-a", "host-b"}) {
    for (const char* f : {"ethtool.txt", "ethtool-c.txt", "ethtool-g.txt", "ethtool-S.txt", "byte_queue_limits.txt",
                          "softnet_stat", "cpu.txt", "pktgen.txt", "rx_checker.txt", "dmesg.txt", "conservation.txt",
                          // the protocol stack's views
                          "ip-s-link.txt", "ip-addr.txt", "ip-route.txt", "ip-neigh.txt", "tc-s-qdisc.txt", "snmp",
                          "icmp-ratelimit.txt"}) {
      EXPECT_GT(fs::file_size(dir + "/" + h + "/" + f), 10u) << h << "/" << f;
    }
  }
  // Host a runs the default's ping; host b pings nobody.
  EXPECT_NE(slurp(dir + "/host-a/ping.txt").find("5 packets transmitted, 5 received, 0% packet loss"), std::string::npos)
      << slurp(dir + "/host-a/ping.txt");
  EXPECT_FALSE(fs::exists(dir + "/host-b/ping.txt"));
  // Each file is its section of the report, as the command prints it.
  EXPECT_EQ(slurp(dir + "/host-b/ethtool-S.txt"), report_section(r.out, "[host b]$ ethtool -S eth0\n"));
  EXPECT_EQ(slurp(dir + "/host-a/softnet_stat"), report_section(r.out, "[host a]$ cat /proc/net/softnet_stat\n")
                                                     .substr(0, slurp(dir + "/host-a/softnet_stat").size()));
  // 0x1fa = 506: host b's 500 pattern frames + 1 ARP reply + 5 echo replies to a's ping.
  EXPECT_EQ(slurp(dir + "/host-a/softnet_stat").rfind("000001fa 00000000 00000000 ", 0), 0u);
  EXPECT_NE(slurp(dir + "/host-a/ethtool-c.txt").find("rx-usecs: 8\n"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/scenario.toml"), vnic("show --frames 500 --seed 3").out);
  const Json j = summary(dir);
  // The version is the project's.
  const std::string cmake = slurp(std::string(VNIC_SOURCE_DIR) + "/CMakeLists.txt");
  EXPECT_NE(cmake.find("project(vnic VERSION " + j["vnic_version"].get<std::string>() + " "), std::string::npos);
  EXPECT_EQ(j["scenario"]["seed"], 3);
  EXPECT_EQ(j["scenario"]["name"], "default");
  EXPECT_EQ(j["scenario"]["hash"].get<std::string>().rfind("fnv1a64:", 0), 0u);
  EXPECT_EQ(j["status"]["exit"], 0);
  EXPECT_GT(j["simulated_time_ps"].get<uint64_t>(), 0u);
  for (const char* h : {"a", "b"}) {
    const Json& x = j["hosts"][h];
    EXPECT_EQ(x["sent"], 500);      // pktgen's
    EXPECT_EQ(x["received"], 500);  // the checker's
    // What the NIC and driver received and softnet processed: the other host's 500 pattern
    // frames + the stack's 6 (1 ARP + 5 ICMP echo requests to b, or replies to a).
    EXPECT_EQ(x["driver"]["rx_queue_0_packets"], 506);
    EXPECT_EQ(x["device"]["rx_packets"], 506);
    EXPECT_EQ(x["device"].size(), j["hosts"]["a"]["device"].size());
    EXPECT_EQ(x["softnet"]["cpu0"]["processed"], 506);
    EXPECT_EQ(x["conservation"]["sent"], 506);  // 500 pattern frames + 1 ARP + 5 ICMP
    EXPECT_EQ(x["conservation"]["unaccounted"], 0);
    EXPECT_EQ(x["conservation"]["ok"], true);
    EXPECT_GT(x["rates"]["irq_per_s"].get<double>(), 0);
  }
  // 500 pattern frames + 1 ARP request + 5 echo requests; back: 500 + 1 ARP reply + 5 echo replies.
  EXPECT_EQ(j["link"]["a_to_b"]["frames"], 506);
  EXPECT_EQ(j["link"]["b_to_a"]["frames"], 506);
  EXPECT_TRUE(j["wall_clock"].contains("run_s"));
  // Direct test hosts: the device's views only.
  ASSERT_EQ(vnic("run --no-timing --frames 300 --hosts direct --out " + dir).status, 0);
  const Json d = summary(dir);
  for (const char* h : {"a", "b"}) {
    EXPECT_EQ(d["hosts"][h]["test_host"]["tx_posted"], 300);
    EXPECT_EQ(d["hosts"][h]["device"]["rx_packets"], 300);
    EXPECT_EQ(d["hosts"][h]["conservation"]["ok"], true);
    EXPECT_FALSE(d["hosts"][h].contains("softnet"));
  }
  EXPECT_NE(slurp(dir + "/host-b/ethtool-S.txt").find("     rx_packets: 300\n"), std::string::npos);
  EXPECT_NE(slurp(dir + "/host-a/host.txt").find("host: tx_posted 300 "), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/host-a/softnet_stat"));  // the earlier run's folder was replaced whole
  fs::remove_all(dir);
}

TEST(CliOut, SameScenarioAndSeedGiveAByteIdenticalFolderButTheWallClock) {
  const std::string d1 = tmp("vnic_same1_"), d2 = tmp("vnic_same2_"), d3 = tmp("vnic_same3_");
  for (const auto& d : {d1, d2, d3}) fs::remove_all(d);
  ASSERT_EQ(vnic("run --no-timing --frames 2000 -s builtin:bad-fcs --pcap wire.pcap --out " + d1).status, 0);
  // Progress reports slice the run: no result may change.
  ASSERT_EQ(vnic("run --no-timing --frames 2000 -s builtin:bad-fcs --pcap wire.pcap --progress always --out " + d2)
                .status,
            0);
  auto f1 = folder(d1), f2 = folder(d2);
  ASSERT_EQ(f1.size(), f2.size());
  EXPECT_GT(f1["wire.pcap"].size(), 2000u * 60);
  for (auto& [name, bytes] : f1) {
    if (name == "summary.json") continue;
    EXPECT_TRUE(bytes == f2[name]) << name;
  }
  Json j1 = Json::parse(f1["summary.json"]), j2 = Json::parse(f2["summary.json"]);
  EXPECT_EQ(j1["files"]["pcap"], "wire.pcap");
  j1.erase("wall_clock");
  j2.erase("wall_clock");
  EXPECT_EQ(j1.dump(), j2.dump());
  // Another seed: another folder.
  ASSERT_EQ(vnic("run --no-timing --frames 2000 -s builtin:bad-fcs --pcap wire.pcap --seed 2 --out " + d3).status, 0);
  EXPECT_FALSE(folder(d3)["wire.pcap"] == f1["wire.pcap"]);
  EXPECT_NE(summary(d3)["scenario"]["hash"], j1["scenario"]["hash"]);
  // Running again into a vnic folder replaces it.
  ASSERT_EQ(vnic("run --no-timing --frames 100 --out " + d1).status, 0);
  EXPECT_EQ(summary(d1)["hosts"]["a"]["sent"], 100);
  EXPECT_FALSE(fs::exists(d1 + "/wire.pcap"));
  for (const auto& d : {d1, d2, d3}) fs::remove_all(d);
}

TEST(CliOut, BadInputOrAnUnwritableFolderIsExit2WithNothingWritten) {
  const std::string errf = tmp("vnic_outerr_");
  EXPECT_EQ(vnic("run --frames 10 --out /dev/null/x", errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("--out /dev/null/x"), std::string::npos) << slurp(errf);
  // A folder that is not a vnic output folder is left alone.
  const std::string foreign = tmp("vnic_foreign_");
  fs::create_directories(foreign);
  std::ofstream(foreign + "/notes.txt") << "mine";
  EXPECT_EQ(vnic("run --frames 10 --out " + foreign, errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("not a vnic output folder"), std::string::npos) << slurp(errf);
  EXPECT_EQ(slurp(foreign + "/notes.txt"), "mine");
  fs::remove_all(foreign);
  // Bad keys, and a scenario refused while the platform is built: no folder, no leftovers.
  const std::string dir = tmp("vnic_never_");
  fs::remove_all(dir);
  EXPECT_EQ(vnic("run --set host.b.rx-usecs=x --out " + dir, errf).status >> 8, 2);
  EXPECT_EQ(vnic("run --set nic.ring=rtl --set nic.desc_cache_depth=32 --out " + dir, errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("depth 64"), std::string::npos) << slurp(errf);
  EXPECT_FALSE(fs::exists(dir));
  for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path())) {
    EXPECT_EQ(e.path().filename().string().find(fs::path(dir).filename().string()), std::string::npos) << e.path();
  }
  std::remove(errf.c_str());
}

// Runs a built-in scenario into a folder and returns its summary.
Json run_builtin(const std::string& name, const std::string& extra = "") {
  const std::string dir = tmp("vnic_builtin_" + name + "_");
  fs::remove_all(dir);
  const Result r = vnic("run --no-timing -s builtin:" + name + " " + extra + " --out " + dir);
  EXPECT_EQ(r.status, 0) << name << extra;
  Json j = fs::exists(dir + "/summary.json") ? summary(dir) : Json::object();
  fs::remove_all(dir);
  return j;
}

TEST(Builtin, LineRateBothWaysLosesNothing) {
  const Json j = run_builtin("line-rate");
  ASSERT_FALSE(j.empty());
  EXPECT_EQ(j["scenario"]["name"], "line-rate");
  for (const char* h : {"a", "b"}) {
    EXPECT_EQ(j["hosts"][h]["sent"], 10000);
    EXPECT_EQ(j["hosts"][h]["received"], 10000);
    EXPECT_EQ(j["hosts"][h]["conservation"]["unaccounted"], 0);
    // Mixed sizes (60..1514 bytes, 787 on average) fill most of the 10 Gb/s wire.
    EXPECT_GT(j["hosts"][h]["rates"]["rx_gbps"].get<double>(), 8.0);
  }
}

TEST(Builtin, ThreeHostsCarryTrafficOnBothLinksConservedPerDirection) {
  const std::string d1 = tmp("vnic_three1_"), d2 = tmp("vnic_three2_");
  for (const auto& d : {d1, d2}) fs::remove_all(d);
  const Result r = vnic("run --no-timing -s builtin:three-hosts --pcap ab.pcap --set link.ac.pcap=\"ac.pcap\" --out " + d1);
  ASSERT_EQ(r.status, 0) << r.out;
  const Json j = summary(d1);
  EXPECT_EQ(j["scenario"]["name"], "three-hosts");
  EXPECT_EQ(j["status"]["conservation_ok"], true);
  // Four NIC ports, each sending 5000 pattern frames to the port at the other end of its link;
  // the default's ping (a -> 10.0.0.2, over eth0) adds the stack's 6 frames each way on link:
  // 1 ARP request + 5 echo requests a->b, 1 ARP reply + 5 echo replies b->a.
  for (const Json* x : {&j["hosts"]["a"], &j["hosts"]["a"]["eth1"], &j["hosts"]["b"], &j["hosts"]["c"]}) {
    const bool on_link = x == &j["hosts"]["a"] || x == &j["hosts"]["b"];
    EXPECT_EQ((*x)["sent"], 5000);      // pktgen's
    EXPECT_EQ((*x)["received"], 5000);  // the checker's
    EXPECT_EQ((*x)["conservation"]["sent"], on_link ? 5006 : 5000);
    EXPECT_EQ((*x)["conservation"]["unaccounted"], 0);
    EXPECT_EQ((*x)["conservation"]["ok"], true);
  }
  EXPECT_EQ(j["hosts"]["a"]["conservation"]["direction"], "a->b");
  EXPECT_EQ(j["hosts"]["a"]["eth1"]["conservation"]["direction"], "a.eth1->c");
  EXPECT_EQ(j["hosts"]["c"]["conservation"]["direction"], "c->a.eth1");
  EXPECT_EQ(j["hosts"]["a"]["mac"], "02:00:00:00:00:0a");
  EXPECT_EQ(j["hosts"]["a"]["eth1"]["mac"], "02:00:00:00:01:0a");
  EXPECT_EQ(j["hosts"]["a"]["eth1"]["bus_info"], "0000:01:01.0");
  // Both links carried their traffic, both ways.
  for (const char* d : {"a_to_b", "b_to_a"}) EXPECT_EQ(j["link"][d]["frames"], 5006) << d;  // 5000 + 1 ARP + 5 ICMP
  EXPECT_EQ(j["links"]["ac"]["ends"][0], "a.eth1");
  for (const char* d : {"a_eth1_to_c", "c_to_a_eth1"}) EXPECT_EQ(j["links"]["ac"][d]["frames"], 5000) << d;
  // The report: a header per host naming each NIC, and a conservation line per direction.
  for (const char* line : {"== host a (nic_a at 0000:01:00.0, eth0 02:00:00:00:00:0a; nic_a_eth1 at 0000:01:01.0, "
                           "eth1 02:00:00:00:01:0a) ==",
                           "[host a]$ ethtool -S eth1\n", "conservation a->b: sent 5006 = delivered 5006 ",
                           "conservation a.eth1->c: sent 5000 = delivered 5000 ", "conservation b->a: sent 5006 ",
                           "conservation c->a.eth1: sent 5000 ", "link a.eth1->c: frames 5000 ",
                           "links: link 10 Gb/s, ac 25 Gb/s"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line;
  }
  // Files: eth0's views in host-a/, eth1's in host-a/eth1/; host c has its own folder; a capture per link.
  for (const char* f : {"host-a/ethtool-S.txt", "host-a/eth1/ethtool-S.txt", "host-a/eth1/pktgen.txt",
                        "host-a/softnet_stat", "host-c/ethtool-S.txt", "host-c/conservation.txt", "ab.pcap", "ac.pcap"}) {
    EXPECT_TRUE(fs::exists(d1 + "/" + f)) << f;
  }
  EXPECT_EQ(slurp(d1 + "/host-a/eth1/ethtool-S.txt"), report_section(r.out, "[host a]$ ethtool -S eth1\n"));
  EXPECT_EQ(j["files"]["link_pcaps"]["ac"], "ac.pcap");
  // The same scenario again: the same bytes in every file but the wall clock.
  ASSERT_EQ(vnic("run --no-timing -s builtin:three-hosts --pcap ab.pcap --set link.ac.pcap=\"ac.pcap\" --out " + d2)
                .status,
            0);
  auto f1 = folder(d1), f2 = folder(d2);
  ASSERT_EQ(f1.size(), f2.size());
  for (auto& [name, bytes] : f1) {
    if (name == "summary.json") continue;
    EXPECT_TRUE(bytes == f2[name]) << name;
  }
  Json j1 = Json::parse(f1["summary.json"]), j2 = Json::parse(f2["summary.json"]);
  j1.erase("wall_clock");
  j2.erase("wall_clock");
  EXPECT_EQ(j1.dump(), j2.dump());
  for (const auto& d : {d1, d2}) fs::remove_all(d);
}

TEST(Cli, TopologyMistakesAreExit2NamingTheKey) {
  const std::string errf = tmp("vnic_topo_err_");
  const std::pair<const char*, const char*> bad[] = {
      {"--set host.a.address=10.0.0.300/24", "host.a.address: '10.0.0.300/24' is not an IPv4 address"},
      {"--set host.c.frames=1", "host.c.eth0 is on no link"},
      {"-s builtin:three-hosts --set 'link.ac.ends=[\"a.eth0\",\"c.eth0\"]'", "a.eth0 is on link already"},
      {"-s builtin:three-hosts --hosts direct", "host.a.eth1: a direct host"},
      {"--set sysctl.ipfrag_low_thresh=5000000", "sysctl.ipfrag_low_thresh: 5000000 is above ipfrag_high_thresh"},
      {"--set sysctl.bogus=1", "sysctl.bogus: unknown key"},
      {"--set 'host.a.routes=[\"default via 10.0.0.2 dev eth9\"]'", "dev eth9: host a has no such device"},
      {"--journey 10 --journey-from z", "--journey-from z: the scenario has no such host"},
  };
  for (const auto& [args, want] : bad) {
    const Result r = vnic(std::string("run --no-timing ") + args, errf);
    EXPECT_EQ(r.status >> 8, 2) << args;
    EXPECT_NE(slurp(errf).find(want), std::string::npos) << args << "\n" << slurp(errf);
  }
  std::remove(errf.c_str());
}

TEST(Builtin, ModerationTradesInterruptsForTime) {
  const Json fast = run_builtin("moderation", "--set host.b.rx-usecs=1");
  const Json slow = run_builtin("moderation", "--set host.b.rx-usecs=64");
  ASSERT_FALSE(fast.empty());
  ASSERT_FALSE(slow.empty());
  // One frame every 2 us: with a 1 us timer one interrupt per frame, with 64 us about
  // one per 64 us.
  const double f = fast["hosts"]["b"]["rates"]["irq_per_s"], s = slow["hosts"]["b"]["rates"]["irq_per_s"];
  EXPECT_GT(f, 200'000.0);
  EXPECT_LT(s, 25'000.0);
  EXPECT_EQ(fast["hosts"]["b"]["received"], 4000);
  EXPECT_EQ(slow["hosts"]["b"]["received"], 4000);
  EXPECT_EQ(fast["hosts"]["b"]["sent"], 0);
}

TEST(Builtin, RingOverflowIsCountedInRxMissedErrors) {
  const Json j = run_builtin("ring-overflow");
  ASSERT_FALSE(j.empty());
  const Json& c = j["hosts"]["a"]["conservation"];  // a->b
  const int64_t gap = c["sent"].get<int64_t>() - c["delivered"].get<int64_t>();
  EXPECT_GT(gap, 0);
  EXPECT_EQ(j["hosts"]["b"]["device"]["rx_missed_errors"].get<int64_t>(), gap);
  EXPECT_EQ(c["nic_rx_drops"].get<int64_t>(), gap);
  EXPECT_EQ(c["unaccounted"], 0);
}

TEST(Builtin, BadFcsFramesAreTheOnesTheLinkCorrupted) {
  const Json j = run_builtin("bad-fcs");
  ASSERT_FALSE(j.empty());
  const int64_t corrupted = j["link"]["a_to_b"]["corrupted"];
  EXPECT_GT(corrupted, 10);
  EXPECT_EQ(j["hosts"]["b"]["device"]["rx_crc_errors"].get<int64_t>(), corrupted);
  EXPECT_EQ(j["hosts"]["b"]["received"].get<int64_t>() + corrupted, 4000);
  EXPECT_EQ(j["hosts"]["b"]["rx_checker"]["bad_bytes"], 0);  // none got through
}

TEST(Builtin, BacklogOverflowIsCountedBySoftnet) {
  const Json j = run_builtin("backlog-overflow");
  ASSERT_FALSE(j.empty());
  const Json& c = j["hosts"]["a"]["conservation"];
  const int64_t gap = c["sent"].get<int64_t>() - c["delivered"].get<int64_t>();
  EXPECT_GT(gap, 0);
  EXPECT_EQ(j["hosts"]["b"]["softnet_total"]["dropped"].get<int64_t>(), gap);
  EXPECT_EQ(j["hosts"]["b"]["device"]["rx_missed_errors"], 0);
  EXPECT_EQ(c["unaccounted"], 0);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

TEST(CliSweep, EveryPointRunsOnceIntoItsFolderAndTheCsvHoldsTheirMetrics) {
  const std::string dir = tmp("vnic_sweep_"), errf = tmp("vnic_sweep_err_");
  fs::remove_all(dir);
  const std::string cmd = "sweep builtin:moderation --set host.a.frames=1000 --grid host.b.rx-usecs=1,8,64 -j 2 "
                          "--metric hosts.b.rates.irq_per_s --metric hosts.b.received --out " + dir;
  const Result r = vnic(cmd, errf);
  ASSERT_EQ(r.status, 0) << slurp(errf);
  EXPECT_EQ(r.out, slurp(dir + "/sweep.txt"));
  const auto csv = lines(slurp(dir + "/sweep.csv"));
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0], "point,host.b.rx-usecs,exit,hosts.b.rates.irq_per_s,hosts.b.received");
  double last = 1e12;
  for (int k = 0; k < 3; ++k) {
    const Json j = summary(dir + "/point-" + std::to_string(k));
    const double irq = j["hosts"]["b"]["rates"]["irq_per_s"];
    EXPECT_EQ(j["hosts"]["b"]["received"], 1000);
    // The row is the point's summary, at full precision.
    const char* usecs[] = {"1", "8", "64"};
    EXPECT_EQ(csv[k + 1], "point-" + std::to_string(k) + "," + usecs[k] + ",0," +
                              j["hosts"]["b"]["rates"]["irq_per_s"].dump() + ",1000");
    EXPECT_LT(irq, last);  // more moderation, fewer interrupts
    last = irq;
  }
  // Resumable: done points are kept, a missing one is run again.
  const auto before = fs::last_write_time(dir + "/point-0/summary.json");
  fs::remove_all(dir + "/point-1");
  const Result again = vnic(cmd, errf);
  ASSERT_EQ(again.status, 0) << slurp(errf);
  EXPECT_EQ(again.out, r.out);
  const std::string log = slurp(errf);
  EXPECT_NE(log.find("point-0 (host.b.rx-usecs=1): done before, kept"), std::string::npos) << log;
  EXPECT_NE(log.find("point-1 (host.b.rx-usecs=8): exit 0"), std::string::npos) << log;
  EXPECT_EQ(fs::last_write_time(dir + "/point-0/summary.json"), before);
  // Another scenario under the same folder: its points are not the old ones.
  const Result other = vnic("sweep builtin:moderation --set host.a.frames=500 --grid host.b.rx-usecs=1,8,64 -j 2 "
                            "--metric hosts.b.received --out " + dir, errf);
  ASSERT_EQ(other.status, 0) << slurp(errf);
  EXPECT_EQ(slurp(errf).find("done before"), std::string::npos);
  EXPECT_EQ(lines(slurp(dir + "/sweep.csv"))[1], "point-0,1,0,500");
  fs::remove_all(dir);
  std::remove(errf.c_str());
}

TEST(CliSweep, BadGridKeysValuesOrMetricsAreExit2) {
  const std::string dir = tmp("vnic_sweep_bad_"), errf = tmp("vnic_sweep_bad_err_");
  fs::remove_all(dir);
  const std::pair<const char*, const char*> bad[] = {
      {"--grid host.b.bogus=1,2", "host.b.bogus: unknown key"},
      {"--grid host.b.rx-usecs=1,x", "host.b.rx-usecs: expected an integer"},
      {"--grid host.b.rx-usecs", "expected KEY=V1,V2"},
      {"--grid host.b.rx-usecs=1 --grid host.b.rx-usecs=2", "given twice"},
  };
  for (const auto& [args, msg] : bad) {
    EXPECT_EQ(vnic(std::string("sweep builtin:moderation ") + args + " --out " + dir, errf).status >> 8, 2) << args;
    EXPECT_NE(slurp(errf).find(msg), std::string::npos) << args << ": " << slurp(errf);
    EXPECT_FALSE(fs::exists(dir)) << args;
  }
  EXPECT_EQ(vnic("sweep builtin:moderation --set host.a.frames=100 --grid host.b.rx-usecs=1 --metric no.such --out " +
                 dir, errf).status >> 8,
            2);
  EXPECT_NE(slurp(errf).find("--metric no.such"), std::string::npos) << slurp(errf);
  EXPECT_FALSE(fs::exists(dir + "/sweep.csv"));
  EXPECT_NE(vnic("sweep builtin:moderation --grid host.b.rx-usecs=1 --out /dev/null/x", errf).status >> 8, 0);
  fs::remove_all(dir);
  std::remove(errf.c_str());
}

// A figure gnuplot drew: a PNG (its signature) and an SVG, neither of them trivial.
void expect_figure(const std::string& stem) {
  const std::string png = slurp(stem + ".png"), svg = slurp(stem + ".svg");
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << stem;
  EXPECT_GT(png.size(), 5000u) << stem;
  EXPECT_NE(svg.find("<svg"), std::string::npos) << stem;
  EXPECT_NE(svg.find("</svg>"), std::string::npos) << stem;
  EXPECT_GT(svg.size(), 5000u) << stem;
  EXPECT_TRUE(fs::exists(stem + ".gp")) << stem;
}

TEST(CliPlot, ModerationSweepIrqRateAndLatencyAgainstRxUsecs) {
  const std::string dir = tmp("vnic_plot_sweep_"), errf = tmp("vnic_plot_err_");
  fs::remove_all(dir);
  const Result r = vnic("sweep builtin:moderation --set host.a.frames=1000 --grid host.b.rx-usecs=1,8,64 -j 2 "
                        "--journey 25 --metric hosts.b.rates.irq_per_s --metric journey.end_to_end_ns.p50 "
                        "--metric status.conservation_ok --plot --out " + dir,
                        errf);
  ASSERT_EQ(r.status, 0) << slurp(errf);
  const std::string stem = dir + "/plots/hosts.b.rates.irq_per_s";
  expect_figure(stem);
  // Latency against rx-usecs, from the sampled packets' journeys (--journey, passed to each point).
  expect_figure(dir + "/plots/journey.end_to_end_ns.p50");
  const auto lat = lines(slurp(dir + "/plots/journey.end_to_end_ns.p50.csv"));
  ASSERT_EQ(lat.size(), 4u);
  EXPECT_EQ(lat[0], "host.b.rx-usecs,journey.end_to_end_ns.p50");
  EXPECT_GT(std::stod(lat[3].substr(3)), std::stod(lat[1].substr(2)) + 20'000);  // 64 us against 1 us
  EXPECT_EQ(summary(dir + "/point-0")["run"]["journey"], 25);
  EXPECT_FALSE(fs::exists(dir + "/plots/status.conservation_ok.png"));  // true/false is no figure
  // The data behind the figure: x, then the metric of each point.
  const auto csv = lines(slurp(stem + ".csv"));
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0], "host.b.rx-usecs,hosts.b.rates.irq_per_s");
  const char* usecs[] = {"1", "8", "64"};
  for (int k = 0; k < 3; ++k) {
    const Json j = summary(dir + "/point-" + std::to_string(k));
    EXPECT_EQ(csv[k + 1], std::string(usecs[k]) + "," + j["hosts"]["b"]["rates"]["irq_per_s"].dump());
  }
  // Plotting again (another metric, by name) works on the kept folder.
  ASSERT_EQ(vnic("plot " + dir + " --y hosts.b.received", errf).status, 0) << slurp(errf);
  expect_figure(dir + "/plots/hosts.b.received");
  EXPECT_EQ(vnic("plot " + dir + " --y no.such", errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("--y no.such"), std::string::npos) << slurp(errf);
  fs::remove_all(dir);
  std::remove(errf.c_str());
}

TEST(CliPlot, RingOccupancyOverTimeFromARunsTrace) {
  const std::string dir = tmp("vnic_plot_run_"), errf = tmp("vnic_plot_run_err_");
  fs::remove_all(dir);
  ASSERT_EQ(vnic("run --no-timing -s builtin:ring-overflow --trace trace.json --out " + dir).status, 0);
  ASSERT_EQ(vnic("plot " + dir, errf).status, 0) << slurp(errf);
  expect_figure(dir + "/plots/ring-occupancy");
  const auto csv = lines(slurp(dir + "/plots/ring-occupancy.csv"));
  ASSERT_GT(csv.size(), 100u);
  EXPECT_EQ(csv[0], "time_us,nic_a ring qp0.tx,nic_b ring qp0.rx");
  // Host b's 64-entry RX ring: the device runs out of buffers (which is when it drops).
  int64_t lo = 1 << 30, hi = -1;
  for (std::size_t i = 1; i < csv.size(); ++i) {
    const std::string rx = csv[i].substr(csv[i].rfind(',') + 1);
    if (rx.empty()) continue;
    lo = std::min<int64_t>(lo, std::stoll(rx));
    hi = std::max<int64_t>(hi, std::stoll(rx));
  }
  EXPECT_EQ(lo, 0);
  EXPECT_LE(hi, 64);
  EXPECT_GT(hi, 32);
  // A run without a trace has nothing to plot: exit 2, saying what to do.
  const std::string bare = tmp("vnic_plot_bare_");
  fs::remove_all(bare);
  ASSERT_EQ(vnic("run --no-timing --frames 10 --out " + bare).status, 0);
  EXPECT_EQ(vnic("plot " + bare, errf).status >> 8, 2);
  EXPECT_NE(slurp(errf).find("--trace trace.json or --journey N"), std::string::npos) << slurp(errf);
  EXPECT_EQ(vnic("plot /nonexistent-dir", errf).status >> 8, 2);
  for (const auto& d : {dir, bare}) fs::remove_all(d);
  std::remove(errf.c_str());
}

TEST(CliPlot, LatencyBreakdownAsAStackedBarFromARunsJourney) {
  const std::string dir = tmp("vnic_plot_journey_"), errf = tmp("vnic_plot_journey_err_");
  fs::remove_all(dir);
  ASSERT_EQ(vnic("run --no-timing --frames 400 --journey 20 --journey-from a --out " + dir).status, 0);
  ASSERT_EQ(vnic("plot " + dir, errf).status, 0) << slurp(errf);
  expect_figure(dir + "/plots/latency-breakdown");
  const auto csv = lines(slurp(dir + "/plots/latency-breakdown.csv"));
  ASSERT_EQ(csv.size(), 3u);  // header, p50, p99
  // The segments in the order a packet passes them, from pktgen to the consumer.
  EXPECT_EQ(csv[0].rfind("statistic,- packet.made -> egress:15 tx.map,egress:15 tx.map -> egress:12 tx.ring,", 0), 0u)
      << csv[0];
  // The pattern traffic reaches its consumer through the stack: __netif_receive_skb_core
  // (ingress 13) hands it to the checker's ptype_base handler.
  EXPECT_NE(csv[0].find(",ingress:12 netif_receive_skb -> ingress:13 netif_receive_skb_core,"), std::string::npos)
      << csv[0];
  EXPECT_NE(csv[0].find(",ingress:13 netif_receive_skb_core -> - consumed"), std::string::npos) << csv[0];
  EXPECT_EQ(csv[1].rfind("p50,", 0), 0u);
  EXPECT_EQ(csv[2].rfind("p99,", 0), 0u);
  fs::remove_all(dir);
  std::remove(errf.c_str());
}

TEST(Cli, RegmapOutputIsTheCommittedDoc) {
  const Result r = vnic("regmap");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out, slurp(std::string(VNIC_SOURCE_DIR) + "/docs/regmap.md"));
}

TEST(Cli, RegmapCHeaderOutputIsTheCommittedHeader) {
  const Result r = vnic("regmap --c-header");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out, slurp(std::string(VNIC_SOURCE_DIR) + "/docs/vnic_regs.h"));
}

TEST(Cli, JourneyPrintsEachSampledPacketsStepsAndTheBreakdown) {
  const Result r = vnic("run --frames 300 --no-timing --journey 100 --journey-from a");
  ASSERT_EQ(r.status, 0);
  // Packets 1, 101, 201 of host a, each from pktgen to the consumer on host b.
  for (const char* p : {"packet 1\n", "packet 101\n", "packet 201\n"}) EXPECT_NE(r.out.find(p), std::string::npos) << p;
  EXPECT_EQ(r.out.find("packet 4294967297\n"), std::string::npos);  // host b's: not asked for
  for (const char* s : {"egress:15", "egress:12", "egress:16", "ingress:1 ", "ingress:9", "ingress:12", "egress:20"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  EXPECT_NE(r.out.find("latency breakdown over 3 sampled packets"), std::string::npos);
  EXPECT_NE(r.out.find("end to end: - packet.made"), std::string::npos);
  // Bad values are refused with exit status 2.
  EXPECT_EQ(WEXITSTATUS(vnic("run --frames 10 --journey 0").status), 2);
  EXPECT_EQ(WEXITSTATUS(vnic("run --frames 10 --journey 5 --journey-from c").status), 2);
  EXPECT_EQ(WEXITSTATUS(vnic("run --frames 10 --journey 5 --hosts direct").status), 2);
}

TEST(Cli, JourneyFilesGoIntoTheOutputFolderAndAreDeterministic) {
  const std::string d1 = tmp("vnic_journey1_"), d2 = tmp("vnic_journey2_");
  ASSERT_EQ(vnic("run --frames 200 --no-timing --journey 50 --out " + d1).status, 0);
  ASSERT_EQ(vnic("run --frames 200 --no-timing --journey 50 --out " + d2).status, 0);
  const std::string j = slurp(d1 + "/journey.json");
  EXPECT_EQ(j, slurp(d2 + "/journey.json"));
  EXPECT_EQ(slurp(d1 + "/journey.txt"), slurp(d2 + "/journey.txt"));
  EXPECT_NE(j.find("\"breakdown\""), std::string::npos);
  EXPECT_NE(j.find("\"step\": \"ingress:9\""), std::string::npos);
  std::filesystem::remove_all(d1);
  std::filesystem::remove_all(d2);
}

TEST(Cli, StepsPrintsTheTableDocsJourneyEmbeds) {
  const Result r = vnic("steps");
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("| egress:16 | NIC fetches the packets (via DMA) from RAM to transmit |"), std::string::npos);
  EXPECT_NE(slurp(std::string(VNIC_SOURCE_DIR) + "/docs/journey.md").find(r.out), std::string::npos)
      << "docs/journey.md's table is stale: vnic steps";
}

}  // namespace

TEST(Cli, TheQuantumChangesNoResultWhenTheRunEndsOnQuietLinks) {
  // The default scenario ends on quiet links (the neighbour table's timers are still pending):
  // the quiet check sees the model at its grid point whatever the event queue's look-ahead.
  const Result a = vnic("run --no-timing --account --set scenario.quantum_ns=0");
  const Result b = vnic("run --no-timing --account --set scenario.quantum_ns=100000");
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(b.status, 0);
  EXPECT_NE(a.out.find("in flight at the end: 0\n"), std::string::npos) << a.out;
  EXPECT_EQ(a.out, b.out);
}

TEST(Cli, FramesTheLinkLosesEndInItsCounter) {
  // A frame the fault injector drops ends there: the account names the link's counter for it,
  // and nothing is left in flight (ARP and ping retry or report their losses).
  const Result r = vnic("run --no-timing --account --set link.drop_rate=0.2 --frames 2000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("link.dropped_fault: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in flight at the end: 0\n"), std::string::npos) << r.out;
}

namespace {
// "rtt min/avg/max/mdev = A/B/C/D ms" of a ping.txt view: {min, avg, max} in ms.
std::optional<std::array<double, 3>> ping_rtt(const std::string& text) {
  const auto at = text.find("rtt min/avg/max/mdev = ");
  if (at == std::string::npos) return std::nullopt;
  std::array<double, 3> v{};
  if (std::sscanf(text.c_str() + at, "rtt min/avg/max/mdev = %lf/%lf/%lf", &v[0], &v[1], &v[2]) != 3) return std::nullopt;
  return v;
}
}  // namespace

TEST(Cli, BufferbloatAPingWaitsBehindPfifoFastsQueueButNotBehindFqCodels) {
  // builtin:bufferbloat: a floods c at 2 Gb/s through b, whose egress to c runs at 1 Gb/s, and
  // pings c. pfifo_fast (one FIFO band for both) fills to txqueuelen: an echo request that gets
  // in waits behind 1000 x 1514 B at 1 Gb/s = 12.1 ms. fq_codel puts the ping, a sparse flow, in
  // its own queue served first (RFC 8290 4.1): it waits for at most the packet on the wire and
  // what BQL lets the driver hold, while the flood is dropped in its own queue.
  const std::string fq = tmp("vnic_bloat_fq_"), pf = tmp("vnic_bloat_pf_");
  for (const auto& d : {fq, pf}) fs::remove_all(d);
  const std::string common = "run -s builtin:bufferbloat --no-timing --trace trace.json --trace-kinds qdisc.dequeue ";
  ASSERT_EQ(vnic(common + "--out " + fq).status, 0);
  ASSERT_EQ(vnic(common + "--set host.b.eth1.qdisc=pfifo_fast --out " + pf).status, 0);
  const std::string ping_fq = slurp(fq + "/host-a/ping.txt"), ping_pf = slurp(pf + "/host-a/ping.txt");
  std::cout << "fq_codel on b's egress:\n" << ping_fq << "\npfifo_fast on b's egress:\n" << ping_pf;
  const auto r_fq = ping_rtt(ping_fq), r_pf = ping_rtt(ping_pf);
  ASSERT_TRUE(r_fq && r_pf);
  const double predicted_ms = 1000 * 1514 * 8 / 1e9 * 1e3;  // txqueuelen x frame / rate
  // pfifo_fast: the requests that got in waited a full queue (the first ones, while it filled,
  // less), plus the frames BQL lets the driver hold.
  EXPECT_GT((*r_pf)[2], predicted_ms);
  EXPECT_LT((*r_pf)[2], predicted_ms + 1.0);
  EXPECT_GT((*r_pf)[1], 0.9 * predicted_ms);
  // fq_codel: every reply back well under 1 ms, none lost.
  EXPECT_LT((*r_fq)[2], 1.0);
  EXPECT_NE(ping_fq.find("30 packets transmitted, 30 received, 0% packet loss"), std::string::npos);
  EXPECT_GT((*r_pf)[1], 50 * (*r_fq)[2]);  // the separation
  // Where the flood went: fq_codel dropped it in its own queue (overlimit and CoDel).
  const std::string tc = slurp(fq + "/host-b/tc-s-qdisc.txt");
  const auto eth1 = tc.find("qdisc fq_codel 0: dev eth1 root");
  ASSERT_NE(eth1, std::string::npos) << tc;
  const auto ov = tc.find("drop_overlimit ", eth1);
  ASSERT_NE(ov, std::string::npos) << tc;
  EXPECT_GT(std::stoul(tc.substr(ov + 15)), 1000u) << tc;  // the flood's own queue hit the limit
  // The sojourn plot (vnic plot reads the qdisc.dequeue events of the trace).
  ASSERT_EQ(vnic("plot " + fq).status, 0);
  const std::string csv = slurp(fq + "/plots/qdisc-sojourn.csv");
  EXPECT_EQ(csv.rfind("time_us,", 0), 0u) << csv.substr(0, 200);
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 1000);
  for (const auto& d : {fq, pf}) fs::remove_all(d);
}

// Runs a built-in twice with --account into fresh folders: every file byte for byte the same
// (summary.json but for its wall clock). Returns the first run's files; both folders go.
std::map<std::string, std::string> run_twice_byte_identical(const std::string& builtin) {
  const std::string d1 = tmp("vnic_" + builtin + "_a_"), d2 = tmp("vnic_" + builtin + "_b_");
  for (const auto& d : {d1, d2}) {
    fs::remove_all(d);
    EXPECT_EQ(vnic("run --no-timing -s builtin:" + builtin + " --account --out " + d).status, 0) << d;
  }
  auto f1 = folder(d1), f2 = folder(d2);
  EXPECT_EQ(f1.size(), f2.size());
  for (auto& [name, bytes] : f1) {
    if (name == "summary.json") continue;
    EXPECT_TRUE(bytes == f2[name]) << builtin << ": " << name;
  }
  Json j1 = Json::parse(f1["summary.json"]), j2 = Json::parse(f2["summary.json"]);
  j1.erase("wall_clock");
  j2.erase("wall_clock");
  EXPECT_EQ(j1.dump(), j2.dump()) << builtin;
  for (const auto& d : {d1, d2}) fs::remove_all(d);
  return f1;
}

TEST(Builtin, Switch8TwiceGivesByteIdenticalFoldersEveryPacketAccounted) {
  auto f1 = run_twice_byte_identical("switch8");
  ASSERT_TRUE(f1.contains("summary.json"));
  const Json j1 = Json::parse(f1["summary.json"]);
  EXPECT_EQ(j1["status"]["conservation_ok"], true);
  EXPECT_EQ(j1["switches"]["sw0"]["conservation_ok"], true);
  EXPECT_EQ(j1["switches"]["sw0"]["ports"]["p7"]["station"], "h.eth0");
  EXPECT_EQ(j1["hosts"]["h"]["conservation"]["direction"], "h->sw0");
  const std::string& sw = f1["switch.txt"];
  EXPECT_NE(sw.find("switch sw0 port 0 (a, 10 Gb/s): rx_frames 7000 "), std::string::npos) << sw;
  EXPECT_NE(sw.find("$ bridge fdb show br sw0\n"), std::string::npos) << sw;
  // The per-packet account: nothing ended twice, nothing left in flight.
  const std::string& report = f1["report.txt"];
  EXPECT_NE(report.find("  in flight at the end: 0\n"), std::string::npos) << report;
  EXPECT_EQ(report.find("ERRORS"), std::string::npos);
}

// UDP through sockets on the switch: two runs byte for byte (56 iperf clients and 56 servers),
// the account complete, and the drops only where the scenario puts them.
TEST(Builtin, Switch8UdpTwiceGivesByteIdenticalFolders) {
  auto f1 = run_twice_byte_identical("switch8-udp");
  EXPECT_TRUE(f1.contains("host-a/iperf-client.6.txt"));
  EXPECT_TRUE(f1.contains("host-h/iperf-server.6.txt"));
  const std::string& report = f1["report.txt"];
  EXPECT_NE(report.find("  in flight at the end: 0\n"), std::string::npos) << report;
  EXPECT_NE(report.find("    switch.dropped_queue_full: "), std::string::npos) << report;
  EXPECT_NE(report.find("    SOCKET_RCVBUFF (Udp.RcvbufErrors): "), std::string::npos) << report;
  EXPECT_EQ(report.find("ERRORS"), std::string::npos);
}

// TCP through sockets: each TCP built-in twice byte for byte, with the account complete (every
// segment, ACK and handshake packet ends once) and what the applications report.
TEST(Builtin, TcpBuiltinsTwiceGiveByteIdenticalFolders) {
  {
    auto f = run_twice_byte_identical("tcp-iperf3");
    const std::string& c = f["host-a/iperf3-client.txt"];
    EXPECT_NE(f["report.txt"].find("[host a]$ iperf3 -c 10.0.0.2 -p 5201 -l 131072 -n 8388608\n"), std::string::npos);
    EXPECT_NE(f["report.txt"].find("[host b]$ iperf3 -s -p 5201\n"), std::string::npos);
    EXPECT_NE(c.find("8.00 MBytes"), std::string::npos) << c;
    EXPECT_NE(c.find("sender\n"), std::string::npos) << c;
    EXPECT_NE(c.find("receiver\n"), std::string::npos) << c;
    EXPECT_NE(c.find("iperf Done."), std::string::npos) << c;
    const std::string& s = f["host-b/iperf3-server.txt"];
    EXPECT_NE(s.find("Accepted connection from 10.0.0.1"), std::string::npos) << s;
    EXPECT_NE(s.find("8.00 MBytes"), std::string::npos) << s;
    EXPECT_NE(f["report.txt"].find("  in flight at the end: 0\n"), std::string::npos) << f["report.txt"];
    EXPECT_EQ(f["report.txt"].find("ERRORS"), std::string::npos);
  }
  {
    // A TCP flow through a router and a ping beside it (docs/tcp.md, "Checked against theory").
    auto f = run_twice_byte_identical("tcp-bufferbloat");
    EXPECT_NE(f["host-a/ping.txt"].find(" 0% packet loss"), std::string::npos) << f["host-a/ping.txt"];
    EXPECT_NE(f["host-c/iperf3-server.txt"].find("Accepted connection from 10.0.1.2"), std::string::npos);
    EXPECT_NE(f["report.txt"].find("  in flight at the end: 0\n"), std::string::npos) << f["report.txt"];
    EXPECT_EQ(f["report.txt"].find("ERRORS"), std::string::npos);
  }
  for (const char* b : {"tcp-rr", "tcp-crr"}) {
    const bool crr = std::string_view(b) == "tcp-crr";
    auto f = run_twice_byte_identical(b);
    const std::string& n = f[crr ? "host-a/netperf-tcp-crr.txt" : "host-a/netperf-tcp-rr.txt"];
    EXPECT_NE(f["report.txt"].find(crr ? "[host a]$ netperf -t TCP_CRR -H 10.0.0.2 -l -100 -- -P ,12866 -r 1,1\n"
                                       : "[host a]$ netperf -t TCP_RR -H 10.0.0.2 -l -1000 -- -P ,12866 -r 1,1\n"),
              std::string::npos);
    EXPECT_NE(n.find(crr ? "MIGRATED TCP Connect/Request/Response TEST" : "MIGRATED TCP REQUEST/RESPONSE TEST"),
              std::string::npos)
        << n;
    EXPECT_NE(n.find("16384  131072\n"), std::string::npos) << n;  // the remote sizes: the netserver was found
    // Tcp: ActiveOpens on a: one connection per transaction for TCP_CRR, one for TCP_RR.
    const std::string& snmp = f["host-a/snmp"];
    const auto vals = snmp.find("\nTcp: 1 ");
    ASSERT_NE(vals, std::string::npos) << snmp;
    std::istringstream row(snmp.substr(vals + 6, snmp.find('\n', vals + 1) - vals - 6));
    int64_t algo = 0, min = 0, max = 0, maxconn = 0, active = 0;
    row >> algo >> min >> max >> maxconn >> active;
    EXPECT_EQ(active, crr ? 100 : 1) << snmp;
    EXPECT_NE(f["report.txt"].find("  in flight at the end: 0\n"), std::string::npos) << f["report.txt"];
    EXPECT_EQ(f["report.txt"].find("ERRORS"), std::string::npos);
  }
}

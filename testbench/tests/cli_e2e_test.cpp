// End-to-end tests of the vnic binary: determinism, scenario errors and flag errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
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
  EXPECT_NE(r.out.find("     rx_queue_0_packets: 500\n"), std::string::npos);
  EXPECT_NE(r.out.find("     rx_packets: 500\n"), std::string::npos);
  EXPECT_NE(r.out.find("[host a]$ cat /proc/net/softnet_stat\n000001f4 00000000 00000000 "), std::string::npos) << r.out;
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
  EXPECT_NE(vnic("run --frames -3").status, 0);
  EXPECT_NE(vnic("run --no-such-flag").status, 0);
  EXPECT_NE(vnic("run -s /nonexistent/file.toml").status, 0);
  EXPECT_NE(vnic("").status, 0);
}

TEST(Cli, AScenarioFileIsReadOverTheDefault) {
  const std::string path = tmp("vnic_one_key_") + ".toml";
  std::ofstream(path) << "[host.a]\nrx-usecs = 20\n";
  const Result r = vnic("run --no-timing -s " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  // The default's traffic still runs; only host a's rx-usecs changed.
  EXPECT_NE(r.out.find("conservation a->b: sent 20000 = delivered 20000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[host a]$ ethtool -c eth0\nCoalesce parameters for eth0:\nAdaptive RX: off  TX: off\nrx-usecs: 20\n"), std::string::npos);
  EXPECT_NE(r.out.find("[host b]$ ethtool -c eth0\nCoalesce parameters for eth0:\nAdaptive RX: off  TX: off\nrx-usecs: 8\n"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Cli, ARunWhereNoHostSendsSaysSo) {
  const std::string errf = tmp("vnic_nosend_err_");
  const Result r = vnic("run --no-timing --set host.a.frames=0 --set host.b.frames=0", errf);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(slurp(errf).find("no host sends anything"), std::string::npos) << slurp(errf);
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
  for (const char* name : {"line-rate", "moderation", "ring-overflow", "bad-fcs", "backlog-overflow"}) {
    EXPECT_NE(r.out.find(std::string(name) + " "), std::string::npos) << name;
  }
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5);
}

TEST(Cli, RegmapOutputIsTheCommittedDoc) {
  const Result r = vnic("regmap");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out, slurp(std::string(VNIC_SOURCE_DIR) + "/docs/regmap.md"));
}

}  // namespace

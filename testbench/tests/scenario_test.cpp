// Scenario parsing: the default parses, keys are applied, garbage never crashes the parser, and
// files, built-ins and --set are laid over the default key by key.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <optional>
#include <string>
#include <vector>

#include "vnic/tb/pcap.hpp"
#include "vnic/tb/scenario.hpp"

namespace {
using vnic::tb::parse_scenario;

TEST(Scenario, DefaultParsesWithItsDocumentedValues) {
  std::string err;
  const auto s = parse_scenario(vnic::tb::default_scenario_toml(), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->link().rate.bps(), 10'000'000'000u);
  EXPECT_EQ(s->nic_side("a").host.coalesce.rx_usecs, 8u);
  EXPECT_EQ(s->nic_side("a").host.coalesce.rx_frames, 32u);
  EXPECT_EQ(s->hosts, "driver");
  EXPECT_EQ(s->driver.cpus, 2u);
  EXPECT_EQ(s->sysctl.core.netdev_budget, 300);
  EXPECT_EQ(s->sysctl.core.netdev_budget_usecs, 8000u);
  EXPECT_EQ(s->sysctl.core.dev_weight, 64);
  EXPECT_EQ(s->sysctl.core.netdev_max_backlog, 1000u);
  EXPECT_EQ(s->driver.napi_weight, 64);
  // The embedded TOML states the compiled-in defaults, key by key.
  const vnic::stack::CpuCosts d{};
  EXPECT_EQ(s->driver.costs.hardirq, d.hardirq);
  EXPECT_EQ(s->driver.costs.netif_receive, d.netif_receive);
  EXPECT_EQ(s->driver.costs.mmio_read, d.mmio_read);
  EXPECT_EQ(s->driver.costs.pktgen, d.pktgen);
  EXPECT_EQ(s->driver.costs.copy_per_kib, d.copy_per_kib);
  EXPECT_EQ(s->nic.pcie.mps, 256u);
  EXPECT_EQ(s->ring, "model");
  EXPECT_EQ(s->nic_side("a").mac.str(), "02:00:00:00:00:0a");
}

TEST(Scenario, DriverKeysAreAppliedAndChecked) {
  std::string err;
  const auto s = parse_scenario(
      "[scenario]\nhosts = \"direct\"\n[cpu]\ncpus = 4\nhardirq_ns = 1500\n[sysctl]\nnetdev_budget = 50\n"
      "netdev_max_backlog = 10\n[driver]\nrx_handoff = \"netif_rx\"\nnapi_weight = 16\nbql = false\n"
      "watchdog_ms = 250\nmtu = 9000\n",
      &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->hosts, "direct");
  EXPECT_EQ(s->driver.cpus, 4u);
  EXPECT_EQ(s->driver.costs.hardirq, vnic::model::Duration::ns(1500));
  EXPECT_EQ(s->sysctl.core.netdev_budget, 50);
  EXPECT_EQ(s->sysctl.core.netdev_max_backlog, 10u);
  EXPECT_EQ(s->driver.rx_handoff, "netif_rx");
  EXPECT_EQ(s->driver.napi_weight, 16);
  EXPECT_FALSE(s->driver.bql);
  EXPECT_EQ(s->driver.watchdog, vnic::model::Duration::ms(250));
  EXPECT_EQ(s->driver.mtu, 9000u);
  const std::pair<const char*, const char*> bad[] = {
      {"[driver]\nmtu = 9001\n", "driver.mtu"},
      {"[driver]\nbql = 1\n", "driver.bql"},
      {"[driver]\nwatchdog_ms = 0\n", "driver.watchdog_ms"},
      {"[scenario]\nhosts = \"kernel\"\n", "scenario.hosts"},
      {"[cpu]\nhardirq_ns = -1\n", "cpu.hardirq_ns"},
      {"[cpu]\nturbo = true\n", "cpu.turbo"},
      {"[cpu]\ncpus = 0\n", "cpu.cpus"},
      {"[sysctl]\nnetdev_budget = 0\n", "sysctl.netdev_budget"},
      {"[sysctl]\nsomaxconn = 5\n", "sysctl.somaxconn"},
      {"[driver]\nrx_handoff = \"gro\"\n", "driver.rx_handoff"},
      {"[driver]\nnapi_weight = 0\n", "driver.napi_weight"},
  };
  for (const auto& [text, key] : bad) {
    err.clear();
    EXPECT_FALSE(parse_scenario(text, &err)) << text;
    EXPECT_NE(err.find(key), std::string::npos) << err;
  }
}

TEST(Scenario, KeysAreApplied) {
  std::string err;
  const auto s = parse_scenario(
      "[link]\nspeed = \"25G\"\nber = 1e-9\n[pcie]\nlanes = 4\nmts = 5000\n[host.b]\nrx-usecs = 50\n"
      "iommu = true\nrx-all = true\n",
      &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->link().rate.bps(), 25'000'000'000u);
  EXPECT_DOUBLE_EQ(s->link().faults.bit_error_rate, 1e-9);
  EXPECT_EQ(s->nic.pcie.lanes, 4u);
  EXPECT_EQ(s->nic.pcie.enc_total, 10u);  // Gen2: 8b/10b
  EXPECT_EQ(s->nic_side("b").host.coalesce.rx_usecs, 50u);
  EXPECT_TRUE(s->host("b").iommu);
  EXPECT_EQ(s->nic_side("b").host.rx_ctrl & 0x10u, 0x10u);
}

TEST(Scenario, ErrorsNameTheKey) {
  std::string err;
  EXPECT_FALSE(parse_scenario("[host.a]\nrx-frames = \"many\"\n", &err));
  EXPECT_NE(err.find("host.a.rx-frames"), std::string::npos) << err;
  EXPECT_FALSE(parse_scenario("[host.a]\nmac = \"01:00:5e:00:00:01\"\n", &err));
  EXPECT_NE(err.find("unicast"), std::string::npos) << err;
  EXPECT_FALSE(parse_scenario("[host.b]\nmac = \"02:00:00:00:00:0a\"\n", &err));
  EXPECT_NE(err.find("must differ"), std::string::npos) << err;
  EXPECT_FALSE(parse_scenario("link = 3\n", &err));
  EXPECT_NE(err.find("link"), std::string::npos) << err;
}

TEST(Scenario, GarbageNeverCrashesTheParser) {
  const std::string base(vnic::tb::default_scenario_toml());
  std::mt19937_64 rng(11);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = static_cast<char>(rng() % 256); break;
        case 1: text.erase(at, 1 + rng() % 20); break;
        default: text.insert(at, std::string(1 + rng() % 5, static_cast<char>(rng() % 128))); break;
      }
      if (text.empty()) text = "x";
    }
    std::string err;
    const auto s = parse_scenario(text, &err);
    if (!s) {
      ++refused;
      EXPECT_FALSE(err.empty());
    }
  }
  EXPECT_GT(refused, 100);
}

// What `vnic run -s FILE --set ...` reads: the default, the layers over it, key by key.
std::optional<vnic::tb::ResolvedScenario> resolve(const std::string& text,
                                                  const std::vector<std::string>& sets = {},
                                                  std::string* err = nullptr) {
  std::vector<vnic::tb::ScenarioSetting> ss;
  for (const auto& a : sets) {
    auto s = vnic::tb::parse_setting(a, err);
    if (!s) return std::nullopt;
    ss.push_back(*s);
  }
  std::vector<vnic::tb::ScenarioLayer> layers;
  if (!text.empty()) layers.push_back({text, "my.toml"});
  return vnic::tb::resolve_scenario(layers, ss, err);
}

TEST(ScenarioOverlay, AFileThatChangesOneKeyChangesOnlyThatKey) {
  std::string err;
  const auto base = resolve("", {}, &err);
  ASSERT_TRUE(base) << err;
  const auto one = resolve("[host.a]\nrx-usecs = 20\n", {}, &err);
  ASSERT_TRUE(one) << err;
  EXPECT_EQ(one->scenario.nic_side("a").host.coalesce.rx_usecs, 20u);
  EXPECT_EQ(one->scenario.nic_side("a").host.count, 20000u);  // not zero: the default's traffic stays
  EXPECT_EQ(one->scenario.nic_side("b").host.count, 20000u);
  EXPECT_EQ(one->scenario.nic_side("b").host.coalesce.rx_usecs, 8u);
  EXPECT_EQ(one->scenario.nic_side("a").host.coalesce.rx_frames, 32u);
  // The resolved TOML differs from the default's in that one line.
  std::string want = base->toml;
  const auto at = want.find("rx-usecs = 8");
  ASSERT_NE(at, std::string::npos);
  want.replace(at, 12, "rx-usecs = 20");
  EXPECT_EQ(one->toml, want);
}

TEST(ScenarioOverlay, UnknownKeysAreRefusedWithTheKeyAndTheFileThatBroughtThem) {
  std::string err;
  EXPECT_FALSE(resolve("[host.a]\nbogus = 1\n", {}, &err));
  EXPECT_NE(err.find("my.toml: host.a.bogus: unknown key"), std::string::npos) << err;
  EXPECT_FALSE(resolve("[host.c]\ntx = 64\n", {}, &err));
  EXPECT_NE(err.find("my.toml: host.c"), std::string::npos) << err;
  EXPECT_FALSE(resolve("link = 3\n", {}, &err));
  EXPECT_NE(err.find("my.toml: link: expected a table"), std::string::npos) << err;
  EXPECT_FALSE(resolve("[host.b]\nmac = \"02:00:00:00:00:0a\"\n", {}, &err));
  EXPECT_NE(err.find("my.toml: host.b.mac: must differ"), std::string::npos) << err;
  EXPECT_FALSE(resolve("[host.a\n", {}, &err));
  EXPECT_NE(err.find("my.toml:1:"), std::string::npos) << err;
}

TEST(ScenarioOverlay, SettingsAreTomlValuesCheckedLikeFileKeys) {
  std::string err;
  const auto s = resolve("[host.b]\nrx-usecs = 20\n",
                         {"host.b.rx-usecs=50", "link.ber=1e-9", "driver.bql=false", "link.speed=25G",
                          "driver.rx_handoff=\"netif_rx\"", "scenario.name=my run"},
                         &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->scenario.nic_side("b").host.coalesce.rx_usecs, 50u);  // the setting wins over the file
  EXPECT_DOUBLE_EQ(s->scenario.link().faults.bit_error_rate, 1e-9);
  EXPECT_FALSE(s->scenario.driver.bql);
  EXPECT_EQ(s->scenario.link().rate.bps(), 25'000'000'000u);
  EXPECT_EQ(s->scenario.driver.rx_handoff, "netif_rx");
  EXPECT_EQ(s->scenario.name, "my run");
  const std::pair<const char*, const char*> bad[] = {
      {"host.b.rx-usecs=abc", "--set host.b.rx-usecs=abc: host.b.rx-usecs: expected an integer"},
      {"host.b.rx-usecs=70000", "host.b.rx-usecs: 70000 is outside 0..65535"},
      {"host.b.bogus=1", "--set host.b.bogus=1: host.b.bogus: unknown key"},
      {"link.speed.x=1", "--set link.speed.x=1: link.speed: is not a table"},
      {"driver.bql=1", "driver.bql: expected true or false"},
      {"nokey", "--set nokey: expected KEY=VALUE"},
      {"=1", "expected KEY=VALUE"},
      {"host..tx=1", "is not a dotted key"},
  };
  for (const auto& [set, msg] : bad) {
    err.clear();
    EXPECT_FALSE(resolve("", {set}, &err)) << set;
    EXPECT_NE(err.find(msg), std::string::npos) << set << ": " << err;
  }
}

TEST(ScenarioOverlay, EveryBuiltinResolvesAndNamesItself) {
  ASSERT_GE(vnic::tb::builtin_scenarios().size(), 5u);
  for (const auto& b : vnic::tb::builtin_scenarios()) {
    std::string err;
    auto layer = vnic::tb::scenario_layer("builtin:" + std::string(b.name), &err);
    ASSERT_TRUE(layer) << err;
    const auto r = vnic::tb::resolve_scenario({*layer}, {}, &err);
    ASSERT_TRUE(r) << b.name << ": " << err;
    EXPECT_EQ(r->scenario.name, b.name);
    // Every built-in makes traffic: pktgen frames somewhere, or a ping.
    uint64_t frames = 0;
    bool ping = false;
    for (const auto& h : r->scenario.host_list) {
      for (const auto& n : h.nics) frames += n.host.count;
      ping = ping || (h.ping && h.ping->enabled) || !h.udp_send.empty() || h.udp_rr;  // or a UDP application
      ping = ping || !h.tcp_iperf3_client.empty() || !h.tcp_rr.empty() || !h.tcp_crr.empty();  // or a TCP one
    }
    EXPECT_TRUE(frames > 0 || ping) << b.name;
    EXPECT_FALSE(b.summary.empty());
    EXPECT_EQ(b.summary.find('\n'), std::string_view::npos);
  }
  std::string err;
  EXPECT_FALSE(vnic::tb::scenario_layer("builtin:nope", &err));
  EXPECT_NE(err.find("builtin:nope"), std::string::npos);
}

TEST(ScenarioOverlay, HashIsFnv1a64) {
  EXPECT_EQ(vnic::tb::fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(vnic::tb::fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(vnic::tb::fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Pcap, ReadingGarbageOrAMissingFileIsAnErrorNotACrash) {
  std::string err;
  EXPECT_FALSE(vnic::tb::read_pcap("/nonexistent/file.pcap", &err));
  EXPECT_NE(err.find("/nonexistent/file.pcap"), std::string::npos);
  const std::string path = std::string(::testing::TempDir()) + "garbage.pcap";
  std::ofstream(path) << "this is not a capture file at all, just some words";
  EXPECT_FALSE(vnic::tb::read_pcap(path, &err));
  EXPECT_FALSE(err.empty());
  std::remove(path.c_str());
}
}  // namespace

// ------------------------------------------------------------------ hosts, NICs and links

namespace topo {

std::optional<vnic::tb::ResolvedScenario> over_default(const std::string& text, std::string* err) {
  return vnic::tb::resolve_scenario({{text, "my.toml"}}, {}, err);
}

// Refused, with the message holding `want` (the key, and why); `text` is laid over `base`, if any.
void expect_refused(const std::string& text, const std::string& want, const std::string& base = "") {
  std::string err;
  std::vector<vnic::tb::ScenarioLayer> layers;
  if (!base.empty()) layers.push_back({base, "base.toml"});
  layers.push_back({text, "my.toml"});
  EXPECT_FALSE(vnic::tb::resolve_scenario(layers, {}, &err)) << text;
  EXPECT_NE(err.find(want), std::string::npos) << "wanted: " << want << "\ngot: " << err << "\nfor:\n" << text;
}

const char* kThree = R"([host.a.eth1]
address = "10.0.1.1/24"
frames = 7
[host.c]
address = "10.0.1.2/24"
[link.ac]
ends = ["a.eth1", "c.eth0"]
)";

// kThree with more keys for its link.
std::string three_with_link(const std::string& link_keys) {
  std::string t = kThree;
  return t + link_keys;
}

}  // namespace topo

TEST(ScenarioTopology, TheDefaultHasTwoHostsOneLinkAndTheirAddresses) {
  std::string err;
  const auto r = topo::over_default("", &err);
  ASSERT_TRUE(r) << err;
  const auto& s = r->scenario;
  ASSERT_EQ(s.host_list.size(), 2u);
  EXPECT_EQ(s.host_list[0].name, "a");
  EXPECT_EQ(s.host_list[1].name, "b");
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].ends[0].str(), "a.eth0");
  EXPECT_EQ(s.links[0].ends[1].str(), "b.eth0");
  EXPECT_EQ(s.links[0].faults.seed, s.seed);  // [link] draws as it did before links had names
  ASSERT_TRUE(s.nic_side("a").address);
  EXPECT_EQ(s.nic_side("a").address->str(), "10.0.0.1/24");
  EXPECT_EQ(s.nic_side("b").address->str(), "10.0.0.2/24");
  EXPECT_TRUE(s.nic_side("a").qdisc.empty());  // the host's default_qdisc
  // The default pings b from a during the flood: ping -c 5 -i 0.002 10.0.0.2; b pings nobody.
  ASSERT_TRUE(s.host("a").ping);
  EXPECT_EQ(s.host("a").ping->dst, (10u << 24) | 2u);
  EXPECT_EQ(s.host("a").ping->count, 5u);
  EXPECT_EQ(s.host("a").ping->interval_ms, 2u);
  EXPECT_EQ(s.host("a").ping->size, 56u);
  EXPECT_EQ(s.host("a").ping->start_ms, 0u);
  EXPECT_FALSE(s.host("a").ping->ttl);
  EXPECT_FALSE(s.host("a").ping->deadline_s);
  EXPECT_TRUE(s.host("a").ping->enabled);  // enabled unless a layer says otherwise
  EXPECT_FALSE(s.host("b").ping);
  EXPECT_TRUE(s.host("a").routes.empty());
  // Debian 12's default_qdisc and Linux 6.1's other defaults, in every host.
  for (const auto& h : s.host_list) {
    EXPECT_EQ(h.sysctl.default_qdisc, "fq_codel");
    EXPECT_EQ(h.sysctl.ip_forward, 0);
    EXPECT_EQ(h.sysctl.ip_default_ttl, 64);
    EXPECT_EQ(h.sysctl.arp_notify, 0);
    EXPECT_EQ(h.sysctl.icmp_ratelimit, 1000);
    EXPECT_EQ(h.sysctl.icmp_ratemask, 6168u);
    EXPECT_EQ(h.sysctl.icmp_msgs_per_sec, 1000);
    EXPECT_EQ(h.sysctl.icmp_msgs_burst, 50);
    EXPECT_EQ(h.sysctl.icmp_echo_ignore_all, 0);
    EXPECT_EQ(h.sysctl.icmp_echo_ignore_broadcasts, 1);
    EXPECT_EQ(h.sysctl.core.netdev_max_backlog, 1000u);
  }
  // The stack's CPU costs: the stack's own defaults, as keys in [cpu].
  EXPECT_EQ(s.stack_costs.ip_rcv, vnic::stack::CpuCosts{}.ip_rcv);
  EXPECT_EQ(s.stack_costs.icmp, vnic::stack::CpuCosts{}.icmp);
  for (const char* key : {"ip_rcv_ns", "ip_local_deliver_ns", "ip_output_ns", "tc_ingress_ns", "tap_ns", "icmp_ns",
                          "icmp_ratemask", "default_qdisc", "address = '10.0.0.1/24'"}) {
    EXPECT_NE(r->toml.find(key), std::string::npos) << key;  // vnic show prints them
  }
}

TEST(ScenarioTopology, EveryNewKeyIsApplied) {
  std::string err;
  const auto r = topo::over_default(topo::three_with_link("speed = \"25G\"\npropagation_ns = 50\nber = 1e-9\n"
                                                          "drop_rate = 0.01\npcap = \"ac.pcap\"\n") + R"(
[host.a]
routes = ["10.0.2.0/24 via 10.0.1.2 dev eth1 metric 10 src 10.0.1.1", "default via 10.0.0.2"]
qdisc = "noqueue"
tcpdump = "a-eth0.pcap"
[host.a.ping]
dst = "10.0.1.2"
count = 3
interval_ms = 200
size = 1000
ttl = 9
start_ms = 5
deadline_s = 2
[sysctl]
icmp_ratelimit = 250
icmp_echo_ignore_all = 1
[host.c.sysctl]
icmp_ratelimit = 0
ip_default_ttl = 128
default_qdisc = "noqueue"
[cpu]
ip_rcv_ns = 111
ip_local_deliver_ns = 112
ip_output_ns = 113
tc_ingress_ns = 114
tap_ns = 115
icmp_ns = 116
)",
                                    &err);
  ASSERT_TRUE(r) << err;
  const auto& s = r->scenario;
  ASSERT_EQ(s.host_list.size(), 3u);
  const auto& a = s.host("a");
  ASSERT_EQ(a.nics.size(), 2u);
  EXPECT_EQ(a.nics[1].ifname, "eth1");
  EXPECT_EQ(a.nics[1].host.count, 7u);
  EXPECT_EQ(a.nics[1].address->str(), "10.0.1.1/24");
  EXPECT_EQ(a.nics[1].mac.str(), "02:00:00:00:01:0a");  // the default: NIC 1 of the first host
  EXPECT_EQ(s.nic_side("c").mac.str(), "02:00:00:00:00:0c");
  EXPECT_EQ(a.nics[1].host.coalesce.rx_usecs, 8u);      // the driver's default moderation
  EXPECT_EQ(a.nics[1].host.coalesce.tx_frames, 32u);
  EXPECT_EQ(a.nics[0].qdisc, "noqueue");
  EXPECT_EQ(a.nics[0].tcpdump, "a-eth0.pcap");
  EXPECT_TRUE(a.nics[1].tcpdump.empty());
  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_EQ(a.routes[0].dst.str(), "10.0.2.0/24");
  EXPECT_EQ(vnic::tb::ipv4_str(*a.routes[0].via), "10.0.1.2");
  EXPECT_EQ(a.routes[0].dev, "eth1");
  EXPECT_EQ(*a.routes[0].metric, 10u);
  EXPECT_EQ(vnic::tb::ipv4_str(*a.routes[0].src), "10.0.1.1");
  EXPECT_EQ(a.routes[1].dst.prefix, 0u);
  EXPECT_TRUE(a.routes[1].dev.empty());
  ASSERT_TRUE(a.ping);
  EXPECT_EQ(vnic::tb::ipv4_str(a.ping->dst), "10.0.1.2");
  EXPECT_EQ(a.ping->count, 3u);
  EXPECT_EQ(a.ping->interval_ms, 200u);
  EXPECT_EQ(a.ping->size, 1000u);
  EXPECT_EQ(*a.ping->ttl, 9u);
  EXPECT_EQ(a.ping->start_ms, 5u);
  EXPECT_EQ(*a.ping->deadline_s, 2u);
  EXPECT_FALSE(s.host("b").ping);
  // [sysctl] for every host, [host.c.sysctl] over it for c alone.
  EXPECT_EQ(a.sysctl.icmp_ratelimit, 250);
  EXPECT_EQ(a.sysctl.icmp_echo_ignore_all, 1);
  EXPECT_EQ(a.sysctl.ip_default_ttl, 64);
  EXPECT_EQ(s.host("c").sysctl.icmp_ratelimit, 0);
  EXPECT_EQ(s.host("c").sysctl.icmp_echo_ignore_all, 1);
  EXPECT_EQ(s.host("c").sysctl.ip_default_ttl, 128);
  EXPECT_EQ(s.host("c").sysctl.default_qdisc, "noqueue");
  EXPECT_EQ(s.host("b").sysctl.default_qdisc, "fq_codel");
  EXPECT_EQ(s.stack_costs.ip_rcv.ps(), 111'000);
  EXPECT_EQ(s.stack_costs.ip_local_deliver.ps(), 112'000);
  EXPECT_EQ(s.stack_costs.ip_output.ps(), 113'000);
  EXPECT_EQ(s.stack_costs.tc_ingress.ps(), 114'000);
  EXPECT_EQ(s.stack_costs.tap.ps(), 115'000);
  EXPECT_EQ(s.stack_costs.icmp.ps(), 116'000);
  ASSERT_EQ(s.links.size(), 2u);
  const auto& l = s.link("ac");
  EXPECT_EQ(l.ends[0].str(), "a.eth1");
  EXPECT_EQ(l.ends[1].str(), "c.eth0");
  EXPECT_EQ(l.rate.bps(), 25'000'000'000u);
  EXPECT_EQ(l.propagation.ps(), 50'000);
  EXPECT_DOUBLE_EQ(l.faults.bit_error_rate, 1e-9);
  EXPECT_DOUBLE_EQ(l.faults.drop_probability, 0.01);
  EXPECT_EQ(l.pcap, "ac.pcap");
  EXPECT_NE(l.faults.seed, s.link().faults.seed);  // each link its own fault stream
  EXPECT_EQ(s.link().rate.bps(), 10'000'000'000u);  // [link] keeps its own
}

TEST(ScenarioTopology, LinkFaultKeysPerDirectionAndListedDrops) {
  using vnic::tb::FaultDirection;
  std::string err;
  auto r = topo::over_default("[link]\nfault_direction = \"b_to_a\"\ndrop_frames = [9, 3, 3]\n", &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->scenario.link().faults.direction, FaultDirection::BToA);
  EXPECT_EQ(r->scenario.link().faults.drop_frames, (std::vector<uint64_t>{3, 9}));  // sorted, once each
  r = topo::over_default(topo::three_with_link("fault_direction = \"a_to_b\"\n"), &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->scenario.link("ac").faults.direction, FaultDirection::AToB);
  EXPECT_EQ(r->scenario.link().faults.direction, FaultDirection::Both);  // the default
  EXPECT_TRUE(r->scenario.link().faults.drop_frames.empty());

  using topo::expect_refused;
  const std::string three(topo::kThree);
  expect_refused("[link]\nfault_direction = \"up\"\n",
                 "my.toml: link.fault_direction: 'up' is not one of both, a_to_b (a.eth0 to b.eth0), b_to_a");
  expect_refused("[link.ac]\nfault_direction = \"b_to_c\"\n",
                 "link.ac.fault_direction: 'b_to_c' is not one of both, a_to_b (a.eth1 to c.eth0), b_to_a", three);
  expect_refused("[link]\nfault_direction = 1\n", "link.fault_direction: expected a string");
  expect_refused("[link]\ndrop_frames = 4\n", "link.drop_frames: expected an array of frame numbers, like [1, 5]");
  expect_refused("[link]\ndrop_frames = [1, \"2\"]\n", "link.drop_frames[1]: expected an integer");
  expect_refused("[link]\ndrop_frames = [1.5]\n", "link.drop_frames[0]: expected an integer");
  expect_refused("[link]\ndrop_frames = [2, 0]\n", "link.drop_frames[1]: 0 is not a frame number (1, 2, ...)");
  expect_refused("[link.ac]\ndrop_frames = [-1]\n", "link.ac.drop_frames[0]: -1 is not a frame number", three);
}

TEST(ScenarioTopology, LinkReorderAndDuplicationKeys) {
  std::string err;
  auto r = topo::over_default("[link]\nreorder_rate = 0.05\nreorder_depth = 3\nreorder_max_ns = 20000\n"
                              "duplicate_rate = 0.01\n",
                              &err);
  ASSERT_TRUE(r) << err;
  const auto& f = r->scenario.link().faults;
  EXPECT_DOUBLE_EQ(f.reorder_rate, 0.05);
  EXPECT_EQ(f.reorder_depth, 3u);
  EXPECT_EQ(f.reorder_max_ns, 20'000u);
  EXPECT_DOUBLE_EQ(f.duplicate_rate, 0.01);
  r = topo::over_default("", &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->scenario.link().faults.reorder_rate, 0.0);
  EXPECT_EQ(r->scenario.link().faults.reorder_depth, 1u);
  EXPECT_EQ(r->scenario.link().faults.reorder_max_ns, 1'000'000u);  // 1 ms
  EXPECT_EQ(r->scenario.link().faults.duplicate_rate, 0.0);

  using topo::expect_refused;
  const std::string three(topo::kThree);
  expect_refused("[link]\nreorder_rate = 1.5\n", "my.toml: link.reorder_rate: 1.5 is outside 0..1");
  expect_refused("[link]\nreorder_rate = \"often\"\n", "link.reorder_rate: expected a number");
  expect_refused("[link]\nreorder_depth = 0\n", "link.reorder_depth: 0 is outside 1..64");
  expect_refused("[link.ac]\nreorder_depth = 65\n", "link.ac.reorder_depth: 65 is outside 1..64", three);
  expect_refused("[link]\nreorder_depth = 2.5\n", "link.reorder_depth: expected an integer");
  expect_refused("[link]\nreorder_max_ns = 0\n", "link.reorder_max_ns: 0 is outside 1..1000000000");
  expect_refused("[link]\nduplicate_rate = -0.1\n", "link.duplicate_rate: -0.1 is outside 0..1");
  expect_refused("[link.ac]\nduplicate_rate = true\n", "link.ac.duplicate_rate: expected a number", three);
}

TEST(ScenarioTopology, BadValuesAreRefusedNamingTheKey) {
  using topo::expect_refused;
  using topo::kThree;
  const std::string three(kThree);
  // Addresses.
  expect_refused("[host.a]\naddress = \"10.0.0.300/24\"\n", "my.toml: host.a.address: '10.0.0.300/24' is not an IPv4");
  expect_refused("[host.a]\naddress = \"10.0.0.1/33\"\n", "host.a.address");
  expect_refused("[host.a]\naddress = \"10.0.0.1\"\n", "host.a.address");
  expect_refused("[host.a]\naddress = \"224.0.0.1/4\"\n", "host.a.address: '224.0.0.1/4' is not a unicast");
  expect_refused("[host.a.eth1]\naddress = 7\n", "host.a.eth1.address: expected a string", three);
  expect_refused("[host.b]\nqdisc = \"fq\"\n", "host.b.qdisc: 'fq' is not one of fq_codel, pfifo_fast, noqueue");
  expect_refused("[host.b]\ntcpdump = \"\"\n", "host.b.tcpdump: is empty");
  expect_refused("[host.b]\ntcpdump = 3\n", "host.b.tcpdump: expected a string");
  // Routes.
  expect_refused("[host.a]\nroutes = [\"10.0.2.0/24 via 10.0.0.2 dev eth3\"]\n",
                 "host.a.routes[0]: '10.0.2.0/24 via 10.0.0.2 dev eth3': dev eth3: host a has no such device");
  expect_refused("[host.a]\nroutes = [\"default via 10.0.0.2\", \"10.0.2.1/24 dev eth0\"]\n",
                 "host.a.routes[1]: '10.0.2.1/24 dev eth0': 10.0.2.1/24 has host bits set");
  expect_refused("[host.a]\nroutes = [\"10.0.2.0/24\"]\n", "my.toml: host.a.routes[0]: '10.0.2.0/24': needs a gateway");
  // iptables commands: iptables' own message, named by the file that gave them.
  expect_refused("[host.b]\niptables = [\"-A FORWARD -j ACCEPT\", \"-A FORWARD -p udp --dport 70000 -j DROP\"]\n",
                 "my.toml: host.b.iptables[1]: '-A FORWARD -p udp --dport 70000 -j DROP': iptables v1.8.9 (legacy)");
  expect_refused("[host.b]\niptables = [\"-t mangle -A PREROUTING -j REJECT\"]\n", "my.toml: host.b.iptables[0]");
  expect_refused("[host.b]\niptables = \"-P INPUT DROP\"\n", "host.b.iptables: expected an array");
  expect_refused("[host.a]\nroutes = [\"default via 10.0.0.2 weight 3\"]\n", "'weight' is not one of via, dev, metric, src");
  expect_refused("[host.a]\nroutes = [\"default via x\"]\n", "host.a.routes[0]: 'default via x': via x: not an IPv4");
  expect_refused("[host.a]\nroutes = \"default via 10.0.0.2\"\n", "host.a.routes: expected an array");
  // Sysctls.
  expect_refused("[sysctl]\ntcp_bogus = 1\n", "my.toml: sysctl.tcp_bogus: unknown key");
  expect_refused("[host.b.sysctl]\nicmp_bogus = 1\n", "my.toml: host.b.sysctl.icmp_bogus: unknown key");
  expect_refused("[sysctl]\nip_forward = 2\n", "sysctl.ip_forward: 2 is outside 0..1");
  expect_refused("[host.a.sysctl]\nipfrag_low_thresh = 5000000\n",
                 "host.a.sysctl.ipfrag_low_thresh: 5000000 is above ipfrag_high_thresh 4194304");
  expect_refused("[sysctl]\nipfrag_time = 0\n", "sysctl.ipfrag_time: 0 is outside 1..86400");
  expect_refused("[sysctl]\nip_default_ttl = 0\n", "sysctl.ip_default_ttl: 0 is outside 1..255");
  expect_refused("[sysctl]\ndefault_qdisc = \"sfq\"\n", "sysctl.default_qdisc: 'sfq' is not one of");
  expect_refused("[sysctl]\nicmp_echo_ignore_all = 2\n", "sysctl.icmp_echo_ignore_all: 2 is outside 0..1");
  // Ping.
  // (host b: the default's [host.a.ping] already has a dst.)
  expect_refused("[host.b.ping]\ncount = 3\n", "host.b.ping.dst: is required");
  expect_refused("[host.a.ping]\ndst = \"10.0.0\"\n", "host.a.ping.dst: '10.0.0' is not an IPv4 address");
  expect_refused("[host.a.ping]\ndst = \"10.0.0.2\"\nttl = 0\n", "host.a.ping.ttl: 0 is outside 1..255");
  expect_refused("[host.a.ping]\ndst = \"10.0.0.2\"\nflood = true\n", "host.a.ping.flood: unknown key");
  // UDP applications.
  expect_refused("[host.a.udp_send]\nport = 5001\n", "host.a.udp_send.dst: is required");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\nrate = \"fast\"\n",
                 "host.a.udp_send.rate: expected bits per second like \"1G\"");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\nrate = \"900G\"\n", "host.a.udp_send.rate: expected bits");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\nrate = -1\n", "host.a.udp_send.rate: expected bits");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\nlen = 70000\n", "host.a.udp_send.len: 70000 is outside 56..65507");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\ncount = 5\nduration_ms = 5\n",
                 "host.a.udp_send.duration_ms: give count or duration_ms, not both");
  expect_refused("[host.a.udp_send]\ndst = \"10.0.0.2\"\nport = 0\n", "host.a.udp_send.port: 0 is outside 1..65535");
  expect_refused("[host.b.udp_recv]\nrcvbuf = 0\n", "host.b.udp_recv.rcvbuf: 0 is outside 1..");
  expect_refused("[host.b.udp_recv]\nuse_epoll = 1\n", "host.b.udp_recv.use_epoll: expected true or false");
  expect_refused("[host.b.udp_recv]\nread_cost = 5\n", "host.b.udp_recv.read_cost: unknown key");
  expect_refused("[host.a.udp_rr]\ndst = \"10.0.0\"\n", "host.a.udp_rr.dst: '10.0.0' is not an IPv4 address");
  expect_refused("[host.a.udp_rr]\ndst = \"10.0.0.2\"\nreq = 0\n", "host.a.udp_rr.req: 0 is outside 1..65507");
  expect_refused("[host.b.udp_rr_server]\nport = 70000\n", "host.b.udp_rr_server.port: 70000 is outside 1..65535");
  expect_refused("[host.b]\nudp_recv = 5\n", "host.b.udp_recv: expected a table, or an array of tables");
  expect_refused("[host.b]\nudp_recv = []\n", "host.b.udp_recv: expected a table, or an array of tables");
  expect_refused("[host.b]\nudp_recv = [5]\n", "host.b.udp_recv[0]: expected a table");
  expect_refused("[[host.a.udp_send]]\ndst = \"10.0.0.2\"\n[[host.a.udp_send]]\nport = 7\n",
                 "host.a.udp_send[1].dst: is required");
  expect_refused("[[host.b.udp_recv]]\nport = 7\n[[host.b.udp_recv]]\nport = 7\n",
                 "host.b.udp_recv[1].port: 7 is taken by host.b.udp_recv[0] (bind would fail: EADDRINUSE)");
  expect_refused("[host.b.udp_recv]\nport = 9\n[host.b.udp_rr_server]\nport = 9\n",
                 "host.b.udp_rr_server.port: 9 is taken by host.b.udp_recv");
  expect_refused("[scenario]\nhosts = \"direct\"\n[host.b.udp_recv]\n",
                 "host.b.udp_recv: UDP applications run on the protocol stack: they need driver hosts");
  // Hosts and NICs.
  expect_refused("[host.A]\ntx = 64\n", "host.A: a host name is a lower-case letter");
  expect_refused("[host.a.eth2]\nframes = 1\n", "host.a.eth2: host a has no eth1");
  expect_refused("[host.a.eth0]\nframes = 1\n", "host.a.eth0: eth0's keys go in [host.a] itself");
  expect_refused("[host.a.eth1]\nbogus = 1\n", "host.a.eth1.bogus: unknown key");
  expect_refused("[host.a.eth1]\nframes = 1\n",
                 "my.toml: host.a.eth1: host.a.eth1 is on no link");
  expect_refused("[host.c]\nframes = 1\n", "host.c: host.c.eth0 is on no link");
  expect_refused("[host.c]\nmac = \"02:00:00:00:01:0a\"\n", "host.c.mac: must differ from host.a.eth1.mac", three);
  // Links.
  expect_refused("[link.ab2]\nends = [\"a.eth0\", \"c.eth0\"]\n",
                 "link.ab2.ends: a.eth0 is on link already (a port takes one link)", three);
  expect_refused("[link.zz]\nends = [\"a.eth1\", \"b.eth0\"]\n", "a.eth1 is on link.ac already", three);
  expect_refused("[link.ac]\nends = [\"a.eth1\", \"c.eth1\"]\n", "link.ac.ends: c.eth1: host c has no NIC eth1", three);
  expect_refused("[link.ac]\nends = [\"a.eth1\", \"d.eth0\"]\n", "link.ac.ends: d.eth0: there is no host d", three);
  expect_refused("[link.ac]\nends = [\"a.eth1\"]\n", "link.ac.ends: expected two ports", three);
  expect_refused("[link.ac]\nends = [\"a.eth1\", \"c\"]\n", "link.ac.ends: 'c' is not a port like a.eth1", three);
  expect_refused("[link.ac]\nends = [\"a.eth1\", \"a.eth1\"]\n", "both ends are a.eth1", three);
  expect_refused("[link.ac]\nspeed = \"3G\"\n", "link.ac.speed: '3G' is not one of", three);
  expect_refused("[link.ac]\ncolour = \"red\"\n", "link.ac.colour: unknown key", three);
  expect_refused("[link.x]\nspeed = \"10G\"\n", "link.x.ends: expected two ports");
  expect_refused("[link]\nends = [\"a.eth0\", \"b.eth0\"]\n", "link.ends: unknown key");
  expect_refused("[link]\npcap = \"w.pcap\"\n[link.ac]\npcap = \"w.pcap\"\n", "link.ac.pcap: 'w.pcap' is link's capture too", three);
  // A direct host has one NIC.
  expect_refused("[scenario]\nhosts = \"direct\"\n",
                 "host.a.eth1: a direct host (scenario.hosts = \"direct\") has one NIC", three);
}

TEST(ScenarioTopology, APingIsTurnedOffByEnabledFalseOverALowerLayer) {
  std::string err;
  // Over the default's [host.a.ping]: the ping stays described but is off.
  const auto off = topo::over_default("[host.a.ping]\nenabled = false\n", &err);
  ASSERT_TRUE(off) << err;
  ASSERT_TRUE(off->scenario.host("a").ping);
  EXPECT_FALSE(off->scenario.host("a").ping->enabled);
  EXPECT_EQ(vnic::tb::ipv4_str(off->scenario.host("a").ping->dst), "10.0.0.2");
  EXPECT_NE(off->toml.find("enabled = false"), std::string::npos) << off->toml;  // vnic show
  // A disabled ping needs no dst; enabled = true is the default spelled out.
  const auto b_off = topo::over_default("[host.b.ping]\nenabled = false\n", &err);
  ASSERT_TRUE(b_off) << err;
  ASSERT_TRUE(b_off->scenario.host("b").ping);
  EXPECT_FALSE(b_off->scenario.host("b").ping->enabled);
  const auto on = topo::over_default("[host.a.ping]\nenabled = true\n", &err);
  ASSERT_TRUE(on) << err;
  EXPECT_TRUE(on->scenario.host("a").ping->enabled);
  // Strict like the other keys: a boolean, and an enabled ping still needs its dst.
  topo::expect_refused("[host.a.ping]\nenabled = 0\n", "my.toml: host.a.ping.enabled: expected true or false");
  topo::expect_refused("[host.a.ping]\nenabled = \"no\"\n", "host.a.ping.enabled: expected true or false");
  topo::expect_refused("[host.b.ping]\nenabled = true\ncount = 3\n", "host.b.ping.dst: is required");
  // The built-ins about the NIC or driver alone turn the default's ping off; default and
  // three-hosts keep it.
  for (const char* name : {"line-rate", "moderation", "ring-overflow", "bad-fcs", "backlog-overflow", "three-hosts"}) {
    const auto layer = vnic::tb::scenario_layer(std::string("builtin:") + name, &err);
    ASSERT_TRUE(layer) << err;
    const auto r = vnic::tb::resolve_scenario({*layer}, {}, &err);
    ASSERT_TRUE(r) << name << ": " << err;
    ASSERT_TRUE(r->scenario.host("a").ping) << name;
    EXPECT_EQ(r->scenario.host("a").ping->enabled, std::string_view(name) == "three-hosts") << name;
  }
}

// net.ipv4.tcp_* sysctls: Linux 6.1's defaults, [sysctl] for every host, [host.NAME.sysctl] over
// it for one; bad values refused naming the key.
TEST(ScenarioTopology, TcpSysctlsAreAppliedPerHostAndBadValuesRefused) {
  std::string err;
  const auto def = topo::over_default("", &err);
  ASSERT_TRUE(def) << err;
  const vnic::stack::TcpSysctls& d = def->scenario.host("a").sysctl.tcp;
  EXPECT_EQ(d.tcp_rmem[0], 4096u);
  EXPECT_EQ(d.tcp_rmem[1], 131072u);
  EXPECT_EQ(d.tcp_rmem[2], 6291456u);
  EXPECT_EQ(d.tcp_wmem[0], 4096u);
  EXPECT_EQ(d.tcp_wmem[1], 16384u);
  EXPECT_EQ(d.tcp_wmem[2], 4194304u);
  EXPECT_EQ(d.tcp_congestion_control, "cubic");
  EXPECT_TRUE(d.tcp_sack && d.tcp_timestamps && d.tcp_window_scaling);
  EXPECT_EQ(d.tcp_recovery, 1);
  EXPECT_EQ(d.tcp_early_retrans, 3);
  const auto r = topo::over_default(R"([sysctl]
tcp_congestion_control = "reno"
tcp_sack = 0
tcp_rmem = [4096, 87380, 1048576]
[host.b.sysctl]
tcp_congestion_control = "cubic"
tcp_timestamps = 0
tcp_window_scaling = 0
tcp_recovery = 0
tcp_early_retrans = 0
tcp_wmem = [8192, 65536, 1048576]
)",
                                    &err);
  ASSERT_TRUE(r) << err;
  const vnic::stack::TcpSysctls& a = r->scenario.host("a").sysctl.tcp;
  const vnic::stack::TcpSysctls& b = r->scenario.host("b").sysctl.tcp;
  EXPECT_EQ(a.tcp_congestion_control, "reno");
  EXPECT_FALSE(a.tcp_sack);
  EXPECT_TRUE(a.tcp_timestamps && a.tcp_window_scaling);
  EXPECT_EQ(a.tcp_rmem[1], 87380u);
  EXPECT_EQ(a.tcp_wmem[1], 16384u);
  EXPECT_EQ(a.tcp_recovery, 1);
  EXPECT_EQ(b.tcp_congestion_control, "cubic");
  EXPECT_FALSE(b.tcp_sack);  // from [sysctl]
  EXPECT_FALSE(b.tcp_timestamps || b.tcp_window_scaling);
  EXPECT_EQ(b.tcp_rmem[2], 1048576u);
  EXPECT_EQ(b.tcp_wmem[0], 8192u);
  EXPECT_EQ(b.tcp_wmem[1], 65536u);
  EXPECT_EQ(b.tcp_recovery, 0);
  EXPECT_EQ(b.tcp_early_retrans, 0);
  EXPECT_NE(r->toml.find("tcp_congestion_control = 'reno'"), std::string::npos) << r->toml;  // vnic show

  topo::expect_refused("[sysctl]\ntcp_congestion_control = \"bbr\"\n",
                       "my.toml: sysctl.tcp_congestion_control: 'bbr' is not one of cubic, reno");
  topo::expect_refused("[host.a.sysctl]\ntcp_congestion_control = 1\n",
                       "host.a.sysctl.tcp_congestion_control: expected a string");
  topo::expect_refused("[sysctl]\ntcp_sack = 2\n", "sysctl.tcp_sack: 2 is outside 0..1");
  topo::expect_refused("[sysctl]\ntcp_timestamps = true\n", "sysctl.tcp_timestamps: expected an integer");
  topo::expect_refused("[host.b.sysctl]\ntcp_window_scaling = -1\n",
                       "host.b.sysctl.tcp_window_scaling: -1 is outside 0..1");
  topo::expect_refused("[sysctl]\ntcp_recovery = 8\n", "sysctl.tcp_recovery: 8 is outside 0..7");
  topo::expect_refused("[sysctl]\ntcp_early_retrans = 5\n", "sysctl.tcp_early_retrans: 5 is outside 0..4");
  topo::expect_refused("[sysctl]\ntcp_rmem = [4096, 131072]\n",
                       "sysctl.tcp_rmem: expected three integers [min, default, max]");
  topo::expect_refused("[sysctl]\ntcp_rmem = 131072\n", "sysctl.tcp_rmem: expected three integers");
  topo::expect_refused("[sysctl]\ntcp_wmem = [4096, \"16k\", 65536]\n", "sysctl.tcp_wmem: expected three integers");
  topo::expect_refused("[sysctl]\ntcp_wmem = [0, 16384, 65536]\n", "sysctl.tcp_wmem: 0 is outside 1..2147483647");
  topo::expect_refused("[host.a.sysctl]\ntcp_rmem = [4096, 131072, 65536]\n",
                       "host.a.sysctl.tcp_rmem: [4096, 131072, 65536] is not in order (min <= default <= max)");
  topo::expect_refused("[sysctl]\ntcp_foo = 1\n", "my.toml: sysctl.tcp_foo: unknown key");
}

// Several iperf clients or servers on a host: [[host.NAME.udp_send]] / [[host.NAME.udp_recv]],
// in the order given; one table is the one-element case.
TEST(ScenarioTopology, UdpAppsTakeATableOrAnArrayOfTables) {
  std::string err;
  const auto r = topo::over_default(
      "[[host.a.udp_send]]\ndst = \"10.0.0.2\"\nport = 6001\ncount = 3\n"
      "[[host.a.udp_send]]\ndst = \"10.0.0.2\"\nport = 6002\nrate = \"2M\"\n"
      "[[host.b.udp_recv]]\nport = 6001\n[[host.b.udp_recv]]\nport = 6002\nrcvbuf = 4096\n"
      "[host.a.udp_recv]\nport = 7000\n",
      &err);
  ASSERT_TRUE(r) << err;
  const auto& a = r->scenario.host("a");
  const auto& b = r->scenario.host("b");
  ASSERT_EQ(a.udp_send.size(), 2u);
  EXPECT_EQ(a.udp_send[0].port, 6001);
  EXPECT_EQ(a.udp_send[0].count, 3u);
  EXPECT_EQ(a.udp_send[1].port, 6002);
  EXPECT_EQ(a.udp_send[1].rate_bps, 2'000'000u);
  EXPECT_EQ(a.udp_send[1].count, 0u);  // the first one's keys do not leak into the second
  ASSERT_EQ(b.udp_recv.size(), 2u);
  EXPECT_EQ(b.udp_recv[1].rcvbuf, 4096);
  EXPECT_EQ(b.udp_recv[0].rcvbuf, 0);
  ASSERT_EQ(a.udp_recv.size(), 1u);
  EXPECT_EQ(a.udp_recv[0].port, 7000);
  EXPECT_TRUE(b.udp_send.empty());
}

// TCP applications: one table or an array of tables each; a client's dst a host's name (its
// first NIC's address) or an address; a netserver takes its test and sizes from its client.
// net.ipv4.tcp_ecn (6.1's default 2: accept ECN when asked, never ask) and tcp_ecn_fallback (1),
// per host over [sysctl]; values outside Linux's ranges are refused naming what each value means.
TEST(ScenarioTopology, TcpEcnSysctls) {
  std::string err;
  const auto def = topo::over_default("", &err);
  ASSERT_TRUE(def) << err;
  EXPECT_EQ(def->scenario.host("a").sysctl.tcp.tcp_ecn, 2);
  EXPECT_EQ(def->scenario.host("a").sysctl.tcp.tcp_ecn_fallback, 1);
  const auto r = topo::over_default("[sysctl]\ntcp_ecn = 0\n[host.a.sysctl]\ntcp_ecn = 1\ntcp_ecn_fallback = 0\n", &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->scenario.host("a").sysctl.tcp.tcp_ecn, 1);
  EXPECT_EQ(r->scenario.host("a").sysctl.tcp.tcp_ecn_fallback, 0);
  EXPECT_EQ(r->scenario.host("b").sysctl.tcp.tcp_ecn, 0);
  EXPECT_EQ(r->scenario.host("b").sysctl.tcp.tcp_ecn_fallback, 1);
  topo::expect_refused("[sysctl]\ntcp_ecn = 3\n",
                       "sysctl.tcp_ecn: 3 is not one of 0 (off), 1 (ask for ECN and accept it), 2 (accept it when asked)");
  topo::expect_refused("[host.b.sysctl]\ntcp_ecn = -1\n", "host.b.sysctl.tcp_ecn: -1 is not one of 0 (off)");
  topo::expect_refused("[sysctl]\ntcp_ecn = \"on\"\n", "sysctl.tcp_ecn: expected an integer");
  topo::expect_refused("[sysctl]\ntcp_ecn_fallback = 2\n", "sysctl.tcp_ecn_fallback: 2 is outside 0..1");
}

TEST(ScenarioTopology, TcpAppsTakeATableOrAnArrayOfTablesAndFindTheirServers) {
  std::string err;
  const auto r = topo::over_default(std::string(topo::kThree) + R"(
[[host.a.tcp_iperf3_client]]
dst = "b"
bytes = 1048576
len = 65536
[[host.a.tcp_iperf3_client]]
dst = "10.0.1.2"
port = 5202
interval_ms = 10
start_ms = 3
[host.b.tcp_iperf3_server]
[host.c.tcp_iperf3_server]
port = 5202
[host.a.tcp_rr]
dst = "b"
req = 64
resp = 1024
count = 10
nodelay = true
[host.c.tcp_crr]
dst = "10.0.1.1"
port = 7000
duration_ms = 20
latency = true
[host.b.netserver]
[host.a.netserver]
port = 7000
)",
                                    &err);
  ASSERT_TRUE(r) << err;
  const auto& a = r->scenario.host("a");
  const auto& b = r->scenario.host("b");
  const auto& c = r->scenario.host("c");
  ASSERT_EQ(a.tcp_iperf3_client.size(), 2u);
  EXPECT_EQ(a.tcp_iperf3_client[0].dst, *vnic::tb::parse_ipv4("10.0.0.2"));  // b's eth0
  EXPECT_EQ(a.tcp_iperf3_client[0].dst_host, "b");
  EXPECT_EQ(a.tcp_iperf3_client[0].port, 5201);
  EXPECT_EQ(a.tcp_iperf3_client[0].bytes, 1048576u);
  EXPECT_EQ(a.tcp_iperf3_client[0].len, 65536u);
  EXPECT_EQ(a.tcp_iperf3_client[1].dst, *vnic::tb::parse_ipv4("10.0.1.2"));
  EXPECT_EQ(a.tcp_iperf3_client[1].bytes, 0u);  // the first one's keys do not leak into the second
  EXPECT_EQ(a.tcp_iperf3_client[1].len, 128u * 1024);
  EXPECT_EQ(a.tcp_iperf3_client[1].interval_ms, 10u);
  EXPECT_EQ(a.tcp_iperf3_client[1].start_ms, 3u);
  ASSERT_EQ(b.tcp_iperf3_server.size(), 1u);
  EXPECT_EQ(b.tcp_iperf3_server[0].port, 5201);
  ASSERT_EQ(a.tcp_rr.size(), 1u);
  EXPECT_EQ(a.tcp_rr[0].port, 12866);
  EXPECT_EQ(a.tcp_rr[0].req, 64u);
  EXPECT_EQ(a.tcp_rr[0].resp, 1024u);
  EXPECT_EQ(a.tcp_rr[0].count, 10u);
  EXPECT_TRUE(a.tcp_rr[0].nodelay);
  ASSERT_EQ(c.tcp_crr.size(), 1u);
  EXPECT_EQ(c.tcp_crr[0].duration_ms, 20u);
  EXPECT_TRUE(c.tcp_crr[0].latency);
  // Each netserver serves what its client asks for.
  ASSERT_EQ(b.netserver.size(), 1u);
  EXPECT_FALSE(b.netserver[0].crr);
  EXPECT_EQ(b.netserver[0].req, 64u);
  EXPECT_EQ(b.netserver[0].resp, 1024u);
  ASSERT_EQ(a.netserver.size(), 1u);
  EXPECT_EQ(a.netserver[0].port, 7000);
  EXPECT_TRUE(a.netserver[0].crr);
  EXPECT_EQ(a.netserver[0].req, 1u);
  // A client to an address the scenario has no host for is not checked (a TAP's peer, say).
  EXPECT_TRUE(topo::over_default("[host.a.tcp_rr]\ndst = \"192.168.7.7\"\n", &err)) << err;
  EXPECT_TRUE(topo::over_default("[host.a.tcp_iperf3_client]\ndst = \"10.0.0.9\"\n", &err)) << err;
}

TEST(ScenarioTopology, BadTcpAppsAreRefusedNamingTheKey) {
  using topo::expect_refused;
  const std::string three(topo::kThree);
  const std::string server = "[host.b.tcp_iperf3_server]\n";
  const std::string ns = "[host.b.netserver]\n";
  // Keys and numbers.
  expect_refused("[host.a.tcp_iperf3_client]\nport = 5201\n" + server, "host.a.tcp_iperf3_client.dst: is required");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = 7\n" + server, "host.a.tcp_iperf3_client.dst: expected a string");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"10.0.0.300\"\n" + server,
                 "host.a.tcp_iperf3_client.dst: '10.0.0.300' is neither a host's name nor an IPv4 address");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"zz\"\n" + server,
                 "host.a.tcp_iperf3_client.dst: there is no host zz");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\nbytes = 1000\nduration_ms = 5\n" + server,
                 "host.a.tcp_iperf3_client.duration_ms: give bytes or duration_ms, not both");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\nbytes = 0\n" + server,
                 "host.a.tcp_iperf3_client.bytes: 0 is outside 1..");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\nlen = 0\n" + server,
                 "host.a.tcp_iperf3_client.len: 0 is outside 1..16777216");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\nport = 70000\n" + server,
                 "host.a.tcp_iperf3_client.port: 70000 is outside 1..65535");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\nrate = \"1G\"\n" + server,
                 "host.a.tcp_iperf3_client.rate: unknown key");
  expect_refused("[host.b.tcp_iperf3_server]\nport = 0\n", "host.b.tcp_iperf3_server.port: 0 is outside 1..65535");
  expect_refused("[host.b.tcp_iperf3_server]\ninterval_ms = 0\n", "host.b.tcp_iperf3_server.interval_ms: 0 is outside");
  expect_refused("[host.a.tcp_rr]\ndst = \"b\"\ncount = 5\nduration_ms = 5\n" + ns,
                 "host.a.tcp_rr.duration_ms: give count or duration_ms, not both");
  expect_refused("[host.a.tcp_rr]\ndst = \"b\"\nreq = 0\n" + ns, "host.a.tcp_rr.req: 0 is outside 1..");
  expect_refused("[host.a.tcp_rr]\ndst = \"b\"\nnodelay = 1\n" + ns, "host.a.tcp_rr.nodelay: expected true or false");
  expect_refused("[host.a.tcp_crr]\ndst = \"b\"\ncount = -3\n" + ns, "host.a.tcp_crr.count: -3 is outside 1..");
  expect_refused("[host.a.tcp_crr]\n" + ns, "host.a.tcp_crr.dst: is required");
  expect_refused("[host.b.netserver]\nport = 12866\ntest = \"TCP_RR\"\n", "host.b.netserver.test: unknown key");
  expect_refused("[host.b]\ntcp_rr = 5\n", "host.b.tcp_rr: expected a table, or an array of tables");
  expect_refused("[host.b]\nnetserver = [3]\n", "host.b.netserver[0]: expected a table");
  expect_refused("[[host.a.tcp_rr]]\ndst = \"b\"\n[[host.a.tcp_rr]]\nport = 7\n" + ns, "host.a.tcp_rr[1].dst: is required");
  // Ports taken: TCP listeners on one host (UDP's ports are apart).
  expect_refused("[[host.b.tcp_iperf3_server]]\nport = 7\n[[host.b.tcp_iperf3_server]]\nport = 7\n",
                 "host.b.tcp_iperf3_server[1].port: 7 is taken by host.b.tcp_iperf3_server[0] (bind would fail: "
                 "EADDRINUSE)");
  expect_refused("[host.b.tcp_iperf3_server]\nport = 7\n[host.b.netserver]\nport = 7\n",
                 "host.b.netserver.port: 7 is taken by host.b.tcp_iperf3_server");
  std::string err;
  EXPECT_TRUE(topo::over_default("[host.b.tcp_iperf3_server]\nport = 7\n[host.b.udp_recv]\nport = 7\n", &err)) << err;
  // A client without its server, when the destination is a host of the scenario.
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"b\"\n",
                 "host.a.tcp_iperf3_client: host b runs no tcp_iperf3_server on port 5201 (connect would be refused: "
                 "ECONNREFUSED)");
  expect_refused("[host.a.tcp_iperf3_client]\ndst = \"10.0.0.2\"\nport = 5202\n" + server,
                 "host.a.tcp_iperf3_client: host b runs no tcp_iperf3_server on port 5202");
  expect_refused("[host.a.tcp_rr]\ndst = \"b\"\n" + server, "host.a.tcp_rr: host b runs no netserver on port 12866");
  expect_refused("[host.a.tcp_crr]\ndst = \"10.0.1.2\"\n" + ns, "host.a.tcp_crr: host c runs no netserver on port 12866",
                 three);
  // One client per server.
  expect_refused("[[host.a.tcp_iperf3_client]]\ndst = \"b\"\n[[host.a.tcp_iperf3_client]]\ndst = \"b\"\n" + server,
                 "host.a.tcp_iperf3_client[1]: host b's tcp_iperf3_server on port 5201 serves "
                 "host.a.tcp_iperf3_client[0] already (iperf3 -s runs one test at a time");
  expect_refused("[host.a.tcp_rr]\ndst = \"b\"\n[host.a.tcp_crr]\ndst = \"b\"\n" + ns,
                 "host.a.tcp_crr: host b's netserver on port 12866 serves host.a.tcp_rr already");
  // Direct hosts run no stack.
  expect_refused("[scenario]\nhosts = \"direct\"\n[host.b.tcp_iperf3_server]\n",
                 "host.b.tcp_iperf3_server: TCP applications run on the protocol stack: they need driver hosts");
}

TEST(ScenarioTopology, TheThreeHostsBuiltinHasFourNicsOnTwoLinks) {
  std::string err;
  const auto r = vnic::tb::resolve_scenario({*vnic::tb::scenario_layer("builtin:three-hosts", &err)}, {}, &err);
  ASSERT_TRUE(r) << err;
  const auto& s = r->scenario;
  ASSERT_EQ(s.host_list.size(), 3u);
  EXPECT_EQ(s.host("a").nics.size(), 2u);
  ASSERT_EQ(s.links.size(), 2u);
  EXPECT_EQ(s.links[1].name, "ac");
  for (const auto& h : s.host_list) {
    for (const auto& n : h.nics) EXPECT_GT(n.host.count, 0u) << h.name << "." << n.ifname;  // traffic both ways on both links
  }
  EXPECT_NE(r->toml.find("ends = [ 'a.eth1', 'c.eth0' ]"), std::string::npos) << r->toml;  // vnic show
}

// ------------------------------------------------------------------ switches

TEST(ScenarioSwitch, HostsJoinASwitchInNameOrderAndTheDefaultLinkGoes) {
  std::string err;
  const auto r = topo::over_default(
      "[switch.sw0]\nports = 4\nspeed = \"25G\"\nport_speed = { c = \"1G\" }\nqueue_bytes = 100000\n"
      "latency_ns = 500\npropagation_ns = 20\nageing_s = 10\npcap = \"sw0.pcap\"\n"
      "[host.a]\nswitch = \"sw0\"\n[host.b]\nswitch = \"sw0\"\n[host.c]\nswitch = \"sw0\"\n",
      &err);
  ASSERT_TRUE(r) << err;
  const auto& s = r->scenario;
  EXPECT_TRUE(s.links.empty());  // a.eth0 and b.eth0 are on the switch: no [link]
  ASSERT_EQ(s.switches.size(), 1u);
  const auto& w = s.switches[0];
  EXPECT_EQ(w.name, "sw0");
  EXPECT_EQ(w.ports, 4u);
  ASSERT_EQ(w.attached.size(), 3u);
  EXPECT_EQ(w.attached[2].str(), "c.eth0");
  EXPECT_EQ(w.rate(0).bps(), 25'000'000'000u);
  EXPECT_EQ(w.rate(2).bps(), 1'000'000'000u);
  EXPECT_EQ(w.rate(3).bps(), 25'000'000'000u);
  EXPECT_EQ(w.queue_bytes, 100000u);
  EXPECT_EQ(w.latency.ps(), 500'000);
  EXPECT_EQ(w.propagation.ps(), 20'000);
  EXPECT_EQ(w.ageing.ps(), vnic::model::Duration::s(10).ps());
  EXPECT_EQ(w.port_pcap(1), "sw0-p1.pcap");
  // The defaults: 1 us, 512 KiB, 300 s, 10G.
  const vnic::tb::SwitchConfig d;
  EXPECT_EQ(d.latency.ps(), 1'000'000);
  EXPECT_EQ(d.queue_bytes, 524288u);
  EXPECT_EQ(d.ageing.ps(), vnic::model::Duration::s(300).ps());
  // The resolved scenario reads back the same.
  const auto again = vnic::tb::resolve_scenario({{r->toml, "show.toml"}}, {}, &err);
  ASSERT_TRUE(again) << err;
  EXPECT_EQ(again->toml, r->toml);
}

TEST(ScenarioSwitch, BadSwitchesAreRefusedNamingTheKey) {
  using topo::expect_refused;
  const std::string two = "[switch.sw0]\nports = 2\n[host.a]\nswitch = \"sw0\"\n[host.b]\nswitch = \"sw0\"\n";
  // An unknown switch.
  expect_refused("[host.a]\nswitch = \"sw9\"\n[host.b]\nswitch = \"sw9\"\n",
                 "my.toml: host.a.switch: there is no switch sw9 (give it a [switch.sw9] table)");
  expect_refused("[host.c]\nswitch = \"sw1\"\n", "host.c.switch: there is no switch sw1", two);
  expect_refused("[host.b]\nswitch = \"\"\n", "host.b.switch: is empty");
  // More NICs than ports.
  expect_refused("[host.c]\nswitch = \"sw0\"\n",
                 "switch.sw0.ports: 3 NICs are on switch sw0 (a, b, c), but it has 2 ports", two);
  expect_refused("[switch.sw0]\nports = 65\n", "switch.sw0.ports: 65 is outside 1..64", two);
  // Bad speeds.
  expect_refused("[switch.sw0]\nspeed = \"3G\"\n", "my.toml: switch.sw0.speed: '3G' is not one of 1G, 10G, 25G, 40G, 100G", two);
  expect_refused("[switch.sw0]\nport_speed = { a = \"2G\" }\n", "switch.sw0.port_speed.a: '2G' is not one of", two);
  expect_refused("[switch.sw0]\nport_speed = { a = 10 }\n", "switch.sw0.port_speed.a: '(not a string)' is not one of", two);
  expect_refused("[switch.sw0]\nport_speed = { c = \"1G\" }\n", "switch.sw0.port_speed.c: c.eth0 is not on switch sw0", two);
  expect_refused("[switch.sw0]\nport_speed = \"1G\"\n", "switch.sw0.port_speed: expected a table", two);
  // Other keys.
  expect_refused("[switch.sw0]\nlatency_ns = -1\n", "switch.sw0.latency_ns: -1 is outside", two);
  expect_refused("[switch.sw0]\nqueue_bytes = 10\n", "switch.sw0.queue_bytes: 10 is outside 64..", two);
  expect_refused("[switch.sw0]\nageing_s = 0\n", "switch.sw0.ageing_s: 0 is outside 1..1000000", two);
  expect_refused("[switch.sw0]\nvlan = 3\n", "switch.sw0.vlan: unknown key", two);
  expect_refused("[switch.SW]\nports = 2\n", "switch.SW: a switch name is a lower-case letter", two);
  expect_refused("[switch]\nsw0 = 3\n", "switch.sw0: expected a table");
  // A port takes one link or one switch; every NIC needs one.
  expect_refused("[host.c]\nswitch = \"sw0\"\n[host.c.eth1]\nframes = 0\n[link.x]\nends = [\"c.eth1\", \"c.eth0\"]\n"
                 "[switch.sw0]\nports = 3\n",
                 "link.x.ends: c.eth0 is on switch.sw0 already (a port takes one link)", two);
  expect_refused("[host.a]\nswitch = \"sw0\"\n[switch.sw0]\nports = 2\n",
                 "host.b: host.b.eth0 is on no link (give it one with [link.NAME] ends = [\"b.eth0\", ...], or put "
                 "it on a switch with switch = \"NAME\")");
  expect_refused("[switch.sw0]\npcap = \"x.pcap\"\n[link.q]\nends = [\"c.eth0\", \"d.eth0\"]\npcap = \"x.pcap\"\n"
                 "[host.c]\nframes = 0\n[host.d]\nframes = 0\n",
                 "link.q.pcap: 'x.pcap' is switch.sw0's capture too", two);
}

// The offload keys: gso and gro (ethtool -K), gso_max_size and gso_max_segs (ip link set), in
// [driver] for every NIC and per NIC over it; Linux 6.1's defaults when nobody gives them.
TEST(ScenarioOffloads, DriverKeysAreEveryNicsDefaultAndANicsOwnKeysWin) {
  std::string err;
  const auto d = topo::over_default("", &err);
  ASSERT_TRUE(d) << err;
  EXPECT_TRUE(d->scenario.driver.gso);
  EXPECT_TRUE(d->scenario.driver.gro);
  EXPECT_EQ(d->scenario.driver.gso_max_size, 65536u);
  EXPECT_EQ(d->scenario.driver.gso_max_segs, 65535u);
  EXPECT_FALSE(d->scenario.nic_side("a").gso);
  EXPECT_FALSE(d->scenario.nic_side("b").gro);
  EXPECT_FALSE(d->scenario.nic_side("b").gso_max_size);
  const auto r = vnic::tb::resolve_scenario(
      {{topo::kThree, "base.toml"},
       {"[driver]\ngso = false\ngro = false\ngso_max_size = 32768\ngso_max_segs = 16\n"
        "[host.b]\ngro = true\ngso_max_segs = 0\n[host.a.eth1]\ngso = true\ngso_max_size = 322\n",
        "my.toml"}},
      {}, &err);
  ASSERT_TRUE(r) << err;
  const auto& s = r->scenario;
  EXPECT_FALSE(s.driver.gso);
  EXPECT_FALSE(s.driver.gro);
  EXPECT_EQ(s.driver.gso_max_size, 32768u);
  EXPECT_EQ(s.driver.gso_max_segs, 16u);
  EXPECT_FALSE(s.nic_side("a").gso);  // [driver]'s
  EXPECT_EQ(s.nic_side("b").gro, std::optional<bool>(true));
  EXPECT_EQ(s.nic_side("b").gso_max_segs, std::optional<uint32_t>(0));
  EXPECT_EQ(s.nic_side("a", 1).gso, std::optional<bool>(true));
  EXPECT_EQ(s.nic_side("a", 1).gso_max_size, std::optional<uint32_t>(322));
  EXPECT_FALSE(s.nic_side("a", 1).gro);
  // --set takes them as any other key.
  const auto set = vnic::tb::parse_setting("host.b.gro=false", &err);
  ASSERT_TRUE(set) << err;
  const auto u = vnic::tb::resolve_scenario({}, {*set}, &err);
  ASSERT_TRUE(u) << err;
  EXPECT_EQ(u->scenario.nic_side("b").gro, std::optional<bool>(false));
  EXPECT_FALSE(u->scenario.nic_side("a").gro);
}

TEST(ScenarioOffloads, BadValuesAreRefusedNamingTheKey) {
  using topo::expect_refused;
  expect_refused("[driver]\ngso = \"off\"\n", "my.toml: driver.gso: expected true or false");
  expect_refused("[driver]\ngro = 0\n", "my.toml: driver.gro: expected true or false");
  expect_refused("[host.b]\ngro = \"off\"\n", "my.toml: host.b.gro: expected true or false");
  expect_refused("[driver]\ngso_max_size = 65537\n",
                 "driver.gso_max_size: 65537 is outside 322..65536 (at most the device's tso_max_size");
  expect_refused("[host.a]\ngso_max_size = 321\n", "host.a.gso_max_size: 321 is outside 322..65536");
  expect_refused("[host.a]\ngso_max_size = \"64k\"\n", "host.a.gso_max_size: expected an integer");
  expect_refused("[driver]\ngso_max_segs = 65536\n",
                 "driver.gso_max_segs: 65536 is outside 0..65535 (GSO_MAX_SEGS is 65535)");
  expect_refused("[host.b]\ngso_max_segs = -1\n", "host.b.gso_max_segs: -1 is outside 0..65535");
  expect_refused("[host.a.eth1]\ngso = 1\n", "my.toml: host.a.eth1.gso: expected true or false", topo::kThree);
  // Direct hosts have no protocol stack: a NIC's own keys are refused ([driver]'s are not used).
  expect_refused("[scenario]\nhosts = \"direct\"\n[host.b]\ngro = false\n",
                 "host.b.gro: GSO and GRO are the protocol stack's: they need driver hosts");
  expect_refused("[scenario]\nhosts = \"direct\"\n[host.a]\ngso_max_size = 1000\n", "host.a.gso_max_size: GSO and GRO");
}

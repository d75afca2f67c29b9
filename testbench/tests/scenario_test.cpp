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
    EXPECT_GT(r->scenario.nic_side("a").host.count + r->scenario.nic_side("b").host.count, 0u) << b.name;
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

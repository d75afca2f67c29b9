// Scenario parsing: the default parses, keys are applied, and garbage never crashes the parser.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "vnic/tb/pcap.hpp"
#include "vnic/tb/scenario.hpp"

namespace {
using vnic::tb::parse_scenario;

TEST(Scenario, DefaultParsesWithItsDocumentedValues) {
  std::string err;
  const auto s = parse_scenario(vnic::tb::default_scenario_toml(), &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->link_rate.bps(), 10'000'000'000u);
  EXPECT_EQ(s->a.host.coalesce.rx_usecs, 8u);
  EXPECT_EQ(s->a.host.coalesce.rx_frames, 64u);
  EXPECT_EQ(s->nic.pcie.mps, 256u);
  EXPECT_EQ(s->ring, "model");
  EXPECT_EQ(s->a.mac.str(), "02:00:00:00:00:0a");
}

TEST(Scenario, KeysAreApplied) {
  std::string err;
  const auto s = parse_scenario(
      "[link]\nspeed = \"25G\"\nber = 1e-9\n[pcie]\nlanes = 4\nmts = 5000\n[host.b]\nrx-usecs = 50\n"
      "iommu = true\nrx-all = true\n",
      &err);
  ASSERT_TRUE(s) << err;
  EXPECT_EQ(s->link_rate.bps(), 25'000'000'000u);
  EXPECT_DOUBLE_EQ(s->faults.bit_error_rate, 1e-9);
  EXPECT_EQ(s->nic.pcie.lanes, 4u);
  EXPECT_EQ(s->nic.pcie.enc_total, 10u);  // Gen2: 8b/10b
  EXPECT_EQ(s->b.host.coalesce.rx_usecs, 50u);
  EXPECT_TRUE(s->b.iommu);
  EXPECT_EQ(s->b.host.rx_ctrl & 0x10u, 0x10u);
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

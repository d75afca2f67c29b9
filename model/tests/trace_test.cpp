// The trace vocabulary: the step table covers the reference exactly once, names, the side band,
// and docs/journey.md's copy of the table.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "vnic/model/regs.hpp"
#include "vnic/model/trace.hpp"

namespace {
using namespace vnic::model;

TEST(Steps, TheTableHasEgress1To20AndIngress1To24OnceEach) {
  std::set<std::pair<int, int>> seen;
  int egress_n = 0, ingress_n = 0;
  for (const StepInfo& i : steps()) {
    EXPECT_TRUE(seen.insert({static_cast<int>(i.step.path), i.step.n}).second) << step_name(i.step);
    EXPECT_FALSE(i.words.empty());
    EXPECT_FALSE(i.function.empty());
    EXPECT_FALSE(i.by.empty());
    (i.step.path == Path::Egress ? egress_n : ingress_n)++;
    EXPECT_GE(i.step.n, 1);
    EXPECT_LE(i.step.n, i.step.path == Path::Egress ? 20 : 24);
    EXPECT_EQ(step_info(i.step), &i);
  }
  EXPECT_EQ(egress_n, 20);
  EXPECT_EQ(ingress_n, 24);
  EXPECT_EQ(step_info(Step{}), nullptr);
  EXPECT_EQ(step_name(egress(12)), "egress:12");
  EXPECT_EQ(step_name(ingress(24)), "ingress:24");
  EXPECT_EQ(step_name(Step{}), "-");
  EXPECT_EQ(step_name(Step{Path::Egress, 21}), "-");
}

TEST(Steps, EveryKindHasANameAndItsDefaultStepIsInTheTable) {
  for (unsigned k = 0; k < static_cast<unsigned>(TraceKind::kCount); ++k) {
    const auto kind = static_cast<TraceKind>(k);
    EXPECT_NE(trace_kind_name(kind), "?") << k;
    const Step s = default_step(kind);
    if (!s.none()) {
      EXPECT_NE(step_info(s), nullptr) << trace_kind_name(kind);
    }
  }
}

TEST(Steps, DropCountersNameTheDevicesAndTheHostsCounters) {
  EXPECT_EQ(drop_counter_name(static_cast<uint64_t>(regs::Stat::rx_crc_errors)), "rx_crc_errors");
  EXPECT_EQ(drop_counter_name(host_drop(HostDrop::SoftnetDropped)), "softnet_stat.dropped");
  EXPECT_EQ(drop_counter_name(host_drop(HostDrop::TxMapErrors)), "tx_queue_0_map_errors");
  EXPECT_EQ(drop_counter_name(12345), "?");
}

TEST(PacketTags, APacketsIdIsTakenOnceByTheAddressItWasTaggedWith) {
  PacketTags t;
  t.put(0x1000, 7);
  t.put(0x2000, 8);
  t.put(0x3000, 0);  // no id: nothing to carry
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.take(0x2000), 8u);
  EXPECT_EQ(t.take(0x2000), 0u);
  t.put(0x1000, 9);  // the buffer reused: the newer packet's id
  EXPECT_EQ(t.take(0x1000), 9u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(Steps, JourneyDocHasTheCurrentTable) {
  std::ifstream in(std::string(VNIC_SOURCE_DIR) + "/docs/journey.md");
  ASSERT_TRUE(in) << "docs/journey.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(steps_markdown()), std::string::npos)
      << "docs/journey.md's step table is stale: regenerate it with ./build/default/testbench/vnic steps";
}

}  // namespace

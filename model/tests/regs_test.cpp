// The register table: no overlaps, aligned, find() total and exact, fields sane, doc up to date.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "vnic/model/regmap_doc.hpp"
#include "vnic/model/regs.hpp"

namespace {
using namespace vnic::model::regs;

TEST(Regs, NoTwoRegistersShareAnOffsetAndAllAreAligned) {
  std::map<uint32_t, std::string> seen;
  for (const Reg* r : kAll) {
    for (unsigned i = 0; i < r->count; ++i) {
      const uint32_t off = r->offset_of(i);
      EXPECT_EQ(off % 4, 0u) << r->name;
      EXPECT_LT(off, kBar0Size) << r->name;
      const auto [it, fresh] = seen.emplace(off, std::string(r->name));
      EXPECT_TRUE(fresh) << r->name << "[" << i << "] overlaps " << it->second;
    }
  }
}

TEST(Regs, FindReturnsTheRegisterAndIndexForEveryElement) {
  for (const Reg* r : kAll) {
    for (unsigned i = 0; i < r->count; ++i) {
      const auto h = find(r->offset_of(i));
      ASSERT_TRUE(h) << r->name;
      EXPECT_EQ(h->reg, r);
      EXPECT_EQ(h->index, i);
    }
  }
  EXPECT_FALSE(find(0x2));          // unaligned
  EXPECT_FALSE(find(0x0FFC));       // a gap
  EXPECT_FALSE(find(kBar0Size));    // past BAR0
  EXPECT_FALSE(find(0xFFFFFFFC));
  int hits = 0;
  for (uint32_t off = 0; off < kBar0Size; off += 4) hits += find(off) ? 1 : 0;
  int elements = 0;
  for (const Reg* r : kAll) elements += r->count;
  EXPECT_EQ(hits, elements);
}

TEST(Regs, FieldsDoNotOverlapAndFit) {
  for (const Reg* r : kAll) {
    uint32_t used = 0;
    for (const Field& f : r->fields) {
      EXPECT_LE(f.lsb + f.width, 32) << r->name << "." << f.name;
      EXPECT_EQ(used & f.mask(), 0u) << r->name << "." << f.name;
      used |= f.mask();
    }
    EXPECT_FALSE(r->doc.empty()) << r->name;
  }
  EXPECT_EQ(kCtrl.writable_mask(), 0x3u);
  EXPECT_EQ(kIcrFields[3].mask(), 0x8000'0000u);
  EXPECT_EQ(kStatusFields[1].put(0, 2), 0x4u);
  EXPECT_EQ(kStatusFields[1].get(0x4), 2u);
}

TEST(Regs, NamesAreUniqueAndCountersComplete) {
  std::set<std::string_view> names;
  for (const Reg* r : kAll) EXPECT_TRUE(names.insert(r->name).second) << r->name;
  std::set<std::string_view> stats;
  for (const StatInfo& s : kStatInfo) EXPECT_TRUE(stats.insert(s.name).second) << s.name;
  EXPECT_EQ(std::size(kStatInfo), kNumStats);
  EXPECT_EQ(kStatLo.count, kNumStats);
  EXPECT_EQ(kStatInfo[static_cast<unsigned>(Stat::rx_crc_errors)].name, "rx_crc_errors");
}

TEST(RegmapDoc, IsUpToDate) {
  std::ifstream in(std::string(VNIC_SOURCE_DIR) + "/docs/regmap.md");
  ASSERT_TRUE(in) << "docs/regmap.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str() == regmap_markdown())
      << "docs/regmap.md is stale: regenerate it with ./build/default/testbench/vnic regmap > docs/regmap.md";
}
}  // namespace

// The register table: no overlaps, aligned, find() total and exact, fields sane, named fields and
// SPEED codes consistent, docs/regmap.md up to date.
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
  EXPECT_EQ(icr::kErr.mask(), 0x8000'0000u);
  EXPECT_EQ(status::kSpeed.put(0, 2), 0x4u);
  EXPECT_EQ(status::kSpeed.get(0x4), 2u);
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

TEST(Regs, NamedFieldsAreTheTablesFieldsInBitOrder) {
  // Each group's array lists its named constants (same name, bits and doc), in bit order.
  auto same = [](const Field& a, const Field& b) {
    return a.name == b.name && a.lsb == b.lsb && a.width == b.width && a.doc == b.doc;
  };
  EXPECT_TRUE(same(kCtrlFields[0], ctrl::kEn) && same(kCtrlFields[1], ctrl::kRst));
  EXPECT_TRUE(same(kStatusFields[1], status::kSpeed) && same(kStatusFields[2], status::kResetDone));
  EXPECT_TRUE(same(kCapFields[0], cap::kNumQp) && same(kCapFields[3], cap::kNumVec));
  EXPECT_TRUE(same(kErrCauseFields[5], err_cause::kMmio) && same(kQStatusFields[2], q_status::kErrCode));
  EXPECT_TRUE(same(kRxCtrlFields[2], rx_ctrl::kBcast) && same(kRxCtrlFields[4], rx_ctrl::kRxAll));
  for (const Reg* r : kAll) {
    for (std::size_t i = 1; i < r->fields.size(); ++i) EXPECT_LT(r->fields[i - 1].lsb, r->fields[i].lsb) << r->name;
  }
  EXPECT_EQ(kRxCtrl.reset, rx_ctrl::kBcast.mask());
  EXPECT_EQ(kIcrLink, icr::kLink.mask());
  EXPECT_EQ(icr_tx_bit(1), 1u << 9);
}

TEST(Regs, SpeedCodesRoundTripAndMatchTheFieldDoc) {
  using vnic::model::BitRate;
  EXPECT_EQ(status::speed_code(BitRate::gbps(1)), 1u);
  EXPECT_EQ(status::speed_code(BitRate::gbps(10)), 2u);
  EXPECT_EQ(status::speed_code(BitRate::mbps(10'312)), 2u);  // whole Gb/s, as the device always did
  EXPECT_EQ(status::speed_code(BitRate::gbps(25)), 3u);
  EXPECT_EQ(status::speed_code(BitRate::gbps(40)), 4u);
  EXPECT_EQ(status::speed_code(BitRate::gbps(100)), 5u);
  EXPECT_EQ(status::speed_code(BitRate::mbps(2500)), status::kSpeedNone);
  EXPECT_EQ(status::speed_code(BitRate::mbps(100)), status::kSpeedNone);
  EXPECT_EQ(status::speed_code(BitRate{}), status::kSpeedNone);
  for (const status::SpeedCode& c : status::kSpeedCodes) {
    EXPECT_EQ(status::speed_mbps(status::speed_code(BitRate::mbps(c.mbps))), c.mbps) << c.name;
    EXPECT_LE(c.code, status::kSpeed.mask() >> status::kSpeed.lsb) << c.name;  // fits the field
  }
  for (uint32_t code : {0u, 6u, 7u}) EXPECT_EQ(status::speed_mbps(code), 0u) << code;
  std::string doc = "Link speed: 0 none";
  for (const status::SpeedCode& c : status::kSpeedCodes) doc += ", " + std::to_string(c.code) + " " + std::string(c.name);
  EXPECT_EQ(status::kSpeed.doc, doc + ".");
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

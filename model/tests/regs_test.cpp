// The register table: no overlaps, aligned, find() total and exact, fields sane, named fields and
// SPEED codes consistent, docs/regmap.md and docs/vnic_regs.h up to date, descriptor layouts true.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "vnic/model/descriptor.hpp"
#include "vnic/model/regmap_doc.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/model/regs_c_header.hpp"

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
TEST(RegsCHeader, IsUpToDate) {
  std::ifstream in(std::string(VNIC_SOURCE_DIR) + "/docs/vnic_regs.h");
  ASSERT_TRUE(in) << "docs/vnic_regs.h is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str() == regmap_c_header())
      << "docs/vnic_regs.h is stale: regenerate it with ./build/default/testbench/vnic regmap --c-header > "
         "docs/vnic_regs.h";
}

TEST(RegsCHeader, NamesEveryRegisterAndFieldOnceWithTheTablesValues) {
  const std::string h = regmap_c_header();
  std::map<std::string, std::string> defs;  // macro name (with its parameters) -> value
  std::istringstream lines(h);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#define ", 0) != 0) continue;
    std::string rest = line.substr(8);
    const auto paren = rest.find('('), space = rest.find(' ');
    const auto name_end = paren < space ? rest.find(')') + 1 : space;  // a macro's parameters have spaces
    std::string name = rest.substr(0, name_end);
    std::string value = name_end == std::string::npos ? "" : rest.substr(name_end + 1);
    if (const auto c = value.find(" /*"); c != std::string::npos) value = value.substr(0, c);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    EXPECT_TRUE(defs.emplace(name, value).second) << "defined twice: " << name;
  }
  EXPECT_EQ(h.rfind("/*", 0), 0u);
  EXPECT_NE(h.find("#ifndef VNIC_REGS_H\n#define VNIC_REGS_H\n"), std::string::npos);
  EXPECT_EQ(defs["VNIC_REG_CTRL"], "0x0008u");
  EXPECT_EQ(defs["VNIC_CTRL_RST_SHIFT"], "1u");
  EXPECT_EQ(defs["VNIC_CTRL_RST_MASK"], "0x00000002u");
  EXPECT_EQ(defs["VNIC_RX_CTRL_RX_ALL_MASK"], "0x00000010u");
  EXPECT_EQ(defs["VNIC_REG_RX_CTRL_RESET"], "0x00000004u");
  EXPECT_EQ(defs["VNIC_REG_TXQ_TAIL(i)"], "(0x1050u + (i) * 0x0100u)");
  EXPECT_EQ(defs["VNIC_STATUS_SPEED_10G"], "2u");
  EXPECT_EQ(defs["VNIC_Q_ERR_RING_CFG"], "2u");
  EXPECT_EQ(defs["VNIC_STAT_RX_CRC_ERRORS"], std::to_string(static_cast<unsigned>(Stat::rx_crc_errors)) + "u");
  EXPECT_EQ(defs["VNIC_TXD_CMD_EOP"], "0x01u");
  EXPECT_EQ(defs["VNIC_RXD_ERRORS_OFF"], "12u");
  for (const Reg* r : kAll) {
    const std::string reg(r->name);
    EXPECT_TRUE(defs.count("VNIC_REG_" + reg) + defs.count("VNIC_REG_" + reg + "(i)") == 1) << reg;
    for (const Field& f : r->fields) {
      const std::string fn = "VNIC_" + reg + "_" + std::string(f.name);
      EXPECT_EQ(defs[fn + "_SHIFT"], std::to_string(f.lsb) + "u") << fn;
      EXPECT_EQ(defs[fn + "_WIDTH"], std::to_string(f.width) + "u") << fn;
      EXPECT_EQ(std::stoul(defs[fn + "_MASK"], nullptr, 16), f.mask()) << fn;
    }
  }
}

// A C driver can include the header: model/tests/c_header_check.c includes it and checks a few
// macros at compile time, compiled as strict C99 (skipped where there is no `cc`).
TEST(RegsCHeader, CompilesAsStrictC99) {
  if (std::system("command -v cc >/dev/null 2>&1") != 0) GTEST_SKIP() << "no C compiler (cc) on PATH";
  const std::string src = VNIC_SOURCE_DIR;
  const std::string cmd = "cc -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I" + src + "/docs " + src +
                          "/model/tests/c_header_check.c 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  EXPECT_EQ(pclose(p), 0) << cmd << "\n" << out;
}

// The C header's descriptor layouts are where the codecs put the fields: setting one field to all
// ones changes exactly its bytes.
TEST(RegsCHeader, DescriptorLayoutsMatchTheCodecs) {
  using namespace vnic::model;
  auto check = [](std::span<const DescFieldLayout> layout, auto encode_with) {
    unsigned covered = 0;
    for (const DescFieldLayout& f : layout) {
      std::array<uint8_t, kDescSize> b{};
      ASSERT_TRUE(encode_with(f.name, DescBytes(b))) << f.name;
      for (unsigned i = 0; i < kDescSize; ++i) {
        const bool inside = i >= f.offset && i < f.offset + f.size;
        EXPECT_EQ(b[i], inside ? 0xFF : 0x00) << f.name << " byte " << i;
      }
      covered += f.size;
    }
    EXPECT_LE(covered, kDescSize);
  };
  check(kTxDescLayout, [](std::string_view n, DescBytes out) {
    TxDesc d;
    if (n == "BUF_ADDR") d.buf_addr = ~uint64_t{0};
    else if (n == "LENGTH") d.length = 0xFFFF;
    else if (n == "CMD") d.cmd = 0xFF;
    else if (n == "STATUS") d.status = 0xFF;
    else if (n == "ERRORS") d.errors = 0xFF;
    else return false;
    encode(d, out);
    return true;
  });
  check(kRxDescLayout, [](std::string_view n, DescBytes out) {
    RxDesc d;
    if (n == "BUF_ADDR") d.buf_addr = ~uint64_t{0};
    else if (n == "LENGTH") d.length = 0xFFFF;
    else if (n == "STATUS") d.status = 0xFFFF;
    else if (n == "ERRORS") d.errors = 0xFFFF;
    else return false;
    encode(d, out);
    return true;
  });
  auto fits = [](std::span<const DescFieldLayout> layout, const DescFlag& fl) {
    for (const DescFieldLayout& f : layout) {
      if (f.name == fl.field) return fl.value != 0 && (fl.value & (fl.value - 1)) == 0 && fl.value < (1u << (8 * f.size));
    }
    return false;
  };
  for (const DescFlag& fl : kTxDescFlags) EXPECT_TRUE(fits(kTxDescLayout, fl)) << fl.field << "." << fl.name;
  for (const DescFlag& fl : kRxDescFlags) EXPECT_TRUE(fits(kRxDescLayout, fl)) << fl.field << "." << fl.name;
}
}  // namespace

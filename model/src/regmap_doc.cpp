// Renderings of the register map: Markdown (docs/regmap.md, with the statistics counter table) and a
// C99 header (docs/vnic_regs.h: offsets, field _SHIFT/_MASK/_WIDTH macros, SPEED and queue error
// codes, counter indices, descriptor layouts).
#include "vnic/model/regmap_doc.hpp"

#include <fmt/format.h>

#include <cctype>
#include <span>

#include "vnic/model/regs.hpp"
#include "vnic/model/regs_c_header.hpp"

namespace vnic::model::regs {

namespace {
std::string reset_text(const Reg& r) {
  switch (r.reset_src) {
    case ResetSrc::PermMacLo: return "perm. MAC octets 0-3";
    case ResetSrc::PermMacHi: return "perm. MAC octets 4-5";
    case ResetSrc::Keep: return fmt::format("0x{:08X}; kept by CTRL.RST", r.reset);
    case ResetSrc::Table: break;
  }
  if (&r == &kCap) return "per instance";
  return fmt::format("0x{:08X}", r.reset);
}
std::string offset_text(const Reg& r) {
  if (r.count == 1) return fmt::format("0x{:04X}", r.offset);
  return fmt::format("0x{:04X} + i*0x{:X} (i < {})", r.offset, r.stride, r.count);
}
std::string bits_text(const Field& f) {
  if (f.width == 1) return fmt::format("{}", f.lsb);
  return fmt::format("{}:{}", f.lsb + f.width - 1, f.lsb);
}
}  // namespace

std::string regmap_markdown() {
  std::string s;
  s += "# vnic register map (BAR0)\n\n";
  s += "<!-- Generated from model/include/vnic/model/regs.hpp by `vnic regmap`; do not edit.\n";
  s += "     A test (RegmapDoc.IsUpToDate) fails when this file is stale. -->\n\n";
  s += "The same table as a C99 header, for drivers written in C, is [vnic_regs.h](vnic_regs.h)\n"
       "(`vnic regmap --c-header`): `VNIC_REG_<NAME>` offsets, `VNIC_<REG>_<FIELD>_SHIFT`/`_MASK`,\n"
       "the SPEED and queue error codes, counter indices and the descriptor layouts.\n\n";
  s += fmt::format("BAR0 is 0x{:X} bytes. Every register is 32 bits wide and must be accessed with\n"
                   "aligned 4-byte reads and writes; any other access gets a TLM address error and\n"
                   "counts in `mmio_errors`. Reserved bits read 0 and ignore writes. Writes to RO\n"
                   "registers are ignored and counted in `mmio_ro_writes`. A soft reset (CTRL.RST)\n"
                   "returns every register to its reset value (MAC_LO/MAC_HI to the instance's\n"
                   "permanent address), except the MSI-X table and the statistics counters,\n"
                   "which keep theirs (counters are zero at power-on only). Register writes\n"
                   "during the reset (10 us; STATUS.RESET_DONE reads 0) are ignored and counted\n"
                   "in `mmio_in_reset`.\n\n",
                   kBar0Size);
  s += "Access: RO read-only, RW read/write, W1C write 1 to clear, RC clear on read, WO write-only "
       "(reads 0).\n\n";
  s += "## Summary\n\n| Offset | Name | Access | Reset | Description |\n|---|---|---|---|---|\n";
  for (const Reg* r : kAll) {
    s += fmt::format("| {} | [{}](#{}) | {} | {} | {} |\n", offset_text(*r), r->name, r->name,
                     to_string(r->access), reset_text(*r), r->doc);
  }
  s += "\n## Registers\n";
  for (const Reg* r : kAll) {
    s += fmt::format("\n### {}\n\n`{}`, {}, reset {}. {}\n\n", r->name, offset_text(*r),
                     to_string(r->access), reset_text(*r), r->doc);
    s += "| Bits | Field | Description |\n|---|---|---|\n";
    for (const Field& f : r->fields) s += fmt::format("| {} | {} | {} |\n", bits_text(f), f.name, f.doc);
  }
  s += "\n## Statistics counters\n\n";
  s += fmt::format("Counter i is read at STAT_LO[i] = 0x{:04X} + 8*i (bits 31:0; the read latches\n"
                   "bits 63:32) and then STAT_HI[i] = 0x{:04X} + 8*i. Counters are 64 bits, are not\n"
                   "cleared by reads nor by a soft reset (the DMA counters included), and are zero\n"
                   "at power-on. Names are the ethtool -S names.\n\n",
                   kStatLo.offset, kStatHi.offset);
  s += "| i | STAT_LO offset | Name | Meaning |\n|---|---|---|---|\n";
  for (unsigned i = 0; i < kNumStats; ++i) {
    s += fmt::format("| {} | 0x{:04X} | `{}` | {} |\n", i, kStatLo.offset_of(i), kStatInfo[i].name,
                     kStatInfo[i].doc);
  }
  s += "\n## Interrupt vectors\n\n"
       "Vector q (q < NUM_QP) carries the RX and TX completions of queue pair q (ICR.RXQ[q],\n"
       "ICR.TXQ[q]); vector NUM_QP carries link changes and errors (ICR.LINK, ICR.ERR).\n\n"
       "## Multicast hash\n\n"
       "A multicast destination passes the hash filter when bit `mc_hash_index(dst)` of the\n"
       "64-bit filter is set, where `mc_hash_index` is the top 6 bits (`crc >> 26`) of the IEEE\n"
       "CRC-32 of the 6 destination octets (the same CRC as the FCS: reflected, init and final\n"
       "XOR 0xFFFFFFFF). Index i < 32 is MC_HASH_LO bit i; index i >= 32 is MC_HASH_HI bit i-32.\n";
  return s;
}

// ---------------------------------------------------------------- C header

namespace {
// A C identifier part: upper case, anything not alphanumeric becomes '_'.
std::string ident(std::string_view s) {
  std::string r;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    r += std::isalnum(u) != 0 ? static_cast<char>(std::toupper(u)) : '_';
  }
  return r;
}
// Doc text safe inside a /* */ comment (no nested openers or closers, which -Wcomment rejects).
std::string comment(std::string_view s) {
  std::string r(s);
  for (std::size_t p = 0; (p = r.find("/*", p)) != std::string::npos;) r.replace(p, 2, "/ *");
  for (std::size_t p = 0; (p = r.find("*/", p)) != std::string::npos;) r.replace(p, 2, "* /");
  return r;
}
constexpr std::size_t kLineWidth = 100;
// A /* */ comment, words wrapped at kLineWidth.
std::string block_comment(std::string_view text) {
  std::string out = "/*", line;
  std::string t = comment(text);
  std::size_t p = 0;
  while (p < t.size()) {
    std::size_t e = t.find(' ', p);
    if (e == std::string::npos) e = t.size();
    const std::string word = t.substr(p, e - p);
    if (!line.empty() && out.size() - out.rfind('\n') - 1 + line.size() + word.size() + 4 > kLineWidth) {
      out += line + "\n *";
      line.clear();
    }
    line += " " + word;
    p = e + 1;
  }
  return out + line + " */\n";
}
// #define NAME VALUE, with the doc after it when that fits in a line, else above it.
void define(std::string& s, const std::string& name, const std::string& value, std::string_view doc = {}) {
  const std::string line = fmt::format("#define {} {}", name, value);
  if (doc.empty()) {
    s += line + "\n";
    return;
  }
  const std::string with = fmt::format("{:<48} /* {} */", line, comment(doc));
  s += with.size() <= kLineWidth ? with + "\n" : block_comment(doc) + line + "\n";
}
std::string hex32(uint32_t v) { return fmt::format("0x{:08X}u", v); }
std::string hex(uint32_t v) { return fmt::format("0x{:04X}u", v); }
std::string dec(uint64_t v) { return fmt::format("{}u", v); }

void descriptor(std::string& s, std::string_view prefix, std::string_view what,
                std::span<const DescFieldLayout> layout, std::span<const DescFlag> flags) {
  s += fmt::format("\n/* {} descriptor: {} bytes, little endian; reserved bytes are 0. */\n", what, kDescSize);
  for (const DescFieldLayout& f : layout) {
    const std::string n = fmt::format("VNIC_{}_{}", prefix, ident(f.name));
    define(s, n + "_OFF", dec(f.offset), f.doc);
    define(s, n + "_SIZE", dec(f.size));
  }
  for (const DescFlag& f : flags) {
    define(s, fmt::format("VNIC_{}_{}_{}", prefix, ident(f.field), ident(f.name)), fmt::format("0x{:02X}u", f.value),
           f.doc);
  }
}
}  // namespace

std::string regmap_c_header() {
  std::string s;
  s += "/* vnic register map (BAR0) and descriptor layouts, for drivers written in C (C99).\n"
       " * Generated from model/include/vnic/model/regs.hpp by `vnic regmap --c-header`; do not edit.\n"
       " * A test (RegsCHeader.IsUpToDate) fails when this file is stale; docs/regmap.md says what\n"
       " * each register does. Every register is 32 bits, accessed with aligned 4-byte reads/writes.\n"
       " * Field macros: VNIC_<REG>_<FIELD>_SHIFT, _WIDTH, and _MASK (in place, already shifted). */\n"
       "#ifndef VNIC_REGS_H\n#define VNIC_REGS_H\n\n";
  s += "/* Field access: VNIC_FIELD_GET(VNIC_STATUS_SPEED, v), VNIC_FIELD_PREP(VNIC_CTRL_EN, 1). */\n";
  define(s, "VNIC_FIELD_GET(f, v)", "(((v) & f##_MASK) >> f##_SHIFT)");
  define(s, "VNIC_FIELD_PREP(f, x)", "(((x) << f##_SHIFT) & f##_MASK)");

  s += "\n/* Sizing. */\n";
  define(s, "VNIC_BAR0_SIZE", hex(kBar0Size));
  define(s, "VNIC_DEVICE_ID", hex32(kDeviceId), "ID register value (\"VNIC\").");
  define(s, "VNIC_VERSION", hex32(kVersion), "VERSION register value.");
  define(s, "VNIC_MAX_QUEUE_PAIRS", dec(kMaxQueuePairs));
  define(s, "VNIC_MAX_VECTORS", dec(kMaxVectors), "One per queue pair, then link/errors.");
  define(s, "VNIC_MIN_RING_SIZE", dec(kMinRingSize));
  define(s, "VNIC_MAX_RING_SIZE", dec(kMaxRingSize));
  define(s, "VNIC_MIN_FRAME", dec(kMinFrame), "Bytes, with the FCS.");
  define(s, "VNIC_MAX_FRAME_LIMIT", dec(kMaxFrameLimit), "Largest MAX_FRAME value.");
  define(s, "VNIC_DEFAULT_MAX_FRAME", dec(kDefaultMaxFrame));
  define(s, "VNIC_DEFAULT_RX_BUF_SIZE", dec(kDefaultRxBufSize));

  s += "\n/* Registers. An array register is VNIC_REG_<NAME>(i), i < VNIC_REG_<NAME>_COUNT. */\n";
  for (const Reg* r : kAll) {
    const std::string n = ident(r->name);
    s += "\n" + block_comment(fmt::format("{} ({}): {}", r->name, to_string(r->access), r->doc));
    if (r->count == 1) {
      define(s, "VNIC_REG_" + n, hex(r->offset));
    } else {
      define(s, fmt::format("VNIC_REG_{}(i)", n), fmt::format("({} + (i) * {})", hex(r->offset), hex(r->stride)));
      define(s, fmt::format("VNIC_REG_{}_COUNT", n), dec(r->count));
      define(s, fmt::format("VNIC_REG_{}_STRIDE", n), hex(r->stride));
    }
    if (r->reset_src != ResetSrc::PermMacLo && r->reset_src != ResetSrc::PermMacHi && r != &kCap) {
      define(s, fmt::format("VNIC_REG_{}_RESET", n), hex32(r->reset));
    }
    for (const Field& f : r->fields) {
      const std::string fn = fmt::format("VNIC_{}_{}", n, ident(f.name));
      s += block_comment(fmt::format("{}.{}: {}", r->name, f.name, f.doc));
      define(s, fn + "_SHIFT", dec(f.lsb));
      define(s, fn + "_WIDTH", dec(f.width));
      define(s, fn + "_MASK", hex32(f.mask()));
    }
  }

  s += "\n/* Interrupt cause bits of queue pair i (ICR, write 1 to clear). */\n";
  define(s, "VNIC_ICR_RXQ_BIT(i)", "(1u << (VNIC_ICR_RXQ_SHIFT + (i)))");
  define(s, "VNIC_ICR_TXQ_BIT(i)", "(1u << (VNIC_ICR_TXQ_SHIFT + (i)))");

  s += "\n/* STATUS.SPEED codes. */\n";
  define(s, "VNIC_STATUS_SPEED_NONE", dec(status::kSpeedNone), "Link down.");
  for (const status::SpeedCode& c : status::kSpeedCodes) {
    define(s, "VNIC_STATUS_SPEED_" + ident(c.name), dec(c.code), fmt::format("{} Mb/s.", c.mbps));
  }

  s += "\n/* RXQ_STATUS/TXQ_STATUS.ERR_CODE values. */\n";
  define(s, "VNIC_Q_ERR_NONE", dec(static_cast<uint32_t>(QueueErr::None)));
  define(s, "VNIC_Q_ERR_DMA", dec(static_cast<uint32_t>(QueueErr::Dma)), "A DMA access was refused.");
  define(s, "VNIC_Q_ERR_RING_CFG", dec(static_cast<uint32_t>(QueueErr::RingCfg)), "Bad ring configuration.");

  s += "\n/* Statistics counters: counter i is VNIC_REG_STAT_LO(i) (read first: latches the high half)\n"
       " * and VNIC_REG_STAT_HI(i). Names are the ethtool -S names. */\n";
  define(s, "VNIC_NUM_STATS", dec(kNumStats));
  for (unsigned i = 0; i < kNumStats; ++i) {
    define(s, "VNIC_STAT_" + ident(kStatInfo[i].name), dec(i), kStatInfo[i].doc);
  }

  s += "\n/* Descriptors: the ring entries at RXQ_BASE/TXQ_BASE. */\n";
  define(s, "VNIC_DESC_SIZE", dec(kDescSize));
  descriptor(s, "TXD", "TX", kTxDescLayout, kTxDescFlags);
  descriptor(s, "RXD", "RX", kRxDescLayout, kRxDescFlags);

  s += "\n#endif /* VNIC_REGS_H */\n";
  return s;
}

}  // namespace vnic::model::regs

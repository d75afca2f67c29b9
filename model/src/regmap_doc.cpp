// Markdown rendering of the register map and the statistics counter table.
#include "vnic/model/regmap_doc.hpp"

#include <fmt/format.h>

#include "vnic/model/regs.hpp"

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

}  // namespace vnic::model::regs

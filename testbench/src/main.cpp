// The vnic command-line tool: runs scenarios and prints reports.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <string_view>

#include "vnic/model/crc32.hpp"
#include "vnic/model/regmap_doc.hpp"
#include "vnic/model/regs.hpp"

namespace {

namespace regs = vnic::model::regs;

int crc_selfcheck() {
  constexpr std::string_view kCheck = "123456789";
  const std::span<const uint8_t> bytes{reinterpret_cast<const uint8_t*>(kCheck.data()), kCheck.size()};
  const uint32_t isal = vnic::model::crc32_ieee(bytes);
  const uint32_t zlib = vnic::model::crc32_zlib(bytes);
  std::array<uint8_t, 64> frame{};
  for (std::size_t i = 0; i < frame.size() - 4; ++i) frame[i] = static_cast<uint8_t>(i * 7 + 1);
  vnic::model::write_fcs(frame);
  const uint32_t residue = vnic::model::crc32_ieee(frame);
  const bool ok = isal == vnic::model::kCrcCheck && zlib == vnic::model::kCrcCheck &&
                  residue == vnic::model::kCrcResidue;
  fmt::print("CRC-32 self-check: isa-l 0x{:08X}, zlib 0x{:08X} (want 0x{:08X}); residue 0x{:08X} "
             "(want 0x{:08X}): {}\n",
             isal, zlib, vnic::model::kCrcCheck, residue, vnic::model::kCrcResidue, ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}

void print_regmap_summary() {
  fmt::print("{:<12} {:<34} {:<4} {}\n", "offset", "register", "acc", "reset");
  for (const regs::Reg* r : regs::kAll) {
    const std::string off = r->count == 1 ? fmt::format("0x{:04X}", r->offset)
                                          : fmt::format("0x{:04X}[{}]", r->offset, r->count);
    fmt::print("{:<12} {:<34} {:<4} 0x{:08X}\n", off, r->name, regs::to_string(r->access), r->reset);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vnic: a virtual NIC model (SystemC/TLM-2.0) with driver, stack and testbench"};
  app.require_subcommand(1);
  auto* run = app.add_subcommand("run", "Run a scenario (the embedded default when no file is given)");
  auto* regmap = app.add_subcommand("regmap", "Print the register map as Markdown (docs/regmap.md)");
  CLI11_PARSE(app, argc, argv);

  if (*regmap) {
    std::fputs(regs::regmap_markdown().c_str(), stdout);
    return 0;
  }
  if (*run) {
    print_regmap_summary();
    return crc_selfcheck();
  }
  return 0;
}

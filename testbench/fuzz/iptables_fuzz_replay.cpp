// Replays iptables fuzz inputs through the same harness as vnic_iptables_fuzz, deterministically,
// in every preset (GCC too): the ctest label `fuzz` runs it on the committed corpus. A broken
// invariant aborts (the input is named); an input named "<expect>--<what>" must also have done
// what its name says: ok (no command refused), refused (one was), drop, reject, hotdrop, policy
// (a verdict of a chain's policy), unreadable (bytes no IPv4 header), any.
//   vnic_iptables_fuzz_replay [--trace] FILE_OR_DIR...
//   vnic_iptables_fuzz_replay --write-seeds DIR          (writes DIR/<seed>)
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "corpus_files.hpp"
#include "iptables_fuzz_harness.hpp"
#include "iptables_fuzz_seeds.hpp"

namespace {

namespace fs = std::filesystem;
namespace ip = vnic::fuzz::ipt;

int usage() {
  std::fprintf(stderr,
               "usage: vnic_iptables_fuzz_replay [--trace] FILE_OR_DIR...\n"
               "       vnic_iptables_fuzz_replay --write-seeds DIR\n");
  return 2;
}

int write_seeds(const fs::path& dir) {
  for (const auto& s : ip::iptables_seed_corpus()) {
    if (vnic::fuzz::write_seed(dir, s.name, s.bytes, 56) != 0) return 1;
  }
  return 0;
}

bool did(const std::string& tag, const ip::Summary& s, bool* known) {
  *known = true;
  if (tag == "ok") return s.commands > 0 && s.refused == 0;
  if (tag == "refused") return s.refused > 0;
  if (tag == "drop") return s.dropped > 0;
  if (tag == "reject") return s.rejected > 0;
  if (tag == "hotdrop") return s.hotdropped > 0;
  if (tag == "policy") return s.by_policy > 0;
  if (tag == "unreadable") return s.unreadable > 0;
  if (tag == "any" || tag == "found" || tag == "crash") return true;
  *known = false;
  return false;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc == 3 && std::string(argv[1]) == "--write-seeds") return write_seeds(argv[2]);
  bool trace = false;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--trace") {
      trace = true;
      continue;
    }
    if (!vnic::fuzz::add_inputs(argv[i], &inputs)) return 2;
  }
  if (inputs.empty()) return usage();

  vnic::fuzz::install_abort_hook("vnic-iptables-fuzz");
  int wrong = 0;
  ip::Summary total;
  for (const fs::path& p : inputs) {
    const std::vector<uint8_t> raw = vnic::fuzz::read_input(p);
    const auto bytes = std::make_unique<uint8_t[]>(raw.size());  // exactly the input's size, as libFuzzer's
    std::memcpy(bytes.get(), raw.data(), raw.size());
    vnic::fuzz::set_current_input(p);
    const ip::Summary s = ip::run_input({bytes.get(), raw.size()}, trace);
    total.commands += s.commands;
    total.refused += s.refused;
    total.packets += s.packets;
    total.dropped += s.dropped;
    total.round_trips += s.round_trips;
    const std::string name = p.filename().string();
    const std::size_t sep = name.find("--");
    bool ok = true;
    std::string note;
    if (sep != std::string::npos) {
      bool known = false;
      ok = did(name.substr(0, sep), s, &known);
      if (!known) note = "  (unknown tag)";
      else if (!ok) note = "  (the name says otherwise)";
    }
    if (!ok) ++wrong;
    std::printf("%-56s %5zu B  %s%s\n", name.c_str(), raw.size(), ip::describe(s).c_str(), note.c_str());
  }
  std::printf("summary: %zu inputs, %llu commands (%llu refused), %llu packets (%llu dropped), %llu round trips; "
              "%d not doing what their name says\n",
              inputs.size(), static_cast<unsigned long long>(total.commands), static_cast<unsigned long long>(total.refused),
              static_cast<unsigned long long>(total.packets), static_cast<unsigned long long>(total.dropped),
              static_cast<unsigned long long>(total.round_trips), wrong);
  return wrong == 0 ? 0 : 1;
}

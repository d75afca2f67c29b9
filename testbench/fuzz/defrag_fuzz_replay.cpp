// Replays reassembly fuzz inputs through the same harness as vnic_defrag_fuzz, deterministically,
// in every preset (GCC too): the ctest label `fuzz` runs it on the committed corpus. A broken
// invariant aborts (the input is named); an input named "<expect>--<what>" must also have done
// what its name says:
//   reasm    a datagram was reassembled and handed up     timeout   ip_expire ran (ReasmTimeout)
//   fail     ReasmFails counted                           overlap   ReasmOverlaps counted
//   frag     ip_send cut a datagram (FragCreates)         fragfail  FragFails counted
//   any      nothing in particular
//   vnic_defrag_fuzz_replay [--trace] FILE_OR_DIR...
//   vnic_defrag_fuzz_replay --write-seeds DIR          (writes DIR/<seed>)
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "corpus_files.hpp"
#include "defrag_fuzz_harness.hpp"
#include "defrag_fuzz_seeds.hpp"

namespace {

namespace fs = std::filesystem;
namespace df = vnic::fuzz::defrag;

int usage() {
  std::fprintf(stderr,
               "usage: vnic_defrag_fuzz_replay [--trace] FILE_OR_DIR...\n"
               "       vnic_defrag_fuzz_replay --write-seeds DIR\n");
  return 2;
}

int write_seeds(const fs::path& dir) {
  for (const auto& s : df::defrag_seed_corpus()) {
    if (vnic::fuzz::write_seed(dir, s.name, s.bytes, 64) != 0) return 1;
  }
  return 0;
}

// Whether the summary shows what the name's tag asks for (true for an unknown tag: reported).
bool did(const std::string& tag, const df::Summary& s, bool* known) {
  *known = true;
  if (tag == "reasm") return s.reassembled > 0 && s.reasm_oks > 0;
  if (tag == "timeout") return s.reasm_timeout > 0;
  if (tag == "fail") return s.reasm_fails > 0;
  if (tag == "overlap") return s.reasm_overlaps > 0;
  if (tag == "frag") return s.frag_creates > 0 && s.sent_frames > 0;
  if (tag == "fragfail") return s.frag_fails > 0;
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

  vnic::fuzz::install_abort_hook("vnic-defrag-fuzz");
  int wrong = 0;
  df::Summary total;
  for (const fs::path& p : inputs) {
    const std::vector<uint8_t> raw = vnic::fuzz::read_input(p);
    const auto bytes = std::make_unique<uint8_t[]>(raw.size());  // exactly the input's size, as libFuzzer's
    std::memcpy(bytes.get(), raw.data(), raw.size());
    vnic::fuzz::set_current_input(p);
    const df::Summary s = df::run_input({bytes.get(), raw.size()}, trace);
    total.ops += s.ops;
    total.reassembled += s.reassembled;
    total.sent_frames += s.sent_frames;
    total.max_frag_mem = std::max(total.max_frag_mem, s.max_frag_mem);
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
    std::printf("%-64s %5zu B  %s%s\n", name.c_str(), raw.size(), df::describe(s).c_str(), note.c_str());
  }
  std::printf("summary: %zu inputs, %u ops, %llu datagrams reassembled and handed up, %llu frames sent, frag_mem at most %llu; "
              "%d not doing what their name says\n",
              inputs.size(), total.ops, static_cast<unsigned long long>(total.reassembled),
              static_cast<unsigned long long>(total.sent_frames), static_cast<unsigned long long>(total.max_frag_mem), wrong);
  return wrong == 0 ? 0 : 1;
}

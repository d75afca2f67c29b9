// Replays wire fuzz inputs through the same checks as the libFuzzer targets, deterministically,
// in every preset (GCC too): the ctest label `fuzz` runs it on the committed corpus. A violated
// property aborts; an input named "<outcome>--<what>" must have that outcome. It also writes
// the seed corpus from its C++ description.
//   vnic_wire_fuzz_replay FORMAT FILE_OR_DIR...     (FORMAT: ethernet, arp, ipv4, icmp, checksum, udp, tcp)
//   vnic_wire_fuzz_replay --write-seeds DIR         (writes DIR/wire-<format>/...)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corpus_files.hpp"
#include "wire_fuzz_checks.hpp"
#include "wire_fuzz_seeds.hpp"

namespace {

namespace fs = std::filesystem;
namespace wf = vnic::fuzz::wire;

int usage() {
  std::fprintf(stderr,
               "usage: vnic_wire_fuzz_replay FORMAT FILE_OR_DIR...\n"
               "         (FORMAT: ethernet, arp, ipv4, icmp, checksum, udp, tcp)\n"
               "       vnic_wire_fuzz_replay --write-seeds DIR\n");
  return 2;
}

int write_seeds(const fs::path& dir) {
  for (const wf::WireSeed& s : wf::wire_seed_corpus()) {
    const fs::path sub = dir / ("wire-" + std::string(wf::format_name(s.format)));
    fs::create_directories(sub);
    std::ofstream f(sub / s.name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(s.bytes.data()), static_cast<std::streamsize>(s.bytes.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", (sub / s.name).c_str());
      return 1;
    }
    std::printf("%-10s %-56s %5zu B\n", std::string(wf::format_name(s.format)).c_str(), s.name.c_str(), s.bytes.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc == 3 && std::string(argv[1]) == "--write-seeds") return write_seeds(argv[2]);
  if (argc < 3) return usage();
  const auto format = wf::format_from_name(argv[1]);
  if (!format) return usage();
  std::vector<fs::path> inputs;
  for (int i = 2; i < argc; ++i) {
    const fs::path a = argv[i];
    if (fs::is_directory(a)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());  // the same order on every machine
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(a)) {
      inputs.push_back(a);
    } else {
      std::fprintf(stderr, "no such file or directory: %s\n", a.c_str());
      return 2;
    }
  }
  if (inputs.empty()) return usage();

  vnic::fuzz::install_abort_hook("vnic-wire-fuzz");
  std::map<std::string, int> outcomes;
  int wrong = 0;
  for (const fs::path& p : inputs) {
    const std::vector<uint8_t> raw = vnic::fuzz::read_input(p);
    // A heap block of exactly the input's size, as libFuzzer hands it: ASan sees a read past it.
    const auto bytes = std::make_unique<uint8_t[]>(raw.size());
    std::memcpy(bytes.get(), raw.data(), raw.size());
    vnic::fuzz::set_current_input(p);
    const std::string got = wf::check_input(*format, {bytes.get(), raw.size()});
    ++outcomes[got];
    const std::string name = p.filename().string();
    const std::size_t sep = name.find("--");
    const bool named = sep != std::string::npos;
    const bool ok = !named || name.substr(0, sep) == got;
    if (!ok) ++wrong;
    std::printf("%-60s %5zu B  %s%s\n", name.c_str(), raw.size(), got.c_str(), ok ? "" : "  (the name says otherwise)");
  }
  std::printf("summary: %zu inputs;", inputs.size());
  for (const auto& [o, n] : outcomes) std::printf(" %s %d", o.c_str(), n);
  std::printf("; %d with another outcome than their name's\n", wrong);
  return wrong == 0 ? 0 : 1;
}

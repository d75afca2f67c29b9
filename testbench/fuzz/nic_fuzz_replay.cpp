// Replays NIC fuzzer inputs through the same harness as the libFuzzer target, in one process
// and deterministically: the ctest label `fuzz` runs it on the committed corpus. A failed check
// aborts (non-zero exit). It also writes the seed corpus from its C++ description.
//   vnic_nic_fuzz_replay [--skip=CHECK,...] [--trace] FILE_OR_DIR...
//   vnic_nic_fuzz_replay --write-seeds DIR
#include <systemc>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "corpus_files.hpp"
#include "nic_fuzz_harness.hpp"
#include "nic_fuzz_seeds.hpp"

namespace {

namespace fs = std::filesystem;
using vnic::fuzz::NicFuzzHarness;

// An input that runs this long (wall clock) is hung: say which, and abort like a failed check.
constexpr unsigned kWallLimitSeconds = 30;
char current_input[512] = "";

void say(const char* what) {
  (void)!write(2, what, std::strlen(what));
  (void)!write(2, current_input, std::strlen(current_input));
  (void)!write(2, "\n", 1);
}
extern "C" void on_alarm(int) {
  say("vnic-fuzz: input did not finish in time (a hang): ");
  std::abort();
}
// A failed check aborts: name the input it failed on, then die as before.
extern "C" void on_abort(int sig) {
  say("vnic-fuzz: the failing input is ");
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int usage() {
  std::fprintf(stderr,
               "usage: vnic_nic_fuzz_replay [--skip=CHECK,...] [--trace] FILE_OR_DIR...\n"
               "       vnic_nic_fuzz_replay --write-seeds DIR\n");
  return 2;
}

int write_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  for (const vnic::fuzz::Seed& s : vnic::fuzz::seed_corpus()) {
    std::ofstream f(dir / s.name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(s.bytes.data()), static_cast<std::streamsize>(s.bytes.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", (dir / s.name).c_str());
      return 1;
    }
    std::printf("%-48s %4zu B  %s\n", s.name.c_str(), s.bytes.size(), s.about.c_str());
  }
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::vector<fs::path> inputs;
  std::string skip;
  bool trace = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--write-seeds") {
      if (i + 1 >= argc) return usage();
      return write_seeds(argv[i + 1]);
    }
    if (a.rfind("--skip=", 0) == 0) {
      skip = a.substr(7);
    } else if (a == "--trace") {
      trace = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage();
    } else if (fs::is_directory(a)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(a)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());  // the same order on every machine
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else if (fs::is_regular_file(a)) {
      inputs.emplace_back(a);
    } else {
      std::fprintf(stderr, "no such file or directory: %s\n", a.c_str());
      return 2;
    }
  }
  if (inputs.empty()) return usage();

  NicFuzzHarness h;
  if (!h.skip(skip)) {
    std::fprintf(stderr, "--skip: unknown check in '%s'\n", skip.c_str());
    return 2;
  }
  h.set_trace(trace);
  std::signal(SIGALRM, on_alarm);
  std::signal(SIGABRT, on_abort);
  for (const fs::path& p : inputs) {
    const std::vector<uint8_t> bytes = vnic::fuzz::read_input(p);
    std::snprintf(current_input, sizeof(current_input), "%s", p.c_str());
    alarm(kWallLimitSeconds);
    h.run(bytes.data(), bytes.size());
    alarm(0);
    const auto& r = h.last();
    std::printf("%-52s %3u ops  %9.3f us  frames in %5llu out %5llu  msi %5llu  digest %016llx%s\n",
                p.filename().c_str(), r.ops, static_cast<double>(r.sim_ps) / 1e6,
                static_cast<unsigned long long>(r.frames_in), static_cast<unsigned long long>(r.frames_out),
                static_cast<unsigned long long>(r.msi), static_cast<unsigned long long>(r.digest),
                r.quiet ? "" : "  (still busy after the drain)");
  }
  const auto& s = h.stats();
  std::printf("summary: %llu inputs, %llu ops; max pending callbacks %zu (bound %zu); max callbacks in a "
              "microsecond %llu, %llu without guest activity (bound %zu, +%llu a guest event); max frames in use "
              "%zu; max posted writes %zu; busy after the drain: %llu\n",
              static_cast<unsigned long long>(s.inputs), static_cast<unsigned long long>(s.ops), s.max_pending,
              s.pending_bound, static_cast<unsigned long long>(s.max_callbacks_per_us),
              static_cast<unsigned long long>(s.max_callbacks_per_quiet_us), s.callbacks_bound,
              static_cast<unsigned long long>(vnic::fuzz::kCallbacksPerGuestEvent), s.max_frames_in_use,
              s.max_pending_writes, static_cast<unsigned long long>(s.not_quiet));
  for (std::size_t i = 0; i < vnic::fuzz::kNumChecks; ++i) {
    if (s.skipped[i] != 0) {
      std::printf("skipped: %llu violations of %s\n", static_cast<unsigned long long>(s.skipped[i]),
                  std::string(vnic::fuzz::check_name(static_cast<vnic::fuzz::Check>(i))).c_str());
    }
  }
  return 0;
}

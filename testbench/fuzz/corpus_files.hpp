// What the replays share: the input list (a file, or every regular file of a directory in name
// order, the same order on every machine), a file's bytes, a seed written out, and the abort hook
// that names the input a failed check aborted on.
#pragma once

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace vnic::fuzz {

// Appends `arg`'s inputs; false (with a message) if it is neither a file nor a directory.
inline bool add_inputs(const std::filesystem::path& arg, std::vector<std::filesystem::path>* inputs) {
  namespace fs = std::filesystem;
  if (fs::is_directory(arg)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(arg)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    inputs->insert(inputs->end(), files.begin(), files.end());
    return true;
  }
  if (fs::is_regular_file(arg)) {
    inputs->push_back(arg);
    return true;
  }
  std::fprintf(stderr, "no such file or directory: %s\n", arg.c_str());
  return false;
}

inline std::vector<uint8_t> read_input(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Writes one seed file (dir created); 0, or 1 with a message.
inline int write_seed(const std::filesystem::path& dir, const std::string& name, const std::vector<uint8_t>& bytes,
                      int name_width) {
  std::filesystem::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    return 1;
  }
  std::printf("%-*s %5zu B\n", name_width, name.c_str(), bytes.size());
  return 0;
}

// The input being replayed, for the abort hook: "<prefix>: the failing input is <path>".
inline char g_current_input[512] = "";
inline const char* g_abort_prefix = "";
extern "C" inline void on_replay_abort(int sig) {
  const char what[] = ": the failing input is ";
  (void)!std::fwrite(g_abort_prefix, 1, std::strlen(g_abort_prefix), stderr);
  (void)!std::fwrite(what, 1, sizeof(what) - 1, stderr);
  (void)!std::fwrite(g_current_input, 1, std::strlen(g_current_input), stderr);
  (void)!std::fwrite("\n", 1, 1, stderr);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
inline void install_abort_hook(const char* prefix) {
  g_abort_prefix = prefix;
  std::signal(SIGABRT, on_replay_abort);
}
inline void set_current_input(const std::filesystem::path& p) {
  std::snprintf(g_current_input, sizeof(g_current_input), "%s", p.c_str());
}

}  // namespace vnic::fuzz

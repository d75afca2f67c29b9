// The replays' input list: a file, or every regular file of a directory in name order (the same
// order on every machine), and a file's bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
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

}  // namespace vnic::fuzz

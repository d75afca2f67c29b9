// The NIC fuzzer's seed corpus, written as op streams (nic_fuzz_ops.hpp): one seed per bug class
// of issue 10 and per row of docs/hw.md's bad-input table. `vnic_nic_fuzz_replay --write-seeds
// DIR` writes them; the files under testbench/fuzz/corpus/nic/ are its output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vnic::fuzz {

struct Seed {
  std::string name;   // the file name
  std::string about;  // what it does, one line
  std::vector<uint8_t> bytes;
};

std::vector<Seed> seed_corpus();

}  // namespace vnic::fuzz

// The reassembly fuzz target's seed corpus, as C++ (OpWriter programs), each named
// "<expect>--<what>": what the replay checks the input did (see defrag_fuzz_replay.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vnic::fuzz::defrag {

struct DefragSeed {
  std::string name;  // the file under corpus/defrag/
  std::vector<uint8_t> bytes;
};

std::vector<DefragSeed> defrag_seed_corpus();

}  // namespace vnic::fuzz::defrag

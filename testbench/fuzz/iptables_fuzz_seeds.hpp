// The iptables fuzz target's seed corpus, as C++ (Writer programs), each named "<expect>--<what>":
// what the replay checks the input did (see iptables_fuzz_replay.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vnic::fuzz::ipt {

struct IptablesSeed {
  std::string name;  // the file under corpus/iptables/
  std::vector<uint8_t> bytes;
};

std::vector<IptablesSeed> iptables_seed_corpus();

}  // namespace vnic::fuzz::ipt

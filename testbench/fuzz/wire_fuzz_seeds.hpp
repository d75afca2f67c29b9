// The wire fuzz targets' seed corpus, as C++: real packets and every malformed case of the unit
// tests, each named after the outcome it must have ("<outcome>--<what>", checked by the replay).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire_fuzz_checks.hpp"

namespace vnic::fuzz::wire {

struct WireSeed {
  Format format;
  std::string name;  // "<outcome>--<what>"; the file under corpus/wire-<format>/
  std::vector<uint8_t> bytes;
};

std::vector<WireSeed> wire_seed_corpus();

}  // namespace vnic::fuzz::wire

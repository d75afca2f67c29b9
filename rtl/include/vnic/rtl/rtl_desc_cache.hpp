// The Verilated descriptor FIFO behind model::DescCache, so the NIC runs with the RTL in the loop.
#pragma once

#include <cstdint>
#include <memory>

#include "vnic/model/desc_cache.hpp"

namespace vnic::rtl {

// The RTL is verilated at one configuration for the NIC.
inline constexpr uint32_t kNicFifoDepth = 64;
inline constexpr uint32_t kNicFifoWidth = 128;

// A DescCache stepped on demand: each push or pop is one clock edge of the Verilated FIFO.
// Throws std::invalid_argument when depth/width differ from the verilated configuration.
std::unique_ptr<model::DescCache> make_rtl_desc_cache(uint32_t depth, uint32_t width_bits);
// The same with the deliberately broken full flag (tests show it is caught).
std::unique_ptr<model::DescCache> make_broken_rtl_desc_cache(uint32_t depth, uint32_t width_bits);
// Clock edges taken by all RTL caches in this process (for benchmarks and reports).
uint64_t rtl_cycles();

}  // namespace vnic::rtl

// Traffic patterns: deterministic frames from (seed, sequence number), so a receiver can check
// order and every byte without storing what was sent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "vnic/model/mac_addr.hpp"
#include "vnic/tb/splitmix.hpp"

namespace vnic::tb {

inline constexpr uint16_t kTestEtherType = 0x88B5;  // IEEE 802 local experimental
inline constexpr uint32_t kTestHeaderLen = 14 + 8;  // Ethernet header + sequence number

struct TrafficPattern {
  uint64_t seed = 1;
  uint32_t min_len = 60;    // frame length without FCS
  uint32_t max_len = 1514;
  model::MacAddr dst{};
  model::MacAddr src{};
};

// Length (without FCS) of frame `seq`.
uint32_t frame_len(const TrafficPattern& p, uint64_t seq);
// Writes frame `seq` (frame_len bytes) into out (which must be at least that long).
void fill_frame(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out);
// Returns the sequence number if `frame` (without FCS) is exactly what fill_frame made for it.
std::optional<uint64_t> check_frame(const TrafficPattern& p, std::span<const uint8_t> frame);

}  // namespace vnic::tb

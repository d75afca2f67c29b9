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
  // IPv4/UDP frames as Linux's pktgen sends them (dst set): from ip_src to ip_dst, UDP port 9 to
  // port 9 (pktgen's udp_src_min/udp_dst_min), TTL 32, no DF, IP id = sequence number, UDP
  // checksum 0 (pktgen without UDPCSUM); the sequence number and pattern bytes in the UDP
  // payload. 0: raw frames of kTestEtherType.
  uint32_t ip_src = 0;
  uint32_t ip_dst = 0;
};

inline constexpr uint32_t kIpUdpHeaderLen = 14 + 20 + 8;  // Ethernet, IPv4, UDP headers
inline constexpr uint16_t kPktgenUdpPort = 9;              // discard

// Length (without FCS) of frame `seq`.
uint32_t frame_len(const TrafficPattern& p, uint64_t seq);
// Writes frame `seq` (frame_len bytes) into out (which must be at least that long).
void fill_frame(const TrafficPattern& p, uint64_t seq, std::span<uint8_t> out);
// Returns the sequence number if `frame` (without FCS) is exactly what fill_frame made for it.
std::optional<uint64_t> check_frame(const TrafficPattern& p, std::span<const uint8_t> frame);
// For an IPv4/UDP pattern: the sequence number if `datagram` (from its IPv4 header on) carries
// what fill_frame put there. Routers on the way change the Ethernet header, the TTL and the
// header checksum: those are not compared (the checksum must still verify).
std::optional<uint64_t> check_datagram(const TrafficPattern& p, std::span<const uint8_t> datagram);

}  // namespace vnic::tb

// Traffic patterns: deterministic frames from (seed, sequence number), so a receiver can check
// order and every byte without storing what was sent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

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
  // Several destinations (a station on a switch sending to every other): frame `seq` goes to
  // dsts[seq % dsts.size()], round robin; empty: every frame to dst.
  std::vector<model::MacAddr> dsts;
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
// The destination MAC of frame `seq`.
inline const model::MacAddr& frame_dst(const TrafficPattern& p, uint64_t seq) {
  return p.dsts.empty() ? p.dst : p.dsts[seq % p.dsts.size()];
}

// What a receiver checks raw frames against: the pattern of each sender that sends to it (one
// for a link's peer; every station on a switch that sends to it), told apart by source MAC,
// each with its own order check. A sender with several destinations sends this receiver every
// dsts.size()-th frame, from its place in that list: the order and gap checks step by that.
class RxExpect {
 public:
  // Only `p` (what expect() of a point-to-point port does).
  void set(const TrafficPattern& p);
  // One more sender, whose frames to `me` this receiver takes.
  void add(const TrafficPattern& p, const model::MacAddr& me);
  bool empty() const { return senders_.empty(); }
  struct Result {
    bool ok = false;          // a frame some sender made for it, byte for byte
    bool out_of_order = false;
    uint64_t gap = 0;         // that sender's frames to this receiver skipped before it
    uint64_t seq = 0;         // its sequence number (when ok)
  };
  Result check(std::span<const uint8_t> frame);

 private:
  struct Sender {
    TrafficPattern p;
    uint64_t next = 0;    // the next sequence number expected from it
    uint64_t stride = 1;  // every stride-th of its frames comes here
  };
  std::vector<Sender> senders_;
};

// For an IPv4/UDP pattern: the sequence number if `datagram` (from its IPv4 header on) carries
// what fill_frame put there. Routers on the way change the Ethernet header, the TTL and the
// header checksum: those are not compared (the checksum must still verify).
std::optional<uint64_t> check_datagram(const TrafficPattern& p, std::span<const uint8_t> datagram);

}  // namespace vnic::tb

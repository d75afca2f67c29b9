// inet_peer (net/ipv4/inetpeer.c, Linux 6.1): the per-namespace, per-remote-address state that
// ICMP's per-destination rate limit (inet_peer_xrlim_allow) and ip_error's unreachables share:
// one token bucket (rate_tokens, rate_last) per peer, so an ICMP that ip_error lets through
// also pays icmpv4_xrlim_allow's price from the same tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

// The rate-limit state of an inet_peer (rate_tokens, rate_last in jiffies, unsigned long).
struct InetPeer {
  uint64_t rate_tokens = 0;
  uint64_t rate_last = 0;
};
inline constexpr uint64_t kXrlimBurstFactor = 6;  // XRLIM_BURST_FACTOR
// inet_peer_xrlim_allow: tokens grow by the jiffies since rate_last, capped at 6 * timeout; a
// message costs `timeout` tokens. nullptr (no peer) is always allowed.
bool inet_peer_xrlim_allow(InetPeer* peer, uint64_t now_jiffies, uint64_t timeout);

// The inet_peer base of a namespace (net->ipv4.peers), keyed by the remote address (Linux's AVL
// tree). A new peer starts with rate_last = jiffies - 60*HZ (inet_getpeer), so its first
// messages see a full burst. Peers are never aged out here (Linux's inet_peer GC drops unused
// ones after inet_peer_maxttl, 10 min, under memory pressure); docs/stack.md says so.
class InetPeers {
 public:
  InetPeer& getpeer(wire::Ipv4Addr daddr, uint64_t now_jiffies);
  const InetPeer* find(wire::Ipv4Addr daddr) const;
  std::size_t size() const { return peers_.size(); }

 private:
  std::map<uint32_t, InetPeer> peers_;
};

}  // namespace vnic::stack

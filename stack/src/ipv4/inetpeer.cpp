// inet_peer's rate-limit bucket and the namespace's peer base (net/ipv4/inetpeer.c, Linux 6.1).
#include "vnic/stack/inetpeer.hpp"

#include "vnic/stack/cpu.hpp"

namespace vnic::stack {

bool inet_peer_xrlim_allow(InetPeer* peer, uint64_t now, uint64_t timeout) {
  if (peer == nullptr) return true;
  uint64_t token = peer->rate_tokens;
  token += now - peer->rate_last;
  peer->rate_last = now;
  if (token > kXrlimBurstFactor * timeout) token = kXrlimBurstFactor * timeout;
  bool rc = false;
  if (token >= timeout) {
    token -= timeout;
    rc = true;
  }
  peer->rate_tokens = token;
  return rc;
}

InetPeer& InetPeers::getpeer(wire::Ipv4Addr daddr, uint64_t now) {
  const auto [it, fresh] = peers_.try_emplace(daddr.to_u32());
  if (fresh) {
    it->second.rate_tokens = 0;
    it->second.rate_last = now - 60 * static_cast<uint64_t>(kHz);  // inet_getpeer
  }
  return it->second;
}

const InetPeer* InetPeers::find(wire::Ipv4Addr daddr) const {
  const auto it = peers_.find(daddr.to_u32());
  return it == peers_.end() ? nullptr : &it->second;
}

}  // namespace vnic::stack

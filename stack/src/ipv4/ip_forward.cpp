// IPv4 forwarding of one namespace (net/ipv4/ip_forward.c, Linux 6.1): ip_forward's checks in
// its order, the TTL and its checksum, the FORWARD hook, ip_forward_finish's counters, then
// ip_output (POST_ROUTING, fragmentation, the neighbour layer) as for a local packet.
#include "../core/net_priv.hpp"

namespace vnic::stack {

namespace {

// rt_tos2priority: ip_tos2prio[IPTOS_TOS(tos) >> 1] (net/ipv4/route.c): TC_PRIO_BESTEFFORT 0,
// BULK 2, INTERACTIVE_BULK 4, INTERACTIVE 6 (ECN_OR_COST(x) is x).
constexpr uint8_t kTos2Prio[16] = {0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4};

}  // namespace

void NetStack::ip_forward(SkBuff* skb, const RouteIn& r) {
  // ingress 17, the forward branch (dst.input = ip_forward).
  Cpu& cpu = *cpus_[0];
  cpu.charge(cpu.costs().ip_forward);
  // "That should never happen": a frame the link layer broadcast or multicast with a unicast
  // destination that is not ours. Linux frees it without a reason or counter.
  if (skb->pkt_type != PktType::Host) {
    ++stats_.fwd_not_host;
    drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(17));
    return;
  }
  auto ip = wire::Ipv4PacketMut::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  if (!ip) {  // ip_rcv_core passed it: cannot happen, but never write through a bad view
    drop(cpu, skb, SkbDropReason::IpInhdr, model::ingress(17));
    return;
  }
  // RFC 1812 5.3.1: a packet whose TTL would reach zero is not forwarded; the sender is told.
  if (ip->ttl() <= 1) {
    ++mib_.InHdrErrors;
    icmp_send(cpu, *skb, 11, 0, 0);  // ICMP_TIME_EXCEEDED, ICMP_EXC_TTL
    drop(cpu, skb, SkbDropReason::IpInhdr, model::ingress(17), model::host_drop(model::HostDrop::IpInHdrErrors));
    return;
  }
  Dev* out = dev_entry(r.oif);
  if (out == nullptr) {  // the route's device went away (cannot happen while routes follow devices)
    drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(17));
    return;
  }
  // ip_exceeds_mtu with ip_dst_mtu_maybe_forward (ip_forward_use_pmtu 0: the device's MTU):
  // too big with DF set is refused with the MTU the sender should use (RFC 1191).
  const uint32_t mtu = out->dev->mtu;
  if (skb->len > mtu && !skb_is_gso(*skb) && ip->dont_fragment()) {  // ip_exceeds_mtu: a GSO skb's segments fit
    ++mib_.FragFails;
    icmp_send(cpu, *skb, 3, 4, mtu);  // ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu)
    drop(cpu, skb, SkbDropReason::PktTooBig, model::ingress(17), model::host_drop(model::HostDrop::IpFragFails));
    return;
  }
  // ip_decrease_ttl: the TTL and the checksum updated together (RFC 1624's incremental form).
  const uint8_t ttl = ip->decrement_ttl();
  if (cfg_.ipv4.ip_fwd_update_priority) skb->priority = kTos2Prio[(ip->tos() & 0x1Eu) >> 1];
  trace_event(cpu, TraceKind::IpForward, model::ingress(17), skb->trace_id, ttl, static_cast<uint64_t>(r.oif));
  // NF_INET_FORWARD (in: the device it came in on, out: the route's).
  if (!nf_hook(cpu, kNfForward, skb, skb->dev, out->dev, model::ingress(17))) return;
  RouteOut rt;
  rt.oif = r.oif;
  rt.next_hop = r.next_hop;
  rt.type = RouteType::Unicast;
  ip_forward_finish(cpu, skb, rt);
}

void NetStack::ip_forward_finish(Cpu& cpu, SkBuff* skb, const RouteOut& rt) {
  // ForwDatagrams and OutOctets here; ip_output counts OutRequests and OutOctets again, as 6.1
  // does (a forwarded datagram's octets are counted twice in OutOctets).
  ++mib_.OutForwDatagrams;
  mib_.OutOctets += skb->len;
  skb->tstamp = Instant{};  // skb_clear_tstamp
  ip_output(cpu, skb, rt);
}

}  // namespace vnic::stack

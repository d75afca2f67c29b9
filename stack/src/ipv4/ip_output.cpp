// Local IPv4 output of one namespace (net/ipv4/ip_output.c, Linux 6.1): ip_queue_xmit /
// ip_make_skb's header, ip_local_out, ip_output (OutRequests/OutOctets), ip_finish_output (the
// MTU) and ip_finish_output2 (the neighbour layer), then dev_queue_xmit on the sending CPU.
#include "../core/net_priv.hpp"
#include "vnic/stack/wire/ethernet.hpp"

namespace vnic::stack {

namespace {

uint64_t mix(uint64_t z) {  // a 64-bit finaliser standing in for siphash (ip_idents_hashrnd keyed)
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// What dev_queue_xmit answered, as Linux's output functions pass it up: NET_XMIT_SUCCESS 0,
// NET_XMIT_DROP 1, NET_XMIT_CN 2, or a negative errno. ip_do_fragment stops at anything but 0;
// ip_send_skb turns a positive value into an errno (net_xmit_errno: CN is no error).
int xmit_rc(NetXmit rc) {
  switch (rc) {
    case NetXmit::Success: return 0;
    case NetXmit::Drop: return 1;
    case NetXmit::Cn: return 2;
    case NetXmit::NetDown: return -kENETDOWN;
  }
  return 1;
}
constexpr int net_xmit_errno(int rc) { return rc == 2 ? 0 : -kENOBUFS; }

}  // namespace

uint16_t NetStack::ip_select_ident(Cpu& cpu, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t proto) {
  // __ip_select_ident -> ip_idents_reserve: a slot chosen by a keyed hash of the addresses and
  // protocol; a slot idle since `old` jumps by a random amount below the jiffies elapsed, so the
  // ids of one flow are not a plain counter an observer can read others' traffic from.
  const uint64_t h = mix(ident_key_ ^ (uint64_t{daddr.to_u32()} << 32 | saddr.to_u32()) ^ (uint64_t{proto} << 56));
  const std::size_t slot = h % idents_.size();
  const uint64_t now = jiffies(cpu.now());
  uint32_t delta = 0;
  if (ident_tstamp_[slot] != now) {
    const uint64_t span = now - ident_tstamp_[slot];
    ident_tstamp_[slot] = now;
    ident_rng_ += 0x9E3779B97F4A7C15ull;
    delta = static_cast<uint32_t>(mix(ident_rng_) % (span == 0 ? 1 : span));  // prandom_u32_max(now - old)
  }
  idents_[slot] += 1 + delta;
  return static_cast<uint16_t>(idents_[slot] - 1);
}

int NetStack::ip_send(Cpu& cpu, SkBuff* skb, const IpSend& p) {
  // egress 5: the transport hands the packet to IP (ip_queue_xmit / ip_push_pending_frames).
  cpu.charge(cpu.costs().ip_output);
  trace_event(cpu, TraceKind::IpSend, model::egress(5), skb->trace_id, p.protocol);
  // ip_route_output_flow. A source that is not ours has no route (-ENETUNREACH); a send to one of
  // our own addresses goes out through lo (route_output's local route).
  RouteOut rt;
  if (!p.saddr.is_unspecified() && (p.saddr.is_multicast() || p.saddr.is_broadcast() || p.saddr.b[0] == 0)) {
    rt.err = -kEINVAL;
  } else if (!p.saddr.is_unspecified() && !is_local_addr(p.saddr)) {
    rt.err = -kENETUNREACH;
  } else {
    rt = route_output(p.daddr, p.oif);
  }
  if (rt.err == 0 && dev_entry(rt.oif) == nullptr) rt.err = -kENODEV;
  if (rt.err != 0) {
    // ip_queue_xmit's no_route: OutNoRoutes for any failed lookup, the skb freed.
    ++mib_.OutNoRoutes;
    trace_event(cpu, TraceKind::RouteOutput, model::egress(7), skb->trace_id, 0, static_cast<uint64_t>(-rt.err));
    drop(cpu, skb, SkbDropReason::IpOutnoroutes, model::egress(7));
    return rt.err;
  }
  const wire::Ipv4Addr saddr = p.saddr.is_unspecified() ? rt.saddr : p.saddr;
  // egress 6: the header (ip_queue_xmit: skb_push, the fields, ip_select_ident; __ip_local_out:
  // tot_len and the checksum).
  const uint32_t total = skb->len + static_cast<uint32_t>(wire::kIpv4MinHeaderLen);
  if (total > wire::kIpv4MaxTotalLen) {
    ++mib_.OutDiscards;  // ip_append_data refuses it (EMSGSIZE) before an skb exists; counted here
    drop(cpu, skb, SkbDropReason::PktTooBig, model::egress(6));
    return -kEMSGSIZE;
  }
  const uint32_t transport_len = skb->len;
  std::span<uint8_t> h = skb_push(*skb, static_cast<uint32_t>(wire::kIpv4MinHeaderLen));
  if (h.data() == nullptr) {  // no headroom: Linux would have reserved it (MAX_HEADER)
    ++mib_.OutDiscards;
    drop(cpu, skb, SkbDropReason::Nomem, model::egress(6));
    return -kENOBUFS;
  }
  skb_reset_network_header(*skb);
  skb_set_transport_header(*skb, static_cast<int>(wire::kIpv4MinHeaderLen));
  // __ip_make_skb: IP_PMTUDISC_WANT sets DF only on a datagram that fits the route's MTU (a
  // larger one is fragmented here); IP_PMTUDISC_DO always sets it.
  bool df = p.df;
  if (df && p.df_only_if_fits) {
    const Dev* od = dev_entry(rt.oif);
    if (od != nullptr && total > od->dev->mtu) df = false;
  }
  wire::Ipv4Repr ip;
  ip.src = saddr;
  ip.dst = p.daddr;
  ip.protocol = static_cast<wire::IpProtocol>(p.protocol);
  ip.ttl = static_cast<uint8_t>(p.ttl >= 0 && p.ttl <= 255 ? p.ttl : cfg_.ipv4.ip_default_ttl);
  ip.tos = p.tos;
  ip.dont_fragment = df;
  // ip_select_ident_segs: a connected socket's inet_id; else 0 for DF without ignore_df, the
  // hashed generator otherwise.
  ip.ident = p.id >= 0                ? static_cast<uint16_t>(p.id)
             : df && !p.ignore_df ? 0
                                  : ip_select_ident(cpu, saddr, p.daddr, p.protocol);
  ip.payload_len = static_cast<uint16_t>(transport_len);
  ip.emit(h);
  skb->protocol = 0x0800;
  trace_event(cpu, TraceKind::IpHeader, model::egress(6), skb->trace_id, skb->len, ip.ident);
  // NF_INET_LOCAL_OUT (out: the route's device), then dst_output: egress 7, the route's output.
  Dev* od = dev_entry(rt.oif);
  int err = -kEPERM;  // NF_DROP at LOCAL_OUT
  if (nf_hook(cpu, kNfLocalOut, skb, nullptr, od != nullptr ? od->dev : nullptr, model::egress(6))) {
    trace_event(cpu, TraceKind::RouteOutput, model::egress(7), skb->trace_id, static_cast<uint32_t>(rt.oif), 0);
    err = ip_output(cpu, skb, rt);
    if (err > 0) err = net_xmit_errno(err);
  }
  // ip_send_skb (ip_push_pending_frames' tail, the path of ping, ICMP and UDP): a failed
  // ip_local_out is OutDiscards (NET_XMIT_CN is no failure). TCP's ip_queue_xmit will not count.
  if (err != 0) ++mib_.OutDiscards;
  return err;
}

int NetStack::ip_output(Cpu& cpu, SkBuff* skb, const RouteOut& rt) {
  // egress 8: ip_output counts the datagram (IP_UPD_PO_STATS(IPSTATS_MIB_OUT): OutRequests and
  // OutOctets in 6.1), sets the device and runs NF_INET_POST_ROUTING (in: the device a
  // forwarded packet came in on).
  Dev* d = dev_entry(rt.oif);
  ++mib_.OutRequests;
  mib_.OutOctets += skb->len;
  NetDevice* const indev = skb->dev;
  skb->dev = d->dev;
  skb->protocol = 0x0800;
  // skb_dst_set: the model keeps only a local route's type on the skb. It goes out through lo,
  // which keeps it (skb_dst_force), and ip_rcv_finish delivers by it (its input, ip_local_deliver).
  if (rt.type == RouteType::Local) skb->rt_type = kRtnLocal;
  trace_event(cpu, TraceKind::IpOutput, model::egress(8), skb->trace_id, skb->len);
  if (!nf_hook(cpu, kNfPostRouting, skb, indev, d->dev, model::egress(8))) return -kEPERM;
  // ip_finish_output -> __ip_finish_output: a datagram larger than the MTU goes to
  // ip_fragment (egress 9), each fragment to ip_finish_output2.
  // A GSO skb is cut into segments that fit at the device (ip_finish_output_gso): never fragmented.
  if (skb->len > d->dev->mtu && !skb_is_gso(*skb)) {
    struct Ctx {
      NetStack* net;
      const RouteOut* rt;
    } ctx{this, &rt};
    auto out = [](void* c, Cpu& cp, SkBuff* frag) {
      auto* x = static_cast<Ctx*>(c);
      return x->net->ip_finish_output2(cp, frag, *x->rt);
    };
    return ip_fragment(cpu, skb, d->dev->mtu, out, &ctx);
  }
  return ip_finish_output2(cpu, skb, rt);
}

int NetStack::ip_fragment(Cpu& cpu, SkBuff* skb, uint32_t mtu, FragOutput output, void* ctx) {
  // ip_fragment: DF without ignore_df (a datagram IP_PMTUDISC_DO sent, or a DF packet forwarded
  // here some other way) is refused as ip_forward refuses it: FragFails and frag-needed.
  const auto ip = wire::Ipv4Packet::checked(skb->bytes(), wire::ChecksumCheck::Skip);
  if (ip && ip->dont_fragment()) {
    ++mib_.FragFails;
    icmp_send(cpu, *skb, 3, 4, mtu);  // ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, htonl(mtu)
    drop(cpu, skb, SkbDropReason::NotSpecified, model::egress(9), model::host_drop(model::HostDrop::IpFragFails));
    return -kEMSGSIZE;  // 6.1 frees it with kfree_skb: no reason
  }
  return ip_do_fragment(cpu, skb, mtu, output, ctx);
}

int NetStack::ip_finish_output2(Cpu& cpu, SkBuff* skb, const RouteOut& rt) {
  Dev* d = dev_entry(rt.oif);
  if (rt.type == RouteType::Broadcast) {
    ++mib_.OutBcastPkts;
    mib_.OutBcastOctets += skb->len;
    // arp_constructor: a broadcast next hop is a NOARP entry with the broadcast address.
    trace_event(cpu, TraceKind::NeighOutput, model::kNoStep, skb->trace_id, kNudNoarp, 0);
    wire::EthernetRepr eth;
    eth.dst = model::MacAddr::broadcast();
    eth.src = d->dev->dev_addr;
    eth.ethertype = wire::EtherType::Ipv4;
    std::span<uint8_t> e = skb_push(*skb, static_cast<uint32_t>(eth.header_len()));
    if (e.data() == nullptr) {
      drop(cpu, skb, SkbDropReason::Nomem, model::egress(8));
      return -kENOBUFS;
    }
    eth.emit(e);
    skb_reset_mac_header(*skb);
    return xmit_rc(tx_for(cpu).dev_queue_xmit(skb));
  }
  const Neighbour* n = neigh_->find(*d->dev, rt.next_hop);
  const uint8_t state = n != nullptr ? n->nud_state : uint8_t{kNudNone};
  const bool waits = (state & (kNudConnected | kNudDelay | kNudProbe | kNudStale)) == 0;
  trace_event(cpu, TraceKind::NeighOutput, model::kNoStep, skb->trace_id, state, waits ? 1 : 0);
  Cpu* const prev = xmit_cpu_;
  xmit_cpu_ = &cpu;
  last_xmit_rc_ = 0;
  neigh_->neigh_output(skb, rt.next_hop);  // queued while unresolved: 0, as neigh_resolve_output
  xmit_cpu_ = prev;
  return last_xmit_rc_;
}

void NetStack::neigh_xmit(void* ctx, SkBuff* skb) {
  // The neighbour layer's dev_queue_xmit: on the CPU sending now, or cpus[0] (timers, receive).
  auto* net = static_cast<NetStack*>(ctx);
  Cpu& cpu = net->xmit_cpu_ != nullptr ? *net->xmit_cpu_ : *net->cpus_[0];
  net->last_xmit_rc_ = xmit_rc(net->tx_for(cpu).dev_queue_xmit(skb));
}

}  // namespace vnic::stack

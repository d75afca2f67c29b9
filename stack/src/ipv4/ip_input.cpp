// ip_rcv_core (net/ipv4/ip_input.c, Linux 6.1) and the IPv4 MIB's /proc views.
#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "vnic/stack/ip.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

SkBuff* ip_rcv_core(SkBuff* skb, IpMib& mib) {
  const SkbDropReason why = ip_rcv_core_check(skb, mib);
  if (why == SkbDropReason::NotDroppedYet) return skb;
  kfree_skb(skb, why);
  return nullptr;
}

SkbDropReason ip_rcv_core_check(SkBuff* skb, IpMib& mib) {
  // A frame for another host (promiscuous mode) goes no further, before any IP counter
  // (dev_core_stats_rx_otherhost_dropped_inc).
  if (skb->pkt_type == PktType::OtherHost) return SkbDropReason::Otherhost;
  ++mib.InReceives;  // __IP_UPD_PO_STATS(IPSTATS_MIB_IN, skb->len)
  mib.InOctets += skb->len;
  skb_reset_network_header(*skb);
  const auto p = wire::Ipv4Packet::checked(skb->bytes(), wire::ChecksumCheck::Verify);
  if (!p) {
    const wire::Ipv4Error e = p.error();
    // The ECN counters come after the version and IHL checks, before the rest.
    if (e != wire::Ipv4Error::Truncated && e != wire::Ipv4Error::BadVersion && e != wire::Ipv4Error::BadHeaderLength) {
      const uint8_t ecn = skb->bytes()[1] & 3u;
      uint64_t* ecn_ctr[] = {&mib.InNoECTPkts, &mib.InECT1Pkts, &mib.InECT0Pkts, &mib.InCEPkts};
      ++*ecn_ctr[ecn];
    }
    const wire::LinuxIpCounts c = wire::linux_ip_counts(e);
    if (c.in_csum_errors) ++mib.InCsumErrors;
    if (c.in_hdr_errors) ++mib.InHdrErrors;
    if (c.in_truncated_pkts) ++mib.InTruncatedPkts;
    const SkbDropReason why = e == wire::Ipv4Error::BadChecksum        ? SkbDropReason::IpCsum
                              : e == wire::Ipv4Error::TotalLengthTooBig ? SkbDropReason::PktTooSmall
                                                                         : SkbDropReason::IpInhdr;
    return why;
  }
  // IPSTATS_MIB_NOECTPKTS + (tos & INET_ECN_MASK): INET_ECN_NOT_ECT 0, ECT_1 1, ECT_0 2, CE 3.
  uint64_t* ecn_ctr[] = {&mib.InNoECTPkts, &mib.InECT1Pkts, &mib.InECT0Pkts, &mib.InCEPkts};
  *ecn_ctr[p->ecn()] += std::max<uint32_t>(1, skb->gso_segs);  // a GRO skb counts its segments
  // Link padding beyond the total length goes (pskb_trim_rcsum); the transport header follows
  // the IP header.
  const uint32_t total = p->total_len();
  const uint32_t hlen = static_cast<uint32_t>(p->header_len());
  skb_trim(*skb, total);
  skb_set_transport_header(*skb, static_cast<int>(hlen));
  return SkbDropReason::NotDroppedYet;
}

std::string proc_net_snmp_ip(const IpMib& m, bool ip_forward, int default_ttl) {
  // snmp4_ipstats_list in net/ipv4/proc.c; Forwarding is 1 (forwarding) or 2 (not).
  return fmt::format(
      "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards "
      "InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails "
      "FragCreates\n"
      "Ip: {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n",
      ip_forward ? 1 : 2, default_ttl, m.InReceives, m.InHdrErrors, m.InAddrErrors, m.OutForwDatagrams,
      m.InUnknownProtos, m.InDiscards, m.InDelivers, m.OutRequests, m.OutDiscards, m.OutNoRoutes, m.ReasmTimeout,
      m.ReasmReqds, m.ReasmOKs, m.ReasmFails, m.FragOKs, m.FragFails, m.FragCreates);
}

std::string proc_net_netstat_mptcpext() {
  constexpr std::string_view kNames =
      "MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK "
      "MPCapableFallbackSYNACK MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound "
      "MPJoinSynRx MPJoinSynAckRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure "
      "DSSNotMatching InfiniteMapTx InfiniteMapRx DSSNoMatchTCP DataCsumErr OFOQueueTail "
      "OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr EchoAdd PortAdd AddAddrDrop "
      "MPJoinPortSynRx MPJoinPortSynAckRx MPJoinPortAckRx MismatchPortSynRx "
      "MismatchPortAckRx RmAddr RmAddrDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx "
      "MPFastcloseTx MPFastcloseRx MPRstTx MPRstRx RcvPruned SubflowStale SubflowRecover "
      "SndWndShared RcvWndShared RcvWndConflictUpdate RcvWndConflict";
  std::string out = "MPTcpExt:";
  std::string vals = "MPTcpExt:";
  for (std::size_t at = 0; at < kNames.size();) {
    const std::size_t end = std::min(kNames.find(' ', at), kNames.size());
    out += " ";
    out += kNames.substr(at, end - at);
    vals += " 0";
    at = end + 1;
  }
  return out + "\n" + vals + "\n";
}

std::string proc_net_netstat_ipext(const IpMib& m) {
  // The IpExt row of /proc/net/netstat (snmp4_ipextstats_list).
  return fmt::format(
      "IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets OutOctets "
      "InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts InECT1Pkts InECT0Pkts "
      "InCEPkts ReasmOverlaps\n"
      "IpExt: {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n",
      m.InNoRoutes, m.InTruncatedPkts, m.InMcastPkts, m.OutMcastPkts, m.InBcastPkts, m.OutBcastPkts, m.InOctets,
      m.OutOctets, m.InMcastOctets, m.OutMcastOctets, m.InBcastOctets, m.OutBcastOctets, m.InCsumErrors,
      m.InNoECTPkts, m.InECT1Pkts, m.InECT0Pkts, m.InCEPkts, m.ReasmOverlaps);
}

}  // namespace vnic::stack

// ---------------------------------------------------------------------------------------------
// ip_rcv, ip_rcv_finish (with ip_route_input_noref), ip_error, ip_local_deliver and
// ip_protocol_deliver_rcu of one namespace (net/ipv4/ip_input.c, net/ipv4/route.c, Linux 6.1).

#include <algorithm>

#include "vnic/stack/net.hpp"

namespace vnic::stack {

namespace {

constexpr bool zeronet(wire::Ipv4Addr a) { return a.b[0] == 0; }  // ipv4_is_zeronet: 0.0.0.0/8

}  // namespace

void NetStack::ip_rcv(SkBuff* skb) {
  // ingress 15: ip_rcv -> ip_rcv_core.
  Cpu& cpu = *cpus_[0];
  cpu.charge(cpu.costs().ip_rcv);
  trace_event(cpu, TraceKind::IpRcv, model::ingress(15), skb->trace_id, skb->len);
  const SkbDropReason why = ip_rcv_core_check(skb, mib_);
  if (why != SkbDropReason::NotDroppedYet) {
    if (why == SkbDropReason::Otherhost && skb->dev != nullptr) ++skb->dev->rx_otherhost_dropped_core;
    drop(cpu, skb, why, model::ingress(15));
    return;
  }
  // ingress 16: NF_INET_PRE_ROUTING (in: the device it came in on).
  if (!nf_hook(cpu, kNfPreRouting, skb, skb->dev, nullptr, model::ingress(16))) return;
  ip_rcv_finish(skb);
}

NetStack::RouteIn NetStack::ip_route_input(const SkBuff& skb, wire::Ipv4Addr daddr, wire::Ipv4Addr saddr,
                                           const NetDevice& dev) {
  (void)dev;
  // ip_route_input_rcu: a multicast destination is ours only for a joined group. Every IPv4
  // device joins 224.0.0.1 (ip_mc_up); this model joins nothing else (no IGMP yet).
  if (daddr.is_multicast()) {
    if (daddr == wire::Ipv4Addr{{224, 0, 0, 1}}) {
      if (saddr.is_multicast() || saddr.is_broadcast() || (zeronet(saddr) && !saddr.is_unspecified()) ||
          is_local_addr(saddr)) {
        ++rt_stats_.in_martian_src;  // ip_route_input_mc: martian source
        return {-kEINVAL, 0, 0};
      }
      ++rt_stats_.in_slow_mc;
      return {0, kRtnMulticast, 0};
    }
    ++stats_.mc_not_joined;
    return {-kEINVAL, 0, 0};
  }
  // ip_route_input_slow, in its order.
  auto martian_source = [&]() -> RouteIn {
    ++rt_stats_.in_martian_src;  // ip_handle_martian_source (logged only with log_martians)
    return {-kEINVAL, 0, 0};
  };
  auto martian_destination = [&]() -> RouteIn {
    ++rt_stats_.in_martian_dst;
    return {-kEINVAL, 0, 0};
  };
  // fib_validate_source with rp_filter 0 and accept_local 0: a source that is one of our
  // addresses is refused (inet_lookup_ifaddr_rcu), anything else is accepted.
  auto source_ok = [&]() { return cfg_.ipv4.accept_local || !is_local_addr(saddr); };
  auto brd_input = [&]() -> RouteIn {
    if (skb.protocol != 0x0800) return {-kEINVAL, 0, 0};  // e_inval
    if (!zeronet(saddr) && !source_ok()) return martian_source();
    ++rt_stats_.in_brd;
    ++rt_stats_.in_slow_tot;
    return {0, kRtnBroadcast, 0};
  };
  auto no_route = [&](int err) -> RouteIn {
    // The route made has ip_error as its input, with the error it carries.
    ++rt_stats_.in_no_route;
    ++rt_stats_.in_slow_tot;
    return {0, kRtnUnreachable, -err};
  };
  if (saddr.is_multicast() || saddr.is_broadcast()) return martian_source();
  if (daddr.is_broadcast() || (saddr.is_unspecified() && daddr.is_unspecified())) return brd_input();
  if (zeronet(saddr)) return martian_source();
  if (zeronet(daddr)) return martian_destination();
  if (daddr.is_loopback()) return martian_destination();  // route_localnet 0
  if (saddr.is_loopback()) return martian_source();
  const Fib::Lookup l = fib_.lookup(daddr);
  if (l.err != 0) {
    // Not forwarding: any failure is "host unreachable" (err = -EHOSTUNREACH).
    return no_route(cfg_.ipv4.ip_forward ? l.err : -kEHOSTUNREACH);
  }
  const RouteType t = l.res.route->type;
  if (t == RouteType::Broadcast) return brd_input();
  if (t == RouteType::Local) {
    if (!source_ok()) return martian_source();
    ++rt_stats_.in_slow_tot;
    return {0, kRtnLocal, 0};
  }
  if (!cfg_.ipv4.ip_forward) return no_route(-kEHOSTUNREACH);
  if (t != RouteType::Unicast) return martian_destination();
  // ip_mkroute_input -> __mkroute_input: fib_validate_source, then a route whose input is
  // ip_forward (ICMP redirects, for a packet leaving by the device it came in on, are not
  // modelled: docs/stack.md).
  if (!source_ok()) return martian_source();
  if (skb.protocol != 0x0800) return {-kEINVAL, 0, 0};
  ++rt_stats_.in_slow_tot;
  RouteIn r{0, kRtnUnicast, 0};
  r.oif = l.res.route->dev;
  r.next_hop = l.res.next_hop;
  return r;
}

void NetStack::ip_rcv_finish(SkBuff* skb) {
  // ingress 17: ip_rcv_finish -> ip_rcv_finish_core: route input (no early demux: no sockets yet).
  Cpu& cpu = *cpus_[0];
  const auto ip = wire::Ipv4Packet::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  if (!ip) {  // ip_rcv_core passed it: cannot happen, but never read a bad header
    drop(cpu, skb, SkbDropReason::IpInhdr, model::ingress(17));
    return;
  }
  // skb_valid_dst: a packet looped back through lo still has its output route (loopback_xmit's
  // skb_dst_force), whose input is ip_local_deliver: no route input, so no martian checks (a
  // 127/8 or own source is fine here).
  const bool kept_dst = skb->dev->loopback && skb->rt_type == kRtnLocal;
  const RouteIn r = kept_dst ? RouteIn{0, skb->rt_type, 0} : ip_route_input(*skb, ip->dst(), ip->src(), *skb->dev);
  trace_event(cpu, TraceKind::RouteInput, model::ingress(17), skb->trace_id, r.rt_type,
              static_cast<uint64_t>(r.err != 0 ? -r.err : r.dst_error));
  if (r.err != 0) {
    // drop_error: -EXDEV (rp_filter) would be IP_RPFILTER; a martian is NOT_SPECIFIED, counted
    // only in /proc/net/stat/rt_cache (in_martian_src / in_martian_dst).
    drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(17));
    return;
  }
  skb->rt_type = r.rt_type;
  if (ip->ihl() > 5) {
    // ip_rcv_options -> ip_options_compile: a malformed option is InHdrErrors and a parameter
    // problem pointing at it.
    const auto ok = ip->check_options();
    if (!ok) {
      ++mib_.InHdrErrors;
      ++stats_.options_bad;
      icmp_send(cpu, *skb, 12, 0, uint32_t{ok.error().pointer} << 24);  // ICMP_PARAMETERPROB
      drop(cpu, skb, SkbDropReason::NotSpecified, model::ingress(17));
      return;
    }
  }
  if (r.rt_type == kRtnMulticast) {
    ++mib_.InMcastPkts;
    mib_.InMcastOctets += skb->len;
  } else if (r.rt_type == kRtnBroadcast) {
    ++mib_.InBcastPkts;
    mib_.InBcastOctets += skb->len;
  } else if ((skb->pkt_type == PktType::Broadcast || skb->pkt_type == PktType::Multicast) &&
             cfg_.ipv4.drop_unicast_in_l2_multicast) {
    drop(cpu, skb, SkbDropReason::UnicastInL2Multicast, model::ingress(17));  // RFC 1122 3.3.6
    return;
  }
  // dst_input: ip_local_deliver, ip_forward, or ip_error for a route that has none.
  if (r.rt_type == kRtnUnreachable) {
    ip_error(skb, r.dst_error);
    return;
  }
  if (r.rt_type == kRtnUnicast) {
    ip_forward(skb, r);
    return;
  }
  ip_local_deliver(skb);
}

void NetStack::ip_error(SkBuff* skb, int err) {
  // ip_error: the counter the route's error names; a forwarding host also tells the sender
  // (ICMP destination unreachable), at most as fast as the source's token bucket allows.
  Cpu& cpu = *cpus_[0];
  SkbDropReason why = SkbDropReason::NotSpecified;
  uint64_t counter = 0;
  if (!cfg_.ipv4.ip_forward) {
    if (err == kEHOSTUNREACH) {
      ++mib_.InAddrErrors;
      why = SkbDropReason::IpInaddrerrors;
    } else if (err == kENETUNREACH) {
      ++mib_.InNoRoutes;
      why = SkbDropReason::IpInnoroutes;
    }
    drop(cpu, skb, why, model::ingress(17));
    return;
  }
  uint8_t code = 0;
  switch (err) {
    case kEHOSTUNREACH: code = 1; break;  // ICMP_HOST_UNREACH: no counter (6.1)
    case kENETUNREACH:
      code = 0;  // ICMP_NET_UNREACH
      ++mib_.InNoRoutes;
      why = SkbDropReason::IpInnoroutes;
      counter = model::host_drop(model::HostDrop::IpInNoRoutes);
      break;
    case kEACCES: code = 13; break;  // ICMP_PKT_FILTERED
    default:  // EINVAL (a blackhole route): quietly
      drop(cpu, skb, why, model::ingress(17));
      return;
  }
  const auto ip = wire::Ipv4Packet::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  if (ip && ip_error_allow(cpu, ip->src())) {
    icmp_send(cpu, *skb, 3, code, 0);  // ICMP_DEST_UNREACH
  } else {
    ++stats_.ip_error_ratelimited;
  }
  drop(cpu, skb, why, model::ingress(17), counter);
}

bool NetStack::ip_error_allow(Cpu& cpu, wire::Ipv4Addr saddr) {
  // ip_error's bucket on the source's inet_peer: tokens grow one per jiffy up to
  // ip_rt_error_burst (5 s), an unreachable costs ip_rt_error_cost (1 s). The peer is the one
  // ICMP's per-destination limit (icmpv4_xrlim_allow) then charges again for the same message,
  // as in 6.1: from a new peer (rate_last 60 s back) two get out, then one every 2 s.
  constexpr uint64_t kCost = static_cast<uint64_t>(kHz), kBurst = 5 * kCost;
  const uint64_t now = jiffies(cpu.now());
  InetPeer& p = peers_.getpeer(saddr, now);
  p.rate_tokens += now - p.rate_last;
  if (p.rate_tokens > kBurst) p.rate_tokens = kBurst;
  p.rate_last = now;
  if (p.rate_tokens < kCost) return false;
  p.rate_tokens -= kCost;
  return true;
}

void NetStack::ip_local_deliver(SkBuff* skb) {
  // ingress 18: ip_local_deliver: a fragment goes to ip_defrag (the datagram it completes goes
  // on), then NF_INET_LOCAL_IN and ip_local_deliver_finish.
  Cpu& cpu = *cpus_[0];
  cpu.charge(cpu.costs().ip_local_deliver);
  trace_event(cpu, TraceKind::IpLocalDeliver, model::ingress(18), skb->trace_id, skb->len);
  const auto ip = wire::Ipv4Packet::checked(skb->network_bytes(), wire::ChecksumCheck::Skip);
  if (ip && ip->is_fragment()) {
    cpu.charge(cpu.costs().ip_defrag);
    skb = ip_defrag(cpu, skb);
    if (skb == nullptr) return;  // queued, or dropped and counted
  }
  if (!nf_hook(cpu, kNfLocalIn, skb, skb->dev, nullptr, model::ingress(18))) return;
  ip_local_deliver_finish(skb);
}

void NetStack::ip_local_deliver_finish(SkBuff* skb) {
  // ingress 19: __skb_pull the IP header, ip_protocol_deliver_rcu (no raw sockets, no xfrm).
  Cpu& cpu = *cpus_[0];
  skb_pull(*skb, skb_network_header_len(*skb));
  const uint8_t proto = skb_network_header(*skb)[9];
  const Proto& p = protos_[proto];
  if (p.fn != nullptr) {
    trace_event(cpu, TraceKind::L4Deliver, model::ingress(19), skb->trace_id, proto);
    p.fn(p.ctx, skb);
    ++mib_.InDelivers;  // after the handler returned, as 6.1 counts it
    return;
  }
  ++mib_.InUnknownProtos;
  icmp_send(cpu, *skb, 3, 2, 0);  // ICMP_DEST_UNREACH, ICMP_PROT_UNREACH
  drop(cpu, skb, SkbDropReason::IpNoproto, model::ingress(19));
}

}  // namespace vnic::stack

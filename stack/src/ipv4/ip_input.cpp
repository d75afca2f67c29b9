// ip_rcv_core (net/ipv4/ip_input.c, Linux 6.1) and the IPv4 MIB's /proc views.
#include <fmt/format.h>

#include "vnic/stack/ip.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

SkBuff* ip_rcv_core(SkBuff* skb, IpMib& mib) {
  // A frame for another host (promiscuous mode) goes no further, before any IP counter
  // (dev_core_stats_rx_otherhost_dropped_inc).
  if (skb->pkt_type == PktType::OtherHost) {
    kfree_skb(skb, SkbDropReason::Otherhost);
    return nullptr;
  }
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
    kfree_skb(skb, why);
    return nullptr;
  }
  // IPSTATS_MIB_NOECTPKTS + (tos & INET_ECN_MASK): INET_ECN_NOT_ECT 0, ECT_1 1, ECT_0 2, CE 3.
  uint64_t* ecn_ctr[] = {&mib.InNoECTPkts, &mib.InECT1Pkts, &mib.InECT0Pkts, &mib.InCEPkts};
  ++*ecn_ctr[p->ecn()];
  // Link padding beyond the total length goes (pskb_trim_rcsum); the transport header follows
  // the IP header.
  const uint32_t total = p->total_len();
  const uint32_t hlen = static_cast<uint32_t>(p->header_len());
  skb_trim(*skb, total);
  skb_set_transport_header(*skb, static_cast<int>(hlen));
  return skb;
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

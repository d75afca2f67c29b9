// IPv4 receive (net/ipv4/ip_input.c) and the IPv4 MIB as /proc/net/snmp and /proc/net/netstat
// show it. ip_rcv_core checks a datagram and counts it exactly as Linux 6.1 does; route lookup
// and local delivery (ip_rcv_finish, ip_local_deliver) come next in part 1a (docs/stack.md).
#pragma once

#include <cstdint>
#include <string>

#include "vnic/stack/skb.hpp"

namespace vnic::stack {

// The IPSTATS_MIB_* counters ip_rcv_core and its neighbours increment (include/uapi/linux/snmp.h).
struct IpMib {
  uint64_t InReceives = 0, InHdrErrors = 0, InTooBigErrors = 0, InNoRoutes = 0, InAddrErrors = 0;
  uint64_t InUnknownProtos = 0, InTruncatedPkts = 0, InDiscards = 0, InDelivers = 0;
  uint64_t OutForwDatagrams = 0, OutRequests = 0, OutDiscards = 0, OutNoRoutes = 0;
  uint64_t ReasmTimeout = 0, ReasmReqds = 0, ReasmOKs = 0, ReasmFails = 0;
  uint64_t FragOKs = 0, FragFails = 0, FragCreates = 0;
  uint64_t InMcastPkts = 0, OutMcastPkts = 0, InBcastPkts = 0, OutBcastPkts = 0;
  uint64_t InOctets = 0, OutOctets = 0, InMcastOctets = 0, OutMcastOctets = 0, InBcastOctets = 0, OutBcastOctets = 0;
  uint64_t InCsumErrors = 0, InNoECTPkts = 0, InECT1Pkts = 0, InECT0Pkts = 0, InCEPkts = 0, ReasmOverlaps = 0;
};

// The "Ip:" lines of /proc/net/snmp (Linux 6.1: Forwarding and DefaultTTL, then the 17 RFC 1213
// counters) and the "IpExt:" lines of /proc/net/netstat.
std::string proc_net_snmp_ip(const IpMib& m, bool ip_forward, int default_ttl);
std::string proc_net_netstat_ipext(const IpMib& m);
// The MPTcpExt rows of /proc/net/netstat (net/mptcp/mib.c's 51 counters in 6.1, CONFIG_MPTCP as
// Debian builds it): all 0, MPTCP is not built.
std::string proc_net_netstat_mptcpext();

// ingress 15, ip_rcv_core: the datagram's checks in Linux's order, with its counters; returns
// the skb trimmed to the datagram's total length, with its network and transport headers set,
// or nullptr when it was dropped (freed with Linux's drop reason).
SkBuff* ip_rcv_core(SkBuff* skb, IpMib& mib);
// The same checks and counters without the free: NotDroppedYet when the datagram passed (the
// skb trimmed, its headers set), else the reason the caller frees it with.
SkbDropReason ip_rcv_core_check(SkBuff* skb, IpMib& mib);

}  // namespace vnic::stack

// UDP over IPv4 and its sockets (net/ipv4/udp.c, net/ipv4/af_inet.c, net/ipv4/datagram.c of
// Linux 6.1). docs/stack.md, "UDP and sockets", says what is modelled and what is left out.
#include "vnic/stack/udp.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "vnic/stack/eventpoll.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/udp.hpp"

namespace vnic::stack {

namespace {

using model::egress;
using model::ingress;
using wire::Ipv4Addr;
using model::host_drop;
using model::HostDrop;

constexpr uint8_t kIpprotoUdp = 17;
constexpr uint32_t kChecksumBreak = 76;  // CHECKSUM_BREAK: shorter skbs are verified at once
constexpr uint32_t kLlReservedSpace = 16;  // LL_RESERVED_SPACE of an Ethernet device
constexpr int kEproto = 71;

Duration copy_cost(const Cpu& cpu, std::size_t bytes) {
  return Duration::ps(cpu.costs().copy_per_kib.ps() * static_cast<int64_t>(bytes) / 1024);
}

// The UDP header of a received skb (the transport header; skb->data may be past it).
std::span<const uint8_t> udp_bytes(const SkBuff& skb) { return skb.transport_bytes(); }

}  // namespace

// ------------------------------------------------------------------------------ views

std::string proc_net_snmp_udp(const UdpMib& m) {
  const char* names = " InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors";
  std::string out = fmt::format("Udp:{}\nUdp: {} {} {} {} {} {} {} {} {}\n", names, m.InDatagrams, m.NoPorts,
                                m.InErrors, m.OutDatagrams, m.RcvbufErrors, m.SndbufErrors, m.InCsumErrors,
                                m.IgnoredMulti, m.MemErrors);
  out += fmt::format("UdpLite:{}\nUdpLite: 0 0 0 0 0 0 0 0 0\n", names);
  return out;
}

std::string netstat_su(const UdpMib& m) {
  std::string out = "Udp:\n";
  out += fmt::format("    {} packets received\n", m.InDatagrams);
  out += fmt::format("    {} packets to unknown port received\n", m.NoPorts);
  out += fmt::format("    {} packet receive errors\n", m.InErrors);
  out += fmt::format("    {} packets sent\n", m.OutDatagrams);
  out += fmt::format("    {} receive buffer errors\n", m.RcvbufErrors);
  out += fmt::format("    {} send buffer errors\n", m.SndbufErrors);
  if (m.InCsumErrors != 0) out += fmt::format("    InCsumErrors: {}\n", m.InCsumErrors);
  if (m.IgnoredMulti != 0) out += fmt::format("    IgnoredMulti: {}\n", m.IgnoredMulti);
  if (m.MemErrors != 0) out += fmt::format("    MemErrors: {}\n", m.MemErrors);
  return out;
}

std::string netstat_su(std::string_view proc_net_snmp, std::string_view proc_net_netstat, const UdpMib& m) {
  const auto words = [](std::string_view line) {
    std::vector<std::string_view> w;
    std::size_t at = 0;
    while (at < line.size()) {
      const std::size_t end = std::min(line.find(' ', at), line.size());
      if (end > at) w.push_back(line.substr(at, end - at));
      at = end + 1;
    }
    return w;
  };
  std::string out;
  for (const std::string_view file : {proc_net_snmp, proc_net_netstat}) {
    // Row pairs: "Name: Key1 Key2 ..." then "Name: v1 v2 ...".
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at < file.size();) {
      const std::size_t end = std::min(file.find('\n', at), file.size());
      lines.push_back(file.substr(at, end - at));
      at = end + 1;
    }
    for (std::size_t i = 0; i + 1 < lines.size(); i += 2) {
      const auto keys = words(lines[i]), vals = words(lines[i + 1]);
      if (keys.empty() || vals.empty() || keys[0].back() != ':') continue;
      const std::string_view title = keys[0].substr(0, keys[0].size() - 1);
      if (title == "Udp") {
        out += netstat_su(m);
        continue;
      }
      if (title == "Ip" || title == "Icmp" || title == "Tcp" || title == "Sctp" || title == "TcpExt") continue;
      out += fmt::format("{}:\n", title);
      for (std::size_t k = 1; k < keys.size() && k < vals.size(); ++k) {
        if (vals[k] != "0") out += fmt::format("    {}: {}\n", keys[k], vals[k]);
      }
    }
  }
  return out;
}

std::string Udp::ss_uampn() const {
  std::string out = fmt::format("{:<6} {:<6} {:<6} {:>21} {:<21} Process\n", "State", "Recv-Q", "Send-Q",
                                "Local Address:Port", "Peer Address:Port");
  for (const auto& [port, list] : ports_) {
    for (const UdpSock* sk : list) {
      const bool est = sk->state == SkState::Established;
      const std::string local = fmt::format("{}:{}", sk->rcv_saddr.str(), sk->num);
      const std::string peer = est ? fmt::format("{}:{}", sk->daddr.str(), sk->dport) : "0.0.0.0:*";
      out += fmt::format("{:<6} {:<6} {:<6} {:>21} {:<21}\n", est ? "ESTAB" : "UNCONN",
                         sk->rmem_alloc - sk->forward_deficit, sk->wmem_alloc, local, peer);
      out += fmt::format("\t skmem:(r{},rb{},t{},tb{},f{},w{},o0,bl0,d{})\n", sk->rmem_alloc, sk->rcvbuf,
                         sk->wmem_alloc, sk->sndbuf, sk->forward_alloc, sk->wmem_queued, sk->drops);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ sockets

uint32_t UdpSock::poll_mask() const {
  uint32_t mask = Sock::poll_mask();
  if (!reader_queue.empty()) mask |= kEpollIn | kEpollRdNorm;
  return mask;
}

Udp::Udp(NetStack& net, Icmp& icmp) : net_(net), icmp_(icmp), rng_(net.config().seed ^ kRngSalt) {
  net_.inet_add_protocol(kIpprotoUdp, &Udp::rcv_cb, this);
  icmp_.add_err_handler(kIpprotoUdp, &Udp::err_cb, this);
}

Udp::~Udp() {
  // A teardown is not part of the run: nothing is traced. A socket whose sends are still in
  // flight lives on until their skbs are freed (sock_wfree deletes it), as sk_free waits for
  // sk_wmem_alloc.
  for (auto& s : socks_) {
    eventpoll_release(*s);  // an epoll set or poll() that outlives this Udp lets go of its sockets
    free_queues(*s, false);
    if (s->wmem_alloc > 0) {
      s->dead = true;
      (void)s.release();
    }
  }
}

void Udp::rcv_cb(void* ctx, SkBuff* skb) { static_cast<Udp*>(ctx)->udp_rcv(skb); }
bool Udp::err_cb(void* ctx, SkBuff* skb, uint32_t info) { return static_cast<Udp*>(ctx)->udp_err(skb, info); }

UdpSock* Udp::socket() {
  auto s = std::make_unique<UdpSock>();
  s->rcvbuf = net_.config().core.rmem_default;  // sock_init_data
  s->sndbuf = net_.config().core.wmem_default;
  s->softirq_cpu = &net_.cpu(0);
  s->ino = ++next_ino_;
  socks_.push_back(std::move(s));
  return socks_.back().get();
}

void Udp::free_queues(UdpSock& sk, bool trace) {
  sock_queue_purge(net_, sk.reader_queue, trace);
  sock_queue_purge(net_, sk.receive_queue, trace);
  sk.rmem_alloc = 0;
  sk.forward_alloc = 0;
  sk.forward_deficit = 0;
}

void Udp::close(UdpSock* sk) {
  if (sk == nullptr) return;
  // The file goes: out of every epoll set watching it, and every poll() on it sees POLLNVAL
  // (fs/eventpoll.c's eventpoll_release, from __fput).
  eventpoll_release(*sk);
  if (sk->num != 0) unhash(*sk);
  free_queues(*sk, true);
  const auto it = std::find_if(socks_.begin(), socks_.end(), [sk](const auto& p) { return p.get() == sk; });
  if (it == socks_.end()) return;
  if (sk->wmem_alloc > 0) {  // skbs in flight hold the socket (sk_wmem_alloc's reference)
    sk->dead = true;
    (void)it->release();
  }
  socks_.erase(it);
}

void Udp::hash(UdpSock& sk) {
  auto& v = ports_[sk.num];
  v.insert(v.begin(), &sk);  // hlist_add_head
}

void Udp::unhash(UdpSock& sk) {
  auto it = ports_.find(sk.num);
  if (it == ports_.end()) return;
  std::erase(it->second, &sk);
  if (it->second.empty()) ports_.erase(it);
}

void Udp::rehash(UdpSock& sk) {
  unhash(sk);
  hash(sk);
}

// udp_lib_lport_inuse for one port.
bool Udp::port_conflict(const UdpSock& sk, uint16_t port) const {
  const auto it = ports_.find(port);
  if (it == ports_.end()) return false;
  for (const UdpSock* sk2 : it->second) {
    if (sk2 == &sk) continue;
    if (sk2->reuse && sk.reuse) continue;
    if (sk2->bound_dev_if != 0 && sk.bound_dev_if != 0 && sk2->bound_dev_if != sk.bound_dev_if) continue;
    // inet_rcv_saddr_equal(sk, sk2, match_wildcard = true)
    if (sk2->rcv_saddr == sk.rcv_saddr || sk2->rcv_saddr.is_unspecified() || sk.rcv_saddr.is_unspecified()) return true;
  }
  return false;
}

// udp_lib_get_port. For port 0 the randomised search: a random first port in the range, then
// every port of first's hash chain (steps of an odd multiple of the table size cover them all),
// then the next chain, kHtableSize chains in all.
int Udp::get_port(UdpSock& sk, uint16_t snum) {
  if (snum == 0) {
    const Ipv4Sysctls& s = net_.ipv4_sysctls();
    const int low = s.ip_local_port_range_lo, high = s.ip_local_port_range_hi;
    const uint32_t remaining = static_cast<uint32_t>(high - low) + 1;
    uint32_t rand = rng_.u32();
    uint16_t first = static_cast<uint16_t>(((uint64_t{rand} * remaining) >> 32) + static_cast<uint32_t>(low));
    rand = (rand | 1) * kHtableSize;
    const uint16_t last = static_cast<uint16_t>(first + kHtableSize);
    bool found = false;
    do {
      uint16_t p = first;
      do {
        if (low <= p && p <= high && !port_conflict(sk, p)) {
          snum = p;
          found = true;
          break;
        }
        p = static_cast<uint16_t>(p + rand);
      } while (p != first);
    } while (!found && ++first != last);
    if (!found) return -kEADDRINUSE;
  } else if (port_conflict(sk, snum)) {
    return -kEADDRINUSE;
  }
  sk.num = snum;
  hash(sk);
  return 0;
}

int Udp::autobind(UdpSock& sk) {  // inet_autobind
  if (sk.num != 0) return 0;
  return get_port(sk, 0) == 0 ? 0 : -kEAGAIN;
}

int Udp::bind(UdpSock& sk, SockAddrIn addr) {
  // __inet_bind: the address must be ours, a broadcast or multicast one, or the wildcard.
  const Ipv4Addr a = addr.addr;
  const bool bcast = a.is_broadcast() || (!a.is_unspecified() && net_.route_output(a).type == RouteType::Broadcast &&
                                          !net_.is_local_addr(a));
  if (!a.is_unspecified() && !net_.is_local_addr(a) && !a.is_multicast() && !bcast) return -kEADDRNOTAVAIL;
  if (sk.num != 0 || !sk.daddr.is_unspecified()) return -kEINVAL;
  sk.rcv_saddr = a;
  sk.saddr = (a.is_multicast() || bcast) ? Ipv4Addr{} : a;
  if (get_port(sk, addr.port) != 0) {
    sk.rcv_saddr = sk.saddr = Ipv4Addr{};
    return -kEADDRINUSE;
  }
  sk.bind_addr_locked = !a.is_unspecified();
  sk.bind_port_locked = addr.port != 0;
  return 0;
}

int Udp::connect(UdpSock& sk, std::optional<SockAddrIn> peer) {
  if (!peer) {  // udp_disconnect
    sk.state = SkState::Close;
    sk.daddr = Ipv4Addr{};
    sk.dport = 0;
    sk.bound_dev_if = 0;  // __udp_disconnect lets go of SO_BINDTODEVICE too
    if (!sk.bind_addr_locked) {
      sk.rcv_saddr = sk.saddr = Ipv4Addr{};
      if (sk.num != 0) rehash(sk);
    }
    if (!sk.bind_port_locked && sk.num != 0) {
      unhash(sk);
      sk.num = 0;
    }
    return 0;
  }
  if (autobind(sk) != 0) return -kEAGAIN;  // inet_dgram_connect
  const NetStack::RouteOut rt = net_.route_output(peer->addr, sk.bound_dev_if);
  if (rt.err != 0) {
    if (rt.err == -kENETUNREACH) ++net_.ip_mib().OutNoRoutes;
    return rt.err;
  }
  if (rt.type == RouteType::Broadcast && !sk.broadcast) return -kEACCES;
  if (sk.saddr.is_unspecified()) sk.saddr = rt.saddr;
  if (sk.rcv_saddr.is_unspecified()) {
    sk.rcv_saddr = rt.saddr;
    rehash(sk);  // sk->sk_prot->rehash: to the chain of the new address
  }
  sk.daddr = peer->addr;
  sk.dport = peer->port;
  sk.state = SkState::Established;
  sk.inet_id = static_cast<uint16_t>(rng_.u32());  // get_random_u16
  return 0;
}

void Udp::set_rcvbuf(UdpSock& sk, int val) { sock_set_rcvbuf(sk, val, net_.config().core); }
void Udp::set_sndbuf(Cpu& cpu, UdpSock& sk, int val) { sock_set_sndbuf(sk, val, net_.config().core, cpu); }

// ------------------------------------------------------------------------------ lookup

// udp4_lib_lookup2 over the sockets of `dport` bound to exactly `bound` (compute_score).
UdpSock* Udp::lookup2(Ipv4Addr saddr, uint16_t sport, Ipv4Addr bound, uint16_t dport, int dif) {
  const auto it = ports_.find(dport);
  if (it == ports_.end()) return nullptr;
  UdpSock* result = nullptr;
  int badness = 0;
  for (UdpSock* sk : it->second) {
    if (sk->rcv_saddr != bound) continue;
    int score = 2;  // PF_INET
    if (!sk->daddr.is_unspecified()) {
      if (sk->daddr != saddr) continue;
      score += 4;
    }
    if (sk->dport != 0) {
      if (sk->dport != sport) continue;
      score += 4;
    }
    if (sk->bound_dev_if != 0) {
      if (sk->bound_dev_if != dif) continue;
      score += 4;
    }
    if (score > badness) {
      result = sk;
      badness = score;
    }
  }
  return result;
}

// __udp4_lib_lookup: sockets bound to the destination address first (connected or not), then
// the wildcard-bound ones.
UdpSock* Udp::lookup(Ipv4Addr saddr, uint16_t sport, Ipv4Addr daddr, uint16_t dport, int dif) {
  if (UdpSock* sk = lookup2(saddr, sport, daddr, dport, dif)) return sk;
  return lookup2(saddr, sport, Ipv4Addr{}, dport, dif);
}

// ------------------------------------------------------------------------------ receive

void Udp::rmem_release(UdpSock& sk, uint32_t size, bool partial) {
  if (partial) {
    sk.forward_deficit += size;
    size = sk.forward_deficit;
    if (size < (sk.rcvbuf >> 2) && !sk.reader_queue.empty()) return;
  } else {
    size += sk.forward_deficit;
  }
  sk.forward_deficit = 0;
  sk.forward_alloc += size;
  const int64_t amt = (sk.forward_alloc - (partial ? 1 : 0)) & ~int64_t{kSkMemQuantum - 1};
  sk.forward_alloc -= amt;
  sk.rmem_alloc -= std::min(sk.rmem_alloc, size);
  sk.reader_queue.splice_back(sk.receive_queue);
}

// __udp_queue_rcv_skb -> __udp_enqueue_schedule_skb (skb->data at the payload).
int Udp::queue_rcv_skb(UdpSock& sk, SkBuff* skb) {
  Cpu& cpu = net_.cpu(0);
  // "always allow at least a packet": full only when what is charged already exceeds sk_rcvbuf,
  // so the queue may pass it by one skb's truesize.
  if (sk.rmem_alloc > sk.rcvbuf) {
    ++sk.drops;
    ++mib_.RcvbufErrors;  // -ENOMEM: "charged twice", RcvbufErrors and InErrors
    ++mib_.InErrors;
    net_.drop(cpu, skb, SkbDropReason::SocketRcvbuff, ingress(22), host_drop(HostDrop::UdpRcvbufErrors));
    return -1;
  }
  const uint32_t size = skb->truesize;
  sk.rmem_alloc += size;
  if (size >= sk.forward_alloc) {  // __sk_mem_raise_allocated (udp_mem pressure not modelled)
    const int64_t amt = (size + kSkMemQuantum - 1) / kSkMemQuantum;
    sk.forward_alloc += amt * kSkMemQuantum;
  }
  sk.forward_alloc -= size;
  if (skb->tstamp == Instant{}) skb->tstamp = cpu.now();
  sk.receive_queue.push_back(skb);
  net_.trace_event(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk.rmem_alloc);
  if (sk.wq.active()) net_.trace_event(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
  sk.data_ready(cpu);
  return 0;
}

// __udp4_lib_mcast_deliver: every matching socket gets the datagram, the first the skb itself,
// the others clones. A clone is no packet of the per-packet account (its id is cleared, as for
// a tap's clone): the datagram's journey follows the first socket.
void Udp::mcast_deliver(SkBuff* skb, Ipv4Addr saddr, uint16_t sport, Ipv4Addr daddr, uint16_t dport) {
  Cpu& cpu = net_.cpu(0);
  const int dif = skb->dev != nullptr ? net_.ifindex_of(*skb->dev) : 0;
  std::vector<UdpSock*> match;
  const auto it = ports_.find(dport);
  if (it != ports_.end()) {
    for (UdpSock* sk : it->second) {  // __udp_is_mcast_sock
      if (!sk->rcv_saddr.is_unspecified() && sk->rcv_saddr != daddr) continue;
      if (!sk->daddr.is_unspecified() && sk->daddr != saddr) continue;
      if (sk->dport != 0 && sk->dport != sport) continue;
      if (sk->bound_dev_if != 0 && sk->bound_dev_if != dif) continue;
      match.push_back(sk);
    }
  }
  if (match.empty()) {
    ++mib_.IgnoredMulti;
    net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(20), host_drop(HostDrop::UdpIgnoredMulti));
    return;
  }
  skb_pull(*skb, wire::kUdpHeaderLen);  // udp_csum_pull_header
  for (std::size_t i = 1; i < match.size(); ++i) {
    SkBuff* n = skb_clone(skb);
    if (n == nullptr) {
      ++match[i]->drops;
      ++mib_.RcvbufErrors;
      ++mib_.InErrors;
      continue;
    }
    n->trace_id = 0;
    queue_rcv_skb(*match[i], n);
  }
  net_.trace_event(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, kIpprotoUdp, dport);
  queue_rcv_skb(*match[0], skb);
}

// ingress 19-23: udp_rcv -> __udp4_lib_rcv -> udp_unicast_rcv_skb -> udp_queue_rcv_skb.
void Udp::udp_rcv(SkBuff* skb) {
  Cpu& cpu = net_.cpu(0);
  cpu.charge(cpu.costs().udp_rcv);
  const std::span<const uint8_t> nb = skb->network_bytes();
  const Ipv4Addr saddr = nb.size() >= 20 ? wire::load_ipv4(nb, 12) : Ipv4Addr{};
  const Ipv4Addr daddr = nb.size() >= 20 ? wire::load_ipv4(nb, 16) : Ipv4Addr{};
  const auto p = wire::UdpPacket::checked(skb->bytes());
  if (!p) {
    // No room for the header: InErrors, NOT_SPECIFIED; a length field above the bytes there or
    // below the header's: InErrors, PKT_TOO_SMALL ("short packet").
    ++mib_.InErrors;
    net_.drop(cpu, skb,
              p.error() == wire::UdpError::Truncated ? SkbDropReason::NotSpecified : SkbDropReason::PktTooSmall,
              ingress(19), host_drop(HostDrop::UdpInErrors));
    return;
  }
  const uint16_t sport = p->src_port(), dport = p->dst_port();
  skb_trim(*skb, p->length());  // pskb_trim_rcsum: the link's padding goes
  skb_reset_transport_header(*skb);
  // udp4_csum_init: no checksum (0) or one the device checked needs nothing more; a short
  // datagram is verified now (CHECKSUM_BREAK); a longer one when it is read (or found to have
  // no socket), as skb_checksum_init_zero_check defers it.
  auto csum_error = [&] {
    ++mib_.InCsumErrors;
    ++mib_.InErrors;
    net_.drop(cpu, skb, SkbDropReason::UdpCsum, ingress(19), host_drop(HostDrop::UdpInCsumErrors));
  };
  if (p->checksum() == 0 || skb->ip_summed == IpSummed::Unnecessary) {
    skb->ip_summed = IpSummed::Unnecessary;
  } else if (skb->len <= kChecksumBreak || skb->ip_summed == IpSummed::Complete) {
    if (!wire::udp_checksum_ok(saddr, daddr, udp_bytes(*skb))) return csum_error();
    skb->ip_summed = IpSummed::Unnecessary;
  }
  if (skb->rt_type == kRtnBroadcast || skb->rt_type == kRtnMulticast)
    return mcast_deliver(skb, saddr, sport, daddr, dport);
  const int dif = skb->dev != nullptr ? net_.ifindex_of(*skb->dev) : 0;
  UdpSock* sk = lookup(saddr, sport, daddr, dport, dif);
  if (sk != nullptr) {
    net_.trace_event(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, kIpprotoUdp, dport);
    if (sk->encap_rcv != nullptr) {  // udp_queue_rcv_one_skb's encapsulation socket
      if (skb->ip_summed != IpSummed::Unnecessary && !wire::udp_checksum_ok(saddr, daddr, udp_bytes(*skb))) {
        ++sk->drops;
        return csum_error();
      }
      if (sk->encap_rcv(sk->encap_ctx, *sk, skb) <= 0) {
        ++mib_.InDatagrams;
        return;
      }
    }
    skb_pull(*skb, wire::kUdpHeaderLen);  // udp_csum_pull_header
    queue_rcv_skb(*sk, skb);
    return;
  }
  // No socket: a bad checksum is dropped silently (RFC 1122 4.1.3.4), else NoPorts and a port
  // unreachable (icmp_send applies its own limits).
  if (skb->ip_summed != IpSummed::Unnecessary && !wire::udp_checksum_ok(saddr, daddr, udp_bytes(*skb)))
    return csum_error();
  ++mib_.NoPorts;
  net_.icmp_send(cpu, *skb, static_cast<uint8_t>(wire::IcmpType::DestUnreachable),
                 static_cast<uint8_t>(wire::IcmpUnreachable::Port), 0);
  net_.drop(cpu, skb, SkbDropReason::NoSocket, ingress(20), host_drop(HostDrop::UdpNoPorts));
}

// __udp4_lib_err: the socket that sent the quoted datagram learns of the error.
bool Udp::udp_err(SkBuff* skb, uint32_t info) {
  (void)info;  // fragmentation needed's MTU: no PMTU cache here
  Cpu& cpu = net_.cpu(0);
  const std::span<const uint8_t> q = skb->bytes();
  const std::size_t ihl = (q[0] & 0x0Fu) * 4u;
  if (q.size() < ihl + wire::kUdpHeaderLen) return false;
  const Ipv4Addr q_saddr = wire::load_ipv4(q, 12), q_daddr = wire::load_ipv4(q, 16);
  const uint16_t q_sport = wire::load_be16(q, ihl), q_dport = wire::load_be16(q, ihl + 2);
  const int dif = skb->dev != nullptr ? net_.ifindex_of(*skb->dev) : 0;
  UdpSock* sk = lookup(q_daddr, q_dport, q_saddr, q_sport, dif);
  if (sk == nullptr) {
    ++icmp_.mib().InErrors;  // "no socket for error": ICMP_MIB_INERRORS
    return false;
  }
  net_.trace_event(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, kIpprotoUdp, q_sport);
  const uint8_t* ih = skb_transport_header(*skb);
  const uint8_t type = ih[0], code = ih[1];
  int err = kEHOSTUNREACH;
  bool harderr = false;
  switch (type) {
    case static_cast<uint8_t>(wire::IcmpType::SourceQuench): return false;
    case static_cast<uint8_t>(wire::IcmpType::Redirect): return false;  // ipv4_sk_redirect: no route cache
    case static_cast<uint8_t>(wire::IcmpType::ParameterProblem):
      err = kEproto;
      harderr = true;
      break;
    case static_cast<uint8_t>(wire::IcmpType::DestUnreachable):
      if (code == static_cast<uint8_t>(wire::IcmpUnreachable::FragmentationNeeded)) {
        err = kEMSGSIZE;  // pmtudisc WANT is not DONT: reported
        harderr = true;
        break;
      }
      if (code <= 15) {
        err = icmp_err_convert(code).err;
        harderr = icmp_err_convert(code).fatal;
      }
      break;
    default: break;  // time exceeded and the rest: EHOSTUNREACH, not fatal
  }
  // RFC 1122 4.1.3.3: without IP_RECVERR (not built for UDP) only a hard error on a connected
  // socket is reported, as sk_err on its next call.
  if (!harderr || sk->state != SkState::Established) return false;
  sk->err = err;
  if (sk->wq.active()) net_.trace_event(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
  sk->error_report(cpu);
  return false;  // icmp_rcv consumes the ICMP message
}

// ------------------------------------------------------------------------------ recvmsg

int Udp::recvmsg(Cpu& cpu, UdpSock& sk, std::span<uint8_t> buf, int flags, RecvMeta* meta) {
  cpu.charge(cpu.costs().syscall);
  const bool peeking = (flags & kMsgPeek) != 0;
  for (;;) {
    cpu.charge(cpu.costs().sock_recvmsg);
    // __skb_recv_udp: the pending error first, then the reader queue, refilled from the
    // receive queue when empty.
    if (const int e = sk.sock_error(); e != 0) return e;
    if (sk.reader_queue.empty()) sk.reader_queue.splice_back(sk.receive_queue);
    SkBuff* skb = sk.reader_queue.front();
    if (skb == nullptr) return -kEAGAIN;
    auto unlink = [&] {
      sk.reader_queue.pop_front();
      rmem_release(sk, skb->truesize, true);  // udp_skb_destructor
    };
    if (!peeking) unlink();
    const uint32_t ulen = skb->len;
    const uint32_t copied = std::min<uint32_t>(static_cast<uint32_t>(buf.size()), ulen);
    if (skb->ip_summed != IpSummed::Unnecessary) {  // the deferred checksum, while copying
      const std::span<const uint8_t> nb = skb->network_bytes();
      if (!wire::udp_checksum_ok(wire::load_ipv4(nb, 12), wire::load_ipv4(nb, 16), udp_bytes(*skb))) {
        if (peeking) unlink();  // __sk_queue_drop_skb
        ++sk.drops;
        ++mib_.InCsumErrors;
        ++mib_.InErrors;
        net_.drop(cpu, skb, SkbDropReason::UdpCsum, ingress(24), host_drop(HostDrop::UdpInCsumErrors));
        continue;  // try_again
      }
      skb->ip_summed = IpSummed::Unnecessary;
    }
    std::memcpy(buf.data(), skb->bytes().data(), copied);
    cpu.charge(copy_cost(cpu, copied));
    if (!peeking) ++mib_.InDatagrams;  // 6.1 counts a datagram when it is read
    if (meta != nullptr) {
      const std::span<const uint8_t> nb = skb->network_bytes();
      meta->from = SockAddrIn{wire::load_ipv4(nb, 12), wire::load_be16(udp_bytes(*skb), 0)};
      meta->msg_flags = copied < ulen ? kMsgTrunc : 0;
      meta->stamp = skb->tstamp;
      meta->packet = skb->trace_id;
    }
    const int ret = static_cast<int>((flags & kMsgTrunc) != 0 ? ulen : copied);
    if (!peeking) {
      net_.trace_event(cpu, TraceKind::AppRecv, ingress(24), skb->trace_id, copied);
      net_.consume(cpu, skb, ingress(24), kIpprotoUdp);
    }
    return ret;
  }
}

Co<int> Udp::recv(Cpu& cpu, UdpSock& sk, std::span<uint8_t> buf, int flags, RecvMeta* meta) {
  const Instant until = sk.rcvtimeo == Duration{} ? kNever : cpu.now() + sk.rcvtimeo;
  for (;;) {
    const int r = recvmsg(cpu, sk, buf, flags, meta);
    if (r != -kEAGAIN || (flags & kMsgDontwait) != 0 || cpu.now() >= until) co_return r;
    if (!co_await SockWait(sk, cpu, until, kEpollIn | kEpollErr)) co_return -kEBADF;
  }
}

// ------------------------------------------------------------------------------ sendmsg

int Udp::sendmsg(Cpu& cpu, UdpSock& sk, std::span<const uint8_t> data, int flags, const SockAddrIn* to,
                 uint64_t* packet_out) {
  (void)flags;  // MSG_DONTWAIT: this call never waits (send() is the blocking form)
  send_full_ = false;
  if (packet_out != nullptr) *packet_out = 0;
  cpu.charge(cpu.costs().syscall);
  if (autobind(sk) != 0) return -kEAGAIN;  // inet_send_prepare
  if (data.size() > 0xFFFF) return -kEMSGSIZE;
  Ipv4Addr daddr;
  uint16_t dport = 0;
  bool connected = false;
  if (to != nullptr) {
    if (to->port == 0) return -kEINVAL;
    daddr = to->addr;
    dport = to->port;
  } else {
    if (sk.state != SkState::Established) return -kEDESTADDRREQ;
    daddr = sk.daddr;
    dport = sk.dport;
    connected = true;
  }
  cpu.charge(cpu.costs().udp_sendmsg);
  // From here errors leave by udp_sendmsg's "out": -ENOBUFS, or any error once a sender found
  // the buffer full (SOCK_NOSPACE), counts SndbufErrors.
  auto out = [&](int err) {
    if (err == -kENOBUFS || sk.nospace) ++mib_.SndbufErrors;
    return err;
  };
  const NetStack::RouteOut rt = net_.route_output(daddr, sk.bound_dev_if);
  if (rt.err != 0) {
    if (rt.err == -kENETUNREACH) ++net_.ip_mib().OutNoRoutes;
    return out(rt.err);
  }
  if (rt.type == RouteType::Broadcast && !sk.broadcast) return out(-kEACCES);
  const Ipv4Addr saddr = sk.saddr.is_unspecified() ? rt.saddr : sk.saddr;
  // ip_append_data: one datagram is at most 65535 bytes with its IP header.
  if (data.size() > wire::kUdpMaxPayload) return out(-kEMSGSIZE);
  // sock_alloc_send_skb: the pending error, then room in the send buffer.
  if (const int e = sk.sock_error(); e != 0) return out(e);
  if (sk.wmem_alloc >= sk.sndbuf) {
    sk.nospace = true;
    send_full_ = true;
    return out(-kEAGAIN);
  }
  const uint32_t ulen = static_cast<uint32_t>(data.size() + wire::kUdpHeaderLen);
  cpu.charge(cpu.costs().skb_alloc);
  SkBuff* skb = net_.pool().alloc(ulen, SkbAlloc::AllocSkb);
  if (skb == nullptr) return out(-kENOBUFS);
  // __ip_append_data asks for the IP header, the datagram and the link's reserve + 15.
  skb->truesize = alloc_skb_truesize(static_cast<uint32_t>(wire::kIpv4MinHeaderLen) + ulen + kLlReservedSpace + 15);
  skb->trace_id = net_.next_packet_id();
  skb->tstamp = cpu.now();
  if (packet_out != nullptr) *packet_out = skb->trace_id;
  net_.trace_event(cpu, TraceKind::SockSend, egress(1), skb->trace_id, static_cast<uint32_t>(data.size()));
  net_.trace_event(cpu, TraceKind::PacketMade, egress(2), skb->trace_id, ulen);
  skb_set_owner_w(skb, sk);
  net_.trace_event(cpu, TraceKind::SockWmem, egress(3), skb->trace_id, sk.wmem_alloc);
  std::memcpy(skb->bytes().data() + wire::kUdpHeaderLen, data.data(), data.size());
  cpu.charge(copy_cost(cpu, data.size()));
  // udp_send_skb: the header and the checksum over the pseudo-header (SO_NO_CHECK: none).
  wire::UdpRepr h{sk.num, dport, static_cast<uint16_t>(data.size())};
  h.emit(skb->bytes(), saddr, daddr, !sk.no_check_tx);
  skb_reset_transport_header(*skb);
  net_.trace_event(cpu, TraceKind::L4Header, egress(4), skb->trace_id, kIpprotoUdp,
                   uint64_t{sk.num} << 16 | dport);
  NetStack::IpSend p;
  p.saddr = sk.saddr;
  p.daddr = daddr;
  p.protocol = kIpprotoUdp;
  p.tos = sk.tos;
  p.ttl = sk.ttl;
  p.df = true;  // IP_PMTUDISC_WANT: DF when it fits the route's MTU
  p.df_only_if_fits = true;
  p.oif = sk.bound_dev_if;
  // __ip_make_skb: skb->ignore_df = ip_sk_ignore_df(sk), true for IP_PMTUDISC_WANT; then
  // ip_select_ident_segs: a connected socket's every datagram takes inet_id++ (fitting the MTU
  // or not), an unconnected socket's the hashed generator (never 0 for DF).
  p.ignore_df = true;
  if (connected) p.id = sk.inet_id++;
  const int err = net_.ip_send(cpu, skb, p);
  if (err == -kENOBUFS) {  // udp_send_skb: a full qdisc, without IP_RECVERR, is no error
    ++mib_.SndbufErrors;
    return static_cast<int>(data.size());
  }
  if (err != 0) return out(err);
  ++mib_.OutDatagrams;
  return static_cast<int>(data.size());
}

Co<int> Udp::send(Cpu& cpu, UdpSock& sk, std::span<const uint8_t> data, int flags, const SockAddrIn* to,
                  uint64_t* packet_out) {
  const Instant until = sk.sndtimeo == Duration{} ? kNever : cpu.now() + sk.sndtimeo;
  for (;;) {
    const int r = sendmsg(cpu, sk, data, flags, to, packet_out);
    if (r != -kEAGAIN || !send_full_ || (flags & kMsgDontwait) != 0 || cpu.now() >= until) co_return r;
    // sock_wait_for_wmem: SndbufErrors counts the call that gave up, not each time it waited.
    --mib_.SndbufErrors;
    if (!co_await SockWait(sk, cpu, until, kEpollOut | kEpollErr)) co_return -kEBADF;
  }
}

}  // namespace vnic::stack

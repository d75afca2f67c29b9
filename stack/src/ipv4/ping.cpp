// The ICMP datagram socket (net/ipv4/ping.c, Linux 6.1).
#include "vnic/stack/ping.hpp"

#include <algorithm>

#include "vnic/stack/icmp.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/icmp.hpp"

namespace vnic::stack {

namespace {

using model::egress;
using model::ingress;
using wire::Ipv4Addr;

constexpr uint8_t kIpprotoIcmp = 1;
// errno values (asm-generic/errno.h) ping_err reports.
constexpr int kEhostunreach = 113, kEnetunreach = 101, kEmsgsize = 90, kEremoteio = 121, kEproto = 71;
constexpr int kEaddrinuse = 98, kEinval = 22, kEacces = 13, kEnobufs = 105;


}  // namespace

PingSockets::PingSockets(NetStack& net, Icmp& icmp) : net_(net), icmp_(icmp) {}

PingSockets::~PingSockets() {
  // A teardown is not part of the run and the trace's sink may be gone: nothing is emitted.
  for (auto& s : socks_) free_queues(*s, false);
}

PingSock* PingSockets::socket() {
  socks_.push_back(std::make_unique<PingSock>());
  return socks_.back().get();
}

void PingSockets::free_queues(PingSock& sk, bool trace) {
  // inet_sock_destruct: what is still queued goes with the socket.
  Cpu& cpu = net_.cpu(0);
  auto free = [&](SkBuff* skb) {
    if (trace) {
      net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(22));
    } else {
      kfree_skb(skb, SkbDropReason::NotSpecified);
    }
  };
  sock_queue_purge(net_, sk.receive_queue, trace);
  for (auto& e : sk.error_queue) free(e.first);
  sk.error_queue.clear();
  sk.rmem_alloc = 0;
  if (sk.waiter_cpu != nullptr) {
    sk.waiter_cpu->cancel(sk.waiter_timer);
    sk.waiter_cpu->cancel(sk.waiter_wake);
  }
}

void PingSockets::close(PingSock* sk) {
  if (sk == nullptr) return;
  if (sk->ident != 0) by_ident_.erase(sk->ident);  // ping_unhash
  free_queues(*sk, true);
  std::erase_if(socks_, [sk](const std::unique_ptr<PingSock>& p) { return p.get() == sk; });
}

// ping_get_port: ident 0 takes the next free identifier after the rover (never 0).
int PingSockets::bind(PingSock& sk, uint16_t ident, Ipv4Addr addr) {
  if (sk.ident != 0) return -kEinval;
  if (ident == 0) {
    uint16_t result = static_cast<uint16_t>(rover_ + 1);
    bool found = false;
    for (uint32_t i = 0; i < (1u << 16); ++i, ++result) {
      if (result == 0) ++result;  // avoid zero
      if (by_ident_.count(result) != 0) continue;
      rover_ = ident = result;
      found = true;
      break;
    }
    if (!found) return -kEaddrinuse;
  } else if (by_ident_.count(ident) != 0) {
    return -kEaddrinuse;
  }
  sk.ident = ident;
  sk.rcv_saddr = addr;
  by_ident_[ident] = &sk;
  return 0;
}

PingSock* PingSockets::lookup(uint16_t ident, Ipv4Addr daddr) {
  const auto it = by_ident_.find(ident);
  if (it == by_ident_.end()) return nullptr;
  PingSock* sk = it->second;
  if (!sk->rcv_saddr.is_unspecified() && sk->rcv_saddr != daddr) return nullptr;
  return sk;
}

// ping_v4_sendmsg via ping_common_sendmsg.
int PingSockets::sendmsg(Cpu& cpu, PingSock& sk, Ipv4Addr daddr, uint16_t seq, std::span<const uint8_t> data,
                         uint64_t* packet_out) {
  if (packet_out != nullptr) *packet_out = 0;
  const std::size_t len = wire::kIcmpHeaderLen + data.size();
  if (len > 0xFFFF) return -kEmsgsize;
  if (sk.ident == 0) {  // inet_autobind
    const int e = bind(sk, 0, {});
    if (e != 0) return e;
  }
  const NetStack::RouteOut rt = net_.route_output(daddr, sk.bound_dev_if);
  if (rt.err != 0) {
    if (rt.err == -kEnetunreach) ++net_.ip_mib().OutNoRoutes;  // IPSTATS_MIB_OUTNOROUTES
    return rt.err;
  }
  if (rt.type == RouteType::Broadcast && !sk.broadcast) return -kEacces;
  // egress 2: ip_append_data allocates the skb (sock_alloc_send_skb), a new packet.
  cpu.charge(cpu.costs().skb_alloc);
  SkBuff* skb = net_.pool().alloc(static_cast<uint32_t>(len), SkbAlloc::AllocSkb);
  if (skb == nullptr) return -kEnobufs;
  skb->trace_id = net_.next_packet_id();
  skb->tstamp = cpu.now();
  if (packet_out != nullptr) *packet_out = skb->trace_id;
  net_.trace_event(cpu, TraceKind::SockSend, egress(1), skb->trace_id, static_cast<uint32_t>(len));
  net_.trace_event(cpu, TraceKind::PacketMade, egress(2), skb->trace_id, static_cast<uint32_t>(len));
  cpu.charge(cpu.costs().icmp);
  // The header the kernel writes: the user's type, code and sequence, the socket's identifier,
  // its own checksum (ping_v4_push_pending_frames).
  wire::IcmpRepr::echo_request(sk.ident, seq, data).emit(skb->bytes());
  // __ip_make_skb counts the message, and ping_v4_sendmsg counts it again on success: 6.1 counts
  // each echo request from a ping socket twice in OutMsgs/OutType8 (fixed in 6.11 by
  // "inet: ping: Fix icmp out counting"); the MIB here counts as 6.1 does.
  icmp_out_count(icmp_.mib(), static_cast<uint8_t>(wire::IcmpType::EchoRequest));
  NetStack::IpSend p;
  p.saddr = sk.rcv_saddr;
  p.daddr = daddr;
  p.protocol = kIpprotoIcmp;
  p.tos = sk.tos;
  p.ttl = sk.ttl;
  p.df = true;  // IP_PMTUDISC_WANT on an unconnected socket: DF when it fits the MTU, and
  p.df_only_if_fits = true;  // ip_sk_ignore_df: the hashed generator's id even then (not 0)
  p.ignore_df = true;
  p.oif = sk.bound_dev_if;
  const int err = net_.ip_send(cpu, skb, p);
  if (err != 0) return err;
  icmp_out_count(icmp_.mib(), static_cast<uint8_t>(wire::IcmpType::EchoRequest));
  return 0;
}

// ping_rcv -> ping_lookup -> __ping_queue_rcv_skb -> sock_queue_rcv_skb_reason. 6.1 queues a
// clone and icmp_rcv consumes the original; the model queues the skb itself (as later kernels'
// ping_rcv does), so the packet has one end: the application's read.
std::optional<SkbDropReason> PingSockets::ping_rcv(SkBuff* skb) {
  Cpu& cpu = net_.cpu(0);
  const std::span<const uint8_t> b = skb->bytes();
  const uint16_t ident = wire::load_be16(b, 4);
  const std::span<const uint8_t> nb = skb->network_bytes();
  const Ipv4Addr daddr = nb.size() >= 20 ? wire::load_ipv4(nb, 16) : Ipv4Addr{};
  PingSock* sk = lookup(ident, daddr);
  if (sk == nullptr) return SkbDropReason::NoSocket;
  net_.trace_event(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, kIpprotoIcmp, ident);
  if (sk->rmem_alloc >= sk->rcvbuf) {
    ++sk->drops;
    return SkbDropReason::SocketRcvbuff;
  }
  sk->rmem_alloc += skb->truesize;  // skb_set_owner_r
  if (skb->tstamp == Instant{}) skb->tstamp = cpu.now();  // SO_TIMESTAMP: __net_timestamp
  sk->receive_queue.push_back(skb);
  net_.trace_event(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk->rmem_alloc);
  net_.trace_event(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
  wake(*sk);
  return std::nullopt;
}

// ping_err: an ICMP error about one of our echo requests (skb->data at the quoted IP header).
bool PingSockets::ping_err(SkBuff* skb, int offset, uint32_t info) {
  Cpu& cpu = net_.cpu(0);
  const std::span<const uint8_t> q = skb->bytes();
  const std::size_t off = static_cast<std::size_t>(offset);
  if (q.size() < off + wire::kIcmpHeaderLen) return false;
  const uint8_t qtype = q[off], qcode = q[off + 1];
  // ping_supported: only echo requests, code 0.
  if (qtype != static_cast<uint8_t>(wire::IcmpType::EchoRequest) || qcode != 0) return false;
  const uint16_t ident = wire::load_be16(q, off + 4);
  const std::span<const uint8_t> outer = skb->network_bytes();
  const Ipv4Addr outer_daddr = outer.size() >= 20 ? wire::load_ipv4(outer, 16) : Ipv4Addr{};
  PingSock* sk = lookup(ident, outer_daddr);
  if (sk == nullptr) return false;  // "no socket, dropping": icmp_rcv consumes it
  net_.trace_event(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, kIpprotoIcmp, ident);
  const uint8_t* ih = skb_transport_header(*skb);
  const uint8_t type = ih[0], code = ih[1];
  int err = kEhostunreach;
  bool harderr = false;
  switch (type) {
    case static_cast<uint8_t>(wire::IcmpType::SourceQuench):
      err = kEremoteio;  // "not a real error but ping wants to see it"
      break;
    case static_cast<uint8_t>(wire::IcmpType::ParameterProblem):
      err = kEproto;
      harderr = true;
      break;
    case static_cast<uint8_t>(wire::IcmpType::DestUnreachable):
      if (code == static_cast<uint8_t>(wire::IcmpUnreachable::FragmentationNeeded)) {
        err = kEmsgsize;  // pmtudisc WANT: reported (the PMTU itself is not cached here)
        harderr = true;
        break;
      }
      if (code <= 15) {
        err = icmp_err_convert(code).err;
        harderr = icmp_err_convert(code).fatal;
      }
      break;
    case static_cast<uint8_t>(wire::IcmpType::Redirect): err = kEremoteio; break;
    default: break;  // time exceeded: EHOSTUNREACH
  }
  // RFC 1122 4.1.3.3: without IP_RECVERR only a hard error on a connected socket is reported;
  // ping sockets here are not connected.
  (void)harderr;
  if (!sk->recverr) return false;
  // ip_icmp_error -> sock_queue_err_skb: refused when the receive buffer is full.
  if (sk->rmem_alloc + skb->truesize >= sk->rcvbuf) {
    ++sk->drops;
    net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(22));
    return true;
  }
  PingErrMsg e;
  e.ee_errno = err;
  e.ee_type = type;
  e.ee_code = code;
  e.ee_info = info;
  e.offender = outer.size() >= 20 ? wire::load_ipv4(outer, 12) : Ipv4Addr{};
  e.target = wire::load_ipv4(q, 16);
  e.quoted_type = qtype;
  e.quoted_ident = ident;
  e.quoted_seq = wire::load_be16(q, off + 6);
  e.packet = skb->trace_id;
  sk->rmem_alloc += skb->truesize;
  sk->error_queue.emplace_back(skb, e);
  net_.trace_event(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk->rmem_alloc);
  sk->sk_err = err;
  net_.trace_event(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
  wake(*sk);  // sk_error_report
  return true;
}

std::optional<PingMsg> PingSockets::recvmsg(Cpu& cpu, PingSock& sk) {
  SkBuff* skb = sk.receive_queue.pop_front();
  if (skb == nullptr) return std::nullopt;
  sk.rmem_alloc -= std::min(sk.rmem_alloc, skb->truesize);
  PingMsg m;
  const std::span<const uint8_t> b = skb->bytes();
  m.icmp.assign(b.begin(), b.end());
  const std::span<const uint8_t> nb = skb->network_bytes();
  if (nb.size() >= 20) {
    m.from = wire::load_ipv4(nb, 12);
    m.ttl = nb[8];  // IP_RECVTTL
  }
  m.stamp = skb->tstamp;
  m.packet = skb->trace_id;
  net_.trace_event(cpu, TraceKind::AppRecv, ingress(24), skb->trace_id, static_cast<uint32_t>(b.size()));
  net_.consume(cpu, skb, ingress(24), kIpprotoIcmp);
  return m;
}

std::optional<PingErrMsg> PingSockets::recv_errqueue(Cpu& cpu, PingSock& sk) {
  if (sk.error_queue.empty()) return std::nullopt;
  auto [skb, e] = sk.error_queue.front();
  sk.error_queue.pop_front();
  sk.rmem_alloc -= std::min(sk.rmem_alloc, skb->truesize);
  // ip_recv_error: reset the socket error, regenerated from the next queued one.
  sk.sk_err = sk.error_queue.empty() ? 0 : sk.error_queue.front().second.ee_errno;
  net_.trace_event(cpu, TraceKind::AppRecv, ingress(24), skb->trace_id, skb->len);
  net_.consume(cpu, skb, ingress(24), kIpprotoIcmp);
  return e;
}

// ---- blocking wait

bool PingSockets::WaitAwaiter::await_ready() const noexcept { return readable(sk) || cpu.now() >= until; }

void PingSockets::WaitAwaiter::await_suspend(std::coroutine_handle<> h) {
  sk.waiter = h;
  sk.waiter_cpu = &cpu;
  sk.waiter_woken = false;
  ++sk.wait_seq;
  sk.waiter_timer = cpu.call_at(until, &PingSockets::timeout_cb, &sk, sk.wait_seq);
}

void PingSockets::wake(PingSock& sk) {
  if (!sk.waiter || sk.waiter_woken) return;
  sk.waiter_woken = true;
  Cpu& c = *sk.waiter_cpu;
  c.cancel(sk.waiter_timer);
  // The task runs when its CPU gets to it, not before the data arrived.
  sk.waiter_wake = c.call_at(std::max(c.now(), net_.cpu(0).now()), &PingSockets::wake_cb, &sk, sk.wait_seq);
}

void PingSockets::wake_cb(void* ctx, uint64_t seq) {
  auto* sk = static_cast<PingSock*>(ctx);
  if (!sk->waiter || sk->wait_seq != seq) return;
  const std::coroutine_handle<> h = sk->waiter;
  sk->waiter = {};
  sk->waiter_woken = false;
  h.resume();
}

void PingSockets::timeout_cb(void* ctx, uint64_t seq) {
  auto* sk = static_cast<PingSock*>(ctx);
  if (!sk->waiter || sk->waiter_woken || sk->wait_seq != seq) return;
  const std::coroutine_handle<> h = sk->waiter;
  sk->waiter = {};
  h.resume();
}

}  // namespace vnic::stack

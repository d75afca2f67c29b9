// TCP's socket calls (net/ipv4/tcp.c, af_inet.c, inet_connection_sock.c, inet_hashtables.c of
// Linux 6.1): socket, bind, listen, connect, accept, tcp_sendmsg, tcp_recvmsg, shutdown, close,
// the options, tcp_poll, and the views. docs/tcp.md has the rules.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "tcp_engine.hpp"
#include "vnic/stack/eventpoll.hpp"

namespace vnic::stack {

using model::egress;
using model::ingress;
using wire::Ipv4Addr;

std::string_view tcp_state_name(TcpState s) {
  switch (s) {
    case TcpState::Established: return "ESTAB";
    case TcpState::SynSent: return "SYN-SENT";
    case TcpState::SynRecv: return "SYN-RECV";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::TimeWait: return "TIME-WAIT";
    case TcpState::Close: return "UNCONN";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::Listen: return "LISTEN";
    case TcpState::Closing: return "CLOSING";
  }
  return "?";
}

// ------------------------------------------------------------------------------ poll

uint32_t TcpSock::poll_mask() const {
  uint32_t mask = 0;
  if (tstate == TcpState::Listen) return accept_queue.empty() ? 0 : kEpollIn | kEpollRdNorm;
  if (shutdown == (kRcvShutdown | kSendShutdown) || tstate == TcpState::Close) mask |= kEpollHup;
  if ((shutdown & kRcvShutdown) != 0) mask |= kEpollIn | kEpollRdNorm | kEpollRdHup;
  if (tstate != TcpState::SynSent && tstate != TcpState::SynRecv) {
    // tcp_stream_is_readable: bytes not yet copied
    if (rcv_nxt != copied_seq && !(rcvq.empty())) mask |= kEpollIn | kEpollRdNorm;
    if ((shutdown & kSendShutdown) == 0) {
      // __sk_stream_is_writeable: free space at least a third of the buffer
      const int64_t wspace = static_cast<int64_t>(sndbuf) - wmem_queued;
      if (wspace >= static_cast<int64_t>(wmem_queued >> 1)) mask |= kEpollOut | kEpollWrNorm;
    } else {
      mask |= kEpollOut | kEpollWrNorm;
    }
  }
  if (err != 0) mask |= kEpollErr;
  return mask;
}

// ------------------------------------------------------------------------------ the engine's socket table

TcpSock* TcpEngine::new_sock() {
  auto s = std::make_unique<TcpSock>();
  s->rcvbuf = sys_.tcp_rmem[1];  // tcp_init_sock
  s->sndbuf = sys_.tcp_wmem[1];
  s->softirq_cpu = &net_.cpu(0);
  s->owner = &t_;
  s->ino = ++t_.next_ino_;
  s->reordering = sys_.tcp_reordering;
  s->snd_cwnd = kTcpInitCwnd;
  s->snd_ssthresh = TcpCaSock::kInfiniteSsthresh;
  s->mss_cache = kTcpMssDefault;
  s->rto_jiffies = kTcpTimeoutInit;
  s->mdev_us = kTcpTimeoutInit * 1000000u / kHz;  // jiffies_to_usecs(TCP_TIMEOUT_INIT)
  s->ack_rcv_mss = kTcpMssDefault;
  s->ca = tcp_ca_create(sys_.tcp_congestion_control);
  if (!s->ca) s->ca = tcp_ca_create("reno");
  TcpSock* p = s.get();
  socks_by_ino_[p->ino] = p;
  t_.socks_.push_back(std::move(s));
  return p;
}

void TcpEngine::ehash_del(TcpSock& sk) {
  const auto it = ehash_.find(tuple_of(sk));
  if (it != ehash_.end() && it->second == &sk) ehash_.erase(it);
}

void TcpEngine::hash(TcpSock& sk) {
  if (sk.tstate == TcpState::Listen) {
    lhash_[sk.num].push_back(&sk);
  } else {
    ehash_add(sk);
  }
}

void TcpEngine::unhash(TcpSock& sk) {
  ehash_del(sk);
  if (const auto it = lhash_.find(sk.num); it != lhash_.end()) {
    std::erase(it->second, &sk);
    if (it->second.empty()) lhash_.erase(it);
  }
}

void TcpEngine::free_rcv_queues(TcpSock& sk, bool trace, Cpu* on) {
  Cpu& cpu = on != nullptr ? *on : net_.cpu(0);
  // sk_stream_kill_queues / the purge in tcp_close: what no one will read. A segment with data
  // is a drop (tcp.closed); a bare FIN was used up by the state machine already (consumed).
  for (auto* q : {&sk.rcvq, &sk.ofo}) {
    for (TcpRcvSeg& r : *q) {
      r.skb->destructor = nullptr;
      r.skb->sk = nullptr;
      const bool data = r.end_seq - r.seq - (r.fin ? 1u : 0u) != 0;
      if (!trace) {
        net_.pool().release(r.skb, SkbDropReason::NotSpecified);
      } else if (data) {
        ++stats_.closed;
        net_.drop(cpu, r.skb, SkbDropReason::NotSpecified, model::ingress(22),
                  model::host_drop(model::HostDrop::TcpClosedData));
      } else {
        net_.consume(cpu, r.skb, model::ingress(22), wire::kIpprotoTcp);
      }
    }
    q->clear();
  }
  sk.rmem_alloc = 0;
}

void TcpEngine::write_queue_purge(TcpSock& sk, bool trace, Cpu* on) {
  // tcp_write_queue_purge: the write queue's and the retransmission queue's skbs freed
  // (tcp_wmem_free_skb). A write-queue record never went out, so its packet id ends here, a drop
  // counted as tcp.write_queue_purged; a sent record's id ended with its first transmission (its
  // retransmissions were packets of their own), so it ends nothing.
  Cpu& cpu = on != nullptr ? *on : net_.cpu(0);
  for (const TcpSeg& s : sk.wqueue) {
    sk.wmem_queued -= std::min(sk.wmem_queued, s.truesize);
    if (!trace || s.id == 0) continue;
    ++stats_.write_queue_purged;
    net_.trace_event(cpu, TraceKind::Drop, model::egress(3), s.id, static_cast<uint32_t>(SkbDropReason::NotSpecified),
                     model::host_drop(model::HostDrop::TcpWriteQueuePurged));
  }
  for (const TcpSeg& s : sk.rtx) sk.wmem_queued -= std::min(sk.wmem_queued, s.truesize);
  sk.wqueue.clear();
  sk.rtx.clear();
  sbuf_release_to(sk, sk.write_seq);
  sk.packets_out = 0;
  sk.backoff = 0;
}

void TcpEngine::destroy(TcpSock* sk) {
  std::erase(reap_, sk);
  eventpoll_release(*sk);
  Cpu& c = timer_cpu();
  for (uint64_t* h : {&sk->xmit_timer, &sk->dack_timer, &sk->keepalive_timer}) {
    if (*h != 0) c.cancel(*h - 1);
    *h = 0;
  }
  unhash(*sk);
  if (sk->num != 0) {
    if (const auto it = bhash_.find(sk->num); it != bhash_.end()) {
      std::erase(it->second, sk);
      if (it->second.empty()) bhash_.erase(it);
    }
  }
  if (sk->parent != nullptr) {
    TcpSock& l = *sk->parent;
    std::erase(l.accept_queue, sk);
    if (sk->tstate == TcpState::SynRecv && l.syn_recv_count > 0) --l.syn_recv_count;
  }
  // children of a listener lose their parent
  for (auto& o : t_.socks_) {
    if (o->parent == sk) o->parent = nullptr;
  }
  free_rcv_queues(*sk, true);
  write_queue_purge(*sk, true);  // tcp_v4_destroy_sock
  socks_by_ino_.erase(sk->ino);
  const auto it = std::find_if(t_.socks_.begin(), t_.socks_.end(), [sk](const auto& p) { return p.get() == sk; });
  if (it == t_.socks_.end()) return;
  if (sk->wmem_alloc > 0) {  // transmitted skbs still hold it (sock_wfree frees it last)
    sk->dead = true;
    (void)it->release();
  }
  t_.socks_.erase(it);
}

void TcpEngine::reap() {
  while (!reap_.empty()) {
    TcpSock* sk = reap_.back();
    reap_.pop_back();
    destroy(sk);
  }
}

void TcpEngine::set_state(TcpSock& sk, TcpState st) {
  // tcp_set_state (CurrEstab is counted from the states when printed)
  const TcpState old = sk.tstate;
  if (st == TcpState::Close) {
    if (old == TcpState::CloseWait || old == TcpState::Established) ++mib_.EstabResets;
    unhash(sk);
  }
  sk.tstate = st;
  sk.state = st == TcpState::Established ? SkState::Established : SkState::Close;
}

void TcpEngine::tcp_done(Cpu& cpu, TcpSock& sk) {
  if (sk.tstate == TcpState::SynSent || sk.tstate == TcpState::SynRecv) ++mib_.AttemptFails;
  set_state(sk, TcpState::Close);
  clear_xmit_timer(sk);
  clear_dack_timer(sk);
  clear_keepalive_timer(sk);
  sk.shutdown = kRcvShutdown | kSendShutdown;
  sk.done = true;
  if (!sk.orphan) {
    sk.wq.wake(0, &cpu);  // sk_state_change
  } else if (std::find(reap_.begin(), reap_.end(), &sk) == reap_.end()) {
    // inet_csk_destroy_sock, once the code on the stack above us is done with the socket (Linux
    // holds a reference for as long): reap() frees it at the end of the receive, timer or call
    reap_.push_back(&sk);
  }
}

// ------------------------------------------------------------------------------ the send buffer

void TcpEngine::sbuf_append(TcpSock& sk, std::span<const uint8_t> data) {
  if (sk.sbuf_len + data.size() > sk.sbuf.size()) {
    std::size_t cap = std::max<std::size_t>(sk.sbuf.size(), 4096);
    while (cap < sk.sbuf_len + data.size()) cap *= 2;
    std::vector<uint8_t> nb(cap);
    if (sk.sbuf_len > 0) {  // the ring's two runs, in order
      const std::size_t first = std::min(sk.sbuf_len, sk.sbuf.size() - sk.sbuf_head);
      std::memcpy(nb.data(), sk.sbuf.data() + sk.sbuf_head, first);
      std::memcpy(nb.data() + first, sk.sbuf.data(), sk.sbuf_len - first);
    }
    sk.sbuf = std::move(nb);
    sk.sbuf_head = 0;
  }
  const std::size_t cap = sk.sbuf.size();
  std::size_t at = (sk.sbuf_head + sk.sbuf_len) % cap;
  std::size_t n = data.size(), off = 0;
  while (n > 0) {
    const std::size_t chunk = std::min(n, cap - at);
    std::memcpy(sk.sbuf.data() + at, data.data() + off, chunk);
    off += chunk;
    n -= chunk;
    at = (at + chunk) % cap;
  }
  sk.sbuf_len += data.size();
}

uint32_t TcpEngine::sbuf_copy_out(const TcpSock& sk, uint32_t seq, std::span<uint8_t> out) const {
  const uint32_t off = seq - sk.sbuf_seq;
  if (off > sk.sbuf_len || out.size() > sk.sbuf_len - off) return 0;
  const std::size_t cap = sk.sbuf.size();
  std::size_t at = (sk.sbuf_head + off) % cap, n = out.size(), o = 0;
  while (n > 0) {
    const std::size_t chunk = std::min(n, cap - at);
    std::memcpy(out.data() + o, sk.sbuf.data() + at, chunk);
    o += chunk;
    n -= chunk;
    at = (at + chunk) % cap;
  }
  return static_cast<uint32_t>(out.size());
}

void TcpEngine::sbuf_release_to(TcpSock& sk, uint32_t seq) {
  if (!wire::seq_after(seq, sk.sbuf_seq)) return;
  const uint32_t n = std::min<uint32_t>(seq - sk.sbuf_seq, static_cast<uint32_t>(sk.sbuf_len));
  if (n == 0) return;
  sk.sbuf_head = (sk.sbuf_head + n) % sk.sbuf.size();
  sk.sbuf_len -= n;
  sk.sbuf_seq += n;
}

// ------------------------------------------------------------------------------ Tcp

Tcp::Tcp(NetStack& net, Icmp& icmp, TcpSysctls sysctls)
    : net_(net), icmp_(icmp), sys_(std::move(sysctls)), rng_(net.config().seed ^ kRngSalt),
      e_(std::make_unique<TcpEngine>(*this)) {
  isn_key_ = uint64_t{rng_.u32()} << 32 | rng_.u32();
  net_.inet_add_protocol(wire::kIpprotoTcp, [](void* ctx, SkBuff* skb) { static_cast<Tcp*>(ctx)->tcp_v4_rcv(skb); },
                         this);
  icmp_.add_err_handler(wire::kIpprotoTcp,
                        [](void* ctx, SkBuff* skb, uint32_t info) { return static_cast<Tcp*>(ctx)->tcp_v4_err(skb, info); },
                        this);
}

Tcp::~Tcp() {
  Cpu& c = net_.cpu(0);
  for (auto& s : socks_) {
    eventpoll_release(*s);
    for (uint64_t* h : {&s->xmit_timer, &s->dack_timer, &s->keepalive_timer}) {
      if (*h != 0) c.cancel(*h - 1);
    }
    e_->free_rcv_queues(*s, false);
    e_->write_queue_purge(*s, false);
  }
  // The host goes with TCP's skbs still in its qdiscs and rings (their tcp_wfree would never
  // run): they forget their sockets, and the sockets closed earlier that only those skbs kept
  // (dead, freed by their last skb) go now; the live ones go with socks_.
  net_.pool().detach_socks(&TcpEngine::tcp_wfree, [this](Sock* s) {
    const bool owned = std::any_of(socks_.begin(), socks_.end(), [s](const auto& p) { return p.get() == s; });
    if (!owned && s->dead) delete static_cast<TcpSock*>(s);
  });
}

void Tcp::tcp_v4_rcv(SkBuff* skb) { e_->rcv(skb); }

TcpSock* Tcp::socket() { return e_->new_sock(); }

std::size_t Tcp::time_wait_count() const {
  return static_cast<std::size_t>(
      std::count_if(socks_.begin(), socks_.end(), [](const auto& s) { return s->tstate == TcpState::TimeWait; }));
}

int TcpEngine::get_port(TcpSock& sk, uint16_t snum) {
  const auto conflict = [&](uint16_t port) {
    const auto it = bhash_.find(port);
    if (it == bhash_.end()) return false;
    for (const TcpSock* o : it->second) {
      if (o == &sk) continue;
      // inet_csk_bind_conflict: both SO_REUSEADDR and the other not listening; or addresses differ
      if (sk.reuse && o->reuse && o->tstate != TcpState::Listen) continue;
      if (!sk.rcv_saddr.is_unspecified() && !o->rcv_saddr.is_unspecified() && !(sk.rcv_saddr == o->rcv_saddr)) continue;
      if (o->tstate == TcpState::TimeWait && sk.reuse) continue;
      return true;
    }
    return false;
  };
  if (snum == 0) {
    const int lo = net_.config().ipv4.ip_local_port_range_lo, hi = net_.config().ipv4.ip_local_port_range_hi;
    const uint32_t n = static_cast<uint32_t>(hi - lo + 1);
    // inet_csk_find_open_port: a random start, odd ports first for bind (connect keeps even ones)
    uint32_t offset = t_.rng_.u32_max(n) | 1u;
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t i = 0; i < n; i += 2) {
        const uint16_t port = static_cast<uint16_t>(lo + (offset + i) % n);
        if (!conflict(port)) {
          snum = port;
          break;
        }
      }
      if (snum != 0) break;
      offset ^= 1u;
    }
    if (snum == 0) return -kEADDRINUSE;
  } else if (conflict(snum)) {
    return -kEADDRINUSE;
  }
  sk.num = snum;
  bhash_[snum].push_back(&sk);
  return 0;
}

int Tcp::bind(TcpSock& sk, SockAddrIn addr) {
  if (sk.tstate != TcpState::Close || sk.num != 0) return -kEINVAL;
  if (!addr.addr.is_unspecified() && !net_.is_local_addr(addr.addr)) return -kEADDRNOTAVAIL;
  sk.rcv_saddr = addr.addr;
  sk.saddr = addr.addr;
  if (const int e = e_->get_port(sk, addr.port); e != 0) {
    sk.rcv_saddr = {};
    sk.saddr = {};
    return e;
  }
  sk.bind_addr_locked = !addr.addr.is_unspecified();
  sk.bind_port_locked = addr.port != 0;
  return 0;
}

int Tcp::listen(TcpSock& sk, int backlog) {
  if (sk.tstate != TcpState::Close && sk.tstate != TcpState::Listen) return -kEINVAL;
  backlog = std::min(backlog, kSomaxconn);
  sk.backlog = std::max(backlog, 0);
  if (sk.tstate == TcpState::Listen) return 0;
  if (sk.num == 0 && e_->get_port(sk, 0) != 0) return -kEADDRINUSE;
  // inet_csk_listen_start: the port must still be ours alone among listeners
  if (const auto it = e_->lhash_.find(sk.num); it != e_->lhash_.end()) {
    for (const TcpSock* o : it->second) {
      if (o->rcv_saddr.is_unspecified() || sk.rcv_saddr.is_unspecified() || o->rcv_saddr == sk.rcv_saddr) {
        return -kEADDRINUSE;
      }
    }
  }
  sk.tstate = TcpState::Listen;
  e_->hash(sk);
  return 0;
}

int Tcp::connect(Cpu& cpu, TcpSock& sk, SockAddrIn peer) {
  cpu.charge(cpu.costs().syscall);
  switch (sk.tstate) {
    case TcpState::Close: break;
    case TcpState::SynSent: return -kEALREADY;
    case TcpState::Listen: return -kEINVAL;
    default: return -kEISCONN;
  }
  if (peer.port == 0 && peer.addr.is_unspecified()) return -kEINVAL;
  const NetStack::RouteOut rt = net_.route_output(peer.addr, sk.bound_dev_if);
  if (rt.err != 0) {
    if (rt.err == -kENETUNREACH) ++net_.ip_mib().OutNoRoutes;
    return rt.err;
  }
  if (rt.type == RouteType::Broadcast) return -kENETUNREACH;
  if (sk.saddr.is_unspecified()) sk.saddr = rt.saddr;
  if (sk.rcv_saddr.is_unspecified()) sk.rcv_saddr = sk.saddr;
  sk.daddr = peer.addr;
  sk.dport = peer.port;
  if (sk.num == 0) {
    // inet_hash_connect: an ephemeral port whose four-tuple is free, even ports first
    const int lo = net_.config().ipv4.ip_local_port_range_lo, hi = net_.config().ipv4.ip_local_port_range_hi;
    const uint32_t n = static_cast<uint32_t>(hi - lo + 1);
    uint32_t offset = rng_.u32_max(n) & ~1u;
    uint16_t found = 0;
    for (int pass = 0; pass < 2 && found == 0; ++pass) {
      for (uint32_t i = 0; i < n; i += 2) {
        const uint16_t port = static_cast<uint16_t>(lo + (offset + i) % n);
        const auto b = e_->bhash_.find(port);
        bool ok = true;
        if (b != e_->bhash_.end()) {
          for (const TcpSock* o : b->second) {
            // a port bound by bind() or a listener is not shared; connections share it when their
            // four-tuples differ (__inet_check_established)
            if (o->bind_port_locked || o->tstate == TcpState::Listen ||
                (o->daddr == peer.addr && o->dport == peer.port)) {
              ok = false;
              break;
            }
          }
        }
        if (ok) {
          found = port;
          break;
        }
      }
      offset ^= 1u;
    }
    if (found == 0) {
      sk.daddr = {};
      sk.dport = 0;
      return -kEADDRNOTAVAIL;
    }
    sk.num = found;
    e_->bhash_[found].push_back(&sk);
  }
  sk.isn = sk.isn_request ? *sk.isn_request : e_->secure_seq(sk.saddr, sk.daddr, sk.num, sk.dport, cpu.now());
  sk.tsoffset = static_cast<uint32_t>(isn_key_ >> 11) ^ (sk.isn * 2654435761u);
  sk.write_seq = sk.isn;
  sk.inet_id = static_cast<uint16_t>(rng_.u32());
  e_->set_state(sk, TcpState::SynSent);
  e_->hash(sk);
  const int err = e_->tcp_connect(cpu, sk);
  if (err != 0) {
    e_->set_state(sk, TcpState::Close);
    return err;
  }
  return -kEINPROGRESS;
}

Co<int> Tcp::connect_wait(Cpu& cpu, TcpSock& sk, SockAddrIn peer) {
  const int r = connect(cpu, sk, peer);
  if (r != -kEINPROGRESS) co_return r;
  const Instant until = sk.sndtimeo == Duration{} ? kNever : cpu.now() + sk.sndtimeo;
  for (;;) {
    if (sk.tstate != TcpState::SynSent && sk.tstate != TcpState::SynRecv) {
      if (sk.err != 0) co_return sk.sock_error();
      co_return sk.tstate == TcpState::Close ? -kECONNREFUSED : 0;
    }
    if (cpu.now() >= until) co_return -kEINPROGRESS;
    if (!co_await SockWait(sk, cpu, until, kEpollOut | kEpollErr | kEpollHup)) co_return -kEBADF;
  }
}

TcpSock* Tcp::accept(TcpSock& sk, int* err, SockAddrIn* peer) {
  if (err != nullptr) *err = 0;
  if (sk.tstate != TcpState::Listen) {
    if (err != nullptr) *err = -kEINVAL;
    return nullptr;
  }
  if (sk.accept_queue.empty()) {
    if (err != nullptr) *err = -kEAGAIN;
    return nullptr;
  }
  TcpSock* c = sk.accept_queue.front();
  sk.accept_queue.pop_front();
  c->in_accept_queue = false;
  c->parent = nullptr;
  if (peer != nullptr) *peer = SockAddrIn{c->daddr, c->dport};
  return c;
}

Co<TcpSock*> Tcp::accept_wait(Cpu& cpu, TcpSock& sk, SockAddrIn* peer) {
  const Instant until = sk.rcvtimeo == Duration{} ? kNever : cpu.now() + sk.rcvtimeo;
  for (;;) {
    cpu.charge(cpu.costs().syscall);
    int err = 0;
    if (TcpSock* c = accept(sk, &err, peer); c != nullptr) co_return c;
    if (err != -kEAGAIN || cpu.now() >= until) co_return nullptr;
    if (!co_await SockWait(sk, cpu, until, kEpollIn | kEpollErr)) co_return nullptr;
  }
}

// ------------------------------------------------------------------------------ sendmsg

namespace {
Duration copy_cost(const Cpu& cpu, std::size_t bytes) {
  return Duration::ps(cpu.costs().copy_per_kib.ps() * static_cast<int64_t>(bytes) / 1024);
}
}  // namespace

int Tcp::sendmsg(Cpu& cpu, TcpSock& sk, std::span<const uint8_t> data, int flags) {
  TcpEngine& e = *e_;
  cpu.charge(cpu.costs().syscall);
  if (sk.tstate != TcpState::Established && sk.tstate != TcpState::CloseWait) {
    if (sk.tstate == TcpState::SynSent || sk.tstate == TcpState::SynRecv) return -kEAGAIN;  // sk_stream_wait_connect
    if (sk.err != 0) return sk.sock_error();
    if ((sk.shutdown & kSendShutdown) != 0) return -kEPIPE;
    return -kENOTCONN;
  }
  if (sk.err != 0) return sk.sock_error();
  if ((sk.shutdown & kSendShutdown) != 0) return -kEPIPE;
  cpu.charge(cpu.costs().udp_sendmsg);  // tcp_sendmsg's fixed part costs what UDP's does
  e.mstamp_refresh(cpu, sk);
  const uint32_t mss_now = e.current_mss(sk);
  // tcp_send_mss: the write queue's skbs grow to size_goal (GSO: up to 64 KiB); the model keeps
  // one record per MSS inside them (TcpSeg::skb_head marks where each skb starts)
  const uint32_t size_goal = e.xmit_size_goal(sk, mss_now);
  const uint32_t hdr_truesize = alloc_skb_truesize(kMaxTcpHeader);
  // The write queue's tail skb: its length, and whether it is also the queue's first (the send
  // head). Scanned back from the tail over its own records only (at most gso_max_segs), once per
  // record appended: the write queue itself can hold thousands.
  struct TailSkb {
    uint32_t len = 0;
    bool is_first = false;
  };
  auto tail_skb = [&sk]() {
    TailSkb t;
    for (auto it = sk.wqueue.rbegin(); it != sk.wqueue.rend(); ++it) {
      t.len += it->len;
      if (it->skb_head) {
        t.is_first = std::next(it) == sk.wqueue.rend();
        break;
      }
    }
    return t;
  };
  TailSkb tail_now = tail_skb();
  std::size_t copied = 0;
  bool wait_for_space = false;
  while (copied < data.size()) {
    TcpSeg* tail = sk.wqueue.empty() ? nullptr : &sk.wqueue.back();
    uint32_t copy = 0;
    const bool can_collapse = tail != nullptr && (tail->flags & (wire::kTcpFin | wire::kTcpSyn)) == 0;
    if (can_collapse && tail_now.len < size_goal) copy = size_goal - tail_now.len;
    if (copy == 0) {
      // new_segment: sk_stream_memory_free
      if (sk.wmem_queued >= sk.sndbuf) {
        sk.nospace = true;
        wait_for_space = true;
        break;
      }
      TcpSeg seg;
      seg.seq = seg.end_seq = sk.write_seq;
      seg.flags = wire::kTcpAck;
      seg.truesize = hdr_truesize;
      seg.id = net_.next_packet_id();
      cpu.charge(cpu.costs().skb_alloc);
      sk.wmem_queued += seg.truesize;
      sk.wqueue.push_back(seg);
      tail = &sk.wqueue.back();
      tail_now = TailSkb{0, sk.wqueue.size() == 1};
      net_.trace_event(cpu, TraceKind::PacketMade, egress(2), seg.id, 0);
      if ((sk.nonagle & kNaglePush) != 0) sk.nonagle &= ~kNaglePush;  // tcp_skb_entail
      copy = size_goal;
    } else if (tail->len >= mss_now) {
      // the skb has room, its last segment is full: the next segment of the same skb (a record
      // of its own, no header of its own)
      TcpSeg seg;
      seg.seq = seg.end_seq = sk.write_seq;
      seg.flags = wire::kTcpAck;
      seg.skb_head = false;
      seg.truesize = 0;
      seg.id = net_.next_packet_id();
      sk.wqueue.push_back(seg);
      tail = &sk.wqueue.back();
      net_.trace_event(cpu, TraceKind::PacketMade, egress(2), seg.id, 0);
    }
    copy = std::min<uint32_t>({copy, mss_now - tail->len, static_cast<uint32_t>(data.size() - copied)});
    e.sbuf_append(sk, data.subspan(copied, copy));
    cpu.charge(copy_cost(cpu, copy));
    tail->len += copy;
    tail->end_seq += copy;
    tail->truesize += copy;
    tail_now.len += copy;
    sk.wmem_queued += copy;
    sk.write_seq += copy;
    net_.trace_event(cpu, TraceKind::SockSend, egress(1), tail->id, copy);
    net_.trace_event(cpu, TraceKind::SockWmem, egress(3), tail->id, sk.wmem_queued);
    copied += copy;
    if (copied == data.size()) break;
    if (tail_now.len < size_goal) continue;
    // forced_push: more than half the peer's largest window written since the last push
    if (wire::seq_after(sk.write_seq, sk.pushed_seq + (sk.max_window >> 1))) {
      tail->flags |= wire::kTcpPsh;
      sk.pushed_seq = sk.write_seq;
      e.push_pending(cpu, sk, mss_now, kNaglePush);
      tail_now = tail_skb();
    } else if (tail_now.is_first) {
      e.write_xmit(cpu, sk, mss_now, sk.nonagle, 1);  // tcp_push_one: the skb is the send head
      tail_now = tail_skb();
    }
  }
  if (copied > 0) {
    // tcp_push (wait_for_space pushes with TCP_NAGLE_PUSH and without MSG_MORE)
    if (wait_for_space) flags &= ~kMsgMore;
    if (!sk.wqueue.empty()) {
      TcpSeg& last = sk.wqueue.back();
      if ((flags & kMsgMore) == 0 || wire::seq_after(sk.write_seq, sk.pushed_seq + (sk.max_window >> 1))) {
        last.flags |= wire::kTcpPsh;
        sk.pushed_seq = sk.write_seq;
      }
      // tcp_should_autocork: a tail skb not yet full, data in flight and more of this socket's
      // bytes in the qdisc or the device than the skb holds: the TX completion will push it
      // (TSQ), with whatever the application writes meanwhile
      const uint32_t skb_len = tail_now.len;
      if (skb_len < size_goal && e.sys_.tcp_autocorking && !sk.rtx.empty() && sk.wmem_alloc > hdr_truesize + skb_len &&
          (last.flags & (wire::kTcpFin | wire::kTcpSyn)) == 0) {
        if ((sk.tsq_flags & 1) == 0) {
          ++e.ext_[LinuxMib::TCPAutoCorking];
          sk.tsq_flags |= 1;
        }
        ++e.stats_.autocork;
        return static_cast<int>(copied);
      }
      const int nl = wait_for_space ? kNaglePush : (flags & kMsgMore) != 0 ? kNagleCork : sk.nonagle;
      e.push_pending(cpu, sk, mss_now, nl);
    }
    return static_cast<int>(copied);
  }
  if (sk.err != 0) return sk.sock_error();
  return -kEAGAIN;
}

Co<int> Tcp::send(Cpu& cpu, TcpSock& sk, std::span<const uint8_t> data, int flags) {
  const Instant until = sk.sndtimeo == Duration{} ? kNever : cpu.now() + sk.sndtimeo;
  std::size_t done = 0;
  for (;;) {
    const int r = sendmsg(cpu, sk, data.subspan(done), flags);
    if (r > 0) done += static_cast<std::size_t>(r);
    if (done == data.size()) co_return static_cast<int>(done);
    if (r < 0 && r != -kEAGAIN) co_return done > 0 ? static_cast<int>(done) : r;
    if ((flags & kMsgDontwait) != 0 || cpu.now() >= until) co_return done > 0 ? static_cast<int>(done) : -kEAGAIN;
    // sk_stream_wait_memory / sk_stream_wait_connect
    if (!co_await SockWait(sk, cpu, until, kEpollOut | kEpollErr | kEpollHup)) co_return -kEBADF;
    // sk_stream_wait_memory gives up on sk_err or SEND_SHUTDOWN (an abort) without reading the
    // error, and tcp_sendmsg_locked returns the bytes it copied before: sk_err stays for the
    // next call (sendmsg's sock_error would consume it here, behind a short count)
    if (done > 0 && (sk.err != 0 || (sk.shutdown & kSendShutdown) != 0)) co_return static_cast<int>(done);
  }
}

// ------------------------------------------------------------------------------ recvmsg

int Tcp::recvmsg(Cpu& cpu, TcpSock& sk, std::span<uint8_t> buf, int flags) {
  TcpEngine& e = *e_;
  cpu.charge(cpu.costs().syscall);
  if (sk.tstate == TcpState::Listen) return -kENOTCONN;
  cpu.charge(cpu.costs().sock_recvmsg);
  std::size_t copied = 0;
  const bool peek = (flags & kMsgPeek) != 0;
  uint32_t peek_seq = sk.copied_seq;
  uint32_t& seqref = peek ? peek_seq : sk.copied_seq;
  bool fin = false;
  std::size_t i = 0;
  while (copied < buf.size() && i < sk.rcvq.size()) {
    TcpRcvSeg& r = sk.rcvq[i];
    const uint32_t offset = seqref - r.seq;
    const uint32_t dlen = r.end_seq - r.seq - (r.fin ? 1u : 0u);
    if (offset < dlen) {
      const uint32_t used = std::min<uint32_t>(dlen - offset, static_cast<uint32_t>(buf.size() - copied));
      std::memcpy(buf.data() + copied, r.skb->bytes().data() + offset, used);
      cpu.charge(copy_cost(cpu, used));
      seqref += used;
      copied += used;
      if (!peek) e.rcv_space_adjust(sk);
      if (offset + used < dlen) break;
    }
    if (r.fin) {
      fin = true;
      if (!peek) ++sk.copied_seq;
    }
    if (peek) {
      ++i;
      if (fin) break;
      continue;
    }
    // sk_eat_skb: the segment is read through
    SkBuff* skb = r.skb;
    sk.rmem_alloc -= std::min(sk.rmem_alloc, skb->truesize);
    skb->destructor = nullptr;
    skb->sk = nullptr;
    sk.rcvq.pop_front();
    if (dlen > 0) {
      for_each_packet_id(*skb, [&](uint64_t id) { net_.trace_event(cpu, TraceKind::AppRecv, ingress(24), id, dlen); });
      net_.consume(cpu, skb, ingress(24), wire::kIpprotoTcp);
    } else {
      net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
    }
    if (fin) break;
  }
  if (!peek) e.tcp_cleanup_rbuf(cpu, sk, static_cast<int>(copied));
  if (copied > 0) return static_cast<int>(copied);
  // tcp_recvmsg's order: SOCK_DONE (the peer's FIN), then the error (a reset reports ECONNRESET
  // once), then the shutdown, then a closed socket
  if (fin || sk.fin_rcvd) return 0;
  if (sk.err != 0) return sk.sock_error();
  if ((sk.shutdown & kRcvShutdown) != 0) return 0;
  if (sk.tstate == TcpState::Close) return -kENOTCONN;
  return -kEAGAIN;
}

Co<int> Tcp::recv(Cpu& cpu, TcpSock& sk, std::span<uint8_t> buf, int flags) {
  const Instant until = sk.rcvtimeo == Duration{} ? kNever : cpu.now() + sk.rcvtimeo;
  std::size_t done = 0;
  for (;;) {
    const int r = recvmsg(cpu, sk, buf.subspan(done), flags);
    if (r > 0) done += static_cast<std::size_t>(r);
    const bool all = (flags & kMsgWaitall) == 0 ? done > 0 : done == buf.size();
    if (all) co_return static_cast<int>(done);
    if (r == 0 || (r < 0 && r != -kEAGAIN)) co_return done > 0 ? static_cast<int>(done) : r;
    if ((flags & kMsgDontwait) != 0 || cpu.now() >= until) co_return done > 0 ? static_cast<int>(done) : -kEAGAIN;
    if (!co_await SockWait(sk, cpu, until, kEpollIn | kEpollErr | kEpollHup | kEpollRdHup)) co_return -kEBADF;
  }
}

// ------------------------------------------------------------------------------ shutdown, close

void TcpEngine::tcp_send_fin(Cpu& cpu, TcpSock& sk) {
  // tcp_send_fin: the FIN rides on the last unsent segment, or is a segment of its own
  if (!sk.wqueue.empty()) {
    TcpSeg& tail = sk.wqueue.back();
    tail.flags |= wire::kTcpFin;
    ++tail.end_seq;
    ++sk.write_seq;
  } else {
    TcpSeg seg;
    seg.seq = sk.write_seq;
    seg.end_seq = sk.write_seq + 1;
    seg.flags = wire::kTcpAck | wire::kTcpFin;
    seg.truesize = alloc_skb_truesize(kMaxTcpHeader);
    seg.id = net_.next_packet_id();
    net_.trace_event(cpu, TraceKind::PacketMade, egress(2), seg.id, 0);
    sk.wmem_queued += seg.truesize;
    sk.wqueue.push_back(seg);
    ++sk.write_seq;
  }
  push_pending(cpu, sk, current_mss(sk), kNagleOff);
}

namespace {
// tcp_close_state's table: the state after a close and whether a FIN goes.
std::pair<TcpState, bool> close_state(TcpState s) {
  switch (s) {
    case TcpState::Established: return {TcpState::FinWait1, true};
    case TcpState::SynRecv: return {TcpState::FinWait1, true};
    case TcpState::CloseWait: return {TcpState::LastAck, true};
    case TcpState::FinWait1: return {TcpState::FinWait1, false};
    case TcpState::FinWait2: return {TcpState::FinWait2, false};
    case TcpState::LastAck: return {TcpState::LastAck, false};
    case TcpState::Closing: return {TcpState::Closing, false};
    default: return {TcpState::Close, false};
  }
}
}  // namespace

int Tcp::shutdown(Cpu& cpu, TcpSock& sk, int how) {
  cpu.charge(cpu.costs().syscall);
  if (how < 0 || how > 2) return -kEINVAL;
  const uint8_t mask = static_cast<uint8_t>(how + 1);  // SHUT_RD -> RCV_SHUTDOWN ...
  if (sk.tstate == TcpState::Close || sk.tstate == TcpState::SynSent) {
    if (sk.tstate == TcpState::Close) return -kENOTCONN;
  }
  sk.shutdown |= mask;
  if (sk.tstate == TcpState::Listen) {
    if ((mask & kRcvShutdown) != 0) {
      close_listener_children(cpu, sk);
    }
  } else if ((mask & kSendShutdown) != 0) {
    const auto [ns, fin] = close_state(sk.tstate);
    if (sk.tstate == TcpState::SynSent) {
      e_->tcp_done(cpu, sk);
    } else if (fin) {
      e_->set_state(sk, ns);
      e_->tcp_send_fin(cpu, sk);
    }
  }
  sk.wq.wake(kEpollIn | kEpollOut | kEpollRdHup, &cpu);
  e_->reap();
  return 0;
}

void Tcp::close_listener_children(Cpu& cpu, TcpSock& sk) {
  // inet_csk_listen_stop: every child not accepted is disconnected (RST) and freed; request
  // socks go with the listener.
  std::vector<TcpSock*> kids;
  for (auto& o : socks_) {
    if (o->parent == &sk) kids.push_back(o.get());
  }
  for (TcpSock* c : kids) {
    c->parent = nullptr;
    c->in_accept_queue = false;
    c->orphan = true;
    if (c->tstate == TcpState::Established || c->tstate == TcpState::CloseWait) {
      e_->send_active_reset(cpu, *c);
    }
    e_->tcp_done(cpu, *c);
  }
  sk.accept_queue.clear();
  sk.syn_recv_count = 0;
}

void Tcp::close(TcpSock* skp) { close(net_.cpu(0), skp); }

void Tcp::close(Cpu& cpu, TcpSock* skp) {
  close_impl(cpu, skp);
  e_->reap();
}

void Tcp::close_impl(Cpu& cpu, TcpSock* skp) {
  if (skp == nullptr) return;
  TcpSock& sk = *skp;
  cpu.charge(cpu.costs().syscall);
  eventpoll_release(sk);
  sk.shutdown = kRcvShutdown | kSendShutdown;
  if (sk.tstate == TcpState::Listen) {
    e_->set_state(sk, TcpState::Close);
    close_listener_children(cpu, sk);
    e_->destroy(&sk);
    return;
  }
  // unread data: freed; its existence turns the close into an abort
  uint32_t unread = 0;
  for (const TcpRcvSeg& r : sk.rcvq) unread += r.end_seq - std::max(r.seq, sk.copied_seq) - (r.fin ? 1u : 0u);
  e_->free_rcv_queues(sk, true, &cpu);
  sk.orphan = true;
  if (sk.tstate == TcpState::Close) {
    e_->destroy(&sk);
    return;
  }
  if (unread > 0) {
    ++ext_[LinuxMib::TCPAbortOnClose];
    const TcpState old = sk.tstate;
    e_->set_state(sk, TcpState::Close);
    if (old == TcpState::Established || old == TcpState::CloseWait || old == TcpState::FinWait1 ||
        old == TcpState::FinWait2 || old == TcpState::SynRecv || old == TcpState::Closing || old == TcpState::LastAck) {
      e_->send_active_reset(cpu, sk);
    }
    e_->tcp_done(cpu, sk);
    return;
  }
  if (sk.linger == 0) {
    ++ext_[LinuxMib::TCPAbortOnData];
    if (sk.tstate != TcpState::SynSent) e_->send_active_reset(cpu, sk);
    e_->set_state(sk, TcpState::Close);
    e_->tcp_done(cpu, sk);
    return;
  }
  const auto [ns, fin] = close_state(sk.tstate);
  if (sk.tstate == TcpState::SynSent || ns == TcpState::Close) {
    e_->set_state(sk, TcpState::Close);
    e_->tcp_done(cpu, sk);
    return;
  }
  e_->set_state(sk, ns);
  if (fin) e_->tcp_send_fin(cpu, sk);
  if (sk.tstate == TcpState::FinWait2) {
    // an orphan in FIN-WAIT-2 waits tcp_fin_timeout in TIME-WAIT's form
    e_->time_wait(cpu, sk, TcpState::FinWait2, static_cast<uint32_t>(sys_.tcp_fin_timeout_s * kHz));
  }
}

// ------------------------------------------------------------------------------ options

void Tcp::set_nodelay(Cpu& cpu, TcpSock& sk, bool on) {
  if (on) {
    sk.nonagle |= kNagleOff | kNaglePush;
    if (sk.tstate == TcpState::Established || sk.tstate == TcpState::CloseWait) e_->push_pending_frames(cpu, sk);
  } else {
    sk.nonagle &= ~kNagleOff;
  }
}

void Tcp::set_cork(Cpu& cpu, TcpSock& sk, bool on) {
  if (on) {
    sk.nonagle |= kNagleCork;
  } else {
    sk.nonagle &= ~kNagleCork;
    if ((sk.nonagle & kNagleOff) != 0) sk.nonagle |= kNaglePush;
    if (sk.tstate == TcpState::Established || sk.tstate == TcpState::CloseWait) e_->push_pending_frames(cpu, sk);
  }
}

void Tcp::set_keepalive(TcpSock& sk, bool on, int idle_s, int intvl_s, int cnt) {
  if (idle_s > 0) sk.keepalive_time_s = idle_s;
  if (intvl_s > 0) sk.keepalive_intvl_s = intvl_s;
  if (cnt > 0) sk.keepalive_probes = cnt;
  e_->set_keepalive(sk, on);
}

void Tcp::set_rcvbuf(TcpSock& sk, int val) { sock_set_rcvbuf(sk, val, net_.config().core); }

void Tcp::set_sndbuf(TcpSock& sk, int val) {
  // sock_setsockopt(SO_SNDBUF): the value, then sk_write_space, which is sk_stream_write_space for
  // TCP (tcp_init_sock)
  sock_set_sndbuf_value(sk, val, net_.config().core);
  e_->stream_write_space(net_.cpu(0), sk);
}

int Tcp::set_congestion(TcpSock& sk, std::string_view name) {
  auto ca = tcp_ca_create(name);
  if (!ca) return -kENOENT;
  sk.ca = std::move(ca);
  if (sk.tstate != TcpState::Close && sk.tstate != TcpState::Listen) sk.ca->init(sk);
  return 0;
}

void Tcp::set_linger(TcpSock& sk, int seconds) { sk.linger = seconds; }

// ------------------------------------------------------------------------------ views

Tcp::Info Tcp::info(const TcpSock& sk) const {
  Info i{};
  i.state = sk.tstate;
  i.ca_state = static_cast<uint8_t>(sk.ca_state);
  i.retransmits = sk.retransmits;
  i.backoff = sk.backoff;
  i.snd_wscale = sk.snd_wscale;
  i.rcv_wscale = sk.rcv_wscale;
  i.rto_us = sk.rto_jiffies * static_cast<uint32_t>(1000000 / kHz);
  i.ato_us = sk.ack_ato * static_cast<uint32_t>(1000000 / kHz);
  i.snd_mss = sk.mss_cache;
  i.rcv_mss = sk.ack_rcv_mss;
  i.unacked = sk.packets_out;
  i.sacked = sk.sacked_out;
  i.lost = sk.lost_out;
  i.retrans = sk.retrans_out;
  i.rtt_us = sk.srtt_us >> 3;
  i.rttvar_us = sk.mdev_us >> 2;
  i.snd_ssthresh = sk.snd_ssthresh;
  i.snd_cwnd = sk.snd_cwnd;
  i.advmss = sk.advmss;
  i.reordering = sk.reordering;
  i.rcv_space = sk.rcvq_space;
  i.total_retrans = sk.total_retrans;
  i.bytes_acked = sk.bytes_acked;
  i.bytes_received = sk.bytes_received;
  return i;
}

std::string Tcp::proc_net_snmp_tcp() const {
  TcpMib m = mib_;
  m.CurrEstab = static_cast<uint64_t>(std::count_if(socks_.begin(), socks_.end(), [](const auto& s) {
    return s->tstate == TcpState::Established || s->tstate == TcpState::CloseWait;
  }));
  return vnic::stack::proc_net_snmp_tcp(m);
}

void Tcp::sync_ext() const {
  const TcpCaCounters& h = e_->hystart_counters_;
  ext_[LinuxMib::TCPHystartTrainDetect] = h.hystart_train_detect;
  ext_[LinuxMib::TCPHystartTrainCwnd] = h.hystart_train_cwnd;
  ext_[LinuxMib::TCPHystartDelayDetect] = h.hystart_delay_detect;
  ext_[LinuxMib::TCPHystartDelayCwnd] = h.hystart_delay_cwnd;
}

std::string Tcp::netstat_st() const {
  TcpMib m = mib_;
  m.CurrEstab = static_cast<uint64_t>(std::count_if(socks_.begin(), socks_.end(), [](const auto& s) {
    return s->tstate == TcpState::Established || s->tstate == TcpState::CloseWait;
  }));
  return vnic::stack::netstat_st(m, ext());
}

std::string Tcp::ss_tin() const {
  std::string out = fmt::format("{:<10} {:<6} {:<6} {:>21} {:<21} Process\n", "State", "Recv-Q", "Send-Q",
                                "Local Address:Port", "Peer Address:Port");
  std::vector<const TcpSock*> v;
  for (const auto& s : socks_) {
    if (s->tstate != TcpState::Close && s->tstate != TcpState::Listen) v.push_back(s.get());
  }
  std::sort(v.begin(), v.end(), [](const TcpSock* a, const TcpSock* b) { return a->ino < b->ino; });
  for (const TcpSock* s : v) {
    // TIME-WAIT sockets have no queues (ss prints 0 0)
    const uint32_t recvq = s->tw ? 0 : s->rcv_nxt - s->copied_seq;
    const uint32_t sendq = s->tw ? 0 : s->write_seq - s->snd_una;
    out += fmt::format("{:<10} {:<6} {:<6} {:>21} {:<21}\n", tcp_state_name(s->tstate), recvq, sendq,
                       fmt::format("{}:{}", s->rcv_saddr.str(), s->num), fmt::format("{}:{}", s->daddr.str(), s->dport));
    if (s->tstate == TcpState::TimeWait) continue;
    // iproute2's tcp_show_info order: ts sack <ca> wscale rto ... minrtt snd_wnd
    std::string line = "\t";
    if (s->tstamp_ok) line += " ts";
    if (s->sack_ok) line += " sack";
    if ((s->ecn_flags & kTcpEcnOk) != 0) line += " ecn";        // TCPI_OPT_ECN
    if ((s->ecn_flags & kTcpEcnSeen) != 0) line += " ecnseen";  // TCPI_OPT_ECN_SEEN
    line += fmt::format(" {}", s->ca ? s->ca->name() : "?");
    if (s->wscale_ok) line += fmt::format(" wscale:{},{}", s->snd_wscale, s->rcv_wscale);
    line += fmt::format(" rto:{:g}", s->rto_jiffies * 1000.0 / kHz);
    if (s->backoff != 0) line += fmt::format(" backoff:{}", s->backoff);
    if (s->srtt_us != 0) line += fmt::format(" rtt:{:.3f}/{:.3f}", (s->srtt_us >> 3) / 1000.0, (s->mdev_us >> 2) / 1000.0);
    if (s->ack_ato != 0) line += fmt::format(" ato:{:g}", s->ack_ato * 1000.0 / kHz);
    line += fmt::format(" mss:{} pmtu:{} rcvmss:{} advmss:{} cwnd:{}", s->mss_cache,
                        e_->mss_to_mtu(*s, s->advmss), s->ack_rcv_mss, s->advmss, s->snd_cwnd);
    if (s->snd_ssthresh < TcpCaSock::kInfiniteSsthresh) line += fmt::format(" ssthresh:{}", s->snd_ssthresh);
    if (s->bytes_sent != 0) line += fmt::format(" bytes_sent:{}", s->bytes_sent);
    if (s->bytes_retrans != 0) line += fmt::format(" bytes_retrans:{}", s->bytes_retrans);
    if (s->bytes_acked != 0) line += fmt::format(" bytes_acked:{}", s->bytes_acked);
    if (s->bytes_received != 0) line += fmt::format(" bytes_received:{}", s->bytes_received);
    if (s->segs_out != 0) line += fmt::format(" segs_out:{}", s->segs_out);
    if (s->segs_in != 0) line += fmt::format(" segs_in:{}", s->segs_in);
    if (s->data_segs_out != 0) line += fmt::format(" data_segs_out:{}", s->data_segs_out);
    if (s->data_segs_in != 0) line += fmt::format(" data_segs_in:{}", s->data_segs_in);
    {
      // lastsnd / lastrcv / lastack in ms (tcp_get_info: now - lsndtime, - lrcvtime, - rcv_tstamp)
      const uint32_t nowj = static_cast<uint32_t>(jiffies(net_.cpu(0).now()));
      const auto ms = [&](uint32_t j) { return static_cast<uint64_t>(nowj - j) * 1000 / kHz; };
      if (s->srtt_us != 0) {
        const double bps = static_cast<double>(s->snd_cwnd) * s->mss_cache * 8.0 * 1e6 / (s->srtt_us >> 3);
        line += fmt::format(" send {}", ss_rate(bps));
      }
      line += fmt::format(" lastsnd:{} lastrcv:{} lastack:{}", ms(s->lsndtime), ms(s->ack_lrcvtime), ms(s->rcv_tstamp));
      if (s->sk_pacing_rate != 0) line += fmt::format(" pacing_rate {}", ss_rate(static_cast<double>(s->sk_pacing_rate) * 8));
    }
    if (s->rate_interval_us != 0 && s->rate_delivered != 0) {
      const double bps = static_cast<double>(s->rate_delivered) * s->mss_cache * 8.0 * 1e6 / s->rate_interval_us;
      line += fmt::format(" delivery_rate {}", ss_rate(bps));
      if (s->rate_app_limited) line += " app_limited";
    }
    line += fmt::format(" delivered:{}", s->delivered);
    if (s->delivered_ce != 0) line += fmt::format(" delivered_ce:{}", s->delivered_ce);
    if (s->packets_out != 0) line += fmt::format(" unacked:{}", s->packets_out);
    if (s->total_retrans != 0 || s->retrans_out != 0) line += fmt::format(" retrans:{}/{}", s->retrans_out, s->total_retrans);
    if (s->lost_out != 0) line += fmt::format(" lost:{}", s->lost_out);
    if (s->sacked_out != 0) line += fmt::format(" sacked:{}", s->sacked_out);
    if (s->dsack_dups != 0) line += fmt::format(" dsack_dups:{}", s->dsack_dups);
    if (s->reordering != 3) line += fmt::format(" reordering:{}", s->reordering);
    line += fmt::format(" rcv_space:{} rcv_ssthresh:{}", s->rcvq_space, s->rcv_ssthresh);
    if (s->rtt_min_us != ~0u) line += fmt::format(" minrtt:{:g}", s->rtt_min_us / 1000.0);
    line += fmt::format(" snd_wnd:{}", s->snd_wnd);
    out += line + "\n";
  }
  return out;
}

std::string ss_rate(double bps) {
  // ss's sprint_bw: bps, Kbps, Mbps, Gbps with one decimal
  if (bps > 1e9) return fmt::format("{:.1f}Gbps", bps / 1e9);
  if (bps > 1e6) return fmt::format("{:.1f}Mbps", bps / 1e6);
  if (bps > 1e3) return fmt::format("{:.1f}Kbps", bps / 1e3);
  return fmt::format("{:.0f}bps", bps);
}

}  // namespace vnic::stack

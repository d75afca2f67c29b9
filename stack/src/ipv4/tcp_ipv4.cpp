// tcp_v4_rcv and what it reaches first (net/ipv4/tcp_ipv4.c, tcp_minisocks.c, the listener's
// half of tcp_input.c of Linux 6.1): the header checks, the socket lookup, TIME-WAIT, listeners
// and their request socks (SYN -> SYN-ACK -> the child in the accept queue), resets for segments
// without a socket, and ICMP errors.
#include <algorithm>
#include <cstring>

#include "tcp_engine.hpp"

namespace vnic::stack {

using model::egress;
using model::host_drop;
using model::HostDrop;
using model::ingress;
using wire::Ipv4Addr;
using wire::kTcpAck;
using wire::kTcpFin;
using wire::kTcpRst;
using wire::kTcpSyn;
using wire::seq_after;
using wire::seq_before;

uint32_t TcpEngine::secure_seq(Ipv4Addr s, Ipv4Addr d, uint16_t sp, uint16_t dp, Instant now) {
  // secure_tcp_seq: a keyed hash of the four-tuple plus the clock in 64 ns units
  uint64_t h = t_.isn_key_ ^ (uint64_t{s.to_u32()} << 32 | d.to_u32());
  h = (h ^ (uint64_t{sp} << 16 | dp)) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return static_cast<uint32_t>(h) + static_cast<uint32_t>(now.ps() / 1000 / 64);
}

TcpSock* TcpEngine::lookup_established(Ipv4Addr saddr, uint16_t sport, Ipv4Addr daddr, uint16_t dport) {
  const auto it = ehash_.find(FourTuple{daddr.to_u32(), saddr.to_u32(), dport, sport});
  return it == ehash_.end() ? nullptr : it->second;
}

TcpSock* TcpEngine::lookup_listener(Ipv4Addr daddr, uint16_t dport, int dif) {
  const auto it = lhash_.find(dport);
  if (it == lhash_.end()) return nullptr;
  TcpSock* best = nullptr;
  int best_score = -1;
  for (TcpSock* l : it->second) {
    // compute_score: an exact local address beats a wildcard; a device binding must match
    int score = 1;
    if (!l->rcv_saddr.is_unspecified()) {
      if (!(l->rcv_saddr == daddr)) continue;
      score += 4;
    }
    if (l->bound_dev_if != 0) {
      if (l->bound_dev_if != dif) continue;
      score += 4;
    }
    if (score > best_score) {
      best = l;
      best_score = score;
    }
  }
  return best;
}

// tcp_v4_send_reset with no socket (or for one): the reply to `in` as RFC 9293 3.10.7.1 says.
void TcpEngine::send_reset(Cpu& cpu, const SkBuff& in, const wire::TcpRepr& th, uint32_t payload_len) {
  if ((th.flags & kTcpRst) != 0) return;
  const auto nb = in.network_bytes();
  if (nb.size() < 20) return;
  const Ipv4Addr saddr = wire::load_ipv4(nb, 12), daddr = wire::load_ipv4(nb, 16);
  uint32_t seq = 0, ack = 0;
  uint8_t flags = kTcpRst;
  if ((th.flags & kTcpAck) != 0) {
    seq = th.ack;
  } else {
    flags |= kTcpAck;
    ack = th.seq + ((th.flags & kTcpSyn) != 0 ? 1u : 0u) + ((th.flags & kTcpFin) != 0 ? 1u : 0u) + payload_len;
  }
  ++mib_.OutRsts;
  send_ack_stateless(cpu, daddr, saddr, th.dst_port, th.src_port, seq, ack, 0, wire::TcpOptions{}, flags);
}

// ip_send_unicast_reply from the per-CPU control socket: a segment with no socket behind it
// (a reset, TIME-WAIT's ACK, a request sock's ACK).
void TcpEngine::send_ack_stateless(Cpu& cpu, Ipv4Addr saddr, Ipv4Addr daddr, uint16_t sport, uint16_t dport,
                                   uint32_t seq, uint32_t ack, uint16_t win, const wire::TcpOptions& opt,
                                   uint8_t flags) {
  wire::TcpRepr r;
  r.src_port = sport;
  r.dst_port = dport;
  r.seq = seq;
  r.ack = ack;
  r.flags = flags;
  r.window = win;
  r.options = opt;
  const uint32_t len = static_cast<uint32_t>(r.header_len());
  SkBuff* skb = net_.alloc_skb(cpu, len);
  if (skb == nullptr) {
    ++stats_.pool_empty;
    return;
  }
  r.emit(skb->bytes(), saddr, daddr);
  skb_reset_transport_header(*skb);
  trace(cpu, TraceKind::L4Header, egress(4), skb->trace_id, wire::kIpprotoTcp, uint64_t{sport} << 16 | dport);
  ++mib_.OutSegs;
  NetStack::IpSend p;
  p.saddr = saddr;
  p.daddr = daddr;
  p.protocol = wire::kIpprotoTcp;
  p.df = true;
  (void)net_.ip_send(cpu, skb, p);
}

// ------------------------------------------------------------------------------ tcp_v4_rcv

void TcpEngine::end_packet(Cpu& cpu, SkBuff* skb, bool queued) {
  if (!queued) net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
}

void TcpEngine::rcv_one(SkBuff* skb) {
  Cpu& cpu = net_.cpu(0);
  cpu.charge(cpu.costs().udp_rcv);
  if (skb->pkt_type != PktType::Host) {
    net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(19), host_drop(HostDrop::TcpBadSegment));
    ++stats_.bad_segment;
    return;
  }
  ++mib_.InSegs;
  const auto nb = skb->network_bytes();
  const Ipv4Addr saddr = nb.size() >= 20 ? wire::load_ipv4(nb, 12) : Ipv4Addr{};
  const Ipv4Addr daddr = nb.size() >= 20 ? wire::load_ipv4(nb, 16) : Ipv4Addr{};
  skb_reset_transport_header(*skb);
  const bool verify = skb->ip_summed != IpSummed::Unnecessary;
  const auto parsed =
      wire::TcpRepr::parse(skb->bytes(), saddr, daddr, verify ? wire::ChecksumCheck::Verify : wire::ChecksumCheck::Skip);
  if (!parsed) {
    switch (parsed.error()) {
      case wire::TcpError::BadChecksum:
        ++mib_.InCsumErrors;
        ++mib_.InErrs;
        net_.drop(cpu, skb, SkbDropReason::TcpCsum, ingress(19), host_drop(HostDrop::TcpInErrs));
        return;
      case wire::TcpError::BadDataOffset:
        ++mib_.InErrs;
        net_.drop(cpu, skb, SkbDropReason::PktTooSmall, ingress(19), host_drop(HostDrop::TcpInErrs));
        return;
      default:  // discard_it: too short for its header; no counter in Linux, InErrs here
        ++mib_.InErrs;
        net_.drop(cpu, skb, SkbDropReason::PktTooSmall, ingress(19), host_drop(HostDrop::TcpInErrs));
        return;
    }
  }
  skb->ip_summed = IpSummed::Unnecessary;
  const wire::TcpRepr th = *parsed;
  // skb->data to the payload (the TCP header stays at the transport header)
  skb_pull(*skb, static_cast<uint32_t>(th.header_len()));
  if (skb->len > th.payload_len) skb_trim(*skb, th.payload_len);
  const uint32_t plen = th.payload_len;

  TcpSock* sk = lookup_established(saddr, th.src_port, daddr, th.dst_port);
  if (sk == nullptr) sk = lookup_listener(daddr, th.dst_port, skb->dev != nullptr ? net_.ifindex_of(*skb->dev) : 0);
  if (sk == nullptr) {
    // no_tcp_socket: a reset goes back
    trace(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, wire::kIpprotoTcp, 0);
    ++stats_.no_socket;
    send_reset(cpu, *skb, th, plen);
    net_.drop(cpu, skb, SkbDropReason::NoSocket, ingress(20), host_drop(HostDrop::TcpNoSocket));
    return;
  }
  trace(cpu, TraceKind::SockLookup, ingress(20), skb->trace_id, wire::kIpprotoTcp, th.dst_port);
  // tcp_segs_in: a GRO skb counts its segments
  const uint32_t segs = std::max<uint32_t>(1, skb->gso_segs);
  sk->segs_in += segs;
  if (plen > 0) sk->data_segs_in += segs;
  if (sk->tw) {
    trace(cpu, TraceKind::TcpInput, ingress(21), skb->trace_id, static_cast<uint32_t>(sk->tstate), th.seq);
    if (sk->tstate == TcpState::FinWait2) return timewait_fin_wait2(cpu, *sk, skb, th);
    return timewait_rcv(cpu, *sk, skb, th);
  }
  trace(cpu, TraceKind::TcpInput, ingress(21), skb->trace_id, static_cast<uint32_t>(sk->tstate), th.seq);
  if (sk->tstate == TcpState::SynRecv && sk->parent != nullptr) {
    // tcp_check_req on a request sock
    TcpSock& req = *sk;
    TcpSock& lsk = *req.parent;
    mstamp_refresh(cpu, req);
    const uint8_t flg = th.flags & (kTcpRst | kTcpSyn | kTcpAck);
    const uint32_t seg_end = th.seq + plen + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
    if (th.seq == req.irs && flg == kTcpSyn) {
      // a retransmitted SYN: the SYN-ACK again (inet_rtx_syn_ack), rate-limited
      if (!oow_rate_limited(req, th.seq, seg_end, true, LinuxMib::TCPACKSkippedSynRecv, req.last_oow_ack_time) &&
          transmit_synack(cpu, req) == 0) {
        ++mib_.RetransSegs;
        ++ext_[LinuxMib::TCPSynRetrans];
        ++req.total_retrans;
      }
      end_packet(cpu, skb, false);
      return;
    }
    if ((flg & kTcpAck) != 0 && th.ack != req.isn + 1) {  // a bad ACK: the listener resets it
      send_reset(cpu, *skb, th, plen);
      ++stats_.bad_segment;
      net_.drop(cpu, skb, SkbDropReason::TcpFlags, ingress(21), host_drop(HostDrop::TcpBadSegment));
      return;
    }
    const uint32_t end_seq = th.seq + plen + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
    const bool in_window = !(seq_before(end_seq, req.rcv_nxt)) && !seq_after(th.seq, req.rcv_nxt + req.rcv_wnd);
    if (!in_window && !(end_seq == th.seq && th.seq == req.rcv_nxt)) {
      if ((flg & kTcpRst) == 0 &&
          !oow_rate_limited(req, th.seq, end_seq, (th.flags & kTcpSyn) != 0, LinuxMib::TCPACKSkippedSynRecv,
                            req.last_oow_ack_time))
        send_ack_stateless(cpu, req.rcv_saddr, req.daddr, req.num, req.dport, req.isn + 1,
                                                   req.rcv_nxt, static_cast<uint16_t>(std::min<uint32_t>(req.rcv_wnd, 65535)),
                                                   wire::TcpOptions{}, kTcpAck);
      ++stats_.out_of_window;
      net_.drop(cpu, skb, SkbDropReason::TcpInvalidSequence, ingress(21), host_drop(HostDrop::TcpOutOfWindow));
      return;
    }
    uint8_t f = flg;
    if (th.seq == req.irs) f &= static_cast<uint8_t>(~kTcpSyn);
    if ((f & (kTcpRst | kTcpSyn)) != 0) {  // embryonic_reset
      ++mib_.AttemptFails;
      if ((f & kTcpRst) == 0) send_reset(cpu, *skb, th, plen);
      ++ext_[LinuxMib::EmbryonicRsts];
      ++stats_.bad_segment;
      net_.drop(cpu, skb, SkbDropReason::TcpReset, ingress(21), host_drop(HostDrop::TcpBadSegment));
      destroy(&req);
      return;
    }
    if ((f & kTcpAck) == 0) {
      ++stats_.bad_segment;
      net_.drop(cpu, skb, SkbDropReason::TcpFlags, ingress(21), host_drop(HostDrop::TcpBadSegment));
      return;
    }
    // syn_recv_sock: the child, unless the accept queue is full
    if (lsk.accept_queue.size() > static_cast<std::size_t>(lsk.backlog)) {
      ++ext_[LinuxMib::ListenOverflows];
      ++ext_[LinuxMib::ListenDrops];
      net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(21), host_drop(HostDrop::TcpListenDrop));
      return;  // the request stays; its SYN-ACK timer retries (tcp_abort_on_overflow 0)
    }
    ++mib_.PassiveOpens;
    clear_keepalive_timer(req);
    if (lsk.syn_recv_count > 0) --lsk.syn_recv_count;
    req.in_accept_queue = true;
    lsk.accept_queue.push_back(&req);
    req.rto_jiffies = kTcpTimeoutInit;
    req.retransmits = 0;
    req.rtx.clear();
    req.packets_out = 0;
    req.snd_una = req.isn + 1;  // the child starts past its SYN-ACK (tcp_create_openreq_child)
    rcv_state_process(cpu, req, skb, th);
    if (req.tstate != TcpState::SynRecv) lsk.data_ready(cpu);
    return;
  }
  if (sk->tstate == TcpState::Established) return rcv_established(cpu, *sk, skb, th);
  rcv_state_process(cpu, *sk, skb, th);
}

// ------------------------------------------------------------------------------ listeners

void TcpEngine::conn_request(Cpu& cpu, TcpSock& lsk, SkBuff* skb, const wire::TcpRepr& th) {
  // tcp_conn_request
  if (lsk.syn_recv_count >= static_cast<uint32_t>(std::max(lsk.backlog, 1)) ||
      lsk.accept_queue.size() > static_cast<std::size_t>(lsk.backlog)) {
    // the SYN queue full (Linux would answer with a syncookie: not modelled) or the accept queue full
    if (lsk.accept_queue.size() > static_cast<std::size_t>(lsk.backlog)) ++ext_[LinuxMib::ListenOverflows];
    ++ext_[LinuxMib::ListenDrops];
    net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(21), host_drop(HostDrop::TcpListenDrop));
    return;
  }
  const auto nb = skb->network_bytes();
  const Ipv4Addr saddr = wire::load_ipv4(nb, 12), daddr = wire::load_ipv4(nb, 16);
  TcpSock& req = *new_sock();
  req.parent = &lsk;
  ++lsk.syn_recv_count;
  req.rcvbuf = lsk.rcvbuf;
  req.sndbuf = lsk.sndbuf;
  req.rcvbuf_locked = lsk.rcvbuf_locked;
  req.sndbuf_locked = lsk.sndbuf_locked;
  req.nonagle = lsk.nonagle;
  req.keepalive = lsk.keepalive;
  req.keepalive_time_s = lsk.keepalive_time_s;
  req.keepalive_intvl_s = lsk.keepalive_intvl_s;
  req.keepalive_probes = lsk.keepalive_probes;
  req.user_mss = lsk.user_mss;
  req.ca = tcp_ca_create(lsk.ca ? lsk.ca->name() : sys_.tcp_congestion_control);
  req.num = lsk.num;
  req.rcv_saddr = daddr;
  req.saddr = daddr;
  req.daddr = saddr;
  req.dport = th.src_port;
  req.tos = lsk.tos;
  req.ttl = lsk.ttl;
  ecn_create_request(req, *skb, th);
  bhash_[req.num].push_back(&req);
  // tcp_openreq_init with the SYN's options (tcp_parse_options, estab = 0)
  const wire::TcpOptions& o = th.options;
  req.mss_clamp = kTcpMssDefault;
  if (o.mss != 0) req.mss_clamp = req.user_mss != 0 && req.user_mss < o.mss ? req.user_mss : o.mss;
  req.wscale_ok = sys_.tcp_window_scaling && o.has_wscale;
  req.snd_wscale = req.wscale_ok ? std::min<uint8_t>(o.wscale, wire::kTcpMaxWscale) : 0;
  req.sack_ok = sys_.tcp_sack && o.sack_permitted;
  req.tstamp_ok = sys_.tcp_timestamps && o.has_timestamp;
  req.ts_recent = req.tstamp_ok ? o.tsval : 0;
  req.irs = th.seq;
  req.rcv_nxt = th.seq + 1;
  req.isn = secure_seq(daddr, saddr, req.num, req.dport, cpu.now());
  req.tsoffset = static_cast<uint32_t>(t_.isn_key_ >> 7) ^ (req.isn * 2246822519u);
  req.inet_id = static_cast<uint16_t>(t_.rng_.u32());
  req.snd_wnd = th.window;  // unscaled in a SYN
  // tcp_openreq_init_rwin
  const uint32_t mtu = route_mtu(req.daddr, 0);
  req.advmss = static_cast<uint16_t>(mtu - 40);
  if (req.user_mss != 0 && req.user_mss < req.advmss) req.advmss = req.user_mss;
  select_initial_window(req, req.advmss - (req.tstamp_ok ? 12u : 0u), req.wscale_ok);
  // tcp_create_openreq_child's sequence space and MSS (the child is this socket here)
  req.rcv_wup = req.rcv_nxt;
  req.copied_seq = req.rcv_nxt;
  req.snd_wl1 = req.irs;
  req.write_seq = req.isn + 1;
  req.pushed_seq = req.snd_sml = req.snd_up = req.isn + 1;
  req.sbuf_seq = req.isn + 1;
  req.tcp_header_len = req.tstamp_ok ? 32u : 20u;
  req.max_window = 0;
  sync_mss(req, mtu);
  req.ack_rcv_mss = std::clamp<uint32_t>(std::min<uint32_t>(req.advmss, req.mss_cache), 88, kTcpMssDefault);
  set_state(req, TcpState::SynRecv);
  ehash_add(req);
  mstamp_refresh(cpu, req);
  net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
  if (transmit_synack(cpu, req) != 0) {
    // the SYN-ACK could not be sent: its timer will try again
  }
  reset_keepalive_timer(req, kTcpTimeoutInit);
}

int TcpEngine::transmit_synack(Cpu& cpu, TcpSock& req) {
  TcpSeg seg;
  seg.seq = req.isn;
  seg.end_seq = req.isn + 1;
  seg.flags = kTcpSyn | kTcpAck;
  seg.id = net_.next_packet_id();
  trace(cpu, TraceKind::PacketMade, egress(2), seg.id, 0);
  // tcp_make_synack counts OutSegs for every SYN-ACK, the first and each retransmission
  req.snd_nxt = req.isn;
  req.snd_una = req.isn;
  req.first_tx_mstamp = req.tcp_mstamp;  // snt_synack
  const int err = transmit(cpu, req, seg, false, req.rcv_nxt);
  req.snd_nxt = req.isn + 1;
  return err;
}

// tcp_timewait_state_process for TIME-WAIT (an orphan's FIN-WAIT-2 stays a full socket here).
void TcpEngine::timewait_rcv(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th) {
  const uint32_t end_seq = th.seq + skb->len + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
  bool paws_reject = false;
  if (sk.tstate == TcpState::TimeWait && th.options.has_timestamp && sk.ts_recent != 0 &&
      static_cast<int32_t>(sk.ts_recent - th.options.tsval) > 1) {
    paws_reject = true;
  }
  if (!paws_reject && th.seq == sk.rcv_nxt && (th.seq == end_seq || (th.flags & kTcpRst) != 0)) {
    if ((th.flags & kTcpRst) != 0) {
      // RFC 1337 off (tcp_rfc1337 0): a RST kills the TIME-WAIT socket
      net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
      destroy(&sk);
      return;
    }
    reset_keepalive_timer(sk, 60 * kHz);
    net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
    return;
  }
  if ((th.flags & (kTcpSyn | kTcpRst | kTcpAck)) == kTcpSyn && !paws_reject &&
      (seq_after(th.seq, sk.rcv_nxt) ||
       (th.options.has_timestamp && static_cast<int32_t>(sk.ts_recent - th.options.tsval) < 0))) {
    // TCP_TW_SYN: a new connection reuses the four-tuple; the TIME-WAIT socket goes
    const int dif = skb->dev != nullptr ? net_.ifindex_of(*skb->dev) : 0;
    TcpSock* l = lookup_listener(sk.rcv_saddr, sk.num, dif);
    destroy(&sk);
    if (l != nullptr) {
      conn_request(cpu, *l, skb, th);
      return;
    }
    ++stats_.no_socket;
    send_reset(cpu, *skb, th, skb->len);
    net_.drop(cpu, skb, SkbDropReason::NoSocket, ingress(20), host_drop(HostDrop::TcpNoSocket));
    return;
  }
  if (paws_reject) ++ext_[LinuxMib::PAWSEstab];
  if ((th.flags & kTcpRst) == 0) {
    if (paws_reject || (th.flags & kTcpAck) != 0) reset_keepalive_timer(sk, 60 * kHz);
    // TCP_TW_ACK: tcp_v4_timewait_ack
    wire::TcpOptions o;
    if (sk.tstamp_ok) {
      o.has_timestamp = true;
      mstamp_refresh(cpu, sk);
      o.tsval = tsval(sk);
      o.tsecr = sk.ts_recent;
    }
    mstamp_refresh(cpu, sk);
    if (!oow_rate_limited(sk, th.seq, end_seq, (th.flags & kTcpSyn) != 0, LinuxMib::TCPACKSkippedTimeWait,
                          sk.last_oow_ack_time)) {
      send_ack_stateless(cpu, sk.rcv_saddr, sk.daddr, sk.num, sk.dport, sk.snd_nxt, sk.rcv_nxt,
                         static_cast<uint16_t>(std::min<uint32_t>(sk.rcv_wnd >> sk.rcv_wscale, 65535)), o, kTcpAck);
    }
  }
  if (skb->len > 0 && (th.flags & kTcpRst) == 0) {
    // data for a connection in TIME-WAIT: answered with an ACK, then discarded (no Linux counter)
    ++stats_.closed;
    net_.drop(cpu, skb, SkbDropReason::NotSpecified, ingress(21), host_drop(HostDrop::TcpClosedData));
  } else {
    net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
  }
}

// ------------------------------------------------------------------------------ ICMP errors

bool Tcp::tcp_v4_err(SkBuff* skb, uint32_t info) {
  (void)info;
  // skb->data at the quoted IP header: tcp_v4_err finds the socket and reports hard errors; it
  // never keeps the skb (false: icmp_rcv consumes it, as 6.1's icmp_unreach returns true)
  const auto q = skb->bytes();
  if (q.size() < 28) return false;
  const std::size_t ihl = static_cast<std::size_t>(q[0] & 0x0F) * 4;
  if (q.size() < ihl + 8) return false;
  const Ipv4Addr q_saddr = wire::load_ipv4(q, 12), q_daddr = wire::load_ipv4(q, 16);
  const uint16_t q_sport = wire::load_be16(q, ihl), q_dport = wire::load_be16(q, ihl + 2);
  const uint32_t q_seq = wire::load_be32(q, ihl + 4);
  TcpSock* sk = e_->lookup_established(q_daddr, q_dport, q_saddr, q_sport);
  if (sk == nullptr) {
    ++icmp_.mib().InErrors;
    return false;
  }
  if (sk->tstate == TcpState::TimeWait) return false;
  if (sk->tstate != TcpState::Listen && (seq_before(q_seq, sk->snd_una) || seq_after(q_seq, sk->snd_nxt))) {
    ++ext_[LinuxMib::OutOfWindowIcmps];
    return false;
  }
  const uint8_t* ih = skb_transport_header(*skb);
  const uint8_t type = ih[0], code = ih[1];
  if (type != static_cast<uint8_t>(wire::IcmpType::DestUnreachable)) return false;
  if (code == 4) return false;  // fragmentation needed: path MTU discovery is not modelled
  if (code > 15) return false;
  const int err = icmp_err_convert(code).err;
  Cpu& cpu = net_.cpu(0);
  // RFC 6069: a net or host unreachable may revert a step of the RTO backoff (tcp_ld_RTO_revert)
  if (code == 0 || code == 1) e_->ld_rto_revert(cpu, *sk, q_seq);
  if (sk->tstate == TcpState::SynSent || sk->tstate == TcpState::SynRecv) {
    sk->err = err;
    sk->error_report(cpu);
    e_->tcp_done(cpu, *sk);
    e_->reap();
    return false;
  }
  // an established socket (IP_RECVERR off, the default) keeps it as sk_err_soft: the errno a
  // timeout reports instead of ETIMEDOUT (tcp_write_err), cleared by the next ACK
  sk->err_soft = err;
  return false;
}

}  // namespace vnic::stack

// TCP's send side (net/ipv4/tcp_output.c of Linux 6.1): the MSS, tcp_connect, tcp_write_xmit with
// its cwnd, receive-window and Nagle tests, tcp_transmit_skb (header, options, the window from
// free space), ACKs (immediate and delayed), resets, retransmission, the tail loss probe and the
// zero-window probe.
#include <algorithm>
#include <cstring>

#include "tcp_engine.hpp"

namespace vnic::stack {

using model::egress;
using wire::kTcpAck;
using wire::kTcpFin;
using wire::kTcpPsh;
using wire::kTcpRst;
using wire::kTcpSyn;
using wire::seq_after;
using wire::seq_before;

void TcpEngine::mstamp_refresh(Cpu& cpu, TcpSock& sk) {
  sk.now = cpu.now();
  // tcp_clock_us: microseconds since "boot", which the model puts 100 s before the simulation's
  // time 0, so no stamp (nor its milliseconds, tcp_time_stamp) reads as "none" (0), as on a host
  // that has been up a while
  sk.tcp_mstamp = static_cast<uint64_t>(sk.now.ps() / 1000000) + kTcpClockOriginUs;
  sk.tcp_jiffies32 = static_cast<uint32_t>(jiffies(sk.now));
}

// ------------------------------------------------------------------------------ MSS

namespace {
// The options a segment of an established connection carries (tcp_established_options' size).
uint32_t established_options_size(const TcpSock& sk) {
  uint32_t size = sk.tstamp_ok ? 12u : 0u;
  const uint32_t eff = static_cast<uint32_t>(sk.selective_acks.size()) + (sk.dsack ? 1u : 0u);
  if (eff > 0) {
    const uint32_t remaining = 40 - size;
    if (remaining >= 12) {
      const uint32_t n = std::min(eff, (remaining - 4) / 8);
      size += 4 + n * 8;
    }
  }
  return size;
}
}  // namespace

uint32_t TcpEngine::current_mss(TcpSock& sk) {
  uint32_t mss_now = sk.mss_cache;
  const uint32_t header_len = established_options_size(sk) + 20;
  if (header_len != sk.tcp_header_len) mss_now -= header_len - sk.tcp_header_len;
  return mss_now;
}

uint32_t TcpEngine::sync_mss(TcpSock& sk, uint32_t pmtu) {
  // tcp_mtu_to_mss, then tcp_bound_to_half_wnd
  int64_t mss_now = static_cast<int64_t>(pmtu) - 20 - 20;
  if (mss_now > sk.mss_clamp) mss_now = sk.mss_clamp;
  if (mss_now < 48) mss_now = 48;
  mss_now -= static_cast<int64_t>(sk.tcp_header_len) - 20;
  const uint32_t cutoff = sk.max_window > kTcpMssDefault ? sk.max_window >> 1 : sk.max_window;
  if (cutoff != 0 && mss_now > cutoff) mss_now = std::max<int64_t>(cutoff, 68 - static_cast<int64_t>(sk.tcp_header_len));
  sk.pmtu_cookie = pmtu;
  sk.mss_cache = static_cast<uint32_t>(mss_now);
  return sk.mss_cache;
}

uint32_t TcpEngine::mss_to_mtu(const TcpSock& sk, uint32_t mss) const { return mss + sk.tcp_header_len + 20; }

// ------------------------------------------------------------------------------ connect

uint32_t TcpEngine::route_mtu(wire::Ipv4Addr daddr, int oif) const {
  const NetStack::RouteOut rt = net_.route_output(daddr, oif);
  const NetDevice* dev = net_.dev_by_index(rt.oif);
  return dev != nullptr ? dev->mtu : 1500;
}

void TcpEngine::select_initial_window(TcpSock& sk, uint32_t mss, bool wscale_ok) {
  // tcp_select_initial_window over tcp_full_space (the SYN's or the SYN-ACK's window, our scale,
  // the clamp), with SO_RCVBUF's limit on the clamp first (tcp_connect_init /
  // tcp_openreq_init_rwin)
  const uint32_t full = full_space(sk);
  if (sk.rcvbuf_locked && (sk.window_clamp > full || sk.window_clamp == 0)) sk.window_clamp = full;
  const uint32_t clamp = sk.window_clamp != 0 ? sk.window_clamp : 65535u << wire::kTcpMaxWscale;
  uint32_t space = std::min(clamp, full);
  if (space > mss) space = space / mss * mss;
  sk.rcv_wnd = std::min<uint32_t>(space, 65535);
  sk.rcv_wscale = 0;
  if (wscale_ok) {
    uint32_t sp = std::max(space, sys_.tcp_rmem[2]);
    sp = std::max(sp, net_.config().core.rmem_max);
    sp = std::min(sp, clamp);
    const int ilog = 31 - __builtin_clz(std::max(sp, 1u));
    sk.rcv_wscale = static_cast<uint8_t>(std::clamp(ilog - 15, 0, 14));
  }
  sk.window_clamp = std::min<uint32_t>(65535u << sk.rcv_wscale, clamp);
  sk.rcv_ssthresh = sk.rcv_wnd;
}

void TcpEngine::connect_init(TcpSock& sk) {
  sk.tcp_header_len = 20 + (sys_.tcp_timestamps ? 12u : 0u);
  sk.mss_clamp = sk.user_mss != 0 ? sk.user_mss : kTcpMssDefault;
  sk.max_window = 0;
  const uint32_t mtu = route_mtu(sk.daddr, sk.bound_dev_if);
  sync_mss(sk, mtu);
  sk.advmss = static_cast<uint16_t>(mtu - 40);
  if (sk.user_mss != 0 && sk.user_mss < sk.advmss) sk.advmss = sk.user_mss;
  sk.ack_rcv_mss = std::clamp<uint32_t>(std::min<uint32_t>(sk.advmss, sk.mss_cache), 88, kTcpMssDefault);
  select_initial_window(sk, sk.advmss, sys_.tcp_window_scaling);
  sk.err = 0;
  sk.fin_rcvd = false;
  sk.snd_wnd = 0;
  sk.snd_wl1 = 0;
  sk.snd_una = sk.write_seq;
  sk.snd_sml = sk.write_seq;
  sk.snd_up = sk.write_seq;
  sk.snd_nxt = sk.write_seq;
  sk.sbuf_seq = sk.write_seq + 1;
  sk.rcv_nxt = 0;
  sk.rcv_wup = 0;
  sk.copied_seq = 0;
  sk.rto_jiffies = kTcpTimeoutInit;
  sk.retransmits = 0;
}

int TcpEngine::tcp_connect(Cpu& cpu, TcpSock& sk) {
  mstamp_refresh(cpu, sk);
  connect_init(sk);
  TcpSeg seg;
  seg.seq = sk.write_seq;
  seg.end_seq = sk.write_seq + 1;
  seg.flags = kTcpSyn;
  seg.truesize = alloc_skb_truesize(kMaxTcpHeader);
  seg.id = net_.next_packet_id();
  trace(cpu, TraceKind::PacketMade, egress(2), seg.id, 0);
  ++sk.write_seq;
  sk.retrans_stamp = time_stamp_ms(sk);
  sk.wmem_queued += seg.truesize;
  sk.rtx.push_back(seg);
  rate_skb_sent(sk, sk.rtx.back());
  sk.packets_out += 1;
  const int err = transmit(cpu, sk, sk.rtx.back(), false, sk.rcv_nxt);
  if (err == -kECONNREFUSED) return err;
  sk.snd_nxt = sk.write_seq;
  sk.pushed_seq = sk.write_seq;
  ++mib_.ActiveOpens;
  reset_xmit_timer(sk, kTimeRetrans, sk.rto_jiffies, kTcpRtoMax);
  return 0;
}

// ------------------------------------------------------------------------------ the window

uint32_t TcpEngine::select_window_raw(TcpSock& sk) {
  // __tcp_select_window
  int64_t mss = sk.ack_rcv_mss;
  int64_t free_space = tcp_space(sk);
  const int64_t allowed_space = full_space(sk);
  const int64_t full = std::min<int64_t>(sk.window_clamp, allowed_space);
  if (mss > full) {
    mss = full;
    if (mss <= 0) return 0;
  }
  if (free_space < (full >> 1)) {
    sk.ack_quick = 0;
    free_space = free_space >> sk.rcv_wscale << sk.rcv_wscale;
    if (free_space < (allowed_space >> 4) || free_space < mss) return 0;
  }
  if (free_space > sk.rcv_ssthresh) free_space = sk.rcv_ssthresh;
  int64_t window = sk.rcv_wnd;
  if (sk.rcv_wscale != 0) {
    window = free_space;
    if (((window >> sk.rcv_wscale) << sk.rcv_wscale) != window) window = ((window >> sk.rcv_wscale) + 1) << sk.rcv_wscale;
  } else {
    if (window <= free_space - mss || window > free_space) {
      window = free_space / mss * mss;
    } else if (mss == full && free_space > window + (full >> 1)) {
      window = free_space;
    }
  }
  return static_cast<uint32_t>(std::max<int64_t>(window, 0));
}

uint16_t TcpEngine::select_window(TcpSock& sk) {
  const uint32_t old_win = sk.rcv_wnd;
  const uint32_t cur_win = receive_window(sk);
  uint32_t new_win = select_window_raw(sk);
  if (new_win < cur_win) {
    if (new_win == 0) ++ext_[LinuxMib::TCPWantZeroWindowAdv];
    const uint32_t a = 1u << sk.rcv_wscale;
    new_win = (cur_win + a - 1) & ~(a - 1);
  }
  sk.rcv_wnd = new_win;
  sk.rcv_wup = sk.rcv_nxt;
  new_win = std::min<uint32_t>(new_win, 65535u << sk.rcv_wscale);
  new_win >>= sk.rcv_wscale;
  if (new_win == 0) {
    sk.fast_path = false;
    if (old_win != 0) ++ext_[LinuxMib::TCPToZeroWindowAdv];
  } else if (old_win == 0) {
    ++ext_[LinuxMib::TCPFromZeroWindowAdv];
  }
  return static_cast<uint16_t>(new_win);
}

// ------------------------------------------------------------------------------ tcp_transmit_skb

int TcpEngine::transmit(Cpu& cpu, TcpSock& sk, const TcpSeg& seg, bool retrans, uint32_t rcv_nxt,
                        std::span<const uint64_t> more_ids, uint32_t gso_size) {
  const uint32_t segs = 1 + static_cast<uint32_t>(more_ids.size());
  const bool pure = seg.len == 0 && (seg.flags & (kTcpSyn | kTcpFin | kTcpRst)) == 0 && seg.id == 0;
  wire::TcpRepr r;
  r.src_port = sk.num;
  r.dst_port = sk.dport;
  r.seq = seg.seq;
  r.ack = rcv_nxt;
  r.flags = seg.flags;
  wire::TcpOptions& o = r.options;
  const bool syn = (seg.flags & kTcpSyn) != 0;
  if (syn) {
    const bool synack = (seg.flags & kTcpAck) != 0;
    o.mss = sk.advmss;
    if (!synack) {
      // tcp_syn_options: from the sysctls
      if (sys_.tcp_timestamps) {
        o.has_timestamp = true;
        o.tsval = tsval(sk);
        o.tsecr = sk.ts_recent;
      }
      if (sys_.tcp_window_scaling) {
        o.has_wscale = true;
        o.wscale = sk.rcv_wscale;
      }
      o.sack_permitted = sys_.tcp_sack;
    } else {
      // tcp_synack_options: what the peer offered
      if (sk.wscale_ok) {
        o.has_wscale = true;
        o.wscale = sk.rcv_wscale;
      }
      if (sk.tstamp_ok) {
        o.has_timestamp = true;
        o.tsval = tsval(sk);
        o.tsecr = sk.ts_recent;
      }
      o.sack_permitted = sk.sack_ok;
    }
  } else {
    if (sk.tstamp_ok) {
      o.has_timestamp = true;
      o.tsval = tsval(sk);
      o.tsecr = sk.ts_recent;
    }
    // SACK blocks: the D-SACK first, then ours most recent first, as many as fit
    if (sk.sack_ok && (sk.dsack || !sk.selective_acks.empty())) {
      const std::size_t room = (40 - (sk.tstamp_ok ? 12u : 0u) - 4) / 8;
      if (sk.dsack && o.num_sack < room) o.sack[o.num_sack++] = sk.duplicate_sack;
      for (const auto& b : sk.selective_acks) {
        if (o.num_sack >= room || o.num_sack >= wire::kTcpMaxSackBlocks) break;
        o.sack[o.num_sack++] = b;
      }
      sk.dsack = false;  // tcp_options_write: a D-SACK block goes out once
    }
  }
  r.window = syn ? static_cast<uint16_t>(std::min<uint32_t>(sk.rcv_wnd, 65535)) : select_window(sk);
  r.payload_len = static_cast<uint16_t>(seg.len);
  const uint32_t hlen = static_cast<uint32_t>(r.header_len());
  cpu.charge(cpu.costs().skb_alloc);
  SkBuff* skb = net_.pool().alloc(hlen + seg.len, SkbAlloc::AllocSkb);
  if (skb == nullptr) {
    ++stats_.pool_empty;
    return -kENOMEM;  // no skb: nothing was sent
  }
  skb->tstamp = cpu.now();
  // The clone tcp_transmit_skb sends has the write-queue skb's truesize (one header's, plus the
  // data), charged to sk_wmem_alloc until it is freed after the device sent it (tcp_wfree: TCP
  // small queues); skb_set_owner_w
  skb->truesize = alloc_skb_truesize(kMaxTcpHeader) + seg.len;
  skb->sk = &sk;
  skb->destructor = &TcpEngine::tcp_wfree;
  sk.wmem_alloc += skb->truesize;
  if (segs > 1) {
    skb->gso_size = static_cast<uint16_t>(gso_size);
    skb->gso_segs = static_cast<uint16_t>(segs);
    skb->seg_ids.assign(more_ids.begin(), more_ids.end());
  }
  if (pure || seg.id == 0) {
    skb->trace_id = net_.next_packet_id();
    trace(cpu, TraceKind::PacketMade, egress(2), skb->trace_id, hlen);
  } else if (retrans) {
    skb->trace_id = net_.next_packet_id();
    trace(cpu, TraceKind::TcpRetransmit, egress(2), skb->trace_id, seg.seq, seg.id);
  } else {
    skb->trace_id = seg.id;
  }
  if (seg.len > 0) (void)sbuf_copy_out(sk, seg.seq + (syn ? 1u : 0u), skb->bytes().subspan(hlen, seg.len));
  ecn_send(sk, seg, retrans, r.flags);  // ECE/CWR, and the ECT bits of sk.tos that p.tos takes below
  r.emit(skb->bytes(), sk.saddr, sk.daddr, segs == 1);
  skb_reset_transport_header(*skb);
  trace(cpu, TraceKind::L4Header, egress(4), skb->trace_id, wire::kIpprotoTcp, uint64_t{sk.num} << 16 | sk.dport);
  if ((seg.flags & kTcpAck) != 0) {
    // tcp_event_ack_sent
    if (sk.compressed_ack != 0) {
      ext_[LinuxMib::TCPAckCompressed] += sk.compressed_ack;
      sk.compressed_ack = 0;
      if (sk.comp_timer != 0) {
        timer_cpu().cancel(sk.comp_timer - 1);
        sk.comp_timer = 0;
      }
    }
    if (rcv_nxt == sk.rcv_nxt) {
      if (sk.ack_quick != 0) {
        if (1 >= sk.ack_quick) {
          sk.ack_quick = 0;
          sk.ack_ato = kTcpAtoMin;
        } else {
          --sk.ack_quick;
        }
      }
      sk.ack_pending = 0;
      clear_dack_timer(sk);
    }
  }
  if (seg.len > 0) {
    // tcp_event_data_sent
    const uint32_t now = sk.tcp_jiffies32;
    if (sk.packets_in_flight() == 0 && sk.ca) sk.ca->cwnd_event(sk, TcpCaEvent::TxStart);
    sk.lsndtime = now;
    if (static_cast<uint32_t>(now - sk.ack_lrcvtime) < sk.ack_ato) sk.ack_pingpong = 1;
    sk.data_segs_out += segs;
    sk.bytes_sent += seg.len;
  }
  if (seq_after(seg.end_seq, sk.snd_nxt) || seg.seq == seg.end_seq) mib_.OutSegs += segs;
  sk.segs_out += segs;
  sk.wstamp_us = std::max(sk.wstamp_us, sk.tcp_mstamp);
  NetStack::IpSend p;
  p.saddr = sk.saddr;
  p.daddr = sk.daddr;
  p.protocol = wire::kIpprotoTcp;
  p.tos = sk.tos;
  p.ttl = sk.ttl;
  p.df = true;
  p.oif = sk.bound_dev_if;
  if (!(syn && (seg.flags & kTcpAck) != 0 && sk.parent != nullptr)) {  // a request sock's SYN-ACK: id 0
    p.id = sk.inet_id;
    sk.inet_id = static_cast<uint16_t>(sk.inet_id + segs);  // ip_select_ident_segs
  }
  const int err = net_.ip_send(cpu, skb, p);
  if (err == -kENOBUFS) {
    // NET_XMIT_DROP: the qdisc refused it; the sender backs off (tcp_enter_cwr)
    enter_cwr(sk);
    return 1;
  }
  return err;
}

void TcpEngine::rate_skb_sent(TcpSock& sk, TcpSeg& seg) {
  if (sk.packets_out == 0) {
    sk.first_tx_mstamp = sk.tcp_mstamp;
    sk.delivered_mstamp = sk.tcp_mstamp;
  }
  seg.first_tx_us = sk.first_tx_mstamp;
  seg.delivered_us = sk.delivered_mstamp;
  seg.tx_delivered = sk.delivered;
  seg.app_limited = sk.app_limited != 0;
  seg.mstamp_us = sk.tcp_mstamp;
}

// ------------------------------------------------------------------------------ tcp_write_xmit

void TcpEngine::event_new_data_sent(TcpSock& sk) {
  const uint32_t prior_packets = sk.packets_out;
  TcpSeg seg = sk.wqueue.front();
  sk.wqueue.pop_front();
  sk.snd_nxt = seg.end_seq;
  sk.rtx.push_back(seg);
  sk.packets_out += 1;
  if (prior_packets == 0 || sk.pending == kTimeLossProbe) rearm_rto(sk);
  ++ext_[LinuxMib::TCPOrigDataSent];
}

void TcpEngine::cwnd_validate(TcpSock& sk, bool is_cwnd_limited) {
  if (!seq_before(sk.snd_una, sk.cwnd_usage_seq) || is_cwnd_limited ||
      (!sk.is_cwnd_limited && sk.packets_out > sk.max_packets_out)) {
    sk.is_cwnd_limited = is_cwnd_limited;
    sk.max_packets_out = sk.packets_out;
    sk.cwnd_usage_seq = sk.snd_nxt;
  }
  if (tcp_is_cwnd_limited(sk)) {
    sk.snd_cwnd_used = 0;
    sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  } else {
    if (sk.packets_out > sk.snd_cwnd_used) sk.snd_cwnd_used = sk.packets_out;
    if (sys_.tcp_slow_start_after_idle && static_cast<int32_t>(sk.tcp_jiffies32 - sk.snd_cwnd_stamp) >= static_cast<int32_t>(sk.rto_jiffies)) {
      // tcp_cwnd_application_limited
      if (sk.ca_state == TcpCaState::Open && !sk.nospace) {
        const uint32_t win_used = std::max(sk.snd_cwnd_used, kTcpInitCwnd);
        if (win_used < sk.snd_cwnd) {
          sk.snd_ssthresh = current_ssthresh(sk);
          sk.snd_cwnd = (sk.snd_cwnd + win_used) >> 1;
        }
        sk.snd_cwnd_used = 0;
      }
      sk.snd_cwnd_stamp = sk.tcp_jiffies32;
    }
  }
}

// ------------------------------------------------------------------------------ GSO sizing

uint32_t TcpEngine::tso_segs(const TcpSock& sk, uint32_t mss_now) const {
  // tcp_tso_segs -> tcp_tso_autosize: about 1 ms of the pacing rate (sk_pacing_shift 10), more
  // at small RTTs (tcp_tso_rtt_log), at most sk_gso_max_size; at least tcp_min_tso_segs
  if (sk.gso_max_segs == 0 || sk.sk_gso_max_size == 0) return 1;  // before sk_setup_caps (no route yet)
  uint64_t bytes = sk.sk_pacing_rate >> 10;
  const uint32_t r = sk.rtt_min_us >> sys_.tcp_tso_rtt_log;
  if (r < 32) bytes += sk.sk_gso_max_size >> r;
  bytes = std::min<uint64_t>(bytes, sk.sk_gso_max_size);
  const uint32_t segs = std::max<uint32_t>(static_cast<uint32_t>(bytes / std::max(mss_now, 1u)), sys_.tcp_min_tso_segs);
  return std::min<uint32_t>(segs, sk.gso_max_segs);
}

uint32_t TcpEngine::xmit_size_goal(TcpSock& sk, uint32_t mss_now) {
  // tcp_xmit_size_goal: the write queue's skbs grow to gso_segs * mss (at most half the peer's
  // largest window); one MSS before sk_setup_caps (no route yet)
  if (sk.gso_max_segs == 0 || sk.sk_gso_max_size == 0) return mss_now;
  uint32_t new_goal = sk.sk_gso_max_size;
  const uint32_t cutoff = sk.max_window > kTcpMssDefault ? sk.max_window >> 1 : sk.max_window;
  if (cutoff != 0 && new_goal > cutoff) new_goal = std::max<uint32_t>(cutoff, 68u - sk.tcp_header_len);
  uint32_t goal = uint32_t{sk.gso_segs} * mss_now;
  if (new_goal < goal || new_goal >= goal + mss_now) {
    sk.gso_segs = static_cast<uint16_t>(std::min<uint32_t>(new_goal / mss_now, sk.gso_max_segs));
    goal = uint32_t{sk.gso_segs} * mss_now;
  }
  return std::max(goal, mss_now);
}

bool TcpEngine::tso_should_defer(TcpSock& sk, std::size_t skb_end, uint32_t len, uint32_t max_segs,
                                 bool* is_cwnd_limited, bool* is_rwnd_limited) const {
  // tcp_tso_should_defer: wait for more window rather than send a small GSO skb, unless in
  // recovery, idle for 1 ms, a full GSO skb or a third of the window can go, or the next ACK is
  // not due within half an RTT
  if (sk.ca_state >= TcpCaState::Recovery) return false;
  if (sk.tcp_mstamp > sk.wstamp_us + 1000) return false;
  const TcpSeg& first = sk.wqueue.front();
  const uint32_t in_flight = sk.packets_in_flight();
  const uint32_t send_win = sk.wnd_end() - first.seq;
  const uint32_t cong_win = (sk.snd_cwnd - in_flight) * sk.mss_cache;
  const uint32_t limit = std::min(send_win, cong_win);
  if (limit >= max_segs * sk.mss_cache) return false;
  if (skb_end < sk.wqueue.size() && limit >= len) return false;  // not the tail: it gets no more data
  if (sys_.tcp_tso_win_divisor != 0) {
    uint32_t chunk = std::min(sk.snd_wnd, sk.snd_cwnd * sk.mss_cache);
    chunk /= sys_.tcp_tso_win_divisor;
    if (limit >= chunk) return false;
  } else if (limit > sk.mss_cache * 3) {
    return false;
  }
  if (sk.rtx.empty()) return false;
  const uint64_t delta = sk.tcp_mstamp - sk.rtx.front().mstamp_us;
  if (static_cast<int64_t>(delta) - static_cast<int64_t>(sk.srtt_us >> 4) < 0) return false;
  if (cong_win < send_win) {
    if (cong_win <= len) {
      *is_cwnd_limited = true;
      return true;
    }
  } else if (send_win <= len) {
    *is_rwnd_limited = true;
    return true;
  }
  if ((sk.wqueue[skb_end - 1].flags & kTcpFin) != 0) return false;
  return true;
}

bool TcpEngine::small_queue_check(TcpSock& sk, uint32_t truesize, int factor) {
  // tcp_small_queue_check: at most ~1 ms of the pacing rate (and tcp_limit_output_bytes) of this
  // socket's skbs in the qdisc and the device; above it the socket waits for a TX completion
  // (TSQ_THROTTLED; tcp_wfree schedules the handler)
  uint64_t limit = std::max<uint64_t>(2ull * truesize, sk.sk_pacing_rate >> 10);
  limit = std::min<uint64_t>(limit, sys_.tcp_limit_output_bytes);  // no pacing qdisc (SK_PACING_NONE)
  limit <<= factor;
  if (sk.wmem_alloc > limit) {
    if (sk.rtx.empty()) return false;  // always send when nothing is in flight
    sk.tsq_flags |= 1;                 // TSQF_THROTTLED
    ++stats_.tsq_throttled;
    return true;
  }
  return false;
}

void TcpEngine::tcp_wfree(SkBuff* skb) {
  // tcp_wfree: the skb left the device (or was dropped): give back its charge; a throttled
  // socket is queued for the TSQ handler (a tasklet on the CPU that freed it)
  Sock* s = skb->sk;
  if (s == nullptr) return;
  s->wmem_alloc -= std::min(s->wmem_alloc, skb->truesize);
  if (s->dead) {
    if (s->wmem_alloc == 0) delete s;
    return;
  }
  auto* sk = static_cast<TcpSock*>(s);
  if ((sk->tsq_flags & 1) == 0 || (sk->tsq_flags & 2) != 0 || sk->owner == nullptr || sk->softirq_cpu == nullptr) return;
  sk->tsq_flags = static_cast<uint8_t>((sk->tsq_flags & ~1) | 2);
  Cpu& cpu = *sk->softirq_cpu;
  (void)cpu.call_at(cpu.now(), &TcpEngine::tsq_thunk, sk->owner, sk->ino);
}

void TcpEngine::tsq_thunk(void* ctx, uint64_t ino) {
  // tcp_tasklet_func -> tcp_tsq_handler
  auto* t = static_cast<Tcp*>(ctx);
  TcpEngine& e = *t->e_;
  TcpSock* sk = e.by_ino(ino);
  if (sk == nullptr) return;
  sk->tsq_flags &= static_cast<uint8_t>(~2);
  e.tsq_write(*sk->softirq_cpu, *sk);
  e.reap();
}

void TcpEngine::tsq_write(Cpu& cpu, TcpSock& sk) {
  // tcp_tsq_write
  if (sk.tstate != TcpState::Established && sk.tstate != TcpState::FinWait1 && sk.tstate != TcpState::Closing &&
      sk.tstate != TcpState::CloseWait && sk.tstate != TcpState::LastAck) {
    return;
  }
  ++stats_.tsq_handler;
  mstamp_refresh(cpu, sk);
  if (sk.lost_out > sk.retrans_out && sk.snd_cwnd > sk.packets_in_flight()) xmit_retransmit_queue(cpu, sk);
  write_xmit(cpu, sk, current_mss(sk), sk.nonagle, 0);
}

// ------------------------------------------------------------------------------ tcp_write_xmit

bool TcpEngine::write_xmit(Cpu& cpu, TcpSock& sk, uint32_t mss_now, int nonagle, int push_one) {
  uint32_t sent_pkts = 0;
  bool is_cwnd_limited = false, is_rwnd_limited = false;
  mstamp_refresh(cpu, sk);
  const uint32_t max_segs = tso_segs(sk, mss_now);
  std::vector<uint64_t>& ids = gso_ids_;
  while (!sk.wqueue.empty()) {
    // The write queue's first skb: records up to the next skb head, each at most mss_now (one
    // segment a record). Only the last record of a GSO skb may be short: a record a window limit
    // cut earlier, or a FIN, ends the group there and the rest follows as the next skb's part.
    // One pass with an iterator (indexing a deque costs a division); fragment() inserts, so the
    // iterator is taken again after it.
    std::size_t skb_end = 0;  // records of the group
    uint32_t skb_len = 0;     // their bytes
    {
      std::size_t scanned = 0;
      bool cut = false;
      for (auto it = sk.wqueue.begin(); it != sk.wqueue.end() && (scanned == 0 || !it->skb_head); ++it, ++scanned) {
        if (it->len > mss_now) {
          fragment(sk, sk.wqueue, scanned, mss_now);
          it = sk.wqueue.begin() + static_cast<std::ptrdiff_t>(scanned);
        }
        if (cut) continue;
        ++skb_end;
        skb_len += it->len;
        cut = it->len != mss_now || (it->flags & kTcpFin) != 0;
      }
    }
    const uint32_t tso = static_cast<uint32_t>(skb_end);  // tcp_init_tso_segs: its segments
    // tcp_cwnd_test: at most half the window in one go; the final FIN of one segment always
    uint32_t cwnd_quota = 0;
    {
      const TcpSeg& f = sk.wqueue.front();
      const uint32_t in_flight = sk.packets_in_flight();
      if ((f.flags & kTcpFin) != 0 && tso == 1) {
        cwnd_quota = 1;
      } else if (in_flight < sk.snd_cwnd) {
        cwnd_quota = std::min(std::max(sk.snd_cwnd >> 1, 1u), sk.snd_cwnd - in_flight);
      }
    }
    if (cwnd_quota == 0) {
      if (push_one == 2) {
        cwnd_quota = 1;  // a loss probe may go past cwnd
      } else {
        is_cwnd_limited = true;
        break;
      }
    }
    // tcp_snd_wnd_test: the first segment fits the peer's window
    {
      const TcpSeg& f = sk.wqueue.front();
      const uint32_t end = f.len > mss_now ? f.seq + mss_now : f.end_seq;
      if (seq_after(end, sk.wnd_end())) {
        is_rwnd_limited = true;
        break;
      }
    }
    if (tso == 1) {
      // tcp_nagle_test
      const TcpSeg& f = sk.wqueue.front();
      const int nl = sk.wqueue.size() == 1 ? nonagle : kNaglePush;
      if ((nl & kNaglePush) == 0 && (f.flags & kTcpFin) == 0) {
        const bool partial = f.len < mss_now;
        // tcp_minshall_check: a small segment still unacknowledged
        const bool minshall = seq_after(sk.snd_sml, sk.snd_una) && !seq_after(sk.snd_sml, sk.snd_nxt);
        if (partial && ((nl & kNagleCork) != 0 || (nl == 0 && sk.packets_out != 0 && minshall))) break;
      }
    } else if (push_one == 0 && tso_should_defer(sk, skb_end, skb_len, max_segs, &is_cwnd_limited, &is_rwnd_limited)) {
      break;
    }
    // tcp_mss_split_point: how much of the skb goes (whole segments, Nagle on the tail's partial one)
    std::size_t n = 1;
    if (tso > 1) {
      const uint32_t window = sk.wnd_end() - sk.wqueue.front().seq;
      const uint32_t max_len = mss_now * std::min(cwnd_quota, max_segs);
      uint32_t limit;
      if (max_len <= window && skb_end < sk.wqueue.size()) {
        limit = max_len;
      } else {
        const uint32_t needed = std::min(skb_len, window);
        if (max_len <= needed) {
          limit = max_len;
        } else {
          const uint32_t partial = needed % mss_now;
          const bool minshall = seq_after(sk.snd_sml, sk.snd_una) && !seq_after(sk.snd_sml, sk.snd_nxt);
          const bool nagle = partial != 0 && ((nonagle & kNagleCork) != 0 || (nonagle == 0 && sk.packets_out != 0 && minshall));
          limit = nagle ? needed - partial : needed;
        }
      }
      // records that fit in `limit` bytes; one cut by it is split (tso_fragment)
      n = 0;
      uint32_t bytes = 0;
      for (auto it = sk.wqueue.begin(); n < skb_end && bytes + it->len <= limit; ++it, ++n) bytes += it->len;
      if (n < skb_end && bytes < limit) {
        fragment(sk, sk.wqueue, n, limit - bytes);
        ++n;
      }
      if (n == 0) n = 1;
      if (n < sk.wqueue.size() && !sk.wqueue[n].skb_head) {
        // tso_fragment: the rest is an skb of its own (its header's truesize)
        TcpSeg& rest = sk.wqueue[n];
        rest.skb_head = true;
        const uint32_t hdr = alloc_skb_truesize(kMaxTcpHeader);
        rest.truesize += hdr;
        sk.wmem_queued += hdr;
      }
    }
    const auto first = sk.wqueue.begin();
    const auto past = first + static_cast<std::ptrdiff_t>(n);
    uint32_t truesize = alloc_skb_truesize(kMaxTcpHeader);
    for (auto it = first; it != past; ++it) truesize += it->len;
    if (small_queue_check(sk, truesize, 0)) break;
    for (auto it = first; it != past; ++it) rate_skb_sent(sk, *it);
    int err;
    const uint64_t pool_empty_before = stats_.pool_empty;
    if (n == 1) {
      err = transmit(cpu, sk, sk.wqueue.front(), false, sk.rcv_nxt);
    } else {
      TcpSeg g = *first;
      const TcpSeg& last = *(past - 1);
      g.end_seq = last.end_seq;
      g.len = last.end_seq - g.seq - ((last.flags & kTcpFin) != 0 ? 1u : 0u);
      ids.clear();
      for (auto it = first + 1; it != past; ++it) {
        g.flags |= it->flags;
        ids.push_back(it->id);
      }
      err = transmit(cpu, sk, g, false, sk.rcv_nxt, ids, mss_now);
    }
    if (err != 0) {
      // The skb went nowhere. One that was made and dropped on the way (by the qdisc, routing, the
      // neighbour layer) ended its segments' ids there: their next try takes fresh ones. With no
      // skb at all (the pool empty) nothing was sent and the ids stay for the next try.
      if (stats_.pool_empty != pool_empty_before) break;
      for (std::size_t i = 0; i < n; ++i) {
        TcpSeg& s = sk.wqueue[i];
        s.id = net_.next_packet_id();
        trace(cpu, TraceKind::PacketMade, egress(2), s.id, s.len);
      }
      break;
    }
    // tcp_minshall_update: the skb ends in a partial segment
    if (sk.wqueue[n - 1].len < mss_now) sk.snd_sml = sk.wqueue[n - 1].end_seq;
    for (std::size_t i = 0; i < n; ++i) event_new_data_sent(sk);
    sent_pkts += static_cast<uint32_t>(n);
    if (push_one != 0) break;
  }
  if (is_rwnd_limited) ++stats_.rwnd_limited;
  if (sent_pkts > 0 && (sk.ca_state == TcpCaState::Cwr || sk.ca_state == TcpCaState::Recovery)) sk.prr_out += sent_pkts;
  if (sent_pkts > 0 && push_one != 2) schedule_loss_probe(sk, false);
  is_cwnd_limited |= sk.packets_in_flight() >= sk.snd_cwnd;
  if (sent_pkts > 0 || is_cwnd_limited) cwnd_validate(sk, is_cwnd_limited);
  if (sent_pkts > 0) return false;
  return sk.packets_out == 0 && !sk.wqueue.empty();
}

void TcpEngine::push_pending(Cpu& cpu, TcpSock& sk, uint32_t mss_now, int nonagle) {
  if (sk.wqueue.empty()) return;
  if (sk.tstate != TcpState::Established && sk.tstate != TcpState::CloseWait && sk.tstate != TcpState::FinWait1 &&
      sk.tstate != TcpState::LastAck && sk.tstate != TcpState::Closing) {
    return;
  }
  if (write_xmit(cpu, sk, mss_now, nonagle, 0)) {
    // tcp_check_probe_timer: nothing in flight and the window shut: the persist timer
    if (sk.pending == 0) {
      const uint64_t when = std::min<uint64_t>(std::max<uint32_t>(sk.rto_jiffies, kTcpRtoMin), kTcpRtoMax);
      reset_xmit_timer(sk, kTimeProbe0, when, kTcpRtoMax);
    }
  }
}

void TcpEngine::fragment(TcpSock& sk, std::deque<TcpSeg>& q, std::size_t idx, uint32_t len) {
  // tcp_fragment: the first `len` bytes stay, the rest becomes a segment of its own. On the write
  // queue that is a new packet, made here. On the retransmit queue both parts went out in the one
  // packet that carried them first, whose journey has ended: the tail keeps that packet's id (the
  // id its retransmissions name) and no new one is made, which would never be sent or end.
  TcpSeg& s = q[idx];
  if (len == 0 || len >= s.len) return;
  const bool sent = &q == &sk.rtx;
  TcpSeg tail = s;
  tail.seq = s.seq + len;
  tail.len = s.len - len;
  if (!sent) tail.id = net_.next_packet_id();
  tail.skb_head = true;  // a new skb, with its own header
  tail.truesize = alloc_skb_truesize(kMaxTcpHeader) + tail.len;
  s.len = len;
  s.end_seq = s.seq + len;
  s.flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
  s.truesize -= std::min(s.truesize, tail.len);
  sk.wmem_queued += alloc_skb_truesize(kMaxTcpHeader);
  if (sent) {
    ++sk.packets_out;
    if ((tail.sacked & kTcpcbLost) != 0) ++sk.lost_out;
    if ((tail.sacked & kTcpcbSackedRetrans) != 0) ++sk.retrans_out;
    if ((tail.sacked & kTcpcbSackedAcked) != 0) ++sk.sacked_out;
  }
  if (!sent) net_.trace_event(timer_cpu(), TraceKind::PacketMade, egress(2), tail.id, tail.len);
  q.insert(q.begin() + static_cast<std::ptrdiff_t>(idx + 1), tail);
}

// ------------------------------------------------------------------------------ ACKs

namespace {
uint32_t acceptable_seq(const TcpSock& sk) {
  if (!seq_before(sk.wnd_end(), sk.snd_nxt) || (sk.wscale_ok && sk.snd_nxt - sk.wnd_end() < (1u << sk.rcv_wscale))) {
    return sk.snd_nxt;
  }
  return sk.wnd_end();
}
}  // namespace

void TcpEngine::send_ack(Cpu& cpu, TcpSock& sk) {
  if (sk.tstate == TcpState::Close) return;
  mstamp_refresh(cpu, sk);
  TcpSeg seg;
  seg.seq = seg.end_seq = acceptable_seq(sk);
  seg.flags = kTcpAck;
  if (transmit(cpu, sk, seg, false, sk.rcv_nxt) == -kENOMEM) {
    // no skb: try again from the delayed-ACK timer (inet_csk_reset_xmit_timer(ICSK_TIME_DACK))
    sk.ack_pending |= kAckSched | kAckTimer;
    sk.ack_ato = kTcpAtoMin;
    sk.dack_timeout_j = sk.tcp_jiffies32 + kTcpDelackMax;
    reset_dack_timer(sk, timer_wheel_expiry(sk.now, kTcpDelackMax));
  }
}

void TcpEngine::send_delayed_ack(Cpu& cpu, TcpSock& sk) {
  uint32_t ato = sk.ack_ato;
  if (ato > kTcpDelackMin) {
    uint32_t max_ato = kHz / 2;
    if (sk.ack_pingpong != 0 || (sk.ack_pending & kAckPushed) != 0) max_ato = kTcpDelackMax;
    if (sk.srtt_us != 0) {
      const uint32_t rtt = std::max<uint32_t>(static_cast<uint32_t>(usecs_to_jiffies(sk.srtt_us >> 3)), kTcpDelackMin);
      if (rtt < max_ato) max_ato = rtt;
    }
    ato = std::min(ato, max_ato);
  }
  ato = std::min(ato, kTcpDelackMax);
  mstamp_refresh(cpu, sk);
  const uint32_t now_j = sk.tcp_jiffies32;
  uint32_t timeout = now_j + ato;
  if ((sk.ack_pending & kAckTimer) != 0) {
    if (static_cast<int32_t>(sk.dack_timeout_j - (now_j + (ato >> 2))) <= 0) {
      send_ack(cpu, sk);
      return;
    }
    if (!(static_cast<int32_t>(timeout - sk.dack_timeout_j) < 0)) timeout = sk.dack_timeout_j;
  }
  sk.ack_pending |= kAckSched | kAckTimer;
  sk.dack_timeout_j = timeout;
  reset_dack_timer(sk, timer_wheel_expiry(sk.now, timeout - now_j));
}

void TcpEngine::send_active_reset(Cpu& cpu, TcpSock& sk) {
  mstamp_refresh(cpu, sk);
  TcpSeg seg;
  seg.seq = seg.end_seq = acceptable_seq(sk);
  seg.flags = kTcpAck | kTcpRst;
  if (transmit(cpu, sk, seg, false, sk.rcv_nxt) != 0) ++ext_[LinuxMib::TCPAbortFailed];
  ++mib_.OutRsts;
}

// ------------------------------------------------------------------------------ retransmission

int TcpEngine::retransmit_skb(Cpu& cpu, TcpSock& sk, std::size_t idx, int segs, bool probe) {
  (void)segs;
  int err = 0;
  {
    TcpSeg& s = sk.rtx[idx];
    if (seq_before(s.seq, sk.snd_una)) {
      // tcp_trim_head: the acked head of a partly acked segment goes
      if (seq_before(s.end_seq, sk.snd_una)) return -kEINVAL;
      const uint32_t cut = sk.snd_una - s.seq;
      if (cut < s.len) {
        s.seq += cut;
        s.len -= cut;
      }
    }
    const uint32_t cur_mss = current_mss(sk);
    int64_t avail_wnd = static_cast<int32_t>(sk.wnd_end() - s.seq);
    if (avail_wnd <= 0) {
      if (s.seq != sk.snd_una) return -kEAGAIN;
      avail_wnd = cur_mss;
    }
    uint32_t len = cur_mss;
    if (len > avail_wnd) {
      len = static_cast<uint32_t>(avail_wnd) / cur_mss * cur_mss;
      if (len == 0) len = static_cast<uint32_t>(avail_wnd);
    }
    if (s.len > len) fragment(sk, sk.rtx, idx, len);
  }
  TcpSeg& s = sk.rtx[idx];
  ++mib_.RetransSegs;
  if ((s.flags & kTcpSyn) != 0) ++ext_[LinuxMib::TCPSynRetrans];
  ++sk.total_retrans;
  sk.bytes_retrans += s.len;
  mstamp_refresh(cpu, sk);
  const bool synack_of_req = (s.flags & kTcpSyn) != 0 && sk.tstate == TcpState::SynRecv;
  err = transmit(cpu, sk, s, true, synack_of_req ? sk.rcv_nxt : sk.rcv_nxt);
  s.sacked |= kTcpcbEverRetrans;
  if (err == 0) {
    s.mstamp_us = sk.tcp_mstamp;  // tcp_update_skb_after_send
  } else if (err != -16) {
    ++ext_[LinuxMib::TCPRetransFail];
  }
  if (probe) return err;
  if (err == 0) {
    s.sacked |= kTcpcbRetrans;
    ++sk.retrans_out;
  }
  if (sk.retrans_stamp == 0) sk.retrans_stamp = static_cast<uint32_t>(s.mstamp_us / 1000);
  if (sk.undo_retrans < 0) sk.undo_retrans = 0;
  ++sk.undo_retrans;
  return err;
}

void TcpEngine::xmit_retransmit_queue(Cpu& cpu, TcpSock& sk) {
  if (sk.packets_out == 0) return;
  bool rearm_timer = false;
  bool hole = false;
  for (std::size_t i = 0; i < sk.rtx.size(); ++i) {
    const int segs = static_cast<int>(sk.snd_cwnd) - static_cast<int>(sk.packets_in_flight());
    if (segs <= 0) break;
    const uint8_t sacked = sk.rtx[i].sacked;
    LinuxMib mib_idx;
    if (sk.retrans_out >= sk.lost_out) {
      break;
    } else if ((sacked & kTcpcbLost) == 0) {
      if (!hole && (sacked & (kTcpcbSackedRetrans | kTcpcbSackedAcked)) == 0) hole = true;
      continue;
    } else {
      mib_idx = sk.ca_state != TcpCaState::Loss ? LinuxMib::TCPFastRetrans : LinuxMib::TCPSlowStartRetrans;
    }
    if ((sacked & (kTcpcbSackedAcked | kTcpcbSackedRetrans)) != 0) continue;
    if (retransmit_skb(cpu, sk, i, segs) != 0) break;
    ++ext_[mib_idx];
    if (sk.ca_state == TcpCaState::Cwr || sk.ca_state == TcpCaState::Recovery) ++sk.prr_out;
    if (i == 0 && sk.pending != kTimeReoTimeout) rearm_timer = true;
  }
  if (rearm_timer) reset_xmit_timer(sk, kTimeRetrans, sk.rto_jiffies, kTcpRtoMax);
}

void TcpEngine::xmit_recovery(Cpu& cpu, TcpSock& sk, int rexmit) {
  if (rexmit == 0 || sk.tstate == TcpState::SynSent) return;
  if (rexmit == 2) {
    push_pending(cpu, sk, current_mss(sk), kNagleOff);
    if (seq_after(sk.snd_nxt, sk.high_seq)) return;
    sk.frto = false;
  }
  xmit_retransmit_queue(cpu, sk);
}

// ------------------------------------------------------------------------------ probes

bool TcpEngine::schedule_loss_probe(TcpSock& sk, bool advancing_rto) {
  const int er = sys_.tcp_early_retrans;
  if ((er != 3 && er != 4) || sk.packets_out == 0 || !sk.is_sack() ||
      (sk.ca_state != TcpCaState::Open && sk.ca_state != TcpCaState::Cwr)) {
    return false;
  }
  uint64_t timeout;
  if (sk.srtt_us != 0) {
    timeout = usecs_to_jiffies(sk.srtt_us >> 2);
    timeout += sk.packets_out == 1 ? kTcpRtoMin : kTcpTimeoutMin;
  } else {
    timeout = kTcpTimeoutInit;
  }
  const int64_t rto_delta = advancing_rto ? int64_t{sk.rto_jiffies} * (1000000 / kHz) : rto_delta_us(sk);
  if (rto_delta > 0) timeout = std::min<uint64_t>(timeout, usecs_to_jiffies(static_cast<uint64_t>(rto_delta)));
  reset_xmit_timer(sk, kTimeLossProbe, timeout, kTcpRtoMax);
  return true;
}

void TcpEngine::send_loss_probe(Cpu& cpu, TcpSock& sk) {
  const uint32_t mss = current_mss(sk);
  bool sent = false;
  if (sk.tlp_high_seq == 0) {
    sk.tlp_retrans = false;
    if (!sk.wqueue.empty() && !seq_after(sk.wqueue.front().seq + std::min(sk.wqueue.front().len, mss), sk.wnd_end())) {
      const uint32_t pcount = sk.packets_out;
      write_xmit(cpu, sk, mss, kNagleOff, 2);
      sent = sk.packets_out > pcount;
    } else if (!sk.rtx.empty()) {
      const std::size_t last = sk.rtx.size() - 1;
      if (retransmit_skb(cpu, sk, last, 1, true) == 0) {  // __tcp_retransmit_skb
        sk.tlp_retrans = true;
        sent = true;
      }
    }
    if (sent) {
      sk.tlp_high_seq = sk.snd_nxt;
      ++ext_[LinuxMib::TCPLossProbes];
      sk.pending = 0;
    }
  }
  rearm_rto(sk);
}

int TcpEngine::xmit_probe_skb(Cpu& cpu, TcpSock& sk, bool urgent) {
  TcpSeg seg;
  seg.seq = seg.end_seq = sk.snd_una - (urgent ? 0u : 1u);
  seg.flags = kTcpAck;
  return transmit(cpu, sk, seg, false, sk.rcv_nxt);
}

int TcpEngine::write_wakeup(Cpu& cpu, TcpSock& sk, LinuxMib mib) {
  if (sk.tstate == TcpState::Close) return -1;
  mstamp_refresh(cpu, sk);
  if (!sk.wqueue.empty() && seq_before(sk.wqueue.front().seq, sk.wnd_end())) {
    const uint32_t mss = current_mss(sk);
    TcpSeg& s = sk.wqueue.front();
    uint32_t seg_size = sk.wnd_end() - s.seq;
    if (seq_before(sk.pushed_seq, s.end_seq)) sk.pushed_seq = s.end_seq;
    if (seg_size < s.end_seq - s.seq || s.len > mss) {
      seg_size = std::min(seg_size, mss);
      fragment(sk, sk.wqueue, 0, seg_size);
    }
    sk.wqueue.front().flags |= kTcpPsh;
    rate_skb_sent(sk, sk.wqueue.front());
    const int err = transmit(cpu, sk, sk.wqueue.front(), false, sk.rcv_nxt);
    if (err == 0) event_new_data_sent(sk);
    return err;
  }
  ++ext_[mib];
  return xmit_probe_skb(cpu, sk, false);
}

void TcpEngine::send_probe0(Cpu& cpu, TcpSock& sk) {
  const int err = write_wakeup(cpu, sk, LinuxMib::TCPWinProbe);
  if (sk.packets_out != 0 || sk.wqueue.empty()) {
    sk.probes_out = 0;
    sk.backoff = 0;
    return;
  }
  ++sk.probes_out;
  uint64_t timeout;
  if (err <= 0) {
    if (sk.backoff < sys_.tcp_retries2) ++sk.backoff;
    timeout = std::min<uint64_t>(uint64_t{std::max<uint32_t>(sk.rto_jiffies, kTcpRtoMin)} << std::min<uint8_t>(sk.backoff, 30),
                                 kTcpRtoMax);
  } else {
    timeout = kTcpResourceProbeInterval;
  }
  reset_xmit_timer(sk, kTimeProbe0, timeout, kTcpRtoMax);
}

}  // namespace vnic::stack

// TCP's receive side (net/ipv4/tcp_input.c of Linux 6.1): tcp_rcv_state_process and
// tcp_rcv_established, tcp_validate_incoming (PAWS, the window, RFC 5961's RST and SYN checks),
// tcp_ack with the RTT estimator, tcp_data_queue and the out-of-order queue with SACK and D-SACK
// blocks, tcp_fin, delayed ACKs and quick-ack mode, and the buffers (tcp_rcv_space_adjust,
// tcp_grow_window, tcp_init_buffer_space, tcp_sndbuf_expand).
#include <algorithm>
#include <cstring>

#include "tcp_engine.hpp"

namespace vnic::stack {

using model::egress;
using model::host_drop;
using model::HostDrop;
using model::ingress;
using wire::kTcpAck;
using wire::kTcpFin;
using wire::kTcpPsh;
using wire::kTcpRst;
using wire::kTcpSyn;
using wire::seq_after;
using wire::seq_before;

namespace {
constexpr uint32_t kTcpPawsWindow = 1;
constexpr uint32_t kTcpMinMss = 88;
constexpr uint32_t jiffies_to_usecs(uint32_t j) { return j * static_cast<uint32_t>(1000000 / kHz); }
bool between(uint32_t seq, uint32_t lo, uint32_t hi) { return hi - lo >= seq - lo; }
}  // namespace

// ------------------------------------------------------------------------------ RTT and RTO

void TcpEngine::rtt_estimator(TcpSock& sk, int64_t mrtt_us) {
  // tcp_rtt_estimator: Van Jacobson's estimator with Linux's mdev_max
  int64_t m = mrtt_us;
  uint32_t srtt = sk.srtt_us;
  const uint32_t rto_min_us = jiffies_to_usecs(kTcpRtoMin);
  if (srtt != 0) {
    m -= srtt >> 3;
    srtt = static_cast<uint32_t>(static_cast<int64_t>(srtt) + m);
    if (m < 0) {
      m = -m;
      m -= sk.mdev_us >> 2;
      if (m > 0) m >>= 3;
    } else {
      m -= sk.mdev_us >> 2;
    }
    sk.mdev_us = static_cast<uint32_t>(static_cast<int64_t>(sk.mdev_us) + m);
    if (sk.mdev_us > sk.mdev_max_us) {
      sk.mdev_max_us = sk.mdev_us;
      if (sk.mdev_max_us > sk.rttvar_us) sk.rttvar_us = sk.mdev_max_us;
    }
    if (seq_after(sk.snd_una, sk.rtt_seq)) {
      if (sk.mdev_max_us < sk.rttvar_us) sk.rttvar_us -= (sk.rttvar_us - sk.mdev_max_us) >> 2;
      sk.rtt_seq = sk.snd_nxt;
      sk.mdev_max_us = rto_min_us;
    }
  } else {
    srtt = static_cast<uint32_t>(m << 3);
    sk.mdev_us = static_cast<uint32_t>(m << 1);
    sk.rttvar_us = std::max(sk.mdev_us, rto_min_us);
    sk.mdev_max_us = sk.rttvar_us;
    sk.rtt_seq = sk.snd_nxt;
  }
  sk.srtt_us = std::max(1u, srtt);
}

void TcpEngine::set_rto(TcpSock& sk) {
  // __tcp_set_rto: srtt + 4 * rttvar (rttvar kept as 4 * the variation), in jiffies, at most 120 s
  const uint64_t us = (sk.srtt_us >> 3) + sk.rttvar_us;
  sk.rto_jiffies = static_cast<uint32_t>(std::min<uint64_t>(usecs_to_jiffies(us), kTcpRtoMax));
}

void TcpEngine::ack_update_rtt(TcpSock& sk, int flag, int64_t seq_rtt_us, int64_t sack_rtt_us, int64_t ca_rtt_us) {
  if (seq_rtt_us < 0) seq_rtt_us = sack_rtt_us;
  if (seq_rtt_us < 0 && sk.saw_tstamp && sk.rcv_tsecr != 0 && (flag & kFlagAcked) != 0) {
    uint32_t delta = time_stamp_ms(sk) - sk.rcv_tsecr;
    if (delta < 0x7fffffffu / 1000) {
      if (delta == 0) delta = 1;
      seq_rtt_us = int64_t{delta} * 1000;
      ca_rtt_us = seq_rtt_us;
    }
  }
  last_rtt_sample_ = ca_rtt_us;
  if (seq_rtt_us < 0) return;
  // tcp_update_rtt_min: a windowed minimum (tcp_min_rtt_wlen)
  if (!((flag & kFlagAckMaybeDelayed) != 0 && ca_rtt_us > static_cast<int64_t>(sk.rtt_min_us))) {
    const uint32_t rtt = ca_rtt_us > 0 ? static_cast<uint32_t>(ca_rtt_us) : jiffies_to_usecs(1);
    const uint64_t wlen_us = uint64_t(sys_.tcp_min_rtt_wlen_s) * 1000000;
    if (rtt <= sk.rtt_min_us || sk.tcp_mstamp - sk.rtt_min_stamp > wlen_us) {
      sk.rtt_min_us = rtt;
      sk.rtt_min_stamp = sk.tcp_mstamp;
    }
  }
  rtt_estimator(sk, seq_rtt_us);
  set_rto(sk);
  sk.backoff = 0;
  last_rtt_updated_ = true;
}

// ------------------------------------------------------------------------------ options, PAWS

void TcpEngine::parse_options(TcpSock& sk, const wire::TcpRepr& th) {
  // tcp_fast_parse_options / tcp_parse_options with estab = 1
  sk.saw_tstamp = false;
  if (th.options.has_timestamp && sk.tstamp_ok) {
    sk.saw_tstamp = true;
    sk.rcv_tsval = th.options.tsval;
    sk.rcv_tsecr = th.options.tsecr != 0 ? th.options.tsecr - sk.tsoffset : 0;
  }
}

bool TcpEngine::paws_discard(const TcpSock& sk, const wire::TcpRepr& th) const {
  // tcp_paws_check failing, unless tcp_disordered_ack
  if (static_cast<int32_t>(sk.ts_recent - sk.rcv_tsval) <= static_cast<int32_t>(kTcpPawsWindow)) return false;
  if (sk.ts_recent == 0) return false;
  // tcp_disordered_ack: a pure duplicate ACK that is no window update and within an RTO of ts_recent
  const uint32_t seq = th.seq, ack = th.ack;
  const bool disordered = (th.flags & kTcpAck) != 0 && th.payload_len == 0 && (th.flags & (kTcpSyn | kTcpFin)) == 0 &&
                          seq == sk.rcv_nxt && ack == sk.snd_una &&
                          (uint32_t{th.window} << sk.snd_wscale) == sk.snd_wnd &&
                          static_cast<int32_t>(sk.ts_recent - sk.rcv_tsval) <=
                              static_cast<int32_t>(sk.rto_jiffies * 1000 / kHz);
  return !disordered;
}

void TcpEngine::store_ts_recent(TcpSock& sk) {
  sk.ts_recent = sk.rcv_tsval;
  sk.ts_recent_stamp = static_cast<uint32_t>(sk.tcp_mstamp / 1000000);
}

void TcpEngine::replace_ts_recent(TcpSock& sk, uint32_t seq) {
  // tcp_replace_ts_recent: only for a segment at the left edge of the window
  if (sk.saw_tstamp && !seq_after(seq, sk.rcv_wup)) {
    if (static_cast<int32_t>(sk.rcv_tsval - sk.ts_recent) >= 0 || sk.ts_recent == 0) store_ts_recent(sk);
  }
}

// ------------------------------------------------------------------------------ ACKs sent from input

bool TcpEngine::oow_rate_limited(const TcpSock& sk, uint32_t seq, uint32_t end_seq, bool syn, LinuxMib mib,
                                 uint32_t& last_oow_ack_time) {
  // tcp_oow_rate_limited: data without SYN is not an ACK loop; else one reply per
  // tcp_invalid_ratelimit (500 ms)
  if (seq != end_seq && !syn) return false;
  const int32_t elapsed = static_cast<int32_t>(sk.tcp_jiffies32 - last_oow_ack_time);
  if (last_oow_ack_time != 0 && elapsed >= 0 && elapsed < static_cast<int32_t>(kHz / 2)) {
    ++ext_[mib];
    return true;
  }
  last_oow_ack_time = sk.tcp_jiffies32 == 0 ? 1 : sk.tcp_jiffies32;
  return false;
}

void TcpEngine::send_challenge_ack(Cpu& cpu, TcpSock& sk) {
  // tcp_send_challenge_ack: per socket at most one each tcp_invalid_ratelimit (500 ms), and the
  // namespace's budget of tcp_challenge_ack_limit a second
  const uint32_t now = sk.tcp_jiffies32;
  if (sk.last_oow_ack_time != 0 && static_cast<int32_t>(now - sk.last_oow_ack_time) < static_cast<int32_t>(kHz / 2)) {
    ++ext_[LinuxMib::TCPACKSkippedChallenge];
    return;
  }
  sk.last_oow_ack_time = now;
  const uint32_t sec = now / kHz;
  if (sec != challenge_stamp_ || challenge_count_ == 0xFFFFFFFF) {
    const uint32_t limit = static_cast<uint32_t>(sys_.tcp_challenge_ack_limit);
    const uint32_t half = (limit + 1) >> 1;
    challenge_stamp_ = sec;
    challenge_count_ = half + t_.rng_.u32_max(limit);
  }
  if (challenge_count_ > 0) {
    --challenge_count_;
    ++ext_[LinuxMib::TCPChallengeACK];
    send_ack(cpu, sk);
  }
}

void TcpEngine::send_dupack(Cpu& cpu, TcpSock& sk, uint32_t seq, uint32_t end_seq) {
  if (end_seq != seq && seq_before(seq, sk.rcv_nxt)) {
    ++ext_[LinuxMib::DelayedACKLost];
    enter_quickack_mode(sk, kTcpMaxQuickacks);
    if (sys_.tcp_dsack && sk.sack_ok) {
      uint32_t e = end_seq;
      if (seq_after(e, sk.rcv_nxt)) e = sk.rcv_nxt;
      dsack_set(sk, seq, e);
    }
  }
  send_ack(cpu, sk);
}

void TcpEngine::dsack_set(TcpSock& sk, uint32_t seq, uint32_t end_seq) {
  if (sk.sack_ok && sys_.tcp_dsack) {
    ++ext_[seq_before(seq, sk.rcv_nxt) ? LinuxMib::TCPDSACKOldSent : LinuxMib::TCPDSACKOfoSent];
    sk.dsack = true;
    sk.duplicate_sack = {seq, end_seq};
  }
}

void TcpEngine::dsack_extend(TcpSock& sk, uint32_t seq, uint32_t end_seq) {
  if (!sk.dsack) {
    dsack_set(sk, seq, end_seq);
  } else {
    // tcp_sack_extend
    if (!seq_after(seq, sk.duplicate_sack.end) && !seq_after(sk.duplicate_sack.start, end_seq)) {
      if (seq_before(seq, sk.duplicate_sack.start)) sk.duplicate_sack.start = seq;
      if (seq_after(end_seq, sk.duplicate_sack.end)) sk.duplicate_sack.end = end_seq;
    }
  }
}

void TcpEngine::sack_new_ofo_skb(TcpSock& sk, uint32_t seq, uint32_t end_seq) {
  // tcp_sack_new_ofo_skb: extend a block it touches (moving it to the front, then merging), else
  // a new block at the front (at most 4: the oldest goes)
  auto& sa = sk.selective_acks;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    wire::TcpSackBlock& b = sa[i];
    if (!seq_after(seq, b.end) && !seq_after(b.start, end_seq)) {
      if (seq_before(seq, b.start)) b.start = seq;
      if (seq_after(end_seq, b.end)) b.end = end_seq;
      const wire::TcpSackBlock moved = b;
      sa.erase(sa.begin() + static_cast<std::ptrdiff_t>(i));
      sa.insert(sa.begin(), moved);
      // tcp_sack_maybe_coalesce
      for (std::size_t j = 1; j < sa.size();) {
        wire::TcpSackBlock& f = sa[0];
        if (!seq_after(sa[j].start, f.end) && !seq_after(f.start, sa[j].end)) {
          if (seq_before(sa[j].start, f.start)) f.start = sa[j].start;
          if (seq_after(sa[j].end, f.end)) f.end = sa[j].end;
          sa.erase(sa.begin() + static_cast<std::ptrdiff_t>(j));
        } else {
          ++j;
        }
      }
      return;
    }
  }
  if (sa.size() >= wire::kTcpMaxSackBlocks) {
    sa.pop_back();
  }
  sa.insert(sa.begin(), wire::TcpSackBlock{seq, end_seq});
}

void TcpEngine::sack_remove(TcpSock& sk) {
  // tcp_sack_remove: blocks now below rcv_nxt go; with an empty ofo queue all go
  if (sk.ofo.empty()) {
    sk.selective_acks.clear();
    return;
  }
  std::erase_if(sk.selective_acks, [&](const wire::TcpSackBlock& b) { return !seq_after(b.end, sk.rcv_nxt); });
}

// ------------------------------------------------------------------------------ quick ACKs

void TcpEngine::incr_quickack(TcpSock& sk, uint32_t max_quickacks) {
  // tcp_incr_quickack: room for half a window of immediate ACKs (at least 2), at most max
  uint32_t quickacks = sk.rcv_wnd / (2 * std::max(sk.ack_rcv_mss, 1u));
  if (quickacks == 0) quickacks = 2;
  quickacks = std::min(quickacks, max_quickacks);
  if (quickacks > sk.ack_quick) sk.ack_quick = static_cast<uint8_t>(quickacks);
}

void TcpEngine::enter_quickack_mode(TcpSock& sk, uint32_t max_quickacks) {
  incr_quickack(sk, max_quickacks);
  sk.ack_pingpong = 0;
  sk.ack_ato = kTcpAtoMin;
}

bool TcpEngine::in_quickack_mode(const TcpSock& sk) const { return sk.ack_quick != 0 && sk.ack_pingpong == 0; }

// ------------------------------------------------------------------------------ receive buffers

void TcpEngine::sndbuf_expand(TcpSock& sk) {
  // tcp_sndbuf_expand: room for twice the congestion window (at least 10 segments), in skb truesize
  const uint32_t per_mss = skb_truesize(std::max<uint32_t>(sk.mss_cache, sk.advmss) + kMaxTcpHeader);
  uint32_t nr = std::max<uint32_t>(kTcpInitCwnd, sk.snd_cwnd);
  nr = std::max(nr, sk.reordering + 1);
  const uint64_t sndmem = std::min<uint64_t>(uint64_t{2} * nr * per_mss, sys_.tcp_wmem[2]);
  if (sk.sndbuf < sndmem) sk.sndbuf = static_cast<uint32_t>(sndmem);
}

void TcpEngine::init_buffer_space(TcpSock& sk) {
  if (!sk.sndbuf_locked) sndbuf_expand(sk);
  sk.rcvq_space = std::min<uint32_t>(sk.rcv_wnd, kTcpInitCwnd * sk.advmss);
  sk.rcvq_time = sk.tcp_mstamp;
  sk.rcvq_seq = sk.copied_seq;
  const uint32_t maxwin = full_space(sk);
  if (sk.window_clamp >= maxwin) {
    sk.window_clamp = maxwin;
    if (sys_.tcp_app_win != 0 && maxwin > 4u * sk.advmss) {
      sk.window_clamp = std::max<uint32_t>(maxwin - (maxwin >> sys_.tcp_app_win), 4u * sk.advmss);
    }
  }
  if (sys_.tcp_app_win != 0 && sk.window_clamp > 2u * sk.advmss && sk.window_clamp + sk.advmss > maxwin) {
    sk.window_clamp = std::max<uint32_t>(2u * sk.advmss, maxwin - sk.advmss);
  }
  sk.rcv_ssthresh = std::min(sk.rcv_ssthresh, sk.window_clamp);
  sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  sk.rcvq_space = std::min({sk.rcv_ssthresh, sk.rcv_wnd, kTcpInitCwnd * sk.advmss});
}

void TcpEngine::rcv_space_adjust(TcpSock& sk) {
  const uint64_t now = sk.tcp_mstamp;
  const uint64_t time = now - sk.rcvq_time;
  if (time < (sk.rcv_rtt_us >> 3) || sk.rcv_rtt_us == 0) return;
  const uint32_t copied = sk.copied_seq - sk.rcvq_seq;
  if (copied > sk.rcvq_space) {
    if (sys_.tcp_moderate_rcvbuf && !sk.rcvbuf_locked) {
      uint64_t rcvwin = (uint64_t{copied} << 1) + 16u * sk.advmss;
      uint64_t grow = rcvwin * (copied - sk.rcvq_space);
      grow /= sk.rcvq_space;
      rcvwin += grow << 1;
      uint32_t rcvmem = skb_truesize(sk.advmss + kMaxTcpHeader);
      while (win_from_space(rcvmem) < sk.advmss) rcvmem += 128;
      rcvwin /= sk.advmss;
      const uint64_t rcvbuf = std::min<uint64_t>(rcvwin * rcvmem, sys_.tcp_rmem[2]);
      if (rcvbuf > sk.rcvbuf) {
        sk.rcvbuf = static_cast<uint32_t>(rcvbuf);
        sk.window_clamp = win_from_space(static_cast<int64_t>(rcvbuf));
      }
    }
    sk.rcvq_space = copied;
  }
  sk.rcvq_seq = sk.copied_seq;
  sk.rcvq_time = now;
}

void TcpEngine::grow_window(TcpSock& sk, const SkBuff* skb) {
  const int64_t room = static_cast<int64_t>(std::min<int64_t>(sk.window_clamp, tcp_space(sk))) - sk.rcv_ssthresh;
  if (room <= 0) return;
  int64_t incr = 0;
  if (win_from_space(skb->truesize) <= skb->len) {
    incr = 2 * sk.advmss;
  } else {
    // __tcp_grow_window
    int64_t truesize = win_from_space(skb->truesize) >> 1;
    int64_t window = win_from_space(sys_.tcp_rmem[2]) >> 1;
    while (sk.rcv_ssthresh <= window) {
      if (truesize <= skb->len) {
        incr = 2 * sk.ack_rcv_mss;
        break;
      }
      truesize >>= 1;
      window >>= 1;
    }
  }
  if (incr != 0) {
    incr = std::max<int64_t>(incr, 2 * static_cast<int64_t>(skb->len));
    sk.rcv_ssthresh += static_cast<uint32_t>(std::min(room, incr));
    sk.ack_quick |= 1;
  }
}

void TcpEngine::rcv_rtt_measure(TcpSock& sk, uint32_t len) {
  (void)len;
  // tcp_rcv_rtt_measure: one window's worth of data per RTT (without timestamps)
  if (sk.rcv_rtt_time == 0) {
    sk.rcv_rtt_seq = sk.rcv_nxt + sk.rcv_wnd;
    sk.rcv_rtt_time = sk.tcp_mstamp;
    return;
  }
  if (seq_before(sk.rcv_nxt, sk.rcv_rtt_seq)) return;
  const uint64_t delta = sk.tcp_mstamp - sk.rcv_rtt_time;
  if (delta == 0) return;
  const auto update = [&](uint32_t sample, bool win_dep) {
    uint32_t new_sample = sk.rcv_rtt_us;
    int64_t m = sample;
    if (new_sample != 0) {
      if (!win_dep) {
        m -= new_sample >> 3;
        new_sample = static_cast<uint32_t>(new_sample + m);
      } else {
        m <<= 3;
        if (m < new_sample) new_sample = static_cast<uint32_t>(m);
      }
    } else {
      new_sample = static_cast<uint32_t>(m << 3);
    }
    sk.rcv_rtt_us = new_sample;
  };
  update(static_cast<uint32_t>(std::min<uint64_t>(delta, 0x7fffffff)), true);
  sk.rcv_rtt_seq = sk.rcv_nxt + sk.rcv_wnd;
  sk.rcv_rtt_time = sk.tcp_mstamp;
}

void TcpEngine::rcv_rtt_measure_ts(TcpSock& sk, uint32_t len) {
  // tcp_rcv_rtt_measure_ts: from the echoed timestamp of a full segment of new data
  if (sk.rcv_tsecr == 0 || !sk.saw_tstamp) return;
  if (len == 0 || len < sk.ack_rcv_mss) return;
  const uint32_t delta = time_stamp_ms(sk) - sk.rcv_tsecr;
  if (static_cast<int32_t>(delta) < 0) return;
  const uint32_t delta_us = std::max<uint32_t>(delta, 1) * 1000;
  int64_t m = delta_us;
  uint32_t ns = sk.rcv_rtt_us;
  if (ns != 0) {
    m -= ns >> 3;
    ns = static_cast<uint32_t>(ns + m);
  } else {
    ns = static_cast<uint32_t>(m << 3);
  }
  sk.rcv_rtt_us = ns;
}

void TcpEngine::event_data_recv(Cpu& cpu, TcpSock& sk, const SkBuff* skb, uint32_t len) {
  (void)cpu;
  sk.ack_pending |= kAckSched;
  // tcp_measure_rcv_mss
  const uint32_t lss = sk.ack_last_seg_size;
  sk.ack_last_seg_size = 0;
  const uint8_t thflags = skb->transport_bytes().size() >= 14 ? skb->transport_bytes()[13] : 0;
  if (skb->gso_size != 0) len = skb->gso_size;  // a GRO skb: its segments' size
  if (len >= sk.ack_rcv_mss) {
    sk.ack_rcv_mss = std::min<uint32_t>(len, sk.advmss);
    if ((thflags & kTcpPsh) != 0) sk.ack_pending |= kAckPushed;
  } else {
    uint32_t l = len + (skb->data - skb->transport_header);
    const bool remnant = (thflags & (kTcpFin | 0x20 | kTcpSyn | kTcpPsh)) != 0;
    if (l >= kTcpMssDefault + 20 || (l >= kTcpMinMss + 20 && !remnant)) {
      l -= sk.tcp_header_len;
      sk.ack_last_seg_size = l;
      if (l == lss) {
        sk.ack_rcv_mss = l;
        goto measured;
      }
    }
    if ((sk.ack_pending & kAckPushed) != 0) sk.ack_pending |= kAckPushed2;
    sk.ack_pending |= kAckPushed;
  }
measured:
  rcv_rtt_measure(sk, len);
  const uint32_t now = sk.tcp_jiffies32;
  if (sk.ack_ato == 0) {
    // the first data: the delayed-ACK engine starts in quick-ack mode
    incr_quickack(sk, kTcpMaxQuickacks);
    sk.ack_ato = kTcpAtoMin;
  } else {
    const int32_t m = static_cast<int32_t>(now - sk.ack_lrcvtime);
    if (m <= static_cast<int32_t>(kTcpAtoMin / 2)) {
      sk.ack_ato = (sk.ack_ato >> 1) + kTcpAtoMin / 2;
    } else if (m < static_cast<int32_t>(sk.ack_ato)) {
      sk.ack_ato = (sk.ack_ato >> 1) + static_cast<uint32_t>(m);
      if (sk.ack_ato > sk.rto_jiffies) sk.ack_ato = sk.rto_jiffies;
    } else if (m > static_cast<int32_t>(sk.rto_jiffies)) {
      incr_quickack(sk, kTcpMaxQuickacks);  // a long gap: the sender restarted its window
    }
  }
  sk.ack_lrcvtime = now;
  ecn_check_ce(sk, *skb);
  if (len >= 128) grow_window(sk, skb);
}

// ------------------------------------------------------------------------------ data

void TcpEngine::tcp_fin(Cpu& cpu, TcpSock& sk) {
  sk.ack_pending |= kAckSched;
  sk.shutdown |= kRcvShutdown;
  sk.fin_rcvd = true;
  switch (sk.tstate) {
    case TcpState::SynRecv:
    case TcpState::Established:
      set_state(sk, TcpState::CloseWait);
      sk.ack_pingpong = 1;  // inet_csk_enter_pingpong_mode
      break;
    case TcpState::FinWait1:
      send_ack(cpu, sk);
      set_state(sk, TcpState::Closing);
      break;
    case TcpState::FinWait2:
      send_ack(cpu, sk);
      time_wait(cpu, sk, TcpState::TimeWait, 0);
      return;
    default: break;
  }
  // anything out of order past the FIN goes
  for (TcpRcvSeg& r : sk.ofo) {
    sk.rmem_alloc -= std::min(sk.rmem_alloc, r.skb->truesize);
    r.skb->sk = nullptr;
    net_.drop(cpu, r.skb, SkbDropReason::TcpOfoDrop, ingress(22), host_drop(HostDrop::TcpOfoDrop));
    ++ext_[LinuxMib::TCPOFODrop];
  }
  sk.ofo.clear();
  sk.selective_acks.clear();
  if (!sk.orphan) sk.wq.wake(kEpollIn | kEpollRdNorm | kEpollRdHup, &cpu);
}

namespace {
// A received segment's skb charged to the socket's receive memory (skb_set_owner_r).
void owner_r(TcpSock& sk, SkBuff* skb) {
  skb->sk = &sk;
  sk.rmem_alloc += skb->truesize;
}
}  // namespace

void TcpEngine::ofo_queue(Cpu& cpu, TcpSock& sk) {
  uint32_t dsack_high = sk.rcv_nxt;
  while (!sk.ofo.empty()) {
    TcpRcvSeg r = sk.ofo.front();
    if (seq_after(r.seq, sk.rcv_nxt)) break;
    if (seq_before(r.seq, dsack_high)) {
      const uint32_t dsack = dsack_high;
      if (seq_before(r.end_seq, dsack_high)) dsack_high = r.end_seq;
      dsack_extend(sk, r.seq, dsack);
    }
    sk.ofo.pop_front();
    if (!seq_after(r.end_seq, sk.rcv_nxt)) {
      sk.rmem_alloc -= std::min(sk.rmem_alloc, r.skb->truesize);
      r.skb->sk = nullptr;
      ++ext_[LinuxMib::TCPOFOMerge];
      net_.drop(cpu, r.skb, SkbDropReason::TcpOfoDrop, ingress(22), host_drop(HostDrop::TcpOfoMerge));
      continue;
    }
    // the part below rcv_nxt is skipped by the reader (its seq stays)
    sk.bytes_received += r.end_seq - sk.rcv_nxt;  // tcp_rcv_nxt_update (a FIN counts, as in Linux)
    sk.rcv_nxt = r.end_seq;
    sk.rcvq.push_back(r);
    if (r.fin) {
      tcp_fin(cpu, sk);
      break;
    }
  }
}

void TcpEngine::data_queue_ofo(Cpu& cpu, TcpSock& sk, SkBuff* skb, uint32_t seq, uint32_t end_seq, bool fin) {
  ecn_check_ce(sk, *skb);
  if (sk.rmem_alloc > sk.rcvbuf) {
    ++ext_[LinuxMib::PruneCalled];
    ++ext_[LinuxMib::TCPOFODrop];
    sk.data_ready(cpu);
    net_.drop(cpu, skb, SkbDropReason::TcpOfoDrop, ingress(22), host_drop(HostDrop::TcpOfoDrop));
    return;
  }
  sk.fast_path = false;
  sk.ack_pending |= kAckSched;
  ++sk.rcv_ooopack;
  ++ext_[LinuxMib::TCPOFOQueue];
  if (sk.ofo.empty()) {
    if (sk.sack_ok) sk.selective_acks.assign(1, wire::TcpSackBlock{seq, end_seq});
    owner_r(sk, skb);
    sk.ofo.push_back(TcpRcvSeg{skb, seq, end_seq, fin});
    trace(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk.rmem_alloc);
    if (sk.sack_ok) grow_window(sk, skb);
    return;
  }
  // find the place; handle overlaps as tcp_data_queue_ofo does
  std::size_t i = sk.ofo.size();
  while (i > 0 && seq_before(seq, sk.ofo[i - 1].seq)) --i;
  // sk.ofo[i-1].seq <= seq (if i > 0)
  if (i > 0) {
    TcpRcvSeg& prev = sk.ofo[i - 1];
    if (seq_before(seq, prev.end_seq)) {
      if (!seq_after(end_seq, prev.end_seq)) {
        ++ext_[LinuxMib::TCPOFOMerge];
        dsack_set(sk, seq, end_seq);
        if (sk.sack_ok) sack_new_ofo_skb(sk, seq, end_seq);
        net_.drop(cpu, skb, SkbDropReason::TcpOfomerge, ingress(22), host_drop(HostDrop::TcpOfoMerge));
        return;
      }
      if (seq_after(seq, prev.seq)) {
        dsack_set(sk, seq, prev.end_seq);
      } else {
        // same start, covers it: replace
        dsack_extend(sk, prev.seq, prev.end_seq);
        ++ext_[LinuxMib::TCPOFOMerge];
        sk.rmem_alloc -= std::min(sk.rmem_alloc, prev.skb->truesize);
        prev.skb->sk = nullptr;
        net_.drop(cpu, prev.skb, SkbDropReason::TcpOfomerge, ingress(22), host_drop(HostDrop::TcpOfoMerge));
        sk.ofo.erase(sk.ofo.begin() + static_cast<std::ptrdiff_t>(i - 1));
        --i;
      }
    }
  }
  sk.ofo.insert(sk.ofo.begin() + static_cast<std::ptrdiff_t>(i), TcpRcvSeg{skb, seq, end_seq, fin});
  owner_r(sk, skb);
  trace(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk.rmem_alloc);
  // merge_right: segments it covers go
  while (i + 1 < sk.ofo.size()) {
    TcpRcvSeg& nx = sk.ofo[i + 1];
    if (!seq_after(end_seq, nx.seq)) break;
    if (seq_before(end_seq, nx.end_seq)) {
      dsack_extend(sk, nx.seq, end_seq);
      break;
    }
    dsack_extend(sk, nx.seq, nx.end_seq);
    ++ext_[LinuxMib::TCPOFOMerge];
    sk.rmem_alloc -= std::min(sk.rmem_alloc, nx.skb->truesize);
    nx.skb->sk = nullptr;
    net_.drop(cpu, nx.skb, SkbDropReason::TcpOfomerge, ingress(22), host_drop(HostDrop::TcpOfoMerge));
    sk.ofo.erase(sk.ofo.begin() + static_cast<std::ptrdiff_t>(i + 1));
  }
  if (sk.sack_ok) {
    sack_new_ofo_skb(sk, seq, end_seq);
    grow_window(sk, skb);
  }
}

void TcpEngine::data_queue(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th) {
  const uint32_t seq = th.seq;
  const bool fin = (th.flags & kTcpFin) != 0;
  const uint32_t end_seq = seq + skb->len + (fin ? 1u : 0u);
  if (seq == end_seq) {
    end_packet(cpu, skb, false);
    return;
  }
  sk.dsack = false;
  auto out_of_window = [&](SkbDropReason reason, HostDrop counter) {
    enter_quickack_mode(sk, kTcpMaxQuickacks);
    sk.ack_pending |= kAckSched;
    net_.drop(cpu, skb, reason, ingress(22), host_drop(counter));
  };
  bool in_order = seq == sk.rcv_nxt;
  if (!in_order && !seq_after(end_seq, sk.rcv_nxt)) {
    // a retransmission of what we have: D-SACK it, ACK at once
    ++ext_[LinuxMib::DelayedACKLost];
    dsack_set(sk, seq, end_seq);
    return out_of_window(SkbDropReason::TcpOldData, HostDrop::TcpOldData);
  }
  if (!in_order && !seq_before(seq, sk.rcv_nxt + receive_window(sk))) {
    ++stats_.out_of_window;
    return out_of_window(SkbDropReason::TcpOverwindow, HostDrop::TcpOutOfWindow);
  }
  if (!in_order && seq_before(seq, sk.rcv_nxt)) {
    // partial: seq < rcv_nxt < end_seq
    dsack_set(sk, seq, sk.rcv_nxt);
    if (receive_window(sk) == 0) {
      ++ext_[LinuxMib::TCPZeroWindowDrop];
      return out_of_window(SkbDropReason::TcpZerowindow, HostDrop::TcpZeroWindowDrop);
    }
    in_order = true;
  } else if (in_order && receive_window(sk) == 0 && !(skb->len == 0 && fin)) {
    ++ext_[LinuxMib::TCPZeroWindowDrop];
    return out_of_window(SkbDropReason::TcpZerowindow, HostDrop::TcpZeroWindowDrop);
  }
  if (!in_order) return data_queue_ofo(cpu, sk, skb, seq, end_seq, fin);
  // queue_and_out
  if (!sk.rcvq.empty() && sk.rmem_alloc > sk.rcvbuf) {
    ++ext_[LinuxMib::PruneCalled];
    ++ext_[LinuxMib::RcvPruned];
    ++ext_[LinuxMib::TCPRcvQDrop];
    sk.data_ready(cpu);
    net_.drop(cpu, skb, SkbDropReason::ProtoMem, ingress(22), host_drop(HostDrop::TcpRcvQDrop));
    return;
  }
  owner_r(sk, skb);
  sk.bytes_received += end_seq - sk.rcv_nxt;  // tcp_rcv_nxt_update (a FIN counts, as in Linux)
  sk.rcv_nxt = end_seq;
  sk.rcvq.push_back(TcpRcvSeg{skb, seq, end_seq, fin});
  trace(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk.rmem_alloc);
  if (skb->len > 0) event_data_recv(cpu, sk, skb, skb->len);
  if (fin) tcp_fin(cpu, sk);
  if (!sk.ofo.empty()) {
    ofo_queue(cpu, sk);
    if (sk.ofo.empty()) sk.ack_pending |= kAckNow;
  }
  if (!sk.selective_acks.empty()) sack_remove(sk);
  if (sk.ofo.empty() && sk.rcv_wnd != 0 && sk.rmem_alloc < sk.rcvbuf) sk.fast_path = true;  // tcp_fast_path_check
  if (!sk.orphan) {
    if (sk.wq.active()) trace(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
    sk.data_ready(cpu);
  }
}

uint32_t TcpEngine::receive_window(const TcpSock& sk) const {
  const int32_t w = static_cast<int32_t>(sk.rcv_wup + sk.rcv_wnd - sk.rcv_nxt);  // tcp_receive_window
  return w < 0 ? 0 : static_cast<uint32_t>(w);
}

void TcpEngine::ack_snd_check(Cpu& cpu, TcpSock& sk) {
  if ((sk.ack_pending & kAckSched) == 0) return;
  // __tcp_ack_snd_check(sk, 1)
  if ((sk.rcv_nxt - sk.rcv_wup > sk.ack_rcv_mss && select_window_raw(sk) >= sk.rcv_wnd) || in_quickack_mode(sk) ||
      (sk.ack_pending & kAckNow) != 0) {
    send_ack(cpu, sk);
    return;
  }
  if (sk.ofo.empty()) {
    send_delayed_ack(cpu, sk);
    return;
  }
  if (!sk.sack_ok || sk.compressed_ack >= 44) {
    send_ack(cpu, sk);
    return;
  }
  if (sk.compressed_ack_rcv_nxt != sk.rcv_nxt) {
    sk.compressed_ack_rcv_nxt = sk.rcv_nxt;
    sk.dup_ack_counter = 0;
  }
  if (sk.dup_ack_counter < 3) {
    ++sk.dup_ack_counter;
    send_ack(cpu, sk);
    return;
  }
  ++sk.compressed_ack;
  if (sk.comp_timer != 0) return;
  uint64_t rtt = sk.rcv_rtt_us;
  if (sk.srtt_us != 0 && sk.srtt_us < rtt) rtt = sk.srtt_us;
  // 5 % of the RTT (srtt is << 3), at most tcp_comp_sack_delay_ns (1 ms), plus its slack (100 us)
  const uint64_t delay_ns = std::min<uint64_t>(1000000, rtt * (1000 >> 3) / 20);
  sk.comp_timer = 1 + timer_cpu().call_at(cpu.now() + Duration::ns(static_cast<int64_t>(delay_ns)), &TcpEngine::on_timer,
                                      this, sk.ino << 3 | 4);
}

// ------------------------------------------------------------------------------ tcp_ack

int TcpEngine::ack_update_window(TcpSock& sk, const wire::TcpRepr& th, uint32_t ack, uint32_t ack_seq) {
  int flag = 0;
  uint32_t nwin = th.window;
  if ((th.flags & kTcpSyn) == 0) nwin <<= sk.snd_wscale;
  // tcp_may_update_window
  if (seq_after(ack, sk.snd_una) || seq_after(ack_seq, sk.snd_wl1) || (ack_seq == sk.snd_wl1 && nwin > sk.snd_wnd)) {
    flag |= kFlagWinUpdate;
    sk.snd_wl1 = ack_seq;
    if (sk.snd_wnd != nwin) {
      sk.snd_wnd = nwin;
      // the only place the sender's fast path comes back (tcp_fast_path_check)
      sk.fast_path = sk.ofo.empty() && sk.rcv_wnd != 0 && sk.rmem_alloc < sk.rcvbuf;
      if (nwin > sk.max_window) {
        sk.max_window = nwin;
        sync_mss(sk, sk.pmtu_cookie);
      }
    }
  }
  if (seq_after(ack, sk.snd_una)) {
    sk.bytes_acked += ack - sk.snd_una;
    sk.snd_una = ack;
  }
  return flag;
}

int TcpEngine::clean_rtx_queue(Cpu& cpu, TcpSock& sk, uint32_t prior_fack, uint32_t prior_snd_una, int64_t* sack_rtt,
                               uint32_t* acked_pkts) {
  (void)cpu;
  const uint32_t prior_sacked = sk.sacked_out;
  uint32_t reord = sk.snd_nxt;
  uint64_t first_ackt = 0, last_ackt = 0;
  uint32_t pkts_acked = 0;
  int flag = 0;
  std::size_t n = 0;
  for (; n < sk.rtx.size(); ++n) {
    TcpSeg& s = sk.rtx[n];
    if (seq_after(s.end_seq, sk.snd_una)) break;
    const uint8_t sacked = s.sacked;
    if ((sacked & kTcpcbRetrans) != 0) {
      if ((sacked & kTcpcbSackedRetrans) != 0) sk.retrans_out -= std::min(sk.retrans_out, 1u);
      flag |= kFlagRetransDataAcked;
    } else if ((sacked & kTcpcbSackedAcked) == 0) {
      last_ackt = s.mstamp_us;
      if (first_ackt == 0) first_ackt = last_ackt;
      if (seq_before(s.seq, reord)) reord = s.seq;
      if (!seq_after(s.end_seq, sk.high_seq)) flag |= kFlagOrigSackAcked;
    }
    if ((sacked & kTcpcbSackedAcked) != 0) {
      sk.sacked_out -= std::min(sk.sacked_out, 1u);
    } else if (sk.is_sack()) {
      ++sk.delivered;
      if (!((sacked & kTcpcbRetrans) != 0 && sk.tlp_high_seq == 0 && false)) rack_advance(sk, sacked, s.end_seq, s.mstamp_us);
    }
    if ((sacked & kTcpcbLost) != 0) sk.lost_out -= std::min(sk.lost_out, 1u);
    sk.packets_out -= std::min(sk.packets_out, 1u);
    ++pkts_acked;
    rate_delivered_seg(sk, s);
    if ((s.flags & kTcpSyn) == 0) {
      flag |= kFlagDataAcked;
    } else {
      flag |= kFlagSynAcked;
      sk.retrans_stamp = 0;
    }
    sk.wmem_queued -= std::min(sk.wmem_queued, s.truesize);
  }
  sk.rtx.erase(sk.rtx.begin(), sk.rtx.begin() + static_cast<std::ptrdiff_t>(n));
  sbuf_release_to(sk, sk.snd_una);
  if (!sk.rtx.empty() && (sk.rtx.front().sacked & kTcpcbSackedAcked) != 0) flag |= kFlagSackReneging;
  int64_t seq_rtt_us = -1, ca_rtt_us = -1;
  if (first_ackt != 0 && (flag & kFlagRetransDataAcked) == 0) {
    seq_rtt_us = static_cast<int64_t>(sk.tcp_mstamp - first_ackt);
    ca_rtt_us = static_cast<int64_t>(sk.tcp_mstamp - last_ackt);
    if (pkts_acked == 1 && prior_sacked == 0 && sk.snd_una - prior_snd_una < sk.mss_cache &&
        rs_.prior_delivered + 1 == sk.delivered && (flag & (kFlagCaAlert | kFlagSynAcked)) == 0) {
      flag |= kFlagAckMaybeDelayed;
    }
  }
  if (rs_.first_sackt != 0) {
    *sack_rtt = static_cast<int64_t>(sk.tcp_mstamp - rs_.first_sackt);
    ca_rtt_us = static_cast<int64_t>(sk.tcp_mstamp - rs_.last_sackt);
  }
  last_rtt_updated_ = false;
  ack_update_rtt(sk, flag, seq_rtt_us, *sack_rtt, ca_rtt_us);
  if ((flag & kFlagAcked) != 0) {
    flag |= kFlagSetXmitTimer;
    if (sk.is_reno()) {
      // tcp_remove_reno_sacks
      if (pkts_acked > 0) {
        sk.delivered += std::max<uint32_t>(pkts_acked > sk.sacked_out ? pkts_acked - sk.sacked_out : 0, 1);
        if (pkts_acked - 1 >= sk.sacked_out) {
          sk.sacked_out = 0;
        } else {
          sk.sacked_out -= pkts_acked - 1;
        }
      }
      check_reno_reordering(sk, pkts_acked);
      if ((flag & kFlagRetransDataAcked) != 0) flag &= ~kFlagOrigSackAcked;
    } else if (seq_before(reord, prior_fack)) {
      check_sack_reordering(sk, reord, 0);
    }
  } else if (!sk.rtx.empty() && last_rtt_updated_ && *sack_rtt >= 0 &&
             *sack_rtt > static_cast<int64_t>(sk.tcp_mstamp - sk.rtx.front().mstamp_us)) {
    flag |= kFlagSetXmitTimer;
  }
  if (sk.ca) {
    TcpAckSample sample;
    sample.pkts_acked = pkts_acked;
    sample.rtt_us = static_cast<int32_t>(std::clamp<int64_t>(last_rtt_sample_, -1, 0x7fffffff));
    sample.in_flight = sk.mss_cache * (sk.delivered - rs_.prior_delivered);
    sk.ca->pkts_acked(sk, sample);
  }
  *acked_pkts = pkts_acked;
  return flag;
}

int TcpEngine::tcp_ack(Cpu& cpu, TcpSock& sk, const SkBuff* skb, const wire::TcpRepr& th, int flag) {
  (void)skb;
  const uint32_t prior_snd_una = sk.snd_una;
  const uint32_t ack_seq = th.seq, ack = th.ack;
  const uint32_t end_seq = th.seq + th.payload_len + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
  const uint32_t prior_packets = sk.packets_out;
  const uint32_t delivered0 = sk.delivered, lost0 = sk.lost;
  int rexmit = 0;
  rs_ = RateSample{};
  if (seq_before(ack, prior_snd_una)) {
    if (seq_before(ack, prior_snd_una - sk.max_window)) {
      if ((flag & kFlagNoChallengeAck) == 0) send_challenge_ack(cpu, sk);
      return -static_cast<int>(SkbDropReason::TcpTooOldAck);
    }
    // old_ack: SACK blocks still count
    if (th.options.num_sack > 0 && sk.sack_ok) {
      uint32_t sd = 0;
      int64_t srtt = -1;
      flag |= sacktag_write_queue(sk, th, ack, prior_snd_una, &sd, &srtt);
      fastretrans_alert(cpu, sk, prior_snd_una, 0, &flag, &rexmit);
      newly_delivered(sk, sk.delivered - delivered0, flag);
      xmit_recovery(cpu, sk, rexmit);
    }
    return 0;
  }
  if (seq_after(ack, sk.snd_nxt)) return -static_cast<int>(SkbDropReason::TcpAckUnsentData);
  if (seq_after(ack, prior_snd_una)) {
    flag |= kFlagSndUnaAdvanced;
    sk.retransmits = 0;
  }
  const uint32_t prior_fack = sk.is_sack() && !sk.rtx.empty() ? highest_sack_seq(sk) : sk.snd_una;
  rs_.prior_in_flight = sk.packets_in_flight();
  if ((flag & kFlagUpdateTsRecent) != 0) replace_ts_recent(sk, th.seq);
  uint32_t sack_delivered = 0;
  int64_t sack_rtt = -1;
  if ((flag & (kFlagSlowpath | kFlagSndUnaAdvanced)) == kFlagSndUnaAdvanced) {
    sk.snd_wl1 = ack_seq;
    sk.bytes_acked += ack - sk.snd_una;
    sk.snd_una = ack;
    flag |= kFlagWinUpdate;
    ++ext_[LinuxMib::TCPHPAcks];
  } else {
    if (ack_seq != end_seq) {
      flag |= kFlagData;
    } else {
      ++ext_[LinuxMib::TCPPureAcks];
    }
    flag |= ack_update_window(sk, th, ack, ack_seq);
    if (th.options.num_sack > 0 && sk.sack_ok) {
      flag |= sacktag_write_queue(sk, th, ack, prior_snd_una, &sack_delivered, &sack_rtt);
    }
  }
  flag |= ecn_ack(sk, th, flag);
  sk.err_soft = 0;  // something worked: the soft error log goes
  sk.probes_out = 0;
  sk.rcv_tstamp = sk.tcp_jiffies32;
  if (prior_packets == 0) {
    // no_queue
    if ((flag & kFlagDsackingAck) != 0) {
      fastretrans_alert(cpu, sk, prior_snd_una, 0, &flag, &rexmit);
      newly_delivered(sk, sk.delivered - delivered0, flag);
    }
    if (!sk.wqueue.empty()) {
      // tcp_ack_probe: the window opened for what waits, or the persist timer keeps probing
      if (!seq_after(sk.wqueue.front().seq + std::min(sk.wqueue.front().end_seq - sk.wqueue.front().seq, current_mss(sk)),
                     sk.wnd_end())) {
        sk.backoff = 0;
        sk.probes_out = 0;
        if (sk.pending == kTimeProbe0) clear_xmit_timer(sk);
      } else {
        const uint64_t when = std::min<uint64_t>(uint64_t{sk.rto_jiffies} << std::min<uint8_t>(sk.backoff, 20), kTcpRtoMax);
        reset_xmit_timer(sk, kTimeProbe0, std::max<uint64_t>(when, kTcpRtoMin), kTcpRtoMax);
      }
    }
    if (sk.tlp_high_seq != 0) process_tlp_ack(sk, ack, flag);
    return 1;
  }
  uint32_t acked_pkts = 0;
  flag |= clean_rtx_queue(cpu, sk, prior_fack, prior_snd_una, &sack_rtt, &acked_pkts);
  rack_update_reo_wnd(sk, rs_.prior_delivered);
  if (sk.tlp_high_seq != 0) process_tlp_ack(sk, ack, flag);
  // tcp_ack_is_dubious
  const bool dubious = (flag & kFlagNotDup) == 0 || (flag & kFlagCaAlert) != 0 || sk.ca_state != TcpCaState::Open;
  if (dubious) {
    int num_dupack = 0;
    if ((flag & (kFlagSndUnaAdvanced | kFlagNotDup | kFlagDsackingAck)) == 0) num_dupack = 1;
    fastretrans_alert(cpu, sk, prior_snd_una, num_dupack, &flag, &rexmit);
  }
  if ((flag & kFlagSetXmitTimer) != 0) set_xmit_timer(sk);
  // tcp_newly_delivered, tcp_rate_gen, tcp_cong_control
  const uint32_t delivered = sk.delivered - delivered0;
  newly_delivered(sk, delivered, flag);
  const uint32_t lost = sk.lost - lost0;
  rate_gen(sk, delivered, rs_.prior_mstamp, rs_.prior_delivered, rs_.is_app_limited, 0);
  cong_control(sk, ack, delivered, flag, lost);
  xmit_recovery(cpu, sk, rexmit);
  if ((flag & kFlagSndUnaAdvanced) != 0) new_space(cpu, sk);
  if (model::TraceSink* ts = net_.trace_sink(); ts != nullptr) [[unlikely]] {
    // the window after this ACK, a counter track per local port (not a packet's step)
    const uint64_t t = static_cast<uint64_t>(cpu.now().ps());
    ts->trace(net_.trace_source(), model::TraceEvent{t, t, TraceKind::TcpCwnd, model::kNoStep, sk.num, sk.snd_cwnd,
                                                     uint64_t{sk.snd_ssthresh} << 32 | (sk.srtt_us >> 3), 0});
  }
  return 1;
}

void TcpEngine::update_pacing_rate(TcpSock& sk) {
  // tcp_update_pacing_rate: 200 % of cwnd * mss / srtt in slow start (below ssthresh / 2), 120 %
  // after (tcp_pacing_ss_ratio / tcp_pacing_ca_ratio); nothing paces by it without fq (part 3b),
  // but ss prints it and CUBIC's HyStart reads it
  uint64_t rate = uint64_t{sk.mss_cache} * ((1000000 / 100) << 3);
  rate *= sk.snd_cwnd < sk.snd_ssthresh / 2 ? 200u : 120u;
  rate *= std::max(sk.snd_cwnd, sk.packets_out);
  if (sk.srtt_us != 0) rate /= sk.srtt_us;
  sk.sk_pacing_rate = rate;
}

void TcpEngine::cong_control(TcpSock& sk, uint32_t ack, uint32_t acked_sacked, int flag, uint32_t newly_lost) {
  if (sk.ca_state == TcpCaState::Cwr || sk.ca_state == TcpCaState::Recovery) {
    cwnd_reduction(sk, static_cast<int>(acked_sacked), static_cast<int>(newly_lost), flag);
  } else {
    // tcp_may_raise_cwnd
    const bool may = sk.reordering > sys_.tcp_reordering ? (flag & kFlagForwardProgress) != 0 : (flag & kFlagDataAcked) != 0;
    if (may && sk.ca) {
      sk.ca->cong_avoid(sk, ack, acked_sacked);
      sk.snd_cwnd_stamp = sk.tcp_jiffies32;
    }
  }
  update_pacing_rate(sk);
}

// ------------------------------------------------------------------------------ validation

bool TcpEngine::validate_incoming(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th, bool syn_inerr) {
  const uint32_t seq = th.seq;
  const uint32_t end_seq = seq + skb->len + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
  const bool rst = (th.flags & kTcpRst) != 0, syn = (th.flags & kTcpSyn) != 0;
  auto discard = [&](SkbDropReason r, HostDrop c) {
    if (c == HostDrop::TcpOutOfWindow) ++stats_.out_of_window;
    if (c == HostDrop::TcpBadSegment) ++stats_.bad_segment;
    net_.drop(cpu, skb, r, ingress(21), host_drop(c));
    return false;
  };
  auto syn_challenge = [&]() {
    if (syn_inerr) ++mib_.InErrs;
    ++ext_[LinuxMib::TCPSYNChallenge];
    send_challenge_ack(cpu, sk);
    return discard(SkbDropReason::TcpInvalidSyn, HostDrop::TcpBadSegment);
  };
  auto do_reset = [&]() {
    reset(cpu, sk);
    net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
    return false;
  };
  const auto reset_check = [&]() {
    return seq == sk.rcv_nxt - 1 &&
           (sk.tstate == TcpState::CloseWait || sk.tstate == TcpState::LastAck || sk.tstate == TcpState::Closing);
  };
  if (sk.saw_tstamp && paws_discard(sk, th)) {
    if (!rst) {
      if (syn) return syn_challenge();
      ++ext_[LinuxMib::PAWSEstab];
      if (!oow_rate_limited(sk, seq, end_seq, syn, LinuxMib::TCPACKSkippedPAWS, sk.last_oow_ack_time)) {
        send_dupack(cpu, sk, seq, end_seq);
      }
      return discard(SkbDropReason::TcpRfc7323Paws, HostDrop::TcpPawsDrop);
    }
  }
  // tcp_sequence
  if (seq_before(end_seq, sk.rcv_wup) || seq_after(seq, sk.rcv_nxt + receive_window(sk))) {
    if (!rst) {
      if (syn) return syn_challenge();
      if (!oow_rate_limited(sk, seq, end_seq, syn, LinuxMib::TCPACKSkippedSeq, sk.last_oow_ack_time)) {
        send_dupack(cpu, sk, seq, end_seq);
      }
    } else if (reset_check()) {
      return do_reset();
    }
    if (!rst && seq_before(end_seq, sk.rcv_wup) && skb->len > 0) {
      return discard(SkbDropReason::TcpOldData, HostDrop::TcpOldData);
    }
    return discard(SkbDropReason::TcpInvalidSequence, HostDrop::TcpOutOfWindow);
  }
  if (rst) {
    if (seq == sk.rcv_nxt || reset_check()) return do_reset();
    if (sk.sack_ok && !sk.selective_acks.empty()) {
      uint32_t max_sack = sk.selective_acks[0].end;
      for (const auto& b : sk.selective_acks) {
        if (seq_after(b.end, max_sack)) max_sack = b.end;
      }
      if (seq == max_sack) return do_reset();
    }
    send_challenge_ack(cpu, sk);
    return discard(SkbDropReason::TcpReset, HostDrop::TcpBadSegment);
  }
  if (syn) return syn_challenge();
  return true;
}

void TcpEngine::reset(Cpu& cpu, TcpSock& sk) {
  // tcp_reset
  int err = kECONNRESET;
  switch (sk.tstate) {
    case TcpState::SynSent: err = kECONNREFUSED; break;
    case TcpState::CloseWait: err = kEPIPE; break;
    case TcpState::Close: return;
    default: break;
  }
  sk.err = err;
  // 6.1's order: the queues purged, tcp_done, then sk_error_report unless SOCK_DEAD
  const bool orphan = sk.orphan;
  write_queue_purge(sk, true, &cpu);
  tcp_done(cpu, sk);
  if (!orphan) sk.error_report(cpu);
}

// ------------------------------------------------------------------------------ the state machine

void TcpEngine::init_transfer(Cpu& cpu, TcpSock& sk) {
  (void)cpu;
  // tcp_init_metrics without a metrics cache: no RTT from the handshake -> 3 s (TCP_TIMEOUT_FALLBACK)
  if (sk.srtt_us == 0) {
    sk.rttvar_us = jiffies_to_usecs(3 * kHz);
    sk.mdev_us = sk.mdev_max_us = sk.rttvar_us;
    sk.rto_jiffies = 3 * kHz;
  }
  if (sk.total_retrans > 1 && sk.undo_marker != 0) {
    sk.snd_cwnd = 1;
  } else {
    sk.snd_cwnd = kTcpInitCwnd;
  }
  sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  sk.ca_counters = &hystart_counters_;
  // sk_setup_caps: TCP always has GSO (NETIF_F_GSO whatever the device's features say, so
  // `ethtool -K gso off` does not stop it; the device then cuts in software), with
  // sk_gso_max_size = the device's gso_max_size less MAX_TCP_HEADER + 1 and sk_gso_max_segs =
  // max(its gso_max_segs, 1): gso_max_segs 0 or 1 is what gives one segment an skb
  {
    const NetStack::RouteOut rt = net_.route_output(sk.daddr, sk.bound_dev_if);
    const NetDevice* dev = net_.dev_by_index(rt.oif);
    sk.sk_gso_max_size = dev != nullptr ? dev->gso_max_size - (kMaxTcpHeader + 1) : 0;
    sk.gso_max_segs = dev != nullptr ? static_cast<uint16_t>(std::max<uint32_t>(dev->gso_max_segs, 1)) : 0;
  }
  update_pacing_rate(sk);
  if (sk.ca) sk.ca->init(sk);
  init_buffer_space(sk);
}

void TcpEngine::finish_connect(Cpu& cpu, TcpSock& sk) {
  set_state(sk, TcpState::Established);
  sk.ack_lrcvtime = sk.tcp_jiffies32;
  init_transfer(cpu, sk);
  sk.lsndtime = sk.tcp_jiffies32;
  if (sk.keepalive) set_keepalive(sk, true);
  sk.fast_path = sk.snd_wscale == 0;
}

void TcpEngine::rcv_state_process(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th) {
  mstamp_refresh(cpu, sk);
  const bool ackf = (th.flags & kTcpAck) != 0, rst = (th.flags & kTcpRst) != 0, syn = (th.flags & kTcpSyn) != 0;
  auto discard = [&](SkbDropReason r) {
    ++stats_.bad_segment;
    net_.drop(cpu, skb, r, ingress(21), host_drop(HostDrop::TcpBadSegment));
  };
  switch (sk.tstate) {
    case TcpState::Close: {
      ++stats_.bad_segment;
      send_reset(cpu, *skb, th, skb->len);
      net_.drop(cpu, skb, SkbDropReason::TcpClose, ingress(21), host_drop(HostDrop::TcpBadSegment));
      return;
    }
    case TcpState::Listen: {
      if (ackf) {
        send_reset(cpu, *skb, th, skb->len);
        return discard(SkbDropReason::TcpFlags);
      }
      if (rst) return discard(SkbDropReason::TcpReset);
      if (syn) {
        if ((th.flags & kTcpFin) != 0) return discard(SkbDropReason::TcpFlags);
        return conn_request(cpu, sk, skb, th);
      }
      return discard(SkbDropReason::TcpFlags);
    }
    case TcpState::SynSent: {
      // tcp_rcv_synsent_state_process
      sk.saw_tstamp = th.options.has_timestamp && sys_.tcp_timestamps;
      if (sk.saw_tstamp) {
        sk.rcv_tsval = th.options.tsval;
        sk.rcv_tsecr = th.options.tsecr != 0 ? th.options.tsecr - sk.tsoffset : 0;
      }
      if (ackf) {
        if (!seq_after(th.ack, sk.snd_una) || seq_after(th.ack, sk.snd_nxt)) {
          if (sk.retransmits == 0) reset_xmit_timer(sk, kTimeRetrans, kTcpTimeoutMin, kTcpRtoMax);
          if (!rst) send_reset(cpu, *skb, th, skb->len);
          return discard(SkbDropReason::TcpFlags);
        }
        if (sk.saw_tstamp && sk.rcv_tsecr != 0 &&
            !between(sk.rcv_tsecr, sk.retrans_stamp != 0 ? sk.retrans_stamp : time_stamp_ms(sk) - 1000000, time_stamp_ms(sk))) {
          ++ext_[LinuxMib::PAWSActive];
          send_reset(cpu, *skb, th, skb->len);
          ++stats_.bad_segment;
          net_.drop(cpu, skb, SkbDropReason::TcpRfc7323Paws, ingress(21), host_drop(HostDrop::TcpPawsDrop));
          return;
        }
        if (rst) {
          reset(cpu, sk);
          net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
          return;
        }
        if (!syn) return discard(SkbDropReason::TcpFlags);
        // our SYN is acked: options, sequence numbers, ESTABLISHED
        const wire::TcpOptions& o = th.options;
        if (o.mss != 0) sk.mss_clamp = sk.user_mss != 0 && sk.user_mss < o.mss ? sk.user_mss : o.mss;
        sk.wscale_ok = sys_.tcp_window_scaling && o.has_wscale;
        sk.snd_wscale = sk.wscale_ok ? std::min<uint8_t>(o.wscale, wire::kTcpMaxWscale) : 0;
        sk.sack_ok = sys_.tcp_sack && o.sack_permitted;
        sk.snd_wl1 = th.seq;
        sk.irs = th.seq;
        ecn_rcv_synack(sk, th);
        tcp_ack(cpu, sk, skb, th, kFlagSlowpath);
        sk.rcv_nxt = th.seq + 1;
        sk.rcv_wup = th.seq + 1;
        sk.snd_wnd = th.window;
        sk.max_window = std::max(sk.max_window, sk.snd_wnd);
        if (!sk.wscale_ok) {
          sk.snd_wscale = sk.rcv_wscale = 0;
          sk.window_clamp = std::min<uint32_t>(sk.window_clamp, 65535);
        }
        if (sk.saw_tstamp) {
          sk.tstamp_ok = true;
          sk.tcp_header_len = 32;
          sk.advmss = static_cast<uint16_t>(sk.advmss - 12);
          store_ts_recent(sk);
        } else {
          sk.tcp_header_len = 20;
        }
        sync_mss(sk, sk.pmtu_cookie);
        sk.ack_rcv_mss = std::clamp<uint32_t>(std::min<uint32_t>(sk.advmss, sk.mss_cache), kTcpMinMss, kTcpMssDefault);
        sk.copied_seq = sk.rcv_nxt;
        finish_connect(cpu, sk);
        if (!sk.orphan) sk.wq.wake(kEpollOut | kEpollWrNorm, &cpu);
        net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
        send_ack(cpu, sk);
        push_pending_frames(cpu, sk);
        return;
      }
      if (rst) return discard(SkbDropReason::TcpReset);
      if (syn) {
        // simultaneous open: SYN-RECEIVED, our SYN again with an ACK
        set_state(sk, TcpState::SynRecv);
        ecn_rcv_syn(sk, th);
        const wire::TcpOptions& o = th.options;
        if (o.mss != 0) sk.mss_clamp = o.mss;
        sk.wscale_ok = sys_.tcp_window_scaling && o.has_wscale;
        sk.snd_wscale = sk.wscale_ok ? std::min<uint8_t>(o.wscale, wire::kTcpMaxWscale) : 0;
        if (!sk.wscale_ok) sk.rcv_wscale = 0;
        sk.sack_ok = sys_.tcp_sack && o.sack_permitted;
        if (sk.saw_tstamp) {
          sk.tstamp_ok = true;
          store_ts_recent(sk);
          sk.tcp_header_len = 32;
        } else {
          sk.tcp_header_len = 20;
        }
        sk.irs = th.seq;
        sk.rcv_nxt = th.seq + 1;
        sk.copied_seq = sk.rcv_nxt;
        sk.rcv_wup = th.seq + 1;
        sk.snd_wnd = th.window;
        sk.snd_wl1 = th.seq;
        sk.max_window = sk.snd_wnd;
        sync_mss(sk, sk.pmtu_cookie);
        net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
        // tcp_send_synack: the SYN on the queue becomes a SYN-ACK
        if (!sk.rtx.empty()) {
          sk.rtx.front().flags |= kTcpAck;
          (void)transmit(cpu, sk, sk.rtx.front(), true, sk.rcv_nxt);
        }
        return;
      }
      return discard(SkbDropReason::TcpFlags);
    }
    default: break;
  }
  parse_options(sk, th);
  if (!ackf && !rst && !syn) return discard(SkbDropReason::TcpFlags);
  if (!validate_incoming(cpu, sk, skb, th, false)) return;
  const bool was_synrecv = sk.tstate == TcpState::SynRecv;
  const int r = tcp_ack(cpu, sk, skb, th, kFlagSlowpath | kFlagUpdateTsRecent | kFlagNoChallengeAck);
  if (r <= 0) {  // not acceptable (tcp_rcv_state_process: acceptable = tcp_ack() > 0)
    if (was_synrecv) {
      send_reset(cpu, *skb, th, skb->len);
      return discard(SkbDropReason::TcpOldAck);
    }
    send_challenge_ack(cpu, sk);
    return discard(r < 0 ? static_cast<SkbDropReason>(-r) : SkbDropReason::TcpOldAck);
  }
  switch (sk.tstate) {
    case TcpState::SynRecv: {
      ++sk.delivered;
      if (sk.srtt_us == 0 && sk.first_tx_mstamp != 0 && sk.total_retrans == 0) {  // tcp_synack_rtt_meas: !num_retrans
        const int64_t rtt = static_cast<int64_t>(sk.tcp_mstamp - sk.first_tx_mstamp);
        ack_update_rtt(sk, kFlagSynAcked, rtt, -1, rtt);
      }
      sk.retrans_stamp = 0;
      sk.snd_una = th.ack;
      sk.snd_wnd = uint32_t{th.window} << sk.snd_wscale;
      sk.snd_wl1 = th.seq;
      sk.max_window = std::max(sk.max_window, sk.snd_wnd);
      init_transfer(cpu, sk);
      sk.copied_seq = sk.rcv_nxt;
      set_state(sk, TcpState::Established);
      if (sk.tstamp_ok) sk.advmss = static_cast<uint16_t>(sk.advmss - 12);
      sk.lsndtime = sk.tcp_jiffies32;
      sk.ack_rcv_mss = std::clamp<uint32_t>(std::min<uint32_t>(sk.advmss, sk.mss_cache), kTcpMinMss, kTcpMssDefault);
      sk.fast_path = true;
      if (sk.keepalive) set_keepalive(sk, true);
      if (!sk.orphan && sk.parent == nullptr) sk.wq.wake(kEpollOut | kEpollWrNorm, &cpu);
      break;
    }
    case TcpState::FinWait1: {
      if (sk.snd_una != sk.write_seq) break;
      set_state(sk, TcpState::FinWait2);
      sk.shutdown |= kSendShutdown;
      if (!sk.orphan) {
        sk.wq.wake(kEpollOut | kEpollHup, &cpu);
        break;
      }
      const uint32_t end_seq = th.seq + skb->len + ((th.flags & kTcpFin) != 0);
      if (end_seq != th.seq && seq_after(end_seq - ((th.flags & kTcpFin) != 0), sk.rcv_nxt)) {
        ++ext_[LinuxMib::TCPAbortOnData];
        send_reset(cpu, *skb, th, skb->len);
        net_.drop(cpu, skb, SkbDropReason::TcpClose, ingress(21), host_drop(HostDrop::TcpClosedData));
        ++stats_.closed;
        tcp_done(cpu, sk);
        return;
      }
      const uint32_t tmo = fin_time(sk);
      if ((th.flags & kTcpFin) != 0) {
        reset_keepalive_timer(sk, tmo);
      } else {
        net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
        time_wait(cpu, sk, TcpState::FinWait2, tmo);
        return;
      }
      break;
    }
    case TcpState::Closing:
      if (sk.snd_una == sk.write_seq) {
        net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
        time_wait(cpu, sk, TcpState::TimeWait, 0);
        return;
      }
      break;
    case TcpState::LastAck:
      if (sk.snd_una == sk.write_seq) {
        net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
        tcp_done(cpu, sk);
        return;
      }
      break;
    default: break;
  }
  // step 7: the segment's text
  switch (sk.tstate) {
    case TcpState::CloseWait:
    case TcpState::Closing:
    case TcpState::LastAck:
      if (!seq_before(th.seq, sk.rcv_nxt)) {
        end_packet(cpu, skb, false);
        break;
      }
      [[fallthrough]];
    case TcpState::FinWait1:
    case TcpState::FinWait2:
      if ((sk.shutdown & kRcvShutdown) != 0) {
        const uint32_t end_seq = th.seq + skb->len + ((th.flags & kTcpFin) != 0);
        if (end_seq != th.seq && seq_after(end_seq - ((th.flags & kTcpFin) != 0), sk.rcv_nxt)) {
          ++ext_[LinuxMib::TCPAbortOnData];
          ++stats_.closed;
          send_reset(cpu, *skb, th, skb->len);
          net_.drop(cpu, skb, SkbDropReason::TcpClose, ingress(21), host_drop(HostDrop::TcpClosedData));
          reset(cpu, sk);
          return;
        }
      }
      [[fallthrough]];
    case TcpState::Established:
      data_queue(cpu, sk, skb, th);
      break;
    default:
      end_packet(cpu, skb, false);
      break;
  }
  if (sk.tstate != TcpState::Close && sk.tstate != TcpState::TimeWait && !sk.done) {
    push_pending_frames(cpu, sk);
    ack_snd_check(cpu, sk);
  }
}

void TcpEngine::rcv_established(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th) {
  mstamp_refresh(cpu, sk);
  parse_options(sk, th);
  const uint32_t len = skb->len;
  // header prediction: ACK only (PSH aside), the expected sequence number, the same window, our
  // header length, an ACK for nothing unsent, and a timestamp not older than ts_recent
  const bool hp = sk.fast_path && (th.flags & ~kTcpPsh) == kTcpAck && th.header_len() == sk.tcp_header_len &&
                  (uint32_t{th.window} << sk.snd_wscale) == sk.snd_wnd && th.seq == sk.rcv_nxt &&
                  !seq_after(th.ack, sk.snd_nxt) && sk.ofo.empty() && receive_window(sk) != 0 &&
                  (!sk.tstamp_ok || (sk.saw_tstamp && static_cast<int32_t>(sk.rcv_tsval - sk.ts_recent) >= 0));
  if (hp) {
    if (len == 0) {
      if (sk.tstamp_ok && sk.rcv_nxt == sk.rcv_wup) store_ts_recent(sk);
      tcp_ack(cpu, sk, skb, th, 0);
      net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
      push_pending_frames(cpu, sk);
      return;
    }
    if (sk.rmem_alloc + skb->truesize <= sk.rcvbuf) {
      if (sk.tstamp_ok && sk.rcv_nxt == sk.rcv_wup) store_ts_recent(sk);
      rcv_rtt_measure_ts(sk, len);
      ++ext_[LinuxMib::TCPHPHits];
      owner_r(sk, skb);
      sk.bytes_received += len;
      const uint32_t seq = th.seq;
      sk.rcv_nxt = seq + len;
      sk.rcvq.push_back(TcpRcvSeg{skb, seq, seq + len, false});
      trace(cpu, TraceKind::SockQueue, ingress(22), skb->trace_id, sk.rmem_alloc);
      event_data_recv(cpu, sk, skb, len);
      if (th.ack != sk.snd_una) {
        tcp_ack(cpu, sk, skb, th, kFlagData);
        push_pending_frames(cpu, sk);
      } else {
        sk.snd_wl1 = th.seq;
      }
      if ((sk.ack_pending & kAckSched) != 0) ack_snd_check(cpu, sk);
      if (!sk.orphan) {
        if (sk.wq.active()) trace(cpu, TraceKind::SockWake, ingress(23), skb->trace_id);
        sk.data_ready(cpu);
      }
      return;
    }
  }
  // slow path
  if ((th.flags & (kTcpAck | kTcpRst | kTcpSyn)) == 0) {
    ++stats_.bad_segment;
    net_.drop(cpu, skb, SkbDropReason::TcpFlags, ingress(21), host_drop(HostDrop::TcpBadSegment));
    return;
  }
  if (!validate_incoming(cpu, sk, skb, th, true)) return;
  const int r = tcp_ack(cpu, sk, skb, th, kFlagSlowpath | kFlagUpdateTsRecent);
  if (r < 0) {
    ++stats_.bad_segment;
    net_.drop(cpu, skb, static_cast<SkbDropReason>(-r), ingress(21), host_drop(HostDrop::TcpBadSegment));
    return;
  }
  rcv_rtt_measure_ts(sk, len);
  data_queue(cpu, sk, skb, th);
  if (sk.tstate != TcpState::Close && sk.tstate != TcpState::TimeWait && !sk.done) {
    push_pending_frames(cpu, sk);
    ack_snd_check(cpu, sk);
  }
}

void TcpEngine::new_space(Cpu& cpu, TcpSock& sk) {
  // tcp_new_space / tcp_check_space: grow the send buffer while cwnd-limited, then TCP's
  // sk_write_space, sk_stream_write_space: with free space of at least half of what is queued
  // (__sk_stream_is_writeable: sk_stream_wspace >= sk_stream_min_wspace, sk_wmem_queued under
  // sk_sndbuf), SOCK_NOSPACE goes and a blocked writer wakes. Not sock_def_write_space
  // (Sock::write_space): its test is sk_wmem_alloc, the bytes the qdisc and the device still
  // hold, and refused there the wake would be lost with SOCK_NOSPACE already clear.
  if (!sk.sndbuf_locked && sk.ca_state == TcpCaState::Open && sk.packets_in_flight() < sk.snd_cwnd) sndbuf_expand(sk);
  if (!sk.nospace) return;
  stream_write_space(cpu, sk);
}

void TcpEngine::stream_write_space(Cpu& cpu, TcpSock& sk) {
  // sk_stream_write_space: writeable (__sk_stream_is_writeable) clears SOCK_NOSPACE and wakes
  const int64_t wspace = static_cast<int64_t>(sk.sndbuf) - sk.wmem_queued;
  if (wspace < static_cast<int64_t>(sk.wmem_queued >> 1) || sk.wmem_queued >= sk.sndbuf) return;
  sk.nospace = false;
  if (!sk.orphan && sk.wq.active()) sk.wq.wake(kEpollOut | kEpollWrNorm | kEpollWrBand, &cpu);
}

}  // namespace vnic::stack

namespace vnic::stack {

void TcpEngine::tcp_cleanup_rbuf(Cpu& cpu, TcpSock& sk, int copied) {
  // tcp_cleanup_rbuf: after a read, an ACK that was held back, or a window update worth sending
  bool time_to_ack = false;
  if ((sk.ack_pending & kAckSched) != 0) {
    if (sk.rcv_nxt - sk.rcv_wup > sk.ack_rcv_mss ||
        (copied > 0 &&
         ((sk.ack_pending & kAckPushed2) != 0 || ((sk.ack_pending & kAckPushed) != 0 && sk.ack_pingpong == 0)) &&
         sk.rmem_alloc == 0)) {
      time_to_ack = true;
    }
  }
  if (copied > 0 && !time_to_ack && (sk.shutdown & kRcvShutdown) == 0) {
    const uint32_t now = receive_window(sk);
    if (2 * now <= sk.window_clamp) {
      const uint32_t new_window = select_window_raw(sk);
      if (new_window != 0 && new_window >= 2 * now) time_to_ack = true;
    }
  }
  if (time_to_ack) send_ack(cpu, sk);
}

}  // namespace vnic::stack

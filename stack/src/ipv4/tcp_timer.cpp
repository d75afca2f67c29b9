// TCP's timers (net/ipv4/tcp_timer.c, inet_connection_sock.c, tcp_minisocks.c of Linux 6.1): the
// retransmission timer with its backoff and give-up rules, the tail loss probe and RACK's reorder
// timer on the same timer, the persist (zero-window probe) timer, delayed ACKs, keepalive, the
// SYN-ACK timer of request socks, FIN-WAIT-2 and TIME-WAIT. Every timer runs on the timer wheel's
// tick (HZ 250), rounded up as calc_wheel_index rounds it.
#include <algorithm>

#include "tcp_engine.hpp"

namespace vnic::stack {

using model::egress;
using model::host_drop;
using model::HostDrop;
using model::ingress;
using wire::seq_after;
using wire::seq_before;

namespace {
constexpr uint64_t kKindXmit = 1, kKindDack = 2, kKindKeepalive = 3, kKindComp = 4;
}  // namespace

Instant timer_wheel_expiry(Instant now, uint64_t delta_jiffies) {
  const uint64_t clk = jiffies(now);
  const uint64_t expires = clk + delta_jiffies;
  // LVL_START(n) = 63 << 3(n-1); granularity 8^lvl
  unsigned lvl = 0;
  for (unsigned n = 1; n < 9; ++n) {
    if (delta_jiffies < (uint64_t{63} << (3 * (n - 1)))) break;
    lvl = n;
  }
  const unsigned shift = 3 * lvl;
  const uint64_t bucket = ((expires >> shift) + 1) << shift;
  return Instant::from_ps(static_cast<int64_t>(bucket) * kJiffy.ps());
}

void TcpEngine::on_timer(void* ctx, uint64_t arg) {
  auto* e = static_cast<TcpEngine*>(ctx);
  e->on_timer_one(arg);
  e->reap();
}

void TcpEngine::on_timer_one(uint64_t arg) {
  TcpEngine* e = this;
  TcpSock* sk = e->by_ino(arg >> 3);
  if (sk == nullptr) return;
  Cpu& cpu = e->timer_cpu();
  switch (arg & 7) {
    case kKindXmit: {
      sk->xmit_timer = 0;
      if (sk->tstate == TcpState::Close || sk->tstate == TcpState::Listen || sk->pending == 0) return;
      e->mstamp_refresh(cpu, *sk);
      const uint8_t ev = sk->pending;
      switch (ev) {
        case kTimeReoTimeout: e->rack_reo_timeout(cpu, *sk); break;
        case kTimeLossProbe: e->send_loss_probe(cpu, *sk); break;
        case kTimeRetrans:
          sk->pending = 0;
          e->retransmit_timer(cpu, *sk);
          break;
        case kTimeProbe0:
          sk->pending = 0;
          e->probe_timer(cpu, *sk);
          break;
        default: break;
      }
      return;
    }
    case kKindDack:
      sk->dack_timer = 0;
      e->delack_timer(cpu, *sk);
      return;
    case kKindKeepalive:
      sk->keepalive_timer = 0;
      if (sk->tstate == TcpState::SynRecv && sk->parent != nullptr) return e->synack_timer(cpu, *sk);
      e->keepalive_timer(cpu, *sk);
      return;
    case kKindComp:
      sk->comp_timer = 0;
      if (sk->compressed_ack != 0) {
        --sk->compressed_ack;
        e->send_ack(cpu, *sk);
      }
      return;
    default: return;
  }
}

// ------------------------------------------------------------------------------ arming

void TcpEngine::reset_xmit_timer(TcpSock& sk, uint8_t what, uint64_t when, uint64_t max_when) {
  when = std::min(when, max_when);
  sk.pending = what;
  const Instant at = timer_wheel_expiry(sk.now, when);
  sk.xmit_timeout = Instant::from_ps(static_cast<int64_t>(jiffies(sk.now) + when) * kJiffy.ps());
  Cpu& c = timer_cpu();
  if (sk.xmit_timer != 0) c.cancel(sk.xmit_timer - 1);
  sk.xmit_timer = 1 + c.call_at(at, &TcpEngine::on_timer, this, sk.ino << 3 | kKindXmit);
}

void TcpEngine::clear_xmit_timer(TcpSock& sk) {
  sk.pending = 0;
  if (sk.xmit_timer != 0) timer_cpu().cancel(sk.xmit_timer - 1);
  sk.xmit_timer = 0;
}

int64_t TcpEngine::rto_delta_us(const TcpSock& sk) const {
  if (sk.rtx.empty()) return 0;
  const uint64_t rto_at = sk.rtx.front().mstamp_us + uint64_t{sk.rto_jiffies} * (1000000 / kHz);
  return static_cast<int64_t>(rto_at) - static_cast<int64_t>(sk.tcp_mstamp);
}

void TcpEngine::rearm_rto(TcpSock& sk) {
  if (sk.packets_out == 0) {
    if (sk.pending == kTimeRetrans || sk.pending == kTimeLossProbe || sk.pending == kTimeReoTimeout) clear_xmit_timer(sk);
    return;
  }
  uint64_t rto = sk.rto_jiffies;
  if (sk.pending == kTimeReoTimeout || sk.pending == kTimeLossProbe) {
    const int64_t delta = rto_delta_us(sk);
    rto = usecs_to_jiffies(static_cast<uint64_t>(std::max<int64_t>(delta, 1)));
  }
  reset_xmit_timer(sk, kTimeRetrans, rto, kTcpRtoMax);
}

void TcpEngine::set_xmit_timer(TcpSock& sk) {
  if (!schedule_loss_probe(sk, true)) rearm_rto(sk);
}

void TcpEngine::reset_dack_timer(TcpSock& sk, Instant when) {
  Cpu& c = timer_cpu();
  if (sk.dack_timer != 0) c.cancel(sk.dack_timer - 1);
  sk.dack_timeout = when;
  sk.dack_timer = 1 + c.call_at(when, &TcpEngine::on_timer, this, sk.ino << 3 | kKindDack);
}

void TcpEngine::clear_dack_timer(TcpSock& sk) {
  if (sk.dack_timer != 0) timer_cpu().cancel(sk.dack_timer - 1);
  sk.dack_timer = 0;
}

void TcpEngine::reset_keepalive_timer(TcpSock& sk, uint64_t when_jiffies) {
  Cpu& c = timer_cpu();
  if (sk.keepalive_timer != 0) c.cancel(sk.keepalive_timer - 1);
  const Instant base = std::max(sk.now, c.now());
  sk.keepalive_timer =
      1 + c.call_at(timer_wheel_expiry(base, when_jiffies), &TcpEngine::on_timer, this, sk.ino << 3 | kKindKeepalive);
}

void TcpEngine::clear_keepalive_timer(TcpSock& sk) {
  if (sk.keepalive_timer != 0) timer_cpu().cancel(sk.keepalive_timer - 1);
  sk.keepalive_timer = 0;
}

// ------------------------------------------------------------------------------ retransmission

bool TcpEngine::retransmits_timed_out(const TcpSock& sk, uint32_t boundary, uint32_t timeout_ms) const {
  if (sk.retransmits == 0) return false;
  const uint32_t start_ts = sk.retrans_stamp;
  if (timeout_ms == 0) {
    const uint32_t rto_base =
        (sk.tstate == TcpState::SynSent || sk.tstate == TcpState::SynRecv) ? kTcpTimeoutInit : kTcpRtoMin;
    // tcp_model_timeout: the time the backoff takes to reach `boundary` retransmissions
    uint32_t thresh = 0;
    for (uint32_t v = kTcpRtoMax / rto_base; v > 1; v >>= 1) ++thresh;
    uint64_t timeout;
    if (boundary <= thresh) {
      timeout = ((uint64_t{2} << boundary) - 1) * rto_base;
    } else {
      timeout = ((uint64_t{2} << thresh) - 1) * rto_base + uint64_t{boundary - thresh} * kTcpRtoMax;
    }
    timeout_ms = static_cast<uint32_t>(timeout * 1000 / kHz);
  }
  return static_cast<int32_t>(time_stamp_ms(sk) - start_ts - timeout_ms) >= 0;
}

void TcpEngine::write_err(Cpu& cpu, TcpSock& sk) {
  sk.err = sk.err_soft != 0 ? sk.err_soft : kETIMEDOUT;  // sk_err_soft ?: ETIMEDOUT
  if (!sk.orphan) sk.error_report(cpu);
  write_queue_purge(sk, true, &cpu);
  ++ext_[LinuxMib::TCPAbortOnTimeout];
  tcp_done(cpu, sk);
}

bool TcpEngine::write_timeout(Cpu& cpu, TcpSock& sk) {
  bool expired = false;
  uint32_t retry_until;
  if (sk.tstate == TcpState::SynSent || sk.tstate == TcpState::SynRecv) {
    retry_until = sk.syn_retries != 0 ? sk.syn_retries : static_cast<uint32_t>(sys_.tcp_syn_retries);
    expired = sk.retransmits >= retry_until;
  } else {
    retry_until = static_cast<uint32_t>(sys_.tcp_retries2);
    if (sk.orphan) {
      const bool alive = sk.rto_jiffies < kTcpRtoMax;
      uint32_t r = static_cast<uint32_t>(sys_.tcp_orphan_retries);
      if (r == 0 && alive) r = 8;
      retry_until = r;
    }
  }
  if (!expired) expired = retransmits_timed_out(sk, retry_until, 0);
  if (expired) {
    write_err(cpu, sk);
    return true;
  }
  return false;
}

void TcpEngine::retransmit_timer(Cpu& cpu, TcpSock& sk) {
  if (sk.packets_out == 0 || sk.rtx.empty()) return;
  sk.tlp_high_seq = 0;
  if (sk.snd_wnd == 0 && !sk.orphan && sk.tstate != TcpState::SynSent && sk.tstate != TcpState::SynRecv) {
    // the receiver shrank its window to nothing: retransmissions are zero-window probes
    // 6.1: no ACK at all for TCP_RTO_MAX gives up
    if (sk.tcp_jiffies32 - sk.rcv_tstamp > kTcpRtoMax) {
      write_err(cpu, sk);
      return;
    }
    enter_loss(sk);
    (void)retransmit_skb(cpu, sk, 0, 1);
  } else {
    ++ext_[LinuxMib::TCPTimeouts];
    if (write_timeout(cpu, sk)) return;
    if (sk.retransmits == 0) {
      LinuxMib m = LinuxMib::kCount;
      if (sk.ca_state == TcpCaState::Recovery) {
        m = sk.is_sack() ? LinuxMib::TCPSackRecoveryFail : LinuxMib::TCPRenoRecoveryFail;
      } else if (sk.ca_state == TcpCaState::Loss) {
        m = LinuxMib::TCPLossFailures;
      } else if (sk.ca_state == TcpCaState::Disorder || sk.sacked_out != 0) {
        m = sk.is_sack() ? LinuxMib::TCPSackFailures : LinuxMib::TCPRenoFailures;
      }
      if (m != LinuxMib::kCount) ++ext_[m];
    }
    enter_loss(sk);
    ++sk.retransmits;
    if (retransmit_skb(cpu, sk, 0, 1) > 0) {
      reset_xmit_timer(sk, kTimeRetrans, kTcpResourceProbeInterval, kTcpRtoMax);
      return;
    }
    ++sk.backoff;
  }
  sk.rto_jiffies = std::min<uint32_t>(sk.rto_jiffies << 1, kTcpRtoMax);
  reset_xmit_timer(sk, kTimeRetrans, sk.rto_jiffies, kTcpRtoMax);
}

void TcpEngine::ld_rto_revert(Cpu& cpu, TcpSock& sk, uint32_t seq) {
  // tcp_ld_RTO_revert (RFC 6069): a net or host unreachable quoting snd_una while the RTO backs
  // off means the path, not congestion, lost the segment: one step of backoff is undone, and the
  // timer is re-armed for what is left of the shorter RTO since the head's last transmission, or
  // the retransmission goes now if none is left.
  if (seq != sk.snd_una || sk.retransmits == 0 || sk.backoff == 0 || sk.rtx.empty()) return;
  --sk.backoff;
  if (sk.srtt_us != 0) {
    set_rto(sk);
  } else {
    sk.rto_jiffies = kTcpTimeoutInit;
  }
  sk.rto_jiffies = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{sk.rto_jiffies} << sk.backoff, kTcpRtoMax));
  mstamp_refresh(cpu, sk);
  const uint64_t delta_us = sk.tcp_mstamp - sk.rtx.front().mstamp_us;
  const int64_t remaining = static_cast<int64_t>(sk.rto_jiffies) - static_cast<int64_t>(usecs_to_jiffies(delta_us));
  if (remaining > 0) {
    reset_xmit_timer(sk, kTimeRetrans, static_cast<uint64_t>(remaining), kTcpRtoMax);
  } else {
    retransmit_timer(cpu, sk);
  }
}

void TcpEngine::probe_timer(Cpu& cpu, TcpSock& sk) {
  if (sk.packets_out != 0 || sk.wqueue.empty()) {
    sk.probes_out = 0;
    return;
  }
  uint32_t max_probes = static_cast<uint32_t>(sys_.tcp_retries2);
  if (sk.orphan) {
    const bool alive = (uint64_t{sk.rto_jiffies} << sk.backoff) < kTcpRtoMax;
    max_probes = sys_.tcp_orphan_retries != 0 ? static_cast<uint32_t>(sys_.tcp_orphan_retries) : (alive ? 8u : 0u);
    if (!alive && sk.backoff >= max_probes) {
      write_err(cpu, sk);
      return;
    }
  }
  if (sk.probes_out >= max_probes) {
    write_err(cpu, sk);
  } else {
    send_probe0(cpu, sk);
  }
}

// ------------------------------------------------------------------------------ delayed ACK

void TcpEngine::delack_timer(Cpu& cpu, TcpSock& sk) {
  if (sk.tstate == TcpState::Close || sk.tstate == TcpState::Listen) return;
  mstamp_refresh(cpu, sk);
  if ((sk.ack_pending & kAckTimer) == 0) return;
  if (static_cast<int32_t>(sk.dack_timeout_j - sk.tcp_jiffies32) > 0) {
    reset_dack_timer(sk, timer_wheel_expiry(sk.now, sk.dack_timeout_j - sk.tcp_jiffies32));
    return;
  }
  sk.ack_pending &= static_cast<uint8_t>(~kAckTimer);
  if ((sk.ack_pending & kAckSched) != 0) {
    if (sk.ack_pingpong == 0) {
      sk.ack_ato = std::min(sk.ack_ato << 1, sk.rto_jiffies);
    } else {
      sk.ack_pingpong = 0;
      sk.ack_ato = kTcpAtoMin;
    }
    send_ack(cpu, sk);
    ++ext_[LinuxMib::DelayedACKs];
  }
}

// ------------------------------------------------------------------------------ keepalive, SYN-ACK, TIME-WAIT

void TcpEngine::set_keepalive(TcpSock& sk, bool on) {
  if (sk.tstate == TcpState::Close || sk.tstate == TcpState::Listen) {
    sk.keepalive = on;
    return;
  }
  if (on && !(sk.keepalive && sk.keepalive_timer != 0)) {
    sk.keepalive = true;
    const int t = sk.keepalive_time_s != 0 ? sk.keepalive_time_s : sys_.tcp_keepalive_time_s;
    reset_keepalive_timer(sk, static_cast<uint64_t>(t) * kHz);
  } else if (!on) {
    sk.keepalive = false;
    clear_keepalive_timer(sk);
  }
}

void TcpEngine::keepalive_timer(Cpu& cpu, TcpSock& sk) {
  mstamp_refresh(cpu, sk);
  if (sk.tw) {
    // inet_twsk's timer: TIME-WAIT (or an orphan's FIN-WAIT-2) is over
    ++ext_[sk.tw_kill ? LinuxMib::TWKilled : LinuxMib::TW];
    destroy(&sk);
    return;
  }
  if (sk.tstate == TcpState::FinWait2 && sk.orphan) {
    send_active_reset(cpu, sk);
    tcp_done(cpu, sk);
    return;
  }
  if (!sk.keepalive || sk.tstate == TcpState::Close || sk.tstate == TcpState::SynSent || sk.tstate == TcpState::Listen) return;
  const uint32_t time_when = static_cast<uint32_t>((sk.keepalive_time_s != 0 ? sk.keepalive_time_s : sys_.tcp_keepalive_time_s) * kHz);
  const uint32_t intvl_when = static_cast<uint32_t>((sk.keepalive_intvl_s != 0 ? sk.keepalive_intvl_s : sys_.tcp_keepalive_intvl_s) * kHz);
  const uint32_t probes = static_cast<uint32_t>(sk.keepalive_probes != 0 ? sk.keepalive_probes : sys_.tcp_keepalive_probes);
  uint32_t elapsed = time_when;
  if (sk.packets_out == 0 && sk.wqueue.empty()) {
    const uint32_t last = static_cast<int32_t>(sk.ack_lrcvtime - sk.rcv_tstamp) > 0 ? sk.ack_lrcvtime : sk.rcv_tstamp;
    elapsed = sk.tcp_jiffies32 - last;
    if (elapsed >= time_when) {
      if (sk.probes_out >= probes) {
        send_active_reset(cpu, sk);
        write_err(cpu, sk);
        return;
      }
      if (write_wakeup(cpu, sk, LinuxMib::TCPKeepAlive) <= 0) {
        ++sk.probes_out;
        elapsed = intvl_when;
      } else {
        elapsed = kTcpResourceProbeInterval;
      }
    } else {
      elapsed = time_when - elapsed;
    }
  }
  reset_keepalive_timer(sk, elapsed);
}

void TcpEngine::synack_timer(Cpu& cpu, TcpSock& req) {
  // reqsk_timer_handler
  mstamp_refresh(cpu, req);
  const uint32_t max_retries = static_cast<uint32_t>(sys_.tcp_synack_retries);
  ++ext_[LinuxMib::TCPTimeouts];
  const bool expire = req.retransmits >= max_retries;
  if (!expire) {
    if (transmit_synack(cpu, req) == 0) {
      ++mib_.RetransSegs;
      ++ext_[LinuxMib::TCPSynRetrans];
      ++req.total_retrans;
    }
    ++req.retransmits;
    const uint64_t timeo = std::min<uint64_t>(uint64_t{kTcpTimeoutInit} << req.retransmits, kTcpRtoMax);
    reset_keepalive_timer(req, timeo);
    return;
  }
  destroy(&req);
}

void TcpEngine::time_wait(Cpu& cpu, TcpSock& sk, TcpState st, uint32_t timeo) {
  // tcp_time_wait: a TIME-WAIT socket takes the four-tuple; the full socket is done
  TcpSock& tw = *new_sock();
  tw.tw = true;
  tw.orphan = true;
  tw.rcv_saddr = sk.rcv_saddr;
  tw.saddr = sk.saddr;
  tw.daddr = sk.daddr;
  tw.num = sk.num;
  tw.dport = sk.dport;
  tw.rcv_nxt = sk.rcv_nxt;
  tw.snd_nxt = sk.snd_nxt;
  tw.rcv_wnd = receive_window(sk);
  tw.rcv_wscale = sk.rcv_wscale;
  tw.ts_recent = sk.ts_recent;
  tw.tstamp_ok = sk.tstamp_ok;
  tw.tsoffset = sk.tsoffset;
  tw.now = sk.now;
  tw.tcp_mstamp = sk.tcp_mstamp;
  tw.tstate = st;
  const uint32_t rto = (sk.rto_jiffies << 2) - (sk.rto_jiffies >> 1);
  if (timeo < rto) timeo = rto;
  if (st == TcpState::TimeWait) timeo = 60 * kHz;
  tw.tw_kill = timeo <= 4 * kHz;
  bhash_[tw.num].push_back(&tw);
  // the hash dance: the TIME-WAIT socket replaces the full one in ehash
  ehash_del(sk);
  ehash_add(tw);
  reset_keepalive_timer(tw, timeo);
  tcp_done(cpu, sk);
}

void TcpEngine::timewait_fin_wait2(Cpu& cpu, TcpSock& tw, SkBuff* skb, const wire::TcpRepr& th) {
  // tcp_timewait_state_process for the FIN-WAIT-2 substate
  using wire::kTcpAck;
  using wire::kTcpFin;
  using wire::kTcpRst;
  using wire::kTcpSyn;
  const uint32_t end_seq = th.seq + skb->len + ((th.flags & kTcpSyn) != 0) + ((th.flags & kTcpFin) != 0);
  const bool in_window = !seq_before(end_seq, tw.rcv_nxt) && !seq_after(th.seq, tw.rcv_nxt + tw.rcv_wnd);
  auto ack = [&]() {
    wire::TcpOptions o;
    if (tw.tstamp_ok) {
      mstamp_refresh(cpu, tw);
      o.has_timestamp = true;
      o.tsval = tsval(tw);
      o.tsecr = tw.ts_recent;
    }
    send_ack_stateless(cpu, tw.rcv_saddr, tw.daddr, tw.num, tw.dport, tw.snd_nxt, tw.rcv_nxt,
                       static_cast<uint16_t>(std::min<uint32_t>(tw.rcv_wnd >> tw.rcv_wscale, 65535)), o, kTcpAck);
  };
  if (!in_window) {
    mstamp_refresh(cpu, tw);
    if (!oow_rate_limited(tw, th.seq, end_seq, (th.flags & kTcpSyn) != 0, LinuxMib::TCPACKSkippedFinWait2,
                          tw.last_oow_ack_time)) {
      ack();
    }
    ++stats_.out_of_window;
    net_.drop(cpu, skb, SkbDropReason::TcpInvalidSequence, ingress(21), host_drop(HostDrop::TcpOutOfWindow));
    return;
  }
  if ((th.flags & kTcpRst) != 0) {
    net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
    destroy(&tw);
    return;
  }
  const auto tw_rst = [&]() {
    send_reset(cpu, *skb, th, skb->len);
    ++stats_.closed;
    net_.drop(cpu, skb, SkbDropReason::TcpClose, ingress(21), host_drop(HostDrop::TcpClosedData));
  };
  if ((th.flags & kTcpSyn) != 0 && !seq_before(th.seq, tw.rcv_nxt)) return tw_rst();
  if ((th.flags & kTcpAck) == 0 || !seq_after(end_seq, tw.rcv_nxt) || end_seq == th.seq) {
    net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
    return;
  }
  if ((th.flags & kTcpFin) == 0 || end_seq != tw.rcv_nxt + 1) return tw_rst();
  tw.tstate = TcpState::TimeWait;
  tw.rcv_nxt = end_seq;
  if (th.options.has_timestamp) tw.ts_recent = th.options.tsval;
  tw.tw_kill = false;
  reset_keepalive_timer(tw, 60 * kHz);
  ack();
  net_.consume(cpu, skb, ingress(21), wire::kIpprotoTcp);
}

}  // namespace vnic::stack

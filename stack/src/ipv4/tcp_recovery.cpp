// Loss recovery (net/ipv4/tcp_input.c's SACK scoreboard and tcp_fastretrans_alert,
// tcp_recovery.c's RACK, tcp_rate.c's delivery rate, of Linux 6.1): SACK and D-SACK tagging,
// RACK-TLP loss detection (RFC 8985) with SACK, NewReno's duplicate-ACK threshold without,
// Recovery, Loss and CWR with PRR (RFC 6937), the undo of spurious reductions, F-RTO.
#include <algorithm>

#include "tcp_engine.hpp"

namespace vnic::stack {

using wire::seq_after;
using wire::seq_before;

namespace {
constexpr uint8_t kRackRecoveryThresh = 16;  // TCP_RACK_RECOVERY_THRESH
bool in_cwnd_reduction(const TcpSock& sk) { return sk.ca_state == TcpCaState::Cwr || sk.ca_state == TcpCaState::Recovery; }
// tcp_skb_sent_after: t1/seq1 sent after t2/seq2
bool sent_after(uint64_t t1, uint64_t t2, uint32_t seq1, uint32_t seq2) { return t1 > t2 || (t1 == t2 && seq_after(seq1, seq2)); }
}  // namespace

uint32_t TcpEngine::highest_sack_seq(const TcpSock& sk) const {
  if (sk.sacked_out == 0) return sk.snd_una;
  for (std::size_t i = sk.rtx.size(); i > 0; --i) {
    if ((sk.rtx[i - 1].sacked & kTcpcbSackedAcked) != 0) return sk.rtx[i - 1].end_seq;
  }
  return sk.snd_nxt;
}

uint32_t TcpEngine::current_ssthresh(const TcpSock& sk) const {
  if (in_cwnd_reduction(sk)) return sk.snd_ssthresh;
  return std::max(sk.snd_ssthresh, (sk.snd_cwnd >> 1) + (sk.snd_cwnd >> 2));
}

bool TcpEngine::any_retrans_done(const TcpSock& sk) const {
  if (sk.retrans_out != 0) return true;
  return !sk.rtx.empty() && (sk.rtx.front().sacked & kTcpcbEverRetrans) != 0;
}

void TcpEngine::set_ca_state(TcpSock& sk, TcpCaState st) {
  if (sk.ca) sk.ca->set_state(sk, st);
  sk.ca_state = st;
}

// ------------------------------------------------------------------------------ the rate sampler

void TcpEngine::rate_delivered_seg(TcpSock& sk, TcpSeg& seg) {
  if (seg.delivered_us == 0) return;
  if (rs_.prior_delivered == 0 || sent_after(seg.mstamp_us, sk.first_tx_mstamp, seg.end_seq, rs_.last_end_seq)) {
    rs_.prior_delivered = seg.tx_delivered;
    rs_.prior_mstamp = seg.delivered_us;
    rs_.is_app_limited = seg.app_limited;
    rs_.is_retrans = (seg.sacked & kTcpcbRetrans) != 0;
    rs_.last_end_seq = seg.end_seq;
    sk.first_tx_mstamp = seg.mstamp_us;
    rs_.interval_us = static_cast<int64_t>(sk.first_tx_mstamp - seg.first_tx_us);
  }
  if ((seg.sacked & kTcpcbSackedAcked) != 0) seg.delivered_us = 0;
}

void TcpEngine::rate_gen(TcpSock& sk, uint32_t delivered, uint64_t prior_mstamp, uint32_t prior_delivered,
                         bool prior_app_limited, uint64_t first_tx) {
  (void)first_tx;
  if (sk.app_limited != 0 && seq_after(sk.delivered, sk.app_limited)) sk.app_limited = 0;
  if (delivered != 0) sk.delivered_mstamp = sk.tcp_mstamp;
  if (prior_mstamp == 0 || sk.is_sack_reneg) return;
  const uint32_t rs_delivered = sk.delivered - prior_delivered;
  const int64_t snd_us = rs_.interval_us;
  const int64_t ack_us = static_cast<int64_t>(sk.tcp_mstamp - prior_mstamp);
  const int64_t interval = std::max(snd_us, ack_us);
  if (interval < static_cast<int64_t>(sk.rtt_min_us) || interval <= 0) return;
  if (!prior_app_limited ||
      uint64_t{rs_delivered} * sk.rate_interval_us >= uint64_t{sk.rate_delivered} * static_cast<uint64_t>(interval)) {
    sk.rate_delivered = rs_delivered;
    sk.rate_interval_us = static_cast<uint32_t>(std::min<int64_t>(interval, 0xFFFFFFFF));
    sk.rate_app_limited = prior_app_limited;
  }
}

// ------------------------------------------------------------------------------ SACK

int TcpEngine::sacktag_write_queue(TcpSock& sk, const wire::TcpRepr& th, uint32_t ack, uint32_t prior_snd_una,
                                   uint32_t* sack_delivered, int64_t* sack_rtt) {
  (void)sack_rtt;
  int flag = 0;
  const uint8_t n = th.options.num_sack;
  const auto& sp = th.options.sack;
  uint32_t reord = sk.snd_nxt;
  // tcp_check_dsack
  bool found_dup = false;
  if (n > 0) {
    const uint32_t s0 = sp[0].start, e0 = sp[0].end;
    bool dsack = false;
    if (seq_before(s0, ack)) {
      ++ext_[LinuxMib::TCPDSACKRecv];
      dsack = true;
    } else if (n > 1 && !seq_after(e0, sp[1].end) && !seq_before(s0, sp[1].start)) {
      ++ext_[LinuxMib::TCPDSACKOfoRecv];
      dsack = true;
    }
    if (dsack) {
      // tcp_dsack_seen
      uint32_t dup_segs = 0;
      if (seq_before(s0, e0)) {
        const uint32_t seq_len = e0 - s0;
        if (seq_len <= sk.max_window) {
          dup_segs = 1;
          if (seq_len > sk.mss_cache) {
            dup_segs = (seq_len + sk.mss_cache - 1) / sk.mss_cache;
          } else if (sk.tlp_high_seq != 0 && sk.tlp_high_seq == e0) {
            flag |= kFlagDsackTlp;
          }
          sk.dsack_dups += dup_segs;
          if (sk.dsack_dups > sk.total_retrans) {
            dup_segs = 0;
          } else {
            sk.dsack_seen = true;
            if (sk.reord_seen != 0 && (flag & kFlagDsackTlp) == 0) sk.rack_dsack_seen = true;
            flag |= kFlagDsackingAck;
            *sack_delivered += dup_segs;
            sk.delivered += dup_segs;
          }
        }
      }
      if (dup_segs == 0) {
        ++ext_[LinuxMib::TCPDSACKIgnoredDubious];
      } else {
        ext_[LinuxMib::TCPDSACKRecvSegs] += dup_segs;
        if (sk.undo_marker != 0 && sk.undo_retrans > 0 && !seq_after(e0, prior_snd_una) && seq_after(e0, sk.undo_marker)) {
          sk.undo_retrans = std::max(0, sk.undo_retrans - static_cast<int>(dup_segs));
        }
        found_dup = true;
      }
    }
  }
  if (seq_before(ack, prior_snd_una - sk.max_window)) return 0;
  if (sk.packets_out == 0) return flag;
  uint32_t highest = highest_sack_seq(sk);  // tcp_highest_sack_seq, kept up to date while tagging
  for (uint8_t i = 0; i < n; ++i) {
    const bool dup_sack = i == 0 && found_dup;
    const uint32_t start = sp[i].start, end = sp[i].end;
    // tcp_is_sackblock_valid
    bool valid;
    if (seq_after(end, sk.snd_nxt) || !seq_before(start, end) || !seq_before(start, sk.snd_nxt)) {
      valid = false;
    } else if (seq_after(start, sk.snd_una)) {
      valid = true;
    } else if (!dup_sack || sk.undo_marker == 0 || seq_after(end, sk.snd_una)) {
      valid = false;
    } else if (!seq_before(start, sk.undo_marker)) {
      valid = true;
    } else if (!seq_after(end, sk.undo_marker)) {
      valid = false;
    } else {
      valid = !seq_before(start, end - sk.max_window);
    }
    if (!valid) {
      if (dup_sack) {
        ++ext_[sk.undo_marker == 0 ? LinuxMib::TCPDSACKIgnoredNoUndo : LinuxMib::TCPDSACKIgnoredOld];
      } else {
        if (ack != sk.snd_una && !seq_after(end, sk.snd_una)) continue;
        ++ext_[LinuxMib::TCPSACKDiscard];
      }
      continue;
    }
    if (!seq_after(end, prior_snd_una)) continue;
    // tag every segment the block covers whole (tcp_sacktag_one)
    for (TcpSeg& s : sk.rtx) {
      if (!seq_after(s.end_seq, start)) continue;
      if (!seq_before(s.seq, end)) break;
      if (seq_before(s.seq, start) || seq_after(s.end_seq, end)) continue;  // a partial cover: not split
      uint8_t sacked = s.sacked;
      if (dup_sack && (sacked & kTcpcbRetrans) != 0) {
        if (sk.undo_marker != 0 && sk.undo_retrans > 0 && seq_after(s.end_seq, sk.undo_marker)) {
          sk.undo_retrans = std::max(0, sk.undo_retrans - 1);
        }
        if ((sacked & kTcpcbSackedAcked) != 0 && seq_before(s.seq, reord)) reord = s.seq;
      }
      if (!seq_after(s.end_seq, sk.snd_una)) continue;
      if ((sacked & kTcpcbSackedAcked) == 0) {
        rack_advance(sk, sacked, s.end_seq, s.mstamp_us);
        if ((sacked & kTcpcbSackedRetrans) != 0) {
          if ((sacked & kTcpcbLost) != 0) {
            sacked &= static_cast<uint8_t>(~(kTcpcbLost | kTcpcbSackedRetrans));
            sk.lost_out -= std::min(sk.lost_out, 1u);
            sk.retrans_out -= std::min(sk.retrans_out, 1u);
          }
        } else {
          if ((sacked & kTcpcbRetrans) == 0) {
            if (seq_before(s.seq, highest) && seq_before(s.seq, reord)) reord = s.seq;
            if (!seq_after(s.end_seq, sk.high_seq)) flag |= kFlagOrigSackAcked;
            if (rs_.first_sackt == 0) rs_.first_sackt = s.mstamp_us;
            rs_.last_sackt = s.mstamp_us;
          }
          if ((sacked & kTcpcbLost) != 0) {
            sacked &= static_cast<uint8_t>(~kTcpcbLost);
            sk.lost_out -= std::min(sk.lost_out, 1u);
          }
        }
        sacked |= kTcpcbSackedAcked;
        flag |= kFlagDataSacked;
        if (sk.sacked_out == 0 || seq_after(s.end_seq, highest)) highest = s.end_seq;
        ++sk.sacked_out;
        ++*sack_delivered;
        ++sk.delivered;
        s.sacked = sacked;
        rate_delivered_seg(sk, s);
        sacked = s.sacked;
      }
      if (dup_sack && (sacked & kTcpcbSackedRetrans) != 0) {
        sacked &= static_cast<uint8_t>(~kTcpcbSackedRetrans);
        sk.retrans_out -= std::min(sk.retrans_out, 1u);
      }
      s.sacked = sacked;
    }
  }
  if (sk.ca_state != TcpCaState::Loss || sk.undo_marker != 0) check_sack_reordering(sk, reord, 0);
  return flag;
}

void TcpEngine::check_sack_reordering(TcpSock& sk, uint32_t low_seq, int ts) {
  const uint32_t mss = sk.mss_cache;
  const uint32_t fack = highest_sack_seq(sk);
  if (!seq_before(low_seq, fack)) return;
  const uint32_t metric = fack - low_seq;
  if (metric > sk.reordering * mss && mss != 0) {
    sk.reordering = std::min<uint32_t>((metric + mss - 1) / mss, sys_.tcp_max_reordering);
  }
  ++sk.reord_seen;
  ++ext_[ts != 0 ? LinuxMib::TCPTSReorder : LinuxMib::TCPSACKReorder];
}

void TcpEngine::check_reno_reordering(TcpSock& sk, uint32_t addend) {
  // tcp_limit_reno_sacked
  const uint32_t holes = std::min(std::max(sk.lost_out, 1u), sk.packets_out);
  if (sk.sacked_out + holes <= sk.packets_out) return;
  sk.sacked_out = sk.packets_out - holes;
  sk.reordering = std::min<uint32_t>(sk.packets_out + addend, sys_.tcp_max_reordering);
  ++sk.reord_seen;
  ++ext_[LinuxMib::TCPRenoReorder];
}

void TcpEngine::add_reno_sack(TcpSock& sk, int num_dupack) {
  if (num_dupack == 0) return;
  const uint32_t prior = sk.sacked_out;
  sk.sacked_out += static_cast<uint32_t>(num_dupack);
  check_reno_reordering(sk, 0);
  if (sk.sacked_out > prior) sk.delivered += sk.sacked_out - prior;
}

// ------------------------------------------------------------------------------ RACK

uint32_t TcpEngine::rack_reo_wnd(const TcpSock& sk) const {
  if (sk.reord_seen == 0) {
    if (sk.ca_state >= TcpCaState::Recovery) return 0;
    if (sk.sacked_out >= sk.reordering) return 0;
  }
  return std::min((min_rtt(sk) >> 2) * sk.rack_reo_wnd_steps, sk.srtt_us >> 3);
}

void TcpEngine::rack_advance(TcpSock& sk, uint8_t sacked, uint32_t end_seq, uint64_t xmit_time) {
  const uint32_t rtt_us = static_cast<uint32_t>(sk.tcp_mstamp - xmit_time);
  if (rtt_us < min_rtt(sk) && (sacked & kTcpcbRetrans) != 0) return;
  sk.rack_advanced = true;
  sk.rack_rtt_us = rtt_us;
  if (sent_after(xmit_time, sk.rack_mstamp, end_seq, sk.rack_end_seq)) {
    sk.rack_mstamp = xmit_time;
    sk.rack_end_seq = end_seq;
  }
}

void TcpEngine::rack_detect_loss(TcpSock& sk, uint32_t* reo_timeout) {
  *reo_timeout = 0;
  const uint32_t reo_wnd = rack_reo_wnd(sk);
  // the time-sorted walk: segments by their last transmission, oldest first
  std::vector<std::size_t> order;
  order.reserve(sk.rtx.size());
  for (std::size_t i = 0; i < sk.rtx.size(); ++i) {
    const uint8_t sacked = sk.rtx[i].sacked;
    if ((sacked & kTcpcbSackedAcked) != 0) continue;
    if ((sacked & kTcpcbLost) != 0 && (sacked & kTcpcbSackedRetrans) == 0) continue;
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return sent_after(sk.rtx[b].mstamp_us, sk.rtx[a].mstamp_us, sk.rtx[b].end_seq, sk.rtx[a].end_seq);
  });
  for (const std::size_t i : order) {
    TcpSeg& s = sk.rtx[i];
    if (!sent_after(sk.rack_mstamp, s.mstamp_us, sk.rack_end_seq, s.end_seq)) break;
    const int64_t remaining = int64_t{sk.rack_rtt_us} + reo_wnd - static_cast<int64_t>(sk.tcp_mstamp - s.mstamp_us);
    if (remaining <= 0) {
      mark_skb_lost(sk, s);
    } else {
      *reo_timeout = std::max(*reo_timeout, static_cast<uint32_t>(remaining));
    }
  }
}

bool TcpEngine::rack_mark_lost(TcpSock& sk) {
  if (!sk.rack_advanced) return false;
  sk.rack_advanced = false;
  uint32_t timeout = 0;
  rack_detect_loss(sk, &timeout);
  if (timeout != 0) {
    const uint64_t j = usecs_to_jiffies(timeout) + kTcpTimeoutMin;
    reset_xmit_timer(sk, kTimeReoTimeout, j, sk.rto_jiffies);
  }
  return timeout != 0;
}

void TcpEngine::rack_reo_timeout(Cpu& cpu, TcpSock& sk) {
  const uint32_t lost0 = sk.lost;
  const uint32_t prior_inflight = sk.packets_in_flight();
  uint32_t timeout = 0;
  rack_detect_loss(sk, &timeout);
  if (prior_inflight != sk.packets_in_flight()) {
    if (sk.ca_state != TcpCaState::Recovery) {
      enter_recovery(sk, false);
      cwnd_reduction(sk, 1, static_cast<int>(sk.lost - lost0), 0);
    }
    xmit_retransmit_queue(cpu, sk);
  }
  if (sk.pending != kTimeRetrans) rearm_rto(sk);
}

void TcpEngine::rack_update_reo_wnd(TcpSock& sk, uint32_t prior_delivered) {
  if ((sys_.tcp_recovery & 0x2) != 0 || prior_delivered == 0) return;
  if (seq_before(prior_delivered, sk.rack_last_delivered)) sk.rack_dsack_seen = false;
  if (sk.rack_dsack_seen) {
    sk.rack_reo_wnd_steps = static_cast<uint8_t>(std::min<uint32_t>(0xFF, sk.rack_reo_wnd_steps + 1u));
    sk.rack_dsack_seen = false;
    sk.rack_last_delivered = sk.delivered;
    sk.rack_reo_wnd_persist = kRackRecoveryThresh;
  } else if (sk.rack_reo_wnd_persist == 0) {
    sk.rack_reo_wnd_steps = 1;
  }
}

void TcpEngine::mark_skb_lost(TcpSock& sk, TcpSeg& seg) {
  const uint8_t sacked = seg.sacked;
  if ((sacked & kTcpcbSackedAcked) != 0) return;
  if ((sacked & kTcpcbLost) != 0) {
    if ((sacked & kTcpcbSackedRetrans) != 0) {
      seg.sacked &= static_cast<uint8_t>(~kTcpcbSackedRetrans);
      sk.retrans_out -= std::min(sk.retrans_out, 1u);
      ++ext_[LinuxMib::TCPLostRetransmit];
      ++sk.lost;
    }
  } else {
    ++sk.lost_out;
    seg.sacked |= kTcpcbLost;
    ++sk.lost;
  }
}

void TcpEngine::newreno_mark_lost(TcpSock& sk, bool snd_una_advanced) {
  const TcpCaState st = sk.ca_state;
  if ((st < TcpCaState::Recovery && sk.sacked_out >= sk.reordering) || (st == TcpCaState::Recovery && snd_una_advanced)) {
    if (sk.rtx.empty()) return;
    TcpSeg& s = sk.rtx.front();
    if ((s.sacked & kTcpcbLost) != 0) return;
    mark_skb_lost(sk, s);
  }
}

void TcpEngine::identify_packet_loss(TcpSock& sk, int* flag) {
  if (sk.rtx.empty()) return;
  if (sk.is_reno()) {
    newreno_mark_lost(sk, (*flag & kFlagSndUnaAdvanced) != 0);
  } else if ((sys_.tcp_recovery & 0x1) != 0) {
    const uint32_t prior_retrans = sk.retrans_out;
    if (rack_mark_lost(sk)) *flag &= ~kFlagSetXmitTimer;
    if (prior_retrans > sk.retrans_out) *flag |= kFlagLostRetrans;
  }
}

bool TcpEngine::time_to_recover(const TcpSock& sk) const {
  if (sk.lost_out != 0) return true;
  // tcp_dupack_heuristics (sacked_out + 1) > reordering, when RACK is off
  if ((sys_.tcp_recovery & 0x1) == 0 && sk.sacked_out + 1 > sk.reordering) return true;
  return false;
}

void TcpEngine::timeout_mark_lost(TcpSock& sk) {
  const bool is_reneg = !sk.rtx.empty() && (sk.rtx.front().sacked & kTcpcbSackedAcked) != 0;
  if (is_reneg) {
    ++ext_[LinuxMib::TCPSACKReneging];
    sk.sacked_out = 0;
    sk.is_sack_reneg = true;
  } else if (sk.is_reno()) {
    reset_reno_sack(sk);
  }
  for (std::size_t i = 0; i < sk.rtx.size(); ++i) {
    TcpSeg& s = sk.rtx[i];
    if (is_reneg) {
      s.sacked &= static_cast<uint8_t>(~kTcpcbSackedAcked);
    } else if ((sys_.tcp_recovery & 0x1) != 0 && i != 0 &&
               int64_t{sk.rack_rtt_us} - static_cast<int64_t>(sk.tcp_mstamp - s.mstamp_us) > 0) {
      continue;  // sent too recently to call lost
    }
    mark_skb_lost(sk, s);
  }
}

// ------------------------------------------------------------------------------ states

void TcpEngine::init_undo(TcpSock& sk) {
  sk.undo_marker = sk.snd_una;
  sk.undo_retrans = sk.retrans_out != 0 ? static_cast<int>(sk.retrans_out) : -1;
}

bool TcpEngine::packet_delayed(const TcpSock& sk) const {
  // 6.1: retrans_stamp && tcp_tsopt_ecr_before(tp, retrans_stamp)
  return sk.retrans_stamp != 0 && sk.saw_tstamp && sk.rcv_tsecr != 0 && seq_before(sk.rcv_tsecr, sk.retrans_stamp);
}

bool TcpEngine::may_undo(const TcpSock& sk) const { return sk.undo_marker != 0 && (sk.undo_retrans == 0 || packet_delayed(sk)); }

void TcpEngine::undo_cwnd_reduction(TcpSock& sk, bool unmark_loss) {
  if (unmark_loss) {
    for (TcpSeg& s : sk.rtx) s.sacked &= static_cast<uint8_t>(~kTcpcbLost);
    sk.lost_out = 0;
  }
  if (sk.prior_ssthresh != 0) {
    sk.snd_cwnd = sk.ca ? sk.ca->undo_cwnd(sk) : std::max(sk.snd_cwnd, sk.prior_cwnd);
    if (sk.prior_ssthresh > sk.snd_ssthresh) {
      sk.snd_ssthresh = sk.prior_ssthresh;
      ecn_withdraw_cwr(sk);
    }
  }
  sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  sk.undo_marker = 0;
  sk.rack_advanced = true;
}

bool TcpEngine::try_undo_recovery(TcpSock& sk) {
  if (may_undo(sk)) {
    undo_cwnd_reduction(sk, false);
    ++ext_[sk.ca_state == TcpCaState::Loss ? LinuxMib::TCPLossUndo : LinuxMib::TCPFullUndo];
  } else if (sk.rack_reo_wnd_persist != 0) {
    --sk.rack_reo_wnd_persist;
  }
  if (sk.snd_una == sk.high_seq && sk.is_reno()) {
    if (!any_retrans_done(sk)) sk.retrans_stamp = 0;
    return true;
  }
  set_ca_state(sk, TcpCaState::Open);
  sk.is_sack_reneg = false;
  return false;
}

bool TcpEngine::try_undo_dsack(TcpSock& sk) {
  if (sk.undo_marker != 0 && sk.undo_retrans == 0) {
    sk.rack_reo_wnd_persist = static_cast<uint8_t>(std::min<uint32_t>(kRackRecoveryThresh, sk.rack_reo_wnd_persist + 1u));
    undo_cwnd_reduction(sk, false);
    ++ext_[LinuxMib::TCPDSACKUndo];
    return true;
  }
  return false;
}

bool TcpEngine::try_undo_loss(TcpSock& sk, bool frto_undo) {
  if (frto_undo || may_undo(sk)) {
    undo_cwnd_reduction(sk, true);
    ++ext_[LinuxMib::TCPLossUndo];
    if (frto_undo) ++ext_[LinuxMib::TCPSpuriousRTOs];
    sk.retransmits = 0;
    if (frto_undo || sk.is_sack()) {
      set_ca_state(sk, TcpCaState::Open);
      sk.is_sack_reneg = false;
    }
    return true;
  }
  return false;
}

bool TcpEngine::try_undo_partial(TcpSock& sk, uint32_t prior_snd_una, bool* do_lost) {
  if (sk.undo_marker != 0 && packet_delayed(sk)) {
    check_sack_reordering(sk, prior_snd_una, 1);
    if (sk.retrans_out != 0) return true;
    if (!any_retrans_done(sk)) sk.retrans_stamp = 0;
    undo_cwnd_reduction(sk, true);
    ++ext_[LinuxMib::TCPPartialUndo];
    try_keep_open(sk);
  } else {
    *do_lost = seq_after(highest_sack_seq(sk), sk.snd_una + sk.reordering * sk.mss_cache);
  }
  return false;
}

void TcpEngine::try_keep_open(TcpSock& sk) {
  TcpCaState st = TcpCaState::Open;
  if (sk.sacked_out + sk.lost_out != 0 || any_retrans_done(sk)) st = TcpCaState::Disorder;
  if (sk.ca_state != st) {
    set_ca_state(sk, st);
    sk.high_seq = sk.snd_nxt;
  }
}

void TcpEngine::try_to_open(TcpSock& sk, int flag) {
  if (!any_retrans_done(sk)) sk.retrans_stamp = 0;
  if ((flag & kFlagEce) != 0) enter_cwr(sk);
  if (sk.ca_state != TcpCaState::Cwr) try_keep_open(sk);
}

void TcpEngine::init_cwnd_reduction(TcpSock& sk) {
  sk.high_seq = sk.snd_nxt;
  sk.tlp_high_seq = 0;
  sk.snd_cwnd_cnt = 0;
  sk.prior_cwnd = sk.snd_cwnd;
  sk.prr_delivered = 0;
  sk.prr_out = 0;
  sk.snd_ssthresh = sk.ca ? sk.ca->ssthresh(sk) : std::max(sk.snd_cwnd >> 1, 2u);
  ecn_queue_cwr(sk);
}

void TcpEngine::end_cwnd_reduction(TcpSock& sk) {
  if (sk.snd_ssthresh < TcpCaSock::kInfiniteSsthresh && (sk.ca_state == TcpCaState::Cwr || sk.undo_marker != 0)) {
    sk.snd_cwnd = sk.snd_ssthresh;
    sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  }
  if (sk.ca) sk.ca->cwnd_event(sk, TcpCaEvent::CompleteCwr);
}

void TcpEngine::cwnd_reduction(TcpSock& sk, int newly_acked_sacked, int newly_lost, int flag) {
  // PRR (RFC 6937) as tcp_cwnd_reduction does it
  if (newly_acked_sacked <= 0 || sk.prior_cwnd == 0) return;
  int sndcnt = 0;
  const int delta = static_cast<int>(sk.snd_ssthresh) - static_cast<int>(sk.packets_in_flight());
  sk.prr_delivered += static_cast<uint32_t>(newly_acked_sacked);
  if (delta < 0) {
    const uint64_t dividend = uint64_t{sk.snd_ssthresh} * sk.prr_delivered + sk.prior_cwnd - 1;
    sndcnt = static_cast<int>(dividend / sk.prior_cwnd) - static_cast<int>(sk.prr_out);
  } else {
    sndcnt = std::max(static_cast<int>(sk.prr_delivered) - static_cast<int>(sk.prr_out), newly_acked_sacked);
    if ((flag & kFlagSndUnaAdvanced) != 0 && newly_lost == 0) ++sndcnt;
    sndcnt = std::min(delta, sndcnt);
  }
  sndcnt = std::max(sndcnt, sk.prr_out != 0 ? 0 : 1);
  sk.snd_cwnd = static_cast<uint32_t>(std::max<int64_t>(int64_t{sk.packets_in_flight()} + sndcnt, 1));
}

void TcpEngine::enter_cwr(TcpSock& sk) {
  sk.prior_ssthresh = 0;
  if (sk.ca_state < TcpCaState::Cwr) {
    sk.undo_marker = 0;
    init_cwnd_reduction(sk);
    set_ca_state(sk, TcpCaState::Cwr);
  }
}

void TcpEngine::enter_recovery(TcpSock& sk, bool ece_ack) {
  ++ext_[sk.is_reno() ? LinuxMib::TCPRenoRecovery : LinuxMib::TCPSackRecovery];
  sk.prior_ssthresh = 0;
  init_undo(sk);
  if (!in_cwnd_reduction(sk)) {
    if (!ece_ack) sk.prior_ssthresh = current_ssthresh(sk);
    init_cwnd_reduction(sk);
  }
  set_ca_state(sk, TcpCaState::Recovery);
}

void TcpEngine::enter_loss(TcpSock& sk) {
  const bool new_recovery = sk.ca_state < TcpCaState::Recovery;
  timeout_mark_lost(sk);
  if (sk.ca_state <= TcpCaState::Disorder || !seq_after(sk.high_seq, sk.snd_una) ||
      (sk.ca_state == TcpCaState::Loss && sk.retransmits == 0)) {
    sk.prior_ssthresh = current_ssthresh(sk);
    sk.prior_cwnd = sk.snd_cwnd;
    sk.snd_ssthresh = sk.ca ? sk.ca->ssthresh(sk) : std::max(sk.snd_cwnd >> 1, 2u);
    if (sk.ca) sk.ca->cwnd_event(sk, TcpCaEvent::Loss);
    init_undo(sk);
  }
  sk.snd_cwnd = sk.packets_in_flight() + 1;
  sk.snd_cwnd_cnt = 0;
  sk.snd_cwnd_stamp = sk.tcp_jiffies32;
  if (sk.ca_state <= TcpCaState::Disorder && sk.sacked_out >= sys_.tcp_reordering) {
    sk.reordering = std::min(sk.reordering, sys_.tcp_reordering);
  }
  set_ca_state(sk, TcpCaState::Loss);
  sk.high_seq = sk.snd_nxt;
  ecn_queue_cwr(sk);
  sk.frto = sys_.tcp_frto != 0 && (new_recovery || sk.retransmits != 0);
}

void TcpEngine::process_loss(TcpSock& sk, int flag, int num_dupack, int* rexmit) {
  const bool recovered = !seq_before(sk.snd_una, sk.high_seq);
  if ((flag & kFlagSndUnaAdvanced) != 0 && try_undo_loss(sk, false)) return;
  if (sk.frto) {
    if ((flag & kFlagOrigSackAcked) != 0 && try_undo_loss(sk, true)) return;
    if (seq_after(sk.snd_nxt, sk.high_seq)) {
      if ((flag & kFlagDataSacked) != 0 || num_dupack != 0) sk.frto = false;
    } else if ((flag & kFlagSndUnaAdvanced) != 0 && !recovered) {
      sk.high_seq = sk.snd_nxt;
      if (!sk.wqueue.empty() && seq_after(sk.wnd_end(), sk.snd_nxt)) {
        *rexmit = 2;
        return;
      }
      sk.frto = false;
    }
  }
  if (recovered) {
    try_undo_recovery(sk);
    return;
  }
  if (sk.is_reno()) {
    if (seq_after(sk.snd_nxt, sk.high_seq) && num_dupack != 0) {
      add_reno_sack(sk, num_dupack);
    } else if ((flag & kFlagSndUnaAdvanced) != 0) {
      reset_reno_sack(sk);
    }
  }
  *rexmit = 1;
}

void TcpEngine::process_tlp_ack(TcpSock& sk, uint32_t ack, int flag) {
  if (seq_before(ack, sk.tlp_high_seq)) return;
  if (!sk.tlp_retrans) {
    sk.tlp_high_seq = 0;
  } else if ((flag & kFlagDsackTlp) != 0) {
    sk.tlp_high_seq = 0;
  } else if (seq_after(ack, sk.tlp_high_seq)) {
    init_cwnd_reduction(sk);
    set_ca_state(sk, TcpCaState::Cwr);
    end_cwnd_reduction(sk);
    try_keep_open(sk);
    ++ext_[LinuxMib::TCPLossProbeRecovery];
  } else if ((flag & (kFlagSndUnaAdvanced | kFlagNotDup | kFlagDataSacked)) == 0) {
    sk.tlp_high_seq = 0;
  }
}

void TcpEngine::fastretrans_alert(Cpu& cpu, TcpSock& sk, uint32_t prior_snd_una, int num_dupack, int* ack_flag,
                                  int* rexmit) {
  (void)cpu;
  const int flag = *ack_flag;
  const bool ece_ack = (flag & kFlagEce) != 0;
  bool do_lost = num_dupack != 0 ||
                 ((flag & kFlagDataSacked) != 0 && seq_after(highest_sack_seq(sk), sk.snd_una + sk.reordering * sk.mss_cache));
  if (sk.packets_out == 0 && sk.sacked_out != 0) sk.sacked_out = 0;
  if (ece_ack) sk.prior_ssthresh = 0;
  // tcp_check_sack_reneging
  if ((*ack_flag & kFlagSackReneging) != 0 && (*ack_flag & kFlagSndUnaAdvanced) != 0) {
    const uint64_t delay = std::max<uint64_t>(usecs_to_jiffies(sk.srtt_us >> 4), usecs_to_jiffies(10000));
    reset_xmit_timer(sk, kTimeRetrans, delay, kTcpRtoMax);
    return;
  }
  if (sk.ca_state == TcpCaState::Open) {
    sk.retrans_stamp = 0;
  } else if (!seq_before(sk.snd_una, sk.high_seq)) {
    switch (sk.ca_state) {
      case TcpCaState::Cwr:
        if (sk.snd_una != sk.high_seq) {
          end_cwnd_reduction(sk);
          set_ca_state(sk, TcpCaState::Open);
        }
        break;
      case TcpCaState::Recovery:
        if (sk.is_reno()) reset_reno_sack(sk);
        if (try_undo_recovery(sk)) return;
        end_cwnd_reduction(sk);
        break;
      default: break;
    }
  }
  switch (sk.ca_state) {
    case TcpCaState::Recovery:
      if ((flag & kFlagSndUnaAdvanced) == 0) {
        if (sk.is_reno()) add_reno_sack(sk, num_dupack);
      } else if (try_undo_partial(sk, prior_snd_una, &do_lost)) {
        return;
      }
      if (try_undo_dsack(sk)) try_keep_open(sk);
      identify_packet_loss(sk, ack_flag);
      if (sk.ca_state != TcpCaState::Recovery) {
        if (!time_to_recover(sk)) return;
        enter_recovery(sk, ece_ack);
      }
      break;
    case TcpCaState::Loss:
      process_loss(sk, flag, num_dupack, rexmit);
      identify_packet_loss(sk, ack_flag);
      if (!(sk.ca_state == TcpCaState::Open || (*ack_flag & kFlagLostRetrans) != 0)) return;
      [[fallthrough]];
    default:
      if (sk.is_reno()) {
        if ((flag & kFlagSndUnaAdvanced) != 0) reset_reno_sack(sk);
        add_reno_sack(sk, num_dupack);
      }
      if (sk.ca_state <= TcpCaState::Disorder) try_undo_dsack(sk);
      identify_packet_loss(sk, ack_flag);
      if (!time_to_recover(sk)) {
        try_to_open(sk, flag);
        return;
      }
      enter_recovery(sk, ece_ack);
  }
  (void)do_lost;  // tcp_update_scoreboard runs only without RACK; RACK is the default
  *rexmit = 1;
}

}  // namespace vnic::stack

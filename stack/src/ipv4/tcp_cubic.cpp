// CUBIC (RFC 9438) with HyStart, modelled on Linux 6.1's net/ipv4/tcp_cubic.c in its integer
// arithmetic: after a reduction the window follows W(t) = C (t - K)^3 + W_max, C = 0.4 and
// K = cbrt(W_max (1 - beta) / C), t in seconds kept in units of 1/1024 s; time is read in jiffies
// (HZ 250) for the curve and in microseconds (tcp_mstamp) for HyStart; the cwnd never grows
// slower than a Reno flow would (the TCP-friendly region) nor faster than 1.5x per RTT.
#include <algorithm>

#include "vnic/stack/tcp_cong.hpp"

namespace vnic::stack {

namespace {

constexpr uint32_t kHz = 250;               // CONFIG_HZ of Debian 12's kernel
constexpr uint32_t kUsecPerJiffy = 1'000'000 / kHz;
constexpr uint32_t kBetaScale = 1024;       // BICTCP_BETA_SCALE: beta is in 1/1024
constexpr uint32_t kBicHzShift = 10;        // BICTCP_HZ: the curve's time unit is 1/1024 s
constexpr int kHystartAckTrain = 0x1;
constexpr int kHystartDelay = 0x2;
constexpr uint8_t kHystartMinSamples = 8;   // RTT samples a round takes before judging delay
constexpr uint32_t kHystartDelayMinUs = 4000;
constexpr uint32_t kHystartDelayMaxUs = 16000;

// usecs_to_jiffies for an HZ that divides a second: round up.
constexpr uint32_t usecs_to_jiffies(uint32_t us) { return (us + kUsecPerJiffy - 1) / kUsecPerJiffy; }

// after(a, b): sequence (or jiffies) a is later than b, across the wrap.
constexpr bool after(uint32_t a, uint32_t b) { return static_cast<int32_t>(b - a) < 0; }

// fls64: the 1-based index of the most significant set bit, 0 for 0.
int fls64(uint64_t x) {
  int n = 0;
  while (x != 0) {
    ++n;
    x >>= 1;
  }
  return n;
}

}  // namespace

uint32_t tcp_cubic_root(uint64_t a) {
  // Willy Tarreau's table: for x in [0, 63], v[x] = cbrt(x << 18) - 1, hand-refined, so that
  // cbrt(x) is about (v[x] + 10) >> 6.
  static constexpr uint8_t v[64] = {
      0,   54,  54,  54,  118, 118, 118, 118, 123, 129, 134, 138, 143, 147, 151, 156,
      157, 161, 164, 168, 170, 173, 176, 179, 181, 185, 187, 190, 192, 194, 197, 199,
      200, 202, 204, 206, 209, 211, 213, 215, 217, 219, 221, 222, 224, 225, 227, 229,
      231, 232, 234, 236, 237, 239, 240, 242, 244, 245, 246, 248, 250, 251, 252, 254,
  };
  uint32_t b = static_cast<uint32_t>(fls64(a));
  if (b < 7) return (static_cast<uint32_t>(v[static_cast<uint32_t>(a)]) + 35) >> 6;

  // b / 3 - 1 (84 / 256 is about 1 / 3): shift a down to its top six bits, look those up and
  // scale the estimate back up by 2^b.
  b = ((b * 84) >> 8) - 1;
  const auto shift = static_cast<uint32_t>(a >> (b * 3));
  uint32_t x = (static_cast<uint32_t>(v[shift]) + 10) << b >> 6;

  // One Newton-Raphson step, x' = (2x + a / x^2) / 3, with x (x - 1) for x^2 and
  // 341 / 1024 for 1 / 3 as Linux has them.
  x = 2 * x + static_cast<uint32_t>(a / (static_cast<uint64_t>(x) * static_cast<uint64_t>(x - 1)));
  x = (x * 341) >> 10;
  return x;
}

TcpCubic::TcpCubic(const TcpCubicParams& p)
    : p_(p),
      beta_scale_(static_cast<uint32_t>(8 * (static_cast<int>(kBetaScale) + p.beta) / 3 /
                                        (static_cast<int>(kBetaScale) - p.beta))),
      cube_rtt_scale_(static_cast<uint32_t>(p.bic_scale * 10)),
      cube_factor_((uint64_t{1} << (10 + 3 * kBicHzShift)) / static_cast<uint64_t>(p.bic_scale * 10)) {}

void TcpCubic::reset() {
  // bictcp_reset clears the curve and the delay floor, not HyStart's round (that is
  // hystart_reset's), and forgets whether HyStart had found its exit.
  const BictcpState keep = ca_;
  ca_ = BictcpState{};
  ca_.sample_cnt = keep.sample_cnt;
  ca_.round_start = keep.round_start;
  ca_.end_seq = keep.end_seq;
  ca_.last_ack = keep.last_ack;
  ca_.curr_rtt = keep.curr_rtt;
  ca_.found = 0;
}

void TcpCubic::hystart_reset(const TcpCaSock& tp) {
  // A new round: it ends once everything sent so far is ACKed.
  ca_.round_start = ca_.last_ack = static_cast<uint32_t>(tp.tcp_mstamp);
  ca_.end_seq = tp.snd_nxt;
  ca_.curr_rtt = ~0u;
  ca_.sample_cnt = 0;
}

void TcpCubic::init(TcpCaSock& tp) {
  reset();
  if (p_.hystart != 0) hystart_reset(tp);
  if (p_.hystart == 0 && p_.initial_ssthresh != 0) {
    tp.snd_ssthresh = static_cast<uint32_t>(p_.initial_ssthresh);
  }
}

void TcpCubic::cwnd_event(TcpCaSock& tp, TcpCaEvent ev) {
  if (ev != TcpCaEvent::TxStart) return;
  // Sending again after an idle (application-limited) spell: move the epoch on by the idle time
  // so the curve resumes where it stopped instead of jumping ahead; never into the future.
  const uint32_t now = tp.tcp_jiffies32;
  const auto delta = static_cast<int32_t>(now - tp.lsndtime);
  if (ca_.epoch_start != 0 && delta > 0) {
    ca_.epoch_start += static_cast<uint32_t>(delta);
    if (after(ca_.epoch_start, now)) ca_.epoch_start = now;
  }
}

void TcpCubic::update(const TcpCaSock& tp, uint32_t cwnd, uint32_t acked) {
  const uint32_t now = tp.tcp_jiffies32;
  ca_.ack_cnt += acked;

  // Recompute at most every HZ / 32 jiffies while cwnd stands still, and at most once a jiffy;
  // a reduction (epoch_start = 0) always recomputes.
  if (ca_.last_cwnd == cwnd && static_cast<int32_t>(now - ca_.last_time) <= static_cast<int32_t>(kHz / 32)) {
    return;
  }
  if (!(ca_.epoch_start != 0 && now == ca_.last_time)) {
    ca_.last_cwnd = cwnd;
    ca_.last_time = now;

    if (ca_.epoch_start == 0) {
      // A new epoch: the curve starts here. Below the last maximum it climbs to a plateau at
      // W_max after K; at or above it, the plateau is now (K = 0) and growth is convex.
      ca_.epoch_start = now;
      ca_.ack_cnt = acked;
      ca_.tcp_cwnd = cwnd;
      if (ca_.last_max_cwnd <= cwnd) {
        ca_.bic_K = 0;
        ca_.bic_origin_point = cwnd;
      } else {
        ca_.bic_K = tcp_cubic_root(cube_factor_ * (ca_.last_max_cwnd - cwnd));
        ca_.bic_origin_point = ca_.last_max_cwnd;
      }
    }

    // t: time since the epoch began plus one minimum RTT (the target is where the curve will
    // be an RTT from now), in 1/1024 s. The jiffies difference is taken signed then widened,
    // as Linux's assignment of an s32 to a u64 does.
    uint64_t t = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(now - ca_.epoch_start)));
    t += usecs_to_jiffies(ca_.delay_min);
    t <<= kBicHzShift;
    t /= kHz;

    const uint64_t offs = t < ca_.bic_K ? ca_.bic_K - t : t - ca_.bic_K;
    // C (t - K)^3 in segments: cube_rtt_scale is C * 2^10, offs^3 carries 2^30.
    const auto delta = static_cast<uint32_t>((cube_rtt_scale_ * offs * offs * offs) >> (10 + 3 * kBicHzShift));
    const uint32_t bic_target = t < ca_.bic_K ? ca_.bic_origin_point - delta : ca_.bic_origin_point + delta;

    // cnt: ACKed segments per +1 so that cwnd reaches the target in one RTT's worth of ACKs.
    ca_.cnt = bic_target > cwnd ? cwnd / (bic_target - cwnd) : 100 * cwnd;

    // With no maximum known yet (no loss so far), grow at least 5% per RTT.
    if (ca_.last_max_cwnd == 0 && ca_.cnt > 20) ca_.cnt = 20;
  }

  if (p_.tcp_friendliness != 0) {
    // The TCP-friendly region: track the window an AIMD flow with the same beta would have
    // (+1 per cwnd * beta_scale / 8 ACKed, i.e. 3 (1 - beta) / (1 + beta) per RTT), and never
    // grow slower than it.
    const uint32_t per_seg = (cwnd * beta_scale_) >> 3;
    while (ca_.ack_cnt > per_seg) {
      ca_.ack_cnt -= per_seg;
      ++ca_.tcp_cwnd;
    }
    if (ca_.tcp_cwnd > cwnd) {
      const uint32_t max_cnt = cwnd / (ca_.tcp_cwnd - cwnd);
      if (ca_.cnt > max_cnt) ca_.cnt = max_cnt;
    }
  }

  // At most +1 per 2 ACKed: 1.5x per RTT.
  ca_.cnt = std::max(ca_.cnt, 2u);
}

void TcpCubic::cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked) {
  (void)ack;
  if (!tcp_is_cwnd_limited(tp)) return;
  if (tcp_in_slow_start(tp)) {
    acked = tcp_slow_start(tp, acked);
    if (acked == 0) return;
  }
  update(tp, tp.snd_cwnd, acked);
  tcp_cong_avoid_ai(tp, ca_.cnt, acked);
}

uint32_t TcpCubic::ssthresh(TcpCaSock& tp) {
  ca_.epoch_start = 0;  // the epoch ends with the reduction
  const uint32_t cwnd = tp.snd_cwnd;
  const auto beta = static_cast<uint32_t>(p_.beta);
  // Fast convergence: a flow whose maximum keeps falling is yielding to a newcomer, so it aims
  // below its last maximum, at (1 + beta) / 2 of this one.
  if (cwnd < ca_.last_max_cwnd && p_.fast_convergence != 0) {
    ca_.last_max_cwnd = (cwnd * (kBetaScale + beta)) / (2 * kBetaScale);
  } else {
    ca_.last_max_cwnd = cwnd;
  }
  return std::max((cwnd * beta) / kBetaScale, 2u);
}

void TcpCubic::set_state(TcpCaSock& tp, TcpCaState state) {
  // A retransmission timeout forgets everything: the curve, W_max, delay_min, HyStart's round.
  if (state == TcpCaState::Loss) {
    reset();
    hystart_reset(tp);
  }
}

void TcpCubic::hystart_update(TcpCaSock& tp, uint32_t delay) {
  if (after(tp.snd_una, ca_.end_seq)) hystart_reset(tp);

  if ((p_.hystart_detect & kHystartAckTrain) != 0) {
    const auto now = static_cast<uint32_t>(tp.tcp_mstamp);
    // An ACK within hystart_ack_delta_us of the previous one extends the train. Once a train
    // that began with the round lasts past half the minimum RTT (the whole minimum RTT when
    // paced), the pipe is about full: leave slow start.
    if (static_cast<int32_t>(now - ca_.last_ack) <= p_.hystart_ack_delta_us) {
      ca_.last_ack = now;
      // hystart_ack_delay: a cushion for TSO/GRO aggregation, the time 4 GSO packets take at
      // the pacing rate, at most 1 ms.
      uint32_t ack_delay = 0;
      if (tp.sk_pacing_rate != 0) {
        ack_delay = static_cast<uint32_t>(
            std::min<uint64_t>(1000, uint64_t{tp.sk_gso_max_size} * 4 * 1'000'000 / tp.sk_pacing_rate));
      }
      uint32_t threshold = ca_.delay_min + ack_delay;
      if (!tp.sk_pacing) threshold >>= 1;
      // Linux compares the signed difference with an unsigned threshold: an unsigned compare.
      if (now - ca_.round_start > threshold) {
        ca_.found = 1;
        if (tp.ca_counters != nullptr) {
          ++tp.ca_counters->hystart_train_detect;
          tp.ca_counters->hystart_train_cwnd += tp.snd_cwnd;
        }
        tp.snd_ssthresh = tp.snd_cwnd;
      }
    }
  }

  if ((p_.hystart_detect & kHystartDelay) != 0) {
    // The round's RTT is the least of its first samples; when it exceeds the minimum RTT by an
    // eighth of it (clamped to 4..16 ms), a queue is building: leave slow start.
    ca_.curr_rtt = std::min(ca_.curr_rtt, delay);
    if (ca_.sample_cnt < kHystartMinSamples) {
      ++ca_.sample_cnt;
    } else if (ca_.curr_rtt >
               ca_.delay_min + std::clamp(ca_.delay_min >> 3, kHystartDelayMinUs, kHystartDelayMaxUs)) {
      ca_.found = 1;
      if (tp.ca_counters != nullptr) {
        ++tp.ca_counters->hystart_delay_detect;
        tp.ca_counters->hystart_delay_cwnd += tp.snd_cwnd;
      }
      tp.snd_ssthresh = tp.snd_cwnd;
    }
  }
}

void TcpCubic::pkts_acked(TcpCaSock& tp, const TcpAckSample& s) {
  if (s.rtt_us < 0) return;  // no timing (duplicates)
  // Samples just after a reduction (within a second of the epoch start) are skewed by the
  // recovery; skip them.
  if (ca_.epoch_start != 0 && static_cast<int32_t>(tp.tcp_jiffies32 - ca_.epoch_start) < static_cast<int32_t>(kHz)) {
    return;
  }
  uint32_t delay = static_cast<uint32_t>(s.rtt_us);
  if (delay == 0) delay = 1;
  if (ca_.delay_min == 0 || ca_.delay_min > delay) ca_.delay_min = delay;

  if (ca_.found == 0 && tcp_in_slow_start(tp) && p_.hystart != 0 &&
      tp.snd_cwnd >= static_cast<uint32_t>(p_.hystart_low_window)) {
    hystart_update(tp, delay);
  }
}

}  // namespace vnic::stack

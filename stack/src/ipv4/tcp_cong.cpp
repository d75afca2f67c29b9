// The congestion-control framework as Linux 6.1's net/ipv4/tcp_cong.c has it: Reno's growth
// helpers (slow start, additive increase), Reno itself, and the registry of algorithms that
// setsockopt(TCP_CONGESTION) and net.ipv4.tcp_congestion_control name.
#include "vnic/stack/tcp_cong.hpp"

#include <algorithm>

namespace vnic::stack {

bool tcp_is_cwnd_limited(const TcpCaSock& tp) {
  if (tp.is_cwnd_limited) return true;
  // In slow start, let cwnd grow until it is twice the most that was in flight in this window:
  // a sender that filled half the window is still probing.
  if (tcp_in_slow_start(tp)) return tp.snd_cwnd < 2 * tp.max_packets_out;
  return false;
}

uint32_t tcp_slow_start(TcpCaSock& tp, uint32_t acked) {
  // One segment of cwnd per segment ACKed, but not past ssthresh; what is left over goes to
  // congestion avoidance.
  const uint32_t cwnd = std::min(tp.snd_cwnd + acked, tp.snd_ssthresh);
  acked -= cwnd - tp.snd_cwnd;
  tp.snd_cwnd = std::min(cwnd, tp.snd_cwnd_clamp);
  return acked;
}

void tcp_cong_avoid_ai(TcpCaSock& tp, uint32_t w, uint32_t acked) {
  // Credit earned while w was larger (snd_cwnd_cnt already at or past the new w) buys one
  // segment now rather than a burst.
  if (tp.snd_cwnd_cnt >= w) {
    tp.snd_cwnd_cnt = 0;
    ++tp.snd_cwnd;
  }
  tp.snd_cwnd_cnt += acked;
  if (tp.snd_cwnd_cnt >= w) {
    const uint32_t delta = tp.snd_cwnd_cnt / w;
    tp.snd_cwnd_cnt -= delta * w;
    tp.snd_cwnd += delta;
  }
  tp.snd_cwnd = std::min(tp.snd_cwnd, tp.snd_cwnd_clamp);
}

uint32_t TcpCongestionOps::undo_cwnd(TcpCaSock& tp) { return tcp_reno_undo_cwnd(tp); }

uint32_t tcp_reno_ssthresh(const TcpCaSock& tp) { return std::max(tp.snd_cwnd >> 1U, 2U); }

void tcp_reno_cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked) {
  (void)ack;
  if (!tcp_is_cwnd_limited(tp)) return;
  if (tcp_in_slow_start(tp)) {
    acked = tcp_slow_start(tp, acked);
    if (acked == 0) return;
  }
  tcp_cong_avoid_ai(tp, tp.snd_cwnd, acked);  // +1 segment per cwnd ACKed
}

uint32_t tcp_reno_undo_cwnd(const TcpCaSock& tp) { return std::max(tp.snd_cwnd, tp.prior_cwnd); }

namespace {

// struct tcp_congestion_ops tcp_reno: stateless, all Reno helpers.
class TcpReno final : public TcpCongestionOps {
 public:
  std::string_view name() const override { return "reno"; }
  uint32_t ssthresh(TcpCaSock& tp) override { return tcp_reno_ssthresh(tp); }
  void cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked) override {
    tcp_reno_cong_avoid(tp, ack, acked);
  }
};

struct CaEntry {
  std::string_view name;
  std::unique_ptr<TcpCongestionOps> (*make)();
};

// Registration order: tcp_init registers Reno first, then the built-in CUBIC registers itself
// (Debian 12's tcp_available_congestion_control reads "reno cubic").
constexpr CaEntry kRegistry[] = {
    {"reno", []() -> std::unique_ptr<TcpCongestionOps> { return std::make_unique<TcpReno>(); }},
    {"cubic", []() -> std::unique_ptr<TcpCongestionOps> { return std::make_unique<TcpCubic>(); }},
};

}  // namespace

std::unique_ptr<TcpCongestionOps> tcp_ca_create(std::string_view name) {
  for (const CaEntry& e : kRegistry) {
    if (e.name == name) return e.make();
  }
  return nullptr;
}

std::vector<std::string_view> tcp_ca_available() {
  std::vector<std::string_view> names;
  for (const CaEntry& e : kRegistry) names.push_back(e.name);
  return names;
}

}  // namespace vnic::stack

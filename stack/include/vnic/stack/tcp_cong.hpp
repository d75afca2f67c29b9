// TCP congestion control behind an interface, as Linux 6.1 has it (include/net/tcp.h's struct
// tcp_congestion_ops, net/ipv4/tcp_cong.c, tcp_cubic.c): the socket fields a congestion control
// reads and writes (TcpCaSock, a part of struct tcp_sock), the operations, Reno's helpers
// (tcp_slow_start, tcp_cong_avoid_ai, tcp_reno_*), and the registry that
// net.ipv4.tcp_congestion_control selects from ("reno", "cubic"). One object per socket holds
// the algorithm's private state (icsk_ca_priv).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace vnic::stack {

// enum tcp_ca_state (include/uapi/linux/tcp.h): the loss-recovery state of the sender.
enum class TcpCaState : uint8_t { Open = 0, Disorder = 1, Cwr = 2, Recovery = 3, Loss = 4 };

// enum tcp_ca_event.
enum class TcpCaEvent : uint8_t {
  TxStart = 0,      // first transmission when no packets are in flight
  CwndRestart = 1,  // congestion window restart (after idle)
  CompleteCwr = 2,  // end of congestion recovery
  Loss = 3,         // loss timeout
  EcnNoCe = 4,
  EcnIsCe = 5,
};

// struct ack_sample: what tcp_clean_rtx_queue tells pkts_acked.
struct TcpAckSample {
  uint32_t pkts_acked = 0;
  int32_t rtt_us = -1;     // -1: no valid sample
  uint32_t in_flight = 0;
};

// Where a congestion control counts the LINUX_MIB events it raises (CUBIC's HyStart exits). The
// core points TcpCaSock::ca_counters at the host's TcpExt MIB; nullptr counts nothing.
struct TcpCaCounters {
  uint64_t hystart_train_detect = 0;  // TcpExt TCPHystartTrainDetect
  uint64_t hystart_train_cwnd = 0;    // TcpExt TCPHystartTrainCwnd (sum of cwnd at the exits)
  uint64_t hystart_delay_detect = 0;  // TcpExt TCPHystartDelayDetect
  uint64_t hystart_delay_cwnd = 0;    // TcpExt TCPHystartDelayCwnd
};

// The parts of struct tcp_sock / inet_connection_sock a congestion control uses. TcpSock (tcp.hpp)
// derives from it; tests may use it alone.
struct TcpCaSock {
  static constexpr uint32_t kInfiniteSsthresh = 0x7fffffff;  // TCP_INFINITE_SSTHRESH

  uint32_t snd_cwnd = 10;                    // TCP_INIT_CWND
  uint32_t snd_ssthresh = kInfiniteSsthresh;
  uint32_t snd_cwnd_cnt = 0;                 // linear increase counter
  uint32_t snd_cwnd_clamp = ~0u;             // never grow past this
  uint32_t prior_cwnd = 0;                   // cwnd before the last reduction (undo)
  uint32_t prior_ssthresh = 0;
  uint32_t mss_cache = 536;                  // the current effective MSS
  uint32_t snd_nxt = 0, snd_una = 0;         // sequence numbers (HyStart's round end)
  uint32_t srtt_us = 0;                      // smoothed RTT << 3, in us (0: none yet)
  uint64_t tcp_mstamp = 0;                   // the most recent clock sample (tcp_clock_us), us
  uint32_t tcp_jiffies32 = 0;                // jiffies (HZ 250) at the same moment
  uint32_t lsndtime = 0;                     // jiffies of the last data sent
  uint32_t packets_out = 0;                  // segments in flight (tcp_packets_in_flight's part)
  uint32_t max_packets_out = 0;              // tcp_is_cwnd_limited's record of this window
  bool is_cwnd_limited = false;              // the sender was limited by cwnd in this window
  TcpCaState ca_state = TcpCaState::Open;    // icsk_ca_state
  uint32_t delivered = 0;                    // segments delivered (acked or sacked)
  // struct sock's pacing fields, read by CUBIC's HyStart ACK-train cushion (hystart_ack_delay).
  uint64_t sk_pacing_rate = 0;               // bytes per second (0: not set, no cushion)
  uint32_t sk_gso_max_size = 0;              // bytes (0 without GSO)
  bool sk_pacing = false;                    // sk_pacing_status != SK_PACING_NONE (fq or internal)
  TcpCaCounters* ca_counters = nullptr;      // the MIB the algorithm counts into (may be null)
};

// tcp_in_slow_start.
inline bool tcp_in_slow_start(const TcpCaSock& tp) { return tp.snd_cwnd < tp.snd_ssthresh; }
// tcp_is_cwnd_limited (6.1): in slow start, cwnd < 2 * max_packets_out; else the flag.
bool tcp_is_cwnd_limited(const TcpCaSock& tp);
// tcp_slow_start: cwnd += acked up to ssthresh; returns the acked segments left over.
uint32_t tcp_slow_start(TcpCaSock& tp, uint32_t acked);
// tcp_cong_avoid_ai: cwnd += 1 per w acked segments (counting in snd_cwnd_cnt).
void tcp_cong_avoid_ai(TcpCaSock& tp, uint32_t w, uint32_t acked);

// struct tcp_congestion_ops. The defaults are Linux's for an operation the algorithm leaves out.
class TcpCongestionOps {
 public:
  virtual ~TcpCongestionOps() = default;
  virtual std::string_view name() const = 0;
  // ->init (tcp_init_congestion_control: also called again on a cwnd restart by some).
  virtual void init(TcpCaSock& tp) { (void)tp; }
  // ->ssthresh: the new slow-start threshold at a loss (Reno: max(cwnd / 2, 2)).
  virtual uint32_t ssthresh(TcpCaSock& tp) = 0;
  // ->cong_avoid: grow cwnd for `acked` newly acked segments (ack: the new snd_una).
  virtual void cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked) = 0;
  // ->set_state: before icsk_ca_state changes to `state`.
  virtual void set_state(TcpCaSock& tp, TcpCaState state) { (void)tp, (void)state; }
  // ->cwnd_event.
  virtual void cwnd_event(TcpCaSock& tp, TcpCaEvent ev) { (void)tp, (void)ev; }
  // ->pkts_acked: after tcp_clean_rtx_queue, with the RTT sample.
  virtual void pkts_acked(TcpCaSock& tp, const TcpAckSample& s) { (void)tp, (void)s; }
  // ->undo_cwnd: the cwnd to return to when a reduction is undone (tcp_reno_undo_cwnd:
  // max(cwnd, prior_cwnd)).
  virtual uint32_t undo_cwnd(TcpCaSock& tp);
};

// tcp_reno_ssthresh / tcp_reno_cong_avoid / tcp_reno_undo_cwnd.
uint32_t tcp_reno_ssthresh(const TcpCaSock& tp);
void tcp_reno_cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked);
uint32_t tcp_reno_undo_cwnd(const TcpCaSock& tp);

// CUBIC's module parameters (/sys/module/tcp_cubic/parameters), Linux 6.1's defaults. Linux
// precomputes beta_scale, cube_rtt_scale and cube_factor from beta and bic_scale once at module
// load; TcpCubic does it when constructed.
struct TcpCubicParams {
  int fast_convergence = 1;
  int beta = 717;               // / 1024 (BICTCP_BETA_SCALE)
  int initial_ssthresh = 0;     // used only when hystart is 0
  int bic_scale = 41;           // C = bic_scale * 10 / 1024 = 0.4
  int tcp_friendliness = 1;
  int hystart = 1;
  int hystart_detect = 3;       // bit 0: ACK train, bit 1: delay
  int hystart_low_window = 16;
  int hystart_ack_delta_us = 2000;
};

// struct bictcp: one CUBIC socket's private state (times in jiffies unless named _us).
struct BictcpState {
  uint32_t cnt = 0;               // increase cwnd by 1 after this many ACKed segments
  uint32_t last_max_cwnd = 0;     // W_max: cwnd before the last reduction
  uint32_t last_cwnd = 0;         // cwnd at the last bictcp_update
  uint32_t last_time = 0;         // jiffies of that update
  uint32_t bic_origin_point = 0;  // the cubic curve's plateau
  uint32_t bic_K = 0;             // time from the epoch start to the plateau, in 1/1024 s
  uint32_t delay_min = 0;         // minimum RTT seen, us
  uint32_t epoch_start = 0;       // jiffies when this growth epoch began (0: none)
  uint32_t ack_cnt = 0;           // segments ACKed (the Reno-friendly estimate's counter)
  uint32_t tcp_cwnd = 0;          // the Reno-friendly estimate of cwnd
  uint8_t sample_cnt = 0;         // HyStart delay samples taken in this round
  uint8_t found = 0;              // HyStart has ended slow start
  uint32_t round_start = 0;       // us: the start of this HyStart round
  uint32_t end_seq = 0;           // snd_nxt when the round started
  uint32_t last_ack = 0;          // us: the last ACK of the current train
  uint32_t curr_rtt = 0;          // us: the minimum RTT of the round's first samples
};

// cubic_root: the cube root of a by a 64-entry table and one Newton-Raphson step (about 0.2%
// error), in Linux's integer arithmetic.
uint32_t tcp_cubic_root(uint64_t a);

// CUBIC (tcp_cubic.c) with HyStart. tcp_ca_create("cubic") makes one with the default params.
class TcpCubic final : public TcpCongestionOps {
 public:
  explicit TcpCubic(const TcpCubicParams& p = {});
  std::string_view name() const override { return "cubic"; }
  void init(TcpCaSock& tp) override;
  uint32_t ssthresh(TcpCaSock& tp) override;
  void cong_avoid(TcpCaSock& tp, uint32_t ack, uint32_t acked) override;
  void set_state(TcpCaSock& tp, TcpCaState state) override;
  void cwnd_event(TcpCaSock& tp, TcpCaEvent ev) override;
  void pkts_acked(TcpCaSock& tp, const TcpAckSample& s) override;
  const BictcpState& state() const { return ca_; }
  const TcpCubicParams& params() const { return p_; }

 private:
  void update(const TcpCaSock& tp, uint32_t cwnd, uint32_t acked);
  void hystart_reset(const TcpCaSock& tp);
  void hystart_update(TcpCaSock& tp, uint32_t delay);
  void reset();

  TcpCubicParams p_;
  uint32_t beta_scale_;      // 8 * (1024 + beta) / 3 / (1024 - beta): Reno-friendly ACKs per +1
  uint32_t cube_rtt_scale_;  // bic_scale * 10: C * 1024
  uint64_t cube_factor_;     // 2^40 / (bic_scale * 10): turns W_max - cwnd into K^3
  BictcpState ca_;
};

// A new per-socket instance of the algorithm called `name` ("reno", "cubic"); nullptr if unknown
// (setsockopt(TCP_CONGESTION) answers -ENOENT then).
std::unique_ptr<TcpCongestionOps> tcp_ca_create(std::string_view name);
// /proc/sys/net/ipv4/tcp_available_congestion_control's names, in registration order.
std::vector<std::string_view> tcp_ca_available();

}  // namespace vnic::stack

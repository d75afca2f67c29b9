// The inside of Tcp (tcp.hpp): one engine per host, its functions split by Linux's files:
// tcp.cpp (the socket calls, tcp_sendmsg/tcp_recvmsg, close), tcp_ipv4.cpp (tcp_v4_rcv, the
// lookup, listeners and request socks, resets), tcp_input.cpp (the state machine, tcp_ack,
// tcp_data_queue, delayed ACKs, buffers), tcp_output.cpp (tcp_write_xmit, tcp_transmit_skb, the
// window, retransmission), tcp_recovery.cpp (SACK, RACK-TLP, NewReno, PRR, undo) and
// tcp_timer.cpp (the timers and the wheel's rounding).
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "vnic/stack/icmp.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {

// FLAG_* of tcp_input.c.
inline constexpr int kFlagData = 0x01, kFlagWinUpdate = 0x02, kFlagDataAcked = 0x04, kFlagRetransDataAcked = 0x08,
                     kFlagSynAcked = 0x10, kFlagDataSacked = 0x20, kFlagEce = 0x40, kFlagLostRetrans = 0x80,
                     kFlagSlowpath = 0x100, kFlagOrigSackAcked = 0x200, kFlagSndUnaAdvanced = 0x400,
                     kFlagDsackingAck = 0x800, kFlagSetXmitTimer = 0x1000, kFlagSackReneging = 0x2000,
                     kFlagUpdateTsRecent = 0x4000, kFlagNoChallengeAck = 0x8000, kFlagAckMaybeDelayed = 0x10000,
                     kFlagDsackTlp = 0x20000;
inline constexpr int kFlagAcked = kFlagDataAcked | kFlagSynAcked;
inline constexpr int kFlagNotDup = kFlagData | kFlagWinUpdate | kFlagAcked;
inline constexpr int kFlagCaAlert = kFlagDataSacked | kFlagEce | kFlagDsackingAck;
inline constexpr int kFlagForwardProgress = kFlagAcked | kFlagDataSacked;

// icsk_pending values and icsk_ack.pending bits.
inline constexpr uint8_t kTimeRetrans = 1, kTimeProbe0 = 3, kTimeLossProbe = 5, kTimeReoTimeout = 6;
inline constexpr uint8_t kAckSched = 1, kAckTimer = 2, kAckPushed = 4, kAckPushed2 = 8, kAckNow = 16;
inline constexpr int kNagleOff = 1, kNagleCork = 2, kNaglePush = 4;
inline constexpr uint8_t kRcvShutdown = 1, kSendShutdown = 2;

// Times in jiffies (HZ 250).
inline constexpr uint32_t kTcpRtoMax = 120 * kHz, kTcpRtoMin = kHz / 5, kTcpTimeoutInit = kHz, kTcpTimeoutMin = 2;
inline constexpr uint32_t kTcpDelackMax = kHz / 5, kTcpDelackMin = kHz / 25, kTcpAtoMin = kHz / 25;
inline constexpr uint32_t kTcpResourceProbeInterval = kHz / 2;
inline constexpr uint32_t kTcpMaxQuickacks = 16;
inline constexpr uint32_t kTcpInitCwnd = 10;
inline constexpr uint32_t kMaxTcpHeader = 320;  // MAX_TCP_HEADER on x86-64 (L1_CACHE_ALIGN(128 + MAX_HEADER))
inline constexpr uint32_t kTcpMssDefault = 536;
inline constexpr uint64_t kTcpClockOriginUs = 100'000'000;  // tcp_clock_us at the simulation's time 0

// When a timer armed now for `delta` jiffies runs: the timer wheel's bucket (kernel/time/timer.c
// calc_wheel_index: level granularity 8^lvl jiffies, always rounded up past the expiry), at the
// tick that starts that jiffy.
Instant timer_wheel_expiry(Instant now, uint64_t delta_jiffies);

class TcpEngine {
 public:
  TcpEngine(Tcp& t) : t_(t), net_(t.net_), sys_(t.sys_), mib_(t.mib_), ext_(t.ext_), stats_(t.stats_) {}

  // ---- tcp.cpp
  TcpSock* new_sock();
  void destroy(TcpSock* sk);         // frees it (unhashed, queues dropped, timers cancelled)
  void reap();                       // frees the orphans tcp_done finished (see tcp_done)
  std::vector<TcpSock*> reap_;
  void tcp_done(Cpu& cpu, TcpSock& sk);
  void set_state(TcpSock& sk, TcpState st);
  int get_port(TcpSock& sk, uint16_t snum);
  void hash(TcpSock& sk);
  void unhash(TcpSock& sk);
  void tcp_send_fin(Cpu& cpu, TcpSock& sk);
  void tcp_cleanup_rbuf(Cpu& cpu, TcpSock& sk, int copied);
  void free_rcv_queues(TcpSock& sk, bool trace, Cpu* cpu = nullptr);
  // tcp_write_queue_purge: both send queues emptied; the unsent records' ids end as drops
  // (trace false: at teardown, counted and traced nowhere)
  void write_queue_purge(TcpSock& sk, bool trace, Cpu* cpu = nullptr);
  uint32_t sbuf_copy_out(const TcpSock& sk, uint32_t seq, std::span<uint8_t> out) const;
  void sbuf_append(TcpSock& sk, std::span<const uint8_t> data);
  void sbuf_release_to(TcpSock& sk, uint32_t seq);

  // ---- tcp_ipv4.cpp
  void rcv(SkBuff* skb) {
    rcv_one(skb);
    reap();
  }
  void rcv_one(SkBuff* skb);
  TcpSock* lookup_established(wire::Ipv4Addr saddr, uint16_t sport, wire::Ipv4Addr daddr, uint16_t dport);
  TcpSock* lookup_listener(wire::Ipv4Addr daddr, uint16_t dport, int dif);
  void send_reset(Cpu& cpu, const SkBuff& in, const wire::TcpRepr& th, uint32_t payload_len);
  void send_ack_stateless(Cpu& cpu, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint16_t sport, uint16_t dport,
                          uint32_t seq, uint32_t ack, uint16_t win, const wire::TcpOptions& opt, uint8_t flags);
  void conn_request(Cpu& cpu, TcpSock& lsk, SkBuff* skb, const wire::TcpRepr& th);
  uint32_t secure_seq(wire::Ipv4Addr s, wire::Ipv4Addr d, uint16_t sp, uint16_t dp, Instant now);
  void timewait_rcv(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th);

  // ---- tcp_input.cpp
  void rcv_state_process(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th);
  void rcv_established(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th);
  bool validate_incoming(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th, bool syn_inerr);  // false: dropped
  bool oow_rate_limited(const TcpSock& sk, uint32_t seq, uint32_t end_seq, bool syn, LinuxMib mib, uint32_t& last);
  int tcp_ack(Cpu& cpu, TcpSock& sk, const SkBuff* skb, const wire::TcpRepr& th, int flag);
  void data_queue(Cpu& cpu, TcpSock& sk, SkBuff* skb, const wire::TcpRepr& th);
  void data_queue_ofo(Cpu& cpu, TcpSock& sk, SkBuff* skb, uint32_t seq, uint32_t end_seq, bool fin);
  void ofo_queue(Cpu& cpu, TcpSock& sk);
  void tcp_fin(Cpu& cpu, TcpSock& sk);
  void event_data_recv(Cpu& cpu, TcpSock& sk, const SkBuff* skb, uint32_t len);
  void ack_snd_check(Cpu& cpu, TcpSock& sk);
  void incr_quickack(TcpSock& sk, uint32_t max_quickacks);
  void enter_quickack_mode(TcpSock& sk, uint32_t max_quickacks);
  bool in_quickack_mode(const TcpSock& sk) const;
  void rtt_estimator(TcpSock& sk, int64_t mrtt_us);
  void set_rto(TcpSock& sk);
  void ack_update_rtt(TcpSock& sk, int flag, int64_t seq_rtt_us, int64_t sack_rtt_us, int64_t ca_rtt_us);
  int clean_rtx_queue(Cpu& cpu, TcpSock& sk, uint32_t prior_fack, uint32_t prior_snd_una, int64_t* sack_rtt,
                      uint32_t* acked_pkts);
  int ack_update_window(TcpSock& sk, const wire::TcpRepr& th, uint32_t ack, uint32_t ack_seq);
  void parse_options(TcpSock& sk, const wire::TcpRepr& th);
  bool paws_discard(const TcpSock& sk, const wire::TcpRepr& th) const;
  void store_ts_recent(TcpSock& sk);
  void replace_ts_recent(TcpSock& sk, uint32_t seq);
  void send_challenge_ack(Cpu& cpu, TcpSock& sk);
  void send_dupack(Cpu& cpu, TcpSock& sk, uint32_t seq, uint32_t end_seq);
  void dsack_set(TcpSock& sk, uint32_t seq, uint32_t end_seq);
  void dsack_extend(TcpSock& sk, uint32_t seq, uint32_t end_seq);
  void sack_new_ofo_skb(TcpSock& sk, uint32_t seq, uint32_t end_seq);
  void sack_remove(TcpSock& sk);
  void rcv_space_adjust(TcpSock& sk);
  void grow_window(TcpSock& sk, const SkBuff* skb);
  void init_buffer_space(TcpSock& sk);
  void sndbuf_expand(TcpSock& sk);
  void new_space(Cpu& cpu, TcpSock& sk);
  void stream_write_space(Cpu& cpu, TcpSock& sk);
  void finish_connect(Cpu& cpu, TcpSock& sk);
  void init_transfer(Cpu& cpu, TcpSock& sk);
  void reset(Cpu& cpu, TcpSock& sk);  // tcp_reset: a RST took the connection
  void rcv_rtt_measure(TcpSock& sk, uint32_t len);
  void rcv_rtt_measure_ts(TcpSock& sk, uint32_t len);
  void update_pacing_rate(TcpSock& sk);
  void cong_control(TcpSock& sk, uint32_t ack, uint32_t acked_sacked, int flag, uint32_t newly_lost);
  void end_packet(Cpu& cpu, SkBuff* skb, bool queued);  // a segment's end when nothing queued it

  // ---- tcp_output.cpp
  uint32_t current_mss(TcpSock& sk);
  uint32_t sync_mss(TcpSock& sk, uint32_t pmtu);
  uint32_t mss_to_mtu(const TcpSock& sk, uint32_t mss) const;
  uint32_t route_mtu(wire::Ipv4Addr daddr, int oif) const;  // the route's device MTU (dst_mtu)
  void select_initial_window(TcpSock& sk, uint32_t mss, bool wscale_ok);
  void connect_init(TcpSock& sk);
  int tcp_connect(Cpu& cpu, TcpSock& sk);
  bool write_xmit(Cpu& cpu, TcpSock& sk, uint32_t mss_now, int nonagle, int push_one);
  void push_pending_frames(Cpu& cpu, TcpSock& sk) { push_pending(cpu, sk, current_mss(sk), sk.nonagle); }
  void push_pending(Cpu& cpu, TcpSock& sk, uint32_t mss_now, int nonagle);
  // __tcp_transmit_skb. `more_ids` non-empty: a GSO skb of 1 + more_ids.size() segments of
  // `gso_size` bytes (seg spans them all; the ids are its segments' after the first).
  int transmit(Cpu& cpu, TcpSock& sk, const TcpSeg& seg, bool retrans, uint32_t rcv_nxt,
               std::span<const uint64_t> more_ids = {}, uint32_t gso_size = 0);
  // GSO sizing and TCP small queues (tcp_output.c, part 3b)
  uint32_t tso_segs(const TcpSock& sk, uint32_t mss_now) const;  // tcp_tso_segs
  uint32_t xmit_size_goal(TcpSock& sk, uint32_t mss_now);        // tcp_xmit_size_goal
  // skb_end records of `len` bytes: the write queue's first skb
  bool tso_should_defer(TcpSock& sk, std::size_t skb_end, uint32_t len, uint32_t max_segs, bool* is_cwnd_limited,
                        bool* is_rwnd_limited) const;
  bool small_queue_check(TcpSock& sk, uint32_t truesize, int factor);  // tcp_small_queue_check
  void tsq_write(Cpu& cpu, TcpSock& sk);                                // tcp_tsq_write
  static void tcp_wfree(SkBuff* skb);
  static void tsq_thunk(void* ctx, uint64_t ino);
  int transmit_synack(Cpu& cpu, TcpSock& req);
  void send_ack(Cpu& cpu, TcpSock& sk);
  void send_delayed_ack(Cpu& cpu, TcpSock& sk);
  void send_active_reset(Cpu& cpu, TcpSock& sk);
  uint16_t select_window(TcpSock& sk);
  uint32_t select_window_raw(TcpSock& sk);  // __tcp_select_window
  uint32_t receive_window(const TcpSock& sk) const;
  // tcp_retransmit_skb; probe: __tcp_retransmit_skb alone (the loss probe: no RETRANS marks,
  // retrans_out, retrans_stamp or undo_retrans)
  int retransmit_skb(Cpu& cpu, TcpSock& sk, std::size_t idx, int segs, bool probe = false);
  void xmit_retransmit_queue(Cpu& cpu, TcpSock& sk);
  void send_loss_probe(Cpu& cpu, TcpSock& sk);
  bool schedule_loss_probe(TcpSock& sk, bool advancing_rto);
  void send_probe0(Cpu& cpu, TcpSock& sk);
  int write_wakeup(Cpu& cpu, TcpSock& sk, LinuxMib mib);
  int xmit_probe_skb(Cpu& cpu, TcpSock& sk, bool urgent);
  void event_new_data_sent(TcpSock& sk);
  void cwnd_validate(TcpSock& sk, bool is_cwnd_limited);
  void fragment(TcpSock& sk, std::deque<TcpSeg>& q, std::size_t idx, uint32_t len);
  void rate_skb_sent(TcpSock& sk, TcpSeg& seg);
  void mstamp_refresh(Cpu& cpu, TcpSock& sk);
  void xmit_recovery(Cpu& cpu, TcpSock& sk, int rexmit);

  // ---- tcp_recovery.cpp
  int sacktag_write_queue(TcpSock& sk, const wire::TcpRepr& th, uint32_t ack, uint32_t prior_snd_una,
                          uint32_t* sack_delivered, int64_t* sack_rtt);
  void fastretrans_alert(Cpu& cpu, TcpSock& sk, uint32_t prior_snd_una, int num_dupack, int* flag, int* rexmit);
  void enter_loss(TcpSock& sk);
  void enter_recovery(TcpSock& sk, bool ece_ack);
  void enter_cwr(TcpSock& sk);
  void init_cwnd_reduction(TcpSock& sk);
  void end_cwnd_reduction(TcpSock& sk);
  void cwnd_reduction(TcpSock& sk, int newly_acked_sacked, int newly_lost, int flag);
  void set_ca_state(TcpSock& sk, TcpCaState st);
  void try_keep_open(TcpSock& sk);
  void try_to_open(TcpSock& sk, int flag);
  bool try_undo_recovery(TcpSock& sk);
  bool try_undo_dsack(TcpSock& sk);
  bool try_undo_loss(TcpSock& sk, bool frto_undo);
  bool try_undo_partial(TcpSock& sk, uint32_t prior_snd_una, bool* do_lost);
  void undo_cwnd_reduction(TcpSock& sk, bool unmark_loss);
  void init_undo(TcpSock& sk);
  bool may_undo(const TcpSock& sk) const;
  bool packet_delayed(const TcpSock& sk) const;
  void process_loss(TcpSock& sk, int flag, int num_dupack, int* rexmit);
  void process_tlp_ack(TcpSock& sk, uint32_t ack, int flag);
  void identify_packet_loss(TcpSock& sk, int* flag);
  void mark_skb_lost(TcpSock& sk, TcpSeg& seg);
  void newreno_mark_lost(TcpSock& sk, bool snd_una_advanced);
  void add_reno_sack(TcpSock& sk, int num_dupack);
  void reset_reno_sack(TcpSock& sk) { sk.sacked_out = 0; }
  void check_reno_reordering(TcpSock& sk, uint32_t addend);
  void check_sack_reordering(TcpSock& sk, uint32_t low_seq, int ts);
  bool rack_mark_lost(TcpSock& sk);
  void rack_detect_loss(TcpSock& sk, uint32_t* reo_timeout);
  void rack_advance(TcpSock& sk, uint8_t sacked, uint32_t end_seq, uint64_t xmit_time);
  void rack_reo_timeout(Cpu& cpu, TcpSock& sk);
  void rack_update_reo_wnd(TcpSock& sk, uint32_t prior_delivered);
  uint32_t rack_reo_wnd(const TcpSock& sk) const;
  void timeout_mark_lost(TcpSock& sk);
  bool time_to_recover(const TcpSock& sk) const;
  bool any_retrans_done(const TcpSock& sk) const;
  uint32_t current_ssthresh(const TcpSock& sk) const;
  void rate_gen(TcpSock& sk, uint32_t delivered, uint64_t prior_mstamp, uint32_t prior_delivered,
                bool prior_app_limited, uint64_t first_tx);

  // ---- tcp_timer.cpp
  void reset_xmit_timer(TcpSock& sk, uint8_t what, uint64_t when_jiffies, uint64_t max_when);
  void clear_xmit_timer(TcpSock& sk);
  void rearm_rto(TcpSock& sk);
  void set_xmit_timer(TcpSock& sk);
  int64_t rto_delta_us(const TcpSock& sk) const;
  void reset_dack_timer(TcpSock& sk, Instant when);
  void clear_dack_timer(TcpSock& sk);
  void reset_keepalive_timer(TcpSock& sk, uint64_t when_jiffies);
  void clear_keepalive_timer(TcpSock& sk);
  void retransmit_timer(Cpu& cpu, TcpSock& sk);
  // tcp_ld_RTO_revert (RFC 6069): an ICMP net/host unreachable about snd_una while backing off
  void ld_rto_revert(Cpu& cpu, TcpSock& sk, uint32_t seq);
  void probe_timer(Cpu& cpu, TcpSock& sk);
  void delack_timer(Cpu& cpu, TcpSock& sk);
  void keepalive_timer(Cpu& cpu, TcpSock& sk);
  void synack_timer(Cpu& cpu, TcpSock& req);
  bool write_timeout(Cpu& cpu, TcpSock& sk);
  bool retransmits_timed_out(const TcpSock& sk, uint32_t boundary, uint32_t timeout_ms) const;
  void write_err(Cpu& cpu, TcpSock& sk);
  void time_wait(Cpu& cpu, TcpSock& sk, TcpState st, uint32_t timeo_jiffies);
  void timewait_fin_wait2(Cpu& cpu, TcpSock& tw, SkBuff* skb, const wire::TcpRepr& th);
  void set_keepalive(TcpSock& sk, bool on);
  static void on_timer(void* ctx, uint64_t arg);
  void on_timer_one(uint64_t arg);

  // ---- tcp_ecn.cpp (RFC 3168 as tcp_output.c / tcp_input.c / tcp_ipv4.c do it)
  void ecn_send(TcpSock& sk, const TcpSeg& seg, bool retrans, uint8_t& flags);  // SYN, SYN-ACK, data, ACK
  void ecn_create_request(TcpSock& req, const SkBuff& skb, const wire::TcpRepr& th);
  void ecn_rcv_synack(TcpSock& sk, const wire::TcpRepr& th);
  void ecn_rcv_syn(TcpSock& sk, const wire::TcpRepr& th);
  int ecn_ack(TcpSock& sk, const wire::TcpRepr& th, int flag);  // FLAG_ECE or 0; tcp_ecn_accept_cwr
  void ecn_check_ce(TcpSock& sk, const SkBuff& skb);
  void ecn_queue_cwr(TcpSock& sk);
  void ecn_withdraw_cwr(TcpSock& sk);
  void newly_delivered(TcpSock& sk, uint32_t delivered, int flag);  // TCPDelivered, TCPDeliveredCE

  // ---- shared helpers
  Cpu& timer_cpu() { return net_.cpu(0); }
  uint32_t time_stamp_ms(const TcpSock& sk) const { return static_cast<uint32_t>(sk.tcp_mstamp / 1000); }
  uint32_t tsval(const TcpSock& sk) const { return time_stamp_ms(sk) + sk.tsoffset; }
  uint32_t full_space(const TcpSock& sk) const { return win_from_space(sk.rcvbuf); }
  uint32_t win_from_space(int64_t space) const {
    const int s = sys_.tcp_adv_win_scale;
    if (space <= 0) return 0;
    return static_cast<uint32_t>(s <= 0 ? space >> -s : space - (space >> s));
  }
  int64_t tcp_space(const TcpSock& sk) const {
    return win_from_space(static_cast<int64_t>(sk.rcvbuf) - static_cast<int64_t>(sk.rmem_alloc));
  }
  uint32_t min_rtt(const TcpSock& sk) const { return sk.rtt_min_us; }
  void trace(Cpu& cpu, TraceKind k, model::Step step, uint64_t packet, uint32_t a = 0, uint64_t b = 0) {
    net_.trace_event(cpu, k, step, packet, a, b);
  }
  TcpSock* by_ino(uint64_t ino) {
    const auto it = socks_by_ino_.find(ino);
    return it == socks_by_ino_.end() ? nullptr : it->second;
  }

  // tcp_rate.c's rate sample of the ACK being processed, and tcp_sacktag_state's times.
  struct RateSample {
    uint32_t prior_delivered = 0, prior_in_flight = 0, last_end_seq = 0;
    uint64_t prior_mstamp = 0;
    int64_t interval_us = 0;
    bool is_app_limited = false, is_retrans = false;
    uint64_t first_sackt = 0, last_sackt = 0;
  };
  void rate_delivered_seg(TcpSock& sk, TcpSeg& seg);  // tcp_rate_skb_delivered
  uint32_t highest_sack_seq(const TcpSock& sk) const;
  uint32_t fin_time(const TcpSock& sk) const {
    const uint32_t fin = static_cast<uint32_t>(sys_.tcp_fin_timeout_s * kHz);
    const uint32_t rto = sk.rto_jiffies;
    return std::max(fin, (rto << 2) - (rto >> 1));
  }

  RateSample rs_;
  std::vector<uint64_t> gso_ids_;  // write_xmit's GSO skb: its segments' ids after the first
  int64_t last_rtt_sample_ = -1;
  bool last_rtt_updated_ = false;
  TcpCaCounters hystart_counters_;
  Tcp& t_;
  NetStack& net_;
  TcpSysctls& sys_;
  TcpMib& mib_;
  TcpExtMib& ext_;
  TcpStats& stats_;
  std::unordered_map<uint64_t, TcpSock*> socks_by_ino_;
  // The hash tables: ehash (connections, SYN-RECV and TIME-WAIT by their four-tuple), lhash
  // (listeners by port) and bhash (every socket holding a local port, for bind and connect).
  struct FourTuple {
    uint32_t laddr = 0, raddr = 0;
    uint16_t lport = 0, rport = 0;
    bool operator==(const FourTuple&) const = default;
  };
  struct FourTupleHash {
    std::size_t operator()(const FourTuple& k) const {
      uint64_t h = (uint64_t{k.laddr} << 32 | k.raddr) * 0x9E3779B97F4A7C15ull;
      h ^= (uint64_t{k.lport} << 16 | k.rport) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
      return static_cast<std::size_t>(h ^ (h >> 29));
    }
  };
  static FourTuple tuple_of(const TcpSock& sk) { return {sk.rcv_saddr.to_u32(), sk.daddr.to_u32(), sk.num, sk.dport}; }
  void ehash_add(TcpSock& sk) { ehash_[tuple_of(sk)] = &sk; }
  void ehash_del(TcpSock& sk);
  std::unordered_map<FourTuple, TcpSock*, FourTupleHash> ehash_;
  std::unordered_map<uint16_t, std::vector<TcpSock*>> lhash_;
  std::unordered_map<uint16_t, std::vector<TcpSock*>> bhash_;
  uint32_t challenge_count_ = 0, challenge_stamp_ = 0xFFFFFFFF;  // Linux's jiffies start far from 0
};

}  // namespace vnic::stack

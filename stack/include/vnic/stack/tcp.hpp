// TCP over IPv4 and its sockets, as Linux 6.1 runs them (net/ipv4/tcp.c, tcp_ipv4.c, tcp_input.c,
// tcp_output.c, tcp_timer.c, tcp_recovery.c, tcp_minisocks.c, inet_connection_sock.c): the
// socket calls with their errno results, tcp_v4_rcv and the socket lookup, the state machine of
// RFC 9293 with RFC 5961's checks, options (MSS, window scale, SACK, timestamps), the
// retransmission timer with Linux's bounds and backoff, loss detection by RACK-TLP with SACK
// and NewReno's duplicate-ACK threshold without, PRR, congestion control behind tcp_cong.hpp,
// delayed ACKs and quick-ack mode, Nagle and TCP_CORK, zero-window probes, keepalive, receive
// and send buffers with auto-tuning, and the MIBs. docs/tcp.md says what is modelled.
//
// Segments on the sender are records (TcpSeg, an skb's TCP_SKB_CB) over one byte buffer per
// socket (the stream from snd_una on); each transmission is a fresh skb with the segment's bytes.
// Packet ids: a segment takes one id when tcp_sendmsg makes it and its first transmission carries
// it; a retransmission is a new packet (a new id, its first event TcpRetransmit with b = the
// segment's id). Pure ACKs, SYNs and FINs without data get their own ids. On the receiver a data
// segment's skb waits on the receive queue until the application has read all of it (AppRecv and
// Consumed at ingress 24); a pure ACK ends in tcp_ack (Consumed).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/sock.hpp"
#include "vnic/stack/tcp_cong.hpp"
#include "vnic/stack/tcp_mib.hpp"
#include "vnic/stack/udp.hpp"  // SockAddrIn
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/stack/wire/tcp.hpp"

namespace vnic::stack {

class NetStack;
class Icmp;
class TcpEngine;  // stack/src/ipv4/tcp_engine.hpp

// errno values the TCP calls return negated, beyond sock.hpp's.
inline constexpr int kEISCONN = 106, kENOTCONN = 107, kECONNRESET = 104, kEALREADY = 114,
                     kEINPROGRESS = 115, kEPIPE = 32, kECONNABORTED = 103, kENOENT = 2;
// net.core.somaxconn (6.1: 4096): listen()'s backlog is capped at it.
inline constexpr int kSomaxconn = 4096;
inline constexpr int kMsgMore = 0x8000, kMsgWaitall = 0x100, kMsgNosignal = 0x4000;

// net.ipv4.tcp_* with Linux 6.1's defaults (../shared/reference/linux-6.1-defaults.md).
struct TcpSysctls {
  uint32_t tcp_rmem[3] = {4096, 131072, 6291456};
  uint32_t tcp_wmem[3] = {4096, 16384, 4194304};
  std::string tcp_congestion_control = "cubic";
  bool tcp_sack = true, tcp_timestamps = true, tcp_window_scaling = true, tcp_dsack = true;
  int tcp_ecn = 2;                       // 1: ask for ECN (RFC 3168) on SYNs; 2: accept it, never ask; 0: off
  int tcp_ecn_fallback = 1;              // a retransmitted SYN goes without ECE|CWR
  bool tcp_moderate_rcvbuf = true;
  int tcp_adv_win_scale = 1;
  int tcp_app_win = 31;
  int tcp_recovery = 1;                  // RACK loss detection
  int tcp_early_retrans = 3;             // TLP
  int tcp_frto = 2;
  bool tcp_slow_start_after_idle = true;
  int tcp_syn_retries = 6, tcp_synack_retries = 5, tcp_retries1 = 3, tcp_retries2 = 15, tcp_orphan_retries = 0;
  int tcp_fin_timeout_s = 60;
  int tcp_keepalive_time_s = 7200, tcp_keepalive_intvl_s = 75, tcp_keepalive_probes = 9;
  uint32_t tcp_reordering = 3, tcp_max_reordering = 300;
  int tcp_max_syn_backlog = 128;         // (a host with little memory; 6.1 sizes it from ehash)
  int tcp_abort_on_overflow = 0;
  int tcp_challenge_ack_limit = 1000;
  int tcp_min_rtt_wlen_s = 300;
  bool tcp_no_metrics_save = false;      // the metrics cache is not built: as if set
  uint32_t tcp_notsent_lowat = 0xFFFFFFFF;
  int tcp_workaround_signed_windows = 0;
  uint32_t tcp_base_mss = 1024;
  int tcp_tw_reuse = 2;                  // loopback only: no effect here
  int tcp_max_tw_buckets = 8192;
  // GSO, small queues and autocorking (part 3b)
  uint32_t tcp_limit_output_bytes = 1048576;  // TSQ: bytes of one socket in the qdisc and device
  bool tcp_autocorking = true;
  uint32_t tcp_min_tso_segs = 2;
  uint32_t tcp_tso_win_divisor = 3;
  uint32_t tcp_tso_rtt_log = 9;
};

// TCP_* states (include/net/tcp_states.h).
enum class TcpState : uint8_t {
  Established = 1, SynSent, SynRecv, FinWait1, FinWait2, TimeWait, Close, CloseWait, LastAck, Listen, Closing,
};
std::string_view tcp_state_name(TcpState s);
// ss's rate format (sprint_bw): "9.4Gbps", "812.3Mbps", "96.0Kbps", "800bps".
std::string ss_rate(double bps);  // "ESTABLISHED", ... as /proc/net/tcp's comments name them

// TCPCB_* bits of a segment's sacked field.
inline constexpr uint8_t kTcpcbSackedAcked = 0x01, kTcpcbSackedRetrans = 0x02, kTcpcbLost = 0x04,
                         kTcpcbTagbits = 0x07, kTcpcbEverRetrans = 0x80,
                         kTcpcbRetrans = kTcpcbSackedRetrans | kTcpcbEverRetrans;
// TCP_ECN_* bits of TcpSock::ecn_flags (include/net/tcp.h) and the IP header's ECN field (INET_ECN_*).
inline constexpr uint8_t kTcpEcnOk = 1, kTcpEcnQueueCwr = 2, kTcpEcnDemandCwr = 4, kTcpEcnSeen = 8;
inline constexpr uint8_t kInetEcnNotEct = 0, kInetEcnEct1 = 1, kInetEcnEct0 = 2, kInetEcnCe = 3, kInetEcnMask = 3;

// An skb of the write or retransmit queue: its TCP_SKB_CB and what the rate sampler stamps on it.
// Its fields are ordered to leave no padding (56 bytes): the queues hold thousands.
struct TcpSeg {
  uint32_t seq = 0, end_seq = 0;   // end_seq counts SYN and FIN
  uint8_t flags = 0;               // TCPHDR_* (wire::kTcp*)
  uint8_t sacked = 0;              // TCPCB_*
  bool app_limited = false;        // tx.is_app_limited
  bool skb_head = true;            // starts one of Linux's write-queue skbs (up to size_goal bytes,
                                   // one header's truesize); false: more of the skb before it
  uint32_t len = 0;                // data bytes (end_seq - seq less SYN/FIN)
  uint64_t mstamp_us = 0;          // tcp_skb_timestamp_us: its last transmission
  uint64_t first_tx_us = 0;        // tx.first_tx_mstamp of the rate sample
  uint64_t delivered_us = 0;       // tx.delivered_mstamp
  uint32_t tx_delivered = 0;       // tx.delivered
  uint32_t truesize = 0;           // what it charges sk_wmem_queued
  uint64_t id = 0;                 // the packet id of its first transmission
  uint32_t pcount() const { return 1; }  // tcp_skb_pcount: one segment a record (a GSO skb is a run of records)
};
static_assert(sizeof(TcpSeg) == 56, "TcpSeg grew padding: order its fields by size");

// A received segment on the receive or out-of-order queue (the skb and its TCP_SKB_CB).
struct TcpRcvSeg {
  SkBuff* skb = nullptr;           // skb->data at the first byte of the payload not yet read
  uint32_t seq = 0, end_seq = 0;   // end_seq counts a FIN
  bool fin = false;
};

// struct tcp_sock with its inet_connection_sock and inet_sock parts (the fields the model uses).
class Tcp;
struct TcpSock : Sock, TcpCaSock {
  TcpState tstate = TcpState::Close;
  Tcp* owner = nullptr;            // its host's TCP (the TSQ handler finds the socket through it)
  int err_soft = 0;                // sk_err_soft: an ICMP error kept for a timeout to report
  // GSO and TCP small queues (part 3b)
  uint16_t gso_segs = 0;           // tp->gso_segs: size_goal / mss_now (tcp_xmit_size_goal)
  uint16_t gso_max_segs = 0;       // sk_gso_max_segs: max(the device's gso_max_segs, 1); 0 before
                                   // sk_setup_caps
  uint8_t tsq_flags = 0;           // TSQF_THROTTLED 1, TSQF_QUEUED 2
  uint64_t wstamp_us = 0;          // tcp_wstamp_ns: when it last sent (tcp_clock_us)
  // inet_sock
  wire::Ipv4Addr saddr{}, daddr{}, rcv_saddr{};
  uint16_t num = 0, dport = 0;     // local port (inet_num), remote port
  bool bind_port_locked = false, bind_addr_locked = false;
  uint16_t inet_id = 0;
  uint8_t tos = 0;                 // its ECN bits: ECT(0) while ECN data goes out (INET_ECN_xmit)
  uint8_t ecn_flags = 0;           // TCP_ECN_* (tcp_ecn.cpp)
  int ttl = -1;
  uint64_t ino = 0;
  // listening socket: accept queue and request socks (SYN-RECV minisocks live as TcpSocks in
  // state SynRecv with `parent` set, until accepted or dropped)
  int backlog = 0;                 // sk_max_ack_backlog
  std::deque<TcpSock*> accept_queue;
  uint32_t syn_recv_count = 0;     // request socks of this listener (inet_csk_reqsk_queue_len)
  TcpSock* parent = nullptr;       // a child's listener until accept()
  bool in_accept_queue = false;
  bool orphan = false;             // the application closed it (SOCK_DEAD); TCP finishes it
  bool tw = false;                 // a TIME-WAIT socket (inet_timewait_sock; tstate TimeWait or FinWait2)
  bool tw_kill = false;            // its timeout was short (TWKilled rather than TW when it ends)
  // sequence space
  uint32_t isn = 0;                // our initial sequence number
  // connect()'s initial sequence number when set (what TCP_REPAIR's TCP_QUEUE_SEQ lets a test
  // choose in Linux); unset: secure_tcp_seq's hash and clock.
  std::optional<uint32_t> isn_request;
  uint32_t write_seq = 0, pushed_seq = 0, snd_sml = 0, snd_up = 0;
  uint32_t snd_wl1 = 0, snd_wnd = 0, max_window = 0;
  uint32_t rcv_nxt = 0, copied_seq = 0, rcv_wup = 0, rcv_wnd = 0, rcv_ssthresh = 0, window_clamp = 0;
  uint32_t irs = 0;                // the peer's initial sequence number
  uint32_t high_seq = 0, undo_marker = 0, tlp_high_seq = 0;
  int undo_retrans = 0;
  bool tlp_retrans = false;
  uint32_t sacked_out = 0, lost_out = 0, retrans_out = 0, lost = 0;
  uint32_t total_retrans = 0, dsack_dups = 0, reordering = 3, reord_seen = 0;
  uint32_t prr_delivered = 0, prr_out = 0;
  uint32_t retrans_stamp = 0;      // ms (tcp_time_stamp) of the first retransmission in a row
  uint32_t snd_cwnd_stamp = 0;     // jiffies
  uint32_t rcv_tstamp = 0;         // jiffies of the last ACK received
  bool frto = false, is_sack_reneg = false;
  uint32_t snd_cwnd_used = 0, cwnd_usage_seq = 0;
  uint32_t pmtu_cookie = 1500;     // icsk_pmtu_cookie: the route's MTU
  Instant now{};                   // the clock of the code running on the socket (tcp_mstamp_refresh)
  uint64_t delivered_mstamp = 0, first_tx_mstamp = 0;
  uint32_t app_limited = 0;
  uint32_t rate_delivered = 0, rate_interval_us = 0;  // the last rate sample (ss delivery_rate)
  bool rate_app_limited = false;
  // options
  uint16_t advmss = 536, mss_clamp = 536, user_mss = 0;
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool wscale_ok = false, sack_ok = false, tstamp_ok = false, dsack_seen = false;
  uint32_t tcp_header_len = 20;
  uint32_t ts_recent = 0, ts_recent_stamp = 0, rcv_tsval = 0, rcv_tsecr = 0;
  bool saw_tstamp = false;
  uint32_t tsoffset = 0;
  std::vector<wire::TcpSackBlock> selective_acks;  // our SACK blocks for the peer, most recent first
  bool dsack = false;
  wire::TcpSackBlock duplicate_sack{};
  // RTT
  uint32_t mdev_us = 0, mdev_max_us = 0, rttvar_us = 0, rtt_seq = 0;
  uint32_t rtt_min_us = ~0u;       // minmax over tcp_min_rtt_wlen (the model keeps the minimum seen)
  uint64_t rtt_min_stamp = 0;
  uint32_t rto_jiffies = 250;      // icsk_rto (TCP_TIMEOUT_INIT)
  uint8_t backoff = 0, retransmits = 0, probes_out = 0, syn_retries = 0;
  uint32_t rcv_rtt_us = 0, rcv_rtt_seq = 0;  // rcv_rtt_est
  uint64_t rcv_rtt_time = 0;
  // RACK
  uint64_t rack_mstamp = 0;
  uint32_t rack_rtt_us = 0, rack_end_seq = 0, rack_last_delivered = 0;
  uint8_t rack_reo_wnd_steps = 1, rack_reo_wnd_persist = 0;
  bool rack_dsack_seen = false, rack_advanced = false;
  // delayed ACK (icsk_ack)
  uint8_t ack_pending = 0;         // ICSK_ACK_SCHED 1, TIMER 2, PUSHED 4, PUSHED2 8, NOW 16
  uint8_t ack_quick = 0, ack_pingpong = 0;
  uint32_t ack_ato = 0, ack_lrcvtime = 0, ack_rcv_mss = 536, ack_last_seg_size = 0;
  uint32_t dack_timeout_j = 0;     // icsk_ack.timeout (jiffies)
  uint32_t compressed_ack = 0, compressed_ack_rcv_nxt = 0, dup_ack_counter = 0;  // SACK compression
  uint64_t comp_timer = 0;         // compressed_ack_timer (an hrtimer)
  uint32_t last_oow_ack_time = 0;  // jiffies of the last out-of-window ACK (tcp_oow_rate_limited)
  bool fast_path = false;          // pred_flags set (header prediction on)
  // rcvq_space (tcp_rcv_space_adjust)
  uint32_t rcvq_space = 0, rcvq_seq = 0;
  uint64_t rcvq_time = 0;
  // application knobs
  int nonagle = 0;                 // TCP_NAGLE_OFF 1, CORK 2, PUSH 4
  bool keepalive = false;
  int keepalive_time_s = 0, keepalive_intvl_s = 0, keepalive_probes = 0;  // 0: the sysctl
  int linger = -1;                 // SO_LINGER seconds (-1 off)
  uint8_t shutdown = 0;            // RCV_SHUTDOWN 1, SEND_SHUTDOWN 2
  bool done = false;               // tcp_done ran
  // statistics for ss -tin
  uint64_t bytes_acked = 0, bytes_received = 0, bytes_sent = 0, bytes_retrans = 0;
  uint32_t segs_out = 0, segs_in = 0, data_segs_out = 0, data_segs_in = 0;
  uint32_t delivered_ce = 0;
  uint64_t busy_since_us = 0;
  // queues
  std::deque<TcpSeg> rtx;          // sent, not yet acked, in sequence order
  std::deque<TcpSeg> wqueue;           // not yet sent
  std::vector<uint8_t> sbuf;       // the stream's bytes from sbuf_seq on (a ring: sbuf_head)
  std::size_t sbuf_head = 0, sbuf_len = 0;
  uint32_t sbuf_seq = 0;           // sequence number of the first byte held
  std::deque<TcpRcvSeg> rcvq;      // in order, not yet read
  std::deque<TcpRcvSeg> ofo;       // out of order, by seq
  bool fin_rcvd = false;           // SOCK_DONE: the peer's FIN arrived
  uint32_t rcv_ooopack = 0;
  // timers (Cpu::call_at handles + 1; 0 = not armed)
  uint64_t xmit_timer = 0;         // retransmit / TLP / RACK reorder / probe0 (icsk_pending)
  uint8_t pending = 0;             // ICSK_TIME_RETRANS 1, DACK 2, PROBE0 3, LOSS_PROBE 5, REO_TIMEOUT 6
  model::Instant xmit_timeout{};
  uint64_t dack_timer = 0;
  model::Instant dack_timeout{};
  uint64_t keepalive_timer = 0;    // keepalive, SYN-ACK retransmit (request socks), FIN-WAIT-2, TIME-WAIT
  std::unique_ptr<TcpCongestionOps> ca;
  Instant tw_until{};

  uint32_t poll_mask() const override;
  uint32_t packets_in_flight() const { return packets_out - (sacked_out + lost_out) + retrans_out; }
  uint32_t wnd_end() const { return snd_una + snd_wnd; }
  bool is_sack() const { return sack_ok; }
  bool is_reno() const { return !sack_ok; }
};

// What the host's TCP counts beside the MIBs: drops Linux has no one counter for.
struct TcpStats {
  uint64_t no_socket = 0;          // a segment for no socket (a RST went back unless it was one)
  uint64_t out_of_window = 0;      // tcp_sequence refused it (a duplicate ACK went back)
  uint64_t bad_segment = 0;        // a segment the state machine discards (flags, RST checks, ...)
  uint64_t closed = 0;             // data for a socket already closed by its application
  uint64_t write_queue_purged = 0; // unsent segments freed with the write queue (an abort, a reset, the socket freed)
  uint64_t pool_empty = 0;         // an skb could not be allocated (a send or ACK not made)
  uint64_t tsq_throttled = 0;      // tcp_write_xmit stopped by TCP small queues (TSQ_THROTTLED)
  uint64_t tsq_handler = 0;        // the TSQ handler ran after a TX completion (tcp_tsq_write)
  uint64_t rwnd_limited = 0;       // tcp_write_xmit stopped by the peer's window
  uint64_t autocork = 0;           // tcp_push held back by autocorking (TcpExt TCPAutoCorking counts the first of each)
};

class Tcp {
 public:
  static constexpr uint64_t kRngSalt = 0x7463'7034'7365'7121ull;
  Tcp(NetStack& net, Icmp& icmp, TcpSysctls sysctls = {});
  ~Tcp();
  Tcp(const Tcp&) = delete;
  Tcp& operator=(const Tcp&) = delete;

  // socket(AF_INET, SOCK_STREAM, 0): buffers from tcp_rmem[1] / tcp_wmem[1], the default
  // congestion control.
  TcpSock* socket();
  // close(): a listener drops its queued children (RST to each); an established socket sends
  // FIN (or RST with unread data: TCPAbortOnClose) and lives on as an orphan until done.
  void close(Cpu& cpu, TcpSock* sk);  // on the calling task's CPU (its FIN or RST goes from there)
  void close(TcpSock* sk);             // from the stack's CPU (teardown, tests)
  int bind(TcpSock& sk, SockAddrIn addr);  // -EINVAL, -EADDRNOTAVAIL, -EADDRINUSE
  int listen(TcpSock& sk, int backlog);    // backlog capped at somaxconn (4096)
  // connect: non-blocking; returns -EINPROGRESS after sending the SYN (the blocking form waits).
  // -EISCONN, -EALREADY, -ENETUNREACH ...
  int connect(Cpu& cpu, TcpSock& sk, SockAddrIn peer);
  Co<int> connect_wait(Cpu& cpu, TcpSock& sk, SockAddrIn peer);  // blocking connect: 0 or -errno
  // accept: the first established child, or -EAGAIN (-EINVAL if not listening).
  TcpSock* accept(TcpSock& sk, int* err = nullptr, SockAddrIn* peer = nullptr);
  Co<TcpSock*> accept_wait(Cpu& cpu, TcpSock& sk, SockAddrIn* peer = nullptr);
  int shutdown(Cpu& cpu, TcpSock& sk, int how);  // SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2
  // tcp_sendmsg without waiting: bytes taken (may be fewer than given), -EAGAIN, -EPIPE,
  // -ENOTCONN, the pending error.
  int sendmsg(Cpu& cpu, TcpSock& sk, std::span<const uint8_t> data, int flags);
  // tcp_recvmsg without waiting: bytes copied, 0 at end of stream, -EAGAIN, -ENOTCONN, error.
  int recvmsg(Cpu& cpu, TcpSock& sk, std::span<uint8_t> buf, int flags);
  // Blocking forms: send() takes all of `data` unless an error (returns what it took if any);
  // recv() waits for at least one byte (MSG_WAITALL: the whole buffer) or the end.
  Co<int> send(Cpu& cpu, TcpSock& sk, std::span<const uint8_t> data, int flags = 0);
  Co<int> recv(Cpu& cpu, TcpSock& sk, std::span<uint8_t> buf, int flags = 0);
  // setsockopt
  void set_nodelay(Cpu& cpu, TcpSock& sk, bool on);   // TCP_NODELAY (pushes pending data)
  void set_cork(Cpu& cpu, TcpSock& sk, bool on);      // TCP_CORK (uncork pushes)
  void set_keepalive(TcpSock& sk, bool on, int idle_s = 0, int intvl_s = 0, int cnt = 0);
  void set_rcvbuf(TcpSock& sk, int val);
  void set_sndbuf(TcpSock& sk, int val);
  int set_congestion(TcpSock& sk, std::string_view name);  // TCP_CONGESTION: 0 or -ENOENT
  void set_linger(TcpSock& sk, int seconds);          // SO_LINGER on, 0: close sends RST

  // ingress 19: tcp_v4_rcv (skb->data at the TCP header, the network header set; takes it).
  void tcp_v4_rcv(SkBuff* skb);
  bool tcp_v4_err(SkBuff* skb, uint32_t info);

  TcpMib& mib() { return mib_; }
  const TcpMib& mib() const { return mib_; }
  // TcpExt, with the congestion control's HyStart counts folded in when read.
  TcpExtMib& ext() {
    sync_ext();
    return ext_;
  }
  const TcpExtMib& ext() const {
    sync_ext();
    return ext_;
  }
  std::string proc_net_netstat_tcpext() const { return vnic::stack::proc_net_netstat_tcpext(ext()); }
  std::string netstat_st() const;  // `netstat -st`'s Tcp: and TcpExt: sections
  const TcpStats& stats() const { return stats_; }
  TcpSysctls& sysctls() { return sys_; }
  const TcpSysctls& sysctls() const { return sys_; }
  // /proc/net/snmp's Tcp: rows (CurrEstab counted now).
  std::string proc_net_snmp_tcp() const;
  // `ss -tin`: a header, then per socket "State Recv-Q Send-Q Local:Port Peer:Port" and its info
  // line (cubic wscale rto rtt ato mss pmtu rcvmss advmss cwnd ssthresh bytes_sent bytes_acked
  // bytes_received segs_out segs_in data_segs_out data_segs_in send delivery_rate ...).
  std::string ss_tin() const;
  std::size_t size() const { return socks_.size(); }
  std::size_t time_wait_count() const;

  // tcp_info for tests and reports.
  struct Info {
    TcpState state;
    uint32_t rto_us, ato_us, snd_mss, rcv_mss, unacked, sacked, lost, retrans, rtt_us, rttvar_us,
        snd_ssthresh, snd_cwnd, advmss, reordering, rcv_space, total_retrans;
    uint64_t bytes_acked, bytes_received;
    uint8_t ca_state, retransmits, backoff, snd_wscale, rcv_wscale;
  };
  Info info(const TcpSock& sk) const;

 private:
  friend class TcpEngine;
  void close_listener_children(Cpu& cpu, TcpSock& sk);
  void close_impl(Cpu& cpu, TcpSock* sk);
  void sync_ext() const;
  NetStack& net_;
  Icmp& icmp_;
  TcpSysctls sys_;
  TcpMib mib_;
  mutable TcpExtMib ext_;
  TcpStats stats_;
  Prandom rng_;
  uint64_t next_ino_ = 0;
  uint64_t isn_key_ = 0;
  std::vector<std::unique_ptr<TcpSock>> socks_;
  std::unique_ptr<TcpEngine> e_;
};

}  // namespace vnic::stack

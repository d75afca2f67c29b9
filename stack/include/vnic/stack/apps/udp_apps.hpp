// UDP applications on simulated CPUs over the model's UDP sockets (udp.hpp), each a task:
//  - UdpSender / UdpReceiver: iperf 2.1.8 (Debian 12's `iperf`) with -u, the client (-c) and the
//    server (-s): iperf's UDP datagram header (sequence number, send time), the client's pacing,
//    the FIN exchange that brings the server's report back, loss from sequence gaps, out-of-order
//    arrivals and RFC 3550's interarrival jitter, printed as iperf prints them.
//  - UdpRrClient / UdpRrServer: netperf 2.7's UDP_RR (one request, one response, repeat), with the
//    latency statistics its omni output prints for -o.
// docs/stack.md ("UDP applications") has what each models and leaves out.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/udp.hpp"

namespace vnic::stack {

class NetStack;
class Epoll;

// ------------------------------------------------------------------------------ iperf's formats

// byte_snprintf (iperf 2.1.8 src/stdio.c) with the adaptive formats: 'A' (bytes, 1024-based: "1.25 MByte")
// and 'a' (bits, 1000-based: "105 Mbit"), units up to Peta; four places: "%4.3f" under 0.9995
// ("0.000 Byte"), "%4.2f" under 9.995, "%4.1f" under 99.95, else "%4.0f". The report lines add
// "s" and "s/sec".
std::string iperf_byte_snprintf(double num, char format);
// iperf's UDP datagram header (struct UDP_datagram, network order): id (the sequence number's low
// 32 bits; negative in a FIN), tv_sec, tv_usec (the send time), id2 (the sequence's high 32 bits).
inline constexpr std::size_t kIperfUdpHeaderLen = 16;
// The smallest -l iperf accepts for UDP with its header (warn_buffer_too_small raises smaller ones).
inline constexpr uint32_t kIperfMinUdpLen = kIperfUdpHeaderLen;
// RFC 3550 A.8: J += (|D| - J) / 16, D the difference of two consecutive transit times (seconds).
inline double rfc3550_jitter_step(double jitter, double transit, double prev_transit) {
  double d = transit - prev_transit;
  if (d < 0) d = -d;
  return jitter + (d - jitter) / 16.0;
}
// iperf's TimeDifference (include/util.h) of two timevals, here whole microseconds:
// (tv_sec - tv_sec) + (tv_usec - tv_usec) / 1e6 seconds, rounded as iperf's double is.
inline double iperf_time_difference(int64_t a_us, int64_t b_us) {
  return static_cast<double>(a_us / 1'000'000 - b_us / 1'000'000) +
         static_cast<double>(a_us % 1'000'000 - b_us % 1'000'000) / 1e6;
}

struct UdpSendOptions {
  SockAddrIn dst{};
  uint32_t len = 1470;          // -l: the datagram's payload (iperf2's v4 UDP default)
  uint64_t rate_bps = 1048576;  // -b: bits/s of payload (iperf2's UDP default, 1 Mbit/s); 0: as fast as the socket lets
  uint64_t count = 0;           // -n as datagrams: stop after this many (0: by duration)
  Duration duration = Duration::s(10);  // -t (when count is 0)
  Instant start{};              // when the program starts
  int sndbuf = 0;               // -w: SO_SNDBUF (0: the default)
  // AwaitServerFinPacket (iperf 2.1.8 Client.cpp): RETRYTIMER 10 ms per wait for the server's
  // ack, RETRYCOUNT 200 waits (2 s), the FIN sent again after each that times out.
  Duration fin_timeout = Duration::ms(10);
  int fin_tries = 200;
};

struct UdpSendStats {
  uint64_t datagrams = 0;       // data datagrams sendmsg took (the FINs not included)
  uint64_t bytes = 0;           // their payload bytes
  uint64_t fins = 0;            // FIN datagrams sent (each try)
  uint64_t fin_bytes = 0;       // the first FIN's bytes (0 if its send failed): iperf reports that one with the data
  uint64_t sent_report = 0;     // iperf's "Sent N datagrams": the id of the last datagram reported (N + 1 with the FIN)
  uint64_t send_errors = 0;     // sendmsg calls that failed (not counted in datagrams; the id is used again)
  uint64_t late = 0;            // datagrams sent after their slot (the schedule could not be kept)
  Instant first_send{}, last_send{};
  bool server_report = false;   // the FIN's ack arrived
  // The server's report, as its ack carried it (its Total and Transfer count the FIN it read).
  uint64_t srv_bytes = 0, srv_datagrams = 0, srv_lost = 0, srv_out_of_order = 0;
  double srv_duration_s = 0, srv_jitter_s = 0;
  bool finished = false;
};

// iperf -c DST -u -l LEN -b RATE [-n/-t]: one connected UDP socket; datagram k (from 0) goes at
// start + k * len * 8 / rate on the simulated clock (or at once when that time has passed), with
// the blocking send (waiting for send-buffer room, as a blocking socket does). Rate 0 sends back
// to back. A send that fails leaves its id to the next datagram (iperf's packetID--). Then the FIN
// (the next id negated; counted and reported with the data), sent again with the id one higher
// each try until the server's report comes back.
class UdpSender {
 public:
  UdpSender(NetStack& net, Udp& udp, Cpu& cpu, UdpSendOptions opt);
  ~UdpSender();
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  Co<void> run();
  const std::string& output() const { return out_; }
  const UdpSendStats& stats() const { return st_; }
  bool done() const { return st_.finished; }
  const UdpSock* socket() const { return sk_; }
  // The packet id of each data datagram's send, in order (0 for a send that failed).
  const std::vector<uint64_t>& packet_ids() const { return ids_; }

 private:
  NetStack& net_;
  Udp& udp_;
  Cpu& cpu_;
  UdpSendOptions opt_;
  UdpSock* sk_ = nullptr;
  std::string out_;
  UdpSendStats st_;
  std::vector<uint64_t> ids_;
};

struct UdpRecvOptions {
  uint16_t port = 5001;         // -p
  Duration read_cost{};         // the application's work per datagram read (charged on its CPU)
  int rcvbuf = 0;               // -w: SO_RCVBUF (0: the default)
  bool use_epoll = false;       // wait in epoll_wait (level-triggered, then read until EAGAIN)
  uint32_t len = 1470;          // -l: the read buffer (iperf's UDP default): a longer datagram is cut to it
  Instant start{};
};

// One datagram the server read: its sequence number, send time (the header's, us resolution),
// arrival (SO_TIMESTAMP: the time the socket queued it) and packet id.
struct UdpArrival {
  int64_t seq = 0;
  int64_t sent_us = 0;
  Instant stamp{};
  uint64_t packet = 0;
};

// As iperf 2.1.8's server counts (Reporter.c reporter_handle_packet_server_udp): the FIN it reads
// is one more datagram, its id made positive (the client's N + 1, or higher for a later try).
struct UdpRecvStats {
  uint64_t datagrams = 0;       // data datagrams read (not the FIN)
  uint64_t bytes = 0;           // their bytes as read (at most len each)
  uint64_t fin_bytes = 0;       // the FIN's bytes as read
  uint64_t gaps = 0;            // ids skipped over (a FIN's id past the last data's counts too)
  uint64_t out_of_order = 0;    // id below the highest read + 1
  uint64_t lost = 0;            // iperf's Lost: gaps - out_of_order, at least 0
  uint64_t fins = 0;            // FINs read
  int64_t max_seq = 0;          // iperf's PacketID: the highest id read, the FIN's included
  double jitter_s = 0;          // RFC 3550's estimate, from transit 0 before the first datagram, the FIN included
  uint64_t reads = 0;           // datagrams read, the FIN included (one alone: the jitter is printed 0)
  Instant first{};              // when the read of the first datagram returned (iperf's accept_time): the start
  Instant last{};               // the FIN's arrival (SO_TIMESTAMP): the end
  UdpArrival fin{};             // the FIN read (its sequence made positive)
  bool finished = false;
  uint64_t total() const { return static_cast<uint64_t>(max_seq); }  // iperf's Total
  uint64_t report_bytes() const { return bytes + fin_bytes; }        // iperf's Transfer
};

// iperf -s -u -p PORT: reads datagrams (blocking recvmsg, or epoll_wait then recvmsg until
// EAGAIN), counts as iperf's server does, answers the first FIN with its report and prints it.
class UdpReceiver {
 public:
  UdpReceiver(NetStack& net, Udp& udp, Cpu& cpu, UdpRecvOptions opt);
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  Co<void> run();
  const std::string& output() const { return out_; }
  const UdpRecvStats& stats() const { return st_; }
  bool done() const { return st_.finished; }
  const UdpSock* socket() const { return sk_; }
  const std::vector<UdpArrival>& arrivals() const { return arrivals_; }
  // Each datagram's bytes after the header must be this pattern (byte i of the datagram is i % 256,
  // as the sender writes them); datagrams that differ are counted here.
  uint64_t bad_payloads() const { return bad_payloads_; }

 private:
  void account(std::span<const uint8_t> d, int n, const RecvMeta& m, int64_t arr_us);
  void fin_ack(const SockAddrIn& to, double end_s);

  NetStack& net_;
  Udp& udp_;
  Cpu& cpu_;
  UdpRecvOptions opt_;
  UdpSock* sk_ = nullptr;
  std::unique_ptr<Epoll> ep_;
  std::string out_;
  UdpRecvStats st_;
  std::vector<UdpArrival> arrivals_;
  uint64_t bad_payloads_ = 0;
  double prev_transit_ = 0;  // iperf's transit.current.last: 0 before the first datagram
  SockAddrIn peer_{};
};

// ------------------------------------------------------------------------------ netperf UDP_RR

// netperf 2.7's latency histogram (src/netlib.c HIST_add, HIST_get_percentile, HIST_get_stats;
// src/hist.h HIST_NUM_OF_BUCKET 100): eight decades (unit_usec ... ten_sec) of 100 buckets each,
// 0.1 us wide under 10 us (only whole us arrive: every tenth used), 1 us under 100 us, 10 us under
// 1 ms, ...; 100 s or more is "ridiculous" (counted in the total). The bucket is found in float as
// HIST_add does. A percentile p: num = (int)(p * total); the first bucket where the running count
// reaches num gives (int)((i + (num - before) / in_bucket) * decade_scale / 10), i.e. interpolated
// inside the bucket (a decade whose result is 0 is passed over, as netperf does); none: 1e8. min,
// max, mean and stddev are netperf's over the whole-microsecond values added.
class NetperfHist {
 public:
  void add(int us);
  int percentile(double p) const;
  uint64_t total() const { return static_cast<uint64_t>(total_); }
  int min() const { return hmin_; }
  int max() const { return hmax_; }
  double mean() const;
  double stddev() const;  // sqrt((sumsquare * total - sum^2) / total^2)

 private:
  int rows_[8][100] = {};  // unit_usec, ten_usec, hundred_usec, unit_msec, ten_msec, hundred_msec, unit_sec, ten_sec
  int ridiculous_ = 0;
  int total_ = 0;
  int64_t sum_ = 0;
  double sumsquare_ = 0;
  int hmin_ = 0, hmax_ = 0;
};

struct UdpRrOptions {
  SockAddrIn dst{};
  uint32_t req = 1;             // -r REQ,RESP (netperf's default 1,1)
  uint32_t resp = 1;
  uint64_t count = 0;           // transactions (-l -N); 0: by duration
  Duration duration = Duration::s(10);  // -l (when count is 0)
  Duration timeout = Duration::ms(100);  // a transaction with no response by then is lost
  Instant start{};
};

struct UdpRrStats {
  uint64_t transactions = 0;    // completed (response read)
  uint64_t lost = 0;            // timed out
  std::vector<int64_t> rtt_ps;  // each completed transaction's round trip (exact)
  // The same as netperf measures it (delta_micro of two gettimeofday timevals): the end's whole
  // microseconds less the start's, what its histogram and statistics get.
  std::vector<int> rtt_us;
  Instant first{}, end{};
  bool finished = false;
  double mean_us() const;       // netperf's mean: of rtt_us
};

// netperf -t UDP_RR -H DST -- -r REQ,RESP -o ...: a connected socket; send the request, wait (up
// to the timeout) for a response, record the round trip, repeat.
class UdpRrClient {
 public:
  UdpRrClient(NetStack& net, Udp& udp, Cpu& cpu, UdpRrOptions opt);
  ~UdpRrClient();
  UdpRrClient(const UdpRrClient&) = delete;
  UdpRrClient& operator=(const UdpRrClient&) = delete;
  Co<void> run();
  const std::string& output() const { return out_; }
  const UdpRrStats& stats() const { return st_; }
  bool done() const { return st_.finished; }
  // Per transaction: the request's and the response's packet ids (0 for a response not read).
  const std::vector<std::pair<uint64_t, uint64_t>>& packet_ids() const { return ids_; }

 private:
  NetStack& net_;
  Udp& udp_;
  Cpu& cpu_;
  UdpRrOptions opt_;
  UdpSock* sk_ = nullptr;
  std::string out_;
  UdpRrStats st_;
  std::vector<std::pair<uint64_t, uint64_t>> ids_;
};

// netserver's UDP_RR side: bound to `port`, answers each request of its sender with `resp`
// bytes (the request's size when resp is 0). Runs until stop().
class UdpRrServer {
 public:
  UdpRrServer(Udp& udp, Cpu& cpu, uint16_t port, uint32_t resp = 0, Instant start = {});
  ~UdpRrServer();
  UdpRrServer(const UdpRrServer&) = delete;
  UdpRrServer& operator=(const UdpRrServer&) = delete;
  Co<void> run();
  // The client finished: the server's task ends (its socket's blocking read is interrupted).
  void stop();
  uint64_t requests() const { return requests_; }
  uint64_t responses() const { return responses_; }
  bool done() const { return done_; }
  uint16_t port() const { return port_; }

 private:
  Udp& udp_;
  Cpu& cpu_;
  uint16_t port_;
  uint32_t resp_;
  Instant start_;
  UdpSock* sk_ = nullptr;
  uint64_t requests_ = 0, responses_ = 0;
  bool stopping_ = false, done_ = false;
};

}  // namespace vnic::stack

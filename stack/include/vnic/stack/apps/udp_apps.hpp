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

// byte_snprintf (iperf2 src/stdio.c) with the adaptive formats: 'A' (bytes, 1024-based: "1.25 MByte")
// and 'a' (bits, 1000-based: "105 Mbit"); the report lines add "s" and "s/sec".
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

struct UdpSendOptions {
  SockAddrIn dst{};
  uint32_t len = 1470;          // -l: the datagram's payload (iperf2's v4 UDP default)
  uint64_t rate_bps = 1048576;  // -b: bits/s of payload (iperf2's UDP default, 1 Mbit/s); 0: as fast as the socket lets
  uint64_t count = 0;           // -n as datagrams: stop after this many (0: by duration)
  Duration duration = Duration::s(10);  // -t (when count is 0)
  Instant start{};              // when the program starts
  int sndbuf = 0;               // -w: SO_SNDBUF (0: the default)
  Duration fin_timeout = Duration::ms(250);  // the wait for the server's ack of the FIN, per try
  int fin_tries = 10;           // FIN sends before "did not receive ack of last datagram"
};

struct UdpSendStats {
  uint64_t datagrams = 0;       // data datagrams sendmsg took (the FINs not included)
  uint64_t bytes = 0;           // their payload bytes
  uint64_t fins = 0;            // FIN datagrams sent (each try)
  uint64_t send_errors = 0;     // sendmsg calls that failed (not counted in datagrams)
  uint64_t late = 0;            // datagrams sent after their slot (the schedule could not be kept)
  Instant first_send{}, last_send{};
  bool server_report = false;   // the FIN's ack arrived
  // The server's report, as its ack carried it.
  uint64_t srv_bytes = 0, srv_datagrams = 0, srv_lost = 0, srv_out_of_order = 0;
  double srv_duration_s = 0, srv_jitter_s = 0;
  bool finished = false;
};

// iperf -c DST -u -l LEN -b RATE [-n/-t]: one connected UDP socket; datagram k (from 0) goes at
// start + k * len * 8 / rate on the simulated clock (or at once when that time has passed), with
// the blocking send (waiting for send-buffer room, as a blocking socket does). Rate 0 sends back
// to back. Then the FIN (the sequence negated), repeated until the server's report comes back.
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
  // The packet id of each data datagram, in sequence order (index k: sequence k + 1).
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
  uint32_t len = 1470;          // -l: the read buffer
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

struct UdpRecvStats {
  uint64_t datagrams = 0;       // data datagrams read (not the FIN)
  uint64_t bytes = 0;
  uint64_t lost = 0;            // sequence gaps, less the late arrivals that filled them
  uint64_t out_of_order = 0;    // sequence below the next expected
  uint64_t fins = 0;            // FINs read
  int64_t max_seq = 0;
  double jitter_s = 0;          // RFC 3550's estimate after the last datagram
  Instant first{}, last{};      // arrivals (stamps) of the first datagram and of the FIN
  bool finished = false;
  uint64_t total() const { return datagrams + lost; }
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
  void account(std::span<const uint8_t> d, int n, const RecvMeta& m);
  void fin_ack(const RecvMeta& m);

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
  double prev_transit_ = 0;
  bool have_transit_ = false;
  SockAddrIn peer_{};
};

// ------------------------------------------------------------------------------ netperf UDP_RR

// netperf's latency histogram (src/netlib.c HIST): 1 us buckets under 10 us, 10 us under 100 us,
// ... ; a percentile is the base of the bucket where the running count reaches p * total.
class NetperfHist {
 public:
  void add(int64_t us);
  int64_t percentile(double p) const;
  uint64_t total() const { return total_; }

 private:
  uint64_t b_[9][10] = {};  // unit_usec, ten_usec, hundred_usec, unit_msec, ..., ten_sec; then 100 s+
  uint64_t ridiculous_ = 0;
  uint64_t total_ = 0;
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
  std::vector<int64_t> rtt_ps;  // each completed transaction's round trip
  Instant first{}, end{};
  bool finished = false;
  double mean_us() const;
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

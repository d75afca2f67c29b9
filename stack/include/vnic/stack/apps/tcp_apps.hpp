// TCP applications on simulated CPUs over the model's TCP sockets (tcp.hpp), each a task:
//  - Iperf3Client / Iperf3Server: iperf3 3.x's TCP test (a bulk transfer one way), with its
//    interval lines (Retr and Cwnd from tcp_info on the sender) and its sender/receiver summary,
//    printed with iperf3's format strings (src/iperf_locale.c) and unit_snprintf (src/units.c).
//  - NetperfTcpClient / NetperfTcpServer: netperf 2.7's TCP_RR (request/response over one
//    connection) and TCP_CRR (a connection per transaction, the server closing first), with the
//    legacy report (nettest_omni.c send_tcp_rr / send_tcp_conn_rr) or the -o latency keys.
// Every error a socket call returns is counted in the results; none ends the simulation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vnic/stack/apps/udp_apps.hpp"  // NetperfHist
#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/tcp.hpp"

namespace vnic::stack {

// ------------------------------------------------------------------------------ iperf3

// unit_snprintf (iperf3 src/units.c) with the adaptive formats: 'A' bytes in 1024s ("1.25 MByte"),
// 'a' bits in 1000s (the argument is bytes: "941 Mbit"), units up to Tera; "%4.2f" under 9.995,
// "%4.1f" under 99.95, else "%4.0f" (no three-place case, unlike iperf 2). Formats 'B','K','M',
// 'G','T' (and lower case for bits) force that unit. The report lines add "s" ("MBytes").
std::string iperf3_unit_snprintf(double num, char format);

// iperf3's socket ids: the data stream is descriptor 5 on both sides of a one-stream test
// (0-2 stdio, 3 the listener or the control connection, 4 the control connection or the
// client's listener-less spare), the "[  5]" of every report line.
inline constexpr int kIperf3StreamId = 5;

// One interval as iperf_stats_callback records it (times relative to the stream's start, from
// whole-microsecond clocks as iperf_time_diff computes them).
struct Iperf3Interval {
  double start_s = 0, end_s = 0;
  uint64_t bytes = 0;           // bytes_sent_this_interval / bytes_received_this_interval
  int64_t retrans = 0;          // total_retrans delta (the sender only)
  uint64_t snd_cwnd = 0;        // tcpi_snd_cwnd * tcpi_snd_mss at the interval's end (sender)
  bool printed = true;          // false: the 10 % rule of iperf_print_intermediate dropped it
};

struct Iperf3Result {
  uint64_t bytes_sent = 0;      // what the client's Nwrite calls returned (a failed block counts none)
  uint64_t bytes_received = 0;  // what its reads returned (the server)
  int64_t retransmits = 0;      // stream_retrans: the sum of the intervals' Retr
  double seconds = 0;           // end_time - start_time of the stream
  uint64_t max_snd_cwnd = 0;
  std::vector<Iperf3Interval> intervals;
  uint64_t tcp_bytes_received = 0;  // the data socket's bytes_received when the reader saw EOF
  uint64_t tcp_bytes_acked = 0;     // the data socket's bytes_acked when the writer finished
  // errors, each counted (the program stops at the first, as iperf3 exits)
  uint64_t connect_errors = 0, accept_errors = 0, listen_errors = 0, send_errors = 0, recv_errors = 0;
  int last_errno = 0;
  bool finished = false;
  uint64_t errors() const { return connect_errors + accept_errors + listen_errors + send_errors + recv_errors; }
};

struct Iperf3ServerOptions {
  uint16_t port = 5201;                   // -p
  uint32_t len = 128 * 1024;              // -l: the read size (iperf3's TCP default blksize)
  Duration interval = Duration::s(1);     // -i
  Instant start{};
};

// iperf3 -s: listens, accepts one connection, reads until EOF counting bytes, prints its
// interval lines and the receiver summary, closes.
class Iperf3Server {
 public:
  Iperf3Server(Tcp& tcp, Cpu& cpu, Iperf3ServerOptions opt = {});
  ~Iperf3Server();
  Iperf3Server(const Iperf3Server&) = delete;
  Iperf3Server& operator=(const Iperf3Server&) = delete;
  Co<void> run();
  const std::string& output() const { return out_; }
  const Iperf3Result& result() const { return r_; }
  bool done() const { return r_.finished; }

 private:
  Tcp& tcp_;
  Cpu& cpu_;
  Iperf3ServerOptions opt_;
  TcpSock* listener_ = nullptr;
  TcpSock* conn_ = nullptr;
  std::string out_;
  Iperf3Result r_;
};

struct Iperf3ClientOptions {
  SockAddrIn dst{};                       // -c HOST -p PORT
  uint64_t bytes = 0;                     // -n: stop once this many are written (0: by duration)
  Duration duration = Duration::s(10);    // -t (when bytes is 0)
  uint32_t len = 128 * 1024;              // -l: the write size
  Duration interval = Duration::s(1);     // -i
  Instant start{};
  // The server's results as the control connection's exchange (EXCHANGE_RESULTS) would bring them
  // back: the receiver line's bytes and time. The control connection itself is not modelled: the
  // client waits (1 ms steps, up to results_timeout) for the server to finish. Null: no
  // receiver statistics (the line prints 0 bytes over the sender's time, iperf3's fallback).
  const Iperf3Server* server = nullptr;
  Duration results_timeout = Duration::s(5);
};

// iperf3 -c HOST: connects, writes `len`-byte blocks (whole blocks until `bytes`, or until
// `duration` has passed), closes, prints the intervals (Retr, Cwnd) and both summary lines.
class Iperf3Client {
 public:
  Iperf3Client(Tcp& tcp, Cpu& cpu, Iperf3ClientOptions opt);
  ~Iperf3Client();
  Iperf3Client(const Iperf3Client&) = delete;
  Iperf3Client& operator=(const Iperf3Client&) = delete;
  Co<void> run();
  const std::string& output() const { return out_; }
  const Iperf3Result& result() const { return r_; }
  bool done() const { return r_.finished; }

 private:
  Tcp& tcp_;
  Cpu& cpu_;
  Iperf3ClientOptions opt_;
  TcpSock* sk_ = nullptr;
  std::string out_;
  Iperf3Result r_;
};

// ------------------------------------------------------------------------------ netperf TCP_RR / TCP_CRR

enum class NetperfTcpTest : uint8_t { RR, CRR };

struct NetperfTcpServerOptions {
  uint16_t port = 12866;        // the data port (netserver's control port 12865 is not modelled)
  NetperfTcpTest test = NetperfTcpTest::RR;
  uint32_t req = 1, resp = 1;   // -r REQ,RESP as the control message tells netserver
  uint64_t max_connections = 0; // stop after this many connections (0: until stop())
  Instant start{};
  Duration accept_poll = Duration::ms(10);  // how often a waiting accept looks at stop()
};

// netserver's recv_omni: accepts; per connection reads requests of `req` bytes (MSG_WAITALL) and
// answers each with `resp` bytes; TCP_RR until the client's EOF, then close; TCP_CRR one
// transaction, then close at once (the server closes first: its sockets go to TIME-WAIT).
class NetperfTcpServer {
 public:
  NetperfTcpServer(Tcp& tcp, Cpu& cpu, NetperfTcpServerOptions opt);
  ~NetperfTcpServer();
  NetperfTcpServer(const NetperfTcpServer&) = delete;
  NetperfTcpServer& operator=(const NetperfTcpServer&) = delete;
  Co<void> run();
  void stop() { stopping_ = true; }
  bool done() const { return done_; }
  uint64_t connections() const { return connections_; }
  uint64_t transactions() const { return transactions_; }
  uint64_t errors() const { return errors_; }   // listen/accept/recv/send failures, short requests
  // The listener's SO_SNDBUF / SO_RCVBUF (what netserver reports as rss/rsr).
  uint32_t sndbuf() const { return sndbuf_; }
  uint32_t rcvbuf() const { return rcvbuf_; }

 private:
  Tcp& tcp_;
  Cpu& cpu_;
  NetperfTcpServerOptions opt_;
  TcpSock* listener_ = nullptr;
  uint64_t connections_ = 0, transactions_ = 0, errors_ = 0;
  uint32_t sndbuf_ = 0, rcvbuf_ = 0;
  bool stopping_ = false, done_ = false;
};

struct NetperfTcpOptions {
  NetperfTcpTest test = NetperfTcpTest::RR;  // -t TCP_RR / TCP_CRR
  SockAddrIn dst{};
  uint32_t req = 1, resp = 1;   // -r REQ,RESP
  uint64_t count = 0;           // transactions (-l -N); 0: by duration
  Duration duration = Duration::s(10);  // -l
  bool nodelay = false;         // -D
  bool csv_latency = false;     // -o min_latency,...,response_size (as UdpRrClient prints)
  // TCP_CRR's local ports: pick_next_port_number from here (netperf starts at a random spot of
  // client_port_min 5000 .. client_port_max 65535; fixed here for determinism), skipping the
  // server's port, wrapping at 65535 to 5000.
  uint16_t first_port = 5001;
  Instant start{};
  const NetperfTcpServer* server = nullptr;  // the remote socket sizes (rss, rsr) over control
};

struct NetperfTcpStats {
  uint64_t transactions = 0;    // trans_completed
  uint64_t connections = 0;     // data connections established
  uint64_t connect_errors = 0, bind_errors = 0, send_errors = 0, recv_errors = 0, disconnect_errors = 0;
  int last_errno = 0;
  std::vector<int> rtt_us;      // each transaction as HIST_timestamp_stop_add measures it
  std::vector<int64_t> rtt_ps;  // the same, exact
  Instant first{}, end{};
  double elapsed_s = 0;
  uint32_t lss = 0, lsr = 0, rss = 0, rsr = 0;  // socket sizes printed
  bool finished = false;
  double transaction_rate() const { return elapsed_s > 0 ? static_cast<double>(transactions) / elapsed_s : 0.0; }
  double mean_us() const;
  uint64_t errors() const { return connect_errors + bind_errors + send_errors + recv_errors + disconnect_errors; }
};

// netperf -t TCP_RR|TCP_CRR -H DST -l ... -- -r REQ,RESP [-D] [-o ...]: send_omni's loop. TCP_RR:
// one connection; send the request, recv the response (MSG_WAITALL), repeat; at the end
// shutdown(SHUT_WR), read to EOF, close. TCP_CRR per transaction: socket, bind the next local
// port, connect, send, recv, then disconnect_data_socket (recv until the server's FIN: 0), close.
// The latency of a transaction covers all of it, from before socket() (HIST_timestamp_start).
class NetperfTcpClient {
 public:
  NetperfTcpClient(Tcp& tcp, Cpu& cpu, NetperfTcpOptions opt);
  ~NetperfTcpClient();
  NetperfTcpClient(const NetperfTcpClient&) = delete;
  NetperfTcpClient& operator=(const NetperfTcpClient&) = delete;
  Co<void> run();
  const std::string& output() const { return out_; }
  const NetperfTcpStats& stats() const { return st_; }
  const NetperfHist& hist() const { return hist_; }
  bool done() const { return st_.finished; }

 private:
  Co<void> run_rr();
  Co<void> run_crr();
  void report();

  Tcp& tcp_;
  Cpu& cpu_;
  NetperfTcpOptions opt_;
  TcpSock* sk_ = nullptr;       // the open data socket (closed by the destructor if left open)
  std::string out_;
  NetperfTcpStats st_;
  NetperfHist hist_;
};

}  // namespace vnic::stack

// PingApp: Linux ping (iputils 20221126, Debian 12's) over the model's ICMP datagram socket, as a
// task on a simulated CPU: its options, its send timing (pinger's token bucket), its per-reply and
// error lines, its exit rules (count and the linger wait, -w deadline) and its summary, computed
// as iputils computes them. The printing helpers are free functions so tests can pin the rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

class NetStack;
class Icmp;
struct PingSock;
struct PingMsg;
struct PingErrMsg;

struct PingOptions {
  wire::Ipv4Addr dst;
  std::string host;           // the destination as typed (empty: dst in dotted quad)
  uint32_t count = 0;         // -c: 0 runs until the deadline (or forever)
  int interval_ms = 1000;     // -i, in ms as iputils keeps it (>= 1 here: no flood mode)
  uint32_t size = 56;         // -s: data bytes after the 8-byte ICMP header
  int ttl = -1;               // -t (-1: the host's ip_default_ttl)
  uint32_t deadline_s = 0;    // -w: stop after this many seconds whatever happened
  uint32_t timeout_s = 0;     // -W: the linger wait when no reply came at all (0: MAXWAIT, 10 s)
  uint16_t ident = 0;         // -e (0: the kernel picks the identifier)
  Instant start{};            // when the program starts
};

// What ping counted (ping_rts's counters) and its result.
struct PingStats {
  uint64_t transmitted = 0;   // ntransmitted (a send that failed locally counts too, as in ping)
  uint64_t received = 0;      // nreceived
  uint64_t errors = 0;        // nerrors: ICMP errors about our requests (and local errors)
  uint64_t repeats = 0;       // nrepeats (DUP!)
  uint64_t checksum = 0;      // nchecksum (BAD CHECKSUM)
  uint64_t send_failures = 0; // sendmsg / connect calls that failed (the model's count)
  std::vector<long> rtts_us;  // every round trip, in us, in arrival order
  long tmin = 0x7fffffffffffffffL;  // LONG_MAX; ping_rts's tmin/tmax (us) and its double sums
  long tmax = 0;
  double tsum = 0;
  double tsum2 = 0;
  int pipesize = -1;
  int exit_code = -1;         // 0, 1 (no reply / deadline with fewer than count), 2 (setup error)
  bool finished = false;
};

// " time=..." as gather_statistics prints a round trip of `triptime_us`: three decimals under
// 1 ms, two under 10 ms, one under 100 ms, none from there (rounded, not truncated, above 1 ms).
std::string iputils_time(long triptime_us);
// llsqrt: the integer Newton square root finish() takes of the variance.
long iputils_llsqrt(long long a);
// finish(): the statistics block, from the blank line before "--- host ping statistics ---" to
// the end; `elapsed` is from the start to the last send (cur_time - start_time).
std::string iputils_finish(const PingStats& s, std::string_view host, Duration elapsed, bool timing);
// pr_icmph's text for an ICMP type/code (ends with a newline).
std::string iputils_pr_icmph(uint8_t type, uint8_t code, uint32_t info);

class PingApp {
 public:
  // `icmp` gives the ping sockets; the task runs on `cpu`.
  PingApp(NetStack& net, Icmp& icmp, Cpu& cpu, PingOptions opt);
  ~PingApp();
  PingApp(const PingApp&) = delete;
  PingApp& operator=(const PingApp&) = delete;

  // The program: spawn it (TaskScope::spawn(app.run())); it ends by itself.
  Co<void> run();

  // SIGINT (Ctrl-C): ping stops waiting, prints its summary and ends (exit code as finish()).
  // The way to end a run with neither a count nor a deadline.
  void interrupt();

  const std::string& output() const { return out_; }  // stdout and stderr as a terminal shows them
  const PingStats& stats() const { return st_; }
  bool done() const { return st_.finished; }
  uint16_t ident() const;
  // The packet ids of the echo requests sent, in order (for traces and tests).
  const std::vector<uint64_t>& request_ids() const { return req_ids_; }

 private:
  int pinger();                     // ms until the next send, or <= 0 to go again now
  int schedule_exit(int next);
  int receive_error_msg();          // ping4_receive_error_msg
  void parse_reply(const PingMsg& m);
  void acknowledge(uint16_t seq);
  void advance_ntransmitted();
  int in_flight() const;
  std::string finish();

  NetStack& net_;
  Icmp& icmp_;
  Cpu& cpu_;
  PingOptions opt_;
  PingSock* sk_ = nullptr;
  std::string host_;
  std::string out_;
  PingStats st_;
  std::vector<uint64_t> req_ids_;
  std::vector<uint8_t> pattern_;    // outpack's data: byte i is i; the first 16 the send time
  std::vector<bool> rcvd_;          // the DUP bitmap (MAX_DUP_CHK 0x10000)
  bool timing_ = false;
  bool exiting_ = false;
  bool have_cur_time_ = false;
  Instant start_time_{};
  Instant cur_time_{};
  Instant exit_at_{};               // the ITIMER_REAL alarm (deadline or the linger wait)
  bool exit_armed_ = false;
  bool waittime_set_ = false;
  long tokens_ = 0;
  int oom_count_ = 0;
  uint16_t acked_ = 0;
  int rtt_ = 0;                     // the ewma, *8 (rts->rtt)
};

}  // namespace vnic::stack

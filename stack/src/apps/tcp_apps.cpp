// TCP applications: iperf3's TCP test, netperf 2.7's TCP_RR and TCP_CRR (tcp_apps.hpp).
#include "vnic/stack/apps/tcp_apps.hpp"

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstdio>

#include <fmt/format.h>

namespace vnic::stack {

namespace {

constexpr int kShutWr = 1;

int64_t usec_of(Instant t) { return t.ps() / 1'000'000; }
// iperf_time_in_secs of an iperf_time_diff: whole microseconds, then / 1e6.
double secs_us(int64_t us) { return static_cast<double>(us / 1'000'000) + static_cast<double>(us % 1'000'000) / 1e6; }

const char* strerror_text(int e) {
  switch (e) {
    case 4: return "Interrupted system call";
    case 9: return "Bad file descriptor";
    case 11: return "Resource temporarily unavailable";
    case 22: return "Invalid argument";
    case 32: return "Broken pipe";
    case 98: return "Address already in use";
    case 99: return "Cannot assign requested address";
    case 101: return "Network is unreachable";
    case 103: return "Software caused connection abort";
    case 104: return "Connection reset by peer";
    case 105: return "No buffer space available";
    case 106: return "Transport endpoint is already connected";
    case 107: return "Transport endpoint is not connected";
    case 110: return "Connection timed out";
    case 111: return "Connection refused";
    case 113: return "No route to host";
    case 115: return "Operation now in progress";
    default: return "Unknown error";
  }
}

// snprintf into a string, the format checked against the arguments at each call.
__attribute__((format(printf, 1, 2))) std::string cfmt(const char* f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// ---- iperf3's strings (src/iperf_locale.c)
constexpr const char* kReportConnecting = "Connecting to host %s, port %d\n";
constexpr const char* kReportAccepted = "Accepted connection from %s, port %d\n";
constexpr const char* kReportConnected = "[%3d] local %s port %d connected to %s port %d\n";
constexpr const char* kReportBwHeader = "[ ID] Interval           Transfer     Bitrate\n";
constexpr const char* kReportBwRetransHeader = "[ ID] Interval           Transfer     Bitrate         Retr\n";
constexpr const char* kReportBwRetransCwndHeader = "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n";
constexpr const char* kReportBwFormat = "[%3d]%s %6.2f-%-6.2f sec  %ss  %ss/sec                  %s\n";
constexpr const char* kReportBwRetransFormat = "[%3d]%s %6.2f-%-6.2f sec  %ss  %ss/sec  %3ld            %s\n";
constexpr const char* kReportBwRetransCwndFormat = "[%3d]%s %6.2f-%-6.2f sec  %ss  %ss/sec  %3ld   %ss       %s\n";
constexpr const char* kReportBwSeparator = "- - - - - - - - - - - - - - - - - - - - - - - - -\n";
constexpr const char* kReportDone = "iperf Done.\n";
// iperf_server_api.c iperf_server_listen
constexpr const char* kServerRule = "-----------------------------------------------------------\n";

// iperf_errexit(test, "error - %s", iperf_strerror(i_errno)) with the errno appended (perr).
std::string iperf3_error(const char* what, int err) {
  return fmt::format("iperf3: error - {}: {}\n", what, strerror_text(err));
}

// The interval bookkeeping both sides share: iperf_stats_callback (iperf_api.c) at each timer
// expiry and once at the end, print_interval_results for the kept ones.
struct Iperf3Intervals {
  int64_t start_us = 0, last_end_us = 0;
  uint64_t bytes_this_interval = 0;
  uint32_t prev_total_retrans = 0;
  bool header_printed = false;
};

// iperf_stats_callback + iperf_print_intermediate for one interval ending at `now_us`. The
// sender takes Retr (total_retrans delta) and Cwnd (snd_cwnd * snd_mss) from tcp_info.
void iperf3_interval(Iperf3Intervals& iv, Iperf3Result& r, std::string& out, int64_t now_us, double interval_s,
                     bool sender, const Tcp::Info* info) {
  Iperf3Interval it;
  it.start_s = secs_us(iv.last_end_us - iv.start_us);
  it.end_s = secs_us(now_us - iv.start_us);
  it.bytes = iv.bytes_this_interval;
  const double duration = secs_us(now_us - iv.last_end_us);
  if (sender && info != nullptr) {
    it.retrans = static_cast<int64_t>(info->total_retrans) - static_cast<int64_t>(iv.prev_total_retrans);
    r.retransmits += it.retrans;
    iv.prev_total_retrans = info->total_retrans;
    it.snd_cwnd = uint64_t{info->snd_cwnd} * info->snd_mss;
    r.max_snd_cwnd = std::max(r.max_snd_cwnd, it.snd_cwnd);
  }
  iv.last_end_us = now_us;
  iv.bytes_this_interval = 0;
  // iperf_print_intermediate: an interval shorter than 10 % of the interval with no data is not
  // printed ("ignoring short interval with no data").
  it.printed = duration >= interval_s * 0.10 || it.bytes > 0;
  r.intervals.push_back(it);
  if (!it.printed) return;
  // print_interval_results: the header before the stream's first interval (retransmits on the
  // sender: test->sender_has_retransmits is 1 there, 0 on a receiver).
  if (!iv.header_printed) {
    out += sender ? kReportBwRetransCwndHeader : kReportBwHeader;
    iv.header_printed = true;
  }
  const std::string ubuf = iperf3_unit_snprintf(static_cast<double>(it.bytes), 'A');
  const double bw = duration > 0.0 ? static_cast<double>(it.bytes) / duration : 0.0;
  const std::string nbuf = iperf3_unit_snprintf(bw, 'a');  // unit_format 'a' by default
  if (sender) {
    const std::string cbuf = iperf3_unit_snprintf(static_cast<double>(it.snd_cwnd), 'A');
    out += cfmt(kReportBwRetransCwndFormat, kIperf3StreamId, "", it.start_s, it.end_s, ubuf.c_str(), nbuf.c_str(),
                static_cast<long>(it.retrans), cbuf.c_str(), "");
  } else {
    out += cfmt(kReportBwFormat, kIperf3StreamId, "", it.start_s, it.end_s, ubuf.c_str(), nbuf.c_str(), "");
  }
}

// iperf_print_results' stream lines for TCP: the sender's with Retr, the receiver's without.
std::string iperf3_sender_line(uint64_t bytes, double t, int64_t retrans) {
  const std::string ubuf = iperf3_unit_snprintf(static_cast<double>(bytes), 'A');
  const std::string nbuf = iperf3_unit_snprintf(t > 0.0 ? static_cast<double>(bytes) / t : 0.0, 'a');
  return cfmt(kReportBwRetransFormat, kIperf3StreamId, "", 0.0, t, ubuf.c_str(), nbuf.c_str(),
              static_cast<long>(retrans), "sender");
}
std::string iperf3_receiver_line(uint64_t bytes, double t) {
  const std::string ubuf = iperf3_unit_snprintf(static_cast<double>(bytes), 'A');
  const std::string nbuf = iperf3_unit_snprintf(t > 0 ? static_cast<double>(bytes) / t : 0.0, 'a');
  return cfmt(kReportBwFormat, kIperf3StreamId, "", 0.0, t, ubuf.c_str(), nbuf.c_str(), "receiver");
}

}  // namespace

std::string iperf3_unit_snprintf(double num, char format) {
  // units.c: conversion_bytes / conversion_bits, label_byte / label_bit, UNIT_CONV .. TERA_CONV.
  static constexpr double kBytes[] = {1.0, 1.0 / 1024, 1.0 / 1024 / 1024, 1.0 / 1024 / 1024 / 1024,
                                      1.0 / 1024 / 1024 / 1024 / 1024};
  static constexpr double kBits[] = {1.0, 1.0 / 1000, 1.0 / 1000 / 1000, 1.0 / 1000 / 1000 / 1000,
                                     1.0 / 1000 / 1000 / 1000 / 1000};
  static const char* const kByteLabel[] = {"Byte", "KByte", "MByte", "GByte", "TByte"};
  static const char* const kBitLabel[] = {"bit", "Kbit", "Mbit", "Gbit", "Tbit"};
  constexpr int kTeraConv = 4;
  const bool upper = std::isupper(static_cast<unsigned char>(format)) != 0;
  if (!upper) num *= 8;  // bits for [bkmga]
  int conv = 0;
  switch (std::toupper(static_cast<unsigned char>(format))) {
    case 'B': conv = 0; break;
    case 'K': conv = 1; break;
    case 'M': conv = 2; break;
    case 'G': conv = 3; break;
    case 'T': conv = 4; break;
    default: {  // 'A': adaptive (no absolute value: a negative number stays in the unit)
      double tmp = num;
      const double base = upper ? 1024.0 : 1000.0;
      while (tmp >= base && conv < kTeraConv) {
        tmp /= base;
        ++conv;
      }
      break;
    }
  }
  num *= upper ? kBytes[conv] : kBits[conv];
  const char* suffix = upper ? kByteLabel[conv] : kBitLabel[conv];
  // "print such that we always fit in 4 places"
  if (num < 9.995) return cfmt("%4.2f %s", num, suffix);  // 9.995 would be rounded to 10.0
  if (num < 99.95) return cfmt("%4.1f %s", num, suffix);  // 99.95 would be rounded to 100
  return cfmt("%4.0f %s", num, suffix);
}

// ------------------------------------------------------------------------------ Iperf3Server

Iperf3Server::Iperf3Server(Tcp& tcp, Cpu& cpu, Iperf3ServerOptions opt) : tcp_(tcp), cpu_(cpu), opt_(opt) {
  opt_.len = std::max<uint32_t>(opt_.len, 1);
}

Iperf3Server::~Iperf3Server() {
  if (conn_ != nullptr) tcp_.close(cpu_, conn_);
  if (listener_ != nullptr) tcp_.close(cpu_, listener_);
}

Co<void> Iperf3Server::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  // iperf_server_listen: the banner, test #1.
  out_ += kServerRule;
  out_ += fmt::format("Server listening on {} (test #{})\n", opt_.port, 1);
  out_ += kServerRule;
  listener_ = tcp_.socket();
  int rc = tcp_.bind(*listener_, SockAddrIn{wire::Ipv4Addr{}, opt_.port});
  if (rc == 0) rc = tcp_.listen(*listener_, 5);
  if (rc != 0) {
    ++r_.listen_errors;
    r_.last_errno = -rc;
    out_ += iperf3_error("unable to start listener for connections", -rc);
    tcp_.close(cpu_, listener_);
    listener_ = nullptr;
    r_.finished = true;
    co_return;
  }
  SockAddrIn peer{};
  conn_ = co_await tcp_.accept_wait(cpu_, *listener_, &peer);
  if (conn_ == nullptr) {
    ++r_.accept_errors;
    out_ += "iperf3: error - unable to accept connection from client\n";
    r_.finished = true;
    co_return;
  }
  // The control connection is not modelled: the data connection's peer stands for it.
  out_ += cfmt(kReportAccepted, peer.addr.str().c_str(), peer.port);
  out_ += cfmt(kReportConnected, kIperf3StreamId, conn_->saddr.str().c_str(), conn_->num, peer.addr.str().c_str(),
               peer.port);
  Iperf3Intervals iv;
  iv.start_us = iv.last_end_us = usec_of(cpu_.now());  // TEST_START: the stream's start_time
  const double interval_s = static_cast<double>(opt_.interval.ps()) / 1e12;
  Instant next = cpu_.now() + opt_.interval;
  std::vector<uint8_t> buf(opt_.len);
  for (;;) {
    const int n = co_await tcp_.recv(cpu_, *conn_, buf);
    if (n > 0) {
      r_.bytes_received += static_cast<uint64_t>(n);
      iv.bytes_this_interval += static_cast<uint64_t>(n);
    }
    // tmr_run after the reads: each expired interval (a periodic timer keeps its schedule).
    while (opt_.interval > Duration{} && cpu_.now() >= next) {
      iperf3_interval(iv, r_, out_, usec_of(cpu_.now()), interval_s, false, nullptr);
      next = next + opt_.interval;
    }
    if (n == 0) break;
    if (n < 0) {
      ++r_.recv_errors;
      r_.last_errno = -n;
      out_ += iperf3_error("unable to read from stream socket", -n);
      break;
    }
  }
  const int64_t end_us = usec_of(cpu_.now());
  iperf3_interval(iv, r_, out_, end_us, interval_s, false, nullptr);  // the last, partial interval
  r_.seconds = secs_us(end_us - iv.start_us);
  r_.tcp_bytes_received = conn_->bytes_received;
  tcp_.close(cpu_, conn_);
  conn_ = nullptr;
  tcp_.close(cpu_, listener_);
  listener_ = nullptr;
  // iperf_print_results on the server: the client's results said sender_has_retransmits 1 (its
  // sender has tcp_info), so the Retr header; the sender line is not available to a server (only
  // with -V), the receiver line is its own.
  out_ += kReportBwSeparator;
  out_ += kReportBwRetransHeader;
  out_ += iperf3_receiver_line(r_.bytes_received, r_.seconds);
  r_.finished = true;
}

// ------------------------------------------------------------------------------ Iperf3Client

Iperf3Client::Iperf3Client(Tcp& tcp, Cpu& cpu, Iperf3ClientOptions opt) : tcp_(tcp), cpu_(cpu), opt_(opt) {
  opt_.len = std::max<uint32_t>(opt_.len, 1);
}

Iperf3Client::~Iperf3Client() {
  if (sk_ != nullptr) tcp_.close(cpu_, sk_);
}

Co<void> Iperf3Client::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  sk_ = tcp_.socket();
  const int rc = co_await tcp_.connect_wait(cpu_, *sk_, opt_.dst);
  if (rc != 0) {
    // iperf_connect fails (IECONNECT, perr): nothing else was printed yet.
    ++r_.connect_errors;
    r_.last_errno = -rc;
    out_ += iperf3_error(
        "unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.",
        -rc);
    tcp_.close(cpu_, sk_);
    sk_ = nullptr;
    r_.finished = true;
    co_return;
  }
  out_ += cfmt(kReportConnecting, opt_.dst.addr.str().c_str(), opt_.dst.port);
  out_ += cfmt(kReportConnected, kIperf3StreamId, sk_->saddr.str().c_str(), sk_->num, opt_.dst.addr.str().c_str(),
               opt_.dst.port);
  std::vector<uint8_t> buf(opt_.len);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i * 7 + 1);
  Iperf3Intervals iv;
  const Instant t0 = cpu_.now();
  iv.start_us = iv.last_end_us = usec_of(t0);
  iv.prev_total_retrans = tcp_.info(*sk_).total_retrans;
  const double interval_s = static_cast<double>(opt_.interval.ps()) / 1e12;
  Instant next = t0 + opt_.interval;
  const Instant end = t0 + opt_.duration;
  bool failed = false;
  for (;;) {
    // iperf_client_end's conditions: -n reached (whole blocks), or the -t timer expired.
    if (opt_.bytes != 0 ? r_.bytes_sent >= opt_.bytes : cpu_.now() >= end) break;
    // iperf_tcp_send -> Nwrite: write() again after a short count until the block is written;
    // a failed write (a short count's cause comes back from the next one, as the kernel keeps
    // sk_err for it) is NET_HARDERROR and the block's bytes are not counted
    int n = 0;
    while (static_cast<uint32_t>(n) < opt_.len) {
      const int w = co_await tcp_.send(cpu_, *sk_, std::span<const uint8_t>(buf).subspan(static_cast<std::size_t>(n)));
      if (w < 0 && w != -kEAGAIN) {
        n = w;
        break;
      }
      if (w <= 0) break;  // EAGAIN (SO_SNDTIMEO): Nwrite returns what it wrote
      n += w;
    }
    if (n < 0) {
      ++r_.send_errors;
      r_.last_errno = -n;
      out_ += iperf3_error("unable to write to stream socket", r_.last_errno);
      failed = true;
      break;
    }
    r_.bytes_sent += static_cast<uint64_t>(n);
    iv.bytes_this_interval += static_cast<uint64_t>(n);
    while (opt_.interval > Duration{} && cpu_.now() >= next) {
      const Tcp::Info info = tcp_.info(*sk_);
      iperf3_interval(iv, r_, out_, usec_of(cpu_.now()), interval_s, true, &info);
      next = next + opt_.interval;
    }
  }
  // TEST_END: stats_callback for the last interval.
  const int64_t end_us = usec_of(cpu_.now());
  {
    const Tcp::Info info = tcp_.info(*sk_);
    iperf3_interval(iv, r_, out_, end_us, interval_s, true, &info);
  }
  r_.seconds = secs_us(end_us - iv.start_us);
  r_.tcp_bytes_acked = sk_->bytes_acked;
  tcp_.close(cpu_, sk_);
  sk_ = nullptr;
  if (failed) {  // iperf3 exits on the error: no summary
    r_.finished = true;
    co_return;
  }
  // EXCHANGE_RESULTS: the server's receiver figures.
  double receiver_time = r_.seconds;
  uint64_t received = 0;
  if (opt_.server != nullptr) {
    const Instant until = cpu_.now() + opt_.results_timeout;
    while (!opt_.server->done() && cpu_.now() < until) co_await sleep(cpu_, Duration::ms(1));
    if (opt_.server->done() && opt_.server->result().errors() == 0) {
      received = opt_.server->result().bytes_received;
      receiver_time = opt_.server->result().seconds;
      r_.bytes_received = received;
    }
  }
  // iperf_print_results: the separator, the Retr header, sender and receiver lines; then
  // iperf_client_end's "\n" and "iperf Done.".
  out_ += kReportBwSeparator;
  out_ += kReportBwRetransHeader;
  out_ += iperf3_sender_line(r_.bytes_sent, r_.seconds, r_.retransmits);
  out_ += iperf3_receiver_line(received, receiver_time);
  out_ += "\n";
  out_ += kReportDone;
  r_.finished = true;
}

// ------------------------------------------------------------------------------ netperf

double NetperfTcpStats::mean_us() const {
  if (rtt_us.empty()) return 0;
  int64_t s = 0;
  for (int v : rtt_us) s += v;
  return static_cast<double>(s) / static_cast<double>(rtt_us.size());
}

NetperfTcpServer::NetperfTcpServer(Tcp& tcp, Cpu& cpu, NetperfTcpServerOptions opt) : tcp_(tcp), cpu_(cpu), opt_(opt) {
  opt_.req = std::max<uint32_t>(opt_.req, 1);
  opt_.resp = std::max<uint32_t>(opt_.resp, 1);
}

NetperfTcpServer::~NetperfTcpServer() {
  if (listener_ != nullptr) tcp_.close(cpu_, listener_);
}

Co<void> NetperfTcpServer::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  listener_ = tcp_.socket();
  sndbuf_ = listener_->sndbuf;
  rcvbuf_ = listener_->rcvbuf;
  int rc = tcp_.bind(*listener_, SockAddrIn{wire::Ipv4Addr{}, opt_.port});
  if (rc == 0) rc = tcp_.listen(*listener_, 128);
  if (rc != 0) {
    ++errors_;
    tcp_.close(cpu_, listener_);
    listener_ = nullptr;
    done_ = true;
    co_return;
  }
  // A waiting accept looks at stop() every accept_poll (SO_RCVTIMEO on the listener).
  listener_->rcvtimeo = opt_.accept_poll;
  std::vector<uint8_t> req(opt_.req), resp(opt_.resp);
  for (std::size_t i = 0; i < resp.size(); ++i) resp[i] = static_cast<uint8_t>(i);
  while (!stopping_ && (opt_.max_connections == 0 || connections_ < opt_.max_connections)) {
    TcpSock* c = co_await tcp_.accept_wait(cpu_, *listener_);
    if (c == nullptr) continue;  // the poll's timeout: look at stop() again
    ++connections_;
    for (;;) {
      const int n = co_await tcp_.recv(cpu_, *c, req, kMsgWaitall);
      if (n == 0) break;  // the client's EOF (TCP_RR's end)
      if (n < 0 || static_cast<uint32_t>(n) < opt_.req) {
        ++errors_;
        break;
      }
      const int w = co_await tcp_.send(cpu_, *c, resp);
      if (w < 0 || static_cast<uint32_t>(w) < opt_.resp) {
        ++errors_;
        break;
      }
      ++transactions_;
      if (opt_.test == NetperfTcpTest::CRR) break;  // recv_omni: close_data_socket after the response
    }
    tcp_.close(cpu_, c);
  }
  tcp_.close(cpu_, listener_);
  listener_ = nullptr;
  done_ = true;
}

NetperfTcpClient::NetperfTcpClient(Tcp& tcp, Cpu& cpu, NetperfTcpOptions opt) : tcp_(tcp), cpu_(cpu), opt_(opt) {
  opt_.req = std::max<uint32_t>(opt_.req, 1);
  opt_.resp = std::max<uint32_t>(opt_.resp, 1);
  opt_.first_port = std::max<uint16_t>(opt_.first_port, 5000);
}

NetperfTcpClient::~NetperfTcpClient() {
  if (sk_ != nullptr) tcp_.close(cpu_, sk_);
}

Co<void> NetperfTcpClient::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  // print_top_test_header (nettest_bsd.c) as send_omni_inner calls it for the migrated tests:
  // the source's inet_ntop gets sizeof(a pointer) = 8 bytes, so "0.0.0.0" fits and a longer
  // address prints empty; " : first burst 0" only for a name with "REQUEST/RESPONSE".
  const bool rr = opt_.test == NetperfTcpTest::RR;
  out_ += fmt::format("MIGRATED TCP {} TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to {} () port 0 AF_INET{}{}\n",
                      rr ? "REQUEST/RESPONSE" : "Connect/Request/Response", opt_.dst.addr.str(),
                      opt_.nodelay ? " : nodelay" : "", rr ? " : first burst 0" : "");
  if (rr) {
    co_await run_rr();
  } else {
    co_await run_crr();
  }
  if (opt_.server != nullptr) {
    st_.rss = opt_.server->sndbuf();
    st_.rsr = opt_.server->rcvbuf();
  }
  report();
  st_.finished = true;
}

Co<void> NetperfTcpClient::run_rr() {
  sk_ = tcp_.socket();
  // lss_size / lsr_size: create_data_socket's getsockopt on the new socket (the legacy report
  // prints these, not the sizes autotuning reaches later).
  st_.lss = sk_->sndbuf;
  st_.lsr = sk_->rcvbuf;
  if (opt_.nodelay) tcp_.set_nodelay(cpu_, *sk_, true);
  const int rc = co_await tcp_.connect_wait(cpu_, *sk_, opt_.dst);
  if (rc != 0) {
    ++st_.connect_errors;
    st_.last_errno = -rc;
    out_ += fmt::format("netperf: send_omni: connect_data_socket failed: {}\n", strerror_text(-rc));
    tcp_.close(cpu_, sk_);
    sk_ = nullptr;
    co_return;
  }
  ++st_.connections;
  std::vector<uint8_t> req(opt_.req), resp(opt_.resp);
  for (std::size_t i = 0; i < req.size(); ++i) req[i] = static_cast<uint8_t>(i);
  st_.first = cpu_.now();
  const Instant end = st_.first + opt_.duration;
  while (opt_.count != 0 ? st_.transactions < opt_.count : cpu_.now() < end) {
    const Instant t = cpu_.now();  // HIST_timestamp_start
    const int w = co_await tcp_.send(cpu_, *sk_, req);
    if (w < 0 || static_cast<uint32_t>(w) < opt_.req) {
      ++st_.send_errors;
      st_.last_errno = w < 0 ? -w : 0;
      out_ += fmt::format("netperf: send_omni: send_data failed: {}\n", strerror_text(st_.last_errno));
      break;
    }
    const int r = co_await tcp_.recv(cpu_, *sk_, resp, kMsgWaitall);
    if (r <= 0 || static_cast<uint32_t>(r) < opt_.resp) {  // 0: the end of the test as netperf takes it
      ++st_.recv_errors;
      st_.last_errno = r < 0 ? -r : 0;
      if (r < 0) out_ += fmt::format("netperf: send_omni: recv_data failed: {}\n", strerror_text(-r));
      break;
    }
    st_.rtt_ps.push_back((cpu_.now() - t).ps());
    const auto us = static_cast<int>(usec_of(cpu_.now()) - usec_of(t));  // delta_micro
    st_.rtt_us.push_back(us);
    hist_.add(us);
    ++st_.transactions;
  }
  st_.end = cpu_.now();
  st_.elapsed_s = static_cast<double>((st_.end - st_.first).ps()) / 1e12;
  // The end of the test: shutdown(SHUT_WR), read to the server's EOF, close (a graceful close).
  (void)tcp_.shutdown(cpu_, *sk_, kShutWr);
  std::vector<uint8_t> drain(64);
  for (int i = 0; i < 1024; ++i) {
    const int r = co_await tcp_.recv(cpu_, *sk_, drain);
    if (r == 0) break;
    if (r < 0) {
      ++st_.disconnect_errors;
      st_.last_errno = -r;
      break;
    }
  }
  tcp_.close(cpu_, sk_);
  sk_ = nullptr;
}

Co<void> NetperfTcpClient::run_crr() {
  std::vector<uint8_t> req(opt_.req), resp(opt_.resp);
  for (std::size_t i = 0; i < req.size(); ++i) req[i] = static_cast<uint8_t>(i);
  // pick_next_port_number: myport starts one below and is incremented before each bind.
  uint32_t myport = opt_.first_port - 1u;
  auto next_port = [&] {
    ++myport;
    if (myport == opt_.dst.port) ++myport;
    if (myport >= 65535) myport = 5000;
    return static_cast<uint16_t>(myport);
  };
  st_.first = cpu_.now();
  const Instant end = st_.first + opt_.duration;
  bool sizes = false;
  while (opt_.count != 0 ? st_.transactions < opt_.count : cpu_.now() < end) {
    const Instant t = cpu_.now();  // HIST_timestamp_start: before the socket
    // again: a transient error (the port in use) takes the next port; bounded here.
    int rc = 0;
    for (int tries = 0; tries < 64; ++tries) {
      sk_ = tcp_.socket();
      rc = tcp_.bind(*sk_, SockAddrIn{wire::Ipv4Addr{}, next_port()});
      if (rc == 0) break;
      ++st_.bind_errors;
      st_.last_errno = -rc;
      tcp_.close(cpu_, sk_);
      sk_ = nullptr;
    }
    if (sk_ == nullptr) {
      out_ += fmt::format("netperf: send_omni: unable to bind data socket: {}\n", strerror_text(-rc));
      break;
    }
    if (!sizes) {  // lss_size / lsr_size of the first data socket, as created
      st_.lss = sk_->sndbuf;
      st_.lsr = sk_->rcvbuf;
      sizes = true;
    }
    if (opt_.nodelay) tcp_.set_nodelay(cpu_, *sk_, true);
    rc = co_await tcp_.connect_wait(cpu_, *sk_, opt_.dst);
    if (rc != 0) {  // a hard failure: netperf's perror and exit
      ++st_.connect_errors;
      st_.last_errno = -rc;
      out_ += fmt::format("netperf: send_omni: connect_data_socket failed: {}\n", strerror_text(-rc));
      tcp_.close(cpu_, sk_);
      sk_ = nullptr;
      break;
    }
    ++st_.connections;
    const int w = co_await tcp_.send(cpu_, *sk_, req);
    if (w < 0 || static_cast<uint32_t>(w) < opt_.req) {
      ++st_.send_errors;
      st_.last_errno = w < 0 ? -w : 0;
      out_ += fmt::format("netperf: send_omni: send_data failed: {}\n", strerror_text(st_.last_errno));
      tcp_.close(cpu_, sk_);
      sk_ = nullptr;
      break;
    }
    const int r = co_await tcp_.recv(cpu_, *sk_, resp, kMsgWaitall);
    if (r <= 0 || static_cast<uint32_t>(r) < opt_.resp) {
      ++st_.recv_errors;
      st_.last_errno = r < 0 ? -r : 0;
      out_ += fmt::format("netperf: send_omni: recv_data failed: {}\n", strerror_text(st_.last_errno));
      tcp_.close(cpu_, sk_);
      sk_ = nullptr;
      break;
    }
    // disconnect_data_socket(initiate 0, do_close 1): no shutdown; recv expects the server's
    // close (0), then close(): the server closed first and keeps the TIME-WAIT.
    std::vector<uint8_t> one(1);
    const int d = co_await tcp_.recv(cpu_, *sk_, one);
    tcp_.close(cpu_, sk_);
    sk_ = nullptr;
    if (d != 0) {
      ++st_.disconnect_errors;
      st_.last_errno = d < 0 ? -d : 0;
      out_ += "netperf: send_omni: disconnect_data_socket failed\n";
      break;
    }
    st_.rtt_ps.push_back((cpu_.now() - t).ps());
    const auto us = static_cast<int>(usec_of(cpu_.now()) - usec_of(t));
    st_.rtt_us.push_back(us);
    hist_.add(us);
    ++st_.transactions;
  }
  st_.end = cpu_.now();
  st_.elapsed_s = static_cast<double>((st_.end - st_.first).ps()) / 1e12;
}

void NetperfTcpClient::report() {
  const bool rr = opt_.test == NetperfTcpTest::RR;
  const double thruput = st_.transaction_rate();
  if (opt_.csv_latency) {
    // -o min_latency,mean_latency,p50_latency,p90_latency,p99_latency,max_latency,stddev_latency,
    //    transaction_rate,request_size,response_size (as UdpRrClient prints them).
    out_ += "Minimum Latency Microseconds,Mean Latency Microseconds,50th Percentile Latency Microseconds,"
            "90th Percentile Latency Microseconds,99th Percentile Latency Microseconds,Maximum Latency Microseconds,"
            "Stddev Latency Microseconds,Transaction Rate Tran/s,Request Size Bytes,Response Size Bytes\n";
    out_ += fmt::format("{},{},{},{},{},{},{},{:.3f},{},{}\n", hist_.min(), cfmt("%.2f", hist_.mean()),
                        hist_.percentile(0.50), hist_.percentile(0.90), hist_.percentile(0.99), hist_.max(),
                        cfmt("%.2f", hist_.stddev()), thruput, opt_.req, opt_.resp);
    return;
  }
  // The legacy report, verbosity 1 without CPU figures: send_tcp_rr's tput_title ('x' libfmt:
  // transactions) and tput_fmt_1_line_1 with an empty result_brand, send_tcp_conn_rr's
  // tput_fmt_1_line_1 (no brand), and tput_fmt_1_line_2 with the remote sizes.
  out_ += "Local /Remote\n"
          "Socket Size   Request  Resp.   Elapsed  Trans.\n"
          "Send   Recv   Size     Size    Time     Rate         \n"
          "bytes  Bytes  bytes    bytes   secs.    per sec   \n\n";
  const auto i = [](uint32_t v) { return static_cast<int>(v); };
  if (rr) {
    out_ += cfmt("%-6d %-6d %-6d   %-6d  %-6.2f   %7.2f   %s\n", i(st_.lss), i(st_.lsr), i(opt_.req), i(opt_.resp),
                 st_.elapsed_s, thruput, "");
  } else {
    out_ += cfmt("%-6d %-6d %-6d   %-6d  %-6.2f   %7.2f   \n", i(st_.lss), i(st_.lsr), i(opt_.req), i(opt_.resp),
                 st_.elapsed_s, thruput);
  }
  out_ += cfmt("%-6d %-6d\n", i(st_.rss), i(st_.rsr));
}

}  // namespace vnic::stack

// UDP applications: iperf 2.1.8's UDP client and server, netperf 2.7's UDP_RR (udp_apps.hpp).
#include "vnic/stack/apps/udp_apps.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "vnic/stack/eventpoll.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/wire/endian.hpp"

namespace vnic::stack {

namespace {

constexpr const char* kSeparator = "------------------------------------------------------------\n";
constexpr const char* kId = "[  1] ";  // iperf 2.1's first transfer id
constexpr int kEintr = 4;
// The server's report in its ack of the FIN (iperf2's server_hdr after the UDP_datagram header):
// flags, total_len1 (high), total_len2 (low), stop_sec, stop_usec, error_cnt, outorder_cnt,
// datagrams, jitter1 (s), jitter2 (us), each 32 bits in network order.
constexpr std::size_t kServerHdrLen = 40;
constexpr uint32_t kHeaderVersion1 = 0x80000000u;

int64_t usec_of(Instant t) { return t.ps() / 1'000'000; }
double secs(Duration d) { return static_cast<double>(d.ps()) / 1e12; }

void put32(std::span<uint8_t> b, std::size_t at, uint32_t v) {
  b[at] = static_cast<uint8_t>(v >> 24);
  b[at + 1] = static_cast<uint8_t>(v >> 16);
  b[at + 2] = static_cast<uint8_t>(v >> 8);
  b[at + 3] = static_cast<uint8_t>(v);
}
uint32_t get32(std::span<const uint8_t> b, std::size_t at) {
  return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | uint32_t{b[at + 3]};
}

// The UDP_datagram header: id (low 32 bits of the sequence, negated in a FIN), the send time, id2.
void write_udp_header(std::span<uint8_t> b, int64_t seq, int64_t us) {
  put32(b, 0, static_cast<uint32_t>(static_cast<uint64_t>(seq)));
  put32(b, 4, static_cast<uint32_t>(us / 1'000'000));
  put32(b, 8, static_cast<uint32_t>(us % 1'000'000));
  put32(b, 12, static_cast<uint32_t>(static_cast<uint64_t>(seq) >> 32));
}

const char* strerror_text(int e) {
  switch (e) {
    case 101: return "Network is unreachable";
    case 113: return "No route to host";
    case 111: return "Connection refused";
    case 13: return "Permission denied";
    case 22: return "Invalid argument";
    case 90: return "Message too long";
    case 98: return "Address already in use";
    case 99: return "Cannot assign requested address";
    case 105: return "No buffer space available";
    case 11: return "Resource temporarily unavailable";
    default: return "Unknown error";
  }
}

// "UDP buffer size: ..." as iperf's settings report prints the socket's buffer.
std::string buffer_line(uint32_t actual, int requested) {
  std::string s = fmt::format("UDP buffer size: {}", iperf_byte_snprintf(actual, 'A'));
  if (requested <= 0) return s + " (default)\n";
  if (static_cast<uint32_t>(requested) != actual)
    s += fmt::format(" (WARNING: requested {})", iperf_byte_snprintf(requested, 'A'));
  return s + "\n";
}

// report_bw_jitter_loss_format: "%s" IPERFTimeFrmt " sec  %ss  %ss/sec  %6.3f ms %d/%d (%.2g%%)".
std::string jitter_loss_line(double t, uint64_t bytes, double jitter_s, uint64_t lost, uint64_t total) {
  const double bw = t > 0 ? static_cast<double>(bytes) / t : 0.0;
  const double pct = total > 0 ? 100.0 * static_cast<double>(lost) / static_cast<double>(total) : 0.0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2g", pct);
  return fmt::format("{}{:4.4f}-{:4.4f} sec  {}s  {}s/sec  {:6.3f} ms {}/{} ({}%)\n", kId, 0.0, t,
                     iperf_byte_snprintf(static_cast<double>(bytes), 'A'), iperf_byte_snprintf(bw, 'a'),
                     jitter_s * 1e3, lost, total, buf);
}

}  // namespace

std::string iperf_byte_snprintf(double num, char format) {
  static const char* const kByte[] = {"Byte", "KByte", "MByte", "GByte", "TByte"};
  static const char* const kBit[] = {"bit", "Kbit", "Mbit", "Gbit", "Tbit"};
  const bool bytes = std::isupper(static_cast<unsigned char>(format)) != 0;
  if (!bytes) num *= 8;
  const double base = bytes ? 1024.0 : 1000.0;
  int conv = 0;
  while (num >= base && conv <= 3) {  // kConv_Giga
    num /= base;
    ++conv;
  }
  const char* unit = bytes ? kByte[conv] : kBit[conv];
  char buf[64];
  if (num < 9.995) {  // 9.995 would be rounded to 10.0
    std::snprintf(buf, sizeof buf, "%4.2f %s", num, unit);
  } else if (num < 99.95) {
    std::snprintf(buf, sizeof buf, "%4.1f %s", num, unit);
  } else {
    std::snprintf(buf, sizeof buf, "%4.0f %s", num, unit);
  }
  return buf;
}

// ------------------------------------------------------------------------------ UdpSender

UdpSender::UdpSender(NetStack& net, Udp& udp, Cpu& cpu, UdpSendOptions opt)
    : net_(net), udp_(udp), cpu_(cpu), opt_(opt) {
  opt_.len = std::max(opt_.len, kIperfMinUdpLen + static_cast<uint32_t>(kServerHdrLen));
}

UdpSender::~UdpSender() {
  if (sk_ != nullptr) udp_.close(sk_);
}

Co<void> UdpSender::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  sk_ = udp_.socket();
  if (opt_.sndbuf > 0) udp_.set_sndbuf(cpu_, *sk_, opt_.sndbuf);
  out_ += kSeparator;
  out_ += fmt::format("Client connecting to {}, UDP port {}\n", opt_.dst.addr.str(), opt_.dst.port);
  const double ipg_us = opt_.rate_bps != 0 ? static_cast<double>(opt_.len) * 8e6 / static_cast<double>(opt_.rate_bps) : 0.0;
  out_ += fmt::format("Sending {} byte datagrams, IPG target: {:.2f} us (kalman adjust)\n", opt_.len, ipg_us);
  out_ += buffer_line(sk_->sndbuf, opt_.sndbuf);
  out_ += kSeparator;
  if (const int rc = udp_.connect(*sk_, opt_.dst); rc != 0) {
    out_ += fmt::format("connect failed: {}\n", strerror_text(-rc));
    ++st_.send_errors;
    st_.finished = true;
    co_return;
  }
  out_ += fmt::format("{}local {} port {} connected with {} port {}\n", kId, sk_->saddr.str(), sk_->num,
                      opt_.dst.addr.str(), opt_.dst.port);

  std::vector<uint8_t> buf(opt_.len);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(i);
  const Instant t0 = cpu_.now();
  // The slot of datagram k: t0 + k * len * 8 / rate, in picoseconds, floor of the exact value:
  // k * (num / rate) + k * (num % rate) / rate with num = len * 8 * 10^12.
  const uint64_t num = uint64_t{opt_.len} * 8u * 1'000'000'000'000ull;
  const auto slot = [&](uint64_t k) {
    if (opt_.rate_bps == 0) return t0;
    const uint64_t ps = k * (num / opt_.rate_bps) + k * (num % opt_.rate_bps) / opt_.rate_bps;
    return t0 + Duration::ps(static_cast<int64_t>(ps));
  };
  const Instant end = t0 + opt_.duration;
  for (uint64_t k = 0;; ++k) {
    if (opt_.count != 0 ? k >= opt_.count : (opt_.rate_bps != 0 ? slot(k) : cpu_.now()) >= end) break;
    const Instant at = slot(k);
    if (cpu_.now() < at) {
      co_await sleep(cpu_, at - cpu_.now());
    } else if (opt_.rate_bps != 0 && cpu_.now() > at) {
      ++st_.late;
    }
    write_udp_header(buf, static_cast<int64_t>(k + 1), usec_of(cpu_.now()));
    uint64_t id = 0;
    const int r = co_await udp_.send(cpu_, *sk_, buf, 0, nullptr, &id);
    ids_.push_back(r >= 0 ? id : 0);
    if (r < 0) {
      ++st_.send_errors;
      continue;
    }
    if (st_.datagrams == 0) st_.first_send = cpu_.now();
    ++st_.datagrams;
    st_.bytes += static_cast<uint64_t>(r);
    st_.last_send = cpu_.now();
  }
  const double t = secs(cpu_.now() - t0);
  const double bw = t > 0 ? static_cast<double>(st_.bytes) / t : 0.0;
  out_ += "[ ID] Interval       Transfer     Bandwidth\n";
  out_ += fmt::format("{}{:4.4f}-{:4.4f} sec  {}s  {}s/sec\n", kId, 0.0, t,
                      iperf_byte_snprintf(static_cast<double>(st_.bytes), 'A'), iperf_byte_snprintf(bw, 'a'));
  // iperf counts the FIN among the datagrams it sent.
  out_ += fmt::format("[{:3}] Sent {} datagrams\n", 1, st_.datagrams + 1);

  // write_UDP_FIN: the sequence negated, until the server's ack (its report) comes back.
  sk_->rcvtimeo = opt_.fin_timeout;
  std::vector<uint8_t> ack(std::max<std::size_t>(opt_.len, kIperfUdpHeaderLen + kServerHdrLen));
  for (int tries = 0; tries < opt_.fin_tries && !st_.server_report; ++tries) {
    write_udp_header(buf, -static_cast<int64_t>(st_.datagrams + 1), usec_of(cpu_.now()));
    const int w = co_await udp_.send(cpu_, *sk_, buf, 0);
    if (w >= 0) ++st_.fins;
    const Instant until = cpu_.now() + opt_.fin_timeout;
    while (cpu_.now() < until) {
      const int r = co_await udp_.recv(cpu_, *sk_, ack, 0);
      if (r == -kEAGAIN) break;  // SO_RCVTIMEO: send the FIN again
      if (r < static_cast<int>(kIperfUdpHeaderLen + kServerHdrLen)) continue;  // an error or not an ack
      const std::span<const uint8_t> h(ack.data() + kIperfUdpHeaderLen, kServerHdrLen);
      if ((get32(h, 0) & kHeaderVersion1) == 0) continue;
      st_.server_report = true;
      st_.srv_bytes = uint64_t{get32(h, 4)} << 32 | get32(h, 8);
      st_.srv_duration_s = get32(h, 12) + get32(h, 16) / 1e6;
      st_.srv_lost = get32(h, 20);
      st_.srv_out_of_order = get32(h, 24);
      st_.srv_datagrams = get32(h, 28);
      st_.srv_jitter_s = get32(h, 32) + get32(h, 36) / 1e6;
      break;
    }
  }
  if (st_.server_report) {
    out_ += fmt::format("[{:3}] Server Report:\n", 1);
    out_ += "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams\n";
    out_ += jitter_loss_line(st_.srv_duration_s, st_.srv_bytes, st_.srv_jitter_s, st_.srv_lost, st_.srv_datagrams);
    if (st_.srv_out_of_order != 0)
      out_ += fmt::format("{}{:4.4f}-{:4.4f} sec  {} datagrams received out-of-order\n", kId, 0.0, st_.srv_duration_s,
                          st_.srv_out_of_order);
  } else {
    out_ += fmt::format("[{:3}] WARNING: did not receive ack of last datagram after {} tries.\n", 1, opt_.fin_tries);
  }
  st_.finished = true;
}

// ------------------------------------------------------------------------------ UdpReceiver

UdpReceiver::UdpReceiver(NetStack& net, Udp& udp, Cpu& cpu, UdpRecvOptions opt)
    : net_(net), udp_(udp), cpu_(cpu), opt_(opt) {
  opt_.len = std::max<uint32_t>(opt_.len, 65536);  // a read takes any datagram whole
}

UdpReceiver::~UdpReceiver() {
  if (sk_ == nullptr) return;
  if (ep_) eventpoll_release(*sk_);
  udp_.close(sk_);
}

void UdpReceiver::account(std::span<const uint8_t> d, int n, const RecvMeta& m) {
  const int64_t seq = static_cast<int64_t>(uint64_t{get32(d, 12)} << 32 | get32(d, 0));
  const int64_t sent_us = int64_t{get32(d, 4)} * 1'000'000 + get32(d, 8);
  const int64_t arr_us = usec_of(m.stamp);
  arrivals_.push_back({seq, sent_us, m.stamp, m.packet});
  // RFC 3550 6.4.1: the transit time's variation, from SO_TIMESTAMP's time (us, as a timeval).
  const double transit = static_cast<double>(arr_us - sent_us) / 1e6;
  if (have_transit_) st_.jitter_s = rfc3550_jitter_step(st_.jitter_s, transit, prev_transit_);
  prev_transit_ = transit;
  have_transit_ = true;
  // iperf's server: a gap counts lost; an arrival below the next expected is out of order and
  // fills one of the gaps counted before.
  if (seq > st_.max_seq + 1) {
    st_.lost += static_cast<uint64_t>(seq - st_.max_seq - 1);
  } else if (seq < st_.max_seq + 1) {
    ++st_.out_of_order;
    if (st_.lost > 0) --st_.lost;
  }
  st_.max_seq = std::max(st_.max_seq, seq);
  ++st_.datagrams;
  st_.bytes += static_cast<uint64_t>(n);
  // Byte i of the datagram is i % 256 after the header: one memcmp against that pattern (a read
  // is at most 65,535 bytes); was a loop per byte, 16 % of a line-rate run's instructions.
  static const std::array<uint8_t, 65536> kPattern = [] {
    std::array<uint8_t, 65536> p{};
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i);
    return p;
  }();
  const auto len = static_cast<std::size_t>(n);
  if (len > kIperfUdpHeaderLen &&
      std::memcmp(d.data() + kIperfUdpHeaderLen, kPattern.data() + kIperfUdpHeaderLen,
                  std::min(len, kPattern.size()) - kIperfUdpHeaderLen) != 0)
    ++bad_payloads_;
}

void UdpReceiver::fin_ack(const RecvMeta& m) {
  // The report goes back to the client, after the UDP_datagram header it sent.
  std::vector<uint8_t> a(kIperfUdpHeaderLen + kServerHdrLen);
  write_udp_header(a, -st_.max_seq - 1, usec_of(cpu_.now()));
  const std::span<uint8_t> h(a.data() + kIperfUdpHeaderLen, kServerHdrLen);
  const int64_t dur_us = usec_of(st_.last) - usec_of(st_.first);
  const int64_t jit_us = static_cast<int64_t>(st_.jitter_s * 1e6);
  put32(h, 0, kHeaderVersion1);
  put32(h, 4, static_cast<uint32_t>(st_.bytes >> 32));
  put32(h, 8, static_cast<uint32_t>(st_.bytes));
  put32(h, 12, static_cast<uint32_t>(dur_us / 1'000'000));
  put32(h, 16, static_cast<uint32_t>(dur_us % 1'000'000));
  put32(h, 20, static_cast<uint32_t>(st_.lost));
  put32(h, 24, static_cast<uint32_t>(st_.out_of_order));
  put32(h, 28, static_cast<uint32_t>(st_.total()));
  put32(h, 32, static_cast<uint32_t>(jit_us / 1'000'000));
  put32(h, 36, static_cast<uint32_t>(jit_us % 1'000'000));
  (void)udp_.sendmsg(cpu_, *sk_, a, 0, &m.from);
}

Co<void> UdpReceiver::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  sk_ = udp_.socket();
  if (opt_.rcvbuf > 0) udp_.set_rcvbuf(*sk_, opt_.rcvbuf);
  out_ += kSeparator;
  out_ += fmt::format("Server listening on UDP port {}\n", opt_.port);
  out_ += buffer_line(sk_->rcvbuf, opt_.rcvbuf);
  out_ += kSeparator;
  if (const int rc = udp_.bind(*sk_, SockAddrIn{wire::Ipv4Addr{}, opt_.port}); rc != 0) {
    out_ += fmt::format("listener bind failed: {}\n", strerror_text(-rc));
    st_.finished = true;
    co_return;
  }
  if (opt_.use_epoll) {
    ep_ = std::make_unique<Epoll>();
    ep_->ctl(kEpollCtlAdd, sk_, kEpollIn, 0, &cpu_);
  }
  std::vector<uint8_t> buf(opt_.len);
  for (;;) {
    RecvMeta m;
    int n;
    if (opt_.use_epoll) {
      n = udp_.recvmsg(cpu_, *sk_, buf, 0, &m);
      if (n == -kEAGAIN) {
        (void)co_await ep_->wait(cpu_, 1, -1);
        continue;
      }
    } else {
      n = co_await udp_.recv(cpu_, *sk_, buf, 0, &m);
    }
    if (n < 0) continue;
    if (opt_.read_cost > Duration{}) cpu_.charge(opt_.read_cost);  // what the application does with it
    if (n < static_cast<int>(kIperfUdpHeaderLen)) continue;         // not iperf's
    const std::span<const uint8_t> d(buf.data(), static_cast<std::size_t>(n));
    if (st_.datagrams == 0 && st_.fins == 0) {
      peer_ = m.from;
      st_.first = m.stamp;
      const NetStack::RouteOut rt = net_.route_output(m.from.addr);
      out_ += fmt::format("{}local {} port {} connected with {} port {}\n", kId, rt.saddr.str(), opt_.port,
                          m.from.addr.str(), m.from.port);
      out_ += "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams\n";
    }
    if (static_cast<int32_t>(get32(d, 0)) < 0) {  // the FIN
      // Its sequence (negated) is one past the last datagram sent: the datagrams missing at the
      // end count lost too.
      const int64_t fin_seq = -static_cast<int64_t>(static_cast<int32_t>(get32(d, 0)));
      if (fin_seq > st_.max_seq + 1) {
        st_.lost += static_cast<uint64_t>(fin_seq - st_.max_seq - 1);
        st_.max_seq = fin_seq - 1;
      }
      ++st_.fins;
      st_.last = m.stamp;
      fin_ack(m);
      break;
    }
    account(d, n, m);
  }
  const double t = static_cast<double>(usec_of(st_.last) - usec_of(st_.first)) / 1e6;
  out_ += jitter_loss_line(t, st_.bytes, st_.jitter_s, st_.lost, st_.total());
  if (st_.out_of_order != 0)
    out_ += fmt::format("{}{:4.4f}-{:4.4f} sec  {} datagrams received out-of-order\n", kId, 0.0, t, st_.out_of_order);
  st_.finished = true;
}

// ------------------------------------------------------------------------------ netperf

void NetperfHist::add(int64_t us) {
  ++total_;
  int64_t base = 1;
  for (auto& row : b_) {
    if (us < base * 10) {
      ++row[static_cast<std::size_t>(us / base)];
      return;
    }
    base *= 10;
  }
  ++ridiculous_;
}

int64_t NetperfHist::percentile(double p) const {
  const auto target = static_cast<uint64_t>(p * static_cast<double>(total_));
  uint64_t run = 0;
  int64_t base = 1;
  for (const auto& row : b_) {
    for (std::size_t i = 0; i < 10; ++i) {
      run += row[i];
      if (run >= target) return static_cast<int64_t>(i) * base;
    }
    base *= 10;
  }
  return base;  // ridiculous: 100 s or more
}

double UdpRrStats::mean_us() const {
  if (rtt_ps.empty()) return 0;
  double s = 0;
  for (int64_t v : rtt_ps) s += static_cast<double>(v) / 1e6;
  return s / static_cast<double>(rtt_ps.size());
}

UdpRrClient::UdpRrClient(NetStack& net, Udp& udp, Cpu& cpu, UdpRrOptions opt)
    : net_(net), udp_(udp), cpu_(cpu), opt_(opt) {
  opt_.req = std::max<uint32_t>(opt_.req, 1);
  opt_.resp = std::max<uint32_t>(opt_.resp, 1);
}

UdpRrClient::~UdpRrClient() {
  if (sk_ != nullptr) udp_.close(sk_);
}

Co<void> UdpRrClient::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());
  out_ += fmt::format("MIGRATED UDP REQUEST/RESPONSE TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to {} () port 0 "
                      "AF_INET : first burst 0\n",
                      opt_.dst.addr.str());
  sk_ = udp_.socket();
  if (const int rc = udp_.connect(*sk_, opt_.dst); rc != 0) {
    out_ += fmt::format("netperf: send_omni: connect failed: {}\n", strerror_text(-rc));
    st_.finished = true;
    co_return;
  }
  sk_->rcvtimeo = opt_.timeout;
  std::vector<uint8_t> req(opt_.req), resp(std::max<uint32_t>(opt_.resp, 65536));
  for (std::size_t i = 0; i < req.size(); ++i) req[i] = static_cast<uint8_t>(i);
  NetperfHist hist;
  st_.first = cpu_.now();
  const Instant end = st_.first + opt_.duration;
  for (uint64_t k = 0;; ++k) {
    if (opt_.count != 0 ? k >= opt_.count : cpu_.now() >= end) break;
    const Instant t = cpu_.now();
    uint64_t id = 0;
    const int w = co_await udp_.send(cpu_, *sk_, req, 0, nullptr, &id);
    if (w < 0) {
      ++st_.lost;
      ids_.push_back({id, 0});
      continue;
    }
    RecvMeta m;
    const int r = co_await udp_.recv(cpu_, *sk_, resp, 0, &m);
    if (r < 0) {  // the timeout (or ECONNREFUSED): the transaction is lost
      ++st_.lost;
      ids_.push_back({id, 0});
      continue;
    }
    const int64_t rtt = (cpu_.now() - t).ps();
    st_.rtt_ps.push_back(rtt);
    hist.add(rtt / 1'000'000);
    ++st_.transactions;
    ids_.push_back({id, m.packet});
  }
  st_.end = cpu_.now();
  // -o min_latency,mean_latency,p50_latency,p90_latency,p99_latency,max_latency,stddev_latency,
  //    transaction_rate,request_size,response_size
  int64_t mn = 0, mx = 0;
  double sd = 0;
  const double mean = st_.mean_us();
  if (!st_.rtt_ps.empty()) {
    mn = *std::min_element(st_.rtt_ps.begin(), st_.rtt_ps.end()) / 1'000'000;
    mx = *std::max_element(st_.rtt_ps.begin(), st_.rtt_ps.end()) / 1'000'000;
    for (int64_t v : st_.rtt_ps) {
      const double d = static_cast<double>(v) / 1e6 - mean;
      sd += d * d;
    }
    sd = std::sqrt(sd / static_cast<double>(st_.rtt_ps.size()));
  }
  const double el = secs(st_.end - st_.first);
  out_ += "Minimum Latency Microseconds,Mean Latency Microseconds,50th Percentile Latency Microseconds,"
          "90th Percentile Latency Microseconds,99th Percentile Latency Microseconds,Maximum Latency Microseconds,"
          "Stddev Latency Microseconds,Transaction Rate Tran/s,Request Size Bytes,Response Size Bytes\n";
  out_ += fmt::format("{},{:.2f},{},{},{},{},{:.2f},{:.3f},{},{}\n", mn, mean, hist.percentile(0.50),
                      hist.percentile(0.90), hist.percentile(0.99), mx, sd,
                      el > 0 ? static_cast<double>(st_.transactions) / el : 0.0, opt_.req, opt_.resp);
  if (st_.lost != 0) out_ += fmt::format("(vnic: {} transactions timed out after {} ms)\n", st_.lost,
                                         opt_.timeout.ps() / 1'000'000'000);
  st_.finished = true;
}

UdpRrServer::UdpRrServer(Udp& udp, Cpu& cpu, uint16_t port, uint32_t resp, Instant start)
    : udp_(udp), cpu_(cpu), port_(port), resp_(resp), start_(start) {}

UdpRrServer::~UdpRrServer() {
  if (sk_ != nullptr) udp_.close(sk_);
}

void UdpRrServer::stop() {
  stopping_ = true;
  if (sk_ == nullptr) return;
  sk_->err = kEintr;  // as a signal interrupts the blocked recvmsg
  sk_->error_report(cpu_);
}

Co<void> UdpRrServer::run() {
  if (cpu_.now() < start_) co_await sleep(cpu_, start_ - cpu_.now());
  sk_ = udp_.socket();
  if (udp_.bind(*sk_, SockAddrIn{wire::Ipv4Addr{}, port_}) != 0) {
    done_ = true;
    co_return;
  }
  std::vector<uint8_t> buf(65536), out;
  while (!stopping_) {
    RecvMeta m;
    const int n = co_await udp_.recv(cpu_, *sk_, buf, 0, &m);
    if (stopping_) break;
    if (n < 0) continue;
    ++requests_;
    const std::size_t len = resp_ != 0 ? resp_ : static_cast<std::size_t>(n);
    out.assign(len, 0);
    for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(i);
    if (udp_.sendmsg(cpu_, *sk_, out, 0, &m.from) >= 0) ++responses_;
  }
  done_ = true;
}

}  // namespace vnic::stack

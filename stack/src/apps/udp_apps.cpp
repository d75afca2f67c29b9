// UDP applications: iperf 2.1.8's UDP client and server, netperf 2.7's UDP_RR (udp_apps.hpp).
#include "vnic/stack/apps/udp_apps.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

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

// Debian's build (--enable-fastsampling): SMALLEST_INTERVAL_SEC 0.0001.
constexpr double kSmallestIntervalSec = 0.0001;

// _print_stats_common (ReportOutputs.c): the Transfer and the Bandwidth, bytes / (iEnd - iStart)
// with iStart 0 (and no bytes for an interval under SMALLEST_INTERVAL_SEC), as printf prints them.
std::pair<std::string, std::string> transfer_bandwidth(double t, uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  return {iperf_byte_snprintf(b, 'A'), iperf_byte_snprintf((t < kSmallestIntervalSec ? 0.0 : b) / t, 'a')};
}

// report_bw_jitter_loss_format: "%s" IPERFTimeFrmt " sec  %ss  %ss/sec  %6.3f ms %d/%d (%.2g%%)",
// the percentage (100.0 * Lost) / Total.
std::string jitter_loss_line(double t, uint64_t bytes, double jitter_s, uint64_t lost, uint64_t total) {
  const auto [transfer, bw] = transfer_bandwidth(t, bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%6.3f ms %llu/%llu (%.2g%%)", jitter_s * 1e3, static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(total),
                (100.0 * static_cast<double>(lost)) / static_cast<double>(total));
  return fmt::format("{}{:4.4f}-{:4.4f} sec  {}s  {}s/sec  {}\n", kId, 0.0, t, transfer, bw, buf);
}

// write_UDP_AckFIN (Reports.c): a double of seconds as its whole seconds and (long) of the rest x 1e6.
void put_seconds(std::span<uint8_t> h, std::size_t at, double s) {
  const auto whole = static_cast<long>(s);
  put32(h, at, static_cast<uint32_t>(whole));
  put32(h, at + 4, static_cast<uint32_t>(static_cast<long>((s - static_cast<double>(whole)) * 1e6)));
}

}  // namespace

std::string iperf_byte_snprintf(double num, char format) {
  static const char* const kByte[] = {"Byte", "KByte", "MByte", "GByte", "TByte", "PByte"};
  static const char* const kBit[] = {"bit", "Kbit", "Mbit", "Gbit", "Tbit", "Pbit"};
  // kConversion / kConversionForBits: the factors, as stdio.c's initializers compute them.
  static constexpr double kConversion[] = {1.0,
                                           1.0 / 1024,
                                           1.0 / 1024 / 1024,
                                           1.0 / 1024 / 1024 / 1024,
                                           1.0 / 1024 / 1024 / 1024 / 1024,
                                           1.0 / 1024 / 1024 / 1024 / 1024 / 1024};
  static constexpr double kConversionForBits[] = {1.0,
                                                  1.0 / 1000,
                                                  1.0 / 1000 / 1000,
                                                  1.0 / 1000 / 1000 / 1000,
                                                  1.0 / 1000 / 1000 / 1000 / 1000,
                                                  1.0 / 1000 / 1000 / 1000 / 1000 / 1000};
  constexpr int kConvPeta = 5;
  const bool bytes = std::isupper(static_cast<unsigned char>(format)) != 0;
  if (!bytes) num *= 8;
  // The adaptive unit: divide a copy until under 1024 (1000 for bits), at most to Peta.
  double tmp = num < 0.0 ? -num : num;
  const double base = bytes ? 1024.0 : 1000.0;
  int conv = 0;
  while (tmp >= base && conv < kConvPeta) {
    tmp /= base;
    ++conv;
  }
  num *= bytes ? kConversion[conv] : kConversionForBits[conv];
  const char* unit = bytes ? kByte[conv] : kBit[conv];
  // Four places: 0.9995 would be rounded to 1.000, 9.995 to 10.00, 99.95 to 100.0.
  tmp = num < 0.0 ? -num : num;
  char buf[64];
  if (tmp < 0.9995) {
    std::snprintf(buf, sizeof buf, "%4.3f %s", num, unit);
  } else if (tmp < 9.995) {
    std::snprintf(buf, sizeof buf, "%4.2f %s", num, unit);
  } else if (tmp < 99.95) {
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
  // iperf's reportstruct->packetID: the next datagram's id. A send that fails gives its id back
  // (Client.cpp RunUDP: packetID--), so the server sees no gap for it.
  int64_t packet_id = 1;
  for (uint64_t k = 0;; ++k) {
    if (opt_.count != 0 ? k >= opt_.count : (opt_.rate_bps != 0 ? slot(k) : cpu_.now()) >= end) break;
    const Instant at = slot(k);
    if (cpu_.now() < at) {
      co_await sleep(cpu_, at - cpu_.now());
    } else if (opt_.rate_bps != 0 && cpu_.now() > at) {
      ++st_.late;
    }
    write_udp_header(buf, packet_id, usec_of(cpu_.now()));
    uint64_t id = 0;
    const int r = co_await udp_.send(cpu_, *sk_, buf, 0, nullptr, &id);
    ids_.push_back(r >= 0 ? id : 0);
    if (r < 0) {
      ++st_.send_errors;
      st_.sent_report = static_cast<uint64_t>(packet_id - 1);  // reported (empty) with the id given back
      continue;
    }
    st_.sent_report = static_cast<uint64_t>(packet_id);
    ++packet_id;
    if (st_.datagrams == 0) st_.first_send = cpu_.now();
    ++st_.datagrams;
    st_.bytes += static_cast<uint64_t>(r);
    st_.last_send = cpu_.now();
  }
  // FinishTrafficActions: the end of the interval, then the FIN (the next id negated); iperf
  // reports it as one more datagram (its bytes in Transfer, its id the "Sent" count) when it went out.
  const Instant fin_time = cpu_.now();
  write_udp_header(buf, -packet_id, usec_of(fin_time));
  const int w0 = co_await udp_.send(cpu_, *sk_, buf, 0);
  if (w0 >= 0) {
    ++st_.fins;
    st_.fin_bytes = static_cast<uint64_t>(w0);
    st_.sent_report = static_cast<uint64_t>(packet_id);
  }
  const double t = iperf_time_difference(usec_of(fin_time), usec_of(t0));
  const auto [transfer, bw] = transfer_bandwidth(t, st_.bytes + st_.fin_bytes);
  out_ += "[ ID] Interval       Transfer     Bandwidth\n";
  out_ += fmt::format("{}{:4.4f}-{:4.4f} sec  {}s  {}s/sec\n", kId, 0.0, t, transfer, bw);
  out_ += fmt::format("[{:3}] Sent {} datagrams\n", 1, st_.sent_report);

  // AwaitServerFinPacket: wait for the server's ack (its report); at each timeout the FIN again,
  // its id one higher each time (WritePacketID(-(++packetID))).
  sk_->rcvtimeo = opt_.fin_timeout;
  std::vector<uint8_t> ack(std::max<std::size_t>(opt_.len, kIperfUdpHeaderLen + kServerHdrLen));
  for (int tries = 0; tries < opt_.fin_tries && !st_.server_report; ++tries) {
    if (tries > 0) {
      write_udp_header(buf, -(++packet_id), usec_of(cpu_.now()));
      const int w = co_await udp_.send(cpu_, *sk_, buf, 0);
      if (w >= 0) ++st_.fins;
    }
    const Instant until = cpu_.now() + opt_.fin_timeout;
    while (cpu_.now() < until) {
      const int r = co_await udp_.recv(cpu_, *sk_, ack, 0);
      if (r == -kEAGAIN) break;  // SO_RCVTIMEO: send the FIN again
      if (r < static_cast<int>(kIperfUdpHeaderLen + kServerHdrLen)) continue;  // an error or not an ack
      const std::span<const uint8_t> h(ack.data() + kIperfUdpHeaderLen, kServerHdrLen);
      if ((get32(h, 0) & kHeaderVersion1) == 0) continue;
      st_.server_report = true;
      // InitServerRelayUDPReport: whole seconds, then + microseconds / 1e6.
      st_.srv_bytes = uint64_t{get32(h, 4)} << 32 | get32(h, 8);
      st_.srv_duration_s = get32(h, 12);
      st_.srv_duration_s += get32(h, 16) / 1e6;
      st_.srv_lost = get32(h, 20);
      st_.srv_out_of_order = get32(h, 24);
      st_.srv_datagrams = get32(h, 28);
      st_.srv_jitter_s = get32(h, 32);
      st_.srv_jitter_s += get32(h, 36) / 1e6;
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
  // iperf's server reads with its own -l (Server.cpp: recvmsg into mBufLen, 1470 by default): a
  // longer datagram is cut to it and counts that many bytes. At least the header, to read the id.
  opt_.len = std::max<uint32_t>(opt_.len, kIperfUdpHeaderLen);
}

UdpReceiver::~UdpReceiver() {
  if (sk_ == nullptr) return;
  udp_.close(sk_);
}

void UdpReceiver::account(std::span<const uint8_t> d, int n, const RecvMeta& m, int64_t arr_us) {
  int64_t seq = static_cast<int64_t>(uint64_t{get32(d, 12)} << 32 | get32(d, 0));
  const int64_t sent_us = int64_t{get32(d, 4)} * 1'000'000 + get32(d, 8);
  const bool fin = static_cast<int32_t>(get32(d, 0)) < 0;
  if (fin) seq = -static_cast<int64_t>(static_cast<int32_t>(get32(d, 0)));  // the id made positive
  (fin ? st_.fin : arrivals_.emplace_back()) = {seq, sent_us, m.stamp, m.packet};
  ++st_.reads;
  // reporter_handle_packet_oneway_transit: RFC 3550 6.4.1's transit variation, transit the arrival
  // (us, as a timeval) less the header's send time, from transit.current.last = 0 (the first
  // datagram's transit counts whole) and over every datagram, the FIN too.
  const double transit = iperf_time_difference(arr_us, sent_us);
  st_.jitter_s = rfc3550_jitter_step(st_.jitter_s, transit, prev_transit_);
  prev_transit_ = transit;
  // reporter_handle_packet_server_udp: an id past the highest + 1 adds the gap, one below it counts
  // out of order; Lost is the gaps less the out-of-order arrivals (at least 0), Total the highest id.
  if (seq > st_.max_seq + 1) {
    st_.gaps += static_cast<uint64_t>(seq - st_.max_seq - 1);
  } else if (seq < st_.max_seq + 1) {
    ++st_.out_of_order;
  }
  st_.lost = st_.gaps > st_.out_of_order ? st_.gaps - st_.out_of_order : 0;
  st_.max_seq = std::max(st_.max_seq, seq);
  if (fin) {
    ++st_.fins;
    st_.fin_bytes = static_cast<uint64_t>(n);
    return;
  }
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

void UdpReceiver::fin_ack(const SockAddrIn& to, double end_s) {
  // write_UDP_AckFIN: the report goes back to the client, after a UDP_datagram header.
  std::vector<uint8_t> a(kIperfUdpHeaderLen + kServerHdrLen);
  write_udp_header(a, -st_.max_seq - 1, usec_of(cpu_.now()));
  const std::span<uint8_t> h(a.data() + kIperfUdpHeaderLen, kServerHdrLen);
  const uint64_t bytes = st_.report_bytes();
  put32(h, 0, kHeaderVersion1);
  put32(h, 4, static_cast<uint32_t>(bytes >> 32));
  put32(h, 8, static_cast<uint32_t>(bytes));
  put_seconds(h, 12, end_s);
  put32(h, 20, static_cast<uint32_t>(st_.lost));
  put32(h, 24, static_cast<uint32_t>(st_.out_of_order));
  put32(h, 28, static_cast<uint32_t>(st_.total()));
  put_seconds(h, 32, st_.jitter_s);
  (void)udp_.sendmsg(cpu_, *sk_, a, 0, &to);
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
    const Instant read_at = cpu_.now();
    if (opt_.read_cost > Duration{}) cpu_.charge(opt_.read_cost);  // what the application does with it
    if (n < static_cast<int>(kIperfUdpHeaderLen)) continue;         // not iperf's
    const std::span<const uint8_t> d(buf.data(), static_cast<std::size_t>(n));
    // The first datagram: iperf's listener reads it and takes the time then (accept_time): the
    // report's start and that datagram's arrival; the others arrive at their SO_TIMESTAMP.
    int64_t arr_us = usec_of(m.stamp);
    if (st_.reads == 0) {
      peer_ = m.from;
      st_.first = read_at;
      arr_us = usec_of(read_at);
      const NetStack::RouteOut rt = net_.route_output(m.from.addr);
      out_ += fmt::format("{}local {} port {} connected with {} port {}\n", kId, rt.saddr.str(), opt_.port,
                          m.from.addr.str(), m.from.port);
      out_ += "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams\n";
    }
    account(d, n, m, arr_us);
    if (st_.fins != 0) {  // the FIN: its id (one past the last datagram sent, or more) shows the losses at the end
      st_.last = m.stamp;
      break;
    }
  }
  // reporter_transfer_protocol_server_udp's total: from the start to the FIN; one datagram alone
  // has no jitter.
  const double t = iperf_time_difference(usec_of(st_.last), usec_of(st_.first));
  if (st_.reads == 1) st_.jitter_s = 0;
  fin_ack(peer_, t);
  out_ += jitter_loss_line(t, st_.report_bytes(), st_.jitter_s, st_.lost, st_.total());
  if (st_.out_of_order != 0)
    out_ += fmt::format("{}{:4.4f}-{:4.4f} sec  {} datagrams received out-of-order\n", kId, 0.0, t, st_.out_of_order);
  st_.finished = true;
}

// ------------------------------------------------------------------------------ netperf

namespace {

constexpr int kHistNumOfBucket = 100;  // src/hist.h HIST_NUM_OF_BUCKET

// C's (int) of a double on x86-64 (cvttsd2si): the truncation, or INT_MIN when it does not fit
// (NaN included), where C++ would leave it undefined.
int c_int(double x) {
  if (!(x > -2147483649.0 && x < 2147483648.0)) return std::numeric_limits<int>::min();
  return static_cast<int>(x);
}

// HIST_search_bucket: the running count carries over from decade to decade.
int hist_search_bucket(const int* unit, int num, int& last, int& current, double scale) {
  const int base = kHistNumOfBucket / 10;
  for (int i = 0; i < kHistNumOfBucket; ++i) {
    last = current;
    current += unit[i];
    if (current >= num) {
      // (num - last) / (current - last): 0 / 0 or a negative over 0 when the count was reached in
      // an earlier decade whose result was 0 (NaN or -inf in netperf's double: INT_MIN).
      if (current == last) return std::numeric_limits<int>::min();
      return c_int((i + static_cast<double>(num - last) / (current - last)) * scale / base);
    }
  }
  return 0;
}

}  // namespace

void NetperfHist::add(int us) {
  if (us < 0) {  // not counted (hoisted before the statistics, as netperf has it)
    ++ridiculous_;
    return;
  }
  if (total_ == 0) hmin_ = hmax_ = us;
  ++total_;
  sum_ += us;
  sumsquare_ += static_cast<double>(us) * static_cast<double>(us);  // pow(time_delta, 2): exact
  hmin_ = std::min(hmin_, us);
  hmax_ = std::max(hmax_, us);
  // In float, as HIST_add: val < 10 takes bucket (int)(val * 10) of the decade, else val /= 10.
  const int base = kHistNumOfBucket / 10;
  auto val = static_cast<float>(us);
  for (auto& row : rows_) {
    if (val < 10.0f) {
      ++row[static_cast<int>(val * static_cast<float>(base))];
      return;
    }
    val /= 10.0f;
  }
  ++ridiculous_;  // 100 s or more (in the total)
}

int NetperfHist::percentile(double p) const {
  const double win_kludge = p * static_cast<double>(total_);
  const int num = static_cast<int>(win_kludge);
  if (num == 0) return 0;
  int last = 0, current = 0;
  double scale = 1e0;
  for (const auto& row : rows_) {
    if (const int r = hist_search_bucket(row, num, last, current, scale); r != 0) return r;
    scale *= 10;
  }
  return static_cast<int>(1e8);
}

double NetperfHist::mean() const {
  return total_ != 0 ? static_cast<double>(sum_) / static_cast<double>(total_) : 0.0;
}

double NetperfHist::stddev() const {
  if (total_ == 0) return 0.0;
  const double n = total_;
  const auto sum = static_cast<double>(sum_);
  return std::sqrt((sumsquare_ * n - std::pow(sum, 2)) / std::pow(n, 2));
}

double UdpRrStats::mean_us() const {
  if (rtt_us.empty()) return 0;
  int64_t s = 0;
  for (int v : rtt_us) s += v;
  return static_cast<double>(s) / static_cast<double>(rtt_us.size());
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
    // HIST_timestamp_stop_add: delta_micro of the two gettimeofday timevals.
    const auto us = static_cast<int>(usec_of(cpu_.now()) - usec_of(t));
    st_.rtt_us.push_back(us);
    hist.add(us);
    ++st_.transactions;
    ids_.push_back({id, m.packet});
  }
  st_.end = cpu_.now();
  // -o min_latency,mean_latency,p50_latency,p90_latency,p99_latency,max_latency,stddev_latency,
  //    transaction_rate,request_size,response_size
  // HIST_get_stats and HIST_get_percentile over the histogram; printf's %.2f for the doubles.
  char mean[64], sd[64];
  std::snprintf(mean, sizeof mean, "%.2f", hist.mean());
  std::snprintf(sd, sizeof sd, "%.2f", hist.stddev());
  const double el = secs(st_.end - st_.first);
  out_ += "Minimum Latency Microseconds,Mean Latency Microseconds,50th Percentile Latency Microseconds,"
          "90th Percentile Latency Microseconds,99th Percentile Latency Microseconds,Maximum Latency Microseconds,"
          "Stddev Latency Microseconds,Transaction Rate Tran/s,Request Size Bytes,Response Size Bytes\n";
  out_ += fmt::format("{},{},{},{},{},{},{},{:.3f},{},{}\n", hist.min(), mean, hist.percentile(0.50),
                      hist.percentile(0.90), hist.percentile(0.99), hist.max(), sd,
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

// PingApp: iputils ping (20221126) over the model's ping socket (ping/ping.c, ping/ping_common.c).
#include "vnic/stack/apps/ping_app.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>

#include <fmt/format.h>

#include "vnic/stack/icmp.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/ping.hpp"
#include "vnic/stack/wire/checksum.hpp"
#include "vnic/stack/wire/endian.hpp"
#include "vnic/stack/wire/icmp.hpp"

namespace vnic::stack {

namespace {

constexpr int kMinInterval = 10;  // MININTERVAL (ms)
constexpr int kMaxWait = 10;      // MAXWAIT (s): the default linger
constexpr std::size_t kTimevalLen = 16;  // struct timeval on x86-64
constexpr int kEnobufs = 105, kEnomem = 12, kEagain = 11;

int schint(int a) { return a <= kMinInterval ? kMinInterval : a; }  // SCHINT

// gettimeofday(): the model's clock, from 0, in whole microseconds.
int64_t usec_of(Instant t) { return t.ps() / 1'000'000; }

const char* strerror_text(int e) {
  switch (e) {
    case 101: return "Network is unreachable";
    case 113: return "No route to host";
    case 13: return "Permission denied";
    case 22: return "Invalid argument";
    case 90: return "Message too long";
    case 105: return "No buffer space available";
    case 100: return "Network is down";
    case 12: return "Cannot allocate memory";
    case 11: return "Resource temporarily unavailable";
    case 95: return "Operation not supported";
    case 19: return "No such device";
    default: return "Unknown error";
  }
}

}  // namespace

std::string iputils_time(long t) {
  if (t >= 100000 - 50) return fmt::format(" time={} ms", (t + 500) / 1000);
  if (t >= 10000 - 5) return fmt::format(" time={}.{:01} ms", (t + 50) / 1000, ((t + 50) % 1000) / 100);
  if (t >= 1000) return fmt::format(" time={}.{:02} ms", (t + 5) / 1000, ((t + 5) % 1000) / 10);
  return fmt::format(" time={}.{:03} ms", t / 1000, t % 1000);
}

long iputils_llsqrt(long long a) {
  long long prev = LLONG_MAX;
  long long x = a;
  if (x > 0) {
    while (x < prev) {
      prev = x;
      x = (x + (a / x)) / 2;
    }
  }
  return static_cast<long>(x);
}

std::string iputils_finish(const PingStats& s, std::string_view host, Duration elapsed, bool timing) {
  std::string out = fmt::format("\n--- {} ping statistics ---\n", host);
  out += fmt::format("{} packets transmitted, {} received", s.transmitted, s.received);
  if (s.repeats != 0) out += fmt::format(", +{} duplicates", s.repeats);
  if (s.checksum != 0) out += fmt::format(", +{} corrupted", s.checksum);
  if (s.errors != 0) out += fmt::format(", +{} errors", s.errors);
  if (s.transmitted != 0) {
    // printf("%g%%") of a float: loss in percent, six significant digits.
    const auto tx = static_cast<long long>(s.transmitted);
    const auto rx = static_cast<long long>(s.received);
    const float loss = static_cast<float>((static_cast<double>(tx - rx) * 100.0) / static_cast<double>(tx));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(loss));
    out += fmt::format(", {}% packet loss", buf);
    const int64_t ns = elapsed.ps() / 1000;
    const int64_t sec = ns / 1'000'000'000, nsec = ns % 1'000'000'000;
    out += fmt::format(", time {}ms", 1000 * sec + (nsec + 500000) / 1000000);
  }
  out += "\n";
  const char* comma = "";
  if (s.received != 0 && timing) {
    const long total = static_cast<long>(s.received + s.repeats);
    const long tmavg = static_cast<long>(s.tsum / static_cast<double>(total));
    long long tmvar;
    if (s.tsum < static_cast<double>(INT_MAX))
      // "This slightly clumsy computation order is important to avoid integer rounding errors
      // for small ping times."
      tmvar = static_cast<long long>((s.tsum2 - ((s.tsum * s.tsum) / static_cast<double>(total))) / static_cast<double>(total));
    else
      tmvar = static_cast<long long>((s.tsum2 / static_cast<double>(total)) - static_cast<double>(tmavg * tmavg));
    const long tmdev = iputils_llsqrt(tmvar);
    out += fmt::format("rtt min/avg/max/mdev = {}.{:03}/{}.{:03}/{}.{:03}/{}.{:03} ms", s.tmin / 1000, s.tmin % 1000,
                       static_cast<unsigned long>(tmavg / 1000), tmavg % 1000, s.tmax / 1000, s.tmax % 1000,
                       tmdev / 1000, tmdev % 1000);
    comma = ", ";
  }
  if (s.pipesize > 1) out += fmt::format("{}pipe {}", comma, s.pipesize);
  out += "\n";
  return out;
}

std::string iputils_pr_icmph(uint8_t type, uint8_t code, uint32_t info) {
  switch (type) {
    case 0: return "Echo Reply\n";
    case 3:
      switch (code) {
        case 0: return "Destination Net Unreachable\n";
        case 1: return "Destination Host Unreachable\n";
        case 2: return "Destination Protocol Unreachable\n";
        case 3: return "Destination Port Unreachable\n";
        case 4: return fmt::format("Frag needed and DF set (mtu = {})\n", info);
        case 5: return "Source Route Failed\n";
        case 6: return "Destination Net Unknown\n";
        case 7: return "Destination Host Unknown\n";
        case 8: return "Source Host Isolated\n";
        case 9: return "Destination Net Prohibited\n";
        case 10: return "Destination Host Prohibited\n";
        case 11: return "Destination Net Unreachable for Type of Service\n";
        case 12: return "Destination Host Unreachable for Type of Service\n";
        case 13: return "Packet filtered\n";
        case 14: return "Precedence Violation\n";
        case 15: return "Precedence Cutoff\n";
        default: return fmt::format("Dest Unreachable, Bad Code: {}\n", code);
      }
    case 4: return "Source Quench\n";
    case 5: {
      std::string s;
      switch (code) {
        case 0: s = "Redirect Network"; break;
        case 1: s = "Redirect Host"; break;
        case 2: s = "Redirect Type of Service and Network"; break;
        case 3: s = "Redirect Type of Service and Host"; break;
        default: s = fmt::format("Redirect, Bad Code: {}", code); break;
      }
      return s + fmt::format("(New nexthop: {})\n", wire::Ipv4Addr::from_u32(info).str());
    }
    case 8: return "Echo Request\n";
    case 11:
      switch (code) {
        case 0: return "Time to live exceeded\n";
        case 1: return "Frag reassembly time exceeded\n";
        default: return fmt::format("Time exceeded, Bad Code: {}\n", code);
      }
    case 12: return fmt::format("Parameter problem: pointer = {}\n", info);
    case 13: return "Timestamp\n";
    case 14: return "Timestamp Reply\n";
    case 15: return "Information Request\n";
    case 16: return "Information Reply\n";
    case 17: return "Address Mask Request\n";
    case 18: return "Address Mask Reply\n";
    default: return fmt::format("Bad ICMP type: {}\n", type);
  }
}

// ------------------------------------------------------------------------------ the program

PingApp::PingApp(NetStack& net, Icmp& icmp, Cpu& cpu, PingOptions opt)
    : net_(net), icmp_(icmp), cpu_(cpu), opt_(std::move(opt)), rcvd_(0x10000, false) {
  host_ = opt_.host.empty() ? opt_.dst.str() : opt_.host;
  if (opt_.interval_ms < 1) opt_.interval_ms = 1;  // flood mode (-f, -i 0) is not modelled
}

PingApp::~PingApp() {
  if (sk_ != nullptr) icmp_.ping().close(sk_);
}

void PingApp::interrupt() {
  exiting_ = true;  // sigexit
  if (sk_ != nullptr) icmp_.ping().interrupt(*sk_);
}

uint16_t PingApp::ident() const { return sk_ != nullptr ? sk_->ident : 0; }

int PingApp::in_flight() const {
  const uint16_t diff = static_cast<uint16_t>(static_cast<uint16_t>(st_.transmitted) - acked_);
  return diff <= 0x7FFF ? diff : static_cast<int>(st_.transmitted - st_.received - st_.errors);
}

void PingApp::acknowledge(uint16_t seq) {
  const uint16_t diff = static_cast<uint16_t>(static_cast<uint16_t>(st_.transmitted) - seq);
  if (diff <= 0x7FFF) {
    if (static_cast<int>(diff) + 1 > st_.pipesize) st_.pipesize = static_cast<int>(diff) + 1;
    if (static_cast<int16_t>(seq - acked_) > 0 ||
        static_cast<uint16_t>(static_cast<uint16_t>(st_.transmitted) - acked_) > 0x7FFF)
      acked_ = seq;
  }
}

void PingApp::advance_ntransmitted() {
  ++st_.transmitted;
  if (static_cast<uint16_t>(static_cast<uint16_t>(st_.transmitted) - acked_) > 0x7FFF)
    acked_ = static_cast<uint16_t>(static_cast<uint16_t>(st_.transmitted) + 1);
}

// pinger(): the send timing of ping_common.c (preload 1: one token per interval).
int PingApp::pinger() {
  const int interval = opt_.interval_ms;
  if (exiting_ || (opt_.count != 0 && st_.transmitted >= opt_.count && opt_.deadline_s == 0)) return 1000;
  const Instant now = cpu_.now();
  if (!have_cur_time_) {
    have_cur_time_ = true;
    cur_time_ = now;
    tokens_ = 0;  // interval * (preload - 1)
  } else {
    // (tv_sec diff) * 1000 + (tv_nsec diff) / 1000000, as ping computes it from two timespecs.
    const int64_t a = cur_time_.ps() / 1000, b = now.ps() / 1000;
    long ntokens = static_cast<long>((b / 1'000'000'000 - a / 1'000'000'000) * 1000 +
                                     (b % 1'000'000'000 - a % 1'000'000'000) / 1'000'000);
    ntokens += tokens_;
    const long tmp = static_cast<long>(interval);  // interval * preload
    if (tmp < ntokens) ntokens = tmp;
    if (ntokens < interval) return static_cast<int>(interval - ntokens);
    cur_time_ = now;
    tokens_ = ntokens - interval;
  }

  // ping4_send_probe: sequence ntransmitted + 1, the send time in the first 16 data bytes.
  const uint16_t seq = static_cast<uint16_t>(st_.transmitted + 1);
  rcvd_[seq] = false;  // rcvd_clear
  if (timing_) {
    const int64_t us = usec_of(cpu_.now());
    for (int i = 0; i < 8; ++i) {
      pattern_[static_cast<std::size_t>(i)] = static_cast<uint8_t>(static_cast<uint64_t>(us / 1'000'000) >> (8 * i));
      pattern_[static_cast<std::size_t>(8 + i)] = static_cast<uint8_t>(static_cast<uint64_t>(us % 1'000'000) >> (8 * i));
    }
  }
  uint64_t id = 0;
  const int err = icmp_.ping().sendmsg(cpu_, *sk_, opt_.dst, seq, pattern_, &id);
  if (id != 0) req_ids_.push_back(id);
  if (err == 0) {
    oom_count_ = 0;
    advance_ntransmitted();
    return static_cast<int>(interval - tokens_);
  }
  ++st_.send_failures;
  int i = err;
  const int e = -err;
  if (e == kEnobufs || e == kEnomem) {
    // Device queue overflow or OOM: slow down; a hard error once past the linger time.
    tokens_ = 0;
    int nores_interval = schint(interval / 2);
    if (nores_interval > 500) nores_interval = 500;
    ++oom_count_;
    const int lingertime = opt_.timeout_s != 0 ? static_cast<int>(opt_.timeout_s) * 1000 : kMaxWait * 1000;
    if (oom_count_ * nores_interval < lingertime) return nores_interval;
    i = 0;
  } else if (e == kEagain) {
    tokens_ += interval;
    return kMinInterval;
  } else {
    i = receive_error_msg();
    if (i > 0) i = 0;  // an ICMP error arrived meanwhile: report the send error as a hard one
  }
  // hard_local_error: pretend we sent it.
  advance_ntransmitted();
  if (i == 0) out_ += fmt::format("ping: sendmsg: {}\n", strerror_text(e));
  tokens_ = 0;
  return schint(interval);
}

// __schedule_exit: once count probes are out (and no deadline), the alarm for the last wait:
// two of the longest round trip (at least one interval) if anything came back, else the linger.
int PingApp::schedule_exit(int next) {
  if (opt_.count == 0 || st_.transmitted < opt_.count || opt_.deadline_s != 0) return next;
  static_assert(sizeof(long) >= 8);
  if (waittime_set_) return next;
  unsigned long waittime;
  if (st_.received != 0) {
    waittime = 2 * static_cast<unsigned long>(st_.tmax);
    if (waittime < 1000 * static_cast<unsigned long>(opt_.interval_ms)) waittime = 1000 * static_cast<unsigned long>(opt_.interval_ms);
  } else {
    const unsigned long linger_ms = opt_.timeout_s != 0 ? opt_.timeout_s * 1000ul : kMaxWait * 1000ul;
    waittime = linger_ms * 1000;
  }
  waittime_set_ = true;
  if (next < 0 || static_cast<unsigned long>(next) < waittime / 1000) next = static_cast<int>(waittime / 1000);
  exit_at_ = cpu_.now() + Duration::us(static_cast<int64_t>(waittime));
  exit_armed_ = true;
  return next;
}

// ping4_receive_error_msg: one entry of the error queue.
int PingApp::receive_error_msg() {
  const auto e = icmp_.ping().recv_errqueue(cpu_, *sk_);
  if (!e) return -1;  // EAGAIN: a local error
  if (e->target != opt_.dst || e->quoted_type != static_cast<uint8_t>(wire::IcmpType::EchoRequest))
    return 0;  // not our error
  acknowledge(e->quoted_seq);
  ++st_.errors;
  out_ += fmt::format("From {} icmp_seq={} ", e->offender.str(), e->quoted_seq);
  out_ += iputils_pr_icmph(e->ee_type, e->ee_code, e->ee_info);
  return 1;
}

// ping4_parse_reply + gather_statistics for an echo reply read from the ping socket.
void PingApp::parse_reply(const PingMsg& m) {
  const int cc = static_cast<int>(m.icmp.size());
  if (cc < static_cast<int>(wire::kIcmpHeaderLen)) return;
  const bool csfailed = !wire::checksum_ok(m.icmp);
  if (m.icmp[0] != static_cast<uint8_t>(wire::IcmpType::EchoReply)) return;
  const uint16_t seq = wire::load_be16(m.icmp, 6);
  const bool wrong_source = m.from != opt_.dst;

  ++st_.received;
  if (!csfailed) acknowledge(seq);
  long triptime = 0;
  if (timing_ && cc >= static_cast<int>(wire::kIcmpHeaderLen + kTimevalLen)) {
    uint64_t sec = 0, usec = 0;
    for (int i = 0; i < 8; ++i) {
      sec |= uint64_t{m.icmp[8 + static_cast<std::size_t>(i)]} << (8 * i);
      usec |= uint64_t{m.icmp[16 + static_cast<std::size_t>(i)]} << (8 * i);
    }
    // tvsub(recv, sent) with SO_TIMESTAMP's receive time.
    const int64_t recv_us = usec_of(m.stamp != Instant{} ? m.stamp : cpu_.now());
    triptime = static_cast<long>(recv_us - (static_cast<int64_t>(sec) * 1'000'000 + static_cast<int64_t>(usec)));
    if (triptime < 0) triptime = 0;  // "time of day goes back": not on the model's clock
    if (!csfailed) {
      st_.tsum += static_cast<double>(triptime);
      st_.tsum2 += static_cast<double>(static_cast<long long>(triptime) * static_cast<long long>(triptime));
      st_.tmin = std::min(st_.tmin, triptime);
      st_.tmax = std::max(st_.tmax, triptime);
      rtt_ = rtt_ == 0 ? static_cast<int>(triptime * 8) : rtt_ + static_cast<int>(triptime - rtt_ / 8);
      st_.rtts_us.push_back(triptime);
    }
  }
  bool dupflag = false;
  if (csfailed) {
    ++st_.checksum;
    --st_.received;
  } else if (rcvd_[seq]) {
    ++st_.repeats;
    --st_.received;
    dupflag = true;
  } else {
    rcvd_[seq] = true;
  }

  out_ += fmt::format("{} bytes from {}: icmp_seq={}", cc, m.from.str(), seq);
  if (m.ttl >= 0) out_ += fmt::format(" ttl={}", m.ttl);
  if (static_cast<std::size_t>(cc) < opt_.size + 8) {
    out_ += " (truncated)\n";
    return;
  }
  if (timing_) out_ += iputils_time(triptime);
  if (dupflag) out_ += " (DUP!)";
  if (csfailed) out_ += " (BAD CHECKSUM!)";
  if (wrong_source) out_ += " (DIFFERENT ADDRESS!)";
  // Check the data after the timestamp.
  for (std::size_t i = kTimevalLen; i < opt_.size; ++i) {
    const uint8_t got = m.icmp[8 + i], want = pattern_[i];
    if (got != want) {
      out_ += fmt::format("\nwrong data byte #{} should be 0x{:x} but was 0x{:x}", i, want, got);
      for (std::size_t j = kTimevalLen; j < opt_.size; ++j) {
        if (j % 32 == kTimevalLen) out_ += fmt::format("\n#{}\t", j);
        out_ += fmt::format("{:x} ", m.icmp[8 + j]);
      }
      break;
    }
  }
  out_ += "\n";
}

std::string PingApp::finish() {
  const Duration elapsed = have_cur_time_ ? cur_time_ - start_time_ : Duration{};
  return iputils_finish(st_, host_, elapsed, timing_);
}

Co<void> PingApp::run() {
  if (cpu_.now() < opt_.start) co_await sleep(cpu_, opt_.start - cpu_.now());

  // ping4_run: a UDP socket connect()ed to the target finds the source address; no route ends
  // the program ("ping: connect: Network is unreachable", exit 2).
  const NetStack::RouteOut rt = net_.route_output(opt_.dst);
  if (rt.err != 0) {
    // __ip4_datagram_connect counts a missing route in OutNoRoutes, as sendmsg would.
    if (rt.err == -101) ++net_.ip_mib().OutNoRoutes;
    ++st_.send_failures;
    out_ += fmt::format("ping: connect: {}\n", strerror_text(-rt.err));
    st_.exit_code = 2;
    st_.finished = true;
    co_return;
  }
  if (rt.type == RouteType::Broadcast) {
    ++st_.send_failures;
    out_ += "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n";
    st_.exit_code = 2;
    st_.finished = true;
    co_return;
  }
  sk_ = icmp_.ping().socket();
  sk_->recverr = true;  // IP_RECVERR
  sk_->ttl = opt_.ttl;  // IP_TTL
  // sock_setbufs: SO_RCVBUF of max(65536, estimate * preload), doubled by the kernel.
  {
    int hold = static_cast<int>(opt_.size) + 8;
    hold += ((hold + 511) / 512) * (0 + 20 + 16 + 64 + 160);
    sk_->rcvbuf = 2u * static_cast<uint32_t>(std::max(hold, 65536));
  }
  if (opt_.ident != 0 && icmp_.ping().bind(*sk_, opt_.ident) != 0) {
    out_ += "ping: bind: Address already in use\n";
    st_.exit_code = 2;
    st_.finished = true;
    co_return;
  }
  timing_ = opt_.size >= kTimevalLen;
  out_ += fmt::format("PING {} ({}) {}({}) bytes of data.\n", host_, opt_.dst.str(), opt_.size, opt_.size + 8 + 20);

  // setup(): the data pattern, the start time, the deadline's alarm.
  pattern_.resize(opt_.size);
  for (std::size_t i = 0; i < opt_.size; ++i) pattern_[i] = static_cast<uint8_t>(i);
  start_time_ = cpu_.now();
  if (opt_.deadline_s != 0) {
    exit_at_ = start_time_ + Duration::s(opt_.deadline_s);
    exit_armed_ = true;
  }

  // main_loop: send what is due, wait for a reply, an error or the next send, read what came.
  for (;;) {
    if (exiting_) break;
    if (opt_.count != 0 && st_.received + st_.errors >= opt_.count) break;
    if (opt_.deadline_s != 0 && st_.errors != 0) break;
    int next;
    do {
      next = pinger();
      next = schedule_exit(next);
    } while (next <= 0);
    Instant until = cpu_.now() + Duration::ms(next);
    if (exit_armed_ && exit_at_ < until) until = exit_at_;
    co_await icmp_.ping().wait(cpu_, *sk_, until);
    if (exit_armed_ && cpu_.now() >= exit_at_) exiting_ = true;  // SIGALRM
    // Read what is there: a pending socket error first (recvmsg fails with it), then replies,
    // until nothing is in flight or the socket is empty.
    for (;;) {
      if (!sk_->error_queue.empty()) {
        receive_error_msg();
      } else if (auto m = icmp_.ping().recvmsg(cpu_, *sk_)) {
        parse_reply(*m);
      } else {
        break;
      }
      if (in_flight() == 0) break;
    }
  }
  out_ += finish();
  st_.exit_code = (st_.received == 0 || (opt_.deadline_s != 0 && st_.received < opt_.count)) ? 1 : 0;
  st_.finished = true;
}

}  // namespace vnic::stack

// TCP checked against theory at the scenario level (docs/tcp.md, "Checked against theory"): the
// whole model (applications, TCP, IP, qdisc, driver, NIC, link) against
//   - Mathis et al. (1997) for Reno under random loss: throughput = MSS / (RTT sqrt(2p/3));
//   - RFC 9438's CUBIC window after one loss: W(t) = C (t - K)^3 + W_max, with the Reno-friendly
//     estimate where that is larger (as Linux's bictcp_update), and receive-buffer autotuning;
//   - a bottleneck router: pfifo_fast's standing queue against fq_codel's (builtin:tcp-bufferbloat);
//   - a 10 Gb/s bulk flow against what the link carries after the headers.
// Each TEST is its own process (one Platform each); the bulk flows are the test's own tasks on the
// hosts' application cores (socket, connect, send / accept, recv), so that the test holds both
// sockets and can read them while the flow runs.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/sch_fq_codel.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::DriverHost;
using vnic::tb::Platform;
using vnic::tb::Scenario;
namespace stack = vnic::stack;
namespace model = vnic::model;
using model::TraceKind;
using stack::Duration;
using stack::LinuxMib;

constexpr double kMss = 1448;            // 1500 - 20 (IP) - 20 (TCP) - 12 (timestamps)
constexpr double kWireBytes = 1538;      // 8 preamble+SFD, 14 Ethernet, 1500, 4 FCS, 12 IFG
constexpr uint16_t kPort = 5001;

double seconds(stack::Instant t) { return static_cast<double>(t.ps()) * 1e-12; }
// From now to simulated time t (s), or nothing if that has passed.
stack::Duration until(stack::Cpu& cpu, double t) {
  const int64_t d = static_cast<int64_t>(t * 1e12) - cpu.now().ps();
  return Duration::ps(std::max<int64_t>(d, 0));
}

// What the sender's counters said at one instant.
struct Snap {
  double t = 0;
  uint64_t bytes_acked = 0;
  uint64_t segs_out = 0;
  uint64_t retrans = 0;
  uint64_t timeouts = 0, recoveries = 0, tlp_recoveries = 0;
};

// A bulk flow a -> dst: the receiver on dst's application core, the sender on a's; the sender
// writes 128 KiB blocks from `start` until `end` (then closes); a sampler on a's application core
// reads both sockets every `sample` from `warm` to `end`.
struct Bulk {
  // set up
  double start = 0.002, warm = 0, end = 0, sample = 0.01;
  stack::Ipv4Addr dst{};
  // results
  stack::TcpSock* snd = nullptr;
  stack::TcpSock* rcv = nullptr;
  int connect_rc = 1;
  uint64_t received = 0;
  Snap at_warm, at_end;
  struct Sample {
    double t;
    uint64_t bytes_acked;
    uint32_t cwnd, srtt_us, rcvbuf;
  };
  std::vector<Sample> samples;
  double srtt_sum_us = 0;
  uint64_t srtt_n = 0;
  uint16_t snd_port = 0;
  std::function<void()> on_warm, on_end;  // called at `warm` and `end` (the test's own snapshots)

  Snap snap(const stack::Tcp& tcp, stack::Cpu& cpu) const {
    Snap s;
    s.t = seconds(cpu.now());
    s.bytes_acked = snd->bytes_acked;
    s.segs_out = snd->data_segs_out;
    s.retrans = snd->total_retrans;
    const auto& x = tcp.ext();
    s.timeouts = x[LinuxMib::TCPTimeouts];
    s.recoveries = x[LinuxMib::TCPSackRecovery] + x[LinuxMib::TCPRenoRecovery];
    s.tlp_recoveries = x[LinuxMib::TCPLossProbeRecovery];
    return s;
  }
  // Payload bytes a second the receiver got, in order, over [warm, end].
  double goodput_Bps() const { return static_cast<double>(at_end.bytes_acked - at_warm.bytes_acked) / (at_end.t - at_warm.t); }
};

stack::Co<void> bulk_server(stack::Tcp& tcp, stack::Cpu& cpu, Bulk& b) {
  stack::TcpSock* l = tcp.socket();
  tcp.bind(*l, {stack::Ipv4Addr::any(), kPort});
  tcp.listen(*l, 16);
  b.rcv = co_await tcp.accept_wait(cpu, *l);
  std::vector<uint8_t> buf(128 * 1024);
  for (;;) {
    const int n = co_await tcp.recv(cpu, *b.rcv, buf);
    if (n <= 0) break;
    b.received += static_cast<uint64_t>(n);
  }
  tcp.close(cpu, b.rcv);
  b.rcv = nullptr;
  tcp.close(cpu, l);
}

stack::Co<void> bulk_client(stack::Tcp& tcp, stack::Cpu& cpu, Bulk& b) {
  co_await stack::sleep(cpu, until(cpu, b.start));
  stack::TcpSock* sk = tcp.socket();
  b.connect_rc = co_await tcp.connect_wait(cpu, *sk, {b.dst, kPort});
  if (b.connect_rc != 0) co_return;
  b.snd = sk;
  b.snd_port = sk->num;
  std::vector<uint8_t> buf(128 * 1024, 0x5a);
  while (seconds(cpu.now()) < b.end + 0.002) {  // the sampler's last look is at `end`
    if (co_await tcp.send(cpu, *sk, buf) <= 0) break;
  }
  b.snd = nullptr;
  tcp.close(cpu, sk);
}

stack::Co<void> bulk_sampler(stack::Tcp& tcp, stack::Cpu& cpu, Bulk& b) {
  co_await stack::sleep(cpu, until(cpu, b.warm));
  while (b.snd == nullptr && b.connect_rc == 1) co_await stack::sleep(cpu, Duration::ms(1));  // connecting
  if (b.snd == nullptr) co_return;
  b.at_warm = b.snap(tcp, cpu);
  if (b.on_warm) b.on_warm();
  for (double t = b.warm; t < b.end - 1e-9;) {
    t = std::min(b.end, t + b.sample);
    co_await stack::sleep(cpu, until(cpu, t));
    if (b.snd == nullptr) co_return;
    b.samples.push_back({seconds(cpu.now()), b.snd->bytes_acked, b.snd->snd_cwnd, b.snd->srtt_us >> 3,
                         b.rcv != nullptr ? b.rcv->rcvbuf : 0});
    b.srtt_sum_us += static_cast<double>(b.snd->srtt_us >> 3);
    ++b.srtt_n;
  }
  b.at_end = b.snap(tcp, cpu);
  if (b.on_end) b.on_end();
}

// Starts the three tasks (before Platform::run).
void start_bulk(Platform& pf, Bulk& b, const std::string& to = "b") {
  DriverHost& a = pf.driver_host("a");
  DriverHost& d = pf.driver_host(to);
  b.dst = d.config().nics[0].address->addr;
  stack::Cpu& acpu = a.cpu(static_cast<unsigned>(a.cpus().size() - 1));
  stack::Cpu& dcpu = d.cpu(static_cast<unsigned>(d.cpus().size() - 1));
  d.spawn(bulk_server(d.tcp(), dcpu, b));
  a.spawn(bulk_client(a.tcp(), acpu, b));
  a.spawn(bulk_sampler(a.tcp(), acpu, b));
}

// The simulated CPUs' busy share per host, as `cpu.txt` prints it.
std::string cpu_profile(Platform& pf) {
  std::string out;
  for (unsigned i = 0; i < pf.num_hosts(); ++i) {
    for (const auto& v : pf.host_views(i)) {
      if (v.file == "cpu.txt") out += fmt::format("host {}:\n{}", pf.host(i).host_name(), v.text);
    }
  }
  return out;
}

// The TcpCwnd counter track (one event per ACK) of one host's TCP.
class CwndSink final : public model::TraceSink {
 public:
  struct Ev {
    double t;
    uint16_t port;
    uint32_t cwnd, ssthresh, srtt_us;
  };
  void trace(const char*, const model::TraceEvent& e) override {
    if (e.kind != TraceKind::TcpCwnd) return;
    ev.push_back({static_cast<double>(e.t_ps) * 1e-12, e.lane, e.a, static_cast<uint32_t>(e.b >> 32),
                  static_cast<uint32_t>(e.b & 0xFFFFFFFFu)});
  }
  std::vector<Ev> ev;
};

// ------------------------------------------------------------------------------ Reno and Mathis

// Two hosts, 10 Gb/s, RTT r (r/2 each way on the link), Reno, random loss p per frame on the data
// direction only (a -> b; the ACKs are not lost). The flow never fills the link (the largest rate
// here is 0.65 Gb/s); the buffers are Linux's defaults (tcp_rmem[2] 6 MiB: a window of 3 MiB,
// tcp_wmem[2] 4 MiB), far above the ~0.2 MB the largest window here reaches (about twice the
// mean), so neither the link nor a buffer limits the flow: the loss does. Timeouts must stay
// rare (at most one loss event in 20; none happen at these points): fast recovery sets the pace.
//
// What the model gives against the formula with the nominal r (docs/tcp.md has the table): 0.98
// to 1.06. Against the measured srtt (r plus the hosts' ~70 us: interrupt moderation, the stack)
// 1.07 to 1.09: a few per cent above, as expected from where the model differs from Mathis's
// assumptions, none of them a fudge:
//   - random (Bernoulli) loss instead of one loss every 1/p packets: the windows at which losses
//     come vary, and the mean rate of AIMD under random loss is higher (Ott, Kemperman and
//     Mathis 1996: a constant of about 1.31 in place of sqrt(3/2) = 1.22, +7 %);
//   - SACK recovery with PRR keeps sending during recovery, where the formula's sawtooth has the
//     window halve at once;
//   - two losses in one window are one loss event (one halving): the event rate is 5 to 15 %
//     below p (printed; with it the ratio is 0.89 to 1.01);
//   - delayed ACKs do not slow the growth: Linux's tcp_cong_avoid_ai counts the segments an ACK
//     covers, so the formula's b = 1 form holds (Mathis's sqrt(3/(2b)) with b = 2 would predict
//     29 % less).
struct MathisPoint {
  const char* name;
  double rtt_s, p;
};

void PrintTo(const MathisPoint& p, std::ostream* os) { *os << p.name; }

class RenoMathis : public ::testing::TestWithParam<MathisPoint> {};

TEST_P(RenoMathis, ThroughputFollowsMssOverRttSqrt2pOver3) {
  const MathisPoint pt = GetParam();
  const double predicted = kMss / (pt.rtt_s * std::sqrt(2 * pt.p / 3));  // bytes/s
  const double pkts = predicted / kMss;
  // ~20 loss events to settle, then ~240 measured (one per 1/p segments sent; a few of them fall in
  // one window and make one loss event, so ~210-230 events).
  const double per_event = 1.0 / (pt.p * pkts);
  Bulk b;
  b.warm = 0.05 + 20 * per_event;
  b.end = b.warm + 240 * per_event;
  b.sample = 0.01;
  const std::string toml = fmt::format(R"([scenario]
name = "mathis-{}"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.b]
frames = 0
[sysctl]
tcp_congestion_control = "reno"
[link]
propagation_ns = {}
drop_rate = {}
fault_direction = "a_to_b"
)",
                                       pt.name, static_cast<int64_t>(pt.rtt_s / 2 * 1e9), pt.p);
  Scenario s = vnic::tb::testing::resolve(toml);
  Platform pf(s);
  start_bulk(pf, b);
  pf.run();
  ASSERT_EQ(b.connect_rc, 0);
  ASSERT_GT(b.at_end.t, b.at_warm.t);
  const double got = b.goodput_Bps();
  const uint64_t segs = b.at_end.segs_out - b.at_warm.segs_out;
  const uint64_t events = (b.at_end.recoveries - b.at_warm.recoveries) + (b.at_end.timeouts - b.at_warm.timeouts) +
                          (b.at_end.tlp_recoveries - b.at_warm.tlp_recoveries);
  const uint64_t rtos = b.at_end.timeouts - b.at_warm.timeouts;
  const double srtt = b.srtt_sum_us / static_cast<double>(std::max<uint64_t>(1, b.srtt_n)) * 1e-6;
  const auto& dir = pf.link().stats(0);
  const double p_seen = static_cast<double>(dir.dropped_fault) / static_cast<double>(std::max<uint64_t>(1, dir.frames));
  const double p_event = static_cast<double>(events) / static_cast<double>(std::max<uint64_t>(1, segs));
  std::printf("mathis %s: r %.1f ms p %.4f: goodput %.1f Mb/s, predicted %.1f Mb/s (ratio %.3f); srtt %.3f ms "
              "(with it: %.1f Mb/s, ratio %.3f); %.1f s measured, %llu segments, %llu loss events (%llu RTOs), "
              "loss-event rate %.5f (frames lost a->b %.5f); with p = the event rate: ratio %.3f\n",
              pt.name, pt.rtt_s * 1e3, pt.p, got * 8e-6, predicted * 8e-6, got / predicted, srtt * 1e3,
              kMss / (srtt * std::sqrt(2 * pt.p / 3)) * 8e-6, got / (kMss / (srtt * std::sqrt(2 * pt.p / 3))),
              b.at_end.t - b.at_warm.t, static_cast<unsigned long long>(segs), static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(rtos), p_event, p_seen,
              got / (kMss / (pt.rtt_s * std::sqrt(2 * p_event / 3))));
  EXPECT_GE(events, 180u);
  EXPECT_LE(rtos * 20, events) << "timeouts, not fast recovery, set the pace";
  EXPECT_NEAR(got / predicted, 1.0, 0.25);
}

INSTANTIATE_TEST_SUITE_P(Points, RenoMathis,
                         ::testing::Values(MathisPoint{"r1ms_p0005", 0.001, 0.0005}, MathisPoint{"r1ms_p001", 0.001, 0.001},
                                           MathisPoint{"r1ms_p005", 0.001, 0.005}, MathisPoint{"r5ms_p0005", 0.005, 0.0005},
                                           MathisPoint{"r5ms_p001", 0.005, 0.001}, MathisPoint{"r5ms_p005", 0.005, 0.005}),
                         [](const ::testing::TestParamInfo<MathisPoint>& i) { return std::string(i.param.name); });

// ------------------------------------------------------------------------------ CUBIC after one loss

// a -> b over 1 Gb/s with a 20 ms RTT (10 ms each way): the BDP is 1626 segments (2.35 MB of
// payload). b's tcp_rmem[2] is 5.3 MB: a window of 2.65 MB (~1830 segments), above the BDP, so the
// link is the bottleneck and the rest of the window (~200 segments) waits in a's qdisc, where
// nothing drops it (pfifo_fast; fq_codel would drop above 5 ms; TCP small queues may keep it
// shorter still). a's tcp_wmem[2] is 16 MiB so that the send buffer never limits the flow
// (without GSO every 1448-byte segment is an skb of its own, ~2.3 KB of truesize, and the default
// 4 MiB would hold fewer segments than the window: 594 Mb/s). One frame of the flow is lost on the
// wire (drop_frames, a -> b only) once the window has settled; after it the sender's cwnd
// (TcpCwnd, one event per ACK) must follow RFC 9438's curve for as long as the flow is
// cwnd-limited, and the goodput be back at the link's.
constexpr uint64_t kCubicDropFrame = 65000;  // ~0.8 s into the flow at 81 k frames a second

TEST(TcpModelChecks, CubicWindowFollowsRfc9438AfterOneLoss) {
  Scenario s = vnic::tb::testing::resolve(fmt::format(R"([scenario]
name = "cubic-one-loss"
[host.a]
frames = 0
qdisc = "pfifo_fast"
[host.a.ping]
enabled = false
[host.a.sysctl]
tcp_wmem = [4096, 16384, 16777216]
[host.b]
frames = 0
[host.b.sysctl]
tcp_rmem = [4096, 131072, 5300000]
[link]
speed = "1G"
propagation_ns = 10000000
fault_direction = "a_to_b"
drop_frames = [{}]
)",
                                                      kCubicDropFrame));
  Platform pf(s);
  CwndSink sink;
  pf.driver_host("a").net().set_trace(&sink, "host_a");
  Bulk b;
  b.warm = 0.005;  // from the connection on: the receive buffer's first value too
  b.end = 3.3;
  b.sample = 0.01;
  start_bulk(pf, b);
  pf.run();
  ASSERT_EQ(b.connect_rc, 0);
  ASSERT_FALSE(b.samples.empty());
  EXPECT_EQ(pf.link().stats(0).dropped_fault, 1u);
  std::vector<CwndSink::Ev> ev;
  for (const auto& e : sink.ev) {
    if (e.port == b.snd_port) ev.push_back(e);
  }
  ASSERT_GT(ev.size(), 1000u);
  const auto at = [&](std::size_t from, double t) {
    return std::lower_bound(ev.begin() + static_cast<std::ptrdiff_t>(from), ev.end(), t,
                            [](const CwndSink::Ev& e, double x) { return e.t < x; });
  };
  // The reduction: the first ACK after which ssthresh is beta * the cwnd of the ACK before (HyStart
  // set ssthresh to cwnd when it ended slow start; that is no reduction).
  std::size_t cut = 0;
  for (std::size_t i = 1; i < ev.size() && cut == 0; ++i) {
    if (ev[i].ssthresh != ev[i - 1].ssthresh && ev[i].ssthresh < ev[i - 1].cwnd) cut = i;
  }
  ASSERT_NE(cut, 0u) << "no window reduction after the loss";
  const double w_max = ev[cut - 1].cwnd;  // the first loss: no fast convergence (no earlier W_max)
  const double beta = 717.0 / 1024, c = 0.4;  // Linux's beta (RFC 9438: 0.7) and C
  EXPECT_EQ(ev[cut].ssthresh, static_cast<uint32_t>(w_max * 717 / 1024));
  // Settled: the window had not moved for the 0.3 s before the loss.
  EXPECT_EQ(at(0, ev[cut].t - 0.3)->cwnd, ev[cut - 1].cwnd) << "the window was still moving when the frame was lost";
  // The epoch starts at the ACK that ends recovery (PRR brings cwnd to ssthresh; CA_Open): the
  // first one after the cut with cwnd back at ssthresh.
  std::size_t e0 = cut;
  while (e0 < ev.size() && ev[e0].cwnd != ev[e0].ssthresh) ++e0;
  ASSERT_LT(e0, ev.size());
  const double t0 = ev[e0].t;
  const double k = std::cbrt(w_max * (1 - beta) / c);
  double min_rtt = 1e9, srtt_sum = 0;
  uint32_t plateau = 0;  // where cwnd stops: the flow no longer cwnd-limited
  for (std::size_t i = e0; i < ev.size() && ev[i].t <= b.end; ++i) {
    min_rtt = std::min(min_rtt, ev[i].srtt_us * 1e-6);
    srtt_sum += ev[i].srtt_us * 1e-6;
    plateau = std::max(plateau, ev[i].cwnd);
  }
  const double srtt = srtt_sum / static_cast<double>(ev.size() - e0);
  // Linux aims one delay_min ahead (bictcp_update's t + delay_min) and grows towards that target
  // over the next RTT; the Reno-friendly estimate grows 3(1-beta)/(1+beta) segments per RTT.
  const auto w_cubic = [&](double t) { return c * std::pow(t + min_rtt - k, 3) + w_max; };
  const auto w_est = [&](double t) { return beta * w_max + 3 * (1 - beta) / (1 + beta) * t / srtt; };
  // Compared while the flow is cwnd-limited: up to where cwnd stops (Linux grows cwnd only then,
  // tcp_is_cwnd_limited), and at most to K (the plateau at W_max).
  double worst = 0, worst_t = 0, span = 0;
  std::size_t compared = 0, cubic_above = 0;
  for (std::size_t i = e0; i < ev.size(); ++i) {
    const double t = ev[i].t - t0;
    if (t > k || ev[i].t > b.end || ev[i].cwnd + 2 >= plateau) break;
    const double want = std::max(w_cubic(t), w_est(t));
    if (w_cubic(t) > w_est(t)) ++cubic_above;
    const double off = std::abs(ev[i].cwnd - want);
    if (off > worst) {
      worst = off;
      worst_t = t;
    }
    span = t;
    ++compared;
  }
  std::printf("cubic: W_max %.0f (cwnd at the loss), ssthresh %u, K %.2f s, min RTT %.2f ms, mean srtt %.2f ms; cwnd "
              "follows the curve from %u to %u over %.2f s (%zu ACKs; the cubic term the larger in %zu), then stays "
              "at %u; worst |cwnd - W(t)| %.1f segments at t = %.2f s\n",
              w_max, ev[cut].ssthresh, k, min_rtt * 1e3, srtt * 1e3, ev[e0].cwnd, plateau, span, compared, cubic_above,
              plateau, worst, worst_t);
  for (double t = 0; t < b.end - t0; t += 0.25) {
    const auto it = at(e0, t0 + t);
    if (it == ev.end()) break;
    std::printf("  t %.2f s: cwnd %u, W_cubic %.1f, W_est %.1f\n", t, it->cwnd, w_cubic(t), w_est(t));
  }
  EXPECT_GT(span, 0.8) << "too little of the curve to compare";
  EXPECT_GE(plateau, 1626u) << "the window stopped below the BDP";
  EXPECT_GT(cubic_above * 10, compared * 9) << "the cubic term should decide this curve, not the Reno-friendly one";
  EXPECT_LE(worst, 0.01 * w_max) << "at t = " << worst_t << " s after the epoch start";
  // Goodput: the link's payload rate before the loss, and back to it after.
  const double line = 1e9 / 8 * kMss / kWireBytes;
  const auto rate = [&](double from, double to) {
    const Bulk::Sample* x = nullptr;
    const Bulk::Sample* y = nullptr;
    for (const auto& sm : b.samples) {
      if (x == nullptr && sm.t >= from) x = &sm;
      if (sm.t <= to) y = &sm;
    }
    if (x == nullptr || y == nullptr || y->t <= x->t) return 0.0;
    return static_cast<double>(y->bytes_acked - x->bytes_acked) / (y->t - x->t);
  };
  const double before = rate(ev[cut].t - 0.3, ev[cut].t - 0.05), dip = rate(t0, t0 + 0.2),
               after = rate(b.end - 1.0, b.end);
  std::printf("cubic: goodput %.1f Mb/s before the loss, %.1f in the 0.2 s after recovery, %.1f in the last second "
              "(the link's payload rate %.1f)\n",
              before * 8e-6, dip * 8e-6, after * 8e-6, line * 8e-6);
  EXPECT_GE(before, 0.98 * line);
  EXPECT_GE(after, 0.98 * line);
  // The receiver's buffer: from tcp_rmem[1] up past the BDP, never past tcp_rmem[2].
  const uint32_t rmem_max = pf.driver_host("b").tcp().sysctls().tcp_rmem[2];
  uint32_t first = 0, most = 0;
  for (const auto& sm : b.samples) {
    if (sm.rcvbuf == 0) continue;
    if (first == 0) first = sm.rcvbuf;
    most = std::max(most, sm.rcvbuf);
  }
  const double bdp = line * 0.02;
  std::printf("cubic: receiver's sk_rcvbuf %u at first, at most %u (tcp_rmem[2] %u); the BDP %.0f bytes\n", first, most,
              rmem_max, bdp);
  EXPECT_EQ(first, pf.driver_host("b").tcp().sysctls().tcp_rmem[1]);
  EXPECT_GE(static_cast<double>(most), bdp);
  EXPECT_LE(most, rmem_max);
}

// ------------------------------------------------------------------------------ a bottleneck router

// builtin:tcp-bufferbloat: a -> b at 10 Gb/s, b -> c at 1 Gb/s, an iperf3 flow a -> c (cubic) for
// 800 ms and a ping a -> c every 5 ms; b's eth1 is the bottleneck. Medians over 300-800 ms.

// The qdisc.dequeue events of b's eth1 (the 1 Gb/s side), told from eth0's by the forwarding
// decision (ip.forward's out ifindex) of each packet.
class RouterSink final : public model::TraceSink {
 public:
  struct Deq {
    double t;
    double sojourn_ms;
    uint64_t qlen;
  };
  void trace(const char*, const model::TraceEvent& e) override {
    if (e.kind == TraceKind::IpForward) oif_[e.packet] = e.b;
    if (e.kind != TraceKind::QdiscDequeue) return;
    const auto it = oif_.find(e.packet);
    if (it == oif_.end() || it->second != oif) return;
    deq.push_back({static_cast<double>(e.t_ps) * 1e-12, static_cast<double>(e.a) * 1e-6, e.b});
    oif_.erase(it);
  }
  uint64_t oif = 0;
  std::vector<Deq> deq;

 private:
  std::map<uint64_t, uint64_t> oif_;
};

struct RouterRun {
  double median_sojourn_ms = 0, median_qlen = 0, median_ping_ms = 0;
  uint64_t ping_replies = 0, ping_sent = 0;
  uint32_t ecn_mark = 0;
  uint64_t qdisc_drops = 0;
  uint64_t flow_bytes = 0;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

RouterRun run_router(const std::vector<std::string>& sets) {
  Scenario s = vnic::tb::testing::builtin("tcp-bufferbloat", sets);
  Platform pf(s);
  RouterSink sink;
  DriverHost& b = pf.driver_host("b");
  sink.oif = static_cast<uint64_t>(b.net().ifindex_of(b.driver(1)));
  b.net().set_trace(&sink, "host_b");
  pf.run();
  RouterRun r;
  // The steady state: from 300 ms (slow start and CoDel's first intervals over) to the flow's end.
  std::vector<double> so, ql;
  for (const auto& d : sink.deq) {
    if (d.t < 0.3 || d.t > 0.8) continue;
    so.push_back(d.sojourn_ms);
    ql.push_back(static_cast<double>(d.qlen));
  }
  r.median_sojourn_ms = median(so);
  r.median_qlen = median(ql);
  const auto* ping = pf.driver_host("a").ping();
  if (ping != nullptr) {
    std::vector<double> rtt;
    for (long us : ping->stats().rtts_us) rtt.push_back(static_cast<double>(us) * 1e-3);
    r.median_ping_ms = median(rtt);
    r.ping_replies = rtt.size();
    r.ping_sent = ping->stats().transmitted;
  }
  const stack::Qdisc* q = b.driver(1).qdisc.get();
  if (q != nullptr) {
    r.qdisc_drops = q->stats.drops;
    if (const auto* fq = dynamic_cast<const stack::FqCodel*>(q)) r.ecn_mark = fq->ecn_mark();
  }
  if (const auto* srv = pf.driver_host("c").iperf3_server()) r.flow_bytes = srv->result().bytes_received;
  std::printf("router %s: b's eth1 sojourn median %.2f ms, qlen median %.0f (%zu dequeues 300-800 ms); ping %llu/%llu "
              "replies, median RTT %.3f ms; qdisc drops %llu, ecn_mark %u; c received %llu bytes\n",
              q != nullptr ? std::string(q->kind()).c_str() : "?", r.median_sojourn_ms, r.median_qlen, so.size(),
              static_cast<unsigned long long>(r.ping_replies), static_cast<unsigned long long>(r.ping_sent),
              r.median_ping_ms, static_cast<unsigned long long>(r.qdisc_drops), r.ecn_mark,
              static_cast<unsigned long long>(r.flow_bytes));
  std::printf("%s", b.net().tc_s_qdisc().c_str());
  EXPECT_TRUE(pf.all_ok());
  return r;
}

TEST(TcpModelChecks, PfifoFastBottleneckQueueGrowsAndThePingWaitsBehindIt) {
  const RouterRun r = run_router({"host.b.eth1.qdisc=pfifo_fast"});
  // Nothing manages the queue: it grows with the window until the qdisc's limit (txqueuelen,
  // 1000 skbs: 12.3 ms of full frames without GRO) or the receive window stops it (with b's GRO,
  // skbs of ~6 segments each: c's 3 MiB window, ~26 ms). Either way well above CoDel's 5 ms.
  EXPECT_GT(r.median_sojourn_ms, 8.0);
  EXPECT_GT(r.median_ping_ms, 8.0);          // the ping waits behind the flow's data
  EXPECT_GT(r.ping_replies, 0u);
}

TEST(TcpModelChecks, FqCodelKeepsTheStandingQueueNearItsTargetAndThePingFast) {
  const RouterRun r = run_router({});
  EXPECT_GT(r.median_sojourn_ms, 2.5);       // CoDel's target is 5 ms
  EXPECT_LT(r.median_sojourn_ms, 7.5);
  EXPECT_GT(r.qdisc_drops, 0u);              // CoDel acted (drops at dequeue: the flow is not ECN-capable)
  EXPECT_LT(r.median_ping_ms, 1.0);          // the ping is a sparse flow of its own
  EXPECT_EQ(r.ping_replies, r.ping_sent);
}

TEST(TcpModelChecks, FqCodelWithEcnMarksInsteadOfDropping) {
  const RouterRun r = run_router({"host.a.sysctl.tcp_ecn=1"});
  EXPECT_GT(r.ecn_mark, 0u);
  EXPECT_LE(r.qdisc_drops, 1u);
  EXPECT_GT(r.median_sojourn_ms, 2.5);
  EXPECT_LT(r.median_sojourn_ms, 7.5);
  EXPECT_LT(r.median_ping_ms, 1.0);
}

// ------------------------------------------------------------------------------ 10 Gb/s bulk

// Two hosts, 10 Gb/s, 0.1 ms RTT, MTU 1500, the default CPU costs. The link carries 1448 payload
// bytes in every 1538 on the wire (preamble and SFD 8, Ethernet header 14, IP 20, TCP 20,
// timestamps 12, FCS 4, inter-frame gap 12): 9.415 Gb/s of goodput. The flow gets within 5 % of
// that, or a simulated CPU is what stops it (busy >= 95 % over the measured window), which the
// test says, with the CPU profile.
TEST(TcpModelChecks, BulkAt10GbpsFillsTheLinkOrSaysWhichCpuLimitsIt) {
  Scenario s = vnic::tb::testing::resolve(R"([scenario]
name = "bulk-10g"
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.b]
frames = 0
[link]
propagation_ns = 50000
)");
  Platform pf(s);
  Bulk b;
  b.warm = 0.03;
  b.end = 0.08;
  struct Busy {
    std::string who;
    uint64_t at_warm = 0, at_end = 0;
  };
  std::vector<Busy> busy;
  for (const char* h : {"a", "b"}) {
    DriverHost& d = pf.driver_host(h);
    for (unsigned i = 0; i < d.cpus().size(); ++i) busy.push_back({fmt::format("{} cpu{}", h, i)});
  }
  const auto read_busy = [&](bool end) {
    std::size_t k = 0;
    for (const char* h : {"a", "b"}) {
      DriverHost& d = pf.driver_host(h);
      for (unsigned i = 0; i < d.cpus().size(); ++i, ++k) {
        const auto& st = d.cpu(i).stats();
        (end ? busy[k].at_end : busy[k].at_warm) = st.busy_hardirq_ps + st.busy_softirq_ps + st.busy_process_ps;
      }
    }
  };
  b.on_warm = [&] { read_busy(false); };
  b.on_end = [&] { read_busy(true); };
  start_bulk(pf, b);
  pf.run();
  ASSERT_EQ(b.connect_rc, 0);
  ASSERT_GT(b.at_end.t, b.at_warm.t);
  const double line = 10e9 / 8 * kMss / kWireBytes;
  const double got = b.goodput_Bps();
  const double window_ps = (b.at_end.t - b.at_warm.t) * 1e12;
  std::string profile;
  double busiest = 0;
  std::string busiest_who;
  for (const auto& x : busy) {
    const double share = static_cast<double>(x.at_end - x.at_warm) / window_ps;
    profile += fmt::format("  {}: busy {:.1f} %\n", x.who, 100 * share);
    if (share > busiest) {
      busiest = share;
      busiest_who = x.who;
    }
  }
  std::printf("bulk 10G: goodput %.3f Gb/s over %.0f ms, the link's payload rate %.3f Gb/s (%.1f %%); retransmitted %llu\n"
              "simulated CPUs over the window:\n%s",
              got * 8e-9, (b.at_end.t - b.at_warm.t) * 1e3, line * 8e-9, 100 * got / line,
              static_cast<unsigned long long>(b.at_end.retrans - b.at_warm.retrans), profile.c_str());
  if (got < 0.95 * line) {
    std::printf("bulk 10G: below 95 %% of the link: %s is busy %.1f %% of the time, the simulated CPU limits the flow\n"
                "the run's cpu.txt:\n%s",
                busiest_who.c_str(), 100 * busiest, cpu_profile(pf).c_str());
    EXPECT_GE(busiest, 0.95) << "neither the link nor a CPU limits the flow: something else does";
  }
  EXPECT_LE(got, line * 1.001);  // never more than the wire carries
}

}  // namespace

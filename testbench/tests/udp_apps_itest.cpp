// UDP applications on driver hosts through the whole platform (NICs, drivers, links, stacks):
// builtin:udp-slow-reader (what the reader did not get is exactly Udp: RcvbufErrors), builtin:udp-iperf
// (a paced flow loses nothing; jitter as RFC 3550 computes it from the arrivals; the report's numbers
// are the socket's and the MIB's), builtin:udp-rr (the round trip grows by 2 x rx-usecs when both
// hosts' RX interrupts wait for the moderation timer), a datagram's journey from sendmsg (egress 1)
// to recvmsg (ingress 24), and the same outputs for the same run. Then three system-level checks:
// the slow reader's receive memory held to sk_rcvbuf plus one skb (__udp_enqueue_schedule_skb),
// one UDP_RR round trip as the sum of its stages (and the stages predicted from the scenario), and
// the request's and the response's journeys both ways.
#include <gtest/gtest.h>

#include <systemc>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/apps/udp_apps.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
using vnic::tb::testing::builtin;
using vnic::model::TraceKind;
namespace model = vnic::model;
namespace stack = vnic::stack;

// SystemC elaborates one platform per process: a test that compares runs makes each in a child
// and gets back what it printed.
template <class F>
std::string in_child(F f) {
  int fd[2];
  if (pipe(fd) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const std::string out = f();
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fd[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fd[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return out;
}

// What b's reader did not read is what its socket refused, datagram for datagram: every other
// counter on the way (a's send buffer and qdisc, the NICs, the drivers, the backlog) is 0.
TEST(UdpApps, SlowReaderLosesExactlyItsRcvbufErrors) {
  Platform pf(builtin("udp-slow-reader"));
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  const stack::UdpSender* cli = a.udp_sender();
  const stack::UdpReceiver* srv = b.udp_receiver();
  ASSERT_NE(cli, nullptr);
  ASSERT_NE(srv, nullptr);
  ASSERT_TRUE(cli->done());
  ASSERT_TRUE(srv->done());
  EXPECT_EQ(cli->stats().datagrams, 2000u);
  EXPECT_EQ(cli->stats().send_errors, 0u);
  const uint64_t sent = cli->stats().datagrams + cli->stats().fins;
  const uint64_t read = srv->stats().datagrams + srv->stats().fins;
  EXPECT_GT(sent - read, 1000u);  // 20 us per read against ~1.3 us per datagram on the wire
  EXPECT_EQ(b.udp().mib().RcvbufErrors, sent - read);
  EXPECT_EQ(b.udp().mib().InErrors, sent - read);
  EXPECT_EQ(b.udp().mib().InDatagrams, read);
  EXPECT_EQ(a.udp().mib().OutDatagrams, sent);
  EXPECT_EQ(a.udp().mib().SndbufErrors, 0u);
  for (const auto& t : b.rx_drops(0)) EXPECT_EQ(t.value, 0) << t.name;
  for (const auto& t : a.tx_drops(0)) EXPECT_EQ(t.value, 0) << t.name;
  EXPECT_EQ(a.net().neigh().stats().unresolved_discards, 0u);
  // iperf's Lost is the same count (the FIN's sequence reveals the losses at the end); its Total is
  // the FIN's id, 2001 (the first FIN got through).
  EXPECT_EQ(srv->stats().total(), 2001u);
  EXPECT_EQ(srv->stats().lost, 2000u - srv->stats().datagrams);
  EXPECT_EQ(srv->bad_payloads(), 0u);
  // No datagram was read twice, none out of order (one queue, one reader).
  EXPECT_EQ(srv->stats().out_of_order, 0u);
}

// 1000 datagrams at 500 Mbit/s: nothing lost, the sender kept every slot, the jitter is RFC 3550's
// recomputed here from the arrival and send times the server saw (as iperf 2.1.8: from transit 0,
// the first datagram at the time its read returned, the FIN included), the report's numbers are
// the MIB's. The server reads with its own -l, 1470: each 1472-byte datagram counts 1470 bytes.
TEST(UdpApps, PacedIperfLosesNothingAndItsJitterIsRfc3550s) {
  Platform pf(builtin("udp-iperf"));
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  const stack::UdpSender* cli = a.udp_sender();
  const stack::UdpReceiver* srv = b.udp_receiver();
  ASSERT_TRUE(cli != nullptr && srv != nullptr);
  ASSERT_TRUE(srv->done());
  EXPECT_EQ(cli->stats().datagrams, 1000u);
  EXPECT_EQ(cli->stats().late, 0u);
  EXPECT_EQ(srv->stats().datagrams, 1000u);
  EXPECT_EQ(srv->stats().lost, 0u);
  EXPECT_EQ(srv->stats().bytes, 1000u * 1470);
  EXPECT_EQ(srv->stats().fin_bytes, 1470u);
  EXPECT_EQ(srv->stats().total(), 1001u);
  EXPECT_EQ(b.udp().mib().InDatagrams, 1001u);  // and the FIN
  EXPECT_EQ(b.udp().mib().RcvbufErrors, 0u);
  EXPECT_EQ(a.udp().mib().OutDatagrams, 1001u);
  const auto& arr = srv->arrivals();
  ASSERT_EQ(arr.size(), 1000u);
  double j = 0;
  int64_t prev = 0;
  for (std::size_t k = 0; k <= arr.size(); ++k) {
    const stack::UdpArrival& x = k < arr.size() ? arr[k] : srv->stats().fin;
    const int64_t t1 = (k == 0 ? srv->stats().first : x.stamp).ps() / 1'000'000 - x.sent_us;
    j += (std::abs(static_cast<double>(t1 - prev)) / 1e6 - j) / 16;
    prev = t1;
    // Sent in its slot: k * 1472 * 8 / 500e6 s = k * 23.552 us after the first, to the microsecond.
    if (k < arr.size()) {
      EXPECT_NEAR(static_cast<double>(arr[k].sent_us - arr[0].sent_us), static_cast<double>(k) * 23.552, 1.0);
    }
  }
  EXPECT_NEAR(srv->stats().jitter_s, j, 1e-12);
  // A paced flow far below line rate meets an idle path: the transit varies by under a few us.
  EXPECT_LT(srv->stats().jitter_s, 5e-6);
  ASSERT_TRUE(cli->stats().server_report);
  EXPECT_EQ(cli->stats().srv_datagrams, 1001u);
  EXPECT_EQ(cli->stats().srv_bytes, srv->stats().report_bytes());
  EXPECT_EQ(cli->stats().sent_report, 1001u);
  EXPECT_NE(srv->output().find(" 0/1001 (0%)\n"), std::string::npos) << srv->output();
}

// The mean round trip (us) of builtin:udp-rr with `sets`, run in a child; -1 if a transaction was lost.
double rr_mean_us(const std::vector<std::string>& sets) {
  const std::string r = in_child([&] {
    Platform pf(builtin("udp-rr", sets));
    pf.run();
    const stack::UdpRrClient* c = pf.driver_host("a").udp_rr_client();
    if (c == nullptr || !c->done() || c->stats().transactions != 200 || c->stats().lost != 0) return std::string("-1");
    return std::to_string(c->stats().mean_us());
  });
  return r.empty() ? -1.0 : std::stod(r);
}

// UDP_RR at low load: with rx-usecs 50 (rx-frames 0: the timer alone) on both hosts each RX
// interrupt waits 50 us after the packet's completion (the first-completion rule), once on b for
// the request and once on a for the response: the mean round trip grows by 2 x 50 us. Tolerance
// 5 us: the two runs also differ in what the TX completions share with those interrupts (a TX
// clean folded into the delayed NAPI poll), a few hundred ns each, and in rounding to the
// moderation timer's 1 us granularity.
TEST(UdpApps, RoundTripGrowsByTwiceRxUsecs) {
  const std::vector<std::string> base = {"host.a.rx-usecs=0", "host.a.rx-frames=1", "host.b.rx-usecs=0",
                                         "host.b.rx-frames=1"};
  const std::vector<std::string> slow = {"host.a.rx-usecs=50", "host.a.rx-frames=0", "host.b.rx-usecs=50",
                                         "host.b.rx-frames=0"};
  const double m0 = rr_mean_us(base);
  const double m50 = rr_mean_us(slow);
  EXPECT_GT(m0, 1.0);
  EXPECT_LT(m0, 50.0);  // wire, NIC, IRQ, NAPI, stack and wake-up on both sides: tens of us at most
  EXPECT_NEAR(m50 - m0, 100.0, 5.0) << "rx-usecs 0: " << m0 << " us, rx-usecs 50: " << m50 << " us";
}

// One datagram's journey from the sending application to the reading one: egress 1-4 (sendmsg,
// the skb, its send-buffer charge, the UDP header) on a and ingress 19-24 (udp_rcv, the socket
// lookup, the enqueue, the wake-up, recvmsg) on b, under the id sendmsg gave it.
TEST(UdpApps, DatagramJourneyFromSendmsgToRecvmsg) {
  Scenario s = builtin("udp-iperf", {"host.a.udp_send.count=5"});
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const auto* rec = pf.journeys();
  ASSERT_NE(rec, nullptr);
  const auto& ids = pf.driver_host("a").udp_sender()->packet_ids();
  ASSERT_EQ(ids.size(), 5u);
  const auto& arr = pf.driver_host("b").udp_receiver()->arrivals();
  ASSERT_EQ(arr.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(arr[k].packet, ids[k]);  // the id end to end
  const auto it = rec->journeys().find(ids[2]);
  ASSERT_NE(it, rec->journeys().end());
  const vnic::tb::Journey& j = it->second;
  EXPECT_TRUE(j.ended);
  EXPECT_TRUE(j.dropped_at.empty());
  const auto has = [&](model::Step st, const char* src) {
    for (const auto& x : j.steps) {
      if (x.step == st && x.source == src) return true;
    }
    return false;
  };
  for (int e = 1; e <= 4; ++e) EXPECT_TRUE(has(model::egress(e), "host_a")) << "egress " << e;
  for (int i = 19; i <= 24; ++i) {
    if (i == 21) continue;  // TCP's state machine: not on a datagram's path
    if (i == 23) continue;  // the wake-up: only when the reader was asleep (checked below over all)
    EXPECT_TRUE(has(model::ingress(i), "host_b")) << "ingress " << i;
  }
  bool woke = false;
  for (uint64_t id : ids) {
    const auto f = rec->journeys().find(id);
    if (f == rec->journeys().end()) continue;
    for (const auto& x : f->second.steps) woke = woke || (x.step == model::ingress(23) && x.source == "host_b");
  }
  EXPECT_TRUE(woke);  // a reader waiting between paced datagrams is woken (sk_data_ready)
}

// Two runs of each built-in with the same seed: the same report views, byte for byte.
TEST(UdpApps, BuiltinsRerunByteIdentical) {
  for (const char* name : {"udp-iperf", "udp-rr", "udp-slow-reader"}) {
    SCOPED_TRACE(name);
    std::string out[2];
    for (std::string& o : out) {
      o = in_child([&] {
        Platform pf(builtin(name));
        pf.run();
        std::string v;
        for (const char* h : {"a", "b"}) {
          for (const auto& view : pf.driver_host(h).views(0, {})) v += view.file + "\n" + view.text;
        }
        return v;
      });
    }
    EXPECT_GT(out[0].size(), 1000u);
    EXPECT_NE(out[0].find("iperf") == std::string::npos && out[0].find("Latency") == std::string::npos, true);
    EXPECT_EQ(out[0], out[1]);
  }
}

// ------------------------------------------------------------------ the receive queue's bound

// Watches b's reader socket at each event the stack emits there, synchronously (the socket is
// read at the instant of the event): at each enqueue (SockQueue, ingress 22) its sk_rmem_alloc
// against sk_rcvbuf plus the largest truesize queued on it (receive and reader queues), and at
// each drop for a full buffer (Drop SKB_DROP_REASON_SOCKET_RCVBUFF at ingress 22) whether the
// buffer was over sk_rcvbuf, the one condition __udp_enqueue_schedule_skb drops on.
class RcvbufWatch final : public model::TraceSink {
 public:
  explicit RcvbufWatch(const vnic::tb::DriverHost& h) : host_(h) {}
  void trace(const char* source, const model::TraceEvent& e) override {
    (void)source;
    const stack::UdpReceiver* r = host_.udp_receiver();
    const stack::UdpSock* sk = r != nullptr ? r->socket() : nullptr;
    if (sk == nullptr) return;
    if (e.kind == TraceKind::SockQueue && e.step == model::ingress(22)) {
      ++queued;
      if (e.a != sk->rmem_alloc) ++foreign;  // an event of some other socket
      uint32_t biggest = 0;
      for (const stack::SkbQueue* q : {&sk->receive_queue, &sk->reader_queue}) {
        for (const stack::SkBuff* x = q->front(); x != nullptr; x = x->next) biggest = std::max(biggest, x->truesize);
      }
      max_truesize = std::max(max_truesize, biggest);
      rcvbuf = sk->rcvbuf;
      if (sk->rmem_alloc > uint64_t{sk->rcvbuf} + biggest) ++over_bound;
      peak = std::max(peak, sk->rmem_alloc);
    } else if (e.kind == TraceKind::Drop && e.step == model::ingress(22) &&
               e.a == static_cast<uint32_t>(stack::SkbDropReason::SocketRcvbuff)) {
      ++dropped;
      if (sk->rmem_alloc <= sk->rcvbuf) ++dropped_with_room;
    }
  }
  uint64_t queued = 0, foreign = 0, over_bound = 0, dropped = 0, dropped_with_room = 0;
  uint32_t peak = 0, max_truesize = 0, rcvbuf = 0;

 private:
  const vnic::tb::DriverHost& host_;
};

// builtin:udp-slow-reader (a floods 2000 x 1472-byte datagrams as fast as its send buffer lets it;
// b reads one per 20 us with SO_RCVBUF 65536, sk_rcvbuf 131072): at every enqueue b's receive memory
// is at most sk_rcvbuf + one skb's truesize (Linux 6.1 checks rmem > sk_rcvbuf before charging the
// skb: "always allow at least a packet"), and it gets there (the peak is within one truesize of the
// bound, above sk_rcvbuf - truesize), every refusal happened over sk_rcvbuf, and what was refused is
// Udp: RcvbufErrors = sent - read. Watching changes nothing: an unwatched run refuses as many.
TEST(UdpApps, SlowReaderReceiveMemoryStaysWithinRcvbufPlusOneSkb) {
  const std::string plain = in_child([] {
    Platform pf(builtin("udp-slow-reader"));
    pf.run();
    return std::to_string(pf.driver_host("b").udp().mib().RcvbufErrors);
  });
  Platform pf(builtin("udp-slow-reader"));
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  RcvbufWatch watch(b);
  // b's events (its CPUs, driver, NIC, stack) go to the watch; b's packet ids start at port 1's base.
  b.set_trace(&watch, std::vector<uint64_t>{uint64_t{1} << 32});
  pf.run();
  const stack::UdpSender* cli = a.udp_sender();
  const stack::UdpReceiver* srv = b.udp_receiver();
  ASSERT_TRUE(cli != nullptr && srv != nullptr && srv->socket() != nullptr);
  ASSERT_TRUE(srv->done());
  const uint64_t sent = cli->stats().datagrams + cli->stats().fins;
  const uint64_t read = srv->stats().datagrams + srv->stats().fins;
  EXPECT_EQ(watch.rcvbuf, 131072u);  // SO_RCVBUF 65536, doubled
  EXPECT_EQ(watch.foreign, 0u);
  EXPECT_EQ(watch.queued, read);  // every datagram queued was read (the queue drains at the end)
  EXPECT_EQ(watch.queued + watch.dropped, sent);
  EXPECT_GT(watch.max_truesize, 1472u);
  EXPECT_EQ(watch.over_bound, 0u) << "peak " << watch.peak << " > rcvbuf " << watch.rcvbuf << " + " << watch.max_truesize;
  EXPECT_LE(watch.peak, watch.rcvbuf + watch.max_truesize);
  EXPECT_GT(watch.peak, watch.rcvbuf - watch.max_truesize);  // the bound is reached, not just respected
  EXPECT_GT(watch.peak, watch.rcvbuf);  // and sk_rcvbuf passed: the skb let in while at or under it
  EXPECT_EQ(watch.dropped_with_room, 0u);
  EXPECT_EQ(watch.dropped, sent - read);
  EXPECT_EQ(b.udp().mib().RcvbufErrors, sent - read);
  EXPECT_GT(sent - read, 1000u);
  EXPECT_EQ(plain, std::to_string(b.udp().mib().RcvbufErrors));
  std::cout << "slow reader: sk_rcvbuf " << watch.rcvbuf << ", truesize " << watch.max_truesize << ", peak rmem_alloc "
            << watch.peak << " (bound " << watch.rcvbuf + watch.max_truesize << "), " << watch.queued << " queued, "
            << watch.dropped << " refused = RcvbufErrors\n";
  RecordProperty("rmem_alloc_peak", static_cast<int>(watch.peak));
  RecordProperty("rcvbuf_plus_truesize", static_cast<int>(watch.rcvbuf + watch.max_truesize));
}

// -------------------------------------------------------- a UDP_RR round trip, stage by stage

// builtin:udp-rr's requests and responses are 64 bytes of UDP payload.
constexpr uint32_t kRrBytes = 64;
// The transaction looked at: far from the first (whose request waits for ARP).
constexpr std::size_t kRrTxn = 100;

struct RrStage {
  std::string name;
  int64_t ps = 0;
  int64_t pred = -1;   // predicted from the scenario's parameters (-1: not predicted)
  int64_t extra = 0;   // also accepted: pred + extra (a TX completion cleaned in the same NAPI poll)
  bool timed = true;   // measured between two journey timestamps (false: the app's own time, predicted)
};

struct RrRun {
  std::vector<RrStage> stages;
  int64_t rtt_ps = -1;  // netperf's round trip of transaction kRrTxn
  int64_t span_ps = -1; // the response's recvmsg on a (ingress 24) - the request's sendmsg on a (egress 1)
  int64_t irq_ps = 0;   // the NIC's moderation verdict -> MSI-X latency (the `irq` cycles)
  std::string error;
};

std::vector<std::string> moderation(int usecs) {
  const std::string u = std::to_string(usecs), f = usecs == 0 ? "1" : "0";  // rx-frames 0: the timer alone
  return {"host.a.rx-usecs=" + u, "host.a.rx-frames=" + f, "host.b.rx-usecs=" + u, "host.b.rx-frames=" + f};
}

// Runs builtin:udp-rr with rx-usecs `usecs` on both hosts and journeys on, and cuts transaction
// kRrTxn into 19 stages: the request a -> b, netserver's turnaround on b, the response b -> a. Each
// stage but the first and the last runs from one journey timestamp to the next, so they telescope
// to (the response's recvmsg on a) - (the request's sendmsg on a); the first (sendmsg's entry up to
// the request's egress 1) and the last (recvmsg's return after ingress 24) are the client's own
// CPU time, which no event marks: they are predicted from the costs and the sum checked against
// netperf's round trip.
std::string rr_stage_lines(int usecs) {
  Scenario s = builtin("udp-rr", moderation(usecs));
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const stack::UdpRrClient* c = pf.driver_host("a").udp_rr_client();
  if (c == nullptr || !c->done() || c->stats().lost != 0 || c->packet_ids().size() <= kRrTxn) return "error|no run";
  if (c->output().find("," + std::to_string(kRrBytes) + "," + std::to_string(kRrBytes) + "\n") == std::string::npos) {
    return "error|not 64-byte requests and responses: " + c->output();
  }
  const auto [req, resp] = c->packet_ids()[kRrTxn];
  const auto& js = pf.journeys()->journeys();
  const auto jr = js.find(req), jp = js.find(resp);
  if (jr == js.end() || jp == js.end()) return "error|no journey";
  const auto fr = jr->second.branch(vnic::tb::Branch::Forward), fp = jp->second.branch(vnic::tb::Branch::Forward);
  std::string err;
  auto at = [&](const std::vector<const vnic::tb::JourneyStep*>& f, TraceKind k, const char* src) -> int64_t {
    for (const auto* x : f) {
      if (x->kind == k && x->source == src) return static_cast<int64_t>(x->t_ps);
    }
    err += std::string(model::trace_kind_name(k)) + " on " + src + " missing; ";
    return 0;
  };
  const stack::CpuCosts& ka = pf.driver_host("a").config().costs;
  const stack::CpuCosts& kb = pf.driver_host("b").config().costs;
  const auto& link = pf.link_config(0);
  // A frame: Ethernet 14 + IPv4 20 + UDP 8 + payload + FCS 4 (over the 64-byte minimum here).
  const uint64_t frame = std::max<uint64_t>(14 + 20 + 8 + kRrBytes + 4, 64);
  // Its wire stage, from the first preamble bit leaving to the last bit arriving: preamble + SFD
  // (8 bytes) and the frame at the link's rate, then the propagation. The 12-byte IFG follows the
  // frame and delays only the next one: it is not in a lone frame's latency.
  const int64_t wire =
      static_cast<int64_t>(((8 + frame) * 8 * 1'000'000'000'000ull + link.rate.bps() - 1) / link.rate.bps()) +
      link.propagation.ps();
  auto ps = [](model::Duration d) { return d.ps(); };
  auto copy = [&](const stack::CpuCosts& k, int64_t bytes) { return ps(k.copy_per_kib) * bytes / 1024; };
  RrRun r;
  auto direction = [&](const std::vector<const vnic::tb::JourneyStep*>& f, const char* tx_host, const char* tx_nic,
                       const char* rx_nic, const char* rx_host, const stack::CpuCosts& kt, const stack::CpuCosts& kr,
                       const std::string& dir) {
    const int64_t send = at(f, TraceKind::SockSend, tx_host), ring = at(f, TraceKind::TxRing, tx_host),
                  wire_start = at(f, TraceKind::TxWire, tx_nic), arrive = at(f, TraceKind::RxArrive, rx_nic),
                  complete = at(f, TraceKind::RxComplete, rx_nic), irq = at(f, TraceKind::Irq, rx_nic),
                  poll = at(f, TraceKind::RxPoll, rx_host), queue = at(f, TraceKind::SockQueue, rx_host),
                  recv = at(f, TraceKind::AppRecv, rx_host);
    // udp_sendmsg's copy, ip_output, dev_queue_xmit, the qdisc, ndo_start_xmit and dma_map_single.
    r.stages.push_back({dir + " stack tx: udp_sendmsg..start_xmit", ring - send,
                        copy(kt, kRrBytes) + ps(kt.ip_output) + ps(kt.dev_queue_xmit) + ps(kt.qdisc) + ps(kt.tx_xmit) +
                            ps(kt.dma_map)});
    r.stages.push_back({dir + " NIC tx: doorbell, descriptor+data DMA", wire_start - ring});
    r.stages.push_back({dir + " wire: preamble+frame, propagation", arrive - wire_start, wire});
    r.stages.push_back({dir + " NIC rx: data + write-back DMA", complete - arrive});
    r.stages.push_back({dir + " moderation (rx-usecs) + MSI-X", irq - complete});
    // The hard IRQ (its IMASK_SET write), NET_RX_SOFTIRQ, one ->poll() and the descriptor read;
    // a TX completion cleaned in the same poll (tx_clean, dma_unmap, free) comes first when one waits.
    r.stages.push_back({dir + " hard IRQ + softirq + NAPI poll", poll - irq,
                        ps(kr.hardirq) + ps(kr.mmio_write) + ps(kr.softirq) + ps(kr.napi_poll) + ps(kr.rx_packet),
                        ps(kr.tx_clean) + ps(kr.dma_map) + ps(kr.skb_free)});
    // The skb and its copy (whole KiB), napi_gro_receive (a UDP datagram is not merged, but it goes
    // up from napi->rx_list when the poll completes: after the driver's refill of the ring, one
    // descriptor and the tail doorbell), netif_receive_skb, ip_rcv, ip_local_deliver, udp_rcv.
    const int64_t kib = static_cast<int64_t>((frame - 4 + 1023) / 1024);
    r.stages.push_back({dir + " stack rx: skb..udp enqueue", queue - poll,
                        ps(kr.skb_alloc) + ps(kr.copy_per_kib) * kib + ps(kr.gro_receive) + ps(kr.rx_refill) +
                            ps(kr.mmio_write) + ps(kr.netif_receive) + ps(kr.ip_rcv) +
                            ps(kr.ip_local_deliver) + ps(kr.udp_rcv)});
    r.stages.push_back({dir + " wake-up, context switch, recvmsg", recv - queue,
                        ps(kr.wakeup) + ps(kr.context_switch) + ps(kr.syscall) + ps(kr.sock_recvmsg) +
                            copy(kr, kRrBytes)});
    return std::pair{send, recv};
  };
  const int64_t head = ps(ka.syscall) + ps(ka.udp_sendmsg) + ps(ka.skb_alloc);
  r.stages.push_back({"a netperf: sendmsg entry..egress 1", head, head, 0, false});
  const auto [req_send, req_recv] = direction(fr, "host_a", "nic_a", "nic_b", "host_b", ka, kb, "a->b");
  const int64_t resp_send = at(fp, TraceKind::SockSend, "host_b");
  r.stages.push_back({"b netserver: free request, sendmsg response", resp_send - req_recv,
                      ps(kb.skb_free) + ps(kb.syscall) + ps(kb.udp_sendmsg) + ps(kb.skb_alloc)});
  const int64_t resp_recv = direction(fp, "host_b", "nic_b", "nic_a", "host_a", kb, ka, "b->a").second;
  r.stages.push_back({"a netperf: consume_skb, return", ps(ka.skb_free), ps(ka.skb_free), 0, false});
  std::string out;
  if (!err.empty()) return "error|" + err;
  out += "rtt|" + std::to_string(c->stats().rtt_ps[kRrTxn]) + "\n";
  out += "span|" + std::to_string(resp_recv - req_send) + "\n";
  out += "irq|" + std::to_string(uint64_t{pf.scenario().nic.cycles.irq} * 1'000'000 / pf.scenario().nic.core_mhz) + "\n";
  for (const RrStage& st : r.stages) {
    out += "stage|" + st.name + "|" + std::to_string(st.ps) + "|" + std::to_string(st.pred) + "|" +
           std::to_string(st.extra) + "|" + (st.timed ? "1" : "0") + "\n";
  }
  return out;
}

RrRun rr_stages(int usecs) {
  RrRun r;
  std::istringstream in(in_child([usecs] { return rr_stage_lines(usecs); }));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, '|');) f.push_back(x);
    if (f.size() == 2 && f[0] == "rtt") r.rtt_ps = std::stoll(f[1]);
    if (f.size() == 2 && f[0] == "irq") r.irq_ps = std::stoll(f[1]);
    if (f.size() == 2 && f[0] == "span") r.span_ps = std::stoll(f[1]);
    if (f.size() >= 2 && f[0] == "error") r.error = line;
    if (f.size() == 6 && f[0] == "stage") {
      r.stages.push_back({f[1], std::stoll(f[2]), std::stoll(f[3]), std::stoll(f[4]), f[5] == "1"});
    }
  }
  if (r.stages.empty() && r.error.empty()) r.error = "the child printed nothing";
  return r;
}

std::string ns3(int64_t ps) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", static_cast<double>(ps) / 1000.0);
  return b;
}

// builtin:udp-rr (64-byte request and response, one at a time), transaction 100, with rx-usecs 0
// (rx-frames 1) and then 50 (rx-frames 0) on both hosts. (a) Its 19 stages telescope: the journey
// timestamps are in order (no stage negative) and the stages add up to netperf's round trip for
// that transaction to the picosecond. (b) What can be predicted from the scenario is: each wire
// stage is (8 + 110 bytes) x 8 / 10 Gb/s + 5 ns = 99.4 ns; every CPU stage is the sum of the
// CpuCosts its path charges (a hard IRQ's poll may also clean one TX completion); the NIC's own
// stages are the same both ways and in both runs; and the moderation stage grows by rx-usecs in
// each direction: 50 us, to within the NIC's `irq` latency (2 cycles at 250 MHz, 8 ns): the timer's
// expiry raises the MSI-X message at once, while an immediate verdict (rx-usecs 0) waits those
// cycles first, so the measured growth is 50 us - 8 ns (interrupts.cpp: complete() schedules the
// fire after cycles.irq, timer_event() fires directly).
TEST(UdpApps, RoundTripIsTheSumOfItsStages) {
  const RrRun r0 = rr_stages(0);
  const RrRun r50 = rr_stages(50);
  ASSERT_TRUE(r0.error.empty()) << r0.error;
  ASSERT_TRUE(r50.error.empty()) << r50.error;
  ASSERT_EQ(r0.stages.size(), 19u);
  ASSERT_EQ(r50.stages.size(), r0.stages.size());
  std::string table = "UDP_RR transaction " + std::to_string(kRrTxn) + ", 64-byte request and response (ns)\n";
  char line[256];
  std::snprintf(line, sizeof line, "  %-50s %12s %12s %12s\n", "stage", "rx-usecs 0", "rx-usecs 50", "predicted");
  table += line;
  for (const RrRun* r : {&r0, &r50}) {
    SCOPED_TRACE(r == &r0 ? "rx-usecs 0" : "rx-usecs 50");
    int64_t sum = 0, timed = 0;
    for (const RrStage& st : r->stages) {
      EXPECT_GE(st.ps, 0) << st.name;  // the boundaries are in time order
      sum += st.ps;
      if (st.timed) timed += st.ps;
      if (st.pred >= 0) {
        EXPECT_TRUE(st.ps == st.pred || (st.extra > 0 && st.ps == st.pred + st.extra))
            << st.name << ": " << st.ps << " ps, predicted " << st.pred << (st.extra > 0 ? " (or + " : "")
            << (st.extra > 0 ? std::to_string(st.extra) + ")" : "");
      }
    }
    EXPECT_EQ(sum, r->rtt_ps) << "the stages do not add up to netperf's round trip";
    // The timed stages telescope to the span between their first and last timestamps.
    EXPECT_EQ(timed, r->span_ps);
    EXPECT_EQ(r->rtt_ps - r->span_ps, r->stages.front().ps + r->stages.back().ps);
  }
  int64_t sum0 = 0, sum50 = 0;
  for (std::size_t i = 0; i < r0.stages.size(); ++i) {
    const RrStage& a = r0.stages[i];
    const RrStage& b = r50.stages[i];
    ASSERT_EQ(a.name, b.name);
    sum0 += a.ps;
    sum50 += b.ps;
    if (a.name.find(" NIC ") != std::string::npos) {
      EXPECT_EQ(a.ps, b.ps) << a.name;  // the NIC at idle: the same whatever the moderation
    }
    if (a.name.find("moderation") != std::string::npos) {
      // Per direction, rx-usecs 50 adds 50 us to the wait, within the `irq` latency (see above).
      EXPECT_NEAR(static_cast<double>(b.ps - a.ps), 50e6, static_cast<double>(r0.irq_ps)) << a.name;
    }
    std::snprintf(line, sizeof line, "  %-50s %12s %12s %12s\n", a.name.c_str(), ns3(a.ps).c_str(), ns3(b.ps).c_str(),
                  a.pred >= 0 ? (ns3(a.pred) + (a.extra > 0 ? "+" : "")).c_str() : "-");
    table += line;
  }
  std::snprintf(line, sizeof line, "  %-50s %12s %12s\n", "sum = netperf's round trip", ns3(sum0).c_str(),
                ns3(sum50).c_str());
  table += line;
  // The wire stages are the same in both directions (one frame size, one link).
  for (std::size_t i = 0; i < r0.stages.size(); ++i) {
    if (r0.stages[i].name.find("wire") != std::string::npos) {
      EXPECT_EQ(r0.stages[i].ps, 99'400) << r0.stages[i].name;
    }
  }
  std::cout << table;
  RecordProperty("rtt_rx_usecs_0_ps", std::to_string(r0.rtt_ps));
  RecordProperty("rtt_rx_usecs_50_ps", std::to_string(r50.rtt_ps));
  RecordProperty("stages", table);
}

// ------------------------------------------------------------------ the journey, both ways

// builtin:udp-rr with journeys on: every transaction's request (a -> b) and response (b -> a) keep
// one packet id each from sendmsg to recvmsg: the request's id is a's (port 0's range), the
// response's b's, all 400 distinct; each journey has egress 1-4 (sendmsg, the skb, its send-buffer
// charge, the UDP header) once each, in that order, on the sender's host, then ingress 19, 20, 22,
// 23, 24 (udp_rcv, the lookup, the enqueue, the wake-up: netperf and netserver always wait for the
// datagram, recvmsg) once each, in that order, on the reader's, ends consumed there, and every
// event of the id is on the right side: the sender's host and NIC for egress steps, the wire and
// the completion branch, the reader's for ingress steps.
TEST(UdpApps, RequestAndResponseJourneysBothWays) {
  Scenario s = builtin("udp-rr");
  s.journey_every = 1;
  Platform pf(s);
  pf.run();
  const stack::UdpRrClient* c = pf.driver_host("a").udp_rr_client();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->done());
  ASSERT_EQ(c->stats().lost, 0u);
  ASSERT_EQ(c->packet_ids().size(), 200u);
  ASSERT_NE(pf.driver_host("b").udp_rr_server(), nullptr);
  EXPECT_EQ(pf.driver_host("b").udp_rr_server()->responses(), 200u);
  const auto* rec = pf.journeys();
  ASSERT_NE(rec, nullptr);
  std::map<uint64_t, int> seen;
  const std::vector<int> egress = {1, 2, 3, 4};
  const std::vector<int> ingress = {19, 20, 22, 23, 24};
  auto check = [&](uint64_t id, const std::string& from, const std::string& to, uint64_t prefix, std::size_t k) {
    SCOPED_TRACE("transaction " + std::to_string(k) + ", " + from + " -> " + to + ", packet " + std::to_string(id));
    ASSERT_NE(id, 0u);
    EXPECT_EQ(id >> 32, prefix);  // the sender's id range
    ++seen[id];
    const auto it = rec->journeys().find(id);
    ASSERT_NE(it, rec->journeys().end());
    const vnic::tb::Journey& j = it->second;
    EXPECT_TRUE(j.ended);
    EXPECT_TRUE(j.dropped_at.empty()) << j.dropped_at;
    const auto fwd = j.branch(vnic::tb::Branch::Forward);
    const std::string tx_host = "host_" + from, tx_nic = "nic_" + from, rx_host = "host_" + to, rx_nic = "nic_" + to;
    uint64_t wire_t = 0;
    for (const auto* x : fwd) {
      if (x->kind == TraceKind::TxWire) wire_t = x->t_ps;
    }
    ASSERT_NE(wire_t, 0u);
    std::vector<int> eg, in;
    bool ingress_seen = false;
    for (const auto* x : fwd) {
      const bool sender_side = x->step.path == model::Path::Egress || (x->step.none() && x->t_ps <= wire_t);
      if (sender_side) {
        EXPECT_TRUE(x->source == tx_host || x->source == tx_nic) << model::trace_kind_name(x->kind) << " on " << x->source;
        EXPECT_FALSE(ingress_seen) << model::trace_kind_name(x->kind) << " after an ingress step";
      } else {
        EXPECT_TRUE(x->source == rx_host || x->source == rx_nic) << model::trace_kind_name(x->kind) << " on " << x->source;
        ingress_seen = ingress_seen || x->step.path == model::Path::Ingress;
      }
      if (x->step.path == model::Path::Egress && x->step.n <= 4 && x->source == tx_host) eg.push_back(x->step.n);
      if (x->step.path == model::Path::Ingress && x->step.n >= 19 && x->source == rx_host &&
          x->kind != TraceKind::Consumed) {
        in.push_back(x->step.n);
      }
    }
    EXPECT_EQ(eg, egress);
    EXPECT_EQ(in, ingress);
    EXPECT_EQ(fwd.front()->kind, TraceKind::SockSend);
    EXPECT_EQ(fwd.front()->source, tx_host);
    EXPECT_EQ(fwd.back()->kind, TraceKind::Consumed);
    EXPECT_EQ(fwd.back()->source, rx_host);
    for (const auto* x : j.branch(vnic::tb::Branch::Completion)) {
      EXPECT_TRUE(x->source == tx_host || x->source == tx_nic) << model::trace_kind_name(x->kind) << " on " << x->source;
    }
  };
  for (std::size_t k = 0; k < c->packet_ids().size(); ++k) {
    const auto [req, resp] = c->packet_ids()[k];
    check(req, "a", "b", 0, k);
    check(resp, "b", "a", 1, k);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(seen.size(), 400u);  // each id is one datagram
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

}  // namespace

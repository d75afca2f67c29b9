// TCP over a faulty link, through the whole platform (iperf3 client and server on two driver
// hosts, their stacks, drivers, NICs and the link): a seeded matrix of loss x reordering x
// duplication, both directions faulted. Each point: the transfer completes with exactly the
// bytes sent; the per-packet account holds (every packet, the link's copies included, ends once,
// none in flight, no event after an end); the link's dropped_fault is what the account says the
// link dropped; and the TCP counters move as Linux 6.1's do (net/ipv4/tcp_input.c):
//   - a duplicated data segment is old data at the receiver: tcp_data_queue's "A retransmit, 2nd
//     most common case" -> tcp_rcv_spurious_retrans, DelayedACKLost, tcp_dsack_set ->
//     TCPDSACKOldSent; the D-SACK back makes the sender count TCPDSACKRecv (tcp_check_dsack);
//   - a segment held back arrives after later ones: the receiver queues those out of order
//     (tcp_data_queue_ofo: TCPOFOQueue) and SACKs them; the sender, when the hole is filled
//     without a retransmission, counts the reordering (tcp_check_sack_reordering:
//     TCPSACKReorder, or TCPTSReorder when tcp_try_undo_dsack / a timestamp proves it);
//   - a lost segment is retransmitted (Tcp: RetransSegs).
// Hopeless cases end with the errno Linux gives: every SYN lost -> connect() ETIMEDOUT after
// tcp_syn_retries; every data segment lost after the handshake -> the write ETIMEDOUT after
// tcp_retries2. Reruns of a point are byte-identical (the report and the pcap).
// Each TEST is its own process (SystemC elaborates once per process); the rerun test forks.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <systemc>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "support/scenario_util.hpp"
#include "vnic/stack/apps/tcp_apps.hpp"
#include "vnic/stack/tcp_mib.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::Platform;
using vnic::tb::Scenario;
namespace stack = vnic::stack;
using stack::LinuxMib;

constexpr uint64_t kBytes = 2 * 1024 * 1024;

struct Point {
  double loss = 0, reorder = 0, dup = 0;
  uint32_t depth = 1;
  uint64_t seed = 1;
};

std::ostream& operator<<(std::ostream& o, const Point& p) {
  return o << fmt::format("loss {} reorder {} (depth {}) dup {} seed {}", p.loss, p.reorder, p.depth, p.dup, p.seed);
}

// a sends kBytes to b with iperf3 (-n), over [link] with the point's faults both ways.
std::string scenario_toml(const Point& p, const std::string& extra_link = "", uint64_t bytes = kBytes) {
  return fmt::format(R"([scenario]
name = "tcp-fault-matrix"
seed = {}
[host.a]
frames = 0
[host.a.ping]
enabled = false
[host.a.tcp_iperf3_client]
dst = "b"
bytes = {}
[host.b]
frames = 0
[host.b.tcp_iperf3_server]
[link]
drop_rate = {}
reorder_rate = {}
reorder_depth = {}
duplicate_rate = {}
{})",
                     p.seed, bytes, p.loss, p.reorder, p.depth, p.dup, extra_link);
}

uint64_t ext(Platform& pf, const char* host, LinuxMib m) { return pf.driver_host(host).tcp().ext()[m]; }

// The account's drops under one counter name.
uint64_t account_dropped(const Platform& pf, const std::string& counter) {
  const auto t = pf.account()->totals();
  const auto it = t.by_counter.find(counter);
  return it == t.by_counter.end() ? 0 : it->second;
}

// The checks every point shares: the account and the link agree, every packet ended once.
void expect_accounted(Platform& pf) {
  const auto* acc = pf.account();
  ASSERT_NE(acc, nullptr);
  EXPECT_TRUE(acc->exact()) << acc->report();
  EXPECT_EQ(acc->totals().in_flight, 0u) << acc->report();
  const auto& l = pf.link();
  uint64_t fault = 0, down = 0, dup = 0;
  for (unsigned d = 0; d < 2; ++d) {
    const auto& st = l.stats(d);
    fault += st.dropped_fault;
    down += st.dropped_link_down;
    dup += st.duplicated;
    EXPECT_EQ(l.in_flight(d), 0u);
    EXPECT_EQ(st.frames + st.duplicated, st.delivered + st.dropped_fault + st.dropped_link_down) << d;
  }
  EXPECT_EQ(account_dropped(pf, "link.dropped_fault"), fault) << acc->report();
  EXPECT_EQ(account_dropped(pf, "link.dropped_link_down"), down) << acc->report();
  EXPECT_TRUE(pf.all_ok());
  (void)dup;
}

class TcpFaultMatrix : public ::testing::TestWithParam<Point> {};

TEST_P(TcpFaultMatrix, TheTransferCompletesExactlyAndEveryPacketEndsOnce) {
  const Point p = GetParam();
  Scenario s = vnic::tb::testing::resolve(scenario_toml(p));
  s.account = true;
  Platform pf(s);
  pf.run();
  auto& a = pf.driver_host("a");
  auto& b = pf.driver_host("b");
  const stack::Iperf3Client* cli = a.iperf3_client(0);
  const stack::Iperf3Server* srv = b.iperf3_server();
  ASSERT_NE(cli, nullptr);
  ASSERT_NE(srv, nullptr);
  EXPECT_TRUE(cli->done() && srv->done());
  EXPECT_EQ(cli->result().errors(), 0u) << cli->output();
  EXPECT_EQ(cli->result().bytes_sent, kBytes);
  EXPECT_EQ(srv->result().bytes_received, kBytes) << srv->output();
  EXPECT_EQ(srv->result().tcp_bytes_received, kBytes + 1);  // bytes_received counts the FIN (rcv_nxt), as Linux's
  expect_accounted(pf);

  const auto& l = pf.link();
  const uint64_t dup_ab = l.stats(0).duplicated, reord_ab = l.stats(0).reordered;
  const uint64_t fault = l.stats(0).dropped_fault + l.stats(1).dropped_fault;
  // Faults happened at the rates asked for (loose: a few thousand frames each way).
  if (p.loss == 0) {
    EXPECT_EQ(fault, 0u);
  }
  if (p.loss >= 0.01) {
    EXPECT_GT(fault, 0u);
  }
  if (p.dup == 0) {
    EXPECT_EQ(dup_ab + l.stats(1).duplicated, 0u);
  }
  if (p.reorder == 0) {
    EXPECT_EQ(reord_ab + l.stats(1).reordered, 0u);
  }

  const auto& snd = pf.driver_host("a").tcp().mib();
  // Loss: retransmissions; none without it (reordering alone may cause spurious ones, below).
  if (fault > 0) {
    EXPECT_GT(snd.RetransSegs, 0u);
  }
  if (p.loss == 0 && p.reorder == 0 && p.dup == 0) {
    EXPECT_EQ(snd.RetransSegs, 0u);
    EXPECT_EQ(ext(pf, "b", LinuxMib::DelayedACKLost), 0u);
    EXPECT_EQ(ext(pf, "b", LinuxMib::TCPOFOQueue), 0u);
    EXPECT_EQ(ext(pf, "a", LinuxMib::TCPDSACKRecv), 0u);
  }
  // Duplicated data: old data at b, a D-SACK back, counted at a.
  if (dup_ab > 0) {
    EXPECT_GT(ext(pf, "b", LinuxMib::DelayedACKLost), 0u);
    EXPECT_GT(ext(pf, "b", LinuxMib::TCPDSACKOldSent), 0u);
    EXPECT_GT(ext(pf, "a", LinuxMib::TCPDSACKRecv), 0u);
  }
  // Reordered data: out-of-order queueing at b; at a the reordering seen (or, when RACK marked
  // the late segment lost first, the spurious retransmission's D-SACK).
  if (reord_ab > 0) {
    EXPECT_GT(ext(pf, "b", LinuxMib::TCPOFOQueue), 0u);
    EXPECT_GT(ext(pf, "a", LinuxMib::TCPSACKReorder) + ext(pf, "a", LinuxMib::TCPTSReorder) +
                  ext(pf, "a", LinuxMib::TCPDSACKRecv),
              0u);
  }
}

// loss {0, 0.1 %, 1 %, 5 %} x reorder {0, 1 %, 5 % at depth 3} x duplication {0, 1 %}, the whole
// matrix with two seeds (each point takes some 50 ms of wall time: no pruning needed).
std::vector<Point> matrix() {
  std::vector<Point> v;
  for (double loss : {0.0, 0.001, 0.01, 0.05}) {
    for (auto [reorder, depth] : {std::pair{0.0, 1u}, std::pair{0.01, 1u}, std::pair{0.05, 3u}}) {
      for (double dup : {0.0, 0.01}) {
        for (uint64_t seed : {1u, 2u}) v.push_back(Point{loss, reorder, dup, depth, seed});
      }
    }
  }
  return v;
}

std::string point_name(const ::testing::TestParamInfo<Point>& i) {
  auto pct = [](double r) { return fmt::format("{}", static_cast<int>(r * 1000 + 0.5)); };
  return fmt::format("loss{}pm_reorder{}pm_d{}_dup{}pm_seed{}", pct(i.param.loss), pct(i.param.reorder),
                     i.param.depth, pct(i.param.dup), i.param.seed);
}

INSTANTIATE_TEST_SUITE_P(Seeded, TcpFaultMatrix, ::testing::ValuesIn(matrix()), point_name);

// Frames N..M, as drop_frames lists them.
std::string frame_list(int first, int last) {
  std::string s;
  for (int i = first; i <= last; ++i) s += fmt::format("{}{}", i == first ? "" : ", ", i);
  return s;
}

// Every SYN lost (a's frames from the 2nd: the 1st is its ARP request, answered, so a's
// neighbour entry for b stays REACHABLE, 15 s at least): connect() fails with ETIMEDOUT after
// tcp_syn_retries (2 here: SYNs at 0, 1 and 3 s, given up at 7 s). With the ARP request lost too,
// Linux would fail the neighbour after 3 s and report EHOSTUNREACH instead (arp_error_report).
TEST(TcpFaultMatrixHopeless, EverySynLostConnectTimesOut) {
  Scenario s = vnic::tb::testing::resolve(
      scenario_toml(Point{}, fmt::format("fault_direction = \"a_to_b\"\ndrop_frames = [{}]\n", frame_list(2, 50))));
  s.host("a").sysctl.tcp.tcp_syn_retries = 2;
  s.stop_after = vnic::model::Duration::s(30);  // b's server waits for ever; the run must not
  s.account = true;
  Platform pf(s);
  pf.run();
  const stack::Iperf3Client* cli = pf.driver_host("a").iperf3_client(0);
  ASSERT_NE(cli, nullptr);
  EXPECT_TRUE(cli->done());
  EXPECT_EQ(cli->result().connect_errors, 1u) << cli->output();
  EXPECT_EQ(cli->result().last_errno, ETIMEDOUT);
  EXPECT_EQ(cli->result().bytes_sent, 0u);
  EXPECT_EQ(pf.link().stats(0).dropped_fault, 3u);  // the SYN and its 2 retransmissions
  EXPECT_EQ(pf.driver_host("a").tcp().mib().AttemptFails, 1u);
  expect_accounted(pf);
}

// The handshake through, then every frame a sends lost (from the 4th: ARP request, SYN, ACK
// pass): the first write blocks on the full send buffer and fails with ETIMEDOUT when
// tcp_retries2 (3 here: (2^4 - 1) x 200 ms = 3 s of backoff) retransmissions go unanswered;
// within b's REACHABLE time, so no neighbour failure comes into it (a failure would bring
// ipv4_link_failure's ICMP host unreachable, kept as sk_err_soft: the errno EHOSTUNREACH).
// The blocked write returns the bytes it copied before the abort and leaves sk_err; iperf3's
// Nwrite writes the rest and that write fails with ETIMEDOUT (the block is not counted). The
// segments tcp_write_err's tcp_write_queue_purge frees unsent end as tcp.write_queue_purged
// drops, so the account has none in flight. b's server is still connected when the Platform is
// destroyed (its close at teardown sends a FIN, traced nowhere).
TEST(TcpFaultMatrixHopeless, EveryDataSegmentLostTheWriteTimesOut) {
  Scenario s = vnic::tb::testing::resolve(
      scenario_toml(Point{}, fmt::format("fault_direction = \"a_to_b\"\ndrop_frames = [{}]\n", frame_list(4, 400))));
  s.host("a").sysctl.tcp.tcp_retries2 = 3;
  s.stop_after = vnic::model::Duration::s(30);
  s.account = true;
  Platform pf(s);
  pf.run();
  const stack::Iperf3Client* cli = pf.driver_host("a").iperf3_client(0);
  ASSERT_NE(cli, nullptr);
  EXPECT_TRUE(cli->done());
  EXPECT_EQ(cli->result().errors(), 1u) << cli->output();
  EXPECT_EQ(cli->result().connect_errors, 0u) << cli->output();
  EXPECT_EQ(cli->result().last_errno, ETIMEDOUT) << cli->output();
  EXPECT_EQ(cli->result().bytes_sent, 0u);  // its first block never completed
  EXPECT_EQ(pf.driver_host("b").iperf3_server()->result().bytes_received, 0u);
  EXPECT_EQ(pf.driver_host("a").tcp().ext()[LinuxMib::TCPAbortOnTimeout], 1u);
  EXPECT_GT(account_dropped(pf, "NOT_SPECIFIED (tcp.write_queue_purged)"), 0u) << pf.account()->report();
  EXPECT_EQ(account_dropped(pf, "NOT_SPECIFIED (tcp.write_queue_purged)"),
            pf.driver_host("a").tcp().stats().write_queue_purged);
  expect_accounted(pf);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The same point twice, each in a child process of its own: the report and the capture are
// byte-identical.
TEST(TcpFaultMatrixRerun, ThePointWithEveryFaultTwiceIsByteIdentical) {
  const std::string dir = ::testing::TempDir();
  const std::string stem = dir + "vnic_tfm_" + std::to_string(::getpid());
  for (int run = 0; run < 2; ++run) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Point p{0.01, 0.05, 0.01, 3, 7};
      const std::string pcap = fmt::format("{}_{}.pcap", stem, run);
      Scenario s = vnic::tb::testing::resolve(scenario_toml(p, fmt::format("pcap = \"{}\"\n", pcap), 512 * 1024));
      s.account = true;
      int rc = 1;
      {
        Platform pf(s);
        pf.run();
        std::ofstream out(fmt::format("{}_{}.txt", stem, run), std::ios::binary);
        out << pf.report() << pf.account()->report();
        const auto& l = pf.link();
        rc = l.stats(0).reordered > 0 && l.stats(0).duplicated > 0 && l.stats(0).dropped_fault > 0 ? 0 : 3;
      }
      std::fflush(nullptr);
      ::_exit(rc);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "run " << run << ": no fault of some kind, or the run failed";
  }
  const std::string r0 = file_text(stem + "_0.txt"), r1 = file_text(stem + "_1.txt");
  const std::string p0 = file_text(stem + "_0.pcap"), p1 = file_text(stem + "_1.pcap");
  EXPECT_GT(r0.size(), 1000u);
  EXPECT_NE(r0.find("reordered"), std::string::npos);
  EXPECT_EQ(r0, r1);
  EXPECT_GT(p0.size(), 512u * 1024u);
  EXPECT_TRUE(p0 == p1) << "the captures differ";
  for (const char* ext : {"_0.txt", "_1.txt", "_0.pcap", "_1.pcap"}) std::remove((stem + ext).c_str());
}

}  // namespace

// The host's real kernel as a TCP peer of one of our simulated hosts (the TapPeer rig: NIC, driver
// model and protocol stack on one side of an EthLink, a TapPort on the other, the TAP in a
// throw-away network namespace). The simulated host's own stack::Tcp (DriverHost::tcp()) with a
// client task on its last core; the kernel's side is a thread of this process that moved itself
// into the namespace (setns: a network namespace is per thread) and runs plain socket calls.
//   - one connection from our host to the kernel's server, 4 MiB each way at once (full duplex),
//     both byte streams compared with the pattern regenerated and their FNV-1a, then FIN both ways;
//   - the same with 1% of the frames lost on the simulated link in each direction (seeded):
//     both TCPs recover and the bytes still match;
//   - tshark's verdict on the TAP-side capture of each: no malformed frame or bad IP/TCP checksum;
//     without loss no tcp.analysis flag but window updates; with loss only those loss recovery
//     explains (retransmissions, duplicate ACKs, segments the capture never saw).
// Skips with the reason where TAP devices, namespaces or tshark are not available.
// (sc_main is tests/support/sc_gtest_main.cpp.)
#include <gtest/gtest.h>

#include <systemc>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <algorithm>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/netns.hpp"
#include "support/tap_rig.hpp"
#include "support/tshark.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/tcp.hpp"

namespace {

using vnic::model::Duration;
using vnic::stack::Co;
using vnic::stack::Cpu;
using vnic::stack::Ipv4Addr;
using vnic::stack::SockAddrIn;
using vnic::stack::Tcp;
using vnic::stack::TcpSock;
using namespace vnic::tb::test;  // the TAP peer rig and its helpers (tests/support)

constexpr uint64_t kBytes = 4u << 20;          // each way
constexpr uint16_t kKernelServerPort = 47201;  // 10.77.0.1 (no tshark dissector on it)
const Ipv4Addr kKernelAddr = *Ipv4Addr::parse("10.77.0.1");
constexpr uint8_t kSimKey = 0x3c, kKernelKey = 0xa5;  // the two streams' patterns differ

std::string temp_path(const std::string& stem, const std::string& ext) {
  return vnic::tb::test::temp_path("tap_tcp", stem, ext);
}

// Byte i of a stream: not periodic in any small power of two, so a slip shows.
inline uint8_t pattern_byte(uint8_t key, uint64_t i) {
  return static_cast<uint8_t>(i + (i >> 8) * 7 + (i >> 16) * 13 + (i >> 24) * 31 + key);
}
void fill_pattern(uint8_t key, uint64_t off, std::span<uint8_t> out) {
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = pattern_byte(key, off + k);
}

// A byte stream's length, FNV-1a 64 and its first byte that differs from the pattern.
struct StreamCheck {
  uint8_t key;
  uint64_t bytes = 0;
  uint64_t fnv = 14695981039346656037ull;
  uint64_t first_bad = ~0ull;
  explicit StreamCheck(uint8_t k) : key(k) {}
  void add(std::span<const uint8_t> d) {
    for (std::size_t k = 0; k < d.size(); ++k) {
      fnv = (fnv ^ d[k]) * 1099511628211ull;
      if (first_bad == ~0ull && d[k] != pattern_byte(key, bytes + k)) first_bad = bytes + k;
    }
    bytes += d.size();
  }
  bool ok(uint64_t want) const { return bytes == want && first_bad == ~0ull; }
  std::string str() const {
    std::ostringstream o;
    o << bytes << " bytes fnv1a " << std::hex << fnv << std::dec;
    if (first_bad != ~0ull) o << " FIRST BAD BYTE at " << first_bad;
    return o.str();
  }
};
uint64_t pattern_fnv(uint8_t key, uint64_t n) {
  StreamCheck c(key);
  std::vector<uint8_t> buf(65536);
  for (uint64_t off = 0; off < n; off += buf.size()) {
    const std::size_t len = static_cast<std::size_t>(std::min<uint64_t>(buf.size(), n - off));
    fill_pattern(key, off, std::span<uint8_t>(buf.data(), len));
    c.add(std::span<const uint8_t>(buf.data(), len));
  }
  return c.fnv;
}

// The kernel's side: a thread in the namespace with a listening socket on 10.77.0.1; it accepts
// one connection and, on a non-blocking socket under poll(), sends kBytes of its pattern (then
// SHUT_WR) while it reads the other stream to its end; then closes. Everything it saw is in here.
struct KernelPeer {
  std::atomic<bool> listening{false}, finished{false};
  std::string error;  // empty: every call worked
  StreamCheck rx{kSimKey};
  uint64_t tx_bytes = 0;
  bool eof = false;
  struct tcp_info info {};
  bool have_info = false;
  std::thread th;

  void start(const std::string& ns, int timeout_s) {
    th = std::thread([this, ns, timeout_s] {
      run(ns, timeout_s);
      finished = true;
    });
  }
  void join() {
    if (th.joinable()) th.join();
  }
  ~KernelPeer() { join(); }

 private:
  void fail(const std::string& what) {
    if (error.empty()) error = what + ": " + std::strerror(errno);
  }
  void run(const std::string& ns, int timeout_s) {
    const int nsfd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) return fail("open /run/netns/" + ns);
    const int rc = ::setns(nsfd, CLONE_NEWNET);
    ::close(nsfd);
    if (rc != 0) return fail("setns");
    const int ls = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0) return fail("socket");
    const int one = 1;
    ::setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kKernelServerPort);
    a.sin_addr.s_addr = htonl(kKernelAddr.to_u32());
    if (::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(ls);
      return fail("bind");
    }
    if (::listen(ls, 4) != 0) {
      ::close(ls);
      return fail("listen");
    }
    listening = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    const auto ms_left = [&] {
      return static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    };
    pollfd lp{ls, POLLIN, 0};
    if (::poll(&lp, 1, ms_left()) != 1) {
      ::close(ls);
      errno = ETIMEDOUT;
      return fail("accept (no connection)");
    }
    const int s = ::accept4(ls, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(ls);
    if (s < 0) return fail("accept");
    std::vector<uint8_t> out(65536), in(65536);
    bool shut = false;
    while (!(eof && shut)) {
      if (ms_left() == 0) {
        errno = ETIMEDOUT;
        fail("the exchange (sent " + std::to_string(tx_bytes) + ", received " + std::to_string(rx.bytes) + ")");
        break;
      }
      pollfd p{s, static_cast<short>((eof ? 0 : POLLIN) | (shut ? 0 : POLLOUT)), 0};
      if (::poll(&p, 1, std::min(ms_left(), 100)) < 0 && errno != EINTR) {
        fail("poll");
        break;
      }
      if (!shut && (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
        const std::size_t len = static_cast<std::size_t>(std::min<uint64_t>(out.size(), kBytes - tx_bytes));
        fill_pattern(kKernelKey, tx_bytes, std::span<uint8_t>(out.data(), len));
        const ssize_t n = ::send(s, out.data(), len, MSG_NOSIGNAL);
        if (n > 0) tx_bytes += static_cast<uint64_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          fail("send");
          break;
        }
        if (tx_bytes == kBytes) {
          if (::shutdown(s, SHUT_WR) != 0) {
            fail("shutdown");
            break;
          }
          shut = true;
        }
      }
      if (!eof && (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
        for (;;) {
          const ssize_t n = ::recv(s, in.data(), in.size(), 0);
          if (n > 0) {
            rx.add(std::span<const uint8_t>(in.data(), static_cast<std::size_t>(n)));
            continue;
          }
          if (n == 0) eof = true;
          if (n < 0 && errno != EAGAIN && errno != EINTR) fail("recv");
          break;
        }
        if (!error.empty()) break;
      }
    }
    socklen_t il = sizeof info;
    have_info = ::getsockopt(s, IPPROTO_TCP, TCP_INFO, &info, &il) == 0;
    ::close(s);
  }
};

// Our side: a client task on the host's last core (where the platform runs applications):
// connect, then a sender and a reader on the one socket; when both ended (our FIN sent, the
// kernel's read), ss -tin is kept and the socket closed.
struct SimTcp {
  Tcp& tcp;
  Cpu& cpu;
  TcpSock* sk = nullptr;
  int connect_rc = 1;  // 1: not yet
  int send_rc = 0, recv_rc = 0;
  uint64_t sent = 0;
  StreamCheck rx{kKernelKey};
  bool eof = false, send_done = false, recv_done = false, closed = false;
  std::string ss_tin;
  vnic::stack::TaskScope tasks;

  explicit SimTcp(vnic::tb::DriverHost& host) : tcp(host.tcp()), cpu(host.cpu(1)) {}

  void maybe_close() {
    if (!send_done || !recv_done || closed) return;
    ss_tin = tcp.ss_tin();
    tcp.close(sk);
    closed = true;
  }
  Co<void> client(const bool* go) {
    while (!*go) co_await vnic::stack::sleep(cpu, Duration::ms(1));
    sk = tcp.socket();
    connect_rc = co_await tcp.connect_wait(cpu, *sk, SockAddrIn{kKernelAddr, kKernelServerPort});
    if (connect_rc != 0) {
      send_done = recv_done = true;
      co_return;
    }
    tasks.spawn(reader());
    std::vector<uint8_t> buf(65536);
    while (sent < kBytes) {
      const std::size_t len = static_cast<std::size_t>(std::min<uint64_t>(buf.size(), kBytes - sent));
      fill_pattern(kSimKey, sent, std::span<uint8_t>(buf.data(), len));
      const int r = co_await tcp.send(cpu, *sk, std::span<const uint8_t>(buf.data(), len));
      if (r <= 0) {
        send_rc = r;
        break;
      }
      sent += static_cast<uint64_t>(r);
    }
    if (sent == kBytes) send_rc = tcp.shutdown(cpu, *sk, 1);  // SHUT_WR: our FIN
    send_done = true;
    maybe_close();
  }
  Co<void> reader() {
    std::vector<uint8_t> buf(65536);
    for (;;) {
      const int r = co_await tcp.recv(cpu, *sk, buf);
      if (r < 0) recv_rc = r;
      if (r == 0) eof = true;
      if (r <= 0) break;
      rx.add(std::span<const uint8_t>(buf.data(), static_cast<std::size_t>(r)));
    }
    recv_done = true;
    maybe_close();
  }
};

// Our host is ready for traffic: its NIC is up and 10.77.0.0/24 routed.
bool sim_ready(vnic::tb::DriverHost& host) { return host.up() && host.net().route_output(kKernelAddr).err == 0; }

constexpr const char* kTcpChecks = " -o tcp.check_checksum:TRUE";

// tshark's fields (tab-separated, one line per frame; several values of a field joined by '|')
// of the frames of `path` matching `filter`, with IP and TCP checksums checked; nullopt (the
// reason in *why) if tshark failed.
std::optional<std::vector<std::string>> tshark_tcp(const std::string& path, const std::string& filter,
                                                   const std::vector<std::string>& fields, std::string* why) {
  std::string cmd = "tshark -n -r " + path + kTsharkChecks + kTcpChecks + " -Y " + shell_quote(filter) +
                    " -T fields -E aggregator='|'";
  for (const std::string& f : fields) cmd += " -e " + shell_quote(f);
  const CmdResult r = run_command(cmd + " 2>/dev/null");
  if (!r.ok()) {
    *why = "tshark exited " + std::to_string(r.exit_code) + ": " + r.output;
    return std::nullopt;
  }
  std::vector<std::string> lines;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// The tcp.analysis flag an expert message of tshark 4.0's TCP dissector stands for ("" for the
// chat-level notes of SYN and FIN (and of the frames of the close), which are no analysis flag; the message itself if unknown).
std::string analysis_flag(const std::string& msg) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"(suspected) spurious retransmission", "spurious_retransmission"},
      {"(suspected) fast retransmission", "fast_retransmission"},
      {"(suspected) retransmission", "retransmission"},
      {"(suspected) out-of-order", "out_of_order"},
      {"Duplicate ACK", "duplicate_ack"},
      {"Previous segment(s) not captured", "lost_segment"},
      {"ACKed segment that wasn't captured", "ack_lost_segment"},
      {"TCP window update", "window_update"},
      {"window specified by the receiver is now completely full", "window_full"},
      {"TCP Zero Window segment", "zero_window"},
      {"D-SACK Sequence", "dsack"},  // not a tcp.analysis flag: the SACK option's note on a D-SACK block
  };
  for (const auto& [text, flag] : kMap) {
    if (msg.find(text) != std::string::npos) return flag;
  }
  // Notes on a connection's state, not tcp.analysis flags: "Connection establish/finish/reset ..."
  // and the FIN notes "This frame initiates/undergoes the connection closing" (tcp.connection.fin_
  // active/passive). They show up here when their frame also carries a flag, such as a
  // retransmitted FIN.
  if (msg.rfind("Connection ", 0) == 0 || msg.find("the connection closing") != std::string::npos) return "";
  // The checksum note of a frame whose TCP checksum is 0xFFFF for 0x0000 (checked above).
  if (msg.find("instead of 0x0000 (see RFC 1624)") != std::string::npos) return "";
  return "other: " + msg;
}


// One run: our client to the kernel's server, 4 MiB each way; `loss` of the frames dropped on
// the link in each direction.
void run_exchange(double loss, const char* stem, const char* keep_env) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  const bool tshark = vnic::tb::test::have_tshark();
  const char* keep = std::getenv(keep_env);
  const std::string pcap = keep != nullptr && *keep != '\0' ? std::string(keep) : temp_path(stem, ".pcap");
  TapPeerConfig cfg;
  cfg.tap.pcap = pcap;
  cfg.tap.run_for = Duration::s(40);
  cfg.link.faults.drop_probability = loss;
  cfg.link.seed = 20240601;
  TapPeerRig rig(cfg);
  vnic::tb::DriverHost& host = rig.host;
  vnic::tb::TapPort& port = rig.port;
  SimTcp sim(host);
  KernelPeer kernel;
  bool go = false;
  sim.tasks.spawn(sim.client(&go));

  // The run in 10 ms steps (paced to the wall clock by the port): once our host is up, the
  // kernel's server starts; once it listens, our client connects. When both sides are done,
  // 100 ms more (the last ACKs, TIME-WAIT's first steps) and the port stops.
  uint64_t stop_at_ps = 0, start_ps = 0;
  host.bring_up();
  const auto wall0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point wall_go{};
  double exchange_wall_s = 0;
  while (port.running()) {
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    if (!kernel.th.joinable() && sim_ready(host)) kernel.start(rig.ns.name(), 38);
    if (!go && kernel.listening) {
      go = true;
      start_ps = now_ps();
      wall_go = std::chrono::steady_clock::now();
    }
    if (stop_at_ps == 0 && sim.closed && kernel.finished) {
      exchange_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_go).count();
      stop_at_ps = now_ps() + 100'000'000'000;
    }
    if (stop_at_ps != 0 && now_ps() >= stop_at_ps) port.stop();
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
  port.close_capture();
  kernel.join();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  const vnic::tb::TapPortStats& ps = port.stats();
  const auto& l0 = rig.link.stats(0);  // our host -> the kernel
  const auto& l1 = rig.link.stats(1);  // the kernel -> our host
  const vnic::stack::TcpMib& mib = sim.tcp.mib();
  const vnic::stack::TcpExtMib& ext = sim.tcp.ext();
  using vnic::stack::LinuxMib;
  const CmdResult ksnmp = rig.ns.exec("cat /proc/net/snmp");
  const auto ktcp = snmp_row(ksnmp.output, "Tcp");
  const CmdResult knet = rig.ns.exec("cat /proc/net/netstat");
  const auto kext = snmp_row(knet.output, "TcpExt");
  const auto kx = [&](const char* k) { return kext.count(k) != 0 ? kext.at(k) : 0; };
  std::cout << "[ NOTE     ] loss " << loss * 100 << "%: exchange " << exchange_wall_s << " s wall, "
            << (stop_at_ps != 0 ? (stop_at_ps - 100'000'000'000 - start_ps) / 1'000'000'000 : 0)
            << " ms simulated (0: never ended); whole run " << wall_s << " s wall, " << now_ps() / 1'000'000'000
            << " ms simulated; polls " << ps.polls << " late " << ps.late_polls << " max lag " << ps.max_lag_ns / 1000
            << " us\n"
            << "[ NOTE     ] link: to the kernel " << l0.frames << " frames, " << l0.dropped_fault
            << " dropped; to us " << l1.frames << " frames, " << l1.dropped_fault << " dropped. TAP reads "
            << ps.tap_reads << " writes " << ps.tap_writes << " oversize " << ps.tap_oversize << "/"
            << ps.wire_rx_oversize << " queue_drops " << ps.queue_drops << "\n"
            << "[ NOTE     ] ours: connect " << sim.connect_rc << " sent " << sim.sent << " send_rc " << sim.send_rc
            << " recv_rc " << sim.recv_rc << " eof " << sim.eof << " received " << sim.rx.str() << "\n"
            << "[ NOTE     ] ours: Tcp ActiveOpens " << mib.ActiveOpens << " InSegs " << mib.InSegs << " OutSegs "
            << mib.OutSegs << " RetransSegs " << mib.RetransSegs << " EstabResets " << mib.EstabResets << " OutRsts "
            << mib.OutRsts << " InErrs " << mib.InErrs << "; TcpExt TCPSackRecovery "
            << ext[LinuxMib::TCPSackRecovery] << " TCPFastRetrans " << ext[LinuxMib::TCPFastRetrans]
            << " TCPLossProbes " << ext[LinuxMib::TCPLossProbes] << " TCPTimeouts " << ext[LinuxMib::TCPTimeouts]
            << " TCPSACKReorder " << ext[LinuxMib::TCPSACKReorder] << " TCPDSACKRecv " << ext[LinuxMib::TCPDSACKRecv]
            << " TCPOFOQueue " << ext[LinuxMib::TCPOFOQueue] << " TCPSpuriousRTOs " << ext[LinuxMib::TCPSpuriousRTOs]
            << "\n[ NOTE     ] kernel: error '" << kernel.error << "' sent " << kernel.tx_bytes << " eof " << kernel.eof
            << " received " << kernel.rx.str() << "; tcpi_total_retrans "
            << (kernel.have_info ? kernel.info.tcpi_total_retrans : 0) << " tcpi_rtt "
            << (kernel.have_info ? kernel.info.tcpi_rtt : 0) << " us; Tcp RetransSegs "
            << (ktcp.count("RetransSegs") ? ktcp.at("RetransSegs") : 0) << " InErrs "
            << (ktcp.count("InErrs") ? ktcp.at("InErrs") : 0) << "; TcpExt TCPSackRecovery " << kx("TCPSackRecovery")
            << " TCPFastRetrans " << kx("TCPFastRetrans") << " TCPLossProbes " << kx("TCPLossProbes")
            << " TCPTimeouts " << kx("TCPTimeouts") << " TCPDSACKRecv " << kx("TCPDSACKRecv") << " TCPSpuriousRTOs "
            << kx("TCPSpuriousRTOs") << "\n[ NOTE     ] our ss -tin at the end:\n" << sim.ss_tin;

  EXPECT_TRUE(host.stack_error().empty()) << host.stack_error();
  ASSERT_TRUE(go) << "the kernel's server never listened: " << kernel.error << "; our NIC up " << host.up();
  EXPECT_TRUE(kernel.error.empty()) << kernel.error;
  // Both streams whole and exact: 4 MiB each, byte for byte the pattern, and the FNV-1a of it.
  EXPECT_EQ(sim.connect_rc, 0);
  EXPECT_EQ(sim.sent, kBytes);
  EXPECT_EQ(sim.send_rc, 0);
  EXPECT_EQ(kernel.tx_bytes, kBytes);
  EXPECT_TRUE(kernel.rx.ok(kBytes)) << kernel.rx.str();
  EXPECT_TRUE(sim.rx.ok(kBytes)) << sim.rx.str();
  EXPECT_EQ(kernel.rx.fnv, pattern_fnv(kSimKey, kBytes));
  EXPECT_EQ(sim.rx.fnv, pattern_fnv(kKernelKey, kBytes));
  EXPECT_TRUE(sim.eof && kernel.eof) << "a FIN did not arrive: ours " << sim.eof << ", the kernel's " << kernel.eof;
  EXPECT_EQ(sim.recv_rc, 0);
  // Our MIB: one active open, no reset, no bad segment.
  EXPECT_EQ(mib.ActiveOpens, 1u);
  EXPECT_EQ(mib.AttemptFails + mib.EstabResets + mib.InErrs + mib.InCsumErrors, 0u);
  EXPECT_EQ(ktcp.count("InErrs") ? ktcp.at("InErrs") + ktcp.at("InCsumErrors") : 1, 0u) << ksnmp.output;
  // The host's views carry TCP: /proc/net/snmp with Tcp: between IcmpMsg/Icmp and Udp, netstat
  // -st, nstat -az and ss -tin.
  std::map<std::string, std::string> views;
  for (const auto& v : host.views(now_ps(), {})) views[v.file] = v.text;
  const std::string& snmp = views["snmp"];
  EXPECT_LT(snmp.find("Icmp:"), snmp.find("Tcp:"));
  EXPECT_LT(snmp.find("Tcp:"), snmp.find("Udp:"));
  EXPECT_EQ(snmp_row(snmp, "Tcp").at("ActiveOpens"), 1u) << snmp;
  EXPECT_NE(views["netstat-st.txt"].find("1 active connection openings"), std::string::npos) << views["netstat-st.txt"];
  EXPECT_NE(views["nstat.txt"].find("TcpActiveOpens"), std::string::npos) << views["nstat.txt"];
  EXPECT_EQ(views["ss-tin.txt"].rfind("State", 0), 0u) << views["ss-tin.txt"];

  if (loss == 0) {
    EXPECT_EQ(l0.dropped_fault + l1.dropped_fault, 0u);
    // Nothing lost, so nothing detected lost: no fast retransmission, no SACK recovery. A loss
    // probe, or a timeout and what it resends, can still go: the kernel's reader runs in
    // wall-clock time, and a host busy elsewhere starves it (its window shuts, its ACKs come late)
    // while the simulation runs on.
    EXPECT_EQ(ext[LinuxMib::TCPFastRetrans] + ext[LinuxMib::TCPSackRecovery], 0u);
    if (ext[LinuxMib::TCPTimeouts] == 0) {
      EXPECT_LE(mib.RetransSegs, ext[LinuxMib::TCPLossProbes])
          << "we retransmitted on a lossless link, and not as a probe or after a timeout";
    }
  } else {
    // The injector hit both directions, and both TCPs had to repair data.
    EXPECT_GT(l0.dropped_fault, 0u);
    EXPECT_GT(l1.dropped_fault, 0u);
    EXPECT_GT(mib.RetransSegs, 0u);
    EXPECT_GT(ktcp.count("RetransSegs") ? ktcp.at("RetransSegs") : 0, 0u) << ksnmp.output;
  }

  // tshark on the TAP-side capture: nothing malformed, every IP and TCP checksum good, and the
  // tcp.analysis flags only those the run explains.
  if (!tshark) {
    std::cout << "[ SKIPPED  ] tshark is not installed: the capture " << pcap << " is not checked "
              << "(scripts/debian-packages.txt names it)\n";
    if (keep == nullptr) ::unlink(pcap.c_str());
    GTEST_SKIP() << "tshark is missing: the exchange passed, its capture was not checked";
  }
  std::string why;
  // A TCP checksum of 0xFFFF where the sum gives 0x0000 is the same number in one's complement
  // (RFC 1624) and every receiver takes it; Linux sends it on purpose: skb_checksum_help writes
  // CSUM_MANGLED_0 for a checksum that folds to 0, about one frame in 65536 (the kernel hands the
  // TAP frames with CHECKSUM_PARTIAL). tshark calls it bad (tcp.checksum.ffff, an error): such a
  // frame counts as good when it is the kernel's and its IP checksum is good. Our stack never sends
  // one (its checksum is the complement of a nonzero sum).
  const auto ffff = tshark_tcp(pcap, "tcp.checksum.ffff", {"ip.src", "ip.checksum.status"}, &why);
  ASSERT_TRUE(ffff.has_value()) << why;
  for (const std::string& f : *ffff) EXPECT_EQ(f, "10.77.0.1\t1") << "a checksum 0xFFFF for 0x0000 not from the kernel: " << pcap;
  const auto bad = tshark_tcp(pcap, "(_ws.malformed || _ws.expert.severity == error || ip.checksum.status == \"Bad\" || "
                                    "tcp.checksum.status == \"Bad\") && !tcp.checksum.ffff",
                              {"frame.number"}, &why);
  ASSERT_TRUE(bad.has_value()) << why;
  EXPECT_TRUE(bad->empty()) << bad->size() << " frame(s) malformed, with an error or a bad checksum in " << pcap
                            << (bad->empty() ? "" : ", the first " + bad->front());
  // Every TCP segment with good IP and TCP checksums (tshark: 1 is good), the kernel's 0xFFFFs
  // (tshark: 0) aside.
  const auto sums = tshark_tcp(pcap, "tcp", {"ip.checksum.status", "tcp.checksum.status"}, &why);
  ASSERT_TRUE(sums.has_value()) << why;
  const auto good = std::count(sums->begin(), sums->end(), std::string("1\t1"));
  EXPECT_GT(sums->size(), 5000u);
  EXPECT_EQ(static_cast<std::size_t>(good) + ffff->size(), sums->size())
      << "not every TCP segment has good IP and TCP checksums: " << pcap;
  if (!ffff->empty()) std::cout << "[ NOTE     ] the kernel's TCP checksums 0xFFFF for 0x0000: " << ffff->size() << "\n";
  // The tcp.analysis flags, by frame and sender. What the run explains:
  //   - always: window updates, and the kernel filling our receive window at the start (we
  //     advertise ~64 KB until tcp_grow_window opens it, and it sends at line rate);
  //   - the kernel's retransmissions, as many as its RetransSegs: the simulation runs slower
  //     than the wall clock at times (the port's max lag), so the kernel's timers can fire on a
  //     lossless link (a TLP); our answer to each is a duplicate ACK with a D-SACK;
  //   - with loss, also what loss and its repair look like from the TAP on both sides: our
  //     retransmissions (as many as our RetransSegs) which tshark calls retransmission, fast
  //     retransmission, spurious retransmission or, when one follows the segment after the hole
  //     by less than an RTT, out-of-order; duplicate ACKs (with D-SACKs); segments lost on the
  //     link before the TAP (lost_segment) and ACKs of them (ack_lost_segment).
  const uint64_t k_retrans = ktcp.count("RetransSegs") ? ktcp.at("RetransSegs") : 0;
  const std::set<std::string> retrans_flags = {"retransmission", "fast_retransmission", "spurious_retransmission",
                                               "out_of_order"};
  // A receiver whose buffer is full advertises a zero window (zero_window: its segments carry
  // window 0, tshark's "TCP Zero Window segment"): the kernel's reader runs in wall-clock time and
  // our GSO sender can fill its buffer in one burst; the window update that reopens it follows.
  std::set<std::string> allowed = {"window_update", "window_full", "zero_window", "duplicate_ack", "dsack"};
  allowed.insert(retrans_flags.begin(), retrans_flags.end());
  if (loss != 0) allowed.insert({"lost_segment", "ack_lost_segment"});
  const auto flagged = tshark_tcp(pcap, "tcp.analysis.flags",
                                  {"frame.number", "frame.time_relative", "ip.src", "tcp.seq", "tcp.ack", "tcp.len",
                                   "tcp.window_size", "_ws.expert.message"},
                                  &why);
  ASSERT_TRUE(flagged.has_value()) << why;
  std::map<std::string, int> counts;
  std::string unexplained;
  int n_unexplained = 0;
  uint64_t retrans_frames[2] = {0, 0}, dupack_frames[2] = {0, 0};  // [0]: ours, [1]: the kernel's
  for (const std::string& line : *flagged) {
    const std::string msgs = line.substr(line.rfind('\t') + 1);
    const int from_kernel = line.find("\t10.77.0.1\t") != std::string::npos ? 1 : 0;
    bool odd = false, retrans = false, dupack = false;
    for (std::size_t at = 0; at <= msgs.size();) {
      const std::size_t end = std::min(msgs.find('|', at), msgs.size());
      const std::string f = analysis_flag(msgs.substr(at, end - at));
      at = end + 1;
      if (f.empty()) continue;
      ++counts[(from_kernel ? "kernel:" : "ours:") + f];
      odd = odd || !allowed.contains(f);
      retrans = retrans || retrans_flags.contains(f);
      dupack = dupack || f == "duplicate_ack" || f == "dsack";
    }
    retrans_frames[from_kernel] += retrans ? 1 : 0;
    dupack_frames[from_kernel] += dupack ? 1 : 0;
    if (odd && n_unexplained++ < 20) unexplained += "  " + line + "\n";
  }
  std::string flag_text;
  for (const auto& [k, n] : counts) flag_text += " " + k + "=" + std::to_string(n);
  std::cout << "[ NOTE     ] tshark: " << sums->size() << " TCP frames; frames with each tcp.analysis flag:"
            << (flag_text.empty() ? " none" : flag_text) << "\n";
  EXPECT_EQ(n_unexplained, 0) << n_unexplained << " frame(s) with a tcp.analysis flag the run does not explain in "
                              << pcap << " (frame, time, src, seq, ack, len, window, expert), the first:\n"
                              << unexplained;
  EXPECT_LE(retrans_frames[0], mib.RetransSegs) << "tshark sees more retransmissions from us than we counted: " << pcap;
  EXPECT_LE(retrans_frames[1], k_retrans) << "tshark sees more retransmissions from the kernel than it counted: " << pcap;
  // A D-SACK block (RFC 2883: below the cumulative ACK) reports one duplicate segment and is
  // sent once (tcp_options_write clears rx_opt.dsack): at most one skb per retransmission of the
  // other side carries one. A GSO skb's segments all carry the header it was built with
  // (skb_segment copies it), so one block shows on each frame of the skb: a frame that continues
  // the previous D-SACK frame of its sender (the same block and ACK, its sequence right after)
  // is the same skb and is not counted again.
  const auto dsacks = tshark_tcp(pcap, "tcp.options.sack_le < tcp.ack",
                                 {"ip.src", "tcp.seq", "tcp.len", "tcp.ack", "tcp.options.sack_le", "tcp.options.sack_re"},
                                 &why);
  ASSERT_TRUE(dsacks.has_value()) << why;
  uint64_t ours_dsack = 0, kernel_dsack = 0, dsack_frames = 0;
  struct Prev {
    uint64_t next_seq = 0;
    std::string ack, block;
  } prev[2];
  for (const std::string& line : *dsacks) {
    std::vector<std::string> f;
    for (std::size_t at = 0; at <= line.size();) {
      const std::size_t end = std::min(line.find('\t', at), line.size());
      f.push_back(line.substr(at, end - at));
      at = end + 1;
    }
    if (f.size() != 6) {
      ADD_FAILURE() << "tshark line with " << f.size() << " fields: " << line;
      continue;
    }
    ++dsack_frames;
    const int k = f[0] == "10.77.0.1" ? 1 : 0;
    const uint64_t seq = std::stoull(f[1]), len = std::stoull(f[2]);
    // the D-SACK block is the first SACK block
    const std::string block = f[4].substr(0, f[4].find('|')) + "-" + f[5].substr(0, f[5].find('|'));
    const bool same_skb = len > 0 && prev[k].block == block && prev[k].ack == f[3] && prev[k].next_seq == seq;
    if (!same_skb) ++(k == 1 ? kernel_dsack : ours_dsack);
    prev[k] = Prev{seq + len, f[3], block};
  }
  std::cout << "[ NOTE     ] skbs with a D-SACK block: ours " << ours_dsack << ", the kernel's " << kernel_dsack << " ("
            << dsack_frames << " frames)\n";
  EXPECT_LE(ours_dsack, k_retrans) << "we sent more D-SACKs than the kernel sent retransmissions (a D-SACK block "
                                   << "repeated on later ACKs?): " << pcap;
  EXPECT_LE(kernel_dsack, mib.RetransSegs) << pcap;
  if (loss == 0) {
    // Without loss a duplicate ACK answers a retransmission of the other side, never more.
    EXPECT_LE(dupack_frames[0], k_retrans) << pcap;
    EXPECT_LE(dupack_frames[1], mib.RetransSegs) << pcap;
  }
  if (!::testing::Test::HasFailure() && keep == nullptr) ::unlink(pcap.c_str());
}

TEST(TapTcp, FourMebibytesEachWayWithTheKernelBytesExactAndACleanCapture) {
  run_exchange(0.0, "clean", "VNIC_TAP_TCP_PCAP");
}

TEST(TapTcp, OnePercentLossBothWaysBothSidesRecoverAndTheBytesStillMatch) {
  run_exchange(0.01, "loss", "VNIC_TAP_TCP_LOSS_PCAP");
}

}  // namespace

// The host's real kernel as a UDP peer of one of our simulated hosts (the TapPeer rig: NIC, driver
// model and protocol stack on one side of an EthLink, a TapPort on the other, the TAP in a
// throw-away network namespace). The simulated host's own stack::Udp (DriverHost::udp()); simulated
// applications as tasks on its CPU; the kernel's side is vnic_udp_peer (tests/support/
// udp_peer.cpp) run in the namespace with real AF_INET sockets.
//   - request/response both ways at once, 10,000 requests each way (so 20,000 datagrams each way
//     with the responses), every datagram checked byte for byte (tests/support/udp_payload.hpp),
//     every loss found in a named counter, both sides' Udp MIB;
//   - connected sockets on both sides sending to a closed port: ICMP port unreachable, then
//     ECONNREFUSED on the next recv and on a later send;
//   - tshark's verdict on the TAP-side capture with IP, ICMP and UDP checksums checked.
// docs/tap.md, "The kernel as a UDP peer". Skips with the reason where TAP devices or namespaces
// are not available. (sc_main is tests/support/sc_gtest_main.cpp.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/netns.hpp"
#include "support/tap_rig.hpp"
#include "support/tshark.hpp"
#include "support/udp_payload.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/udp.hpp"

namespace {

namespace up = vnic::tb::test::udp_payload;
using vnic::model::Duration;
using vnic::stack::Co;
using vnic::stack::Cpu;
using vnic::stack::Ipv4Addr;
using vnic::stack::RecvMeta;
using vnic::stack::SockAddrIn;
using vnic::stack::Udp;
using vnic::stack::UdpSock;
using namespace vnic::tb::test;  // the TAP peer rig and its helpers (tests/support)

constexpr uint32_t kCount = 10'000;  // requests each way
// Ports tshark 4.0 has no dissector for (`tshark -G decodes`), the clients' too: it shows every
// payload as data (on 7000-7009 it would take them for AFS Rx and call them malformed).
constexpr uint16_t kKernelServerPort = 47101;  // 10.77.0.1: vnic_udp_peer server
constexpr uint16_t kSimServerPort = 47102;     // 10.77.0.2: our server task
constexpr uint16_t kKernelClientPort = 47103;  // 10.77.0.1: vnic_udp_peer client
constexpr uint16_t kSimClientPort = 47104;     // 10.77.0.2: our client task
constexpr uint16_t kSimRefusedPort = 47105;    // our socket to the kernel's closed port
constexpr uint16_t kKernelRefusedPort = 47106; // the kernel's to ours
constexpr uint16_t kKernelClosedPort = 47199;  // nobody listens on 10.77.0.1:47199
constexpr uint16_t kSimClosedPort = 47198;     // nor on 10.77.0.2:47198
const Ipv4Addr kKernelAddr = *Ipv4Addr::parse("10.77.0.1");
constexpr std::string_view kSimProbe = "vnic simulated host: is anyone there?";  // to the closed port

std::string temp_path(const std::string& stem, const std::string& ext) {
  return vnic::tb::test::temp_path("tap_udp", stem, ext);
}

// "key=value" words of the summary line of vnic_udp_peer starting with `head` ("udp_peer server ").
std::optional<std::map<std::string, std::string>> summary(const std::string& out, const std::string& head) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(head, 0) != 0 || line.find('=') == std::string::npos) continue;
    std::map<std::string, std::string> kv;
    std::istringstream words(line.substr(head.size()));
    std::string w;
    while (words >> w) {
      const auto eq = w.find('=');
      if (eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    }
    return kv;
  }
  return std::nullopt;
}
uint64_t num(const std::map<std::string, std::string>& kv, const std::string& key) {
  const auto it = kv.find(key);
  return it == kv.end() ? ~0ull : std::stoull(it->second);
}

// The vnic_udp_peer binary (built next to the tests; VNIC_UDP_PEER overrides it).
std::string udp_peer_binary() {
  const char* env = std::getenv("VNIC_UDP_PEER");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(VNIC_UDP_PEER);
}

// What the simulated applications did (the tasks write it; the test reads it after the run).
struct AppStats {
  int setup_rc = 1;  // bind/connect (1: not yet)
  bool ready = false, done = false;
  uint64_t sent = 0, received = 0, ok = 0, bad = 0, dup = 0, late = 0, missing = 0, timeouts = 0;
  uint64_t send_errors = 0, recv_errors = 0;
  int last_error = 0;
  std::string str() const {
    std::ostringstream o;
    o << "setup " << setup_rc << " sent " << sent << " received " << received << " ok " << ok << " bad " << bad
      << " dup " << dup << " late " << late << " missing " << missing << " timeouts " << timeouts << " send_errors "
      << send_errors << " recv_errors " << recv_errors << " last_error " << last_error;
    return o.str();
  }
};

// The simulated host's side: the rig's DriverHost's own Udp (IP protocol 17 of its NetStack, as
// the platform's applications use it) and the test's tasks, on the host's last core as the
// platform runs applications.
struct SimUdp {
  Udp& udp;
  Cpu& cpu;
  vnic::stack::TaskScope tasks;

  explicit SimUdp(vnic::tb::DriverHost& host) : udp(host.udp()), cpu(host.cpu(1)) {}

  // Waits (1 ms steps of simulated time) until *flag.
  static Co<void> until(Cpu& cpu, const bool* flag) {
    while (!*flag) co_await vnic::stack::sleep(cpu, Duration::ms(1));
  }

  // Our client: connected to the kernel's server, `count` requests with at most `window`
  // unanswered; a recv that times out (SO_RCVTIMEO `idle`) gives the unanswered up as missing.
  Co<void> client(AppStats& st, const bool* go, uint32_t count, uint32_t window, Duration idle) {
    co_await until(cpu, go);
    UdpSock* sk = udp.socket();
    st.setup_rc = udp.bind(*sk, SockAddrIn{Ipv4Addr{}, kSimClientPort});
    if (st.setup_rc == 0) st.setup_rc = udp.connect(*sk, SockAddrIn{kKernelAddr, kKernelServerPort});
    if (st.setup_rc != 0) co_return;
    sk->rcvtimeo = idle;
    st.ready = true;
    std::vector<uint8_t> state(count, 0);  // as vnic_udp_peer's client: 1 waiting, 2 answered, 3 missing, 4 late, 5 send failed
    std::vector<uint8_t> req, buf(2048), scratch;
    uint32_t next = 0, waiting = 0;
    for (;;) {
      while (next < count && waiting < window) {
        up::make(up::kSimRequest, next, req);
        const int rc = co_await udp.send(cpu, *sk, req, 0);
        if (rc == static_cast<int>(req.size())) {
          state[next] = 1;
          ++waiting;
          ++st.sent;
        } else {
          state[next] = 5;
          ++st.send_errors;
          st.last_error = rc;
        }
        ++next;
      }
      if (waiting == 0 && next == count) break;
      const int n = co_await udp.recv(cpu, *sk, buf, vnic::stack::kMsgTrunc);
      if (n == -vnic::stack::kEAGAIN) {
        ++st.timeouts;
        for (auto& s : state) {
          if (s == 1) s = 3;
        }
        waiting = 0;
        continue;
      }
      if (n < 0) {
        ++st.recv_errors;
        st.last_error = n;
        continue;
      }
      ++st.received;
      const int64_t seq = static_cast<std::size_t>(n) <= buf.size()
                              ? up::check(up::kKernelResponse, buf.data(), static_cast<std::size_t>(n), scratch)
                              : -1;
      if (seq < 0 || seq >= count) {
        ++st.bad;
        continue;
      }
      uint8_t& s = state[static_cast<std::size_t>(seq)];
      if (s == 1) {
        s = 2;
        ++st.ok;
        --waiting;
      } else if (s == 3) {
        s = 4;
        ++st.late;
      } else {
        ++st.dup;
      }
    }
    for (const auto s : state) st.missing += s == 3 ? 1 : 0;
    udp.close(sk);
    st.done = true;
  }

  // Our server: bound to 0.0.0.0:kSimServerPort, answers each good request with its response;
  // ends after `count` distinct requests or `idle` without one (after the first).
  Co<void> server(AppStats& st, uint32_t count, Duration idle) {
    co_await vnic::stack::sleep(cpu, Duration{});  // from here on, in the CPU's process context
    UdpSock* sk = udp.socket();
    st.setup_rc = udp.bind(*sk, SockAddrIn{Ipv4Addr{}, kSimServerPort});
    if (st.setup_rc != 0) co_return;
    st.ready = true;
    std::vector<uint8_t> seen(count, 0), buf(2048), scratch, reply;
    while (st.ok < count) {
      RecvMeta meta;
      const int n = co_await udp.recv(cpu, *sk, buf, vnic::stack::kMsgTrunc, &meta);
      if (n == -vnic::stack::kEAGAIN) break;  // idle: the kernel's client is done
      if (n < 0) {
        ++st.recv_errors;
        st.last_error = n;
        continue;
      }
      if (st.received++ == 0) sk->rcvtimeo = idle;
      const int64_t seq = static_cast<std::size_t>(n) <= buf.size()
                              ? up::check(up::kKernelRequest, buf.data(), static_cast<std::size_t>(n), scratch)
                              : -1;
      if (seq < 0 || seq >= count) {
        ++st.bad;
        continue;
      }
      if (seen[static_cast<std::size_t>(seq)]++ != 0) {
        ++st.dup;
        continue;
      }
      ++st.ok;
      up::make(up::kSimResponse, static_cast<uint32_t>(seq), reply);
      const int rc = co_await udp.send(cpu, *sk, reply, 0, &meta.from);
      if (rc == static_cast<int>(reply.size())) {
        ++st.sent;
      } else {
        ++st.send_errors;
        st.last_error = rc;
      }
    }
    udp.close(sk);
    st.done = true;
  }

  // A connected socket to the kernel's closed port: send, then recv (3 s at most) returns
  // -ECONNREFUSED once the kernel's port unreachable came; send again, 300 ms, and the third
  // send returns -ECONNREFUSED. results: the four calls' return values.
  Co<void> refused(std::vector<int>& results, bool& done, const bool* go) {
    co_await until(cpu, go);
    UdpSock* sk = udp.socket();
    int c = udp.bind(*sk, SockAddrIn{Ipv4Addr{}, kSimRefusedPort});
    if (c == 0) c = udp.connect(*sk, SockAddrIn{kKernelAddr, kKernelClosedPort});
    if (c != 0) {
      results.push_back(c);
      done = true;
      co_return;
    }
    sk->rcvtimeo = Duration::s(3);
    const std::span<const uint8_t> probe(reinterpret_cast<const uint8_t*>(kSimProbe.data()), kSimProbe.size());
    std::vector<uint8_t> buf(64);
    results.push_back(udp.sendmsg(cpu, *sk, probe, 0));
    results.push_back(co_await udp.recv(cpu, *sk, buf, 0));
    results.push_back(udp.sendmsg(cpu, *sk, probe, 0));
    co_await vnic::stack::sleep(cpu, Duration::ms(300));
    results.push_back(udp.sendmsg(cpu, *sk, probe, 0));
    udp.close(sk);
    done = true;
  }
};

// The rig with a capture, and the checks both tests start with.
struct CaptureSetup {
  std::string pcap_path;
  const char* keep = nullptr;
  TapPeerConfig cfg;
  CaptureSetup(const char* stem, const char* keep_env, Duration run_for) {
    keep = std::getenv(keep_env);
    pcap_path = keep != nullptr && *keep != '\0' ? std::string(keep) : temp_path(stem, ".pcap");
    cfg.tap.pcap = pcap_path;
    cfg.tap.run_for = run_for;
  }
};

// Our host is ready for traffic: its NIC is up and 10.77.0.0/24 routed.
bool sim_ready(vnic::tb::DriverHost& host) { return host.up() && host.net().route_output(kKernelAddr).err == 0; }

// The TAP-side capture: tshark flags nothing (malformed, error-level notes, bad IP, ICMP or UDP
// checksums; all three are checked), and it holds min_udp..max_udp UDP datagrams (outside ICMP
// errors), all with good IP and UDP checksums and a payload tshark shows as plain data.
void expect_clean_capture(const std::string& pcap_path, int min_udp, int max_udp) {
  std::string err;
  const auto flagged = vnic::tb::test::tshark_flagged(pcap_path, &err);
  ASSERT_TRUE(flagged.has_value()) << err;
  EXPECT_TRUE(flagged->empty()) << "tshark flags " << flagged->size() << " frame(s) in " << pcap_path
                                << (flagged->empty() ? "" : ", the first " + std::to_string(flagged->front()));
  const int udp = vnic::tb::test::tshark_count(pcap_path, "udp && !icmp");
  EXPECT_GE(udp, min_udp) << pcap_path;
  EXPECT_LE(udp, max_udp) << pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(pcap_path,
                                         "udp && !icmp && udp.checksum.status == \"Good\" && "
                                         "ip.checksum.status == \"Good\" && data"),
            udp)
      << "not every datagram has good checksums and a payload tshark shows as data: " << pcap_path;
}

// The kernel's `ip -s link` of the TAP in the namespace.
nlohmann::json kernel_link_stats(const TapPeerRig& rig) {
  const CmdResult kls = rig.ns.exec("ip -j -s link show dev " + rig.ifname);
  if (!kls.ok()) return {};
  return nlohmann::json::parse(kls.output).at(0).at("stats64");
}

TEST(TapUdp, RequestResponseBothWaysTenThousandEachWayEveryDatagramCheckedAndEveryLossCounted) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(vnic::tb::test::have_tshark())
      << "tshark is missing: install it (scripts/debian-packages.txt; scripts/install-deps.sh)";
  const std::string peer = udp_peer_binary();
  ASSERT_EQ(::access(peer.c_str(), X_OK), 0) << peer << " is missing: build the vnic_udp_peer target";
  // The window: requests a client has unanswered at once, on each side (VNIC_TAP_UDP_WINDOW
  // changes it to measure; 1 is strict ping-pong).
  uint32_t window = 1;
  if (const char* w = std::getenv("VNIC_TAP_UDP_WINDOW"); w != nullptr && std::atoi(w) > 0) {
    window = static_cast<uint32_t>(std::atoi(w));
  }

  CaptureSetup su("exchange", "VNIC_TAP_UDP_PCAP", Duration::s(50));
  TapPeerRig rig(su.cfg);
  vnic::tb::DriverHost& host = rig.host;
  vnic::tb::TapPort& port = rig.port;
  SimUdp sim(host);

  AppStats sclient, sserver;
  bool client_go = false;
  sim.tasks.spawn(sim.server(sserver, kCount, Duration::s(2)));
  sim.tasks.spawn(sim.client(sclient, &client_go, kCount, window, Duration::s(1)));

  // The run in 10 ms steps (paced to the wall clock by the port). Once our host is up (and our
  // server bound), the kernel's server starts; once it is bound, our client starts, and the
  // kernel's client with it. When all four are done, 50 ms more and the port stops.
  const std::string kserver_out = temp_path("kernel_server", ".out");
  const std::string kclient_out = temp_path("kernel_client", ".out");
  std::unique_ptr<Background> kserver, kclient;
  uint64_t start_ps = 0, stop_at_ps = 0;
  std::chrono::steady_clock::time_point wall_start{};
  double exchange_wall_s = 0;
  host.bring_up();
  const auto wall0 = std::chrono::steady_clock::now();
  while (port.running()) {
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    if (!kserver && sim_ready(host) && sserver.ready) {
      kserver = std::make_unique<Background>(
          "ip netns exec " + rig.ns.name() + " " + peer + " server " + std::to_string(kKernelServerPort) + " " +
              std::to_string(kCount) + " 30000 2000",
          kserver_out);
    }
    if (kserver && !client_go && slurp(kserver_out).find("udp_peer server ready") != std::string::npos) {
      client_go = true;
      kclient = std::make_unique<Background>("ip netns exec " + rig.ns.name() + " " + peer + " client 10.77.0.2 " +
                                                 std::to_string(kSimServerPort) + " " + std::to_string(kCount) + " " +
                                                 std::to_string(window) + " 1000 " + std::to_string(kKernelClientPort),
                                             kclient_out);
      start_ps = now_ps();
      wall_start = std::chrono::steady_clock::now();
    }
    if (stop_at_ps == 0 && kclient && sclient.done && sserver.done &&
        summary(slurp(kserver_out), "udp_peer server ") && summary(slurp(kclient_out), "udp_peer client ")) {
      exchange_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      stop_at_ps = now_ps() + 50'000'000'000;
    }
    if (stop_at_ps != 0 && now_ps() >= stop_at_ps) port.stop();
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));  // what is still on the wire
  host.refresh_stats();                                      // ethtool -S for the drop counters
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  port.close_capture();

  ASSERT_NE(kclient, nullptr) << "never started: our NIC up " << host.up() << ", probe " << host.probe_rc()
                              << ", open " << host.open_rc() << ", our server " << sserver.str()
                              << ", the kernel's server: " << slurp(kserver_out);
  const CmdResult ks = kserver->wait(std::chrono::seconds(5));
  const CmdResult kc = kclient->wait(std::chrono::seconds(5));
  const vnic::tb::TapPortStats& s = port.stats();
  std::cout << "[ NOTE     ] window " << window << ": the exchange took " << exchange_wall_s << " s of wall time and "
            << (stop_at_ps != 0 ? (stop_at_ps - 50'000'000'000 - start_ps) / 1'000'000'000 : 0)
            << " ms simulated (0: it never ended); the whole run " << wall_s
            << " s for " << now_ps() / 1'000'000'000 << " ms simulated; " << s.polls << " polls, " << s.late_polls
            << " late, max lag " << s.max_lag_ns / 1000 << " us; TAP: " << s.tap_reads << " frames from the kernel, "
            << s.tap_writes << " to it\n"
            << "[ NOTE     ] our client: " << sclient.str() << "\n[ NOTE     ] our server: " << sserver.str()
            << "\n[ NOTE     ] " << ks.output << "[ NOTE     ] " << kc.output;
  EXPECT_TRUE(host.stack_error().empty()) << host.stack_error();
  ASSERT_EQ(ks.exit_code, 0) << ks.output;
  ASSERT_EQ(kc.exit_code, 0) << kc.output;
  const auto kserv = summary(ks.output, "udp_peer server ");
  const auto kcli = summary(kc.output, "udp_peer client ");
  ASSERT_TRUE(kserv.has_value()) << ks.output;
  ASSERT_TRUE(kcli.has_value()) << kc.output;

  // Every datagram received was exactly the one its sequence number names (length and bytes),
  // none twice; nothing failed.
  EXPECT_EQ(sclient.setup_rc, 0);
  EXPECT_EQ(sserver.setup_rc, 0);
  EXPECT_TRUE(sclient.done && sserver.done);
  EXPECT_EQ(sclient.bad + sclient.dup + sserver.bad + sserver.dup, 0u) << sclient.str() << " / " << sserver.str();
  EXPECT_EQ(num(*kserv, "bad") + num(*kserv, "dup") + num(*kcli, "bad") + num(*kcli, "dup"), 0u)
      << ks.output << kc.output;
  EXPECT_EQ(sclient.send_errors + sclient.recv_errors + sserver.send_errors + sserver.recv_errors, 0u)
      << sclient.str() << " / " << sserver.str();
  EXPECT_EQ(num(*kserv, "send_errors") + num(*kserv, "recv_errors") + num(*kcli, "send_errors") +
                num(*kcli, "recv_errors"),
            0u)
      << ks.output << kc.output;
  // Every request was sent: 10,000 each way, and each good one answered.
  EXPECT_EQ(sclient.sent, kCount);
  EXPECT_EQ(num(*kcli, "sent"), kCount);
  EXPECT_EQ(num(*kserv, "replied"), num(*kserv, "ok"));
  EXPECT_EQ(sserver.sent, sserver.ok);

  // Losses, per direction: requests and responses sent that the other side's application never
  // got (or got only after its client had given them up: late).
  const uint64_t lost_s2k = (sclient.sent - num(*kserv, "ok")) + (sserver.sent - num(*kcli, "ok") - num(*kcli, "late"));
  const uint64_t lost_k2s = (num(*kserv, "replied") - sclient.ok - sclient.late) + (num(*kcli, "sent") - sserver.ok);
  EXPECT_EQ(sclient.missing, num(*kserv, "replied") - sclient.ok - sclient.late + (sclient.sent - num(*kserv, "ok")))
      << "our client's missing responses are the requests the kernel did not get plus the responses we did not get";

  // Where a datagram can be dropped, by direction, as each side counts it.
  vnic::stack::UdpMib& mib = sim.udp.mib();
  const std::string sim_ip_text = host.net().proc_net_snmp_ip();
  const auto sim_ip = snmp_row(sim_ip_text, "Ip");
  const CmdResult ksnmp = rig.ns.exec("cat /proc/net/snmp");
  ASSERT_TRUE(ksnmp.ok()) << ksnmp.output;
  const auto kudp = snmp_row(ksnmp.output, "Udp");
  const auto kip = snmp_row(ksnmp.output, "Ip");
  ASSERT_FALSE(kudp.empty()) << ksnmp.output;
  const nlohmann::json kl = kernel_link_stats(rig);
  ASSERT_FALSE(kl.is_null());
  std::vector<std::pair<std::string, uint64_t>> s2k = {
      {"our Udp SndbufErrors (a qdisc drop)", mib.SndbufErrors},
      {"the port's wire_rx_runts", s.wire_rx_runts},
      {"the port's fcs_errors", s.fcs_errors},
      {"the port's wire_rx_oversize", s.wire_rx_oversize},
      {"the port's write_errors", s.write_errors},
      {"the kernel's rx dropped (ip -s link)", kl.at("rx").at("dropped").get<uint64_t>()},
      {"the kernel's rx errors (ip -s link)", kl.at("rx").at("errors").get<uint64_t>()},
      {"the kernel's Ip InDiscards", kip.at("InDiscards")},
      {"the kernel's Ip InHdrErrors", kip.at("InHdrErrors")},
      {"the kernel's Ip InAddrErrors", kip.at("InAddrErrors")},
      {"the kernel's Udp InErrors (RcvbufErrors, InCsumErrors, MemErrors)", kudp.at("InErrors")},
      {"the kernel's Udp NoPorts", kudp.at("NoPorts")},
  };
  for (const auto& t : host.tx_drops(0)) s2k.emplace_back("our " + t.label, static_cast<uint64_t>(t.value));
  std::vector<std::pair<std::string, uint64_t>> k2s = {
      {"the kernel's Udp SndbufErrors", kudp.at("SndbufErrors")},
      {"the kernel's tx dropped (ip -s link)", kl.at("tx").at("dropped").get<uint64_t>()},
      {"the port's tap_runts", s.tap_runts},
      {"the port's tap_oversize", s.tap_oversize},
      {"the port's queue_drops", s.queue_drops},
      {"the port's link_down_drops", s.link_down_drops},
      {"our Ip InDiscards", sim_ip.at("InDiscards")},
      {"our Ip InHdrErrors", sim_ip.at("InHdrErrors")},
      {"our Ip InAddrErrors", sim_ip.at("InAddrErrors")},
      {"our Udp InErrors (RcvbufErrors, InCsumErrors, MemErrors)", mib.InErrors},
      {"our Udp NoPorts", mib.NoPorts},
  };
  for (const auto& t : host.rx_drops(0)) k2s.emplace_back("our " + t.label, static_cast<uint64_t>(t.value));
  const auto sum = [](const std::vector<std::pair<std::string, uint64_t>>& v, std::string* text) {
    uint64_t total = 0;
    for (const auto& [name, value] : v) {
      total += value;
      if (value != 0) *text += "  " + name + ": " + std::to_string(value) + "\n";
    }
    return total;
  };
  std::string s2k_text, k2s_text;
  const uint64_t counted_s2k = sum(s2k, &s2k_text);
  const uint64_t counted_k2s = sum(k2s, &k2s_text);
  std::cout << "[ NOTE     ] lost towards the kernel " << lost_s2k << ", counted " << counted_s2k << "\n" << s2k_text
            << "[ NOTE     ] lost towards us " << lost_k2s << ", counted " << counted_k2s << "\n" << k2s_text;
  EXPECT_LE(lost_s2k, counted_s2k) << "datagrams to the kernel lost without a counter; counted:\n" << s2k_text;
  EXPECT_LE(lost_k2s, counted_k2s) << "datagrams to us lost without a counter; counted:\n" << k2s_text;

  // Both sides' Udp MIB agree with what the applications did: every datagram delivered to a
  // socket was read, every one sent counted (OutDatagrams, or SndbufErrors for a qdisc drop as
  // udp_send_skb counts it), none to a closed port, no bad checksum. (InErrors/RcvbufErrors are
  // losses, accounted for above: zero in a run without loss.)
  const std::string sim_udp_text = sim.udp.proc_net_snmp_udp();
  EXPECT_EQ(mib.InDatagrams, sclient.received + sserver.received) << sim_udp_text;
  EXPECT_EQ(mib.OutDatagrams + mib.SndbufErrors, sclient.sent + sserver.sent) << sim_udp_text;
  EXPECT_EQ(mib.NoPorts + mib.InCsumErrors, 0u) << sim_udp_text;
  EXPECT_EQ(kudp.at("InDatagrams"), num(*kserv, "received") + num(*kcli, "received")) << ksnmp.output;
  EXPECT_EQ(kudp.at("OutDatagrams") + kudp.at("SndbufErrors"), num(*kcli, "sent") + num(*kserv, "replied"))
      << ksnmp.output;
  EXPECT_EQ(kudp.at("NoPorts") + kudp.at("InCsumErrors"), 0u) << ksnmp.output;
  // The port: every frame in exactly one of its counters, and the kernel counted what the port
  // wrote (taken or dropped) and read.
  EXPECT_EQ(s.wire_rx_frames, s.wire_rx_runts + s.fcs_errors + s.wire_rx_oversize + s.write_errors + s.tap_writes);
  EXPECT_EQ(s.tap_reads, s.tap_runts + s.tap_oversize + s.queue_drops + s.link_down_drops + s.wire_tx_frames +
                             port.queued());
  EXPECT_EQ(kl.at("rx").at("packets").get<uint64_t>() + kl.at("rx").at("dropped").get<uint64_t>(), s.tap_writes);
  EXPECT_EQ(kl.at("tx").at("packets").get<uint64_t>(), s.tap_reads);

  // The TAP-side capture: every UDP datagram that crossed the TAP, clean by tshark's checks (all
  // 40,000 in a run without loss; a lost one may or may not have crossed it).
  ASSERT_EQ(port.captured(), s.tap_reads + s.tap_writes);
  const uint64_t all_sent = sclient.sent + sserver.sent + num(*kcli, "sent") + num(*kserv, "replied");
  expect_clean_capture(su.pcap_path, static_cast<int>(all_sent - lost_s2k - lost_k2s), static_cast<int>(all_sent));
  if (!HasFailure() && su.keep == nullptr) ::unlink(su.pcap_path.c_str());
}

TEST(TapUdp, ConnectedSocketsOnBothSidesGetEconnrefusedAfterThePeersPortUnreachable) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(vnic::tb::test::have_tshark())
      << "tshark is missing: install it (scripts/debian-packages.txt; scripts/install-deps.sh)";
  const std::string peer = udp_peer_binary();
  ASSERT_EQ(::access(peer.c_str(), X_OK), 0) << peer << " is missing: build the vnic_udp_peer target";

  CaptureSetup su("refused", "VNIC_TAP_UDP_REFUSED_PCAP", Duration::s(15));
  TapPeerRig rig(su.cfg);
  vnic::tb::DriverHost& host = rig.host;
  vnic::tb::TapPort& port = rig.port;
  SimUdp sim(host);
  std::vector<int> ours;
  bool ours_done = false, go = false;
  sim.tasks.spawn(sim.refused(ours, ours_done, &go));

  // Both at once, once our host is up: our connected socket to 10.77.0.1:47199 and the kernel's
  // to 10.77.0.2:47198.
  const std::string kout = temp_path("kernel_refused", ".out");
  std::unique_ptr<Background> kref;
  uint64_t stop_at_ps = 0;
  host.bring_up();
  while (port.running()) {
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
    if (!kref && sim_ready(host)) {
      go = true;
      kref = std::make_unique<Background>("ip netns exec " + rig.ns.name() + " " + peer + " refused 10.77.0.2 " +
                                              std::to_string(kSimClosedPort) + " " + std::to_string(kKernelRefusedPort),
                                          kout);
    }
    if (stop_at_ps == 0 && ours_done && summary(slurp(kout), "udp_peer refused ")) {
      stop_at_ps = now_ps() + 50'000'000'000;
    }
    if (stop_at_ps != 0 && now_ps() >= stop_at_ps) port.stop();
  }
  sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_MS));
  port.close_capture();
  ASSERT_NE(kref, nullptr) << "our NIC never came up: probe " << host.probe_rc() << ", open " << host.open_rc();
  const CmdResult kr = kref->wait(std::chrono::seconds(5));
  std::cout << "[ NOTE     ] ours:";
  for (int r : ours) std::cout << " " << r;
  std::cout << "\n[ NOTE     ] " << kr.output;

  // Ours: the probe goes out; recv returns -ECONNREFUSED (the kernel's port unreachable, reported
  // once); the second probe goes out; 300 ms later the third send returns -ECONNREFUSED.
  const int probe_len = static_cast<int>(kSimProbe.size());
  EXPECT_EQ(ours, (std::vector<int>{probe_len, -vnic::stack::kECONNREFUSED, probe_len, -vnic::stack::kECONNREFUSED}));
  // The kernel's: the same, by its own sockets.
  ASSERT_EQ(kr.exit_code, 0) << kr.output;
  EXPECT_NE(kr.output.find("udp_peer refused first_send=ok recv=ECONNREFUSED second_send=ok third_send=ECONNREFUSED"),
            std::string::npos)
      << kr.output;

  // Our host: 2 datagrams to a port nobody has (NoPorts), 2 port unreachables sent and 2 received.
  const vnic::stack::UdpMib& mib = sim.udp.mib();
  const std::string sim_udp_text = sim.udp.proc_net_snmp_udp();
  EXPECT_EQ(mib.NoPorts, 2u) << sim_udp_text;
  EXPECT_EQ(mib.OutDatagrams, 2u) << sim_udp_text;
  EXPECT_EQ(mib.InDatagrams + mib.InErrors + mib.InCsumErrors, 0u) << sim_udp_text;
  const std::string icmp_text = host.icmp().proc_net_snmp_icmp();
  const auto icmp = snmp_row(icmp_text, "Icmp");
  ASSERT_FALSE(icmp.empty()) << icmp_text;
  EXPECT_EQ(icmp.at("OutDestUnreachs"), 2u) << icmp_text;
  EXPECT_EQ(icmp.at("InDestUnreachs"), 2u) << icmp_text;
  EXPECT_EQ(icmp.at("InErrors") + icmp.at("InCsumErrors"), 0u) << icmp_text;
  // The kernel: the same figures by its own count.
  const CmdResult ksnmp = rig.ns.exec("cat /proc/net/snmp");
  ASSERT_TRUE(ksnmp.ok()) << ksnmp.output;
  const auto kudp = snmp_row(ksnmp.output, "Udp");
  const auto kicmp = snmp_row(ksnmp.output, "Icmp");
  EXPECT_EQ(kudp.at("NoPorts"), 2u) << ksnmp.output;
  EXPECT_EQ(kudp.at("OutDatagrams"), 2u) << ksnmp.output;
  EXPECT_EQ(kudp.at("InDatagrams") + kudp.at("InErrors") + kudp.at("InCsumErrors"), 0u) << ksnmp.output;
  EXPECT_EQ(kicmp.at("OutDestUnreachs"), 2u) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InDestUnreachs"), 2u) << ksnmp.output;
  EXPECT_EQ(kicmp.at("InErrors") + kicmp.at("InCsumErrors"), 0u) << ksnmp.output;

  // The capture: 4 probes, 4 port unreachables (2 each way), nothing flagged; the datagram each
  // unreachable quotes carries its UDP header whole.
  expect_clean_capture(su.pcap_path, 4, 4);
  EXPECT_EQ(vnic::tb::test::tshark_count(su.pcap_path, "icmp.type == 3 && icmp.code == 3 && icmp.checksum.status == \"Good\""), 4)
      << su.pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(su.pcap_path, "icmp.type == 3 && ip.src == 10.77.0.1 && udp.dstport == 47199"), 2)
      << su.pcap_path;
  EXPECT_EQ(vnic::tb::test::tshark_count(su.pcap_path, "icmp.type == 3 && ip.src == 10.77.0.2 && udp.dstport == 47198"), 2)
      << su.pcap_path;
  if (!HasFailure() && su.keep == nullptr) ::unlink(su.pcap_path.c_str());
}

}  // namespace

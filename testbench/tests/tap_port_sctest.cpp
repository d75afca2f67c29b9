// TapPort with the host's kernel as the peer: a scripted station on one side of an EthLink, the
// port on the other, and a TAP device moved into a throw-away network namespace. ARP and ICMP
// echo both ways, FCS handling and padding, oversize frames both ways, write errors, pacing and
// run_for, and (when tshark is installed) tshark's verdict on the TAP-side capture.
// Tests that need root, /dev/net/tun or `ip netns` skip with the reason when those are missing.
// (sc_main is the shared one in tests/support/sc_gtest_main.cpp; each TEST runs in its own process.)
#include <gtest/gtest.h>

#include <systemc>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/netns.hpp"
#include "support/tshark.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/stack/wire/arp.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"
#include "vnic/tb/eth_link.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/tap_port.hpp"

namespace {

using vnic::hw::EventQueue;
using vnic::model::Duration;
using vnic::model::Frame;
using vnic::model::MacAddr;
using vnic::tb::EthLink;
using vnic::tb::EthLinkConfig;
using vnic::tb::TapPort;
using vnic::tb::TapPortConfig;
using vnic::tb::TapPortStats;
using vnic::tb::test::CmdResult;
using vnic::tb::test::NetNs;
using vnic::tb::test::run_command;
using vnic::tb::test::have_tshark;
using vnic::tb::test::tshark_flagged;
namespace wire = vnic::stack::wire;

// Documentation addresses (RFC 5737, RFC 7042 locally administered MACs): never routed anywhere.
constexpr MacAddr kStationMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr MacAddr kNsMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr wire::Ipv4Addr kStationIp{{192, 0, 2, 1}};
constexpr wire::Ipv4Addr kNsIp{{192, 0, 2, 2}};
constexpr uint16_t kIdent = 0x7a70;
constexpr uint16_t kBadFcsSeq = 100;

std::string temp_path(const std::string& stem, const std::string& ext) {
  return vnic::tb::test::temp_path("tap", stem, ext);
}

std::vector<uint8_t> pattern(std::size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

std::vector<uint8_t> eth_frame(const MacAddr& dst, wire::EtherType type, std::span<const uint8_t> payload) {
  wire::EthernetRepr e;
  e.dst = dst;
  e.src = kStationMac;
  e.ethertype = type;
  std::vector<uint8_t> out(e.header_len() + payload.size());
  e.emit(out);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(e.header_len()));
  return out;
}

std::vector<uint8_t> arp_frame(wire::ArpOp op, const MacAddr& dst, const MacAddr& target_mac,
                               const wire::Ipv4Addr& target_ip) {
  wire::ArpRepr a;
  a.op = op;
  a.sender_mac = kStationMac;
  a.sender_ip = kStationIp;
  a.target_mac = target_mac;
  a.target_ip = target_ip;
  std::vector<uint8_t> p(wire::ArpRepr::buffer_len());
  a.emit(p);
  return eth_frame(dst, wire::EtherType::Arp, p);
}

std::vector<uint8_t> icmp_frame(const MacAddr& dst, const wire::Ipv4Addr& dst_ip, const wire::IcmpRepr& icmp,
                                uint16_t ip_ident) {
  std::vector<uint8_t> msg(icmp.buffer_len());
  icmp.emit(msg);
  wire::Ipv4Repr ip;
  ip.src = kStationIp;
  ip.dst = dst_ip;
  ip.protocol = wire::IpProtocol::Icmp;
  ip.ident = ip_ident;
  ip.dont_fragment = true;
  ip.payload_len = static_cast<uint16_t>(msg.size());
  std::vector<uint8_t> pkt(ip.total_len());
  ip.emit(pkt);
  std::copy(msg.begin(), msg.end(), pkt.begin() + static_cast<std::ptrdiff_t>(ip.header_len()));
  return eth_frame(dst, wire::EtherType::Ipv4, pkt);
}

// The scripted station on side 0. It answers ARP requests for its address and echo requests to
// it; what else it sends is up to each test. Anything malformed that reaches it is a "problem".
struct Station : vnic::hw::EthEndpoint {
  EventQueue& q;
  EthLink& link;
  vnic::model::FramePool pool{};
  std::deque<Frame> txq{};
  bool tx_busy = false;
  uint64_t tx_free_at = 0;

  struct Echo {
    uint16_t ident, seq;
    std::vector<uint8_t> data;
  };
  int frames_in = 0, other_frames = 0, padded_arp_checked = 0;
  int kernel_arp_requests = 0, kernel_echo_requests = 0;
  bool kernel_arp_was_broadcast = false;
  uint64_t kernel_arp_at_ps = 0;
  MacAddr kernel_arp_sender{};
  std::vector<wire::ArpRepr> arp_replies{};
  std::vector<Echo> echo_replies{};
  std::vector<std::string> problems{};
  // Test hooks.
  void (*on_arp_reply)(Station&, void*) = nullptr;
  void (*on_echo_answered)(Station&, void*) = nullptr;
  void (*on_echo_reply)(Station&, void*) = nullptr;
  void* ctx = nullptr;

  Station(EventQueue& q_, EthLink& l) : q(q_), link(l) { link.attach(0, this); }

  // As a MAC sends: padded to 60 bytes, FCS (spoilt when asked), one frame after another.
  void send(const std::vector<uint8_t>& body, bool bad_fcs = false) {
    const std::size_t n = std::max<std::size_t>(body.size(), 60);
    Frame f = pool.alloc(n + vnic::model::kFcsLen);
    std::memset(f.data(), 0, n);
    std::memcpy(f.data(), body.data(), body.size());
    vnic::model::write_fcs(f.bytes());
    if (bad_fcs) f.data()[n] ^= 0x5a;
    txq.push_back(std::move(f));
    kick();
  }
  void kick() {
    if (tx_busy || txq.empty()) return;
    const uint64_t start = std::max(q.now_ps(), tx_free_at);
    tx_busy = true;
    q.at_ps<&Station::hand_over>(
        start + static_cast<uint64_t>(link.rate().time_for_bytes(8 + txq.front().size()).ps()), this, start);
  }
  void hand_over(uint64_t start) {
    tx_busy = false;
    Frame f = std::move(txq.front());
    txq.pop_front();
    tx_free_at = start + static_cast<uint64_t>(vnic::hw::wire_time(link.rate(), f.size()).ps());
    link.transmit(0, std::move(f), start);
    kick();
  }

  void eth_link_changed(bool, vnic::model::BitRate) override {}
  void eth_receive(Frame&& in) override {
    const Frame f = std::move(in);
    ++frames_in;
    const auto b = f.bytes();
    if (b.size() < 64) problems.push_back("a runt of " + std::to_string(b.size()) + " bytes from the port");
    if (b.size() < vnic::model::kFcsLen || !vnic::model::fcs_ok(b)) {
      problems.push_back("a frame with a bad FCS from the port");
      return;
    }
    const auto body = b.first(b.size() - vnic::model::kFcsLen);
    const auto eth = wire::EthernetRepr::parse(body);
    if (!eth) {
      problems.push_back("Ethernet: " + std::string(wire::name(eth.error())));
      return;
    }
    const auto payload = body.subspan(eth->header_len());
    if (eth->ethertype == wire::EtherType::Arp) {
      on_arp(*eth, payload);
    } else if (eth->ethertype == wire::EtherType::Ipv4) {
      on_ipv4(*eth, payload);
    } else {
      ++other_frames;
    }
  }

  void on_arp(const wire::EthernetRepr& eth, std::span<const uint8_t> payload) {
    const auto a = wire::ArpRepr::parse(payload);
    if (!a) {
      problems.push_back("ARP: " + std::string(wire::name(a.error())));
      return;
    }
    // The kernel hands over 42 bytes; the port pads them with zeros to 60 as a MAC does.
    const auto pad = payload.subspan(wire::ArpRepr::buffer_len());
    if (pad.size() != 60 - 14 - 28) problems.push_back("an ARP frame not padded to 60 bytes");
    if (std::any_of(pad.begin(), pad.end(), [](uint8_t x) { return x != 0; })) problems.push_back("non-zero padding");
    ++padded_arp_checked;
    if (a->op == wire::ArpOp::Request && a->target_ip == kStationIp) {
      if (kernel_arp_requests++ == 0) kernel_arp_at_ps = q.now_ps();
      kernel_arp_was_broadcast = eth.dst.is_broadcast();
      kernel_arp_sender = a->sender_mac;
      if (a->sender_ip != kNsIp) problems.push_back("ARP request from " + a->sender_ip.str());
      send(arp_frame(wire::ArpOp::Reply, eth.src, a->sender_mac, a->sender_ip));
    } else if (a->op == wire::ArpOp::Reply && a->target_ip == kStationIp) {
      arp_replies.push_back(*a);
      if (on_arp_reply != nullptr) on_arp_reply(*this, ctx);
    } else {
      ++other_frames;
    }
  }

  void on_ipv4(const wire::EthernetRepr& eth, std::span<const uint8_t> payload) {
    const auto ip = wire::Ipv4Repr::parse(payload, wire::ChecksumCheck::Verify);
    if (!ip) {
      problems.push_back("IPv4: " + std::string(wire::name(ip.error())));
      return;
    }
    if (ip->protocol != wire::IpProtocol::Icmp || ip->dst != kStationIp) {
      ++other_frames;
      return;
    }
    const auto msg = payload.subspan(ip->header_len(), ip->payload_len);
    const auto icmp = wire::IcmpRepr::parse(msg, wire::ChecksumCheck::Verify);
    if (!icmp) {
      problems.push_back("ICMP: " + std::string(wire::name(icmp.error())));
      return;
    }
    if (icmp->type == wire::IcmpType::EchoRequest) {
      ++kernel_echo_requests;
      send(icmp_frame(eth.src, ip->src, wire::IcmpRepr::echo_reply(icmp->ident, icmp->seq, icmp->data), 0x4000));
      if (on_echo_answered != nullptr) on_echo_answered(*this, ctx);
    } else if (icmp->type == wire::IcmpType::EchoReply) {
      if (ip->src != kNsIp) problems.push_back("echo reply from " + ip->src.str());
      echo_replies.push_back({icmp->ident, icmp->seq, std::vector<uint8_t>(icmp->data.begin(), icmp->data.end())});
      if (on_echo_reply != nullptr) on_echo_reply(*this, ctx);
    } else {
      ++other_frames;
    }
  }

  void send_arp_request() { send(arp_frame(wire::ArpOp::Request, MacAddr::broadcast(), MacAddr{}, kNsIp)); }
  void send_echo(uint16_t seq, const std::vector<uint8_t>& data, bool bad_fcs = false) {
    send(icmp_frame(kNsMac, kNsIp, wire::IcmpRepr::echo_request(kIdent, seq, data), seq), bad_fcs);
  }
};

// The rig: queue, link (station on side 0, the port on side 1), and a namespace holding the TAP.
struct NsRig {
  NetNs ns;  // built first, so it is torn down last (after the port closed the TAP)
  std::string ifname = NetNs::unique_ifname();
  EventQueue q{"q"};
  EthLink link{"link", q, EthLinkConfig{}};
  Station station{q, link};
  std::optional<TapPort> port;

  explicit NsRig(TapPortConfig cfg) {
    cfg.ifname = ifname;
    port.emplace(q, link, 1, cfg);  // opens (so creates) the TAP in the root namespace
    ns.adopt_tap(ifname, kNsMac.str(), "192.0.2.2/24");
  }

  // The namespace's own counters of the TAP (what `ip -s link` shows).
  nlohmann::json link_stats() const {
    const CmdResult r = ns.exec("ip -j -s link show dev " + ifname);
    if (!r.ok()) throw std::runtime_error("ip -s link: " + r.output);
    return nlohmann::json::parse(r.output).at(0).at("stats64");
  }
};

void expect_port_accounting(const TapPort& p) {
  const TapPortStats& s = p.stats();
  EXPECT_EQ(s.wire_rx_frames, s.wire_rx_runts + s.fcs_errors + s.wire_rx_oversize + s.write_errors + s.tap_writes);
  EXPECT_EQ(s.tap_reads,
            s.tap_runts + s.tap_oversize + s.queue_drops + s.link_down_drops + s.wire_tx_frames + p.queued());
}

int64_t wall_ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
}

// ---- Without the kernel -------------------------------------------------------------------------

TEST(TapPort, RefusesABadConfigWithAClearError) {
  EventQueue q{"q"};
  EthLink link{"link", q, EthLinkConfig{}};
  TapPortConfig cfg;
  cfg.ifname = "a-name-longer-than-ifnamsiz";
  try {
    TapPort p(q, link, 1, cfg);
    FAIL() << "a 27-character interface name was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'a-name-longer-than-ifnamsiz' is not a valid interface name"),
              std::string::npos)
        << e.what();
  }
  cfg.ifname = "tap0";
  cfg.poll = Duration{};
  EXPECT_THROW(TapPort(q, link, 1, cfg), std::invalid_argument);
  cfg.poll = Duration::us(50);
  cfg.max_frame = 10;
  EXPECT_THROW(TapPort(q, link, 1, cfg), std::invalid_argument);
  std::string err;
  EXPECT_EQ(vnic::tb::open_tap("bad/name", &err), -1);
  EXPECT_NE(err.find("not a valid interface name"), std::string::npos) << err;
}

// ---- A TAP in the root namespace, left down: pacing, run_for, and the drop paths -------------------

TEST(TapPort, PacingHoldsSimulatedTimeToWallTimeAndRunForEndsTheRun) {
  if (auto why = NetNs::unavailable(/*need_netns=*/false)) GTEST_SKIP() << *why;
  EventQueue q{"q"};
  EthLink link{"link", q, EthLinkConfig{}};
  Station station{q, link};
  TapPortConfig cfg;
  cfg.ifname = NetNs::unique_ifname();  // created down in the root namespace: no traffic at all
  cfg.poll = Duration::ms(1);
  cfg.run_for = Duration::ms(40);
  TapPort port(q, link, 1, cfg);

  // At 1 ms: a frame with a good FCS (the down TAP refuses it), a runt, a bad FCS, an oversize.
  struct Ctx {
    Station* s;
  } ctx{&station};
  q.at_ps(1'000'000'000, [](void* c, uint64_t) {
    Station& s = *static_cast<Ctx*>(c)->s;
    s.send_arp_request();
    Frame runt = s.pool.alloc(10);
    std::memset(runt.data(), 0, 10);
    s.link.transmit(0, std::move(runt), s.q.now_ps());
    s.send_echo(1, pattern(8, 1), /*bad_fcs=*/true);
    s.send_echo(2, pattern(1600, 2));
  }, &ctx);

  const auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const int64_t wall_ns = wall_ns_since(wall0);
  const uint64_t sim_ns = vnic::hw::to_ps(sc_core::sc_time_stamp()) / 1000;

  const TapPortStats& s = port.stats();
  // Polls at 0, 1, ..., 40 ms, then none: the simulation ends by itself at 40 ms.
  EXPECT_EQ(s.polls, 41u);
  EXPECT_FALSE(port.running());
  EXPECT_EQ(sim_ns, 40'000'000u);
  // Simulated time never ran ahead of the wall clock: 40 ms of it took at least 40 ms.
  EXPECT_GE(wall_ns, 40'000'000);
  EXPECT_GT(s.slept_ns, 0u);
  EXPECT_EQ(s.wire_rx_frames, 4u);
  EXPECT_EQ(s.wire_rx_runts, 1u);
  EXPECT_EQ(s.fcs_errors, 1u);
  EXPECT_EQ(s.wire_rx_oversize, 1u);
  EXPECT_EQ(s.write_errors, 1u);  // the TAP is down: the kernel refuses the write (EIO)
  EXPECT_NE(port.last_error().find("write to tap '" + cfg.ifname + "'"), std::string::npos) << port.last_error();
  EXPECT_EQ(s.tap_writes, 0u);
  EXPECT_EQ(s.tap_reads, 0u);
  EXPECT_EQ(s.read_errors, 0u);
  expect_port_accounting(port);
}

// ---- The kernel in a namespace as the peer ----------------------------------------------------------

TEST(TapPort, KernelInANamespaceAnswersArpAndEchoAndResolvesTheStation) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(run_command("command -v ping").ok()) << "ping is missing: install iputils-ping (scripts/install-deps.sh)";
  const std::string pcap_path = temp_path("kernel", ".pcap");
  TapPortConfig cfg;
  cfg.pcap = pcap_path;
  cfg.run_for = Duration::s(4);  // a bound if the script stalls; it normally stops the port itself
  NsRig rig(cfg);
  Station& st = rig.station;
  TapPort& port = *rig.port;

  // The script. Phase 1: the kernel pings the station (spawned below): its ARP request for the
  // station's address comes through the port and the station answers it, then the echo. Phase 2,
  // 1 ms after that (or at 1.5 s if the kernel never asked): the station resolves the namespace's
  // address and pings it, first with a spoilt FCS, then three good requests; 20 ms after the last
  // reply the port stops and the simulation ends.
  struct Script {
    EventQueue& q;
    Station& st;
    TapPort& port;
    bool phase2 = false;
    bool finishing = false;
    uint64_t deadline = EventQueue::kNone;
    std::vector<std::vector<uint8_t>> data{{}, pattern(56, 3), pattern(1472, 9)};  // seq 1, 2, 3
    void start_phase2(uint64_t) {
      if (phase2) return;
      phase2 = true;
      if (deadline != EventQueue::kNone) q.cancel(deadline);
      st.send_arp_request();
    }
    void finish(uint64_t) { port.stop(); }
  } script{rig.q, st, port};
  st.ctx = &script;
  st.on_echo_answered = [](Station&, void* c) {
    auto& s = *static_cast<Script*>(c);
    s.q.after<&Script::start_phase2>(sc_core::sc_time(1, sc_core::SC_MS), &s);
  };
  st.on_arp_reply = [](Station& station, void* c) {
    auto& s = *static_cast<Script*>(c);
    if (station.arp_replies.size() != 1) return;
    station.send_echo(kBadFcsSeq, s.data[1], /*bad_fcs=*/true);
    for (uint16_t seq = 1; seq <= 3; ++seq) station.send_echo(seq, s.data[seq - 1]);
  };
  st.on_echo_reply = [](Station& station, void* c) {
    auto& s = *static_cast<Script*>(c);
    if (station.echo_replies.size() >= 3 && !s.finishing) {
      s.finishing = true;
      s.q.after<&Script::finish>(sc_core::sc_time(20, sc_core::SC_MS), &s);
    }
  };
  script.deadline = rig.q.at_ps<&Script::start_phase2>(1'500'000'000'000, &script);

  vnic::tb::test::Background ping =
      rig.ns.spawn("ping -n -c 1 -W 2 " + kStationIp.str(), temp_path("ping", ".out"));
  const auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const int64_t wall_ns = wall_ns_since(wall0);
  const CmdResult ping_result = ping.wait(std::chrono::seconds(3));
  port.close_capture();

  const TapPortStats& s = port.stats();
  std::cout << "[ NOTE     ] kernel ARP request at " << st.kernel_arp_at_ps / 1000'000 << " us, simulation ended at "
            << vnic::hw::to_ps(sc_core::sc_time_stamp()) / 1000'000 << " us after " << wall_ns / 1000
            << " us of wall time; "
            << s.polls << " polls, " << s.late_polls << " late, max lag " << s.max_lag_ns / 1000 << " us, slept "
            << s.slept_ns / 1000 << " us\n";
  for (const std::string& p : st.problems) ADD_FAILURE() << p;
  // Phase 1: the kernel's ARP request (broadcast, from its own MAC) and its ping both answered.
  // (A kernel that waited more than a second for the reply would ask again: on a loaded machine
  // the counts below allow for that.)
  EXPECT_GE(st.kernel_arp_requests, 1);
  EXPECT_LE(st.kernel_arp_requests, 3);
  EXPECT_TRUE(st.kernel_arp_was_broadcast);
  EXPECT_EQ(st.kernel_arp_sender, kNsMac);
  EXPECT_EQ(st.kernel_echo_requests, 1);
  EXPECT_EQ(ping_result.exit_code, 0) << ping_result.output;
  EXPECT_NE(ping_result.output.find("1 received"), std::string::npos) << ping_result.output;
  // Phase 2: the kernel's ARP reply, then a correct reply to each good request and none to the
  // request whose FCS was spoilt (the port dropped it).
  ASSERT_EQ(st.arp_replies.size(), 1u);
  EXPECT_EQ(st.arp_replies[0].sender_mac, kNsMac);
  EXPECT_EQ(st.arp_replies[0].sender_ip, kNsIp);
  EXPECT_EQ(st.arp_replies[0].target_mac, kStationMac);
  ASSERT_EQ(st.echo_replies.size(), 3u);
  for (uint16_t seq = 1; seq <= 3; ++seq) {
    const Station::Echo& e = st.echo_replies[seq - 1];
    EXPECT_EQ(e.ident, kIdent);
    EXPECT_EQ(e.seq, seq);
    EXPECT_EQ(e.data, script.data[seq - 1]) << "seq " << seq;
  }
  EXPECT_EQ(st.other_frames, 0);
  EXPECT_EQ(st.padded_arp_checked, st.kernel_arp_requests + 1);  // the kernel's ARP request(s) and reply

  // The port's counters. From the station: its answers to the kernel (ARP and echo), its ARP
  // request, the spoilt request (never written) and three good ones. From the kernel: its ARP
  // request(s), its echo request, its ARP reply and three echo replies (usually 6 and 6).
  const auto asked = static_cast<uint64_t>(st.kernel_arp_requests + st.kernel_echo_requests);
  EXPECT_EQ(s.wire_rx_frames, asked + 5);
  EXPECT_EQ(s.fcs_errors, 1u);
  EXPECT_EQ(s.tap_writes, asked + 4);
  EXPECT_EQ(s.write_errors + s.wire_rx_runts + s.wire_rx_oversize, 0u);
  EXPECT_EQ(s.tap_reads, asked + 4);
  EXPECT_EQ(s.wire_tx_frames, s.tap_reads);
  // The ARP frames and the echo reply without data: 42 bytes each.
  EXPECT_EQ(s.padded, static_cast<uint64_t>(st.kernel_arp_requests) + 2);
  EXPECT_EQ(s.read_errors + s.tap_runts + s.tap_oversize + s.queue_drops + s.link_down_drops, 0u);
  EXPECT_EQ(static_cast<uint64_t>(st.frames_in), s.wire_tx_frames);
  EXPECT_TRUE(port.last_error().empty()) << port.last_error();
  EXPECT_EQ(rig.link.stats(1).tx_overlap_errors, 0u);  // the port kept the IFG between its frames
  expect_port_accounting(port);

  // The kernel's side agrees: it received exactly what the port wrote (not the bad-FCS frame),
  // and sent exactly what the port read.
  const nlohmann::json ks = rig.link_stats();
  EXPECT_EQ(ks.at("rx").at("packets").get<uint64_t>(), s.tap_writes);
  EXPECT_EQ(ks.at("rx").at("bytes").get<uint64_t>(), s.tap_write_bytes);
  EXPECT_EQ(ks.at("tx").at("packets").get<uint64_t>(), s.tap_reads);

  // Pacing: simulated time was never more than one poll ahead of the wall clock.
  const uint64_t sim_ns = vnic::hw::to_ps(sc_core::sc_time_stamp()) / 1000;
  EXPECT_GT(s.polls, 0u);
  EXPECT_LE(static_cast<int64_t>(sim_ns), wall_ns + cfg.poll.ps() / 1000);

  // The TAP-side capture: both directions, without FCS; tshark finds nothing wrong in it.
  ASSERT_EQ(port.captured(), s.tap_reads + s.tap_writes);
  std::string err;
  const auto recs = vnic::tb::read_pcap(pcap_path, &err);
  ASSERT_TRUE(recs.has_value()) << err;
  ASSERT_EQ(recs->size(), s.tap_reads + s.tap_writes);
  // As the kernel sent them, unpadded: its ARP frames and the echo reply without data.
  EXPECT_EQ(std::count_if(recs->begin(), recs->end(), [](const auto& r) { return r.bytes.size() == 42; }),
            st.kernel_arp_requests + 2);
  if (!have_tshark()) {
    std::cout << "[ NOTE     ] tshark is not installed: the capture was not dissected\n";
  } else {
    const auto flagged = tshark_flagged(pcap_path, &err);
    ASSERT_TRUE(flagged.has_value()) << err;
    EXPECT_TRUE(flagged->empty()) << "tshark flags " << flagged->size() << " frame(s) in " << pcap_path;
    const CmdResult icmp = run_command("tshark -n -r " + pcap_path +
                                       " -o ip.check_checksum:TRUE -Y 'icmp.checksum.status == \"Good\" && "
                                       "ip.checksum.status == \"Good\"' -T fields -e frame.number 2>/dev/null | wc -l");
    EXPECT_EQ(std::stoi(icmp.output), 8) << "every ICMP frame's checksums verified by tshark";

    // The same filter does catch bad frames: one good frame, one with a bad IPv4 header
    // checksum, one with a bad ICMP checksum, and one cut short.
    const std::string bad_path = temp_path("bad", ".pcap");
    {
      vnic::tb::PcapWriter w;
      ASSERT_TRUE(w.open(bad_path, &err)) << err;
      const auto good = icmp_frame(kNsMac, kNsIp, wire::IcmpRepr::echo_request(1, 1, pattern(32, 1)), 1);
      w.write(0, good);
      auto bad_ip = good;
      bad_ip[14 + 10] ^= 0x01;
      w.write(1000, bad_ip);
      auto bad_icmp = good;
      bad_icmp[14 + 20 + 2] ^= 0x01;
      w.write(2000, bad_icmp);
      w.write(3000, std::span<const uint8_t>(good).first(14 + 12));
    }
    const auto caught = tshark_flagged(bad_path, &err);
    ::unlink(bad_path.c_str());
    ASSERT_TRUE(caught.has_value()) << err;
    EXPECT_EQ(*caught, (std::vector<int>{2, 3, 4}));
  }
  if (!HasFailure()) ::unlink(pcap_path.c_str());
}

TEST(TapPort, FramesAboveMaxFrameAreCountedAndDroppedBothWays) {
  if (auto why = NetNs::unavailable()) GTEST_SKIP() << *why;
  ASSERT_TRUE(run_command("command -v ping").ok()) << "ping is missing: install iputils-ping (scripts/install-deps.sh)";
  TapPortConfig cfg;
  cfg.max_frame = 200;
  cfg.run_for = Duration::s(3);
  NsRig rig(cfg);
  Station& st = rig.station;
  TapPort& port = *rig.port;

  // The station resolves the namespace and sends a 342-byte request (dropped by the port) and a
  // 142-byte one (answered). The kernel pings the station with 442-byte frames (dropped by the
  // port). The port stops once both drops and the reply are in, or at run_for.
  struct Script {
    EventQueue& q;
    Station& st;
    TapPort& port;
    void check(uint64_t) {
      if (!st.echo_replies.empty() && port.stats().tap_oversize > 0) {
        port.stop();
        return;
      }
      if (port.running()) q.after<&Script::check>(sc_core::sc_time(1, sc_core::SC_MS), this);
    }
    void begin(uint64_t) { st.send_arp_request(); }
  } script{rig.q, st, port};
  st.ctx = &script;
  st.on_arp_reply = [](Station& station, void*) {
    if (station.arp_replies.size() != 1) return;
    station.send_echo(1, pattern(300, 1));  // 14 + 20 + 8 + 300 = 342 bytes
    station.send_echo(2, pattern(100, 2));  // 142 bytes
  };
  rig.q.at_ps<&Script::begin>(5'000'000'000, &script);
  rig.q.at_ps<&Script::check>(5'000'000'000, &script);
  vnic::tb::test::Background ping =
      rig.ns.spawn("ping -n -c 1 -s 400 -W 2 " + kStationIp.str(), temp_path("ping_big", ".out"));
  sc_core::sc_start();

  for (const std::string& p : st.problems) ADD_FAILURE() << p;
  const TapPortStats& s = port.stats();
  EXPECT_EQ(s.wire_rx_oversize, 1u);
  EXPECT_GE(s.tap_oversize, 1u);
  ASSERT_EQ(st.echo_replies.size(), 1u);
  EXPECT_EQ(st.echo_replies[0].seq, 2u);
  EXPECT_EQ(st.kernel_echo_requests, 0);  // the kernel's 442-byte requests never reached the wire
  expect_port_accounting(port);
  EXPECT_EQ(rig.link_stats().at("rx").at("packets").get<uint64_t>(), s.tap_writes);
}

}  // namespace

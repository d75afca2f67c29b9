// The loopback device lo (drivers/net/loopback.c) and the host unreachable a failed neighbour
// reports (arp_error_report -> ipv4_link_failure -> __icmp_send), as Linux 6.1 has them: sends to
// 127.0.0.1 and to the host's own address go out through lo and come back in through the backlog
// with the same packet id, lo's counters move, TCP connects to itself, ping gets its replies, and a
// connect() to an absent host on the link fails with EHOSTUNREACH once ARP gives up (~3 s).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "support/account.hpp"
#include "support/pair_rig.hpp"
#include "vnic/stack/apps/ping_app.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/tcp.hpp"
#include "vnic/stack/udp.hpp"
#include "vnic/stack/wire/checksum.hpp"

namespace vnic::stack {
namespace {

using testing::expect_account;
using testing::ip4;
using testing::journey;
using testing::RecordingSink;

// host_a with its protocols, traced (the stack and the softnet to one sink); host_b is the peer
// on the link (10.0.0.2, its ARP static on host_a).
struct LoRig : testing::PairRig {
  Icmp icmp{*a.net};
  Udp udp{*a.net, icmp};
  Tcp tcp{*a.net, icmp};
  Icmp icmp_b{*b.net};
  TaskScope tasks;
  RecordingSink sink;

  LoRig() {
    static_arp();
    a.net->set_trace(&sink, "host_a");
    a.softnet.set_trace(&sink, "host_a");
    b.net->set_trace(&sink, "host_b");  // where host_a's ARP requests end
  }
  void run_for(Duration d) { run_until(std::max(a.cpu.now(), b.cpu.now()) + d); }
  // The kinds of one packet's events, in order.
  std::vector<TraceKind> kinds(uint64_t id) const {
    std::vector<TraceKind> v;
    for (const TraceEvent& e : sink.of_packet(id)) v.push_back(e.kind);
    return v;
  }
  bool has(uint64_t id, TraceKind k) const {
    for (TraceKind x : kinds(id)) {
      if (x == k) return true;
    }
    return false;
  }
  // The ids of packets freed with `why`, each as often as it was.
  std::vector<uint64_t> dropped_with(SkbDropReason why) const {
    std::vector<uint64_t> v;
    for (const auto& r : sink.events) {
      if (r.e.kind == TraceKind::Drop && r.e.a == static_cast<uint32_t>(why)) v.push_back(r.e.packet);
    }
    return v;
  }
};

// A datagram to 127.0.0.1 and one to our own 10.0.0.1: both leave through lo (nothing on eth0),
// come in through the backlog, are read by the socket; lo counts 2 packets each way with their
// bytes from the IP header; each keeps its id from the sender's send() to the reader's recvmsg().
TEST(Loopback, UdpToLocalhostAndToOurOwnAddressArrivesWithItsId) {
  LoRig p;
  UdpSock* rx = p.udp.socket();
  ASSERT_EQ(p.udp.bind(*rx, {wire::Ipv4Addr{}, 5000}), 0);
  UdpSock* tx = p.udp.socket();
  const std::vector<uint8_t> d = {1, 2, 3, 4, 5, 6, 7};
  uint64_t id1 = 0, id2 = 0;
  const SockAddrIn to_lo{ip4("127.0.0.1"), 5000}, to_own{ip4("10.0.0.1"), 5000};
  ASSERT_EQ(p.udp.sendmsg(p.a.cpu, *tx, d, 0, &to_lo, &id1), 7);
  ASSERT_EQ(p.udp.sendmsg(p.a.cpu, *tx, d, 0, &to_own, &id2), 7);
  p.run_for(Duration::ms(1));
  EXPECT_TRUE(p.a.dev.sent.empty());
  std::vector<uint8_t> buf(64);
  RecvMeta m1, m2;
  ASSERT_EQ(p.udp.recvmsg(p.a.cpu, *rx, buf, 0, &m1), 7);
  EXPECT_EQ(m1.from.addr, ip4("127.0.0.1"));  // the local route's prefsrc
  ASSERT_EQ(p.udp.recvmsg(p.a.cpu, *rx, buf, 0, &m2), 7);
  EXPECT_EQ(m2.from.addr, ip4("10.0.0.1"));
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + 7), d);
  const Loopback& lo = p.a.net->loopback();
  EXPECT_EQ(lo.lstats_packets(), 2u);
  EXPECT_EQ(lo.lstats_bytes(), 2u * (20 + 8 + 7));
  EXPECT_EQ(lo.get_stats64().rx_packets, 2u);
  EXPECT_EQ(lo.get_stats64().tx_bytes, 70u);
  EXPECT_NE(p.a.net->ip_s_link().find("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN"),
            std::string::npos);
  EXPECT_NE(p.a.net->ip_s_link().find("            70       2      0       0       0       0 \n    TX:"),
            std::string::npos)
      << p.a.net->ip_s_link();
  // A 127/8 source and our own address as source are no martians on lo (the kept route).
  EXPECT_EQ(p.a.net->rt_cache_stats().in_martian_src, 0u);
  EXPECT_EQ(p.a.net->ip_mib().InReceives, 2u);
  EXPECT_EQ(p.a.net->ip_mib().OutRequests, 2u);
  EXPECT_EQ(p.udp.mib().InDatagrams, 2u);
  for (uint64_t id : {id1, id2}) {
    // egress on the sender, lo's turn-around, then the receive path to the reader: one id.
    const std::vector<TraceKind> k = p.kinds(id);
    ASSERT_FALSE(k.empty());
    EXPECT_EQ(k.front(), TraceKind::SockSend);
    EXPECT_EQ(k.back(), TraceKind::Consumed) << ::testing::PrintToString(journey(p.sink, id));
    for (TraceKind want : {TraceKind::IpSend, TraceKind::NeighOutput, TraceKind::DevQueueXmit, TraceKind::EthTypeTrans,
                           TraceKind::NetifRx, TraceKind::ReceiveSkb, TraceKind::IpRcv, TraceKind::RouteInput,
                           TraceKind::IpLocalDeliver, TraceKind::SockQueue, TraceKind::AppRecv}) {
      EXPECT_TRUE(p.has(id, want)) << trace_kind_name(want) << "\n" << ::testing::PrintToString(journey(p.sink, id));
    }
  }
  expect_account(p.sink, {});
  EXPECT_EQ(p.a.pool.live(), 0u);
}

// A frame from the wire claiming a loopback source is still a martian: only lo's packets keep
// their output route past ip_rcv_finish.
TEST(Loopback, A127SourceFromTheWireIsStillAMartian) {
  LoRig p;
  SkBuff* skb = p.b.net->alloc_skb(p.b.cpu, 8);
  ASSERT_NE(skb, nullptr);
  NetStack::IpSend ip;
  ip.saddr = ip4("10.0.0.2");
  ip.daddr = ip4("10.0.0.1");
  ip.protocol = 17;
  p.b.dev.mangle = [](std::span<uint8_t> f) {
    f[14 + 12] = 127;  // source 127.0.0.2, the header checksum mended
    f[14 + 15] = 2;
    f[14 + 10] = f[14 + 11] = 0;
    const uint16_t c = wire::internet_checksum(f.subspan(14, 20));
    f[14 + 10] = static_cast<uint8_t>(c >> 8);
    f[14 + 11] = static_cast<uint8_t>(c);
  };
  ASSERT_EQ(p.b.net->ip_send(p.b.cpu, skb, ip), 0);
  p.run_for(Duration::ms(1));
  EXPECT_EQ(p.a.net->rt_cache_stats().in_martian_src, 1u);
  EXPECT_EQ(p.udp.mib().NoPorts, 0u);
}

// A send from a source that is not ours is refused before any route, whatever the destination.
TEST(Loopback, ASendFromAForeignSourceIsStillRefused) {
  LoRig p;
  for (const char* dst : {"127.0.0.1", "10.0.0.1"}) {
    SkBuff* skb = p.a.net->alloc_skb(p.a.cpu, 8);
    ASSERT_NE(skb, nullptr);
    EXPECT_EQ(p.a.net->ip_send(p.a.cpu, skb, {.saddr = ip4("10.9.9.9"), .daddr = ip4(dst), .protocol = 17}),
              -kENETUNREACH);
  }
  EXPECT_EQ(p.a.net->loopback().lstats_packets(), 0u);
  EXPECT_EQ(p.a.net->ip_mib().OutNoRoutes, 2u);
  EXPECT_EQ(p.a.pool.live(), 0u);
}

// TCP to our own address: the handshake and data both ways go through lo (MSS from lo's MTU).
TEST(Loopback, TcpConnectsToOurOwnAddressAndMovesDataBothWays) {
  LoRig p;
  TcpSock* l = p.tcp.socket();
  ASSERT_EQ(p.tcp.bind(*l, {wire::Ipv4Addr{}, 5001}), 0);
  ASSERT_EQ(p.tcp.listen(*l, 16), 0);
  TcpSock* c = p.tcp.socket();
  int crc = 1;
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, int& rc) -> Co<void> {
    rc = co_await t.connect_wait(cpu, *sk, {ip4("10.0.0.1"), 5001});
  }(p.tcp, p.a.cpu, c, crc));
  p.run_for(Duration::ms(5));
  ASSERT_EQ(crc, 0);
  TcpSock* s = p.tcp.accept(*l);
  ASSERT_NE(s, nullptr);
  // From lo's 65536 less the headers (and, as tcp_sync_mss does, at most half the largest window
  // seen), not eth0's 1448.
  EXPECT_GT(c->mss_cache, 30000u);
  std::vector<uint8_t> up(200'000), down(50'000);
  for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<uint8_t>(i * 7);
  for (std::size_t i = 0; i < down.size(); ++i) down[i] = static_cast<uint8_t>(i * 13 + 1);
  std::vector<uint8_t> got_up(up.size()), got_down(down.size());
  int r_up = 0, r_down = 0;
  auto read_all = [](Tcp& t, Cpu& cpu, TcpSock* sk, std::vector<uint8_t>& into, int& got) -> Co<void> {
    got = co_await t.recv(cpu, *sk, into, kMsgWaitall);
  };
  p.tasks.spawn(read_all(p.tcp, p.a.cpu, s, got_up, r_up));
  p.tasks.spawn(read_all(p.tcp, p.a.cpu, c, got_down, r_down));
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
    co_await t.send(cpu, *sk, data);
  }(p.tcp, p.a.cpu, c, up));
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, const std::vector<uint8_t>& data) -> Co<void> {
    co_await t.send(cpu, *sk, data);
  }(p.tcp, p.a.cpu, s, down));
  p.run_for(Duration::s(2));
  EXPECT_EQ(r_up, static_cast<int>(up.size()));
  EXPECT_EQ(r_down, static_cast<int>(down.size()));
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
  EXPECT_TRUE(p.a.dev.sent.empty());
  EXPECT_GT(p.a.net->loopback().lstats_packets(), 5u);
  EXPECT_EQ(p.a.net->rt_cache_stats().in_martian_src, 0u);
}

// ping 10.0.0.1: the echo request loops through lo to icmp_rcv, the reply back to the socket.
TEST(Loopback, PingToOurOwnAddressIsAnswered) {
  LoRig p;
  PingOptions o;
  o.dst = ip4("10.0.0.1");
  o.count = 2;
  PingApp app(*p.a.net, p.icmp, p.a.cpu, o);
  p.tasks.spawn(app.run());
  p.run_for(Duration::s(5));
  ASSERT_TRUE(app.done());
  EXPECT_EQ(app.stats().received, 2u) << app.output();
  EXPECT_NE(app.output().find("64 bytes from 10.0.0.1: icmp_seq=1 ttl=64 time="), std::string::npos) << app.output();
  EXPECT_EQ(p.icmp.mib().in_type(8), 2u);
  EXPECT_EQ(p.icmp.mib().out_type(0), 2u);
  EXPECT_EQ(p.a.net->loopback().lstats_packets(), 4u);
  expect_account(p.sink, {});
}

// connect() to 10.0.0.3, on the link but absent: the SYN waits for ARP, which gives up after its
// 3 broadcast probes 1 s apart; the SYN is reported (a host unreachable from our own address
// through lo, InDestUnreachs/OutDestUnreachs) and dropped once as NEIGH_FAILED, and tcp_v4_err
// in SYN-SENT makes the connect fail with EHOSTUNREACH at ~3 s, not ETIMEDOUT minutes later.
TEST(NeighFailed, ConnectToAnAbsentHostFailsWithEHostUnreachAfterArpGivesUp) {
  LoRig p;
  TcpSock* c = p.tcp.socket();
  int rc = 1;
  Instant done_at{};
  p.tasks.spawn([](Tcp& t, Cpu& cpu, TcpSock* sk, int& r, Instant& at) -> Co<void> {
    r = co_await t.connect_wait(cpu, *sk, {ip4("10.0.0.3"), 80});
    at = cpu.now();
  }(p.tcp, p.a.cpu, c, rc, done_at));
  p.run_for(Duration::ms(2900));
  EXPECT_EQ(rc, 1);  // still waiting
  p.run_for(Duration::s(10));
  EXPECT_EQ(rc, -kEHOSTUNREACH);
  EXPECT_GE(done_at, Instant{} + Duration::s(3));
  EXPECT_LT(done_at, Instant{} + Duration::ms(3100));
  EXPECT_EQ(c->tstate, TcpState::Close);
  EXPECT_EQ(p.icmp.mib().out_type(3), p.icmp.mib().in_type(3));
  EXPECT_GE(p.icmp.mib().out_type(3), 1u);
  // The first host unreachable quotes snd_una with the RTO backed off once: tcp_ld_RTO_revert
  // (RFC 6069) undoes the step, finds the shorter RTO (1 s, no RTT yet) already past since the
  // SYN's last transmission and retransmits it at once, just before tcp_done; that SYN waits on
  // the neighbour again, which fails a second time 3 s later. The ICMPs after the first find no
  // socket (the 1 s retransmission's, and the revert's): tcp_v4_err counts each in InErrors.
  EXPECT_EQ(p.a.net->neigh().stats().res_failed, 2u);
  EXPECT_EQ(p.icmp.mib().InErrors, 2u);
  // Each waiting SYN (the first, its 1 s retransmission, the revert's) dropped once as
  // NEIGH_FAILED. Linux 6.1 would not queue the 1 s retransmission: skb_still_in_host_queue finds
  // the first SYN's clone still waiting and counts TCPSpuriousRtxHostQueues instead (not
  // modelled: docs/tcp.md).
  const std::vector<uint64_t> failed = p.dropped_with(SkbDropReason::NeighFailed);
  ASSERT_FALSE(failed.empty());
  EXPECT_EQ(std::set<uint64_t>(failed.begin(), failed.end()).size(), failed.size());
  EXPECT_EQ(failed.size(), p.icmp.mib().out_type(3));
  // The host unreachables are new packets: made by ICMP, through lo, ended by icmp_rcv.
  std::size_t icmp_made = 0;
  for (const auto& r : p.sink.events) {
    if (r.e.kind != TraceKind::PacketMade || !p.has(r.e.packet, TraceKind::EthTypeTrans)) continue;
    ++icmp_made;
    EXPECT_TRUE(p.has(r.e.packet, TraceKind::IpRcv));
  }
  EXPECT_EQ(icmp_made, failed.size());
  expect_account(p.sink, {});
  EXPECT_EQ(p.a.pool.live(), 0u);
}

// A connected UDP socket is not told: a host unreachable is no hard error in 6.1
// (icmp_err_convert[ICMP_HOST_UNREACH].fatal 0) and without IP_RECVERR __udp4_lib_err reports
// only hard ones. The ICMP still arrives (InDestUnreachs) and is consumed.
TEST(NeighFailed, AConnectedUdpSocketIsNotToldOfTheHostUnreachable) {
  LoRig p;
  UdpSock* s = p.udp.socket();
  ASSERT_EQ(p.udp.connect(*s, SockAddrIn{ip4("10.0.0.3"), 7000}), 0);
  const std::vector<uint8_t> d(16, 1);
  ASSERT_EQ(p.udp.sendmsg(p.a.cpu, *s, d, 0), 16);
  p.run_for(Duration::s(5));
  EXPECT_EQ(p.icmp.mib().out_type(3), 1u);
  EXPECT_EQ(p.icmp.mib().in_type(3), 1u);
  EXPECT_EQ(s->err, 0);
  std::vector<uint8_t> buf(64);
  EXPECT_EQ(p.udp.recvmsg(p.a.cpu, *s, buf, 0), -kEAGAIN);
  expect_account(p.sink, {});
}

}  // namespace
}  // namespace vnic::stack

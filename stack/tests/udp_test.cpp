// UDP and its sockets (stack/src/ipv4/udp.cpp, stack/src/core/sock.cpp) against Linux 6.1's
// rules: lookup scoring, bind conflicts, ephemeral ports, checksums, length checks, MSG_TRUNC and
// MSG_PEEK, the receive buffer's limit, SO_RCVBUF/SO_SNDBUF, port unreachable, ECONNREFUSED,
// the send buffer, poll masks and wakes, the blocking calls, and the trace of both paths.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "support/net_rig.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/eventpoll.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/ip.hpp"
#include "vnic/stack/udp.hpp"
#include "vnic/stack/wire/udp.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::kMacB;
using testing::NetRig;

struct UdpRig : NetRig {
  Icmp icmp{*net};
  Udp udp{*net, icmp};
  explicit UdpRig(NetStackConfig cfg = {}) : NetRig(cfg) {
    net->neigh().neigh_add(dev, ip4("10.0.0.2"), kMacB, kNudPermanent);
  }
  // A UDP datagram's bytes (header + payload) with a correct checksum, or `check` if given.
  static std::vector<uint8_t> udp_bytes(const char* src, const char* dst, uint16_t sport, uint16_t dport,
                                        std::size_t payload, int check = -1) {
    std::vector<uint8_t> v(wire::kUdpHeaderLen + payload);
    for (std::size_t i = 0; i < payload; ++i) v[wire::kUdpHeaderLen + i] = static_cast<uint8_t>(i);
    wire::UdpRepr{sport, dport, static_cast<uint16_t>(payload)}.emit(v, ip4(src), ip4(dst));
    if (check >= 0) {
      v[6] = static_cast<uint8_t>(check >> 8);
      v[7] = static_cast<uint8_t>(check);
    }
    return v;
  }
  void deliver(const std::vector<uint8_t>& l4, uint64_t id, const char* src = "10.0.0.2", const char* dst = "10.0.0.1") {
    receive(frame(0x0800, datagram(src, dst, 17, l4), id));
    cpu.run();
  }
  void deliver_udp(uint16_t sport, uint16_t dport, std::size_t payload, uint64_t id, const char* src = "10.0.0.2",
                   const char* dst = "10.0.0.1") {
    deliver(udp_bytes(src, dst, sport, dport, payload), id, src, dst);
  }
  UdpSock* bound(const char* addr, uint16_t port, bool reuse = false) {
    UdpSock* s = udp.socket();
    s->reuse = reuse;
    EXPECT_EQ(udp.bind(*s, {ip4(addr), port}), 0);
    return s;
  }
  int read(UdpSock& s, std::size_t len = 2048, int flags = 0, RecvMeta* m = nullptr) {
    std::vector<uint8_t> buf(len);
    return udp.recvmsg(cpu, s, buf, flags, m);
  }
};

// ---- lookup (__udp4_lib_lookup, compute_score)

TEST(UdpLookup, ConnectedSocketBeatsWildcardAndOthersFallBack) {
  UdpRig r;
  UdpSock* wild = r.bound("0.0.0.0", 5000, true);
  UdpSock* conn = r.bound("0.0.0.0", 5000, true);
  ASSERT_EQ(r.udp.connect(*conn, SockAddrIn{ip4("10.0.0.2"), 7000}), 0);
  EXPECT_EQ(conn->rcv_saddr, ip4("10.0.0.1"));  // connect fixes the local address
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.2"), 7000, ip4("10.0.0.1"), 5000, r.ifindex), conn);
  // Another peer, or another port of the same peer: the connected socket does not match.
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.3"), 7000, ip4("10.0.0.1"), 5000, r.ifindex), wild);
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.2"), 7001, ip4("10.0.0.1"), 5000, r.ifindex), wild);
  r.deliver_udp(7000, 5000, 10, 11);
  r.deliver_udp(7001, 5000, 10, 12);
  EXPECT_EQ(r.read(*conn), 10);
  EXPECT_EQ(r.read(*wild), 10);
  EXPECT_EQ(r.read(*conn), -kEAGAIN);
}

TEST(UdpLookup, ExactLocalAddressBeatsWildcardAndBoundDeviceScores) {
  UdpRig r;
  UdpSock* exact = r.bound("10.0.0.1", 6000, true);
  UdpSock* wild = r.bound("0.0.0.0", 6000, true);  // newer: first in its chain
  (void)wild;
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.2"), 1, ip4("10.0.0.1"), 6000, r.ifindex), exact);
  // Among wildcards: a bound device adds 4 to the score, so it wins over a newer unbound one.
  UdpSock* dev = r.udp.socket();
  dev->reuse = true;
  dev->bound_dev_if = r.ifindex;
  ASSERT_EQ(r.udp.bind(*dev, {ip4("0.0.0.0"), 6100}), 0);
  UdpSock* plain = r.bound("0.0.0.0", 6100, true);
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.2"), 1, ip4("10.0.0.1"), 6100, r.ifindex), dev);
  EXPECT_EQ(r.udp.lookup(ip4("10.0.0.2"), 1, ip4("10.0.0.1"), 6100, r.ifindex + 1), plain);
}

// ---- bind (udp_lib_get_port, udp_lib_lport_inuse)

TEST(UdpBind, Conflicts) {
  UdpRig r;
  UdpSock* a = r.bound("0.0.0.0", 5000);
  UdpSock* b = r.udp.socket();
  EXPECT_EQ(r.udp.bind(*b, {ip4("10.0.0.1"), 5000}), -kEADDRINUSE);  // wildcard overlaps
  EXPECT_EQ(b->num, 0);
  EXPECT_EQ(r.udp.bind(*b, {ip4("10.0.0.1"), 5001}), 0);
  EXPECT_EQ(r.udp.bind(*b, {ip4("10.0.0.1"), 5002}), -kEINVAL);  // bound already
  UdpSock* c = r.udp.socket();
  EXPECT_EQ(r.udp.bind(*c, {ip4("10.9.9.9"), 5003}), -kEADDRNOTAVAIL);  // not ours
  // SO_REUSEADDR on both: shared; on one only: refused.
  UdpSock* d = r.bound("0.0.0.0", 5100, true);
  UdpSock* e = r.udp.socket();
  e->reuse = true;
  EXPECT_EQ(r.udp.bind(*e, {ip4("0.0.0.0"), 5100}), 0);
  UdpSock* f = r.udp.socket();
  EXPECT_EQ(r.udp.bind(*f, {ip4("0.0.0.0"), 5100}), -kEADDRINUSE);
  // Bound to different devices: no conflict.
  UdpSock* g = r.udp.socket();
  g->bound_dev_if = 7;
  UdpSock* h = r.udp.socket();
  h->bound_dev_if = 8;
  EXPECT_EQ(r.udp.bind(*g, {ip4("0.0.0.0"), 5200}), 0);
  EXPECT_EQ(r.udp.bind(*h, {ip4("0.0.0.0"), 5200}), 0);
  // Closing frees the port.
  r.udp.close(a);
  EXPECT_EQ(r.udp.bind(*f, {ip4("0.0.0.0"), 5000}), 0);
  (void)d;
}

TEST(UdpBind, EphemeralPortsInRangeDistinctAndSeeded) {
  auto ports = [](uint64_t seed) {
    NetStackConfig cfg;
    cfg.seed = seed;
    UdpRig r(cfg);
    std::vector<uint16_t> v;
    for (int i = 0; i < 200; ++i) {
      UdpSock* s = r.udp.socket();
      EXPECT_EQ(r.udp.bind(*s, {ip4("0.0.0.0"), 0}), 0);
      v.push_back(s->num);
    }
    return v;
  };
  const std::vector<uint16_t> a = ports(1);
  for (uint16_t p : a) {
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
  }
  EXPECT_EQ(std::set<uint16_t>(a.begin(), a.end()).size(), a.size());
  EXPECT_EQ(ports(1), a);  // the stack's seed decides
  EXPECT_NE(ports(2), a);
}

TEST(UdpBind, EphemeralRangeExhausted) {
  NetStackConfig cfg;
  cfg.ipv4.ip_local_port_range_lo = 40000;
  cfg.ipv4.ip_local_port_range_hi = 40001;
  UdpRig r(cfg);
  std::set<uint16_t> got;
  for (int i = 0; i < 2; ++i) {
    UdpSock* s = r.udp.socket();
    ASSERT_EQ(r.udp.bind(*s, {ip4("0.0.0.0"), 0}), 0);
    got.insert(s->num);
  }
  EXPECT_EQ(got, (std::set<uint16_t>{40000, 40001}));
  UdpSock* s = r.udp.socket();
  EXPECT_EQ(r.udp.bind(*s, {ip4("0.0.0.0"), 0}), -kEADDRINUSE);
  // sendmsg's autobind fails the same way (inet_autobind: -EAGAIN).
  const std::vector<uint8_t> d(4);
  const SockAddrIn to{ip4("10.0.0.2"), 9};
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &to), -kEAGAIN);
}

// ---- receive checks (__udp4_lib_rcv)

TEST(UdpRcv, ChecksumZeroMeansNoneOnIpv4) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  r.deliver(UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 9, 100, 0), 21);
  EXPECT_EQ(r.read(*s), 100);
  EXPECT_EQ(r.udp.mib().InDatagrams, 1u);
  EXPECT_EQ(r.udp.mib().InErrors, 0u);
  EXPECT_EQ(r.udp.mib().InCsumErrors, 0u);
}

TEST(UdpRcv, BadChecksumShortDatagramDroppedAtOnce) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  std::vector<uint8_t> l4 = UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 9, 20);
  l4[10] ^= 0xFF;  // 28 bytes: within CHECKSUM_BREAK, verified in udp4_csum_init
  r.deliver(l4, 22);
  EXPECT_EQ(r.udp.mib().InCsumErrors, 1u);
  EXPECT_EQ(r.udp.mib().InErrors, 1u);
  EXPECT_EQ(s->rmem_alloc, 0u);
  ASSERT_NE(r.end_of(22), nullptr);
  EXPECT_EQ(r.end_of(22)->reason, SkbDropReason::UdpCsum);
  EXPECT_EQ(r.read(*s), -kEAGAIN);
}

TEST(UdpRcv, BadChecksumLongDatagramCaughtWhenRead) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  std::vector<uint8_t> l4 = UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 9, 200);
  l4[100] ^= 0x01;
  r.deliver(l4, 23);
  EXPECT_GT(s->rmem_alloc, 0u);  // queued: the check was deferred
  EXPECT_EQ(r.udp.mib().InCsumErrors, 0u);
  r.deliver_udp(1234, 9, 50, 24);
  RecvMeta m;
  EXPECT_EQ(r.read(*s, 2048, 0, &m), 50);  // the bad one is dropped, the next returned
  EXPECT_EQ(m.packet, 24u);
  EXPECT_EQ(r.udp.mib().InCsumErrors, 1u);
  EXPECT_EQ(r.udp.mib().InErrors, 1u);
  EXPECT_EQ(r.udp.mib().InDatagrams, 1u);
  EXPECT_EQ(s->drops, 1u);
  EXPECT_EQ(r.end_of(23)->reason, SkbDropReason::UdpCsum);
}

TEST(UdpRcv, BadChecksumWithoutSocketIsNoNoPort) {
  UdpRig r;
  std::vector<uint8_t> l4 = UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 99, 200);
  l4[100] ^= 0x01;
  r.deliver(l4, 25);
  EXPECT_EQ(r.udp.mib().InCsumErrors, 1u);
  EXPECT_EQ(r.udp.mib().NoPorts, 0u);
  EXPECT_EQ(r.icmp.mib().out_type(3), 0u);  // silently (RFC 1122 4.1.3.4)
}

TEST(UdpRcv, TruncatedAndBadLengths) {
  UdpRig r;
  r.bound("0.0.0.0", 9);
  r.deliver({0x04, 0xd2, 0x00}, 31);  // 3 bytes: no header
  EXPECT_EQ(r.end_of(31)->reason, SkbDropReason::NotSpecified);
  std::vector<uint8_t> l4 = UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 9, 20);
  l4[4] = 0;
  l4[5] = 29;  // one more than there is
  r.deliver(l4, 32);
  EXPECT_EQ(r.end_of(32)->reason, SkbDropReason::PktTooSmall);
  l4[5] = 7;  // below the header's 8
  r.deliver(l4, 33);
  EXPECT_EQ(r.end_of(33)->reason, SkbDropReason::PktTooSmall);
  EXPECT_EQ(r.udp.mib().InErrors, 3u);
  EXPECT_EQ(r.udp.mib().InCsumErrors, 0u);
  EXPECT_EQ(r.udp.mib().InDatagrams, 0u);
}

TEST(UdpRcv, LengthShorterThanIpPayloadIsTrimmed) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  std::vector<uint8_t> l4 = UdpRig::udp_bytes("10.0.0.2", "10.0.0.1", 1234, 9, 10);
  l4.resize(l4.size() + 6, 0xEE);  // trailing bytes beyond UDP's length
  r.deliver(l4, 34);
  EXPECT_EQ(r.read(*s), 10);
}

// ---- recvmsg flags

TEST(UdpRecv, PeekAndTrunc) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  r.deliver_udp(1234, 9, 100, 41);
  RecvMeta m;
  EXPECT_EQ(r.read(*s, 10, kMsgPeek, &m), 10);
  EXPECT_EQ(m.msg_flags & kMsgTrunc, kMsgTrunc);
  EXPECT_EQ(m.from, (SockAddrIn{ip4("10.0.0.2"), 1234}));
  EXPECT_EQ(r.udp.mib().InDatagrams, 0u);  // a peek is not a read
  EXPECT_EQ(r.end_of(41), nullptr);
  // MSG_TRUNC: the datagram's real length; the rest is lost.
  EXPECT_EQ(r.read(*s, 10, kMsgTrunc, &m), 100);
  EXPECT_EQ(r.udp.mib().InDatagrams, 1u);
  EXPECT_EQ(r.read(*s, 10), -kEAGAIN);
  ASSERT_NE(r.end_of(41), nullptr);
  EXPECT_EQ(r.end_of(41)->reason, SkbDropReason::NotDroppedYet);  // consumed
  EXPECT_EQ(s->rmem_alloc, 0u);
}

// ---- the receive buffer (__udp_enqueue_schedule_skb)

TEST(UdpRcvbuf, QueueMayPassRcvbufByOneSkb) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  r.udp.set_rcvbuf(*s, 1);
  ASSERT_EQ(s->rcvbuf, kSockMinRcvbuf);
  // Each datagram's skb is a 1280-byte napi_alloc_skb (a 142-byte frame), so with 2304 bytes the
  // first two are taken (0 and 1280 are not above 2304) and the queue holds 2560 > rcvbuf.
  const uint32_t ts = napi_alloc_skb_truesize(14 + 20 + 8 + 100);
  const uint32_t taken = s->rcvbuf / ts + 1;
  for (uint64_t i = 0; i < 5; ++i) r.deliver_udp(1234, 9, 100, 50 + i);
  EXPECT_EQ(s->rmem_alloc, taken * ts);
  EXPECT_GT(s->rmem_alloc, s->rcvbuf);
  EXPECT_LE(s->rmem_alloc, s->rcvbuf + ts);
  EXPECT_EQ(r.udp.mib().RcvbufErrors, 5 - taken);
  EXPECT_EQ(r.udp.mib().InErrors, 5 - taken);
  EXPECT_EQ(s->drops, 5 - taken);
  EXPECT_EQ(r.end_of(50 + taken)->reason, SkbDropReason::SocketRcvbuff);
  EXPECT_EQ(r.udp.ss_uampn().find("d3)") != std::string::npos, taken == 2);
}

TEST(UdpSockopt, BufferSizesDoubledAndClamped) {
  UdpRig r;
  UdpSock* s = r.udp.socket();
  EXPECT_EQ(s->rcvbuf, 212992u);  // rmem_default
  EXPECT_EQ(s->sndbuf, 212992u);
  r.udp.set_rcvbuf(*s, 1000);
  EXPECT_EQ(s->rcvbuf, 2304u);  // 2000 < SOCK_MIN_RCVBUF
  r.udp.set_rcvbuf(*s, 4096);
  EXPECT_EQ(s->rcvbuf, 8192u);
  r.udp.set_rcvbuf(*s, 1 << 30);
  EXPECT_EQ(s->rcvbuf, 2u * 212992u);  // rmem_max, doubled
  r.udp.set_rcvbuf(*s, -1);  // a u32 compare: clamped to rmem_max too
  EXPECT_EQ(s->rcvbuf, 2u * 212992u);
  r.udp.set_sndbuf(r.cpu, *s, 1);
  EXPECT_EQ(s->sndbuf, 4608u);  // SOCK_MIN_SNDBUF
  r.udp.set_sndbuf(r.cpu, *s, 100000);
  EXPECT_EQ(s->sndbuf, 200000u);
}

// ---- no socket: NoPorts and port unreachable

TEST(UdpRcv, NoSocketSendsPortUnreachable) {
  UdpRig r;
  r.deliver_udp(1234, 4444, 10, 61);
  EXPECT_EQ(r.udp.mib().NoPorts, 1u);
  EXPECT_EQ(r.udp.mib().InErrors, 0u);
  EXPECT_EQ(r.icmp.mib().out_type(3), 1u);
  EXPECT_EQ(r.end_of(61)->reason, SkbDropReason::NoSocket);
  // The ICMP on the wire: destination unreachable, port, quoting our datagram.
  bool seen = false;
  for (const auto& f : r.dev.frames) {
    if (f.size() >= 14 + 20 + 8 && f[14 + 9] == 1 && f[34] == 3 && f[35] == 3) seen = true;
  }
  EXPECT_TRUE(seen);
}

TEST(UdpRcv, BroadcastWithoutSocketIsIgnoredMulti) {
  UdpRig r;
  r.deliver(UdpRig::udp_bytes("10.0.0.2", "10.0.0.255", 1234, 4444, 10), 62, "10.0.0.2", "10.0.0.255");
  EXPECT_EQ(r.udp.mib().IgnoredMulti, 1u);
  EXPECT_EQ(r.udp.mib().NoPorts, 0u);
  EXPECT_EQ(r.icmp.mib().out_type(3), 0u);
  // A socket on the port gets broadcasts.
  UdpSock* s = r.bound("0.0.0.0", 4444);
  r.deliver(UdpRig::udp_bytes("10.0.0.2", "10.0.0.255", 1234, 4444, 10), 63, "10.0.0.2", "10.0.0.255");
  EXPECT_EQ(r.read(*s), 10);
}

// ---- ICMP errors (__udp4_lib_err)

struct ErrRig : UdpRig {
  // An ICMP port unreachable from 10.0.0.2 quoting a datagram 10.0.0.1:sport -> 10.0.0.2:dport.
  void port_unreachable(uint16_t sport, uint16_t dport, uint64_t id) {
    const std::vector<uint8_t> quoted =
        datagram("10.0.0.1", "10.0.0.2", 17, udp_bytes("10.0.0.1", "10.0.0.2", sport, dport, 4));
    std::vector<uint8_t> msg = {3, 3, 0, 0, 0, 0, 0, 0};
    msg.insert(msg.end(), quoted.begin(), quoted.begin() + 28);
    const uint16_t c = wire::internet_checksum(msg);
    msg[2] = static_cast<uint8_t>(c >> 8);
    msg[3] = static_cast<uint8_t>(c);
    receive(frame(0x0800, datagram("10.0.0.2", "10.0.0.1", 1, msg), id));
    cpu.run();
  }
};

TEST(UdpErr, PortUnreachableRefusesTheConnectedSocketsNextCall) {
  ErrRig r;
  UdpSock* s = r.bound("0.0.0.0", 5000);
  ASSERT_EQ(r.udp.connect(*s, SockAddrIn{ip4("10.0.0.2"), 7000}), 0);
  uint32_t keys = 0;
  s->wait_queue().add([](void* ctx, uint32_t key) { *static_cast<uint32_t*>(ctx) |= key; }, &keys);
  EXPECT_EQ(s->poll_mask() & kEpollErr, 0u);
  r.port_unreachable(5000, 7000, 71);
  EXPECT_EQ(keys, kEpollErr);  // sk_error_report
  EXPECT_NE(s->poll_mask() & kEpollErr, 0u);
  EXPECT_EQ(r.read(*s), -kECONNREFUSED);
  EXPECT_EQ(s->poll_mask() & kEpollErr, 0u);  // reported once
  EXPECT_EQ(r.read(*s), -kEAGAIN);
  // The same error on the next send instead.
  r.port_unreachable(5000, 7000, 72);
  const std::vector<uint8_t> d(8);
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0), -kECONNREFUSED);
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0), 8);
}

TEST(UdpErr, UnconnectedSocketIsNotTold) {
  ErrRig r;
  UdpSock* s = r.bound("0.0.0.0", 5000);
  r.port_unreachable(5000, 7000, 73);
  EXPECT_EQ(s->err, 0);
  EXPECT_EQ(r.read(*s), -kEAGAIN);
  r.port_unreachable(5999, 7000, 74);  // no socket at all: ICMP's InErrors
  EXPECT_EQ(r.icmp.mib().InErrors, 1u);
}

// ---- send (udp_sendmsg)

TEST(UdpSend, DatagramOnTheWireAndCounters) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 5555);
  const std::vector<uint8_t> d = {1, 2, 3, 4, 5};
  const SockAddrIn to{ip4("10.0.0.2"), 7};
  uint64_t id = 0;
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &to, &id), 5);
  r.cpu.run();
  EXPECT_EQ(r.udp.mib().OutDatagrams, 1u);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const std::vector<uint8_t>& f = r.dev.frames[0];
  const std::span<const uint8_t> u(f.data() + 34, 13);
  const auto p = wire::UdpRepr::parse(u, ip4("10.0.0.1"), ip4("10.0.0.2"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->src_port, 5555);
  EXPECT_EQ(p->dst_port, 7);
  EXPECT_EQ(p->payload_len, 5);
  EXPECT_NE(wire::load_be16(u, 6), 0);  // a checksum is sent
  // egress 1-4 for the datagram's id, in order, then IP's.
  std::vector<TraceKind> kinds;
  for (const TraceEvent& e : r.sink.of_packet(id)) kinds.push_back(e.kind);
  ASSERT_GE(kinds.size(), 5u);
  EXPECT_EQ(kinds[0], TraceKind::SockSend);
  EXPECT_EQ(kinds[1], TraceKind::PacketMade);
  EXPECT_EQ(kinds[2], TraceKind::SockWmem);
  EXPECT_EQ(kinds[3], TraceKind::L4Header);
  EXPECT_EQ(kinds[4], TraceKind::IpSend);
  EXPECT_EQ(s->wmem_alloc, 0u);  // freed after the device took it
}

// ip_select_ident_segs with UDP's ignore_df (IP_PMTUDISC_WANT): an unconnected socket's
// datagrams get ids from the hashed generator (DF set, yet not 0); a connected socket's take
// inet_id, one after another, also for a datagram too big for the MTU (sent in fragments).
TEST(UdpSend, IpIdsAsIpSelectIdentSegs) {
  UdpRig r;
  const auto ip_id = [&](std::size_t i) { return wire::load_be16(r.dev.frames.at(i), 14 + 4); };
  const auto df = [&](std::size_t i) { return (r.dev.frames.at(i)[14 + 6] & 0x40) != 0; };
  UdpSock* u = r.bound("0.0.0.0", 5555);
  const std::vector<uint8_t> small(10, 7), big(3000, 7);
  const SockAddrIn to{ip4("10.0.0.2"), 7};
  ASSERT_EQ(r.udp.sendmsg(r.cpu, *u, small, 0, &to), 10);
  ASSERT_EQ(r.udp.sendmsg(r.cpu, *u, small, 0, &to), 10);
  r.cpu.run();
  ASSERT_EQ(r.dev.frames.size(), 2u);
  EXPECT_TRUE(df(0));
  EXPECT_NE(ip_id(0), 0u);  // not the DF-only id 0
  EXPECT_NE(ip_id(0), ip_id(1));
  UdpSock* c = r.bound("0.0.0.0", 5556);
  ASSERT_EQ(r.udp.connect(*c, to), 0);
  const uint16_t first = c->inet_id;
  ASSERT_EQ(r.udp.sendmsg(r.cpu, *c, small, 0), 10);
  ASSERT_EQ(r.udp.sendmsg(r.cpu, *c, big, 0), 3000);  // three fragments, one id
  ASSERT_EQ(r.udp.sendmsg(r.cpu, *c, small, 0), 10);
  r.cpu.run();
  ASSERT_EQ(r.dev.frames.size(), 2u + 1u + 3u + 1u);
  EXPECT_EQ(ip_id(2), first);
  EXPECT_TRUE(df(2));
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(ip_id(i), static_cast<uint16_t>(first + 1)) << i;
    EXPECT_FALSE(df(i)) << i;
  }
  EXPECT_EQ(ip_id(6), static_cast<uint16_t>(first + 2));
  EXPECT_EQ(c->inet_id, static_cast<uint16_t>(first + 3));
}

// Datagrams above 16 KiB up to UDP's 65507 bytes: one skb from the pool's 64 KiB class, cut
// into fragments by IP; each fragment is charged to the send buffer until the device frees it.
TEST(UdpSend, LargestDatagramGoesInFragmentsChargedToTheSocket) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 5555);
  const SockAddrIn to{ip4("10.0.0.2"), 7};
  for (const std::size_t n : {std::size_t{20000}, std::size_t{65507}}) {
    r.dev.frames.clear();
    r.dev.owners.clear();
    const std::vector<uint8_t> d(n, 0x5A);
    ASSERT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &to), static_cast<int>(n)) << n;
    r.cpu.run();
    EXPECT_EQ(r.dev.frames.size(), (n + 8 + 1479) / 1480) << n;
    for (const Sock* o : r.dev.owners) EXPECT_EQ(o, s);  // each fragment charged to the socket
    EXPECT_EQ(s->wmem_alloc, 0u);  // and given back when the device freed it
  }
  EXPECT_EQ(r.udp.mib().OutDatagrams, 2u);
  EXPECT_EQ(r.udp.mib().SndbufErrors, 0u);
}

// connect(AF_UNSPEC): __udp_disconnect. The peer, the device binding and an address bind()
// did not give go; a port bind() gave stays (and the socket stays findable on it).
TEST(UdpConnect, DisconnectKeepsOnlyWhatBindGave) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 5555);
  s->bound_dev_if = r.net->ifindex_of(r.dev);
  ASSERT_NE(s->bound_dev_if, 0);
  ASSERT_EQ(r.udp.connect(*s, SockAddrIn{ip4("10.0.0.2"), 7}), 0);
  EXPECT_EQ(s->state, SkState::Established);
  EXPECT_EQ(s->rcv_saddr, ip4("10.0.0.1"));
  ASSERT_EQ(r.udp.connect(*s, std::nullopt), 0);
  EXPECT_EQ(s->state, SkState::Close);
  EXPECT_TRUE(s->daddr.is_unspecified());
  EXPECT_EQ(s->dport, 0);
  EXPECT_EQ(s->bound_dev_if, 0);
  EXPECT_TRUE(s->rcv_saddr.is_unspecified());
  EXPECT_EQ(s->num, 5555);
  r.deliver_udp(9, 5555, 4, 120, "10.0.0.3");  // any sender again
  EXPECT_EQ(r.read(*s), 4);
}

TEST(UdpSend, Errors) {
  UdpRig r;
  UdpSock* s = r.udp.socket();
  const std::vector<uint8_t> d(8);
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0), -kEDESTADDRREQ);
  EXPECT_NE(s->num, 0);  // autobound before the check, as inet_sendmsg does
  const SockAddrIn port0{ip4("10.0.0.2"), 0};
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &port0), -kEINVAL);
  const SockAddrIn far{ip4("192.0.2.1"), 9};
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &far), -kENETUNREACH);
  EXPECT_EQ(r.net->ip_mib().OutNoRoutes, 1u);
  const std::vector<uint8_t> big(65508);
  const SockAddrIn to{ip4("10.0.0.2"), 9};
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, big, 0, &to), -kEMSGSIZE);
  const SockAddrIn bcast{ip4("10.0.0.255"), 9};
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, 0, &bcast), -kEACCES);
  EXPECT_EQ(r.udp.mib().OutDatagrams, 0u);
}

TEST(UdpSend, FullSendBufferEagainSndbufErrorsThenWriteSpace) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 5555);
  r.udp.set_sndbuf(r.cpu, *s, 1);  // 4608
  // 10.0.0.3 has no neighbour entry: the datagrams wait for ARP and stay charged.
  const SockAddrIn to{ip4("10.0.0.3"), 9};
  const std::vector<uint8_t> d(1000);
  const uint32_t ts = alloc_skb_truesize(20 + 8 + 1000 + 16 + 15);  // 2304
  int sent = 0;
  while (r.udp.sendmsg(r.cpu, *s, d, 0, &to) == 1000) ++sent;
  EXPECT_EQ(sent, static_cast<int>((s->sndbuf + ts - 1) / ts));  // while wmem_alloc < sndbuf
  EXPECT_EQ(s->wmem_alloc, static_cast<uint32_t>(sent) * ts);
  EXPECT_EQ(r.udp.mib().SndbufErrors, 1u);
  EXPECT_EQ(r.udp.sendmsg(r.cpu, *s, d, kMsgDontwait, &to), -kEAGAIN);
  EXPECT_EQ(r.udp.mib().SndbufErrors, 2u);
  EXPECT_EQ(s->poll_mask() & kEpollOut, 0u);
  uint32_t keys = 0;
  s->wait_queue().add([](void* ctx, uint32_t key) { *static_cast<uint32_t*>(ctx) |= key; }, &keys);
  // The neighbour resolves: the datagrams leave and are freed; sock_wfree wakes the writer.
  r.net->neigh().neigh_add(r.dev, ip4("10.0.0.3"), kMacB, kNudPermanent);
  r.cpu.run();
  EXPECT_EQ(s->wmem_alloc, 0u);
  EXPECT_EQ(keys, kEpollOut | kEpollWrNorm | kEpollWrBand);
  EXPECT_NE(s->poll_mask() & kEpollOut, 0u);
}

// ---- poll and wakes, the blocking calls

TEST(UdpPoll, MaskTransitionsAndDataReadyKey) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  EXPECT_EQ(s->poll_mask(), kEpollOut | kEpollWrNorm | kEpollWrBand);
  std::vector<uint32_t> keys;
  const uint64_t h =
      s->wait_queue().add([](void* ctx, uint32_t key) { static_cast<std::vector<uint32_t>*>(ctx)->push_back(key); }, &keys);
  r.deliver_udp(1, 9, 10, 81);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], kEpollIn | kEpollPri | kEpollRdNorm | kEpollRdBand);
  EXPECT_EQ(s->poll_mask(), kEpollIn | kEpollRdNorm | kEpollOut | kEpollWrNorm | kEpollWrBand);
  EXPECT_EQ(r.sink.count(TraceKind::SockWake), 1u);
  EXPECT_EQ(r.read(*s), 10);
  EXPECT_EQ(s->poll_mask() & kEpollIn, 0u);
  s->wait_queue().remove(h);
  r.deliver_udp(1, 9, 10, 82);
  EXPECT_EQ(keys.size(), 1u);  // nobody waits: no wake, no SockWake
  EXPECT_EQ(r.sink.count(TraceKind::SockWake), 1u);
}

// close() on a socket an epoll set watches takes it out of the set (eventpoll_release): a later
// datagram or epoll_wait touches no freed socket (ASan checks the second half).
TEST(UdpPoll, CloseTakesTheSocketOutOfEpoll) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  UdpSock* t = r.bound("0.0.0.0", 10);
  Epoll ep;
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, s, kEpollIn), 0);
  ASSERT_EQ(ep.ctl(kEpollCtlAdd, t, kEpollIn), 0);
  r.deliver_udp(1, 9, 10, 95);
  EXPECT_EQ(ep.ready(), 1u);
  r.udp.close(s);
  EXPECT_EQ(ep.size(), 1u);
  EXPECT_EQ(ep.ready(), 0u);
  r.deliver_udp(1, 10, 10, 96);
  EXPECT_EQ(ep.ready(), 1u);
  TaskScope tasks;
  EpollResult got;
  auto task = [&]() -> Co<void> { got = co_await ep.wait(r.cpu, 8, 0); };
  tasks.spawn(task());
  r.cpu.run();
  ASSERT_EQ(got.ret, 1);
  EXPECT_EQ(got.events[0].events & kEpollIn, kEpollIn);
}

// close() while another task blocks in recv (with SO_RCVTIMEO) or send: the blocked call ends
// with EBADF at once and nothing touches the freed socket afterwards (its timeout included: ASan
// checks); an epoll set that outlives the whole Udp lets go of its sockets.
TEST(UdpBlocking, CloseUnderABlockedCallEndsItWithEbadf) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  s->rcvtimeo = Duration::ms(5);
  TaskScope tasks;
  int got = 1;
  std::vector<uint8_t> buf(64);
  auto task = [&]() -> Co<void> { got = co_await r.udp.recv(r.cpu, *s, buf, 0, nullptr); };
  tasks.spawn(task());
  EXPECT_EQ(tasks.running(), 1u);
  const Instant t0 = r.cpu.now();
  r.udp.close(s);
  r.cpu.run();
  EXPECT_EQ(got, -kEBADF);
  EXPECT_EQ(tasks.running(), 0u);
  EXPECT_LT(r.cpu.now() - t0, Duration::ms(5));  // not the timeout: the close
  r.deliver_udp(1, 9, 10, 97);  // the port is free again: no socket
  EXPECT_EQ(r.udp.mib().NoPorts, 1u);
}

TEST(UdpBlocking, EpollOutlivingTheUdpLetsGoOfItsSockets) {
  auto ep = std::make_unique<Epoll>();
  {
    UdpRig r;
    UdpSock* s = r.bound("0.0.0.0", 9);
    ASSERT_EQ(ep->ctl(kEpollCtlAdd, s, kEpollIn), 0);
    EXPECT_EQ(ep->size(), 1u);
  }
  EXPECT_EQ(ep->size(), 0u);
  ep.reset();  // would touch the freed socket's wait queue if it were still in the set
}

TEST(UdpBlocking, RecvWaitsForDataAndTimesOut) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  TaskScope tasks;
  int got = 1;
  RecvMeta m;
  std::vector<uint8_t> buf(64);
  auto task = [&]() -> Co<void> { got = co_await r.udp.recv(r.cpu, *s, buf, 0, &m); };
  tasks.spawn(task());
  EXPECT_EQ(got, 1);  // blocked
  EXPECT_EQ(tasks.running(), 1u);
  r.deliver_udp(1, 9, 20, 91);
  EXPECT_EQ(got, 20);
  EXPECT_EQ(m.packet, 91u);
  EXPECT_EQ(tasks.running(), 0u);
  // SO_RCVTIMEO: -EAGAIN after it.
  s->rcvtimeo = Duration::ms(5);
  const Instant t0 = r.cpu.now();
  tasks.spawn(task());
  r.cpu.run();
  EXPECT_EQ(got, -kEAGAIN);
  EXPECT_GE(r.cpu.now() - t0, Duration::ms(5));
  // The receive path's trace for packet 91: lookup, queue, wake, read, consumed.
  std::vector<TraceKind> kinds;
  for (const TraceEvent& e : r.sink.of_packet(91)) {
    if (e.kind == TraceKind::SockLookup || e.kind == TraceKind::SockQueue || e.kind == TraceKind::SockWake ||
        e.kind == TraceKind::AppRecv || e.kind == TraceKind::Consumed)
      kinds.push_back(e.kind);
  }
  EXPECT_EQ(kinds, (std::vector<TraceKind>{TraceKind::SockLookup, TraceKind::SockQueue, TraceKind::SockWake,
                                           TraceKind::AppRecv, TraceKind::Consumed}));
}

// ---- the views

// `netstat -su` whole, as net-tools 2.10 walks /proc/net/snmp and /proc/net/netstat: the known
// tables it was not asked for (Ip, Icmp, Tcp, TcpExt) left out, the Udp section in words, every
// table it does not know printed with its non-zero values only.
TEST(UdpViews, NetstatSuPrintsTheTablesNetToolsDoesNotKnow) {
  UdpMib m;
  m.InDatagrams = 7;
  const std::string snmp =
      "Ip: Forwarding DefaultTTL\nIp: 2 64\n"
      "Icmp: InMsgs OutMsgs\nIcmp: 3 3\n"
      "IcmpMsg: InType3 OutType3\nIcmpMsg: 3 3\n" +
      proc_net_snmp_udp(m);
  const std::string netstat = "TcpExt: SyncookiesSent\nTcpExt: 9\n"
                              "IpExt: InNoRoutes InOctets OutOctets\nIpExt: 0 1500 0\n" +
                              proc_net_netstat_mptcpext();
  EXPECT_EQ(netstat_su(snmp, netstat, m),
            "IcmpMsg:\n    InType3: 3\n    OutType3: 3\n" + netstat_su(m) +
                "UdpLite:\nIpExt:\n    InOctets: 1500\nMPTcpExt:\n");
  EXPECT_EQ(proc_net_netstat_mptcpext().rfind("MPTcpExt: MPCapableSYNRX MPCapableSYNTX ", 0), 0u);
  EXPECT_NE(proc_net_netstat_mptcpext().find(" RcvWndConflict\nMPTcpExt: 0 0 "), std::string::npos);
}

TEST(UdpViews, ProcNetSnmpAndSs) {
  UdpRig r;
  UdpSock* s = r.bound("0.0.0.0", 9);
  r.deliver_udp(1, 9, 10, 95);
  r.deliver_udp(1, 4444, 10, 96);
  EXPECT_EQ(r.read(*s), 10);
  EXPECT_EQ(r.udp.proc_net_snmp_udp(),
            "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
            "Udp: 1 1 0 0 0 0 0 0 0\n"
            "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n"
            "UdpLite: 0 0 0 0 0 0 0 0 0\n");
  const std::string su = r.udp.netstat_su();
  EXPECT_NE(su.find("    1 packets received\n"), std::string::npos);
  EXPECT_NE(su.find("    1 packets to unknown port received\n"), std::string::npos);
  const std::string ss = r.udp.ss_uampn();
  EXPECT_NE(ss.find("UNCONN"), std::string::npos);
  EXPECT_NE(ss.find("0.0.0.0:9"), std::string::npos);
  EXPECT_NE(ss.find("skmem:(r0,rb212992,t0,tb212992,f"), std::string::npos);
}

}  // namespace
}  // namespace vnic::stack

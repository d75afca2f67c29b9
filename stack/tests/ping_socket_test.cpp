// The ICMP datagram socket (net/ipv4/ping.c, Linux 6.1) on one NetStack: ping_get_port's
// identifiers, ping_v4_sendmsg's packet and counters (6.1 counts OutMsgs/OutType8 twice),
// ping_rcv (NO_SOCKET, SOCKET_RCVBUFF) and ping_err (icmp_err_convert's errno, IP_RECVERR).
#include <gtest/gtest.h>

#include <vector>

#include "support/net_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/ping.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::kMacB;
using testing::NetRig;

struct PingRig : NetRig {
  Icmp icmp{*net};
  PingSockets& ping = icmp.ping();
  PingRig() { net->neigh().neigh_add(dev, ip4("10.0.0.2"), kMacB, kNudPermanent); }
  void deliver_icmp(std::vector<uint8_t> msg, uint64_t id) {
    msg[2] = msg[3] = 0;
    const uint16_t c = wire::internet_checksum(msg);
    msg[2] = static_cast<uint8_t>(c >> 8);
    msg[3] = static_cast<uint8_t>(c);
    receive(frame(0x0800, datagram("10.0.0.2", "10.0.0.1", 1, msg), id));
    cpu.run();
  }
  static std::vector<uint8_t> reply(uint16_t ident, uint16_t seq) {
    const std::vector<uint8_t> data(16, 0x5a);
    const auto r = wire::IcmpRepr::echo_reply(ident, seq, data);
    std::vector<uint8_t> v(r.buffer_len());
    r.emit(v);
    return v;
  }
  // An ICMP error of `type`/`code` from 10.0.0.2 quoting our echo request (ident, seq).
  static std::vector<uint8_t> error_about_echo(uint8_t type, uint8_t code, uint16_t ident, uint16_t seq,
                                               uint32_t rest = 0) {
    const std::vector<uint8_t> data(8, 1);  // a Repr's data is a span: the bytes must outlive it
    const auto req = wire::IcmpRepr::echo_request(ident, seq, data);
    std::vector<uint8_t> icmp(req.buffer_len());
    req.emit(icmp);
    const auto quoted = datagram("10.0.0.1", "10.0.0.2", 1, icmp);
    std::vector<uint8_t> m(8 + quoted.size());
    m[0] = type;
    m[1] = code;
    wire::store_be32(m, 4, rest);
    std::copy(quoted.begin(), quoted.end(), m.begin() + 8);
    return m;
  }
};

// ping_get_port: identifiers from the rover (1, 2, ...), never 0; a taken one is -EADDRINUSE,
// binding twice -EINVAL; a closed socket's identifier is free again.
TEST(PingSocket, PingGetPortIdentifiers) {
  PingRig r;
  PingSock* a = r.ping.socket();
  PingSock* b = r.ping.socket();
  PingSock* c = r.ping.socket();
  EXPECT_EQ(r.ping.bind(*a, 0), 0);
  EXPECT_EQ(a->ident, 1);
  EXPECT_EQ(r.ping.bind(*b, 0), 0);
  EXPECT_EQ(b->ident, 2);
  EXPECT_EQ(r.ping.bind(*c, 2), -98);
  EXPECT_EQ(r.ping.bind(*a, 7), -22);
  EXPECT_EQ(r.ping.bind(*c, 0x1c2a), 0);
  EXPECT_EQ(r.ping.lookup(0x1c2a, ip4("10.0.0.1")), c);
  r.ping.close(b);
  PingSock* d = r.ping.socket();
  EXPECT_EQ(r.ping.bind(*d, 2), 0);
  EXPECT_EQ(r.ping.size(), 3u);
}

// ping_v4_sendmsg: type 8 code 0, the socket's identifier (autobound), the caller's sequence,
// the kernel's checksum; IP with DF and id 0 (unconnected, IP_PMTUDISC_WANT), IP_TTL honoured;
// OutMsgs and OutType8 go up by two (__ip_make_skb and ping_v4_sendmsg both count in 6.1).
TEST(PingSocket, PingV4SendmsgBuildsTheRequest) {
  PingRig r;
  PingSock* sk = r.ping.socket();
  sk->ttl = 7;
  const std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  uint64_t id = 0;
  ASSERT_EQ(r.ping.sendmsg(r.cpu, *sk, ip4("10.0.0.2"), 0x0102, data, &id), 0);
  r.cpu.run();
  EXPECT_EQ(sk->ident, 1);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  EXPECT_EQ(r.dev.ids[0], id);
  const auto ip = wire::Ipv4Packet::checked(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->dont_fragment());
  // ip_select_ident_segs with ignore_df (IP_PMTUDISC_WANT): the hashed generator's id, as a
  // Linux ping shows in tcpdump ("id 40930, offset 0, flags [DF]"), not the DF-only 0.
  EXPECT_NE(ip->ident(), 0);
  EXPECT_EQ(ip->ttl(), 7);
  const auto m = wire::IcmpRepr::parse(ip->payload());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, wire::IcmpType::EchoRequest);
  EXPECT_EQ(m->ident, 1);
  EXPECT_EQ(m->seq, 0x0102);
  EXPECT_EQ(std::vector<uint8_t>(m->data.begin(), m->data.end()), data);
  EXPECT_EQ(r.icmp.mib().OutMsgs, 2u);
  EXPECT_EQ(r.icmp.mib().out_type(8), 2u);
  EXPECT_EQ(r.sink.of_packet(id).front().kind, TraceKind::SockSend);
}

// ping_rcv: a reply for no socket is dropped (NO_SOCKET) after InMsgs/InEchoReps, no InErrors;
// a full receive buffer drops it (SOCKET_RCVBUFF, sk_drops); else it waits on the socket until
// read (ingress 24), which ends it as consumed.
TEST(PingSocket, PingRcvNoSocketAndRcvbuf) {
  PingRig r;
  r.deliver_icmp(PingRig::reply(77, 1), 31);
  EXPECT_EQ(r.icmp.mib().in_type(0), 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 0u);
  ASSERT_NE(r.end_of(31), nullptr);
  EXPECT_EQ(r.end_of(31)->reason, SkbDropReason::NoSocket);

  PingSock* sk = r.ping.socket();
  ASSERT_EQ(r.ping.bind(*sk, 77), 0);
  r.deliver_icmp(PingRig::reply(77, 2), 32);
  EXPECT_EQ(r.end_of(32), nullptr);  // on the socket
  EXPECT_EQ(sk->receive_queue.size(), 1u);
  EXPECT_GT(sk->rmem_alloc, 0u);
  sk->rcvbuf = sk->rmem_alloc;  // full: sk_rmem_alloc >= sk_rcvbuf
  r.deliver_icmp(PingRig::reply(77, 3), 33);
  ASSERT_NE(r.end_of(33), nullptr);
  EXPECT_EQ(r.end_of(33)->reason, SkbDropReason::SocketRcvbuff);
  EXPECT_EQ(sk->drops, 1u);
  const auto m = r.ping.recvmsg(r.cpu, *sk);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from, ip4("10.0.0.2"));
  EXPECT_EQ(m->ttl, 64);
  EXPECT_EQ(m->icmp.size(), 24u);
  EXPECT_EQ(wire::load_be16(m->icmp, 6), 2);
  EXPECT_EQ(m->packet, 32u);
  EXPECT_EQ(sk->rmem_alloc, 0u);
  ASSERT_NE(r.end_of(32), nullptr);
  EXPECT_EQ(r.end_of(32)->reason, SkbDropReason::NotDroppedYet);
  EXPECT_FALSE(r.ping.recvmsg(r.cpu, *sk));
  // close(): what is still queued goes with the socket (inet_sock_destruct's purge).
  r.deliver_icmp(PingRig::reply(77, 4), 34);
  sk->rcvbuf = 212992;
  r.deliver_icmp(PingRig::reply(77, 5), 35);
  EXPECT_EQ(r.end_of(35), nullptr);
  r.ping.close(sk);
  ASSERT_NE(r.end_of(35), nullptr);
  EXPECT_EQ(r.end_of(35)->reason, SkbDropReason::NotSpecified);
  EXPECT_EQ(r.ping.size(), 0u);
}

// ping_err: errno from icmp_err_convert (port unreachable ECONNREFUSED, host unreachable
// EHOSTUNREACH), time exceeded EHOSTUNREACH, parameter problem EPROTO with its pointer; queued
// only with IP_RECVERR (else the error is just used up by icmp_rcv).
TEST(PingSocket, PingErrQueuesErrorsWithRecverr) {
  PingRig r;
  PingSock* sk = r.ping.socket();
  ASSERT_EQ(r.ping.bind(*sk, 9), 0);
  r.deliver_icmp(PingRig::error_about_echo(3, 3, 9, 1), 41);
  EXPECT_TRUE(sk->error_queue.empty());
  ASSERT_NE(r.end_of(41), nullptr);
  EXPECT_EQ(r.end_of(41)->reason, SkbDropReason::NotDroppedYet);
  EXPECT_EQ(r.icmp.mib().in_type(3), 1u);

  sk->recverr = true;
  r.deliver_icmp(PingRig::error_about_echo(3, 3, 9, 2), 42);
  r.deliver_icmp(PingRig::error_about_echo(3, 1, 9, 3), 43);
  r.deliver_icmp(PingRig::error_about_echo(11, 0, 9, 4), 44);
  r.deliver_icmp(PingRig::error_about_echo(12, 0, 9, 5, 20u << 24), 45);
  r.deliver_icmp(PingRig::error_about_echo(3, 3, 10, 6), 46);  // another identifier: nobody's
  EXPECT_EQ(sk->error_queue.size(), 4u);
  EXPECT_EQ(sk->sk_err, 71);  // ping_err sets sk_err to the latest error
  const int want_errno[] = {111, 113, 113, 71};
  const uint16_t want_seq[] = {2, 3, 4, 5};
  for (int i = 0; i < 4; ++i) {
    const auto e = r.ping.recv_errqueue(r.cpu, *sk);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->ee_errno, want_errno[i]);
    EXPECT_EQ(e->quoted_seq, want_seq[i]);
    EXPECT_EQ(e->quoted_ident, 9);
    EXPECT_EQ(e->offender, ip4("10.0.0.2"));
    EXPECT_EQ(e->target, ip4("10.0.0.2"));
    if (i == 3) {
      EXPECT_EQ(e->ee_info, 20u);
    }
  }
  EXPECT_EQ(sk->sk_err, 0);
  EXPECT_EQ(r.icmp.mib().InTimeExcdsMib, 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 0u);
  for (uint64_t id = 42; id <= 46; ++id) {
    ASSERT_NE(r.end_of(id), nullptr) << id;
    EXPECT_EQ(r.end_of(id)->reason, SkbDropReason::NotDroppedYet) << id;
  }
}

// icmp_unreach / icmp_socket_deliver: a quote shorter than an IP header is InErrors
// (NOT_SPECIFIED); an IHL under 5 IP_INHDR; a header without its 8 bytes of data InErrors but
// used up (6.1 returns from icmp_socket_deliver and icmp_rcv consumes it).
TEST(PingSocket, IcmpUnreachShortQuotes) {
  PingRig r;
  r.deliver_icmp({3, 1, 0, 0, 0, 0, 0, 0, 0x45, 0, 0, 20}, 51);
  EXPECT_EQ(r.end_of(51)->reason, SkbDropReason::NotSpecified);
  std::vector<uint8_t> bad(28, 0);
  bad[0] = 3;
  bad[8] = 0x44;  // IHL 4
  r.deliver_icmp(bad, 52);
  EXPECT_EQ(r.end_of(52)->reason, SkbDropReason::IpInhdr);
  auto no_data = PingRig::error_about_echo(3, 1, 9, 1);
  no_data.resize(8 + 20 + 4);
  r.deliver_icmp(no_data, 53);
  EXPECT_EQ(r.end_of(53)->reason, SkbDropReason::NotDroppedYet);
  EXPECT_EQ(r.icmp.mib().InErrors, 3u);
  EXPECT_EQ(r.icmp.mib().in_type(3), 3u);
}

}  // namespace
}  // namespace vnic::stack

// icmp_rcv (Linux 6.1 net/ipv4/icmp.c) through one NetStack: its counters in its order (InMsgs
// first, then the checksum, the header, the IcmpMsg In counter, the type), echo answered with a
// byte-correct reply (RFC 792; RFC 1122 3.2.2.6), icmp_echo_ignore_all / _broadcasts, the
// timestamp reply, and the drop reason every dropped message ends with.
#include <gtest/gtest.h>

#include <vector>

#include "support/net_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/wire/ethernet.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::kMacA;
using testing::kMacB;
using testing::NetRig;

std::vector<uint8_t> echo_request(uint16_t ident, uint16_t seq, std::size_t data_len) {
  std::vector<uint8_t> data(data_len);
  for (std::size_t i = 0; i < data_len; ++i) data[i] = static_cast<uint8_t>(i * 7);
  const auto r = wire::IcmpRepr::echo_request(ident, seq, data);
  std::vector<uint8_t> out(r.buffer_len());
  r.emit(out);
  return out;
}

std::vector<uint8_t> with_checksum(std::vector<uint8_t> b) {
  b[2] = b[3] = 0;
  const uint16_t c = wire::internet_checksum(b);
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

struct IcmpRig : NetRig {
  Icmp icmp{*net};
  IcmpRig() { net->neigh().neigh_add(dev, ip4("10.0.0.2"), kMacB, kNudPermanent); }
  void deliver(const std::vector<uint8_t>& icmp_msg, uint64_t id, const char* dst = "10.0.0.1",
               model::MacAddr dst_mac = kMacA) {
    // An empty message is a datagram of its header only (NetRig::datagram copies a payload).
    auto d = icmp_msg.empty() ? datagram("10.0.0.2", dst, 1, {0}) : datagram("10.0.0.2", dst, 1, icmp_msg);
    if (icmp_msg.empty()) {
      d.pop_back();
      d[3] = 20;  // total length 20
      d[10] = d[11] = 0;
      const uint16_t c = wire::internet_checksum(std::span<const uint8_t>(d).first(20));
      d[10] = static_cast<uint8_t>(c >> 8);
      d[11] = static_cast<uint8_t>(c);
    }
    receive(frame(0x0800, d, id, dst_mac));
    cpu.run();
  }
};

// RFC 792 / RFC 1122 3.2.2.6: the reply carries the request's identifier, sequence and data,
// type 0, a fresh checksum, from the address the request was sent to; a new packet, without DF
// (the ICMP socket's IP_PMTUDISC_DONT); the request is used up.
TEST(IcmpRcv, IcmpEchoAnswersWithByteCorrectReply) {
  IcmpRig r;
  const auto req = echo_request(0x1c2a, 3, 56);
  r.deliver(req, 7);
  const IcmpMib& m = r.icmp.mib();
  EXPECT_EQ(m.InMsgs, 1u);
  EXPECT_EQ(m.in_type(8), 1u);
  EXPECT_EQ(m.InErrors, 0u);
  EXPECT_EQ(m.OutMsgs, 1u);
  EXPECT_EQ(m.out_type(0), 1u);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto& f = r.dev.frames[0];
  const auto eth = wire::EthernetRepr::parse(f);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kMacB);
  EXPECT_EQ(eth->src, kMacA);
  const std::span<const uint8_t> ipb = std::span<const uint8_t>(f).subspan(14);
  const auto ip = wire::Ipv4Packet::checked(ipb);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), ip4("10.0.0.1"));
  EXPECT_EQ(ip->dst(), ip4("10.0.0.2"));
  EXPECT_EQ(ip->protocol(), wire::IpProtocol::Icmp);
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_FALSE(ip->dont_fragment());
  const auto reply = wire::IcmpRepr::parse(ip->payload());  // verifies the checksum
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, wire::IcmpType::EchoReply);
  EXPECT_EQ(reply->code, 0);
  EXPECT_EQ(reply->ident, 0x1c2a);
  EXPECT_EQ(reply->seq, 3);
  EXPECT_TRUE(std::equal(reply->data.begin(), reply->data.end(), req.begin() + 8, req.end()));
  EXPECT_EQ(reply->data.size(), 56u);
  // Only the type and the checksum differ from the request.
  std::vector<uint8_t> expect = req;
  expect[0] = 0;
  EXPECT_EQ(std::vector<uint8_t>(ip->payload().begin(), ip->payload().end()), with_checksum(expect));
  // The request ends consumed; the reply is a new packet from the stack's ids.
  const NetRig::End* end = r.end_of(7);
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->reason, SkbDropReason::NotDroppedYet);
  ASSERT_EQ(r.dev.ids.size(), 1u);
  EXPECT_NE(r.dev.ids[0], 7u);
  EXPECT_NE(r.dev.ids[0] & NetStack::kStackIdBit, 0u);
  EXPECT_EQ(r.sink.of_packet(7).back().kind, TraceKind::Consumed);
}

// icmp_rcv's csum_error: InMsgs, then InCsumErrors and InErrors; no IcmpMsg In counter, since
// ICMPMSGIN comes after the checksum; dropped with ICMP_CSUM.
TEST(IcmpRcv, BadChecksumCountsInCsumErrorsAndInErrors) {
  IcmpRig r;
  auto req = echo_request(1, 1, 8);
  req[2] ^= 0x01;
  r.deliver(req, 8);
  const IcmpMib& m = r.icmp.mib();
  EXPECT_EQ(m.InMsgs, 1u);
  EXPECT_EQ(m.InCsumErrors, 1u);
  EXPECT_EQ(m.InErrors, 1u);
  EXPECT_EQ(m.in_type(8), 0u);
  EXPECT_EQ(m.OutMsgs, 0u);
  EXPECT_TRUE(r.dev.frames.empty());
  ASSERT_NE(r.end_of(8), nullptr);
  EXPECT_EQ(r.end_of(8)->reason, SkbDropReason::IcmpCsum);
}

// A message shorter than the 8-byte header with a good checksum: pskb_pull fails, InErrors only
// (reason NOT_SPECIFIED). An empty one fails the checksum already (its sum folds to 0xffff).
TEST(IcmpRcv, TruncatedMessageCountsInErrors) {
  IcmpRig r;
  r.deliver(with_checksum({8, 0, 0, 0}), 9);
  EXPECT_EQ(r.icmp.mib().InMsgs, 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 1u);
  EXPECT_EQ(r.icmp.mib().InCsumErrors, 0u);
  EXPECT_EQ(r.icmp.mib().in_type(8), 0u);
  ASSERT_NE(r.end_of(9), nullptr);
  EXPECT_EQ(r.end_of(9)->reason, SkbDropReason::NotSpecified);
  r.deliver({}, 10);
  EXPECT_EQ(r.icmp.mib().InMsgs, 2u);
  EXPECT_EQ(r.icmp.mib().InCsumErrors, 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 2u);
  EXPECT_EQ(r.end_of(10)->reason, SkbDropReason::IcmpCsum);
}

// RFC 1122 3.2.2: unknown types are silently discarded: a type above 18 is InErrors
// (UNHANDLED_PROTO) after its IcmpMsg In counter.
TEST(IcmpRcv, TypeAboveNrIcmpTypesIsUnhandledProto) {
  IcmpRig r;
  r.deliver(with_checksum({30, 0, 0, 0, 0, 0, 0, 0}), 11);
  EXPECT_EQ(r.icmp.mib().in_type(30), 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 1u);
  EXPECT_EQ(r.end_of(11)->reason, SkbDropReason::UnhandledProto);
  // A known type with no handler of its own (information reply) is consumed, not an error.
  r.deliver(with_checksum({16, 0, 0, 0, 0, 0, 0, 0}), 12);
  EXPECT_EQ(r.icmp.mib().InErrors, 1u);
  EXPECT_EQ(r.end_of(12)->reason, SkbDropReason::NotDroppedYet);
}

// RFC 1812 4.3.3.6: icmp_echo_ignore_all: counted, used up, not answered.
TEST(IcmpRcv, IcmpEchoIgnoreAll) {
  IcmpRig r;
  r.net->ipv4_sysctls().icmp_echo_ignore_all = true;
  r.deliver(echo_request(1, 1, 8), 13);
  EXPECT_EQ(r.icmp.mib().in_type(8), 1u);
  EXPECT_EQ(r.icmp.mib().OutMsgs, 0u);
  EXPECT_TRUE(r.dev.frames.empty());
  EXPECT_EQ(r.end_of(13)->reason, SkbDropReason::NotDroppedYet);
}

// RFC 1122 3.2.2.6: an echo to a broadcast address is ignored with icmp_echo_ignore_broadcasts
// (6.1's default 1): InErrors, INVALID_PROTO. With the sysctl 0 it is answered from our address.
TEST(IcmpRcv, IcmpEchoIgnoreBroadcasts) {
  IcmpRig r;
  const model::MacAddr bcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
  r.deliver(echo_request(1, 1, 8), 14, "10.0.0.255", bcast);
  EXPECT_EQ(r.icmp.mib().in_type(8), 1u);
  EXPECT_EQ(r.icmp.mib().InErrors, 1u);
  ASSERT_NE(r.end_of(14), nullptr);
  EXPECT_EQ(r.end_of(14)->reason, SkbDropReason::InvalidProto);
  EXPECT_TRUE(r.dev.frames.empty());
  r.net->ipv4_sysctls().icmp_echo_ignore_broadcasts = false;
  r.deliver(echo_request(1, 2, 8), 15, "10.0.0.255", bcast);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto ip = wire::Ipv4Packet::checked(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), ip4("10.0.0.1"));  // fib_compute_spec_dst: our address, not the broadcast
}

// RFC 1122 3.2.2.8 / icmp_timestamp: the originate time echoed, receive and transmit times in
// ms since midnight.
TEST(IcmpRcv, IcmpTimestampAnswered) {
  IcmpRig r;
  r.cpu.set_now(Instant{} + Duration::ms(3723004));  // 01:02:03.004
  std::vector<uint8_t> ts = {13, 0, 0, 0, 0x12, 0x34, 0, 1, 0, 0, 0x10, 0x20, 0, 0, 0, 0, 0, 0, 0, 0};
  r.deliver(with_checksum(ts), 16);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const std::span<const uint8_t> icmp = std::span<const uint8_t>(r.dev.frames[0]).subspan(34);
  ASSERT_EQ(icmp.size(), 20u);
  EXPECT_EQ(icmp[0], 14);
  EXPECT_TRUE(wire::checksum_ok(icmp));
  EXPECT_EQ(wire::load_be32(icmp, 4), 0x12340001u);  // identifier and sequence
  EXPECT_EQ(wire::load_be32(icmp, 8), 0x00001020u);  // originate
  const uint32_t recv = wire::load_be32(icmp, 12);
  EXPECT_GE(recv, 3723004u);
  EXPECT_LT(recv, 3723005u);
  EXPECT_EQ(wire::load_be32(icmp, 16), recv);
  EXPECT_EQ(r.icmp.mib().out_type(14), 1u);
}

}  // namespace
}  // namespace vnic::stack

// __icmp_send (Linux 6.1) and RFC 1122 3.2.2's rules for when not to send: never about an ICMP
// error, a link-layer or IP broadcast/multicast, a fragment other than the first, a source that is
// no single host; the quote sized as 6.1 sizes it (576 bytes at most); protocol unreachable for an
// unknown protocol through NetStack; the two rate limits in 6.1's order (global, then per peer);
// echo replies never limited.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "support/net_rig.hpp"
#include "vnic/stack/icmp.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {
namespace {

using testing::ip4;
using testing::kMacA;
using testing::kMacB;
using testing::NetRig;

struct IcmpRig : NetRig {
  Icmp icmp{*net};
  IcmpRig() { net->neigh().neigh_add(dev, ip4("10.0.0.2"), kMacB, kNudPermanent); }
  // An skb as ip_local_deliver leaves it: the datagram's network header set, for us, from 10.0.0.2.
  SkBuff* received(const std::vector<uint8_t>& dgram, uint8_t rt_type = kRtnLocal, PktType pt = PktType::Host) {
    SkBuff* s = pool.alloc(static_cast<uint32_t>(dgram.size()));
    std::memcpy(s->bytes().data(), dgram.data(), dgram.size());
    skb_reset_network_header(*s);
    skb_pull(*s, 20);
    s->rt_type = rt_type;
    s->pkt_type = pt;
    s->dev = &dev;
    s->trace_id = 99;
    return s;
  }
  IcmpSendVerdict send(const std::vector<uint8_t>& dgram, uint8_t type, uint8_t code, uint8_t rt_type = kRtnLocal,
                       PktType pt = PktType::Host) {
    SkBuff* s = received(dgram, rt_type, pt);
    const IcmpSendVerdict v = icmp.icmp_send(cpu, *s, type, code, 0);
    kfree_skb(s);
    cpu.run();
    return v;
  }
};

std::vector<uint8_t> icmp_msg(uint8_t type, uint8_t code, std::size_t len = 8) {
  std::vector<uint8_t> b(len, 0);
  b[0] = type;
  b[1] = code;
  return b;
}

// ip_local_deliver_finish with no handler: InUnknownProtos, then icmp_send(DEST_UNREACH,
// PROT_UNREACH) quoting the whole datagram, from the address it was sent to, TOS with
// IPTOS_PREC_INTERNETCONTROL; the datagram dropped (IP_NOPROTO).
TEST(IcmpSend, ProtocolUnreachableForUnknownProtocol) {
  IcmpRig r;
  std::vector<uint8_t> payload(40);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(0xa0 + i);
  const auto dgram = NetRig::datagram("10.0.0.2", "10.0.0.1", 253, payload);
  r.receive(r.frame(0x0800, dgram, 21));
  r.cpu.run();
  EXPECT_EQ(r.net->ip_mib().InUnknownProtos, 1u);
  ASSERT_NE(r.end_of(21), nullptr);
  EXPECT_EQ(r.end_of(21)->reason, SkbDropReason::IpNoproto);
  EXPECT_EQ(r.icmp.mib().OutMsgs, 1u);
  EXPECT_EQ(r.icmp.mib().out_type(3), 1u);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto ip = wire::Ipv4Packet::checked(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), ip4("10.0.0.1"));
  EXPECT_EQ(ip->dst(), ip4("10.0.0.2"));
  EXPECT_EQ(ip->tos(), 0xc0);
  EXPECT_FALSE(ip->dont_fragment());
  const auto err = wire::IcmpRepr::parse(ip->payload());
  ASSERT_TRUE(err);
  EXPECT_EQ(err->type, wire::IcmpType::DestUnreachable);
  EXPECT_EQ(err->code, static_cast<uint8_t>(wire::IcmpUnreachable::Protocol));
  EXPECT_EQ(std::vector<uint8_t>(err->data.begin(), err->data.end()), dgram);  // the whole datagram
}

// RFC 1122 3.2.2: "An ICMP error message MUST NOT be sent as the result of receiving an ICMP
// error message"; 6.1 treats a type above 18 as an error too. A query (echo) may be answered.
TEST(IcmpSend, NoErrorAboutAnError) {
  IcmpRig r;
  for (uint8_t inner : {3, 4, 5, 11, 12, 9, 40}) {
    const auto d = NetRig::datagram("10.0.0.2", "10.0.0.1", 1, icmp_msg(inner, 0));
    EXPECT_EQ(r.send(d, 3, 3), IcmpSendVerdict::AboutError) << int{inner};
  }
  EXPECT_EQ(r.icmp.mib().OutMsgs, 0u);
  EXPECT_TRUE(r.dev.frames.empty());
  EXPECT_EQ(r.send(NetRig::datagram("10.0.0.2", "10.0.0.1", 1, icmp_msg(8, 0)), 3, 3), IcmpSendVerdict::Sent);
  EXPECT_EQ(r.dev.frames.size(), 1u);
  // A message that is no error (echo reply) is not held back by an error it quotes.
  EXPECT_EQ(r.send(NetRig::datagram("10.0.0.2", "10.0.0.1", 1, icmp_msg(3, 0)), 0, 0), IcmpSendVerdict::Sent);
}

// RFC 1122 3.2.2: not about a link-layer broadcast/multicast, an IP broadcast/multicast, a
// non-initial fragment, or a source that names no single host.
TEST(IcmpSend, NotAboutBroadcastFragmentOrBadSource) {
  IcmpRig r;
  const auto udp = NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(12));
  EXPECT_EQ(r.send(udp, 3, 3, kRtnLocal, PktType::Broadcast), IcmpSendVerdict::NotHost);
  EXPECT_EQ(r.send(udp, 3, 3, kRtnLocal, PktType::Multicast), IcmpSendVerdict::NotHost);
  EXPECT_EQ(r.send(udp, 3, 3, kRtnBroadcast), IcmpSendVerdict::BcastMcast);
  EXPECT_EQ(r.send(udp, 3, 3, kRtnMulticast), IcmpSendVerdict::BcastMcast);
  EXPECT_EQ(r.send(NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(16), 3), 3, 3),
            IcmpSendVerdict::Fragment);
  // The first fragment (offset 0, MF set) is answered.
  EXPECT_EQ(r.send(NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(16), wire::kIpv4FlagMf), 3, 3),
            IcmpSendVerdict::Sent);
  EXPECT_EQ(r.send(NetRig::datagram("0.0.0.0", "10.0.0.1", 17, std::vector<uint8_t>(8)), 3, 3),
            IcmpSendVerdict::BadSource);
  EXPECT_EQ(r.send(NetRig::datagram("224.0.0.1", "10.0.0.1", 17, std::vector<uint8_t>(8)), 3, 3),
            IcmpSendVerdict::BadSource);
  // No route back: nothing sent, nothing counted.
  EXPECT_EQ(r.send(NetRig::datagram("192.168.9.9", "10.0.0.1", 17, std::vector<uint8_t>(8)), 3, 3),
            IcmpSendVerdict::NoRoute);
  EXPECT_EQ(r.icmp.mib().OutMsgs, 1u);
}

// "RFC says return as much as we can without exceeding 576 bytes": the quote is cut to
// 576 - 20 - 8 = 548 bytes of the original.
TEST(IcmpSend, QuoteIsAtMost576Bytes) {
  IcmpRig r;
  std::vector<uint8_t> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i);
  const auto d = NetRig::datagram("10.0.0.2", "10.0.0.1", 17, big);
  ASSERT_EQ(r.send(d, 3, 3), IcmpSendVerdict::Sent);
  ASSERT_EQ(r.dev.frames.size(), 1u);
  const auto ip = wire::Ipv4Packet::checked(std::span<const uint8_t>(r.dev.frames[0]).subspan(14));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->total_len(), 576u);
  const auto err = wire::IcmpRepr::parse(ip->payload());
  ASSERT_TRUE(err);
  EXPECT_EQ(err->data.size(), 548u);
  EXPECT_TRUE(std::equal(err->data.begin(), err->data.end(), d.begin()));
}

// 6.1's __icmp_send checks icmpv4_global_allow BEFORE icmpv4_xrlim_allow: a burst of 100 errors
// to one host spends the global bucket even on messages the peer limit then refuses, so both
// refusals appear; exactly the counts a mirror of the two limiters in that order gives.
TEST(IcmpSend, RateLimitsInLinux61Order) {
  IcmpRig r;
  r.cpu.set_now(Instant{} + Duration::s(100));
  const auto udp = NetRig::datagram("10.0.0.2", "10.0.0.1", 17, std::vector<uint8_t>(8));
  int sent = 0;
  for (int i = 0; i < 100; ++i) sent += r.send(udp, 3, 3) == IcmpSendVerdict::Sent ? 1 : 0;

  IcmpGlobal g;
  Prandom rng(r.net->config().seed ^ Icmp::kRngSalt);
  const uint64_t now = jiffies(Instant{} + Duration::s(100));
  InetPeer peer{0, now - 60 * kHz};
  uint64_t global_refused = 0, host_refused = 0;
  int expect_sent = 0;
  for (int i = 0; i < 100; ++i) {
    if (!icmp_global_allow(g, static_cast<uint32_t>(now), 1000, 50, rng)) {
      ++global_refused;
    } else if (!inet_peer_xrlim_allow(&peer, now, kHz)) {
      ++host_refused;
    } else {
      ++expect_sent;
    }
  }
  EXPECT_EQ(sent, 6);  // the peer's burst
  EXPECT_EQ(expect_sent, 6);
  EXPECT_EQ(r.icmp.mib().RateLimitGlobal, global_refused);
  EXPECT_EQ(r.icmp.mib().RateLimitHost, host_refused);
  EXPECT_GT(global_refused, 0u);  // with the peer checked first the bucket would not have run dry
  EXPECT_EQ(global_refused + host_refused, 94u);
  EXPECT_EQ(r.icmp.mib().OutMsgs, 6u);
  EXPECT_EQ(r.dev.frames.size(), 6u);
  // One second later the peer allows one more (and the bucket has refilled).
  r.cpu.set_now(r.cpu.now() + Duration::s(1));
  EXPECT_EQ(r.send(udp, 3, 3), IcmpSendVerdict::Sent);
  EXPECT_EQ(r.send(udp, 3, 3), IcmpSendVerdict::RateLimitHost);
  // A type outside icmp_ratemask (redirect) is limited by neither.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.send(udp, 5, 1), IcmpSendVerdict::Sent);
}

// icmpv4_mask_allow: echo replies are never limited, by either limit.
TEST(IcmpSend, EchoRepliesNeverRateLimited) {
  IcmpRig r;
  std::vector<uint8_t> req = {8, 0, 0, 0, 0, 1, 0, 0};
  for (int i = 0; i < 200; ++i) {
    req[6] = static_cast<uint8_t>(i >> 8);
    req[7] = static_cast<uint8_t>(i);
    req[2] = req[3] = 0;
    const uint16_t c = wire::internet_checksum(req);
    req[2] = static_cast<uint8_t>(c >> 8);
    req[3] = static_cast<uint8_t>(c);
    r.receive(r.frame(0x0800, NetRig::datagram("10.0.0.2", "10.0.0.1", 1, req), 1000 + static_cast<uint64_t>(i)));
  }
  r.cpu.run();
  EXPECT_EQ(r.icmp.mib().out_type(0), 200u);
  EXPECT_EQ(r.dev.frames.size(), 200u);
  EXPECT_EQ(r.icmp.mib().RateLimitGlobal, 0u);
  EXPECT_EQ(r.icmp.mib().RateLimitHost, 0u);
  EXPECT_EQ(r.icmp.peers().size(), 0u);  // icmpv4_xrlim_allow returned before inet_getpeer
}

}  // namespace
}  // namespace vnic::stack

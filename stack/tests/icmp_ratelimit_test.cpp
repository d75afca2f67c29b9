// The two rate limits of Linux 6.1's icmp_send on their own, with their exact token arithmetic:
// inet_peer_xrlim_allow (per destination: a new peer's burst of XRLIM_BURST_FACTOR = 6, then one
// per icmp_ratelimit), icmp_global_allow (the host's bucket of icmp_msgs_burst, refilled by
// icmp_msgs_per_sec only once HZ/50 jiffies passed, each message taking prandom_u32_max(3)
// credits) and icmpv4_mask_allow (icmp_ratemask; echo replies and PMTU discovery never limited).
#include <gtest/gtest.h>

#include "vnic/stack/icmp.hpp"

namespace vnic::stack {
namespace {

constexpr uint64_t kRate = kHz;  // icmp_ratelimit 1000 ms in jiffies

// inet_getpeer starts a peer at jiffies - 60*HZ: its first call finds the bucket full (6 * HZ).
TEST(IcmpRateLimit, InetPeerXrlimAllowNewPeerBurstOfSix) {
  InetPeers peers;
  const uint64_t now = 1000;
  InetPeer& p = peers.getpeer(wire::Ipv4Addr{{10, 0, 0, 2}}, now);
  EXPECT_EQ(p.rate_last, now - 60 * kHz);
  EXPECT_EQ(p.rate_tokens, 0u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(inet_peer_xrlim_allow(&p, now, kRate)) << i;
    EXPECT_EQ(p.rate_tokens, (5 - static_cast<uint64_t>(i)) * kRate);
  }
  EXPECT_FALSE(inet_peer_xrlim_allow(&p, now, kRate));
  EXPECT_EQ(p.rate_tokens, 0u);
  // The same peer again: no new burst.
  EXPECT_EQ(&peers.getpeer(wire::Ipv4Addr{{10, 0, 0, 2}}, now + 1), &p);
  EXPECT_EQ(peers.size(), 1u);
}

// Then one message per icmp_ratelimit: the tokens are the jiffies since the last call.
TEST(IcmpRateLimit, InetPeerXrlimAllowOnePerRatelimit) {
  InetPeer p{0, 5000};
  EXPECT_FALSE(inet_peer_xrlim_allow(&p, 5000 + kRate - 1, kRate));
  EXPECT_EQ(p.rate_tokens, kRate - 1);
  EXPECT_EQ(p.rate_last, 5000 + kRate - 1);
  EXPECT_TRUE(inet_peer_xrlim_allow(&p, 5000 + kRate, kRate));  // 249 + 1 = 250 tokens
  EXPECT_EQ(p.rate_tokens, 0u);
  EXPECT_FALSE(inet_peer_xrlim_allow(&p, 5000 + kRate, kRate));
  // A long quiet time refills at most 6 messages' worth.
  EXPECT_TRUE(inet_peer_xrlim_allow(&p, 5000 + 100 * kRate, kRate));
  EXPECT_EQ(p.rate_tokens, 5 * kRate);
  // No peer (inet_getpeer failed): allowed.
  EXPECT_TRUE(inet_peer_xrlim_allow(nullptr, 0, kRate));
}

// prandom_u32_max(3) draws 0, 1 or 2, and the same seed draws the same sequence.
TEST(IcmpRateLimit, PrandomU32MaxIsSeededAndInRange) {
  Prandom a(42), b(42), c(43);
  int seen[3] = {0, 0, 0};
  bool differs = false;
  for (int i = 0; i < 3000; ++i) {
    const uint32_t x = a.u32_max(3);
    ASSERT_LT(x, 3u);
    ++seen[x];
    EXPECT_EQ(x, b.u32_max(3));
    differs |= x != c.u32_max(3);
  }
  EXPECT_TRUE(differs);
  for (int n : seen) EXPECT_GT(n, 800);  // about a third each
}

// icmp_global_allow: the first call fills the bucket to icmp_msgs_burst (Linux's stamp is a
// second or more in the past at boot), each allowed message takes 0-2 credits at random.
TEST(IcmpRateLimit, IcmpGlobalAllowFirstFillAndRandomCredit) {
  IcmpGlobal g;
  Prandom rng(7), mirror(7);
  ASSERT_TRUE(icmp_global_allow(g, 0, 1000, 50, rng));
  EXPECT_EQ(g.stamp, 0u);
  EXPECT_EQ(g.credit, 50 - mirror.u32_max(3));
  // Within the same jiffy: no refill, credit only goes down, and every draw is accounted.
  uint32_t expected = g.credit;
  int allowed = 1;
  while (icmp_global_allow(g, 0, 1000, 50, rng)) {
    const uint32_t r = mirror.u32_max(3);
    expected = expected > r ? expected - r : 0;
    EXPECT_EQ(g.credit, expected);
    ++allowed;
  }
  EXPECT_EQ(g.credit, 0u);
  EXPECT_GE(allowed, 25);  // 50 credits at 0-2 each
  EXPECT_LE(allowed, 51);
}

// An empty bucket refills only once HZ/50 (5) jiffies passed, by msgs_per_sec * delta / HZ.
TEST(IcmpRateLimit, IcmpGlobalAllowRefillsOnlyAfterHzOver50) {
  IcmpGlobal g;
  g.credit = 0;
  g.stamp = 1000;
  Prandom rng(1), mirror(1);
  EXPECT_FALSE(icmp_global_allow(g, 1004, 1000, 50, rng));  // 4 jiffies < HZ/50
  EXPECT_EQ(g.stamp, 1000u);
  EXPECT_EQ(g.credit, 0u);
  ASSERT_TRUE(icmp_global_allow(g, 1005, 1000, 50, rng));  // 5 jiffies: 1000 * 5 / 250 = 20
  EXPECT_EQ(g.stamp, 1005u);
  EXPECT_EQ(g.credit, 20 - mirror.u32_max(3));
  // With credit left, a call inside HZ/50 neither refills nor moves the stamp.
  const uint32_t c = g.credit;
  ASSERT_TRUE(icmp_global_allow(g, 1007, 1000, 50, rng));
  EXPECT_EQ(g.stamp, 1005u);
  EXPECT_EQ(g.credit, c - std::min(c, mirror.u32_max(3)));
  // The refill is capped at the burst and counts at most one second.
  g.credit = 0;
  ASSERT_TRUE(icmp_global_allow(g, 1005 + 10 * 250, 1000, 50, rng));
  EXPECT_EQ(g.credit, 50 - mirror.u32_max(3));
}

// A refill that rounds to 0 credits leaves the stamp, so slow rates still accumulate.
TEST(IcmpRateLimit, IcmpGlobalAllowZeroIncrementKeepsStamp) {
  IcmpGlobal g;
  g.credit = 0;
  g.stamp = 0;
  Prandom rng(3);
  EXPECT_FALSE(icmp_global_allow(g, 10, 10, 50, rng));  // 10 * 10 / 250 = 0
  EXPECT_EQ(g.stamp, 0u);
  EXPECT_TRUE(icmp_global_allow(g, 25, 10, 50, rng));   // 10 * 25 / 250 = 1
  EXPECT_EQ(g.stamp, 25u);
}

// icmpv4_mask_allow with 6.1's icmp_ratemask 6168: dest unreachable (but not fragmentation
// needed), source quench, time exceeded and parameter problem are limited; echo replies and every
// other type never are.
TEST(IcmpRateLimit, Icmpv4MaskAllow) {
  constexpr uint32_t kMask = 6168;
  EXPECT_EQ(kMask, (1u << 3) | (1u << 4) | (1u << 11) | (1u << 12));
  EXPECT_TRUE(icmpv4_mask_allow(kMask, 0, 0));    // echo reply
  EXPECT_FALSE(icmpv4_mask_allow(kMask, 3, 1));   // host unreachable
  EXPECT_FALSE(icmpv4_mask_allow(kMask, 3, 3));   // port unreachable
  EXPECT_TRUE(icmpv4_mask_allow(kMask, 3, 4));    // fragmentation needed: PMTU discovery
  EXPECT_FALSE(icmpv4_mask_allow(kMask, 4, 0));
  EXPECT_TRUE(icmpv4_mask_allow(kMask, 5, 1));    // redirect: not in the mask
  EXPECT_FALSE(icmpv4_mask_allow(kMask, 11, 0));
  EXPECT_FALSE(icmpv4_mask_allow(kMask, 12, 0));
  EXPECT_TRUE(icmpv4_mask_allow(kMask, 14, 0));   // timestamp reply
  EXPECT_TRUE(icmpv4_mask_allow(kMask, 19, 0));   // above NR_ICMP_TYPES
  EXPECT_TRUE(icmpv4_mask_allow(0, 3, 1));        // an empty mask limits nothing
  EXPECT_FALSE(icmpv4_mask_allow(1u, 0, 0));      // a mask with bit 0 limits echo replies
}

TEST(IcmpRateLimit, MsecsToJiffiesRoundsUp) {
  EXPECT_EQ(msecs_to_jiffies(1000), 250u);
  EXPECT_EQ(msecs_to_jiffies(1), 1u);
  EXPECT_EQ(msecs_to_jiffies(4), 1u);
  EXPECT_EQ(msecs_to_jiffies(5), 2u);
  EXPECT_EQ(msecs_to_jiffies(0), 0u);
}

}  // namespace
}  // namespace vnic::stack

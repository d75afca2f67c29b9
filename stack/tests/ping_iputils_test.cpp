// iputils ping's arithmetic and text (ping_common.c gather_statistics/finish, ping.c pr_icmph,
// 20221126): the round trip's precision rules, the integer square root of the variance, the loss
// percentage as %g of a float, the summary lines in their order.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "vnic/stack/apps/ping_app.hpp"

namespace vnic::stack {
namespace {

// What gather_statistics accumulates for these round trips (us).
PingStats received(std::initializer_list<long> rtts, uint64_t transmitted) {
  PingStats s;
  s.transmitted = transmitted;
  for (long t : rtts) {
    ++s.received;
    s.tsum += static_cast<double>(t);
    s.tsum2 += static_cast<double>(t * t);
    s.tmin = std::min(s.tmin, t);
    s.tmax = std::max(s.tmax, t);
    s.rtts_us.push_back(t);
  }
  s.pipesize = 1;
  return s;
}

// gather_statistics: three decimals under 1 ms (truncated), then rounded to two under ~10 ms,
// one under ~100 ms, none above.
TEST(PingIputils, GatherStatisticsTimePrecision) {
  EXPECT_EQ(iputils_time(45), " time=0.045 ms");
  EXPECT_EQ(iputils_time(999), " time=0.999 ms");
  EXPECT_EQ(iputils_time(1000), " time=1.00 ms");
  EXPECT_EQ(iputils_time(1234), " time=1.23 ms");
  EXPECT_EQ(iputils_time(1235), " time=1.24 ms");
  EXPECT_EQ(iputils_time(9994), " time=9.99 ms");
  EXPECT_EQ(iputils_time(9995), " time=10.0 ms");
  EXPECT_EQ(iputils_time(12345), " time=12.3 ms");
  EXPECT_EQ(iputils_time(99949), " time=99.9 ms");
  EXPECT_EQ(iputils_time(99950), " time=100 ms");
  EXPECT_EQ(iputils_time(1234567), " time=1235 ms");
}

// llsqrt stops when Newton's step no longer goes down and returns that last step: the floor of
// the root, or one above it (999999 -> 1000, not 999), as ping prints it.
TEST(PingIputils, LlsqrtIsIputilsNewton) {
  EXPECT_EQ(iputils_llsqrt(0), 0);
  EXPECT_EQ(iputils_llsqrt(-5), -5);  // not positive: returned as is (never happens in finish)
  EXPECT_EQ(iputils_llsqrt(1), 1);
  EXPECT_EQ(iputils_llsqrt(32), 5);
  EXPECT_EQ(iputils_llsqrt(1000000), 1000);
  EXPECT_EQ(iputils_llsqrt(999999), 1000);
  EXPECT_EQ(iputils_llsqrt(1666), 40);
  EXPECT_EQ(iputils_llsqrt(15), 4);
}

// finish(): min/avg/max and mdev = llsqrt((tsum2 - tsum^2/n) / n) truncated to an integer first:
// 38, 45, 52 us: tsum 135, tsum2 6173, variance 98/3 -> 32, mdev 5.
TEST(PingIputils, FinishRttLineAndMdev) {
  const PingStats s = received({38, 45, 52}, 3);
  EXPECT_EQ(iputils_finish(s, "10.0.0.2", Duration::ms(2000), true),
            "\n--- 10.0.0.2 ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 2000ms\n"
            "rtt min/avg/max/mdev = 0.038/0.045/0.052/0.005 ms\n");
  const PingStats t = received({1000, 3000}, 2);
  EXPECT_EQ(iputils_finish(t, "h", Duration::ms(1000), true),
            "\n--- h ping statistics ---\n"
            "2 packets transmitted, 2 received, 0% packet loss, time 1000ms\n"
            "rtt min/avg/max/mdev = 1.000/2.000/3.000/1.000 ms\n");
}

// Loss as %g of a float; duplicates, corrupted, errors in that order; "time" rounded to the ms;
// mdev over n = received + repeats: 100, 200, 150 us: variance (72500 - 450^2/3) / 3 -> 1666, 40;
// no rtt line without replies (but its line break stays: an empty line); "pipe N" when > 1.
TEST(PingIputils, FinishLossCountersAndPipe) {
  PingStats s = received({100, 200, 150}, 3);  // the third a duplicate: in the sums, not in received
  s.received = 2;
  s.repeats = 1;
  s.checksum = 2;
  s.errors = 1;
  s.pipesize = 3;
  EXPECT_EQ(iputils_finish(s, "x", Duration::us(2000500), true),
            "\n--- x ping statistics ---\n"
            "3 packets transmitted, 2 received, +1 duplicates, +2 corrupted, +1 errors, 33.3333% packet loss, "
            "time 2001ms\n"
            "rtt min/avg/max/mdev = 0.100/0.150/0.200/0.040 ms, pipe 3\n");
  PingStats none;
  none.transmitted = 4;
  none.pipesize = 1;
  EXPECT_EQ(iputils_finish(none, "x", Duration::us(3000499), true),
            "\n--- x ping statistics ---\n4 packets transmitted, 0 received, 100% packet loss, time 3000ms\n\n");
  PingStats nothing;
  EXPECT_EQ(iputils_finish(nothing, "x", Duration{}, true), "\n--- x ping statistics ---\n0 packets transmitted, 0 received\n\n");
}

TEST(PingIputils, PrIcmphTexts) {
  EXPECT_EQ(iputils_pr_icmph(3, 1, 0), "Destination Host Unreachable\n");
  EXPECT_EQ(iputils_pr_icmph(3, 3, 0), "Destination Port Unreachable\n");
  EXPECT_EQ(iputils_pr_icmph(3, 4, 1400), "Frag needed and DF set (mtu = 1400)\n");
  EXPECT_EQ(iputils_pr_icmph(3, 13, 0), "Packet filtered\n");
  EXPECT_EQ(iputils_pr_icmph(3, 20, 0), "Dest Unreachable, Bad Code: 20\n");
  EXPECT_EQ(iputils_pr_icmph(11, 0, 0), "Time to live exceeded\n");
  EXPECT_EQ(iputils_pr_icmph(12, 0, 20), "Parameter problem: pointer = 20\n");
  EXPECT_EQ(iputils_pr_icmph(5, 1, 0x0a000001), "Redirect Host(New nexthop: 10.0.0.1)\n");
  EXPECT_EQ(iputils_pr_icmph(4, 0, 0), "Source Quench\n");
  EXPECT_EQ(iputils_pr_icmph(42, 0, 0), "Bad ICMP type: 42\n");
}

}  // namespace
}  // namespace vnic::stack

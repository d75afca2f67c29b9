// The loopback device on a driver host with two CPUs, as a scenario runs it: `ping` to the host's
// own address (the app on the last CPU) goes out through lo and back in through the sending CPU's
// backlog (loopback_xmit's __netif_rx on this CPU), every reply arrives, lo counts each packet
// both ways, and every packet of the run ends exactly once.
#include <gtest/gtest.h>

#include <systemc>

#include <string>

#include "support/scenario_util.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::tb::DriverHost;
using vnic::tb::Platform;
using vnic::tb::Scenario;

TEST(LoopbackScenario, PingToTheHostsOwnAddressGoesThroughLoOnTheSendingCpu) {
  Scenario s = vnic::tb::testing::builtin(
      "udp-iperf", {"host.a.ping.enabled=true", "host.a.ping.dst=10.0.0.1", "host.a.ping.count=5"});
  s.account = true;
  Platform pf(s);
  pf.run();
  DriverHost& a = pf.driver_host("a");
  ASSERT_NE(a.ping(), nullptr);
  EXPECT_EQ(a.ping()->stats().received, 5u) << a.ping()->output();
  EXPECT_NE(a.ping()->output().find("64 bytes from 10.0.0.1: icmp_seq=5 ttl=64"), std::string::npos)
      << a.ping()->output();
  // 5 requests and 5 replies through lo, counted once each (dev_lstats), shown in ip -s link
  EXPECT_EQ(a.net().loopback().lstats_packets(), 10u);
  EXPECT_EQ(a.net().loopback().get_stats64().rx_packets, 10u);
  // The requests came in on the app's CPU: its backlog took them, not CPU 0's.
  const unsigned last = a.cpus().size() - 1;
  ASSERT_GE(last, 1u);
  EXPECT_GE(a.softnet(last).stats().processed, 5u) << a.softnet_stat();
  const auto* acc = pf.account();
  ASSERT_NE(acc, nullptr);
  EXPECT_TRUE(acc->complete()) << acc->report();
  EXPECT_TRUE(pf.all_ok());
}

}  // namespace

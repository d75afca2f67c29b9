// The FIB: routes of an address (fib_add_ifaddr), longest prefix match then metric, the local
// table before main, route types' errors (fib_lookup), several devices, `ip route` output.
#include <gtest/gtest.h>

#include "vnic/stack/fib.hpp"

namespace {

using namespace vnic::stack;

Ipv4Addr ip(const char* s) { return *Ipv4Addr::parse(s); }
Ipv4Cidr net(const char* s) { return *Ipv4Cidr::parse(s); }

FibRoute via(const char* dst, const char* gw, int dev, uint32_t metric = 0) {
  FibRoute r;
  r.dst = net(dst);
  r.gateway = ip(gw);
  r.dev = dev;
  r.metric = metric;
  return r;
}

const std::vector<std::string> kNames = {"eth0", "eth1"};

TEST(Fib, AnAddressBringsItsLocalBroadcastAndConnectedRoutes) {
  Fib f;
  f.add_address(0, net("192.168.1.10/24"));
  EXPECT_EQ(f.ip_route(kNames), "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10 \n");
  EXPECT_EQ(f.ip_route_local(kNames),
            "local 192.168.1.10 dev eth0 table local proto kernel scope host src 192.168.1.10 \n"
            "broadcast 192.168.1.255 dev eth0 table local proto kernel scope link src 192.168.1.10 \n");
  const auto self = f.lookup(ip("192.168.1.10"));  // the local table first
  ASSERT_EQ(self.err, 0);
  EXPECT_EQ(self.res.route->type, RouteType::Local);
  const auto peer = f.lookup(ip("192.168.1.1"));
  ASSERT_EQ(peer.err, 0);
  EXPECT_EQ(peer.res.route->type, RouteType::Unicast);
  EXPECT_EQ(peer.res.next_hop, ip("192.168.1.1"));  // on the link: the destination itself
  f.del_address(0, net("192.168.1.10/24"));
  EXPECT_TRUE(f.routes().empty());
}

TEST(Fib, TheLongestPrefixWinsThenTheLowestMetric) {
  Fib f;
  f.add_address(0, net("10.0.0.2/24"));
  f.add_address(1, net("172.16.0.2/16"));
  ASSERT_EQ(f.add(via("0.0.0.0/0", "10.0.0.1", 0, 100)), 0);
  ASSERT_EQ(f.add(via("0.0.0.0/0", "172.16.0.1", 1, 50)), 0);
  ASSERT_EQ(f.add(via("198.51.100.0/24", "172.16.0.254", 1)), 0);
  ASSERT_EQ(f.add(via("198.51.100.128/25", "10.0.0.254", 0)), 0);
  auto r = f.lookup(ip("198.51.100.200"));  // /25 beats /24
  ASSERT_EQ(r.err, 0);
  EXPECT_EQ(r.res.next_hop, ip("10.0.0.254"));
  EXPECT_EQ(r.res.route->dev, 0);
  r = f.lookup(ip("198.51.100.5"));  // only the /24
  EXPECT_EQ(r.res.next_hop, ip("172.16.0.254"));
  r = f.lookup(ip("203.0.113.9"));  // the defaults: metric 50 before 100
  EXPECT_EQ(r.res.next_hop, ip("172.16.0.1"));
  EXPECT_EQ(r.res.route->dev, 1);
  r = f.lookup(ip("172.16.200.1"));  // connected on eth1
  EXPECT_EQ(r.res.next_hop, ip("172.16.200.1"));
  EXPECT_EQ(r.res.route->dev, 1);
}

TEST(Fib, NoRouteIsEnetunreachAndRouteTypesGiveTheirErrors) {
  Fib f;
  EXPECT_EQ(f.lookup(ip("8.8.8.8")).err, -kENETUNREACH);
  FibRoute u;
  u.dst = net("10.9.0.0/16");
  u.type = RouteType::Unreachable;
  ASSERT_EQ(f.add(u), 0);
  FibRoute p = u;
  p.dst = net("10.8.0.0/16");
  p.type = RouteType::Prohibit;
  ASSERT_EQ(f.add(p), 0);
  EXPECT_EQ(f.lookup(ip("10.9.1.1")).err, -kEHOSTUNREACH);
  EXPECT_EQ(f.lookup(ip("10.8.1.1")).err, -kEACCES);
  EXPECT_EQ(f.ip_route(kNames), "prohibit 10.8.0.0/16 \nunreachable 10.9.0.0/16 \n");
}

TEST(Fib, TheSameRouteTwiceIsEexistAndDelRemovesIt) {
  Fib f;
  f.add_address(0, net("10.0.0.2/24"));
  ASSERT_EQ(f.add(via("10.1.0.0/16", "10.0.0.1", 0)), 0);
  EXPECT_EQ(f.add(via("10.1.0.0/16", "10.0.0.9", 0)), -kEEXIST);
  EXPECT_EQ(f.add(via("10.1.0.0/16", "10.0.0.9", 0, 10)), 0);  // another metric is another route
  EXPECT_EQ(f.add(via("10.1.2.3/16", "10.0.0.9", 0)), -kEEXIST);  // host bits do not make it new
  EXPECT_EQ(f.del(net("10.1.0.0/16"), 0u), 0);
  EXPECT_EQ(f.lookup(ip("10.1.5.5")).res.next_hop, ip("10.0.0.9"));
  EXPECT_EQ(f.del(net("10.1.0.0/16"), 0u), -kESRCH);
  f.flush_dev(0);
  EXPECT_TRUE(f.routes().empty());
}

TEST(Fib, IpRouteListsInTheKernelsDumpOrder) {
  Fib f;
  f.add_address(0, net("192.168.1.10/24"));
  f.add_address(1, net("10.0.0.2/8"));
  ASSERT_EQ(f.add(via("0.0.0.0/0", "192.168.1.1", 0, 100)), 0);
  FibRoute s = via("172.16.0.0/12", "10.0.0.1", 1);
  s.proto = RouteProto::Static;
  ASSERT_EQ(f.add(s), 0);
  EXPECT_EQ(f.ip_route(kNames),
            "default via 192.168.1.1 dev eth0 metric 100 \n"
            "10.0.0.0/8 dev eth1 proto kernel scope link src 10.0.0.2 \n"
            "172.16.0.0/12 via 10.0.0.1 dev eth1 proto static \n"
            "192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.10 \n");
}

}  // namespace

// NetStack's configuration calls (register_netdevice's ifindex, `ip addr add`, `ip route add`,
// `tc qdisc replace`) and the per-CPU transmit cores: a send goes to the calling CPU's.
#include <gtest/gtest.h>

#include "support/net_rig.hpp"

namespace vnic::stack {
namespace {

using testing::cidr;
using testing::ip4;
using testing::NetRig;

TEST(RegisterNetdevice, IfindexesStartAfterLoAndErrorsAreNegativeErrno) {
  NetRig r;
  EXPECT_EQ(r.ifindex, 2);
  testing::CaptureNetDevice d2;
  d2.name = "eth1";
  EXPECT_EQ(r.net->register_netdev(d2), 3);
  EXPECT_EQ(r.net->register_netdev(d2), -kEEXIST);
  EXPECT_EQ(r.net->dev_by_index(3), &d2);
  EXPECT_EQ(r.net->dev_by_index(4), nullptr);
  EXPECT_EQ(r.net->ifindex_of(d2), 3);
  EXPECT_EQ(r.net->ip_addr_add(9, cidr("10.1.0.1/24")), -kENODEV);
  EXPECT_EQ(r.net->ip_addr_add(2, cidr("10.0.0.1/24")), -kEEXIST);
  FibRoute bad;
  bad.dst = cidr("10.9.0.0/16");
  bad.dev = 9;
  EXPECT_EQ(r.net->ip_route_add(bad), -kENODEV);
  EXPECT_EQ(r.net->add_tap(9, nullptr, nullptr), -kENODEV);
  EXPECT_EQ(r.net->tc_qdisc_add_clsact(9), -kENODEV);
  EXPECT_TRUE(r.net->is_local_addr(ip4("10.0.0.1")));
  EXPECT_FALSE(r.net->is_local_addr(ip4("10.0.0.2")));
}

TEST(TcQdiscReplace, TheQdiscsTheModelHasAndTheViewFollows) {
  NetRig r;
  // lo (ifindex 1) comes first, with its noqueue qdisc, whatever default_qdisc says.
  const std::string lo =
      "qdisc noqueue 0: dev lo root refcnt 2\n Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) \n"
      " backlog 0b 0p requeues 0\n";
  EXPECT_EQ(r.net->set_qdisc(r.ifindex, "cake"), -kEINVAL);
  ASSERT_EQ(r.net->set_qdisc(r.ifindex, "fq_codel"), 0);
  EXPECT_EQ(r.net->tc_s_qdisc().rfind(lo + "qdisc fq_codel 0: dev eth0 root refcnt 2 limit 10240p flows 1024 quantum 1514 "
                                      "target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64",
                                      0),
            0u)
      << r.net->tc_s_qdisc();
  EXPECT_EQ(r.net->set_qdisc(7, "noqueue"), -kENODEV);
  ASSERT_EQ(r.net->set_qdisc(r.ifindex, "noqueue"), 0);
  EXPECT_EQ(r.net->tc_s_qdisc().rfind(lo + "qdisc noqueue 0: dev eth0 root refcnt 2\n", 0), 0u) << r.net->tc_s_qdisc();
  r.net->neigh().neigh_add(r.dev, ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
  SkBuff* s = r.net->alloc_skb(r.cpu, 4);
  EXPECT_EQ(r.net->ip_send(r.cpu, s, {.daddr = ip4("10.0.0.2"), .protocol = 17}), 0);
  EXPECT_EQ(r.dev.frames.size(), 1u);  // straight to the driver
}

TEST(NetStackCpus, ASendGoesToTheCallingCpusTransmitCore) {
  testing::FakeCpu c0, c1;
  testing::FakeMemory mem;
  SkbPool pool(mem, 2048, 64);
  NetStack net(NetStackConfig{}, {&c0, &c1}, pool);
  testing::CaptureNetDevice dev;
  dev.dev_addr = testing::kMacA;
  const int ifx = net.register_netdev(dev);
  dev.up = dev.carrier = true;
  dev.netif_tx_start_queue();
  net.ip_addr_add(ifx, cidr("10.0.0.1/24"));
  net.neigh().neigh_add(dev, ip4("10.0.0.2"), testing::kMacB, kNudPermanent);
  EXPECT_EQ(net.cpu_count(), 2u);
  const Instant before = c1.now();
  EXPECT_EQ(net.ip_send(c1, net.alloc_skb(c1, 4), {.daddr = ip4("10.0.0.2"), .protocol = 17}), 0);
  EXPECT_EQ(net.tx(1).stats().xmit, 1u);
  EXPECT_EQ(net.tx(0).stats().xmit, 0u);
  EXPECT_EQ(c1.now() - before, c1.costs().skb_alloc + c1.costs().ip_output + c1.costs().dev_queue_xmit +
                                   c1.costs().qdisc);  // charged on the sending CPU
  EXPECT_EQ(c0.now(), Instant{});
  EXPECT_EQ(dev.frames.size(), 1u);
}

}  // namespace
}  // namespace vnic::stack

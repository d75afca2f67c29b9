// The platform a scenario describes: three hosts and four NICs run and conserve every frame per
// link direction; a host with two NICs has two PCI functions, two driver instances (eth0,
// eth1) and their own interrupts; a direct host takes one NIC.
#include <gtest/gtest.h>

#include <systemc>

#include <stdexcept>
#include <string>

#include "support/scenario_util.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/tb/platform.hpp"
#include "vnic/tb/scenario.hpp"

namespace {

using vnic::model::regs::Stat;
using vnic::tb::Platform;
using vnic::tb::PortId;
using vnic::tb::Scenario;
using D = vnic::driver::DrvStat;

Scenario three_hosts(const std::vector<std::string>& sets = {}) {
  return vnic::tb::testing::builtin("three-hosts", sets);
}

TEST(Platform, ThreeHostsAndFourNicsRunAndConservePerDirection) {
  // Line rate on every port and a lossy 25 Gb/s link: drops happen, and each is counted once.
  Scenario s = three_hosts({"host.a.interval_ns=0", "host.a.eth1.interval_ns=0", "host.b.interval_ns=0",
                            "host.c.interval_ns=0", "link.ac.drop_rate=0.01"});
  Platform p(s);
  p.run();
  ASSERT_EQ(p.num_hosts(), 3u);
  const auto ports = p.ports();
  ASSERT_EQ(ports.size(), 4u);
  EXPECT_EQ(p.label(p.peer(p.port("a", 1))), "c");
  EXPECT_EQ(p.label(p.peer(p.port("c"))), "a.eth1");
  EXPECT_EQ(p.label(p.peer(p.port("b"))), "a");
  // Every port's pktgen sends 5000 frames; on link (a.eth0 <-> b) the stack adds the default's
  // ping from a to 10.0.0.2: 1 ARP request + 5 echo requests a->b, 1 ARP reply + 5 echo replies b->a.
  const auto expected_sent = [&](PortId port) {
    const std::string l = p.label(port);
    return l == "a" || l == "b" ? 5006u : 5000u;  // 5000 pattern frames (+ 1 ARP + 5 ICMP on link)
  };
  for (const PortId port : ports) {
    std::string detail;
    EXPECT_EQ(p.sent(port), expected_sent(port)) << p.label(port);
    EXPECT_EQ(p.unaccounted(port, &detail), 0) << p.label(port) << ": " << detail;
    EXPECT_GT(p.delivered(p.peer(port)), 0u) << p.label(port);
    EXPECT_TRUE(p.rx_clean(port)) << p.label(port);
  }
  // Each link carried its own ports' frames, both ways; only the lossy one lost any.
  for (unsigned d = 0; d < 2; ++d) {
    EXPECT_EQ(p.link("link").stats(d).frames, 5006u);  // 5000 pattern frames + 1 ARP + 5 ICMP
    EXPECT_EQ(p.link("link").stats(d).dropped_fault, 0u);
    EXPECT_EQ(p.link("ac").stats(d).frames, 5000u);
    EXPECT_GT(p.link("ac").stats(d).dropped_fault, 0u);
    EXPECT_EQ(p.link("ac").stats(d).delivered + p.link("ac").stats(d).dropped_fault, 5000u);
  }
  // What c received is what crossed ac from a.eth1, less the drops: nothing of b's traffic.
  const auto& ac = p.link("ac").stats(0);
  EXPECT_EQ(p.delivered(p.port("c")) + p.nic("c").stat(Stat::rx_missed_errors), ac.delivered);
  EXPECT_EQ(p.nic("a", 1).stat(Stat::tx_packets), 5000u);
  // b's NIC got a's 5000 pattern frames + the ARP request + 5 echo requests.
  EXPECT_EQ(p.nic("b").stat(Stat::rx_packets) + p.nic("b").stat(Stat::rx_missed_errors), 5006u);
  EXPECT_TRUE(p.all_ok());
}

TEST(Platform, TwoNicsOfAHostAreTwoFunctionsTwoDriversAndTheirOwnInterrupts) {
  Scenario s = three_hosts();
  Platform p(s);
  p.run();
  vnic::tb::DriverHost& a = p.driver_host("a");
  ASSERT_EQ(a.num_ports(), 2u);
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(a.probe_rc(i), 0) << i;
    EXPECT_EQ(a.open_rc(i), 0) << i;
    EXPECT_TRUE(a.up(i)) << i;
  }
  EXPECT_EQ(a.driver(0).name, "eth0");
  EXPECT_EQ(a.driver(1).name, "eth1");
  EXPECT_EQ(a.driver(0).dev_addr.str(), "02:00:00:00:00:0a");
  EXPECT_EQ(a.driver(1).dev_addr.str(), "02:00:00:00:01:0a");
  EXPECT_EQ(std::string(a.bus(0).bus_info()), "0000:01:00.0");
  EXPECT_EQ(std::string(a.bus(1).bus_info()), "0000:01:01.0");
  EXPECT_NE(a.bus(0).pci().bar0_base, a.bus(1).pci().bar0_base);
  // Each function's MSI-X messages reach its own driver: every interrupt a NIC raised for its
  // queue is one its driver handled, and none went to the other.
  for (unsigned i = 0; i < 2; ++i) {
    vnic::hw::Nic& nic = p.nic("a", i);
    EXPECT_GT(a.bus(i).stats().irqs, 100u) << i;
    EXPECT_EQ(a.bus(i).stats().spurious_irqs, 0u) << i;
    EXPECT_EQ(a.driver(i).stat(D::irq_queue_0), nic.stat(Stat::irq_rx) + nic.stat(Stat::irq_tx)) << i;
    EXPECT_EQ(a.bus(i).stats().irqs,
              nic.stat(Stat::irq_rx) + nic.stat(Stat::irq_tx) + nic.stat(Stat::irq_misc)) << i;
    EXPECT_EQ(a.checker(i).stats().ok, 5000u) << i;
    EXPECT_EQ(a.pktgen(i).stats().sent, 5000u) << i;
  }
  // Both functions' interrupts are taken on cpu0 (the IRQ affinity).
  EXPECT_EQ(a.cpu(0).stats().hardirqs, a.bus(0).stats().irqs + a.bus(1).stats().irqs);
  // Each driver logs under its own bus address and name.
  ASSERT_FALSE(a.driver(1).log().empty());
  EXPECT_NE(a.driver(1).log()[0].find("vnic 0000:01:01.0 eth1:"), std::string::npos) << a.driver(1).log()[0];
  // The report names both NICs in host a's header.
  const std::string report = p.report();
  EXPECT_NE(report.find("== host a (nic_a at 0000:01:00.0, eth0 02:00:00:00:00:0a; nic_a_eth1 at 0000:01:01.0, eth1 "
                        "02:00:00:00:01:0a) =="),
            std::string::npos)
      << report.substr(0, 400);
}

TEST(Platform, JourneysPairEachNicWithItsHost) {
  // Every 500th packet of host c's NIC: made on host_c, on the wire from nic_c, received by
  // a's second NIC (nic_a_eth1), whose interrupt and poll run on host_a.
  Scenario s = three_hosts({"host.a.frames=2000", "host.a.eth1.frames=2000", "host.b.frames=2000",
                            "host.c.frames=2000"});
  s.journey_every = 500;
  s.journey_from = "c";
  Platform p(s);
  p.run();
  const vnic::tb::JourneyRecorder* j = p.journeys();
  ASSERT_NE(j, nullptr);
  ASSERT_EQ(j->journeys().size(), 4u);  // packets 1, 501, 1001, 1501 of c alone
  unsigned with_irq_on_a = 0;  // a packet taken by a poll already running has no interrupt of its own
  for (const auto& [id, journey] : j->journeys()) {
    EXPECT_EQ(id >> 32, 3u);  // c.eth0 is the fourth port: ids 3 * 2^32 + 1, ...
    EXPECT_TRUE(journey.ended) << id;
    bool made_on_c = false, from_nic_c = false, into_eth1 = false, irq_on_a = false, consumed_on_a = false;
    for (const auto& st : journey.steps) {
      made_on_c |= st.kind == vnic::model::TraceKind::PacketMade && st.source == "host_c";
      from_nic_c |= st.source == "nic_c";
      into_eth1 |= st.source == "nic_a_eth1";
      irq_on_a |= st.kind == vnic::model::TraceKind::HardIrq && st.source == "host_a";
      consumed_on_a |= st.kind == vnic::model::TraceKind::Consumed && st.source == "host_a";
      EXPECT_NE(st.source, "nic_b") << id;
      EXPECT_NE(st.source, "nic_a") << id;
    }
    EXPECT_TRUE(made_on_c && from_nic_c && into_eth1 && consumed_on_a) << j->format(journey);
    with_irq_on_a += irq_on_a ? 1 : 0;
  }
  EXPECT_GT(with_irq_on_a, 0u);  // nic_a_eth1's interrupts are paired with host_a
}

TEST(Platform, ADirectHostTakesOneNic) {
  Scenario s = three_hosts();
  s.hosts = "direct";  // past the parser, which refuses this too
  try {
    Platform p(s);
    FAIL() << "a direct host with two NICs was built";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("host a: a direct host (scenario.hosts = \"direct\") has one NIC, not 2"),
              std::string::npos)
        << e.what();
  }
}

TEST(Platform, DirectHostsRunThroughTheSameHostInterface) {
  std::string err;
  auto r = vnic::tb::resolve_scenario({}, {{"scenario.hosts", "\"direct\"", "test"}, {"host.a.frames", "3000", "test"},
                                           {"host.b.frames", "2000", "test"}},
                                      &err);
  ASSERT_TRUE(r) << err;
  Platform p(r->scenario);
  p.run();
  EXPECT_EQ(p.test_host("a").stats().tx_posted, 3000u);
  EXPECT_EQ(p.test_host("b").stats().rx_ok, 3000u);
  EXPECT_EQ(p.test_host("a").stats().rx_ok, 2000u);
  // The direct hosts take the driver's default moderation from the scenario (8 us / 32 frames):
  // fewer RX interrupts than frames.
  EXPECT_LT(p.nic("b").stat(Stat::irq_rx), 3000u / 4);
  EXPECT_THROW(p.driver_host("a"), std::runtime_error);
  EXPECT_TRUE(p.all_ok());
}

}  // namespace

// System tests of the driver model on both ends: bring-up and teardown, line rate, softnet
// squeezes, interrupt moderation as the driver sees it, and DMA refused by the platform.
#include <gtest/gtest.h>

#include <systemc>

#include <string>

#include "vnic/model/pci.hpp"
#include "support/driver_rig.hpp"
#include "vnic/tb/platform.hpp"

namespace {

using vnic::model::Duration;
using vnic::model::regs::Stat;
using vnic::stack::Co;
using vnic::tb::Platform;
using vnic::tb::DriverHost;
using vnic::tb::Scenario;
using D = vnic::driver::DrvStat;

using vnic::tb::testing::driver_scenario;
using vnic::tb::testing::ethtool_stat;
using vnic::tb::testing::expect_conservation;
using vnic::tb::testing::run;

// Sends n frames of the host's own pattern.
Co<void> send(DriverHost& h, uint64_t* seq, int n, uint64_t* sent) {
  return vnic::tb::testing::send(h, h.config().nics[0].gen.pattern, seq, n, sent);
}

Co<void> lifecycle(DriverHost& h, uint64_t* seq, int frames, Duration linger, uint64_t* sent, int* rc) {
  auto& d = h.driver();
  *rc = co_await d.probe();
  if (*rc != 0) co_return;
  *rc = co_await d.open();
  if (*rc != 0) co_return;
  co_await send(h, seq, frames, sent);
  co_await vnic::stack::sleep(h.cpus(), linger);
  *rc = co_await d.stop();
  co_await d.remove();
}

TEST(DriverPair, ProbeOpenCloseAThousandTimesLeaksNothing) {
  Scenario s = driver_scenario(0, 0, 60, 1514);
  Platform p(s);
  DriverHost& a = p.driver_host("a");
  DriverHost& b = p.driver_host("b");
  b.bring_up();
  run();
  ASSERT_EQ(b.open_rc(), 0);
  uint64_t seq = 0, sent = 0;
  for (int i = 0; i < 1000; ++i) {
    int rc = -1;
    // Close while frames are still in flight, at different points.
    a.spawn(lifecycle(a, &seq, 20, Duration::ns(500 * (i % 9)), &sent, &rc));
    run();
    ASSERT_EQ(rc, 0) << "iteration " << i;
    ASSERT_EQ(a.tasks_running(), 0u);
    ASSERT_FALSE(a.driver().probed());
    // Only the skb pool's cached buffers remain allocated; no mapping is left.
    ASSERT_EQ(a.memory().live_mappings(), 0u) << "iteration " << i;
    ASSERT_EQ(a.memory().live_allocations(), a.skbs().stats().buffers) << "iteration " << i;
    ASSERT_EQ(a.skbs().live(), 0u);
  }
  EXPECT_EQ(sent, 20'000u);
  EXPECT_EQ(a.memory().stats().bad_unmaps, 0u);
  EXPECT_EQ(a.memory().stats().bad_frees, 0u);
  EXPECT_EQ(a.bus().stats().spurious_irqs, 0u);
  EXPECT_EQ(b.bus().stats().spurious_irqs, 0u);
  EXPECT_EQ(p.nic("a").stat(Stat::mmio_in_reset), 0u);  // the driver always waits for RESET_DONE
  EXPECT_EQ(p.nic("a").stat(Stat::mmio_disabled), 0u);
  // stop() lets the ring drain before it resets the device: nothing is flushed.
  EXPECT_EQ(a.driver().stat(D::tx_queue_0_flushed), 0u);
  // Everything a sent is delivered to b, or was flushed at a close, in order and intact.
  const auto& k = b.checker().stats();
  EXPECT_EQ(k.frames + a.driver().stat(D::tx_queue_0_flushed), sent);
  EXPECT_EQ(k.bad_bytes, 0u);
  EXPECT_EQ(k.out_of_order, 0u);
  EXPECT_EQ(b.skbs().live(), 0u);
}

TEST(DriverPair, FullSizeFramesAtLineRateAllArriveInOrder) {
  const uint64_t n = 50'000;
  Scenario s = driver_scenario(n, 0, 1514, 1514);
  Platform p(s);
  p.run();
  const auto& k = p.driver_host("b").checker().stats();
  EXPECT_EQ(k.ok, n);
  EXPECT_EQ(k.out_of_order, 0u);
  EXPECT_EQ(k.gap_frames, 0u);
  expect_conservation(p);
  // Line rate: 1538 bytes on the wire a frame at 10 Gb/s = 1.2304 us; the run lasts n of those
  // plus bring-up and the last frame's way through (well under 1 %).
  const double line = static_cast<double>(n) * 1.2304e-6;
  const double took = static_cast<double>(p.end_ps()) / 1e12;
  EXPECT_GT(took, line);
  EXPECT_LT(took, line * 1.01) << "the pair did not keep up with the wire";
  EXPECT_EQ(p.driver_host("b").softnet().stats().time_squeeze, 0u);
  EXPECT_EQ(p.nic("b").stat(Stat::rx_missed_errors), 0u);
}

TEST(DriverPair, BothWaysMixedSizesDeliverEverything) {
  Scenario s = driver_scenario(20'000, 20'000, 60, 1514);
  Platform p(s);
  p.run();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(p.driver_host(i == 0 ? "a" : "b").checker().stats().ok, 20'000u);
    EXPECT_EQ(p.driver_host(i == 0 ? "a" : "b").checker().stats().out_of_order, 0u);
    EXPECT_EQ(p.driver_host(i == 0 ? "a" : "b").skbs().live(), 0u);
  }
  expect_conservation(p);
}

// time_squeeze: net_rx_action stops with work left. A poll is "full" only when the CPU falls
// behind, and one NAPI context exhausts the 300 budget only if netdev_budget < its weight.
struct SqueezeCase {
  int budget;
  int64_t netif_receive_ns;
  bool expect_squeeze;
  const char* name;
};
class DriverSqueeze : public ::testing::TestWithParam<SqueezeCase> {};

TEST_P(DriverSqueeze, AppearsOnlyWithASmallBudgetAndAnOverloadedCpu) {
  const SqueezeCase c = GetParam();
  // 1514-byte frames: 812,744 a second. The default costs take ~0.45 us a frame (keeps up);
  // 2 us in the stack does not.
  Scenario s = driver_scenario(30'000, 0, 1514, 1514);
  for (auto& h : s.host_list) h.sysctl.core.netdev_budget = c.budget;
  s.driver.costs.netif_receive = Duration::ns(c.netif_receive_ns);
  Platform p(s);
  p.run();
  const auto& sd = p.driver_host("b").softnet().stats();
  if (c.expect_squeeze) {
    EXPECT_GT(sd.time_squeeze, 100u);
    EXPECT_EQ(sd.time_squeeze, sd.squeeze_budget);
  } else {
    EXPECT_EQ(sd.time_squeeze, 0u);
  }
  expect_conservation(p);
}

INSTANTIATE_TEST_SUITE_P(Cases, DriverSqueeze,
                         ::testing::Values(SqueezeCase{32, 2000, true, "SmallBudgetSlowStack"},
                                           SqueezeCase{32, 150, false, "SmallBudgetCpuKeepsUp"},
                                           SqueezeCase{300, 2000, false, "OneNapiNeverExhausts300"},
                                           SqueezeCase{300, 150, false, "Defaults"}),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DriverPair, TimeLimitSqueezesWhenOnePollOutlastsTwoJiffies) {
  Scenario s = driver_scenario(2'000, 0, 60, 60);
  s.driver.costs.netif_receive = Duration::us(100);  // 64 packets: 6.4 ms a poll
  Platform p(s);
  p.run();
  const auto& sd = p.driver_host("b").softnet().stats();
  EXPECT_GT(sd.squeeze_time, 0u);
  EXPECT_EQ(sd.squeeze_budget, 0u);
  expect_conservation(p);
}

// Interrupts on the receiving host, at 100,000 frames a second.
struct ModCase {
  uint32_t usecs, frames;
  double expect_per_frame;  // interrupts per received frame
  double tolerance;
  const char* name;
};
class DriverModeration : public ::testing::TestWithParam<ModCase> {};

TEST_P(DriverModeration, InterruptCountsFollowTheCoalescingSettings) {
  const ModCase c = GetParam();
  const uint64_t n = 5'000;
  Scenario s = driver_scenario(n, 0, 60, 60);
  s.nic_side("a").host.interval = Duration::us(10);
  s.nic_side("b").host.coalesce.rx_usecs = c.usecs;
  s.nic_side("b").host.coalesce.rx_frames = c.frames;
  Platform p(s);
  p.run();
  const double irqs = static_cast<double>(p.nic("b").stat(Stat::irq_rx));
  EXPECT_NEAR(irqs / static_cast<double>(n), c.expect_per_frame, c.tolerance) << irqs << " interrupts";
  EXPECT_EQ(p.driver_host("b").driver().stat(D::irq_queue_0), p.nic("b").stat(Stat::irq_rx) + p.nic("b").stat(Stat::irq_tx));
  EXPECT_EQ(p.driver_host("b").checker().stats().ok, n);
}

INSTANTIATE_TEST_SUITE_P(Cases, DriverModeration,
                         ::testing::Values(ModCase{0, 1, 1.0, 0.01, "EveryFrame"},
                                           ModCase{1000, 32, 1.0 / 32, 0.002, "Every32Frames"},
                                           ModCase{50, 0, 1.0 / 5, 0.01, "Every50us"},
                                           ModCase{200, 0, 1.0 / 20, 0.005, "Every200us"},
                                           ModCase{50, 2, 1.0 / 2, 0.01, "FramesBeforeTime"}),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(DriverProbe, AResetThatNeverCompletesFailsProbeWithAClearError) {
  Scenario s = driver_scenario(10, 0, 60, 60);
  s.nic.reset_hangs = true;
  Platform p(s);
  p.run();
  DriverHost& a = p.driver_host("a");
  EXPECT_EQ(a.probe_rc(), -vnic::stack::kETIMEDOUT);
  ASSERT_FALSE(a.driver().log().empty());
  EXPECT_NE(a.driver().log().back().find("reset did not complete within 100000 us"), std::string::npos)
      << a.driver().log().back();
  EXPECT_FALSE(a.driver().probed());
  // The function is left disabled: no decoding, no bus mastering.
  EXPECT_EQ(a.bus().cfg_read32(vnic::model::pci::kCommandStatus) &
                (vnic::model::pci::kCmdMemorySpace | vnic::model::pci::kCmdBusMaster),
            0u);
  EXPECT_EQ(a.memory().live_allocations(), 0u);
}

TEST(DriverFaults, BusMasteringOffRefusesDmaAndTheWatchdogRecovers) {
  Scenario s = driver_scenario(0, 0, 60, 1514);
  Platform p(s);
  DriverHost& a = p.driver_host("a");
  DriverHost& b = p.driver_host("b");
  a.bring_up();
  b.bring_up();
  run();
  uint64_t seq = 0, sent = 0;
  a.spawn(send(a, &seq, 100, &sent));
  run();
  ASSERT_EQ(b.checker().stats().ok, 100u);
  // Something turns bus mastering off behind the driver's back (setpci, a buggy quirk).
  const uint32_t cmd = a.bus().cfg_read32(vnic::model::pci::kCommandStatus) & 0xFFFF;
  a.bus().cfg_write32(vnic::model::pci::kCommandStatus, cmd & ~uint32_t{vnic::model::pci::kCmdBusMaster});
  a.spawn(send(a, &seq, 100, &sent));
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(b.checker().stats().ok, 100u);  // nothing more went out
  EXPECT_GT(p.nic("a").stat(Stat::dma_no_bme), 0u);  // descriptor fetches refused (and no interrupt)
  const uint32_t stuck = a.driver().tx_in_flight();  // stuck in the ring until BQL stopped the queue
  EXPECT_GT(stuck, 0u);
  EXPECT_TRUE(a.driver().netif_xmit_stopped());
  // Bus mastering comes back, but the device has given up on its fetch: only a reset helps.
  a.bus().cfg_write32(vnic::model::pci::kCommandStatus, cmd);
  run();  // the TX watchdog sees the stopped queue after 5-10 s and resets the device
  EXPECT_EQ(a.driver().stat(D::tx_timeout), 1u);
  EXPECT_EQ(a.driver().stat(D::resets), 1u);
  EXPECT_EQ(a.driver().stat(D::tx_queue_0_flushed), stuck);
  bool logged = false;
  for (const auto& l : a.driver().log()) logged = logged || l.find("NETDEV WATCHDOG: eth0 (vnic): transmit queue 0 timed out") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_EQ(b.checker().stats().frames, 200u - stuck);  // the sender went on after the reset
  a.spawn(send(a, &seq, 100, &sent));
  run();
  EXPECT_EQ(b.checker().stats().frames, 300u - stuck);
  EXPECT_EQ(b.checker().stats().gap_frames, stuck);  // exactly the flushed ones
  EXPECT_EQ(b.checker().stats().out_of_order, 0u);
  EXPECT_EQ(a.memory().live_mappings(), uint64_t{a.driver().config().rx_ring} + 2);  // RX buffers + rings
}

TEST(DriverFaults, DmaOutsideAnyMappingIsRefusedCountedAndResetRecovers) {
  Scenario s = driver_scenario(0, 0, 60, 1514);
  s.host("b").iommu = true;
  Platform p(s);
  DriverHost& a = p.driver_host("a");
  DriverHost& b = p.driver_host("b");
  a.bring_up();
  b.bring_up();
  run();
  uint64_t seq = 0, sent = 0;
  a.spawn(send(a, &seq, 50, &sent));
  run();
  ASSERT_EQ(b.checker().stats().ok, 50u);
  // Every RX buffer loses its mapping behind the driver's back.
  for (uint32_t i = 0; i < b.driver().config().rx_ring; ++i) b.memory().unmap(b.driver().rx_buffer_dma(i));
  a.spawn(send(a, &seq, 50, &sent));
  run();
  EXPECT_GT(b.memory().stats().iommu_faults, 0u);
  // The device reported the refused write; the driver logged it and reset the device, which
  // maps fresh buffers.
  EXPECT_GE(b.driver().stat(D::device_errors), 1u);
  EXPECT_EQ(b.driver().stat(D::resets), 1u);
  bool logged = false;
  for (const auto& l : b.driver().log()) logged = logged || l.find("device error: ERR_CAUSE 0x00000001 (RX_DMA)") != std::string::npos;
  EXPECT_TRUE(logged);
  a.spawn(send(a, &seq, 50, &sent));
  run();
  b.refresh_stats();
  run();
  // The device's counters survive its reset: every frame is delivered or in exactly one drop
  // counter (the refused one, those that found RX stopped, those received but never polled).
  EXPECT_EQ(ethtool_stat(b, "rx_dma_errors"), 1u);
  // (and, right after the reset, any that came before the device had fetched RX descriptors).
  const uint64_t dropped = ethtool_stat(b, "rx_dma_errors") + ethtool_stat(b, "rx_dropped_disabled") +
                           ethtool_stat(b, "rx_missed_errors") + b.driver().stat(D::rx_queue_0_flushed);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(b.checker().stats().ok + dropped, 150u);
  EXPECT_EQ(b.checker().stats().gap_frames, dropped);
  EXPECT_EQ(b.checker().stats().out_of_order, 0u);
}

TEST(DriverPair, NetifRxThroughASmallBacklogCountsItsDrops) {
  Scenario s = driver_scenario(20'000, 0, 60, 60);
  s.driver.rx_handoff = "netif_rx";
  for (auto& h : s.host_list) h.sysctl.core.netdev_max_backlog = 16;
  s.driver.costs.netif_receive = Duration::ns(1000);  // the backlog drains slower than NAPI fills it
  Platform p(s);
  p.run();
  const auto& sd = p.driver_host("b").softnet().stats();
  EXPECT_GT(sd.dropped, 0u);
  // What left the backlog reached its handler: pktgen's frames the checker, and the stack's
  // own (the default's ping from a: ARP and ICMP echo requests, some of which the small
  // backlog may drop too) arp_rcv and ip_rcv.
  DriverHost& b = p.driver_host("b");
  EXPECT_EQ(sd.processed,
            b.checker().stats().frames + b.net().neigh().arp_stats().rcv + b.net().ip_mib().InReceives);
  // The core also counts the drop against the device (ip -s link's rx dropped).
  EXPECT_GE(p.driver_host("b").driver().get_stats64().rx_dropped, sd.dropped);
  expect_conservation(p);
}

TEST(DriverPair, EthtoolKnobs) {
  Scenario s = driver_scenario(0, 0, 60, 60);
  Platform p(s);
  DriverHost& a = p.driver_host("a");
  a.bring_up();
  p.driver_host("b").bring_up();
  run();
  auto& d = a.driver();
  EXPECT_EQ(d.get_ringparam().rx_pending, 1024u);
  EXPECT_EQ(d.get_ringparam().tx_max_pending, 4096u);
  const auto ls = d.get_link_ksettings();
  EXPECT_TRUE(ls.link);
  EXPECT_EQ(ls.speed_mbps, 10000u);
  EXPECT_EQ(d.get_drvinfo().driver, "vnic");
  EXPECT_EQ(d.get_ethtool_stats().size(), d.get_drvinfo().n_stats);
  struct Set {
    static Co<void> run(vnic::driver::VnicDriver& drv, vnic::stack::EthtoolCoalesce c, int* rc) {
      *rc = co_await drv.set_coalesce(c);
    }
  };
  int rc = 1;
  a.spawn(Set::run(d, {100, 0, 30, 7}, &rc));
  run();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(d.get_coalesce().rx_coalesce_usecs, 100u);
  EXPECT_EQ(d.get_coalesce().tx_max_coalesced_frames, 7u);
  a.spawn(Set::run(d, {70000, 0, 0, 0}, &rc));
  run();
  EXPECT_EQ(rc, -vnic::stack::kEINVAL);
  EXPECT_EQ(d.get_coalesce().rx_coalesce_usecs, 100u);  // unchanged
}

}  // namespace

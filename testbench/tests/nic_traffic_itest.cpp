// System tests of the NIC pair: integrity and order, wire timing, interrupt moderation,
// FCS errors, missed frames and conservation, through the Platform (direct hosts).
#include <gtest/gtest.h>

#include <systemc>

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include "vnic/model/crc32.hpp"
#include "vnic/tb/platform.hpp"
#include "vnic/tb/pcap.hpp"

namespace {

using vnic::model::Duration;
using vnic::model::regs::Stat;
using vnic::tb::Platform;
using vnic::tb::Scenario;

// Sits between the link and a NIC and records when each frame's last bit arrives.
class ArrivalTap : public vnic::hw::EthEndpoint {
 public:
  ArrivalTap(vnic::hw::EventQueue& q, vnic::hw::EthEndpoint& inner) : q_(q), inner_(inner) {}
  void eth_receive(vnic::model::Frame&& f) override {
    times.push_back(q_.now_ps());
    inner_.eth_receive(std::move(f));
  }
  void eth_link_changed(bool up, vnic::model::BitRate r) override { inner_.eth_link_changed(up, r); }
  std::vector<uint64_t> times;

 private:
  vnic::hw::EventQueue& q_;
  vnic::hw::EthEndpoint& inner_;
};

Scenario one_way(uint64_t frames, uint32_t min_len, uint32_t max_len) {
  std::string err;
  auto s = vnic::tb::parse_scenario(vnic::tb::default_scenario_toml(), &err);
  EXPECT_TRUE(s) << err;
  s->hosts = "direct";  // these tests look at the device; the driver pair has its own tests
  s->nic_side("a").host.count = frames;
  s->nic_side("a").host.pattern.min_len = min_len;
  s->nic_side("a").host.pattern.max_len = max_len;
  s->nic_side("b").host.count = 0;
  return *s;
}

void expect_conservation(Platform& p) {
  for (const vnic::tb::PortId port : p.ports()) {
    std::string detail;
    EXPECT_EQ(p.unaccounted(port, &detail), 0) << p.label(port) << ": " << detail;
  }
}

std::string temp_path(const char* stem) {
  return std::string(::testing::TempDir()) + stem + std::to_string(::getpid()) + ".pcap";
}

TEST(NicTraffic, HundredThousandRandomFramesArriveInOrderAndIntact) {
  Scenario s = one_way(100'000, 60, 1514);
  s.link().pcap = temp_path("vnic_wire_");
  {
    Platform p(s);
    p.run();
    const auto& rx = p.test_host("b").stats();
    EXPECT_EQ(rx.rx_ok, 100'000u);
    EXPECT_EQ(rx.rx_bad_bytes, 0u);
    EXPECT_EQ(rx.rx_out_of_order, 0u);
    EXPECT_EQ(p.test_host("a").stats().tx_completed, 100'000u);
    EXPECT_EQ(p.nic("a").stat(Stat::tx_packets), 100'000u);
    EXPECT_EQ(p.nic("b").stat(Stat::rx_packets), 100'000u);
    // Bytes: the sender counts frames with FCS, the receiver strips it.
    EXPECT_EQ(p.nic("a").stat(Stat::tx_bytes), p.nic("b").stat(Stat::rx_bytes) + 4 * 100'000u);
    expect_conservation(p);
    p.link().close_capture();
  }
  std::string err;
  const auto frames = vnic::tb::read_pcap(s.link().pcap, &err);
  ASSERT_TRUE(frames) << err;
  ASSERT_EQ(frames->size(), 100'000u);
  std::size_t bad = 0;
  for (const auto& f : *frames) bad += vnic::model::fcs_ok(f.bytes) ? 0 : 1;
  EXPECT_EQ(bad, 0u);
  std::remove(s.link().pcap.c_str());
}

void check_wire_spacing(uint32_t len, uint64_t want_ps) {
  Scenario s = one_way(100'000, len, len);
  Platform p(s);
  ArrivalTap tap(p.queue(), p.nic("b"));
  p.link().attach(1, &tap);
  p.run();
  ASSERT_EQ(tap.times.size(), 100'000u);
  std::size_t off = 0;
  uint64_t min_gap = UINT64_MAX, max_gap = 0;
  for (std::size_t i = 1; i < tap.times.size(); ++i) {
    const uint64_t gap = tap.times[i] - tap.times[i - 1];
    min_gap = std::min(min_gap, gap);
    max_gap = std::max(max_gap, gap);
    if (gap != want_ps) ++off;
  }
  EXPECT_EQ(off, 0u) << "gaps ranged " << min_gap << ".." << max_gap << " ps";
  EXPECT_EQ(p.test_host("b").stats().rx_ok, 100'000u);
  expect_conservation(p);
}

TEST(NicTraffic, WireTiming1500BytePayloadIs1230_4ns) { check_wire_spacing(1514, 1'230'400); }
TEST(NicTraffic, WireTiming64ByteFramesIs67_2ns) { check_wire_spacing(60, 67'200); }

// Interrupts at B for `frames` frames at 1 Mpps with the given RX coalescing.
uint64_t rx_irqs_at_1mpps(uint32_t usecs, uint32_t frames, uint64_t n) {
  Scenario s = one_way(n, 60, 60);
  s.nic_side("a").host.interval = Duration::ns(1000);
  s.nic_side("b").host.coalesce.rx_usecs = usecs;
  s.nic_side("b").host.coalesce.rx_frames = frames;
  Platform p(s);
  p.run();
  EXPECT_EQ(p.test_host("b").stats().rx_ok, n);
  expect_conservation(p);
  return p.nic("b").stat(Stat::irq_rx);
}

TEST(NicTraffic, ModerationRxUsecs50GivesOneInterruptPer51us) {
  const uint64_t n = 51'000;  // 51 ms at 1 Mpps: 1000 interrupts
  const uint64_t irqs = rx_irqs_at_1mpps(50, 0, n);
  EXPECT_NEAR(static_cast<double>(irqs), 1000.0, 30.0);
}

TEST(NicTraffic, ModerationRxFrames32Gives31250PerSecond) {
  const uint64_t n = 32'000;  // 32 ms: 31,250/s -> 1000 interrupts
  EXPECT_NEAR(static_cast<double>(rx_irqs_at_1mpps(0, 32, n)), 1000.0, 30.0);
}

TEST(NicTraffic, ModerationRxFrames1GivesOnePerFrame) {
  EXPECT_EQ(rx_irqs_at_1mpps(0, 1, 5000), 5000u);
}

TEST(NicTraffic, BitErrorsAreAllCaughtByTheFcs) {
  Scenario s = one_way(20'000, 60, 1514);
  s.link().faults.bit_error_rate = 2e-6;
  Platform p(s);
  p.run();
  const auto& ls = p.link().stats(0);
  EXPECT_GT(ls.corrupted, 100u);
  EXPECT_EQ(p.nic("b").stat(Stat::rx_crc_errors), ls.corrupted);
  EXPECT_EQ(p.test_host("b").stats().rx_bad_bytes, 0u);
  EXPECT_EQ(p.test_host("b").stats().rx_ok + ls.corrupted, 20'000u);
  EXPECT_EQ(p.test_host("b").stats().rx_out_of_order, 0u);
  // Every lost frame is a gap in the sequence, or lies after the last one received.
  EXPECT_EQ(p.test_host("b").stats().rx_gap_frames + (20'000u - p.test_host("b").stats().next_rx_seq), ls.corrupted);
  expect_conservation(p);
}

TEST(NicTraffic, BitErrorsWithRxAllAreDeliveredFlagged) {
  Scenario s = one_way(20'000, 60, 1514);
  s.link().faults.bit_error_rate = 2e-6;
  s.nic_side("b").host.rx_ctrl |= 0x10 | 0x1;  // RX_ALL, and promiscuous so a flipped address still arrives
  Platform p(s);
  p.run();
  const auto& ls = p.link().stats(0);
  EXPECT_GT(ls.corrupted, 100u);
  EXPECT_EQ(p.nic("b").stat(Stat::rx_crc_errors), 0u);
  EXPECT_EQ(p.test_host("b").stats().rx_err_flagged, ls.corrupted);
  EXPECT_EQ(p.test_host("b").stats().rx_ok, 20'000u - ls.corrupted);
  expect_conservation(p);
}

TEST(NicTraffic, ReceiverThatNeverRefillsDropsExactlyTheExcess) {
  Scenario s = one_way(5000, 60, 1514);
  s.nic_side("b").host.rx_ring = 256;
  s.nic_side("b").host.refill_rx = false;
  Platform p(s);
  p.run();
  EXPECT_EQ(p.test_host("b").stats().rx_ok, 255u);  // one slot stays empty
  EXPECT_EQ(p.nic("b").stat(Stat::rx_missed_errors), 5000u - 255u);
  expect_conservation(p);
}

TEST(NicTraffic, BothWaysAtLineRateConserveEveryFrame) {
  std::string err;
  auto s = vnic::tb::parse_scenario(vnic::tb::default_scenario_toml(), &err);
  ASSERT_TRUE(s) << err;
  s->hosts = "direct";
  Platform p(*s);
  p.run();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(p.test_host(i == 0 ? "a" : "b").stats().rx_ok, s->nic_side("a").host.count);
    EXPECT_EQ(p.test_host(i == 0 ? "a" : "b").stats().rx_out_of_order, 0u);
  }
  expect_conservation(p);
}

TEST(NicTraffic, LinkDownMidTrafficLosesOnlyCountedFrames) {
  std::string err;
  auto s = vnic::tb::parse_scenario(vnic::tb::default_scenario_toml(), &err);
  ASSERT_TRUE(s) << err;
  s->hosts = "direct";
  s->nic_side("a").host.count = s->nic_side("b").host.count = 5000;
  Platform p(*s);
  p.link().schedule_link_change(sc_core::sc_time(1, sc_core::SC_MS), false);
  p.link().schedule_link_change(sc_core::sc_time(2, sc_core::SC_MS), true);
  p.run();
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(p.nic(i == 0 ? "a" : "b").stat(Stat::tx_dropped_link_down), 0u);
    EXPECT_GE(p.nic(i == 0 ? "a" : "b").stat(Stat::irq_misc), 2u);  // down and up
    EXPECT_EQ(p.test_host(i == 0 ? "a" : "b").stats().rx_bad_bytes, 0u);
    EXPECT_LT(p.test_host(i == 0 ? "a" : "b").stats().rx_ok, 5000u);
  }
  expect_conservation(p);
}

TEST(NicTraffic, FrameDropsOnTheWireAreCountedByTheLink) {
  Scenario s = one_way(20'000, 60, 1514);
  s.link().faults.drop_probability = 0.01;
  Platform p(s);
  p.run();
  const auto& ls = p.link().stats(0);
  EXPECT_GT(ls.dropped_fault, 100u);
  EXPECT_EQ(p.test_host("b").stats().rx_ok + ls.dropped_fault, 20'000u);
  expect_conservation(p);
}

}  // namespace


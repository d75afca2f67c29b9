// Bad guest input: every row of docs/hw.md's table, each with its counter and the device's answer.
// None may abort, hang, or write outside the buffers the host gave.
#include <gtest/gtest.h>

#include <systemc>

#include <algorithm>
#include <random>
#include <memory>
#include <vector>

#include "vnic/hw/nic.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/test_host.hpp"
#include "support/nic_rig.hpp"

namespace {

using vnic::test::kBase;
using vnic::test::Loopback;
using vnic::test::Rig;
namespace regs = vnic::model::regs;
using regs::Stat;
using vnic::model::Duration;
using vnic::model::Frame;
using vnic::model::MacAddr;
using vnic::model::RxDesc;
using vnic::model::TxDesc;

TEST(BadInput, WritesDuringASoftResetAreIgnoredAndCounted) {
  vnic::hw::NicConfig nc = Rig::cfg();
  nc.reset_ns = 10'000;
  Rig r(Rig::small(), nc);
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 0u);  // RESET_DONE 0
  r.wr(regs::kRxUsecs, 77);                                          // too early: ignored
  r.wr(regs::kMsixData, 5, 0);                                       // the MSI-X table is the function's
  EXPECT_EQ(r.stat(Stat::mmio_in_reset), 1u);
  EXPECT_EQ(r.rd(regs::kRxUsecs), 0u);
  EXPECT_EQ(r.rd(regs::kMsixData, 0), 5u);
  r.run_for(Duration::ns(9'990));
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 0u);
  r.run_for(Duration::ns(20));
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 1u);
  r.wr(regs::kRxUsecs, 77);
  EXPECT_EQ(r.rd(regs::kRxUsecs), 77u);
  EXPECT_EQ(r.stat(Stat::mmio_in_reset), 1u);
}

TEST(BadInput, AResetThatHangsNeverReportsDone) {
  vnic::hw::NicConfig nc = Rig::cfg();
  nc.reset_hangs = true;
  Rig r(Rig::small(), nc);
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 1u);  // power-on reset is done
  r.wr(regs::kCtrl, 2);
  r.run_for(Duration::ms(10));
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 0u);
  r.wr(regs::kRxUsecs, 1);
  EXPECT_EQ(r.stat(Stat::mmio_in_reset), 1u);
}

TEST(BadInput, TxRingOutsideHostMemoryStopsTheQueueUntilReset) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqBaseLo, 0x1000);  // below host memory
  r.wr(regs::kTxqBaseHi, 0);
  r.wr(regs::kTxqCtrl, 1);
  r.wr(regs::kTxqTail, 3);
  r.run_for(Duration::us(5));
  EXPECT_EQ(r.stat(Stat::desc_dma_errors), 1u);
  const uint32_t st = r.rd(regs::kTxqStatus);
  EXPECT_EQ(regs::q_status::kRunning.get(st), 0u);  // not running
  EXPECT_EQ(regs::q_status::kError.get(st), 1u);  // error
  EXPECT_EQ(regs::q_status::kErrCode.get(st), static_cast<uint32_t>(regs::QueueErr::Dma));
  EXPECT_NE(r.err_cause() & regs::err_cause::kTxDma.mask(), 0u);
  EXPECT_EQ(r.rd(regs::kErrAddrLo), 0x1000u);
  EXPECT_EQ(r.host->stats().irqs_per_vector.back(), r.stat(Stat::irq_misc));
  EXPECT_GE(r.stat(Stat::irq_misc), 1u);
  // Further doorbells, and toggling ENABLE, do nothing until reset.
  r.wr(regs::kTxqTail, 5);
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqCtrl, 1);
  r.run_for(Duration::us(5));
  EXPECT_EQ(r.stat(Stat::desc_dma_errors), 1u);
  EXPECT_EQ(regs::q_status::kError.get(r.rd(regs::kTxqStatus)), 1u);
  // Reset recovers the device: everything back to reset values, traffic works again.
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(r.rd(regs::kTxqStatus), 0u);
  EXPECT_EQ(r.err_cause(), 0u);
  EXPECT_EQ(r.stat(Stat::desc_dma_errors), 1u);  // the counters survive the reset
}

TEST(BadInput, RxBufferOutsideHostMemoryDropsTheFrameAndStopsRx) {
  Rig r;
  r.host->bring_up();
  // Point RX descriptor 0 at an address past the end of host memory.
  RxDesc d;
  d.buf_addr = kBase + (8u << 20) - 16;
  vnic::model::encode(d, r.mem.view(r.host->rx_ring_addr(), 16).first<16>());
  r.wr(regs::kRxqCtrl, 0);
  r.wr(regs::kRxqCtrl, 1);
  r.put_tx(0, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
  EXPECT_EQ(r.stat(Stat::rx_dma_errors), 1u);
  EXPECT_EQ(r.stat(Stat::rx_packets), 0u);
  EXPECT_NE(r.err_cause() & regs::err_cause::kRxDma.mask(), 0u);
  EXPECT_EQ(regs::q_status::kError.get(r.rd(regs::kRxqStatus)), 1u);
  // The RX ring was not written back (no DD anywhere).
  for (uint32_t i = 0; i < 64; ++i) {
    EXPECT_FALSE(vnic::model::decode_rx(r.mem.view(r.host->rx_ring_addr() + i * 16ull, 16).first<16>()).done());
  }
  // The next frame is dropped as "queue not running", counted once.
  r.put_tx(1, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 2);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::rx_dropped_disabled), 1u);
}

TEST(BadInput, TxBufferOutsideHostMemoryDropsTheFrame) {
  Rig r;
  r.host->bring_up();
  r.put_tx(0, 0xDEAD'0000'0000ull, 200, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_dma_errors), 1u);
  EXPECT_EQ(r.stat(Stat::tx_packets), 0u);
  EXPECT_EQ(r.wire.sent, 0u);
  EXPECT_EQ(r.rd(regs::kErrAddrHi), 0xDEADu);
  EXPECT_EQ(regs::q_status::kErrCode.get(r.rd(regs::kTxqStatus)), static_cast<uint32_t>(regs::QueueErr::Dma));
}

TEST(BadInput, BadRingSizesAndAlignmentAreRefusedAtEnable) {
  Rig r;
  r.host->bring_up();
  const uint32_t sizes[] = {0, 4, 1000, 8192};
  uint64_t n = 0;
  for (uint32_t size : sizes) {
    r.wr(regs::kTxqCtrl, 0);
    r.wr(regs::kTxqSize, size);
    r.wr(regs::kTxqCtrl, 1);
    ++n;
    EXPECT_EQ(r.stat(Stat::ring_cfg_errors), n) << "size " << size;
    EXPECT_EQ(regs::q_status::kErrCode.get(r.rd(regs::kTxqStatus)), static_cast<uint32_t>(regs::QueueErr::RingCfg));
  }
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqSize, 64);
  r.wr(regs::kTxqBaseLo, static_cast<uint32_t>(r.host->tx_ring_addr() + 8));  // not 16-byte aligned
  r.wr(regs::kTxqCtrl, 1);
  EXPECT_EQ(r.stat(Stat::ring_cfg_errors), n + 1);
  r.wr(regs::kRxqCtrl, 0);
  r.wr(regs::kRxqBufSize, 32);  // below 64
  r.wr(regs::kRxqCtrl, 1);
  EXPECT_EQ(r.stat(Stat::ring_cfg_errors), n + 2);
  EXPECT_NE(r.err_cause() & regs::err_cause::kRingCfg.mask(), 0u);
  // A good configuration then runs.
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqBaseLo, static_cast<uint32_t>(r.host->tx_ring_addr()));
  r.wr(regs::kTxqCtrl, 1);
  EXPECT_EQ(regs::q_status::kRunning.get(r.rd(regs::kTxqStatus)), 1u);
}

TEST(BadInput, TailBeyondTheRingIsIgnoredAndCounted) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kTxqTail, 64);
  r.wr(regs::kTxqTail, 0xFFFF);
  EXPECT_EQ(r.stat(Stat::tail_errors), 2u);
  EXPECT_EQ(r.rd(regs::kTxqTail), 0u);
  EXPECT_NE(r.err_cause() & regs::err_cause::kTail.mask(), 0u);
  EXPECT_EQ(regs::q_status::kRunning.get(r.rd(regs::kTxqStatus)), 1u);  // still running
}

TEST(BadInput, ZeroLengthDescriptorDropsOnlyThatFrame) {
  Rig r;
  r.host->bring_up();
  r.put_tx(0, r.buf(100), 0, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.put_tx(1, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 2);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 1u);
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
  const TxDesc wb = vnic::model::decode_tx(r.mem.view(r.host->tx_ring_addr(), 16).first<16>());
  EXPECT_TRUE(wb.done());
  EXPECT_EQ(wb.errors, TxDesc::kErrDesc);
  EXPECT_EQ(r.rd(regs::kTxqHead), 2u);
}

TEST(BadInput, FrameOverMaxFrameSizeIsDropped) {
  Rig r;
  r.host->bring_up();
  r.put_tx(0, r.buf(1000), 1000, 0);
  r.put_tx(1, r.buf(1000), 1000, TxDesc::kCmdEop | TxDesc::kCmdRs);  // 2000 B > 1518
  r.put_tx(2, r.buf(1514), 1514, TxDesc::kCmdEop | TxDesc::kCmdRs);  // exactly the maximum
  r.wr(regs::kTxqTail, 3);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 1u);
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
  EXPECT_EQ(r.stat(Stat::tx_bytes), 1518u);
}

TEST(BadInput, ChainWithoutEndOfPacketIsDropped) {
  Rig r;
  r.host->bring_up();
  const uint32_t n = r.nic.config().max_tx_desc_per_frame;
  for (uint32_t i = 0; i < n; ++i) r.put_tx(i, r.buf(64), 64, 0);  // no EOP anywhere
  r.put_tx(n, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, n + 1);
  r.run_for(Duration::us(20));
  // The whole chain up to and including its EOP is one dropped frame: nothing goes out.
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 1u);
  EXPECT_EQ(r.stat(Stat::tx_packets), 0u);
  EXPECT_EQ(r.rd(regs::kTxqHead), n + 1);
  const TxDesc wb = vnic::model::decode_tx(r.mem.view(r.host->tx_ring_addr() + n * 16ull, 16).first<16>());
  EXPECT_EQ(wb.status & TxDesc::kStaDd, TxDesc::kStaDd);
  EXPECT_EQ(wb.errors, TxDesc::kErrDesc);
}

TEST(BadInput, UnalignedUnknownAndOddSizedMmioGetAnAddressError) {
  Rig r;
  std::array<uint8_t, 8> b{};
  EXPECT_EQ(r.host->raw_access(false, 0x2, b.data(), 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.host->raw_access(false, regs::kCtrl.offset, b.data(), 2), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.host->raw_access(true, regs::kCtrl.offset, b.data(), 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.host->raw_access(false, 0x0FFC, b.data(), 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // a gap
  EXPECT_EQ(r.host->raw_access(false, 0x10'0000, b.data(), 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // past BAR0
  EXPECT_EQ(r.stat(Stat::mmio_errors), 5u);
  EXPECT_NE(r.err_cause() & regs::err_cause::kMmio.mask(), 0u);
  EXPECT_EQ(r.host->raw_access(false, regs::kId.offset, b.data(), 4), tlm::TLM_OK_RESPONSE);
}

TEST(BadInput, WritesToReadOnlyRegistersAreIgnored) {
  Rig r;
  r.wr(regs::kId, 0);
  r.wr(regs::kCap, 0xFFFFFFFF);
  r.wr(regs::kStatLo, 0x1234, 3);
  EXPECT_EQ(r.rd(regs::kId), regs::kDeviceId);
  EXPECT_EQ(regs::cap::kNumQp.get(r.rd(regs::kCap)), 1u);
  EXPECT_EQ(r.stat(Stat::mmio_ro_writes), 3u);
}

TEST(BadInput, MaxFrameOutOfRangeIsRefused) {
  Rig r;
  r.wr(regs::kMaxFrame, 10);
  r.wr(regs::kMaxFrame, 20000);
  EXPECT_EQ(r.rd(regs::kMaxFrame), regs::kDefaultMaxFrame);
  EXPECT_EQ(r.stat(Stat::mmio_errors), 2u);
}

TEST(BadInput, ReservedModerationModeIsRefusedWhole) {
  Rig r;
  namespace us = regs::usecs;
  r.wr(regs::kRxUsecs, us::kMode.put(us::kUsecs.put(0, 40), us::kModeMinInterval));
  r.wr(regs::kTxUsecs, us::kMode.put(us::kUsecs.put(0, 9), 3));  // MODE 3 is reserved
  r.wr(regs::kRxUsecs, us::kMode.put(us::kUsecs.put(0, 7), 3));
  EXPECT_EQ(r.rd(regs::kTxUsecs), 0u);  // refused whole: neither MODE nor USECS taken
  EXPECT_EQ(us::kUsecs.get(r.rd(regs::kRxUsecs)), 40u);
  EXPECT_EQ(us::kMode.get(r.rd(regs::kRxUsecs)), us::kModeMinInterval);
  EXPECT_EQ(r.stat(Stat::mmio_errors), 2u);
  EXPECT_NE(r.err_cause() & regs::err_cause::kMmio.mask(), 0u);
}

TEST(BadInput, ResetWhileDmaIsInFlightAbandonsItCleanly) {
  vnic::tb::TestHostConfig hc = Rig::small();
  hc.count = 1000;
  Rig r(hc);
  r.host->bring_up();
  r.run_for(Duration::us(3));  // traffic is flowing: fetches, data reads, write-backs in flight
  ASSERT_GT(r.nic.dma().stats().rd_tlps, 0u);
  r.wr(regs::kCtrl, 2);  // reset now
  const uint64_t tx_at_reset = r.stat(Stat::tx_packets);
  const auto snap = [&] {
    auto v = r.mem.view(kBase, r.mem.size());
    return std::vector<uint8_t>(v.begin(), v.end());
  };
  const std::vector<uint8_t> at_reset = snap();
  r.run_for(Duration::us(50));
  // Nothing landed in host memory after the reset, and the device is idle and reset.
  EXPECT_TRUE(at_reset == snap());
  EXPECT_EQ(r.nic.dma().pending_writes(), 0u);
  EXPECT_EQ(r.rd(regs::kCtrl), 0u);
  EXPECT_EQ(r.stat(Stat::tx_packets), tx_at_reset);  // nothing completed after the reset
  EXPECT_EQ(regs::status::kResetDone.get(r.rd(regs::kStatus)), 1u);
  // And it comes back up.
  r.host->bring_up();
  r.run_for(Duration::us(100));
  EXPECT_GT(r.stat(Stat::rx_packets), 0u);
}

}  // namespace


namespace {

TEST(NicIrq, MaskedVectorKeepsPendingWorkAndFiresOnUnmask) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kImaskSet, 1);  // mask vector 0 (queue pair 0)
  for (uint32_t i = 0; i < 5; ++i) r.put_tx(i, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 5);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::rx_packets), 5u);
  EXPECT_EQ(r.host->stats().irqs_per_vector[0], 0u);
  EXPECT_EQ(r.stat(Stat::irq_rx), 0u);
  EXPECT_EQ(r.rd(regs::kImask), 1u);
  r.wr(regs::kImaskClr, 1);  // pending RX and TX completions fire now
  r.run_for(Duration::us(1));
  EXPECT_EQ(r.stat(Stat::irq_rx), 1u);
  EXPECT_EQ(r.stat(Stat::irq_tx), 1u);
  EXPECT_EQ(r.host->stats().irqs_per_vector[0], 2u);
  const uint32_t icr = r.rd(regs::kIcr);
  EXPECT_EQ(icr & (regs::icr_rx_bit(0) | regs::icr_tx_bit(0)), regs::icr_rx_bit(0) | regs::icr_tx_bit(0));
  r.wr(regs::kIcr, icr);  // W1C
  EXPECT_EQ(r.rd(regs::kIcr), 0u);
  EXPECT_EQ(r.rd(regs::kVecCount, 0), 2u);
}

TEST(NicRegs, CountersReadAsLatchedHalvesAndSurviveAResetThatRestoresEverythingElse) {
  Rig r;
  r.host->bring_up();
  r.put_tx(0, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(20));
  const unsigned i = static_cast<unsigned>(Stat::tx_bytes);
  EXPECT_EQ(r.rd(regs::kStatLo, i), 104u);
  EXPECT_EQ(r.rd(regs::kStatHi, i), 0u);
  EXPECT_EQ(r.rd(regs::kStatLo, i), 104u);  // not cleared by reading
  // The station address, filters and every other register return to reset values.
  r.wr(regs::kMacLo, 0x12345678);
  r.wr(regs::kRxCtrl, 0x1F);
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(r.rd(regs::kMacLo), Rig::cfg().perm_mac.lo_word());
  EXPECT_EQ(r.rd(regs::kMacHi), Rig::cfg().perm_mac.hi_word());
  EXPECT_EQ(r.rd(regs::kRxCtrl), regs::kRxCtrl.reset);
  EXPECT_EQ(r.rd(regs::kStatLo, i), 104u);  // the counters survive a soft reset
  EXPECT_EQ(r.rd(regs::kRxqBufSize), regs::kDefaultRxBufSize);
  const uint32_t st = r.rd(regs::kStatus);
  EXPECT_EQ(regs::status::kLinkUp.get(st), 1u);  // link up
  EXPECT_EQ(regs::status::kSpeed.get(st), 2u);  // 10G
}

TEST(NicFilter, UnicastBroadcastMulticastHashAndPromiscuous) {
  Rig r;
  r.host->bring_up();
  auto send_to = [&](const MacAddr& dst, uint32_t slot) {
    const uint64_t a = r.buf(100);
    auto v = r.mem.view(a, 100);
    std::copy(dst.b.begin(), dst.b.end(), v.begin());
    r.put_tx(slot, a, 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
    r.wr(regs::kTxqTail, slot + 1);
    r.run_for(Duration::us(10));
  };
  const MacAddr other{{0x02, 0, 0, 0, 0, 0x99}};
  const MacAddr mc{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x07}};
  send_to(other, 0);
  EXPECT_EQ(r.stat(Stat::rx_filtered), 1u);
  send_to(MacAddr::broadcast(), 1);
  EXPECT_EQ(r.stat(Stat::rx_broadcast), 1u);
  send_to(mc, 2);
  EXPECT_EQ(r.stat(Stat::rx_filtered), 2u);  // hash bit not set
  const unsigned idx = vnic::model::mc_hash_index(mc);
  r.wr(idx < 32 ? regs::kMcHashLo : regs::kMcHashHi, 1u << (idx % 32));
  send_to(mc, 3);
  EXPECT_EQ(r.stat(Stat::rx_multicast), 1u);
  r.wr(regs::kRxCtrl, 0x4 | 0x1);  // promiscuous
  send_to(other, 4);
  EXPECT_EQ(r.stat(Stat::rx_filtered), 2u);
  EXPECT_EQ(r.stat(Stat::rx_packets), 3u);
  r.wr(regs::kRxCtrl, 0x0);  // broadcast off
  send_to(MacAddr::broadcast(), 5);
  EXPECT_EQ(r.stat(Stat::rx_filtered), 3u);
}

TEST(NicRx, RxFcsKeepsTheFcsAndShortFramesArePadded) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kRxCtrl, 0x4 | 0x8);  // keep FCS
  r.wr(regs::kImaskSet, 1);         // no interrupt: the host leaves the ring alone
  r.put_tx(0, r.buf(30), 30, TxDesc::kCmdEop | TxDesc::kCmdRs);  // padded to 60 + FCS
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  const RxDesc d = vnic::model::decode_rx(r.mem.view(r.host->rx_ring_addr(), 16).first<16>());
  ASSERT_TRUE(d.done());
  EXPECT_EQ(d.length, 64u);
  EXPECT_TRUE(d.status & RxDesc::kStaFcs);
  EXPECT_TRUE(vnic::model::fcs_ok(r.mem.view(d.buf_addr, 64)));
  EXPECT_EQ(r.mem.view(d.buf_addr, 64)[40], 0u);  // padding is zeros
}

}  // namespace

namespace {

TEST(Iommu, TrafficRunsThroughMappingsAndStrayDmaIsRefusedCountedAndRecovered) {
  Rig r;
  r.mem.set_iommu(true);
  r.host->bring_up();
  // Mapped buffers work (the Rig's own buffers are mapped here, as a driver would).
  const uint64_t good = r.buf(100);
  r.mem.map(good, 100, vnic::tb::DmaDir::ToDevice);
  r.put_tx(0, good, 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
  EXPECT_EQ(r.stat(Stat::rx_packets), 1u);
  EXPECT_EQ(r.mem.stats().iommu_faults, 0u);
  // A buffer that is valid host memory but not mapped for the device: refused.
  const uint64_t stray = r.buf(100);
  r.put_tx(1, stray, 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 2);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_dma_errors), 1u);
  EXPECT_EQ(r.mem.stats().iommu_faults, 1u);
  EXPECT_EQ(r.mem.stats().iommu_last_fault, stray);
  EXPECT_EQ(regs::q_status::kErrCode.get(r.rd(regs::kTxqStatus)), static_cast<uint32_t>(regs::QueueErr::Dma));
  // Reset and bring-up recover the device.
  const uint64_t sent_before = r.stat(Stat::tx_packets);
  r.wr(regs::kCtrl, 2);
  r.host->bring_up();
  r.put_tx(0, good, 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_packets), sent_before + 1);
}

TEST(Iommu, WrongDirectionAndUnmappedRxBufferAreRefused) {
  Rig r;
  r.mem.set_iommu(true);
  r.host->bring_up();
  // A TX buffer mapped only for the device to write into (FROM_DEVICE): reading it is refused.
  const uint64_t wrong = r.buf(100);
  r.mem.map(wrong, 100, vnic::tb::DmaDir::FromDevice);
  r.put_tx(0, wrong, 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_dma_errors), 1u);
  EXPECT_EQ(r.mem.stats().iommu_faults, 1u);
  EXPECT_FALSE(r.mem.unmap(0x1234));  // not a mapping: counted, nothing else
  EXPECT_EQ(r.mem.stats().bad_unmaps, 1u);
}

}  // namespace

namespace {
namespace pci = vnic::model::pci;

TEST(Pci, EnumerationReadsIdsSizesAndAssignsBar0) {
  Rig r;  // the test host enumerated the function when it connected
  const auto& f = r.host->pci();
  EXPECT_EQ(f.vendor, pci::kVendorId);
  EXPECT_EQ(f.device, pci::kDeviceId);
  EXPECT_EQ(f.class_code, 0x020000u);
  EXPECT_EQ(f.bar0_size, regs::kBar0Size);
  EXPECT_EQ(r.nic.bar0(), vnic::tb::TestHost::kBar0Base);
  EXPECT_EQ(r.nic.cfg_read32(pci::kBar0Lo) & 0xF, pci::kBar0Flags);  // 64-bit memory BAR
  const uint32_t cmd = r.nic.cfg_read32(pci::kCommandStatus);
  EXPECT_TRUE(cmd & pci::kCmdMemorySpace);
  EXPECT_TRUE(cmd & pci::kCmdBusMaster);
  // Configuration space survives a soft reset (CTRL.RST is not a function-level reset).
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(r.nic.cfg_read32(pci::kCommandStatus), cmd);
}

TEST(Pci, MmioWithMemorySpaceOffIsRefusedAndCounted) {
  Rig r;
  r.nic.cfg_write32(pci::kCommandStatus, pci::kCmdBusMaster);
  std::array<uint8_t, 4> b{};
  EXPECT_EQ(r.host->raw_access(false, regs::kId.offset, b.data(), 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.nic.stat(Stat::mmio_disabled), 1u);
  r.nic.cfg_write32(pci::kCommandStatus, pci::kCmdBusMaster | pci::kCmdMemorySpace);
  EXPECT_EQ(r.rd(regs::kId), regs::kDeviceId);
}

TEST(Pci, DmaWithBusMasteringOffIsRefusedCountedAndRecoverable) {
  Rig r;
  r.host->bring_up();
  r.nic.cfg_write32(pci::kCommandStatus, pci::kCmdMemorySpace);  // BME off
  r.put_tx(0, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_packets), 0u);
  EXPECT_GE(r.stat(Stat::dma_no_bme), 2u);  // the descriptor fetch, and the error interrupt message
  // The TX fetch, and the RX queue's next prefetch batch, are both refused.
  EXPECT_GE(r.stat(Stat::desc_dma_errors), 1u);
  EXPECT_EQ(r.host->stats().irqs, 0u);  // no interrupt message without bus mastering
  EXPECT_EQ(regs::q_status::kErrCode.get(r.rd(regs::kTxqStatus)), static_cast<uint32_t>(regs::QueueErr::Dma));
  // Bus mastering back on, a reset and a bring-up: the device works again.
  r.nic.cfg_write32(pci::kCommandStatus, pci::kCmdMemorySpace | pci::kCmdBusMaster);
  r.host->bring_up();
  r.put_tx(0, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
  EXPECT_EQ(r.stat(Stat::rx_packets), 1u);
}

}  // namespace

namespace {

// A hostile guest: random register writes (the whole BAR0, any width and alignment), random
// descriptor bytes, resets and enables, interleaved with simulated time. The device must not
// abort or hang, and with the IOMMU-like check on, memory outside the host's mappings must be
// untouched.
TEST(GuestStorm, RandomRegisterAndDescriptorChaosNeverCrashesOrWritesOutsideMappings) {
  Rig r;
  r.mem.set_iommu(true);
  // A scratch area that is never mapped: it must stay as it is.
  const uint64_t scratch = r.mem.alloc(64 * 1024, 4096);
  auto scratch_view = r.mem.view(scratch, 64 * 1024);
  for (std::size_t i = 0; i < scratch_view.size(); ++i) scratch_view[i] = static_cast<uint8_t>(i * 7);
  const std::vector<uint8_t> before(scratch_view.begin(), scratch_view.end());
  std::mt19937_64 rng(2026);
  auto random_addr = [&]() -> uint64_t {
    switch (rng() % 5) {
      case 0: return scratch + rng() % (64 * 1024);               // unmapped host memory
      case 1: return kBase + rng() % r.mem.size();                 // anywhere in host memory
      case 2: return rng();                                        // anywhere at all
      case 3: return r.host->rx_ring_addr() + 16 * (rng() % 64);   // a ring
      default: return kBase + 0x10000 + 64 * (rng() % 2048);       // among the host's buffers
    }
  };
  uint64_t dma_reads = 0, frames = 0;
  for (int round = 0; round < 200; ++round) {
    dma_reads += r.nic.dma().stats().rd_tlps;
    frames += r.stat(Stat::tx_packets) + r.stat(Stat::tx_desc_errors) + r.stat(Stat::tx_dma_errors);
    r.host->bring_up();  // a clean start each round, then chaos
    for (int step = 0; step < 200; ++step) {
      const uint32_t kind = static_cast<uint32_t>(rng() % 100);
      if (kind < 20) {  // a register write, usually to a real register
        const regs::Reg* reg = regs::kAll[rng() % std::size(regs::kAll)];
        const uint32_t off = reg->offset_of(static_cast<unsigned>(rng() % reg->count));
        uint32_t v = static_cast<uint32_t>(rng());
        if (reg == &regs::kCtrl) v = (rng() % 20 == 0) ? 2u : 1u;  // resets now and then
        if (reg == &regs::kTxqBaseLo || reg == &regs::kRxqBaseLo) v = static_cast<uint32_t>(random_addr()) & ~15u;
        if (reg == &regs::kTxqBaseHi || reg == &regs::kRxqBaseHi) v = static_cast<uint32_t>(random_addr() >> 32);
        if (reg == &regs::kTxqSize || reg == &regs::kRxqSize) v = 1u << (rng() % 14);
        if (reg == &regs::kImaskSet) v &= 0x1u;
        r.host->write32(off, v);
      } else if (kind < 30) {  // an access of any shape anywhere
        std::array<uint8_t, 8> b{};
        const unsigned len = 1u + static_cast<unsigned>(rng() % 8);
        r.host->raw_access(rng() % 2 == 0, rng() % (2 * regs::kBar0Size), b.data(), len);
      } else if (kind < 55) {  // a TX descriptor with random fields, and a doorbell
        const uint32_t slot = static_cast<uint32_t>(rng() % 64);
        auto d = r.mem.view(r.host->tx_ring_addr() + slot * 16ull, 16);
        TxDesc t;
        t.buf_addr = random_addr();
        t.length = static_cast<uint16_t>(rng() % 3000);
        t.cmd = static_cast<uint8_t>(rng() % 4);
        vnic::model::encode(t, d.first<16>());
        if (rng() % 8 == 0) {
          for (auto& x : d) x = static_cast<uint8_t>(rng());
        }
        r.host->write32(regs::kTxqTail.offset_of(0), static_cast<uint32_t>(rng() % 70));
      } else if (kind < 70) {  // an RX descriptor pointing anywhere
        const uint32_t slot = static_cast<uint32_t>(rng() % 64);
        RxDesc x;
        x.buf_addr = random_addr();
        vnic::model::encode(x, r.mem.view(r.host->rx_ring_addr() + slot * 16ull, 16).first<16>());
        r.host->write32(regs::kRxqTail.offset_of(0), static_cast<uint32_t>(rng() % 70));
      } else {
        r.run_for(Duration::ns(static_cast<int64_t>(rng() % 5000)));
      }
    }
    r.run_for(Duration::us(20));
  }
  dma_reads += r.nic.dma().stats().rd_tlps;
  frames += r.stat(Stat::tx_packets) + r.stat(Stat::tx_desc_errors) + r.stat(Stat::tx_dma_errors);
  EXPECT_TRUE(before == std::vector<uint8_t>(scratch_view.begin(), scratch_view.end()))
      << "the device wrote outside the host's mappings";
  EXPECT_GT(r.mem.stats().iommu_faults, 0u);  // it did try
  EXPECT_GT(dma_reads, 500u);                  // the device really worked on the chaos
  EXPECT_GT(frames, 50u);
  std::printf("storm: %llu DMA reads, %llu TX frames handled, %llu IOMMU faults\n",
              static_cast<unsigned long long>(dma_reads), static_cast<unsigned long long>(frames),
              static_cast<unsigned long long>(r.mem.stats().iommu_faults));
}

}  // namespace

namespace {

// Sends one frame to itself through the loopback and lets it complete.
void one_frame(Rig& r, uint32_t slot) {
  r.put_tx(slot, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, slot + 1);
  r.run_for(Duration::us(10));
}

TEST(MsiX, CapabilityDescribesTheTableAndSurvivesSoftReset) {
  Rig r;
  EXPECT_EQ(r.nic.cfg_read32(pci::kCapPtr), pci::kCapMsix);
  EXPECT_NE(r.nic.cfg_read32(pci::kCommandStatus) & pci::kStatusCapList, 0u);
  const uint32_t cap = r.nic.cfg_read32(pci::kCapMsix);
  EXPECT_EQ(cap & 0xFF, pci::kCapIdMsix);
  EXPECT_EQ((cap >> 16) & 0x7FF, 1u);  // table size - 1: two vectors (queue pair 0, misc)
  EXPECT_NE(cap & pci::kMsixEnable, 0u);  // the test host enabled it
  EXPECT_EQ(r.nic.cfg_read32(pci::kMsixTable), regs::kMsixTableBase);
  EXPECT_EQ(r.nic.cfg_read32(pci::kMsixPba), regs::kMsixPbaBase);
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(r.rd(regs::kMsixAddrLo, 1), static_cast<uint32_t>(vnic::tb::kMsiWindowBase));
  EXPECT_EQ(r.rd(regs::kMsixData, 1), 1u);
  EXPECT_EQ(r.rd(regs::kMsixVctrl, 1), 0u);
}

TEST(MsiX, MaskedVectorSetsThePendingBitAndSendsOnUnmask) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kMsixVctrl, 1, 0);  // mask vector 0 in the MSI-X table
  one_frame(r, 0);
  EXPECT_EQ(r.stat(Stat::rx_packets), 1u);
  EXPECT_EQ(r.host->stats().irqs_per_vector[0], 0u);
  EXPECT_EQ(r.rd(regs::kMsixPba) & 1u, 1u);
  r.wr(regs::kMsixVctrl, 0, 0);  // unmask: the pending message goes out
  r.run_for(Duration::us(2));
  EXPECT_EQ(r.rd(regs::kMsixPba) & 1u, 0u);
  EXPECT_EQ(r.host->stats().irqs_per_vector[0], 1u);
  EXPECT_EQ(r.host->root_complex().stats().msi_messages, r.host->stats().irqs);
}

TEST(MsiX, FunctionMaskHoldsEveryVector) {
  Rig r;
  r.host->bring_up();
  r.nic.cfg_write32(pci::kCapMsix, pci::kMsixEnable | pci::kMsixFunctionMask);
  one_frame(r, 0);
  EXPECT_EQ(r.host->stats().irqs, 0u);
  EXPECT_NE(r.rd(regs::kMsixPba), 0u);
  r.nic.cfg_write32(pci::kCapMsix, pci::kMsixEnable);
  r.run_for(Duration::us(2));
  EXPECT_GE(r.host->stats().irqs, 1u);
  EXPECT_EQ(r.rd(regs::kMsixPba), 0u);
}

TEST(MsiX, DisabledMeansNoInterruptAndACounter) {
  Rig r;
  r.host->bring_up();
  r.nic.cfg_write32(pci::kCapMsix, 0);
  one_frame(r, 0);
  EXPECT_EQ(r.stat(Stat::rx_packets), 1u);
  EXPECT_EQ(r.host->stats().irqs, 0u);
  EXPECT_GE(r.stat(Stat::irq_no_msix), 2u);  // the RX and the TX completion
}

TEST(MsiX, AMessageAddressNobodyAnswersIsCounted) {
  Rig r;
  r.host->bring_up();
  r.wr(regs::kMsixAddrLo, 0x1000, 0);  // not memory, not the MSI window
  one_frame(r, 0);
  EXPECT_EQ(r.host->stats().irqs_per_vector[0], 0u);
  EXPECT_GE(r.stat(Stat::irq_msg_errors), 1u);
}

}  // namespace

namespace {

TEST(BadInput, AWholeRingWithoutEndOfPacketIsDroppedNotHung) {
  vnic::tb::TestHostConfig hc = Rig::small();
  hc.tx_ring = 8;  // holds 7 descriptors: fewer than the 16 a frame may use
  Rig r(hc);
  r.host->bring_up();
  for (uint32_t i = 0; i < 7; ++i) r.put_tx(i, r.buf(64), 64, 0);  // no EOP, ring full
  r.wr(regs::kTxqTail, 7);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 1u);
  EXPECT_EQ(r.rd(regs::kTxqHead), 7u);  // the device moved on: the ring is usable again
  r.put_tx(7, r.buf(100), 100, TxDesc::kCmdEop | TxDesc::kCmdRs);
  r.wr(regs::kTxqTail, 0);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.stat(Stat::tx_packets), 1u);
}

}  // namespace

// The NIC under a hostile guest, round 2: queue disable/re-enable with work in flight, RX writes
// refused as they land, DMA that comes back to the device's own BAR, interrupt loops, malformed
// chains, backwards tails, and the pending-work bound. docs/hw.md states each behaviour.
#include <gtest/gtest.h>

#include <systemc>

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "support/nic_rig.hpp"
#include "vnic/hw/trace.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/model/pci.hpp"

namespace {

using vnic::test::kBase;
using vnic::test::Rig;
namespace regs = vnic::model::regs;
using regs::Stat;
using vnic::hw::TraceEvent;
using vnic::hw::TraceKind;
using vnic::model::Duration;
using vnic::model::RxDesc;
using vnic::model::TxDesc;
using vnic::tb::DmaDir;

constexpr uint8_t kEopRs = TxDesc::kCmdEop | TxDesc::kCmdRs;

struct TraceLog : vnic::hw::TraceSink {
  std::vector<TraceEvent> ev;
  void trace(const char*, const TraceEvent& e) override { ev.push_back(e); }
  // Write-backs that landed, per descriptor slot (TX: by frame; RX: by slot index).
  std::map<uint64_t, int> count(TraceKind k, bool by_b) const {
    std::map<uint64_t, int> m;
    for (const TraceEvent& e : ev) {
      if (e.kind == k) ++m[by_b ? e.b : e.packet];
    }
    return m;
  }
  std::size_t n(TraceKind k) const {
    std::size_t c = 0;
    for (const TraceEvent& e : ev) c += e.kind == k ? 1 : 0;
    return c;
  }
};

// A rig with the IOMMU check on and the device up (64-entry rings).
struct Hostile : Rig {
  TraceLog log;
  static vnic::tb::TestHostConfig host_cfg(bool refill) {
    vnic::tb::TestHostConfig h = Rig::small();
    h.refill_rx = refill;
    return h;
  }
  explicit Hostile(bool iommu = true, bool peer = false, bool refill = true) : Rig(host_cfg(refill), Rig::cfg(), peer) {
    if (iommu) mem.set_iommu(true);
    nic.set_trace(&log);
    host->bring_up();
  }
  // A mapped TX buffer of len bytes addressed to ourselves.
  uint64_t txbuf(uint32_t len) {
    const uint64_t a = buf(len);
    mem.map(a, len, DmaDir::ToDevice);
    return a;
  }
  TxDesc tx_slot(uint64_t ring, uint32_t i) { return vnic::model::decode_tx(mem.view(ring + i * 16ull, 16).first<16>()); }
  RxDesc rx_slot(uint32_t i) {
    return vnic::model::decode_rx(mem.view(host->rx_ring_addr() + i * 16ull, 16).first<16>());
  }
  // A good frame to our own address arriving from the wire now.
  void arrive(uint32_t len = 100) {
    vnic::model::Frame f = nic.frame_pool().alloc(len);
    for (uint32_t i = 0; i < len; ++i) f.data()[i] = static_cast<uint8_t>(i);
    const auto mac = Rig::cfg().perm_mac;
    std::copy(mac.b.begin(), mac.b.end(), f.data());
    vnic::model::write_fcs(f.bytes());
    nic.eth_receive(std::move(f));
  }
  // The pending-work bound of docs/hw.md: the NIC's callbacks plus the loopback's frames in flight.
  void expect_bounded() {
    EXPECT_LE(q.pending(), nic.max_pending_events() + wire.in_flight() + 1 /* the test host's service */) << "at " << q.now_ps() << " ps";
  }
};

// ---------------------------------------------------------------- 1. queue generations

TEST(QueueToggle, AFetchInFlightAtDisableNeverReachesTheReEnabledEmptyRing) {
  Hostile r;
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 4);
  r.run_for(Duration::ns(10));
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqTail, 0);
  r.wr(regs::kTxqCtrl, 1);
  r.run_for(Duration::us(50));
  EXPECT_EQ(r.wire.sent, 0u);
  EXPECT_EQ(r.rd(regs::kTxqHead), 0u);
  EXPECT_EQ(r.rd(regs::kTxqTail), 0u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_FALSE(r.tx_slot(r.host->tx_ring_addr(), i).done()) << i;
  // The next real frame goes out whole.
  r.put_tx(0, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.wire.sent, 1u);
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 0u);
  EXPECT_EQ(r.rd(regs::kTxqHead), 1u);
  EXPECT_TRUE(r.tx_slot(r.host->tx_ring_addr(), 0).done());
}

TEST(QueueToggle, ReEnablingWithTheSameTailSendsEachFrameOnceAndWritesEachSlotBackOnce) {
  Hostile r;
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 4);
  r.run_for(Duration::ns(10));
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqCtrl, 1);  // tail still 4
  r.run_for(Duration::us(50));
  EXPECT_EQ(r.wire.sent, 4u);
  EXPECT_EQ(r.log.n(TraceKind::TxDone), 4u);
  for (const auto& [id, n] : r.log.count(TraceKind::TxDone, false)) EXPECT_EQ(n, 1) << "frame " << id;
  EXPECT_EQ(r.rd(regs::kTxqHead), 4u);
}

TEST(QueueToggle, ReEnablingOnANewRingLeavesItUntouched) {
  Hostile r;
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 4);
  r.run_for(Duration::ns(10));
  r.wr(regs::kTxqCtrl, 0);
  const uint64_t ring_b = r.mem.dma_alloc_coherent(64 * 16, 4096);
  r.wr(regs::kTxqBaseLo, static_cast<uint32_t>(ring_b));
  r.wr(regs::kTxqBaseHi, static_cast<uint32_t>(ring_b >> 32));
  r.wr(regs::kTxqTail, 0);
  r.wr(regs::kTxqCtrl, 1);
  r.run_for(Duration::us(50));
  for (uint32_t i = 0; i < 64; ++i) EXPECT_EQ(r.tx_slot(ring_b, i), TxDesc{}) << "ring B slot " << i;
  EXPECT_EQ(r.wire.sent, 0u);
}

TEST(QueueToggle, AtEveryOffsetAfterTheDoorbellTheEmptyRingStaysEmpty) {
  // 41 offsets from 0 to 2000 ns: whatever was in flight (fetch, data read, frame on the wire,
  // write-back), the re-enabled empty ring reads HEAD 0, nothing lands in it, and every frame
  // is either sent or counted as revoked.
  // One elaboration per process: each offset starts from a soft reset and a fresh bring-up.
  Hostile r;
  const uint64_t ring = r.host->tx_ring_addr();
  uint64_t sent = 0, revoked = 0;
  for (int k = 0; k <= 40; ++k) {
    SCOPED_TRACE(k * 50);
    auto ring_bytes = r.mem.view(ring, 64 * 16);
    std::fill(ring_bytes.begin(), ring_bytes.end(), uint8_t{0});
    r.host->bring_up();
    r.run_for(Duration::us(2));
    for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.txbuf(100), 100, kEopRs);
    r.wr(regs::kTxqTail, 4);
    if (k > 0) r.run_for(Duration::ns(50 * k));
    std::vector<TxDesc> before;
    for (uint32_t i = 0; i < 4; ++i) before.push_back(r.tx_slot(ring, i));
    r.wr(regs::kTxqCtrl, 0);
    r.wr(regs::kTxqTail, 0);
    r.wr(regs::kTxqCtrl, 1);
    r.expect_bounded();
    r.run_for(Duration::us(30));
    EXPECT_EQ(r.rd(regs::kTxqHead), 0u);
    EXPECT_EQ(r.rd(regs::kTxqTail), 0u);
    EXPECT_EQ(r.rd(regs::kTxqStatus), 1u);  // running, no error
    for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(r.tx_slot(ring, i), before[i]) << "slot " << i;
    const uint64_t s_now = r.wire.sent - sent, rv_now = r.stat(Stat::tx_dropped_disabled) - revoked;
    EXPECT_LE(s_now + rv_now, 4u);
    sent = r.wire.sent;
    revoked = r.stat(Stat::tx_dropped_disabled);
  }
  EXPECT_EQ(r.wire.sent, r.stat(Stat::tx_packets));
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 0u);
}

TEST(QueueToggle, RxReEnableDoesNotFillASlotTwice) {
  Hostile r(true, false, /*refill=*/false);
  r.wr(regs::kRxqCtrl, 0);  // the bring-up's descriptor fetch is in flight
  r.wr(regs::kRxqCtrl, 1);
  r.run_for(Duration::us(5));
  for (int i = 0; i < 66; ++i) {
    r.arrive();
    r.run_for(Duration::ns(500));
  }
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::rx_packets), 63u);  // the 63 posted buffers, once each
  EXPECT_EQ(r.stat(Stat::rx_missed_errors), 3u);
  const auto per_slot = r.log.count(TraceKind::RxDma, true);
  EXPECT_EQ(per_slot.size(), 63u);
  for (const auto& [slot, n] : per_slot) EXPECT_EQ(n, 1) << "slot " << slot;
}

TEST(QueueToggle, RxFramesWhoseWritesHadNotLandedAreCountedDroppedNotDelivered) {
  Hostile r;
  r.run_for(Duration::us(5));
  r.arrive();
  r.wr(regs::kRxqCtrl, 0);  // before the data and write-back land
  r.run_for(Duration::us(5));
  EXPECT_EQ(r.stat(Stat::rx_packets), 0u);
  EXPECT_EQ(r.stat(Stat::rx_dropped_disabled), 1u);
  EXPECT_FALSE(r.rx_slot(0).done());
}

// ---------------------------------------------------------------- 2. refused RX data

class RefusedRxBuffer : public ::testing::TestWithParam<int> {};

TEST_P(RefusedRxBuffer, IsAnRxDmaErrorWithNoDoneBit) {
  Hostile r;
  // Point RX descriptor 0 at the bad buffer and restart the queue so it is fetched again.
  r.wr(regs::kRxqCtrl, 0);
  uint64_t bad = 0;
  switch (GetParam()) {
    case 0:  // mapped for device reads only
      bad = r.mem.alloc(2048);
      r.mem.map(bad, 2048, DmaDir::ToDevice);
      break;
    case 1:  // the MSI window
      bad = vnic::tb::kMsiWindowBase;
      break;
    case 2:  // mapped when issued, unmapped before it lands
      bad = r.mem.alloc(2048);
      r.mem.map(bad, 2048, DmaDir::FromDevice);
      break;
  }
  RxDesc d;
  d.buf_addr = bad;
  vnic::model::encode(d, r.mem.view(r.host->rx_ring_addr(), 16).first<16>());
  r.wr(regs::kRxqCtrl, 1);
  r.run_for(Duration::us(5));
  const std::vector<uint8_t> old = GetParam() == 1 ? std::vector<uint8_t>{} : [&] {
    auto v = r.mem.view(bad, 2048);
    return std::vector<uint8_t>(v.begin(), v.end());
  }();
  r.arrive(100);
  if (GetParam() == 2) r.mem.unmap(bad);
  r.run_for(Duration::us(5));
  EXPECT_EQ(r.stat(Stat::rx_packets), 0u);
  EXPECT_EQ(r.stat(Stat::rx_dma_errors), 1u);
  EXPECT_EQ(r.stat(Stat::desc_dma_errors), 0u);
  EXPECT_FALSE(r.rx_slot(0).done());
  if (!old.empty()) {
    auto v = r.mem.view(bad, 2048);
    EXPECT_TRUE(std::equal(v.begin(), v.end(), old.begin()));
  }
  const uint32_t st = r.rd(regs::kRxqStatus);
  EXPECT_EQ(regs::q_status::kErrCode.get(st), static_cast<uint32_t>(regs::QueueErr::Dma));
  EXPECT_NE(r.err_cause() & regs::err_cause::kRxDma.mask(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Cases, RefusedRxBuffer, ::testing::Values(0, 1, 2), [](const auto& i) {
  return std::string(i.param == 0 ? "ReadOnlyMapping" : i.param == 1 ? "MsiWindow" : "UnmappedBeforeLanding");
});

// ---------------------------------------------------------------- 3, 4. DMA into its own BAR

struct PeerToPeer : Hostile {
  PeerToPeer() : Hostile(true, true) { bus->set_forwarding(true); }
  void aim_misc_vector(uint32_t bar_offset, uint32_t data = 0) {
    const unsigned v = nic.misc_vector();
    const uint64_t a = nic.bar0() + bar_offset;
    wr(regs::kMsixAddrLo, static_cast<uint32_t>(a), v);
    wr(regs::kMsixAddrHi, static_cast<uint32_t>(a >> 32), v);
    wr(regs::kMsixData, data, v);
  }
};

TEST(Reentrancy, AnErrorInterruptAimedAtTheBarIsRefusedNotRecursed) {
  PeerToPeer r;
  r.aim_misc_vector(0);
  r.wr(regs::kTxqTail, 1000);  // beyond the ring: an error interrupt
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::tail_errors), 1u);
  EXPECT_GE(r.stat(Stat::dma_reentry), 1u);
  EXPECT_EQ(r.stat(Stat::irq_msg_errors), 1u);
  EXPECT_EQ(r.stat(Stat::mmio_errors), 0u);  // the refused access is not a bad MMIO
  r.expect_bounded();
}

TEST(Reentrancy, AVectorAimedAtTheDoorbellRingsNothing) {
  PeerToPeer r;
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.txbuf(100), 100, kEopRs);
  r.aim_misc_vector(regs::kTxqTail.offset_of(0), 4);
  r.wr(regs::kRxqTail, 5000);  // an error interrupt whose message would write TXQ_TAIL = 4
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.rd(regs::kTxqTail), 0u);
  EXPECT_EQ(r.wire.sent, 0u);
  EXPECT_GE(r.stat(Stat::dma_reentry), 1u);
}

TEST(Reentrancy, AnInterruptLoopThroughAHoleInTheBarStopsAndStaysBounded) {
  PeerToPeer r;
  r.aim_misc_vector(0xFFC);  // no register there
  r.run_for(Duration::us(5));
  const uint64_t fired = r.q.fired();
  r.wr(regs::kTxqTail, 1000);
  for (int i = 0; i < 100; ++i) {
    r.run_for(Duration::us(10));
    r.expect_bounded();
  }
  // 1 ms later: one error interrupt attempted and refused; nothing sustains itself.
  EXPECT_EQ(r.stat(Stat::irq_msg_errors), 1u);
  EXPECT_LE(r.q.fired() - fired, 10u);
  EXPECT_EQ(r.stat(Stat::mmio_errors), 0u);
}

TEST(Reentrancy, ARefusingBusRefusesPeerToPeerAsTheRootComplexDoes) {
  Hostile r(true, true);
  r.bus->set_forwarding(false);
  const unsigned v = r.nic.misc_vector();
  r.wr(regs::kMsixAddrLo, static_cast<uint32_t>(r.nic.bar0()), v);
  r.wr(regs::kMsixAddrHi, static_cast<uint32_t>(r.nic.bar0() >> 32), v);
  r.wr(regs::kTxqTail, 1000);
  r.run_for(Duration::us(10));
  EXPECT_EQ(r.stat(Stat::irq_msg_errors), 1u);
  EXPECT_EQ(r.stat(Stat::dma_reentry), 0u);
  EXPECT_GE(r.bus->stats().bar_refused, 1u);
}

TEST(Probe, AnAddressProbeOfTheBarHasNoSideEffects) {
  Hostile r;
  std::array<uint8_t, 4> b{};
  tlm::tlm_generic_payload p;
  p.set_command(tlm::TLM_IGNORE_COMMAND);
  p.set_data_ptr(b.data());
  p.set_data_length(4);
  p.set_streaming_width(4);
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  p.set_address(regs::kCtrl.offset);
  r.host->mmio->b_transport(p, d);  // a register: it would be taken
  EXPECT_EQ(p.get_response_status(), tlm::TLM_OK_RESPONSE);
  p.set_address(0xFFC);  // a hole
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  r.host->mmio->b_transport(p, d);
  EXPECT_EQ(p.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r.stat(Stat::mmio_errors), 0u);
  EXPECT_EQ(r.err_cause(), 0u);
  EXPECT_EQ(r.rd(regs::kCtrl), 1u);  // nothing written
}

// ---------------------------------------------------------------- 5, 6. chains and tails

TEST(TxChain, ALongChainWithoutEopIsDroppedUpToItsEopNotCutIntoAFrame) {
  Hostile r;
  for (uint32_t i = 0; i < 19; ++i) r.put_tx(i, r.txbuf(64), 64, 0);
  r.put_tx(19, r.txbuf(64), 64, kEopRs);
  r.wr(regs::kTxqTail, 20);
  r.run_for(Duration::us(30));
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 1u);
  EXPECT_EQ(r.wire.sent, 0u);
  EXPECT_EQ(r.rd(regs::kTxqHead), 20u);
  const TxDesc wb = r.tx_slot(r.host->tx_ring_addr(), 19);
  EXPECT_TRUE(wb.done());
  EXPECT_EQ(wb.errors, TxDesc::kErrDesc);
  // The queue goes on with the next frame.
  r.put_tx(20, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 21);
  r.run_for(Duration::us(20));
  EXPECT_EQ(r.wire.sent, 1u);
}

TEST(TailBackwards, IsIgnoredCountedAndChangesNothing) {
  Hostile r(false);
  r.wr(regs::kMaxFrame, 9022);
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.buf(9000), 9000, kEopRs);
  r.wr(regs::kTxqTail, 4);
  r.run_for(Duration::ns(10));
  r.wr(regs::kTxqTail, 2);
  EXPECT_EQ(r.stat(Stat::tail_errors), 1u);
  EXPECT_NE(r.err_cause() & regs::err_cause::kTail.mask(), 0u);
  EXPECT_EQ(r.rd(regs::kTxqTail), 4u);
  r.run_for(Duration::us(100));
  EXPECT_EQ(r.wire.sent, 4u);
  EXPECT_EQ(r.log.n(TraceKind::TxDone), 4u);
  for (const auto& [id, n] : r.log.count(TraceKind::TxDone, false)) EXPECT_EQ(n, 1) << "frame " << id;
  EXPECT_EQ(r.rd(regs::kTxqHead), 4u);
  for (uint32_t i = 4; i < 64; ++i) EXPECT_FALSE(r.tx_slot(r.host->tx_ring_addr(), i).done()) << i;
  // The same tail again is not backwards; forward is fine; RX obeys the same rule.
  r.wr(regs::kTxqTail, 4);
  EXPECT_EQ(r.stat(Stat::tail_errors), 1u);
  r.wr(regs::kRxqTail, 10);  // the bring-up posted 63: 10 is behind
  EXPECT_EQ(r.stat(Stat::tail_errors), 2u);
  EXPECT_EQ(r.rd(regs::kRxqTail), 63u);
}

// ---------------------------------------------------------------- 7. enable-time checks, counters

TEST(QueueEnable, ATailBeyondANewSizeIsRefusedAtEnableAndTheRegistersAgree) {
  Hostile r;
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqSize, 4096);
  r.wr(regs::kTxqTail, 4000);
  r.wr(regs::kTxqSize, 8);
  const uint64_t before = r.stat(Stat::ring_cfg_errors);
  r.wr(regs::kTxqCtrl, 1);
  EXPECT_EQ(r.stat(Stat::ring_cfg_errors), before + 1);
  const uint32_t st = r.rd(regs::kTxqStatus);
  EXPECT_EQ(regs::q_status::kRunning.get(st), 0u);  // not running
  EXPECT_EQ(regs::q_status::kErrCode.get(st), static_cast<uint32_t>(regs::QueueErr::RingCfg));
  // A valid tail makes the next enable work.
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqTail, 0);
  r.wr(regs::kTxqCtrl, 1);
  EXPECT_EQ(regs::q_status::kRunning.get(r.rd(regs::kTxqStatus)), 1u);
}

TEST(Counters, DmaCountersSurviveASoftResetLikeEveryOther) {
  Hostile r;
  r.put_tx(0, r.txbuf(100), 100, kEopRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::us(20));
  r.nic.cfg_write32(vnic::model::pci::kCommandStatus, vnic::model::pci::kCmdMemorySpace);  // BME off
  r.wr(regs::kTxqTail, 2);
  const uint64_t rd = r.stat(Stat::dma_rd_tlps), wr = r.stat(Stat::dma_wr_tlps), nb = r.stat(Stat::dma_no_bme);
  ASSERT_GT(rd, 0u);
  ASSERT_GT(nb, 0u);
  r.wr(regs::kCtrl, 2);
  EXPECT_EQ(r.stat(Stat::dma_rd_tlps), rd);
  EXPECT_EQ(r.stat(Stat::dma_wr_tlps), wr);
  EXPECT_EQ(r.stat(Stat::dma_no_bme), nb);
}

// ---------------------------------------------------------------- review findings (issue 10)

TEST(QueueToggle, AFrameCutOffOnTheWireStillFreesItsBufferForTheNextFrame) {
  // A TX buffer that holds one full frame: the frame after a revoked one waits for its space.
  vnic::hw::NicConfig nc = Rig::cfg();
  nc.tx_buffer_bytes = 2048;
  Rig r(Rig::small(), nc);
  r.host->bring_up();
  r.put_tx(0, r.buf(1514), 1514, kEopRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::ns(1500));  // its preamble has started
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqCtrl, 1);  // the same tail: slot 0 is fetched again
  r.run_for(Duration::us(50));
  EXPECT_EQ(r.wire.sent, 2u);  // the cut-off frame (no completion), then slot 0 again
  EXPECT_EQ(r.rd(regs::kTxqHead), 1u);
}

TEST(QueueToggle, ADisableForgetsTheWireTimeOfFramesThatNeverStarted) {
  Hostile r(false);
  r.wr(regs::kMaxFrame, 9022);
  r.put_tx(0, r.buf(9000), 9000, kEopRs);
  r.wr(regs::kTxqTail, 1);
  r.run_for(Duration::ns(800));  // fetched, not on the wire yet
  r.put_tx(0, r.buf(100), 100, kEopRs);
  r.wr(regs::kTxqCtrl, 0);
  r.wr(regs::kTxqCtrl, 1);
  r.run_for(Duration::us(3));  // a 100 B frame takes about 1.3 us from the enable; the 9000 B one would end at 8.8 us
  EXPECT_EQ(r.rd(regs::kTxqHead), 1u);
  EXPECT_EQ(r.wire.sent, 1u);
}

TEST(QueueToggle, ADisableTakesItsQueuesPendingInterruptWithIt) {
  Hostile r(true, false, /*refill=*/false);
  r.wr(regs::kRxUsecs, 100);
  r.wr(regs::kRxFrames, 0);
  r.run_for(Duration::us(5));
  r.arrive();
  r.run_for(Duration::us(2));
  ASSERT_EQ(r.stat(Stat::rx_packets), 1u);
  r.wr(regs::kRxqCtrl, 0);
  r.run_for(Duration::us(300));
  EXPECT_EQ(r.stat(Stat::irq_rx), 0u);
}

TEST(PendingWork, MalformedChainsBehindAJumboFrameStayWithinTheCallbackRate) {
  // 996 zero-length chains queued behind four 9000 B frames complete when the wire is free:
  // they complete together, one error interrupt for them all, within the documented rate.
  vnic::tb::TestHostConfig hc = Rig::small();
  hc.tx_ring = 1024;
  Rig r(hc);
  r.host->bring_up();
  r.wr(regs::kMaxFrame, 9022);
  for (uint32_t i = 0; i < 4; ++i) r.put_tx(i, r.buf(9000), 9000, kEopRs);
  for (uint32_t i = 4; i < 1000; ++i) r.put_tx(i, r.buf(64), 0, kEopRs);
  r.wr(regs::kTxqTail, 1000);
  uint64_t worst = 0;
  for (int us = 0; us < 200; ++us) {
    const uint64_t f0 = r.q.fired();
    r.run_for(Duration::us(1));
    worst = std::max(worst, r.q.fired() - f0);
    EXPECT_LE(r.q.pending(), r.nic.max_pending_events() + r.wire.in_flight() + 1);
  }
  EXPECT_EQ(r.stat(Stat::tx_desc_errors), 996u);
  EXPECT_EQ(r.rd(regs::kTxqHead), 1000u);
  // The loopback's deliveries and the test host's service are in the count too.
  EXPECT_LE(worst, r.nic.max_callbacks_per_us() + 16);
  EXPECT_LE(r.stat(Stat::irq_misc), 2u);  // an error cause raises one interrupt until cleared
}

// ---------------------------------------------------------------- the bound

TEST(PendingWork, StaysBoundedUnderTogglesTimerChangesAndTraffic) {
  Hostile r;
  uint32_t tail = 0;
  for (int round = 0; round < 300; ++round) {
    for (int k = 0; k < 3; ++k) {
      r.put_tx(tail, r.txbuf(100), 100, kEopRs);
      tail = (tail + 1) % 64;
    }
    r.wr(regs::kTxqTail, tail);
    // Long timers then short ones: every completion arms a deadline; shortening moves it forward.
    r.wr(regs::kRxUsecs, round % 2 == 0 ? 60000 : 1);
    r.wr(regs::kRxFrames, round % 3);
    r.wr(regs::kTxUsecs, round % 2 == 0 ? 1 : 60000);
    r.arrive();
    r.run_for(Duration::ns(37 * (round % 7)));
    r.expect_bounded();
    if (round % 5 == 0) {
      r.wr(regs::kTxqCtrl, 0);
      r.wr(regs::kTxqTail, 0);
      tail = 0;
      r.wr(regs::kTxqCtrl, 1);
      r.wr(regs::kRxqCtrl, 0);
      r.wr(regs::kRxqCtrl, 1);
      r.expect_bounded();
    }
    if (round % 50 == 49) {
      r.host->bring_up();  // soft reset and up again
      tail = 0;
      r.expect_bounded();
    }
  }
  r.run_for(Duration::ms(100));
  r.expect_bounded();
  // Every frame that arrived is in exactly one place.
  uint64_t drops = 0;
  for (Stat s : regs::kRxDropStats) drops += r.stat(s);
  EXPECT_EQ(r.stat(Stat::rx_packets) + drops, 300u + r.wire.sent);
}

}  // namespace

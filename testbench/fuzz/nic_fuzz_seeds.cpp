// The seed corpus: each seed is a short guest program. Times are chosen against the NIC's
// default timing (docs/hw.md): a descriptor fetch takes ~0.55 us from the doorbell, a TX data
// read another ~0.55 us, a 256-byte frame ~0.23 us on a 10 Gb/s wire, and a posted write lands
// ~0.25 us after it is issued.
#include "nic_fuzz_seeds.hpp"

#include "nic_fuzz_ops.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::fuzz {

namespace {

namespace regs = model::regs;
namespace pci = model::pci;
using model::TxDesc;
using namespace layout;

constexpr uint32_t kCmdUp = pci::kCmdMemorySpace | pci::kCmdBusMaster | pci::kCmdIntxDisable;
constexpr uint8_t kMisc = 2;  // the link/error vector of a two-queue-pair NIC

// The usual start: queue pair 0 with 64-descriptor rings, RX buffers posted, interrupts on.
OpWriter up(uint8_t flags = 0, uint32_t tx = 64, uint32_t rx = 64) {
  OpWriter w;
  w.bring_up(tx, rx, flags);
  return w;
}

// Disables and re-enables a queue, `delay_ns` after the doorbell that started its work.
void toggle(OpWriter& w, bool tx, uint64_t delay_ns) {
  w.wait_ns(delay_ns);
  w.reg(tx ? regs::kTxqCtrl : regs::kRxqCtrl, 0, 0);
  w.reg(tx ? regs::kTxqCtrl : regs::kRxqCtrl, 0, 1);
}

std::vector<Seed> build() {
  std::vector<Seed> s;
  auto add = [&](std::string name, std::string about, const OpWriter& w) {
    s.push_back(Seed{std::move(name), std::move(about), w.bytes()});
  };

  // A healthy run first: traffic both ways, moderation, a link flap.
  {
    OpWriter w = up(bring_up::kTwoQueuePairs | 2u << bring_up::kCoalesceShift);
    w.post_tx(0, 16, 256).post_tx(1, 8, 1500).wait_ns(2'000);
    w.frame(FrameKind::Good, 200, 8).frame(FrameKind::Broadcast, 64, 2).frame(FrameKind::OtherHost, 100);
    w.wait_ns(20'000).link(false).post_tx(0, 2, 100).wait_ns(5'000).link(true, 1).post_tx(0, 4, 60).wait_ns(30'000);
    add("baseline-traffic", "bring-up, traffic both ways on two queue pairs, a link flap", w);
  }

  // Line rate both ways with an interrupt per frame: the busiest a legitimate input gets (it
  // is the callback-rate figure the bound of docs/hw.md is judged against).
  {
    OpWriter w = up(bring_up::kTwoQueuePairs, 1024, 1024);
    w.wait_ns(2'000);
    for (int i = 0; i < 24; ++i) {
      w.post_tx(0, 64, 60).post_tx(1, 64, 60).frame(FrameKind::Good, 64, 32).frame(FrameKind::Broadcast, 64, 32);
      w.wait_ns(4'000);
    }
    add("stress-line-rate-both-ways", "64 B frames at line rate out of two queues, 64-frame bursts in", w);
  }

  // ---- 1: queue disable/re-enable with work in flight.
  struct Phase {
    const char* name;
    uint64_t ns;
  };
  for (const Phase& ph : {Phase{"fetch", 100}, Phase{"data-read", 800}, Phase{"writeback", 1'450}}) {
    const std::string phase = ph.name;
    const uint64_t ns = ph.ns;
    OpWriter w = up();
    w.post_tx(0, 8, 256);
    toggle(w, true, ns);
    w.wait_ns(30'000).post_tx(0, 2, 256).wait_ns(20'000);
    add("case1-txq-reenable-during-" + phase,
        "TXQ_CTRL 1->0->1 while the TX " + phase + " is in flight, then more traffic", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 8, 256).wait_ns(1'300).reg(regs::kTxqCtrl, 0, 0).ring_base(true, 0, kSpareArea);
    w.reg(regs::kTxqTail, 0, 0).reg(regs::kTxqCtrl, 0, 1).wait_ns(30'000);
    w.post_tx(0, 3, 128).wait_ns(20'000);
    add("case1-txq-reenable-new-base", "TX disabled with frames in flight, re-enabled on another ring", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 8, 256).wait_ns(700).reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqTail, 0, 3);
    w.reg(regs::kTxqCtrl, 0, 1).wait_ns(40'000);
    add("case1-txq-reenable-different-tail", "TX disabled mid-fetch, TAIL moved to 3, re-enabled", w);
  }
  for (const Phase& ph : {Phase{"fetch", 50}, Phase{"writeback", 150}}) {
    const std::string phase = ph.name;
    const uint64_t ns = ph.ns;
    OpWriter w = up();
    // The bring-up's RX prefetch is in flight now; a frame's data and write-back ~0.3 us later.
    if (phase == "writeback") w.wait_ns(2'000).frame(FrameKind::Good, 300, 4);
    toggle(w, false, ns);
    w.frame(FrameKind::Good, 300, 4).wait_ns(2'000).frame(FrameKind::Good, 300, 4).wait_ns(20'000);
    add("case1-rxq-reenable-during-" + phase,
        "RXQ_CTRL 1->0->1 while the RX " + phase + " is in flight, frames at once and later", w);
  }
  {
    OpWriter w = up();
    w.wait_ns(2'000).frame(FrameKind::Good, 300, 8).wait_ns(100).reg(regs::kRxqCtrl, 0, 0);
    w.ring_base(false, 0, kSpareArea + 1).reg(regs::kRxqTail, 0, 0).reg(regs::kRxqCtrl, 0, 1);
    w.post_rx(0, 16).wait_ns(1'000).frame(FrameKind::Good, 300, 8).wait_ns(20'000);
    add("case1-rxq-reenable-new-base", "RX disabled with write-backs in flight, re-enabled on another ring", w);
  }

  // ---- 2: RX buffers the device may not write.
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_rx(0, 4, {BufKind::ReadOnly, 0, 0, 0}).wait_ns(2'000).frame(FrameKind::Good, 200, 2).wait_ns(20'000);
    add("case2-rx-buffer-read-only", "RX buffers mapped to-device only: the data write is refused", w);
  }
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_rx(0, 4, {BufKind::Msi, 0, 0, 0}).wait_ns(2'000).frame(FrameKind::Good, 200, 2).wait_ns(20'000);
    add("case2-rx-buffer-msi-window", "RX buffers in the MSI window (0xFEE00000)", w);
  }

  // ---- 3: DMA re-entrancy: the error vector aimed into the NIC's own BAR0, on a bus that
  // forwards it there, and a bad tail to raise it.
  for (const auto mode : {BusMode::Forward, BusMode::ForwardAll}) {
    const std::string m = mode == BusMode::Forward ? "forward" : "forward-all";
    {
      OpWriter w = up();
      w.bus(mode).msix_target(kMisc, MsixTo::BarOffset, regs::kTxqTail.offset_of(0));
      w.reg(regs::kMsixData, kMisc, 1000);  // the message itself is a bad tail
      w.reg(regs::kTxqTail, 0, 1000).wait_ns(20'000);
      add("case3-msix-into-own-txq-tail-" + m, "error vector -> BAR0 TXQ_TAIL (data: a bad tail), bad tail", w);
    }
    {
      OpWriter w = up();
      w.bus(mode).msix_target(kMisc, MsixTo::BarOffset, regs::kCtrl.offset);
      w.reg(regs::kMsixData, kMisc, regs::ctrl::kRst.mask());  // CTRL.RST from inside the DMA
      w.post_tx(0, 8, 512).wait_ns(600).reg(regs::kTxqTail, 0, 1000).wait_ns(20'000);
      add("case3-msix-into-own-ctrl-" + m, "error vector -> BAR0 CTRL (data: RST) with traffic in flight", w);
    }
    {
      OpWriter w = up();
      w.bus(mode).msix_target(kMisc, MsixTo::BarOffset, regs::kTxqCtrl.offset_of(0));
      w.reg(regs::kMsixData, kMisc, 0);  // disables the TX queue from inside the DMA
      w.post_tx(0, 8, 512).wait_ns(600).reg(regs::kTxqTail, 0, 1000).wait_ns(20'000);
      add("case3-msix-into-own-txq-ctrl-" + m, "error vector -> BAR0 TXQ_CTRL (data: 0) with traffic", w);
    }
    {
      // TX buffers and an RX buffer inside BAR0: data reads and writes that reach the registers.
      OpWriter w = up(bring_up::kNoRxBuffers);
      w.bus(mode).post_rx(0, 2, {BufKind::Bar, 0, static_cast<uint16_t>(regs::kTxqTail.offset_of(0)), 0});
      w.post_tx(0, 2, 4, 4u << post_tx::kBufShift).wait_ns(3'000).frame(FrameKind::Good, 100).wait_ns(20'000);
      add("case3-buffers-in-own-bar0-" + m, "TX and RX buffers pointed into BAR0 on a forwarding bus", w);
    }
  }

  // ---- 4: the error vector aimed at a hole in BAR0, forwarded: each message is an MMIO error,
  // which raises the error vector again.
  for (const auto mode : {BusMode::Forward, BusMode::ForwardAll}) {
    OpWriter w = up();
    w.bus(mode).msix_target(kMisc, MsixTo::BarHole).reg(regs::kTxqTail, 0, 1000).wait_ns(50'000);
    add(std::string("case4-msix-into-bar0-hole-") + (mode == BusMode::Forward ? "forward" : "forward-all"),
        "error vector -> BAR0 + 0xFFC (no register) on a forwarding bus, then a bad tail", w);
  }

  // ---- 5: 19 descriptors without EOP, then a 20th with EOP|RS (a chain longer than 16).
  {
    OpWriter w = up();
    w.post_tx(0, 20, 64, post_tx::kOneChain).wait_ns(20'000).post_tx(0, 2, 100).wait_ns(20'000);
    add("case5-tx-19-without-eop-then-eop-rs", "a 20-descriptor chain (EOP|RS on the 20th only)", w);
  }

  // ---- 6: TXQ_TAIL moved backwards with jumbo frames in flight.
  {
    OpWriter w = up(bring_up::kJumbo);
    w.post_tx(0, 4, 9000).wait_ns(500).reg(regs::kTxqTail, 0, 2).wait_ns(100'000);
    add("case6-tx-tail-backwards-jumbo", "MAX_FRAME 9022, four 9000 B frames (tail 4), then tail 2", w);
  }

  // ---- 7: a tail written under a large size, then the size shrunk, then the enable.
  {
    OpWriter w = up();
    w.reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqSize, 0, 4096).reg(regs::kTxqTail, 0, 4000);
    w.reg(regs::kTxqSize, 0, 8).reg(regs::kTxqCtrl, 0, 1).wait_ns(20'000).post_tx(0, 2, 100).wait_ns(20'000);
    add("case7-tx-size-4096-tail-4000-size-8-enable", "TXQ_SIZE 4096, TXQ_TAIL 4000, TXQ_SIZE 8, enable", w);
  }

  // ---- docs/hw.md, "Bad guest input": one seed per row.
  {
    OpWriter w = up();
    w.reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqBaseLo, 0, 0x1000).reg(regs::kTxqBaseHi, 0, 0);
    w.reg(regs::kTxqCtrl, 0, 1).reg(regs::kTxqTail, 0, 3).wait_ns(5'000);
    w.reg(regs::kRxqCtrl, 0, 0).reg(regs::kRxqBaseLo, 0, 0).reg(regs::kRxqBaseHi, 0, 0x10).reg(regs::kRxqCtrl, 0, 1);
    w.reg(regs::kRxqTail, 0, 5).wait_ns(5'000).reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqCtrl, 0, 1).wait_ns(5'000);
    add("hw-descriptor-ring-outside-host-memory", "TX and RX rings outside host memory; toggling does not restart", w);
  }
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_rx(0, 4, {BufKind::Outside, 1, 0, 0}).wait_ns(2'000).frame(FrameKind::Good, 100, 2).wait_ns(20'000);
    add("hw-rx-buffer-outside-host-memory", "RX buffers past the end of host memory", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 2, 100, 6u << post_tx::kBufShift).wait_ns(20'000).post_tx(0, 1, 100).wait_ns(10'000);
    add("hw-tx-buffer-outside-host-memory", "TX buffers outside host memory", w);
  }
  {
    OpWriter w = up();
    for (uint32_t size : {0u, 12u, 8192u, 4u}) {
      w.reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqSize, 0, size).reg(regs::kTxqCtrl, 0, 1);
    }
    w.reg(regs::kTxqCtrl, 0, 0).reg(regs::kTxqSize, 0, 64).ring_base(true, 0, tx_area(0));
    w.reg(regs::kTxqBaseLo, 0, 0x8, ValueMode::Raw).reg(regs::kTxqCtrl, 0, 1);  // not 16-byte aligned
    w.reg(regs::kRxqCtrl, 0, 0).reg(regs::kRxqBufSize, 0, 32).reg(regs::kRxqCtrl, 0, 1);
    w.reg(regs::kRxqCtrl, 0, 0).reg(regs::kRxqBufSize, 0, 32768).reg(regs::kRxqCtrl, 0, 1).wait_ns(5'000);
    add("hw-ring-size-base-or-rx-buffer-size-invalid", "sizes 0, 12, 8192, 4; an unaligned base; RX buffers 32, 32768", w);
  }
  {
    OpWriter w = up();
    w.reg(regs::kTxqTail, 0, 64).reg(regs::kRxqTail, 0, 100).post_tx(0, 2, 100).wait_ns(20'000);
    add("hw-tail-written-beyond-the-ring", "TAIL = ring size, and beyond: ignored, the queue keeps running", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 4, 100).reg(regs::kTxqTail, 0, 2).wait_ns(20'000).post_tx(0, 2, 100).wait_ns(10'000);
    add("hw-tail-moved-backwards-on-a-running-queue", "four frames posted (tail 4), then tail 2", w);
  }
  {
    OpWriter w = up();
    w.reg(regs::kRxqCtrl, 0, 0).reg(regs::kRxqSize, 0, 64).reg(regs::kRxqTail, 0, 40).reg(regs::kRxqSize, 0, 16);
    w.reg(regs::kRxqCtrl, 0, 1).wait_ns(5'000).frame(FrameKind::Good, 100).wait_ns(5'000);
    add("hw-tail-register-beyond-ring-size-at-enable", "RX: SIZE 64, TAIL 40, SIZE 16, enable: refused", w);
  }
  {
    // TX and RX, each with work in flight: the same ring with a new tail, then a new base.
    OpWriter w = up();
    w.wait_ns(2'000).post_tx(0, 6, 700).frame(FrameKind::Good, 700, 6).wait_ns(900);
    w.reg(regs::kTxqCtrl, 0, 0).reg(regs::kRxqCtrl, 0, 0).reg(regs::kTxqTail, 0, 2).reg(regs::kTxqCtrl, 0, 1);
    w.reg(regs::kRxqCtrl, 0, 1).wait_ns(1'200).post_tx(0, 4, 700).frame(FrameKind::Good, 700, 6).wait_ns(600);
    w.reg(regs::kTxqCtrl, 0, 0).ring_base(true, 0, kSpareArea).reg(regs::kTxqTail, 0, 0).reg(regs::kTxqCtrl, 0, 1);
    w.wait_ns(20'000);
    add("hw-queue-disabled-and-reenabled-with-work-in-flight", "TX/RX toggled mid-flight: new tail, then new base", w);
  }
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_rx(0, 1, {BufKind::ReadOnly, 0, 0, 0}).wait_ns(2'000).frame(FrameKind::Good, 100).wait_ns(5'000);
    w.reg(regs::kCtrl, 0, regs::ctrl::kRst.mask()).wait_ns(11'000).bring_up(64, 64, bring_up::kNoRxBuffers);
    w.post_rx(0, 1, {BufKind::Msi, 0, 0x40, 0}).wait_ns(2'000).frame(FrameKind::Good, 100).wait_ns(5'000);
    add("hw-rx-buffer-read-only-or-in-the-msi-window", "an RX buffer mapped to-device only; after a reset, one in the MSI window", w);
  }
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_rx(0, 2).wait_ns(2'000).frame(FrameKind::Good, 1500).wait_ns(100).map(kMapRx, 0).wait_ns(10'000);
    add("hw-rx-buffer-unmapped-after-the-write-was-issued", "the RX buffer unmapped 100 ns after the frame arrived", w);
  }
  {
    OpWriter w = up();
    w.bus(BusMode::Forward).msix_target(kMisc, MsixTo::BarOffset, regs::kImaskSet.offset);
    w.reg(regs::kMsixData, kMisc, 0x1FF).reg(regs::kTxqTail, 0, 99).post_tx(0, 1, 40, 4u << post_tx::kBufShift);
    w.wait_ns(10'000).bus(BusMode::ForwardAll).reg(regs::kTxqTail, 0, 99).wait_ns(10'000);
    add("hw-dma-or-an-msix-vector-aimed-at-own-bar0", "error vector -> BAR0 IMASK_SET, a TX buffer in BAR0, forwarding", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 1, 100).post_tx(0, 1, 0).post_tx(0, 1, 100).wait_ns(20'000);
    add("hw-zero-length-tx-descriptor", "a zero-length TX descriptor between two good frames", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 2, 1000, 1).post_tx(0, 1, 1514).wait_ns(20'000);  // 2000 B > 1518; then exactly 1518
    add("hw-tx-frame-over-max-frame", "a 2000 B frame (two descriptors) over MAX_FRAME 1518, then 1514 B", w);
  }
  {
    OpWriter w = up();
    w.post_tx(0, 17, 64, post_tx::kOneChain | post_tx::kNoEop).wait_ns(20'000);
    w.post_tx(0, 1, 100).wait_ns(20'000);
    add("hw-more-than-16-descriptors-without-eop", "17 descriptors, none with EOP, then a good frame", w);
  }
  {
    OpWriter w = up(0, 16);
    w.post_tx(0, 15, 64, post_tx::kOneChain | post_tx::kNoEop).wait_ns(20'000);
    add("hw-a-whole-ring-of-descriptors-without-eop", "a 16-slot ring filled with descriptors without EOP", w);
  }
  {
    OpWriter w = up();
    w.raw_write(static_cast<uint16_t>(regs::kRxUsecs.offset_of(0)), 2, 7);      // 2 bytes
    w.raw_write(static_cast<uint16_t>(regs::kRxUsecs.offset_of(0) + 1), 0, 7);  // unaligned
    w.raw_write(0x0FFC, 0, 7).read(0x0FFC).raw_write(0x7FFE, 1, 1).read(0x4001, 3);  // a gap, odd shapes
    w.raw_write(0xFFFC, 0, 7).read(0x8000);                                      // beyond BAR0
    w.wait_ns(5'000);
    add("hw-mmio-not-4-bytes-unaligned-gap-or-beyond-bar0", "MMIO of 1/2/3/8 bytes, unaligned, to a gap, past BAR0", w);
  }
  {
    OpWriter w = up();
    w.reg(regs::kMaxFrame, 0, 63).reg(regs::kMaxFrame, 0, 9023).reg(regs::kMaxFrame, 0, 0xFFFF'FFFF).wait_ns(5'000);
    add("hw-max-frame-out-of-range", "MAX_FRAME 63, 9023, 0xFFFFFFFF: ignored", w);
  }
  {
    OpWriter w = up();
    w.reg(regs::kId, 0, 1).reg(regs::kStatus, 0, 0).reg(regs::kTxqHead, 0, 5).reg(regs::kStatLo, 0, 0);
    w.reg(regs::kMsixPba, 0, 0xFF).post_tx(0, 1, 100).wait_ns(10'000);
    add("hw-write-to-a-read-only-register", "writes to ID, STATUS, TXQ_HEAD, STAT_LO, MSIX_PBA", w);
  }
  {
    OpWriter w = up();
    w.config(0, pci::kCmdMemorySpace).post_tx(0, 2, 100).frame(FrameKind::Good, 100).wait_ns(10'000);
    w.config(0, kCmdUp).reg(regs::kCtrl, 0, regs::ctrl::kRst.mask()).wait_ns(11'000);
    w.bring_up(64, 64).post_tx(0, 2, 100).wait_ns(10'000);
    add("hw-dma-while-bus-master-enable-is-off", "BME off with traffic: refused, no message; BME on, reset, up", w);
  }
  {
    OpWriter w = up();
    w.config(0, pci::kCmdBusMaster).reg(regs::kRxUsecs, 0, 5).read(0).raw_write(0, 1, 0).wait_ns(5'000);
    w.config(0, kCmdUp).post_tx(0, 1, 100).wait_ns(10'000);
    add("hw-mmio-while-memory-space-enable-is-off", "MSE off: MMIO refused and counted; back on", w);
  }
  {
    OpWriter w = up(bring_up::kNoRxBuffers);
    w.post_tx(0, 1, 100, 3u << post_tx::kBufShift).wait_ns(10'000);  // never mapped
    add("hw-dma-outside-every-iommu-mapping-tx-never-mapped", "a TX buffer the host never mapped", w);
    OpWriter w2 = up(bring_up::kNoRxBuffers);
    w2.post_tx(0, 1, 100, 2u << post_tx::kBufShift).wait_ns(10'000);  // mapped from-device only
    add("hw-dma-outside-every-iommu-mapping-tx-wrong-direction", "a TX buffer mapped from-device only", w2);
    OpWriter w3 = up(bring_up::kNoRxBuffers);
    w3.post_rx(0, 2).map(kMapRx, 0).wait_ns(2'000).frame(FrameKind::Good, 100, 2).wait_ns(10'000);
    add("hw-dma-outside-every-iommu-mapping-rx-unmapped", "an RX buffer unmapped after it was posted", w3);
  }
  {
    OpWriter w = up();
    w.wait_ns(2'000).post_tx(0, 32, 1500).frame(FrameKind::Good, 1000, 8).wait_ns(1'500);
    w.reg(regs::kCtrl, 0, regs::ctrl::kRst.mask()).wait_ns(20'000);
    w.bring_up(64, 64).post_tx(0, 4, 100).wait_ns(10'000);
    add("hw-soft-reset-while-dma-is-in-flight", "CTRL.RST with fetches, data and write-backs in flight; up again", w);
  }
  return s;
}

}  // namespace

std::vector<Seed> seed_corpus() { return build(); }

}  // namespace vnic::fuzz

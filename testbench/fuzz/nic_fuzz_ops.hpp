// The NIC fuzzer's input format: a stream of ops, each one opcode byte and its operands (little
// endian), as a hostile guest (and its platform) would act. The harness decodes it; OpWriter
// builds it, so the seed corpus is written as readable C++ (nic_fuzz_seeds.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vnic/model/regs.hpp"

namespace vnic::fuzz {

// An opcode byte is taken modulo Op::kCount, so every byte is some op. An op whose operands run
// past the end of the input ends the input (trailing garbage is ignored).
enum class Op : uint8_t {
  BringUp,     // u8 sizes, u8 flags: a driver's bring-up with the IOMMU on (bring_up::)
  WriteReg,    // u8 register (kRegMenu), u8 element (queue pair, vector), u8 mode (ValueMode), u32 value
  WriteRaw,    // u16 BAR0 offset, u8 length (kRawLengths), u32 value: any shape, any offset
  Read,        // u16 BAR0 offset, u8 length (kRawLengths)
  MsixTarget,  // u8 vector, u8 target (MsixTo), u32 value: MSIX_ADDR_LO/HI of a vector
  Config,      // u8 register (0 command, 1 MSI-X message control), u32 value: a PCI config write
  TxDesc,      // u8 ring area, u16 slot, BufSpec, u16 length, u8 cmd: one TX descriptor in memory
  RxDesc,      // u8 ring area, u16 slot, BufSpec: one RX descriptor in memory
  DescRaw,     // u8 ring area, u16 slot, 16 bytes: any descriptor bytes
  PostTx,      // u8 queue pair, u8 n-1, u16 length, u8 flags (post_tx::): n descriptors, then TXQ_TAIL
  PostRx,      // u8 queue pair, u8 n-1, BufSpec: n RX descriptors (buffer index advancing), then RXQ_TAIL
  Map,         // u8 mapping (see the layout), u8 action (0 unmap, 1 to device, 2 from device, 3 both)
  Frame,       // u8 kind (FrameKind), u16 length, u8 count-1: frames arriving from the wire
  Link,        // u8: bit 0 up, bits 2:1 rate (1, 10, 25, 100 Gb/s)
  Time,        // u8: kTimeSteps[b & 15] x ((b >> 4) + 1)
  Bus,         // u8 mode (BusMode): what the interconnect does with device DMA to BAR0
  kCount
};
std::string_view op_name(Op op);

// What the interconnect does with a device access to [BAR0, BAR0 + kBar0Size).
enum class BusMode : uint8_t {
  Refuse,      // a root complex: address error
  Forward,     // peer-to-peer: forwarded to the NIC's BAR; write probes answered by the switch
  ForwardAll,  // peer-to-peer, probes (TLM_IGNORE_COMMAND) forwarded to the NIC as well
  kCount
};

// A buffer address, as a guest might put it in a descriptor: u8 kind, u8 index, u16 offset,
// then a u64 only for Raw.
enum class BufKind : uint8_t {
  Tx,         // a TX buffer (mapped to the device), + offset
  Rx,         // an RX buffer (mapped from the device)
  BigRx,      // a 16 KiB RX buffer
  ReadOnly,   // mapped to the device only
  WriteOnly,  // mapped from the device only
  Unmapped,   // host memory the device was never given
  Msi,        // the MSI window (0xFEE00000 + offset)
  Bar,        // the NIC's own BAR0 + offset
  Outside,    // no memory at all (below or above host memory)
  Ring,       // a slot of a ring area: data written over descriptors
  Raw,        // any 64-bit value
  kCount
};
struct BufSpec {
  BufKind kind = BufKind::Tx;
  uint8_t index = 0;
  uint16_t offset = 0;
  uint64_t raw = 0;
};

// Host memory as the harness lays it out for every input (identity-mapped, IOMMU on).
namespace layout {
inline constexpr uint64_t kMemBase = 0x1'0000'0000;
inline constexpr uint64_t kMemSize = 1u << 20;
inline constexpr uint64_t kBar0 = 0xF000'0000;      // where enumeration puts BAR0
inline constexpr uint64_t kMsiBase = 0xFEE0'0000;   // the MSI window (1 MiB)
inline constexpr uint64_t kMsiSize = 0x10'0000;
// Ring areas, 4096 descriptors each: bring-up gives queue pair q area 2q (TX) and 2q+1 (RX);
// 4 and 5 are spare (a re-enable on a new base).
inline constexpr uint8_t kRingAreas = 6;
inline constexpr uint8_t kSpareArea = 4;
constexpr uint8_t tx_area(uint8_t qp) { return static_cast<uint8_t>(2 * qp); }
constexpr uint8_t rx_area(uint8_t qp) { return static_cast<uint8_t>(2 * qp + 1); }
inline constexpr uint32_t kRingAreaSlots = 4096;
inline constexpr uint8_t kTxBufs = 16;
inline constexpr uint32_t kTxBufSize = 9216;
inline constexpr uint8_t kRxBufs = 32;
inline constexpr uint32_t kRxBufSize = 2048;
inline constexpr uint8_t kBigRxBufs = 4;
inline constexpr uint32_t kBigRxBufSize = 16384;
inline constexpr uint32_t kOddBufSize = 16384;  // the read-only, write-only and unmapped areas
// Mapping ids of the Map op: the ring areas, TX, RX, big RX buffers, then the odd areas.
inline constexpr uint8_t kMapRing = 0;
inline constexpr uint8_t kMapTx = kMapRing + kRingAreas;
inline constexpr uint8_t kMapRx = kMapTx + kTxBufs;
inline constexpr uint8_t kMapBigRx = kMapRx + kRxBufs;
inline constexpr uint8_t kMapReadOnly = kMapBigRx + kBigRxBufs;
inline constexpr uint8_t kMapWriteOnly = kMapReadOnly + 1;
inline constexpr uint8_t kMapUnmapped = kMapWriteOnly + 1;  // not mapped at the start
inline constexpr uint8_t kNumMaps = kMapUnmapped + 1;
}  // namespace layout

// Incoming frames. Lengths include the FCS; a length operand outside the kind's range is folded
// into it (fit_length).
enum class FrameKind : uint8_t {
  Good,       // to the station address, 64..9022 B
  Broadcast,
  Multicast,
  Runt,       // 1..63 B, good FCS
  Giant,      // 1519..16000 B, good FCS
  BadFcs,     // to the station, FCS wrong
  Random,     // random bytes, 1..16000 B
  OtherHost,  // unicast to someone else
  kCount
};

constexpr std::size_t fit_length(uint16_t v, std::size_t lo, std::size_t hi) {
  return v >= lo && v <= hi ? v : lo + v % (hi - lo + 1);
}

// WriteReg value modes: Raw writes the value as is; Meaning picks a sensible value from it
// (ring area base, power-of-two size, tail within the driver's ring, CTRL bits).
enum class ValueMode : uint8_t { Raw, Meaning, kCount };

// MsixTarget: where a vector's message goes.
enum class MsixTo : uint8_t {
  MsiWindow,  // 0xFEE00000 (a proper interrupt)
  BarOffset,  // BAR0 + (value % kBar0Size), 4-byte aligned: into the NIC's own registers
  BarHole,    // BAR0 + 0xFFC: no register there
  RxBuffer,   // host memory: an RX buffer
  RingSlot,   // host memory: a ring slot
  Raw,        // value as ADDR_LO, ADDR_HI 0
  kCount
};

// BringUp operands. sizes: bits 2:0 TX ring, 5:3 RX ring (kRingSizes).
namespace bring_up {
inline constexpr uint8_t kTwoQueuePairs = 1u << 0;
inline constexpr uint8_t kJumbo = 1u << 1;           // MAX_FRAME 9022, RX buffers of 16 KiB
inline constexpr uint8_t kCoalesceShift = 2;          // bits 3:2, kCoalescing
inline constexpr uint8_t kResetFirst = 1u << 4;       // CTRL.RST and its 10 us first
inline constexpr uint8_t kPromiscuous = 1u << 5;
inline constexpr uint8_t kRxAllFcs = 1u << 6;         // RX_ALL | RX_FCS
inline constexpr uint8_t kNoRxBuffers = 1u << 7;      // leave the RX rings empty
}  // namespace bring_up
inline constexpr std::array<uint32_t, 8> kRingSizes = {8, 16, 32, 64, 128, 256, 1024, 4096};
constexpr uint8_t ring_size_code(uint32_t size) {
  for (uint8_t i = 0; i < kRingSizes.size(); ++i) {
    if (kRingSizes[i] == size) return i;
  }
  return 3;
}

// PostTx flags: bits 1:0 descriptors per frame - 1; then these; bits 7:5 the buffers (kBufs).
namespace post_tx {
inline constexpr uint8_t kNoEop = 1u << 2;    // the frames' last descriptors lack EOP
inline constexpr uint8_t kNoRs = 1u << 3;     // no RS: no write-back
inline constexpr uint8_t kOneChain = 1u << 4; // all n descriptors are one frame (EOP|RS on the last)
inline constexpr uint8_t kBufShift = 5;
inline constexpr std::array<BufKind, 8> kBufs = {BufKind::Tx,  BufKind::ReadOnly, BufKind::WriteOnly,
                                                 BufKind::Unmapped, BufKind::Bar, BufKind::Msi,
                                                 BufKind::Outside, BufKind::Ring};
}  // namespace post_tx

inline constexpr std::array<uint8_t, 5> kRawLengths = {4, 1, 2, 8, 3};

// Registers WriteReg can name (per-queue and per-vector ones take the element operand).
namespace menu {
namespace r = model::regs;
inline constexpr const r::Reg* kRegs[] = {
    &r::kCtrl,      &r::kIcr,       &r::kImaskSet,  &r::kImaskClr,  &r::kErrCause,  &r::kRxCtrl,
    &r::kMaxFrame,  &r::kMacLo,     &r::kMacHi,     &r::kMcHashLo,  &r::kMcHashHi,  &r::kRxqBaseLo,
    &r::kRxqBaseHi, &r::kRxqSize,   &r::kRxqTail,   &r::kRxqBufSize, &r::kRxqCtrl,  &r::kRxUsecs,
    &r::kRxFrames,  &r::kTxqBaseLo, &r::kTxqBaseHi, &r::kTxqSize,   &r::kTxqTail,   &r::kTxqCtrl,
    &r::kTxUsecs,   &r::kTxFrames,  &r::kMsixAddrLo, &r::kMsixAddrHi, &r::kMsixData, &r::kMsixVctrl,
    &r::kId,        &r::kStatus,    &r::kRxqHead,   &r::kTxqHead,   &r::kStatLo,    &r::kMsixPba,
};
inline constexpr uint8_t kNumRegs = sizeof(kRegs) / sizeof(kRegs[0]);
constexpr uint8_t index_of(const r::Reg& reg) {
  for (uint8_t i = 0; i < kNumRegs; ++i) {
    if (kRegs[i] == &reg) return i;
  }
  return 0xFF;  // not in the menu: a compile-time error where it is used in a constant
}
}  // namespace menu

// Time steps (ps) of the Time op.
inline constexpr std::array<uint64_t, 16> kTimeSteps = {
    1'000,     4'000,     16'000,    64'000,    100'000,    250'000,    500'000,    1'000'000,
    2'000'000, 4'000'000, 8'000'000, 10'000'000, 16'000'000, 32'000'000, 50'000'000, 100'000'000};

// Builds an op stream; every method appends one op.
class OpWriter {
 public:
  const std::vector<uint8_t>& bytes() const { return b_; }

  OpWriter& bring_up(uint32_t tx_ring, uint32_t rx_ring, uint8_t flags = 0) {
    return op(Op::BringUp).u8(static_cast<uint8_t>(ring_size_code(tx_ring) | ring_size_code(rx_ring) << 3)).u8(flags);
  }
  OpWriter& reg(const model::regs::Reg& r, uint8_t element, uint32_t v, ValueMode m = ValueMode::Raw) {
    return op(Op::WriteReg).u8(menu::index_of(r)).u8(element).u8(static_cast<uint8_t>(m)).u32(v);
  }
  // A ring base register set to ring area `area` (both halves).
  OpWriter& ring_base(bool tx, uint8_t qp, uint8_t area) {
    namespace r = model::regs;
    reg(tx ? r::kTxqBaseLo : r::kRxqBaseLo, qp, area, ValueMode::Meaning);
    return reg(tx ? r::kTxqBaseHi : r::kRxqBaseHi, qp, area, ValueMode::Meaning);
  }
  OpWriter& raw_write(uint16_t off, uint8_t len_code, uint32_t v) { return op(Op::WriteRaw).u16(off).u8(len_code).u32(v); }
  OpWriter& read(uint16_t off, uint8_t len_code = 0) { return op(Op::Read).u16(off).u8(len_code); }
  OpWriter& msix_target(uint8_t vec, MsixTo to, uint32_t v = 0) {
    return op(Op::MsixTarget).u8(vec).u8(static_cast<uint8_t>(to)).u32(v);
  }
  OpWriter& config(uint8_t which, uint32_t v) { return op(Op::Config).u8(which).u32(v); }
  OpWriter& tx_desc(uint8_t area, uint16_t slot, BufSpec b, uint16_t len, uint8_t cmd) {
    op(Op::TxDesc).u8(area).u16(slot);
    return buf(b).u16(len).u8(cmd);
  }
  OpWriter& rx_desc(uint8_t area, uint16_t slot, BufSpec b) {
    op(Op::RxDesc).u8(area).u16(slot);
    return buf(b);
  }
  OpWriter& desc_raw(uint8_t area, uint16_t slot, const std::array<uint8_t, 16>& d) {
    op(Op::DescRaw).u8(area).u16(slot);
    for (uint8_t x : d) u8(x);
    return *this;
  }
  // n: 1..64 descriptors.
  OpWriter& post_tx(uint8_t qp, uint8_t n, uint16_t len, uint8_t flags = 0) {
    return op(Op::PostTx).u8(qp).u8(static_cast<uint8_t>(n - 1)).u16(len).u8(flags);
  }
  OpWriter& post_rx(uint8_t qp, uint8_t n, BufSpec b = {BufKind::Rx, 0, 0, 0}) {
    op(Op::PostRx).u8(qp).u8(static_cast<uint8_t>(n - 1));
    return buf(b);
  }
  OpWriter& map(uint8_t id, uint8_t action) { return op(Op::Map).u8(id).u8(action); }
  // len: bytes with the FCS (see FrameKind); count: 1..32 frames.
  OpWriter& frame(FrameKind k, uint16_t len, uint8_t count = 1) {
    return op(Op::Frame).u8(static_cast<uint8_t>(k)).u16(len).u8(static_cast<uint8_t>(count - 1));
  }
  OpWriter& link(bool up, uint8_t rate_code = 1) { return op(Op::Link).u8(static_cast<uint8_t>((up ? 1 : 0) | rate_code << 1)); }
  // Advances time by about `ns` (the nearest the Time op can say, rounded down, at least 1 ns).
  OpWriter& wait_ns(uint64_t ns);
  OpWriter& bus(BusMode m) { return op(Op::Bus).u8(static_cast<uint8_t>(m)); }

 private:
  OpWriter& op(Op o) { return u8(static_cast<uint8_t>(o)); }
  OpWriter& buf(const BufSpec& b) {
    u8(static_cast<uint8_t>(b.kind)).u8(b.index).u16(b.offset);
    if (b.kind == BufKind::Raw) u64(b.raw);
    return *this;
  }
  OpWriter& u8(uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  OpWriter& u16(uint16_t v) { return u8(static_cast<uint8_t>(v)).u8(static_cast<uint8_t>(v >> 8)); }
  OpWriter& u32(uint32_t v) { return u16(static_cast<uint16_t>(v)).u16(static_cast<uint16_t>(v >> 16)); }
  OpWriter& u64(uint64_t v) { return u32(static_cast<uint32_t>(v)).u32(static_cast<uint32_t>(v >> 32)); }
  std::vector<uint8_t> b_;
};

inline OpWriter& OpWriter::wait_ns(uint64_t ns) {
  uint64_t ps = ns * 1000;
  while (ps >= kTimeSteps[0]) {
    // The largest step x multiplier that fits, so a wait is exact or a few steps long.
    uint8_t best = 0;
    uint64_t best_ps = 0;
    for (uint8_t i = 0; i < kTimeSteps.size(); ++i) {
      for (uint8_t m = 1; m <= 16; ++m) {
        const uint64_t t = kTimeSteps[i] * m;
        if (t <= ps && t > best_ps) {
          best_ps = t;
          best = static_cast<uint8_t>(i | (m - 1) << 4);
        }
      }
    }
    op(Op::Time).u8(best);
    ps -= best_ps;
  }
  return *this;
}

}  // namespace vnic::fuzz

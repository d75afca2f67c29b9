// The register map (BAR0): one constexpr table that the device, the driver and docs/regmap.md all read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "vnic/model/units.hpp"

namespace vnic::model::regs {

// RO: read-only (writes ignored and counted). RW: read/write. W1C: write 1 to clear.
// RC: cleared by a read. WO: write-only (reads return 0).
enum class Access : uint8_t { RO, RW, W1C, RC, WO };
std::string_view to_string(Access a);

// Where a register's reset value comes from: the table, or the instance's permanent MAC address.
// Keep: the register is not touched by CTRL.RST (the MSI-X table, as on real NICs, belongs to
// the PCI function and keeps its value; it takes the table's value at power-on).
enum class ResetSrc : uint8_t { Table, PermMacLo, PermMacHi, Keep };

struct Field {
  std::string_view name;
  uint8_t lsb;
  uint8_t width;
  std::string_view doc;
  constexpr uint32_t mask() const {
    return width >= 32 ? 0xFFFF'FFFFu : (((1u << width) - 1u) << lsb);
  }
  constexpr uint32_t get(uint32_t reg) const { return (reg & mask()) >> lsb; }
  constexpr uint32_t put(uint32_t reg, uint32_t v) const {
    return (reg & ~mask()) | ((v << lsb) & mask());
  }
};

struct Reg {
  std::string_view name;
  uint32_t offset;  // of element 0
  Access access;
  uint32_t reset;
  std::span<const Field> fields;
  std::string_view doc;
  uint16_t count = 1;   // > 1: a register array (per queue pair, per vector, per counter)
  uint32_t stride = 0;  // bytes between elements of an array
  ResetSrc reset_src = ResetSrc::Table;

  constexpr uint32_t offset_of(unsigned i) const { return offset + i * stride; }
  // Bits a write can change (RW/W1C/WO): the union of the fields; other bits are reserved, read 0.
  constexpr uint32_t writable_mask() const {
    uint32_t m = 0;
    for (const Field& f : fields) m |= f.mask();
    return m;
  }
};

// ---------------------------------------------------------------- sizing
inline constexpr unsigned kMaxQueuePairs = 8;               // ICR has 8 RX + 8 TX bits
inline constexpr unsigned kMaxVectors = kMaxQueuePairs + 1; // one per queue pair + misc (link, errors)
inline constexpr uint32_t kMinRingSize = 8;
inline constexpr uint32_t kMaxRingSize = 4096;
inline constexpr uint32_t kBar0Size = 0x8000;
inline constexpr uint32_t kDeviceId = 0x564E4943;  // "VNIC"
inline constexpr uint32_t kVersion = 0x0001'0001;  // 1.1: moderation modes (*_USECS.MODE, *_ABS_USECS)
inline constexpr uint32_t kMinFrame = 64;          // incl. FCS
inline constexpr uint32_t kMaxFrameLimit = 9022;   // jumbo 9000 MTU + 14 + 4 VLAN + 4 FCS
inline constexpr uint32_t kDefaultMaxFrame = 1518;
inline constexpr uint32_t kDefaultRxBufSize = 2048;

// ---------------------------------------------------------------- fields
// Every field is a named constant in a namespace named after its field group (regs::ctrl::kRst,
// regs::status::kSpeed, regs::q_status::kErrCode; a group shared by several registers, like
// q_status for RXQ_STATUS and TXQ_STATUS, is named once). Code uses these names, never a position;
// each group's array (kCtrlFields, ...) lists the same constants in bit order for the registers,
// the MMIO dispatch and the generated docs.
namespace id {
inline constexpr Field kId{"ID", 0, 32, "0x564E4943 (\"VNIC\")."};
}  // namespace id
inline constexpr Field kIdFields[] = {id::kId};

namespace version {
inline constexpr Field kMinor{"MINOR", 0, 16, "Minor version."};
inline constexpr Field kMajor{"MAJOR", 16, 16, "Major version."};
}  // namespace version
inline constexpr Field kVersionFields[] = {version::kMinor, version::kMajor};

namespace ctrl {
inline constexpr Field kEn{"EN", 0, 1, "Device enable: queues may run only while set."};
inline constexpr Field kRst{
    "RST", 1, 1,
    "Write 1: soft reset. Every register returns to its reset value (MAC_LO/HI to the "
    "permanent address; the MSI-X table and the counters are kept), queues stop, in-flight "
    "DMA is abandoned. Takes 10 us (STATUS.RESET_DONE). Reads 0."};
}  // namespace ctrl
inline constexpr Field kCtrlFields[] = {ctrl::kEn, ctrl::kRst};

namespace status {
inline constexpr Field kLinkUp{"LINK_UP", 0, 1, "Link is up."};
inline constexpr Field kSpeed{"SPEED", 1, 3, "Link speed: 0 none, 1 1G, 2 10G, 3 25G, 4 40G, 5 100G."};
inline constexpr Field kResetDone{
    "RESET_DONE", 4, 1,
    "Set when the last soft reset (or power-on) has completed; 0 while a soft reset runs "
    "(NicConfig::reset_ns, 10 us by default)."};

// SPEED's codes: the device encodes its link rate with speed_code(), the driver decodes with
// speed_mbps(); kSpeed's doc lists the same codes (a test checks).
struct SpeedCode {
  uint32_t code;
  uint32_t mbps;
  std::string_view name;  // as in kSpeed's doc and the C header's VNIC_STATUS_SPEED_<name>
};
inline constexpr uint32_t kSpeedNone = 0;  // link down, or a rate without a code
inline constexpr SpeedCode kSpeedCodes[] = {
    {1, 1000, "1G"}, {2, 10000, "10G"}, {3, 25000, "25G"}, {4, 40000, "40G"}, {5, 100000, "100G"}};
// The code for a link rate, by its whole Gb/s (10.3 Gb/s is 10G); kSpeedNone for any other rate.
constexpr uint32_t speed_code(BitRate r) {
  const uint64_t gbps = r.bps() / 1000'000'000u;
  for (const SpeedCode& s : kSpeedCodes) {
    if (gbps == s.mbps / 1000u) return s.code;
  }
  return kSpeedNone;
}
// The rate in Mb/s for a SPEED code; 0 for kSpeedNone or a code the table does not know.
constexpr uint32_t speed_mbps(uint32_t code) {
  for (const SpeedCode& s : kSpeedCodes) {
    if (code == s.code) return s.mbps;
  }
  return 0;
}
}  // namespace status
inline constexpr Field kStatusFields[] = {status::kLinkUp, status::kSpeed, status::kResetDone};

namespace cap {
inline constexpr Field kNumQp{"NUM_QP", 0, 8, "Number of queue pairs this instance has."};
inline constexpr Field kMinRingLog2{"MIN_RING_LOG2", 8, 4, "log2 of the smallest ring size (8)."};
inline constexpr Field kMaxRingLog2{"MAX_RING_LOG2", 12, 4, "log2 of the largest ring size (4096)."};
inline constexpr Field kNumVec{"NUM_VEC", 16, 8,
                               "Interrupt vectors: one per queue pair, then one for link and errors."};
}  // namespace cap
inline constexpr Field kCapFields[] = {cap::kNumQp, cap::kMinRingLog2, cap::kMaxRingLog2, cap::kNumVec};

namespace icr {
inline constexpr Field kRxq{"RXQ", 0, 8, "Bit i: RX completions of queue pair i."};
inline constexpr Field kTxq{"TXQ", 8, 8, "Bit i: TX completions of queue pair i."};
inline constexpr Field kLink{"LINK", 30, 1, "Link state changed."};
inline constexpr Field kErr{"ERR", 31, 1, "An error was latched in ERR_CAUSE."};
}  // namespace icr
inline constexpr Field kIcrFields[] = {icr::kRxq, icr::kTxq, icr::kLink, icr::kErr};

namespace imask {
inline constexpr Field kVec{"VEC", 0, kMaxVectors, "Bit v: vector v is masked (vector NUM_QP is link/errors)."};
}  // namespace imask
inline constexpr Field kImaskFields[] = {imask::kVec};

namespace err_cause {
inline constexpr Field kRxDma{"RX_DMA", 0, 1, "An RX DMA access failed (address outside host memory or refused)."};
inline constexpr Field kTxDma{"TX_DMA", 1, 1, "A TX DMA access failed."};
inline constexpr Field kRingCfg{
    "RING_CFG", 2, 1,
    "A queue was enabled with a bad ring size, base alignment, buffer size, or a tail beyond the size."};
inline constexpr Field kTail{"TAIL", 3, 1,
                             "A tail was written beyond the ring size or backwards (the write was ignored)."};
inline constexpr Field kTxDesc{"TX_DESC", 4, 1,
                               "A TX descriptor was malformed (zero length, frame too long, no EOP)."};
inline constexpr Field kMmio{
    "MMIO", 5, 1, "An MMIO access was unaligned, not 4 bytes, to no register, or an out-of-range value."};
}  // namespace err_cause
inline constexpr Field kErrCauseFields[] = {err_cause::kRxDma,  err_cause::kTxDma,  err_cause::kRingCfg,
                                            err_cause::kTail,   err_cause::kTxDesc, err_cause::kMmio};

namespace addr_lo {
inline constexpr Field kAddrLo{"ADDR_LO", 0, 32, "Bits 31:0 of the address."};
}  // namespace addr_lo
inline constexpr Field kAddrLoFields[] = {addr_lo::kAddrLo};

namespace addr_hi {
inline constexpr Field kAddrHi{"ADDR_HI", 0, 32, "Bits 63:32 of the address."};
}  // namespace addr_hi
inline constexpr Field kAddrHiFields[] = {addr_hi::kAddrHi};

namespace mac_lo {
inline constexpr Field kMac0{"MAC0", 0, 8, "First octet on the wire."};
inline constexpr Field kMac1{"MAC1", 8, 8, "Second octet."};
inline constexpr Field kMac2{"MAC2", 16, 8, "Third octet."};
inline constexpr Field kMac3{"MAC3", 24, 8, "Fourth octet."};
}  // namespace mac_lo
inline constexpr Field kMacLoFields[] = {mac_lo::kMac0, mac_lo::kMac1, mac_lo::kMac2, mac_lo::kMac3};

namespace mac_hi {
inline constexpr Field kMac4{"MAC4", 0, 8, "Fifth octet."};
inline constexpr Field kMac5{"MAC5", 8, 8, "Sixth octet."};
}  // namespace mac_hi
inline constexpr Field kMacHiFields[] = {mac_hi::kMac4, mac_hi::kMac5};

namespace rx_ctrl {
inline constexpr Field kPromisc{"PROMISC", 0, 1, "Accept every frame whatever its destination."};
inline constexpr Field kAllmulti{"ALLMULTI", 1, 1, "Accept every multicast frame."};
inline constexpr Field kBcast{"BCAST", 2, 1, "Accept broadcast frames."};
inline constexpr Field kRxFcs{"RX_FCS", 3, 1,
                              "Keep the 4-byte FCS at the end of received data (ethtool rx-fcs)."};
inline constexpr Field kRxAll{
    "RX_ALL", 4, 1, "Deliver frames with a bad FCS or length, flagged in the descriptor (ethtool rx-all)."};
}  // namespace rx_ctrl
inline constexpr Field kRxCtrlFields[] = {rx_ctrl::kPromisc, rx_ctrl::kAllmulti, rx_ctrl::kBcast,
                                          rx_ctrl::kRxFcs, rx_ctrl::kRxAll};

namespace max_frame {
inline constexpr Field kSize{"SIZE", 0, 14,
                             "Largest frame accepted or sent, in bytes including the FCS (64..9022)."};
}  // namespace max_frame
inline constexpr Field kMaxFrameFields[] = {max_frame::kSize};

namespace hash_lo {
inline constexpr Field kHash{"HASH", 0, 32, "Multicast hash filter bits 31:0."};
}  // namespace hash_lo
inline constexpr Field kHashLoFields[] = {hash_lo::kHash};

namespace hash_hi {
inline constexpr Field kHash{"HASH", 0, 32, "Multicast hash filter bits 63:32."};
}  // namespace hash_hi
inline constexpr Field kHashHiFields[] = {hash_hi::kHash};

namespace ring_base_lo {
inline constexpr Field kBaseLo{"BASE_LO", 0, 32, "Ring base bits 31:0; must be 16-byte aligned."};
}  // namespace ring_base_lo
inline constexpr Field kRingBaseLoFields[] = {ring_base_lo::kBaseLo};

namespace ring_base_hi {
inline constexpr Field kBaseHi{"BASE_HI", 0, 32, "Ring base bits 63:32."};
}  // namespace ring_base_hi
inline constexpr Field kRingBaseHiFields[] = {ring_base_hi::kBaseHi};

namespace ring_size {
inline constexpr Field kSize{"SIZE", 0, 13, "Ring size in descriptors: a power of two, 8..4096."};
}  // namespace ring_size
inline constexpr Field kRingSizeFields[] = {ring_size::kSize};

namespace head {
inline constexpr Field kHead{"HEAD", 0, 12, "Next descriptor the device will use (device-owned)."};
}  // namespace head
inline constexpr Field kHeadFields[] = {head::kHead};

namespace tail {
inline constexpr Field kTail{
    "TAIL", 0, 13,
    "One past the last descriptor handed to the device (doorbell). While the queue runs it may "
    "only move forward: a value behind the current tail (or >= the size) is ignored and counted."};
}  // namespace tail
inline constexpr Field kTailFields[] = {tail::kTail};

namespace buf_size {
inline constexpr Field kSize{"SIZE", 0, 16,
                             "RX buffer size in bytes (64..16384); a longer frame is a length error."};
}  // namespace buf_size
inline constexpr Field kBufSizeFields[] = {buf_size::kSize};

namespace q_ctrl {
inline constexpr Field kEnable{
    "ENABLE", 0, 1,
    "Start the queue from slot 0 (ring registers and the tail are checked here); clear to "
    "stop it and revoke its work in flight (fetches, frames not yet on the wire, writes not yet landed)."};
}  // namespace q_ctrl
inline constexpr Field kQCtrlFields[] = {q_ctrl::kEnable};

namespace q_status {
inline constexpr Field kRunning{"RUNNING", 0, 1, "The queue is enabled and has no error."};
inline constexpr Field kError{"ERROR", 1, 1, "The queue stopped on an error; only a soft reset restarts it."};
inline constexpr Field kErrCode{
    "ERR_CODE", 8, 8,
    "Why: 1 DMA refused, 2 bad ring configuration (size, base, buffer size, or tail >= size)."};
}  // namespace q_status
inline constexpr Field kQStatusFields[] = {q_status::kRunning, q_status::kError, q_status::kErrCode};

namespace usecs {
inline constexpr Field kUsecs{"USECS", 0, 16,
                              "Interrupt moderation time in microseconds; what it times depends on MODE (0: off)."};
inline constexpr Field kMode{
    "MODE", 16, 2,
    "Moderation rule (docs/hw.md): 0 timer from the first completion after an interrupt, with FRAMES; "
    "1 minimum interval between interrupts (ITR); 2 packet timer restarted by every completion, bounded by "
    "*_ABS_USECS (RDTR/RADV). 3 is reserved: the write is refused (mmio_errors, ERR_CAUSE.MMIO)."};
// MODE's values (model::IrqModerator::Mode has the same numbering).
inline constexpr uint32_t kModeFirstCompletion = 0, kModeMinInterval = 1, kModePacketTimer = 2;
}  // namespace usecs
inline constexpr Field kUsecsFields[] = {usecs::kUsecs, usecs::kMode};

namespace abs_usecs {
inline constexpr Field kAbsUsecs{"ABS_USECS", 0, 16,
                                 "MODE 2 only: the most an interrupt is delayed after the first completion "
                                 "since the last one, in microseconds (0: no bound)."};
}  // namespace abs_usecs
inline constexpr Field kAbsUsecsFields[] = {abs_usecs::kAbsUsecs};

namespace frames {
inline constexpr Field kFrames{"FRAMES", 0, 16,
                               "Interrupt after this many completions (0: off; 1: every completion)."};
}  // namespace frames
inline constexpr Field kFramesFields[] = {frames::kFrames};

namespace vec_count {
inline constexpr Field kCount{"COUNT", 0, 32, "Interrupts raised on this vector since reset (wraps)."};
}  // namespace vec_count
inline constexpr Field kVecCountFields[] = {vec_count::kCount};

namespace stat {
inline constexpr Field kValue{"VALUE", 0, 32, "Counter half (see the counter table)."};
}  // namespace stat
inline constexpr Field kStatFields[] = {stat::kValue};

namespace msix_addr_lo {
inline constexpr Field kAddrLo{"ADDR_LO", 2, 30, "Message address bits 31:2 (bits 1:0 read 0)."};
}  // namespace msix_addr_lo
inline constexpr Field kMsixAddrLoFields[] = {msix_addr_lo::kAddrLo};

namespace msix_addr_hi {
inline constexpr Field kAddrHi{"ADDR_HI", 0, 32, "Message address bits 63:32."};
}  // namespace msix_addr_hi
inline constexpr Field kMsixAddrHiFields[] = {msix_addr_hi::kAddrHi};

namespace msix_data {
inline constexpr Field kData{"DATA", 0, 32, "Message data, written as 4 bytes."};
}  // namespace msix_data
inline constexpr Field kMsixDataFields[] = {msix_data::kData};

namespace msix_vctrl {
inline constexpr Field kMask{"MASK", 0, 1, "Vector masked: a message waits in the PBA."};
}  // namespace msix_vctrl
inline constexpr Field kMsixVctrlFields[] = {msix_vctrl::kMask};

namespace msix_pba {
inline constexpr Field kPending{"PENDING", 0, kMaxVectors, "Bit v: vector v has a message held back by a mask."};
}  // namespace msix_pba
inline constexpr Field kMsixPbaFields[] = {msix_pba::kPending};

// ---------------------------------------------------------------- queue error codes
enum class QueueErr : uint8_t { None = 0, Dma = 1, RingCfg = 2 };

// ---------------------------------------------------------------- statistics counters
// 64-bit, not cleared on read nor by a soft reset (zero at power-on). Names are ethtool -S names.
#define VNIC_STAT_COUNTERS(X)                                                                     \
  X(rx_packets, "Frames delivered to host memory.")                                               \
  X(rx_bytes, "Bytes delivered to host memory (without FCS unless RX_FCS).")                      \
  X(tx_packets, "Frames sent on the wire.")                                                       \
  X(tx_bytes, "Bytes sent on the wire (frame without preamble, with FCS).")                       \
  X(rx_broadcast, "Broadcast frames delivered.")                                                  \
  X(rx_multicast, "Multicast frames delivered.")                                                  \
  X(rx_crc_errors, "Frames dropped for a bad FCS.")                                               \
  X(rx_length_errors, "Frames dropped as runt, oversize, or larger than the RX buffer.")          \
  X(rx_filtered, "Frames dropped by the MAC address filter.")                                     \
  X(rx_missed_errors, "Frames dropped: no free RX descriptor.")                                   \
  X(rx_dma_errors, "Frames dropped: their RX data or write-back DMA was refused (queue stopped).") \
  X(rx_dropped_disabled, "Frames dropped: device or RX queue not running, or revoked by a queue disable or reset before their write-back landed.") \
  X(tx_desc_errors, "Frames dropped: malformed TX descriptor chain.")                             \
  X(tx_dma_errors, "Frames dropped: their TX data fetch was refused (queue stopped).")           \
  X(desc_dma_errors, "Descriptor fetches or write-backs refused by host memory (queue stopped).") \
  X(tx_dropped_link_down, "Frames dropped: link down at transmit.")                               \
  X(tail_errors, "Tail writes beyond the ring size, or moving the tail backwards (ignored).")      \
  X(ring_cfg_errors, "Queue enables refused: bad ring size, base, buffer size, or a tail beyond the size.") \
  X(mmio_errors, "MMIO accesses refused (not 4 bytes, unaligned, no register) or bad values.")    \
  X(mmio_ro_writes, "Writes to read-only registers (ignored).")                                   \
  X(mmio_disabled, "MMIO accesses refused: Memory Space Enable is off in the command register.")  \
  X(mmio_in_reset, "Register writes ignored: a soft reset was still in progress (RESET_DONE 0).")  \
  X(dma_no_bme, "DMA transfers and interrupt messages refused: Bus Master Enable is off.")        \
  X(irq_no_msix, "Interrupts not sent: MSI-X is disabled in its capability.")                    \
  X(irq_msg_errors, "Interrupt messages refused by the host (bad message address).")             \
  X(irq_rx, "RX completion interrupts raised.")                                                   \
  X(irq_tx, "TX completion interrupts raised.")                                                   \
  X(irq_misc, "Link/error interrupts raised.")                                                    \
  X(dma_rd_tlps, "DMA read requests issued.")                                                     \
  X(dma_rd_bytes, "DMA bytes read.")                                                              \
  X(dma_wr_tlps, "DMA write requests (posted) issued.")                                           \
  X(dma_wr_bytes, "DMA bytes written.")                                                           \
  X(tx_dropped_disabled, "Frames dropped: fetched but revoked by a TX queue disable or a reset before they left.") \
  X(dma_reentry, "Device accesses refused: they arrived while the device was inside its own DMA (peer-to-peer to its BAR).")

enum class Stat : uint16_t {
#define X(name, doc) name,
  VNIC_STAT_COUNTERS(X)
#undef X
      kCount
};
inline constexpr unsigned kNumStats = static_cast<unsigned>(Stat::kCount);

// The counters in which the device counts a frame it drops (each dropped frame in exactly one).
inline constexpr Stat kTxDropStats[] = {Stat::tx_desc_errors, Stat::tx_dma_errors, Stat::tx_dropped_link_down,
                                        Stat::tx_dropped_disabled};
inline constexpr Stat kRxDropStats[] = {Stat::rx_crc_errors,    Stat::rx_length_errors, Stat::rx_filtered,
                                        Stat::rx_missed_errors, Stat::rx_dma_errors,    Stat::rx_dropped_disabled};

struct StatInfo {
  std::string_view name;
  std::string_view doc;
};
inline constexpr StatInfo kStatInfo[] = {
#define X(name, doc) {#name, doc},
    VNIC_STAT_COUNTERS(X)
#undef X
};

// ---------------------------------------------------------------- the registers
inline constexpr uint32_t kQpBase = 0x1000;
inline constexpr uint32_t kQpStride = 0x100;
inline constexpr uint32_t kVecBase = 0x0100;
inline constexpr uint32_t kStatBase = 0x4000;
inline constexpr uint32_t kMsixTableBase = 0x6000;  // 16 bytes a vector (PCI MSI-X table layout)
inline constexpr uint32_t kMsixPbaBase = 0x7000;
inline constexpr uint16_t kQp = kMaxQueuePairs;

inline constexpr Reg kId{"ID", 0x0000, Access::RO, kDeviceId, kIdFields, "Device identifier."};
inline constexpr Reg kVersionReg{"VERSION", 0x0004, Access::RO, kVersion, kVersionFields,
                                 "Register map version."};
inline constexpr Reg kCtrl{"CTRL", 0x0008, Access::RW, 0, kCtrlFields, "Device control."};
inline constexpr Reg kStatus{"STATUS", 0x000C, Access::RO, 0x10, kStatusFields,
                             "Device status (RESET_DONE is set after power-on)."};
inline constexpr Reg kCap{"CAP", 0x0010, Access::RO, 0, kCapFields,
                          "Capabilities; the reset value depends on the instance (NUM_QP, NUM_VEC)."};
inline constexpr Reg kIcr{"ICR", 0x0020, Access::W1C, 0, kIcrFields,
                          "Interrupt cause; write 1 to clear a bit."};
inline constexpr Reg kImask{"IMASK", 0x0024, Access::RO, 0, kImaskFields,
                            "Vector mask (1 = masked). Pending work is kept while masked and fires on unmask."};
inline constexpr Reg kImaskSet{"IMASK_SET", 0x0028, Access::WO, 0, kImaskFields,
                               "Write 1 to mask vector v."};
inline constexpr Reg kImaskClr{"IMASK_CLR", 0x002C, Access::WO, 0, kImaskFields,
                               "Write 1 to unmask vector v; pending completions then fire."};
inline constexpr Reg kErrCause{"ERR_CAUSE", 0x0030, Access::W1C, 0, kErrCauseFields,
                               "Latched error causes; write 1 to clear."};
inline constexpr Reg kErrAddrLo{"ERR_ADDR_LO", 0x0034, Access::RO, 0, kAddrLoFields,
                                "Host address of the first failed DMA since the last reset."};
inline constexpr Reg kErrAddrHi{"ERR_ADDR_HI", 0x0038, Access::RO, 0, kAddrHiFields,
                                "High half of ERR_ADDR."};
inline constexpr Reg kMacLo{"MAC_LO", 0x0040, Access::RW, 0, kMacLoFields,
                            "Station MAC address, octets 0-3.",
                            1, 0, ResetSrc::PermMacLo};
inline constexpr Reg kMacHi{"MAC_HI", 0x0044, Access::RW, 0, kMacHiFields,
                            "Station MAC address, octets 4-5.",
                            1, 0, ResetSrc::PermMacHi};
inline constexpr Reg kRxCtrl{"RX_CTRL", 0x0048, Access::RW, 0x4, kRxCtrlFields,
                             "Receive filter and FCS handling."};
inline constexpr Reg kMaxFrame{"MAX_FRAME", 0x004C, Access::RW, kDefaultMaxFrame, kMaxFrameFields,
                               "Maximum frame size; a write outside 64..9022 is ignored and counted."};
inline constexpr Reg kMcHashLo{"MC_HASH_LO", 0x0050, Access::RW, 0, kHashLoFields,
                               "Multicast hash filter, bits 31:0 (see mc_hash_index)."};
inline constexpr Reg kMcHashHi{"MC_HASH_HI", 0x0054, Access::RW, 0, kHashHiFields,
                               "Multicast hash filter, bits 63:32."};
inline constexpr Reg kVecCount{"VEC_COUNT", kVecBase, Access::RO, 0, kVecCountFields,
                               "Per-vector interrupt count.", kMaxVectors, 4};

inline constexpr Reg kRxqBaseLo{"RXQ_BASE_LO", kQpBase + 0x00, Access::RW, 0, kRingBaseLoFields,
                                "RX ring base, low half.", kQp, kQpStride};
inline constexpr Reg kRxqBaseHi{"RXQ_BASE_HI", kQpBase + 0x04, Access::RW, 0, kRingBaseHiFields,
                                "RX ring base, high half.", kQp, kQpStride};
inline constexpr Reg kRxqSize{"RXQ_SIZE", kQpBase + 0x08, Access::RW, 0, kRingSizeFields,
                              "RX ring size in descriptors.", kQp, kQpStride};
inline constexpr Reg kRxqHead{"RXQ_HEAD", kQpBase + 0x0C, Access::RO, 0, kHeadFields,
                              "RX head: next descriptor the device fills.", kQp, kQpStride};
inline constexpr Reg kRxqTail{"RXQ_TAIL", kQpBase + 0x10, Access::RW, 0, kTailFields,
                              "RX tail doorbell: descriptors up to tail-1 are free buffers.", kQp, kQpStride};
inline constexpr Reg kRxqBufSize{"RXQ_BUF_SIZE", kQpBase + 0x14, Access::RW, kDefaultRxBufSize,
                                 kBufSizeFields, "RX buffer size.", kQp, kQpStride};
inline constexpr Reg kRxqCtrl{"RXQ_CTRL", kQpBase + 0x18, Access::RW, 0, kQCtrlFields,
                              "RX queue control.", kQp, kQpStride};
inline constexpr Reg kRxqStatus{"RXQ_STATUS", kQpBase + 0x1C, Access::RO, 0, kQStatusFields,
                                "RX queue status.", kQp, kQpStride};
inline constexpr Reg kRxUsecs{"RX_USECS", kQpBase + 0x20, Access::RW, 0, kUsecsFields,
                              "ethtool rx-usecs.", kQp, kQpStride};
inline constexpr Reg kRxFrames{"RX_FRAMES", kQpBase + 0x24, Access::RW, 0, kFramesFields,
                               "ethtool rx-frames.", kQp, kQpStride};
inline constexpr Reg kRxAbsUsecs{"RX_ABS_USECS", kQpBase + 0x28, Access::RW, 0, kAbsUsecsFields,
                                 "RX packet timer's absolute bound (e1000 RADV).", kQp, kQpStride};
inline constexpr Reg kTxqBaseLo{"TXQ_BASE_LO", kQpBase + 0x40, Access::RW, 0, kRingBaseLoFields,
                                "TX ring base, low half.", kQp, kQpStride};
inline constexpr Reg kTxqBaseHi{"TXQ_BASE_HI", kQpBase + 0x44, Access::RW, 0, kRingBaseHiFields,
                                "TX ring base, high half.", kQp, kQpStride};
inline constexpr Reg kTxqSize{"TXQ_SIZE", kQpBase + 0x48, Access::RW, 0, kRingSizeFields,
                              "TX ring size in descriptors.", kQp, kQpStride};
inline constexpr Reg kTxqHead{"TXQ_HEAD", kQpBase + 0x4C, Access::RO, 0, kHeadFields,
                              "TX head: next descriptor the device reads.", kQp, kQpStride};
inline constexpr Reg kTxqTail{"TXQ_TAIL", kQpBase + 0x50, Access::RW, 0, kTailFields,
                              "TX tail doorbell: descriptors up to tail-1 are ready to send.", kQp, kQpStride};
inline constexpr Reg kTxqCtrl{"TXQ_CTRL", kQpBase + 0x58, Access::RW, 0, kQCtrlFields,
                              "TX queue control.", kQp, kQpStride};
inline constexpr Reg kTxqStatus{"TXQ_STATUS", kQpBase + 0x5C, Access::RO, 0, kQStatusFields,
                                "TX queue status.", kQp, kQpStride};
inline constexpr Reg kTxUsecs{"TX_USECS", kQpBase + 0x60, Access::RW, 0, kUsecsFields,
                              "ethtool tx-usecs.", kQp, kQpStride};
inline constexpr Reg kTxFrames{"TX_FRAMES", kQpBase + 0x64, Access::RW, 0, kFramesFields,
                               "ethtool tx-frames.", kQp, kQpStride};
inline constexpr Reg kTxAbsUsecs{"TX_ABS_USECS", kQpBase + 0x68, Access::RW, 0, kAbsUsecsFields,
                                 "TX packet timer's absolute bound (e1000 TADV).", kQp, kQpStride};

inline constexpr Reg kStatLo{"STAT_LO", kStatBase + 0x0, Access::RO, 0, kStatFields,
                             "Counter i, bits 31:0; reading it latches bits 63:32 into STAT_HI[i]. Kept by CTRL.RST.",
                             kNumStats, 8};
inline constexpr Reg kStatHi{"STAT_HI", kStatBase + 0x4, Access::RO, 0, kStatFields,
                             "Counter i, bits 63:32, as latched by the last read of STAT_LO[i].",
                             kNumStats, 8};

inline constexpr Reg kMsixAddrLo{"MSIX_ADDR_LO", kMsixTableBase + 0x0, Access::RW, 0, kMsixAddrLoFields,
                                 "MSI-X table: message address, low half.", kMaxVectors, 16, ResetSrc::Keep};
inline constexpr Reg kMsixAddrHi{"MSIX_ADDR_HI", kMsixTableBase + 0x4, Access::RW, 0, kMsixAddrHiFields,
                                 "MSI-X table: message address, high half.", kMaxVectors, 16, ResetSrc::Keep};
inline constexpr Reg kMsixData{"MSIX_DATA", kMsixTableBase + 0x8, Access::RW, 0, kMsixDataFields,
                               "MSI-X table: message data.", kMaxVectors, 16, ResetSrc::Keep};
inline constexpr Reg kMsixVctrl{"MSIX_VCTRL", kMsixTableBase + 0xC, Access::RW, 1, kMsixVctrlFields,
                                "MSI-X table: vector control (masked at power-on).", kMaxVectors, 16,
                                ResetSrc::Keep};
inline constexpr Reg kMsixPba{"MSIX_PBA", kMsixPbaBase, Access::RO, 0, kMsixPbaFields,
                              "MSI-X pending bit array.", 1, 0, ResetSrc::Keep};

inline constexpr const Reg* kAll[] = {
    &kId,       &kVersionReg, &kCtrl,      &kStatus,    &kCap,       &kIcr,       &kImask,
    &kImaskSet, &kImaskClr,   &kErrCause,  &kErrAddrLo, &kErrAddrHi, &kMacLo,     &kMacHi,
    &kRxCtrl,   &kMaxFrame,   &kMcHashLo,  &kMcHashHi,  &kVecCount,  &kRxqBaseLo, &kRxqBaseHi,
    &kRxqSize,  &kRxqHead,    &kRxqTail,   &kRxqBufSize, &kRxqCtrl,  &kRxqStatus, &kRxUsecs,
    &kRxFrames, &kRxAbsUsecs, &kTxqBaseLo,  &kTxqBaseHi, &kTxqSize,   &kTxqHead,   &kTxqTail,   &kTxqCtrl,
    &kTxqStatus, &kTxUsecs,   &kTxFrames,  &kTxAbsUsecs, &kStatLo,    &kStatHi,    &kMsixAddrLo, &kMsixAddrHi,
    &kMsixData, &kMsixVctrl,  &kMsixPba,
};

inline constexpr std::size_t kNumRegs = std::size(kAll);
// A register's position in kAll (its id: dispatch tables are indexed by it).
constexpr std::size_t id_of(const Reg& r) {
  for (std::size_t i = 0; i < kNumRegs; ++i) {
    if (kAll[i] == &r) return i;
  }
  return kNumRegs;
}

// A decoded MMIO address: which register (and its id), which element of an array.
struct Hit {
  const Reg* reg;
  unsigned index;
  uint16_t id = 0;
};
// Finds the register at a byte offset in BAR0; nullopt if no register starts there.
std::optional<Hit> find(uint32_t offset);

// Vector and ICR helpers.
constexpr uint32_t icr_rx_bit(unsigned qp) { return 1u << (icr::kRxq.lsb + qp); }
constexpr uint32_t icr_tx_bit(unsigned qp) { return 1u << (icr::kTxq.lsb + qp); }
inline constexpr uint32_t kIcrLink = icr::kLink.mask();
inline constexpr uint32_t kIcrErr = icr::kErr.mask();

}  // namespace vnic::model::regs

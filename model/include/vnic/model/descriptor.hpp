// RX/TX descriptor layouts: 16 bytes, little endian, explicit encode/decode (docs/descriptors.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vnic/model/bytes.hpp"

namespace vnic::model {

inline constexpr std::size_t kDescSize = 16;
using DescBytes = std::span<uint8_t, kDescSize>;
using ConstDescBytes = std::span<const uint8_t, kDescSize>;

// TX descriptor, written by the driver. After the frame has left the wire (or was dropped), the
// device writes back the frame's last (EOP) descriptor with DD set if that descriptor has RS;
// RS on other descriptors is ignored. The device's TXQ_HEAD also tells how far it got.
//   bytes 0..7   buf_addr  host address of the data
//   bytes 8..9   length    bytes in this buffer (1..16383)
//   byte  10     cmd       bit 0 EOP (last buffer of the frame), bit 1 RS (report status)
//   byte  11     reserved (0)
//   byte  12     status    bit 0 DD (descriptor done), written back by the device
//   byte  13     errors    bit 0 DESC (frame dropped: malformed chain), bit 1 DMA
//   bytes 14..15 reserved (0)
struct TxDesc {
  static constexpr uint8_t kCmdEop = 1u << 0;
  static constexpr uint8_t kCmdRs = 1u << 1;
  static constexpr uint8_t kStaDd = 1u << 0;
  static constexpr uint8_t kErrDesc = 1u << 0;
  static constexpr uint8_t kErrDma = 1u << 1;

  uint64_t buf_addr = 0;
  uint16_t length = 0;
  uint8_t cmd = 0;
  uint8_t status = 0;
  uint8_t errors = 0;

  bool eop() const { return (cmd & kCmdEop) != 0; }
  bool rs() const { return (cmd & kCmdRs) != 0; }
  bool done() const { return (status & kStaDd) != 0; }
  bool operator==(const TxDesc&) const = default;
};

// RX descriptor. The driver writes buf_addr and zeroes the rest; the device writes back in place:
//   bytes 0..7   buf_addr  host address of an RX buffer of RXQ_BUF_SIZE bytes (kept on write-back)
//   bytes 8..9   length    bytes written to the buffer
//   bytes 10..11 status    bit 0 DD, bit 1 EOP, bit 2 BCAST, bit 3 MCAST, bit 4 FCS (data keeps FCS)
//   bytes 12..13 errors    bit 0 FCS (bad CRC), bit 1 LENGTH (runt/oversize; only with RX_ALL)
//   bytes 14..15 reserved (0)
struct RxDesc {
  static constexpr uint16_t kStaDd = 1u << 0;
  static constexpr uint16_t kStaEop = 1u << 1;
  static constexpr uint16_t kStaBcast = 1u << 2;
  static constexpr uint16_t kStaMcast = 1u << 3;
  static constexpr uint16_t kStaFcs = 1u << 4;
  static constexpr uint16_t kErrFcs = 1u << 0;
  static constexpr uint16_t kErrLength = 1u << 1;

  uint64_t buf_addr = 0;
  uint16_t length = 0;
  uint16_t status = 0;
  uint16_t errors = 0;

  bool done() const { return (status & kStaDd) != 0; }
  bool operator==(const RxDesc&) const = default;
};

// The codecs: every byte written explicitly, reserved bytes zero. Inline, as two 64-bit
// little-endian words: they run for every descriptor fetched, written back and polled.
inline void encode(const TxDesc& d, DescBytes out) {
  store_le<uint64_t>(out, 0, d.buf_addr);
  store_le<uint64_t>(out, 8, uint64_t{d.length} | uint64_t{d.cmd} << 16 | uint64_t{d.status} << 32 |
                                 uint64_t{d.errors} << 40);
}

inline void encode(const RxDesc& d, DescBytes out) {
  store_le<uint64_t>(out, 0, d.buf_addr);
  store_le<uint64_t>(out, 8, uint64_t{d.length} | uint64_t{d.status} << 16 | uint64_t{d.errors} << 32);
}

inline TxDesc decode_tx(ConstDescBytes in) {
  const uint64_t hi = load_le<uint64_t>(in, 8);
  TxDesc d;
  d.buf_addr = load_le<uint64_t>(in, 0);
  d.length = static_cast<uint16_t>(hi);
  d.cmd = static_cast<uint8_t>(hi >> 16);
  d.status = static_cast<uint8_t>(hi >> 32);
  d.errors = static_cast<uint8_t>(hi >> 40);
  return d;
}

inline RxDesc decode_rx(ConstDescBytes in) {
  const uint64_t hi = load_le<uint64_t>(in, 8);
  RxDesc d;
  d.buf_addr = load_le<uint64_t>(in, 0);
  d.length = static_cast<uint16_t>(hi);
  d.status = static_cast<uint16_t>(hi >> 16);
  d.errors = static_cast<uint16_t>(hi >> 32);
  return d;
}

}  // namespace vnic::model

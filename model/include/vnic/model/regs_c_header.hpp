// Renders the register table and the descriptor layouts as a C99 header for drivers written in C
// (docs/vnic_regs.h is regmap_c_header()'s output, printed by `vnic regmap --c-header`; it is
// implemented in regmap_doc.cpp next to the Markdown).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vnic/model/descriptor.hpp"

namespace vnic::model {

// A descriptor field's place in the 16 bytes (little endian), as encode()/decode_*() put it;
// a test checks these against the codecs.
struct DescFieldLayout {
  std::string_view name;
  uint8_t offset;
  uint8_t size;  // bytes
  std::string_view doc;
};
inline constexpr DescFieldLayout kTxDescLayout[] = {
    {"BUF_ADDR", 0, 8, "Host address of the data."},
    {"LENGTH", 8, 2, "Bytes in this buffer (1..16383)."},
    {"CMD", 10, 1, "Written by the driver: EOP, RS."},
    {"STATUS", 12, 1, "Written back by the device: DD."},
    {"ERRORS", 13, 1, "Written back by the device: DESC, DMA."},
};
inline constexpr DescFieldLayout kRxDescLayout[] = {
    {"BUF_ADDR", 0, 8, "Host address of an RX buffer of RXQ_BUF_SIZE bytes (kept on write-back)."},
    {"LENGTH", 8, 2, "Written back: bytes written to the buffer."},
    {"STATUS", 10, 2, "Written back: DD, EOP, BCAST, MCAST, FCS."},
    {"ERRORS", 12, 2, "Written back: FCS, LENGTH."},
};

// A flag bit inside a descriptor field (the TxDesc/RxDesc constants, by name).
struct DescFlag {
  std::string_view field;  // a DescFieldLayout name
  std::string_view name;
  uint16_t value;
  std::string_view doc;
};
inline constexpr DescFlag kTxDescFlags[] = {
    {"CMD", "EOP", TxDesc::kCmdEop, "Last buffer of the frame."},
    {"CMD", "RS", TxDesc::kCmdRs, "Report status: write back DD (honoured on the EOP descriptor)."},
    {"STATUS", "DD", TxDesc::kStaDd, "Descriptor done."},
    {"ERRORS", "DESC", TxDesc::kErrDesc, "Frame dropped: malformed descriptor chain."},
    {"ERRORS", "DMA", TxDesc::kErrDma, "Frame dropped: its data fetch was refused."},
};
inline constexpr DescFlag kRxDescFlags[] = {
    {"STATUS", "DD", RxDesc::kStaDd, "Descriptor done."},
    {"STATUS", "EOP", RxDesc::kStaEop, "Last buffer of the frame."},
    {"STATUS", "BCAST", RxDesc::kStaBcast, "Broadcast destination."},
    {"STATUS", "MCAST", RxDesc::kStaMcast, "Multicast destination."},
    {"STATUS", "FCS", RxDesc::kStaFcs, "The data ends with the 4-byte FCS (RX_CTRL.RX_FCS)."},
    {"ERRORS", "FCS", RxDesc::kErrFcs, "Bad CRC (delivered only with RX_CTRL.RX_ALL)."},
    {"ERRORS", "LENGTH", RxDesc::kErrLength, "Runt or oversize (delivered only with RX_CTRL.RX_ALL)."},
};

}  // namespace vnic::model

namespace vnic::model::regs {

std::string regmap_c_header();

}  // namespace vnic::model::regs

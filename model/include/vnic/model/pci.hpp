// PCI configuration space of the vnic function: IDs, command bits, BAR0 and the capability
// list, as the platform's enumeration and the driver's probe read them (docs/pci.md).
#pragma once

#include <cstdint>

namespace vnic::model::pci {

// Not assigned by the PCI-SIG: chosen so that no real driver binds to the model.
inline constexpr uint16_t kVendorId = 0x7E57;
inline constexpr uint16_t kDeviceId = 0x0E10;
inline constexpr uint8_t kRevision = 0x01;
inline constexpr uint32_t kClassCode = 0x020000;  // network controller, Ethernet
inline constexpr uint32_t kConfigSize = 4096;     // PCIe extended configuration space

// Header offsets (type 0).
inline constexpr uint32_t kVendorDevice = 0x00;
inline constexpr uint32_t kCommandStatus = 0x04;
inline constexpr uint32_t kClassRevision = 0x08;
inline constexpr uint32_t kHeaderType = 0x0C;
inline constexpr uint32_t kBar0Lo = 0x10;
inline constexpr uint32_t kBar0Hi = 0x14;
inline constexpr uint32_t kSubsystem = 0x2C;
inline constexpr uint32_t kCapPtr = 0x34;
inline constexpr uint32_t kInterrupt = 0x3C;

// Command register bits.
inline constexpr uint16_t kCmdMemorySpace = 1u << 1;  // MSE: BAR0 decodes MMIO
inline constexpr uint16_t kCmdBusMaster = 1u << 2;    // BME: the function may issue DMA
inline constexpr uint16_t kCmdIntxDisable = 1u << 10;
inline constexpr uint16_t kCmdWritable = kCmdMemorySpace | kCmdBusMaster | kCmdIntxDisable;
inline constexpr uint32_t kStatusCapList = 1u << 20;  // bit 4 of Status = bit 20 of the dword

// BAR0: 64-bit, non-prefetchable memory BAR (bits 2:1 = 10b).
inline constexpr uint32_t kBar0Flags = 0x4;

// MSI-X capability (the only one in the list), at 0x40:
//   0x40  bits 7:0 capability ID 0x11, 15:8 next 0, 26:16 table size - 1,
//         bit 30 Function Mask, bit 31 MSI-X Enable (the two writable bits)
//   0x44  table offset | BIR (BAR0 + 0x6000)
//   0x48  PBA offset | BIR (BAR0 + 0x7000)
inline constexpr uint32_t kCapMsix = 0x40;
inline constexpr uint32_t kMsixTable = 0x44;
inline constexpr uint32_t kMsixPba = 0x48;
inline constexpr uint8_t kCapIdMsix = 0x11;
inline constexpr uint32_t kMsixEnable = 1u << 31;
inline constexpr uint32_t kMsixFunctionMask = 1u << 30;

}  // namespace vnic::model::pci

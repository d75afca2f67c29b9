// PCI enumeration of a vnic function.
#include "vnic/tb/pci_enum.hpp"

#include <fmt/format.h>

#include "vnic/model/pci.hpp"

namespace vnic::tb {

bool enumerate(hw::Nic& nic, uint64_t bar0_base, PciFunction* out, std::string* why) {
  namespace pci = model::pci;
  PciFunction f;
  const uint32_t id = nic.cfg_read32(pci::kVendorDevice);
  f.vendor = static_cast<uint16_t>(id);
  f.device = static_cast<uint16_t>(id >> 16);
  f.class_code = nic.cfg_read32(pci::kClassRevision) >> 8;
  if (f.vendor != pci::kVendorId || f.device != pci::kDeviceId) {
    if (why) *why = fmt::format("not a vnic function: {:04x}:{:04x}", f.vendor, f.device);
    return false;
  }
  // Size BAR0: write all ones, read back the writable bits, restore.
  nic.cfg_write32(pci::kBar0Lo, 0xFFFF'FFFF);
  nic.cfg_write32(pci::kBar0Hi, 0xFFFF'FFFF);
  const uint64_t mask = (uint64_t{nic.cfg_read32(pci::kBar0Hi)} << 32) | (nic.cfg_read32(pci::kBar0Lo) & ~0xFu);
  f.bar0_size = ~mask + 1;
  if (f.bar0_size == 0 || (f.bar0_size & (f.bar0_size - 1)) != 0 || bar0_base % f.bar0_size != 0) {
    if (why) *why = fmt::format("BAR0 of size {:#x} cannot be placed at {:#x}", f.bar0_size, bar0_base);
    return false;
  }
  nic.cfg_write32(pci::kBar0Lo, static_cast<uint32_t>(bar0_base));
  nic.cfg_write32(pci::kBar0Hi, static_cast<uint32_t>(bar0_base >> 32));
  f.bar0_base = bar0_base;
  nic.cfg_write32(pci::kCommandStatus, pci::kCmdMemorySpace | pci::kCmdBusMaster | pci::kCmdIntxDisable);
  if (out) *out = f;
  return true;
}

}  // namespace vnic::tb

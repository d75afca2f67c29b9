// Platform enumeration of a vnic function: read its IDs, size and assign BAR0, enable memory
// decoding and bus mastering (what a BIOS/kernel PCI core does before the driver's probe).
#pragma once

#include <cstdint>
#include <string>

#include "vnic/hw/nic.hpp"

namespace vnic::tb {

struct PciFunction {
  uint16_t vendor = 0, device = 0;
  uint32_t class_code = 0;
  uint64_t bar0_base = 0;
  uint64_t bar0_size = 0;
};

// Returns false (and a reason) if the function is not a vnic or its BAR0 cannot be sized.
bool enumerate(hw::Nic& nic, uint64_t bar0_base, PciFunction* out, std::string* why);

}  // namespace vnic::tb

// MsixTable: the function's MSI-X vectors. The table and the pending bit array live in BAR0
// (MSIX_ADDR_LO/HI, MSIX_DATA, MSIX_VCTRL per vector; MSIX_PBA); the capability's Enable and
// Function Mask bits in configuration space. A message is a posted DMA write of the vector's
// data to its address, ordered after every write-back issued before it.
#pragma once

#include <cstdint>

#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/register_file.hpp"

namespace vnic::hw {

class MsixTable {
 public:
  MsixTable(NicCore& core, RegisterFile& rf);

  unsigned num_vectors() const { return core_.cfg.num_qp + 1; }
  // The capability's message control bits (Enable, Function Mask), as configuration space holds them.
  uint32_t control() const { return control_; }
  void write_control(uint32_t v);
  void power_on() { control_ = 0; }

  // Sets `icr_bits` in ICR and signals `vec`: sent now, or held in the PBA while masked, or lost
  // (irq_no_msix) while MSI-X is off, as on a function without INTx.
  void raise(unsigned vec, uint32_t icr_bits);
  // A posted write of a message ended (refused: irq_msg_errors).
  void write_done(const WriteDone& w);

 private:
  void write_vctrl(unsigned vec, uint32_t v, uint32_t raw);
  void release_pending();
  void send(unsigned vec);

  NicCore& core_;
  uint32_t control_ = 0;
};

}  // namespace vnic::hw

// MsixTable: vectors, masking and the pending bit array.
#include "vnic/hw/nic/msix_table.hpp"

#include <array>

#include "vnic/model/bytes.hpp"
#include "vnic/model/pci.hpp"

namespace vnic::hw {

namespace regs = model::regs;
namespace pci = model::pci;
using regs::Stat;

MsixTable::MsixTable(NicCore& core, RegisterFile& rf) : core_(core) {
  rf.on_write<&MsixTable::write_vctrl>(regs::kMsixVctrl, this);
}

void MsixTable::write_control(uint32_t v) {
  const bool was_masked = (control_ & pci::kMsixFunctionMask) != 0;
  control_ = v & (pci::kMsixEnable | pci::kMsixFunctionMask);
  if (was_masked && (control_ & pci::kMsixFunctionMask) == 0) release_pending();
}

void MsixTable::write_vctrl(unsigned vec, uint32_t v, uint32_t) {
  core_.word(regs::kMsixVctrl, vec) = v;
  if (regs::msix_vctrl::kMask.get(v) == 0) release_pending();
}

void MsixTable::raise(unsigned vec, uint32_t icr_bits) {
  core_.word(regs::kIcr, 0) |= icr_bits;
  if ((control_ & pci::kMsixEnable) == 0) {
    core_.bump(Stat::irq_no_msix);  // no INTx either: the interrupt is lost, as on a real function
    return;
  }
  if ((control_ & pci::kMsixFunctionMask) != 0 || regs::msix_vctrl::kMask.get(core_.word(regs::kMsixVctrl, vec)) != 0) {
    core_.word(regs::kMsixPba, 0) |= 1u << vec;  // held back; sent when unmasked
    return;
  }
  send(vec);
}

void MsixTable::release_pending() {
  if ((control_ & pci::kMsixEnable) == 0 || (control_ & pci::kMsixFunctionMask) != 0) return;
  uint32_t& pba = core_.word(regs::kMsixPba, 0);
  for (unsigned vec = 0; vec < num_vectors(); ++vec) {
    if (((pba >> vec) & 1u) != 0 && regs::msix_vctrl::kMask.get(core_.word(regs::kMsixVctrl, vec)) == 0) {
      pba &= ~(1u << vec);
      send(vec);
    }
  }
}

void MsixTable::send(unsigned vec) {
  // Refused like any DMA when bus mastering is off.
  if (!core_.dma.bus_master()) {
    core_.bump(Stat::dma_no_bme);
    return;
  }
  const uint64_t addr = (uint64_t{core_.word(regs::kMsixAddrHi, vec)} << 32) | core_.word(regs::kMsixAddrLo, vec);
  std::array<uint8_t, 4> data{};
  model::store_le<uint32_t>(data, 0, core_.word(regs::kMsixData, vec));
  const DmaResult r = core_.dma.write(addr, data, core_.now_ps(),
                                      WriteTag{WriteKind::Msi, static_cast<uint8_t>(vec)}.pack(), false, 0,
                                      /*quiet=*/true);
  if (!r.ok) {
    core_.bump(Stat::irq_msg_errors);
    return;
  }
  ++core_.word(regs::kVecCount, vec);
  core_.emit(TraceKind::Irq, static_cast<uint8_t>(vec), r.done_ps, r.done_ps, vec, addr, 0);
}

void MsixTable::write_done(const WriteDone& w) {
  if (w.status == WriteStatus::Refused) core_.bump(Stat::irq_msg_errors);
}

}  // namespace vnic::hw

// RegisterFile: the checks every BAR0 access goes through, then the register's handler.
#include "vnic/hw/nic/register_file.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using regs::Stat;

uint32_t RegisterFile::read(const regs::Hit& h) {
  const regs::Reg& r = *h.reg;
  if (r.access == regs::Access::WO) return 0;
  // Per-queue registers of queue pairs this instance does not have are plain storage.
  const Handler<ReadFn>& fn = reads_[h.id];
  if (fn.fn != nullptr && !absent_queue(r, h.index)) return fn.fn(fn.ctx, h.index);
  const uint32_t v = core_.word(r, h.index);
  if (r.access == regs::Access::RC) core_.word(r, h.index) = 0;
  return v;
}

void RegisterFile::write(const regs::Hit& h, uint32_t v) {
  const regs::Reg& r = *h.reg;
  const unsigned i = h.index;
  if (r.access == regs::Access::RO || r.access == regs::Access::RC) {
    core_.bump(Stat::mmio_ro_writes);
    return;
  }
  const uint32_t wv = v & r.writable_mask();
  // While a soft reset runs only another reset is heard; the MSI-X table belongs to the PCI
  // function and is always writable.
  if (core_.in_reset() && r.reset_src != regs::ResetSrc::Keep &&
      !(&r == &regs::kCtrl && regs::ctrl::kRst.get(wv) != 0)) {
    core_.bump(Stat::mmio_in_reset);
    return;
  }
  if (r.access == regs::Access::W1C) {
    core_.word(r, i) &= ~wv;
    return;
  }
  const Handler<WriteFn>& fn = writes_[h.id];
  if (fn.fn != nullptr && !absent_queue(r, i)) {
    fn.fn(fn.ctx, i, wv, v);
    return;
  }
  core_.word(r, i) = wv;
}

void RegisterFile::reset(bool keep_function) {
  for (const regs::Reg* r : regs::kAll) {
    if (r->reset_src == regs::ResetSrc::Keep && keep_function) continue;  // the PCI function's
    for (unsigned i = 0; i < r->count; ++i) {
      uint32_t v = r->reset;
      if (r->reset_src == regs::ResetSrc::PermMacLo) v = core_.cfg.perm_mac.lo_word();
      if (r->reset_src == regs::ResetSrc::PermMacHi) v = core_.cfg.perm_mac.hi_word();
      core_.word(*r, i) = v;
    }
  }
}

}  // namespace vnic::hw

// Interrupts: moderation per queue side, IMASK, the misc vector and error latching.
#include "vnic/hw/nic/interrupts.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using regs::Stat;
using Mod = model::IrqModerator;

Interrupts::Interrupts(NicCore& core, RegisterFile& rf, MsixTable& msix) : core_(core), msix_(msix) {
  sources_.resize(std::size_t{core_.cfg.num_qp} * 2);
  for (unsigned qp = 0; qp < core_.cfg.num_qp; ++qp) {
    for (Dir d : {Dir::Rx, Dir::Tx}) {
      slot(qp, d).qp = static_cast<uint8_t>(qp);
      slot(qp, d).dir = d;
    }
  }
  rf.on_write<&Interrupts::write_imask_set>(regs::kImaskSet, this);
  rf.on_write<&Interrupts::write_imask_clr>(regs::kImaskClr, this);
  rf.on_write<&Interrupts::write_rx_usecs>(regs::kRxUsecs, this);
  rf.on_write<&Interrupts::write_tx_usecs>(regs::kTxUsecs, this);
  rf.on_write<&Interrupts::write_rx_frames>(regs::kRxFrames, this);
  rf.on_write<&Interrupts::write_tx_frames>(regs::kTxFrames, this);
  rf.on_write<&Interrupts::write_rx_abs>(regs::kRxAbsUsecs, this);
  rf.on_write<&Interrupts::write_tx_abs>(regs::kTxAbsUsecs, this);
}

// ---------------------------------------------------------------------------------- moderation

void Interrupts::complete(Source& s, uint32_t n) {
  const uint64_t now = core_.now_ps();
  const Mod::Action a = s.mod.complete(n, now);
  if (a.fire) {
    if (s.fire_ev == NicCore::kNoEvent) {
      s.fire_ev = core_.q.at_ps<&Interrupts::fire_event>(now + core_.cycles_ps(core_.cfg.cycles.irq), this, arg(s));
    }
    return;
  }
  if (a.deadline != Mod::kNever) arm(s, a.deadline);
}

void Interrupts::arm(Source& s, uint64_t deadline) {
  // Lazy: a callback already due no later than the deadline runs first and moves itself on; it
  // is cancelled only when the deadline comes earlier (a shorter usecs).
  if (s.timer_ev != NicCore::kNoEvent && s.timer_ev_ps <= deadline) return;
  core_.cancel(s.timer_ev);
  s.timer_ev = core_.q.at_ps<&Interrupts::timer_event>(deadline, this, arg(s));
  s.timer_ev_ps = deadline;
}

void Interrupts::fire_event(uint64_t a) {
  Source& s = of(a);
  s.fire_ev = NicCore::kNoEvent;
  if (s.mod.pending() > 0) fire(s);
}

void Interrupts::timer_event(uint64_t a) {
  Source& s = of(a);
  s.timer_ev = NicCore::kNoEvent;
  s.timer_ev_ps = NicCore::kNever;
  const Mod::Action act = s.mod.timer(core_.now_ps());
  if (act.fire) {
    fire(s);
  } else if (act.deadline != Mod::kNever) {
    arm(s, act.deadline);  // moved on to a later deadline meanwhile
  }
}

void Interrupts::fire(Source& s) {
  if ((core_.word(regs::kImask, 0) >> s.qp) & 1u) {
    s.fire_pending = true;  // masked: keep the work, fire on unmask
    return;
  }
  s.mod.fired(core_.now_ps());
  s.fire_pending = false;
  const bool tx = s.dir == Dir::Tx;
  core_.bump(tx ? Stat::irq_tx : Stat::irq_rx);
  msix_.raise(s.qp, tx ? regs::icr_tx_bit(s.qp) : regs::icr_rx_bit(s.qp));
}

void Interrupts::cancel(Source& s) {
  core_.cancel(s.fire_ev);
  core_.cancel(s.timer_ev);
  s.timer_ev_ps = NicCore::kNever;
  s.fire_pending = false;
}

void Interrupts::quiesce(unsigned qp, Dir dir) {
  Source& s = slot(qp, dir);
  cancel(s);
  s.mod.reset();
}

void Interrupts::reset() {
  for (Source& s : sources_) {
    cancel(s);
    s.mod.set(Mod::Params{});
    s.mod.reset();
  }
  misc_pending_ = false;
  err_addr_latched_ = false;
}

// ---------------------------------------------------------------------------------- registers

void Interrupts::store(const regs::Reg& r, Dir dir, unsigned qp, uint32_t v) {
  core_.word(r, qp) = v;
  load_params(dir, qp);
}

void Interrupts::write_usecs(Dir dir, unsigned qp, uint32_t v, uint32_t) {
  if (regs::usecs::kMode.get(v) > regs::usecs::kModePacketTimer) {  // reserved mode: refused whole
    core_.bump(Stat::mmio_errors);
    latch_error(regs::err_cause::kMmio.mask(), 0, false);
    return;
  }
  store(dir == Dir::Tx ? regs::kTxUsecs : regs::kRxUsecs, dir, qp, v);
}

void Interrupts::load_params(Dir dir, unsigned qp) {
  const bool tx = dir == Dir::Tx;
  const uint32_t u = core_.word(tx ? regs::kTxUsecs : regs::kRxUsecs, qp);
  Mod::Params p;
  p.mode = static_cast<Mod::Mode>(regs::usecs::kMode.get(u));
  p.usecs = regs::usecs::kUsecs.get(u);
  p.frames = regs::frames::kFrames.get(core_.word(tx ? regs::kTxFrames : regs::kRxFrames, qp));
  p.abs_usecs = regs::abs_usecs::kAbsUsecs.get(core_.word(tx ? regs::kTxAbsUsecs : regs::kRxAbsUsecs, qp));
  slot(qp, dir).mod.set(p);
}

void Interrupts::write_imask_set(unsigned, uint32_t v, uint32_t) { core_.word(regs::kImask, 0) |= v; }

void Interrupts::write_imask_clr(unsigned, uint32_t v, uint32_t) {
  core_.word(regs::kImask, 0) &= ~v;
  unmask(v);
}

void Interrupts::unmask(uint32_t vec_bits) {
  for (unsigned qp = 0; qp < core_.cfg.num_qp; ++qp) {
    if (((vec_bits >> qp) & 1u) == 0) continue;
    for (Dir d : {Dir::Rx, Dir::Tx}) {
      Source& s = slot(qp, d);
      if (s.fire_pending) {
        fire(s);
      } else if (s.mod.pending() > 0) {
        complete(s, 0);  // the rule restarts from the unmask; a count already met fires now
      }
    }
  }
  if (((vec_bits >> misc_vector()) & 1u) != 0 && misc_pending_) {
    misc_pending_ = false;
    core_.bump(Stat::irq_misc);
    msix_.raise(misc_vector(), 0);
  }
}

// ---------------------------------------------------------------------------------- misc

void Interrupts::raise_misc(uint32_t icr_bits) {
  core_.word(regs::kIcr, 0) |= icr_bits;
  if ((core_.word(regs::kImask, 0) >> misc_vector()) & 1u) {
    misc_pending_ = true;
    return;
  }
  core_.bump(Stat::irq_misc);
  msix_.raise(misc_vector(), 0);
}

void Interrupts::latch_error(uint32_t cause_bit, uint64_t addr, bool has_addr) {
  // The error interrupt is raised when a cause becomes pending, not again while the driver has
  // not cleared it (ERR_CAUSE is W1C): a storm of one error is one interrupt, as an ICR is.
  const bool fresh = (core_.word(regs::kErrCause, 0) & cause_bit) == 0;
  core_.word(regs::kErrCause, 0) |= cause_bit;
  if (has_addr) core_.emit(TraceKind::DmaError, 0, core_.now_ps(), core_.now_ps(), cause_bit, addr, 0);
  if (has_addr && !err_addr_latched_) {
    err_addr_latched_ = true;
    core_.word(regs::kErrAddrLo, 0) = static_cast<uint32_t>(addr);
    core_.word(regs::kErrAddrHi, 0) = static_cast<uint32_t>(addr >> 32);
  }
  if (fresh) raise_misc(regs::kIcrErr);
}

}  // namespace vnic::hw

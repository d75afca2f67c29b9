// Interrupts: the cause register's sources and their masking. Each queue's RX and TX side has a
// model::IrqModerator (the rule, pure and unit-tested on its own) with the two callbacks it may
// need on the event queue (its deadline and the fire after the interrupt latency); link and error
// causes go to the misc vector. IMASK masks per vector: a masked source keeps its work and fires
// when unmasked.
#pragma once

#include <cstdint>
#include <vector>

#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/msix_table.hpp"
#include "vnic/hw/nic/register_file.hpp"
#include "vnic/model/irq_moderator.hpp"

namespace vnic::hw {

class Interrupts {
 public:
  Interrupts(NicCore& core, RegisterFile& rf, MsixTable& msix);

  unsigned misc_vector() const { return core_.cfg.num_qp; }
  // `n` completions of queue `qp`'s `dir` side landed now.
  void completion(unsigned qp, Dir dir, uint32_t n) { complete(slot(qp, dir), n); }
  // The queue was disabled or stopped: its pending interrupt goes with its work (settings stay).
  void quiesce(unsigned qp, Dir dir);
  // Soft reset: every source idle, every setting back to its reset value.
  void reset();
  // A link or error cause: ICR bits, and the misc vector unless masked (then on unmask).
  void raise_misc(uint32_t icr_bits);
  // An error cause (ERR_CAUSE bit); the address of a DMA fault is latched once.
  void latch_error(uint32_t cause_bit, uint64_t addr, bool has_addr);

 private:
  struct Source {
    model::IrqModerator mod;
    uint8_t qp = 0;
    Dir dir = Dir::Rx;
    uint64_t timer_ev = NicCore::kNoEvent;  // the scheduled deadline callback, and its time
    uint64_t timer_ev_ps = NicCore::kNever;
    uint64_t fire_ev = NicCore::kNoEvent;   // the scheduled fire callback
    bool fire_pending = false;              // fired while the vector was masked
  };
  Source& slot(unsigned qp, Dir dir) { return sources_[qp * 2 + static_cast<unsigned>(dir)]; }
  static uint64_t arg(const Source& s) { return pack_arg(QueueArg{s.qp, s.dir}); }
  Source& of(uint64_t a) {
    const QueueArg q = unpack_arg<QueueArg>(a);
    return slot(q.qp, q.dir);
  }

  void complete(Source& s, uint32_t n);
  void arm(Source& s, uint64_t deadline);
  void fire_event(uint64_t a);
  void timer_event(uint64_t a);
  void fire(Source& s);
  void cancel(Source& s);

  // Register handlers.
  void write_imask_set(unsigned, uint32_t v, uint32_t);
  void write_imask_clr(unsigned, uint32_t v, uint32_t);
  void write_usecs(Dir dir, unsigned qp, uint32_t v, uint32_t raw);
  void write_rx_usecs(unsigned qp, uint32_t v, uint32_t raw) { write_usecs(Dir::Rx, qp, v, raw); }
  void write_tx_usecs(unsigned qp, uint32_t v, uint32_t raw) { write_usecs(Dir::Tx, qp, v, raw); }
  void write_rx_frames(unsigned qp, uint32_t v, uint32_t) { store(model::regs::kRxFrames, Dir::Rx, qp, v); }
  void write_tx_frames(unsigned qp, uint32_t v, uint32_t) { store(model::regs::kTxFrames, Dir::Tx, qp, v); }
  void write_rx_abs(unsigned qp, uint32_t v, uint32_t) { store(model::regs::kRxAbsUsecs, Dir::Rx, qp, v); }
  void write_tx_abs(unsigned qp, uint32_t v, uint32_t) { store(model::regs::kTxAbsUsecs, Dir::Tx, qp, v); }
  void store(const model::regs::Reg& r, Dir dir, unsigned qp, uint32_t v);
  // The moderator's parameters from its registers (new values apply from the next completion).
  void load_params(Dir dir, unsigned qp);
  void unmask(uint32_t vec_bits);

  NicCore& core_;
  MsixTable& msix_;
  std::vector<Source> sources_;  // [qp * 2 + dir]
  bool misc_pending_ = false;     // a link/error interrupt held back by the mask
  bool err_addr_latched_ = false;
};

}  // namespace vnic::hw

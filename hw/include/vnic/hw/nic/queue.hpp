// Queue state shared by the TX and RX pipelines: a descriptor ring's registers as the device
// latched them at enable, its head/tail/fetch indices, the on-chip descriptor FIFO and the fetch
// in flight; and the ring-configuration check both directions make at enable.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vnic/hw/nic/core.hpp"
#include "vnic/hw/nic/interrupts.hpp"
#include "vnic/model/desc_cache.hpp"
#include "vnic/model/host_ring.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::hw {

// The per-queue registers of one direction.
struct QueueRegs {
  const model::regs::Reg& base_lo;
  const model::regs::Reg& base_hi;
  const model::regs::Reg& size;
  const model::regs::Reg& tail;
  const model::regs::Reg& ctrl;
};

struct Queue {
  // A descriptor FIFO entry holds a whole descriptor's fields (the RTL FIFO's word width).
  static constexpr uint32_t kFifoEntryWidth = 128;
  uint64_t base = 0;
  model::RingIndex ring;
  uint32_t head = 0;   // next descriptor to complete (visible in *_HEAD)
  uint32_t tail = 0;   // doorbell
  uint32_t fetch = 0;  // next descriptor to fetch
  bool running = false;
  uint64_t fetch_ev = NicCore::kNoEvent;  // the descriptor fetch in flight (its completion callback)
  model::regs::QueueErr err = model::regs::QueueErr::None;
  std::unique_ptr<model::DescCache> cache;
  std::vector<uint8_t> fetch_buf;  // bytes of the fetch in flight
  uint32_t fetch_count = 0;
  uint32_t fetch_first = 0;

  // The on-chip descriptor FIFO the configuration asks for (model or Verilated).
  void make_cache(const NicConfig& cfg) { cache = cfg.desc_cache_factory(cfg.desc_cache_depth, kFifoEntryWidth); }
  // Back to power-on (the FIFO emptied; the fetch callback must have been cancelled).
  void reset_state();
  // *_STATUS as the register reads it.
  uint32_t status_word() const;
  // Starts the ring the registers describe; false (and nothing changed) if they are invalid.
  bool start(const NicCore& core, const QueueRegs& r, unsigned qp);
};

// A tail register write: stored and true, or refused (tail_errors, ERR_CAUSE.TAIL) when it is
// past the ring or moves a running queue's tail backwards.
bool write_tail(NicCore& core, Interrupts& irq, Queue& qq, const QueueRegs& r, unsigned qp, uint32_t v);
// A queue control write: stored; returns +1 when it enables the queue, -1 when it disables it.
int write_ctrl(NicCore& core, const QueueRegs& r, unsigned qp, uint32_t v);

// What issue_fetch did.
enum class FetchIssue : uint8_t { None, Issued, Refused };

// Issues the next descriptor fetch of `qq` if it may (running, device enabled, none in flight,
// descriptors available, room in the FIFO for a batch unless it runs dry). On Issued, `done_ps`
// is when the descriptors are decoded and the caller schedules its completion; on Refused,
// `fault_addr` is the address host memory refused.
FetchIssue issue_fetch(NicCore& core, Queue& qq, uint64_t& done_ps, uint64_t& fault_addr);

}  // namespace vnic::hw

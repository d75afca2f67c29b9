// Queue: ring state, the enable-time check, and the descriptor fetch both pipelines issue.
#include "vnic/hw/nic/queue.hpp"

#include <algorithm>

#include "vnic/model/descriptor.hpp"

namespace vnic::hw {

namespace regs = model::regs;

void Queue::reset_state() {
  base = 0;
  ring = model::RingIndex{};
  head = tail = fetch = 0;
  running = false;
  err = regs::QueueErr::None;
  cache->reset();
  fetch_count = fetch_first = 0;
}

uint32_t Queue::status_word() const {
  const uint32_t e = static_cast<uint32_t>(err);
  return regs::q_status::kRunning.put(0, running ? 1 : 0) | regs::q_status::kError.put(0, e != 0 ? 1 : 0) |
         regs::q_status::kErrCode.put(0, e);
}

bool Queue::start(const NicCore& core, const QueueRegs& r, unsigned qp) {
  const uint32_t size = core.word(r.size, qp);
  const uint64_t b = (uint64_t{core.word(r.base_hi, qp)} << 32) | core.word(r.base_lo, qp);
  const uint32_t t = core.word(r.tail, qp);
  // The tail register was checked against the size register when it was written; the size may
  // have changed since, so it is checked again here and the register never disagrees with the ring.
  if (!model::RingIndex::is_valid_size(size, regs::kMinRingSize, regs::kMaxRingSize) || (b % 16) != 0 || t >= size) {
    return false;
  }
  base = b;
  ring = model::RingIndex(size);
  head = fetch = 0;
  tail = t;
  err = regs::QueueErr::None;
  running = true;
  return true;
}

bool write_tail(NicCore& core, Interrupts& irq, Queue& qq, const QueueRegs& r, unsigned qp, uint32_t v) {
  const uint32_t size = qq.running ? qq.ring.size() : core.word(r.size, qp);
  // A running queue's tail may only move forward: descriptors between head and tail belong to
  // the device, and a driver cannot take them back (a backwards tail is the driver's error).
  const bool backwards = qq.running && v < size && qq.ring.used(qq.head, v) < qq.ring.used(qq.head, qq.tail);
  if (v >= size || backwards) {
    core.bump(regs::Stat::tail_errors);
    irq.latch_error(regs::err_cause::kTail.mask(), 0, false);
    return false;
  }
  core.word(r.tail, qp) = v;
  qq.tail = v;
  return true;
}

int write_ctrl(NicCore& core, const QueueRegs& r, unsigned qp, uint32_t v) {
  const bool was = regs::q_ctrl::kEnable.get(core.word(r.ctrl, qp)) != 0;
  core.word(r.ctrl, qp) = v;
  const bool on = regs::q_ctrl::kEnable.get(v) != 0;
  return (!was && on) ? 1 : (was && !on) ? -1 : 0;
}

FetchIssue issue_fetch(NicCore& core, Queue& qq, uint64_t& done_ps, uint64_t& fault_addr) {
  if (!qq.running || qq.fetch_ev != NicCore::kNoEvent || !core.device_enabled()) return FetchIssue::None;
  const uint32_t avail = qq.ring.used(qq.fetch, qq.tail);
  if (avail == 0) return FetchIssue::None;
  const uint32_t space = qq.cache->space();
  const uint32_t batch = core.cfg.fetch_batch;
  const uint32_t want = std::min(avail, batch);
  // Batch: wait for room for a whole batch unless the FIFO is running dry.
  if (space == 0 || (space < want && qq.cache->count() > batch / 2)) return FetchIssue::None;
  const uint32_t n = std::min({want, space, qq.ring.size() - qq.fetch});
  qq.fetch_buf.resize(std::size_t{n} * model::kDescSize);
  const uint64_t start = core.now_ps() + core.cycles_ps(core.cfg.cycles.doorbell + core.cfg.cycles.desc_fetch);
  const DmaResult r = core.dma.read(qq.base + uint64_t{qq.fetch} * model::kDescSize, qq.fetch_buf, start);
  if (!r.ok) {
    fault_addr = r.fault_addr;
    return FetchIssue::Refused;
  }
  qq.fetch_first = qq.fetch;
  qq.fetch_count = n;
  done_ps = r.done_ps + core.cycles_ps(core.cfg.cycles.desc_decode * n);
  return FetchIssue::Issued;
}

}  // namespace vnic::hw

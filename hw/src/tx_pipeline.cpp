// TxPipeline: fetch, chain assembly, data fetch, the wire, write-back.
#include "vnic/hw/nic/tx_pipeline.hpp"

#include <algorithm>
#include <array>

namespace vnic::hw {

namespace regs = model::regs;
using regs::Stat;

const QueueRegs TxPipeline::kRegs{regs::kTxqBaseLo, regs::kTxqBaseHi, regs::kTxqSize, regs::kTxqTail, regs::kTxqCtrl};

TxPipeline::TxPipeline(NicCore& core, RegisterFile& rf, Interrupts& irq, Mac& mac)
    : core_(core), irq_(irq), mac_(mac), txq_(core.cfg.num_qp) {
  for (State& t : txq_) t.make_cache(core_.cfg);
  rf.on_read<&TxPipeline::read_head>(regs::kTxqHead, this);
  rf.on_read<&TxPipeline::read_status>(regs::kTxqStatus, this);
  rf.on_write<&TxPipeline::write_tail>(regs::kTxqTail, this);
  rf.on_write<&TxPipeline::write_ctrl>(regs::kTxqCtrl, this);
}

// ---------------------------------------------------------------------------------- lifecycle

void TxPipeline::reset() {
  // Fetched frames are dropped (the one on the wire is cut off: the MAC stays busy until its end).
  for (State& t : txq_) {
    core_.cancel(t.wire_ev);
    core_.cancel(t.fetch_ev);
    for (Inflight& e : t.to_wire) {
      if (!e.frame) continue;
      core_.bump(Stat::tx_dropped_disabled);
      e.frame.release();
    }
  }
  for (State& t : txq_) {
    t.reset_state();
    t.chain.clear();
    t.discard = Discard{};
    t.to_wire.clear();
    t.buffer_used = 0;
    t.last_end_ps = 0;
  }
}

void TxPipeline::write_tail(unsigned qp, uint32_t v, uint32_t) {
  if (!hw::write_tail(core_, irq_, txq_[qp], kRegs, qp, v)) return;
  emit_level(qp);
  kick(qp);
}

void TxPipeline::write_ctrl(unsigned qp, uint32_t v, uint32_t) {
  const int change = hw::write_ctrl(core_, kRegs, qp, v);
  if (change > 0) enable(qp);
  if (change < 0) stop(qp, regs::QueueErr::None);
}

void TxPipeline::enable(unsigned qp) {
  State& t = txq_[qp];
  if (t.err == regs::QueueErr::Dma) return;  // latched until a soft reset
  quiesce(qp);                               // nothing of an earlier enable survives into this one
  if (!t.start(core_, kRegs, qp)) {
    core_.bump(Stat::ring_cfg_errors);
    t.running = false;
    t.err = regs::QueueErr::RingCfg;
    irq_.latch_error(regs::err_cause::kRingCfg.mask(), 0, false);
    return;
  }
  kick(qp);
}

void TxPipeline::stop(unsigned qp, regs::QueueErr err) {
  State& t = txq_[qp];
  t.running = false;
  if (err != regs::QueueErr::None) {
    // Stopped on an error: nothing new is fetched; frames already in the TX buffer still go
    // out and writes already issued land. Only a soft reset restarts the queue.
    t.err = err;
    return;
  }
  quiesce(qp);  // disabled by the driver: its work in flight is revoked
}

void TxPipeline::quiesce(unsigned qp) {
  // Revokes the queue's work in flight: its descriptor fetch, fetched descriptors, frames not
  // yet on the wire, write-backs not yet landed, and its pending interrupt.
  State& t = txq_[qp];
  core_.cancel(t.fetch_ev);
  irq_.quiesce(qp, Dir::Tx);
  t.cache->reset();
  core_.dma.revoke_if([qp](uint64_t tag) {
    const WriteTag w = WriteTag::unpack(tag);
    return w.kind == WriteKind::TxDesc && w.qp == qp;
  });
  t.chain.clear();
  t.discard = Discard{};
  // A frame whose preamble has started finishes on the wire (without a completion); frames
  // not yet started never leave.
  std::size_t keep = 0;
  if (!t.to_wire.empty()) {
    Inflight& f = t.to_wire.front();
    if (f.scheduled && f.frame && f.wire.start_ps <= core_.now_ps()) {
      f.revoked = true;
      keep = 1;
    } else if (f.scheduled) {
      core_.cancel(t.wire_ev);
      if (f.frame) mac_.unreserve(f.wire);  // give the wire back
    }
  }
  if (keep == 0) t.last_end_ps = 0;  // nothing of this queue is on the wire any more
  while (t.to_wire.size() > keep) {
    Inflight& e = t.to_wire.back();
    if (e.frame) {
      core_.bump(Stat::tx_dropped_disabled);
      core_.emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), core_.now_ps(), core_.now_ps(), e.ndesc,
                 static_cast<uint64_t>(Stat::tx_dropped_disabled), e.frame.id);
      e.frame.release();
    }
    t.buffer_used -= e.buffer_bytes;
    t.to_wire.pop_back();
  }
}

void TxPipeline::dma_error(unsigned qp, Stat s, uint64_t fault_addr) {
  core_.bump(s);
  stop(qp, regs::QueueErr::Dma);
  irq_.latch_error(regs::err_cause::kTxDma.mask(), fault_addr, true);
}

void TxPipeline::emit_level(unsigned qp) const {
  if (core_.trace == nullptr) [[likely]] return;
  const State& t = txq_[qp];
  if (!t.running) return;
  core_.emit(TraceKind::RingLevel, qp, core_.now_ps(), core_.now_ps(), t.ring.used(t.head, t.tail), 1, 0);
}

// ---------------------------------------------------------------------------------- fetch

void TxPipeline::kick(unsigned qp) {
  if (!core_.device_enabled()) return;
  start_fetch(qp);
  assemble(qp);
}

void TxPipeline::start_fetch(unsigned qp) {
  State& t = txq_[qp];
  uint64_t done = 0, fault = 0;
  switch (issue_fetch(core_, t, done, fault)) {
    case FetchIssue::None: return;
    case FetchIssue::Refused: dma_error(qp, Stat::desc_dma_errors, fault); return;
    case FetchIssue::Issued: t.fetch_ev = core_.q.at_ps<&TxPipeline::fetch_done>(done, this, arg(qp)); return;
  }
}

void TxPipeline::fetch_done(uint64_t a) {
  const unsigned qp = unpack_arg<QueueArg>(a).qp;
  State& t = txq_[qp];
  t.fetch_ev = NicCore::kNoEvent;
  if (!t.running) return;
  for (uint32_t k = 0; k < t.fetch_count; ++k) {
    const model::TxDesc d = model::decode_tx(
        std::span<const uint8_t, model::kDescSize>(t.fetch_buf.data() + k * model::kDescSize, model::kDescSize));
    const uint32_t idx = t.ring.add(t.fetch_first, k);
    model::FifoWord w{d.buf_addr, uint64_t{d.length} | (uint64_t{d.cmd} << 16) | (uint64_t{idx} << 32)};
    t.cache->push(w);  // room was reserved when the fetch was issued
  }
  t.fetch = t.ring.add(t.fetch_first, t.fetch_count);
  kick(qp);
}

// ---------------------------------------------------------------------------------- assembly

void TxPipeline::assemble(unsigned qp) {
  State& t = txq_[qp];
  // A chain ends at EOP. One longer than a frame may be is malformed: it is dropped as one
  // frame, its descriptors consumed up to and including its EOP (never cut into a shorter
  // frame), or up to a whole ring of them (the driver could never add the EOP: the queue would
  // hang).
  const std::size_t longest = std::min<std::size_t>(core_.cfg.max_tx_desc_per_frame, t.ring.capacity());
  auto pop = [&t](ChainDesc* c) {
    model::FifoWord w;
    if (!t.cache->pop(&w)) return false;
    c->d.buf_addr = w.lo;
    c->d.length = static_cast<uint16_t>(w.hi);
    c->d.cmd = static_cast<uint8_t>(w.hi >> 16);
    c->index = static_cast<uint32_t>(w.hi >> 32);
    return true;
  };
  while (t.running) {
    ChainDesc c;
    if (t.discard.active) {
      if (!pop(&c)) break;
      ++t.discard.ndesc;
      t.discard.last = c;
      if (c.d.eop() || t.discard.ndesc >= t.ring.capacity()) {
        const Discard d = t.discard;
        t.discard = Discard{};
        launch_malformed(qp, d.first, d.ndesc, d.last);
        start_fetch(qp);
      }
      continue;
    }
    const bool whole = !t.chain.empty() && t.chain.back().d.eop();
    if (!whole && t.chain.size() >= longest) {
      if (t.chain.size() >= t.ring.capacity()) {
        launch_malformed(qp, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back());
        t.chain.clear();
        start_fetch(qp);
      } else {
        t.discard = Discard{true, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back()};
        t.chain.clear();
      }
      continue;
    }
    if (!whole) {
      if (!pop(&c)) break;
      t.chain.push_back(c);
      continue;
    }
    if (!launch(qp)) break;
    start_fetch(qp);  // the FIFO has room again
  }
}

bool TxPipeline::launch(unsigned qp) {
  State& t = txq_[qp];
  const uint32_t max_frame = core_.word(regs::kMaxFrame, 0);
  uint32_t total = 0;
  bool bad = false;
  for (const ChainDesc& c : t.chain) {
    if (c.d.length == 0) bad = true;
    total += c.d.length;
  }
  if (bad || total + model::kFcsLen > max_frame) {
    launch_malformed(qp, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back());
    t.chain.clear();
    return true;
  }
  const uint32_t wire_len = Mac::wire_len(total);
  if (t.buffer_used + wire_len > core_.cfg.tx_buffer_bytes && t.buffer_used != 0) return false;  // wait
  Inflight e;
  e.first_desc = t.chain.front().index;
  e.ndesc = static_cast<uint32_t>(t.chain.size());
  e.last = t.chain.back().d;
  e.last_index = t.chain.back().index;
  const uint64_t start = core_.now_ps() + core_.cycles_ps(core_.cfg.cycles.tx_frame);
  e.frame = core_.pool.alloc(wire_len);
  uint64_t ready = start;
  uint32_t off = 0;
  for (const ChainDesc& c : t.chain) {
    const DmaResult r = core_.dma.read(c.d.buf_addr, std::span<uint8_t>(e.frame.data() + off, c.d.length), start);
    if (!r.ok) {
      e.frame.release();
      t.chain.clear();
      dma_error(qp, Stat::tx_dma_errors, r.fault_addr);
      return false;
    }
    ready = std::max(ready, r.done_ps);
    off += c.d.length;
  }
  Mac::finish(e.frame, total);
  e.buffer_bytes = wire_len;
  t.buffer_used += wire_len;
  e.ready_ps = ready + core_.cycles_ps(core_.cfg.cycles.tx_mac);
  e.frame.id = core_.tags != nullptr ? core_.tags->take(t.chain.front().d.buf_addr) : 0;
  if (e.frame.id == 0) e.frame.id = core_.tx_id_base + ++seq_;
  core_.emit(TraceKind::TxLaunch, static_cast<uint8_t>(qp), core_.now_ps(), e.ready_ps, wire_len, 0, e.frame.id);
  t.chain.clear();
  push(qp, std::move(e));
  return true;
}

void TxPipeline::launch_malformed(unsigned qp, uint32_t first, uint32_t ndesc, const ChainDesc& last) {
  core_.bump(Stat::tx_desc_errors);
  core_.emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), core_.now_ps(), core_.now_ps(), ndesc,
             static_cast<uint64_t>(Stat::tx_desc_errors), 0);
  Inflight e;
  e.first_desc = first;
  e.ndesc = ndesc;
  e.last = last.d;
  e.last_index = last.index;
  e.wb_errors = model::TxDesc::kErrDesc;
  e.ready_ps = core_.now_ps() + core_.cycles_ps(core_.cfg.cycles.tx_frame);
  irq_.latch_error(regs::err_cause::kTxDesc.mask(), 0, false);
  push(qp, std::move(e));
}

// ---------------------------------------------------------------------------------- the wire

void TxPipeline::push(unsigned qp, Inflight&& e) {
  State& t = txq_[qp];
  const bool was_empty = t.to_wire.empty();
  t.to_wire.push_back(std::move(e));
  if (was_empty) schedule_wire(qp);
}

void TxPipeline::schedule_wire(unsigned qp) {
  State& t = txq_[qp];
  Inflight& e = t.to_wire.front();
  uint64_t end;
  if (!e.frame) {
    // A dropped frame completes in order, off the wire.
    e.wire = Mac::WireSlot{};
    e.wire.start_ps = end = std::max(e.ready_ps, t.last_end_ps);
  } else {
    e.wire = mac_.reserve(e.ready_ps, e.frame.size());
    end = e.wire.end_ps;
  }
  e.scheduled = true;
  t.last_end_ps = std::max(end, t.last_end_ps);
  t.wire_ev = core_.q.at_ps<&TxPipeline::wire_end>(t.last_end_ps, this, arg(qp));
}

void TxPipeline::wire_end(uint64_t a) {
  const unsigned qp = unpack_arg<QueueArg>(a).qp;
  State& t = txq_[qp];
  t.wire_ev = NicCore::kNoEvent;
  // The front frame has ended. Dropped (malformed) frames queued right behind it complete at the
  // same instant, off the wire: they are done here with it and their write-backs go out as one
  // group (one commit), so a ring of malformed chains behind a jumbo frame costs a few
  // callbacks, not one per chain (docs/hw.md, "Pending work is bounded").
  std::size_t n = 1;
  const uint64_t now = core_.now_ps();
  while (n < t.to_wire.size() && !t.to_wire[n].frame && !t.to_wire[n].revoked && t.to_wire[n].ready_ps <= now) ++n;
  done_scratch_.clear();
  for (std::size_t k = 0; k < n; ++k) {
    done_scratch_.push_back(std::move(t.to_wire.front()));
    t.to_wire.pop_front();
  }
  if (!t.to_wire.empty()) schedule_wire(qp);
  for (Inflight& e : done_scratch_) complete(qp, e);
  done_scratch_.clear();
  core_.dma.end_group();  // the group's last write-back ends it
  kick(qp);               // buffer space freed (a revoked frame's too): a frame may be waiting for it
}

void TxPipeline::complete(unsigned qp, Inflight& e) {
  State& t = txq_[qp];
  e.frame_id = e.frame.id;
  const uint64_t now = core_.now_ps();
  // The last bit has left: hand the frame to the medium, which times it from its start.
  if (e.frame) {
    const std::size_t bytes = e.frame.size();
    core_.emit(TraceKind::TxWire, static_cast<uint8_t>(qp), e.wire.start_ps, now, static_cast<uint32_t>(bytes), 0,
               e.frame.id);
    if (mac_.transmit(std::move(e.frame), e.wire.start_ps)) {
      core_.bump(Stat::tx_packets);
      core_.bump(Stat::tx_bytes, bytes);
    } else {
      // The medium refused it (the link is down): the end of its packet, in this one counter.
      core_.emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), now, now, e.ndesc,
                 static_cast<uint64_t>(Stat::tx_dropped_link_down), e.frame_id);
      e.frame.release();
      core_.bump(Stat::tx_dropped_link_down);
    }
  }
  t.buffer_used -= e.buffer_bytes;
  if (e.revoked) return;  // its queue was disabled meanwhile: no completion for it
  t.head = t.ring.add(e.first_desc, e.ndesc);
  emit_level(qp);
  if (e.last.rs() || e.wb_errors != 0) {
    model::TxDesc wb = e.last;
    wb.status = model::TxDesc::kStaDd;
    wb.errors = e.wb_errors;
    std::array<uint8_t, model::kDescSize> bytes{};
    model::encode(wb, bytes);
    const uint64_t start = now + core_.cycles_ps(core_.cfg.cycles.writeback);
    const WriteTag tag{WriteKind::TxDesc, static_cast<uint8_t>(qp), static_cast<uint16_t>(e.ndesc)};
    const DmaResult r = core_.dma.write(t.base + uint64_t{e.last_index} * model::kDescSize, bytes, start, tag.pack(),
                                        /*more=*/true, e.frame_id);
    if (!r.ok) {
      core_.dma.end_group();
      dma_error(qp, Stat::desc_dma_errors, r.fault_addr);
    }
  }
}

void TxPipeline::write_done(const WriteTag& tag, const WriteDone& w) {
  const unsigned qp = tag.qp;
  if (w.status == WriteStatus::Landed) {
    const uint64_t now = core_.now_ps();
    core_.emit(TraceKind::TxDone, static_cast<uint8_t>(qp), now, now, tag.len, 0, w.id);
    irq_.completion(qp, Dir::Tx, 1);
  } else if (w.status == WriteStatus::Refused) {
    dma_error(qp, Stat::desc_dma_errors, w.addr);
  }
}

}  // namespace vnic::hw

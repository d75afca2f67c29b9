// RxPipeline: fetch, the MAC's verdict, data write and write-back, completion.
#include "vnic/hw/nic/rx_pipeline.hpp"

#include <array>
#include <cstring>

#include "vnic/model/bytes.hpp"
#include "vnic/model/descriptor.hpp"
#include "vnic/model/mac_addr.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using regs::Stat;

namespace {
constexpr uint32_t kMinRxBuf = 64;
constexpr uint32_t kMaxRxBuf = 16384;
}  // namespace

const QueueRegs RxPipeline::kRegs{regs::kRxqBaseLo, regs::kRxqBaseHi, regs::kRxqSize, regs::kRxqTail, regs::kRxqCtrl};

RxPipeline::RxPipeline(NicCore& core, RegisterFile& rf, Interrupts& irq, Mac& mac)
    : core_(core), irq_(irq), mac_(mac), rxq_(core.cfg.num_qp) {
  for (State& r : rxq_) r.make_cache(core_.cfg);
  rf.on_read<&RxPipeline::read_head>(regs::kRxqHead, this);
  rf.on_read<&RxPipeline::read_status>(regs::kRxqStatus, this);
  rf.on_write<&RxPipeline::write_tail>(regs::kRxqTail, this);
  rf.on_write<&RxPipeline::write_ctrl>(regs::kRxqCtrl, this);
}

// ---------------------------------------------------------------------------------- lifecycle

void RxPipeline::reset() {
  for (State& r : rxq_) {
    core_.cancel(r.fetch_ev);
    r.reset_state();
    r.buf_size = regs::kDefaultRxBufSize;
  }
}

void RxPipeline::write_tail(unsigned qp, uint32_t v, uint32_t) {
  if (!hw::write_tail(core_, irq_, rxq_[qp], kRegs, qp, v)) return;
  emit_level(qp);
  kick(qp);
}

void RxPipeline::write_ctrl(unsigned qp, uint32_t v, uint32_t) {
  const int change = hw::write_ctrl(core_, kRegs, qp, v);
  if (change > 0) enable(qp);
  if (change < 0) stop(qp, regs::QueueErr::None);
}

void RxPipeline::enable(unsigned qp) {
  State& r = rxq_[qp];
  if (r.err == regs::QueueErr::Dma) return;  // latched until a soft reset
  const uint32_t buf = core_.word(regs::kRxqBufSize, qp);
  quiesce(qp);  // nothing of an earlier enable survives into this one
  if (buf < kMinRxBuf || buf > kMaxRxBuf || !r.start(core_, kRegs, qp)) {
    core_.bump(Stat::ring_cfg_errors);
    r.running = false;
    r.err = regs::QueueErr::RingCfg;
    irq_.latch_error(regs::err_cause::kRingCfg.mask(), 0, false);
    return;
  }
  r.buf_size = buf;
  kick(qp);
}

void RxPipeline::stop(unsigned qp, regs::QueueErr err) {
  State& r = rxq_[qp];
  r.running = false;
  if (err != regs::QueueErr::None) {
    r.err = err;  // stopped on an error: writes already issued land; only a soft reset restarts it
    return;
  }
  quiesce(qp);  // disabled by the driver: its work in flight is revoked
}

void RxPipeline::quiesce(unsigned qp) {
  State& r = rxq_[qp];
  core_.cancel(r.fetch_ev);
  irq_.quiesce(qp, Dir::Rx);
  r.cache->reset();
  core_.dma.revoke_if([qp](uint64_t tag) {
    const WriteTag w = WriteTag::unpack(tag);
    return (w.kind == WriteKind::RxData || w.kind == WriteKind::RxDesc) && w.qp == qp;
  });
}

void RxPipeline::emit_level(unsigned qp) const {
  if (core_.trace == nullptr) [[likely]] return;
  const State& r = rxq_[qp];
  if (!r.running) return;
  core_.emit(TraceKind::RingLevel, qp, core_.now_ps(), core_.now_ps(), r.ring.used(r.head, r.tail), 0, 0);
}

void RxPipeline::dma_refused(unsigned qp, uint32_t len, uint64_t id, uint64_t fault_addr) {
  const uint64_t now = core_.now_ps();
  core_.bump(Stat::rx_dma_errors);
  core_.emit(TraceKind::RxDrop, qp, now, now, len, static_cast<uint64_t>(Stat::rx_dma_errors), id, model::ingress(3));
  stop(qp, regs::QueueErr::Dma);
  irq_.latch_error(regs::err_cause::kRxDma.mask(), fault_addr, true);
}

// ---------------------------------------------------------------------------------- fetch

void RxPipeline::kick(unsigned qp) {
  if (!core_.device_enabled()) return;
  start_fetch(qp);
}

void RxPipeline::start_fetch(unsigned qp) {
  State& r = rxq_[qp];
  uint64_t done = 0, fault = 0;
  switch (issue_fetch(core_, r, done, fault)) {
    case FetchIssue::None: return;
    case FetchIssue::Refused:
      core_.bump(Stat::desc_dma_errors);
      stop(qp, regs::QueueErr::Dma);
      irq_.latch_error(regs::err_cause::kRxDma.mask(), fault, true);
      return;
    case FetchIssue::Issued: r.fetch_ev = core_.q.at_ps<&RxPipeline::fetch_done>(done, this, arg(qp)); return;
  }
}

void RxPipeline::fetch_done(uint64_t a) {
  const unsigned qp = unpack_arg<QueueArg>(a).qp;
  State& r = rxq_[qp];
  r.fetch_ev = NicCore::kNoEvent;
  if (!r.running) return;
  for (uint32_t k = 0; k < r.fetch_count; ++k) {
    const uint64_t addr = model::load_le<uint64_t>(r.fetch_buf, std::size_t{k} * model::kDescSize);
    r.cache->push(model::FifoWord{addr, r.ring.add(r.fetch_first, k)});
  }
  r.fetch = r.ring.add(r.fetch_first, r.fetch_count);
  kick(qp);
}

// ---------------------------------------------------------------------------------- receive

void RxPipeline::receive(model::Frame&& frame) {
  const unsigned qp = 0;  // one queue pair receives everything (no RSS yet)
  State& r = rxq_[qp];
  const uint64_t fid = frame.id;
  const uint64_t now = core_.now_ps();
  core_.emit(TraceKind::RxArrive, qp, now, now, static_cast<uint32_t>(frame.size()), 0, fid);
  auto drop = [&](Stat s) {
    core_.bump(s);
    // MAC checks are ingress step 2; no free descriptor is step 3 (nowhere to DMA it).
    core_.emit(TraceKind::RxDrop, qp, now, now, static_cast<uint32_t>(frame.size()), static_cast<uint64_t>(s), fid,
               s == Stat::rx_missed_errors || s == Stat::rx_length_errors ? model::ingress(3) : model::ingress(2));
  };
  if (!core_.device_enabled() || !r.running) {
    drop(Stat::rx_dropped_disabled);
    return;
  }
  const Mac::RxVerdict v = mac_.check(frame, r.buf_size);
  if (!v.accept) {
    drop(v.drop);
    return;
  }
  const std::size_t data_len = v.data_len;
  core_.emit(TraceKind::RxAccept, qp, now, now, static_cast<uint32_t>(frame.size()), 0, fid);
  model::FifoWord w;
  if (!r.cache->pop(&w)) {
    drop(Stat::rx_missed_errors);
    return;
  }
  const uint64_t buf_addr = w.lo;
  const uint32_t idx = static_cast<uint32_t>(w.hi);
  const uint64_t start = now + core_.cycles_ps(core_.cfg.cycles.rx_mac + core_.cfg.cycles.rx_dma);
  model::MacAddr dst;
  std::memcpy(dst.b.data(), frame.data(), 6);
  // The frame itself is held until its bytes land: no copy. It is counted when its write-back
  // lands (rx_packets), or dropped then if either write was refused or revoked.
  const DmaResult d = core_.dma.write_frame(buf_addr, std::move(frame), data_len, start,
                                            WriteTag{WriteKind::RxData, static_cast<uint8_t>(qp)}.pack(), true,
                                            /*quiet=*/true);
  model::RxDesc wb;
  wb.buf_addr = buf_addr;
  wb.length = static_cast<uint16_t>(data_len);
  wb.status = model::RxDesc::kStaDd | model::RxDesc::kStaEop;
  WriteTag tag{WriteKind::RxDesc, static_cast<uint8_t>(qp), static_cast<uint16_t>(data_len)};
  if (dst.is_broadcast()) {
    wb.status |= model::RxDesc::kStaBcast;
    tag.flags = WriteTag::kFlagBcast;
  } else if (dst.is_multicast()) {
    wb.status |= model::RxDesc::kStaMcast;
    tag.flags = WriteTag::kFlagMcast;
  }
  if (v.keep_fcs) wb.status |= model::RxDesc::kStaFcs;
  wb.errors = v.errors;
  DmaResult b{};
  if (d.ok) {
    std::array<uint8_t, model::kDescSize> bytes{};
    model::encode(wb, bytes);
    b = core_.dma.write(r.base + uint64_t{idx} * model::kDescSize, bytes, start + core_.cycles_ps(core_.cfg.cycles.writeback),
                        tag.pack(), false, fid);
    if (!b.ok) core_.dma.drop_unfinished();  // the data must not land without its descriptor
  }
  if (!d.ok || !b.ok) {
    dma_refused(qp, static_cast<uint32_t>(data_len), fid, d.ok ? b.fault_addr : d.fault_addr);
    return;
  }
  r.head = r.ring.next(idx);
  emit_level(qp);
  if (core_.tags != nullptr) core_.tags->put(buf_addr, fid);
  core_.emit(TraceKind::RxDma, qp, now, b.done_ps, static_cast<uint32_t>(data_len), idx, fid);
  kick(qp);
}

void RxPipeline::write_done(const WriteTag& tag, const WriteDone& w) {
  // Completions count when their write-back lands; a write refused as it lands (its address
  // passed the probe at issue, then the mapping changed) stops the queue.
  const unsigned qp = tag.qp;
  const uint64_t now = core_.now_ps();
  if (tag.kind == WriteKind::RxData) {
    if (w.status == WriteStatus::Refused) dma_refused(qp, tag.len, w.id, w.addr);  // its descriptor is skipped
    return;
  }
  switch (w.status) {
    case WriteStatus::Landed:
      core_.emit(TraceKind::RxComplete, qp, now, now, tag.len, (w.addr - rxq_[qp].base) / model::kDescSize, w.id);
      core_.bump(Stat::rx_packets);
      core_.bump(Stat::rx_bytes, tag.len);
      if (tag.flags & WriteTag::kFlagBcast) core_.bump(Stat::rx_broadcast);
      if (tag.flags & WriteTag::kFlagMcast) core_.bump(Stat::rx_multicast);
      irq_.completion(qp, Dir::Rx, 1);
      break;
    case WriteStatus::Refused:
      dma_refused(qp, tag.len, w.id, w.addr);
      break;
    case WriteStatus::Revoked:  // the queue was disabled or the device reset first
      core_.bump(Stat::rx_dropped_disabled);
      core_.emit(TraceKind::RxDrop, qp, now, now, tag.len, static_cast<uint64_t>(Stat::rx_dropped_disabled), w.id,
                 model::ingress(4));
      break;
    case WriteStatus::Skipped:  // counted with its refused data write
      break;
  }
}

}  // namespace vnic::hw

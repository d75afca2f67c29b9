// Nic: register file, TX/RX pipelines, MAC (FCS, length, filter), interrupt moderation.
#include "vnic/hw/nic.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "vnic/model/bytes.hpp"
#include "vnic/model/crc32.hpp"
#include "vnic/model/pci.hpp"

namespace vnic::hw {

namespace regs = model::regs;
using model::regs::Stat;

namespace {
constexpr uint32_t kEntryWidth = 128;   // descriptor FIFO entry: a whole descriptor's fields
constexpr uint32_t kMinRxBuf = 64;
constexpr uint32_t kMaxRxBuf = 16384;
}  // namespace

Nic::Nic(sc_core::sc_module_name name, EventQueue& q, const NicConfig& cfg)
    : sc_core::sc_module(name),
      mmio("mmio"),
      q_(q),
      cfg_(cfg),
      cycle_ps_(1000'000u / std::max<uint32_t>(1, cfg.core_mhz)),
      pool_(),
      dma_("dma", q, cfg.pcie),
      regs_(regs::kBar0Size / 4, 0) {
  if (cfg_.num_qp < 1 || cfg_.num_qp > regs::kMaxQueuePairs) {
    throw std::invalid_argument("NicConfig: num_qp must be 1..8");
  }
  if (cfg_.desc_cache_depth < 2 || (cfg_.desc_cache_depth & (cfg_.desc_cache_depth - 1)) != 0) {
    throw std::invalid_argument("NicConfig: desc_cache_depth must be a power of two >= 2");
  }
  cfg_.fetch_batch = std::clamp<uint32_t>(cfg_.fetch_batch, 1, cfg_.desc_cache_depth);
  mmio.register_b_transport(this, &Nic::b_transport);
  mmio.register_transport_dbg(this, &Nic::transport_dbg);
  dma_.set_bus_master(false);  // PCI power-on: command register 0
  dma_.set_write_done_handler(&Nic::write_done_thunk, this);
  txq_.resize(cfg_.num_qp);
  rxq_.resize(cfg_.num_qp);
  for (auto& t : txq_) t.cache = cfg_.desc_cache_factory(cfg_.desc_cache_depth, kEntryWidth);
  for (auto& r : rxq_) r.cache = cfg_.desc_cache_factory(cfg_.desc_cache_depth, kEntryWidth);
  soft_reset(true);
}

Nic::~Nic() = default;

void Nic::attach(EthMedium* medium, unsigned side) {
  medium_ = medium;
  side_ = side;
  medium_->attach(side, this);
  link_up_ = medium_->up();
  link_rate_ = medium_->rate();
}

uint64_t Nic::stat(Stat s) const {
  // The DMA engine keeps its own counts; the rest live in the counter block.
  const DmaStats& d = dma_.stats();
  switch (s) {
    case Stat::dma_rd_tlps: return d.rd_tlps;
    case Stat::dma_rd_bytes: return d.rd_bytes;
    case Stat::dma_wr_tlps: return d.wr_tlps;
    case Stat::dma_wr_bytes: return d.wr_bytes;
    case Stat::dma_no_bme: return d.no_bme + stats_[static_cast<unsigned>(s)];
    default: return stats_[static_cast<unsigned>(s)];
  }
}

bool Nic::device_enabled() const { return (word(regs::kCtrl, 0) & 1u) != 0; }

// ---------------------------------------------------------------------------------- reset

void Nic::soft_reset(bool power_on) {
  if (power_on) {
    reset_done_ps_ = 0;
  } else {
    reset_done_ps_ = cfg_.reset_hangs ? UINT64_MAX : now_ps() + uint64_t{cfg_.reset_ns} * 1000;
  }
  // Work in flight is abandoned: writes not yet landed are revoked (an RX frame among them is
  // counted in rx_dropped_disabled), scheduled callbacks cancelled, fetched frames dropped (the
  // one on the wire is cut off: the MAC stays busy until its end, mac_free_ps_ kept).
  dma_.reset();
  if (power_on) dma_.clear_stats();  // the counters survive a soft reset, the DMA's too
  for (auto& t : txq_) {
    cancel(t.wire_ev);
    for (TxInflight& e : t.to_wire) {
      if (!e.frame) continue;
      bump(Stat::tx_dropped_disabled);
      e.frame.release();
    }
  }
  for (unsigned qp = 0; qp < cfg_.num_qp; ++qp) {
    for (Queue* qq : {static_cast<Queue*>(&txq_[qp]), static_cast<Queue*>(&rxq_[qp])}) {
      cancel(qq->fetch_ev);
      cancel(qq->mod.fire_ev);
      cancel(qq->mod.timer_ev);
    }
  }
  for (const regs::Reg* r : regs::kAll) {
    if (r->reset_src == regs::ResetSrc::Keep && powered_on_) continue;  // the PCI function's
    for (unsigned i = 0; i < r->count; ++i) {
      uint32_t v = r->reset;
      if (r->reset_src == regs::ResetSrc::PermMacLo) v = cfg_.perm_mac.lo_word();
      if (r->reset_src == regs::ResetSrc::PermMacHi) v = cfg_.perm_mac.hi_word();
      word(*r, i) = v;
    }
  }
  word(regs::kCap, 0) = regs::cap::kNumQp.put(0, cfg_.num_qp) | regs::cap::kMinRingLog2.put(0, 3) |
                        regs::cap::kMaxRingLog2.put(0, 12) | regs::cap::kNumVec.put(0, cfg_.num_qp + 1);
  if (power_on) {  // the counters survive a soft reset, so a driver's totals do too
    stats_.fill(0);
    stat_hi_latch_.fill(0);
  }
  auto reset_queue = [](Queue& qq) {
    qq.base = 0;
    qq.ring = model::RingIndex{};
    qq.head = qq.tail = qq.fetch = 0;
    qq.running = false;
    qq.err = regs::QueueErr::None;
    qq.cache->reset();
    qq.fetch_count = qq.fetch_first = 0;
    qq.mod = Moderator{};
  };
  for (auto& t : txq_) {
    reset_queue(t);
    t.chain.clear();
    t.discard = TxDiscard{};
    t.to_wire.clear();
    t.buffer_used = 0;
    t.last_end_ps = 0;
  }
  for (auto& r : rxq_) {
    reset_queue(r);
    r.buf_size = regs::kDefaultRxBufSize;
  }
  misc_pending_ = false;
  err_addr_latched_ = false;
  powered_on_ = true;
}

void Nic::power_on_reset() {
  powered_on_ = false;
  pci_command_ = 0;
  msix_control_ = 0;
  dma_.set_bus_master(false);
  mac_free_ps_ = 0;
  tx_seq_ = 0;
  soft_reset(true);
}

// ---------------------------------------------------------------------------------- MMIO

void Nic::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
  delay += from_ps(cycles_ps(cfg_.cycles.mmio));  // add, never overwrite
  if (dma_.in_transport()) {
    // Our own DMA has come back to our BAR (a bus that forwards peer-to-peer): refused without
    // raising an error interrupt, whose message could come back the same way.
    bump(Stat::dma_reentry);
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const uint64_t addr = p.get_address();
  const bool bad_shape = p.get_data_length() != 4 || (addr & 3u) != 0 || p.get_byte_enable_ptr() != nullptr ||
                         p.get_streaming_width() < 4 || addr >= regs::kBar0Size;
  if (p.get_command() == tlm::TLM_IGNORE_COMMAND) {
    // A probe (TLM-2.0: no side effects): would this access be taken? Nothing is counted.
    const bool ok = (pci_command_ & model::pci::kCmdMemorySpace) != 0 && !bad_shape &&
                    regs::find(static_cast<uint32_t>(addr)).has_value();
    p.set_response_status(ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if ((pci_command_ & model::pci::kCmdMemorySpace) == 0) {
    bump(Stat::mmio_disabled);  // BAR0 does not decode while Memory Space Enable is off
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const auto hit = bad_shape ? std::nullopt : regs::find(static_cast<uint32_t>(addr));
  if (!hit) {
    bump(Stat::mmio_errors);
    latch_error(regs::err_cause::kMmio.mask(), 0, false);
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  uint8_t* data = p.get_data_ptr();
  std::span<uint8_t> bytes{data, 4};
  if (p.is_read()) {
    model::store_le<uint32_t>(bytes, 0, read_reg(*hit));
  } else {
    write_reg(*hit, model::load_le<uint32_t>(bytes, 0));
  }
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Nic::transport_dbg(tlm::tlm_generic_payload& p) {
  // Debug reads see the stored register words without side effects; debug writes are refused.
  const uint64_t addr = p.get_address();
  if (!p.is_read() || addr >= regs::kBar0Size) return 0;
  const unsigned n = static_cast<unsigned>(std::min<uint64_t>(p.get_data_length(), regs::kBar0Size - addr));
  std::memcpy(p.get_data_ptr(), reinterpret_cast<const uint8_t*>(regs_.data()) + addr, n);
  return n;
}

uint32_t Nic::read_reg(const regs::Hit& h) {
  const regs::Reg& r = *h.reg;
  const unsigned i = h.index;
  if (r.access == regs::Access::WO) return 0;
  if (&r == &regs::kStatus) {
    return regs::status::kLinkUp.put(0, link_up_ ? 1 : 0) |
           regs::status::kSpeed.put(0, link_up_ ? regs::status::speed_code(link_rate_)
                                                : regs::status::kSpeedNone) |
           regs::status::kResetDone.put(0, in_reset() ? 0 : 1);
  }
  if (&r == &regs::kStatLo) {
    const uint64_t v = stat(static_cast<Stat>(i));
    stat_hi_latch_[i] = static_cast<uint32_t>(v >> 32);
    return static_cast<uint32_t>(v);
  }
  if (&r == &regs::kStatHi) return stat_hi_latch_[i];
  if (i < cfg_.num_qp) {
    if (&r == &regs::kRxqHead) return rxq_[i].head;
    if (&r == &regs::kTxqHead) return txq_[i].head;
    if (&r == &regs::kRxqStatus || &r == &regs::kTxqStatus) {
      const Queue& qq = (&r == &regs::kRxqStatus) ? static_cast<const Queue&>(rxq_[i]) : txq_[i];
      const uint32_t err = static_cast<uint32_t>(qq.err);
      return regs::q_status::kRunning.put(0, qq.running ? 1 : 0) |
             regs::q_status::kError.put(0, err != 0 ? 1 : 0) | regs::q_status::kErrCode.put(0, err);
    }
  }
  uint32_t v = word(r, i);
  if (r.access == regs::Access::RC) word(r, i) = 0;
  return v;
}

void Nic::write_reg(const regs::Hit& h, uint32_t v) {
  const regs::Reg& r = *h.reg;
  const unsigned i = h.index;
  if (r.access == regs::Access::RO || r.access == regs::Access::RC) {
    bump(Stat::mmio_ro_writes);
    return;
  }
  const uint32_t wv = v & r.writable_mask();
  // While a soft reset runs only another reset is heard; the MSI-X table belongs to the PCI
  // function and is always writable.
  if (in_reset() && r.reset_src != regs::ResetSrc::Keep && !(&r == &regs::kCtrl && regs::ctrl::kRst.get(wv) != 0)) {
    bump(Stat::mmio_in_reset);
    return;
  }
  if (r.access == regs::Access::W1C) {
    word(r, i) &= ~wv;
    return;
  }
  if (&r == &regs::kCtrl) {
    if (regs::ctrl::kRst.get(wv) != 0) {
      soft_reset();  // RST self-clears; EN returns to 0 with everything else
      return;
    }
    const bool was = device_enabled();
    word(r, i) = wv;
    if (!was && device_enabled()) {
      for (unsigned qp = 0; qp < cfg_.num_qp; ++qp) {
        tx_kick(qp);
        rx_kick(qp);
      }
    }
    return;
  }
  if (&r == &regs::kImaskSet) {
    word(regs::kImask, 0) |= wv;
    return;
  }
  if (&r == &regs::kImaskClr) {
    word(regs::kImask, 0) &= ~wv;
    unmask(wv);
    return;
  }
  if (&r == &regs::kMaxFrame) {
    if (v < regs::kMinFrame || v > regs::kMaxFrameLimit) {  // judged before reserved bits are dropped
      bump(Stat::mmio_errors);
      latch_error(regs::err_cause::kMmio.mask(), 0, false);
      return;
    }
    word(r, i) = wv;
    return;
  }
  // Per-queue registers of queue pairs this instance does not have: storage only.
  const bool qreg = r.offset >= regs::kQpBase && r.offset < regs::kQpBase + regs::kQpStride;
  if (qreg && i >= cfg_.num_qp) {
    word(r, i) = wv;
    return;
  }
  if (&r == &regs::kRxqTail || &r == &regs::kTxqTail) {
    const bool tx = &r == &regs::kTxqTail;
    Queue& qq = tx ? static_cast<Queue&>(txq_[i]) : rxq_[i];
    const uint32_t size = qq.running ? qq.ring.size() : word(tx ? regs::kTxqSize : regs::kRxqSize, i);
    // A running queue's tail may only move forward: descriptors between head and tail belong to
    // the device, and a driver cannot take them back (a backwards tail is the driver's error).
    const bool backwards = qq.running && wv < size && qq.ring.used(qq.head, wv) < qq.ring.used(qq.head, qq.tail);
    if (wv >= size || backwards) {
      bump(Stat::tail_errors);
      latch_error(regs::err_cause::kTail.mask(), 0, false);
      return;
    }
    word(r, i) = wv;
    qq.tail = wv;
    emit_level(tx, i);
    if (tx) {
      tx_kick(i);
    } else {
      rx_kick(i);
    }
    return;
  }
  if (&r == &regs::kRxqCtrl || &r == &regs::kTxqCtrl) {
    const bool tx = &r == &regs::kTxqCtrl;
    const bool was = (word(r, i) & 1u) != 0;
    word(r, i) = wv;
    const bool now_on = (wv & 1u) != 0;
    if (!was && now_on) enable_queue(tx, i);
    if (was && !now_on) stop_queue(tx, i, regs::QueueErr::None);
    return;
  }
  word(r, i) = wv;
  if (&r == &regs::kMsixVctrl && (wv & 1u) == 0) msix_release_pending();
  if (&r == &regs::kRxUsecs) rxq_[i].mod.usecs = wv;
  if (&r == &regs::kRxFrames) rxq_[i].mod.frames = wv;
  if (&r == &regs::kTxUsecs) txq_[i].mod.usecs = wv;
  if (&r == &regs::kTxFrames) txq_[i].mod.frames = wv;
}

// ---------------------------------------------------------------------------------- PCI config

uint32_t Nic::cfg_read32(uint32_t off) const {
  namespace pci = model::pci;
  switch (off) {
    case pci::kVendorDevice: return uint32_t{pci::kVendorId} | uint32_t{pci::kDeviceId} << 16;
    case pci::kCommandStatus: return pci_command_ | pci::kStatusCapList;
    case pci::kCapPtr: return pci::kCapMsix;
    case pci::kCapMsix:
      return pci::kCapIdMsix | (uint32_t{cfg_.num_qp} << 16) /* table size - 1 = vectors - 1 */ | msix_control_;
    case pci::kMsixTable: return regs::kMsixTableBase;  // BIR 0
    case pci::kMsixPba: return regs::kMsixPbaBase;      // BIR 0
    case pci::kClassRevision: return pci::kClassCode << 8 | pci::kRevision;
    case pci::kHeaderType: return 0;  // type 0, single function
    case pci::kBar0Lo: return static_cast<uint32_t>(bar0_) | pci::kBar0Flags;
    case pci::kBar0Hi: return static_cast<uint32_t>(bar0_ >> 32);
    case pci::kSubsystem: return uint32_t{pci::kVendorId} | uint32_t{pci::kDeviceId} << 16;
    case pci::kInterrupt: return 0;  // no INTx pin
    default: return 0;
  }
}

void Nic::cfg_write32(uint32_t off, uint32_t v) {
  namespace pci = model::pci;
  switch (off) {
    case pci::kCommandStatus:
      pci_command_ = static_cast<uint16_t>(v & pci::kCmdWritable);
      dma_.set_bus_master((pci_command_ & pci::kCmdBusMaster) != 0);
      break;
    case pci::kBar0Lo:  // the low bits below the BAR's size read as zero: that is how it is sized
      bar0_ = (bar0_ & ~uint64_t{0xFFFF'FFFF}) | (v & ~(regs::kBar0Size - 1));
      break;
    case pci::kBar0Hi:
      bar0_ = (bar0_ & 0xFFFF'FFFFu) | uint64_t{v} << 32;
      break;
    case pci::kCapMsix: {
      const bool was_masked = (msix_control_ & pci::kMsixFunctionMask) != 0;
      msix_control_ = v & (pci::kMsixEnable | pci::kMsixFunctionMask);
      if (was_masked && (msix_control_ & pci::kMsixFunctionMask) == 0) msix_release_pending();
      break;
    }
    default:
      break;  // read-only or reserved
  }
}

// ---------------------------------------------------------------------------------- queues

void Nic::enable_queue(bool tx, unsigned qp) {
  Queue& qq = tx ? static_cast<Queue&>(txq_[qp]) : rxq_[qp];
  if (qq.err == regs::QueueErr::Dma) return;  // latched until a soft reset
  const uint32_t size = word(tx ? regs::kTxqSize : regs::kRxqSize, qp);
  const uint64_t base = (uint64_t{word(tx ? regs::kTxqBaseHi : regs::kRxqBaseHi, qp)} << 32) |
                        word(tx ? regs::kTxqBaseLo : regs::kRxqBaseLo, qp);
  const uint32_t tail = word(tx ? regs::kTxqTail : regs::kRxqTail, qp);
  // The tail register was checked against the size register when it was written; the size may
  // have changed since, so it is checked again here and the register never disagrees with the ring.
  bool ok = model::RingIndex::is_valid_size(size, regs::kMinRingSize, regs::kMaxRingSize) && (base % 16) == 0 &&
            tail < size;
  uint32_t buf = 0;
  if (!tx) {
    buf = word(regs::kRxqBufSize, qp);
    ok = ok && buf >= kMinRxBuf && buf <= kMaxRxBuf;
  }
  quiesce_queue(tx, qp);  // nothing of an earlier enable survives into this one
  if (!ok) {
    bump(Stat::ring_cfg_errors);
    qq.running = false;
    qq.err = regs::QueueErr::RingCfg;
    latch_error(regs::err_cause::kRingCfg.mask(), 0, false);
    return;
  }
  qq.base = base;
  qq.ring = model::RingIndex(size);
  qq.head = qq.fetch = 0;
  qq.tail = tail;
  qq.err = regs::QueueErr::None;
  qq.running = true;
  if (tx) {
    tx_kick(qp);
  } else {
    rxq_[qp].buf_size = buf;
    rx_kick(qp);
  }
}

void Nic::stop_queue(bool tx, unsigned qp, regs::QueueErr err) {
  Queue& qq = tx ? static_cast<Queue&>(txq_[qp]) : rxq_[qp];
  qq.running = false;
  if (err != regs::QueueErr::None) {
    // Stopped on an error: nothing new is fetched; frames already in the TX buffer still go
    // out and writes already issued land. Only a soft reset restarts the queue.
    qq.err = err;
    return;
  }
  quiesce_queue(tx, qp);  // disabled by the driver: its work in flight is revoked
}

void Nic::quiesce_queue(bool tx, unsigned qp) {
  Queue& qq = tx ? static_cast<Queue&>(txq_[qp]) : rxq_[qp];
  cancel(qq.fetch_ev);
  // Its completions' interrupt goes with it (the moderation settings stay).
  cancel(qq.mod.fire_ev);
  cancel(qq.mod.timer_ev);
  const Moderator settings = qq.mod;
  qq.mod = Moderator{};
  qq.mod.usecs = settings.usecs;
  qq.mod.frames = settings.frames;
  qq.cache->reset();
  dma_.revoke_if([qp, tx](uint64_t tag) {
    const WriteTag w = WriteTag::unpack(tag);
    return w.kind != WriteKind::Msi && w.qp == qp && w.is_tx() == tx;
  });
  if (!tx) return;
  TxState& t = txq_[qp];
  t.chain.clear();
  t.discard = TxDiscard{};
  // A frame whose preamble has started finishes on the wire (without a completion); frames
  // not yet started never leave.
  std::size_t keep = 0;
  if (!t.to_wire.empty()) {
    TxInflight& f = t.to_wire.front();
    if (f.scheduled && f.frame && f.start_ps <= now_ps()) {
      f.revoked = true;
      keep = 1;
    } else if (f.scheduled) {
      cancel(t.wire_ev);
      if (f.frame && mac_free_ps_ == f.mac_free_set) mac_free_ps_ = f.mac_free_before;  // give the wire back
    }
  }
  if (keep == 0) t.last_end_ps = 0;  // nothing of this queue is on the wire any more
  while (t.to_wire.size() > keep) {
    TxInflight& e = t.to_wire.back();
    if (e.frame) {
      bump(Stat::tx_dropped_disabled);
      emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), now_ps(), now_ps(), e.ndesc,
           static_cast<uint64_t>(Stat::tx_dropped_disabled), e.frame.id);
      e.frame.release();
    }
    t.buffer_used -= e.buffer_bytes;
    t.to_wire.pop_back();
  }
}

void Nic::emit_level(bool tx, unsigned qp) {
  if (trace_ == nullptr) [[likely]] return;
  const Queue& qq = tx ? static_cast<const Queue&>(txq_[qp]) : rxq_[qp];
  if (!qq.running) return;
  emit(TraceKind::RingLevel, qp, now_ps(), now_ps(), qq.ring.used(qq.head, qq.tail), tx ? 1 : 0, 0);
}

void Nic::latch_error(uint32_t cause_bit, uint64_t addr, bool has_addr) {
  // The error interrupt is raised when a cause becomes pending, not again while the driver has
  // not cleared it (ERR_CAUSE is W1C): a storm of one error is one interrupt, as an ICR is.
  const bool fresh = (word(regs::kErrCause, 0) & cause_bit) == 0;
  word(regs::kErrCause, 0) |= cause_bit;
  if (has_addr) emit(TraceKind::DmaError, 0, now_ps(), now_ps(), cause_bit, addr, 0);
  if (has_addr && !err_addr_latched_) {
    err_addr_latched_ = true;
    word(regs::kErrAddrLo, 0) = static_cast<uint32_t>(addr);
    word(regs::kErrAddrHi, 0) = static_cast<uint32_t>(addr >> 32);
  }
  if (fresh) raise_misc(regs::kIcrErr);
}

void Nic::start_fetch(bool tx, unsigned qp) {
  Queue& qq = tx ? static_cast<Queue&>(txq_[qp]) : rxq_[qp];
  if (!qq.running || qq.fetch_ev != kNoEvent || !device_enabled()) return;
  const uint32_t avail = qq.ring.used(qq.fetch, qq.tail);
  if (avail == 0) return;
  const uint32_t space = qq.cache->space();
  const uint32_t want = std::min(avail, cfg_.fetch_batch);
  // Batch: wait for room for a whole batch unless the FIFO is running dry.
  if (space == 0 || (space < want && qq.cache->count() > cfg_.fetch_batch / 2)) return;
  const uint32_t n = std::min({want, space, qq.ring.size() - qq.fetch});
  qq.fetch_buf.resize(std::size_t{n} * model::kDescSize);
  const uint64_t start = now_ps() + cycles_ps(cfg_.cycles.doorbell + cfg_.cycles.desc_fetch);
  const DmaResult r = dma_.read(qq.base + uint64_t{qq.fetch} * model::kDescSize, qq.fetch_buf, start);
  if (!r.ok) {
    bump(Stat::desc_dma_errors);
    stop_queue(tx, qp, regs::QueueErr::Dma);
    latch_error((tx ? regs::err_cause::kTxDma : regs::err_cause::kRxDma).mask(), r.fault_addr, true);
    return;
  }
  qq.fetch_first = qq.fetch;
  qq.fetch_count = n;
  const uint64_t done = r.done_ps + cycles_ps(cfg_.cycles.desc_decode * n);
  if (tx) {
    qq.fetch_ev = q_.at_ps<&Nic::tx_fetch_done>(done, this, qarg(qp, true));
  } else {
    qq.fetch_ev = q_.at_ps<&Nic::rx_fetch_done>(done, this, qarg(qp, false));
  }
}

// ---------------------------------------------------------------------------------- TX

void Nic::tx_kick(unsigned qp) {
  if (!device_enabled()) return;
  start_fetch(true, qp);
  tx_assemble(qp);
}

void Nic::tx_fetch_done(uint64_t a) {
  const unsigned qp = arg_qp(a);
  TxState& t = txq_[qp];
  t.fetch_ev = kNoEvent;
  if (!t.running) return;
  for (uint32_t k = 0; k < t.fetch_count; ++k) {
    const model::TxDesc d = model::decode_tx(
        std::span<const uint8_t, model::kDescSize>(t.fetch_buf.data() + k * model::kDescSize, model::kDescSize));
    const uint32_t idx = t.ring.add(t.fetch_first, k);
    model::FifoWord w{d.buf_addr, uint64_t{d.length} | (uint64_t{d.cmd} << 16) | (uint64_t{idx} << 32)};
    t.cache->push(w);  // room was reserved when the fetch was issued
  }
  t.fetch = t.ring.add(t.fetch_first, t.fetch_count);
  tx_kick(qp);
}

void Nic::tx_assemble(unsigned qp) {
  TxState& t = txq_[qp];
  // A chain ends at EOP. One longer than a frame may be is malformed: it is dropped as one
  // frame, its descriptors consumed up to and including its EOP (never cut into a shorter
  // frame), or up to a whole ring of them (the driver could never add the EOP: the queue would
  // hang).
  const std::size_t longest = std::min<std::size_t>(cfg_.max_tx_desc_per_frame, t.ring.capacity());
  auto pop = [&t](TxChainDesc* c) {
    model::FifoWord w;
    if (!t.cache->pop(&w)) return false;
    c->d.buf_addr = w.lo;
    c->d.length = static_cast<uint16_t>(w.hi);
    c->d.cmd = static_cast<uint8_t>(w.hi >> 16);
    c->index = static_cast<uint32_t>(w.hi >> 32);
    return true;
  };
  while (t.running) {
    TxChainDesc c;
    if (t.discard.active) {
      if (!pop(&c)) break;
      ++t.discard.ndesc;
      t.discard.last = c;
      if (c.d.eop() || t.discard.ndesc >= t.ring.capacity()) {
        const TxDiscard d = t.discard;
        t.discard = TxDiscard{};
        tx_launch_malformed(qp, d.first, d.ndesc, d.last);
        start_fetch(true, qp);
      }
      continue;
    }
    const bool complete = !t.chain.empty() && t.chain.back().d.eop();
    if (!complete && t.chain.size() >= longest) {
      if (t.chain.size() >= t.ring.capacity()) {
        tx_launch_malformed(qp, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back());
        t.chain.clear();
        start_fetch(true, qp);
      } else {
        t.discard = TxDiscard{true, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back()};
        t.chain.clear();
      }
      continue;
    }
    if (!complete) {
      if (!pop(&c)) break;
      t.chain.push_back(c);
      continue;
    }
    if (!tx_launch(qp)) break;
    start_fetch(true, qp);  // the FIFO has room again
  }
}

bool Nic::tx_launch(unsigned qp) {
  TxState& t = txq_[qp];
  const uint32_t max_frame = word(regs::kMaxFrame, 0);
  uint32_t total = 0;
  bool bad = false;
  for (const TxChainDesc& c : t.chain) {
    if (c.d.length == 0) bad = true;
    total += c.d.length;
  }
  if (bad || total + model::kFcsLen > max_frame) {
    tx_launch_malformed(qp, t.chain.front().index, static_cast<uint32_t>(t.chain.size()), t.chain.back());
    t.chain.clear();
    return true;
  }
  const uint32_t padded = std::max<uint32_t>(total, 60);
  const uint32_t wire_len = padded + static_cast<uint32_t>(model::kFcsLen);
  if (t.buffer_used + wire_len > cfg_.tx_buffer_bytes && t.buffer_used != 0) return false;  // wait
  TxInflight e;
  e.first_desc = t.chain.front().index;
  e.ndesc = static_cast<uint32_t>(t.chain.size());
  e.last = t.chain.back().d;
  e.last_index = t.chain.back().index;
  const uint64_t start = now_ps() + cycles_ps(cfg_.cycles.tx_frame);
  e.frame = pool_.alloc(wire_len);
  uint64_t ready = start;
  uint32_t off = 0;
  for (const TxChainDesc& c : t.chain) {
    const DmaResult r = dma_.read(c.d.buf_addr, std::span<uint8_t>(e.frame.data() + off, c.d.length), start);
    if (!r.ok) {
      bump(Stat::tx_dma_errors);
      e.frame.release();
      t.chain.clear();
      stop_queue(true, qp, regs::QueueErr::Dma);
      latch_error(regs::err_cause::kTxDma.mask(), r.fault_addr, true);
      return false;
    }
    ready = std::max(ready, r.done_ps);
    off += c.d.length;
  }
  std::memset(e.frame.data() + total, 0, padded - total);  // pad short frames to 60 B
  model::write_fcs(e.frame.bytes());
  e.buffer_bytes = wire_len;
  t.buffer_used += wire_len;
  e.ready_ps = ready + cycles_ps(cfg_.cycles.tx_mac);
  e.frame.id = tags_ != nullptr ? tags_->take(t.chain.front().d.buf_addr) : 0;
  if (e.frame.id == 0) e.frame.id = tx_id_base_ + ++tx_seq_;
  emit(TraceKind::TxLaunch, static_cast<uint8_t>(qp), now_ps(), e.ready_ps, wire_len, 0, e.frame.id);
  t.chain.clear();
  tx_push(qp, std::move(e));
  return true;
}

void Nic::tx_launch_malformed(unsigned qp, uint32_t first, uint32_t ndesc, const TxChainDesc& last) {
  bump(Stat::tx_desc_errors);
  emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), now_ps(), now_ps(), ndesc,
       static_cast<uint64_t>(Stat::tx_desc_errors), 0);
  TxInflight e;
  e.first_desc = first;
  e.ndesc = ndesc;
  e.last = last.d;
  e.last_index = last.index;
  e.wb_errors = model::TxDesc::kErrDesc;
  e.ready_ps = now_ps() + cycles_ps(cfg_.cycles.tx_frame);
  latch_error(regs::err_cause::kTxDesc.mask(), 0, false);
  tx_push(qp, std::move(e));
}

void Nic::tx_push(unsigned qp, TxInflight&& e) {
  TxState& t = txq_[qp];
  const bool was_empty = t.to_wire.empty();
  t.to_wire.push_back(std::move(e));
  if (was_empty) schedule_wire(qp);
}

void Nic::schedule_wire(unsigned qp) {
  TxState& t = txq_[qp];
  TxInflight& e = t.to_wire.front();
  uint64_t start = e.ready_ps;
  uint64_t end;
  e.mac_free_before = mac_free_ps_;
  if (!e.frame) {
    start = end = std::max(start, t.last_end_ps);  // a dropped frame completes in order, off the wire
  } else {
    start = std::max(start, mac_free_ps_);
    const model::BitRate rate = tx_rate();
    mac_free_ps_ = start + static_cast<uint64_t>(wire_time(rate, e.frame.size()).ps());
    end = start + static_cast<uint64_t>(rate.time_for_bytes(kPreambleBytes + kSfdBytes + e.frame.size()).ps());
  }
  e.mac_free_set = mac_free_ps_;
  e.start_ps = start;
  e.scheduled = true;
  t.last_end_ps = std::max(end, t.last_end_ps);
  t.wire_ev = q_.at_ps<&Nic::tx_wire_end>(t.last_end_ps, this, qarg(qp, true));
}

void Nic::tx_wire_end(uint64_t a) {
  const unsigned qp = arg_qp(a);
  TxState& t = txq_[qp];
  t.wire_ev = kNoEvent;
  // The front frame has ended. Dropped (malformed) frames queued right behind it complete at the
  // same instant, off the wire: they are done here with it and their write-backs go out as one
  // group (one commit), so a ring of malformed chains behind a jumbo frame costs a few
  // callbacks, not one per chain (docs/hw.md, "Pending work is bounded").
  std::size_t n = 1;
  while (n < t.to_wire.size() && !t.to_wire[n].frame && !t.to_wire[n].revoked && t.to_wire[n].ready_ps <= now_ps()) {
    ++n;
  }
  done_scratch_.clear();
  for (std::size_t k = 0; k < n; ++k) {
    done_scratch_.push_back(std::move(t.to_wire.front()));
    t.to_wire.pop_front();
  }
  if (!t.to_wire.empty()) schedule_wire(qp);
  for (TxInflight& e : done_scratch_) tx_complete(qp, e);
  done_scratch_.clear();
  dma_.end_group();  // the group's last write-back ends it
  tx_kick(qp);       // buffer space freed (a revoked frame's too): a frame may be waiting for it
}

void Nic::tx_complete(unsigned qp, TxInflight& e) {
  TxState& t = txq_[qp];
  e.frame_id = e.frame.id;
  // The last bit has left: hand the frame to the medium, which times it from its start.
  if (e.frame) {
    const std::size_t bytes = e.frame.size();
    emit(TraceKind::TxWire, static_cast<uint8_t>(qp), e.start_ps, now_ps(), static_cast<uint32_t>(bytes), 0,
         e.frame.id);
    if (medium_ != nullptr && link_up_ && medium_->transmit(side_, std::move(e.frame), e.start_ps)) {
      bump(Stat::tx_packets);
      bump(Stat::tx_bytes, bytes);
    } else {
      // The medium refused it (the link is down): the end of its packet, in this one counter.
      emit(TraceKind::TxDropped, static_cast<uint8_t>(qp), now_ps(), now_ps(), e.ndesc,
           static_cast<uint64_t>(Stat::tx_dropped_link_down), e.frame_id);
      e.frame.release();
      bump(Stat::tx_dropped_link_down);
    }
  }
  t.buffer_used -= e.buffer_bytes;
  if (e.revoked) return;  // its queue was disabled meanwhile: no completion for it
  t.head = t.ring.add(e.first_desc, e.ndesc);
  emit_level(true, qp);
  if (e.last.rs() || e.wb_errors != 0) {
    model::TxDesc wb = e.last;
    wb.status = model::TxDesc::kStaDd;
    wb.errors = e.wb_errors;
    std::array<uint8_t, model::kDescSize> bytes{};
    model::encode(wb, bytes);
    const uint64_t start = now_ps() + cycles_ps(cfg_.cycles.writeback);
    const WriteTag tag{WriteKind::TxDesc, static_cast<uint8_t>(qp), static_cast<uint16_t>(e.ndesc)};
    const DmaResult r = dma_.write(t.base + uint64_t{e.last_index} * model::kDescSize, bytes, start, tag.pack(),
                                   /*more=*/true, e.frame_id);
    if (!r.ok) {
      dma_.end_group();
      bump(Stat::desc_dma_errors);
      stop_queue(true, qp, regs::QueueErr::Dma);
      latch_error(regs::err_cause::kTxDma.mask(), r.fault_addr, true);
    }
  }
}

// ---------------------------------------------------------------------------------- RX

void Nic::rx_kick(unsigned qp) {
  if (!device_enabled()) return;
  start_fetch(false, qp);
}

void Nic::rx_fetch_done(uint64_t a) {
  const unsigned qp = arg_qp(a);
  RxState& r = rxq_[qp];
  r.fetch_ev = kNoEvent;
  if (!r.running) return;
  for (uint32_t k = 0; k < r.fetch_count; ++k) {
    const uint64_t addr = model::load_le<uint64_t>(r.fetch_buf, std::size_t{k} * model::kDescSize);
    r.cache->push(model::FifoWord{addr, r.ring.add(r.fetch_first, k)});
  }
  r.fetch = r.ring.add(r.fetch_first, r.fetch_count);
  rx_kick(qp);
}

bool Nic::rx_filter(const model::Frame& f) const {
  const uint32_t ctrl = word(regs::kRxCtrl, 0);
  if (regs::rx_ctrl::kPromisc.get(ctrl) != 0) return true;  // promiscuous
  model::MacAddr dst;
  std::memcpy(dst.b.data(), f.data(), 6);
  if (dst.is_broadcast()) return regs::rx_ctrl::kBcast.get(ctrl) != 0;
  if (dst.is_multicast()) {
    if (regs::rx_ctrl::kAllmulti.get(ctrl) != 0) return true;  // all-multicast
    const unsigned idx = model::mc_hash_index(dst);
    const uint32_t w = idx < 32 ? word(regs::kMcHashLo, 0) : word(regs::kMcHashHi, 0);
    return ((w >> (idx & 31)) & 1u) != 0;
  }
  return dst == model::MacAddr::from_words(word(regs::kMacLo, 0), word(regs::kMacHi, 0));
}

void Nic::eth_receive(model::Frame&& frame) {
  const unsigned qp = 0;  // one queue pair receives everything (no RSS yet)
  RxState& r = rxq_[qp];
  const uint64_t fid = frame.id;
  emit(TraceKind::RxArrive, qp, now_ps(), now_ps(), static_cast<uint32_t>(frame.size()), 0, fid);
  auto drop = [&](Stat s) {
    bump(s);
    // MAC checks are ingress step 2; no free descriptor is step 3 (nowhere to DMA it).
    emit(TraceKind::RxDrop, qp, now_ps(), now_ps(), static_cast<uint32_t>(frame.size()), static_cast<uint64_t>(s), fid,
         s == Stat::rx_missed_errors || s == Stat::rx_length_errors ? model::ingress(3) : model::ingress(2));
  };
  if (!device_enabled() || !r.running) {
    drop(Stat::rx_dropped_disabled);
    return;
  }
  const uint32_t ctrl = word(regs::kRxCtrl, 0);
  const bool rx_all = regs::rx_ctrl::kRxAll.get(ctrl) != 0;
  const bool keep_fcs = regs::rx_ctrl::kRxFcs.get(ctrl) != 0;
  const std::size_t len = frame.size();
  uint16_t errors = 0;
  if (!model::fcs_ok(frame.bytes())) {
    if (!rx_all) {
      drop(Stat::rx_crc_errors);
      return;
    }
    errors |= model::RxDesc::kErrFcs;
  }
  if (len < regs::kMinFrame || len > word(regs::kMaxFrame, 0)) {
    if (!rx_all || len < 14 + model::kFcsLen) {  // without a whole header even rx-all drops it
      drop(Stat::rx_length_errors);
      return;
    }
    errors |= model::RxDesc::kErrLength;
  }
  if (!rx_filter(frame)) {
    drop(Stat::rx_filtered);
    return;
  }
  const std::size_t data_len = keep_fcs ? len : len - model::kFcsLen;
  if (data_len > r.buf_size) {
    drop(Stat::rx_length_errors);
    return;
  }
  emit(TraceKind::RxAccept, qp, now_ps(), now_ps(), static_cast<uint32_t>(len), 0, fid);
  model::FifoWord w;
  if (!r.cache->pop(&w)) {
    drop(Stat::rx_missed_errors);
    return;
  }
  const uint64_t buf_addr = w.lo;
  const uint32_t idx = static_cast<uint32_t>(w.hi);
  const uint64_t start = now_ps() + cycles_ps(cfg_.cycles.rx_mac + cfg_.cycles.rx_dma);
  model::MacAddr dst;
  std::memcpy(dst.b.data(), frame.data(), 6);
  // The frame itself is held until its bytes land: no copy. It is counted when its write-back
  // lands (rx_packets), or dropped then if either write was refused or revoked.
  const DmaResult d = dma_.write_frame(buf_addr, std::move(frame), data_len, start,
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
  if (keep_fcs) wb.status |= model::RxDesc::kStaFcs;
  wb.errors = errors;
  DmaResult b{};
  if (d.ok) {
    std::array<uint8_t, model::kDescSize> bytes{};
    model::encode(wb, bytes);
    b = dma_.write(r.base + uint64_t{idx} * model::kDescSize, bytes, start + cycles_ps(cfg_.cycles.writeback),
                   tag.pack(), false, fid);
    if (!b.ok) dma_.drop_unfinished();  // the data must not land without its descriptor
  }
  if (!d.ok || !b.ok) {
    bump(Stat::rx_dma_errors);
    emit(TraceKind::RxDrop, qp, now_ps(), now_ps(), static_cast<uint32_t>(data_len),
         static_cast<uint64_t>(Stat::rx_dma_errors), fid, model::ingress(3));
    stop_queue(false, qp, regs::QueueErr::Dma);
    latch_error(regs::err_cause::kRxDma.mask(), d.ok ? b.fault_addr : d.fault_addr, true);
    return;
  }
  r.head = r.ring.next(idx);
  emit_level(false, qp);
  if (tags_ != nullptr) tags_->put(buf_addr, fid);
  emit(TraceKind::RxDma, qp, now_ps(), b.done_ps, static_cast<uint32_t>(data_len), idx, fid);
  rx_kick(qp);
}

void Nic::eth_link_changed(bool up, model::BitRate rate) {
  link_up_ = up;
  if (up) link_rate_ = rate;
  raise_misc(regs::kIcrLink);
}

void Nic::write_done_thunk(void* ctx, const WriteDone& done) { static_cast<Nic*>(ctx)->on_write_done(done); }

void Nic::on_write_done(const WriteDone& w) {
  // A posted write has ended. Completions count when their write-back lands; a write refused as
  // it lands (its address passed the probe at issue, then the mapping changed) stops its queue.
  const WriteTag tag = WriteTag::unpack(w.tag);
  const unsigned qp = tag.qp;
  const uint64_t now = now_ps();
  auto rx_refused = [&] {
    bump(Stat::rx_dma_errors);
    emit(TraceKind::RxDrop, qp, now, now, tag.len, static_cast<uint64_t>(Stat::rx_dma_errors), w.id, model::ingress(3));
    stop_queue(false, qp, regs::QueueErr::Dma);
    latch_error(regs::err_cause::kRxDma.mask(), w.addr, true);
  };
  switch (tag.kind) {
    case WriteKind::Msi:
      if (w.status == WriteStatus::Refused) bump(Stat::irq_msg_errors);
      return;
    case WriteKind::TxDesc:
      if (w.status == WriteStatus::Landed) {
        emit(TraceKind::TxDone, static_cast<uint8_t>(qp), now, now, tag.len, 0, w.id);
        mod_complete(qp, true, 1, now);
      } else if (w.status == WriteStatus::Refused) {
        bump(Stat::desc_dma_errors);
        stop_queue(true, qp, regs::QueueErr::Dma);
        latch_error(regs::err_cause::kTxDma.mask(), w.addr, true);
      }
      return;
    case WriteKind::RxData:
      if (w.status == WriteStatus::Refused) rx_refused();  // its descriptor is skipped: no DD
      return;
    case WriteKind::RxDesc:
      switch (w.status) {
        case WriteStatus::Landed:
          emit(TraceKind::RxComplete, qp, now, now, tag.len, (w.addr - rxq_[qp].base) / model::kDescSize, w.id);
          bump(Stat::rx_packets);
          bump(Stat::rx_bytes, tag.len);
          if (tag.flags & WriteTag::kFlagBcast) bump(Stat::rx_broadcast);
          if (tag.flags & WriteTag::kFlagMcast) bump(Stat::rx_multicast);
          mod_complete(qp, false, 1, now);
          break;
        case WriteStatus::Refused:
          rx_refused();
          break;
        case WriteStatus::Revoked:  // the queue was disabled or the device reset first
          bump(Stat::rx_dropped_disabled);
          emit(TraceKind::RxDrop, qp, now, now, tag.len, static_cast<uint64_t>(Stat::rx_dropped_disabled), w.id,
               model::ingress(4));
          break;
        case WriteStatus::Skipped:  // counted with its refused data write
          break;
      }
      return;
  }
}

// ---------------------------------------------------------------------------------- interrupts

void Nic::mod_complete(unsigned qp, bool tx, uint32_t n, uint64_t at_ps) {
  Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
  m.pending += n;
  const bool every = m.frames == 1 || (m.frames == 0 && m.usecs == 0);
  if (every || (m.frames > 1 && m.pending >= m.frames)) {
    if (m.fire_ev == kNoEvent) {
      m.fire_ev = q_.at_ps<&Nic::mod_fire_event>(at_ps + cycles_ps(cfg_.cycles.irq), this, qarg(qp, tx));
    }
    return;
  }
  if (m.usecs > 0 && m.deadline == kNever) mod_arm_timer(qp, tx, at_ps + uint64_t{m.usecs} * 1000'000u);
}

void Nic::mod_arm_timer(unsigned qp, bool tx, uint64_t deadline) {
  Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
  m.deadline = deadline;
  if (m.timer_ev != kNoEvent && m.timer_ev_ps <= deadline) return;  // it runs first and moves on
  cancel(m.timer_ev);  // only when a shorter usecs brings the deadline forward
  m.timer_ev = q_.at_ps<&Nic::mod_timer_event>(deadline, this, qarg(qp, tx));
  m.timer_ev_ps = deadline;
}

void Nic::mod_fire_event(uint64_t a) {
  const unsigned qp = arg_qp(a);
  const bool tx = arg_tx(a);
  Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
  m.fire_ev = kNoEvent;
  if (m.pending > 0) mod_fire(qp, tx);
}

void Nic::mod_timer_event(uint64_t a) {
  const unsigned qp = arg_qp(a);
  const bool tx = arg_tx(a);
  Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
  m.timer_ev = kNoEvent;
  m.timer_ev_ps = kNever;
  if (m.deadline == kNever) return;  // disarmed by an interrupt meanwhile
  if (m.deadline > now_ps()) {       // re-armed later meanwhile: move on to that deadline
    mod_arm_timer(qp, tx, m.deadline);
    return;
  }
  m.deadline = kNever;
  if (m.pending > 0) mod_fire(qp, tx);
}

void Nic::mod_fire(unsigned qp, bool tx) {
  Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
  if ((word(regs::kImask, 0) >> qp) & 1u) {
    m.fire_pending = true;  // masked: keep the work, fire on unmask
    return;
  }
  m.pending = 0;
  m.fire_pending = false;
  m.deadline = kNever;  // the timer callback, if scheduled, finds it disarmed
  bump(tx ? Stat::irq_tx : Stat::irq_rx);
  raise_vector(qp, tx ? regs::icr_tx_bit(qp) : regs::icr_rx_bit(qp));
}

void Nic::raise_vector(unsigned vec, uint32_t icr_bits) {
  word(regs::kIcr, 0) |= icr_bits;
  if ((msix_control_ & model::pci::kMsixEnable) == 0) {
    bump(Stat::irq_no_msix);  // no INTx either: the interrupt is lost, as on a real function
    return;
  }
  if ((msix_control_ & model::pci::kMsixFunctionMask) != 0 || (word(regs::kMsixVctrl, vec) & 1u) != 0) {
    word(regs::kMsixPba, 0) |= 1u << vec;  // held back; sent when unmasked
    return;
  }
  send_msi(vec);
}

void Nic::msix_release_pending() {
  if ((msix_control_ & model::pci::kMsixEnable) == 0 || (msix_control_ & model::pci::kMsixFunctionMask) != 0) return;
  uint32_t& pba = word(regs::kMsixPba, 0);
  for (unsigned vec = 0; vec <= misc_vector(); ++vec) {
    if (((pba >> vec) & 1u) != 0 && (word(regs::kMsixVctrl, vec) & 1u) == 0) {
      pba &= ~(1u << vec);
      send_msi(vec);
    }
  }
}

void Nic::send_msi(unsigned vec) {
  // The message is a posted memory write of the vector's data to its address: ordered after
  // every write-back before it, and refused like any DMA when bus mastering is off.
  if (!dma_.bus_master()) {
    bump(Stat::dma_no_bme);
    return;
  }
  const uint64_t addr = (uint64_t{word(regs::kMsixAddrHi, vec)} << 32) | word(regs::kMsixAddrLo, vec);
  std::array<uint8_t, 4> data{};
  model::store_le<uint32_t>(data, 0, word(regs::kMsixData, vec));
  const DmaResult r =
      dma_.write(addr, data, now_ps(), WriteTag{WriteKind::Msi, static_cast<uint8_t>(vec)}.pack(), false, 0, /*quiet=*/true);
  if (!r.ok) {
    bump(Stat::irq_msg_errors);
    return;
  }
  ++word(regs::kVecCount, vec);
  emit(TraceKind::Irq, static_cast<uint8_t>(vec), r.done_ps, r.done_ps, vec, addr, 0);
}

void Nic::raise_misc(uint32_t icr_bits) {
  word(regs::kIcr, 0) |= icr_bits;
  if ((word(regs::kImask, 0) >> misc_vector()) & 1u) {
    misc_pending_ = true;
    return;
  }
  bump(Stat::irq_misc);
  raise_vector(misc_vector(), 0);
}

void Nic::unmask(uint32_t vec_bits) {
  for (unsigned qp = 0; qp < cfg_.num_qp; ++qp) {
    if (((vec_bits >> qp) & 1u) == 0) continue;
    for (bool tx : {false, true}) {
      Moderator& m = tx ? txq_[qp].mod : rxq_[qp].mod;
      if (m.fire_pending) {
        mod_fire(qp, tx);
      } else if (m.pending > 0) {
        // The timer restarts from the unmask; a count threshold already met fires now.
        mod_complete(qp, tx, 0, now_ps());
      }
    }
  }
  if (((vec_bits >> misc_vector()) & 1u) != 0 && misc_pending_) {
    misc_pending_ = false;
    bump(Stat::irq_misc);
    raise_vector(misc_vector(), 0);
  }
}

}  // namespace vnic::hw

// DmaEngine: PCIe timing arithmetic and the functional copy through DMI or b_transport.
#include "vnic/hw/dma_engine.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <array>
#include <cstring>

#include "vnic/hw/event_queue.hpp"

namespace vnic::hw {

DmaEngine::DmaEngine(sc_core::sc_module_name name, EventQueue& q, const PcieConfig& cfg)
    : sc_core::sc_module(name), socket("socket"), q_(q), cfg_(cfg),
      tag_done_ps_(std::max(1u, cfg.max_outstanding_reads), 0) {
  if (!std::has_single_bit(cfg_.mps) || !std::has_single_bit(cfg_.mrrs) || cfg_.mps > 4096) {
    throw std::invalid_argument("PcieConfig: MPS and MRRS must be powers of two, MPS at most 4096");
  }
  // Serialisation times of every TLP size the engine can produce, so the hot path divides
  // nothing: the largest is a read's completions, MRRS bytes in MRRS/MPS + 1 TLPs.
  const uint64_t most = uint64_t{cfg_.mrrs} + (cfg_.mrrs / cfg_.mps + 2) * cfg_.tlp_overhead;
  ser_table_.resize(most + 1);
  for (uint64_t b = 0; b <= most; ++b) ser_table_[b] = cfg_.ser_ps(b);
  mps_shift_ = static_cast<unsigned>(std::countr_zero(cfg_.mps));
  ser_full_mps_ = ser(uint64_t{cfg_.mps} + cfg_.tlp_overhead);
  half_rtt_ps_ = static_cast<uint64_t>(cfg_.read_rtt.ps()) / 2;
  socket.register_invalidate_direct_mem_ptr(this, &DmaEngine::invalidate_dmi);
}

uint32_t DmaEngine::split_count(uint64_t addr, uint64_t len, uint32_t boundary) {
  if (len == 0) return 0;
  const int shift = std::countr_zero(boundary);  // boundaries are powers of two
  const uint64_t first = addr >> shift;
  const uint64_t last = (addr + len - 1) >> shift;
  return static_cast<uint32_t>(last - first + 1);
}

void DmaEngine::reset() {
  up_free_ps_ = down_free_ps_ = 0;
  std::fill(tag_done_ps_.begin(), tag_done_ps_.end(), 0);
  next_tag_ = 0;
  ++epoch_;
  drain(true);
}

void DmaEngine::drop_pending() { drain(false); }

void DmaEngine::drain(bool report_revoked) {
  if (commit_ev_ != EventQueue::kNone) q_.cancel(commit_ev_);
  commit_ev_ = EventQueue::kNone;
  while (!pending_.empty()) {
    PendingWrite w = std::move(pending_.front());
    pending_.pop_front();
    if (report_revoked) report(w, WriteStatus::Revoked);
    recycle(w);
  }
}

void DmaEngine::WriteRing::grow() {
  const std::size_t cap = slots_.empty() ? 16 : slots_.size() * 2;
  std::vector<PendingWrite> next(cap);
  for (std::size_t i = 0; i < n_; ++i) next[i] = std::move((*this)[i]);
  slots_.swap(next);
  head_ = 0;
  mask_ = cap - 1;
}

void DmaEngine::report(PendingWrite& w, WriteStatus st, uint64_t fault) {
  if (on_write_done_ == nullptr) return;
  on_write_done_(write_done_ctx_, WriteDone{w.tag, w.frame ? w.frame.id : w.id, st == WriteStatus::Refused ? fault : w.addr, st});
}

void DmaEngine::recycle(PendingWrite& w) {
  if (w.frame) {
    w.frame.release();
  } else if (w.bytes.capacity() != 0) {
    spare_.push_back(std::move(w.bytes));
  }
}

void DmaEngine::end_group() {
  if (pending_.empty() || !pending_.back().more) return;
  pending_.back().more = false;
  arm_commit();
}

void DmaEngine::drop_unfinished() {
  if (pending_.empty() || !pending_.back().more) return;
  ++revision_;
  PendingWrite w = std::move(pending_.back());
  pending_.pop_back();
  report(w, WriteStatus::Revoked);
  recycle(w);
}

// Keeps exactly one commit callback scheduled while a write that ends a group is pending.
void DmaEngine::arm_commit() {
  if (commit_ev_ != EventQueue::kNone || in_commit_) return;
  for (std::size_t i = 0, n = pending_.size(); i < n; ++i) {
    const PendingWrite& w = pending_[i];
    if (!w.more) {
      commit_ev_ = q_.at_ps<&DmaEngine::commit_writes>(w.land_ps, this);
      return;
    }
  }
}

void DmaEngine::invalidate_dmi(sc_dt::uint64, sc_dt::uint64) {
  dmi_valid_ = false;
  dmi_tried_ = false;
}

bool DmaEngine::access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len,
                       uint64_t* extra_ps) {
  if (len == 0) return true;
  if (addr + len < addr) return false;  // wraps the 64-bit space
  ensure_dmi(addr);
  const bool want_write = cmd == tlm::TLM_WRITE_COMMAND;
  if (uint8_t* p = dmi_ptr(addr, len, want_write)) {
    if (want_write) {
      std::memcpy(p, data, len);
    } else {
      std::memcpy(data, p, len);
    }
    return true;
  }
  // Slow path: one transaction; the target's annotated delay is kept and charged.
  gp_.set_command(cmd);
  gp_.set_address(addr);
  gp_.set_data_ptr(data);
  gp_.set_data_length(len);
  gp_.set_streaming_width(len);
  gp_.set_byte_enable_ptr(nullptr);
  gp_.set_dmi_allowed(false);
  gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  ++in_transport_;
  socket->b_transport(gp_, delay);
  --in_transport_;
  *extra_ps += to_ps(delay);
  if (gp_.is_dmi_allowed() && !dmi_valid_) dmi_tried_ = false;  // ask again next time
  return gp_.is_response_ok();
}

void DmaEngine::ensure_dmi(uint64_t addr) {
  if (dmi_tried_) return;
  dmi_tried_ = true;
  tlm::tlm_generic_payload p;
  p.set_command(tlm::TLM_READ_COMMAND);
  p.set_address(addr);
  ++in_transport_;
  dmi_valid_ = socket->get_direct_mem_ptr(p, dmi_);
  --in_transport_;
}

bool DmaEngine::probe(uint64_t addr, uint64_t len, uint64_t* extra_ps) {
  if (len == 0) return true;
  if (addr + len < addr) return false;
  ensure_dmi(addr);
  if (dmi_valid_ && addr >= dmi_.get_start_address() && addr + len - 1 <= dmi_.get_end_address() &&
      dmi_.is_write_allowed()) {
    return true;
  }
  // Ask the target without moving data: TLM_IGNORE_COMMAND checks the address only.
  gp_.set_command(tlm::TLM_IGNORE_COMMAND);
  gp_.set_address(addr);
  gp_.set_data_ptr(probe_buf_.data());  // as long as any chunk (<= MPS): a careless target stays inside
  gp_.set_data_length(static_cast<unsigned>(len));
  gp_.set_streaming_width(static_cast<unsigned>(len));
  gp_.set_byte_enable_ptr(nullptr);
  gp_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  ++in_transport_;
  socket->b_transport(gp_, delay);
  --in_transport_;
  *extra_ps += to_ps(delay);  // the target's delay is charged to the write, never dropped
  return gp_.is_response_ok();
}

DmaResult DmaEngine::read(uint64_t addr, std::span<uint8_t> dst, uint64_t start_ps) {
  DmaResult r;
  if (!bus_master_) {
    ++stats_.no_bme;
    return DmaResult{false, start_ps, addr};
  }
  uint64_t extra_ps = 0;
  uint64_t off = 0;
  uint64_t done = start_ps;
  const uint64_t req_ps = ser(cfg_.tlp_overhead);
  // The whole range inside the DMI region: one copy for all its requests (the bytes are the
  // same, sampled at the same instant); the timing is still per request below.
  const uint8_t* whole = nullptr;
  if (!dst.empty() && addr + dst.size() > addr) {
    ensure_dmi(addr);
    whole = dmi_ptr(addr, dst.size(), false);
    if (whole != nullptr) std::memcpy(dst.data(), whole, dst.size());
  }
  while (off < dst.size()) {
    const uint64_t a = addr + off;
    const uint64_t chunk = std::min<uint64_t>(dst.size() - off, cfg_.mrrs - (a & (cfg_.mrrs - 1)));
    // Timing: wait for a free tag and the upstream link, send the request, then the
    // completions (split by MPS) arrive after the round trip on the downstream link.
    uint64_t& tag = tag_done_ps_[next_tag_];
    if (++next_tag_ == tag_done_ps_.size()) next_tag_ = 0;
    const uint64_t issue = std::max({start_ps, up_free_ps_, tag});
    up_free_ps_ = issue + req_ps;
    const uint64_t cpl_tlps = split_count(a, chunk, cfg_.mps);
    const uint64_t arrive = std::max(issue + static_cast<uint64_t>(cfg_.read_rtt.ps()), down_free_ps_);
    const uint64_t cpl_done = arrive + ser(chunk + cpl_tlps * cfg_.tlp_overhead);
    down_free_ps_ = cpl_done;
    tag = cpl_done;
    done = std::max(done, cpl_done);
    ++stats_.rd_tlps;
    stats_.rd_bytes += chunk;
    if (whole == nullptr && r.ok && !access(tlm::TLM_READ_COMMAND, a, dst.data() + off, static_cast<uint32_t>(chunk), &extra_ps)) {
      r.ok = false;
      r.fault_addr = a;
      ++stats_.errors;
    }
    off += chunk;
  }
  r.done_ps = done + extra_ps;
  return r;
}

DmaResult DmaEngine::reserve_write(uint64_t addr, std::size_t len, uint64_t start_ps) {
  DmaResult r;
  if (!bus_master_) {
    ++stats_.no_bme;
    return DmaResult{false, start_ps, addr};
  }
  uint64_t extra_ps = 0;
  // A device learns of a bad address when it issues the write (the IOMMU/host bridge refuses
  // it): probe every chunk first, so a refused write reserves nothing and lands nowhere.
  const bool in_dmi = dmi_valid_ && dmi_.is_write_allowed() && len > 0 && addr + len > addr &&
                      addr >= dmi_.get_start_address() && addr + len - 1 <= dmi_.get_end_address();
  for (uint64_t off = 0; !in_dmi && off < len;) {
    const uint64_t a = addr + off;
    const uint64_t chunk = std::min<uint64_t>(len - off, cfg_.mps - (a & (cfg_.mps - 1)));
    if (!probe(a, chunk, &extra_ps)) {
      r.ok = false;
      r.fault_addr = a;
      ++stats_.errors;
      return r;
    }
    off += chunk;
  }
  // The TLPs leave back to back: the first (up to the next MPS boundary) when the link is free,
  // then whole MPS ones, then the rest.
  uint64_t last = start_ps;
  if (len > 0) {
    const uint64_t first = std::min<uint64_t>(len, cfg_.mps - (addr & (cfg_.mps - 1)));
    const uint64_t rest = len - first;
    const uint64_t full = rest >> mps_shift_;  // MPS is a power of two
    const uint64_t tail = rest & (cfg_.mps - 1);
    last = std::max(start_ps, up_free_ps_) + ser(first + cfg_.tlp_overhead);
    if (full != 0) last += full * ser_full_mps_;
    if (tail != 0) last += ser(tail + cfg_.tlp_overhead);
    up_free_ps_ = last;
    stats_.wr_tlps += 1 + full + (tail != 0 ? 1 : 0);
    stats_.wr_bytes += len;
  }
  // Posted: the data lands half a round trip after it leaves the device, never before an
  // earlier write (PCIe keeps posted writes in order).
  uint64_t land = last + half_rtt_ps_ + extra_ps;
  if (!pending_.empty()) land = std::max(land, pending_.back().land_ps);
  r.done_ps = land;
  return r;
}

DmaResult DmaEngine::write(uint64_t addr, std::span<const uint8_t> src, uint64_t start_ps, uint64_t tag,
                           bool more, uint64_t id, bool quiet) {
  const DmaResult r = reserve_write(addr, src.size(), start_ps);
  if (!r.ok) return r;
  PendingWrite& w = pending_.push_back();
  w.addr = addr;
  w.land_ps = r.done_ps;
  w.tag = tag;
  w.id = id;
  w.len = src.size();
  w.more = more;
  w.quiet = quiet;
  if (src.size() <= kInlineBytes) {
    if (!src.empty()) std::memcpy(w.small.data(), src.data(), src.size());
  } else {
    if (!spare_.empty()) {
      w.bytes = std::move(spare_.back());
      spare_.pop_back();
    }
    w.bytes.assign(src.begin(), src.end());
  }
  if (!more) arm_commit();
  return r;
}

DmaResult DmaEngine::write_frame(uint64_t addr, model::Frame&& frame, std::size_t len, uint64_t start_ps,
                                 uint64_t tag, bool more, bool quiet) {
  len = std::min(len, frame.size());
  const DmaResult r = reserve_write(addr, len, start_ps);
  if (!r.ok) {
    frame.release();
    return r;
  }
  PendingWrite& w = pending_.push_back();
  w.addr = addr;
  w.land_ps = r.done_ps;
  w.tag = tag;
  w.id = 0;
  w.len = len;
  w.more = more;
  w.quiet = quiet;
  w.frame = std::move(frame);
  if (!more) arm_commit();
  return r;
}

void DmaEngine::commit_writes(uint64_t) {
  commit_ev_ = EventQueue::kNone;
  const uint64_t now = q_.now_ps();
  const uint64_t epoch = epoch_;
  // Commit in order up to the last write that is due and not followed by another.
  auto due = [&] {
    std::size_t k = 0;
    for (std::size_t i = 0; i < pending_.size() && pending_[i].land_ps <= now; ++i) {
      if (!pending_[i].more) k = i + 1;
    }
    return k;
  };
  std::size_t n = due();
  uint64_t revision = revision_;
  // Handlers may issue writes (an error interrupt): they wait for the re-arm below, so at most
  // one commit callback is ever scheduled.
  in_commit_ = true;
  bool skip = false;  // the write this one depends on was refused
  while (n-- > 0 && !pending_.empty()) {
    // The common case, landed in place: not skipped, wholly inside the DMI region, and no frame
    // to keep until a report. One copy; the slot is emptied before the handler runs (it may
    // issue writes into the ring).
    if (PendingWrite& s = pending_.front(); !skip && (s.quiet || !s.frame) && s.len > 0 && s.addr + s.len > s.addr) {
      ensure_dmi(s.addr);
      if (uint8_t* p = dmi_ptr(s.addr, s.len, true)) {
        std::memcpy(p, s.data(), s.len);
        const bool quiet = s.quiet;
        const WriteDone done{s.tag, s.frame ? s.frame.id : s.id, s.addr, WriteStatus::Landed};
        recycle(s);
        pending_.pop_front();
        if (!quiet && on_write_done_ != nullptr) on_write_done_(write_done_ctx_, done);
        if (epoch != epoch_) break;
        if (revision != revision_) {
          revision = revision_;
          n = due();
        }
        continue;
      }
    }
    PendingWrite w = std::move(pending_.front());
    pending_.pop_front();
    const bool dependent_follows = w.more;
    if (skip) {
      report(w, WriteStatus::Skipped);
    } else {
      uint64_t extra_ps = 0;  // charged when the write was probed at issue
      uint8_t* data = w.data();
      uint64_t off = 0;
      uint64_t fault = 0;
      bool ok = true;
      // The whole write inside the DMI region: one copy for all its TLPs (they land together).
      if (w.len > 0 && w.addr + w.len > w.addr) {
        ensure_dmi(w.addr);
        if (uint8_t* p = dmi_ptr(w.addr, w.len, true)) {
          std::memcpy(p, data, w.len);
          off = w.len;
        }
      }
      while (off < w.len) {
        const uint64_t a = w.addr + off;
        const uint64_t chunk = std::min<uint64_t>(w.len - off, cfg_.mps - (a & (cfg_.mps - 1)));
        if (!access(tlm::TLM_WRITE_COMMAND, a, data + off, static_cast<uint32_t>(chunk), &extra_ps)) {
          ++stats_.errors;
          ok = false;
          fault = a;
          break;
        }
        off += chunk;
      }
      if (!ok || !w.quiet) report(w, ok ? WriteStatus::Landed : WriteStatus::Refused, fault);
      skip = !ok && dependent_follows;
    }
    if (!dependent_follows) skip = false;
    recycle(w);
    if (epoch != epoch_) break;  // a handler reset the device: everything else was revoked
    if (revision != revision_) {  // a handler revoked writes: count again what is due
      revision = revision_;
      n = due();
      skip = false;  // the write it applied to may be gone; never skip an unrelated one
    }
  }
  in_commit_ = false;
  arm_commit();
}

}  // namespace vnic::hw

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
  if (commit_ev_ != EventQueue::kNone) q_.cancel(commit_ev_);
  commit_ev_ = EventQueue::kNone;
  while (!pending_.empty()) {
    PendingWrite w = std::move(pending_.front());
    pending_.pop_front();
    report(w, WriteStatus::Revoked);
    recycle(w);
  }
}

void DmaEngine::report(PendingWrite& w, WriteStatus st, uint64_t fault) {
  if (on_write_done_ == nullptr) return;
  on_write_done_(write_done_ctx_, WriteDone{w.tag, w.frame ? w.frame.id : w.id, st == WriteStatus::Refused ? fault : w.addr, st});
}

void DmaEngine::recycle(PendingWrite& w) {
  if (w.frame) {
    w.frame.release();
  } else {
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
  for (const PendingWrite& w : pending_) {
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
  if (dmi_valid_ && addr >= dmi_.get_start_address() && addr + len - 1 <= dmi_.get_end_address() &&
      (want_write ? dmi_.is_write_allowed() : dmi_.is_read_allowed())) {
    uint8_t* p = dmi_.get_dmi_ptr() + (addr - dmi_.get_start_address());
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
  while (off < dst.size()) {
    const uint64_t a = addr + off;
    const uint64_t chunk = std::min<uint64_t>(dst.size() - off, cfg_.mrrs - (a & (cfg_.mrrs - 1)));
    // Timing: wait for a free tag and the upstream link, send the request, then the
    // completions (split by MPS) arrive after the round trip on the downstream link.
    uint64_t& tag = tag_done_ps_[next_tag_];
    next_tag_ = (next_tag_ + 1) % tag_done_ps_.size();
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
    if (r.ok && !access(tlm::TLM_READ_COMMAND, a, dst.data() + off, static_cast<uint32_t>(chunk), &extra_ps)) {
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
  uint64_t off = 0;
  uint64_t last = start_ps;
  while (off < len) {
    const uint64_t a = addr + off;
    const uint64_t chunk = std::min<uint64_t>(len - off, cfg_.mps - (a & (cfg_.mps - 1)));
    const uint64_t begin = std::max(start_ps, up_free_ps_);
    up_free_ps_ = begin + ser(chunk + cfg_.tlp_overhead);
    last = up_free_ps_;
    ++stats_.wr_tlps;
    stats_.wr_bytes += chunk;
    off += chunk;
  }
  // Posted: the data lands half a round trip after it leaves the device, never before an
  // earlier write (PCIe keeps posted writes in order).
  uint64_t land = last + static_cast<uint64_t>(cfg_.read_rtt.ps()) / 2 + extra_ps;
  if (!pending_.empty()) land = std::max(land, pending_.back().land_ps);
  r.done_ps = land;
  return r;
}

void DmaEngine::enqueue(PendingWrite&& w) {
  const bool ends_group = !w.more;
  pending_.push_back(std::move(w));
  if (ends_group) arm_commit();
}

DmaResult DmaEngine::write(uint64_t addr, std::span<const uint8_t> src, uint64_t start_ps, uint64_t tag,
                           bool more, uint64_t id, bool quiet) {
  const DmaResult r = reserve_write(addr, src.size(), start_ps);
  if (!r.ok) return r;
  std::vector<uint8_t> buf;
  if (!spare_.empty()) {
    buf = std::move(spare_.back());
    spare_.pop_back();
  }
  buf.assign(src.begin(), src.end());
  enqueue(PendingWrite{addr, r.done_ps, tag, id, more, quiet, std::move(buf), model::Frame{}, src.size()});
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
  enqueue(PendingWrite{addr, r.done_ps, tag, 0, more, quiet, {}, std::move(frame), len});
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
    PendingWrite w = std::move(pending_.front());
    pending_.pop_front();
    const bool dependent_follows = w.more;
    if (skip) {
      report(w, WriteStatus::Skipped);
    } else {
      uint64_t extra_ps = 0;  // charged when the write was probed at issue
      uint8_t* data = w.frame ? w.frame.data() : w.bytes.data();
      uint64_t off = 0;
      uint64_t fault = 0;
      bool ok = true;
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

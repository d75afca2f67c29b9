// DmaEngine: the NIC's PCIe bus-master port. Splits reads by MRRS and writes by MPS, charges
// TLP overhead, lane bandwidth and read round trips, limits outstanding reads, and moves the
// bytes through a TLM-2.0 initiator socket (DMI when the target grants it).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vnic/model/frame.hpp"
#include "vnic/model/units.hpp"

namespace vnic::hw {

class EventQueue;

// PCIe link parameters (defaults: Gen3 x8, MPS 256, MRRS 512, 500 ns read round trip).
struct PcieConfig {
  unsigned lanes = 8;
  uint32_t mts = 8000;            // mega-transfers per second per lane (Gen3: 8 GT/s)
  uint32_t enc_payload = 128;     // line coding: 128b/130b (Gen3+); 8b/10b is 8/10
  uint32_t enc_total = 130;
  uint32_t mps = 256;             // Max Payload Size: largest write / completion TLP payload
  uint32_t mrrs = 512;            // Max Read Request Size
  uint32_t tlp_overhead = 24;     // framing + sequence + header + LCRC bytes per TLP
  model::Duration read_rtt = model::Duration::ns(500);  // request sent -> first completion byte
  unsigned max_outstanding_reads = 32;  // read tags; 32 x 512 B covers 7.9 GB/s x 500 ns

  // Time to move `bytes` over the link in one direction, rounded up to a picosecond.
  uint64_t ser_ps(uint64_t bytes) const {
    const uint64_t num = bytes * 8u * enc_total * 1000'000u;  // ps * MT/s
    const uint64_t den = uint64_t{enc_payload} * lanes * mts;
    return (num + den - 1) / den;
  }
};

// Where DMA failed, and when a transfer is complete.
struct DmaResult {
  bool ok = true;
  uint64_t done_ps = 0;      // reads: last byte at the device; writes: last byte in host memory
  uint64_t fault_addr = 0;   // first address the target refused
};

// How a posted write ended, reported once per write (with the tag and id it was issued with).
enum class WriteStatus : uint8_t {
  Landed,   // in host memory
  Refused,  // host memory refused it as it landed (fault_addr: the first refused address)
  Skipped,  // not attempted: it followed (more = true) a write that was refused
  Revoked,  // abandoned before landing by revoke_if() or reset()
};
struct WriteDone {
  uint64_t tag = 0;
  uint64_t id = 0;
  uint64_t addr = 0;  // the write's address; for Refused, the first address refused
  WriteStatus status = WriteStatus::Landed;
};

struct DmaStats {
  uint64_t rd_tlps = 0, rd_bytes = 0, wr_tlps = 0, wr_bytes = 0, errors = 0;
  uint64_t no_bme = 0;  // transfers refused because bus mastering is off
};

class DmaEngine : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<DmaEngine> socket;

  // Called once for every posted write when it ends (landed, refused, skipped or revoked).
  using WriteDoneFn = void (*)(void* ctx, const WriteDone& done);

  DmaEngine(sc_core::sc_module_name name, EventQueue& q, const PcieConfig& cfg);
  void set_write_done_handler(WriteDoneFn fn, void* ctx) {
    on_write_done_ = fn;
    write_done_ctx_ = ctx;
  }

  // Reads host memory [addr, addr+dst.size()) into dst. The device owns what it reads, so the
  // bytes are sampled now; done_ps is when they would all have arrived for a request leaving
  // at start_ps. ok=false when host memory refused an address (dst is then partly garbage).
  // A write is refused before it moves if host memory refuses the probe of its address.
  DmaResult read(uint64_t addr, std::span<uint8_t> dst, uint64_t start_ps);
  // Posted write: the timing is reserved now, the bytes are copied and land in host memory at
  // done_ps (in issue order), so the host never sees them early. A refusal is reported then
  // through the write-done handler with `tag` and `id`. `more` = true says another write
  // follows at once that depends on this one (RX data before its descriptor): the two are made
  // visible together, one event instead of two, and if this one is refused the next is skipped,
  // so a descriptor never claims data that did not land. Only a host that reads the data before
  // the descriptor's DD bit could tell the difference, and a driver never does.
  // `quiet`: a landing is not reported (refusals and revocations still are): for writes whose
  // landing nobody counts (interrupt messages, RX data before its descriptor), a callback saved.
  DmaResult write(uint64_t addr, std::span<const uint8_t> src, uint64_t start_ps, uint64_t tag,
                  bool more = false, uint64_t id = 0, bool quiet = false);
  // The same for the first `len` bytes of a frame, without copying them: the frame is held
  // until they land (or given back at once if the write is refused). The id is the frame's.
  DmaResult write_frame(uint64_t addr, model::Frame&& frame, std::size_t len, uint64_t start_ps, uint64_t tag,
                        bool more = false, bool quiet = false);
  // Abandons the last write if it was issued with more = true and its dependent write could not
  // be issued (reported Revoked).
  void drop_unfinished();
  // Ends a group of writes issued with more = true: the last one pending becomes the group's end
  // (it commits the group when it lands). A no-op when nothing is left open.
  void end_group();
  // Abandons every write not yet landed whose tag matches (reported Revoked, in issue order).
  template <class Pred>
  std::size_t revoke_if(Pred&& match);
  // Device reset: forgets link occupancy and read tags, and abandons writes not yet landed
  // (reported Revoked). The counters are kept (clear_stats() clears them).
  void reset();
  // Teardown: every write not yet landed is dropped without a report and its frame given back
  // now. A frame in an RX write came from the sending NIC's pool, which may go before this
  // engine: the platform calls this on every NIC while all the pools still live.
  void drop_pending();
  // True while the engine is inside a call to the bus (a transfer, a probe, a DMI request).
  // A device whose own registers are reached by that call (a bus that forwards peer-to-peer
  // to its BAR) must refuse the access: this is the re-entrancy guard.
  bool in_transport() const { return in_transport_ != 0; }
  // PCI command register's Bus Master Enable: while off, every transfer is refused (counted).
  void set_bus_master(bool on) { bus_master_ = on; }
  bool bus_master() const { return bus_master_; }
  std::size_t pending_writes() const { return pending_.size(); }

  const PcieConfig& config() const { return cfg_; }
  const DmaStats& stats() const { return stats_; }
  void clear_stats() { stats_ = {}; }

  // Number of TLPs a transfer is split into (requests for reads, writes for writes).
  static uint32_t split_count(uint64_t addr, uint64_t len, uint32_t boundary);

 private:
  bool access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len, uint64_t* extra_ps);
  void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
  void commit_writes(uint64_t);
  bool probe(uint64_t addr, uint64_t len, uint64_t* extra_ps);
  void ensure_dmi(uint64_t addr);

  // Writes this small (descriptors, interrupt messages) keep their bytes inline: no buffer.
  static constexpr std::size_t kInlineBytes = 16;
  struct PendingWrite {
    uint64_t addr = 0;
    uint64_t land_ps = 0;
    uint64_t tag = 0;
    uint64_t id = 0;
    std::size_t len = 0;
    bool more = false;
    bool quiet = false;  // no report when it lands
    std::array<uint8_t, kInlineBytes> small{};  // the data when len <= kInlineBytes, or
    std::vector<uint8_t> bytes;  // a copy of the data, or
    model::Frame frame;          // the frame that holds it
    uint8_t* data() { return frame ? frame.data() : len <= kInlineBytes ? small.data() : bytes.data(); }
  };
  // The posted writes in issue order: a ring (power-of-two capacity, grows), so steady traffic
  // allocates nothing. Slots left behind by pop_front/pop_back are moved-from (empty).
  class WriteRing {
   public:
    std::size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    PendingWrite& operator[](std::size_t i) { return slots_[(head_ + i) & mask_]; }
    const PendingWrite& operator[](std::size_t i) const { return slots_[(head_ + i) & mask_]; }
    PendingWrite& front() { return slots_[head_]; }
    PendingWrite& back() { return (*this)[n_ - 1]; }
    const PendingWrite& back() const { return (*this)[n_ - 1]; }
    // A slot at the back, to be filled in place.
    PendingWrite& push_back() {
      if (n_ == slots_.size()) grow();
      ++n_;
      return back();
    }
    void pop_front() {
      head_ = (head_ + 1) & mask_;
      --n_;
    }
    void pop_back() { --n_; }

   private:
    void grow();
    std::vector<PendingWrite> slots_;
    std::size_t head_ = 0, n_ = 0, mask_ = 0;
  };
  void report(PendingWrite& w, WriteStatus st, uint64_t fault = 0);
  void recycle(PendingWrite& w);
  // Cancels the commit event and gives every pending write back; reset() reports each as Revoked,
  // drop_pending() (teardown) reports none.
  void drain(bool report_revoked);
  void arm_commit();
  DmaResult reserve_write(uint64_t addr, std::size_t len, uint64_t start_ps);
  // Inside the DMI region with the access allowed: the host pointer for [addr, addr+len), else
  // nullptr (len > 0 and no wrap assumed).
  uint8_t* dmi_ptr(uint64_t addr, uint64_t len, bool write) const {
    if (!dmi_valid_ || addr < dmi_.get_start_address() || addr + len - 1 > dmi_.get_end_address() ||
        !(write ? dmi_.is_write_allowed() : dmi_.is_read_allowed())) {
      return nullptr;
    }
    return dmi_.get_dmi_ptr() + (addr - dmi_.get_start_address());
  }

  uint64_t ser(uint64_t bytes) const { return bytes < ser_table_.size() ? ser_table_[bytes] : cfg_.ser_ps(bytes); }

  EventQueue& q_;
  PcieConfig cfg_;
  std::vector<uint64_t> ser_table_;  // ser_ps() for every TLP size up to the largest
  unsigned mps_shift_ = 0;           // log2(MPS)
  uint64_t ser_full_mps_ = 0;        // ser() of a whole-MPS write TLP
  uint64_t half_rtt_ps_ = 0;         // a posted write's flight: half the read round trip
  WriteRing pending_;
  std::vector<std::vector<uint8_t>> spare_;  // reused byte buffers: no allocation in steady state
  uint64_t revision_ = 0;              // bumps when writes are removed other than by a commit
  uint64_t epoch_ = 0;                 // bumps on reset: a commit loop stops if one happens inside it
  uint64_t commit_ev_ = UINT64_MAX;    // the one scheduled commit callback (EventQueue::kNone: none)
  bool in_commit_ = false;             // writes issued during a commit are armed by it, at its end
  std::array<uint8_t, 4096> probe_buf_{};  // a probe's data pointer (a target must not touch it)
  unsigned in_transport_ = 0;
  bool bus_master_ = true;
  WriteDoneFn on_write_done_ = nullptr;
  void* write_done_ctx_ = nullptr;
  DmaStats stats_;
  uint64_t up_free_ps_ = 0;    // device -> host direction busy until
  uint64_t down_free_ps_ = 0;  // host -> device direction busy until
  std::vector<uint64_t> tag_done_ps_;  // completion time of each read tag (ring)
  std::size_t next_tag_ = 0;
  tlm::tlm_dmi dmi_;
  bool dmi_valid_ = false;
  bool dmi_tried_ = false;
  tlm::tlm_generic_payload gp_;
};

template <class Pred>
std::size_t DmaEngine::revoke_if(Pred&& match) {
  // One pass: the kept writes stay in order, the revoked ones are reported in issue order.
  const std::size_t n = pending_.size();
  bool any = false;
  for (std::size_t i = 0; i < n && !any; ++i) any = match(pending_[i].tag);
  if (!any) return 0;
  std::vector<PendingWrite> gone;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    PendingWrite& w = pending_[i];
    if (match(w.tag)) {
      gone.push_back(std::move(w));
    } else {
      if (kept != i) pending_[kept] = std::move(w);
      ++kept;
    }
  }
  while (pending_.size() > kept) pending_.pop_back();
  ++revision_;
  for (PendingWrite& w : gone) {
    report(w, WriteStatus::Revoked);
    recycle(w);
  }
  // A write left with more = true at the end would wait for a follower that never comes.
  end_group();
  return gone.size();
}

}  // namespace vnic::hw

// EthLink: a point-to-point full-duplex Ethernet link between two stations: serialisation at
// 1/10/25/40/100 Gb/s, propagation delay, link up/down, seeded fault injection per direction
// (bit errors, drops, reordering, duplication), and an optional pcap capture of what the
// receivers see.
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/tb/fault_injector.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/ring_queue.hpp"

namespace vnic::tb {

struct EthLinkConfig {
  model::BitRate rate = model::BitRate::gbps(10);
  model::Duration propagation = model::Duration::ns(5);  // ~1 m of cable
  FaultConfig faults{};  // the same faults in the directions faults.direction names (each its own
                         // draws); faults.seed is not used here
  uint64_t seed = 1;     // seeds both directions' injectors (each its own stream)
  bool start_up = true;  // the link is up from time 0 (no notification is sent for it)
};

// Counters of one direction (index = the sending side). Each frame handed to transmit() while
// the link is up is counted in `frames`, and each copy the link makes of one in `duplicated`;
// every one of them ends in exactly one of delivered, dropped_fault, dropped_link_down, or is
// still in flight (on the cable or held back for reordering):
//   frames + duplicated == delivered + dropped_fault + dropped_link_down + in_flight(dir).
// Frames refused while the link is down (transmit() returned false) are the sender's to count.
struct LinkDirStats {
  uint64_t frames = 0, bytes = 0, delivered = 0;
  uint64_t dropped_fault = 0;      // lost on the wire by the fault injector
  uint64_t dropped_link_down = 0;  // in flight (or held) when the link went down
  uint64_t corrupted = 0;          // delivered with flipped bits (the receiver's FCS check fails); a
                                   // copy of a corrupted frame counts too
  uint64_t tx_overlap_errors = 0;  // started before the previous frame + IFG had passed; delivered
  uint64_t reordered = 0;          // held back so that later frames passed it
  uint64_t duplicated = 0;         // copies made (each delivered right after its original)
};

class EthLink : public sc_core::sc_module, public hw::EthMedium {
 public:
  EthLink(sc_core::sc_module_name name, hw::EventQueue& q, const EthLinkConfig& cfg);
  ~EthLink() override;

  // hw::EthMedium. The frame's last bit reaches the other side at
  //   start_ps + rate.time_for_bytes(preamble + SFD + frame) + propagation
  // (never earlier than now, and never before the previous frame of that direction: arrivals
  // keep their order), unless the faults reorder it. The link keeps no frame it does not
  // deliver: a dropped or refused frame's buffer goes back to its pool at once.
  //
  // Faults, in the directions faults.direction names, in this order for each frame: dropped
  // (drop_frames, drop_every, drop_probability), else corrupted (bit errors, corrupt_every), then
  // duplicated (duplicate_rate: a copy of the same bytes, from the link's own pool, delivered
  // right after it, with the id model::duplicate_id(id, n) and TraceKind::LinkDuplicate as its
  // first event), then held back (reorder_rate: TraceKind::LinkReorder, a: reorder_depth). A held
  // frame (and its copy) is delivered right after the reorder_depth-th later frame of its
  // direction arrives, counting frames that are neither dropped nor held themselves, or
  // reorder_max_ns after it would have arrived if that comes first.
  void attach(unsigned side, hw::EthEndpoint* ep) override;
  bool transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) override;
  bool up() const override { return up_; }
  model::BitRate rate() const override { return cfg_.rate; }

  // Link state: changes now (frames in flight are lost and counted) and tells both stations
  // through the queue, at the current time, with the state this call set. No-op if unchanged.
  void set_up(bool up);
  void schedule_link_change(const sc_core::sc_time& at, bool up);

  // Capture: ONE pcap file for both directions (DLT_EN10MB, ns timestamps), one record per
  // frame as its receiver sees it (after corruption, with its FCS; dropped frames are not
  // written), stamped with the arrival of its last bit (truncated to the ns). Records are in
  // arrival order; the MAC addresses tell the directions apart.
  // Throws std::runtime_error naming the path when the file cannot be opened.
  void capture_to(const std::string& path);
  void close_capture() { pcap_.close(); }
  uint64_t captured() const { return pcap_.records(); }

  // A frame the link loses (fault injection, link down) is reported to `sink` as the end of its
  // packet's journey (TraceKind::RxDrop with the link's counter), when the frame carries an id.
  void set_trace(model::TraceSink* sink) { trace_ = sink; }

  const LinkDirStats& stats(unsigned dir) const { return stats_[dir & 1]; }
  const FaultStats& fault_stats(unsigned dir) const { return faults_[dir & 1].stats(); }
  // On the cable or held back (a held frame with its copy counts two).
  std::size_t in_flight(unsigned dir) const;
  std::size_t held(unsigned dir) const { return held_[dir & 1].size(); }

 private:
  void lost(uint64_t id, model::HostDrop why);
  void emit(model::TraceKind kind, uint64_t id, uint32_t a, uint64_t b);
  model::Frame copy_of(const model::Frame& f);
  model::TraceSink* trace_ = nullptr;
  struct InFlight {
    model::Frame frame;
    uint64_t arrive_ps = 0;
  };
  // A frame held back for reordering, with its copy if it was duplicated too.
  struct Held {
    model::Frame frame, copy;
    uint64_t deadline_ps = 0;  // delivered then at the latest
    uint64_t token = 0;        // names it to its release callbacks
    uint32_t waiting = 0;      // frames still to pass it; 0: its release is scheduled
  };
  // One queue callback per frame; `epoch` voids those scheduled before the link went down.
  void deliver_dir0(uint64_t epoch) { deliver(0, epoch); }
  void deliver_dir1(uint64_t epoch) { deliver(1, epoch); }
  void deliver(unsigned dir, uint64_t epoch);
  void release_dir0(uint64_t token) { release(0, token); }
  void release_dir1(uint64_t token) { release(1, token); }
  void release(unsigned dir, uint64_t token);
  void schedule(unsigned dir, uint64_t at_ps, bool is_release, uint64_t arg);
  void receive(unsigned dir, model::Frame&& f, uint64_t at_ps);
  void notify_change(uint64_t up);
  void change_event(uint64_t up);

  hw::EventQueue& q_;
  EthLinkConfig cfg_;
  std::array<hw::EthEndpoint*, 2> ep_{};
  std::array<FaultInjector, 2> faults_;
  std::array<bool, 2> faulted_{};  // faults.direction covers this direction and faults are set
  std::array<RingQueue<InFlight>, 2> flight_;
  std::array<std::vector<Held>, 2> held_;  // in the order they were held
  uint64_t next_token_ = 0;
  std::array<uint64_t, 2> free_at_ps_{};      // the sender may start again at (end of IFG)
  std::array<uint64_t, 2> last_arrive_ps_{};  // arrival of the last frame sent that way
  std::array<LinkDirStats, 2> stats_{};
  bool up_;
  uint64_t epoch_ = 0;  // bumps when the link goes down
  PcapWriter pcap_;
};

}  // namespace vnic::tb

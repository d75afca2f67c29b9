// TapPort: a link endpoint that bridges one side of a simulated Ethernet link (an EthMedium such
// as EthLink) to a Linux TAP device, so the host's real kernel (usually in a network namespace)
// is the peer on that wire. While attached it paces simulated time to wall time. docs/tap.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/model/frame.hpp"
#include "vnic/model/units.hpp"
#include "vnic/tb/pcap.hpp"
#include "vnic/tb/ring_queue.hpp"

namespace vnic::tb {

// Ethernet sizes the port applies as a MAC would (without the 4-byte FCS).
inline constexpr std::size_t kEthMinFrameNoFcs = 60;  // shorter frames are padded with zeros
inline constexpr std::size_t kEthHeaderBytes = 14;

// Everything a platform needs to build a port from a scenario.
struct TapPortConfig {
  std::string ifname;  // the TAP device opened by name (created if absent, IFF_TAP | IFF_NO_PI)
  // Simulated time between two polls of the TAP; each poll first waits for the wall clock to
  // catch up with simulated time (the pacing rule, docs/tap.md).
  model::Duration poll = model::Duration::us(50);
  // Simulated time after the first poll at which the port stops polling by itself, so the
  // simulation can end (0: only stop() ends it).
  model::Duration run_for{};
  std::string pcap;  // when set: a capture of the TAP side (frames without FCS), both directions
  // Largest frame (header + payload, no FCS) carried either way: MTU 1500 + 14. Longer ones are
  // counted and dropped (a VLAN-tagged full frame needs 1518).
  std::size_t max_frame = 1514;
  std::size_t max_queue = 1024;  // kernel frames waiting for the wire; more are counted and dropped
  std::size_t max_reads_per_poll = 256;  // bounds one poll's work; the rest waits for the next poll
};

// Counters. Directions are named after the wire: "wire_rx" frames came from the link (and go to
// the kernel), "tap_read" frames came from the kernel (and go to the link). Each frame is
// accounted once:
//   wire_rx_frames == wire_rx_runts + fcs_errors + wire_rx_oversize + write_errors + tap_writes
//   tap_reads == tap_runts + tap_oversize + queue_drops + link_down_drops + wire_tx_frames + queued()
struct TapPortStats {
  // link -> kernel
  uint64_t wire_rx_frames = 0, wire_rx_bytes = 0;  // as the link delivered them, FCS included
  uint64_t wire_rx_runts = 0;     // shorter than a header plus FCS (18 B): dropped
  uint64_t fcs_errors = 0;        // the FCS does not match: dropped, never written
  uint64_t wire_rx_oversize = 0;  // longer than max_frame once the FCS is off: dropped
  uint64_t write_errors = 0;      // write() to the TAP failed or was short (errno in last_error())
  uint64_t tap_writes = 0, tap_write_bytes = 0;  // written to the TAP, without FCS
  // kernel -> link
  uint64_t tap_reads = 0, tap_read_bytes = 0;  // frames read from the TAP, without FCS
  uint64_t read_errors = 0;        // read() failed with an error other than "nothing to read"
  uint64_t tap_runts = 0;          // shorter than an Ethernet header (14 B): dropped
  uint64_t tap_oversize = 0;       // longer than max_frame: dropped
  uint64_t queue_drops = 0;        // max_queue frames were already waiting: dropped
  uint64_t padded = 0;             // shorter than 60 B: padded with zeros (also in wire_tx_frames)
  uint64_t link_down_drops = 0;    // the link was down when the frame's turn came: dropped
  uint64_t wire_tx_frames = 0, wire_tx_bytes = 0;  // handed to the link, padding and FCS included
  // pacing
  uint64_t polls = 0;
  uint64_t late_polls = 0;      // the wall clock was already a whole poll period past the poll's time
  uint64_t max_lag_ns = 0;      // the most the wall clock was ahead of simulated time at a poll
  uint64_t slept_ns = 0;        // wall time spent waiting for the wall clock to catch up
};

// Opens (creating it if it does not exist) the TAP device `ifname` in this process's network
// namespace, IFF_TAP | IFF_NO_PI, non-blocking and close-on-exec. Returns the fd, or -1 with
// *error saying why (no /dev/net/tun, not permitted, bad name, ...).
int open_tap(const std::string& ifname, std::string* error);

class TapPort : public hw::EthEndpoint {
 public:
  // Opens cfg.ifname, attaches to `side` of `medium` and schedules the first poll at the queue's
  // current time (pacing starts at that poll). Throws std::runtime_error with a clear message if
  // the TAP or the pcap file cannot be opened, or the config is unusable (poll 0, max_frame
  // outside 14..65535).
  TapPort(hw::EventQueue& q, hw::EthMedium& medium, unsigned side, const TapPortConfig& cfg);
  ~TapPort() override;
  TapPort(const TapPort&) = delete;
  TapPort& operator=(const TapPort&) = delete;

  // hw::EthEndpoint: a frame from the link goes to the kernel (FCS checked and stripped).
  void eth_receive(model::Frame&& frame) override;
  void eth_link_changed(bool up, model::BitRate rate) override;

  // Stops polling now (frames already queued for the wire still go out; frames from the link
  // are still written to the TAP). The simulation can then end. Idempotent.
  void stop();
  bool running() const { return !stopped_; }

  const TapPortStats& stats() const { return stats_; }
  std::size_t queued() const { return txq_.size(); }
  const TapPortConfig& config() const { return cfg_; }
  int fd() const { return fd_; }
  // The last read/write error, e.g. "write to tap 'vt1': Input/output error"; empty if none.
  const std::string& last_error() const { return last_error_; }
  uint64_t captured() const { return pcap_.records(); }
  // Closes the pcap file now (it is also closed by the destructor), so a reader sees all of it.
  void close_capture() { pcap_.close(); }

 private:
  void poll_event(uint64_t);
  void pace(uint64_t now_ps);
  void read_tap(uint64_t now_ps);
  void kick();
  void hand_over(uint64_t start_ps);

  hw::EventQueue& q_;
  hw::EthMedium& medium_;
  unsigned side_;
  TapPortConfig cfg_;
  int fd_ = -1;
  // Frames the port sends belong to this pool until the receiver drops them. A heap object, so
  // that a port destroyed while some are still on the wire can leave it behind (see ~TapPort).
  std::unique_ptr<model::FramePool> pool_;
  RingQueue<model::Frame> txq_;
  std::vector<uint8_t> scratch_;  // one read's buffer: larger than any frame a TAP can hand out
  PcapWriter pcap_;
  TapPortStats stats_{};
  std::string last_error_;

  bool stopped_ = false;
  bool anchored_ = false;  // the first poll has run: the wall/sim anchor below is set
  uint64_t anchor_sim_ps_ = 0;
  std::chrono::steady_clock::time_point anchor_wall_{};
  uint64_t poll_handle_ = hw::EventQueue::kNone;
  uint64_t tx_handle_ = hw::EventQueue::kNone;  // the hand-over of the frame on the wire now
  bool tx_busy_ = false;
  uint64_t tx_free_at_ps_ = 0;  // the wire is free again (end of the last frame's IFG)
};

}  // namespace vnic::tb

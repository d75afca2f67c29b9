// EthLink: a point-to-point full-duplex Ethernet link between two stations: serialisation at
// 1/10/25/40/100 Gb/s, propagation delay, link up/down, seeded fault injection per direction,
// and an optional pcap capture of what the receivers see.
#pragma once

#include <systemc>

#include <array>
#include <deque>
#include <memory>
#include <string>

#include "vnic/hw/eth_port.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/tb/fault_injector.hpp"
#include "vnic/tb/pcap.hpp"

namespace vnic::tb {

struct EthLinkConfig {
  model::BitRate rate = model::BitRate::gbps(10);
  model::Duration propagation = model::Duration::ns(5);  // ~1 m of cable
  FaultConfig faults{};
  uint64_t seed = 1;
  bool start_up = true;
};

// Per direction (index = the sending side). frames == delivered + dropped_fault +
// dropped_link_down + in flight.
struct LinkDirStats {
  uint64_t frames = 0, bytes = 0, delivered = 0;
  uint64_t dropped_fault = 0, dropped_link_down = 0, corrupted = 0, tx_overlap_errors = 0;
};

class EthLink : public sc_core::sc_module, public hw::EthMedium {
 public:
  EthLink(sc_core::sc_module_name name, hw::EventQueue& q, const EthLinkConfig& cfg);
  ~EthLink() override;

  // hw::EthMedium
  void attach(unsigned side, hw::EthEndpoint* ep) override;
  bool transmit(unsigned side, model::Frame&& frame, uint64_t start_ps) override;
  bool up() const override { return up_; }
  model::BitRate rate() const override { return cfg_.rate; }

  // Link state: changes now (frames in flight are lost) and tells both stations.
  void set_up(bool up);
  void schedule_link_change(const sc_core::sc_time& at, bool up);

  // Capture both directions into one pcap file (timestamps = arrival of the last bit).
  // Throws std::runtime_error with the path when the file cannot be opened.
  void capture_to(const std::string& path);
  void close_capture() { pcap_.close(); }

  const LinkDirStats& stats(unsigned dir) const { return stats_[dir & 1]; }
  const FaultStats& fault_stats(unsigned dir) const { return faults_[dir & 1].stats(); }
  std::size_t in_flight(unsigned dir) const { return flight_[dir & 1].size(); }

 private:
  struct InFlight {
    model::Frame frame;
    uint64_t arrive_ps;
  };
  void deliver0(uint64_t epoch) { deliver(0, epoch); }
  void deliver1(uint64_t epoch) { deliver(1, epoch); }
  void deliver(unsigned dir, uint64_t epoch);
  void notify_change(uint64_t);
  void change_event(uint64_t up);

  hw::EventQueue& q_;
  EthLinkConfig cfg_;
  std::array<hw::EthEndpoint*, 2> ep_{};
  std::array<FaultInjector, 2> faults_;
  std::array<std::deque<InFlight>, 2> flight_;
  std::array<uint64_t, 2> free_at_ps_{};  // a sender may start again at (end of IFG)
  std::array<LinkDirStats, 2> stats_{};
  bool up_;
  uint64_t epoch_ = 0;  // bumps when the link goes down: scheduled deliveries are void
  PcapWriter pcap_;
};

}  // namespace vnic::tb

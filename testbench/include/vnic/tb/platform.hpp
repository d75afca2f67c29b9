// Platform: the test platform a scenario describes: hosts (driver or direct, through the Host
// interface), each with its memory and one or more NICs, and Ethernet links joining two NIC ports
// each. `vnic run` and the system tests build it; it runs the traffic, checks conservation per
// link direction and writes the report.
#pragma once

#include <systemc>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/tb/direct_host.hpp"
#include "vnic/tb/driver_host.hpp"
#include "vnic/tb/eth_link.hpp"
#include "vnic/tb/eth_switch.hpp"
#include "vnic/tb/host.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/journey.hpp"
#include "vnic/tb/packet_account.hpp"
#include "vnic/tb/scenario.hpp"
#include "vnic/tb/test_host.hpp"
#include "vnic/tb/trace_writer.hpp"

namespace vnic::tb {

// A NIC port: host index (scenario order) and NIC index on it (0: eth0).
struct PortId {
  unsigned host = 0;
  unsigned nic = 0;
  bool operator==(const PortId&) const = default;
};

class Platform {
 public:
  // Elaborates the platform (call once per process: SystemC elaborates once). Throws
  // std::runtime_error (or std::invalid_argument) with a message for what cannot be built.
  explicit Platform(const Scenario& s);
  ~Platform();

  // Brings every host up and runs until the traffic is done and the wires are quiet (or until
  // the scenario's stop_after).
  void run();
  // The same run in slices of `slice_ps` of simulated time, calling `tick` after each (progress
  // reports); the slicing changes no result.
  void run(const std::function<void()>& tick, uint64_t slice_ps);

  // Hosts, by position (the scenario's name order) or name; std::out_of_range if there is none.
  unsigned num_hosts() const { return static_cast<unsigned>(hosts_.size()); }
  Host& host(unsigned i) { return *hosts_.at(i); }
  Host& host(std::string_view name) { return *hosts_.at(host_index(name)); }
  unsigned host_index(std::string_view name) const;
  // The host as what it is; std::runtime_error if it is the other kind.
  DriverHost& driver_host(std::string_view name);
  TestHost& test_host(std::string_view name);
  bool driver_hosts() const { return s_.hosts == "driver"; }
  HostMemory& memory(std::string_view host) { return *mems_.at(host_index(host)); }

  // NIC ports: every one, hosts in order then NICs in order; the port at the other end of p's link
  // (std::runtime_error for a port on a switch, which has no one peer).
  std::vector<PortId> ports() const;
  PortId port(std::string_view host, unsigned nic = 0) const;
  PortId peer(PortId p) const;
  // What p's frames go to, as the report names it: the peer's label, or the switch's name.
  std::string peer_label(PortId p) const;
  // The switch p is on and its port there; nullopt for a port on a link.
  std::optional<std::pair<unsigned, unsigned>> switch_port(PortId p) const;
  // How the report names a port: "a" for eth0, "a.eth1" otherwise.
  std::string label(PortId p) const;
  hw::Nic& nic(PortId p) { return *nics_.at(p.host).at(p.nic); }
  hw::Nic& nic(std::string_view host, unsigned n = 0) { return nic(port(host, n)); }

  // Links: [link] is "link"; [link.NAME] is NAME.
  unsigned num_links() const { return static_cast<unsigned>(links_.size()); }
  EthLink& link(unsigned i) { return *links_.at(i); }
  EthLink& link(std::string_view name = "link");
  const LinkConfig& link_config(unsigned i) const { return s_.links.at(i); }

  // Switches ([switch.NAME], in name order).
  unsigned num_switches() const { return static_cast<unsigned>(switches_.size()); }
  EthSwitch& eth_switch(unsigned i) { return *switches_.at(i); }
  EthSwitch& eth_switch(std::string_view name);
  const SwitchConfig& switch_config(unsigned i) const { return s_.switches.at(i); }
  // Switch i's own sum: frames in + flood copies = out + its drops + inside; 0 when it holds.
  int64_t switch_unaccounted(unsigned i, std::string* detail = nullptr);

  // Frames port p sent, and those its host handed to the consumer; whether they were intact.
  uint64_t sent(PortId p) { return hosts_.at(p.host)->sent(p.nic); }
  uint64_t delivered(PortId p) { return hosts_.at(p.host)->delivered(p.nic); }
  bool rx_clean(PortId p) { return hosts_.at(p.host)->rx_clean(p.nic); }
  uint64_t total_delivered();
  uint64_t total_sent();
  // Frames the scenario asks all ports to send.
  uint64_t total_to_send() const;

  // Frames port `from` sent that are neither delivered at its peer nor counted in a drop counter
  // of the direction from -> peer (0 when conservation holds); `detail` explains the sum.
  int64_t unaccounted(PortId from, std::string* detail = nullptr);
  // The terms of that sum: "sent" first, then "delivered", the drops in the order the frame
  // meets them, then "unaccounted".
  std::vector<ConservationTerm> conservation_terms(PortId from);
  // Every direction conserved and every receiver clean.
  bool all_ok();

  // The report `vnic run` prints: per host its views, then the links' counters.
  std::string report();
  // Host i's views in that report (`vnic run --out` writes each to host-NAME/<file>).
  std::vector<ReportView> host_views(unsigned i);
  // The links' counters per direction (the report's last lines).
  std::string link_report();
  // Each switch: its ports' counters, its sum, and its learning table (bridge fdb show).
  std::string switch_report();

  TraceWriter& trace() { return trace_; }
  // The journeys of the sampled packets (nullptr unless the scenario asks for them).
  const JourneyRecorder* journeys() const { return journey_.get(); }
  // The per-packet account (nullptr unless the scenario asks for it).
  const PacketAccount* account() const { return account_.get(); }
  hw::EventQueue& queue() { return *q_; }
  // Simulated time at the end of the run (before the statistics read-out).
  uint64_t end_ps() const { return end_ps_; }
  const Scenario& scenario() const { return s_; }

 private:
  struct Attach {
    unsigned link = 0;  // ~0u: on a switch
    unsigned side = 0;
    unsigned sw = ~0u;  // the switch, and its port
    unsigned sw_port = 0;
  };
  void bring_up();
  void finish_run();
  bool traffic_done() const;  // every host's
  uint64_t link_frames() const;  // frames handed to any link so far, and those in flight
  uint64_t quiet_end_ps_ = 0;    // the last activity, when the run ended on quiet links
  std::string conservation_line(PortId from);

  Scenario s_;
  std::unique_ptr<hw::EventQueue> q_;
  std::vector<std::unique_ptr<HostMemory>> mems_;            // per host
  std::vector<std::vector<std::unique_ptr<hw::Nic>>> nics_;  // [host][nic]
  std::vector<std::unique_ptr<Host>> hosts_;
  std::vector<std::unique_ptr<EthLink>> links_;
  std::vector<std::unique_ptr<EthSwitch>> switches_;  // after the NICs: frames inside go back to their pools
  std::vector<std::vector<Attach>> attach_;  // [host][nic]: its link and side
  TraceWriter trace_;
  std::unique_ptr<JourneyRecorder> journey_;
  std::unique_ptr<PacketAccount> account_;
  uint64_t end_ps_ = 0;  // when the traffic run ended (before the statistics read-out)
};

}  // namespace vnic::tb

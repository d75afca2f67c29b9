// BackToBack: the test platform of two hosts, each with its memory and NIC, whose ports are
// joined by one Ethernet link. The hosts run the driver model (DriverHost, the default) or program
// the NIC directly (TestHost, scenario.hosts = "direct"). `vnic run` and the system tests build it.
#pragma once

#include <systemc>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/tb/journey.hpp"
#include "vnic/tb/driver_host.hpp"
#include "vnic/tb/eth_link.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/scenario.hpp"
#include "vnic/tb/test_host.hpp"
#include "vnic/tb/trace_writer.hpp"

namespace vnic::tb {

class BackToBack {
 public:
  // Elaborates the platform (call once per process: SystemC elaborates once).
  explicit BackToBack(const Scenario& s);
  ~BackToBack();

  // Brings both hosts up and runs until the traffic is done and the wire is quiet (or until
  // the scenario's stop_after).
  void run();
  // The same run in slices of `slice_ps` of simulated time, calling `tick` after each (progress
  // reports); the slicing changes no result.
  void run(const std::function<void()>& tick, uint64_t slice_ps);

  hw::Nic& nic(int i) { return i == 0 ? *nic_a_ : *nic_b_; }
  bool driver_hosts() const { return s_.hosts == "driver"; }
  // The direct test hosts (hosts = "direct") or the driver hosts (hosts = "driver").
  TestHost& host(int i) { return i == 0 ? *host_a_ : *host_b_; }
  DriverHost& dhost(int i) { return i == 0 ? *dh_a_ : *dh_b_; }
  // Frames host i's receiver handed to its consumer, and whether all of them were intact and in order.
  uint64_t delivered(int i);
  bool rx_clean(int i);
  HostMemory& memory(int i) { return i == 0 ? *mem_a_ : *mem_b_; }
  EthLink& link() { return *link_; }
  TraceWriter& trace() { return trace_; }
  // The journeys of the sampled packets (nullptr unless the scenario asks for them).
  const JourneyRecorder* journeys() const { return journey_.get(); }
  hw::EventQueue& queue() { return *q_; }
  // Simulated time at the end of the run (before the statistics read-out).
  uint64_t end_ps() const { return end_ps_; }
  const Scenario& scenario() const { return s_; }

  // Frames host i sent that are neither delivered to the peer nor counted in a drop counter
  // (0 when conservation holds); `detail` explains the sum.
  int64_t unaccounted(int i, std::string* detail = nullptr);
  // The terms of the conservation sum of direction i (host i sends): "sent" first, then what
  // delivered it or dropped it, then "unaccounted".
  struct ConservationTerm {
    std::string name;
    int64_t value;
  };
  std::vector<ConservationTerm> conservation_terms(int i);
  // The report `vnic run` prints: ethtool -S style counters for both NICs, the link, the hosts.
  std::string report();
  // One view of host i in that report: what a Linux user types (empty for the platform's own
  // lines) and what it prints; `vnic run --out` writes each to host-X/<file>.
  struct ReportView {
    std::string file;
    std::string command;
    std::string text;
  };
  std::vector<ReportView> host_views(int i);
  // The link's counters per direction (the report's last lines).
  std::string link_report();

 private:
  Scenario s_;
  std::unique_ptr<hw::EventQueue> q_;
  std::unique_ptr<HostMemory> mem_a_, mem_b_;
  std::unique_ptr<hw::Nic> nic_a_, nic_b_;
  std::unique_ptr<TestHost> host_a_, host_b_;
  std::unique_ptr<DriverHost> dh_a_, dh_b_;
  int64_t unaccounted_direct(int i, std::string* detail, std::vector<ConservationTerm>* terms = nullptr);
  int64_t unaccounted_driver(int i, std::string* detail, std::vector<ConservationTerm>* terms = nullptr);
  void finish_run();
  std::string report_driver();
  std::string conservation_line(int i);
  std::unique_ptr<EthLink> link_;
  TraceWriter trace_;
  std::unique_ptr<JourneyRecorder> journey_;
  uint64_t end_ps_ = 0;  // when the traffic run ended (before the statistics read-out)
};

// ethtool -S style block for one NIC ("NIC statistics:" then "     name: value").
std::string ethtool_stats(hw::Nic& nic);

}  // namespace vnic::tb

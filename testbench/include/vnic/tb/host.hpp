// Host: what the platform sees of a host, whatever runs on it: its NICs' ports (wiring), bring-up,
// the traffic each port sent and delivered, the drop counters of its side of the conservation
// sums, and its report views and summary. DriverHost (the driver model on simulated CPUs) and
// DirectHost (a test host that programs the NIC itself) implement it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "vnic/hw/nic.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/traffic.hpp"

namespace vnic::tb {

// One term of a conservation sum: its summary.json key, its words in the report, its value.
struct ConservationTerm {
  std::string name;
  std::string label;
  int64_t value = 0;
};

// One view of a host in the report: what a Linux user types (empty for the platform's own lines),
// what it prints, and the file `vnic run --out` writes it to under host-NAME/.
struct ReportView {
  std::string file;
  std::string command;
  std::string text;
};

class Host {
 public:
  virtual ~Host() = default;

  // "a": the scenario's name of the host.
  virtual const std::string& host_name() const = 0;
  virtual unsigned num_ports() const = 0;
  virtual HostMemory& memory() = 0;

  // Wiring: port i's NIC (the port's PCI function, its MMIO and DMA, its interrupts).
  virtual void connect(unsigned port, hw::Nic& nic) = 0;
  // What port i receives (the peer port's traffic).
  virtual void expect(unsigned port, const TrafficPattern& p) = 0;
  // One more sender whose frames to `me` port i takes (a NIC on a switch hears from many).
  virtual void expect_also(unsigned port, const TrafficPattern& p, const model::MacAddr& me) = 0;
  // Trace events of the host go to `sink`; packets port i makes get ids from id_base[i] + 1 on.
  virtual void set_trace(model::TraceSink* sink, const std::vector<uint64_t>& id_base) = 0;
  // The trace source of port i's host side (the journey recorder pairs the NIC with it).
  virtual std::string trace_source(unsigned port) const = 0;

  // Starts the host: bring its ports up and start their traffic.
  virtual void bring_up() = 0;
  // Its traffic is over: every generator and application has finished and nothing waits to be
  // sent. The platform then ends the run once the links have stayed quiet (background timers,
  // such as the neighbour table's, would otherwise keep a simulation alive for tens of seconds).
  // false: the run ends only when nothing is left to simulate.
  virtual bool traffic_done() const { return false; }
  // After the traffic: gathers what is left for the counters; true if the simulation must run on
  // a little for that (reads of the device's counters through MMIO).
  virtual bool finish() = 0;

  // Frames port i sent, and those it handed to its consumer; whether all of those were intact
  // and in order.
  virtual uint64_t sent(unsigned port) const = 0;
  virtual uint64_t delivered(unsigned port) const = 0;
  virtual bool rx_clean(unsigned port) const = 0;
  // Port i's terms of the conservation sums: drops on its way out (before the wire), drops on its
  // way in (after the wire).
  virtual std::vector<ConservationTerm> tx_drops(unsigned port) const = 0;
  virtual std::vector<ConservationTerm> rx_drops(unsigned port) const = 0;

  // Report: the words that introduce port i ("nic_a at 0000:01:00.0, eth0 02:00:00:00:00:0a"),
  // the prompt before a command ("[host a]$ "), and the views. `conservation` holds each port's
  // conservation line, in port order.
  virtual std::string port_header(unsigned port) const = 0;
  virtual std::string prompt() const = 0;
  virtual std::vector<ReportView> views(uint64_t elapsed_ps, const std::vector<std::string>& conservation) const = 0;
  // summary.json: port i's counters, and the host's (host-wide counters; `ports` holds each
  // port's object, in port order).
  virtual nlohmann::ordered_json port_summary(unsigned port, double sim_s) const = 0;
  virtual nlohmann::ordered_json host_summary(double sim_s) const = 0;
};

}  // namespace vnic::tb

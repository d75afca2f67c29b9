// DirectHost: the Host that programs its NIC directly through a TestHost (no driver, no CPU
// model): the platform's "direct" hosts (scenario.hosts = "direct"), for looking at the device
// alone. It has one NIC.
#pragma once

#include <memory>
#include <string>

#include "vnic/tb/host.hpp"
#include "vnic/tb/test_host.hpp"

namespace vnic::tb {

class DirectHost final : public Host {
 public:
  // `name` is the module name ("host_a"); `host_name` the scenario's ("a"). Throws
  // std::invalid_argument if asked for more than one NIC.
  DirectHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const TestHostConfig& cfg,
             std::string host_name, unsigned nics = 1);
  ~DirectHost() override;

  TestHost& test_host() { return *th_; }
  const TestHost& test_host() const { return *th_; }

  const std::string& host_name() const override { return host_name_; }
  unsigned num_ports() const override { return 1; }
  HostMemory& memory() override { return mem_; }
  void connect(unsigned port, hw::Nic& nic) override;
  void expect(unsigned port, const TrafficPattern& p) override;
  void expect_also(unsigned port, const TrafficPattern& p, const model::MacAddr& me) override;
  void set_trace(model::TraceSink* sink, const std::vector<uint64_t>& id_base) override;
  std::string trace_source(unsigned) const override { return th_->name(); }
  void bring_up() override { th_->bring_up(); }
  bool finish() override;
  uint64_t sent(unsigned port) const override;
  uint64_t delivered(unsigned port) const override;
  bool rx_clean(unsigned port) const override;
  std::vector<ConservationTerm> tx_drops(unsigned port) const override;
  std::vector<ConservationTerm> rx_drops(unsigned port) const override;
  std::string port_header(unsigned port) const override;
  std::string prompt() const override { return "$ "; }
  std::vector<ReportView> views(uint64_t elapsed_ps, const std::vector<std::string>& conservation) const override;
  nlohmann::ordered_json port_summary(unsigned port, double sim_s) const override;
  nlohmann::ordered_json host_summary(double sim_s) const override;

 private:
  void check_port(unsigned port) const;
  std::string host_name_;
  HostMemory& mem_;
  std::unique_ptr<TestHost> th_;
  hw::Nic* nic_ = nullptr;
};

// ethtool -S style block for one NIC ("NIC statistics:" then "     name: value"), read from the
// device's registers.
std::string ethtool_stats(hw::Nic& nic);

}  // namespace vnic::tb

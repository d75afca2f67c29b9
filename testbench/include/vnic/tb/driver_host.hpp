// DriverHost: a host that runs the driver model: one CPU core, its softnet, an skb pool, the
// vnic driver on a PciHostBus, a pktgen thread that sends and a checker that receives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vnic/driver/vnic_driver.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/stack/co.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/tb/host_cpu.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/pci_host_bus.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/tb/pktgen.hpp"

namespace vnic::tb {

struct DriverHostConfig {
  driver::DriverConfig drv{};
  stack::CpuCosts costs{};
  stack::NetCoreSysctls sysctl{};
  PktGenConfig gen{};
  uint32_t skb_pool = 16384;  // skbs that may exist at once
  // CPU cores. The queue's interrupt (and so NAPI) is bound to cpu0; pktgen runs on the last core.
  unsigned cpus = 2;
  uint32_t mtu = 1500;
};

class DriverHost {
 public:
  DriverHost(const std::string& name, hw::EventQueue& q, HostMemory& mem, const DriverHostConfig& cfg,
             const std::string& bus_info);
  ~DriverHost();

  void connect(hw::Nic& nic, uint64_t bar0_base);
  // CPU contexts, NAPI polls and the driver's events go to `sink`, under this host's name.
  // Trace events of this host (CPUs, softnet, driver, pktgen, checker) go to `sink`; packets
  // made here get ids from id_base + 1 on, and carry them across the descriptor interface
  // through this host's side band (model::PacketTags), which the NIC shares.
  void set_trace(stack::TraceSink* sink, uint64_t id_base = 0);
  const std::string& name() const { return name_; }
  void expect(const TrafficPattern& p) { checker_.expect(p); }
  // Starts a task: probe, open, then pktgen.
  void bring_up();
  // Starts a task reading the device's counters for ethtool -S (run the simulation after it).
  void refresh_stats();
  // Starts any task on this host (tests: close, reopen, ethtool calls).
  void spawn(stack::Co<void> task) { tasks_.spawn(std::move(task)); }
  std::size_t tasks_running() const { return tasks_.running(); }

  int probe_rc() const { return probe_rc_; }
  int open_rc() const { return open_rc_; }
  bool up() const { return drv_->up; }

  SmpCpus& cpus() { return cpus_; }
  HostCpu& cpu(unsigned i = 0) { return cpus_.core(i); }
  PciHostBus& bus() { return *bus_; }
  // cpu i's softnet_data (cpu0's takes the NIC's packets).
  stack::Softnet& softnet(unsigned i = 0) { return *softnet_[i]; }
  const stack::Softnet& softnet(unsigned i = 0) const { return *softnet_[i]; }
  // softnet_stat columns summed over the CPUs.
  stack::SoftnetStats softnet_total() const;
  stack::SkbPool& skbs() { return skbs_; }
  driver::VnicDriver& driver() { return *drv_; }
  PktGen& pktgen() { return *gen_; }
  const RxChecker& checker() const { return checker_; }
  HostMemory& memory() { return mem_; }
  const DriverHostConfig& config() const { return cfg_; }

  // /sys/class/net/<if>/queues/tx-0/byte_queue_limits/{limit,inflight} as `grep` prints them.
  std::string bql_sysfs() const;
  // `ethtool -S <ifname>`, `ethtool -c`, `ethtool -g` and `ethtool <ifname>` output.
  std::string ethtool_s() const;
  std::string ethtool_c() const;
  std::string ethtool_g() const;
  std::string ethtool_link() const;
  // /proc/net/softnet_stat (one line per CPU).
  std::string softnet_stat() const;
  // CPU time by context over `elapsed`, one line per CPU.
  std::string cpu_usage(uint64_t elapsed_ps) const;

 private:
  static std::string core_usage(const HostCpu& cpu, uint64_t elapsed_ps);
  stack::Co<void> bring_up_task();
  stack::Co<void> refresh_task();

  std::string name_;
  HostMemory& mem_;
  DriverHostConfig cfg_;
  SmpCpus cpus_;
  std::unique_ptr<PciHostBus> bus_;
  std::vector<std::unique_ptr<stack::Softnet>> softnet_;
  stack::SkbPool skbs_;
  std::unique_ptr<driver::VnicDriver> drv_;
  std::unique_ptr<PktGen> gen_;
  RxChecker checker_;
  hw::Nic* nic_ = nullptr;
  model::PacketTags tags_;
  int probe_rc_ = 1, open_rc_ = 1;  // 1: not run yet
  stack::TaskScope tasks_;  // last: its tasks use everything above
};

}  // namespace vnic::tb

// Scenario: everything a run needs (link, PCIe, NIC and the two test hosts), read from TOML
// with clear errors; the CLI's default scenario is embedded in the binary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vnic/hw/nic.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/tb/fault_injector.hpp"
#include "vnic/tb/test_host.hpp"

namespace vnic::tb {

struct HostSide {
  TestHostConfig host{};
  model::MacAddr mac{};
  bool iommu = false;  // the host's IOMMU-like check on device accesses
  bool coalesce_given = false;  // any of rx-usecs/rx-frames/tx-usecs/tx-frames was set (else: driver defaults)
};

// What runs on the hosts when they are driver hosts (the default).
struct DriverSide {
  unsigned cpus = 2;  // per host; cpu0 takes the NIC's interrupts, pktgen runs on the last
  stack::CpuCosts costs{};
  stack::NetCoreSysctls sysctl{};
  int napi_weight = 64;
  std::string rx_handoff = "netif_receive_skb";  // or "netif_rx" (through the per-CPU backlog)
  uint32_t pktgen_burst = 32;
  uint32_t skb_pool = 16384;
  bool bql = true;
  model::Duration watchdog = model::Duration::s(5);
  uint32_t mtu = 1500;
};

struct Scenario {
  std::string name = "default";
  // "driver": each host runs the driver model on a simulated CPU (probe, NAPI, pktgen);
  // "direct": the test host programs the NIC itself, with no CPU model (device tests).
  std::string hosts = "driver";
  DriverSide driver{};
  uint64_t seed = 1;
  model::Duration stop_after{};
  model::Duration quantum = model::Duration::us(10);  // EventQueue look-ahead; results do not depend on it  // 0: run until the traffic is done and the wire is quiet
  model::BitRate link_rate = model::BitRate::gbps(10);
  model::Duration propagation = model::Duration::ns(5);
  FaultConfig faults{};
  std::string pcap;  // empty: no capture
  std::string trace;  // empty: no trace; ".json": Chrome/Perfetto JSON; otherwise text
  uint64_t trace_limit = 1'000'000;
  hw::NicConfig nic{};
  std::string ring = "model";  // the NIC's descriptor FIFO: "model" (C++), "rtl" (Verilated), "rtl-broken"
  HostSide a{};
  HostSide b{};
};

// The scenario `vnic run` uses when no file is given.
std::string_view default_scenario_toml();

// Parses TOML text; on failure returns nullopt and sets *error to a message naming the key.
std::optional<Scenario> parse_scenario(std::string_view toml_text, std::string* error,
                                       std::string_view source_name = "scenario");
std::optional<Scenario> load_scenario(const std::string& path, std::string* error);

}  // namespace vnic::tb

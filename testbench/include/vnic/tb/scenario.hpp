// Scenario: everything a run needs (hosts and their NICs, links, PCIe, NIC, CPU costs), read from TOML
// with clear errors; the CLI's default scenario is embedded in the binary.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vnic/hw/nic.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/tb/fault_injector.hpp"
#include "vnic/tb/host_config.hpp"
#include "vnic/tb/test_host.hpp"

namespace vnic::tb {

// What runs on the hosts when they are driver hosts (the default).
struct DriverSide {
  unsigned cpus = 2;  // per host; cpu0 takes the NICs' interrupts, pktgen runs on the last
  stack::CpuCosts costs{};
  int napi_weight = 64;
  std::string rx_handoff = "netif_receive_skb";  // or "netif_rx" (through the per-CPU backlog)
  uint32_t pktgen_burst = 32;
  uint32_t skb_pool = 16384;
  bool bql = true;
  model::Duration watchdog = model::Duration::s(5);
  uint32_t mtu = 1500;
  // Every driver host NIC's offloads unless its own keys say otherwise (NicSide): `ethtool -K ethN
  // gso|gro on|off`, `ip link set ethN gso_max_size N gso_max_segs N`; Linux 6.1's defaults.
  bool gso = true;
  bool gro = true;
  uint32_t gso_max_size = 65536;  // GSO_LEGACY_MAX_SIZE (at most the device's tso_max_size, 65536)
  uint32_t gso_max_segs = 65535;  // GSO_MAX_SEGS
};

struct Scenario {
  std::string name = "default";
  // "driver": each host runs the driver model on a simulated CPU (probe, NAPI, pktgen);
  // "direct": the test host programs the NIC itself, with no CPU model (device tests).
  std::string hosts = "driver";
  DriverSide driver{};
  StackCpuCosts stack_costs{};  // [cpu] keys of the protocol stack (for the stack wiring)
  HostSysctls sysctl{};         // [sysctl]: every host's, before its own [host.NAME.sysctl]
  uint64_t seed = 1;
  model::Duration stop_after{};  // 0: run until the traffic is done and the wire is quiet
  model::Duration quantum = model::Duration::us(10);  // EventQueue look-ahead; results do not depend on it
  std::string trace;  // empty: no trace; ".json": Chrome/Perfetto JSON; otherwise text
  uint64_t trace_limit = 1'000'000;
  std::vector<std::string> trace_kinds;  // only these event kinds ("qdisc.dequeue", ...); empty: all
  // Journeys (docs/journey.md), set by the command line: every N-th packet of each sender (0:
  // off), only those made on the host of that name ("": all).
  uint64_t journey_every = 0;
  std::string journey_from;
  // The per-packet account (PacketAccount, set by the command line's --account): every packet
  // followed from where it is made to its one end; printed at the end of the report.
  bool account = false;
  hw::NicConfig nic{};
  std::string ring = "model";  // the NIC's descriptor FIFO: "model" (C++), "rtl" (Verilated), "rtl-broken"
  // The hosts in name order ([host.NAME]); each with its sysctls resolved ([sysctl] then its own).
  std::vector<HostConfig> host_list;
  // [link] (a.eth0 - b.eth0) first, then each [link.NAME] in name order.
  std::vector<LinkConfig> links;
  // [switch.NAME], in name order. When a.eth0 or b.eth0 is on a switch, there is no [link].
  std::vector<SwitchConfig> switches;

  // The host, NIC or link of that name; std::out_of_range naming it if there is none.
  HostConfig& host(std::string_view name);
  const HostConfig& host(std::string_view name) const;
  NicSide& nic_side(std::string_view host, unsigned index = 0);
  const NicSide& nic_side(std::string_view host, unsigned index = 0) const;
  LinkConfig& link(std::string_view name = "link");
  const LinkConfig& link(std::string_view name = "link") const;
  const HostConfig* find_host(std::string_view name) const;
};

// The scenario `vnic run` uses when no file is given; every other scenario is read over it.
std::string_view default_scenario_toml();

// Parses TOML text on its own (keys it omits keep the compiled-in defaults of the structs);
// on failure returns nullopt and sets *error to a message naming the key.
std::optional<Scenario> parse_scenario(std::string_view toml_text, std::string* error,
                                       std::string_view source_name = "scenario");

// One layer of a scenario: TOML text whose keys replace those of the layers below, key by key.
struct ScenarioLayer {
  std::string text;
  std::string source;  // names the layer in errors: a path, "builtin:NAME"
};

// One `KEY=VALUE` assignment (--set): a dotted key into the TOML and a value read as TOML
// (42, 1e-9, true, "x"); a value that is not TOML is taken as a string (--set link.speed=25G).
struct ScenarioSetting {
  std::string key;
  std::string value;
  std::string source;  // names the assignment in errors: "--set KEY=VALUE", "--seed"
};
// Splits "KEY=VALUE"; nullopt (and *error) without a key or an '='.
std::optional<ScenarioSetting> parse_setting(std::string_view assignment, std::string* error);

// A scenario as `vnic` runs it: the embedded default, each layer over it, then each setting,
// validated as one table. `toml` is that table written out, the fully resolved scenario
// (`vnic show`; its hash identifies the run in summary.json).
struct ResolvedScenario {
  Scenario scenario;
  std::string toml;
};
std::optional<ResolvedScenario> resolve_scenario(const std::vector<ScenarioLayer>& layers,
                                                 const std::vector<ScenarioSetting>& settings, std::string* error);

// Reads a scenario file over the embedded default.
std::optional<Scenario> load_scenario(const std::string& path, std::string* error);

// Built-in scenarios (`vnic list`, `-s builtin:NAME`): overlays of the default, each showing one thing.
struct BuiltinScenario {
  std::string_view name;
  std::string_view summary;  // one sentence
  std::string_view toml;
};
std::span<const BuiltinScenario> builtin_scenarios();
const BuiltinScenario* find_builtin(std::string_view name);

// Reads a scenario argument: "builtin:NAME" or a file path, as a layer; nullopt and *error if
// there is no such built-in or the file cannot be read.
std::optional<ScenarioLayer> scenario_layer(const std::string& arg, std::string* error);

// FNV-1a, 64 bits: the scenario hash of summary.json.
uint64_t fnv1a64(std::string_view bytes);

}  // namespace vnic::tb

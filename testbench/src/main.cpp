// The vnic command-line tool: runs scenarios and prints reports.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <string>

#include "vnic/model/regmap_doc.hpp"
#include "vnic/tb/back_to_back.hpp"
#include "vnic/tb/scenario.hpp"

namespace {

// libsystemc's main() prints its banner before sc_main runs; a static initializer of the
// executable runs earlier still, so the banner can be switched off here.
const int kNoBanner = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

struct RunOptions {
  std::string scenario_path;
  std::optional<uint64_t> seed;
  std::optional<uint64_t> frames;
  std::optional<std::string> pcap;
  std::optional<uint64_t> quantum_ns;
  std::optional<std::string> ring;
  std::optional<std::string> hosts;
  std::optional<std::string> trace;
  std::optional<uint64_t> trace_limit;
  bool quiet_timing = false;
};

int run(const RunOptions& o) {
  std::string err;
  std::optional<vnic::tb::Scenario> s =
      o.scenario_path.empty()
          ? vnic::tb::parse_scenario(vnic::tb::default_scenario_toml(), &err, "default scenario")
          : vnic::tb::load_scenario(o.scenario_path, &err);
  if (!s) {
    fmt::print(stderr, "vnic: {}\n", err);
    return 2;
  }
  if (o.seed) {
    s->seed = *o.seed;
    s->faults.seed = *o.seed;
  }
  if (o.frames) {  // hosts that send keep sending, with the new count
    if (s->a.host.count > 0) s->a.host.count = *o.frames;
    if (s->b.host.count > 0) s->b.host.count = *o.frames;
  }
  if (o.pcap) s->pcap = *o.pcap;
  if (o.ring) s->ring = *o.ring;
  if (o.hosts) s->hosts = *o.hosts;
  if (o.trace) s->trace = *o.trace;
  if (o.trace_limit) s->trace_limit = *o.trace_limit;
  if (o.quantum_ns) s->quantum = vnic::model::Duration::ns(static_cast<int64_t>(*o.quantum_ns));
  try {
    vnic::tb::BackToBack p(*s);
    const auto t0 = std::chrono::steady_clock::now();
    p.run();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fputs(p.report().c_str(), stdout);
    const double sim = static_cast<double>(p.end_ps()) / 1e12;
    const uint64_t frames = p.delivered(0) + p.delivered(1);
    if (!o.quiet_timing) {
      fmt::print(stderr,
                 "ring {}, hosts {}: wall {:.3f} s, simulated {:.6f} s ({:.3f}x real time), {:.0f} frames per wall "
                 "second, {:.1f} events per frame\n",
                 s->ring, s->hosts, wall, sim, wall > 0 ? sim / wall : 0.0,
                 wall > 0 ? static_cast<double>(frames) / wall : 0.0,
                 frames > 0 ? static_cast<double>(p.queue().fired()) / static_cast<double>(frames) : 0.0);
    }
    bool ok = true;
    for (int i = 0; i < 2; ++i) ok = ok && p.unaccounted(i) == 0 && p.rx_clean(i);
    if (!ok) fmt::print(stderr, "vnic: a check failed (see conservation / rx_bad_bytes / rx_out_of_order)\n");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "vnic: {}\n", e.what());
    return 2;
  }
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  CLI::App app{"vnic: a virtual NIC model (SystemC/TLM-2.0) with its test platform"};
  app.require_subcommand(1);
  RunOptions o;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario (the embedded default when no file is given)");
  run_cmd->add_option("-s,--scenario", o.scenario_path, "Scenario TOML file")->check(CLI::ExistingFile);
  run_cmd->add_option("--seed", o.seed, "Override the scenario's seed");
  run_cmd->add_option("--frames", o.frames, "Override the frame count of every host that sends")->check(CLI::Range(0, 1 << 30));
  run_cmd->add_option("--pcap", o.pcap, "Write a wire capture (pcap, ns timestamps, with FCS)");
  run_cmd->add_option("--quantum-ns", o.quantum_ns, "Event-queue look-ahead (results do not depend on it)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1000'000'000}));
  run_cmd->add_option("--ring", o.ring, "Descriptor FIFO: model (C++) or rtl (Verilated); rtl-broken for tests")
      ->check(CLI::IsMember({"model", "rtl", "rtl-broken"}));
  run_cmd->add_option("--hosts", o.hosts, "driver (driver model on simulated CPUs) or direct (test hosts, device only)")
      ->check(CLI::IsMember({"driver", "direct"}));
  run_cmd->add_option("--trace", o.trace, "Write the NIC trace: FILE.json (Chrome/Perfetto) or text");
  run_cmd->add_option("--trace-limit", o.trace_limit, "At most this many trace events (default 1,000,000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  run_cmd->add_flag("--no-timing", o.quiet_timing, "Do not print wall-clock figures to stderr");
  auto* scen = app.add_subcommand("scenario", "Print the embedded default scenario (TOML)");
  auto* regmap = app.add_subcommand("regmap", "Print the register map as Markdown (docs/regmap.md)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*regmap) {
    std::fputs(vnic::model::regs::regmap_markdown().c_str(), stdout);
    return 0;
  }
  if (*scen) {
    std::fputs(std::string(vnic::tb::default_scenario_toml()).c_str(), stdout);
    return 0;
  }
  return run(o);
}

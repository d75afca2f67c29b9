// The vnic command-line tool: runs scenarios and prints reports.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vnic/model/regmap_doc.hpp"
#include "vnic/model/regs_c_header.hpp"
#include "vnic/model/trace.hpp"
#include "vnic/tb/platform.hpp"
#include "vnic/tb/plot.hpp"
#include "vnic/tb/run_output.hpp"
#include "vnic/tb/scenario.hpp"
#include "vnic/tb/sweep.hpp"

namespace {

// libsystemc's main() prints its banner before sc_main runs; a static initializer of the
// executable runs earlier still, so the banner can be switched off here.
const int kNoBanner = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);

// What selects and changes the scenario: shared by run and show.
struct ScenarioOptions {
  std::string scenario;  // a file or builtin:NAME; empty: the default
  std::vector<std::string> sets;
  std::optional<uint64_t> seed;
  std::optional<uint64_t> frames;
  std::optional<std::string> pcap;
  std::optional<uint64_t> quantum_ns;
  std::optional<std::string> ring;
  std::optional<std::string> hosts;
};

// Flags that are no scenario keys but change what a run records (a sweep passes them on).
struct RecordOptions {
  std::optional<std::string> trace;
  std::optional<uint64_t> trace_limit;
  std::vector<std::string> trace_kinds;
  uint64_t journey = 0;       // every N-th packet of each sender (0: off)
  std::string journey_from;   // a host's name, or "" (all)
  bool account = false;       // the per-packet account
};

struct RunOptions {
  ScenarioOptions sc;
  RecordOptions rec;
  std::optional<std::string> out;
  std::string progress = "auto";
  bool quiet_timing = false;
};

std::string base_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

void add_record_options(CLI::App* cmd, RecordOptions& o) {
  cmd->add_option("--trace", o.trace, "Write the NIC trace: FILE.json (Chrome/Perfetto) or text");
  cmd->add_option("--journey", o.journey,
                  "Follow every N-th packet of each sender through every step, with a latency breakdown "
                  "(docs/journey.md)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  cmd->add_option("--journey-from", o.journey_from, "Only packets made on this host (a, b, ...)");
  cmd->add_flag("--account", o.account,
                "Follow every packet to its one end (delivered, consumed by the stack, or dropped in one named "
                "counter) and print the per-packet account; the run fails if a packet ends twice");
  cmd->add_option("--trace-limit", o.trace_limit, "At most this many trace events (default 1,000,000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  cmd->add_option("--trace-kinds", o.trace_kinds,
                  "Only these event kinds in the --trace file, comma-separated (e.g. qdisc.dequeue,app.recvmsg)")
      ->delimiter(',');
}

std::vector<std::string> record_args(const RecordOptions& o) {
  std::vector<std::string> a;
  if (o.trace) a.insert(a.end(), {"--trace", *o.trace});
  if (o.trace_limit) a.insert(a.end(), {"--trace-limit", std::to_string(*o.trace_limit)});
  if (!o.trace_kinds.empty()) a.insert(a.end(), {"--trace-kinds", fmt::format("{}", fmt::join(o.trace_kinds, ","))});
  if (o.journey > 0) a.insert(a.end(), {"--journey", std::to_string(o.journey)});
  if (!o.journey_from.empty()) a.insert(a.end(), {"--journey-from", o.journey_from});
  if (o.account) a.push_back("--account");
  return a;
}

// summary.json's "run": what the flags above did (a sweep's point is done only if they match).
nlohmann::ordered_json record_json(const RecordOptions& o) {
  return {{"trace", o.trace ? nlohmann::ordered_json(base_name(*o.trace)) : nlohmann::ordered_json(nullptr)},
          {"trace_limit", o.trace_limit.value_or(vnic::tb::Scenario{}.trace_limit)},
          {"trace_kinds", o.trace_kinds},
          {"journey", o.journey},
          {"journey_from", o.journey_from},
          {"account", o.account}};
}

std::string toml_string(const std::string& s) {
  std::ostringstream o;
  o << toml::value<std::string>(s);
  return o.str();
}

void add_scenario_options(CLI::App* cmd, ScenarioOptions& o) {
  cmd->add_option("-s,--scenario", o.scenario, "Scenario: a TOML file, or builtin:NAME (vnic list), read over the default");
  cmd->add_option("--set", o.sets, "KEY=VALUE: set one scenario key (e.g. host.b.rx-usecs=50); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--seed", o.seed, "Override the scenario's seed")->check(CLI::Range(uint64_t{0}, uint64_t{INT64_MAX}));
  cmd->add_option("--frames", o.frames, "Override the frame count of every host that sends")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--pcap", o.pcap, "Write a wire capture (pcap, ns timestamps, with FCS)");
  cmd->add_option("--quantum-ns", o.quantum_ns, "Event-queue look-ahead (results do not depend on it)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1000'000'000}));
  cmd->add_option("--ring", o.ring, "Descriptor FIFO: model (C++) or rtl (Verilated); rtl-broken for tests")
      ->check(CLI::IsMember({"model", "rtl", "rtl-broken"}));
  cmd->add_option("--hosts", o.hosts, "driver (driver model on simulated CPUs) or direct (test hosts, device only)")
      ->check(CLI::IsMember({"driver", "direct"}));
}

// The scenario the options select: the default, the file or built-in over it, the --set keys,
// then the other flags (which are scenario keys too, so `vnic show` and the hash see them).
std::optional<vnic::tb::ResolvedScenario> resolve(const ScenarioOptions& o, std::string* err) {
  std::vector<vnic::tb::ScenarioLayer> layers;
  if (!o.scenario.empty()) {
    auto layer = vnic::tb::scenario_layer(o.scenario, err);
    if (!layer) return std::nullopt;
    layers.push_back(std::move(*layer));
  }
  std::vector<vnic::tb::ScenarioSetting> sets;
  for (const auto& a : o.sets) {
    auto set = vnic::tb::parse_setting(a, err);
    if (!set) return std::nullopt;
    sets.push_back(std::move(*set));
  }
  if (o.seed) sets.push_back({"scenario.seed", std::to_string(*o.seed), "--seed"});
  if (o.pcap) sets.push_back({"link.pcap", toml_string(*o.pcap), "--pcap"});
  if (o.quantum_ns) sets.push_back({"scenario.quantum_ns", std::to_string(*o.quantum_ns), "--quantum-ns"});
  if (o.ring) sets.push_back({"nic.ring", toml_string(*o.ring), "--ring"});
  if (o.hosts) sets.push_back({"scenario.hosts", toml_string(*o.hosts), "--hosts"});
  auto r = vnic::tb::resolve_scenario(layers, sets, err);
  if (!r || !o.frames) return r;
  // NICs that send keep sending, with the new count.
  for (const auto& h : r->scenario.host_list) {
    for (std::size_t i = 0; i < h.nics.size(); ++i) {
      if (h.nics[i].host.count == 0) continue;
      const std::string key = i == 0 ? fmt::format("host.{}.frames", h.name)
                                     : fmt::format("host.{}.{}.frames", h.name, h.nics[i].ifname);
      sets.push_back({key, std::to_string(*o.frames), "--frames"});
    }
  }
  return vnic::tb::resolve_scenario(layers, sets, err);
}

// Progress on stderr while a run is long: simulated time, wall time, speed, how far, ETA.
class Progress {
 public:
  Progress(vnic::tb::Platform& p, bool tty) : p_(p), tty_(tty), t0_(Clock::now()), last_(t0_) {}
  ~Progress() {
    if (tty_ && shown_) std::fputs("\r\033[K", stderr);  // the timing line takes its place
  }
  void tick() {
    const auto now = Clock::now();
    if (now - t0_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(500)) return;
    last_ = now;
    show(now, p_.queue().now_ps());
  }
  void done() {
    if (!tty_) show(Clock::now(), p_.end_ps());  // a log gets the last state too
  }

 private:
  using Clock = std::chrono::steady_clock;
  // How far the run is: simulated time against stop_after, else frames sent against frames to send.
  double fraction() {
    const auto& s = p_.scenario();
    if (s.stop_after.ps() > 0) {
      return static_cast<double>(p_.queue().now_ps()) / static_cast<double>(s.stop_after.ps());
    }
    const uint64_t total = p_.total_to_send();
    const uint64_t sent = p_.total_sent();
    return total > 0 ? static_cast<double>(sent) / static_cast<double>(total) : 0.0;
  }
  void show(Clock::time_point now, uint64_t sim_ps) {
    const double wall = std::chrono::duration<double>(now - t0_).count();
    const double sim = static_cast<double>(sim_ps) / 1e12;
    const double f = std::min(1.0, fraction());
    const std::string eta = f > 0 ? fmt::format("{:.0f} s", wall * (1 - f) / f) : std::string("?");
    fmt::print(stderr, "{}vnic: simulated {:.6f} s, wall {:.1f} s ({:.3f}x real time), {:.0f}% sent, ETA {}{}",
               tty_ ? "\r" : "", sim, wall, wall > 0 ? sim / wall : 0.0, 100 * f, eta, tty_ ? "\033[K" : "\n");
    std::fflush(stderr);
    shown_ = true;
  }
  vnic::tb::Platform& p_;
  bool tty_;
  Clock::time_point t0_, last_;
  bool shown_ = false;
};

int run(const RunOptions& o) {
  std::string err;
  auto r = resolve(o.sc, &err);
  if (!r) {
    fmt::print(stderr, "vnic: {}\n", err);
    return 2;
  }
  vnic::tb::Scenario& s = r->scenario;
  if (o.rec.trace) s.trace = *o.rec.trace;
  if (o.rec.trace_limit) s.trace_limit = *o.rec.trace_limit;
  s.trace_kinds = o.rec.trace_kinds;
  s.journey_every = o.rec.journey;
  s.journey_from = o.rec.journey_from;
  s.account = o.rec.account;
  if (!s.journey_from.empty() && s.find_host(s.journey_from) == nullptr) {
    fmt::print(stderr, "vnic: --journey-from {}: the scenario has no such host\n", s.journey_from);
    return 2;
  }
  uint64_t to_send = 0;
  bool pings = false;
  for (const auto& h : s.host_list) {
    for (const auto& n : h.nics) to_send += n.host.count;
    pings = pings || (h.ping && h.ping->enabled && s.hosts == "driver");
  }
  if (to_send == 0 && !pings) {
    fmt::print(stderr, "vnic: note: no host sends anything (every frames key is 0, and no ping)\n");
  }
  // With --out, the capture and the trace go into the folder, under their own file names.
  vnic::tb::OutputDir out;
  vnic::tb::RunMeta meta;
  meta.scenario_toml = r->toml;
  meta.run = record_json(o.rec);
  if (o.out) {
    if (!out.open(*o.out, &err)) {
      fmt::print(stderr, "vnic: {}\n", err);
      return 2;
    }
    std::set<std::string> pcap_names;
    for (auto& l : s.links) {
      if (l.pcap.empty()) continue;
      const std::string name = base_name(l.pcap);
      if (!pcap_names.insert(name).second) {
        fmt::print(stderr, "vnic: --out: two links' captures are both named {}\n", name);
        return 2;
      }
      if (l.name == "link") meta.pcap_file = name;
      l.pcap = out.staging() + "/" + name;
    }
    for (auto& w : s.switches) {  // its ports' captures (NAME-pK.pcap) go in too
      if (!w.pcap.empty()) w.pcap = out.staging() + "/" + base_name(w.pcap);
    }
    if (!s.trace.empty()) {
      meta.trace_file = base_name(s.trace);
      s.trace = out.staging() + "/" + meta.trace_file;
    }
  }
  const bool progress = o.progress == "always" || (o.progress == "auto" && ::isatty(STDERR_FILENO) == 1);
  try {
    int status = 0;
    {
      vnic::tb::Platform p(s);
      const auto t0 = std::chrono::steady_clock::now();
      if (progress) {
        Progress bar(p, ::isatty(STDERR_FILENO) == 1);
        p.run([&] { bar.tick(); }, 100'000'000);  // every 100 us of simulated time
        bar.done();
      } else {
        p.run();
      }
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::string report = p.report();
      std::string journey_text, journey_json;
      if (const vnic::tb::JourneyRecorder* j = p.journeys()) {
        for (const auto& [id, jr] : j->journeys()) journey_text += j->format(jr) + "\n";
        journey_text += j->format_breakdown();
        journey_json = j->json();
        report += "\n" + journey_text;
      }
      const bool ok = p.all_ok();
      status = ok ? 0 : 1;
      if (o.out) {
        meta.exit_status = status;
        meta.wall_s = wall;
        if (!vnic::tb::write_run_files(p, report, meta, out.staging(), &err)) {
          fmt::print(stderr, "vnic: {}\n", err);
          return 2;
        }
        if (p.journeys() != nullptr) {
          for (const auto& [name, text] : {std::pair{"journey.txt", &journey_text}, std::pair{"journey.json", &journey_json}}) {
            std::FILE* f = std::fopen((out.staging() + "/" + name).c_str(), "w");
            if (f == nullptr || std::fputs(text->c_str(), f) < 0 || std::fclose(f) != 0) {
              fmt::print(stderr, "vnic: cannot write {} in {}\n", name, *o.out);
              return 2;
            }
          }
        }
      }
      std::fputs(report.c_str(), stdout);
      std::fflush(stdout);  // the report first, then anything on stderr, when both go to one terminal
      const double sim = static_cast<double>(p.end_ps()) / 1e12;
      const uint64_t frames = p.total_delivered();
      if (!o.quiet_timing) {
        fmt::print(stderr,
                   "ring {}, hosts {}: wall {:.3f} s, simulated {:.6f} s ({:.3f}x real time), {:.0f} frames per "
                   "wall second, {:.1f} events per frame\n",
                   s.ring, s.hosts, wall, sim, wall > 0 ? sim / wall : 0.0,
                   wall > 0 ? static_cast<double>(frames) / wall : 0.0,
                   frames > 0 ? static_cast<double>(p.queue().fired()) / static_cast<double>(frames) : 0.0);
      }
      if (!ok) fmt::print(stderr, "vnic: a check failed (see conservation / rx_bad_bytes / rx_out_of_order)\n");
    }  // the platform is gone: the capture file is closed
    if (o.out && !out.commit(&err)) {
      fmt::print(stderr, "vnic: {}\n", err);
      return 2;
    }
    return status;
  } catch (const std::exception& e) {
    fmt::print(stderr, "vnic: {}\n", e.what());
    return 2;
  }
}

// The `vnic run` arguments that select the same scenario as `o` (for the sweep's points).
std::vector<std::string> run_args(const ScenarioOptions& o) {
  std::vector<std::string> a;
  const auto add = [&](const char* flag, const std::string& v) {
    a.emplace_back(flag);
    a.push_back(v);
  };
  if (!o.scenario.empty()) add("-s", o.scenario);
  for (const auto& s : o.sets) add("--set", s);
  if (o.seed) add("--seed", std::to_string(*o.seed));
  if (o.frames) add("--frames", std::to_string(*o.frames));
  if (o.pcap) add("--pcap", *o.pcap);
  if (o.quantum_ns) add("--quantum-ns", std::to_string(*o.quantum_ns));
  if (o.ring) add("--ring", *o.ring);
  if (o.hosts) add("--hosts", *o.hosts);
  return a;
}

struct SweepOptions {
  ScenarioOptions sc;
  RecordOptions rec;
  std::vector<std::string> grid;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  std::string out;
  std::vector<std::string> metrics;
  bool plot = false;
};

int plot(const std::string& dir, const std::vector<std::string>& ys, const std::string& x) {
  std::string err;
  const bool is_sweep = std::filesystem::exists(std::filesystem::path(dir) / "sweep.json");
  const int status = is_sweep ? vnic::tb::plot_sweep(dir, ys, x, &err) : vnic::tb::plot_run(dir, &err);
  if (status != 0) fmt::print(stderr, "vnic: {}\n", err);
  return status;
}

int sweep(const SweepOptions& o) {
  std::string err;
  vnic::tb::SweepConfig cfg;
  for (const auto& g : o.grid) {
    auto axis = vnic::tb::parse_grid(g, &err);
    if (!axis) {
      fmt::print(stderr, "vnic: {}\n", err);
      return 2;
    }
    cfg.grid.push_back(std::move(*axis));
  }
  std::set<std::string> keys;
  for (const auto& g : cfg.grid) {
    if (!keys.insert(g.key).second) {
      fmt::print(stderr, "vnic: --grid {}: given twice\n", g.key);
      return 2;
    }
  }
  // Every point is resolved here first: a bad key or value stops the sweep before it starts.
  for (auto& sets : vnic::tb::grid_assignments(cfg.grid)) {
    ScenarioOptions point = o.sc;
    point.sets.insert(point.sets.end(), sets.begin(), sets.end());
    const auto r = resolve(point, &err);
    if (!r) {
      fmt::print(stderr, "vnic: {}\n", err);
      return 2;
    }
    cfg.points.push_back({std::move(sets), vnic::tb::scenario_hash(r->toml)});
  }
  std::error_code ec;
  cfg.self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    fmt::print(stderr, "vnic: cannot find the vnic binary itself: {}\n", ec.message());
    return 2;
  }
  cfg.run_args = run_args(o.sc);
  const auto rec = record_args(o.rec);
  cfg.run_args.insert(cfg.run_args.end(), rec.begin(), rec.end());
  cfg.run = record_json(o.rec);
  cfg.jobs = o.jobs;
  cfg.out = o.out;
  cfg.metrics = o.metrics.empty() ? vnic::tb::default_metrics() : o.metrics;
  const int status = vnic::tb::run_sweep(cfg, &err);
  if (!err.empty()) fmt::print(stderr, "vnic: {}\n", err);
  if (status == 2 || !o.plot) return status;
  const int plotted = plot(o.out, {}, "");
  return plotted != 0 ? plotted : status;
}

int show(const ScenarioOptions& o) {
  std::string err;
  const auto r = resolve(o, &err);
  if (!r) {
    fmt::print(stderr, "vnic: {}\n", err);
    return 2;
  }
  std::fputs(r->toml.c_str(), stdout);
  return 0;
}

int list() {
  std::size_t w = 0;
  for (const auto& b : vnic::tb::builtin_scenarios()) w = std::max(w, b.name.size());
  for (const auto& b : vnic::tb::builtin_scenarios()) fmt::print("{:<{}}  {}\n", b.name, w, b.summary);
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  CLI::App app{"vnic: a virtual NIC model (SystemC/TLM-2.0) with its test platform"};
  app.require_subcommand(1);
  RunOptions o;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario (the embedded default when no file is given)");
  add_scenario_options(run_cmd, o.sc);
  add_record_options(run_cmd, o.rec);
  run_cmd->add_flag("--no-timing", o.quiet_timing, "Do not print wall-clock figures to stderr");
  run_cmd->add_option("--out", o.out,
                      "Write the report folder: a file per host and view, summary.json, scenario.toml (and the "
                      "--pcap / --trace files)");
  run_cmd->add_option("--progress", o.progress, "Progress on stderr: auto (when it is a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  ScenarioOptions show_o;
  auto* show_cmd = app.add_subcommand("show", "Print the fully resolved scenario (TOML) after -s, --set and the flags");
  add_scenario_options(show_cmd, show_o);
  auto* list_cmd = app.add_subcommand("list", "List the built-in scenarios (run one with -s builtin:NAME)");
  SweepOptions sw;
  auto* sweep_cmd = app.add_subcommand(
      "sweep", "Run every point of a grid of scenario keys as its own process; a CSV and a table of metrics");
  sweep_cmd->add_option("scenario", sw.sc.scenario, "Scenario: a TOML file or builtin:NAME (as -s)");
  add_scenario_options(sweep_cmd, sw.sc);
  add_record_options(sweep_cmd, sw.rec);
  sweep_cmd->add_option("--grid", sw.grid, "KEY=V1,V2,...: one axis of the grid (repeatable; the last varies fastest)")
      ->required()
      ->allow_extra_args(false);
  sweep_cmd->add_option("-j,--jobs", sw.jobs, "Points run at once (default: the number of CPUs)")
      ->check(CLI::Range(1u, 256u));
  sweep_cmd->add_option("--out", sw.out, "The sweep's folder (point-K/ per point; kept, so a sweep resumes)")
      ->required();
  sweep_cmd->add_option("--metric", sw.metrics, "A column: a dotted path into summary.json (repeatable)")->allow_extra_args(false);
  sweep_cmd->add_flag("--plot", sw.plot, "Then plot each metric against the first grid key (vnic plot)");
  std::string plot_dir, plot_x;
  std::vector<std::string> plot_ys;
  auto* plot_cmd = app.add_subcommand(
      "plot", "Plot a sweep's metrics (or a run's ring levels from its --trace .json) with gnuplot: PNG and SVG");
  plot_cmd->add_option("folder", plot_dir, "A sweep's --out folder, or a run's")->required();
  plot_cmd->add_option("--y", plot_ys, "A metric to plot (repeatable; default: the sweep's metrics)")
      ->allow_extra_args(false);
  plot_cmd->add_option("--x", plot_x, "The grid key on the x axis (default: the first)");
  auto* scen = app.add_subcommand("scenario", "Print the embedded default scenario (TOML, with comments)");
  auto* regmap = app.add_subcommand("regmap", "Print the register map as Markdown (docs/regmap.md)");
  bool regmap_c = false;
  regmap->add_flag("--c-header", regmap_c,
                   "Print it as a C99 header instead: offsets, field _SHIFT/_MASK macros, descriptor layouts "
                   "(docs/vnic_regs.h)");
  auto* steps = app.add_subcommand("steps", "Print the steps of the reference flow and what emits each (docs/journey.md)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every refused flag or value is bad input: 2, as documented.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*steps) {
    std::fputs(vnic::model::steps_markdown().c_str(), stdout);
    return 0;
  }
  if (*regmap) {
    const std::string text = regmap_c ? vnic::model::regs::regmap_c_header() : vnic::model::regs::regmap_markdown();
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (*scen) {
    std::fputs(std::string(vnic::tb::default_scenario_toml()).c_str(), stdout);
    return 0;
  }
  if (*list_cmd) return list();
  if (*show_cmd) return show(show_o);
  if (*sweep_cmd) return sweep(sw);
  if (*plot_cmd) return plot(plot_dir, plot_ys, plot_x);
  return run(o);
}

// vnic run --out: the report folder and summary.json.
#include "vnic/tb/run_output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "vnic/model/regs.hpp"
#include "vnic/tb/scenario.hpp"

namespace vnic::tb {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

double per_s(uint64_t n, double sim_s) { return sim_s > 0 ? static_cast<double>(n) / sim_s : 0.0; }

json softnet_json(const stack::SoftnetStats& s) {
  return json{{"processed", s.processed},         {"dropped", s.dropped},
              {"time_squeeze", s.time_squeeze},   {"received_rps", s.received_rps},
              {"flow_limit_count", s.flow_limit_count}, {"net_rx_action", s.net_rx_action},
              {"squeeze_budget", s.squeeze_budget}, {"squeeze_time", s.squeeze_time},
              {"rx_nohandler", s.rx_nohandler}};
}

json conservation_json(BackToBack& p, int i) {
  json c{{"direction", i == 0 ? "a->b" : "b->a"}};
  int64_t left = 0;
  for (const auto& t : p.conservation_terms(i)) {
    c[t.name] = t.value;
    if (t.name == "unaccounted") left = t.value;
  }
  c["ok"] = left == 0;
  return c;
}

json driver_host_json(BackToBack& p, int i, double sim_s) {
  DriverHost& h = p.dhost(i);
  json j;
  j["mac"] = h.driver().dev_addr.str();
  j["sent"] = h.pktgen().stats().sent;
  j["received"] = h.checker().stats().frames;
  // ethtool -S: the driver's counters, then the device's as the driver read them.
  const auto stats = h.driver().get_ethtool_stats();
  json drv = json::object(), dev = json::object();
  for (std::size_t k = 0; k < stats.size(); ++k) {
    (k < driver::kNumDrvStats ? drv : dev)[stats[k].first] = stats[k].second;
  }
  j["driver"] = std::move(drv);
  j["device"] = std::move(dev);
  json sn = json::object(), cpu = json::object();
  for (unsigned c = 0; c < h.config().cpus; ++c) {
    json one = softnet_json(h.softnet(c).stats());
    one["backlog_len"] = h.softnet(c).backlog_len();
    sn[fmt::format("cpu{}", c)] = std::move(one);
    const auto& st = h.cpu(c).stats();
    cpu[fmt::format("cpu{}", c)] = json{{"hardirqs", st.hardirqs},
                                        {"softirq_runs", st.softirq_runs},
                                        {"ksoftirqd_wakeups", st.ksoftirqd_wakeups},
                                        {"tasks", st.tasks},
                                        {"busy_hardirq_ps", st.busy_hardirq_ps},
                                        {"busy_softirq_ps", st.busy_softirq_ps},
                                        {"busy_process_ps", st.busy_process_ps}};
  }
  j["softnet"] = std::move(sn);
  j["softnet_total"] = softnet_json(h.softnet_total());
  j["cpu"] = std::move(cpu);
  const auto& g = h.pktgen().stats();
  j["pktgen"] = json{{"sent", g.sent}, {"busy", g.busy}, {"queue_waits", g.queue_waits}, {"alloc_waits", g.alloc_waits}};
  const auto& k = h.checker().stats();
  j["rx_checker"] = json{{"frames", k.frames},         {"ok", k.ok},
                         {"bad_bytes", k.bad_bytes},   {"out_of_order", k.out_of_order},
                         {"gap_frames", k.gap_frames}, {"not_for_us", k.not_for_us}};
  j["conservation"] = conservation_json(p, i);
  const auto drv_stat = [&](driver::DrvStat s) { return h.driver().stat(s); };
  j["rates"] = json{
      {"irq_per_s", per_s(drv_stat(driver::DrvStat::irq_queue_0), sim_s)},
      {"rx_packets_per_s", per_s(k.frames, sim_s)},
      {"rx_gbps", per_s(drv_stat(driver::DrvStat::rx_queue_0_bytes), sim_s) * 8 / 1e9},
      {"tx_packets_per_s", per_s(g.sent, sim_s)},
  };
  return j;
}

json direct_host_json(BackToBack& p, int i, double sim_s) {
  TestHost& h = p.host(i);
  const auto& s = h.stats();
  json j;
  j["mac"] = (i == 0 ? p.scenario().a.mac : p.scenario().b.mac).str();
  j["sent"] = s.tx_posted;
  j["received"] = s.rx_frames;
  json dev = json::object();
  for (unsigned k = 0; k < model::regs::kNumStats; ++k) {
    dev[std::string(model::regs::kStatInfo[k].name)] = p.nic(i).stat(static_cast<model::regs::Stat>(k));
  }
  j["device"] = std::move(dev);
  j["test_host"] = json{{"tx_posted", s.tx_posted},       {"tx_completed", s.tx_completed},
                        {"tx_ring_full", s.tx_ring_full}, {"tx_desc_errors", s.tx_desc_errors},
                        {"rx_frames", s.rx_frames},       {"rx_ok", s.rx_ok},
                        {"rx_bad_bytes", s.rx_bad_bytes}, {"rx_out_of_order", s.rx_out_of_order},
                        {"rx_gap_frames", s.rx_gap_frames}, {"rx_err_flagged", s.rx_err_flagged},
                        {"irqs", s.irqs}};
  j["conservation"] = conservation_json(p, i);
  j["rates"] = json{{"irq_per_s", per_s(s.irqs, sim_s)},
                    {"rx_packets_per_s", per_s(s.rx_frames, sim_s)},
                    {"tx_packets_per_s", per_s(s.tx_posted, sim_s)}};
  return j;
}

bool write_file(const fs::path& path, std::string_view text, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    if (error) *error = fmt::format("{}: cannot write", path.string());
    return false;
  }
  return true;
}

}  // namespace

std::string scenario_hash(std::string_view toml) { return fmt::format("fnv1a64:{:016x}", fnv1a64(toml)); }

json run_summary(BackToBack& p, const RunMeta& m) {
  const Scenario& s = p.scenario();
  const double sim_s = static_cast<double>(p.end_ps()) / 1e12;
  json j;
  j["vnic_version"] = kVnicVersion;
  j["scenario"] = json{{"name", s.name},
                       {"hash", scenario_hash(m.scenario_toml)},
                       {"file", "scenario.toml"},
                       {"seed", s.seed},
                       {"hosts", s.hosts},
                       {"ring", s.ring}};
  bool conserved = true, clean = true;
  for (int i = 0; i < 2; ++i) {
    conserved = conserved && p.unaccounted(i) == 0;
    clean = clean && p.rx_clean(i);
  }
  j["status"] = json{{"exit", m.exit_status}, {"conservation_ok", conserved}, {"rx_clean", clean}};
  j["run"] = m.run.is_null() ? json::object() : m.run;
  j["simulated_time_ps"] = p.end_ps();
  j["simulated_time_s"] = sim_s;
  j["events_fired"] = p.queue().fired();
  json hosts;
  for (int i = 0; i < 2; ++i) {
    hosts[i == 0 ? "a" : "b"] = p.driver_hosts() ? driver_host_json(p, i, sim_s) : direct_host_json(p, i, sim_s);
  }
  j["hosts"] = std::move(hosts);
  json link;
  for (unsigned d = 0; d < 2; ++d) {
    const auto& ls = p.link().stats(d);
    link[d == 0 ? "a_to_b" : "b_to_a"] = json{{"frames", ls.frames},
                                              {"bytes", ls.bytes},
                                              {"delivered", ls.delivered},
                                              {"dropped_fault", ls.dropped_fault},
                                              {"dropped_link_down", ls.dropped_link_down},
                                              {"corrupted", ls.corrupted},
                                              {"tx_overlap_errors", ls.tx_overlap_errors}};
  }
  j["link"] = std::move(link);
  if (const JourneyRecorder* jr = p.journeys()) {
    // The sampled packets' latency, sender's pktgen to receiver's consumer (--journey N).
    json e2e = nullptr;
    for (const auto& seg : jr->breakdown()) {
      if (!seg.from.starts_with("end to end") || seg.count == 0) continue;
      const auto ns = [](uint64_t ps) { return static_cast<double>(ps) / 1e3; };
      e2e = json{{"count", seg.count},
                 {"p50", ns(seg.p50_ps)},
                 {"p99", ns(seg.p99_ps)},
                 {"max", ns(seg.max_ps)},
                 {"mean", ns(seg.total_ps) / static_cast<double>(seg.count)}};
    }
    j["journey"] = json{{"sampled", jr->journeys().size()}, {"end_to_end_ns", e2e}};
  }
  j["files"] = json{{"pcap", m.pcap_file.empty() ? json(nullptr) : json(m.pcap_file)},
                    {"trace", m.trace_file.empty() ? json(nullptr) : json(m.trace_file)}};
  // Everything above is the same for the same scenario and seed; this is not.
  const uint64_t frames = p.delivered(0) + p.delivered(1);
  j["wall_clock"] = json{{"run_s", m.wall_s},
                         {"simulated_per_wall", m.wall_s > 0 ? sim_s / m.wall_s : 0.0},
                         {"frames_per_wall_s", m.wall_s > 0 ? static_cast<double>(frames) / m.wall_s : 0.0}};
  return j;
}

bool write_run_files(BackToBack& p, const std::string& report, const RunMeta& m, const std::string& dir,
                     std::string* error) {
  const fs::path d(dir);
  if (!write_file(d / "report.txt", report, error)) return false;
  if (!write_file(d / "scenario.toml", m.scenario_toml, error)) return false;
  if (!write_file(d / "link.txt", p.link_report(), error)) return false;
  for (int i = 0; i < 2; ++i) {
    const fs::path hd = d / (i == 0 ? "host-a" : "host-b");
    std::error_code ec;
    fs::create_directory(hd, ec);
    if (ec) {
      if (error) *error = fmt::format("{}: cannot create: {}", hd.string(), ec.message());
      return false;
    }
    for (const auto& v : p.host_views(i)) {
      if (!write_file(hd / v.file, v.text, error)) return false;
    }
  }
  return write_file(d / "summary.json", run_summary(p, m).dump(2) + "\n", error);
}

OutputDir::~OutputDir() {
  if (!committed_ && !tmp_.empty()) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

bool OutputDir::open(const std::string& dir, std::string* error) {
  fs::path p = fs::path(dir).lexically_normal();
  if (!p.empty() && p.filename().empty()) p = p.parent_path();  // "out/" -> "out"
  const auto fail = [&](const std::string& why) {
    if (error) *error = fmt::format("--out {}: {}", dir, why);
    return false;
  };
  if (p.empty() || p == "." || p == "..") return fail("not a folder name");
  std::error_code ec;
  const auto st = fs::status(p, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) return fail("exists and is not a folder");
    const bool empty = fs::is_empty(p, ec);
    if (!empty && !fs::exists(p / "summary.json")) {
      return fail("exists and is not a vnic output folder (no summary.json): choose another");
    }
  }
  final_ = p.string();
  tmp_ = fmt::format("{}.tmp-{}", final_, ::getpid());
  fs::remove_all(tmp_, ec);
  if (!fs::create_directory(tmp_, ec) || ec) {
    const std::string why = ec ? ec.message() : "already exists";
    tmp_.clear();
    return fail(fmt::format("cannot create the folder: {}", why));
  }
  return true;
}

bool OutputDir::commit(std::string* error) {
  std::error_code ec;
  const std::string old = fmt::format("{}.old-{}", final_, ::getpid());
  const bool replace = fs::exists(final_, ec);
  if (replace) {
    fs::rename(final_, old, ec);
    if (ec) {
      if (error) *error = fmt::format("--out {}: cannot move the earlier folder aside: {}", final_, ec.message());
      return false;
    }
  }
  fs::rename(tmp_, final_, ec);
  if (ec) {
    if (error) *error = fmt::format("--out {}: cannot rename {} into place: {}", final_, tmp_, ec.message());
    if (replace) fs::rename(old, final_, ec);
    return false;
  }
  committed_ = true;
  if (replace) fs::remove_all(old, ec);
  return true;
}

}  // namespace vnic::tb

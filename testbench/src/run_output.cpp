// vnic run --out: the report folder and summary.json.
#include "vnic/tb/run_output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "vnic/model/regs.hpp"
#include "vnic/tb/scenario.hpp"

namespace vnic::tb {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

json conservation_json(Platform& p, PortId from) {
  json c{{"direction", fmt::format("{}->{}", p.label(from), p.peer_label(from))}};
  int64_t left = 0;
  for (const auto& t : p.conservation_terms(from)) {
    c[t.name] = t.value;
    if (t.name == "unaccounted") left = t.value;
  }
  c["ok"] = left == 0;
  return c;
}

// One port's object: its counters, with its conservation before its rates.
json port_json(Platform& p, PortId port, double sim_s) {
  const json one = p.host(port.host).port_summary(port.nic, sim_s);
  json j;
  for (const auto& [k, v] : one.items()) {
    if (k == "rates") j["conservation"] = conservation_json(p, port);
    j[k] = v;
  }
  if (!j.contains("conservation")) j["conservation"] = conservation_json(p, port);
  return j;
}

// hosts.NAME: eth0's counters with the host's own (softnet, CPUs) after its device counters, as
// with one NIC a host; then eth1, eth2, ... each as an object of its own.
json host_json(Platform& p, unsigned i, double sim_s) {
  Host& h = p.host(i);
  const json host = h.host_summary(sim_s);
  const json eth0 = port_json(p, {i, 0}, sim_s);
  json j;
  for (const auto& [k, v] : eth0.items()) {
    j[k] = v;
    if (k == "device") {
      for (const auto& [hk, hv] : host.items()) j[hk] = hv;
    }
  }
  for (const auto& [hk, hv] : host.items()) {
    if (!j.contains(hk)) j[hk] = hv;
  }
  for (unsigned n = 1; n < h.num_ports(); ++n) j[p.scenario().host_list[i].nics[n].ifname] = port_json(p, {i, n}, sim_s);
  return j;
}

json link_dir_json(const LinkDirStats& ls) {
  return json{{"frames", ls.frames},
              {"bytes", ls.bytes},
              {"delivered", ls.delivered},
              {"dropped_fault", ls.dropped_fault},
              {"dropped_link_down", ls.dropped_link_down},
              {"corrupted", ls.corrupted},
              {"tx_overlap_errors", ls.tx_overlap_errors},
              {"reordered", ls.reordered},
              {"duplicated", ls.duplicated}};
}

// A direction's key: "a_to_b"; "a_eth1_to_c" (a metric path has no dots in its keys).
std::string dir_key(const LinkConfig& l, unsigned d) {
  std::string k = l.ends[d].label() + "_to_" + l.ends[1 - d].label();
  std::replace(k.begin(), k.end(), '.', '_');
  return k;
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

json run_summary(Platform& p, const RunMeta& m) {
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
  for (const PortId port : p.ports()) {
    conserved = conserved && p.unaccounted(port) == 0;
    clean = clean && p.rx_clean(port);
  }
  for (unsigned w = 0; w < p.num_switches(); ++w) conserved = conserved && p.switch_unaccounted(w) == 0;
  j["status"] = json{{"exit", m.exit_status}, {"conservation_ok", conserved}, {"rx_clean", clean}};
  j["run"] = m.run.is_null() ? json::object() : m.run;
  j["simulated_time_ps"] = p.end_ps();
  j["simulated_time_s"] = sim_s;
  j["events_fired"] = p.queue().fired();
  json hosts;
  for (unsigned i = 0; i < p.num_hosts(); ++i) hosts[p.host(i).host_name()] = host_json(p, i, sim_s);
  j["hosts"] = std::move(hosts);
  // [link] as "link"; the [link.NAME] links under "links", each with its ends.
  json named = json::object();
  for (unsigned l = 0; l < p.num_links(); ++l) {
    const LinkConfig& c = p.link_config(l);
    json one;
    if (c.name != "link") one["ends"] = json::array({c.ends[0].str(), c.ends[1].str()});
    for (unsigned d = 0; d < 2; ++d) one[dir_key(c, d)] = link_dir_json(p.link(l).stats(d));
    if (c.name == "link") {
      j["link"] = std::move(one);
    } else {
      named[c.name] = std::move(one);
    }
  }
  if (!named.empty()) j["links"] = std::move(named);
  // switches.NAME: its ports' counters (by port number) and whether its sum holds.
  json switches = json::object();
  for (unsigned w = 0; w < p.num_switches(); ++w) {
    const SwitchConfig& c = p.switch_config(w);
    json ports = json::object();
    for (unsigned k = 0; k < p.eth_switch(w).num_ports(); ++k) {
      const SwitchPortStats& st = p.eth_switch(w).stats(k);
      ports[fmt::format("p{}", k)] = json{{"station", k < c.attached.size() ? c.attached[k].str() : ""},
                                          {"rx_frames", st.rx_frames},
                                          {"rx_bytes", st.rx_bytes},
                                          {"tx_frames", st.tx_frames},
                                          {"tx_bytes", st.tx_bytes},
                                          {"flood_copies", st.flood_copies},
                                          {"dropped_queue_full", st.dropped_queue_full},
                                          {"dropped_filtered", st.dropped_filtered},
                                          {"rx_dropped_link_down", st.rx_dropped_link_down},
                                          {"tx_dropped_link_down", st.tx_dropped_link_down},
                                          {"queue_max_bytes", st.queue_max_bytes}};
    }
    switches[c.name] = json{{"ports", std::move(ports)}, {"conservation_ok", p.switch_unaccounted(w) == 0}};
  }
  if (!switches.empty()) j["switches"] = std::move(switches);
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
  json pcaps = json::object();
  for (unsigned l = 0; l < p.num_links(); ++l) {
    if (l > 0 && !p.link_config(l).pcap.empty()) pcaps[p.link_config(l).name] = fs::path(p.link_config(l).pcap).filename().string();
  }
  j["files"] = json{{"pcap", m.pcap_file.empty() ? json(nullptr) : json(m.pcap_file)},
                    {"trace", m.trace_file.empty() ? json(nullptr) : json(m.trace_file)}};
  if (!pcaps.empty()) j["files"]["link_pcaps"] = std::move(pcaps);
  // Everything above is the same for the same scenario and seed; this is not.
  const uint64_t frames = p.total_delivered();
  j["wall_clock"] = json{{"run_s", m.wall_s},
                         {"simulated_per_wall", m.wall_s > 0 ? sim_s / m.wall_s : 0.0},
                         {"frames_per_wall_s", m.wall_s > 0 ? static_cast<double>(frames) / m.wall_s : 0.0}};
  return j;
}

bool write_run_files(Platform& p, const std::string& report, const RunMeta& m, const std::string& dir,
                     std::string* error) {
  const fs::path d(dir);
  if (!write_file(d / "report.txt", report, error)) return false;
  if (!write_file(d / "scenario.toml", m.scenario_toml, error)) return false;
  if (!write_file(d / "link.txt", p.link_report(), error)) return false;
  if (p.num_switches() > 0 && !write_file(d / "switch.txt", p.switch_report(), error)) return false;
  for (unsigned i = 0; i < p.num_hosts(); ++i) {
    const fs::path hd = d / ("host-" + p.host(i).host_name());
    for (const auto& v : p.host_views(i)) {
      const fs::path f = hd / v.file;
      std::error_code ec;
      fs::create_directories(f.parent_path(), ec);
      if (ec) {
        if (error) *error = fmt::format("{}: cannot create: {}", f.parent_path().string(), ec.message());
        return false;
      }
      if (!write_file(f, v.text, error)) return false;
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

// vnic sweep: grid expansion, the point processes, and the CSV and table of metrics.
#include "vnic/tb/sweep.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

namespace vnic::tb {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::optional<GridAxis> parse_grid(std::string_view arg, std::string* error) {
  const auto fail = [&](std::string_view why) {
    if (error) *error = fmt::format("--grid {}: {}", arg, why);
    return std::nullopt;
  };
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) return fail("expected KEY=V1,V2,... e.g. host.b.rx-usecs=0,8,64");
  GridAxis g{std::string(arg.substr(0, eq)), {}};
  std::string_view rest = arg.substr(eq + 1);
  for (;;) {
    const auto comma = rest.find(',');
    const std::string_view v = rest.substr(0, comma);
    if (v.empty()) return fail("an empty value");
    g.values.emplace_back(v);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return g;
}

std::vector<std::vector<std::string>> grid_assignments(const std::vector<GridAxis>& grid) {
  std::vector<std::vector<std::string>> points{{}};
  for (const auto& axis : grid) {
    std::vector<std::vector<std::string>> next;
    for (const auto& p : points) {
      for (const auto& v : axis.values) {
        auto q = p;
        q.push_back(fmt::format("{}={}", axis.key, v));
        next.push_back(std::move(q));
      }
    }
    points = std::move(next);
  }
  return points;
}

const json* find_metric(const json& summary, std::string_view path) {
  const json* j = &summary;
  for (;;) {
    const auto dot = path.find('.');
    const std::string part(path.substr(0, dot));
    if (!j->is_object()) return nullptr;
    const auto it = j->find(part);
    if (it == j->end()) return nullptr;
    j = &*it;
    if (dot == std::string_view::npos) return j;
    path = path.substr(dot + 1);
  }
}

const std::vector<std::string>& default_metrics() {
  static const std::vector<std::string> m = {
      "simulated_time_s",           "hosts.a.sent",
      "hosts.b.received",           "hosts.b.rates.irq_per_s",
      "hosts.b.rates.rx_gbps",      "hosts.b.device.rx_missed_errors",
      "hosts.b.device.rx_crc_errors", "hosts.b.softnet_total.dropped",
      "status.conservation_ok"};
  return m;
}

std::string csv_cell(const json* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  if (v->is_structured()) return csv_cell(nullptr);
  return v->dump();  // numbers at full precision (shortest round trip), true/false
}

std::string table_cell(const json* v) {
  if (v && v->is_number_float()) return fmt::format("{:.6g}", v->get<double>());
  if (v && v->is_string()) return v->get<std::string>();
  return csv_cell(v);
}

namespace {

bool write_atomically(const fs::path& path, const std::string& text, std::string* error) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      if (error) *error = fmt::format("{}: cannot write", tmp.string());
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    if (error) *error = fmt::format("{}: cannot write: {}", path.string(), ec.message());
    return false;
  }
  return true;
}

std::optional<json> read_summary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// A point is done when its folder holds the summary of the very scenario it would run now,
// recorded the same way (trace, journey).
bool point_done(const fs::path& dir, const std::string& hash, const nlohmann::ordered_json& run) {
  const auto j = read_summary(dir / "summary.json");
  if (!j) return false;
  const json* h = find_metric(*j, "scenario.hash");
  const json* r = find_metric(*j, "run");
  return h && h->is_string() && h->get<std::string>() == hash && r && *r == json::parse(run.dump());
}

// Starts `argv` with stdout discarded and stderr to `log`; -1 if it cannot.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int err_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) return -1;
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(err_fd);
  return pid;
}

std::string aligned_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> w;
  for (const auto& r : rows) {
    w.resize(std::max(w.size(), r.size()), 0);
    for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (c > 0) line += "  ";
      // Names left, values right, as ls -l and ethtool do.
      line += c == 0 ? fmt::format("{:<{}}", r[c], w[c]) : fmt::format("{:>{}}", r[c], w[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

int run_sweep(const SweepConfig& cfg, std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return 2;
  };
  const fs::path out(cfg.out);
  std::error_code ec;
  if (fs::exists(out, ec) ? !fs::is_directory(out, ec) : !fs::create_directory(out, ec)) {
    return fail(fmt::format("--out {}: cannot use it as the sweep's folder{}", cfg.out,
                            ec ? ": " + ec.message() : std::string()));
  }
  // What the sweep is, for a later `vnic plot` and for people.
  json desc;
  desc["run_args"] = cfg.run_args;
  desc["grid"] = json::array();
  for (const auto& g : cfg.grid) desc["grid"].push_back(json{{"key", g.key}, {"values", g.values}});
  desc["points"] = json::array();
  for (std::size_t k = 0; k < cfg.points.size(); ++k) {
    desc["points"].push_back(
        json{{"dir", fmt::format("point-{}", k)}, {"sets", cfg.points[k].sets}, {"hash", cfg.points[k].hash}});
  }
  desc["metrics"] = cfg.metrics;
  if (!write_atomically(out / "sweep.json", desc.dump(2) + "\n", error)) return 2;

  std::vector<std::size_t> todo;
  for (std::size_t k = 0; k < cfg.points.size(); ++k) {
    if (point_done(out / fmt::format("point-{}", k), cfg.points[k].hash, cfg.run)) {
      fmt::print(stderr, "vnic sweep: point-{} ({}): done before, kept\n", k, fmt::join(cfg.points[k].sets, " "));
    } else {
      todo.push_back(k);
    }
  }
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0, finished = 0;
  while (next < todo.size() || !running.empty()) {
    while (running.size() < std::max(1u, cfg.jobs) && next < todo.size()) {
      const std::size_t k = todo[next++];
      // What an interrupted run of this point left (its temporary folders) goes first.
      const std::string stem = fmt::format("point-{}.", k);
      for (const auto& e : fs::directory_iterator(out, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(stem + "tmp-") || name.starts_with(stem + "old-")) fs::remove_all(e.path(), ec);
      }
      std::vector<std::string> argv = {cfg.self, "run"};
      argv.insert(argv.end(), cfg.run_args.begin(), cfg.run_args.end());
      for (const auto& s : cfg.points[k].sets) {
        argv.push_back("--set");
        argv.push_back(s);
      }
      for (const char* a : {"--no-timing", "--progress", "never", "--out"}) argv.emplace_back(a);
      argv.push_back((out / fmt::format("point-{}", k)).string());
      const pid_t pid = spawn(argv, (out / fmt::format("point-{}.log", k)).string());
      if (pid < 0) {
        for (const auto& [p, kk] : running) ::waitpid(p, nullptr, 0);
        return fail(fmt::format("cannot start {} for point-{}", cfg.self, k));
      }
      running[pid] = k;
    }
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      return fail("lost track of the point processes");
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t k = it->second;
    running.erase(it);
    ++finished;
    const int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    const fs::path log = out / fmt::format("point-{}.log", k);
    if (fs::file_size(log, ec) == 0 && !ec) fs::remove(log, ec);  // only logs that say something stay
    fmt::print(stderr, "vnic sweep: point-{} ({}): exit {} [{}/{}]\n", k, fmt::join(cfg.points[k].sets, " "), code,
               finished, todo.size());
  }

  // Collect: one row per point.
  int status = 0;
  std::vector<std::optional<json>> summaries;
  for (std::size_t k = 0; k < cfg.points.size(); ++k) {
    const fs::path dir = out / fmt::format("point-{}", k);
    auto j = point_done(dir, cfg.points[k].hash, cfg.run) ? read_summary(dir / "summary.json") : std::nullopt;
    if (!j) {
      status = 2;
      fmt::print(stderr, "vnic sweep: point-{} has no result: see {}\n", k,
                 (out / fmt::format("point-{}.log", k)).string());
    } else if (const json* e = find_metric(*j, "status.exit"); e && *e != 0) {
      status = std::max(status, 1);
    }
    summaries.push_back(std::move(j));
  }
  for (const auto& m : cfg.metrics) {
    const bool anywhere = std::any_of(summaries.begin(), summaries.end(),
                                      [&](const auto& j) { return j && find_metric(*j, m) != nullptr; });
    const bool any_result = std::any_of(summaries.begin(), summaries.end(), [](const auto& j) { return j.has_value(); });
    if (any_result && !anywhere) {
      return fail(fmt::format("--metric {}: not in summary.json (a dotted path such as hosts.b.rates.irq_per_s)", m));
    }
  }
  std::vector<std::string> header = {"point"};
  for (const auto& g : cfg.grid) header.push_back(g.key);
  header.emplace_back("exit");
  header.insert(header.end(), cfg.metrics.begin(), cfg.metrics.end());
  std::string csv = fmt::format("{}\n", fmt::join(header, ","));
  std::vector<std::vector<std::string>> table = {header};
  for (std::size_t k = 0; k < cfg.points.size(); ++k) {
    std::vector<std::string> c = {fmt::format("point-{}", k)}, t = c;
    for (const auto& s : cfg.points[k].sets) {
      const std::string v = s.substr(s.find('=') + 1);
      const json jv(v);
      c.push_back(csv_cell(&jv));
      t.push_back(v);
    }
    const auto& j = summaries[k];
    const json* e = j ? find_metric(*j, "status.exit") : nullptr;
    c.push_back(e ? csv_cell(e) : "error");
    t.push_back(c.back());
    for (const auto& m : cfg.metrics) {
      const json* v = j ? find_metric(*j, m) : nullptr;
      c.push_back(csv_cell(v));
      t.push_back(table_cell(v));
    }
    csv += fmt::format("{}\n", fmt::join(c, ","));
    table.push_back(std::move(t));
  }
  const std::string text = aligned_table(table);
  if (!write_atomically(out / "sweep.csv", csv, error)) return 2;
  if (!write_atomically(out / "sweep.txt", text, error)) return 2;
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return status;
}

}  // namespace vnic::tb

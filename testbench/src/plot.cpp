// vnic plot: the CSV behind each figure, its gnuplot script, and gnuplot run on it.
#include "vnic/tb/plot.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "vnic/tb/sweep.hpp"

namespace vnic::tb {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Figure {
  std::string name;  // file stem in plots/
  std::string title, xlabel, ylabel;
  std::size_t columns = 2;  // of the CSV: x, then one per line
  bool x_numeric = true;
  bool logx = false;
  std::string style = "linespoints";
  bool stacked = false;  // one stacked bar per CSV row (gnuplot rowstacked histogram)
  int width = 960;
};

std::optional<json> read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::optional<double> number(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string gp_quote(std::string_view s) {  // a gnuplot single-quoted string
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// The script draws the CSV twice: PNG (cairo if this gnuplot has it) and SVG.
std::string gnuplot_script(const Figure& f) {
  std::string s;
  s += "# vnic plot: " + f.title + "\n";
  s += "set datafile separator ','\n";
  s += "set key autotitle columnhead noenhanced\n";
  s += "set title " + gp_quote(f.title) + " noenhanced\n";
  s += "set xlabel " + gp_quote(f.xlabel) + " noenhanced\n";
  s += "set ylabel " + gp_quote(f.ylabel) + " noenhanced\n";
  s += "set grid\nset yrange [0:*]\n";
  if (f.logx) s += "set logscale x 2\n";
  const std::string csv = gp_quote(f.name + ".csv");
  const std::string using_x = f.x_numeric ? "1:c" : "0:c:xtic(1)";
  std::string plot = fmt::format("plot for [c=2:{}] {} using {} with {}\n", f.columns, csv, using_x, f.style);
  if (f.stacked) {
    s += "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 border -1\n"
         "set boxwidth 0.5\nset key outside right noenhanced\n";
    plot = fmt::format("plot for [c=2:{}] {} using c:xtic(1)\n", f.columns, csv);
  }
  s += fmt::format("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {{ set terminal pngcairo size {0},600 noenhanced }} "
                   "else {{ set terminal png size {0},600 noenhanced }}\n", f.width);
  s += "set output " + gp_quote(f.name + ".png") + "\n" + plot;
  s += fmt::format("set terminal svg size {},600 noenhanced\n", f.width);
  s += "set output " + gp_quote(f.name + ".svg") + "\n" + plot;
  s += "unset output\n";
  return s;
}

bool write_text(const fs::path& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out && error) *error = fmt::format("{}: cannot write", path.string());
  return static_cast<bool>(out);
}

// Runs gnuplot on NAME.gp in `dir`; its messages go to NAME.gnuplot.log.
bool run_gnuplot(const fs::path& dir, const std::string& name, std::string* error) {
  const std::string script = name + ".gp", log = (dir / (name + ".gnuplot.log")).string();
  const std::string where = dir.string();
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    if (error) *error = fmt::format("{}: cannot write", log);
    return false;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (::chdir(where.c_str()) != 0) ::_exit(126);
    ::execlp("gnuplot", "gnuplot", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(log_fd);
  int st = 0;
  if (pid < 0 || ::waitpid(pid, &st, 0) != pid) {
    if (error) *error = "cannot start gnuplot";
    return false;
  }
  const int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  if (code == 127) {
    if (error) *error = "gnuplot is not installed (Debian: apt-get install gnuplot-nox)";
    return false;
  }
  if (code != 0) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    if (error) *error = fmt::format("gnuplot failed on {}: {}", (dir / script).string(), ss.str());
    return false;
  }
  std::error_code ec;
  if (fs::file_size(log, ec) == 0 && !ec) fs::remove(log, ec);  // a log only when gnuplot said something
  for (const char* ext : {".png", ".svg"}) {
    if (fs::file_size(dir / (name + ext), ec) == 0 || ec) {
      if (error) *error = fmt::format("gnuplot wrote no {}", (dir / (name + ext)).string());
      return false;
    }
  }
  return true;
}

bool draw(const fs::path& plots, const Figure& f, const std::string& csv, std::string* error) {
  if (!write_text(plots / (f.name + ".csv"), csv, error)) return false;
  if (!write_text(plots / (f.name + ".gp"), gnuplot_script(f), error)) return false;
  if (!run_gnuplot(plots, f.name, error)) return false;
  fmt::print(stderr, "vnic plot: {}.png, {}.svg\n", (plots / f.name).string(), (plots / f.name).string());
  return true;
}

std::string csv_field(std::string_view s) {
  const json j(s);
  return csv_cell(&j);
}

bool make_plots_dir(const fs::path& plots, std::string* error) {
  std::error_code ec;
  fs::create_directories(plots, ec);
  if (ec && error) *error = fmt::format("{}: cannot create: {}", plots.string(), ec.message());
  return !ec;
}

}  // namespace

int plot_sweep(const std::string& dir, const std::vector<std::string>& ys, const std::string& x, std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return 2;
  };
  const fs::path d(dir);
  const auto sweep = read_json(d / "sweep.json");
  if (!sweep || !sweep->contains("grid") || !sweep->contains("points")) {
    return fail(fmt::format("{}: not a sweep's folder (no sweep.json)", dir));
  }
  std::vector<GridAxis> grid;
  for (const auto& g : (*sweep)["grid"]) grid.push_back({g["key"], g["values"]});
  if (grid.empty()) return fail(fmt::format("{}: the sweep has no grid", dir));
  const auto xi = std::find_if(grid.begin(), grid.end(), [&](const GridAxis& g) { return g.key == (x.empty() ? grid[0].key : x); });
  if (xi == grid.end()) return fail(fmt::format("--x {}: not a key of the sweep's grid", x));
  const GridAxis& xaxis = *xi;

  // Each point: its x value, its line (the other keys' values), its summary.
  struct Point {
    std::string x, line;
    std::optional<json> summary;
  };
  std::vector<Point> points;
  std::vector<std::string> lines;
  for (const auto& p : (*sweep)["points"]) {
    Point pt;
    std::vector<std::string> others;
    for (const auto& set : p["sets"]) {
      const std::string s = set;
      const auto eq = s.find('=');
      if (s.substr(0, eq) == xaxis.key) {
        pt.x = s.substr(eq + 1);
      } else {
        others.push_back(s);
      }
    }
    pt.line = fmt::format("{}", fmt::join(others, " "));
    if (std::find(lines.begin(), lines.end(), pt.line) == lines.end()) lines.push_back(pt.line);
    pt.summary = read_json(d / p["dir"].get<std::string>() / "summary.json");
    points.push_back(std::move(pt));
  }
  bool x_numeric = true;
  double lo = 0, hi = 0;
  for (std::size_t i = 0; i < xaxis.values.size(); ++i) {
    const auto v = number(xaxis.values[i]);
    if (!v) {
      x_numeric = false;
      break;
    }
    lo = i == 0 ? *v : std::min(lo, *v);
    hi = i == 0 ? *v : std::max(hi, *v);
  }
  std::vector<std::string> metrics = ys;
  if (metrics.empty()) {
    for (const auto& m : (*sweep)["metrics"]) metrics.push_back(m);
  }
  const fs::path plots = d / "plots";
  if (!make_plots_dir(plots, error)) return 2;
  int drawn = 0;
  for (const auto& m : metrics) {
    // table[x][line]: the metric's value, empty where a point has none.
    std::map<std::string, std::map<std::string, std::string>> table;
    bool any = false;
    for (const auto& pt : points) {
      const json* v = pt.summary ? find_metric(*pt.summary, m) : nullptr;
      if (v && v->is_number()) {
        table[pt.x][pt.line] = csv_cell(v);
        any = true;
      }
    }
    if (!any) {
      if (!ys.empty()) return fail(fmt::format("--y {}: no point of the sweep has it as a number", m));
      continue;  // a sweep's non-numeric column (true/false) is no figure
    }
    std::vector<std::string> header = {csv_field(xaxis.key)};
    for (const auto& l : lines) header.push_back(csv_field(l.empty() ? m : l));
    std::string csv = fmt::format("{}\n", fmt::join(header, ","));
    for (const auto& xv : xaxis.values) {
      std::vector<std::string> row = {csv_field(xv)};
      for (const auto& l : lines) row.push_back(table[xv][l]);
      csv += fmt::format("{}\n", fmt::join(row, ","));
    }
    Figure f;
    f.name = m;
    f.title = fmt::format("{} against {}", m, xaxis.key);
    f.xlabel = xaxis.key;
    f.ylabel = m;
    f.columns = lines.size() + 1;
    f.x_numeric = x_numeric;
    f.logx = x_numeric && lo > 0 && hi / lo >= 16;  // e.g. rx-usecs 1..128: evenly spaced doublings
    if (!draw(plots, f, csv, error)) return 2;
    ++drawn;
  }
  if (drawn == 0) return fail(fmt::format("{}: no numeric metric to plot (name some with --y)", dir));
  return 0;
}

int plot_run(const std::string& dir, std::string* error) {
  const auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return 2;
  };
  const fs::path d(dir);
  const auto summary = read_json(d / "summary.json");
  if (!summary) return fail(fmt::format("{}: not a run's or a sweep's folder (no summary.json, no sweep.json)", dir));
  int drawn = 0;
  // The latency breakdown of a run with --journey: each segment of the forward chain stacked,
  // in the order the packet passes them, for the median and the 99th percentile.
  if (const auto jj = read_json(d / "journey.json"); jj && jj->contains("breakdown") && jj->contains("journeys")) {
    std::vector<std::string> order;  // segments in chain order, from the first consumed journey
    for (const auto& j : (*jj)["journeys"]) {
      if (!j.value("ended", false) || !j.value("dropped_at", std::string()).empty()) continue;
      std::vector<std::pair<uint64_t, std::string>> fwd;
      for (const auto& st : j["steps"]) {
        if (st.value("branch", "") != "forward") continue;
        fwd.emplace_back(st["t_ps"].get<uint64_t>(), st["step"].get<std::string>() + " " + st["kind"].get<std::string>());
      }
      std::stable_sort(fwd.begin(), fwd.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t k = 1; k < fwd.size(); ++k) order.push_back(fwd[k - 1].second + " -> " + fwd[k].second);
      break;
    }
    std::map<std::string, std::pair<uint64_t, uint64_t>> seg;  // p50, p99 (ps)
    for (const auto& b : (*jj)["breakdown"]) {
      seg[b["from"].get<std::string>() + " -> " + b["to"].get<std::string>()] = {b["p50_ps"], b["p99_ps"]};
    }
    std::vector<std::string> header = {"statistic"};
    std::string p50 = "p50", p99 = "p99";
    for (const auto& o : order) {
      const auto it = seg.find(o);
      if (it == seg.end()) continue;
      header.push_back(csv_field(o));
      p50 += fmt::format(",{}.{:03}", it->second.first / 1000, it->second.first % 1000);
      p99 += fmt::format(",{}.{:03}", it->second.second / 1000, it->second.second % 1000);
    }
    if (header.size() > 1) {
      if (!make_plots_dir(d / "plots", error)) return 2;
      Figure f;
      f.name = "latency-breakdown";
      f.title = "Latency per step-to-step segment (sampled packets)";
      f.width = 1280;
      f.xlabel = "";
      f.ylabel = "ns";
      f.columns = header.size();
      f.x_numeric = false;
      f.stacked = true;
      if (!draw(d / "plots", f, fmt::format("{}\n{}\n{}\n", fmt::join(header, ","), p50, p99), error)) return 2;
      ++drawn;
    }
  }
  const json* trace = find_metric(*summary, "files.trace");
  if (!trace || !trace->is_string() || !trace->get<std::string>().ends_with(".json")) {
    if (drawn > 0) return 0;
    return fail(fmt::format("{}: the run has no JSON trace or journey to plot (run it with --trace trace.json or "
                            "--journey N, and --out {})", dir, dir));
  }
  const auto t = read_json(d / trace->get<std::string>());
  if (!t || !t->contains("traceEvents")) return fail(fmt::format("{}: cannot read the trace", trace->get<std::string>()));
  std::map<int64_t, std::string> process;
  for (const auto& e : (*t)["traceEvents"]) {
    if (e.value("ph", "") == "M" && e.value("name", "") == "process_name") process[e["pid"]] = e["args"]["name"];
  }
  const fs::path plots = d / "plots";
  if (!make_plots_dir(plots, error)) return 2;
  // One figure per family of counter tracks; each line holds its value until its next sample.
  const std::pair<const char*, const char*> families[] = {
      {"ring ", "ring-occupancy"}, {"backlog ", "backlog"}};
  for (const auto& [prefix, name] : families) {
    std::vector<std::string> lines;
    std::vector<std::tuple<double, std::size_t, int64_t>> samples;  // time (us), line, value
    for (const auto& e : (*t)["traceEvents"]) {
      if (e.value("ph", "") != "C") continue;
      const std::string counter = e.value("name", "");
      if (!counter.starts_with(prefix)) continue;
      const std::string line = fmt::format("{} {}", process[e["pid"]], counter);
      auto it = std::find(lines.begin(), lines.end(), line);
      if (it == lines.end()) it = lines.insert(lines.end(), line);
      samples.emplace_back(e["ts"].get<double>(), static_cast<std::size_t>(it - lines.begin()),
                           e["args"]["n"].get<int64_t>());
    }
    if (samples.empty()) continue;
    std::stable_sort(samples.begin(), samples.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
    std::vector<std::string> header = {"time_us"};
    for (const auto& l : lines) header.push_back(csv_field(l));
    std::string csv = fmt::format("{}\n", fmt::join(header, ","));
    std::vector<std::string> now(lines.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
      now[std::get<1>(samples[i])] = std::to_string(std::get<2>(samples[i]));
      // Samples at one instant make one row: the last value of each line then.
      if (i + 1 < samples.size() && std::get<0>(samples[i + 1]) == std::get<0>(samples[i])) continue;
      const json ts = std::get<0>(samples[i]);
      csv += fmt::format("{},{}\n", ts.dump(), fmt::join(now, ","));
    }
    Figure f;
    f.name = name;
    f.title = std::string_view(prefix) == "ring "
                  ? "Descriptors owned by the device (RX: free buffers; TX: frames to send)"
                  : "Packets on each CPU's backlog (netif_rx)";
    f.xlabel = "simulated time (us)";
    f.ylabel = std::string_view(prefix) == "ring " ? "descriptors" : "packets";
    f.columns = lines.size() + 1;
    f.style = "steps";
    if (!draw(plots, f, csv, error)) return 2;
    ++drawn;
  }
  // Sojourn in each host's qdiscs (qdisc.dequeue events: the time each packet waited), one line
  // per host: the bufferbloat picture (docs/qdisc.md).
  {
    std::vector<std::string> lines;
    std::vector<std::tuple<double, std::size_t, double>> samples;  // time (us), line, sojourn (us)
    for (const auto& e : (*t)["traceEvents"]) {
      if (e.value("name", "") != "qdisc.dequeue" || !e.contains("args") || !e["args"].contains("sojourn_us")) continue;
      const std::string line = process[e["pid"]];
      auto it = std::find(lines.begin(), lines.end(), line);
      if (it == lines.end()) it = lines.insert(lines.end(), line);
      samples.emplace_back(e["ts"].get<double>(), static_cast<std::size_t>(it - lines.begin()),
                           e["args"]["sojourn_us"].get<double>());
    }
    if (!samples.empty()) {
      std::stable_sort(samples.begin(), samples.end(),
                       [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
      std::vector<std::string> header = {"time_us"};
      for (const auto& l : lines) header.push_back(csv_field(l + " sojourn"));
      std::string csv = fmt::format("{}\n", fmt::join(header, ","));
      for (const auto& [ts, line, us] : samples) {
        std::vector<std::string> row(lines.size());  // the other hosts' columns empty: missing
        row[line] = json(us).dump();
        csv += fmt::format("{},{}\n", json(ts).dump(), fmt::join(row, ","));
      }
      Figure f;
      f.name = "qdisc-sojourn";
      f.title = "Time each packet spent in its qdisc (dequeue time on the x axis)";
      f.xlabel = "simulated time (us)";
      f.ylabel = "sojourn (us)";
      f.columns = lines.size() + 1;
      f.style = "points";
      if (!draw(plots, f, csv, error)) return 2;
      ++drawn;
    }
  }
  // TCP's congestion window (tcp.cwnd counter tracks, one sample per ACK), one line per host and
  // local port: slow start, the reductions and the growth between them (docs/tcp.md).
  {
    std::vector<std::string> lines;
    std::vector<std::tuple<double, std::size_t, int64_t>> samples;  // time (us), line, cwnd
    for (const auto& e : (*t)["traceEvents"]) {
      if (e.value("ph", "") != "C" || !e.value("name", "").starts_with("cwnd :") || !e.contains("args") ||
          !e["args"].contains("cwnd")) {
        continue;
      }
      const std::string line = fmt::format("{} {}", process[e["pid"]], e["name"].get<std::string>());
      auto it = std::find(lines.begin(), lines.end(), line);
      if (it == lines.end()) it = lines.insert(lines.end(), line);
      samples.emplace_back(e["ts"].get<double>(), static_cast<std::size_t>(it - lines.begin()),
                           e["args"]["cwnd"].get<int64_t>());
    }
    if (!samples.empty()) {
      std::stable_sort(samples.begin(), samples.end(),
                       [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
      std::vector<std::string> header = {"time_ms"};
      for (const auto& l : lines) header.push_back(csv_field(l));
      std::string csv = fmt::format("{}\n", fmt::join(header, ","));
      std::vector<std::string> now(lines.size());  // a line is empty (missing) before its first sample
      for (std::size_t i = 0; i < samples.size(); ++i) {
        now[std::get<1>(samples[i])] = std::to_string(std::get<2>(samples[i]));
        if (i + 1 < samples.size() && std::get<0>(samples[i + 1]) == std::get<0>(samples[i])) continue;
        csv += fmt::format("{},{}\n", json(std::get<0>(samples[i]) / 1000.0).dump(), fmt::join(now, ","));
      }
      Figure f;
      f.name = "tcp-cwnd";
      f.title = "TCP congestion window after each ACK, per host and local port";
      f.xlabel = "simulated time (ms)";
      f.ylabel = "cwnd (segments)";
      f.columns = lines.size() + 1;
      f.style = "steps";
      if (!draw(plots, f, csv, error)) return 2;
      ++drawn;
    }
  }
  if (drawn == 0) return fail(fmt::format("{}: the trace has no counter tracks", trace->get<std::string>()));
  return 0;
}

}  // namespace vnic::tb

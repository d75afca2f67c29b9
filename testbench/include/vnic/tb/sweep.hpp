// vnic sweep: every point of a grid of scenario keys run as its own `vnic run --out` process,
// N at a time, then one CSV and one table of chosen metrics from the points' summary.json.
// Resumable: a point whose folder holds a summary.json of the same scenario (hash) is not run
// again.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vnic::tb {

// One --grid KEY=V1,V2,...
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};
std::optional<GridAxis> parse_grid(std::string_view arg, std::string* error);

// The grid's points in order, the last axis varying fastest; each as KEY=VALUE assignments.
std::vector<std::vector<std::string>> grid_assignments(const std::vector<GridAxis>& grid);

// A metric is a dotted path into summary.json (hosts.b.rates.irq_per_s); nullptr if absent.
const nlohmann::json* find_metric(const nlohmann::json& summary, std::string_view path);
// The metrics of the table when --metric is not given.
const std::vector<std::string>& default_metrics();
// A value as a CSV cell (full precision) and as a table cell (6 significant digits).
std::string csv_cell(const nlohmann::json* v);
std::string table_cell(const nlohmann::json* v);

struct SweepPoint {
  std::vector<std::string> sets;  // the grid's KEY=VALUE for this point
  std::string hash;               // the scenario hash its summary.json must carry to count as done
};

struct SweepConfig {
  std::string self;                    // the vnic binary
  std::vector<std::string> run_args;   // `vnic run` arguments every point shares (scenario, --set, flags)
  std::vector<GridAxis> grid;
  std::vector<SweepPoint> points;
  nlohmann::ordered_json run;          // the "run" a point's summary.json must hold to count as done
  unsigned jobs = 1;
  std::string out;  // the sweep's folder: point-<k>/, point-<k>.log (stderr, if any), sweep.csv, sweep.txt
  std::vector<std::string> metrics;
};

// Runs the points not yet done, then writes sweep.csv and sweep.txt and prints the table.
// Returns the exit status: 0 when every point's run passed its checks, 1 when one failed them,
// 2 when one could not run (its log says why) or the folder cannot be written.
int run_sweep(const SweepConfig& cfg, std::string* error);

}  // namespace vnic::tb

// vnic plot: gnuplot figures (PNG and SVG) from a sweep's or a run's folder. Each figure comes
// with the CSV it plots and the gnuplot script that drew it, in <folder>/plots/.
#pragma once

#include <string>
#include <vector>

namespace vnic::tb {

// A sweep's folder (sweep.json): one figure per metric, the metric against the grid's first key
// (or `x`), one line per combination of the other keys. Metrics: `ys`, else the sweep's own.
// Returns the exit status (0, or 2 with *error).
int plot_sweep(const std::string& dir, const std::vector<std::string>& ys, const std::string& x, std::string* error);

// A run's folder (summary.json) with a JSON trace (--trace NAME.json): the device's ring levels
// and the hosts' backlogs over time, from the trace's counter tracks.
int plot_run(const std::string& dir, std::string* error);

}  // namespace vnic::tb

// What `vnic run --out DIR` writes: one file per host and view (the report's sections, in the
// formats Linux prints them), the resolved scenario, and summary.json with every counter and the
// run's metadata. The folder is built under a temporary name and renamed into place, so it is
// either complete or absent.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "vnic/tb/platform.hpp"

namespace vnic::tb {

// The project's version (project() in the top CMakeLists.txt; an e2e test checks they agree).
inline constexpr std::string_view kVnicVersion = "0.1.0";

struct RunMeta {
  std::string scenario_toml;  // the resolved scenario (vnic show); hashed into summary.json
  nlohmann::ordered_json run;  // what the run recorded beyond the scenario (trace, journey): "run"
  int exit_status = 0;
  std::string pcap_file;   // names inside the folder; empty: none
  std::string trace_file;
  // The one non-deterministic part of summary.json ("wall_clock").
  double wall_s = 0;
};

// "fnv1a64:<16 hex digits>" of the resolved scenario's TOML: summary.json's scenario.hash.
std::string scenario_hash(std::string_view toml);

// summary.json: deterministic for a scenario and seed, apart from its "wall_clock" object.
nlohmann::ordered_json run_summary(Platform& p, const RunMeta& m);

// Writes report.txt, scenario.toml, summary.json, link.txt and host-NAME/ per host (one file per
// view; eth1's under host-NAME/eth1/, ...) into the existing folder `dir`; false and *error if a
// file cannot be written.
bool write_run_files(Platform& p, const std::string& report, const RunMeta& m, const std::string& dir,
                     std::string* error);

// An output folder that appears all at once: everything goes to a temporary sibling, which
// commit() renames to the folder's name (replacing a previous vnic output folder there).
// Without commit() the temporary folder is removed.
class OutputDir {
 public:
  OutputDir() = default;
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  ~OutputDir();
  // Checks that `dir` may be written (absent, empty, or an earlier vnic output folder holding
  // summary.json) and creates the temporary folder; false and *error naming `dir` if not.
  bool open(const std::string& dir, std::string* error);
  const std::string& path() const { return final_; }
  // Where to write until commit().
  const std::string& staging() const { return tmp_; }
  bool commit(std::string* error);

 private:
  std::string final_, tmp_;
  bool committed_ = false;
};

}  // namespace vnic::tb

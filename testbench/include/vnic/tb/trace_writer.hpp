// TraceWriter: writes the model's trace events (model/include/vnic/model/trace.hpp: the NICs',
// the drivers', softnet's, the CPUs') as Chrome/Perfetto JSON (a .json path) or as text lines
// (any other path), one event at a time, deterministically, up to a limit. The JSON joins each
// packet's slices across tracks with flow events (its id) and has counter tracks: ring
// occupancy per queue, backlog length per CPU, interrupt rate per vector.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "vnic/model/trace.hpp"

namespace vnic::tb {

class TraceWriter final : public model::TraceSink {
 public:
  TraceWriter() = default;
  ~TraceWriter() override;
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Opens the file; false (and *error) if it cannot. JSON when the path ends in ".json".
  bool open(const std::string& path, uint64_t max_events, std::string* error);
  void trace(const char* source, const model::TraceEvent& e) override;
  void close();
  // Only events of these kinds (by their names, model::trace_kind_name) are written; empty: all.
  // false (and *error naming it) for an unknown name.
  bool set_kinds(const std::vector<std::string>& names, std::string* error);
  uint64_t written() const { return written_; }
  uint64_t dropped() const { return dropped_; }

  // Interrupt-rate counters are per window of this many picoseconds (100 us).
  static constexpr uint64_t kRateWindowPs = 100'000'000;

 private:
  int pid_of(const char* source);
  void put(const std::string& line);
  void irq_rate(int pid, const model::TraceEvent& e);
  std::vector<bool> kinds_;  // empty: every kind
  std::FILE* f_ = nullptr;
  bool json_ = true;
  bool first_ = true;
  uint64_t max_ = 0;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  std::map<std::string, int> pids_;
  // (pid, vector) -> (window, interrupts in it)
  std::map<std::pair<int, unsigned>, std::pair<uint64_t, uint64_t>> irq_windows_;
};

}  // namespace vnic::tb

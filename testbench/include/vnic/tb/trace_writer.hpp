// TraceWriter: writes the NICs' and the hosts' typed trace events as Chrome/Perfetto JSON (a .json
// path) or as text lines (any other path), deterministically, up to a limit.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "vnic/hw/trace.hpp"
#include "vnic/stack/trace.hpp"

namespace vnic::tb {

class TraceWriter final : public hw::TraceSink, public stack::HostTraceSink {
 public:
  TraceWriter() = default;
  ~TraceWriter() override;
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Opens the file; false (and *error) if it cannot. JSON when the path ends in ".json".
  bool open(const std::string& path, uint64_t max_events, std::string* error);
  void trace(const char* source, const hw::TraceEvent& e) override;
  void host_trace(const char* source, const stack::HostTraceEvent& e) override;
  void close();
  uint64_t written() const { return written_; }
  uint64_t dropped() const { return dropped_; }

 private:
  int pid_of(const char* source);
  std::FILE* f_ = nullptr;
  bool json_ = true;
  uint64_t max_ = 0;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  std::map<std::string, int> pids_;
};

const char* trace_kind_name(hw::TraceKind k);

}  // namespace vnic::tb

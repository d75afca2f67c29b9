// Wire capture through libpcap: a writer (DLT_EN10MB, nanosecond timestamps, frames with their
// FCS) and a reader for tests and tools.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vnic::tb {

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Opens (truncates) the file; false with *error set when it cannot.
  bool open(const std::string& path, std::string* error);
  bool is_open() const { return dumper_ != nullptr; }
  // One record: timestamp in picoseconds of simulated time, stored truncated to the ns. No
  // allocation and no formatting: cheap enough for every frame of a run.
  void write(uint64_t ts_ps, std::span<const uint8_t> frame);
  void close();
  uint64_t records() const { return records_; }

 private:
  void* pcap_ = nullptr;    // pcap_t*
  void* dumper_ = nullptr;  // pcap_dumper_t*
  uint64_t records_ = 0;
};

struct PcapRecord {
  uint64_t ts_ns = 0;
  std::vector<uint8_t> bytes;
};

// Reads every record of a capture (nanosecond timestamps); nullopt with *error on failure.
std::optional<std::vector<PcapRecord>> read_pcap(const std::string& path, std::string* error);

}  // namespace vnic::tb

// libpcap-backed capture writer and reader.
#include "vnic/tb/pcap.hpp"

#include <pcap/pcap.h>

#include <fmt/format.h>

namespace vnic::tb {

PcapWriter::~PcapWriter() { close(); }

bool PcapWriter::open(const std::string& path, std::string* error) {
  close();
  pcap_t* p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
  if (p == nullptr) {
    if (error) *error = "pcap: cannot create a capture handle";
    return false;
  }
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (d == nullptr) {
    if (error) *error = fmt::format("pcap: cannot open '{}' for writing: {}", path, pcap_geterr(p));
    pcap_close(p);
    return false;
  }
  pcap_ = p;
  dumper_ = d;
  records_ = 0;
  return true;
}

void PcapWriter::write(uint64_t ts_ps, std::span<const uint8_t> frame) {
  if (dumper_ == nullptr) return;
  const uint64_t ns = ts_ps / 1000;
  pcap_pkthdr h{};
  h.ts.tv_sec = static_cast<time_t>(ns / 1000'000'000u);
  h.ts.tv_usec = static_cast<suseconds_t>(ns % 1000'000'000u);  // nanoseconds in a NANO capture
  h.caplen = static_cast<bpf_u_int32>(frame.size());
  h.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(static_cast<u_char*>(dumper_), &h, frame.data());
  ++records_;
}

void PcapWriter::close() {
  if (dumper_ != nullptr) pcap_dump_close(static_cast<pcap_dumper_t*>(dumper_));
  if (pcap_ != nullptr) pcap_close(static_cast<pcap_t*>(pcap_));
  dumper_ = nullptr;
  pcap_ = nullptr;
}

std::optional<std::vector<PcapRecord>> read_pcap(const std::string& path, std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (p == nullptr) {
    if (error) *error = fmt::format("pcap: cannot read '{}': {}", path, errbuf);
    return std::nullopt;
  }
  std::vector<PcapRecord> out;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    PcapRecord r;
    r.ts_ns = static_cast<uint64_t>(h->ts.tv_sec) * 1000'000'000u + static_cast<uint64_t>(h->ts.tv_usec);
    r.bytes.assign(data, data + h->caplen);
    out.push_back(std::move(r));
  }
  if (rc == -1) {
    if (error) *error = fmt::format("pcap: error reading '{}': {}", path, pcap_geterr(p));
    pcap_close(p);
    return std::nullopt;
  }
  pcap_close(p);
  return out;
}

}  // namespace vnic::tb

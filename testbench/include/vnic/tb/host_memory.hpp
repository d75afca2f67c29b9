// HostMemory: the host's DRAM as a TLM-2.0 target (DMI over the whole range), plus a simple
// DMA-buffer allocator for the test host and the driver.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <span>
#include <vector>

namespace vnic::tb {

struct HostMemoryStats {
  uint64_t reads = 0, writes = 0, refused = 0;
};

class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> socket;

  // Memory occupies [base, base + size).
  HostMemory(sc_core::sc_module_name name, uint64_t base, uint64_t size);

  uint64_t base() const { return base_; }
  uint64_t size() const { return bytes_.size(); }
  bool contains(uint64_t addr, uint64_t len) const {
    return addr >= base_ && len <= bytes_.size() && addr - base_ <= bytes_.size() - len;
  }
  // Host-side (CPU) view of memory: a span over [addr, addr+len); empty if out of range.
  std::span<uint8_t> view(uint64_t addr, uint64_t len);
  // Bump allocator for DMA buffers; returns 0 when memory is exhausted.
  uint64_t alloc(uint64_t len, uint64_t align = 64);
  uint64_t allocated() const { return next_ - base_; }
  const HostMemoryStats& stats() const { return stats_; }

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);

  uint64_t base_;
  uint64_t next_;
  std::vector<uint8_t> bytes_;
  HostMemoryStats stats_;
};

}  // namespace vnic::tb

// HostMemory: the host's DRAM as a TLM-2.0 target (DMI over the whole range), plus a simple
// DMA-buffer allocator for the test host and the driver.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "vnic/tb/addr_table.hpp"

namespace vnic::tb {

struct HostMemoryStats {
  uint64_t reads = 0, writes = 0, refused = 0;
  uint64_t iommu_faults = 0;        // device accesses outside every live mapping (refused)
  uint64_t iommu_last_fault = 0;    // address of the last one
  uint64_t maps = 0, unmaps = 0, bad_unmaps = 0;
  uint64_t allocs = 0, frees = 0, bad_frees = 0, failed_allocs = 0;
};

// Which way a mapping lets the device move data (as Linux's DMA_TO_DEVICE/FROM_DEVICE).
enum class DmaDir : uint8_t { ToDevice = 1, FromDevice = 2, Bidirectional = 3 };

class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> socket;

  // Memory occupies [base, base + size). `ports`: target sockets for that many root complexes
  // (one per PCI function of a host with several NICs).
  HostMemory(sc_core::sc_module_name name, uint64_t base, uint64_t size, unsigned ports = 1);

  // Memory's port i: port(0) is `socket`. std::out_of_range beyond the ports it was built with.
  tlm_utils::simple_target_socket<HostMemory>& port(unsigned i);

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  bool contains(uint64_t addr, uint64_t len) const {
    return addr >= base_ && len <= size_ && addr - base_ <= size_ - len;
  }
  // Host-side (CPU) view of memory: a span over [addr, addr+len); empty if out of range.
  std::span<uint8_t> view(uint64_t addr, uint64_t len) {
    if (!contains(addr, len)) return {};
    return {bytes_.get() + (addr - base_), static_cast<std::size_t>(len)};
  }
  // DMA memory allocator (first fit, freed blocks coalesce): returns 0 when no aligned block
  // of len bytes is free. align must be a power of two.
  uint64_t alloc(uint64_t len, uint64_t align = 64);
  // Frees a block alloc() returned; false (and counted in bad_frees) for anything else.
  bool free(uint64_t addr);
  // Linux-style helpers: a coherent block mapped both ways, and its release.
  uint64_t dma_alloc_coherent(uint64_t len, uint64_t align = 64);
  bool dma_free_coherent(uint64_t addr);
  std::size_t live_allocations() const { return live_.size(); }

  // IOMMU-like check. Off (the default): the device reaches all of memory, with DMI. On: a
  // device access must lie inside one live mapping that allows its direction, or it is
  // refused (TLM address error) and counted; DMI is withdrawn so every access is checked.
  // Mappings are identity (bus address == host address), one per map() call. Call it after the
  // socket is bound.
  void set_iommu(bool on);
  bool iommu() const { return iommu_; }
  void map(uint64_t addr, uint64_t len, DmaDir dir);
  // Removes the mapping that starts at addr; false (and counted) if there is none.
  bool unmap(uint64_t addr);
  std::size_t live_mappings() const { return live_maps_.size(); }
  uint64_t allocated() const { return allocated_; }
  // Back to power-on: every allocation and mapping gone, memory zeroed, counters cleared, the
  // IOMMU check off (a fuzzer returns the platform to this state before each input).
  void reset();
  const HostMemoryStats& stats() const { return stats_; }

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi);
  unsigned transport_dbg(tlm::tlm_generic_payload& p);

  bool device_may(uint64_t addr, uint64_t len, tlm::tlm_command cmd) const;
  std::vector<std::unique_ptr<tlm_utils::simple_target_socket<HostMemory>>> more_ports_;

  struct Mapping {
    uint64_t len;
    DmaDir dir;
  };
  bool iommu_ = false;
  AddrTable<Mapping> live_maps_;       // every live mapping, by start address (cheap per packet)
  std::map<uint64_t, Mapping> maps_;   // the same, ordered for range checks: kept only while the IOMMU is on
  uint64_t base_;
  std::map<uint64_t, uint64_t> free_;  // free blocks: start -> length
  std::map<uint64_t, uint64_t> live_;  // allocated blocks: start -> length
  uint64_t allocated_ = 0;
  // Zeroed pages from calloc (mmap for large sizes): the OS supplies them zeroed on first touch,
  // so a large memory costs only what the run uses.
  struct FreeDeleter {
    void operator()(uint8_t* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<uint8_t[], FreeDeleter> bytes_;
  uint64_t size_ = 0;
  HostMemoryStats stats_;
};

}  // namespace vnic::tb

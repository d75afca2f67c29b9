// HostBus: everything the driver may touch of the machine it runs on (the PCI function's
// configuration space and BAR0, DMA memory and mappings, MSI-X vectors). The platform
// (testbench/) implements it; the driver never sees the device model itself.
#pragma once

#include <cstdint>
#include <span>

#include "vnic/stack/skb.hpp"

namespace vnic::driver {

// Direction of a streaming DMA mapping (Linux's DMA_TO_DEVICE / DMA_FROM_DEVICE / BIDIRECTIONAL).
enum class DmaDir : uint8_t { ToDevice = 1, FromDevice = 2, Bidirectional = 3 };

class HostBus {
 public:
  using IrqHandler = void (*)(void* ctx, unsigned vector);
  virtual ~HostBus() = default;

  // PCI configuration space (configuration cycles; they take effect at once).
  virtual uint32_t cfg_read32(uint32_t offset) = 0;
  virtual void cfg_write32(uint32_t offset, uint32_t value) = 0;

  // BAR0. A write is posted: it reaches the device at the CPU's local time, and the CPU is
  // charged CpuCosts::mmio_write. A read samples the device at the moment it is called; callers
  // stall the CPU around it (driver::MmioRead does, charging CpuCosts::mmio_read).
  virtual void mmio_write32(uint32_t offset, uint32_t value) = 0;
  virtual uint32_t mmio_read32(uint32_t offset) = 0;

  // Coherent DMA memory (rings): mapped both ways for as long as it lives. 0 on failure.
  virtual uint64_t dma_alloc_coherent(uint64_t len) = 0;
  virtual void dma_free_coherent(uint64_t addr) = 0;
  // Streaming mappings of host buffers; the returned bus address is what the device is given
  // (0: the mapping failed). With the platform's IOMMU-like check on, the device reaches only
  // live mappings, in their direction.
  virtual uint64_t dma_map_single(uint64_t addr, uint64_t len, DmaDir dir) = 0;
  virtual void dma_unmap_single(uint64_t bus_addr) = 0;
  // The CPU's view of host memory (descriptor rings, buffers); empty if out of range.
  virtual std::span<uint8_t> cpu_view(uint64_t addr, uint64_t len) = 0;
  // Pages for RX buffers (the page allocator / page_pool's backing).
  virtual stack::PageAllocator& pages() = 0;

  // MSI-X (pci_alloc_irq_vectors with PCI_IRQ_MSIX): the platform programs vectors 0..n-1 of the
  // function's table and enables MSI-X; returns how many it set up (0: failure).
  virtual unsigned alloc_irq_vectors(unsigned n) = 0;
  virtual void free_irq_vectors() = 0;
  // request_irq / free_irq: `fn` runs in hard-IRQ context on the CPU when vector's message lands.
  virtual bool request_irq(unsigned vector, IrqHandler fn, void* ctx) = 0;
  virtual void free_irq(unsigned vector) = 0;

  // "0000:01:00.0": the function's address, for log lines and ethtool -i.
  virtual const char* bus_info() const = 0;
};

}  // namespace vnic::driver

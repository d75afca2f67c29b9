// PciHostBus: the platform side of driver::HostBus for one vnic function: MMIO through the
// host's initiator socket (posted writes land at the CPU's local time plus half the read round
// trip), configuration cycles, DMA memory and mappings in HostMemory, and the interrupt
// controller that turns MSI-X messages into hard IRQs on the host CPU.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vnic/driver/host_bus.hpp"
#include "vnic/hw/event_queue.hpp"
#include "vnic/hw/nic.hpp"
#include "vnic/tb/host_cpu.hpp"
#include "vnic/tb/host_memory.hpp"
#include "vnic/tb/pci_enum.hpp"
#include "vnic/tb/root_complex.hpp"

namespace vnic::tb {

struct PciHostBusStats {
  uint64_t mmio_writes = 0, mmio_reads = 0, mmio_errors = 0;  // errors: the access was refused
  uint64_t irqs = 0;
  uint64_t spurious_irqs = 0;   // a message for a vector with no handler (stale interrupt)
  uint64_t map_failures = 0;
};

class PciHostBus : public sc_core::sc_module, public driver::HostBus, public stack::PageAllocator {
 public:
  tlm_utils::simple_initiator_socket<PciHostBus> mmio;

  PciHostBus(sc_core::sc_module_name name, hw::EventQueue& q, SmpCpus& cpu, HostMemory& mem, std::string bus_info);

  // Binds MMIO and DMA (through the root complex to memory's port `mem_port`), hooks the MSI
  // window up, and enumerates the function at bar0_base (what firmware and the PCI core do
  // before probe).
  void connect(hw::Nic& nic, uint64_t bar0_base, unsigned mem_port = 0);
  RootComplex& root_complex() { return rc_; }
  const PciFunction& pci() const { return pci_; }
  const PciHostBusStats& stats() const { return stats_; }

  // driver::HostBus
  uint32_t cfg_read32(uint32_t offset) override;
  void cfg_write32(uint32_t offset, uint32_t value) override;
  void mmio_write32(uint32_t offset, uint32_t value) override;
  uint32_t mmio_read32(uint32_t offset) override;
  uint64_t dma_alloc_coherent(uint64_t len) override;
  void dma_free_coherent(uint64_t addr) override;
  uint64_t dma_map_single(uint64_t addr, uint64_t len, driver::DmaDir dir) override;
  void dma_unmap_single(uint64_t bus_addr) override;
  std::span<uint8_t> cpu_view(uint64_t addr, uint64_t len) override { return mem_.view(addr, len); }
  stack::PageAllocator& pages() override { return *this; }
  unsigned alloc_irq_vectors(unsigned n) override;
  void free_irq_vectors() override;
  bool request_irq(unsigned vector, IrqHandler fn, void* ctx) override;
  void free_irq(unsigned vector) override;
  const char* bus_info() const override { return bus_info_.c_str(); }

  // stack::PageAllocator (kernel pages: skb data, RX buffers)
  Block alloc(uint64_t len, uint64_t align) override;
  void free(uint64_t addr) override;

 private:
  static void on_msi(void* ctx, uint64_t addr, uint32_t data);
  static void mmio_write_event(void* ctx, uint64_t arg);
  static void irq_thunk(void* ctx, uint64_t vector);
  tlm::tlm_response_status access(bool write, uint32_t offset, uint32_t* value);

  hw::EventQueue& q_;
  SmpCpus& cpu_;  // MMIO is charged to the CPU running; interrupts go to cpu0 (IRQ affinity)
  HostMemory& mem_;
  std::string bus_info_;
  RootComplex rc_{"rc"};
  hw::Nic* nic_ = nullptr;
  PciFunction pci_{};
  struct Irq {
    IrqHandler fn = nullptr;
    void* ctx = nullptr;
  };
  std::vector<Irq> irqs_;
  unsigned vectors_ = 0;
  PciHostBusStats stats_;
  // One payload for every MMIO access, every field set afresh each time (no target here sets
  // an extension): a tlm_generic_payload allocates its extension array when built, which per
  // register access was a malloc and a free.
  tlm::tlm_generic_payload gp_;
  bool gp_busy_ = false;  // an access made from inside another (then a payload of its own)
};

}  // namespace vnic::tb

// FaultInjectingBus: a HostBus decorator for tests that makes the driver look buggy. It sits
// between the driver and the platform's bus, forwards every call, and provokes one DriverFault
// at the bus boundary by rewriting (or dropping) the access that fault is about, so the driver
// itself carries no fault code. docs/driver.md lists each fault and the device's answer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vnic/driver/host_bus.hpp"

namespace vnic::driver {

// What FaultInjectingBus::inject arms. Each one-shot fault waits for the access it is about and
// changes that one only; SkipDoorbells lasts from the first TX doorbell it drops to the next
// device reset.
enum class DriverFault : uint8_t {
  None,
  BadRingAddress,     // the next TXQ_BASE_LO/HI writes carry kBadRingBase (below host memory)
  TailBeyondRing,     // the next TXQ_TAIL write carries TXQ_SIZE + 5
  ZeroLengthDesc,     // at the next TXQ_TAIL write, the last descriptor it hands over gets length 0
  NoEndOfPacket,      // ... loses EOP
  UnmapOwnedBuffer,   // ... has its buffer unmapped while the device owns it (the driver's own
                      //     later unmap of that address is swallowed: no double unmap)
  SkipDoorbells,      // TXQ_TAIL writes are dropped until a CTRL write with RST
};

const char* to_string(DriverFault f);

class FaultInjectingBus final : public HostBus {
 public:
  static constexpr uint64_t kBadRingBase = 0x1000;  // below host memory: fetches from it are refused

  explicit FaultInjectingBus(HostBus& inner) : inner_(inner) {}

  // Arms `f` (None disarms; a fault armed and not yet provoked is replaced).
  void inject(DriverFault f) { armed_ = f; }
  // The fault armed and not yet provoked; SkipDoorbells while doorbells are being dropped.
  DriverFault pending() const {
    return armed_ == DriverFault::None && skipping_ ? DriverFault::SkipDoorbells : armed_;
  }
  // Faults provoked so far (each counted once, when it changed its first access).
  uint64_t faults_injected() const { return injected_; }
  // TX doorbells dropped by SkipDoorbells.
  uint64_t doorbells_dropped() const { return doorbells_dropped_; }
  HostBus& inner() { return inner_; }

  // HostBus: forwarded to the inner bus; mmio_write32 and dma_unmap_single are where faults act.
  uint32_t cfg_read32(uint32_t offset) override { return inner_.cfg_read32(offset); }
  void cfg_write32(uint32_t offset, uint32_t value) override { inner_.cfg_write32(offset, value); }
  void mmio_write32(uint32_t offset, uint32_t value) override;
  uint32_t mmio_read32(uint32_t offset) override { return inner_.mmio_read32(offset); }
  uint64_t dma_alloc_coherent(uint64_t len) override { return inner_.dma_alloc_coherent(len); }
  void dma_free_coherent(uint64_t addr) override { inner_.dma_free_coherent(addr); }
  uint64_t dma_map_single(uint64_t addr, uint64_t len, DmaDir dir) override {
    return inner_.dma_map_single(addr, len, dir);
  }
  void dma_unmap_single(uint64_t bus_addr) override;
  std::span<uint8_t> cpu_view(uint64_t addr, uint64_t len) override { return inner_.cpu_view(addr, len); }
  stack::PageAllocator& pages() override { return inner_.pages(); }
  unsigned alloc_irq_vectors(unsigned n) override { return inner_.alloc_irq_vectors(n); }
  void free_irq_vectors() override { inner_.free_irq_vectors(); }
  bool request_irq(unsigned vector, IrqHandler fn, void* ctx) override { return inner_.request_irq(vector, fn, ctx); }
  void free_irq(unsigned vector) override { inner_.free_irq(vector); }
  const char* bus_info() const override { return inner_.bus_info(); }

 private:
  // A TX doorbell carrying `tail`: applies an armed descriptor fault; false if it is dropped.
  bool doorbell(uint32_t& tail);
  // The descriptor before `tail` in the TX ring the driver programmed (empty if unknown).
  std::span<uint8_t> last_desc(uint32_t tail);

  HostBus& inner_;
  DriverFault armed_ = DriverFault::None;
  bool bad_base_hi_ = false;  // BadRingAddress replaced TXQ_BASE_LO; TXQ_BASE_HI is still to come
  bool skipping_ = false;     // SkipDoorbells is dropping TX doorbells
  uint64_t tx_base_ = 0;      // the TX ring as the driver programmed it (queue 0)
  uint32_t tx_size_ = 0;
  std::vector<uint64_t> swallow_;  // unmapped early: the driver's next unmap of each is dropped
  uint64_t injected_ = 0;
  uint64_t doorbells_dropped_ = 0;
};

}  // namespace vnic::driver

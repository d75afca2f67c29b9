// PciHostBus implementation.
#include "vnic/tb/pci_host_bus.hpp"

#include <array>
#include <optional>
#include <stdexcept>

#include "vnic/model/bytes.hpp"
#include "vnic/model/pci.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::tb {

namespace regs = model::regs;

PciHostBus::PciHostBus(sc_core::sc_module_name name, hw::EventQueue& q, SmpCpus& cpu, HostMemory& mem,
                       std::string bus_info)
    : sc_core::sc_module(name), mmio("mmio"), q_(q), cpu_(cpu), mem_(mem), bus_info_(std::move(bus_info)) {}

void PciHostBus::connect(hw::Nic& nic, uint64_t bar0_base, unsigned mem_port) {
  nic_ = &nic;
  mmio.bind(nic.mmio);
  nic.dma().socket.bind(rc_.from_device);
  rc_.to_memory.bind(mem_.port(mem_port));
  rc_.set_msi_handler(&PciHostBus::on_msi, this);
  std::string why;
  if (!enumerate(nic, bar0_base, &pci_, &why)) throw std::runtime_error("PCI enumeration failed: " + why);
  // Firmware leaves the function with decoding and bus mastering off: the driver turns them on.
  nic.cfg_write32(model::pci::kCommandStatus, 0);
}

uint32_t PciHostBus::cfg_read32(uint32_t offset) { return nic_->cfg_read32(offset); }
void PciHostBus::cfg_write32(uint32_t offset, uint32_t value) { nic_->cfg_write32(offset, value); }

tlm::tlm_response_status PciHostBus::access(bool write, uint32_t offset, uint32_t* value) {
  std::array<uint8_t, 4> b{};
  if (write) model::store_le<uint32_t>(b, 0, *value);
  std::optional<tlm::tlm_generic_payload> own;
  tlm::tlm_generic_payload& p = gp_busy_ ? own.emplace() : gp_;
  // gp_ is taken for this access, given back however it ends (a target may throw)
  struct Busy {
    bool& flag;
    bool was;
    ~Busy() { flag = was; }
  } busy{gp_busy_, gp_busy_};
  gp_busy_ = true;
  p.set_gp_option(tlm::TLM_MIN_PAYLOAD);
  p.set_byte_enable_ptr(nullptr);
  p.set_byte_enable_length(0);
  p.set_dmi_allowed(false);
  p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
  p.set_address(offset);
  p.set_data_ptr(b.data());
  p.set_data_length(4);
  p.set_streaming_width(4);
  p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;  // the CPU model charges the access
  mmio->b_transport(p, delay);
  if (!p.is_response_ok()) ++stats_.mmio_errors;
  if (!write) *value = p.is_response_ok() ? model::load_le<uint32_t>(b, 0) : 0xFFFF'FFFFu;  // master abort
  p.set_data_ptr(nullptr);  // b is gone after this
  return p.get_response_status();
}

void PciHostBus::mmio_write32(uint32_t offset, uint32_t value) {
  ++stats_.mmio_writes;
  // Posted: it leaves the CPU now (local time) and reaches the device half a round trip later.
  const stack::Instant t = cpu_.now() + cpu_.costs().mmio_read / 2;
  cpu_.charge(cpu_.costs().mmio_write);
  q_.at_ps(static_cast<uint64_t>(t.ps()), &PciHostBus::mmio_write_event, this, (uint64_t{offset} << 32) | value);
}

void PciHostBus::mmio_write_event(void* ctx, uint64_t arg) {
  auto& b = *static_cast<PciHostBus*>(ctx);
  uint32_t v = static_cast<uint32_t>(arg);
  b.access(true, static_cast<uint32_t>(arg >> 32), &v);
}

uint32_t PciHostBus::mmio_read32(uint32_t offset) {
  ++stats_.mmio_reads;
  uint32_t v = 0;
  access(false, offset, &v);
  return v;
}

uint64_t PciHostBus::dma_alloc_coherent(uint64_t len) { return mem_.dma_alloc_coherent(len, 128); }
void PciHostBus::dma_free_coherent(uint64_t addr) { mem_.dma_free_coherent(addr); }

uint64_t PciHostBus::dma_map_single(uint64_t addr, uint64_t len, driver::DmaDir dir) {
  if (!mem_.contains(addr, len) || len == 0) {
    ++stats_.map_failures;
    return 0;
  }
  mem_.map(addr, len, static_cast<DmaDir>(dir));
  return addr;  // identity: bus address == host address
}

void PciHostBus::dma_unmap_single(uint64_t bus_addr) { mem_.unmap(bus_addr); }

stack::PageAllocator::Block PciHostBus::alloc(uint64_t len, uint64_t align) {
  const uint64_t a = mem_.alloc(len, align);
  if (a == 0) return {};
  return Block{a, mem_.view(a, len)};
}

void PciHostBus::free(uint64_t addr) { mem_.free(addr); }

unsigned PciHostBus::alloc_irq_vectors(unsigned n) {
  const unsigned table = (nic_->cfg_read32(model::pci::kCapMsix) >> 16 & 0x7FF) + 1;
  if (n == 0 || n > table) return 0;
  // The PCI core programs the table (address: the MSI window; data: the vector number) and enables
  // MSI-X, at configuration time.
  for (unsigned v = 0; v < n; ++v) {
    uint32_t w = static_cast<uint32_t>(kMsiWindowBase);
    access(true, regs::kMsixAddrLo.offset_of(v), &w);
    w = 0;
    access(true, regs::kMsixAddrHi.offset_of(v), &w);
    w = v;
    access(true, regs::kMsixData.offset_of(v), &w);
    w = 0;
    access(true, regs::kMsixVctrl.offset_of(v), &w);
  }
  nic_->cfg_write32(model::pci::kCapMsix, model::pci::kMsixEnable);
  vectors_ = n;
  irqs_.assign(n, Irq{});
  return n;
}

void PciHostBus::free_irq_vectors() {
  nic_->cfg_write32(model::pci::kCapMsix, 0);
  for (unsigned v = 0; v < vectors_; ++v) {
    uint32_t w = 1;
    access(true, regs::kMsixVctrl.offset_of(v), &w);
  }
  vectors_ = 0;
  irqs_.clear();
}

bool PciHostBus::request_irq(unsigned vector, IrqHandler fn, void* ctx) {
  if (vector >= irqs_.size() || irqs_[vector].fn != nullptr || fn == nullptr) return false;
  irqs_[vector] = Irq{fn, ctx};
  return true;
}

void PciHostBus::free_irq(unsigned vector) {
  if (vector < irqs_.size()) irqs_[vector] = Irq{};
}

void PciHostBus::on_msi(void* ctx, uint64_t, uint32_t data) {
  auto& b = *static_cast<PciHostBus*>(ctx);
  ++b.stats_.irqs;
  b.cpu_.core(0).hardirq(&PciHostBus::irq_thunk, &b, data);
}

void PciHostBus::irq_thunk(void* ctx, uint64_t vector) {
  auto& b = *static_cast<PciHostBus*>(ctx);
  // The handler is looked up when the CPU takes the interrupt: one freed meanwhile is spurious.
  if (vector >= b.irqs_.size() || b.irqs_[vector].fn == nullptr) {
    ++b.stats_.spurious_irqs;
    return;
  }
  b.irqs_[vector].fn(b.irqs_[vector].ctx, static_cast<unsigned>(vector));
}

}  // namespace vnic::tb

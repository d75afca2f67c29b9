// HostMemory implementation.
#include "vnic/tb/host_memory.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include <cstring>
#include <iterator>
#include <new>

namespace vnic::tb {

HostMemory::HostMemory(sc_core::sc_module_name name, uint64_t base, uint64_t size, unsigned ports)
    : sc_core::sc_module(name), socket("socket"), base_(base), bytes_(static_cast<uint8_t*>(std::calloc(size, 1))), size_(size) {
  if (!bytes_) throw std::bad_alloc();
  if (size > 0) free_.emplace(base, size);
  for (unsigned i = 1; i < ports; ++i) {
    more_ports_.push_back(
        std::make_unique<tlm_utils::simple_target_socket<HostMemory>>(fmt::format("socket{}", i).c_str()));
  }
  socket.register_b_transport(this, &HostMemory::b_transport);
  socket.register_get_direct_mem_ptr(this, &HostMemory::get_direct_mem_ptr);
  socket.register_transport_dbg(this, &HostMemory::transport_dbg);
  for (auto& s : more_ports_) {
    s->register_b_transport(this, &HostMemory::b_transport);
    s->register_get_direct_mem_ptr(this, &HostMemory::get_direct_mem_ptr);
    s->register_transport_dbg(this, &HostMemory::transport_dbg);
  }
}

tlm_utils::simple_target_socket<HostMemory>& HostMemory::port(unsigned i) {
  if (i == 0) return socket;
  if (i - 1 >= more_ports_.size()) throw std::out_of_range(fmt::format("{}: no memory port {}", name(), i));
  return *more_ports_[i - 1];
}

uint64_t HostMemory::alloc(uint64_t len, uint64_t align) {
  if (len == 0 || align == 0 || (align & (align - 1)) != 0) {
    ++stats_.failed_allocs;
    return 0;
  }
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    const uint64_t start = it->first, n = it->second;
    const uint64_t a = (start + align - 1) & ~(align - 1);
    if (a < start || a - start > n || len > n - (a - start)) continue;  // does not fit here
    free_.erase(it);
    if (a > start) free_.emplace(start, a - start);                      // the head stays free
    if (a + len < start + n) free_.emplace(a + len, start + n - (a + len));  // and the tail
    live_.emplace(a, len);
    allocated_ += len;
    ++stats_.allocs;
    return a;
  }
  ++stats_.failed_allocs;
  return 0;
}

bool HostMemory::free(uint64_t addr) {
  const auto it = live_.find(addr);
  if (it == live_.end()) {
    ++stats_.bad_frees;
    return false;
  }
  uint64_t start = addr, n = it->second;
  live_.erase(it);
  allocated_ -= n;
  ++stats_.frees;
  // Coalesce with the free neighbours on both sides.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == start + n) {
    n += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      n += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(start, n);
  return true;
}

uint64_t HostMemory::dma_alloc_coherent(uint64_t len, uint64_t align) {
  const uint64_t a = alloc(len, align);
  if (a != 0) map(a, len, DmaDir::Bidirectional);
  return a;
}

bool HostMemory::dma_free_coherent(uint64_t addr) {
  if (live_.find(addr) == live_.end()) {
    ++stats_.bad_frees;
    return false;
  }
  unmap(addr);
  return free(addr);
}

void HostMemory::reset() {
  std::memset(bytes_.get(), 0, size_);
  free_.clear();
  live_.clear();
  if (size_ > 0) free_.emplace(base_, size_);
  allocated_ = 0;
  live_maps_ = AddrTable<Mapping>{};
  maps_.clear();
  stats_ = {};
  set_iommu(false);
}

void HostMemory::set_iommu(bool on) {
  iommu_ = on;
  maps_.clear();
  if (on) live_maps_.for_each([this](uint64_t a, const Mapping& m) { maps_[a] = m; });
  socket->invalidate_direct_mem_ptr(0, ~uint64_t{0});  // DMI only while the IOMMU is off
  for (auto& s : more_ports_) (*s)->invalidate_direct_mem_ptr(0, ~uint64_t{0});
}

void HostMemory::map(uint64_t addr, uint64_t len, DmaDir dir) {
  live_maps_.put(addr, Mapping{len, dir});
  if (iommu_) maps_[addr] = Mapping{len, dir};
  ++stats_.maps;
}

bool HostMemory::unmap(uint64_t addr) {
  if (!live_maps_.erase(addr)) {
    ++stats_.bad_unmaps;
    return false;
  }
  if (iommu_) maps_.erase(addr);
  ++stats_.unmaps;
  return true;
}

bool HostMemory::device_may(uint64_t addr, uint64_t len, tlm::tlm_command cmd) const {
  if (!iommu_) return true;
  auto it = maps_.upper_bound(addr);
  if (it == maps_.begin()) return false;
  --it;
  const uint64_t start = it->first;
  const Mapping& m = it->second;
  if (addr - start > m.len || len > m.len - (addr - start)) return false;
  // TLM_IGNORE_COMMAND is a device's probe of a posted write's address (docs/hw.md): it needs
  // what the write will need, or a read-only buffer would pass the probe and refuse the data.
  const auto need = cmd == tlm::TLM_READ_COMMAND ? DmaDir::ToDevice : DmaDir::FromDevice;
  return (static_cast<uint8_t>(m.dir) & static_cast<uint8_t>(need)) == static_cast<uint8_t>(need);
}

void HostMemory::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time&) {
  const uint64_t addr = p.get_address();
  const uint64_t len = p.get_data_length();
  if (!contains(addr, len) || p.get_byte_enable_ptr() != nullptr || p.get_streaming_width() < len) {
    ++stats_.refused;
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (!device_may(addr, len, p.get_command())) {
    ++stats_.refused;
    ++stats_.iommu_faults;
    stats_.iommu_last_fault = addr;
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  uint8_t* mem = bytes_.get() + (addr - base_);
  switch (p.get_command()) {
    case tlm::TLM_READ_COMMAND:
      std::memcpy(p.get_data_ptr(), mem, len);
      ++stats_.reads;
      break;
    case tlm::TLM_WRITE_COMMAND:
      std::memcpy(mem, p.get_data_ptr(), len);
      ++stats_.writes;
      break;
    case tlm::TLM_IGNORE_COMMAND:
      break;  // address check only
  }
  p.set_dmi_allowed(!iommu_);
  p.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool HostMemory::get_direct_mem_ptr(tlm::tlm_generic_payload& p, tlm::tlm_dmi& dmi) {
  (void)p;
  if (iommu_) return false;  // every access must pass the mapping check
  dmi.allow_read_write();
  dmi.set_dmi_ptr(bytes_.get());
  dmi.set_start_address(base_);
  dmi.set_end_address(base_ + size_ - 1);
  dmi.set_read_latency(sc_core::SC_ZERO_TIME);
  dmi.set_write_latency(sc_core::SC_ZERO_TIME);
  return true;
}

unsigned HostMemory::transport_dbg(tlm::tlm_generic_payload& p) {
  const uint64_t addr = p.get_address();
  const uint64_t len = p.get_data_length();
  if (!contains(addr, len)) return 0;
  uint8_t* mem = bytes_.get() + (addr - base_);
  if (p.is_read()) {
    std::memcpy(p.get_data_ptr(), mem, len);
  } else {
    std::memcpy(mem, p.get_data_ptr(), len);
  }
  return static_cast<unsigned>(len);
}

}  // namespace vnic::tb

// FaultInjectingBus implementation: each fault rewrites, drops or adds to one access of the
// driver's (its TX ring registers, its TX doorbell, its last TX descriptor, its unmap).
#include "vnic/driver/fault_bus.hpp"

#include <algorithm>

#include "vnic/model/descriptor.hpp"
#include "vnic/model/regs.hpp"

namespace vnic::driver {

namespace regs = model::regs;

const char* to_string(DriverFault f) {
  switch (f) {
    case DriverFault::None: return "None";
    case DriverFault::BadRingAddress: return "BadRingAddress";
    case DriverFault::TailBeyondRing: return "TailBeyondRing";
    case DriverFault::ZeroLengthDesc: return "ZeroLengthDesc";
    case DriverFault::NoEndOfPacket: return "NoEndOfPacket";
    case DriverFault::UnmapOwnedBuffer: return "UnmapOwnedBuffer";
    case DriverFault::SkipDoorbells: return "SkipDoorbells";
  }
  return "?";
}

void FaultInjectingBus::mmio_write32(uint32_t offset, uint32_t value) {
  if (offset == regs::kTxqBaseLo.offset_of(0)) {
    tx_base_ = (tx_base_ & ~uint64_t{0xFFFF'FFFF}) | value;
    if (armed_ == DriverFault::BadRingAddress) {
      armed_ = DriverFault::None;
      ++injected_;
      bad_base_hi_ = true;
      value = static_cast<uint32_t>(kBadRingBase);
    }
  } else if (offset == regs::kTxqBaseHi.offset_of(0)) {
    tx_base_ = (tx_base_ & uint64_t{0xFFFF'FFFF}) | (uint64_t{value} << 32);
    if (bad_base_hi_) {
      bad_base_hi_ = false;
      value = static_cast<uint32_t>(kBadRingBase >> 32);
    }
  } else if (offset == regs::kTxqSize.offset_of(0)) {
    tx_size_ = value;
  } else if (offset == regs::kTxqTail.offset_of(0)) {
    if (!doorbell(value)) return;
  } else if (offset == regs::kCtrl.offset && regs::ctrl::kRst.get(value) != 0) {
    skipping_ = false;  // the reset ends SkipDoorbells
  }
  inner_.mmio_write32(offset, value);
}

std::span<uint8_t> FaultInjectingBus::last_desc(uint32_t tail) {
  if (tx_base_ == 0 || tx_size_ == 0 || tail >= tx_size_) return {};
  const uint32_t i = (tail + tx_size_ - 1) % tx_size_;
  return inner_.cpu_view(tx_base_ + uint64_t{i} * model::kDescSize, model::kDescSize);
}

bool FaultInjectingBus::doorbell(uint32_t& tail) {
  if (skipping_) {
    ++doorbells_dropped_;
    return false;
  }
  switch (armed_) {
    case DriverFault::SkipDoorbells:
      armed_ = DriverFault::None;
      ++injected_;
      skipping_ = true;
      ++doorbells_dropped_;
      return false;
    case DriverFault::TailBeyondRing:
      armed_ = DriverFault::None;
      ++injected_;
      tail = tx_size_ + 5;
      return true;
    case DriverFault::ZeroLengthDesc:
    case DriverFault::NoEndOfPacket:
    case DriverFault::UnmapOwnedBuffer: {
      const std::span<uint8_t> bytes = last_desc(tail);
      if (bytes.size() != model::kDescSize) return true;  // no ring known yet: stays armed
      const auto fixed = bytes.first<model::kDescSize>();
      model::TxDesc d = model::decode_tx(fixed);
      if (armed_ == DriverFault::ZeroLengthDesc) {
        d.length = 0;
        model::encode(d, fixed);
      } else if (armed_ == DriverFault::NoEndOfPacket) {
        d.cmd = static_cast<uint8_t>(d.cmd & ~model::TxDesc::kCmdEop);
        model::encode(d, fixed);
      } else {
        inner_.dma_unmap_single(d.buf_addr);  // the device still owns this buffer
        swallow_.push_back(d.buf_addr);
      }
      armed_ = DriverFault::None;
      ++injected_;
      return true;
    }
    case DriverFault::None:
    case DriverFault::BadRingAddress:
      return true;
  }
  return true;
}

void FaultInjectingBus::dma_unmap_single(uint64_t bus_addr) {
  if (const auto it = std::ranges::find(swallow_, bus_addr); it != swallow_.end()) {
    swallow_.erase(it);  // UnmapOwnedBuffer unmapped it already
    return;
  }
  inner_.dma_unmap_single(bus_addr);
}

}  // namespace vnic::driver

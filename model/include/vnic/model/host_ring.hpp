// The host descriptor ring as driver and device both see it: head owned by the device, tail by
// the driver, one slot kept empty so a full ring holds size-1 descriptors.
#pragma once

#include <cstdint>

namespace vnic::model {

// Index math for a ring of `size` descriptors (a power of two, checked by is_valid_size).
// head == tail means empty; (tail + 1) % size == head means full.
class RingIndex {
 public:
  constexpr RingIndex() = default;
  constexpr explicit RingIndex(uint32_t size) : size_(size), mask_(size - 1) {}

  static constexpr bool is_valid_size(uint32_t size, uint32_t min_size, uint32_t max_size) {
    return size >= min_size && size <= max_size && (size & (size - 1)) == 0;
  }

  constexpr uint32_t size() const { return size_; }
  constexpr uint32_t capacity() const { return size_ == 0 ? 0 : size_ - 1; }
  constexpr uint32_t next(uint32_t i) const { return (i + 1) & mask_; }
  constexpr uint32_t add(uint32_t i, uint32_t n) const { return (i + n) & mask_; }
  // Descriptors between head (inclusive) and tail (exclusive): owned by the device.
  constexpr uint32_t used(uint32_t head, uint32_t tail) const { return (tail - head) & mask_; }
  // Slots the driver may still fill without making the ring look empty.
  constexpr uint32_t free(uint32_t head, uint32_t tail) const { return capacity() - used(head, tail); }
  constexpr bool empty(uint32_t head, uint32_t tail) const { return head == tail; }
  constexpr bool full(uint32_t head, uint32_t tail) const { return next(tail) == head; }
  constexpr bool in_range(uint32_t i) const { return i < size_; }

 private:
  uint32_t size_ = 0;
  uint32_t mask_ = 0;
};

// A ring with its own head and tail, for code that owns both sides (tests, the driver's view).
class HostRing {
 public:
  explicit HostRing(uint32_t size) : idx_(size) {}
  const RingIndex& index() const { return idx_; }
  uint32_t size() const { return idx_.size(); }
  uint32_t head() const { return head_; }
  uint32_t tail() const { return tail_; }
  uint32_t used() const { return idx_.used(head_, tail_); }
  uint32_t free() const { return idx_.free(head_, tail_); }
  bool empty() const { return idx_.empty(head_, tail_); }
  bool full() const { return idx_.full(head_, tail_); }

  // Driver side: post n descriptors at tail. Returns false (and changes nothing) if they don't fit.
  bool produce(uint32_t n = 1) {
    if (n > free()) return false;
    tail_ = idx_.add(tail_, n);
    return true;
  }
  // Device side: consume n descriptors at head. Returns false (and changes nothing) if fewer are posted.
  bool consume(uint32_t n = 1) {
    if (n > used()) return false;
    head_ = idx_.add(head_, n);
    return true;
  }

 private:
  RingIndex idx_;
  uint32_t head_ = 0;
  uint32_t tail_ = 0;
};

}  // namespace vnic::model

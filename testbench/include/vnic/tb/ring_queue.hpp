// RingQueue: a FIFO on a power-of-two circular buffer that only allocates when it grows, so a
// queue with a steady occupancy (frames in flight on a link) allocates nothing per element.
// std::deque frees and allocates a block every few elements as it slides along.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace vnic::tb {

// T must be default-constructible and move-assignable; a popped or cleared slot is reset to T{}
// at once, so whatever it owns (a pooled frame buffer) is released then, not later.
template <class T>
class RingQueue {
 public:
  explicit RingQueue(std::size_t initial_capacity = 16) {
    std::size_t c = 1;
    while (c < initial_capacity) c <<= 1;
    slots_.resize(c);
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return slots_.size(); }

  void push_back(T&& v) {
    if (size_ == slots_.size()) grow();
    slots_[(head_ + size_) & (slots_.size() - 1)] = std::move(v);
    ++size_;
  }
  T& front() { return slots_[head_]; }
  const T& front() const { return slots_[head_]; }
  // The i-th element from the front (0 = front).
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  const T& back() const { return (*this)[size_ - 1]; }

  // Removes the front element, moving it out.
  T take_front() {
    T v = std::move(slots_[head_]);
    slots_[head_] = T{};
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
    return v;
  }
  void clear() {
    for (std::size_t i = 0; i < size_; ++i) slots_[(head_ + i) & (slots_.size() - 1)] = T{};
    head_ = 0;
    size_ = 0;
  }

 private:
  void grow() {
    std::vector<T> bigger(slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace vnic::tb

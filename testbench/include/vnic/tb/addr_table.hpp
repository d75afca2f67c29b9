// AddrTable: an open-addressing hash table from a 64-bit address to a small value, with no
// allocation once it has grown to its working size. Host memory keeps its live DMA mappings in
// it, because a driver maps and unmaps a buffer for every packet it sends.
#pragma once

#include <cstdint>
#include <vector>

namespace vnic::tb {

template <class V>
class AddrTable {
 public:
  // Inserts or replaces; returns true if the key was new.
  bool put(uint64_t key, const V& v) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    std::size_t tomb = SIZE_MAX;
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.state == kFull && s.key == key) {
        s.v = v;
        return false;
      }
      if (s.state == kTomb && tomb == SIZE_MAX) tomb = i;
      if (s.state == kEmpty) break;
    }
    if (tomb != SIZE_MAX) {
      i = tomb;
    } else {
      ++used_;
    }
    slots_[i] = Slot{key, v, kFull};
    ++size_;
    return true;
  }
  // Removes key; false if it was not there.
  bool erase(uint64_t key) {
    if (slots_.empty()) return false;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.state == kEmpty) return false;
      if (s.state == kFull && s.key == key) {
        s.state = kTomb;
        --size_;
        return true;
      }
    }
  }
  std::size_t size() const { return size_; }
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.state == kFull) f(s.key, s.v);
    }
  }

 private:
  static constexpr uint8_t kEmpty = 0, kFull = 1, kTomb = 2;
  struct Slot {
    uint64_t key = 0;
    V v{};
    uint8_t state = kEmpty;
  };
  std::size_t home(uint64_t key) const { return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask_; }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    const std::size_t n = old.empty() ? 64 : (size_ * 4 > old.size() ? old.size() * 2 : old.size());
    slots_.assign(n, Slot{});
    mask_ = n - 1;
    used_ = size_ = 0;
    for (const Slot& s : old) {
      if (s.state == kFull) put(s.key, s.v);
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;  // full + tombstones
  std::size_t size_ = 0;
};

}  // namespace vnic::tb

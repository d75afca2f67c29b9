// The device's on-chip descriptor FIFO (prefetch cache between descriptor fetch and use):
// the cycle-level reference model that rtl/desc_fifo.v is checked against, cycle by cycle.
#pragma once

#include <cstdint>
#include <vector>

namespace vnic::model {

// One FIFO entry: up to 128 bits (a whole descriptor), masked to the configured width.
struct FifoWord {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const FifoWord&) const = default;
};

// Inputs sampled at one rising clock edge.
struct FifoIn {
  bool rst = false;   // synchronous reset: empties the FIFO and clears the error flags
  bool push = false;
  bool pop = false;
  FifoWord din{};
};

// Outputs after the edge (registered state).
struct FifoOut {
  uint32_t count = 0;
  bool full = false;
  bool empty = true;
  FifoWord dout{};     // the head entry (first-word fall-through); zero when empty
  bool overflow = false;   // sticky: a push was refused because the FIFO was full
  bool underflow = false;  // sticky: a pop was refused because the FIFO was empty
  bool operator==(const FifoOut&) const = default;
};

// Semantics of one edge (the RTL must match):
//   rst:              count = 0, pointers = 0, overflow = underflow = 0 (push/pop ignored).
//   pop  && empty:    underflow = 1; nothing else changes.
//   pop  && !empty:   the head entry is removed.
//   push && full && !(pop accepted): overflow = 1; nothing else changes.
//   push otherwise:   din is appended (a push and a pop at full both happen).
// Pointers carry one extra MSB so the FIFO holds all `depth` entries:
//   empty = (wr == rd); full = (wr ^ rd) == depth.
class DescFifo {
 public:
  // depth: a power of two >= 2. width_bits: 1..128.
  DescFifo(uint32_t depth, uint32_t width_bits);

  FifoOut step(const FifoIn& in);
  FifoOut out() const;

  // Convenience API for the NIC model (one operation per call).
  bool push(const FifoWord& w) { return do_edge(false, true, false, w).accepted_push; }
  bool pop(FifoWord* w) {
    const FifoWord head = front();
    const bool ok = do_edge(false, false, true, {}).accepted_pop;
    if (ok && w) *w = head;
    return ok;
  }
  void reset() { do_edge(true, false, false, {}); }

  uint32_t depth() const { return depth_; }
  uint32_t width() const { return width_; }
  uint32_t count() const { return (wr_ - rd_) & ptr_mask_; }
  bool empty() const { return wr_ == rd_; }
  bool full() const { return (wr_ ^ rd_) == depth_; }
  bool overflow() const { return overflow_; }
  bool underflow() const { return underflow_; }
  FifoWord front() const { return empty() ? FifoWord{} : mem_[rd_ & (depth_ - 1)]; }
  uint32_t wr_ptr() const { return wr_; }
  uint32_t rd_ptr() const { return rd_; }

 private:
  struct Edge {
    bool accepted_push;
    bool accepted_pop;
  };
  Edge do_edge(bool rst, bool push, bool pop, const FifoWord& din);
  FifoWord mask(const FifoWord& w) const;

  uint32_t depth_;
  uint32_t width_;
  uint32_t ptr_mask_;  // 2*depth - 1
  std::vector<FifoWord> mem_;
  uint32_t wr_ = 0;
  uint32_t rd_ = 0;
  bool overflow_ = false;
  bool underflow_ = false;
};

}  // namespace vnic::model

// DescFifo: the cycle-level reference FIFO.
#include "vnic/model/desc_fifo.hpp"

#include <stdexcept>

namespace vnic::model {

DescFifo::DescFifo(uint32_t depth, uint32_t width_bits)
    : depth_(depth), width_(width_bits), ptr_mask_(2 * depth - 1), mem_(depth) {
  if (depth < 2 || (depth & (depth - 1)) != 0) throw std::invalid_argument("DescFifo: depth must be a power of two >= 2");
  if (width_bits < 1 || width_bits > 128) throw std::invalid_argument("DescFifo: width must be 1..128 bits");
}

FifoWord DescFifo::mask(const FifoWord& w) const {
  FifoWord m = w;
  if (width_ < 64) {
    m.lo &= (uint64_t{1} << width_) - 1;
    m.hi = 0;
  } else if (width_ == 64) {
    m.hi = 0;
  } else if (width_ < 128) {
    m.hi &= (uint64_t{1} << (width_ - 64)) - 1;
  }
  return m;
}

DescFifo::Edge DescFifo::do_edge(bool rst, bool push, bool pop, const FifoWord& din) {
  if (rst) {
    wr_ = rd_ = 0;
    overflow_ = underflow_ = false;
    return {false, false};
  }
  const bool was_empty = empty();
  const bool was_full = full();
  const bool do_pop = pop && !was_empty;
  const bool do_push = push && (!was_full || do_pop);
  if (pop && was_empty) underflow_ = true;
  if (push && !do_push) overflow_ = true;
  if (do_push) {
    mem_[wr_ & (depth_ - 1)] = mask(din);
    wr_ = (wr_ + 1) & ptr_mask_;
  }
  if (do_pop) rd_ = (rd_ + 1) & ptr_mask_;
  return {do_push, do_pop};
}

FifoOut DescFifo::step(const FifoIn& in) {
  do_edge(in.rst, in.push, in.pop, in.din);
  return out();
}

FifoOut DescFifo::out() const {
  return FifoOut{count(), full(), empty(), front(), overflow_, underflow_};
}

}  // namespace vnic::model

// DescCache: the interface to the NIC's on-chip descriptor FIFO, so the C++ reference model
// (default) and the Verilated RTL ring can be swapped without touching the NIC. SystemC-free:
// hw/ holds one per queue, rtl/ implements it without seeing hw/.
#pragma once

#include <cstdint>
#include <memory>

#include "vnic/model/desc_fifo.hpp"

namespace vnic::model {

class DescCache {
 public:
  virtual ~DescCache() = default;
  virtual bool push(const FifoWord& w) = 0;  // false (and sticky overflow) when full
  virtual bool pop(FifoWord* w) = 0;         // false (and sticky underflow) when empty
  virtual void reset() = 0;
  virtual uint32_t count() const = 0;
  virtual uint32_t depth() const = 0;
  virtual bool overflow() const = 0;
  virtual bool underflow() const = 0;
  bool empty() const { return count() == 0; }
  bool full() const { return count() == depth(); }
  uint32_t space() const { return depth() - count(); }
};

// The model/ FIFO behind the interface.
class ModelDescCache final : public DescCache {
 public:
  ModelDescCache(uint32_t depth, uint32_t width_bits) : fifo_(depth, width_bits) {}
  bool push(const FifoWord& w) override { return fifo_.push(w); }
  bool pop(FifoWord* w) override { return fifo_.pop(w); }
  void reset() override { fifo_.reset(); }
  uint32_t count() const override { return fifo_.count(); }
  uint32_t depth() const override { return fifo_.depth(); }
  bool overflow() const override { return fifo_.overflow(); }
  bool underflow() const override { return fifo_.underflow(); }

 private:
  DescFifo fifo_;
};

// Makes a descriptor cache; a platform may install another factory (e.g. the RTL ring).
using DescCacheFactory = std::unique_ptr<DescCache> (*)(uint32_t depth, uint32_t width_bits);
inline std::unique_ptr<DescCache> make_model_desc_cache(uint32_t depth, uint32_t width_bits) {
  return std::make_unique<ModelDescCache>(depth, width_bits);
}

}  // namespace vnic::model

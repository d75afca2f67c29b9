// RtlDescCache: drives the Verilated desc_fifo by hand, one edge per operation. This file
// includes Verilator headers and never <systemc> (they do not mix).
#include "vnic/rtl/rtl_desc_cache.hpp"

#include <verilated.h>

#include <stdexcept>
#include <string>

#include "Vfifo_nic.h"
#include "Vfifo_nic_broken.h"

namespace vnic::rtl {

namespace {
uint64_t g_cycles = 0;

template <class V>
class RtlDescCache final : public model::DescCache {
 public:
  RtlDescCache() : ctx_(std::make_unique<VerilatedContext>()), m_(std::make_unique<V>(ctx_.get())) {
    m_->push = 0;
    m_->pop = 0;
    edge(true);
  }
  ~RtlDescCache() override { m_->final(); }

  bool push(const model::FifoWord& w) override {
    const bool accepted = !m_->full;  // what the RTL will do at this edge (no pop with it)
    m_->push = 1;
    set_din(w);
    edge(false);
    m_->push = 0;
    return accepted;
  }
  bool pop(model::FifoWord* w) override {
    if (m_->empty) {
      m_->pop = 1;
      edge(false);  // the RTL records the underflow
      m_->pop = 0;
      return false;
    }
    if (w != nullptr) *w = dout();  // first-word fall-through: the head is on dout now
    m_->pop = 1;
    edge(false);
    m_->pop = 0;
    return true;
  }
  void reset() override { edge(true); }
  uint32_t count() const override { return m_->count; }
  uint32_t depth() const override { return kNicFifoDepth; }
  bool overflow() const override { return m_->overflow; }
  bool underflow() const override { return m_->underflow; }

 private:
  void edge(bool rst) {
    m_->rst = rst;
    m_->clk = 0;
    m_->eval();
    m_->clk = 1;
    m_->eval();
    m_->rst = 0;
    ++g_cycles;
  }
  // 128-bit ports are four 32-bit words, least significant first.
  void set_din(const model::FifoWord& w) {
    m_->din[0] = static_cast<uint32_t>(w.lo);
    m_->din[1] = static_cast<uint32_t>(w.lo >> 32);
    m_->din[2] = static_cast<uint32_t>(w.hi);
    m_->din[3] = static_cast<uint32_t>(w.hi >> 32);
  }
  model::FifoWord dout() const {
    return model::FifoWord{uint64_t{m_->dout[0]} | uint64_t{m_->dout[1]} << 32,
                           uint64_t{m_->dout[2]} | uint64_t{m_->dout[3]} << 32};
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<V> m_;
};

void check(uint32_t depth, uint32_t width) {
  if (depth != kNicFifoDepth || width != kNicFifoWidth) {
    throw std::invalid_argument("the RTL descriptor FIFO is built at depth " + std::to_string(kNicFifoDepth) +
                                " and width " + std::to_string(kNicFifoWidth) + "; asked for depth " +
                                std::to_string(depth) + ", width " + std::to_string(width));
  }
}
}  // namespace

std::unique_ptr<model::DescCache> make_rtl_desc_cache(uint32_t depth, uint32_t width_bits) {
  check(depth, width_bits);
  return std::make_unique<RtlDescCache<Vfifo_nic>>();
}

std::unique_ptr<model::DescCache> make_broken_rtl_desc_cache(uint32_t depth, uint32_t width_bits) {
  check(depth, width_bits);
  return std::make_unique<RtlDescCache<Vfifo_nic_broken>>();
}

uint64_t rtl_cycles() { return g_cycles; }

}  // namespace vnic::rtl

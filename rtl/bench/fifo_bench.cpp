// Verilated desc_fifo cycles per second against the C++ reference model (depth 256, 64 bits).
#include <benchmark/benchmark.h>

#include <memory>

#include "Vfifo_d256.h"
#include "vnic/model/desc_fifo.hpp"

namespace {

void BM_RtlFifoCycle(benchmark::State& s) {
  auto ctx = std::make_unique<VerilatedContext>();
  auto m = std::make_unique<Vfifo_d256>(ctx.get());
  uint64_t i = 0;
  for (auto _ : s) {
    m->push = (i & 3) != 0;
    m->pop = (i & 1) != 0;
    m->din = i;
    m->clk = 0;
    m->eval();
    m->clk = 1;
    m->eval();
    benchmark::DoNotOptimize(m->dout);
    ++i;
  }
  s.SetItemsProcessed(static_cast<int64_t>(s.iterations()));
  m->final();
}
BENCHMARK(BM_RtlFifoCycle);

void BM_ModelFifoCycle(benchmark::State& s) {
  vnic::model::DescFifo f(256, 64);
  uint64_t i = 0;
  for (auto _ : s) {
    const auto o = f.step(vnic::model::FifoIn{false, (i & 3) != 0, (i & 1) != 0, {i, 0}});
    benchmark::DoNotOptimize(o);
    ++i;
  }
  s.SetItemsProcessed(static_cast<int64_t>(s.iterations()));
}
BENCHMARK(BM_ModelFifoCycle);

}  // namespace

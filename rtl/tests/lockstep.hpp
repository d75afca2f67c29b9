// Lock-step harness: steps a Verilated desc_fifo by hand (no sc_clock) next to
// model::DescFifo with one seeded stream of push/pop/reset, compares every output after every
// edge, collects functional coverage, and on the first mismatch reports the cycle, the last
// 16 operations and both states, and writes a VCD of the run up to that cycle.
#pragma once

#include <verilated.h>
#include <verilated_vcd_c.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "vnic/model/desc_fifo.hpp"

namespace vnic::rtl::test {

struct Coverage {
  uint64_t empty = 0, full = 0, wrap = 0, push_when_full = 0, pop_when_empty = 0;
  uint64_t push_pop_at_full = 0, push_pop_at_empty = 0, reset_while_not_empty = 0;
  // Names of the bins that stayed at zero.
  std::string zero_bins() const {
    std::string z;
    auto chk = [&](uint64_t v, const char* n) {
      if (v == 0) z += std::string(z.empty() ? "" : ", ") + n;
    };
    chk(empty, "empty");
    chk(full, "full");
    chk(wrap, "wrap");
    chk(push_when_full, "push-when-full");
    chk(pop_when_empty, "pop-when-empty");
    chk(push_pop_at_full, "push+pop at full");
    chk(push_pop_at_empty, "push+pop at empty");
    chk(reset_while_not_empty, "reset-while-not-empty");
    return z;
  }
};

struct LockstepResult {
  bool ok = true;
  uint64_t cycles = 0;
  uint64_t mismatch_cycle = 0;
  std::string report;  // empty when ok
  std::string vcd_path;
  Coverage cov;
};

// The seeded stimulus: phases that fill, drain, or churn the FIFO, and rare resets.
class Stimulus {
 public:
  Stimulus(uint64_t seed, uint32_t depth) : rng_(seed), depth_(depth) {}
  model::FifoIn next() {
    if (phase_left_ == 0) {
      phase_left_ = 1 + rng_() % (4 * depth_ + 16);
      static constexpr std::array<std::pair<int, int>, 5> kPhases{{{90, 10}, {10, 90}, {50, 50}, {100, 100}, {60, 40}}};
      const auto p = kPhases[rng_() % kPhases.size()];
      push_pct_ = p.first;
      pop_pct_ = p.second;
    }
    --phase_left_;
    model::FifoIn in;
    in.rst = rng_() % 20000 == 0;
    in.push = static_cast<int>(rng_() % 100) < push_pct_;
    in.pop = static_cast<int>(rng_() % 100) < pop_pct_;
    in.din = model::FifoWord{rng_(), 0};
    return in;
  }

 private:
  std::mt19937_64 rng_;
  uint32_t depth_;
  uint64_t phase_left_ = 0;
  int push_pct_ = 50, pop_pct_ = 50;
};

template <class V>
class Lockstep {
 public:
  Lockstep(uint32_t depth, uint32_t width) : depth_(depth), width_(width) {}

  // Runs `cycles` edges with `seed`. On a mismatch, reruns the same stream with tracing to
  // write `vcd_path` (if non-empty) up to the failing cycle.
  LockstepResult run(uint64_t seed, uint64_t cycles, const std::string& vcd_path) {
    LockstepResult r = run_once(seed, cycles, nullptr);
    if (!r.ok && !vcd_path.empty()) {
      run_once(seed, r.mismatch_cycle + 1, &vcd_path);
      r.vcd_path = vcd_path;
      r.report += "VCD: " + vcd_path + "\n";
    }
    return r;
  }

 private:
  static model::FifoOut observe(const V& m) {
    model::FifoOut o;
    o.count = m.count;
    o.full = m.full;
    o.empty = m.empty;
    o.dout = model::FifoWord{m.dout, 0};
    o.overflow = m.overflow;
    o.underflow = m.underflow;
    return o;
  }
  static std::string show(const model::FifoOut& o) {
    std::ostringstream s;
    s << "count=" << o.count << " full=" << o.full << " empty=" << o.empty << " dout=0x" << std::hex << o.dout.lo
      << std::dec << " overflow=" << o.overflow << " underflow=" << o.underflow;
    return s.str();
  }

  LockstepResult run_once(uint64_t seed, uint64_t cycles, const std::string* vcd_path) {
    LockstepResult r;
    auto ctx = std::make_unique<VerilatedContext>();
    auto m = std::make_unique<V>(ctx.get());
    std::unique_ptr<VerilatedVcdC> vcd;
    if (vcd_path) {
      ctx->traceEverOn(true);
      vcd = std::make_unique<VerilatedVcdC>();
      m->trace(vcd.get(), 99);
      vcd->open(vcd_path->c_str());
    }
    uint64_t t = 0;
    auto edge = [&](const model::FifoIn& in) {
      m->clk = 0;
      m->rst = in.rst;
      m->push = in.push;
      m->pop = in.pop;
      m->din = in.din.lo;
      m->eval();
      if (vcd) vcd->dump(t);
      t += 5;
      m->clk = 1;
      m->eval();
      if (vcd) vcd->dump(t);
      t += 5;
    };
    model::DescFifo ref(depth_, width_);
    Stimulus stim(seed, depth_);
    edge(model::FifoIn{true, false, false, {}});  // power-on reset of the RTL
    std::array<model::FifoIn, 16> hist{};
    for (uint64_t c = 0; c < cycles; ++c) {
      const model::FifoIn in = stim.next();
      hist[c % hist.size()] = in;
      // Coverage, judged on the state before the edge.
      const bool was_empty = ref.empty(), was_full = ref.full();
      if (!in.rst) {
        if (in.push && was_full && !in.pop) ++r.cov.push_when_full;
        if (in.pop && was_empty) ++r.cov.pop_when_empty;
        if (in.push && in.pop && was_full) ++r.cov.push_pop_at_full;
        if (in.push && in.pop && was_empty) ++r.cov.push_pop_at_empty;
      } else if (!was_empty) {
        ++r.cov.reset_while_not_empty;
      }
      const uint32_t wr_before = ref.wr_ptr();
      edge(in);
      const model::FifoOut want = ref.step(in);
      if (ref.wr_ptr() < wr_before && !in.rst) ++r.cov.wrap;  // pointer passed 2*depth-1 -> 0
      if (want.empty) ++r.cov.empty;
      if (want.full) ++r.cov.full;
      const model::FifoOut got = observe(*m);
      r.cycles = c + 1;
      if (!(got == want)) {
        r.ok = false;
        r.mismatch_cycle = c;
        std::ostringstream s;
        s << "lock-step mismatch at cycle " << c << " (seed " << seed << ", depth " << depth_ << ")\n"
          << "  rtl:   " << show(got) << "\n  model: " << show(want) << "\n  last operations (oldest first):\n";
        for (uint64_t k = (c >= 15 ? c - 15 : 0); k <= c; ++k) {
          const model::FifoIn& h = hist[k % hist.size()];
          s << "    cycle " << k << ": rst=" << h.rst << " push=" << h.push << " pop=" << h.pop << " din=0x" << std::hex
            << h.din.lo << std::dec << "\n";
        }
        r.report = s.str();
        break;
      }
    }
    if (vcd) vcd->close();
    m->final();
    return r;
  }

  uint32_t depth_;
  uint32_t width_;
};

}  // namespace vnic::rtl::test

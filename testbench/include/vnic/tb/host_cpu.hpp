// HostCpu: a simulated host CPU core on the event queue. Code runs in three contexts: hard IRQ
// (preempts whatever runs), softirq and process (tasks and timers, one after another). Each piece
// of code runs to completion at its start time while its local clock advances by the costs it
// charges; the CPU is busy until that clock, so later work waits (docs/host.md).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "vnic/hw/event_queue.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/trace.hpp"

namespace vnic::tb {

struct HostCpuStats {
  uint64_t hardirqs = 0, softirq_runs = 0, tasks = 0, deferred = 0, ksoftirqd_wakeups = 0;
  uint64_t busy_hardirq_ps = 0, busy_softirq_ps = 0, busy_process_ps = 0;
  uint64_t irq_latency_max_ps = 0;  // message landed -> handler ran (preemption is immediate: 0)
};

class SmpCpus;

class HostCpu : public stack::Cpu {
 public:
  enum class Ctx : uint8_t { None, HardIrq, Softirq, Process };

  HostCpu(hw::EventQueue& q, unsigned id, const stack::CpuCosts& costs, SmpCpus* smp = nullptr);
  HostCpu(const HostCpu&) = delete;
  HostCpu& operator=(const HostCpu&) = delete;

  // stack::Cpu
  unsigned id() const override { return id_; }
  stack::Instant now() const override;
  void charge(stack::Duration d) override { cursor_ += static_cast<uint64_t>(d.ps()); }
  const stack::CpuCosts& costs() const override { return costs_; }
  void open_softirq(stack::Softirq nr, Fn fn, void* ctx) override;
  void raise_softirq(stack::Softirq nr) override;
  uint64_t call_at(stack::Instant when, Fn fn, void* ctx, uint64_t arg = 0) override;
  void cancel(uint64_t handle) override;

  // An interrupt for this CPU: fn(ctx, arg) runs in hard-IRQ context now (on the event queue).
  void hardirq(Fn fn, void* ctx, uint64_t arg);

  // Hard IRQs and softirq runs go to `sink` (nullptr: off).
  void set_trace(stack::TraceSink* sink, const char* source) {
    trace_ = sink;
    trace_source_ = source;
  }
  Ctx context() const { return ctx_; }
  uint64_t busy_until_ps() const { return busy_until_; }
  const HostCpuStats& stats() const { return stats_; }
  stack::CpuCosts& mutable_costs() { return costs_; }

 private:
  struct Work {
    Fn fn = nullptr;
    void* ctx = nullptr;
    uint64_t arg = 0;
    uint32_t next_free = UINT32_MAX;
    uint32_t gen = 0;          // bumps on every reuse: a handle names one use
    uint64_t event = 0;        // the queue's handle of its pending event
    bool cancelled = false;
  };
  uint32_t take_work(Fn fn, void* ctx, uint64_t arg);
  static void task_event(void* self, uint64_t idx);
  static void irq_event(void* self, uint64_t idx);
  static void softirq_event(void* self, uint64_t);
  void schedule_softirq(uint64_t at_ps);
  void enter(Ctx c, uint64_t start_ps);
  void leave(uint64_t start_ps);

  hw::EventQueue& q_;
  unsigned id_;
  SmpCpus* smp_;
  stack::CpuCosts costs_;
  Ctx ctx_ = Ctx::None;
  uint64_t cursor_ = 0;      // local clock of the code running now
  uint64_t busy_until_ = 0;  // the CPU is busy until then
  std::array<Fn, 8> softirq_fn_{};
  std::array<void*, 8> softirq_ctx_{};
  uint32_t softirq_pending_ = 0;
  bool softirq_scheduled_ = false;
  std::vector<Work> work_;   // records for scheduled work, recycled through a free list
  uint32_t free_ = UINT32_MAX;
  HostCpuStats stats_;
  stack::TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
};

// The CPUs of one host. As a stack::Cpu it is `this_cpu`: now(), charge(), raise_softirq() and
// call_at() act on the core whose code is running (core 0 when none is), which is how code shared
// by several CPUs (the driver) charges the CPU that runs it.
class SmpCpus : public stack::Cpu {
 public:
  SmpCpus(hw::EventQueue& q, unsigned n, const stack::CpuCosts& costs);
  unsigned size() const { return static_cast<unsigned>(cores_.size()); }
  HostCpu& core(unsigned i) { return *cores_[i]; }
  const HostCpu& core(unsigned i) const { return *cores_[i]; }
  HostCpu& current() { return current_ ? *current_ : *cores_[0]; }
  const HostCpu& current() const { return current_ ? *current_ : *cores_[0]; }

  unsigned id() const override { return current().id(); }
  stack::Instant now() const override { return current().now(); }
  void charge(stack::Duration d) override { current().charge(d); }
  const stack::CpuCosts& costs() const override { return current().costs(); }
  void open_softirq(stack::Softirq nr, Fn fn, void* ctx) override { current().open_softirq(nr, fn, ctx); }
  void raise_softirq(stack::Softirq nr) override { current().raise_softirq(nr); }
  uint64_t call_at(stack::Instant when, Fn fn, void* ctx, uint64_t arg = 0) override {
    HostCpu& c = current();
    return (uint64_t{c.id()} << 56) | c.call_at(when, fn, ctx, arg);
  }
  void cancel(uint64_t handle) override { cores_[handle >> 56]->cancel(handle & ((uint64_t{1} << 56) - 1)); }

 private:
  friend class HostCpu;
  std::vector<std::unique_ptr<HostCpu>> cores_;
  HostCpu* current_ = nullptr;
};

}  // namespace vnic::tb

// HostCpu implementation.
#include "vnic/tb/host_cpu.hpp"

#include <algorithm>

namespace vnic::tb {

namespace {
constexpr uint32_t kGenMask = 0xFFFFFF;  // 24 bits of a record's generation in a handle
constexpr int kMaxSoftirqRestart = 10;                    // MAX_SOFTIRQ_RESTART
constexpr uint64_t kMaxSoftirqTimePs = 2'000'000'000;     // MAX_SOFTIRQ_TIME: 2 ms
}  // namespace

HostCpu::HostCpu(hw::EventQueue& q, unsigned id, const stack::CpuCosts& costs, SmpCpus* smp)
    : q_(q), id_(id), smp_(smp), costs_(costs) {}

SmpCpus::SmpCpus(hw::EventQueue& q, unsigned n, const stack::CpuCosts& costs) {
  for (unsigned i = 0; i < n; ++i) cores_.push_back(std::make_unique<HostCpu>(q, i, costs, this));
}

stack::Instant HostCpu::now() const {
  if (ctx_ != Ctx::None) return stack::Instant::from_ps(static_cast<int64_t>(cursor_));
  // Code running on another core (a wake-up from its NAPI poll) acts at that core's local time.
  uint64_t t = q_.now_ps();
  if (smp_ != nullptr && smp_->current_ != nullptr) t = std::max(t, smp_->current_->cursor_);
  return stack::Instant::from_ps(static_cast<int64_t>(t));
}

uint32_t HostCpu::take_work(Fn fn, void* ctx, uint64_t arg) {
  uint32_t i = free_;
  if (i == UINT32_MAX) {
    i = static_cast<uint32_t>(work_.size());
    work_.emplace_back();
  } else {
    free_ = work_[i].next_free;
  }
  const uint32_t gen = work_[i].gen + 1;
  work_[i] = Work{fn, ctx, arg, UINT32_MAX, gen, 0, false};
  return i;
}

void HostCpu::enter(Ctx c, uint64_t start_ps) {
  ctx_ = c;
  cursor_ = start_ps;
  if (smp_) smp_->current_ = this;
}

void HostCpu::leave(uint64_t start_ps) {
  const uint64_t spent = cursor_ - start_ps;
  switch (ctx_) {
    case Ctx::HardIrq: stats_.busy_hardirq_ps += spent; break;
    case Ctx::Softirq: stats_.busy_softirq_ps += spent; break;
    case Ctx::Process: stats_.busy_process_ps += spent; break;
    case Ctx::None: break;
  }
  if (ctx_ == Ctx::HardIrq) {
    // It preempted whatever was running, which now ends that much later.
    busy_until_ = std::max(busy_until_, start_ps) + spent;
  } else {
    busy_until_ = cursor_;
  }
  const bool from_softirq = ctx_ == Ctx::Softirq;
  ctx_ = Ctx::None;
  if (smp_) smp_->current_ = nullptr;
  // irq_exit / local_bh_enable run raised softirqs. Work a softirq run left over goes to
  // ksoftirqd, a thread like any other: 1 ps later, so tasks already waiting run first.
  if (softirq_pending_ != 0) schedule_softirq(busy_until_ + (from_softirq ? 1 : 0));
}

uint64_t HostCpu::call_at(stack::Instant when, Fn fn, void* ctx, uint64_t arg) {
  const uint32_t i = take_work(fn, ctx, arg);
  work_[i].event = q_.at_ps(static_cast<uint64_t>(std::max<int64_t>(when.ps(), 0)), &HostCpu::task_event, this, i);
  return (uint64_t{work_[i].gen & kGenMask} << 32) | i;  // bits 56..63 stay free for SmpCpus' core id
}

void HostCpu::cancel(uint64_t handle) {
  const uint32_t i = static_cast<uint32_t>(handle);
  if (i >= work_.size() || (work_[i].gen & kGenMask) != ((handle >> 32) & kGenMask) || work_[i].fn == nullptr) return;
  if (q_.cancel(work_[i].event)) {  // it will never fire: recycle its record now
    work_[i].fn = nullptr;
    work_[i].next_free = free_;
    free_ = i;
    return;
  }
  work_[i].cancelled = true;  // (not expected: a queued record always has a pending event)
}

void HostCpu::task_event(void* self, uint64_t idx) {
  auto& c = *static_cast<HostCpu*>(self);
  const uint64_t t = c.q_.now_ps();
  const bool cancelled = c.work_[idx].cancelled;
  if (!cancelled && c.busy_until_ > t) {  // the CPU is busy: run when it is free, in arrival order
    ++c.stats_.deferred;
    c.work_[idx].event = c.q_.at_ps(c.busy_until_, &HostCpu::task_event, self, idx);
    return;
  }
  const Work w = c.work_[idx];
  c.work_[idx].fn = nullptr;
  c.work_[idx].next_free = c.free_;
  c.free_ = static_cast<uint32_t>(idx);
  if (cancelled) return;
  ++c.stats_.tasks;
  c.enter(Ctx::Process, t);
  w.fn(w.ctx, w.arg);
  c.leave(t);
}

void HostCpu::hardirq(Fn fn, void* ctx, uint64_t arg) {
  const uint32_t i = take_work(fn, ctx, arg);
  q_.at_ps(q_.now_ps(), &HostCpu::irq_event, this, i);
}

void HostCpu::irq_event(void* self, uint64_t idx) {
  auto& c = *static_cast<HostCpu*>(self);
  const uint64_t t = c.q_.now_ps();
  const Work w = c.work_[idx];
  c.work_[idx].fn = nullptr;
  c.work_[idx].next_free = c.free_;
  c.free_ = static_cast<uint32_t>(idx);
  ++c.stats_.hardirqs;
  c.enter(Ctx::HardIrq, t);
  c.charge(c.costs_.hardirq);
  w.fn(w.ctx, w.arg);
  if (c.trace_ != nullptr) [[unlikely]] {
    c.trace_->trace(c.trace_source_, stack::TraceEvent{t, c.cursor_, stack::TraceKind::HardIrq,
                                                       model::default_step(stack::TraceKind::HardIrq),
                                                       static_cast<uint16_t>(c.id_), static_cast<uint32_t>(w.arg), 0, 0});
  }
  c.leave(t);
}

void HostCpu::open_softirq(stack::Softirq nr, Fn fn, void* ctx) {
  softirq_fn_[static_cast<unsigned>(nr)] = fn;
  softirq_ctx_[static_cast<unsigned>(nr)] = ctx;
}

void HostCpu::raise_softirq(stack::Softirq nr) {
  softirq_pending_ |= 1u << static_cast<unsigned>(nr);
  // Outside any context (a test poking the stack) the softirq runs as soon as the CPU is free;
  // inside one it runs when that context ends (leave()).
  if (ctx_ == Ctx::None) schedule_softirq(std::max(busy_until_, q_.now_ps()));
}

void HostCpu::schedule_softirq(uint64_t at_ps) {
  if (softirq_scheduled_) return;
  softirq_scheduled_ = true;
  q_.at_ps(at_ps, &HostCpu::softirq_event, this, 0);
}

void HostCpu::softirq_event(void* self, uint64_t) {
  auto& c = *static_cast<HostCpu*>(self);
  const uint64_t t = c.q_.now_ps();
  if (c.busy_until_ > t) {
    c.q_.at_ps(c.busy_until_, &HostCpu::softirq_event, self, 0);
    return;
  }
  c.softirq_scheduled_ = false;
  ++c.stats_.softirq_runs;
  c.enter(Ctx::Softirq, t);
  c.charge(c.costs_.softirq);
  // __do_softirq: handle what is pending, restart while more is raised, up to 10 rounds or 2 ms;
  // what is left then goes to ksoftirqd (here: another run after work already queued).
  for (int round = 0; round < kMaxSoftirqRestart && c.softirq_pending_ != 0; ++round) {
    const uint32_t pending = c.softirq_pending_;
    c.softirq_pending_ = 0;
    for (unsigned nr = 0; nr < c.softirq_fn_.size(); ++nr) {
      if (((pending >> nr) & 1u) != 0 && c.softirq_fn_[nr] != nullptr) c.softirq_fn_[nr](c.softirq_ctx_[nr], 0);
    }
    if (c.cursor_ - t >= kMaxSoftirqTimePs) break;
  }
  if (c.softirq_pending_ != 0) ++c.stats_.ksoftirqd_wakeups;
  if (c.trace_ != nullptr) [[unlikely]] {
    c.trace_->trace(c.trace_source_, stack::TraceEvent{t, c.cursor_, stack::TraceKind::Softirq, model::kNoStep,
                                                       static_cast<uint16_t>(c.id_), 0, 0, 0});
  }
  c.leave(t);
}

}  // namespace vnic::tb

// EventQueue implementation: a binary heap of callbacks and one re-armed sc_event.
#include "vnic/hw/event_queue.hpp"

#include <algorithm>

namespace vnic::hw {

void init_time() {
  // to_ps()/from_ps() use raw sc_time values, which are picoseconds only at this resolution.
  if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS)) {
    SC_REPORT_FATAL("vnic", "vnic needs SystemC's time resolution at its default, 1 ps");
  }
}

EventQueue::EventQueue(sc_core::sc_module_name name) : sc_core::sc_module(name) {
  init_time();
  SC_METHOD(fire);
  sensitive << ev_;
  dont_initialize();
}

uint64_t EventQueue::at_ps(uint64_t t_ps, Fn fn, void* ctx, uint64_t arg) {
  const uint64_t when = std::max(t_ps, now_ps());
  const uint64_t seq = seq_++;
  heap_.push_back(Item{when, seq, fn, ctx, arg});
  std::push_heap(heap_.begin(), heap_.end(), later);
  if (!in_fire_ && when < armed_ps_) arm();
  return seq;
}

bool EventQueue::cancel(uint64_t handle) {
  if (handle >= seq_) return false;
  if (std::find(cancelled_.begin(), cancelled_.end(), handle) != cancelled_.end()) return false;
  bool queued = false;
  for (const Item& it : heap_) queued = queued || it.seq == handle;
  if (!queued) return false;  // already ran
  cancelled_.push_back(handle);
  if (!in_fire_) arm();
  return true;
}

void EventQueue::clear() {
  heap_.clear();
  cancelled_.clear();
  arm();
}

void EventQueue::drop_cancelled_top() {
  while (!cancelled_.empty() && !heap_.empty()) {
    const auto it = std::find(cancelled_.begin(), cancelled_.end(), heap_.front().seq);
    if (it == cancelled_.end()) return;
    *it = cancelled_.back();
    cancelled_.pop_back();
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
}

void EventQueue::arm() {
  drop_cancelled_top();
  if (heap_.empty()) {
    armed_ps_ = UINT64_MAX;
    ev_.cancel();
    return;
  }
  const uint64_t when = heap_.front().t_ps;
  const uint64_t sc_now = to_ps(sc_core::sc_time_stamp());
  armed_ps_ = when;
  ev_.cancel();
  if (when <= sc_now) {
    ev_.notify(sc_core::SC_ZERO_TIME);  // delta: same time, after the current process
  } else {
    ev_.notify(from_ps(when - sc_now));
  }
}

void EventQueue::fire() {
  const uint64_t horizon = to_ps(sc_core::sc_time_stamp()) + quantum_ps_;
  armed_ps_ = UINT64_MAX;
  in_fire_ = true;
  // Run everything due by the horizon, in time order, including what callbacks schedule.
  for (;;) {
    drop_cancelled_top();
    if (heap_.empty() || heap_.front().t_ps > horizon) break;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Item it = heap_.back();
    heap_.pop_back();
    cur_ps_ = std::max(cur_ps_, it.t_ps);
    ++fired_;
    it.fn(it.ctx, it.arg);
  }
  in_fire_ = false;
  arm();
}

}  // namespace vnic::hw

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
  // Rare (timers moved earlier, queues torn down): a linear search and a re-heapify, so the
  // heap holds only live callbacks and pending() is an exact count.
  const auto it = std::find_if(heap_.begin(), heap_.end(), [handle](const Item& i) { return i.seq == handle; });
  if (it == heap_.end()) return false;  // already ran, or never existed
  *it = heap_.back();
  heap_.pop_back();
  std::make_heap(heap_.begin(), heap_.end(), later);
  if (!in_fire_) arm();
  return true;
}

void EventQueue::clear() {
  heap_.clear();
  arm();
}

void EventQueue::arm() {
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
  const uint64_t sc_now = to_ps(sc_core::sc_time_stamp());
  uint64_t horizon = sc_now + quantum_ps_;
  if (barrier_ps_ >= sc_now && horizon > barrier_ps_) horizon = barrier_ps_;
  armed_ps_ = UINT64_MAX;
  in_fire_ = true;
  // Run everything due by the horizon, in time order, including what callbacks schedule.
  for (;;) {
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

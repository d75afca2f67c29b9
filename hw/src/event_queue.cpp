// EventQueue implementation: the callbacks in a vector sorted by (time, scheduling order), latest
// first, and one re-armed sc_event.
#include "vnic/hw/event_queue.hpp"

#include <algorithm>
#include <cstring>

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
  const Item it{when, seq, fn, ctx, arg};
  std::size_t j = items_.size();
  items_.emplace_back();
  Item* v = items_.data();
  // Those due before the new one move one place towards the back: usually one or two.
  for (unsigned steps = 0; j > 0 && before(v[j - 1], it); ++steps) {
    if (steps == 16) {  // many: find the place by bisection, then move them in one go
      const Item* lo = std::partition_point(v, v + j, [&it](const Item& x) { return !before(x, it); });
      const std::size_t k = static_cast<std::size_t>(lo - v);
      std::memmove(static_cast<void*>(v + k + 1), v + k, (j - k) * sizeof(Item));
      j = k;
      break;
    }
    v[j] = v[j - 1];
    --j;
  }
  v[j] = it;
  if (!in_fire_ && when < armed_ps_) arm();
  return seq;
}

bool EventQueue::cancel(uint64_t handle) {
  // Rare (timers moved earlier, queues torn down): a linear search and an erase, so the vector
  // holds only live callbacks and pending() is an exact count.
  const auto it = std::find_if(items_.begin(), items_.end(), [handle](const Item& i) { return i.seq == handle; });
  if (it == items_.end()) return false;  // already ran, or never existed
  items_.erase(it);
  if (!in_fire_) arm();
  return true;
}

void EventQueue::clear() {
  items_.clear();
  arm();
}

void EventQueue::arm() {
  if (items_.empty()) {
    armed_ps_ = UINT64_MAX;
    ev_.cancel();
    return;
  }
  const uint64_t when = items_.back().t_ps;
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
    if (items_.empty() || items_.back().t_ps > horizon) break;
    const Item it = items_.back();
    items_.pop_back();
    cur_ps_ = std::max(cur_ps_, it.t_ps);
    ++fired_;
    it.fn(it.ctx, it.arg);
  }
  in_fire_ = false;
  arm();
}

}  // namespace vnic::hw

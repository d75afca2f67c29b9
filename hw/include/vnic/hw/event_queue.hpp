// EventQueue: timed plain callbacks driven by one SC_METHOD, so hot paths need no SC_THREAD,
// no std::function and no sc_event per packet.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

namespace vnic::hw {

class EventQueue : public sc_core::sc_module {
 public:
  using Fn = void (*)(void* ctx, uint64_t arg);

  SC_HAS_PROCESS(EventQueue);
  explicit EventQueue(sc_core::sc_module_name name);

  // Runs fn(ctx, arg) at absolute time t (clamped to now). Same-time callbacks run in the
  // order they were scheduled, so runs are deterministic.
  void at(const sc_core::sc_time& t, Fn fn, void* ctx, uint64_t arg = 0);
  void after(const sc_core::sc_time& d, Fn fn, void* ctx, uint64_t arg = 0) {
    at(sc_core::sc_time_stamp() + d, fn, ctx, arg);
  }
  // Member-function form: q.at<&Nic::on_tx_done>(t, this, arg).
  template <auto MemFn, class T>
  void at(const sc_core::sc_time& t, T* obj, uint64_t arg = 0) {
    at(t, &thunk<MemFn, T>, obj, arg);
  }
  template <auto MemFn, class T>
  void after(const sc_core::sc_time& d, T* obj, uint64_t arg = 0) {
    after(d, &thunk<MemFn, T>, obj, arg);
  }

  std::size_t pending() const { return heap_.size(); }
  uint64_t fired() const { return fired_; }

 private:
  template <auto MemFn, class T>
  static void thunk(void* ctx, uint64_t arg) {
    (static_cast<T*>(ctx)->*MemFn)(arg);
  }
  struct Item {
    uint64_t t_ps;
    uint64_t seq;
    Fn fn;
    void* ctx;
    uint64_t arg;
  };
  static bool later(const Item& a, const Item& b) {
    return a.t_ps != b.t_ps ? a.t_ps > b.t_ps : a.seq > b.seq;
  }
  void fire();
  void arm();

  std::vector<Item> heap_;
  uint64_t seq_ = 0;
  uint64_t fired_ = 0;
  uint64_t armed_ps_ = UINT64_MAX;
  bool in_fire_ = false;
  sc_core::sc_event ev_;
};

// sc_time <-> picoseconds; SystemC's default time resolution, 1 ps, is checked by init_time().
inline uint64_t to_ps(const sc_core::sc_time& t) { return t.value(); }
inline sc_core::sc_time from_ps(uint64_t ps) { return sc_core::sc_time::from_value(ps); }
// Stops with a clear message if the kernel's time resolution is not 1 ps.
void init_time();

}  // namespace vnic::hw

// EventQueue: timed plain callbacks driven by one SC_METHOD, so hot paths need no SC_THREAD,
// no std::function and no sc_event per packet. It keeps its own clock (now_ps()), which every
// vnic component reads, so it may run callbacks up to a quantum ahead of SystemC's time
// without changing any result of the model (temporal decoupling, as a TLM quantum keeper).
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

namespace vnic::hw {

inline uint64_t to_ps(const sc_core::sc_time& t) { return t.value(); }
inline sc_core::sc_time from_ps(uint64_t ps) { return sc_core::sc_time::from_value(ps); }

class EventQueue : public sc_core::sc_module {
 public:
  using Fn = void (*)(void* ctx, uint64_t arg);
  // A handle no scheduled callback has: "nothing scheduled".
  static constexpr uint64_t kNone = UINT64_MAX;

  SC_HAS_PROCESS(EventQueue);
  explicit EventQueue(sc_core::sc_module_name name);

  // The model's time: the time of the callback running now, or SystemC's time if later.
  uint64_t now_ps() const {
    if (in_fire_) return cur_ps_;  // a callback runs at its own time, never behind SystemC's
    const uint64_t sc_now = to_ps(sc_core::sc_time_stamp());
    return cur_ps_ > sc_now ? cur_ps_ : sc_now;
  }
  // When the last callback ran (the last activity of the model).
  uint64_t last_ps() const { return cur_ps_; }
  // How far ahead of SystemC's time callbacks may run in one activation (0: never ahead).
  // Only other SystemC processes can tell the difference; vnic's results are the same.
  void set_quantum(uint64_t ps) { quantum_ps_ = ps; }
  // No callback after `ps` runs ahead of SystemC's time (the look-ahead stops there): a caller
  // that inspects the model at SystemC time `ps` sees exactly what happened up to it, whatever
  // the quantum. UINT64_MAX: none.
  void set_barrier(uint64_t ps) { barrier_ps_ = ps; }

  // Runs fn(ctx, arg) at absolute time t_ps (clamped to now). Same-time callbacks run in the
  // order they were scheduled, so runs are deterministic. Returns a handle for cancel().
  uint64_t at_ps(uint64_t t_ps, Fn fn, void* ctx, uint64_t arg = 0);
  // Removes a scheduled callback that has not run yet (a timer no longer needed), so that it
  // neither runs nor keeps the simulation going until its time. Rare: linear in the number of
  // pending callbacks. Returns false if it had already run (or never existed).
  bool cancel(uint64_t handle);
  void at(const sc_core::sc_time& t, Fn fn, void* ctx, uint64_t arg = 0) { at_ps(to_ps(t), fn, ctx, arg); }
  void after(const sc_core::sc_time& d, Fn fn, void* ctx, uint64_t arg = 0) {
    at_ps(now_ps() + to_ps(d), fn, ctx, arg);
  }
  // Member-function form: q.at<&Nic::on_tx_done>(t, this, arg).
  template <auto MemFn, class T>
  uint64_t at(const sc_core::sc_time& t, T* obj, uint64_t arg = 0) {
    return at_ps(to_ps(t), &thunk<MemFn, T>, obj, arg);
  }
  template <auto MemFn, class T>
  uint64_t at_ps(uint64_t t_ps, T* obj, uint64_t arg = 0) {
    return at_ps(t_ps, &thunk<MemFn, T>, obj, arg);
  }
  template <auto MemFn, class T>
  uint64_t after(const sc_core::sc_time& d, T* obj, uint64_t arg = 0) {
    return at_ps(now_ps() + to_ps(d), &thunk<MemFn, T>, obj, arg);
  }

  // Drops every scheduled callback (a fuzzer's return to power-on between inputs). Never call
  // it from inside a callback.
  void clear();

  std::size_t pending() const { return items_.size(); }
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
  // Strict order of runs: time, then scheduling order ((t_ps, seq) is unique). One 128-bit
  // comparison, no branches.
  static bool before(const Item& a, const Item& b) {
    __extension__ using U128 = unsigned __int128;
    return ((U128{a.t_ps} << 64) | a.seq) < ((U128{b.t_ps} << 64) | b.seq);
  }
  void fire();
  void arm();

  // The pending callbacks sorted latest first: the next to run is at the back (taken in O(1)).
  // A new callback is placed by a scan from the back, which passes only the callbacks due
  // before it: measured over the bench scenarios (device pair and driver hosts, 6 to 100
  // pending) 1.3 to 2.4 of them on average, fewer steps than a binary heap's sift.
  std::vector<Item> items_;
  uint64_t seq_ = 0;
  uint64_t fired_ = 0;
  uint64_t cur_ps_ = 0;  // time of the last callback run
  uint64_t quantum_ps_ = 0;
  uint64_t barrier_ps_ = UINT64_MAX;
  uint64_t armed_ps_ = UINT64_MAX;
  bool in_fire_ = false;
  sc_core::sc_event ev_;
};

// Stops with a clear message if the kernel's time resolution is not 1 ps.
void init_time();

}  // namespace vnic::hw

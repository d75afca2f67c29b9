// The TX watchdog (dev_watchdog in net/sched/sch_generic.c): while the device is up it looks
// every watchdog_timeo; a TX queue stopped (by the driver or by BQL) with no packet handed to
// the driver for longer than watchdog_timeo is a timeout, reported to ndo_tx_timeout.
// Unlike the kernel's timer it sleeps while the device has nothing to send (idle() cancels it,
// the next transmit arms it), so an idle simulation ends; a stall is still reported within
// 1-2 timeouts of its start.
#pragma once

#include <cstdint>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/netdev.hpp"

namespace vnic::stack {

class TxWatchdog {
 public:
  TxWatchdog(Cpu& cpu, NetDevice& dev) : cpu_(cpu), dev_(dev) {}
  // dev_watchdog_up / dev_watchdog_down.
  void start() {
    ++gen_;
    armed_ = false;
    kick();
  }
  void stop() {
    ++gen_;
    if (armed_) cpu_.cancel(timer_);
    armed_ = false;
  }
  // Nothing in flight and the queue running: no stall can start until the next transmit.
  void idle() {
    if (!armed_) return;
    cpu_.cancel(timer_);
    armed_ = false;
  }
  // A packet was handed to the driver: make sure the timer runs.
  void kick() {
    if (armed_) return;
    armed_ = true;
    timer_ = cpu_.call_at(cpu_.now() + dev_.watchdog_timeo, &TxWatchdog::fire, this, gen_);
  }
  uint64_t timeouts() const { return timeouts_; }

 private:
  static void fire(void* ctx, uint64_t gen) {
    auto& w = *static_cast<TxWatchdog*>(ctx);
    if (gen != w.gen_ || !w.dev_.up) return;  // stopped (or restarted) since
    const Duration stalled = w.cpu_.now() - w.dev_.trans_start;
    if (w.dev_.netif_xmit_stopped() && stalled > w.dev_.watchdog_timeo) {
      ++w.timeouts_;
      w.dev_.trans_start = w.cpu_.now();  // as the core does after a timeout: one report per stall
      w.dev_.tx_timeout(stalled);
    }
    w.armed_ = false;
    if (gen == w.gen_ && w.dev_.tx_pending()) w.kick();
  }
  Cpu& cpu_;
  NetDevice& dev_;
  uint64_t gen_ = 0;
  uint64_t timeouts_ = 0;
  bool armed_ = false;
  uint64_t timer_ = 0;
};

}  // namespace vnic::stack

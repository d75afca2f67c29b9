// softnet_data and NET_RX_SOFTIRQ: the per-CPU poll list, net_rx_action with netdev_budget and
// netdev_budget_usecs, the backlog NAPI (netif_rx, dev_weight, netdev_max_backlog), the receive
// hand-off (netif_receive_skb) and /proc/net/softnet_stat, as Linux 6.1 does them.
#pragma once

#include <cstdint>
#include <string>

#include "vnic/stack/co.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/trace.hpp"

namespace vnic::stack {

// The net.core sysctls of this loop, with Linux 6.1's defaults.
struct NetCoreSysctls {
  int netdev_budget = 300;
  uint32_t netdev_budget_usecs = 2 * 1000'000 / kHz;  // 2 jiffies: 8000 us at HZ=250
  int dev_weight = 64;                                 // the backlog NAPI's quota
  int dev_weight_rx_bias = 1;
  int dev_weight_tx_bias = 1;
  uint32_t netdev_max_backlog = 1000;
  // Socket buffers (bytes of skb truesize): a socket's initial sk_rcvbuf / sk_sndbuf, and the
  // most SO_RCVBUF / SO_SNDBUF may ask for (before Linux doubles it). 6.1: SK_RMEM_MAX =
  // SK_WMEM_MAX = _SK_MEM_OVERHEAD x _SK_MEM_PACKETS = SKB_TRUESIZE(256) x 256 = 832 x 256.
  uint32_t rmem_default = 212992, rmem_max = 212992;
  uint32_t wmem_default = 212992, wmem_max = 212992;
};

struct SoftnetStats {
  // The columns of /proc/net/softnet_stat (u32 in the kernel; printed modulo 2^32).
  uint64_t processed = 0;     // skbs through __netif_receive_skb_core
  uint64_t dropped = 0;       // netif_rx drops: the input backlog held more than netdev_max_backlog
  uint64_t time_squeeze = 0;  // net_rx_action stopped with work left (budget or time)
  uint64_t received_rps = 0;
  uint64_t flow_limit_count = 0;
  // Beyond softnet_stat (the model's own, for reports and tests).
  uint64_t net_rx_action = 0;       // softirq runs
  uint64_t squeeze_budget = 0;      // time_squeeze because netdev_budget ran out
  uint64_t squeeze_time = 0;        // ... because netdev_budget_usecs passed
  uint64_t rx_nohandler = 0;        // no protocol handler: dropped (dev->rx_nohandler in Linux)
};

class Softnet {
 public:
  // The protocol layer: takes ownership of the skb (the stack issue plugs ip_rcv etc. here).
  using RxHandler = void (*)(void* ctx, SkBuff* skb);

  Softnet(Cpu& cpu, const NetCoreSysctls& sysctls);
  Softnet(const Softnet&) = delete;
  Softnet& operator=(const Softnet&) = delete;

  Cpu& cpu() { return cpu_; }
  NetCoreSysctls& sysctls() { return sys_; }
  void set_rx_handler(RxHandler fn, void* ctx) {
    rx_fn_ = fn;
    rx_ctx_ = ctx;
  }
  // NAPI polls, softirq raises, backlog and stack hand-offs go to `sink` (nullptr: off).
  void set_trace(TraceSink* sink, const char* source) {
    trace_ = sink;
    trace_source_ = source;
  }

  // NAPI, as drivers call it.
  void netif_napi_add(Napi& n, Napi::PollFn poll, void* owner, int weight = 64);
  void napi_enable(Napi& n);
  // Waits (sleeping) until a running poll has finished, then keeps the NAPI off the poll list.
  Co<void> napi_disable(Napi& n);
  // From the hard IRQ handler: put n on this CPU's poll list and raise NET_RX_SOFTIRQ (a no-op if
  // it is already scheduled, except that a running poll is told to look again).
  void napi_schedule(Napi& n);
  // From poll(), when it did less than its budget: false if it must stay scheduled (a napi_schedule
  // came in while polling, or disable is pending); true: the driver may re-enable its interrupt.
  bool napi_complete_done(Napi& n, int work_done);

  // Receive hand-offs.
  void netif_receive_skb(SkBuff* skb);
  // napi_gro_receive (stack/src/core/gro.cpp): TCP/IPv4 segments of one flow that follow each
  // other are merged into one skb (dev_gro_receive, inet_gro_receive, tcp4_gro_receive), held
  // until a segment that cannot join, a short or pushed segment, 64 KiB, or the end of the poll
  // (napi_complete_done, or a poll that used its whole weight: napi_gro_flush). Anything else,
  // or a device with GRO off (dev->gro false), goes up as it came. Everything goes up through
  // napi->rx_list, gro_normal_batch (8) segments at a time.
  void napi_gro_receive(Napi& n, SkBuff* skb);
  void napi_gro_flush(Napi& n);
  void gro_normal_list(Napi& n);
  uint32_t gro_normal_batch = 8;  // net.core.gro_normal_batch
  // Queue to this CPU's input backlog (processed by the backlog NAPI): 0 NET_RX_SUCCESS,
  // 1 NET_RX_DROP (counted in `dropped`).
  int netif_rx(SkBuff* skb);

  const SoftnetStats& stats() const { return stats_; }
  uint32_t backlog_len() const { return input_.size() + process_.size(); }
  // One line of /proc/net/softnet_stat as Linux 6.1 prints it (13 hex columns).
  std::string softnet_stat_line() const;

 private:
  static void net_rx_action_thunk(void* ctx, uint64_t) { static_cast<Softnet*>(ctx)->net_rx_action(); }
  void net_rx_action();
  int napi_poll(Napi& n, bool* repoll);
  static int process_backlog(Napi* n, int quota);
  void gro_normal_one(Napi& n, SkBuff* skb, uint32_t segs);
  void gro_complete(Napi& n, SkBuff* skb);
  void gro_flush_held(Napi& n, unsigned i);
  void list_add_tail(Napi& n);

  Cpu& cpu_;
  NetCoreSysctls sys_;
  RxHandler rx_fn_ = nullptr;
  void* rx_ctx_ = nullptr;
  TraceSink* trace_ = nullptr;
  void emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet, model::Step step) {
    if (trace_ == nullptr) [[likely]] return;
    const uint64_t t = static_cast<uint64_t>(cpu_.now().ps());
    trace_->trace(trace_source_, TraceEvent{t, t, k, step, static_cast<uint16_t>(cpu_.id()), a, b, packet});
  }
  void emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet) { emit(k, a, b, packet, model::default_step(k)); }
  const char* trace_source_ = "";
  Napi* poll_head_ = nullptr;  // sd->poll_list
  Napi* poll_tail_ = nullptr;
  Napi backlog_;
  SkbQueue input_;    // sd->input_pkt_queue
  SkbQueue process_;  // sd->process_queue
  SoftnetStats stats_;
};

}  // namespace vnic::stack

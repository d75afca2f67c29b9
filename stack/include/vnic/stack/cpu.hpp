// The host CPU as kernel code sees it: a local clock that runs while code charges its cost, softirqs
// and deferred work. The platform (testbench/) implements it; stack/ and driver/ only call it.
#pragma once

#include <cstdint>

#include "vnic/model/units.hpp"

namespace vnic::stack {

using model::Duration;
using model::Instant;

// Debian 12's kernel is built with HZ=250: one jiffy is 4 ms.
inline constexpr int64_t kHz = 250;
inline constexpr Duration kJiffy = Duration::us(1000'000 / kHz);
inline constexpr uint64_t jiffies(Instant t) { return static_cast<uint64_t>(t.ps() / kJiffy.ps()); }
// usecs_to_jiffies(): rounds up, as the kernel does.
inline constexpr uint64_t usecs_to_jiffies(uint64_t us) {
  return (us + static_cast<uint64_t>(kJiffy.ps() / 1000'000) - 1) / static_cast<uint64_t>(kJiffy.ps() / 1000'000);
}

// What each operation costs the CPU that runs it (docs/host.md has the table and the sources).
// The defaults are round figures for a ~3 GHz server core; every one is a scenario key.
struct CpuCosts {
  Duration hardirq = Duration::ns(600);        // MSI-X entry, handler prologue/epilogue, EOI, exit
  Duration softirq = Duration::ns(100);        // __do_softirq entry and the net_rx_action set-up
  Duration napi_poll = Duration::ns(150);      // one ->poll() call: locks, ring state, GRO flush
  Duration rx_packet = Duration::ns(80);      // driver: read the descriptor, sync, build the skb
  Duration skb_alloc = Duration::ns(50);       // napi_alloc_skb / alloc_skb
  Duration skb_free = Duration::ns(30);        // kfree_skb / napi_consume_skb
  Duration copy_per_kib = Duration::ns(60);    // memcpy of packet data (~17 GB/s)
  Duration rx_refill = Duration::ns(20);       // one RX descriptor written back to the device
  Duration netif_receive = Duration::ns(150);  // __netif_receive_skb to the protocol hand-off
  Duration tx_xmit = Duration::ns(200);        // ndo_start_xmit: descriptors, queue checks
  Duration dma_map = Duration::ns(40);         // dma_map_single / dma_unmap_single, each
  Duration tx_clean = Duration::ns(50);        // one TX completion cleaned
  Duration mmio_write = Duration::ns(100);     // a posted UC store; the CPU goes on
  Duration mmio_read = Duration::ns(1000);     // non-posted: the CPU stalls for the round trip
  Duration pktgen = Duration::ns(150);         // pktgen: build one packet (beyond skb_alloc)
  Duration dev_queue_xmit = Duration::ns(100); // dev_queue_xmit: device and queue checks, the qdisc lock
  Duration qdisc = Duration::ns(50);           // a qdisc's enqueue + dequeue of one packet
  Duration ip_rcv = Duration::ns(200);         // ip_rcv_core's checks + ip_route_input_noref (FIB lookup)
  Duration ip_local_deliver = Duration::ns(60);  // ip_local_deliver(_finish): inet_protos dispatch
  Duration ip_output = Duration::ns(250);      // IP header + route output + neighbour output + eth header
  Duration tc_ingress = Duration::ns(100);     // sch_handle_ingress: one classify pass over the filters
  Duration tap = Duration::ns(150);            // one ptype_all tap: skb_clone + packet_rcv
  Duration icmp = Duration::ns(300);           // icmp_rcv/icmp_reply or icmp_send: build and checksum one message
  Duration ip_forward = Duration::ns(200);     // ip_forward + ip_forward_finish + ip_output: TTL, checksum, neighbour output
  Duration nf_hook = Duration::ns(60);         // one netfilter hook with a table loaded: the walk of its rules
  Duration ip_fragment = Duration::ns(120);    // ip_do_fragment: one fragment's skb and header (its bytes: copy_per_kib)
  Duration ip_defrag = Duration::ns(100);      // ip_defrag: find the queue, insert one fragment
  Duration gro_receive = Duration::ns(60);     // napi_gro_receive: one segment's flow lookup and header checks (a merge's bytes: copy_per_kib)
  // Sockets and applications (issue "Protocol stack, part 2").
  Duration syscall = Duration::ns(100);        // a system call's entry and exit (sendmsg, recvmsg, epoll_wait, ...)
  Duration udp_sendmsg = Duration::ns(250);    // udp_sendmsg: checks, route lookup, skb and UDP header (its bytes: copy_per_kib)
  Duration udp_rcv = Duration::ns(150);        // udp_rcv: checksum state, socket lookup, enqueue
  Duration sock_recvmsg = Duration::ns(150);   // udp_recvmsg: dequeue, addresses, free (its bytes: copy_per_kib)
  Duration wakeup = Duration::ns(400);         // try_to_wake_up from sk_data_ready / sk_write_space / an epoll callback
  Duration context_switch = Duration::ns(1500);  // a task switched in on its CPU after a wake-up
  Duration epoll_wait = Duration::ns(150);     // ep_poll: the ready list, copying events out (per call)
};

enum class Softirq : uint8_t { NetTx = 2, NetRx = 3 };  // Linux's numbers (HI 0, TIMER 1, ...)

class Cpu {
 public:
  using Fn = void (*)(void* ctx, uint64_t arg);
  virtual ~Cpu() = default;

  virtual unsigned id() const = 0;
  // The CPU's local time: the time of the code running now, including what it has charged.
  virtual Instant now() const = 0;
  // Time spent by the code running now (advances now()).
  virtual void charge(Duration d) = 0;
  virtual const CpuCosts& costs() const = 0;
  // Softirqs: a handler per number; raise runs it after the current hard IRQ or task.
  virtual void open_softirq(Softirq nr, Fn fn, void* ctx) = 0;
  virtual void raise_softirq(Softirq nr) = 0;
  // Runs fn(ctx, arg) in process context on this CPU at `when` or as soon after as the CPU is free
  // (timers, work items, resuming a sleeping task). Returns a handle for cancel().
  virtual uint64_t call_at(Instant when, Fn fn, void* ctx, uint64_t arg = 0) = 0;
  // del_timer: the call will not run (no effect if it already ran).
  virtual void cancel(uint64_t handle) = 0;
};

}  // namespace vnic::stack

// The ICMP datagram ("ping") socket of net/ipv4/ping.c, Linux 6.1: socket(AF_INET, SOCK_DGRAM,
// IPPROTO_ICMP). Bind an identifier (ping_get_port), send echo requests (ping_v4_sendmsg), receive
// echo replies by identifier (ping_rcv) and ICMP errors about the socket's requests on the error
// queue (ping_err with IP_RECVERR), and a blocking wait for either as a coroutine awaitable.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

class NetStack;
class Icmp;

// What recvmsg(MSG_ERRQUEUE) returns for an ICMP error (struct sock_extended_err with
// SO_EE_ORIGIN_ICMP, SO_EE_OFFENDER, the msg_name and the quoted header ip_icmp_error keeps).
struct PingErrMsg {
  int ee_errno = 0;            // EHOSTUNREACH, ECONNREFUSED, EPROTO, ... (icmp_err_convert)
  uint8_t ee_type = 0;         // the error's ICMP type and code
  uint8_t ee_code = 0;
  uint32_t ee_info = 0;        // next-hop MTU (fragmentation needed), parameter problem pointer
  wire::Ipv4Addr offender;     // who sent the error (its IP source)
  wire::Ipv4Addr target;       // msg_name: the quoted datagram's destination
  uint8_t quoted_type = 0;     // the quoted ICMP header: echo request, its id and sequence
  uint16_t quoted_ident = 0;
  uint16_t quoted_seq = 0;
  uint64_t packet = 0;         // the error's packet id
};

// One echo reply read with recvmsg: the ICMP message, its source (msg_name), IP_RECVTTL's TTL
// and SO_TIMESTAMP's time (the skb's receive stamp).
struct PingMsg {
  std::vector<uint8_t> icmp;
  wire::Ipv4Addr from;
  int ttl = 0;
  Instant stamp{};
  uint64_t packet = 0;
};

// struct sock of a ping socket: what of inet_sock and sock the model uses.
struct PingSock {
  uint16_t ident = 0;             // inet_num (the echo identifier); 0 until bound
  wire::Ipv4Addr rcv_saddr;       // bind() address (0: any)
  int bound_dev_if = 0;           // SO_BINDTODEVICE
  int ttl = -1;                   // IP_TTL (-1: ip_default_ttl)
  uint8_t tos = 0;                // IP_TOS
  bool recverr = false;           // IP_RECVERR: ICMP errors go to the error queue
  bool broadcast = false;         // SO_BROADCAST
  uint32_t rcvbuf = 212992;       // sk_rcvbuf (net.core.rmem_default)
  uint32_t rmem_alloc = 0;        // sk_rmem_alloc: truesize of what is queued
  uint64_t drops = 0;             // sk_drops
  int sk_err = 0;                 // the last error (sock_error clears it)
  SkbQueue receive_queue;
  std::deque<std::pair<SkBuff*, PingErrMsg>> error_queue;
  // A task blocked in wait().
  std::coroutine_handle<> waiter{};
  Cpu* waiter_cpu = nullptr;
  uint64_t waiter_timer = 0;     // the timeout's call handle
  uint64_t waiter_wake = 0;      // the wake-up's call handle
  uint64_t wait_seq = 0;         // which wait a timer or wake-up belongs to
  bool waiter_woken = false;
};

// The ping sockets of one host (ping_table, per namespace) and ping.c's entry points.
class PingSockets {
 public:
  PingSockets(NetStack& net, Icmp& icmp);
  ~PingSockets();
  PingSockets(const PingSockets&) = delete;
  PingSockets& operator=(const PingSockets&) = delete;

  // socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) and close().
  PingSock* socket();
  void close(PingSock* sk);
  // bind(): ident 0 picks a free one from the rover as ping_get_port does (1, 2, ...);
  // -EADDRINUSE if taken, -EINVAL if already bound.
  int bind(PingSock& sk, uint16_t ident, wire::Ipv4Addr addr = {});

  // ping_v4_sendmsg: an echo request (type 8 code 0, the socket's identifier, `seq`, `data` after
  // the 8-byte header) to `daddr`. Binds on first use (inet_autobind). Returns 0 or -errno:
  // -EMSGSIZE (over 65535 bytes), -ENETUNREACH and the route's other errors (OutNoRoutes for
  // -ENETUNREACH), -EACCES (a broadcast without SO_BROADCAST), -ENOBUFS (no skb, or the
  // qdisc dropped it), what ip_send returns. egress 1 on the way out; `packet_out` gets the id.
  int sendmsg(Cpu& cpu, PingSock& sk, wire::Ipv4Addr daddr, uint16_t seq, std::span<const uint8_t> data,
              uint64_t* packet_out = nullptr);
  // recvmsg(MSG_DONTWAIT): the next echo reply (ingress 24; the packet is consumed), or none.
  std::optional<PingMsg> recvmsg(Cpu& cpu, PingSock& sk);
  // recvmsg(MSG_ERRQUEUE | MSG_DONTWAIT): the next ICMP error (ingress 24, consumed), or none.
  std::optional<PingErrMsg> recv_errqueue(Cpu& cpu, PingSock& sk);

  // Blocks the calling task until the socket has something to read (a datagram, an error) or
  // `until` passes (SO_RCVTIMEO / poll timeout): co_await sockets.wait(cpu, sk, until). The
  // wake-up is a call on `cpu` (sk_data_ready -> the task runs when the CPU gets to it).
  struct WaitAwaiter {
    PingSockets& p;
    PingSock& sk;
    Cpu& cpu;
    Instant until;
    bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h);
    void await_resume() const noexcept {}
  };
  WaitAwaiter wait(Cpu& cpu, PingSock& sk, Instant until) { return WaitAwaiter{*this, sk, cpu, until}; }
  static bool readable(const PingSock& sk) { return !sk.receive_queue.empty() || !sk.error_queue.empty(); }
  // A signal for the task blocked in wait() on `sk` (its wait ends at once, as EINTR would).
  void interrupt(PingSock& sk) { wake(sk); }

  // From icmp_rcv (the receive CPU). ping_rcv: an echo reply; the socket of its identifier gets
  // it (ingress 20, 22, 23) and nullopt is returned (the skb is the socket's now), else the drop
  // reason for icmp_rcv to free it with (NO_SOCKET, SOCKET_RCVBUFF).
  std::optional<SkbDropReason> ping_rcv(SkBuff* skb);
  // ping_err: an ICMP error quoting an echo request (skb->data at the quoted IP header, the ICMP
  // header at the transport header). True if the socket took the skb onto its error queue;
  // false: icmp_rcv consumes it (no socket, not an echo, or no IP_RECVERR).
  bool ping_err(SkBuff* skb, int offset, uint32_t info);

  PingSock* lookup(uint16_t ident, wire::Ipv4Addr daddr);  // ping_lookup
  std::size_t size() const { return socks_.size(); }

 private:
  void wake(PingSock& sk);  // sk_data_ready / sk_error_report
  static void wake_cb(void* ctx, uint64_t arg);
  static void timeout_cb(void* ctx, uint64_t arg);
  void free_queues(PingSock& sk, bool trace);

  NetStack& net_;
  Icmp& icmp_;
  std::vector<std::unique_ptr<PingSock>> socks_;
  std::map<uint16_t, PingSock*> by_ident_;
  uint16_t rover_ = 0;  // ping_port_rover
};

}  // namespace vnic::stack

// struct sock, the protocol-independent part of a socket (include/net/sock.h, net/core/sock.c,
// net/core/datagram.c of Linux 6.1): the receive and send buffer sizes and their accounting by
// skb truesize, SO_RCVBUF/SO_SNDBUF, the pending error, the wait queue with the three callbacks
// that wake it (sk_data_ready, sk_write_space, sk_error_report), datagram_poll, and the blocking
// wait of a task as a coroutine awaitable. UDP (udp.hpp) builds its socket on it.
#pragma once

#include <coroutine>
#include <cstdint>
#include <limits>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/fib.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/sock_wait.hpp"

namespace vnic::stack {

class NetStack;

struct NetCoreSysctls;

// errno values (asm-generic/errno.h) the socket calls return negated, beyond those of fib.hpp,
// net.hpp and netdev.hpp.
inline constexpr int kEAGAIN = 11, kEADDRINUSE = 98, kEDESTADDRREQ = 89,
                     kECONNREFUSED = 111, kEAFNOSUPPORT = 97, kEBADF = 9;
// msg flags (include/linux/socket.h).
inline constexpr int kMsgPeek = 0x2, kMsgTrunc = 0x20, kMsgDontwait = 0x40;

// SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (include/net/sock.h): TCP_SKB_MIN_TRUESIZE = 2048 +
// SKB_DATA_ALIGN(sizeof(struct sk_buff)) = 2304, the send minimum twice that.
inline constexpr uint32_t kSockMinRcvbuf = 2048 + skb_data_align(kSizeofSkBuff);
inline constexpr uint32_t kSockMinSndbuf = 2 * kSockMinRcvbuf;
inline constexpr Instant kNever = Instant::from_ps(std::numeric_limits<int64_t>::max());  // no timeout
inline constexpr uint32_t kSkMemQuantum = kPageSize;  // SK_MEM_QUANTUM: forward allocation in pages

// TCP_* states as sk_state holds them for a datagram socket: CLOSE, or ESTABLISHED once connected.
enum class SkState : uint8_t { Established = 1, Close = 7 };

struct Sock : Pollable {
  Sock() = default;
  Sock(const Sock&) = delete;
  Sock& operator=(const Sock&) = delete;
  ~Sock() override = default;

  SkState state = SkState::Close;
  uint32_t rcvbuf = 212992;       // sk_rcvbuf (net.core.rmem_default at socket())
  uint32_t sndbuf = 212992;       // sk_sndbuf (net.core.wmem_default)
  bool rcvbuf_locked = false;     // SOCK_RCVBUF_LOCK: set by SO_RCVBUF
  bool sndbuf_locked = false;     // SOCK_SNDBUF_LOCK
  uint32_t rmem_alloc = 0;        // sk_rmem_alloc: truesize charged to the receive side
  uint32_t wmem_alloc = 0;        // sk_wmem_alloc less its initial 1 (sk_wmem_alloc_get)
  int64_t forward_alloc = 0;      // sk_forward_alloc: receive memory reserved in pages, not yet used
  uint32_t wmem_queued = 0;       // sk_wmem_queued (stream sockets; 0 for UDP)
  uint64_t drops = 0;             // sk_drops
  int err = 0;                    // sk_err (positive errno; sock_error() reads and clears it)
  bool nospace = false;           // SOCK_NOSPACE: a sender found the send buffer full
  bool reuse = false;             // SO_REUSEADDR (sk_reuse)
  bool broadcast = false;         // SO_BROADCAST
  int bound_dev_if = 0;           // SO_BINDTODEVICE
  Duration rcvtimeo{};            // SO_RCVTIMEO (0: wait forever)
  Duration sndtimeo{};            // SO_SNDTIMEO
  SkbQueue receive_queue;         // sk_receive_queue
  Cpu* softirq_cpu = nullptr;     // where the stack's wakes come from (the receive CPU)
  bool dead = false;              // closed while sends were in flight: sock_wfree frees it last

  // sock_error: the pending error as -errno, cleared; 0 if none.
  int sock_error() {
    const int e = err;
    err = 0;
    return -e;
  }
  // sock_writeable: refcount(sk_wmem_alloc) < sk_sndbuf / 2 (the refcount is wmem_alloc + 1).
  bool writeable() const { return wmem_alloc + 1 < (sndbuf >> 1); }

  // datagram_poll: EPOLLERR with a pending error, EPOLLIN|RDNORM with a queued skb,
  // EPOLLOUT|WRNORM|WRBAND when writeable. Protocols add their own (udp_poll).
  uint32_t poll_mask() const override;
  WaitQueue& wait_queue() override { return wq; }

  // The callbacks, with the keys Linux wakes with (sock_def_readable, sock_def_write_space,
  // sock_def_error_report). Each wakes only if someone waits; returns whether anyone did.
  bool data_ready(Cpu& waker);
  bool write_space(Cpu& waker);
  bool error_report(Cpu& waker);

  WaitQueue wq;                   // sk->sk_wq->wait (wakes tell it the waker's CPU)
};

// setsockopt(SO_RCVBUF / SO_SNDBUF): min(val as u32, rmem_max / wmem_max), doubled, at least
// SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (sock_setsockopt, __sock_set_rcvbuf). SO_SNDBUF calls
// sk_write_space. getsockopt returns the doubled value.
void sock_set_rcvbuf(Sock& sk, int val, const NetCoreSysctls& core);
void sock_set_sndbuf(Sock& sk, int val, const NetCoreSysctls& core, Cpu& cpu);
// The same without the sk_write_space call, for a socket whose sk_write_space is not
// sock_def_write_space (TCP's is sk_stream_write_space: its caller wakes).
void sock_set_sndbuf_value(Sock& sk, int val, const NetCoreSysctls& core);

// __skb_queue_purge as a socket's destructor runs it (inet_sock_destruct): every skb still on
// `q` freed. With `trace`, each is a drop of the packet (NOT_SPECIFIED at ingress 22: the
// application closed the socket without reading it); without, freed silently (a teardown after
// the run, when the trace's sink may be gone).
void sock_queue_purge(NetStack& net, SkbQueue& q, bool trace);

// skb_set_owner_w: charge skb->truesize to sk's send buffer until the skb is freed; the
// destructor (sock_wfree) gives it back and calls sk_write_space.
void skb_set_owner_w(SkBuff* skb, Sock& sk);
void sock_wfree(SkBuff* skb);

// A task blocked on a socket: co_await SockWait{sk, cpu, until}. The task waits on sk's wait
// queue until a wake with any of `events` (or any wake when the key is 0) or `until` passes
// (kNever: no timeout). The wake-up is a call on the task's CPU, not before the waker's time;
// the task is charged CpuCosts::wakeup and context_switch when it runs.
// await_resume: false when the socket was closed under the wait (a wake with kPollFree: the
// socket is gone, the caller returns -EBADF without touching it), true otherwise (woken or timed
// out; the caller tries again). Linux keeps a socket alive while a call blocks in it (the call
// holds the file); the model frees it at close(), so the blocked call ends with EBADF, as a
// call made after the close would.
struct SockWait {
  Sock& sk;
  Cpu& cpu;
  Instant until;
  uint32_t events = 0;
  // state while suspended
  std::coroutine_handle<> h{};
  uint64_t entry = 0;
  uint64_t timer = 0;
  bool has_timer = false;
  uint64_t resume_call = 0;
  bool woken = false;
  bool done = false;
  bool freed = false;  // the socket was closed under the wait

  SockWait(Sock& s, Cpu& c, Instant u, uint32_t ev) : sk(s), cpu(c), until(u), events(ev) {}
  // A task destroyed while it waits (its TaskScope torn down) leaves the queue and its calls.
  ~SockWait();
  SockWait(const SockWait&) = delete;
  SockWait& operator=(const SockWait&) = delete;
  bool await_ready() const noexcept { return cpu.now() >= until; }
  void await_suspend(std::coroutine_handle<> handle);
  bool await_resume() const noexcept { return !freed; }

 private:
  static void on_wake(void* ctx, uint32_t key);
  static void on_resume(void* ctx, uint64_t);
  static void on_timeout(void* ctx, uint64_t);
};

}  // namespace vnic::stack

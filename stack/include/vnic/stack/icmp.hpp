// ICMP for IPv4 (net/ipv4/icmp.c, Linux 6.1): the Icmp and IcmpMsg MIB and their /proc/net/snmp
// rows, the sysctls, the two rate limits of icmp_send (icmp_global_allow's token bucket and the
// per-destination inet_peer_xrlim_allow), icmp_rcv with its handlers (echo, echo reply to the ping
// sockets, errors to the ping socket of the quoted request) and icmp_send for error messages.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/fib.hpp"
#include "vnic/stack/inetpeer.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/wire/icmp.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

class NetStack;
class PingSockets;

// icmp_err_convert[] (net/ipv4/icmp.c): for a Destination Unreachable's code (0..15), the errno
// (positive) a socket reports and whether RFC 1122 calls it fatal (a hard error).
struct IcmpErrConvert {
  int err;
  bool fatal;
};
IcmpErrConvert icmp_err_convert(uint8_t code);

// ------------------------------------------------------------------------------ MIB

// ICMP_MIB_* (include/uapi/linux/snmp.h at v6.1) that 6.1's code increments, and the ICMPMSG
// counters: one per type and direction (ICMPMSG_MIB_MAX 512: In at [type], Out at [0x100|type]).
struct IcmpMib {
  uint64_t InMsgs = 0, InErrors = 0, InCsumErrors = 0, OutMsgs = 0, OutErrors = 0;
  // ICMP_MIB_INTIMEEXCDS: icmp_unreach increments it, but /proc/net/snmp's InTimeExcds column
  // prints the IcmpMsg counter of type 11, so this one is nowhere to be seen (as in Linux).
  uint64_t InTimeExcdsMib = 0;
  std::array<uint64_t, 512> msg{};
  // The model's own: messages the global bucket / a destination's peer refused. 6.1 counts these
  // nowhere; from 6.8 on Linux has OutRateLimitGlobal / OutRateLimitHost for the same events.
  // Not in the 6.1 row; icmp_ratelimit_report() prints them on a line of their own.
  uint64_t RateLimitGlobal = 0, RateLimitHost = 0;

  uint64_t in_type(uint8_t t) const { return msg[t]; }
  uint64_t out_type(uint8_t t) const { return msg[0x100u | t]; }
};

// icmp_out_count: ICMPMSGOUT_INC_STATS(type) and ICMP_MIB_OUTMSGS (a message handed to IP).
inline void icmp_out_count(IcmpMib& m, uint8_t type) {
  ++m.msg[0x100u | type];
  ++m.OutMsgs;
}

// The "Icmp:" header and value lines of /proc/net/snmp as 6.1's icmp_put prints them (InMsgs
// InErrors InCsumErrors, the eleven In<type> columns from the IcmpMsg counters, OutMsgs OutErrors,
// the eleven Out<type> columns), then the "IcmpMsg:" pairs of icmpmsg_put: every non-zero
// counter, In types then Out types in index order, 16 to a pair of lines; none if all are zero.
std::string proc_net_snmp_icmp(const IcmpMib& m);
// "IcmpRateLimit(model): OutRateLimitGlobal N OutRateLimitHost M": not a Linux 6.1 line.
std::string icmp_ratelimit_report(const IcmpMib& m);

// The sysctls (net.ipv4.icmp_*) live in NetStack's Ipv4Sysctls with 6.1's defaults and are read
// at each use, so a test or scenario can change them at run time.

// ------------------------------------------------------------------------------ rate limits

// prandom_u32 from a seeded SplitMix64: same seed, same draws.
class Prandom {
 public:
  explicit Prandom(uint64_t seed) : s_(seed) {}
  uint32_t u32();
  // prandom_u32_max(ceil): (u32)(((u64)prandom_u32() * ceil) >> 32), in [0, ceil).
  uint32_t u32_max(uint32_t ceil) { return static_cast<uint32_t>((uint64_t{u32()} * ceil) >> 32); }

 private:
  uint64_t s_;
};

// icmp_global: the host-wide token bucket (u32 credit and stamp in jiffies, as Linux's).
struct IcmpGlobal {
  uint32_t credit = 0;
  // Linux starts with stamp 0 while jiffies start at INITIAL_JIFFIES (-300 s): the first call sees
  // a full second elapsed and fills the bucket. Model jiffies start at 0, so the stamp starts a
  // second (HZ) before them to give the same first refill.
  uint32_t stamp = static_cast<uint32_t>(-kHz);
};
// icmp_global_allow (6.1): an empty bucket refills only once HZ/50 jiffies have passed, by
// msgs_per_sec * min(elapsed, HZ) / HZ (the stamp moves only if that is non-zero), capped at
// msgs_burst; a message is allowed if any credit is left, and takes prandom_u32_max(3) credits
// (0, 1 or 2; at most down to 0).
bool icmp_global_allow(IcmpGlobal& g, uint32_t now_jiffies, uint32_t msgs_per_sec, uint32_t msgs_burst,
                       Prandom& rng);
// icmpv4_mask_allow: true when a message is exempt from both limits: a type above 18, PMTU
// discovery's "fragmentation needed", or a type not in icmp_ratemask (echo replies by default).
bool icmpv4_mask_allow(uint32_t ratemask, uint8_t type, uint8_t code);
// msecs_to_jiffies, as proc_dointvec_ms_jiffies stores icmp_ratelimit: rounded up.
constexpr uint64_t msecs_to_jiffies(uint64_t ms) { return (ms * kHz + 999) / 1000; }

// ------------------------------------------------------------------------------ the protocol

// What icmp_send decided for one request (the model's account; Linux keeps none of this).
enum class IcmpSendVerdict : uint8_t {
  Sent,            // handed to IP
  NoHeader,        // the original's IP header is not inside the skb
  NotHost,         // pkt_type is not PACKET_HOST (a link-layer broadcast/multicast)
  BcastMcast,      // the original went to a broadcast/multicast address (RTCF_BROADCAST/MULTICAST)
  Fragment,        // not the first fragment
  AboutError,      // an error about an ICMP error (or about an ICMP type above 18)
  BadSource,       // the original's source is no unicast host (RFC 1122 3.2.2; see icmp.cpp)
  RateLimitGlobal, // icmpv4_global_allow refused
  NoRoute,         // no route back to the source (icmp_route_lookup failed)
  RateLimitHost,   // icmpv4_xrlim_allow refused
  TinyMtu,         // no room for even the original's header
  NoBuffer,        // no skb: OutErrors, as when ip_append_data fails
};

// An error handler of an IP protocol (inet_protos[proto]->err_handler): `skb->data` at the quoted
// IP header, the ICMP error's header at the transport header. True if it took the skb.
using IcmpErrHandler = bool (*)(void* ctx, SkBuff* skb, uint32_t info);

// One host's ICMP: the MIB, the rate-limit state and the ping sockets. Construction registers
// icmp_rcv for protocol 1 and icmp_send as the stack's ICMP error hook; the random credit draws
// come from a generator seeded with the stack's seed.
class Icmp {
 public:
  // The credit draws' generator is seeded with the stack's seed xor this.
  static constexpr uint64_t kRngSalt = 0x69636d70'67626c31ull;  // "icmpgbl1"
  explicit Icmp(NetStack& net);
  ~Icmp();
  Icmp(const Icmp&) = delete;
  Icmp& operator=(const Icmp&) = delete;

  // ingress 19, icmp_rcv (on cpus[0], the receive CPU): skb->data at the ICMP header, the network
  // and transport headers set, skb->len the ICMP message. Always takes the skb: consumed (used),
  // queued on a ping socket, or dropped with its reason.
  void icmp_rcv(SkBuff* skb);
  // __icmp_send: a message about `in`, whose network header is the offending datagram (not
  // taken). `info` is the header's second word (the next-hop MTU for fragmentation needed, the
  // pointer << 24 for a parameter problem).
  IcmpSendVerdict icmp_send(Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info = 0);
  // inet_protos[proto]->err_handler for errors quoting protocol `proto` (ICMP's own is icmp_err).
  void add_err_handler(uint8_t proto, IcmpErrHandler fn, void* ctx);

  IcmpMib& mib() { return mib_; }
  const IcmpMib& mib() const { return mib_; }
  std::string proc_net_snmp_icmp() const { return vnic::stack::proc_net_snmp_icmp(mib_); }
  const InetPeers& peers() const;  // the namespace's (NetStack::inet_peers)
  const IcmpGlobal& global() const { return global_; }
  PingSockets& ping() { return *ping_; }
  NetStack& net() { return net_; }

 private:
  // A handler's outcome: the skb used up (consume_skb), taken by a socket, or dropped.
  struct Rx {
    enum Kind : uint8_t { Consumed, Taken, Dropped } kind = Consumed;
    SkbDropReason reason = SkbDropReason::NotDroppedYet;
  };
  Rx icmp_echo(SkBuff* skb);
  Rx icmp_timestamp(SkBuff* skb);
  Rx icmp_unreach(SkBuff* skb);
  Rx icmp_redirect(SkBuff* skb);
  Rx icmp_socket_deliver(SkBuff* skb, uint32_t info);
  // icmp_reply: the answer to `req` (`head` as the ICMP header, then `data`).
  void icmp_reply(const SkBuff* req, std::span<const uint8_t> head, std::span<const uint8_t> data);
  bool global_allow(Cpu& cpu, uint8_t type, uint8_t code);
  bool xrlim_allow(Cpu& cpu, wire::Ipv4Addr daddr, RouteType rt_type, uint8_t type, uint8_t code);
  // icmp_push_reply: the message into a new skb (a new packet id), its checksum, icmp_out_count
  // (as __ip_make_skb counts), then ip_send. False (OutErrors) if no skb.
  bool push_reply(Cpu& cpu, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t tos, bool df,
                  std::span<const uint8_t> head, std::span<const uint8_t> body);
  static void rcv_cb(void* ctx, SkBuff* skb);
  static void send_cb(void* ctx, Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info);

  struct ErrHandler {
    IcmpErrHandler fn = nullptr;
    void* ctx = nullptr;
  };

  NetStack& net_;
  IcmpMib mib_;
  IcmpGlobal global_;
  Prandom rng_;
  std::unique_ptr<PingSockets> ping_;
  ErrHandler err_handlers_[256];
};

}  // namespace vnic::stack

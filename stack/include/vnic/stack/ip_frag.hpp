// IPv4 fragment reassembly state of one namespace, as Linux 6.1 keeps it: struct fqdir (the
// queues and the memory they hold, include/net/inet_frag.h), struct ipq per datagram
// (net/ipv4/ip_fragment.c) with its rb-tree of fragment "runs" (net/ipv4/inet_fragment.c), and
// the inet_peer counter ip_frag_too_far reads. NetStack::ip_defrag (ip_fragment.cpp) runs it.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/net.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

// inet_frag_queue::flags (include/net/inet_frag.h, 6.1).
inline constexpr uint8_t kInetFragFirstIn = 1, kInetFragLastIn = 2, kInetFragComplete = 4;
// enum ip_defrag_users: the model has only ip_local_deliver's (no conntrack, no AF_PACKET fanout).
inline constexpr uint32_t kIpDefragLocalDeliver = 0;
// ip4_frags.qsize = sizeof(struct ipq): 200 bytes on x86-64, charged to the memory in use for
// each queue from inet_frag_alloc to inet_frag_destroy (6.1's ipv4_frags_init_net says so:
// "sizeof(struct ipq) == 200").
inline constexpr uint32_t kIpqSize = 200;
// LL_RESERVED_SPACE of an Ethernet device: ((14 + 0) & ~15) + 16 (HH_DATA_MOD), the link-layer
// room ip_do_fragment's alloc_skb asks for beyond the fragment.
inline constexpr uint32_t kLlReservedSpaceEth = 16;

// The fragment queue's key (struct frag_v4_compare_key; vif is the l3mdev master, always 0 here).
struct IpFragKey {
  uint32_t saddr = 0;
  uint32_t daddr = 0;
  uint32_t user = kIpDefragLocalDeliver;
  uint16_t id = 0;
  uint8_t protocol = 0;
  auto operator<=>(const IpFragKey&) const = default;
};

// struct ipq. The fragments sit in `runs` as 6.1's rb-tree holds them: each node is a "run" of
// fragments appended back to back at the tail (FRAG_CB next_frag / frag_run_len); a fragment
// inserted anywhere else is a run of its own. Offsets and lengths are of the payload, in bytes.
struct IpFragQueue {
  struct Frag {
    SkBuff* skb;  // its data pulled to the payload and trimmed to it; the network header still set
    int offset;   // skb->ip_defrag_offset
  };
  struct Run {
    int len = 0;  // frag_run_len: the run's bytes
    std::vector<Frag> frags;
  };
  IpFragKey key;
  std::map<int, Run> runs;  // rb_fragments, by the run's first offset
  uint8_t flags = 0;        // kInetFragFirstIn | kInetFragLastIn | kInetFragComplete
  int len = 0;              // the datagram's payload length as known so far (q.len)
  int meat = 0;             // payload bytes queued (q.meat)
  uint16_t max_size = 0;    // the largest fragment seen (IP header + payload)
  uint16_t max_df_size = 0; // the largest fragment seen with DF set
  uint8_t ecn = 0;          // IPFRAG_ECN_* of every fragment, or-ed
  int iif = 0;              // the ifindex the last fragment came in on
  uint32_t rid = 0;         // the peer's fragment count when this queue last saw one (qp->rid)
  bool has_peer = false;    // qp->peer (taken when ipfrag_max_dist was not 0 at creation)
  Instant stamp{};          // q.stamp: the last fragment's tstamp, the datagram's
  uint64_t timer = 0;       // the cpus[0] call of ip_expire
  bool timer_armed = false;

  // q.fragments_tail: the fragment with the highest offset (nullptr: none queued).
  const Frag* tail() const { return runs.empty() ? nullptr : &runs.rbegin()->second.frags.back(); }
};

// struct fqdir: every queue of the namespace, and the memory they hold (frag_mem_limit: the
// queued fragments' truesize plus kIpqSize per queue).
struct IpFrags {
  struct Peer {
    uint32_t rid = 0;   // inet_peer::rid: fragments seen from this source
    uint32_t refs = 0;  // queues holding it
  };
  std::map<IpFragKey, std::unique_ptr<IpFragQueue>> queues;  // the rhashtable
  std::map<uint32_t, Peer> peers;  // inet_peer by source address (kept while a queue holds it:
                                   // a fresh one starting at 0 changes no answer of ip_frag_too_far)
  uint64_t mem = 0;
  // The model's own count: datagrams complete but longer than the largest skb the pool makes
  // (SkbPool::kLargeBuf less its headroom, 16 KiB), failed as ip_frag_reasm's out_nomem fails
  // them (ReasmFails). Linux builds a frag_list; this model returns one linear skb.
  uint64_t reasm_too_big = 0;
  Cpu::Fn expire = nullptr;  // ip_expire, set by NetStack::ip_frags_init (ctx: the NetStack)
};

// inet_frag_queue_insert (6.1) with RFC 5722 4 (as amended by Errata 3089): a fragment that
// overlaps queued data is an error for the whole datagram, except one that lies wholly inside a
// run already queued, which is a duplicate to ignore. On Ok the fragment is in `q.runs`.
enum class FragInsert : uint8_t { Ok, Dup, Overlap };  // IPFRAG_OK, IPFRAG_DUP, IPFRAG_OVERLAP
FragInsert inet_frag_queue_insert(IpFragQueue& q, SkBuff* skb, int offset, int end);

// ip4_frag_ecn: IPFRAG_ECN_NOT_ECT 0x01, ECT_1 0x02, ECT_0 0x04, CE 0x08 from the TOS byte.
constexpr uint8_t ip4_frag_ecn(uint8_t tos) { return static_cast<uint8_t>(1u << (tos & 3u)); }
// ip_frag_ecn_table (RFC 3168 5.3): what the reassembled datagram's TOS is or-ed with (0 or CE),
// or 0xFF when the fragments mix Not-ECT with ECT/CE and the datagram must be dropped.
constexpr uint8_t ip_frag_ecn_table(uint8_t ecn) {
  if ((ecn & 0x01) != 0) return (ecn & 0x0E) != 0 ? 0xFF : 0;
  return (ecn & 0x08) != 0 && (ecn & 0x06) != 0 ? 3 : 0;  // CE with ECT_0 and/or ECT_1: INET_ECN_CE
}

// What 6.1 still does with net.ipv4.ipfrag_low_thresh: nothing but bound the sysctl writes
// (proc_doulongvec_minmax: ipfrag_high_thresh >= ipfrag_low_thresh, and the converse). Since
// 4.17 no evictor prunes queues down to it; a full table refuses fragments at ipfrag_high_thresh.
constexpr bool ipfrag_thresh_valid(const Ipv4Sysctls& s) { return s.ipfrag_low_thresh <= s.ipfrag_high_thresh; }

}  // namespace vnic::stack

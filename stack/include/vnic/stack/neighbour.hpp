// The neighbour table for IPv4 over Ethernet (ARP, RFC 826), after Linux 6.1's
// net/core/neighbour.c (the NUD state machine: __neigh_event_send, neigh_update,
// neigh_timer_handler) and net/ipv4/arp.c (arp_tbl's defaults, arp_solicit, arp_rcv,
// arp_process). SystemC-free: time is the Cpu's now(), timers are Cpu::call_at/cancel.
//
// What is modelled as Linux 6.1 does it:
//  - an unresolved next hop gets an INCOMPLETE entry; its packets wait in the entry's queue,
//    bounded by unres_qlen_bytes counted in skb->truesize; on overflow the OLDEST waiting
//    packet is dropped (NEIGH_QUEUEFULL, unresolved_discards);
//  - broadcast requests every retrans_time, mcast_solicit of them (+ app_solicit), then FAILED:
//    the waiting packets are dropped (NEIGH_FAILED) and res_failed is counted;
//  - REACHABLE for reachable_time after a confirmation, then STALE (or DELAY if the entry was
//    used in the last delay_first_probe_time); a send on STALE moves to DELAY; after
//    delay_first_probe_time without confirmation PROBE sends ucast_solicit unicast requests,
//    then FAILED;
//  - a FAILED entry reports each waiting packet (arp_error_report: the owner sends an ICMP host
//    unreachable to its source) before dropping it;
//  - an entry on the loopback device is NOARP from its creation (arp_constructor);
//  - ARP input answers requests for a local address (arp_ignore 0) and learns as arp_process.
// Not modelled (yet): garbage collection (gc_thresh*, gc_staletime, neigh_periodic_work),
// proxy ARP, arp_accept/arp_filter/arp_announce other than 0, NTF_ROUTER, the periodic
// re-randomisation of reachable_time (Linux redraws it every 300 s; here on construction and
// on set_parms()).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vnic/model/mac_addr.hpp"
#include "vnic/stack/cpu.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/trace.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

class NetDevice;

// NUD states with Linux's values (include/uapi/linux/neighbour.h); NONE is 0.
enum NudState : uint8_t {
  kNudNone = 0x00,
  kNudIncomplete = 0x01,
  kNudReachable = 0x02,
  kNudStale = 0x04,
  kNudDelay = 0x08,
  kNudProbe = 0x10,
  kNudFailed = 0x20,
  kNudNoarp = 0x40,
  kNudPermanent = 0x80,
};
inline constexpr uint8_t kNudInTimer = kNudIncomplete | kNudReachable | kNudDelay | kNudProbe;  // NUD_IN_TIMER
inline constexpr uint8_t kNudValid =
    kNudPermanent | kNudNoarp | kNudReachable | kNudProbe | kNudStale | kNudDelay;  // NUD_VALID
inline constexpr uint8_t kNudConnected = kNudPermanent | kNudNoarp | kNudReachable;   // NUD_CONNECTED
// iproute2's name for one state: "REACHABLE", "STALE", ... ("NONE" for 0).
const char* nud_state_name(uint8_t state);

// The per-table (per-device in Linux) parameters: arp_tbl's defaults in 6.1, which are also
// the sysctl defaults (net.ipv4.neigh.default.*). Times in Duration; Linux keeps them in
// jiffies (HZ = 250), and reachable_time is drawn in jiffies as neigh_rand_reach_time does.
struct NeighParms {
  Duration base_reachable_time = Duration::s(30);     // base_reachable_time_ms 30000
  Duration retrans_time = Duration::s(1);             // retrans_time_ms 1000
  Duration delay_first_probe_time = Duration::s(5);   // delay_first_probe_time (DELAY_PROBE_TIME)
  Duration gc_staletime = Duration::s(60);            // gc_stale_time (not used yet: no GC)
  Duration locktime = Duration::s(1);                 // locktime: replies within it do not override
  uint32_t ucast_solicit = 3;                         // UCAST_PROBES
  uint32_t mcast_solicit = 3;                         // MCAST_PROBES
  uint32_t app_solicit = 0;                           // APP_PROBES
  uint32_t mcast_resolicit = 0;                       // MCAST_REPROBES
  uint32_t unres_qlen_bytes = 212992;                 // QUEUE_LEN_BYTES = SK_WMEM_MAX
  uint32_t gc_thresh1 = 128, gc_thresh2 = 512, gc_thresh3 = 1024;  // not used yet: no GC
  // net.ipv4.conf.*.arp_notify: gratuitous ARP on NETDEV_UP / CHANGEADDR only when set.
  bool arp_notify = false;
};

// One entry (struct neighbour) for a next hop on a device.
struct Neighbour {
  NetDevice* dev = nullptr;
  wire::Ipv4Addr key;          // primary_key
  model::MacAddr ha;           // hardware address (valid when nud_state & kNudValid)
  uint8_t nud_state = kNudNone;
  Instant updated{};           // last state or address change
  Instant confirmed{};         // last reachability confirmation
  Instant used{};              // last send through the entry
  uint32_t probes = 0;         // solicitations sent (starts at ucast_solicit when INCOMPLETE)
  SkbQueue arp_queue;          // packets waiting for resolution
  uint32_t arp_queue_len_bytes = 0;  // their truesize
  uint64_t timer = 0;          // Cpu::call_at handle
  bool timer_armed = false;
};

// /proc/net/stat/arp_cache and `ip -s ntable` (struct neigh_statistics), the ones we count.
// rcv_probes_mcast/ucast are counted by IPv6's ndisc only; ARP leaves them 0, as 6.1 does.
struct NeighStats {
  uint64_t allocs = 0;
  uint64_t destroys = 0;
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t res_failed = 0;
  uint64_t rcv_probes_mcast = 0;
  uint64_t rcv_probes_ucast = 0;
  uint64_t unresolved_discards = 0;
};

// ARP's own receive accounting (Linux counts these drops in no MIB; we name them).
struct ArpRcvStats {
  uint64_t rcv = 0;             // packets arp_rcv took
  uint64_t malformed = 0;       // not an Ethernet/IPv4 ARP packet (ArpRepr::parse failed), freed
  uint64_t bad_target = 0;      // target is multicast or loopback (arp_process), freed
  uint64_t requests_answered = 0;
  uint64_t replies_sent = 0;
  uint64_t requests_sent = 0;   // solicitations and gratuitous ARP
};

// The ARP neighbour table (arp_tbl) of one host.
class NeighTable {
 public:
  // Where finished frames go (dev_queue_xmit, once wired): the skb has its Ethernet header,
  // skb->dev set; the callee owns it.
  using XmitFn = void (*)(void* ctx, SkBuff* skb);

  // `seed` seeds the deterministic RNG (SplitMix64) that draws reachable_time in
  // [base/2, 3*base/2) as neigh_rand_reach_time does; same seed, same times. `pool` gives the
  // ARP frames' skbs and must outlive the table (its destructor frees the waiting packets).
  NeighTable(Cpu& cpu, SkbPool& pool, XmitFn xmit, void* xmit_ctx, uint64_t seed, NeighParms parms = {});
  ~NeighTable();
  NeighTable(const NeighTable&) = delete;
  NeighTable& operator=(const NeighTable&) = delete;

  // The IPv4 address configured on a device (for requests' sender address and for answering).
  void add_local_addr(NetDevice& dev, wire::Ipv4Addr addr);
  bool is_local(wire::Ipv4Addr addr) const;

  // NETDEV_UP (inetdev_event): a gratuitous ARP request for each local address of the device,
  // only when arp_notify is set (6.1's default is 0: nothing is sent).
  void netdev_up(NetDevice& dev);

  // Output (neigh_resolve_output for an entry to `next_hop` on skb->dev, created if missing:
  // __neigh_create from ip_finish_output2). skb->data is at the network header; skb->protocol
  // gives the EtherType (IPv4 if 0). Resolved: the Ethernet header is pushed and the skb goes to
  // the xmit callback. Unresolved: queued and solicited (__neigh_event_send).
  void neigh_output(SkBuff* skb, wire::Ipv4Addr next_hop);

  // ARP input (arp_rcv): skb->data at the ARP header, skb->dev and pkt_type set. Always takes
  // the skb (consumed, answered, or freed and counted).
  void arp_rcv(SkBuff* skb);

  // neigh_confirm: reachability confirmed by an upper layer (TCP ACK, MSG_CONFIRM).
  void neigh_confirm(NetDevice& dev, wire::Ipv4Addr addr);
  // neigh_lookup (counted: lookups, hits); nullptr if absent.
  Neighbour* neigh_lookup(const NetDevice& dev, wire::Ipv4Addr addr);
  // The same, not counted (__ipv4_neigh_lookup_noref).
  const Neighbour* find(const NetDevice& dev, wire::Ipv4Addr addr) const;
  // `ip neigh replace ADDR lladdr MAC nud permanent|reachable|stale dev DEV` (neigh_update with
  // NEIGH_UPDATE_F_ADMIN | OVERRIDE).
  void neigh_add(NetDevice& dev, wire::Ipv4Addr addr, model::MacAddr lladdr, uint8_t state);
  // `ip neigh del` / flush: the entry goes, its waiting packets dropped (NEIGH_DEAD).
  void neigh_delete(NetDevice& dev, wire::Ipv4Addr addr);

  // `ip neigh show`: one line per entry, as iproute2 prints them (NONE and NOARP entries are not
  // shown, as its default filter does), ordered by device name then address (Linux: hash order).
  std::vector<std::string> ip_neigh_show() const;

  // Trace: ARP frames made (PacketMade), packets it frees (Drop with the reason) and ARP frames it
  // used up (Consumed), with ids from `ids` for the frames it makes (nullptr: ids stay 0).
  using IdFn = uint64_t (*)(void* ctx);
  void set_trace(TraceSink* sink, const char* source) {
    trace_ = sink;
    trace_source_ = source;
  }
  void set_packet_ids(IdFn fn, void* ctx) {
    id_fn_ = fn;
    id_ctx_ = ctx;
  }
  // neigh->ops->error_report (arp_error_report): told of each packet that waited on an entry that
  // failed, before the table frees it (NEIGH_FAILED); the callee must not keep or free it.
  using ErrorReportFn = void (*)(void* ctx, const SkBuff& skb);
  void set_error_report(ErrorReportFn fn, void* ctx) {
    error_report_ = fn;
    error_ctx_ = ctx;
  }

  const NeighParms& parms() const { return parms_; }
  void set_parms(const NeighParms& p);  // redraws reachable_time
  Duration reachable_time() const { return reachable_time_; }
  const NeighStats& stats() const { return stats_; }
  const ArpRcvStats& arp_stats() const { return arp_stats_; }
  std::size_t size() const { return entries_.size(); }

 private:
  using Key = std::pair<const NetDevice*, uint32_t>;

  Neighbour* create(NetDevice& dev, wire::Ipv4Addr addr);  // __neigh_create (counts allocs)
  void destroy(Neighbour* n, SkbDropReason reason);        // neigh_destroy (counts destroys)
  bool event_send(Neighbour& n, SkBuff* skb);               // __neigh_event_send: true if queued/dropped
  void update(Neighbour& n, const model::MacAddr* lladdr, uint8_t state, bool override, bool admin);
  void timer_handler(Neighbour& n);
  void probe(Neighbour& n);     // neigh_probe
  void solicit(Neighbour& n);   // arp_solicit
  void invalidate(Neighbour& n);  // neigh_invalidate
  void add_timer(Neighbour& n, Instant when);
  void del_timer(Neighbour& n);
  void resolved_output(Neighbour& n, SkBuff* skb);  // dev_hard_header + xmit
  uint32_t max_probes(const Neighbour& n) const;
  wire::Ipv4Addr local_addr(const NetDevice& dev) const;
  // arp_send_dst: builds an Ethernet/ARP frame and hands it to xmit.
  void arp_send(uint16_t op, NetDevice& dev, wire::Ipv4Addr dest_ip, wire::Ipv4Addr src_ip,
                const model::MacAddr* dest_hw, const model::MacAddr* target_hw);
  Duration rand_reach_time();
  static void timer_cb(void* ctx, uint64_t arg);

  void drop(SkBuff* skb, SkbDropReason reason);  // kfree_skb + a Drop event
  void consume(SkBuff* skb);                      // consume_skb + a Consumed event
  void emit(TraceKind k, uint32_t a, uint64_t b, uint64_t packet);

  Cpu& cpu_;
  SkbPool& pool_;
  TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
  IdFn id_fn_ = nullptr;
  void* id_ctx_ = nullptr;
  ErrorReportFn error_report_ = nullptr;
  void* error_ctx_ = nullptr;

  XmitFn xmit_;
  void* xmit_ctx_;
  uint64_t rng_;
  NeighParms parms_;
  Duration reachable_time_;
  std::map<Key, std::unique_ptr<Neighbour>> entries_;
  std::vector<std::pair<NetDevice*, wire::Ipv4Addr>> local_;
  NeighStats stats_;
  ArpRcvStats arp_stats_;
};

}  // namespace vnic::stack

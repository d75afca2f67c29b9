// One host's network namespace (Linux's `struct net`) with the per-namespace parts of
// net/core/dev.c (the receive core: taps, tc ingress, ptype dispatch) and of net/ipv4/ (ip_rcv,
// ip_rcv_finish and route input, ip_local_deliver, ip_queue_xmit/ip_output through the neighbour
// layer to the transmit core), as Linux 6.1 does them. docs/stack.md says what is built.
//
// Packet ids: the testbench gives each host an id base (host index << 32); the driver and pktgen
// number their packets base + 1, base + 2, ... (below base + 2^31). Packets this stack makes
// (ARP frames, ICMP messages, the stack's own sends) take ids from next_packet_id():
// base | 2^31, + 1, + 2, ... so the two never collide on one host.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "vnic/stack/cpu.hpp"
#include "vnic/stack/dev_xmit.hpp"
#include "vnic/stack/fib.hpp"
#include "vnic/stack/inetpeer.hpp"
#include "vnic/stack/ip.hpp"
#include "vnic/stack/loopback.hpp"
#include "vnic/stack/neighbour.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/skb.hpp"
#include "vnic/stack/softnet.hpp"
#include "vnic/stack/trace.hpp"
#include "vnic/stack/wire/ipv4.hpp"

namespace vnic::stack {

// net.ipv4.* with Linux 6.1's defaults (Documentation/networking/ip-sysctl.rst, 6.1 sources).
struct Ipv4Sysctls {
  bool ip_forward = false;          // net.ipv4.ip_forward (conf.all.forwarding)
  bool ip_fwd_update_priority = true;  // a forwarded packet's skb->priority from its TOS (rt_tos2priority)
  int ip_default_ttl = 64;
  int icmp_ratelimit_ms = 1000;     // icmp_ratelimit, in ms (HZ units in the kernel: 1 s)
  uint32_t icmp_ratemask = 6168;    // dest unreachable, source quench, time exceeded, param problem
  int icmp_msgs_per_sec = 1000;     // the host-wide ICMP token bucket
  int icmp_msgs_burst = 50;
  bool icmp_echo_ignore_all = false;
  bool icmp_echo_ignore_broadcasts = true;
  bool icmp_ignore_bogus_error_responses = true;
  bool icmp_errors_use_inbound_ifaddr = false;
  // net.ipv4.conf.*: the kernel's defaults (Debian's systemd sets rp_filter 2; the model follows
  // the kernel: 0, see docs/stack.md).
  int rp_filter = 0;                // not used beyond 0: strict/loose reverse-path checks are not built
  bool accept_local = false;        // 0: a packet from one of our addresses is a martian source
  bool drop_unicast_in_l2_multicast = false;
  bool log_martians = false;
  // Reassembly (net.ipv4.ipfrag_*): memory limits in bytes of truesize, queue lifetime, and how
  // many fragments from one source may arrive in between before a queue is thrown away.
  uint32_t ipfrag_high_thresh = 4194304, ipfrag_low_thresh = 3145728;
  int ipfrag_time_s = 30;
  int ipfrag_max_dist = 64;
  // Local ports for autobind and connect (ip_local_port_range) and UDP's per-socket memory
  // guarantee under udp_mem pressure (udp_rmem_min / udp_wmem_min, one page). udp_mem itself
  // and the pressure it applies are not modelled (docs/stack.md), so the two minimums are kept
  // for the record only.
  int ip_local_port_range_lo = 32768, ip_local_port_range_hi = 60999;
  int udp_rmem_min = 4096, udp_wmem_min = 4096;
};

struct NetStackConfig {
  std::string name;                            // the host's name (trace source, reports)
  NetCoreSysctls core{};                       // net.core (softnet.hpp), incl. what TxCore needs
  std::string default_qdisc = "pfifo_fast";    // net.core.default_qdisc
  Ipv4Sysctls ipv4{};
  NeighParms neigh{};                          // net.ipv4.neigh.default.* and arp_notify
  uint64_t seed = 1;                           // every random draw of the stack (reachable_time, IP ids, ICMP credit)
};

// tc's clsact qdisc on a device's ingress with its filters (`tc qdisc add dev X clsact`,
// `tc filter add dev X ingress pref N protocol P flower [ip_proto ..] [src_ip ..] [dst_ip ..]
// action ok|drop`). A filter matches when every field it sets matches.
enum class TcAction : uint8_t { Ok = 0, Shot = 2 };  // TC_ACT_OK, TC_ACT_SHOT ("ok"/"pass", "drop")
struct TcFilter {
  uint32_t pref = 0;                       // 0: the next free (49152, 49151, ... as tc picks them)
  uint16_t protocol = 0x0003;              // EtherType; ETH_P_ALL (3) matches every frame
  std::optional<uint8_t> ip_proto;         // flower ip_proto (IPv4 only)
  std::optional<wire::Ipv4Cidr> src_ip;    // flower src_ip
  std::optional<wire::Ipv4Cidr> dst_ip;    // flower dst_ip
  TcAction action = TcAction::Ok;
  // Statistics (the action's: "Sent N bytes M pkt (dropped D ...)").
  uint64_t bytes = 0, packets = 0, drops = 0;
};
struct ClsactStats {
  uint64_t bytes = 0, packets = 0, drops = 0;  // the ingress miniq's, as tc -s qdisc prints them
};

inline constexpr int kEMSGSIZE = 90, kENETDOWN = 100, kENOBUFS = 105, kEPERM = 1;

// RTN_* values (include/uapi/linux/rtnetlink.h) for SkBuff::rt_type.
inline constexpr uint8_t kRtnUnicast = 1, kRtnLocal = 2, kRtnBroadcast = 3, kRtnMulticast = 5, kRtnUnreachable = 7;

// /proc/net/stat/rt_cache's input columns this model counts (RT_CACHE_STAT_INC).
struct RtCacheStats {
  uint64_t in_slow_tot = 0, in_slow_mc = 0, in_no_route = 0, in_brd = 0, in_martian_dst = 0, in_martian_src = 0;
};
// What the model counts beyond Linux's counters (each a drop Linux counts nowhere, or a piece not built).
struct NetStackStats {
  uint64_t mc_not_joined = 0;     // a multicast datagram for a group not joined (ip_route_input_rcu -EINVAL)
  uint64_t tap_clone_failed = 0;  // a tap got nothing: skb_clone failed (packet_rcv's drop)
  uint64_t options_bad = 0;       // ip_options_compile refused the options (also InHdrErrors)
  uint64_t fwd_not_host = 0;      // ip_forward: a link-layer broadcast/multicast frame for a unicast
                                  // destination not ours ("should never happen": Linux counts nothing)
  uint64_t ip_error_ratelimited = 0;  // ip_error's ICMP held back by the per-source token bucket
  uint64_t nf_dropped = 0;        // packets a netfilter rule or policy dropped (each also in its rule's counter)
  uint64_t nf_hotdrop = 0;        // of which a match could not read its header (no rule counter moves)
};

struct IpFrags;  // the reassembly queues (ip_frag.hpp)
class IpTables;  // netfilter's ip_tables (netfilter.hpp)

class NetStack {
 public:
  // cpus[0] takes the receive path and the timers; each CPU gets its own TxCore. `pool` gives the
  // stack's own skbs (ARP, ICMP, sends). Throws std::invalid_argument for a config the model
  // does not run (an unknown default_qdisc, a TTL outside 1..255, no CPU).
  NetStack(const NetStackConfig& cfg, std::vector<Cpu*> cpus, SkbPool& pool);
  ~NetStack();
  NetStack(const NetStack&) = delete;
  NetStack& operator=(const NetStack&) = delete;

  // ---- devices
  // The loopback device (loopback_net_init): registered first, ifindex 1, with the noqueue qdisc
  // and 127.0.0.1/8 (`ip addr add 127.0.0.1/8 dev lo`: its local-table routes).
  static constexpr int kLoopbackIfindex = 1;
  Loopback& loopback() { return *lo_; }
  const Loopback& loopback() const { return *lo_; }
  // register_netdevice: returns the ifindex (2, 3, ... as Linux numbers them after lo = 1); the
  // device gets default_qdisc as its root qdisc.
  int register_netdev(NetDevice& dev);
  NetDevice* dev_by_index(int ifindex);
  const NetDevice* dev_by_index(int ifindex) const;
  int ifindex_of(const NetDevice& dev) const;  // 0 if not registered here
  // `tc qdisc replace dev X root KIND`: "fq_codel" | "pfifo_fast" | "noqueue"; -EINVAL otherwise, -ENODEV.
  int set_qdisc(int ifindex, std::string_view kind);
  // After ndo_open succeeded: NETDEV_UP (arp_notify's gratuitous ARP, ...).
  void netdev_up(int ifindex);
  // `ip addr add ADDR/LEN dev X`: the Fib's local/broadcast/connected routes and the neighbour
  // table's local address. -ENODEV, -EEXIST (the same address twice), -EINVAL (/0).
  int ip_addr_add(int ifindex, wire::Ipv4Cidr addr);
  // `ip route add`: 0, -EEXIST, -ENODEV (a device index not registered).
  int ip_route_add(const FibRoute& r);

  // ---- receive
  // The softnet hand-off: Softnet::set_rx_handler(&NetStack::rx_handler, &net). ingress 13:
  // __netif_receive_skb_core from its network header on (runs on cpus[0]).
  static void rx_handler(void* ctx, SkBuff* skb);
  // A CPU's softnet_data joins this namespace: its hand-off comes here (set_rx_handler), and lo
  // queues what it turns around to the sending CPU's backlog (loopback_xmit: __netif_rx on this
  // CPU), or to cpus[0]'s when the sender's has none. The softirq that drains it runs on that CPU,
  // never before the send; the protocol work after the hand-off is charged to cpus[0], as all of
  // the model's receive path is. Without any softnet lo drops what it is given (lo's rx_dropped).
  void attach_softnet(Softnet& sd);
  void netif_receive_skb_core(SkBuff* skb);
  // ptype_base registration (dev_add_pack): frames of `ethertype` go to fn (which owns the skb).
  using PacketHandler = void (*)(void* ctx, SkBuff* skb);
  void dev_add_pack(uint16_t ethertype, PacketHandler fn, void* ctx);
  // ptype_all taps (tcpdump, AF_PACKET ETH_P_ALL): fn sees every packet received on and sent from
  // the device (outgoing = true at dev_queue_xmit_nit) as a clone with its Ethernet header
  // (skb.mac_bytes()); it must not keep it. 0 or -ENODEV.
  using TapFn = void (*)(void* ctx, const SkBuff& skb, bool outgoing, Instant t);
  int add_tap(int ifindex, TapFn fn, void* ctx);
  // tc ingress: `tc qdisc add dev X clsact` (0, -ENODEV, -EEXIST) and `tc filter add dev X
  // ingress ...` (0; -EINVAL without clsact or for a pref in use). Filters run in pref order.
  int tc_qdisc_add_clsact(int ifindex);
  int tc_filter_add_ingress(int ifindex, const TcFilter& f);
  // inet_protos: the L4 handler for IP protocol `proto` (ICMP registers 1; UDP in part 2).
  using L4Handler = void (*)(void* ctx, SkBuff* skb);  // skb->data at the transport header; owns it
  void inet_add_protocol(uint8_t proto, L4Handler fn, void* ctx);
  // The stack's icmp_send (h4's ICMP module registers itself): an error about `in` (skb->data
  // anywhere; its network header set). Unset: nothing is sent.
  using IcmpSendFn = void (*)(void* ctx, Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info);
  void set_icmp_send(IcmpSendFn fn, void* ctx);
  void icmp_send(Cpu& cpu, const SkBuff& in, uint8_t type, uint8_t code, uint32_t info);

  // ---- local output
  // ip_queue_xmit / ip_push_pending_frames -> ip_local_out -> ip_output: skb->data at the
  // transport header with headroom; builds the IPv4 header, routes, sends through the neighbour
  // layer and dev_queue_xmit on the calling CPU. Returns 0, -ENETUNREACH / -EHOSTUNREACH /
  // -EACCES / -EINVAL (no route or a route that refuses: OutNoRoutes for -ENETUNREACH, as
  // udp_sendmsg counts it; no ICMP), -EPERM (netfilter dropped it at LOCAL_OUT or POST_ROUTING),
  // -EMSGSIZE (larger than the MTU with DF: IP_PMTUDISC_DO), -ENOBUFS (a qdisc drop,
  // NET_XMIT_DROP), -ENETDOWN; a failure after the route counts OutDiscards (ip_send_skb). A
  // datagram over the MTU without DF is fragmented (egress 9). The skb is always consumed (freed
  // with its drop reason on error). A packet waiting for ARP counts as sent (0), as in Linux.
  struct IpSend {
    wire::Ipv4Addr saddr{};  // unspecified: chosen from the route (its prefsrc)
    wire::Ipv4Addr daddr{};
    uint8_t protocol = 0;
    uint8_t tos = 0;
    int ttl = -1;            // -1: ip_default_ttl
    bool df = true;          // DF set: id 0 (ip_select_ident without a connected socket)
    bool df_only_if_fits = false;  // IP_PMTUDISC_WANT: DF only when the datagram fits the MTU
    int oif = 0;             // bound device (SO_BINDTODEVICE / IP_PKTINFO), 0: any
    int id = -1;             // a connected socket's inet_id; -1: ip_select_ident chooses
    // skb->ignore_df (ip_sk_ignore_df: a socket below IP_PMTUDISC_DO, as UDP's default
    // IP_PMTUDISC_WANT): DF does not make the id 0, the hashed generator chooses it.
    bool ignore_df = false;
  };
  int ip_send(Cpu& cpu, SkBuff* skb, const IpSend& p);
  // A fresh skb for local output: `len` bytes of data (the transport header and payload, to be
  // written by the caller) after room for the IP and link headers, with an id from
  // next_packet_id() and a PacketMade event. nullptr if the pool is exhausted.
  SkBuff* alloc_skb(Cpu& cpu, uint32_t len);
  // Route output lookup (ip_route_output_key): error, out device, next hop, preferred source.
  struct RouteOut {
    int err = 0;
    int oif = 0;
    wire::Ipv4Addr saddr{};
    wire::Ipv4Addr next_hop{};
    RouteType type{};
  };
  RouteOut route_output(wire::Ipv4Addr daddr, int oif = 0) const;
  bool is_local_addr(wire::Ipv4Addr a) const;
  // The first address of a device (inet_select_addr's answer for scope universe), unspecified if none.
  wire::Ipv4Addr dev_addr4(int ifindex) const;

  // ---- netfilter: the namespace's ip_tables (`iptables ...` commands: iptables().exec(line))
  IpTables& iptables() { return *ipt_; }
  const IpTables& iptables() const { return *ipt_; }

  // The namespace's inet_peer base (ICMP's xrlim and ip_error's bucket use the same peers).
  InetPeers& inet_peers() { return peers_; }
  const InetPeers& inet_peers() const { return peers_; }

  // ---- per-CPU pieces and tables
  Cpu& cpu(unsigned i) { return *cpus_[i]; }
  unsigned cpu_count() const { return static_cast<unsigned>(cpus_.size()); }
  SkbPool& pool() { return pool_; }
  TxCore& tx(unsigned cpu_index) { return *tx_[cpu_index]; }
  TxCore& tx_for(Cpu& cpu);  // the TxCore of the CPU `cpu` (by identity; cpus[0]'s if unknown)
  Fib& fib() { return fib_; }
  NeighTable& neigh() { return *neigh_; }
  IpMib& ip_mib() { return mib_; }
  const IpMib& ip_mib() const { return mib_; }
  const RtCacheStats& rt_cache_stats() const { return rt_stats_; }
  const NetStackStats& stats() const { return stats_; }
  const NetStackConfig& config() const { return cfg_; }
  Ipv4Sysctls& ipv4_sysctls() { return cfg_.ipv4; }
  // dev->rx_nohandler (ip -s link's "nohandler"), per device.
  uint64_t rx_nohandler(int ifindex) const;
  const ClsactStats* clsact_stats(int ifindex) const;  // nullptr without clsact
  const std::vector<TcFilter>* tc_ingress_filters(int ifindex) const;

  // ---- trace and the per-packet account
  // Every step to `sink` under `source` (nullptr: off); the transmit cores and the neighbour
  // table trace to the same sink.
  void set_trace(TraceSink* sink, const char* source);
  TraceSink* trace_sink() const { return trace_; }
  const char* trace_source() const { return trace_source_; }
  uint64_t next_packet_id() { return id_base_ | kStackIdBit | ++id_seq_; }  // see the file comment
  void set_id_base(uint64_t base) { id_base_ = base; }
  static constexpr uint64_t kStackIdBit = uint64_t{1} << 31;
  // One event on `cpu` (nothing when tracing is off).
  void trace_event(Cpu& cpu, TraceKind k, model::Step step, uint64_t packet, uint32_t a = 0, uint64_t b = 0) {
    if (trace_ == nullptr) [[likely]] return;
    emit_slow(cpu, k, step, packet, a, b);
  }
  // The end of a packet in the stack: kfree_skb with `reason` and a Drop event (a: the reason,
  // b: the host counter, or 0), or consume_skb and a Consumed event (a: what used it, free
  // form). Every path that frees a packet calls exactly one of them.
  void drop(Cpu& cpu, SkBuff* skb, SkbDropReason reason, model::Step step, uint64_t counter = 0);
  void consume(Cpu& cpu, SkBuff* skb, model::Step step, uint32_t a = 0);

  // ---- reports as Linux tools print them
  std::string ip_s_link() const;      // ip -s link show (per registered device)
  std::string ip_addr() const;        // ip addr show
  std::string ip_route() const;       // ip route show (table main)
  std::string ip_neigh() const;       // ip neigh show
  std::string tc_s_qdisc() const;     // tc -s qdisc show: root qdiscs, then clsact
  std::string tc_s_filter_ingress(int ifindex) const;  // tc -s filter show dev X ingress
  std::string proc_net_snmp_ip() const;  // the Ip: rows of /proc/net/snmp
  std::string netstat_ipext() const;     // the IpExt: rows of /proc/net/netstat

  // The pieces of the paths, by their Linux names (public for tests and for later parts).
  void ip_rcv(SkBuff* skb);                    // ingress 15
  void ip_rcv_finish(SkBuff* skb);             // ingress 17
  void ip_local_deliver(SkBuff* skb);          // ingress 18
  void ip_local_deliver_finish(SkBuff* skb);   // ingress 19 (ip_protocol_deliver_rcu)

  // ---- fragments (stack/src/ipv4/ip_fragment.cpp, ip_do_fragment.cpp; ip_frag.hpp)
  // egress 9: ip_do_fragment. `skb` is an IPv4 datagram (skb->data and the network header at its
  // IP header, skb->dev set) longer than `mtu`; each fragment (an skb like it, at most `mtu`
  // bytes) goes to `output` (ip_finish_output2) in order. The first fragment keeps skb's
  // trace id, the others get model::fragment_id() and an IpFragment event as their first.
  // Returns 0 (FragOKs, FragCreates per fragment) or an error (-EMSGSIZE for DF, -ENOBUFS),
  // the skb freed with FragFails; the first error of `output` stops it (the rest freed).
  using FragOutput = int (*)(void* ctx, Cpu& cpu, SkBuff* frag);
  int ip_do_fragment(Cpu& cpu, SkBuff* skb, uint32_t mtu, FragOutput output, void* ctx);
  // ingress 18: ip_defrag (ip_local_deliver, IP_DEFRAG_LOCAL_DELIVER). Takes a fragment
  // (skb->data and the network header at its IP header); returns the whole datagram when this
  // fragment completed it (a linear skb with the first fragment's trace id, its network header
  // set, skb->data at it, an IpReasm event), else nullptr (queued, or dropped and counted).
  SkBuff* ip_defrag(Cpu& cpu, SkBuff* skb);
  // Reassembly state: queues, memory in use (the queued fragments' truesize plus 200 bytes per
  // queue, sizeof(struct ipq), as 6.1's frag_mem_limit counts it).
  std::size_t frag_queues() const;
  uint64_t frag_mem() const;

 private:
  struct Dev;
  struct Ptype {
    uint16_t type;
    PacketHandler fn;
    void* ctx;
  };
  struct Proto {
    L4Handler fn = nullptr;
    void* ctx = nullptr;
  };
  struct Ifaddr {
    int ifindex;
    wire::Ipv4Cidr addr;
  };
  // ip_route_input_noref's answer.
  struct RouteIn {
    int err = 0;           // ip_route_input_noref's return (a martian: -EINVAL)
    uint8_t rt_type = 0;   // RTN_* of the route made (kRtnUnreachable: its input is ip_error)
    int dst_error = 0;     // rt->dst.error for an ip_error route (EHOSTUNREACH, ENETUNREACH)
    // A forward route (rt_type unicast, dst.input = ip_forward): where it leaves.
    int oif = 0;
    wire::Ipv4Addr next_hop{};
  };


  Dev* dev_entry(int ifindex);
  const Dev* dev_entry(int ifindex) const;
  Dev* dev_entry(const NetDevice* dev);
  bool deliver_taps(Cpu& cpu, Dev& d, SkBuff* skb, bool outgoing);
  bool sch_handle_ingress(Cpu& cpu, Dev& d, SkBuff*& skb);  // false: the packet was dropped
  RouteIn ip_route_input(const SkBuff& skb, wire::Ipv4Addr daddr, wire::Ipv4Addr saddr, const NetDevice& dev);
  void ip_error(SkBuff* skb, int err);
  bool ip_error_allow(Cpu& cpu, wire::Ipv4Addr saddr);
  void ip_forward(SkBuff* skb, const RouteIn& r);         // ingress 17, the forward branch
  void ip_forward_finish(Cpu& cpu, SkBuff* skb, const RouteOut& rt);
  int ip_output(Cpu& cpu, SkBuff* skb, const RouteOut& rt);          // egress 8
  int ip_fragment(Cpu& cpu, SkBuff* skb, uint32_t mtu, FragOutput output, void* ctx);  // egress 9
  int ip_finish_output2(Cpu& cpu, SkBuff* skb, const RouteOut& rt);  // the neighbour layer
  // A netfilter hook (stack/src/netfilter/nf_hooks.cpp): the tables registered at `hook`
  // (NF_INET_*) run on skb (skb->data at its IP header); true: go on (NF_ACCEPT); false: it was
  // dropped (freed with NETFILTER_DROP; a REJECT's ICMP sent first).
  static constexpr uint8_t kNfPreRouting = 0, kNfLocalIn = 1, kNfForward = 2, kNfLocalOut = 3, kNfPostRouting = 4;
  bool nf_hook(Cpu& cpu, uint8_t hook, SkBuff* skb, const NetDevice* in, const NetDevice* out, model::Step step);
  uint16_t ip_select_ident(Cpu& cpu, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t proto);
  void emit_slow(Cpu& cpu, TraceKind k, model::Step step, uint64_t packet, uint32_t a, uint64_t b);
  static void neigh_xmit(void* ctx, SkBuff* skb);
  static uint32_t loopback_rx(void* ctx, SkBuff* skb);              // loopback_xmit's __netif_rx
  static void neigh_error_report(void* ctx, const SkBuff& skb);     // arp_error_report
  static void xmit_nit(void* ctx, Cpu& cpu, SkBuff* skb);
  static uint64_t neigh_packet_id(void* ctx);

  NetStackConfig cfg_;
  std::vector<Cpu*> cpus_;
  SkbPool& pool_;
  std::unique_ptr<Loopback> lo_;  // net->loopback_dev (outlives the tables that point at it)
  Softnet* rx_softnet_ = nullptr;     // cpus[0]'s softnet_data (attach_softnet)
  std::vector<Softnet*> softnets_;     // every CPU's attached: lo queues to the sender's backlog
  std::vector<std::unique_ptr<TxCore>> tx_;
  Fib fib_;
  std::unique_ptr<NeighTable> neigh_;
  IpMib mib_;
  RtCacheStats rt_stats_;
  NetStackStats stats_;
  int last_xmit_rc_ = 0;  // what dev_queue_xmit answered the neighbour layer's last output
  std::vector<std::unique_ptr<Dev>> devs_;
  std::vector<Ifaddr> addrs_;
  std::vector<Ptype> ptypes_;
  Proto protos_[256];
  IcmpSendFn icmp_send_ = nullptr;
  void* icmp_ctx_ = nullptr;
  Cpu* xmit_cpu_ = nullptr;  // the CPU whose TxCore the neighbour layer's output goes to now
  TraceSink* trace_ = nullptr;
  const char* trace_source_ = "";
  uint64_t id_base_ = 0;
  uint64_t id_seq_ = 0;
  uint64_t ident_key_ = 0;                  // ip_idents_hashrnd
  std::vector<uint32_t> idents_;            // ip_idents
  std::vector<uint64_t> ident_tstamp_;      // ip_tstamps (jiffies of each slot's last use)
  uint64_t ident_rng_ = 0;                  // prandom for the slots' jumps
  InetPeers peers_;  // net->ipv4.peers: ICMP's per-destination limit and ip_error share them
  IpFrags* frags_ = nullptr;                // ip_frags_init / ip_frags_exit (ip_fragment.cpp)
  std::unique_ptr<IpTables> ipt_;
  void ip_frags_init();
  void ip_frags_exit();
};

}  // namespace vnic::stack

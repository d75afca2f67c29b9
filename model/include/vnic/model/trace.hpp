// One trace vocabulary for the whole model: the NIC (hw/), the driver and the kernel side
// (driver/, stack/) and the platform (testbench/) emit the same event type, each event tagged
// with the step of ../shared/reference/linux-network-flow.md it represents (egress 1-20 on the
// sender, ingress 1-24 on the receiver) and with the id of the packet it concerns. A packet
// keeps one id from the moment it is made (pktgen, later an application) to the moment it is
// consumed on the other side; docs/journey.md has the journey built from these events.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vnic::model {

enum class Path : uint8_t { None = 0, Egress = 1, Ingress = 2 };

// A step of the reference flow; {None, 0} for events that are not one (the wire, errors).
struct Step {
  Path path = Path::None;
  uint8_t n = 0;
  constexpr bool operator==(const Step&) const = default;
  constexpr bool none() const { return path == Path::None; }
};
constexpr Step egress(uint8_t n) { return Step{Path::Egress, n}; }
constexpr Step ingress(uint8_t n) { return Step{Path::Ingress, n}; }
inline constexpr Step kNoStep{};

// What the model does for a step today.
enum class StepState : uint8_t {
  Emitted,     // code emits the step's trace event (a test checks it appears in a run)
  Conditional, // emitted only on some paths (listed in docs/journey.md); checked by its own test
  NotBuilt,    // the protocol stack issue named in `by` adds it
};

struct StepInfo {
  Step step;
  std::string_view words;     // the reference's wording, shortened
  std::string_view function;  // the function here that implements it (Linux's name)
  StepState state;
  std::string_view by;        // who emits it (file), or which issue builds it
};

// Every step of the reference, egress 1-20 then ingress 1-24. The one place that maps a step
// number to its wording and to the code that implements it.
std::span<const StepInfo> steps();
const StepInfo* step_info(Step s);
// The step table as Markdown (docs/journey.md embeds it; a test keeps the two equal).
std::string steps_markdown();
// "egress:12", "ingress:5", "-" for none. Never allocates.
std::string_view step_name(Step s);

enum class TraceKind : uint8_t {
  // Packet's origin
  PacketMade,   // a packet was made (pktgen; later an application) (a: length)
  DevQueueXmit, // dev_queue_xmit took it (a: length)
  QdiscEnqueue, // into the device's qdisc (a: length, b: 1 if an empty qdisc sent it at once)
  // Sender, forward chain
  TxMap,        // the driver mapped its data for DMA (b: bus address)
  TxRing,       // the driver put it on the TX ring (a: length, b: slot)
  TxDoorbell,   // the driver wrote the TX tail (a: tail) -- no packet
  TxLaunch,     // the NIC checked its descriptors and fetched its data (a: bytes with FCS; t_end: ready)
  TxWire,       // the frame on the wire, preamble to last bit (a: bytes)
  TxDropped,    // the NIC dropped it (a: descriptors, b: the counter, regs::Stat)
  // Sender, completion branch
  TxDone,       // its write-back landed (a: descriptors)
  TxClean,      // the driver's TX clean freed it (a: length)
  TxWake,       // the driver woke the stopped TX queue (NET_TX_SOFTIRQ would run the qdisc)
  // Receiver
  RxArrive,     // the frame's last bit arrived (a: bytes)
  RxAccept,     // FCS, length and address filter passed (a: bytes)
  RxDrop,       // dropped (a: bytes, b: the counter, regs::Stat; for host drops a host counter id)
  RxDma,        // data and write-back DMA issued (a: bytes, b: descriptor; t_end: lands)
  RxComplete,   // its write-back landed: it is on the RX ring (a: bytes, b: descriptor)
  RxPoll,       // NAPI's poll took it off the ring (a: bytes, b: descriptor)
  SkbAlloc,     // the driver allocated its sk_buff and copied it in (a: length)
  EthTypeTrans, // metadata filled: protocol, device, MAC header pulled (a: protocol)
  NetifRx,      // enqueued on a CPU's backlog (netif_rx) (a: backlog length after)
  ReceiveSkb,   // handed to the kernel stack (netif_receive_skb)
  Consumed,     // the end of its journey: consumed by the receiver (pktgen's checker; the stack: an
                // ARP frame processed, an echo request answered; a: what used it, free form)
  // Per interrupt, per CPU (no packet; the journey attaches them to the packets waiting)
  Irq,          // the NIC sent an interrupt message (lane: vector, b: address)
  HardIrq,      // a hard IRQ handler ran, t to t_end (a: vector)
  NapiSchedule, // the driver scheduled NAPI from its handler (a: vector)
  SoftirqRaise, // NET_RX_SOFTIRQ raised
  Softirq,      // a softirq run (__do_softirq), t to t_end
  NapiPoll,     // one ->poll(), t to t_end (a: work, b: budget)
  IrqEnable,    // napi_complete_done re-enabled the queue's interrupt (a: vector)
  // Other
  DmaError,     // a DMA transfer was refused (a: cause bit, b: address)
  TxTimeout,    // the TX watchdog fired (b: ms stalled)
  Reset,        // the driver reset the device to recover
  // Counter tracks (a: the value)
  RingLevel,    // descriptors owned by the device (lane: queue; b: 0 RX, 1 TX)
  BacklogLevel, // packets on a CPU's backlog (lane: CPU)
  // The kernel stack (stack/src/core/dev.cpp, stack/src/ipv4/)
  Drop,         // freed by the stack with a drop reason, the end of its journey (a: SkbDropReason,
                // b: the host counter, host_drop(), or 0); the emitter gives the step
  ReceiveCore,  // __netif_receive_skb_core: network header set, ptype dispatch (a: protocol)
  Tap,          // a ptype_all tap (tcpdump) got a clone (a: 1 outgoing, 0 incoming)
  TcIngress,    // tc ingress (clsact) classified it (a: TC_ACT_*, b: the filter's pref, 0 none)
  IpRcv,        // ip_rcv: ip_rcv_core's checks passed (a: length)
  RouteInput,   // ip_rcv_finish: ip_route_input_noref (a: RTN_* of the result, b: -error)
  IpLocalDeliver, // ip_local_deliver (a: length)
  L4Deliver,    // ip_protocol_deliver_rcu handed it to the L4 handler (a: IP protocol)
  IpSend,       // the L3 hand-off of a local send (a: IP protocol)
  IpHeader,     // ip_queue_xmit / ip_make_skb built the IPv4 header (a: length, b: IP id)
  RouteOutput,  // ip_route_output_key (a: out ifindex, b: -error)
  IpOutput,     // ip_output: OutRequests counted, the POST_ROUTING point (a: length)
  NeighOutput,  // neigh_output (a: NUD state, b: 1 if it waits for resolution)
  // Sockets and the applications above them (stack/src/ipv4/ping.cpp; UDP and TCP later)
  SockSend,     // an application's send call (sendmsg) took the data (a: bytes)
  SockWmem,     // the skb charged to the socket's send buffer (skb_set_owner_w) (a: sk_wmem_alloc after)
  L4Header,     // the transport header built (UDP: udp_send_skb) (a: IP protocol, b: sport << 16 | dport)
  SockLookup,   // the L4 protocol found the packet's socket (a: IP protocol, b: port or ICMP ident)
  SockQueue,    // queued on the socket's receive queue (a: sk_rmem_alloc after, bytes)
  SockWake,     // sk_data_ready woke the task waiting on the socket
  AppRecv,      // the application read it (recvmsg) (a: bytes)
  // Forwarding, fragments, netfilter, the qdisc's dequeue (protocol stack part 1b)
  NfHook,       // a netfilter hook's chain ran (a: hook, NF_INET_*; b: the rule that decided, 1-based,
                // 0: the chain's policy); the verdict is the next event (a Drop ends it)
  IpForward,    // ip_forward: TTL decremented, on its way out (a: TTL after, b: out ifindex)
  IpFragment,   // ip_fragment cut it (a: fragment offset in bytes, b: fragment length); the first
                // event of every fragment after the first (its id: fragment_id(), below)
  IpDefrag,     // ip_defrag queued a fragment (a: fragment offset in bytes, b: the datagram's IP id)
  IpReasm,      // ip_frag_reasm completed the datagram (a: total length, b: fragments joined)
  QdiscDequeue, // left the qdisc for the driver (a: sojourn in the qdisc, ns; b: packets left queued)
  // TCP (protocol stack part 3a)
  TcpRetransmit, // a retransmission of a segment: the first event of the new packet (a: sequence
                 // number, b: the id of the segment's first transmission)
  TcpInput,      // the state machine took the segment (a: the socket's TCP state, b: its sequence number)
  // GSO, GRO, ECN, TCP's window, the link's reordering and duplication (protocol stack part 3b)
  GsoSegment,    // validate_xmit_skb cut a GSO skb into segments (skb_segment): an event of each segment
                 // (a: its index from 0, b: the GSO skb's id, which is its first segment's)
  GroMerge,      // napi_gro_receive merged this segment into the GRO skb held for its flow (a: its payload
                 // bytes, b: the GRO skb's id); it travels on inside that skb, and that skb's end is its end
  GroFlush,      // the GRO skb went up the stack (napi_gro_flush, a full or pushed skb) (a: segments, b: bytes)
  EcnMark,       // a qdisc set CE instead of dropping it (a: its sojourn in the qdisc, ns)
  TcpCwnd,       // counter track, no packet: a TCP socket's window after an ACK (lane: its local port;
                 // a: snd_cwnd in segments; b: ssthresh << 32 | srtt in us)
  LinkReorder,   // the link held the frame back so that the next frames pass it (a: how many)
  LinkDuplicate, // the first event of a copy the link made of a frame (a: bytes, b: the original's id)
  kCount
};

struct TraceEvent {
  uint64_t t_ps = 0;
  uint64_t t_end_ps = 0;  // for spans, else == t_ps
  TraceKind kind{};
  Step step{};
  uint16_t lane = 0;  // NIC: queue pair or vector; host: CPU
  uint32_t a = 0;
  uint64_t b = 0;
  uint64_t packet = 0;  // 0: not about one packet
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // `source`: the emitting component's name ("nic_a", "host_a").
  virtual void trace(const char* source, const TraceEvent& e) = 0;
};

// Where a drop was counted: an RxDrop/TxDropped event's b. The NIC's counters are their
// regs::Stat index; the host's have this bit set and a HostDrop code.
inline constexpr uint64_t kHostDropBit = uint64_t{1} << 63;
enum class HostDrop : uint8_t {
  SoftnetDropped = 1,   // /proc/net/softnet_stat column 2: the backlog was full
  RxErrors,             // the driver's rx_queue_0_errors (descriptor errors, bad length)
  RxAllocFailed,        // the driver's rx_queue_0_alloc_failed (no skb)
  RxNohandler,          // no protocol handler (rx_nohandler)
  TxMapErrors,          // the driver's tx_queue_0_map_errors
  QdiscDrop,            // the qdisc's drops (tc -s qdisc "dropped")
  TxDroppedCore,        // the device's core tx_dropped (no queue, and the driver did not take it)
  ClsactDropped,        // tc ingress dropped it (tc -s qdisc: the clsact qdisc's "dropped")
  RxDroppedCore,        // the device's core rx_dropped (ip -s link "dropped"): no protocol handler
  LinkFault,            // lost on the wire: the link's fault injector dropped it (not a host's counter:
                        // the link's dropped_fault)
  LinkDown,             // in flight when the link went down (the link's dropped_link_down)
  NetfilterDrop,        // a netfilter rule (DROP, REJECT) or a chain's policy: its iptables -v counter
  FragQueueDropped,     // a fragment freed with its reassembly queue (timeout, overlap, memory):
                        // the model's count per fragment (Linux counts ReasmFails per datagram)
  IpInHdrErrors,        // Ip: InHdrErrors (a forwarded packet's TTL ran out)
  IpFragFails,          // Ip: FragFails (too big and DF, or fragmentation failed)
  IpInNoRoutes,         // IpExt: InNoRoutes (a forwarded packet without a route)
  SwitchQueueFull,      // a switch port's output queue was full (tb::EthSwitch dropped_queue_full)
  SwitchFiltered,       // a switch's filtering: for the port it came in on (dropped_filtered)
  SwitchLinkDown,       // inside a switch port when it went down (rx_/tx_dropped_link_down)
  UdpNoPorts,           // Udp: NoPorts (no socket on the port; a port unreachable goes back)
  UdpRcvbufErrors,      // Udp: RcvbufErrors (the socket's receive buffer was full; with InErrors)
  UdpInCsumErrors,      // Udp: InCsumErrors (a bad checksum; with InErrors)
  UdpInErrors,          // Udp: InErrors alone (a truncated or short datagram)
  UdpIgnoredMulti,      // Udp: IgnoredMulti (a broadcast or multicast datagram no socket wanted)
  UdpSinkUnknown,       // the testbench's port-9 sink: a datagram from no expected sender
  TcpInErrs,            // Tcp: InErrs (a bad header or checksum; InCsumErrors too for a checksum)
  TcpNoSocket,          // tcp.no_socket: for no socket (a RST went back unless it was one)
  TcpOldData,           // TcpExt: DelayedACKLost: data all received before (a duplicate ACK with D-SACK back)
  TcpOutOfWindow,       // tcp.out_of_window: outside the receive window (tcp_sequence; a duplicate ACK back)
  TcpPawsDrop,          // TcpExt: PAWSEstab: an old timestamp (RFC 7323 PAWS)
  TcpRcvQDrop,          // TcpExt: TCPRcvQDrop: in order, but the receive buffer was full
  TcpOfoDrop,           // TcpExt: TCPOFODrop: out of order, and the receive buffer was full
  TcpZeroWindowDrop,    // TcpExt: TCPZeroWindowDrop: data while our window was zero
  TcpBadSegment,        // tcp.bad_segment: discarded by the state machine (flags, RST and SYN checks, old ACKs)
  TcpListenDrop,        // TcpExt: ListenDrops: a SYN or ACK a listener could not take (queue full)
  TcpOfoMerge,          // TcpExt: TCPOFOMerge: out of order, and every byte of it already queued
  TcpClosedData,        // tcp.closed: data for a socket its application had closed (a RST went back)
  TcpWriteQueuePurged,  // tcp.write_queue_purged: data written but never sent, freed with the write
                        // queue when the connection ended (tcp_write_queue_purge: a timeout, a
                        // reset, the socket's destruction)
};
constexpr uint64_t host_drop(HostDrop d) { return kHostDropBit | static_cast<uint64_t>(d); }
// A Consumed event's b: an application read the packet (pktgen's checker; a socket's reader
// says so by its step, ingress 24); 0: the stack used it up (an ARP frame, an echo request).
inline constexpr uint64_t kConsumedByApplication = 1;
// A Consumed event's a when reassembly used a fragment up (its bytes joined the datagram that
// continues under the first fragment's id).
inline constexpr uint32_t kConsumedJoined = 0x4A4F494E;  // "JOIN"

// The id of an IPv4 fragment: the first fragment (offset 0) keeps the datagram's id, so the
// reassembled datagram carries it on to the application; every other fragment gets the
// datagram's id with its offset (in 8-byte units, + 1) in bits 48-61, unique per datagram
// even when a router cuts a fragment again. Ids the model makes never use those bits.
constexpr uint64_t fragment_id(uint64_t datagram_id, uint32_t offset_bytes) {
  return offset_bytes == 0 ? datagram_id : (datagram_id & ~(uint64_t{0x3FFF} << 48)) | (uint64_t{(offset_bytes / 8u) + 1u} << 48);
}
// The id of the n-th copy (n >= 1) a link made of a frame: bit 62 marks a link's copy, bits
// 40-47 the copy's number; the original's id in the rest. Ids the model makes never use bits
// 40-47 or 62 (host index << 32 stays below 2^40).
constexpr uint64_t duplicate_id(uint64_t original, uint32_t n) {
  return (original & ~(uint64_t{0xFF} << 40)) | (uint64_t{1} << 62) | (uint64_t{(n & 0xFFu)} << 40);
}
constexpr uint64_t datagram_of(uint64_t fragment) { return fragment & ~(uint64_t{0x3FFF} << 48); }
// The counter's name: an ethtool -S name of the device, or the host's.
std::string_view drop_counter_name(uint64_t b);

// "tx.launch", "rx.poll", ...: the names the writers print.
std::string_view trace_kind_name(TraceKind k);
// The step an event kind stands for when it is emitted on its usual path (a drop's step is
// given by the emitter, which knows where it happened).
Step default_step(TraceKind k);

// A packet's id travels with it through the model's own objects (skb, frame); across the
// descriptor interface, where real hardware carries no such thing, it rides in this side band:
// the driver tags a buffer's bus address with the packet's id when it maps it for TX, the NIC
// takes the tag when it fetches that buffer, and on receive the NIC tags the RX buffer it
// writes and the driver takes the tag when it polls the descriptor. Not visible to the guest;
// present only while tracing or a journey is on, so it costs nothing otherwise.
class PacketTags {
 public:
  void put(uint64_t addr, uint64_t id) {
    if (id != 0) tags_[addr] = id;
  }
  // The id tagged at addr (and the tag removed), or 0.
  uint64_t take(uint64_t addr) {
    const auto it = tags_.find(addr);
    if (it == tags_.end()) return 0;
    const uint64_t id = it->second;
    tags_.erase(it);
    return id;
  }
  std::size_t size() const { return tags_.size(); }

 private:
  std::unordered_map<uint64_t, uint64_t> tags_;
};

}  // namespace vnic::model

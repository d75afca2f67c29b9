// sk_buff: a packet's bytes in host memory (a device can DMA them) plus the metadata the stack
// fills in, the helpers that move its bounds (skb_put/push/pull...), clones and copies, the drop
// reasons, and a pool that recycles skbs and buffers so the hot path allocates nothing.
//
// Linux 6.1 (include/linux/skbuff.h, net/core/skbuff.c, include/net/dropreason.h) is the
// reference; names are Linux's. Where Linux panics (skb_over_panic, skb_under_panic) these
// helpers refuse and leave the skb as it was: a malformed packet is the caller's counted drop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "vnic/model/units.hpp"

namespace vnic::stack {

class NetDevice;
class SkbPool;
struct Sock;  // struct sock; defined with the sockets (part 2)

// Host memory the kernel allocates packet buffers from (the platform implements it).
class PageAllocator {
 public:
  struct Block {
    uint64_t addr = 0;         // host physical address (0: allocation failed)
    std::span<uint8_t> bytes;  // the CPU's view
  };
  virtual ~PageAllocator() = default;
  virtual Block alloc(uint64_t len, uint64_t align) = 0;
  virtual void free(uint64_t addr) = 0;
};

// Linux's packet types (skb->pkt_type), set by eth_type_trans.
enum class PktType : uint8_t { Host = 0, Broadcast = 1, Multicast = 2, OtherHost = 3 };

// skb->ip_summed, with Linux's values (CHECKSUM_NONE ... CHECKSUM_PARTIAL).
enum class IpSummed : uint8_t {
  None = 0,         // RX: nothing verified, the stack checks; TX: the checksum is already complete
  Unnecessary = 1,  // RX: the device verified the checksum(s)
  Complete = 2,     // RX: csum holds the ones' complement sum of the packet from data onwards
  Partial = 3,      // TX: the device computes it from csum_start, stores it at csum_offset
};

// enum skb_drop_reason of Linux 6.1 (include/net/dropreason.h), in its order and with its values.
// Each enumerator is Linux's name in CamelCase, mechanically (TCP_OLD_DATA -> TcpOldData,
// IPV6DISABLED -> Ipv6disabled), so no system macro (TCP_FASTOPEN) can collide with it;
// drop_reason_name() gives Linux's string. NotDroppedYet (SKB_NOT_DROPPED_YET) is never a drop
// reason: the free hook uses it for consume_skb (6.2 calls that SKB_CONSUMED).
enum class SkbDropReason : uint8_t {
  NotDroppedYet = 0,
  NotSpecified,
  NoSocket,
  PktTooSmall,
  TcpCsum,
  SocketFilter,
  UdpCsum,
  NetfilterDrop,
  Otherhost,
  IpCsum,
  IpInhdr,
  IpRpfilter,
  UnicastInL2Multicast,
  XfrmPolicy,
  IpNoproto,
  SocketRcvbuff,
  ProtoMem,
  TcpMd5notfound,
  TcpMd5unexpected,
  TcpMd5failure,
  SocketBacklog,
  TcpFlags,
  TcpZerowindow,
  TcpOldData,
  TcpOverwindow,
  TcpOfomerge,
  TcpRfc7323Paws,
  TcpInvalidSequence,
  TcpReset,
  TcpInvalidSyn,
  TcpClose,
  TcpFastopen,
  TcpOldAck,
  TcpTooOldAck,
  TcpAckUnsentData,
  TcpOfoQueuePrune,
  TcpOfoDrop,
  IpOutnoroutes,
  BpfCgroupEgress,
  Ipv6disabled,
  NeighCreatefail,
  NeighFailed,
  NeighQueuefull,
  NeighDead,
  TcEgress,
  QdiscDrop,
  CpuBacklog,
  Xdp,
  TcIngress,
  UnhandledProto,
  SkbCsum,
  SkbGsoSeg,
  SkbUcopyFault,
  DevHdr,
  DevReady,
  FullRing,
  Nomem,
  HdrTrunc,
  TapFilter,
  TapTxfilter,
  IcmpCsum,
  InvalidProto,
  IpInaddrerrors,
  IpInnoroutes,
  PktTooBig,
  Max,  // SKB_DROP_REASON_MAX: not a reason
};

// Linux's name: "NOT_SPECIFIED", "TCP_CSUM", ... as drop_reasons[] and the kfree_skb tracepoint
// print it; "NOT_DROPPED_YET" for NotDroppedYet (Linux has no string there), "MAX" for Max.
std::string_view drop_reason_name(SkbDropReason r);

// ------------------------------------------------------------------------------ truesize
//
// skb->truesize is what a socket is charged for an skb (sk_rmem_alloc, sk_wmem_alloc): the data
// buffer plus the sk_buff and skb_shared_info, as Linux 6.1 computes it on x86-64 (4 KiB pages,
// 64-byte cache lines, SLUB). Every allocator ends in __build_skb_around(), which sets
//   truesize = SKB_TRUESIZE(size),  size = buffer - SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
//   SKB_TRUESIZE(X) = X + SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
//                   = X + 256 + 320   (X itself is not aligned)
// with sizeof(struct sk_buff) = 232 (counted from 6.1's struct with Debian's config; any size in
// 193..256 gives the same 256) and sizeof(struct skb_shared_info) = 320 (48 bytes of fields and
// MAX_SKB_FRAGS = 17 frags of 16). What differs is how big the buffer is:
//   alloc_skb(size)          kmalloc(SKB_DATA_ALIGN(size) + 320), rounded up to the kmalloc
//                            bucket B (512, 1k, 2k, 4k, 8k, then whole pages): truesize = B + 256
//   build_skb(buf, frag)     a driver's own buffer of `frag` bytes: truesize = frag + 256
//                            (a 2 KiB-class RX buffer, as ixgbe/i40e build around: 2304)
//   napi_alloc_skb(len)      len + NET_SKB_PAD (64) + NET_IP_ALIGN (0) = L; L <= 704: a 1 KiB
//                            page fragment (1280); L <= 3776: a page fragment of
//                            SKB_DATA_ALIGN(L) + 320 (SKB_DATA_ALIGN(L) + 576); else alloc_skb(L)
//   netdev_alloc_skb(len)    L = len + 64; L <= 704 or L > 3776: alloc_skb(L); else a page
//                            fragment as above
//   pktgen_alloc_skb         netdev_alloc_skb(pkt_size + 64 + LL_RESERVED_SPACE 16)
// The figures for our skbs (frame lengths without FCS):
//   driver RX (napi_alloc_skb): 60 B -> 1280, 1514 B -> 2176, 9014 B -> 16640
//   Linux's pktgen:             60 B -> 1280, 1514 B -> 2240
// SkbPool::alloc(len) stands for napi_alloc_skb(len) (the driver's RX copy) unless told otherwise.
inline constexpr uint32_t kSmpCacheBytes = 64;       // SMP_CACHE_BYTES
inline constexpr uint32_t kPageSize = 4096;          // PAGE_SIZE
inline constexpr uint32_t kSizeofSkBuff = 232;       // sizeof(struct sk_buff)
inline constexpr uint32_t kSizeofSharedInfo = 320;   // sizeof(struct skb_shared_info)
inline constexpr uint32_t kNetSkbPad = 64;           // NET_SKB_PAD: max(32, L1_CACHE_BYTES)
inline constexpr uint32_t kNetIpAlign = 0;           // NET_IP_ALIGN on x86

constexpr uint32_t skb_data_align(uint32_t x) { return (x + kSmpCacheBytes - 1) & ~(kSmpCacheBytes - 1); }
constexpr uint32_t skb_truesize(uint32_t x) {  // SKB_TRUESIZE
  return x + skb_data_align(kSizeofSkBuff) + skb_data_align(kSizeofSharedInfo);
}
constexpr uint32_t skb_with_overhead(uint32_t x) { return x - skb_data_align(kSizeofSharedInfo); }
// The size SLUB's kmalloc really gives for a request (ksize / kmalloc_size_roundup).
constexpr uint32_t kmalloc_size_roundup(uint32_t n) {
  if (n <= 8) return 8;
  if (n > (1u << 31)) return n;  // no such kmalloc; keeps the loop finite
  if (n > 64 && n <= 96) return 96;
  if (n > 128 && n <= 192) return 192;
  uint32_t b = 8;
  while (b < n) b <<= 1;  // powers of two; beyond 8 KiB the page allocator's 2^order pages
  return b;
}
constexpr uint32_t alloc_skb_truesize(uint32_t size) {  // __alloc_skb
  return skb_truesize(skb_with_overhead(kmalloc_size_roundup(skb_data_align(size) + skb_data_align(kSizeofSharedInfo))));
}
constexpr uint32_t build_skb_truesize(uint32_t frag_size) {  // __build_skb_around with frag_size
  return skb_truesize(skb_with_overhead(frag_size));
}
constexpr uint32_t napi_alloc_skb_truesize(uint32_t len) {  // __napi_alloc_skb
  const uint32_t l = len + kNetSkbPad + kNetIpAlign;
  if (l > skb_with_overhead(kPageSize)) return alloc_skb_truesize(l);
  if (l <= skb_with_overhead(1024)) return build_skb_truesize(1024);  // page_frag_alloc_1k
  return build_skb_truesize(skb_data_align(l) + skb_data_align(kSizeofSharedInfo));
}
constexpr uint32_t netdev_alloc_skb_truesize(uint32_t len) {  // __netdev_alloc_skb
  const uint32_t l = len + kNetSkbPad;
  if (l <= skb_with_overhead(1024) || l > skb_with_overhead(kPageSize)) return alloc_skb_truesize(l);
  return build_skb_truesize(skb_data_align(l) + skb_data_align(kSizeofSharedInfo));
}
constexpr uint32_t pktgen_alloc_skb_truesize(uint32_t pkt_size) {  // net/core/pktgen.c
  return netdev_alloc_skb_truesize(pkt_size + 64 + 16);
}

// Which Linux allocator an skb from SkbPool::alloc stands for; it decides only truesize.
enum class SkbAlloc : uint8_t {
  NapiAllocSkb,    // napi_alloc_skb(napi, len): the driver's RX copy (the default)
  NetdevAllocSkb,  // netdev_alloc_skb(dev, len)
  AllocSkb,        // alloc_skb(NET_SKB_PAD + len) then skb_reserve(NET_SKB_PAD): the stack's own
  Pktgen,          // pktgen_alloc_skb for a frame of len bytes
};
constexpr uint32_t skb_alloc_truesize(SkbAlloc how, uint32_t len) {
  switch (how) {
    case SkbAlloc::NetdevAllocSkb: return netdev_alloc_skb_truesize(len);
    case SkbAlloc::AllocSkb: return alloc_skb_truesize(kNetSkbPad + len);
    case SkbAlloc::Pktgen: return pktgen_alloc_skb_truesize(len);
    case SkbAlloc::NapiAllocSkb: break;
  }
  return napi_alloc_skb_truesize(len);
}

// ------------------------------------------------------------------------------ sk_buff

// A data buffer and what the skbs sharing it share (Linux keeps this in the skb_shared_info at
// the buffer's end; here it sits beside the buffer, so host memory holds only packet bytes).
struct SkbSharedInfo {
  uint64_t addr = 0;              // host address of the buffer
  uint8_t* head = nullptr;        // CPU view
  uint32_t size = 0;              // bytes
  uint32_t dataref = 0;           // skbs whose head this is (shinfo->dataref)
  uint8_t cls = 0;                // the pool's buffer class: 0 buf_size, 1 kLargeBuf, 2 kHugeBuf
  SkbSharedInfo* next = nullptr;  // the pool's free list
};

// The data area, as in Linux (where on 64-bit tail and end are offsets from head too):
//
//   head           head+data        tail = data+len          end = size
//    |<- headroom ->|<----- len ----->|<------ tailroom ------->|
//
// `data` is an offset (Linux: a pointer) and `len` is stored, tail derived (no paged frags, so
// Linux's len == tail - data always holds). Header offsets are from head, kNoHeader when unset.
struct SkBuff {
  static constexpr uint16_t kNoHeader = 0xFFFF;  // (typeof(skb->mac_header))~0U

  uint64_t addr = 0;          // host address of head[0]
  uint8_t* head = nullptr;    // CPU view of the buffer
  uint32_t size = 0;          // buffer bytes: Linux's skb->end
  uint32_t data = 0;          // offset of the first packet byte (headroom before it)
  uint32_t len = 0;           // packet bytes
  uint32_t mac_len = 0;       // 14 once eth_type_trans has pulled the Ethernet header
  uint16_t mac_header = kNoHeader;
  uint16_t network_header = kNoHeader;
  uint16_t transport_header = kNoHeader;
  uint16_t protocol = 0;      // EtherType (host order), set by eth_type_trans
  PktType pkt_type = PktType::Host;
  IpSummed ip_summed = IpSummed::None;
  bool cloned = false;        // skb->cloned: was cloned or is a clone (see skb_cloned)
  SkbDropReason drop_reason = SkbDropReason::NotDroppedYet;  // set when freed: why, or consumed
  uint16_t queue_mapping = 0;
  uint16_t csum_start = 0;    // CHECKSUM_PARTIAL: offset from head where summing starts
  uint16_t csum_offset = 0;   // CHECKSUM_PARTIAL: where from csum_start the result goes
  uint32_t csum = 0;          // CHECKSUM_COMPLETE: the sum (__wsum)
  uint32_t priority = 0;      // skb->priority (SO_PRIORITY, qdisc band)
  uint32_t mark = 0;          // skb->mark (SO_MARK, netfilter)
  uint32_t truesize = 0;      // see "truesize" above
  uint32_t users = 0;         // references (skb_get); 0 while in the pool
  NetDevice* dev = nullptr;
  Sock* sk = nullptr;                     // owning socket, charged truesize (part 2)
  void (*destructor)(SkBuff*) = nullptr;  // run when freed or orphaned (sock_rfree, sock_wfree)
  SkbSharedInfo* shinfo = nullptr;        // the data buffer and its reference count
  SkbPool* pool = nullptr;                // where kfree_skb returns it
  uint64_t trace_id = 0;                  // follows the packet through the trace
  // skb_shinfo(skb)->gso_size / gso_segs: a GSO skb from TCP (segments of gso_size payload bytes,
  // cut at the device: skb_segment) or a GRO skb merged from gso_segs received segments; 0 for a
  // plain skb.
  uint16_t gso_size = 0;
  uint16_t gso_segs = 0;
  // The packet ids of segments 2..gso_segs of a GSO or GRO skb (the first is trace_id): each
  // segment keeps its id while the skb carries it, and the skb's end (a drop, the reader) is
  // every one of theirs. Empty for a plain skb.
  std::vector<uint64_t> seg_ids;
  uint8_t rt_type = 0;                    // skb_rtable(skb)->rt_type once input routing ran (RTN_*:
                                          // 1 unicast, 2 local, 3 broadcast, 5 multicast; 0 none)
  model::Instant tstamp{};                // when the driver received it / the stack queued it
  SkBuff* next = nullptr;                 // queues and the pool's free list

  std::span<uint8_t> bytes() { return {head + data, len}; }
  std::span<const uint8_t> bytes() const { return {head + data, len}; }
  uint64_t data_addr() const { return addr + data; }
  uint32_t headroom() const { return data; }
  uint32_t tailroom() const { return size - data - len; }
  uint32_t tail() const { return data + len; }  // offset of skb_tail_pointer
  uint32_t end() const { return size; }         // skb_end_offset
  // The frame from the link-layer header (skb_mac_header) to the tail; without a mac header,
  // from mac_len bytes before data.
  std::span<const uint8_t> mac_bytes() const {
    const uint32_t from = mac_header != kNoHeader ? mac_header : (data >= mac_len ? data - mac_len : data);
    return from <= tail() ? std::span<const uint8_t>{head + from, tail() - from} : std::span<const uint8_t>{};
  }
  // From the network / transport header to the tail; empty when unset or past the tail.
  std::span<uint8_t> network_bytes() { return from_header(network_header); }
  std::span<const uint8_t> network_bytes() const { return from_header(network_header); }
  std::span<uint8_t> transport_bytes() { return from_header(transport_header); }
  std::span<const uint8_t> transport_bytes() const { return from_header(transport_header); }

 private:
  std::span<uint8_t> from_header(uint16_t h) const {
    if (h == kNoHeader || h > tail()) return {};
    return {head + h, tail() - h};
  }
};

// skb_is_gso
inline bool skb_is_gso(const SkBuff& s) { return s.gso_size != 0; }
// The bytes every segment of a TCP GSO skb repeats (link, IPv4 and TCP headers); 0 if unset
// (stack/src/core/gso.cpp).
uint32_t gso_header_len(const SkBuff& skb);
// qdisc_pkt_len: a GSO skb's length with the headers of all its segments (what a qdisc counts).
uint32_t qdisc_pkt_len(const SkBuff& skb);
// Calls fn(id) for the packet the skb is and, for a GSO or GRO skb, each segment it carries.
template <class F>
void for_each_packet_id(const SkBuff& s, F&& fn) {
  fn(s.trace_id);
  for (const uint64_t id : s.seg_ids) fn(id);
}

// ---- bounds (linear skbs: skb_headlen == len)

inline uint32_t skb_headroom(const SkBuff& s) { return s.headroom(); }
inline uint32_t skb_tailroom(const SkBuff& s) { return s.tailroom(); }
inline uint32_t skb_headlen(const SkBuff& s) { return s.len; }
inline uint32_t skb_end_offset(const SkBuff& s) { return s.end(); }
inline uint8_t* skb_tail_pointer(const SkBuff& s) { return s.head + s.tail(); }
inline uint8_t* skb_end_pointer(const SkBuff& s) { return s.head + s.end(); }

// skb_reserve: moves data and tail by len (meant for an empty skb). False, unchanged, if the
// tail would pass the end.
inline bool skb_reserve(SkBuff& s, uint32_t len) {
  if (len > s.tailroom()) return false;
  s.data += len;
  return true;
}
// skb_put: appends len bytes at the tail; returns them. Empty (data() null), unchanged, if they
// do not fit in the tailroom (Linux: skb_over_panic).
inline std::span<uint8_t> skb_put(SkBuff& s, uint32_t len) {
  if (len > s.tailroom()) return {};
  uint8_t* t = skb_tail_pointer(s);
  s.len += len;
  return {t, len};
}
// skb_push: prepends len bytes before data; returns them (the new data). Empty, unchanged, if
// they do not fit in the headroom (Linux: skb_under_panic).
inline std::span<uint8_t> skb_push(SkBuff& s, uint32_t len) {
  if (len > s.data) return {};
  s.data -= len;
  s.len += len;
  return {s.head + s.data, len};
}
// skb_pull: removes len bytes from the start; returns the new data, nullptr (unchanged) if the
// packet is shorter than len.
inline uint8_t* skb_pull(SkBuff& s, uint32_t len) {
  if (len > s.len) return nullptr;
  s.data += len;
  s.len -= len;
  return s.head + s.data;
}
// skb_pull_data: as skb_pull, but returns the bytes pulled (the header just passed); empty,
// unchanged, if the packet is shorter than len.
inline std::span<uint8_t> skb_pull_data(SkBuff& s, uint32_t len) {
  uint8_t* const was = s.head + s.data;
  if (skb_pull(s, len) == nullptr) return {};
  return {was, len};
}
// pskb_may_pull: whether len bytes are there to be read at data (all data is linear here).
inline bool pskb_may_pull(const SkBuff& s, uint32_t len) { return len <= s.len; }
// skb_trim: cuts the packet to len bytes if it is longer.
inline void skb_trim(SkBuff& s, uint32_t len) {
  if (s.len > len) s.len = len;
}

// ---- header offsets (relative to head, as Linux's u16 fields)

namespace detail {
// data + offset as a header offset, if it lies within the buffer.
inline bool header_at(const SkBuff& s, int offset, uint16_t& out) {
  const int64_t h = int64_t{s.data} + offset;
  if (h < 0 || h > int64_t{s.size} || h >= SkBuff::kNoHeader) return false;
  out = static_cast<uint16_t>(h);
  return true;
}
inline uint8_t* header_ptr(const SkBuff& s, uint16_t h) { return h == SkBuff::kNoHeader ? nullptr : s.head + h; }
inline int header_offset(const SkBuff& s, uint16_t h) { return int{h} - static_cast<int>(s.data); }
}  // namespace detail

inline void skb_reset_mac_header(SkBuff& s) { s.mac_header = static_cast<uint16_t>(s.data); }
inline void skb_reset_network_header(SkBuff& s) { s.network_header = static_cast<uint16_t>(s.data); }
inline void skb_reset_transport_header(SkBuff& s) { s.transport_header = static_cast<uint16_t>(s.data); }
// skb_set_*_header(skb, offset): the header at data + offset (offset may be negative). False,
// unchanged, if that is outside the buffer.
inline bool skb_set_mac_header(SkBuff& s, int offset) { return detail::header_at(s, offset, s.mac_header); }
inline bool skb_set_network_header(SkBuff& s, int offset) { return detail::header_at(s, offset, s.network_header); }
inline bool skb_set_transport_header(SkBuff& s, int offset) {
  return detail::header_at(s, offset, s.transport_header);
}
inline bool skb_mac_header_was_set(const SkBuff& s) { return s.mac_header != SkBuff::kNoHeader; }
inline bool skb_network_header_was_set(const SkBuff& s) { return s.network_header != SkBuff::kNoHeader; }
inline bool skb_transport_header_was_set(const SkBuff& s) { return s.transport_header != SkBuff::kNoHeader; }
// Pointers to the headers; nullptr while unset.
inline uint8_t* skb_mac_header(const SkBuff& s) { return detail::header_ptr(s, s.mac_header); }
inline uint8_t* skb_network_header(const SkBuff& s) { return detail::header_ptr(s, s.network_header); }
inline uint8_t* skb_transport_header(const SkBuff& s) { return detail::header_ptr(s, s.transport_header); }
// Header position relative to data (negative once pulled past); only meaningful when set.
inline int skb_mac_offset(const SkBuff& s) { return detail::header_offset(s, s.mac_header); }
inline int skb_network_offset(const SkBuff& s) { return detail::header_offset(s, s.network_header); }
inline int skb_transport_offset(const SkBuff& s) { return detail::header_offset(s, s.transport_header); }
inline uint32_t skb_network_header_len(const SkBuff& s) {
  return static_cast<uint32_t>(s.transport_header - s.network_header);
}
inline uint32_t skb_mac_header_len(const SkBuff& s) { return static_cast<uint32_t>(s.network_header - s.mac_header); }
// skb_reset_mac_len: mac_len = network_header - mac_header (__netif_receive_skb_core does it).
inline void skb_reset_mac_len(SkBuff& s) {
  s.mac_len = skb_mac_header_was_set(s) && skb_network_header_was_set(s) && s.network_header >= s.mac_header
                  ? static_cast<uint32_t>(s.network_header - s.mac_header)
                  : 0;
}

// ---- references, clones, copies, freeing

// skb_get: another reference (users + 1); the skb is freed when the last one is dropped.
inline SkBuff* skb_get(SkBuff* s) {
  ++s->users;
  return s;
}
// skb_shared: more than one reference to this sk_buff.
inline bool skb_shared(const SkBuff& s) { return s.users != 1; }
// skb_cloned: the data buffer is shared with a clone (do not write it without a private copy).
inline bool skb_cloned(const SkBuff& s) { return s.cloned && s.shinfo != nullptr && s.shinfo->dataref != 1; }
// skb_clone: a new sk_buff sharing this one's data buffer (dataref + 1), with a copy of its
// header fields, no owner and no destructor; nullptr (counted) if the pool is at its limit.
SkBuff* skb_clone(SkBuff* s);
// skb_copy: a new sk_buff with a private copy of the buffer (headroom and data) and the header
// fields, no owner and no destructor; nullptr (counted) if no buffer is to be had.
SkBuff* skb_copy(const SkBuff* s);
// kfree_skb_reason / kfree_skb: drops a reference; the last one frees the skb as a drop with
// `reason` (reported to the pool's free hook, recorded in drop_reason). nullptr is a no-op.
void kfree_skb(SkBuff* s, SkbDropReason reason = SkbDropReason::NotSpecified);
inline void kfree_skb_reason(SkBuff* s, SkbDropReason reason) { kfree_skb(s, reason); }
// consume_skb: the same, but the packet was used, not dropped (TX completion, delivered data).
void consume_skb(SkBuff* s);
// skb_orphan: runs the destructor (uncharging the owner) and forgets the socket.
inline void skb_orphan(SkBuff& s) {
  if (s.destructor != nullptr) s.destructor(&s);
  s.destructor = nullptr;
  s.sk = nullptr;
}

// A FIFO of skbs linked through next (sk_buff_head).
class SkbQueue {
 public:
  void push_back(SkBuff* s) {
    s->next = nullptr;
    if (tail_) tail_->next = s; else head_ = s;
    tail_ = s;
    ++len_;
  }
  SkBuff* pop_front() {
    SkBuff* s = head_;
    if (!s) return nullptr;
    head_ = s->next;
    if (!head_) tail_ = nullptr;
    s->next = nullptr;
    --len_;
    return s;
  }
  SkBuff* front() const { return head_; }
  uint32_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  // Appends all of `o` and empties it.
  void splice_back(SkbQueue& o) {
    if (o.empty()) return;
    if (tail_) tail_->next = o.head_; else head_ = o.head_;
    tail_ = o.tail_;
    len_ += o.len_;
    o.head_ = o.tail_ = nullptr;
    o.len_ = 0;
  }

 private:
  SkBuff* head_ = nullptr;
  SkBuff* tail_ = nullptr;
  uint32_t len_ = 0;
};

struct SkbPoolStats {
  uint64_t allocs = 0, frees = 0, failed = 0, double_frees = 0;  // sk_buffs (clones, copies too)
  uint64_t clones = 0, copies = 0;
  uint64_t dropped = 0, consumed = 0;  // how the frees went: kfree_skb, consume_skb
  uint64_t buffers = 0;                // buffers taken from host memory so far
};

// sk_buffs and their data buffers, recycled separately (the skbuff_head_cache and the slab and
// page_pool recycling of a real kernel): a buffer is `buf_size` bytes, or kLargeBuf for data
// that does not fit (jumbo frames), or kHugeBuf above that (a datagram up to IP's 65535 bytes
// that a socket sends or reassembly builds: Linux's page frags and frag lists, one flat buffer
// here), and returns to the pool when the last skb using it goes. At most `max_live` sk_buffs
// exist at once (clones and copies count).
class SkbPool {
 public:
  static constexpr uint32_t kHeadroom = kNetSkbPad;  // NET_SKB_PAD on x86-64
  static constexpr uint32_t kLargeBuf = 16384 + kHeadroom;
  // IP's largest datagram, its link header and room to spare.
  static constexpr uint32_t kHugeBuf = 65536 + 128 + kHeadroom;
  // Told about every skb freed (the kfree_skb / consume_skb tracepoints): `reason` is why it was
  // dropped, or NotDroppedYet for consume_skb. Unset by default.
  using FreeHook = void (*)(void* ctx, const SkBuff& skb, SkbDropReason reason);

  SkbPool(PageAllocator& mem, uint32_t buf_size, uint32_t max_live);
  ~SkbPool();
  SkbPool(const SkbPool&) = delete;
  SkbPool& operator=(const SkbPool&) = delete;

  // An skb with `len` bytes of data after kHeadroom, one user, truesize as `how` gives it;
  // nullptr (counted) when the pool is at its limit, host memory is exhausted, or len does not fit.
  SkBuff* alloc(uint32_t len, SkbAlloc how = SkbAlloc::NapiAllocSkb);
  SkBuff* clone(SkBuff* s);       // skb_clone
  SkBuff* copy(const SkBuff* s);  // skb_copy
  // Drops one reference; the last frees the skb: reported, recorded in drop_reason, then freed.
  void release(SkBuff* s, SkbDropReason reason);
  // __kfree_skb: frees now whatever users says, unreported: the destructor runs, the data
  // buffer loses a reference, the sk_buff returns to the pool.
  void free(SkBuff* s);
  // Teardown of a protocol: every live skb whose destructor is `destructor` forgets its socket
  // (that destructor will not run) and each distinct socket is passed to `gone` once, so the
  // protocol can free sockets whose skbs are still in a qdisc or a ring when the host goes.
  template <class Fn>
  void detach_socks(void (*destructor)(SkBuff*), Fn&& gone) {
    std::vector<Sock*> socks;
    for (const auto& s : skbs_) {
      if (s->shinfo == nullptr || s->destructor != destructor || s->sk == nullptr) continue;
      if (std::find(socks.begin(), socks.end(), s->sk) == socks.end()) socks.push_back(s->sk);
      s->sk = nullptr;
      s->destructor = nullptr;
    }
    for (Sock* sk : socks) gone(sk);
  }

  void set_free_hook(FreeHook fn, void* ctx) {
    hook_ = fn;
    hook_ctx_ = ctx;
  }
  uint32_t buf_size() const { return buf_size_; }
  uint64_t live() const { return stats_.allocs - stats_.frees; }  // sk_buffs out
  uint64_t buffers_in_use() const { return bufs_out_; }            // data buffers out
  const SkbPoolStats& stats() const { return stats_; }

 private:
  SkbSharedInfo* get_buffer(uint8_t cls);
  SkBuff* get_skb();

  PageAllocator& mem_;
  uint32_t buf_size_;
  uint32_t max_live_;
  std::vector<std::unique_ptr<SkBuff>> skbs_;         // every sk_buff made (owned)
  std::vector<std::unique_ptr<SkbSharedInfo>> bufs_;  // every buffer taken (owned)
  SkBuff* free_skbs_ = nullptr;
  SkbSharedInfo* free_ = nullptr;        // buf_size_ buffers
  SkbSharedInfo* free_large_ = nullptr;  // kLargeBuf buffers
  SkbSharedInfo* free_huge_ = nullptr;   // kHugeBuf buffers
  uint64_t bufs_out_ = 0;
  FreeHook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
  SkbPoolStats stats_;
};

}  // namespace vnic::stack

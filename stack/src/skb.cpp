// SkbPool (sk_buffs and host-memory buffers on free lists), clone/copy/free, drop reason names.
#include "vnic/stack/skb.hpp"

#include <array>
#include <cstring>

namespace vnic::stack {

namespace {

// drop_reasons[] of net/core/skbuff.c (6.1), indexed by SkbDropReason.
constexpr std::array<std::string_view, static_cast<std::size_t>(SkbDropReason::Max) + 1> kDropReasonNames = {
    "NOT_DROPPED_YET",
    "NOT_SPECIFIED",
    "NO_SOCKET",
    "PKT_TOO_SMALL",
    "TCP_CSUM",
    "SOCKET_FILTER",
    "UDP_CSUM",
    "NETFILTER_DROP",
    "OTHERHOST",
    "IP_CSUM",
    "IP_INHDR",
    "IP_RPFILTER",
    "UNICAST_IN_L2_MULTICAST",
    "XFRM_POLICY",
    "IP_NOPROTO",
    "SOCKET_RCVBUFF",
    "PROTO_MEM",
    "TCP_MD5NOTFOUND",
    "TCP_MD5UNEXPECTED",
    "TCP_MD5FAILURE",
    "SOCKET_BACKLOG",
    "TCP_FLAGS",
    "TCP_ZEROWINDOW",
    "TCP_OLD_DATA",
    "TCP_OVERWINDOW",
    "TCP_OFOMERGE",
    "TCP_RFC7323_PAWS",
    "TCP_INVALID_SEQUENCE",
    "TCP_RESET",
    "TCP_INVALID_SYN",
    "TCP_CLOSE",
    "TCP_FASTOPEN",
    "TCP_OLD_ACK",
    "TCP_TOO_OLD_ACK",
    "TCP_ACK_UNSENT_DATA",
    "TCP_OFO_QUEUE_PRUNE",
    "TCP_OFO_DROP",
    "IP_OUTNOROUTES",
    "BPF_CGROUP_EGRESS",
    "IPV6DISABLED",
    "NEIGH_CREATEFAIL",
    "NEIGH_FAILED",
    "NEIGH_QUEUEFULL",
    "NEIGH_DEAD",
    "TC_EGRESS",
    "QDISC_DROP",
    "CPU_BACKLOG",
    "XDP",
    "TC_INGRESS",
    "UNHANDLED_PROTO",
    "SKB_CSUM",
    "SKB_GSO_SEG",
    "SKB_UCOPY_FAULT",
    "DEV_HDR",
    "DEV_READY",
    "FULL_RING",
    "NOMEM",
    "HDR_TRUNC",
    "TAP_FILTER",
    "TAP_TXFILTER",
    "ICMP_CSUM",
    "INVALID_PROTO",
    "IP_INADDRERRORS",
    "IP_INNOROUTES",
    "PKT_TOO_BIG",
    "MAX",
};

}  // namespace

std::string_view drop_reason_name(SkbDropReason r) {
  const auto i = static_cast<std::size_t>(r);
  return i < kDropReasonNames.size() ? kDropReasonNames[i] : std::string_view{"UNKNOWN"};
}

SkbPool::SkbPool(PageAllocator& mem, uint32_t buf_size, uint32_t max_live)
    : mem_(mem), buf_size_(buf_size), max_live_(max_live) {}

SkbPool::~SkbPool() {
  for (const auto& b : bufs_) mem_.free(b->addr);
}

SkbSharedInfo* SkbPool::get_buffer(uint8_t cls) {
  SkbSharedInfo*& list = cls == 2 ? free_huge_ : cls == 1 ? free_large_ : free_;
  SkbSharedInfo* b = list;
  if (b != nullptr) {
    list = b->next;
  } else {
    const uint32_t size = cls == 2 ? kHugeBuf : cls == 1 ? kLargeBuf : buf_size_;
    const PageAllocator::Block blk = mem_.alloc(size, 64);
    if (blk.addr == 0) return nullptr;
    bufs_.push_back(std::make_unique<SkbSharedInfo>());
    b = bufs_.back().get();
    b->addr = blk.addr;
    b->head = blk.bytes.data();
    b->size = size;
    b->cls = cls;
    ++stats_.buffers;
  }
  b->next = nullptr;
  b->dataref = 1;
  ++bufs_out_;
  return b;
}

SkBuff* SkbPool::get_skb() {
  SkBuff* s = free_skbs_;
  if (s != nullptr) {
    free_skbs_ = s->next;
  } else {
    skbs_.push_back(std::make_unique<SkBuff>());
    s = skbs_.back().get();
  }
  // A fresh skb, but the segment-id list keeps its memory: GSO and GRO skbs fill one per skb
  std::vector<uint64_t> ids = std::move(s->seg_ids);
  ids.clear();
  *s = SkBuff{};
  s->seg_ids = std::move(ids);
  ++stats_.allocs;
  return s;
}

SkBuff* SkbPool::alloc(uint32_t len, SkbAlloc how) {
  const uint8_t cls = len <= buf_size_ - kHeadroom ? 0 : len <= kLargeBuf - kHeadroom ? 1 : 2;
  const uint32_t size = cls == 2 ? kHugeBuf : cls == 1 ? kLargeBuf : buf_size_;
  if (len > size - kHeadroom || live() >= max_live_) {
    ++stats_.failed;
    return nullptr;
  }
  SkbSharedInfo* b = get_buffer(cls);
  if (b == nullptr) {
    ++stats_.failed;
    return nullptr;
  }
  SkBuff* s = get_skb();
  s->addr = b->addr;
  s->head = b->head;
  s->size = b->size;
  s->shinfo = b;
  s->data = kHeadroom;
  s->len = len;
  s->truesize = skb_alloc_truesize(how, len);
  s->users = 1;
  s->pool = this;
  return s;
}

SkBuff* SkbPool::clone(SkBuff* s) {
  // __skb_clone: the header fields copied, the buffer shared, both marked cloned.
  if (s == nullptr || s->shinfo == nullptr || live() >= max_live_) {
    ++stats_.failed;
    return nullptr;
  }
  SkBuff* n = get_skb();
  *n = *s;
  n->next = nullptr;
  n->sk = nullptr;
  n->destructor = nullptr;
  n->users = 1;
  n->cloned = true;
  n->drop_reason = SkbDropReason::NotDroppedYet;
  s->cloned = true;
  ++s->shinfo->dataref;
  ++stats_.clones;
  return n;
}

SkBuff* SkbPool::copy(const SkBuff* s) {
  // skb_copy: a buffer of the same size, the same headroom, headroom and data copied, then the
  // header fields (skb_copy_header); header offsets stay valid as the headroom is the same.
  if (s == nullptr || s->shinfo == nullptr || live() >= max_live_) {
    ++stats_.failed;
    return nullptr;
  }
  SkbSharedInfo* b = get_buffer(s->shinfo->cls);
  if (b == nullptr) {
    ++stats_.failed;
    return nullptr;
  }
  SkBuff* n = get_skb();
  *n = *s;
  n->addr = b->addr;
  n->head = b->head;
  n->size = b->size;
  n->shinfo = b;
  std::memcpy(b->head, s->head, s->data + s->len);
  n->next = nullptr;
  n->sk = nullptr;
  n->destructor = nullptr;
  n->users = 1;
  n->cloned = false;
  n->drop_reason = SkbDropReason::NotDroppedYet;
  // Linux allocates __alloc_skb(skb_end_offset(skb)); every allocator leaves
  // truesize == SKB_TRUESIZE(end offset), so the source's end offset is truesize less that.
  const uint32_t overhead = skb_truesize(0);
  n->truesize = alloc_skb_truesize(s->truesize > overhead ? s->truesize - overhead : 0);
  ++stats_.copies;
  return n;
}

void SkbPool::release(SkBuff* s, SkbDropReason reason) {
  if (s->users == 0) {
    ++stats_.double_frees;  // our own bug if it happens: counted, never corrupts the lists
    return;
  }
  if (--s->users > 0) return;  // skb_unref: another holder frees it
  if (reason >= SkbDropReason::Max) reason = SkbDropReason::NotSpecified;  // Linux warns once
  s->drop_reason = reason;
  if (reason == SkbDropReason::NotDroppedYet) {
    ++stats_.consumed;
  } else {
    ++stats_.dropped;
  }
  if (hook_ != nullptr) [[unlikely]] hook_(hook_ctx_, *s, reason);
  free(s);
}

void SkbPool::free(SkBuff* s) {
  if (s == nullptr) return;
  if (s->shinfo == nullptr) {
    ++stats_.double_frees;
    return;
  }
  if (s->destructor != nullptr) s->destructor(s);  // skb_release_head_state
  SkbSharedInfo* b = s->shinfo;
  if (--b->dataref == 0) {  // skb_release_data: the last user of the buffer
    SkbSharedInfo*& list = b->cls == 2 ? free_huge_ : b->cls == 1 ? free_large_ : free_;
    b->next = list;
    list = b;
    --bufs_out_;
  }
  s->shinfo = nullptr;
  s->users = 0;
  s->sk = nullptr;
  s->destructor = nullptr;
  s->next = free_skbs_;
  free_skbs_ = s;
  ++stats_.frees;
}

SkBuff* skb_clone(SkBuff* s) { return s != nullptr && s->pool != nullptr ? s->pool->clone(s) : nullptr; }

SkBuff* skb_copy(const SkBuff* s) { return s != nullptr && s->pool != nullptr ? s->pool->copy(s) : nullptr; }

void kfree_skb(SkBuff* s, SkbDropReason reason) {
  if (s == nullptr || s->pool == nullptr) return;
  if (reason == SkbDropReason::NotDroppedYet) reason = SkbDropReason::NotSpecified;  // a drop has a reason
  s->pool->release(s, reason);
}

void consume_skb(SkBuff* s) {
  if (s == nullptr || s->pool == nullptr) return;
  s->pool->release(s, SkbDropReason::NotDroppedYet);
}

}  // namespace vnic::stack

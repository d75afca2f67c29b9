// sk_buff: a packet's bytes in host memory (a device can DMA them) plus the metadata the stack
// fills in, and a pool that recycles them so the hot path allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vnic/model/units.hpp"

namespace vnic::stack {

class NetDevice;
class SkbPool;

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

struct SkBuff {
  uint64_t addr = 0;            // host address of head[0]
  uint8_t* head = nullptr;      // CPU view of the buffer
  uint32_t size = 0;            // buffer bytes
  uint32_t data = 0;            // offset of the first packet byte (headroom before it)
  uint32_t len = 0;             // packet bytes
  uint32_t mac_len = 0;         // 14 once eth_type_trans has pulled the Ethernet header
  uint16_t protocol = 0;        // EtherType (host order), set by eth_type_trans
  PktType pkt_type = PktType::Host;
  NetDevice* dev = nullptr;
  SkbPool* pool = nullptr;      // where kfree_skb returns it
  uint16_t queue_mapping = 0;
  uint64_t trace_id = 0;        // follows the packet through the trace
  model::Instant tstamp{};      // when the driver received it / the stack queued it
  SkBuff* next = nullptr;       // queues and the pool's free list

  std::span<uint8_t> bytes() { return {head + data, len}; }
  std::span<const uint8_t> bytes() const { return {head + data, len}; }
  uint64_t data_addr() const { return addr + data; }
  // The frame including a pulled link-layer header.
  std::span<const uint8_t> mac_bytes() const { return {head + data - mac_len, len + mac_len}; }
  uint32_t headroom() const { return data; }
  uint32_t tailroom() const { return size - data - len; }
};

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
  uint64_t allocs = 0, frees = 0, failed = 0, double_frees = 0;
  uint64_t buffers = 0;  // buffers taken from host memory so far
};

// Every skb has one buffer from host memory, kept with it when freed (the slab and page_pool
// recycling of a real kernel): `buf_size` bytes, or kLargeBuf for data that does not fit (jumbo
// frames). At most `max_live` skbs exist at once.
class SkbPool {
 public:
  static constexpr uint32_t kHeadroom = 64;  // NET_SKB_PAD on x86-64
  static constexpr uint32_t kLargeBuf = 16384 + kHeadroom;

  SkbPool(PageAllocator& mem, uint32_t buf_size, uint32_t max_live);
  ~SkbPool();
  SkbPool(const SkbPool&) = delete;
  SkbPool& operator=(const SkbPool&) = delete;

  // An skb with `len` bytes of data after the headroom; nullptr (counted) when the pool is at its
  // limit, host memory is exhausted, or len does not fit.
  SkBuff* alloc(uint32_t len);
  void free(SkBuff* s);
  uint32_t buf_size() const { return buf_size_; }
  uint64_t live() const { return stats_.allocs - stats_.frees; }
  const SkbPoolStats& stats() const { return stats_; }

 private:
  PageAllocator& mem_;
  uint32_t buf_size_;
  uint32_t max_live_;
  std::vector<SkBuff*> all_;  // owned
  SkBuff* free_ = nullptr;        // buf_size_ buffers
  SkBuff* free_large_ = nullptr;  // kLargeBuf buffers
  SkbPoolStats stats_;
};

// kfree_skb / consume_skb: back to the skb's pool.
inline void kfree_skb(SkBuff* s) {
  if (s != nullptr && s->pool != nullptr) s->pool->free(s);
}

}  // namespace vnic::stack

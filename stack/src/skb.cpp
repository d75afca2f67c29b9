// SkbPool: skbs with host-memory buffers, recycled through a free list.
#include "vnic/stack/skb.hpp"

namespace vnic::stack {

namespace {
constexpr uint8_t kFreeMark = 0xFF;  // pkt_type of an skb on the free list (double-free check)
}

SkbPool::SkbPool(PageAllocator& mem, uint32_t buf_size, uint32_t max_live)
    : mem_(mem), buf_size_(buf_size), max_live_(max_live) {}

SkbPool::~SkbPool() {
  for (SkBuff* s : all_) {
    mem_.free(s->addr);
    delete s;
  }
}

SkBuff* SkbPool::alloc(uint32_t len) {
  const bool large = len > buf_size_ - kHeadroom;
  const uint32_t size = large ? kLargeBuf : buf_size_;
  if (len > size - kHeadroom || live() >= max_live_) {
    ++stats_.failed;
    return nullptr;
  }
  SkBuff*& list = large ? free_large_ : free_;
  SkBuff* s = list;
  if (s) {
    list = s->next;
  } else {
    const PageAllocator::Block b = mem_.alloc(size, 64);
    if (b.addr == 0) {
      ++stats_.failed;
      return nullptr;
    }
    s = new SkBuff;
    s->addr = b.addr;
    s->head = b.bytes.data();
    all_.push_back(s);
    ++stats_.buffers;
  }
  const uint64_t addr = s->addr;
  uint8_t* head = s->head;
  *s = SkBuff{};
  s->addr = addr;
  s->head = head;
  s->size = size;
  s->data = kHeadroom;
  s->len = len;
  s->pool = this;
  ++stats_.allocs;
  return s;
}

void SkbPool::free(SkBuff* s) {
  if (s == nullptr) return;
  if (static_cast<uint8_t>(s->pkt_type) == kFreeMark) {
    ++stats_.double_frees;  // our own bug if it happens: counted, never corrupts the list
    return;
  }
  s->pkt_type = static_cast<PktType>(kFreeMark);
  SkBuff*& list = s->size == buf_size_ ? free_ : free_large_;
  s->next = list;
  list = s;
  ++stats_.frees;
}

}  // namespace vnic::stack

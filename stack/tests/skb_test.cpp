// Tests of sk_buff: the bounds helpers, header offsets, clone/copy/references, freeing with a
// drop reason, truesize and the drop reason names, each against the Linux 6.1 rule it follows.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "support/fake_cpu.hpp"
#include "support/stub_netdev.hpp"
#include "vnic/stack/netdev.hpp"
#include "vnic/stack/skb.hpp"

namespace vnic::stack {
namespace {

using testing::FakeMemory;

struct Freed {
  uint64_t trace_id;
  SkbDropReason reason;
  SkbDropReason recorded;  // skb.drop_reason as the hook saw it
};

struct SkbTest : ::testing::Test {
  FakeMemory mem;
  SkbPool pool{mem, 2048 + SkbPool::kHeadroom, 100};
  std::vector<Freed> freed;

  static void hook(void* ctx, const SkBuff& s, SkbDropReason r) {
    static_cast<SkbTest*>(ctx)->freed.push_back({s.trace_id, r, s.drop_reason});
  }
  SkBuff* skb(uint32_t len) {
    SkBuff* s = pool.alloc(len);
    EXPECT_NE(s, nullptr);
    return s;
  }
  // An empty skb (alloc_skb + skb_reserve style), for building packets front to back.
  SkBuff* empty() {
    SkBuff* s = skb(0);
    return s;
  }
  // The fields a refused helper must leave alone.
  struct Shape {
    uint32_t data, len;
    uint16_t mac, net, tr;
    bool operator==(const Shape&) const = default;
  };
  static Shape shape(const SkBuff& s) { return {s.data, s.len, s.mac_header, s.network_header, s.transport_header}; }
};

// ------------------------------------------------------------------------------ bounds

TEST_F(SkbTest, FreshSkbHasNetSkbPadHeadroomAndOneUser) {
  SkBuff* s = skb(100);
  EXPECT_EQ(skb_headroom(*s), 64u);  // __napi_alloc_skb: skb_reserve(NET_SKB_PAD + NET_IP_ALIGN)
  EXPECT_EQ(s->len, 100u);
  EXPECT_EQ(s->tail(), 164u);
  EXPECT_EQ(s->end(), 2112u);
  EXPECT_EQ(skb_tailroom(*s), 2112u - 164u);
  EXPECT_EQ(skb_tail_pointer(*s), s->head + 164);
  EXPECT_EQ(skb_end_pointer(*s), s->head + 2112);
  EXPECT_EQ(s->users, 1u);
  EXPECT_FALSE(skb_shared(*s));
  EXPECT_FALSE(skb_cloned(*s));
  EXPECT_FALSE(skb_mac_header_was_set(*s));  // __build_skb_around: mac and transport ~0
  EXPECT_FALSE(skb_transport_header_was_set(*s));
  EXPECT_EQ(s->ip_summed, IpSummed::None);
  EXPECT_EQ(s->data_addr(), s->addr + 64);
  consume_skb(s);
}

TEST_F(SkbTest, PutAppendsAtTailAndRefusesBeyondTailroom) {
  // skb_put: tail += len; Linux calls skb_over_panic past the end, we refuse.
  SkBuff* s = empty();
  auto a = skb_put(*s, 14);
  ASSERT_EQ(a.size(), 14u);
  EXPECT_EQ(a.data(), s->head + 64);
  EXPECT_EQ(s->len, 14u);
  auto b = skb_put(*s, 6);
  EXPECT_EQ(b.data(), s->head + 78);
  const auto before = shape(*s);
  const uint32_t room = skb_tailroom(*s);
  auto no = skb_put(*s, room + 1);
  EXPECT_TRUE(no.empty());
  EXPECT_EQ(no.data(), nullptr);
  EXPECT_EQ(shape(*s), before);
  EXPECT_EQ(skb_put(*s, room).size(), room);  // exactly to the end is fine
  EXPECT_EQ(skb_tailroom(*s), 0u);
  EXPECT_EQ(skb_put(*s, 1).data(), nullptr);
  kfree_skb(s);
}

TEST_F(SkbTest, PushPrependsIntoHeadroomAndRefusesBeyondIt) {
  // skb_push: data -= len, len += len; Linux calls skb_under_panic before head, we refuse.
  SkBuff* s = skb(20);
  auto eth = skb_push(*s, 14);
  ASSERT_EQ(eth.size(), 14u);
  EXPECT_EQ(eth.data(), s->head + 50);
  EXPECT_EQ(s->len, 34u);
  EXPECT_EQ(skb_headroom(*s), 50u);
  const auto before = shape(*s);
  EXPECT_EQ(skb_push(*s, 51).data(), nullptr);
  EXPECT_EQ(shape(*s), before);
  EXPECT_EQ(skb_push(*s, 50).size(), 50u);
  EXPECT_EQ(skb_headroom(*s), 0u);
  EXPECT_EQ(skb_push(*s, 1).data(), nullptr);
  kfree_skb(s);
}

TEST_F(SkbTest, PullRemovesFromTheFrontAndRefusesMoreThanLen) {
  // skb_pull: NULL when len > skb->len (a truncated packet is the caller's drop).
  SkBuff* s = skb(60);
  uint8_t* next = skb_pull(*s, 14);
  EXPECT_EQ(next, s->head + 78);
  EXPECT_EQ(s->len, 46u);
  const auto before = shape(*s);
  EXPECT_EQ(skb_pull(*s, 47), nullptr);
  EXPECT_EQ(shape(*s), before);
  // skb_pull_data: the bytes pulled, or nothing.
  auto hdr = skb_pull_data(*s, 20);
  ASSERT_EQ(hdr.size(), 20u);
  EXPECT_EQ(hdr.data(), s->head + 78);
  EXPECT_EQ(s->len, 26u);
  EXPECT_TRUE(skb_pull_data(*s, 27).empty());
  EXPECT_EQ(s->len, 26u);
  EXPECT_NE(skb_pull(*s, 26), nullptr);  // everything: an empty packet, not an error
  EXPECT_EQ(s->len, 0u);
  EXPECT_EQ(skb_pull(*s, 1), nullptr);
  kfree_skb(s);
}

TEST_F(SkbTest, MayPullReserveAndTrim) {
  SkBuff* s = skb(40);
  EXPECT_TRUE(pskb_may_pull(*s, 40));  // pskb_may_pull: len <= skb->len (all linear here)
  EXPECT_FALSE(pskb_may_pull(*s, 41));
  skb_trim(*s, 100);  // skb_trim: only shortens
  EXPECT_EQ(s->len, 40u);
  skb_trim(*s, 28);
  EXPECT_EQ(s->len, 28u);
  kfree_skb(s);

  // skb_reserve: data and tail move together (an empty skb); refused past the end.
  SkBuff* e = empty();
  EXPECT_TRUE(skb_reserve(*e, 16));
  EXPECT_EQ(skb_headroom(*e), 80u);
  const auto before = shape(*e);
  EXPECT_FALSE(skb_reserve(*e, skb_tailroom(*e) + 1));
  EXPECT_EQ(shape(*e), before);
  kfree_skb(e);
}

// ------------------------------------------------------------------------------ headers

TEST_F(SkbTest, HeaderOffsetsFollowPullAndPush) {
  // An IPv4/UDP packet arriving: eth_type_trans pulled 14, ip_rcv resets the network header,
  // ip_local_deliver pulls the IP header, then the transport header is at data.
  SkBuff* s = skb(14 + 20 + 8 + 10);
  auto b = s->bytes();
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  skb_reset_mac_header(*s);
  ASSERT_NE(skb_pull(*s, 14), nullptr);
  skb_reset_network_header(*s);
  EXPECT_EQ(skb_network_offset(*s), 0);
  EXPECT_EQ(skb_mac_offset(*s), -14);
  skb_reset_mac_len(*s);
  EXPECT_EQ(s->mac_len, 14u);
  EXPECT_EQ(skb_mac_header_len(*s), 14u);
  EXPECT_EQ(s->network_bytes().size(), 38u);
  EXPECT_EQ(s->network_bytes()[0], 14);
  ASSERT_NE(skb_pull(*s, 20), nullptr);
  skb_reset_transport_header(*s);
  EXPECT_EQ(skb_network_offset(*s), -20);
  EXPECT_EQ(skb_transport_offset(*s), 0);
  EXPECT_EQ(skb_network_header_len(*s), 20u);
  EXPECT_EQ(s->transport_bytes().size(), 18u);
  EXPECT_EQ(s->transport_bytes()[0], 34);
  EXPECT_EQ(skb_transport_header(*s), s->head + s->data);
  // mac_bytes still starts at the Ethernet header, however far data has moved.
  EXPECT_EQ(s->mac_bytes().size(), 52u);
  EXPECT_EQ(s->mac_bytes()[0], 0);
  // A header past the tail (trimmed away) gives an empty span, never one out of bounds.
  ASSERT_TRUE(skb_set_transport_header(*s, 10));
  skb_trim(*s, 5);
  EXPECT_TRUE(s->transport_bytes().empty());
  EXPECT_EQ(s->network_bytes().size(), 25u);
  kfree_skb(s);
}

TEST_F(SkbTest, HeadersOnTransmitAreSetRelativeToData) {
  // udp_send_skb / ip_queue_xmit style: payload put, then headers pushed in front.
  SkBuff* s = empty();
  ASSERT_TRUE(skb_reserve(*s, 64));  // room for the headers (MAX_HEADER-like)
  ASSERT_EQ(skb_put(*s, 100).size(), 100u);
  ASSERT_EQ(skb_push(*s, 8).size(), 8u);
  skb_reset_transport_header(*s);
  ASSERT_EQ(skb_push(*s, 20).size(), 20u);
  skb_reset_network_header(*s);
  ASSERT_EQ(skb_push(*s, 14).size(), 14u);
  skb_reset_mac_header(*s);
  EXPECT_EQ(skb_network_offset(*s), 14);
  EXPECT_EQ(skb_transport_offset(*s), 34);
  EXPECT_EQ(s->network_bytes().size(), 128u);
  EXPECT_EQ(s->len, 142u);
  // skb_set_*_header: data + offset, refused outside the buffer.
  EXPECT_TRUE(skb_set_transport_header(*s, 34));
  EXPECT_TRUE(skb_set_mac_header(*s, -4));
  EXPECT_EQ(skb_mac_offset(*s), -4);
  const auto before = shape(*s);
  EXPECT_FALSE(skb_set_mac_header(*s, -static_cast<int>(s->data) - 1));
  EXPECT_FALSE(skb_set_network_header(*s, static_cast<int>(s->size)));
  EXPECT_EQ(shape(*s), before);
  kfree_skb(s);
}

TEST_F(SkbTest, EthTypeTransSetsTheMacHeaderAndMacLen) {
  vnic::stack::testing::StubNetDevice dev;
  SkBuff* s = skb(60);
  const uint8_t hdr[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  std::copy(hdr, hdr + 14, s->bytes().begin());
  ASSERT_TRUE(eth_type_trans(*s, dev));
  // eth_type_trans: skb_reset_mac_header, then pull ETH_HLEN; mac_len as skb_reset_mac_len gives.
  EXPECT_EQ(skb_mac_offset(*s), -14);
  EXPECT_EQ(s->mac_len, 14u);
  EXPECT_EQ(skb_mac_header(*s), s->head + 64);
  EXPECT_EQ(s->mac_bytes().size(), 60u);
  skb_reset_network_header(*s);
  skb_reset_mac_len(*s);
  EXPECT_EQ(s->mac_len, 14u);
  kfree_skb(s);
}

// ------------------------------------------------------------------------------ clone, copy, references

TEST_F(SkbTest, CloneSharesTheBufferUntilTheLastReferenceGoes) {
  int destructed = 0;
  SkBuff* a = skb(100);
  a->trace_id = 7;
  a->mark = 0x55;
  a->priority = 6;
  a->ip_summed = IpSummed::Unnecessary;
  skb_reset_network_header(*a);
  static int* counter;
  counter = &destructed;
  a->destructor = [](SkBuff*) { ++*counter; };
  SkBuff* c = skb_clone(a);  // skb_clone / __skb_clone
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c, a);
  EXPECT_EQ(c->head, a->head);
  EXPECT_EQ(c->shinfo, a->shinfo);
  EXPECT_EQ(a->shinfo->dataref, 2u);
  EXPECT_TRUE(skb_cloned(*a));
  EXPECT_TRUE(skb_cloned(*c));
  EXPECT_FALSE(skb_shared(*a));  // users is per sk_buff; the data is what is shared
  EXPECT_EQ(c->trace_id, 7u);
  EXPECT_EQ(c->mark, 0x55u);
  EXPECT_EQ(c->priority, 6u);
  EXPECT_EQ(c->truesize, a->truesize);  // C(truesize)
  EXPECT_EQ(c->ip_summed, IpSummed::Unnecessary);
  EXPECT_EQ(c->network_header, a->network_header);
  EXPECT_EQ(c->destructor, nullptr);  // n->destructor = NULL, n->sk = NULL
  EXPECT_EQ(c->sk, nullptr);
  a->bytes()[0] = 0xAB;  // one buffer: a write through one is seen by the other
  EXPECT_EQ(c->bytes()[0], 0xAB);
  // Each sk_buff has its own bounds.
  ASSERT_NE(skb_pull(*c, 10), nullptr);
  EXPECT_EQ(a->len, 100u);
  EXPECT_EQ(pool.live(), 2u);
  EXPECT_EQ(pool.buffers_in_use(), 1u);

  kfree_skb(a);
  EXPECT_EQ(destructed, 1);
  EXPECT_EQ(pool.live(), 1u);
  EXPECT_EQ(pool.buffers_in_use(), 1u);  // the clone still holds it
  EXPECT_FALSE(skb_cloned(*c));          // dataref back to 1
  const uint64_t buf = c->addr;
  consume_skb(c);
  EXPECT_EQ(destructed, 1);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.buffers_in_use(), 0u);
  EXPECT_EQ(pool.stats().buffers, 1u);
  EXPECT_EQ(pool.stats().clones, 1u);
  // The buffer went back: the next skb reuses it.
  SkBuff* n = skb(10);
  EXPECT_EQ(n->addr, buf);
  EXPECT_EQ(pool.stats().buffers, 1u);
  kfree_skb(n);
}

TEST_F(SkbTest, CopyIsIndependent) {
  SkBuff* a = skb(1514);
  ASSERT_NE(skb_pull(*a, 14), nullptr);
  skb_reset_network_header(*a);
  a->bytes()[0] = 1;
  a->mark = 9;
  SkBuff* c = skb_copy(a);  // skb_copy: private head, same headroom, header copied
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c->head, a->head);
  EXPECT_NE(c->addr, a->addr);
  EXPECT_EQ(skb_headroom(*c), skb_headroom(*a));
  EXPECT_EQ(c->len, a->len);
  EXPECT_EQ(c->network_header, a->network_header);
  EXPECT_EQ(c->mark, 9u);
  EXPECT_TRUE(std::equal(a->head, a->head + a->tail(), c->head));  // headroom and data
  EXPECT_FALSE(skb_cloned(*a));
  EXPECT_FALSE(skb_cloned(*c));
  c->bytes()[0] = 2;
  EXPECT_EQ(a->bytes()[0], 1);
  // truesize: __alloc_skb(skb_end_offset(skb)). The source (napi_alloc_skb(1514)) is a page
  // fragment of 1920 with end offset 1600; kmalloc(1600 + 320) lands in kmalloc-2k.
  EXPECT_EQ(a->truesize, 2176u);
  EXPECT_EQ(c->truesize, 2304u);
  // A small one: a 1 KiB fragment (end offset 704) copies into exactly kmalloc-1k.
  SkBuff* small = skb(60);
  SkBuff* small_copy = skb_copy(small);
  ASSERT_NE(small_copy, nullptr);
  EXPECT_EQ(small_copy->truesize, 1280u);
  kfree_skb(small);
  kfree_skb(small_copy);
  EXPECT_EQ(pool.buffers_in_use(), 2u);
  kfree_skb(a);
  EXPECT_EQ(c->bytes()[0], 2);
  EXPECT_EQ(pool.buffers_in_use(), 1u);
  kfree_skb(c);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.buffers_in_use(), 0u);
  EXPECT_EQ(pool.stats().copies, 2u);
}

TEST_F(SkbTest, SkbGetMakesItSharedAndTheLastPutFrees) {
  pool.set_free_hook(&SkbTest::hook, this);
  SkBuff* s = skb(60);
  s->trace_id = 3;
  EXPECT_EQ(skb_get(s), s);
  EXPECT_TRUE(skb_shared(*s));
  kfree_skb(s, SkbDropReason::TcpCsum);  // skb_unref: not the last reference, nothing happens
  EXPECT_EQ(pool.live(), 1u);
  EXPECT_TRUE(freed.empty());
  EXPECT_FALSE(skb_shared(*s));
  consume_skb(s);
  EXPECT_EQ(pool.live(), 0u);
  ASSERT_EQ(freed.size(), 1u);
  EXPECT_EQ(freed[0].reason, SkbDropReason::NotDroppedYet);
}

TEST_F(SkbTest, ConsumeAndKfreeReachTheHookWithTheirReason) {
  SkBuff* a = skb(60);
  a->trace_id = 11;
  consume_skb(a);  // no hook yet: nothing to tell, no cost
  pool.set_free_hook(&SkbTest::hook, this);
  SkBuff* b = skb(60);
  b->trace_id = 12;
  SkBuff* c = skb(60);
  c->trace_id = 13;
  SkBuff* d = skb(60);
  d->trace_id = 14;
  consume_skb(b);
  kfree_skb(c, SkbDropReason::IpCsum);
  kfree_skb(d);  // kfree_skb without a reason: SKB_DROP_REASON_NOT_SPECIFIED
  ASSERT_EQ(freed.size(), 3u);
  EXPECT_EQ(freed[0].trace_id, 12u);
  EXPECT_EQ(freed[0].reason, SkbDropReason::NotDroppedYet);
  EXPECT_EQ(freed[1].trace_id, 13u);
  EXPECT_EQ(freed[1].reason, SkbDropReason::IpCsum);
  EXPECT_EQ(freed[1].recorded, SkbDropReason::IpCsum);
  EXPECT_EQ(freed[2].reason, SkbDropReason::NotSpecified);
  EXPECT_EQ(pool.stats().consumed, 2u);
  EXPECT_EQ(pool.stats().dropped, 2u);
  // A drop always has a reason: kfree_skb with "not dropped" counts as NOT_SPECIFIED.
  SkBuff* e = skb(60);
  kfree_skb(e, SkbDropReason::NotDroppedYet);
  EXPECT_EQ(freed.back().reason, SkbDropReason::NotSpecified);
  // A clone is its own sk_buff: each is reported when it goes, with the packet's id.
  SkBuff* f = skb(60);
  f->trace_id = 20;
  SkBuff* g = skb_clone(f);
  kfree_skb(g, SkbDropReason::QdiscDrop);
  consume_skb(f);
  EXPECT_EQ(freed[freed.size() - 2].trace_id, 20u);
  EXPECT_EQ(freed[freed.size() - 2].reason, SkbDropReason::QdiscDrop);
  EXPECT_EQ(freed.back().trace_id, 20u);
  EXPECT_EQ(freed.back().reason, SkbDropReason::NotDroppedYet);
  pool.set_free_hook(nullptr, nullptr);
  kfree_skb(nullptr);  // as Linux: freeing NULL is a no-op
  consume_skb(nullptr);
  EXPECT_EQ(pool.live(), 0u);
}

TEST_F(SkbTest, DoubleFreeIsCountedAndNotReported) {
  pool.set_free_hook(&SkbTest::hook, this);
  SkBuff* s = skb(60);
  kfree_skb(s);
  kfree_skb(s);
  consume_skb(s);
  EXPECT_EQ(pool.stats().double_frees, 2u);
  EXPECT_EQ(freed.size(), 1u);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.buffers_in_use(), 0u);
}

TEST_F(SkbTest, DestructorRunsOnceOnOrphanOrFree) {
  static int runs;
  runs = 0;
  SkBuff* s = skb(60);
  s->sk = reinterpret_cast<Sock*>(&runs);  // any owner: part 2 defines struct Sock
  s->destructor = [](SkBuff* x) {
    EXPECT_NE(x->sk, nullptr);  // skb_orphan: the destructor sees its socket
    ++runs;
  };
  skb_orphan(*s);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(s->sk, nullptr);
  EXPECT_EQ(s->destructor, nullptr);
  kfree_skb(s);
  EXPECT_EQ(runs, 1);
}

TEST_F(SkbTest, PoolLimitCountsClonesAndCopies) {
  SkbPool small(mem, 2048 + SkbPool::kHeadroom, 2);
  SkBuff* a = small.alloc(100);
  ASSERT_NE(a, nullptr);
  SkBuff* c = skb_clone(a);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(skb_clone(a), nullptr);
  EXPECT_EQ(skb_copy(a), nullptr);
  EXPECT_EQ(small.stats().failed, 2u);
  kfree_skb(c);
  mem.fail_after(0);  // no host memory for a copy's buffer: refused, counted, nothing leaks
  EXPECT_EQ(skb_copy(a), nullptr);
  EXPECT_EQ(small.live(), 1u);
  mem.fail_after(-1);
  kfree_skb(a);
  EXPECT_EQ(small.live(), 0u);
  EXPECT_EQ(small.buffers_in_use(), 0u);
}

// Above 16 KiB: the 64 KiB class (IP's largest datagram), recycled in its own class.
TEST_F(SkbTest, HugeBuffersForDatagramsUpToIpsLargest) {
  SkBuff* h = skb(65535 + 14);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->size, SkbPool::kHugeBuf);
  SkBuff* c = skb_copy(h);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size, SkbPool::kHugeBuf);
  kfree_skb(h);
  kfree_skb(c);
  const uint64_t buffers = pool.stats().buffers;
  SkBuff* again = skb(20000);  // a recycled huge buffer, no new one
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->size, SkbPool::kHugeBuf);
  EXPECT_EQ(pool.stats().buffers, buffers);
  kfree_skb(again);
  EXPECT_EQ(pool.alloc(SkbPool::kHugeBuf), nullptr);  // beyond every class
}

TEST_F(SkbTest, LargeBuffersCloneAndCopyInTheirClass) {
  SkBuff* j = skb(9014);
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->size, SkbPool::kLargeBuf);
  EXPECT_EQ(j->truesize, 16640u);
  SkBuff* c = skb_copy(j);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->size, SkbPool::kLargeBuf);
  SkBuff* k = skb_clone(c);
  kfree_skb(j);
  kfree_skb(c);
  kfree_skb(k);
  SkBuff* again = skb(9000);  // both large buffers came back
  EXPECT_EQ(pool.stats().buffers, 2u);
  kfree_skb(again);
  EXPECT_EQ(pool.buffers_in_use(), 0u);
}

// ------------------------------------------------------------------------------ truesize

// x86-64, Linux 6.1: SKB_DATA_ALIGN(sizeof(struct sk_buff)) = 256 and of skb_shared_info 320.
static_assert(skb_truesize(0) == 576);
static_assert(skb_with_overhead(1024) == 704);
static_assert(skb_with_overhead(kPageSize) == 3776);
static_assert(kmalloc_size_roundup(576) == 1024 && kmalloc_size_roundup(4160) == 8192);
static_assert(kmalloc_size_roundup(9408) == 16384);  // kmalloc_large: 2^order pages
static_assert(kmalloc_size_roundup(96) == 96 && kmalloc_size_roundup(150) == 192);

TEST(Truesize, DriverRxSkbsAsNapiAllocSkb) {
  // __napi_alloc_skb(len): L = len + 64; L <= 704: a 1 KiB fragment (page_frag_alloc_1k), so
  // SKB_TRUESIZE(1024 - 320); L <= 3776: a fragment of SKB_DATA_ALIGN(L) + 320; else kmalloc.
  EXPECT_EQ(napi_alloc_skb_truesize(60), 1280u);
  EXPECT_EQ(napi_alloc_skb_truesize(640), 1280u);
  EXPECT_EQ(napi_alloc_skb_truesize(641), 1344u);
  EXPECT_EQ(napi_alloc_skb_truesize(1514), 2176u);
  EXPECT_EQ(napi_alloc_skb_truesize(1518), 2176u);
  EXPECT_EQ(napi_alloc_skb_truesize(3712), 4352u);
  EXPECT_EQ(napi_alloc_skb_truesize(3713), 8448u);  // kmalloc(3840 + 320) -> kmalloc-8k
  EXPECT_EQ(napi_alloc_skb_truesize(9014), 16640u);
}

TEST(Truesize, PktgenAndOtherAllocators) {
  // pktgen_alloc_skb: __netdev_alloc_skb(dev, pkt_size + 64 + LL_RESERVED_SPACE(16)); with
  // NET_SKB_PAD, L = pkt_size + 144. Small L goes to kmalloc (no 1 KiB fragments here).
  EXPECT_EQ(pktgen_alloc_skb_truesize(60), 1280u);    // kmalloc(256 + 320) -> kmalloc-1k
  EXPECT_EQ(pktgen_alloc_skb_truesize(1514), 2240u);  // fragment 1664 + 320
  EXPECT_EQ(netdev_alloc_skb_truesize(1514), 2176u);
  // alloc_skb(size): the kmalloc bucket of SKB_DATA_ALIGN(size) + 320, plus 256.
  EXPECT_EQ(alloc_skb_truesize(0), 768u);      // kmalloc-512
  EXPECT_EQ(alloc_skb_truesize(1500), 2304u);  // kmalloc-2k
  EXPECT_EQ(alloc_skb_truesize(2048), 4352u);  // a 2 KiB-class buffer by kmalloc needs 4 KiB
  // build_skb around a driver's 2 KiB RX buffer (half a page): frag_size + 256.
  EXPECT_EQ(build_skb_truesize(2048), 2304u);
}

TEST_F(SkbTest, PoolSetsTruesizeByAllocator) {
  SkBuff* rx = pool.alloc(1514);  // default: napi_alloc_skb, the driver's RX copy
  SkBuff* gen = pool.alloc(1514, SkbAlloc::Pktgen);
  SkBuff* nd = pool.alloc(60, SkbAlloc::NetdevAllocSkb);
  SkBuff* own = pool.alloc(1500, SkbAlloc::AllocSkb);
  EXPECT_EQ(rx->truesize, 2176u);
  EXPECT_EQ(gen->truesize, 2240u);
  EXPECT_EQ(nd->truesize, 768u);  // L = 124: kmalloc(128 + 320) -> kmalloc-512
  EXPECT_EQ(own->truesize, alloc_skb_truesize(1564));
  for (SkBuff* s : {rx, gen, nd, own}) kfree_skb(s);
}

// ------------------------------------------------------------------------------ drop reasons

TEST(DropReason, NamesAndOrderAreLinux61) {
  // include/net/dropreason.h of 6.1, DEFINE_DROP_REASON in order (SKB_DROP_REASON_ stripped).
  static constexpr std::array<std::string_view, 64> kLinux61 = {
      "NOT_SPECIFIED", "NO_SOCKET", "PKT_TOO_SMALL", "TCP_CSUM", "SOCKET_FILTER", "UDP_CSUM",
      "NETFILTER_DROP", "OTHERHOST", "IP_CSUM", "IP_INHDR", "IP_RPFILTER", "UNICAST_IN_L2_MULTICAST",
      "XFRM_POLICY", "IP_NOPROTO", "SOCKET_RCVBUFF", "PROTO_MEM", "TCP_MD5NOTFOUND", "TCP_MD5UNEXPECTED",
      "TCP_MD5FAILURE", "SOCKET_BACKLOG", "TCP_FLAGS", "TCP_ZEROWINDOW", "TCP_OLD_DATA", "TCP_OVERWINDOW",
      "TCP_OFOMERGE", "TCP_RFC7323_PAWS", "TCP_INVALID_SEQUENCE", "TCP_RESET", "TCP_INVALID_SYN",
      "TCP_CLOSE", "TCP_FASTOPEN", "TCP_OLD_ACK", "TCP_TOO_OLD_ACK", "TCP_ACK_UNSENT_DATA",
      "TCP_OFO_QUEUE_PRUNE", "TCP_OFO_DROP", "IP_OUTNOROUTES", "BPF_CGROUP_EGRESS", "IPV6DISABLED",
      "NEIGH_CREATEFAIL", "NEIGH_FAILED", "NEIGH_QUEUEFULL", "NEIGH_DEAD", "TC_EGRESS", "QDISC_DROP",
      "CPU_BACKLOG", "XDP", "TC_INGRESS", "UNHANDLED_PROTO", "SKB_CSUM", "SKB_GSO_SEG", "SKB_UCOPY_FAULT",
      "DEV_HDR", "DEV_READY", "FULL_RING", "NOMEM", "HDR_TRUNC", "TAP_FILTER", "TAP_TXFILTER", "ICMP_CSUM",
      "INVALID_PROTO", "IP_INADDRERRORS", "IP_INNOROUTES", "PKT_TOO_BIG"};
  EXPECT_EQ(static_cast<int>(SkbDropReason::Max), 65);
  for (std::size_t i = 0; i < kLinux61.size(); ++i) {
    EXPECT_EQ(drop_reason_name(static_cast<SkbDropReason>(i + 1)), kLinux61[i]) << i + 1;
  }
  EXPECT_EQ(drop_reason_name(SkbDropReason::TcpCsum), "TCP_CSUM");
  EXPECT_EQ(drop_reason_name(SkbDropReason::CpuBacklog), "CPU_BACKLOG");
  EXPECT_EQ(drop_reason_name(SkbDropReason::Ipv6disabled), "IPV6DISABLED");
  EXPECT_EQ(drop_reason_name(SkbDropReason::UnicastInL2Multicast), "UNICAST_IN_L2_MULTICAST");
  EXPECT_EQ(drop_reason_name(SkbDropReason::PktTooBig), "PKT_TOO_BIG");
  EXPECT_EQ(drop_reason_name(SkbDropReason::NotDroppedYet), "NOT_DROPPED_YET");
  EXPECT_EQ(drop_reason_name(SkbDropReason::Max), "MAX");
  EXPECT_EQ(drop_reason_name(static_cast<SkbDropReason>(200)), "UNKNOWN");
  // The values are Linux's too (a trace from a real kernel reads the same).
  EXPECT_EQ(static_cast<int>(SkbDropReason::TcpCsum), 4);
  EXPECT_EQ(static_cast<int>(SkbDropReason::QdiscDrop), 45);
}

}  // namespace
}  // namespace vnic::stack

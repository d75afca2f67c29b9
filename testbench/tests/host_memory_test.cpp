// HostMemory's DMA allocator: alignment, reuse, coalescing, exhaustion, bad frees, mappings.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "vnic/tb/host_memory.hpp"

namespace {
using vnic::tb::HostMemory;

constexpr uint64_t kBase = 0x1'0000'0000ull;

TEST(HostMemoryAlloc, AlignedBlocksInsideMemoryAndExhaustion) {
  HostMemory m("m", kBase, 64 * 1024);
  const uint64_t a = m.alloc(100, 4096);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(a % 4096, 0u);
  EXPECT_TRUE(m.contains(a, 100));
  const uint64_t b = m.alloc(100, 64);
  EXPECT_NE(b, 0u);
  EXPECT_TRUE(b >= a + 100 || b + 100 <= a);  // no overlap
  EXPECT_EQ(m.alloc(128 * 1024), 0u);         // too big
  EXPECT_EQ(m.alloc(0), 0u);
  EXPECT_EQ(m.alloc(8, 3), 0u);  // alignment not a power of two
  EXPECT_EQ(m.stats().failed_allocs, 3u);
  EXPECT_EQ(m.allocated(), 200u);
}

TEST(HostMemoryAlloc, FreedBlocksCoalesceAndAreReused) {
  HostMemory m("m", kBase, 64 * 1024);
  std::vector<uint64_t> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back(m.alloc(4096, 4096));
  EXPECT_EQ(m.alloc(1, 1), 0u);  // full
  for (uint64_t b : blocks) EXPECT_TRUE(m.free(b));
  EXPECT_EQ(m.live_allocations(), 0u);
  EXPECT_EQ(m.alloc(64 * 1024, 4096), kBase);  // everything coalesced into one block again
  EXPECT_FALSE(m.free(kBase + 8));
  EXPECT_EQ(m.stats().bad_frees, 1u);
}

TEST(HostMemoryAlloc, ThousandsOfRandomAllocFreeCyclesLeakNothing) {
  HostMemory m("m", kBase, 1 << 20);
  std::mt19937_64 rng(5);
  std::vector<uint64_t> live;
  for (int i = 0; i < 20000; ++i) {
    if (live.empty() || rng() % 2 == 0) {
      const uint64_t a = m.alloc(1 + rng() % 5000, uint64_t{1} << (rng() % 13));
      if (a != 0) live.push_back(a);
    } else {
      const std::size_t k = rng() % live.size();
      ASSERT_TRUE(m.free(live[k]));
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  for (uint64_t a : live) ASSERT_TRUE(m.free(a));
  EXPECT_EQ(m.allocated(), 0u);
  EXPECT_EQ(m.live_allocations(), 0u);
  EXPECT_EQ(m.alloc(1 << 20, 1), kBase);  // one free block: nothing was lost
}

TEST(HostMemoryAlloc, CoherentBlocksAreMappedUntilFreed) {
  HostMemory m("m", kBase, 64 * 1024);
  const uint64_t a = m.dma_alloc_coherent(256);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(m.live_mappings(), 1u);
  EXPECT_TRUE(m.dma_free_coherent(a));
  EXPECT_EQ(m.live_mappings(), 0u);
  EXPECT_EQ(m.live_allocations(), 0u);
  EXPECT_FALSE(m.dma_free_coherent(a));  // twice: refused and counted
  EXPECT_EQ(m.stats().bad_frees, 1u);
}
}  // namespace

TEST(AddrTable, BehavesAsAMapUnderChurn) {
  vnic::tb::AddrTable<uint32_t> t;
  std::map<uint64_t, uint32_t> ref;
  uint64_t x = 12345;
  for (int i = 0; i < 200'000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const uint64_t key = 0x1'0000'0000ull + (x % 5000) * 64;
    if (x % 3 == 0) {
      EXPECT_EQ(t.erase(key), ref.erase(key) == 1);
    } else {
      EXPECT_EQ(t.put(key, static_cast<uint32_t>(i)), !ref.contains(key));
      ref[key] = static_cast<uint32_t>(i);
    }
    ASSERT_EQ(t.size(), ref.size());
  }
  std::map<uint64_t, uint32_t> seen;
  t.for_each([&](uint64_t k, uint32_t v) { seen[k] = v; });
  EXPECT_EQ(seen, ref);
}

// On-chip descriptor FIFO reference model: capacity, order, sticky errors, simultaneous push/pop.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <stdexcept>

#include "vnic/model/desc_fifo.hpp"

namespace {
using namespace vnic::model;

FifoWord w(uint64_t v) { return FifoWord{v, ~v}; }

TEST(DescFifo, HoldsExactlyDepthEntriesInOrder) {
  DescFifo f(8, 128);
  EXPECT_TRUE(f.empty());
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(f.push(w(i)));
  EXPECT_TRUE(f.full());
  EXPECT_EQ(f.count(), 8u);
  EXPECT_EQ(f.wr_ptr() ^ f.rd_ptr(), 8u);  // the extra MSB tells full from empty
  for (uint64_t i = 0; i < 8; ++i) {
    FifoWord out;
    EXPECT_TRUE(f.pop(&out));
    EXPECT_EQ(out, w(i));
  }
  EXPECT_TRUE(f.empty());
  EXPECT_FALSE(f.overflow());
  EXPECT_FALSE(f.underflow());
}

TEST(DescFifo, PushWhenFullIsStickyOverflowAndChangesNothingElse) {
  DescFifo f(4, 64);
  for (uint64_t i = 0; i < 4; ++i) f.push(w(i));
  const uint32_t wr = f.wr_ptr(), rd = f.rd_ptr();
  const FifoWord head = f.front();
  EXPECT_FALSE(f.push(w(99)));
  EXPECT_TRUE(f.overflow());
  EXPECT_EQ(f.count(), 4u);
  EXPECT_EQ(f.wr_ptr(), wr);
  EXPECT_EQ(f.rd_ptr(), rd);
  EXPECT_EQ(f.front(), head);
  FifoWord out;
  f.pop(&out);
  EXPECT_TRUE(f.overflow());  // sticky
}

TEST(DescFifo, PopWhenEmptyIsStickyUnderflowAndChangesNothingElse) {
  DescFifo f(4, 64);
  FifoWord out{7, 7};
  EXPECT_FALSE(f.pop(&out));
  EXPECT_EQ(out, (FifoWord{7, 7}));
  EXPECT_TRUE(f.underflow());
  EXPECT_EQ(f.count(), 0u);
  EXPECT_EQ(f.wr_ptr(), 0u);
  EXPECT_EQ(f.rd_ptr(), 0u);
  f.push(w(1));
  EXPECT_TRUE(f.underflow());
}

TEST(DescFifo, PushAndPopTogether) {
  DescFifo f(2, 64);
  f.push(w(1));
  f.push(w(2));
  // At full: both happen.
  FifoOut o = f.step(FifoIn{false, true, true, w(3)});
  EXPECT_EQ(o.count, 2u);
  EXPECT_TRUE(o.full);
  EXPECT_FALSE(o.overflow);
  EXPECT_EQ(o.dout.lo, 2u);
  // At empty: the pop underflows, the push happens.
  DescFifo e(2, 64);
  o = e.step(FifoIn{false, true, true, w(5)});
  EXPECT_TRUE(o.underflow);
  EXPECT_EQ(o.count, 1u);
  EXPECT_EQ(o.dout.lo, 5u);
}

TEST(DescFifo, ResetClearsEverythingIncludingStickyFlags) {
  DescFifo f(4, 64);
  f.push(w(1));
  FifoWord out;
  f.pop(&out);
  f.pop(&out);
  for (int i = 0; i < 5; ++i) f.push(w(2));
  ASSERT_TRUE(f.overflow() && f.underflow());
  const FifoOut o = f.step(FifoIn{true, true, true, w(9)});
  EXPECT_EQ(o, FifoOut{});
  EXPECT_EQ(f.wr_ptr(), 0u);
}

TEST(DescFifo, WidthMasksTheData) {
  DescFifo f(2, 12);
  f.push(FifoWord{0xFFFF, 0xFFFF});
  EXPECT_EQ(f.front(), (FifoWord{0xFFF, 0}));
  DescFifo g(2, 100);
  g.push(FifoWord{~0ull, ~0ull});
  EXPECT_EQ(g.front(), (FifoWord{~0ull, (1ull << 36) - 1}));
}

TEST(DescFifo, MatchesADequeOnRandomTraffic) {
  for (uint32_t depth : {2u, 8u, 256u}) {
    DescFifo f(depth, 128);
    std::deque<FifoWord> ref;
    bool ovf = false, unf = false;
    std::mt19937_64 rng(depth);
    for (int cycle = 0; cycle < 200000; ++cycle) {
      FifoIn in{rng() % 1000 == 0, rng() % 2 == 0, rng() % 2 == 0, w(rng())};
      const FifoOut o = f.step(in);
      if (in.rst) {
        ref.clear();
        ovf = unf = false;
      } else {
        const bool do_pop = in.pop && !ref.empty();
        if (in.pop && ref.empty()) unf = true;
        const bool do_push = in.push && (ref.size() < depth || do_pop);
        if (in.push && !do_push) ovf = true;
        if (do_pop) ref.pop_front();
        if (do_push) ref.push_back(in.din);
      }
      ASSERT_EQ(o.count, ref.size()) << "depth " << depth << " cycle " << cycle;
      ASSERT_EQ(o.empty, ref.empty());
      ASSERT_EQ(o.full, ref.size() == depth);
      ASSERT_EQ(o.dout, ref.empty() ? FifoWord{} : ref.front());
      ASSERT_EQ(o.overflow, ovf);
      ASSERT_EQ(o.underflow, unf);
    }
  }
}

TEST(DescFifo, RejectsBadParameters) {
  EXPECT_THROW(DescFifo(3, 64), std::invalid_argument);
  EXPECT_THROW(DescFifo(1, 64), std::invalid_argument);
  EXPECT_THROW(DescFifo(8, 0), std::invalid_argument);
  EXPECT_THROW(DescFifo(8, 129), std::invalid_argument);
}
}  // namespace

namespace {
// The timing table in docs/rtl.md, edge by edge.
TEST(DescFifo, DocsTimingTable) {
  using vnic::model::DescFifo;
  using vnic::model::FifoIn;
  using vnic::model::FifoWord;
  DescFifo f(2, 64);
  const FifoWord A{0xA, 0}, B{0xB, 0}, C{0xC, 0};
  const FifoIn ins[] = {{false, true, false, A}, {false, true, false, B}, {false, true, false, C},
                        {false, false, true, {}}, {false, false, true, {}}, {false, false, true, {}}};
  const uint32_t count[] = {1, 2, 2, 1, 0, 0};
  const bool full[] = {0, 1, 1, 0, 0, 0};
  const uint64_t dout[] = {0xA, 0xA, 0xA, 0xB, 0, 0};
  const bool ovf[] = {0, 0, 1, 1, 1, 1};
  const bool unf[] = {0, 0, 0, 0, 0, 1};
  for (int e = 0; e < 6; ++e) {
    const auto o = f.step(ins[e]);
    EXPECT_EQ(o.count, count[e]) << "edge " << e + 1;
    EXPECT_EQ(o.full, full[e]) << "edge " << e + 1;
    EXPECT_EQ(o.empty, count[e] == 0) << "edge " << e + 1;
    EXPECT_EQ(o.dout.lo, dout[e]) << "edge " << e + 1;
    EXPECT_EQ(o.overflow, ovf[e]) << "edge " << e + 1;
    EXPECT_EQ(o.underflow, unf[e]) << "edge " << e + 1;
  }
}
}  // namespace

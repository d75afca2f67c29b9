// RingQueue: FIFO order through growth and wrap-around, no growth at a steady occupancy, and
// pooled frames released as soon as they leave the queue.
#include <gtest/gtest.h>

#include "vnic/model/frame.hpp"
#include "vnic/tb/ring_queue.hpp"

namespace {
using vnic::tb::RingQueue;

TEST(RingQueue, KeepsFifoOrderThroughGrowthAndWrapAround) {
  RingQueue<int> q(4);
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) q.push_back(int{next_in++});
    for (int i = 0; i < round % 5 + 1 && !q.empty(); ++i) {
      ASSERT_EQ(q.front(), next_out);
      ASSERT_EQ(q.take_front(), next_out++);
    }
    ASSERT_EQ(q.size(), static_cast<std::size_t>(next_in - next_out));
    if (!q.empty()) {
      EXPECT_EQ(q[0], next_out);
      EXPECT_EQ(q.back(), next_in - 1);
    }
  }
  while (!q.empty()) ASSERT_EQ(q.take_front(), next_out++);
  EXPECT_EQ(next_out, next_in);
}

TEST(RingQueue, ASteadyOccupancyNeverGrows) {
  RingQueue<int> q(16);
  for (int i = 0; i < 10; ++i) q.push_back(int{i});
  for (int i = 10; i < 100000; ++i) {
    q.push_back(int{i});
    ASSERT_EQ(q.take_front(), i - 10);
  }
  EXPECT_EQ(q.capacity(), 16u);
}

TEST(RingQueue, FramesGoBackToTheirPoolWhenTakenOrCleared) {
  vnic::model::FramePool pool(256);
  RingQueue<vnic::model::Frame> q(2);
  for (int i = 0; i < 5; ++i) q.push_back(pool.alloc(100));
  EXPECT_EQ(pool.in_use(), 5u);
  { auto f = q.take_front(); }
  EXPECT_EQ(pool.in_use(), 4u);  // the slot did not keep the buffer
  q.clear();
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_TRUE(q.empty());
}
}  // namespace

// RingQueue: FIFO order across wrap-arounds and growth, indexing from the front, a steady
// stream that never reallocates, and memory given back after a burst.
#include "nsq/base/ring_queue.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>

namespace nsq {
namespace {

TEST(RingQueue, KeepsFifoOrderAndIndexesFromTheFrontThroughWrapsAndGrowth) {
  // Checked against std::deque under a random mix of pushes and pops.
  RingQueue<int> q;
  std::deque<int> model;
  std::mt19937 rng(7);
  int next = 0;
  for (int step = 0; step < 200000; ++step) {
    if (model.empty() || rng() % 100 < 55) {
      q.push_back(next);
      model.push_back(next++);
    } else {
      ASSERT_EQ(q.front(), model.front());
      q.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(q.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(q.back(), model.back());
      const std::size_t i = rng() % model.size();
      ASSERT_EQ(q[i], model[i]) << "index " << i << " at step " << step;
    }
  }
}

TEST(RingQueue, ASteadyStreamNeverReallocates) {
  RingQueue<int> q;
  for (int i = 0; i < 1000; ++i) q.push_back(i);
  const std::size_t capacity = q.capacity();
  const int* slot = &q[0];
  for (int i = 1000; i < 1'000'000; ++i) {  // one in, one out: the depth stays at 1,000
    q.push_back(i);
    ASSERT_EQ(q.front(), i - 1000);
    q.pop_front();
  }
  EXPECT_EQ(q.capacity(), capacity);
  // The same array: the front is still within capacity slots of where it was.
  EXPECT_GE(&q[0], slot - static_cast<std::ptrdiff_t>(capacity));
  EXPECT_LT(&q[0], slot + static_cast<std::ptrdiff_t>(capacity));
}

TEST(RingQueue, GivesMemoryBackAfterABurstAndOnClear) {
  RingQueue<int> q;
  for (int i = 0; i < 100000; ++i) q.push_back(i);
  EXPECT_GE(q.capacity(), 100000u);
  for (int i = 0; i < 99990; ++i) {
    ASSERT_EQ(q.front(), i);
    q.pop_front();
  }
  EXPECT_LE(q.capacity(), 2048u);  // shrinks by halves once it is an eighth full
  for (int i = 99990; i < 100000; ++i) {
    ASSERT_EQ(q.front(), i);
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
  q.push_back(1);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 0u);
}

TEST(RingQueue, APoppedElementIsDestroyedAtOnce) {
  RingQueue<std::shared_ptr<int>> q;
  auto held = std::make_shared<int>(5);
  q.push_back(held);
  q.push_back(std::make_shared<int>(6));
  EXPECT_EQ(held.use_count(), 2);
  q.pop_front();
  EXPECT_EQ(held.use_count(), 1);  // not kept alive by its old slot
  EXPECT_EQ(*q.front(), 6);
}

}  // namespace
}  // namespace nsq

// MemoryQueue: FIFO order across ring growth and wrap-around, shrinking after a large backlog
// drains, clear(), and that bodies are moved rather than copied or leaked (ASan watches).
#include "memory_queue.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace nsq::nsqd {
namespace {

Message numbered(int64_t i) {
  Message m;
  m.id = MessageId::fromGuid(static_cast<uint64_t>(i));
  m.timestamp = i;
  m.body = Body("body-" + std::to_string(i));
  return m;
}

// Pops one message and checks it is number i.
void expectPop(MemoryQueue& q, int64_t i) {
  Message m;
  ASSERT_TRUE(q.pop(m)) << "expected " << i;
  EXPECT_EQ(m.timestamp, i);
  EXPECT_EQ(m.body.view(), "body-" + std::to_string(i));
  EXPECT_EQ(m.id, MessageId::fromGuid(static_cast<uint64_t>(i)));
}

TEST(MemoryQueue, StartsEmpty) {
  MemoryQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  Message m = numbered(99);
  EXPECT_FALSE(q.pop(m));
  EXPECT_EQ(m.timestamp, 99);  // untouched
}

TEST(MemoryQueue, IsFifo) {
  MemoryQueue q;
  for (int i = 0; i < 10; ++i) q.push(numbered(i));
  EXPECT_EQ(q.size(), 10u);
  for (int i = 0; i < 10; ++i) expectPop(q, i);
  EXPECT_TRUE(q.empty());
}

TEST(MemoryQueue, KeepsOrderAcrossGrowth) {
  MemoryQueue q;
  for (int i = 0; i < 1000; ++i) q.push(numbered(i));  // grows 64 -> 1024
  EXPECT_EQ(q.size(), 1000u);
  for (int i = 0; i < 1000; ++i) expectPop(q, i);
}

TEST(MemoryQueue, KeepsOrderWhenGrowingAWrappedRing) {
  MemoryQueue q;
  int64_t next = 0, expected = 0;
  for (int i = 0; i < 50; ++i) q.push(numbered(next++));
  for (int i = 0; i < 40; ++i) expectPop(q, expected++);
  // The head is at 40 of 64: these wrap around the end, then force a grow while wrapped.
  for (int i = 0; i < 200; ++i) q.push(numbered(next++));
  EXPECT_EQ(q.size(), 210u);
  while (expected < next) expectPop(q, expected++);
  EXPECT_TRUE(q.empty());
}

TEST(MemoryQueue, InterleavedPushPopStaysFifo) {
  MemoryQueue q;
  int64_t next = 0, expected = 0;
  for (int round = 0; round < 500; ++round) {
    for (int i = 0; i < 7; ++i) q.push(numbered(next++));
    for (int i = 0; i < 5; ++i) expectPop(q, expected++);
  }
  EXPECT_EQ(q.size(), static_cast<std::size_t>(next - expected));
  while (expected < next) expectPop(q, expected++);
  EXPECT_TRUE(q.empty());
}

TEST(MemoryQueue, WorksAfterShrinkingFromALargeBacklog) {
  MemoryQueue q;
  for (int i = 0; i < 10000; ++i) q.push(numbered(i));  // ring of 16384 > shrink threshold
  for (int i = 0; i < 10000; ++i) expectPop(q, i);      // the last pop shrinks it
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 300; ++i) q.push(numbered(i));    // grows again from the small ring
  for (int i = 0; i < 150; ++i) expectPop(q, i);
  for (int i = 300; i < 400; ++i) q.push(numbered(i));
  for (int i = 150; i < 400; ++i) expectPop(q, i);
  EXPECT_TRUE(q.empty());
}

TEST(MemoryQueue, ClearDropsEverythingAndStaysUsable) {
  MemoryQueue q;
  for (int i = 0; i < 100; ++i) q.push(numbered(i));
  expectPop(q, 0);
  q.clear();
  EXPECT_TRUE(q.empty());
  Message m;
  EXPECT_FALSE(q.pop(m));
  q.push(numbered(7));
  expectPop(q, 7);
}

TEST(MemoryQueue, PushMovesTheBody) {
  MemoryQueue q;
  Message m = numbered(1);
  const char* data = m.body.view().data();
  q.push(std::move(m));
  Message out;
  ASSERT_TRUE(q.pop(out));
  EXPECT_EQ(out.body.view().data(), data);
}

}  // namespace
}  // namespace nsq::nsqd

// MemoryQueue: FIFO order across block boundaries, reuse after a large backlog drains,
// clear(), and that bodies are moved rather than copied or leaked (ASan watches).
#include "nsqd/memory_queue.h"

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
  for (int i = 0; i < 1000; ++i) q.push(numbered(i));  // spans two blocks
  EXPECT_EQ(q.size(), 1000u);
  for (int i = 0; i < 1000; ++i) expectPop(q, i);
}

TEST(MemoryQueue, KeepsOrderWhenTheHeadBlockEmptiesWhileTheTailFills) {
  MemoryQueue q;
  const int64_t block = static_cast<int64_t>(MemoryQueue::kBlock);
  int64_t next = 0, expected = 0;
  for (int64_t i = 0; i < block - 10; ++i) q.push(numbered(next++));
  for (int64_t i = 0; i < block - 20; ++i) expectPop(q, expected++);
  // 10 left in the first block: these fill it, then run through two more blocks while the
  // first one is popped empty and recycled.
  for (int64_t i = 0; i < 2 * block + 5; ++i) q.push(numbered(next++));
  EXPECT_EQ(q.size(), static_cast<std::size_t>(2 * block + 15));
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
  for (int i = 0; i < 10000; ++i) q.push(numbered(i));  // 20 blocks
  for (int i = 0; i < 10000; ++i) expectPop(q, i);      // each freed as it empties
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

TEST(MemoryQueue, KeepsIdsOfAnyFormInOrder) {
  // IDs that are not 16 lowercase hex digits (uppercase, other bytes) sit in the side FIFO;
  // mixed with ordinary ones they still come out in push order, byte for byte.
  const char* ids[] = {"00000000000000a1", "ZZZZ-any-bytes!!", "00000000000000A1", "ffffffffffffffff",
                       "0123456789abcdeg", "0000000000000000"};
  MemoryQueue q;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 6; ++i) {
      Message m;
      ASSERT_TRUE(MessageId::parse(ids[i], m.id));
      m.timestamp = i;
      m.attempts = static_cast<uint16_t>(i + 1);
      m.body = Body(ids[i]);
      q.push(std::move(m));
    }
    for (int i = 0; i < 6; ++i) {
      MessageId id;
      ASSERT_TRUE(MessageId::parse(ids[i], id));
      EXPECT_TRUE(q.contains(id)) << ids[i];
    }
    MessageId absent;
    ASSERT_TRUE(MessageId::parse("00000000000000B1", absent));
    EXPECT_FALSE(q.contains(absent));
    ASSERT_TRUE(MessageId::parse("00000000000000b1", absent));
    EXPECT_FALSE(q.contains(absent));
    for (int i = 0; i < 6; ++i) {
      Message m;
      ASSERT_TRUE(q.pop(m));
      EXPECT_EQ(m.id.view(), ids[i]);
      EXPECT_EQ(m.timestamp, i);
      EXPECT_EQ(m.attempts, i + 1);
      EXPECT_EQ(m.body.view(), ids[i]);
    }
    EXPECT_TRUE(q.empty());
  }
  Message m;
  ASSERT_TRUE(MessageId::parse("ZZZZ-any-bytes!!", m.id));
  q.push(std::move(m));
  q.clear();  // drops the side FIFO too
  q.push(numbered(3));
  expectPop(q, 3);
}

}  // namespace
}  // namespace nsq::nsqd

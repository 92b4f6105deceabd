// GuidFactory: the ID layout of NSQ-COMPAT §4.11, and IDs that stay unique and increasing when
// the caller's time is stale or the 12-bit sequence runs out.
#include "nsqd/guid.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "nsqd/clock.h"

namespace nsq::nsqd {
namespace {

constexpr int64_t kTwepoch = 1288834974288LL;

int64_t tickOf(uint64_t guid) { return static_cast<int64_t>(guid >> 22) + kTwepoch; }
int64_t nodeOf(uint64_t guid) { return static_cast<int64_t>((guid >> 12) & 0x3ff); }
int64_t seqOf(uint64_t guid) { return static_cast<int64_t>(guid & 0xfff); }

TEST(Guid, LaysOutTheTickTheNodeAndTheSequence) {
  GuidFactory g(513);
  const int64_t now = wallNanos();
  uint64_t a = g.next(now);
  uint64_t b = g.next(now);
  EXPECT_EQ(tickOf(a), now >> 20);
  EXPECT_EQ(nodeOf(a), 513);
  EXPECT_EQ(seqOf(a), 0);
  EXPECT_EQ(tickOf(b), now >> 20);
  EXPECT_EQ(seqOf(b), 1);
}

TEST(Guid, AStaleTimeCountsAsTheLastTickSoIdsStillIncrease) {
  GuidFactory g(1);
  const int64_t now = wallNanos();
  uint64_t later = g.next(now);
  // A publisher that read the clock 5 ms earlier takes the lock after this one.
  uint64_t stale = g.next(now - 5'000'000);
  EXPECT_GT(stale, later);
  EXPECT_EQ(tickOf(stale), tickOf(later));
  EXPECT_EQ(seqOf(stale), seqOf(later) + 1);
}

TEST(Guid, PastFourThousandNinetySixInOneTickItMovesToALaterTick) {
  GuidFactory g(7);
  const int64_t now = wallNanos();
  std::set<uint64_t> seen;
  uint64_t last = 0;
  for (int i = 0; i < 4096 + 10; ++i) {
    uint64_t id = g.next(now);  // the same time every call: only the wait may move the tick
    ASSERT_GT(id, last) << "at " << i;
    ASSERT_TRUE(seen.insert(id).second) << "at " << i;
    last = id;
    if (i < 4096) {
      ASSERT_EQ(tickOf(id), now >> 20) << "at " << i;
    }
  }
  EXPECT_GT(tickOf(last), now >> 20);
  EXPECT_EQ(nodeOf(last), 7);
}

TEST(Guid, NextWithoutATimeReadsTheClock) {
  GuidFactory g(2);
  const int64_t before = wallNanos() >> 20;
  uint64_t id = g.next();
  EXPECT_GE(tickOf(id), before);
  EXPECT_LE(tickOf(id), (wallNanos() >> 20));
}

}  // namespace
}  // namespace nsq::nsqd

// RDY split, redistribution and backoff (lib/nsq/rdy.h), against go-nsq's documented behaviour.
#include "nsq/client/rdy.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace nsq;
using namespace std::chrono_literals;

TEST(RdySplit, EachConnectionGetsItsShareButAtLeastOne) {
  EXPECT_EQ(perConnectionRdy(200, 1), 200);
  EXPECT_EQ(perConnectionRdy(200, 3), 66);
  EXPECT_EQ(perConnectionRdy(2, 5), 1);
  EXPECT_EQ(perConnectionRdy(1, 1), 1);
  EXPECT_EQ(perConnectionRdy(5, 0), 5);
}

TEST(RdySplit, CappedByServerMaxAndByWhatIsLeftOfMaxInFlight) {
  EXPECT_EQ(rdyToSend(5000, 2500, 5000, 0, 0), 2500);
  // Two connections hold 3 of 4; a third asking for 1 gets 1, asking for 2 gets what is left.
  EXPECT_EQ(rdyToSend(1, 2500, 4, 3, 0), 1);
  EXPECT_EQ(rdyToSend(2, 2500, 4, 3, 0), 1);
  // Nothing left: nullopt, the caller retries later.
  EXPECT_EQ(rdyToSend(1, 2500, 3, 3, 0), std::nullopt);
  // A connection's own RDY does not count against itself.
  EXPECT_EQ(rdyToSend(3, 2500, 3, 3, 3), 3);
  // Going to 0 is always possible.
  EXPECT_EQ(rdyToSend(0, 2500, 3, 3, 0), 0);
}

TEST(RdySplit, SumNeverExceedsMaxInFlightWhenConnectionsJoinOneByOne) {
  for (int64_t mif : {1, 2, 7, 200}) {
    std::vector<int64_t> rdy;
    for (int conns = 1; conns <= 10; ++conns) {
      rdy.push_back(0);
      int64_t share = perConnectionRdy(mif, rdy.size());
      // Lower first, then raise, as the consumer does.
      for (auto& r : rdy) {
        if (r <= share) continue;
        int64_t total = std::accumulate(rdy.begin(), rdy.end(), int64_t{0});
        r = *rdyToSend(share, 2500, mif, total, r);
      }
      for (auto& r : rdy) {
        if (r >= share) continue;
        int64_t total = std::accumulate(rdy.begin(), rdy.end(), int64_t{0});
        if (auto v = rdyToSend(share, 2500, mif, total, r)) r = *v;
      }
      int64_t total = std::accumulate(rdy.begin(), rdy.end(), int64_t{0});
      EXPECT_LE(total, mif) << "mif " << mif << " conns " << conns;
      EXPECT_EQ(total, std::min<int64_t>(mif, conns * share)) << "mif " << mif << " conns " << conns;
    }
  }
}

TEST(RdyRedistribution, DoesNothingWhileEveryConnectionCanHaveRdy) {
  std::mt19937 rng(1);
  auto now = SteadyTime{} + 1h;
  std::vector<RdyConnState> conns(3, RdyConnState{5, now - 1h, now - 1h});
  EXPECT_EQ(redistributeRdy(conns, 15, false, now, {}, rng), (std::vector<int64_t>{5, 5, 5}));
}

TEST(RdyRedistribution, MovesRdyFromIdleConnectionsToOthersWhenConnsExceedMaxInFlight) {
  std::mt19937 rng(1);
  auto now = SteadyTime{} + 1h;
  // max_in_flight 2, four connections: two hold RDY 1; one of them has been idle for 11 s.
  std::vector<RdyConnState> conns = {{1, now - 11s, now - 11s}, {1, now - 1s, now - 1s}, {0, now, now}, {0, now, now}};
  auto next = redistributeRdy(conns, 2, false, now, {}, rng);
  EXPECT_EQ(next[1], 1);  // busy: kept
  // The idle one's RDY was taken back and dealt again to one random connection without RDY.
  EXPECT_EQ(next[0] + next[2] + next[3], 1);
  EXPECT_EQ(std::accumulate(next.begin(), next.end(), int64_t{0}), 2);
}

TEST(RdyRedistribution, StaleRdyIsReclaimedAfterLowRdyTimeout) {
  std::mt19937 rng(7);
  auto now = SteadyTime{} + 1h;
  std::vector<RdyConnState> conns = {{1, now - 1s, now - 31s}, {0, now, now}};
  auto next = redistributeRdy(conns, 1, false, now, {}, rng);
  EXPECT_EQ(std::accumulate(next.begin(), next.end(), int64_t{0}), 1);
}

TEST(RdyRedistribution, InBackoffAtMostOneMessageIsAllowedAcrossConnections) {
  std::mt19937 rng(3);
  auto now = SteadyTime{} + 1h;
  std::vector<RdyConnState> conns = {{0, now, now}, {0, now, now}, {0, now, now}};
  auto next = redistributeRdy(conns, 100, true, now, {}, rng);
  EXPECT_EQ(std::accumulate(next.begin(), next.end(), int64_t{0}), 1);
}

TEST(Backoff, FailureEntersWithDoublingDelaysSuccessWalksBack) {
  Backoff b(1000ms, 120000ms);
  EXPECT_EQ(b.onResult(Backoff::Signal::Success), Backoff::Action::None);
  EXPECT_EQ(b.onResult(Backoff::Signal::Failure), Backoff::Action::Enter);
  EXPECT_EQ(b.level(), 1);
  EXPECT_EQ(b.delay(), 2000ms);
  // Results during the wait are ignored.
  EXPECT_EQ(b.onResult(Backoff::Signal::Failure), Backoff::Action::None);
  EXPECT_EQ(b.level(), 1);
  b.resumed();
  EXPECT_EQ(b.onResult(Backoff::Signal::Failure), Backoff::Action::Enter);
  EXPECT_EQ(b.level(), 2);
  EXPECT_EQ(b.delay(), 4000ms);
  b.resumed();
  EXPECT_EQ(b.onResult(Backoff::Signal::Success), Backoff::Action::Enter);  // still level 1: wait again
  EXPECT_EQ(b.level(), 1);
  EXPECT_EQ(b.delay(), 2000ms);
  b.resumed();
  EXPECT_EQ(b.onResult(Backoff::Signal::Success), Backoff::Action::Exit);
  EXPECT_EQ(b.level(), 0);
  EXPECT_FALSE(b.active());
}

TEST(Backoff, LevelStopsWhereTheNextDelayWouldPassTheMaximum) {
  Backoff b(1000ms, 120000ms);
  for (int i = 0; i < 20; ++i) {
    b.onResult(Backoff::Signal::Failure);
    b.resumed();
  }
  // 2^6 s = 64 s <= 2 m < 2^7 s.
  EXPECT_EQ(b.level(), 6);
  EXPECT_EQ(b.delay(), 64000ms);
}

TEST(Backoff, ContinueNeitherRaisesNorLowers) {
  Backoff b(1000ms, 120000ms);
  EXPECT_EQ(b.onResult(Backoff::Signal::Continue), Backoff::Action::None);
  b.onResult(Backoff::Signal::Failure);
  b.resumed();
  EXPECT_EQ(b.onResult(Backoff::Signal::Continue), Backoff::Action::Enter);
  EXPECT_EQ(b.level(), 1);
}

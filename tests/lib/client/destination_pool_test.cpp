// DestinationPool: the --mode orders, failure handling and retry times.
#include "nsq/client/destination_pool.h"

#include <gtest/gtest.h>

#include <map>

namespace nsq {
namespace {

using namespace std::chrono_literals;
using Pool = DestinationPool;

TEST(DestinationPool, ParsesTheThreeModeNames) {
  Pool::Mode m;
  EXPECT_TRUE(Pool::parseMode("round-robin", &m));
  EXPECT_EQ(m, Pool::Mode::RoundRobin);
  EXPECT_TRUE(Pool::parseMode("hostpool", &m));
  EXPECT_EQ(m, Pool::Mode::HostPool);
  EXPECT_TRUE(Pool::parseMode("epsilon-greedy", &m));
  EXPECT_EQ(m, Pool::Mode::EpsilonGreedy);
  EXPECT_FALSE(Pool::parseMode("random", &m));
}

TEST(DestinationPool, RoundRobinRotatesTheFirstChoiceAndListsEveryDestination) {
  Pool p(3, Pool::Mode::RoundRobin);
  auto now = Pool::Clock::now();
  EXPECT_EQ(p.order(now), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(p.order(now), (std::vector<std::size_t>{1, 2, 0}));
  p.mark(2, false, 0us, now);  // round-robin ignores failures
  EXPECT_EQ(p.order(now), (std::vector<std::size_t>{2, 0, 1}));
}

TEST(DestinationPool, HostPoolTriesAFailedHostLastUntilItsRetryTime) {
  Pool p(2, Pool::Mode::HostPool);
  auto now = Pool::Clock::now();
  p.mark(0, false, 0us, now);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p.order(now + 29s), (std::vector<std::size_t>{1, 0}));
  auto after = p.order(now + 31s);  // retry time reached: back in the rotation
  EXPECT_EQ(after.size(), 2u);
  p.mark(0, false, 0us, now + 31s);  // failed again: next retry after 60 s
  EXPECT_EQ(p.order(now + 31s + 59s).front(), 1u);
  EXPECT_EQ(p.order(now + 31s + 59s).front(), 1u);
  p.mark(0, true, 100us, now + 95s);
  std::map<std::size_t, int> firsts;
  for (int i = 0; i < 4; ++i) ++firsts[p.order(now + 95s).front()];
  EXPECT_EQ(firsts[0], 2);
  EXPECT_EQ(firsts[1], 2);
}

TEST(DestinationPool, EpsilonGreedyMostlyPrefersTheFasterHost) {
  Pool p(2, Pool::Mode::EpsilonGreedy, 7);
  auto now = Pool::Clock::now();
  p.mark(0, true, 5000us, now);
  p.mark(1, true, 100us, now);
  std::map<std::size_t, int> firsts;
  for (int i = 0; i < 1000; ++i) {
    auto o = p.order(now);
    ASSERT_EQ(o.size(), 2u);
    ++firsts[o.front()];
  }
  EXPECT_GT(firsts[1], 850);
  EXPECT_GT(firsts[0], 10);  // still explored
}

TEST(DestinationPool, EpsilonGreedyOrdersADeadHostLast) {
  Pool p(2, Pool::Mode::EpsilonGreedy, 7);
  auto now = Pool::Clock::now();
  p.mark(1, true, 100us, now);
  p.mark(1, false, 0us, now);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p.order(now).front(), 0u);
}

}  // namespace
}  // namespace nsq

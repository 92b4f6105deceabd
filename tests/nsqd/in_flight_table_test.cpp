// InFlightTable against a reference model: random inserts, takes by ID, deadline changes and
// timeouts in deadline order, across index growth, slot reuse and the release after a burst.
#include "nsqd/in_flight_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace nsq::nsqd {
namespace {

Message numbered(uint64_t i) {
  Message m;
  m.id = MessageId::fromGuid(i);
  m.timestamp = static_cast<int64_t>(i);
  m.body = Body("body-" + std::to_string(i));
  return m;
}

TEST(InFlightTable, FindsTakesAndRefusesDuplicates) {
  InFlightTable t;
  Message a = numbered(1), b = numbered(2);
  ASSERT_NE(t.insert(a, 7, 100, 500), nullptr);
  ASSERT_NE(t.insert(b, 8, 100, 400), nullptr);
  Message dup = numbered(1);
  EXPECT_EQ(t.insert(dup, 9, 100, 300), nullptr);
  EXPECT_EQ(dup.body.view(), "body-1");  // untouched when refused
  EXPECT_EQ(t.size(), 2u);
  auto* e = t.find(MessageId::fromGuid(1));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->clientId, 7u);
  EXPECT_EQ(e->deliveredMono, 100);
  EXPECT_EQ(t.earliest()->msg.id, MessageId::fromGuid(2));
  Message out = t.take(e);
  EXPECT_EQ(out.body.view(), "body-1");
  EXPECT_EQ(t.find(MessageId::fromGuid(1)), nullptr);
  EXPECT_EQ(t.size(), 1u);
  t.setDeadline(t.find(MessageId::fromGuid(2)), 50);
  EXPECT_EQ(t.earliest()->deadline, 50);
}

// Deadlines as a channel makes them: delivery time + the consumer's msg_timeout, rising with
// the clock. timeouts holds the consumers' timeouts (one: everything rides the FIFO list; more:
// the shorter ones fall back to the heap); random ones stand for capped TOUCHes.
void checkAgainstAModel(const std::vector<int64_t>& timeouts, bool risingDeadlines, int steps);

TEST(InFlightTable, MatchesAReferenceModelUnderRandomOperations) { checkAgainstAModel({}, false, 200000); }

// Fewer steps than the random run: 200,000 took ~45 s each in the sanitizer build.
TEST(InFlightTable, MatchesAReferenceModelWithOneTimeout) { checkAgainstAModel({5000}, true, 50000); }

TEST(InFlightTable, MatchesAReferenceModelWithMixedTimeouts) { checkAgainstAModel({5000, 1000, 60000}, true, 50000); }

void checkAgainstAModel(const std::vector<int64_t>& timeouts, bool risingDeadlines, int steps) {
  InFlightTable t;
  int64_t now = 0;
  auto nextDeadline = [&](std::mt19937_64& rng) {
    if (!risingDeadlines) return static_cast<int64_t>(rng() % 1000000);
    now += static_cast<int64_t>(rng() % 3);
    if (rng() % 50 == 0) return now + static_cast<int64_t>(rng() % 500);  // a capped TOUCH
    return now + timeouts[rng() % timeouts.size()];
  };
  std::map<uint64_t, int64_t> model;  // id -> deadline
  std::mt19937_64 rng(12345);
  uint64_t nextId = 1;
  for (int step = 0; step < steps; ++step) {
    int op = static_cast<int>(rng() % 10);
    if (op < 5 || model.empty()) {  // insert
      uint64_t id = nextId++;
      int64_t deadline = nextDeadline(rng);
      Message m = numbered(id);
      ASSERT_NE(t.insert(m, id % 5, 0, deadline), nullptr);
      model[id] = deadline;
    } else if (op < 8) {  // take a random one by ID
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % std::min<std::size_t>(model.size(), 64)));
      auto* e = t.find(MessageId::fromGuid(it->first));
      ASSERT_NE(e, nullptr);
      Message m = t.take(e);
      ASSERT_EQ(m.timestamp, static_cast<int64_t>(it->first));
      ASSERT_EQ(m.body.view(), "body-" + std::to_string(it->first));
      model.erase(it);
    } else if (op < 9) {  // touch
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % std::min<std::size_t>(model.size(), 64)));
      int64_t deadline = nextDeadline(rng);
      t.setDeadline(t.find(MessageId::fromGuid(it->first)), deadline);
      it->second = deadline;
    } else {  // time out the earliest: it must hold the smallest deadline
      int64_t smallest = INT64_MAX;
      for (auto& [id, d] : model) smallest = std::min(smallest, d);
      auto* e = t.earliest();
      ASSERT_NE(e, nullptr);
      ASSERT_EQ(e->deadline, smallest);
      uint64_t id = static_cast<uint64_t>(e->msg.timestamp);
      ASSERT_EQ(model.at(id), smallest);
      t.take(e);
      model.erase(id);
    }
    ASSERT_EQ(t.size(), model.size());
  }
  // Every remaining ID is found; a taken one is not.
  for (auto& [id, d] : model) {
    auto* e = t.find(MessageId::fromGuid(id));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->deadline, d);
  }
  EXPECT_EQ(t.find(MessageId::fromGuid(nextId + 10)), nullptr);
  std::map<uint64_t, int64_t> visited;  // forEach: every entry once, wherever it is kept
  t.forEach([&](const InFlightTable::Entry& e) { visited[static_cast<uint64_t>(e.msg.timestamp)] += 1; });
  EXPECT_EQ(visited.size(), model.size());
  for (auto& [id, n] : visited) EXPECT_TRUE(n == 1 && model.count(id)) << id;
  // Drain in deadline order.
  int64_t last = INT64_MIN;
  while (auto* e = t.earliest()) {
    EXPECT_GE(e->deadline, last);
    last = e->deadline;
    t.take(e);
  }
  EXPECT_TRUE(t.empty());
}

TEST(InFlightTable, ConsecutiveIdsDoNotClusterInTheIndex) {
  // Real IDs come from a counter: they differ only in their last hex digits.
  InFlightTable t;
  for (uint64_t i = 0; i < 100000; ++i) {
    Message m = numbered((1ULL << 40) + i);
    ASSERT_NE(t.insert(m, 1, 0, 0), nullptr);
  }
  EXPECT_LT(t.meanProbeLength(), 8.0);  // within about one 64-byte line of home (IdIndex runs)
}

TEST(InFlightTable, AfterABurstDrainsItIsEmptyAndUsable) {
  InFlightTable t;
  for (uint64_t i = 0; i < 20000; ++i) {
    Message m = numbered(i);
    ASSERT_NE(t.insert(m, 1, 0, static_cast<int64_t>(i)), nullptr);
  }
  for (uint64_t i = 0; i < 20000; ++i) t.take(t.find(MessageId::fromGuid(i)));
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.earliest(), nullptr);
  Message m = numbered(5);
  ASSERT_NE(t.insert(m, 1, 0, 1), nullptr);
  EXPECT_NE(t.find(MessageId::fromGuid(5)), nullptr);
  int visited = 0;
  t.forEach([&](const InFlightTable::Entry& e) {
    EXPECT_EQ(e.msg.body.view(), "body-5");
    ++visited;
  });
  EXPECT_EQ(visited, 1);
}

}  // namespace
}  // namespace nsq::nsqd

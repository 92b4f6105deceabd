// IdIndex against a reference model: random inserts and erases with hashes drawn from a few
// values (long probe runs that wrap around the array) and from real message IDs, across growth.
#include "nsqd/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace nsq::nsqd {
namespace {

// Every stored slot is found under its hash, and nothing else is.
void expectMatches(const IdIndex& index, const std::map<uint32_t, uint32_t>& model) {
  ASSERT_EQ(index.size(), model.size());
  for (const auto& [slot, hash] : model) {
    const uint32_t want = slot;  // a lambda cannot capture a structured binding in clang++ 14
    ASSERT_EQ(index.find(hash, [&](uint32_t s) { return s == want; }), slot) << "slot " << slot;
  }
  std::size_t seen = 0;
  index.forEach([&](uint32_t s) {
    ASSERT_TRUE(model.count(s)) << "stray slot " << s;
    ++seen;
  });
  EXPECT_EQ(seen, model.size());
}

TEST(IdIndex, FindsInsertsAndErasesUnderCollidingHashes) {
  IdIndex index;
  std::map<uint32_t, uint32_t> model;  // slot -> hash
  std::mt19937 rng(17);
  // Hashes from a handful of values near the top of a 64-position array: runs collide and wrap.
  std::uniform_int_distribution<uint32_t> hashes(60, 67);
  uint32_t next = 0;
  for (int step = 0; step < 4000; ++step) {
    // At most 31 stored: the array stays at 64 positions, so runs from 60..63 wrap past 0.
    if (model.size() < 31 && (model.empty() || rng() % 2 == 0)) {
      uint32_t h = hashes(rng);
      index.insert(h, next);
      model[next++] = h;
    } else {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      index.erase(it->second, it->first);
      EXPECT_EQ(index.find(it->second, [&](uint32_t s) { return s == it->first; }), IdIndex::kNone);
      model.erase(it);
    }
    if (step % 97 == 0) expectMatches(index, model);
  }
  expectMatches(index, model);
  for (int i = 0; i < 1000; ++i) {  // growth rehashes the wrapped runs
    uint32_t h = hashes(rng);
    index.insert(h, next);
    model[next++] = h;
  }
  expectMatches(index, model);
  while (!model.empty()) {
    index.erase(model.begin()->second, model.begin()->first);
    model.erase(model.begin());
  }
  expectMatches(index, model);
  EXPECT_TRUE(index.empty());
}

TEST(IdIndex, SpreadsSequentialMessageIds) {
  IdIndex index;
  for (uint32_t i = 0; i < 10000; ++i) index.insert(IdIndex::hashOf(MessageId::fromGuid(1000000 + i)), i);
  EXPECT_LT(index.meanProbeLength(), 2.0);  // linear probing at <= 1/2 load: ~1.5 when spread
  EXPECT_EQ(index.find(IdIndex::hashOf(MessageId::fromGuid(1000000 + 4321)), [](uint32_t s) { return s == 4321; }),
            4321u);
  EXPECT_EQ(index.find(IdIndex::hashOf(MessageId::fromGuid(7)), [](uint32_t) { return false; }), IdIndex::kNone);
  index.clear();
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.find(0, [](uint32_t) { return true; }), IdIndex::kNone);
}

}  // namespace
}  // namespace nsq::nsqd

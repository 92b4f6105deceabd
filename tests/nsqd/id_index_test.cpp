// IdIndex against a reference model: random inserts and erases with hashes drawn from a few
// values (long probe runs that wrap around the array) and from real message IDs, across growth.
#include "nsqd/id_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

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
  // Runs of 16 consecutive IDs fill their 16 positions, and a run that lands on another spills
  // past it: lookups stay within about one 64-byte line (8 positions) of their home.
  EXPECT_LT(index.meanProbeLength(), 8.0);
  EXPECT_EQ(index.find(IdIndex::hashOf(MessageId::fromGuid(1000000 + 4321)), [](uint32_t s) { return s == 4321; }),
            4321u);
  EXPECT_EQ(index.find(IdIndex::hashOf(MessageId::fromGuid(7)), [](uint32_t) { return false; }), IdIndex::kNone);
  index.clear();
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.find(0, [](uint32_t) { return true; }), IdIndex::kNone);
}

TEST(IdIndex, ConsecutiveIdsShareARunOfPositions) {
  const uint64_t base = (uint64_t{123456789} << 22) | (uint64_t{7} << 12) | 0x340;  // a run's first guid
  const uint32_t run = IdIndex::hashOf(MessageId::fromGuid(base)) & ~IdIndex::kRunMask;
  std::set<uint32_t> places;
  for (uint32_t i = 0; i <= IdIndex::kRunMask; ++i) {
    const uint32_t h = IdIndex::hashOf(MessageId::fromGuid(base + i));
    EXPECT_EQ(h & ~IdIndex::kRunMask, run) << i;
    places.insert(h & IdIndex::kRunMask);
  }
  EXPECT_EQ(places.size(), IdIndex::kRunMask + 1);  // each its own place in the run
  std::set<uint32_t> runs;  // the next runs start elsewhere
  for (uint64_t r = 0; r < 200; ++r)
    runs.insert(IdIndex::hashOf(MessageId::fromGuid(base + 16 * r)) & ~IdIndex::kRunMask);
  EXPECT_GE(runs.size(), 195u);
}

// The guid's shapes (NSQ-COMPAT §4.11: ts << 22 | node << 12 | seq): a busy topic's ticks hold
// ~1000 consecutive sequence numbers, a quiet one's a single ID. Lookups stay short in both.
TEST(IdIndex, ProbesStayShortForBusyAndQuietTicks) {
  for (uint32_t perTick : {1u, 5u, 300u, 1000u, 4096u}) {
    IdIndex index;
    std::vector<uint64_t> guids;
    for (uint64_t ts = 5000; guids.size() < 20000; ++ts)
      for (uint32_t seq = 0; seq < perTick && guids.size() < 20000; ++seq) guids.push_back(ts << 22 | 3u << 12 | seq);
    for (uint32_t i = 0; i < guids.size(); ++i) index.insert(IdIndex::hashOf(MessageId::fromGuid(guids[i])), i);
    // Quiet: every ID its own run, spread like a mixed hash (~1.5 at <= 1/2 load). Busy: whole
    // runs, within about one 64-byte line (8 positions) of home.
    EXPECT_LT(index.meanProbeLength(), perTick < 16 ? 2.5 : 8.0) << perTick << " IDs per tick";
    for (uint32_t i = 0; i < guids.size(); i += 997)
      EXPECT_EQ(index.find(IdIndex::hashOf(MessageId::fromGuid(guids[i])), [&](uint32_t s) { return s == i; }), i);
  }
}

TEST(IdIndex, BytesThatAreNotHexStillIndex) {
  auto odd = [](uint32_t i) {
    MessageId id;
    id.bytes.fill('z');
    id.bytes[15] = static_cast<char>(i);
    id.bytes[3] = static_cast<char>(i * 7);
    return id;
  };
  IdIndex index;
  for (uint32_t i = 0; i < 256; ++i) index.insert(IdIndex::hashOf(odd(i)), i);
  EXPECT_EQ(index.size(), 256u);
  EXPECT_LT(index.meanProbeLength(), 4.0);
  for (uint32_t i = 0; i < 256; ++i)
    EXPECT_EQ(index.find(IdIndex::hashOf(odd(i)), [&](uint32_t s) { return s == i; }), i);
}

}  // namespace
}  // namespace nsq::nsqd

// BodyPool: blocks keep their bytes, classes do not overlap, blocks freed on another thread
// come back, and memory goes back to the kernel once the blocks are gone.
#include "nsq/protocol/body_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nsq/protocol/message.h"

namespace nsq {
namespace {

// False under AddressSanitizer, where every block comes from malloc.
bool pooled() {
  void* p = allocateBodyBlock(208);
  const bool inSlab = bodyPoolStats().slabsInUse > 0;
  freeBodyBlock(p, 208);
  return inSlab;
}

TEST(BodyPool, BlocksOfEverySizeKeepTheirBytes) {
  std::vector<std::pair<char*, std::size_t>> blocks;
  for (std::size_t size = 1; size <= kMaxPooledBlock + 64; size += 7) {
    auto* p = static_cast<char*>(allocateBodyBlock(size));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u) << size;
    std::memset(p, static_cast<int>(size & 0xff), size);
    blocks.emplace_back(p, size);
  }
  for (auto [p, size] : blocks) {
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(static_cast<unsigned char>(p[i]), size & 0xff) << size;
    freeBodyBlock(p, size);
  }
  flushBodyBlockCache();
}

TEST(BodyPool, MemoryGoesBackWhenTheBlocksAreFreed) {
  flushBodyBlockCache();
  const BodyPoolStats before = bodyPoolStats();
  std::vector<void*> blocks;
  for (int i = 0; i < 200000; ++i) blocks.push_back(allocateBodyBlock(208));  // ~40 MiB
  if (pooled()) {
    EXPECT_GE(bodyPoolStats().chunks, before.chunks + 19);
  }
  for (void* p : blocks) freeBodyBlock(p, 208);
  flushBodyBlockCache();
  const BodyPoolStats after = bodyPoolStats();
  // The class's current slab keeps its chunk, and one spare chunk may stay.
  EXPECT_LE(after.chunks, before.chunks + 2);
  EXPECT_LE(after.slabsInUse, before.slabsInUse + 1);  // the class keeps its current slab
}

TEST(BodyPool, BlocksFreedOnAnotherThreadAreReused) {
  flushBodyBlockCache();
  const BodyPoolStats before = bodyPoolStats();
  for (int round = 0; round < 20; ++round) {
    std::vector<Body> bodies;
    std::string text(1000, 'x');
    for (int i = 0; i < 10000; ++i) {
      text[0] = static_cast<char>('a' + i % 26);
      bodies.emplace_back(text);
    }
    std::thread consumer([&] {
      for (std::size_t i = 0; i < bodies.size(); ++i) {
        ASSERT_EQ(bodies[i].size(), 1000u);
        ASSERT_EQ(bodies[i].view()[0], static_cast<char>('a' + i % 26));
        ASSERT_EQ(bodies[i].view()[999], 'x');
      }
      bodies.clear();  // freed here; the thread's cache goes back when it exits
    });
    consumer.join();
  }
  flushBodyBlockCache();
  // 20 rounds of ~10 MiB (5 chunks) end with no more than a round's worth mapped.
  EXPECT_LE(bodyPoolStats().chunks, before.chunks + 2 + 5);
}

TEST(BodyPool, FreshChunksAreFaultedInAheadAndTakenFirst) {
  if (!pooled()) GTEST_SKIP() << "blocks come from malloc under the sanitizers";
  flushBodyBlockCache();
  auto sparesRefilled = [] {
    for (int i = 0; i < 500 && bodyPoolStats().spareChunks < kSpareChunks; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return bodyPoolStats().spareChunks == kSpareChunks;
  };
  std::vector<void*> blocks;
  blocks.push_back(allocateBodyBlock(1008));  // the pool exists; its refill starts
  ASSERT_TRUE(sparesRefilled());
  // ~20 MiB of 1 KB blocks, more than the free slabs other tests left: new chunks are opened
  // from the spares, which the refill replaces.
  const BodyPoolStats before = bodyPoolStats();
  for (int i = 0; i < 20000; ++i) blocks.push_back(allocateBodyBlock(1008));
  EXPECT_GE(bodyPoolStats().chunks, before.chunks + 4);
  EXPECT_TRUE(sparesRefilled());
  EXPECT_EQ(bodyPoolStats().spareChunks, kSpareChunks);  // never more than kSpareChunks wait
  for (void* p : blocks) freeBodyBlock(p, 1008);
  flushBodyBlockCache();
}

TEST(BodyPool, ThreadsThatOutrunTheRefillFaultChunksInAtOnce) {
  // Four threads take ~40 MiB at once: the refill (one chunk ahead) falls behind, and the
  // threads fault chunks in themselves, outside the pool's lock, each opening its own. Every
  // block keeps its bytes, and the chunks go back once the blocks do.
  flushBodyBlockCache();
  const BodyPoolStats before = bodyPoolStats();
  constexpr int kThreads = 4, kBlocks = 10000;
  std::vector<std::vector<char*>> blocks(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlocks; ++i) {
        auto* p = static_cast<char*>(allocateBodyBlock(1008));
        std::memset(p, 'a' + t, 1008);
        blocks[static_cast<std::size_t>(t)].push_back(p);
      }
      flushBodyBlockCache();
    });
  }
  for (auto& th : threads) th.join();
  if (pooled()) {
    EXPECT_GE(bodyPoolStats().slabsInUse, before.slabsInUse + kThreads * kBlocks / 65);  // 64 a slab
  }
  for (int t = 0; t < kThreads; ++t) {
    for (char* p : blocks[static_cast<std::size_t>(t)]) {
      ASSERT_EQ(p[0], 'a' + t);
      ASSERT_EQ(p[1007], 'a' + t);
      freeBodyBlock(p, 1008);
    }
  }
  flushBodyBlockCache();
  EXPECT_LE(bodyPoolStats().chunks, before.chunks + 2);
}

TEST(BodyPool, LargeBlocksComeFromMalloc) {
  const BodyPoolStats before = bodyPoolStats();
  void* p = allocateBodyBlock(kMaxPooledBlock + 1);
  std::memset(p, 1, kMaxPooledBlock + 1);
  EXPECT_EQ(bodyPoolStats().slabsInUse, before.slabsInUse);
  freeBodyBlock(p, kMaxPooledBlock + 1);
}

TEST(Body, ThreadsCopyingOneSharedHandleAtOnceKeepItAlive) {
  // The copy constructor may run on several threads for one handle (const access); if it took
  // a count of 1 for its own, two copies would both store 2 and the block would be freed under
  // the handle below (ASan reports it; in the pool the bytes get reused).
  const Body shared(std::string(200, 's'));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&shared] {
      for (int i = 0; i < 20000; ++i) {
        Body copy = shared;
        ASSERT_EQ(copy.size(), 200u);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.view(), std::string(200, 's'));
}

}  // namespace
}  // namespace nsq

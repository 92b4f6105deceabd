#include "nsqd/syncer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace nsq::nsqd;

TEST(Syncer, RunsTasksOnItsOwnThreadInTheOrderGiven) {
  Syncer syncer(true);
  syncer.start();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  for (int i = 0; i < 100; ++i) {
    syncer.run([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  }
  syncer.stop();  // runs what is queued first
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  for (auto id : threads) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(Syncer, CallerDoesNotWaitForASlowTask) {
  Syncer syncer(true);
  syncer.start();
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<bool> ran{false};
  auto start = std::chrono::steady_clock::now();
  syncer.run([gate, &ran] {
    gate.wait();  // a stuck fsync
    ran = true;
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_FALSE(ran.load());
  release.set_value();
  syncer.stop();
  EXPECT_TRUE(ran.load());
}

TEST(Syncer, RunsOnTheCallerWhenNotInBackgroundOrNotStarted) {
  for (bool background : {false, true}) {
    Syncer syncer(background);  // background=false is --sync-every=1; true but not started
    std::thread::id where;
    syncer.run([&] { where = std::this_thread::get_id(); });
    EXPECT_EQ(where, std::this_thread::get_id());
  }
}

TEST(Syncer, AFullQueueMakesTheCallerRunItsOwnTask) {
  Syncer syncer(true);
  syncer.start();
  std::promise<void> release;
  auto gate = release.get_future().share();
  syncer.run([gate] { gate.wait(); });  // occupies the thread
  // Wait until the thread has taken it, so the queue is empty.
  while (syncer.queued() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (std::size_t i = 0; i < Syncer::kMaxQueued; ++i) syncer.run([] {});
  EXPECT_EQ(syncer.queued(), Syncer::kMaxQueued);
  bool ranHere = false;
  syncer.run([&] { ranHere = true; });
  EXPECT_TRUE(ranHere);
  EXPECT_EQ(syncer.queued(), Syncer::kMaxQueued);
  release.set_value();
  syncer.stop();
  EXPECT_EQ(syncer.queued(), 0u);
}

TEST(Syncer, ATaskThatThrowsIsLoggedAndTheThreadCarriesOn) {
  Syncer syncer(true);
  syncer.start();
  syncer.run([] { throw std::runtime_error("injected"); });
  syncer.run([] { throw 42; });
  std::promise<std::thread::id> ran;
  auto where = ran.get_future();
  syncer.run([&ran] { ran.set_value(std::this_thread::get_id()); });
  ASSERT_EQ(where.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_NE(where.get(), std::this_thread::get_id());  // still the syncer thread
  syncer.stop();
}

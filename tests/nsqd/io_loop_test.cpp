// IoLoop with socketpairs and an Nsqd that is never started: the last-resort handler (a task
// posted for one connection throws; that connection closes, the loop and the others carry on),
// connection slots, and a mailbox that allocates nothing per wake.
#include "nsqd/io_loop.h"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

#include "nsq/base/sanitizers.h"
#include "nsqd/client_session.h"
#include "nsqd/nsqd.h"
#include "support/test_support.h"

// Counting operator new for IoLoopTest.AWakeAllocatesNothingOnceTheMailboxHasGrown: while
// counting is on, it counts the calls made on the watched thread (the loop's) and on a thread
// that has flagged itself; otherwise it is plain malloc. Not under AddressSanitizer, whose
// runtime defines operator new itself.
#ifndef NSQ_ASAN
namespace {
std::atomic<bool> gCountNews{false};
std::atomic<pthread_t> gWatchedThread{};
std::atomic<uint64_t> gNews{0};
thread_local bool tCountNewsHere = false;
}  // namespace

void* operator new(std::size_t n) {
  if (gCountNews.load(std::memory_order_relaxed) &&
      (tCountNewsHere || ::pthread_equal(::pthread_self(), gWatchedThread.load(std::memory_order_relaxed))))
    gNews.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// GCC pairs free() with the library's operator new, not with the replacement above.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

namespace nsq::nsqd {
namespace {

using namespace std::chrono_literals;

// True when the peer sees the other end closed within the timeout.
bool peerSeesClose(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

class IoLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts.dataPath = dir.path();
    opts.nodeId = 1;
    nsqd = std::make_unique<Nsqd>(opts);
    loop = std::make_unique<IoLoop>(*nsqd, 0);
    loop->start();
  }

  void TearDown() override {
    if (loop) loop->stop();
    for (int fd : peers) ::close(fd);
  }

  // A connection on the loop; returns its session (registered with nsqd by the loop).
  std::shared_ptr<ClientSession> connect() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peers.push_back(fds[1]);
    std::size_t before = nsqd->clients().size();
    loop->adopt(UniqueFd(fds[0]), "127.0.0.1:" + std::to_string(peers.size()), ConnectionSlot(slots));
    for (int i = 0; i < 500 && nsqd->clients().size() == before; ++i) std::this_thread::sleep_for(10ms);
    auto clients = nsqd->clients();
    EXPECT_EQ(clients.size(), before + 1);
    return clients.empty() ? nullptr : clients.back();
  }

  // Runs a task that answers on the loop thread; true when it ran.
  bool taskRuns(const std::shared_ptr<ClientSession>& client) {
    auto ran = std::make_shared<std::promise<void>>();
    auto done = ran->get_future();
    loop->post(client, [ran](int64_t) {
      ran->set_value();
      return true;
    });
    return done.wait_for(10s) == std::future_status::ready;
  }

  test::TempDir dir;
  NsqdOptions opts;
  std::unique_ptr<Nsqd> nsqd;
  std::unique_ptr<IoLoop> loop;
  std::vector<int> peers;
  std::atomic<std::size_t> slots{0};  // places taken under --tcp-max-connections
};

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(ConnectionSlotTest, IsGivenBackOnceWhoeverHoldsItLast) {
  std::atomic<std::size_t> open{0};
  {
    ConnectionSlot a(open);
    EXPECT_EQ(open.load(), 1u);
    ConnectionSlot b(std::move(a));
    EXPECT_EQ(open.load(), 1u);
    ConnectionSlot c(open);
    EXPECT_EQ(open.load(), 2u);
    c = std::move(b);  // c's own place is given back, b's travels on
    EXPECT_EQ(open.load(), 1u);
  }
  EXPECT_EQ(open.load(), 0u);
}

TEST_F(IoLoopTest, EveryWayAConnectionEndsGivesBackItsSlot) {
  auto closedByServer = connect();
  auto failing = connect();
  auto open = connect();
  ASSERT_TRUE(closedByServer && failing && open);
  EXPECT_EQ(slots.load(), 3u);

  loop->requestClose(closedByServer);
  EXPECT_TRUE(peerSeesClose(peers[0], 10'000));
  EXPECT_TRUE(eventually([&] { return slots.load() == 2; })) << slots.load();

  loop->post(failing, [](int64_t) -> bool { throw std::runtime_error("injected"); });
  EXPECT_TRUE(peerSeesClose(peers[1], 10'000));
  EXPECT_TRUE(eventually([&] { return slots.load() == 1; })) << slots.load();

  // The loop shuts down with one connection open and one never taken up from its mailbox.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  peers.push_back(fds[1]);
  loop->stop();
  loop->adopt(UniqueFd(fds[0]), "127.0.0.1:9", ConnectionSlot(slots));  // the loop is gone
  EXPECT_EQ(slots.load(), 1u);
  loop.reset();  // its mailbox goes with it
  EXPECT_EQ(slots.load(), 0u);
  EXPECT_TRUE(peerSeesClose(peers[2], 1'000));
  EXPECT_TRUE(peerSeesClose(fds[1], 1'000));
}

TEST_F(IoLoopTest, ATaskThatThrowsClosesOnlyItsConnection) {
  auto victim = connect();
  auto bystander = connect();
  ASSERT_TRUE(victim && bystander);
  ASSERT_EQ(loop->connectionCount(), 2u);

  loop->post(victim, [](int64_t) -> bool { throw std::runtime_error("injected"); });
  EXPECT_TRUE(peerSeesClose(peers[0], 10'000));
  EXPECT_EQ(loop->connectionCount(), 1u);

  // The loop thread is alive and the other connection still open and served.
  EXPECT_TRUE(taskRuns(bystander));
  EXPECT_FALSE(peerSeesClose(peers[1], 200));
  EXPECT_EQ(loop->connectionCount(), 1u);
}

TEST_F(IoLoopTest, AThrowOfAnyTypeIsCaughtAndNewConnectionsAreStillTaken) {
  auto victim = connect();
  ASSERT_TRUE(victim);
  loop->post(victim, [](int64_t) -> bool { throw 42; });
  EXPECT_TRUE(peerSeesClose(peers[0], 10'000));
  auto next = connect();
  ASSERT_TRUE(next);
  EXPECT_TRUE(taskRuns(next));
  EXPECT_EQ(loop->connectionCount(), 1u);
}

TEST_F(IoLoopTest, AWakeAllocatesNothingOnceTheMailboxHasGrown) {
#ifdef NSQ_ASAN
  GTEST_SKIP() << "counts operator new, which AddressSanitizer's runtime defines";
#else
  // A publish to a consumer on another loop wakes it through this mailbox, once per publish
  // (per PUB message). Neither the waking thread nor the loop may allocate for it.
  auto client = connect();
  ASSERT_TRUE(client);
  auto onLoop = std::make_shared<std::promise<pthread_t>>();
  auto loopThread = onLoop->get_future();
  loop->post(client, [onLoop](int64_t) {
    onLoop->set_value(::pthread_self());
    return true;
  });
  ASSERT_EQ(loopThread.wait_for(10s), std::future_status::ready);
  gWatchedThread.store(loopThread.get());
  auto wakeOnce = [&] {
    tCountNewsHere = true;
    loop->wake(client);
    tCountNewsHere = false;
    return taskRuns(client);  // drained after the wake: it ran
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wakeOnce());  // the mailbox's vectors grow here
  gNews.store(0);
  gCountNews.store(true);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(wakeOnce());
  gCountNews.store(false);
  EXPECT_EQ(gNews.load(), 0u) << "allocations for 200 wakes";
#endif
}

}  // namespace
}  // namespace nsq::nsqd

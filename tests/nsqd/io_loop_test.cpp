// IoLoop with socketpairs and an Nsqd that is never started: the last-resort handler. A task
// posted for one connection throws; that connection closes, the loop and the others carry on.
#include "nsqd/io_loop.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "nsqd/client_session.h"
#include "nsqd/nsqd.h"
#include "support/test_support.h"

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

}  // namespace
}  // namespace nsq::nsqd

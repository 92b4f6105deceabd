// Channel without sockets: an Nsqd that is never started, a Topic and Channel from it, and
// FakeConsumers (RDY and msg_timeout set by the test, wakes counted). Drives publish, pull, FIN,
// REQ, TOUCH and processTimeouts with monotonic times far in the future to force expiry.
#include "nsqd/channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nsq/protocol/wire.h"
#include "nsqd/clock.h"
#include "nsqd/consumer.h"
#include "nsqd/nsqd.h"
#include "nsqd/topic.h"
#include "support/test_support.h"

namespace nsq::nsqd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int64_t kSecond = 1'000'000'000;

// A consumer without a socket: the channel sees only what the interface gives it.
class FakeConsumer : public Consumer {
 public:
  FakeConsumer(uint64_t id, int64_t rdy, int64_t msgTimeoutNs) : id_(id), rdy_(rdy), msgTimeoutNs_(msgTimeoutNs) {}
  uint64_t id() const override { return id_; }
  int64_t readyCount() const override { return rdy_.load(); }
  int64_t msgTimeoutNs() const override { return msgTimeoutNs_; }
  int sampleRate() const override { return 0; }
  void wake() override { ++wakes; }
  void requestClose() override { ++closeRequests; }
  ClientStats stats() const override { return {}; }

  void setReadyCount(int64_t n) { rdy_.store(n); }
  std::atomic<int> wakes{0};
  std::atomic<int> closeRequests{0};

 private:
  const uint64_t id_;
  std::atomic<int64_t> rdy_;
  const int64_t msgTimeoutNs_;
};

// A FIN/REQ/TOUCH result as its code, with the text in *desc.
ErrorCode codeOf(Error err, std::string* desc) {
  *desc = std::move(err.description);
  return err.code;
}

class ChannelTest : public ::testing::Test {
 protected:
  // Builds nsqd, topic and channel; call once per test after adjusting opts.
  void init(const std::string& topicName = "t", const std::string& channelName = "c") {
    opts.dataPath = dir.path();
    opts.nodeId = 1;
    nsqd = std::make_unique<Nsqd>(opts);
    topic = nsqd->getTopic(topicName);
    ASSERT_NE(topic, nullptr);
    channel = topic->getChannel(channelName);
    ASSERT_NE(channel, nullptr);
  }

  void TearDown() override {
    if (topic) topic->close(true);
  }

  std::shared_ptr<FakeConsumer> newConsumer(int64_t rdy = 0) {
    return std::make_shared<FakeConsumer>(nsqd->newClientId(), rdy, opts.msgTimeout.count());
  }

  std::shared_ptr<FakeConsumer> addClient(int64_t rdy = 0) {
    auto client = newConsumer(rdy);
    Error err = channel->addClient(client);
    EXPECT_FALSE(err) << err.description;
    return client;
  }

  void publish(const std::vector<std::string>& bodies, int64_t deferNs = 0) {
    std::vector<std::string_view> views(bodies.begin(), bodies.end());
    Error error = topic->publish(views, deferNs, ErrorCode::PubFailed);
    ASSERT_FALSE(error) << error.description;
  }

  std::vector<std::string> bodiesNumbered(int n, const std::string& prefix = "m") {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }

  std::vector<Message> pull(Consumer& client) { return pullFrom(*channel, client); }

  // What ch.pull() delivered, read back from the MESSAGE frames it wrote.
  static std::vector<Message> pullFrom(Channel& ch, Consumer& client) {
    std::string frames;
    const std::size_t taken = ch.pull(client, frames);
    std::vector<Message> out;
    std::string_view rest = frames;
    while (!rest.empty()) {
      Frame f;
      const long used = decodeFrame(rest, f);
      EXPECT_GT(used, 0) << "pull() wrote a partial or malformed frame";
      if (used <= 0) break;
      EXPECT_EQ(f.type, FrameType::Message);
      Message m;
      EXPECT_TRUE(Message::parsePayload(f.data, m));
      out.push_back(std::move(m));
      rest.remove_prefix(static_cast<std::size_t>(used));
    }
    EXPECT_EQ(out.size(), taken);
    return out;
  }

  ChannelStats stats() { return channel->stats(false); }

  // A graceful stop of topic and channel, then a new nsqd on the same data directory.
  void restartGracefully() {
    topic->close(false);
    channel.reset();
    topic.reset();
    nsqd.reset();
    init();
  }

  // With --mem-queue-size=0 and two 20 KB messages per disk segment (read segments finish and
  // are deleted or kept), publishes twenty into bodies and delivers them all to a new client.
  std::vector<Message> deliverTwentyFromDisk(std::vector<std::string>& bodies, std::shared_ptr<FakeConsumer>& client) {
    opts.memQueueSize = 0;
    opts.maxBytesPerFile = 50000;
    init();
    client = addClient(20);
    for (int i = 0; i < 20; ++i) bodies.push_back(std::to_string(i) + std::string(20000, 'b'));
    publish(bodies);
    return pull(*client);
  }

  std::vector<std::string> dataFiles() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path())) names.push_back(e.path().filename().string());
    return names;
  }

  test::TempDir dir;
  NsqdOptions opts;
  std::unique_ptr<Nsqd> nsqd;
  std::shared_ptr<Topic> topic;
  std::shared_ptr<Channel> channel;
};

std::string bodyOf(const Message& m) { return std::string(m.body.view()); }

MessageId unknownId() { return MessageId::fromGuid(0xabc); }

// ---------------------------------------------------------------------------------------------
// RDY window

TEST_F(ChannelTest, PullRespectsRdyWindowMinusInFlight) {
  init();
  auto client = addClient(0);
  publish(bodiesNumbered(5));
  EXPECT_TRUE(pull(*client).empty());  // RDY 0

  client->setReadyCount(2);
  auto first = pull(*client);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(bodyOf(first[0]), "m0");
  EXPECT_EQ(bodyOf(first[1]), "m1");
  EXPECT_EQ(channel->inFlightCount(client->id()), 2);
  EXPECT_TRUE(pull(*client).empty());  // window full: RDY is not decremented, in flight fills it

  std::string desc;
  ASSERT_EQ(codeOf(channel->finish(*client, first[0].id), &desc), ErrorCode::None) << desc;
  EXPECT_EQ(channel->inFlightCount(client->id()), 1);
  auto second = pull(*client);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(bodyOf(second[0]), "m2");

  client->setReadyCount(10);
  auto rest = pull(*client);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(bodyOf(rest[0]), "m3");
  EXPECT_EQ(bodyOf(rest[1]), "m4");
  EXPECT_EQ(channel->inFlightCount(client->id()), 4);
  EXPECT_EQ(stats().inFlightCount, 4);
  EXPECT_EQ(stats().depth, 0);
}

TEST_F(ChannelTest, LoweringRdyBelowInFlightDeliversNothing) {
  init();
  auto client = addClient(3);
  publish(bodiesNumbered(5));
  ASSERT_EQ(pull(*client).size(), 3u);
  client->setReadyCount(1);
  EXPECT_TRUE(pull(*client).empty());
  EXPECT_EQ(stats().depth, 2);
}

TEST_F(ChannelTest, EachMessageGoesToOneClient) {
  init();
  auto a = addClient(1);
  auto b = addClient(1);
  publish(bodiesNumbered(3));
  auto ma = pull(*a);
  auto mb = pull(*b);
  ASSERT_EQ(ma.size(), 1u);
  ASSERT_EQ(mb.size(), 1u);
  EXPECT_NE(ma[0].id, mb[0].id);
  EXPECT_EQ(stats().depth, 1);
  EXPECT_EQ(stats().inFlightCount, 2);
}

TEST_F(ChannelTest, DeliveredMessagesCarryPublishedIdsAndTimestamps) {
  init();
  auto client = addClient(10);
  int64_t before = wallNanos();
  publish(bodiesNumbered(3));
  int64_t after = wallNanos();
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 3u);
  std::set<std::string> ids;
  for (const auto& m : msgs) {
    ids.insert(std::string(m.id.view()));
    EXPECT_GE(m.timestamp, before);
    EXPECT_LE(m.timestamp, after);
    for (char c : m.id.view()) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
  }
  EXPECT_EQ(ids.size(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Attempts, FIN, REQ

TEST_F(ChannelTest, AttemptsIncrementOnEveryDelivery) {
  init();
  auto client = addClient(1);
  publish({"once"});
  auto m1 = pull(*client);
  ASSERT_EQ(m1.size(), 1u);
  EXPECT_EQ(m1[0].attempts, 1);

  std::string desc;
  ASSERT_EQ(codeOf(channel->requeue(*client, m1[0].id, 0), &desc), ErrorCode::None) << desc;
  auto m2 = pull(*client);
  ASSERT_EQ(m2.size(), 1u);
  EXPECT_EQ(m2[0].id, m1[0].id);
  EXPECT_EQ(m2[0].attempts, 2);

  ASSERT_TRUE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  auto m3 = pull(*client);
  ASSERT_EQ(m3.size(), 1u);
  EXPECT_EQ(m3[0].id, m1[0].id);
  EXPECT_EQ(m3[0].attempts, 3);
  EXPECT_EQ(bodyOf(m3[0]), "once");
}

TEST_F(ChannelTest, FinRemovesFromFlight) {
  init();
  auto client = addClient(1);
  publish({"x"});
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  std::string desc;
  EXPECT_EQ(codeOf(channel->finish(*client, msgs[0].id), &desc), ErrorCode::None);
  EXPECT_EQ(stats().inFlightCount, 0);
  EXPECT_EQ(channel->inFlightCount(client->id()), 0);
  // Finished means gone: nothing comes back after any timeout.
  EXPECT_FALSE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  EXPECT_TRUE(pull(*client).empty());
}

TEST_F(ChannelTest, FinOfUnknownIdFailsWithExactText) {
  init();
  auto client = addClient(1);
  std::string desc;
  EXPECT_EQ(codeOf(channel->finish(*client, unknownId()), &desc), ErrorCode::FinFailed);
  EXPECT_EQ(desc, "FIN 0000000000000abc failed ID not in flight");
}

TEST_F(ChannelTest, SecondFinOfSameIdFails) {
  init();
  auto client = addClient(1);
  publish({"x"});
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  std::string desc;
  ASSERT_EQ(codeOf(channel->finish(*client, msgs[0].id), &desc), ErrorCode::None);
  EXPECT_EQ(codeOf(channel->finish(*client, msgs[0].id), &desc), ErrorCode::FinFailed);
  EXPECT_EQ(desc, "FIN " + std::string(msgs[0].id.view()) + " failed ID not in flight");
}

TEST_F(ChannelTest, FinReqTouchOfForeignMessageFailWithExactText) {
  init();
  auto owner = addClient(1);
  auto other = addClient(1);
  publish({"x"});
  auto msgs = pull(*owner);
  ASSERT_EQ(msgs.size(), 1u);
  std::string id(msgs[0].id.view());
  std::string desc;
  EXPECT_EQ(codeOf(channel->finish(*other, msgs[0].id), &desc), ErrorCode::FinFailed);
  EXPECT_EQ(desc, "FIN " + id + " failed client does not own message");
  EXPECT_EQ(codeOf(channel->requeue(*other, msgs[0].id, 0), &desc), ErrorCode::ReqFailed);
  EXPECT_EQ(desc, "REQ " + id + " failed client does not own message");
  EXPECT_EQ(codeOf(channel->touch(*other, msgs[0].id), &desc), ErrorCode::TouchFailed);
  EXPECT_EQ(desc, "TOUCH " + id + " failed client does not own message");
  // Still in flight for the owner; the other client's counters are untouched.
  EXPECT_EQ(channel->inFlightCount(other->id()), 0);
  EXPECT_EQ(stats().requeueCount, 0u);
  EXPECT_EQ(codeOf(channel->finish(*owner, msgs[0].id), &desc), ErrorCode::None) << desc;
}

TEST_F(ChannelTest, ReqAndTouchOfUnknownIdFailWithExactText) {
  init();
  auto client = addClient(1);
  std::string desc;
  EXPECT_EQ(codeOf(channel->requeue(*client, unknownId(), 0), &desc), ErrorCode::ReqFailed);
  EXPECT_EQ(desc, "REQ 0000000000000abc failed ID not in flight");
  EXPECT_EQ(codeOf(channel->touch(*client, unknownId()), &desc), ErrorCode::TouchFailed);
  EXPECT_EQ(desc, "TOUCH 0000000000000abc failed ID not in flight");
}

TEST_F(ChannelTest, ReqZeroRequeuesImmediately) {
  init();
  auto client = addClient(1);
  publish({"r"});
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  std::string desc;
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[0].id, 0), &desc), ErrorCode::None) << desc;
  ChannelStats s = stats();
  EXPECT_EQ(s.requeueCount, 1u);
  EXPECT_EQ(s.inFlightCount, 0);
  EXPECT_EQ(s.deferredCount, 0);
  EXPECT_EQ(s.depth, 1);
  EXPECT_EQ(channel->inFlightCount(client->id()), 0);
  auto again = pull(*client);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, msgs[0].id);
}

TEST_F(ChannelTest, ReqWithDelayDefersUntilTheDeadline) {
  init();
  auto client = addClient(5);
  publish({"later"});
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  std::string desc;
  int64_t reqAt = monoNanos();
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[0].id, 5 * kSecond), &desc), ErrorCode::None) << desc;
  ChannelStats s = stats();
  EXPECT_EQ(s.deferredCount, 1);
  EXPECT_EQ(s.inFlightCount, 0);
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.requeueCount, 1u);
  EXPECT_TRUE(pull(*client).empty());

  EXPECT_FALSE(channel->processTimeouts(reqAt + 4 * kSecond));  // not yet due
  EXPECT_EQ(stats().deferredCount, 1);
  EXPECT_TRUE(pull(*client).empty());

  EXPECT_TRUE(channel->processTimeouts(monoNanos() + 6 * kSecond));
  EXPECT_EQ(stats().deferredCount, 0);
  EXPECT_EQ(stats().depth, 1);
  auto again = pull(*client);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, msgs[0].id);
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_EQ(stats().timeoutCount, 0u);
}

TEST_F(ChannelTest, DeferredMessagesReleaseInDeadlineOrder) {
  init();
  auto client = addClient(3);
  publish({"a", "b", "c"});
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 3u);
  std::string desc;
  int64_t t0 = monoNanos();
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[0].id, 30 * kSecond), &desc), ErrorCode::None);
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[1].id, 10 * kSecond), &desc), ErrorCode::None);
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[2].id, 20 * kSecond), &desc), ErrorCode::None);
  EXPECT_EQ(stats().deferredCount, 3);

  EXPECT_TRUE(channel->processTimeouts(t0 + 15 * kSecond));
  auto first = pull(*client);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(bodyOf(first[0]), "b");
  EXPECT_TRUE(channel->processTimeouts(t0 + 25 * kSecond));
  auto second = pull(*client);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(bodyOf(second[0]), "c");
  EXPECT_EQ(stats().deferredCount, 1);
  EXPECT_TRUE(channel->processTimeouts(t0 + 35 * kSecond));
  auto third = pull(*client);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(bodyOf(third[0]), "a");
  EXPECT_EQ(stats().deferredCount, 0);
}

TEST_F(ChannelTest, DeferredPublishWaitsInTheChannel) {
  init();
  auto client = addClient(5);
  int64_t t0 = monoNanos();
  publish({"dpub"}, 2 * kSecond);
  EXPECT_EQ(stats().deferredCount, 1);
  EXPECT_EQ(stats().messageCount, 1u);
  EXPECT_TRUE(pull(*client).empty());
  EXPECT_FALSE(channel->processTimeouts(t0 + kSecond));
  EXPECT_TRUE(channel->processTimeouts(monoNanos() + 3 * kSecond));
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(bodyOf(msgs[0]), "dpub");
  EXPECT_EQ(msgs[0].attempts, 1);
}

// ---------------------------------------------------------------------------------------------
// Timeouts and TOUCH

TEST_F(ChannelTest, TimeoutRequeuesAndKeepsAttempts) {
  opts.msgTimeout = 60s;
  init();
  auto client = addClient(1);
  publish({"slow"});
  int64_t afterPublish = monoNanos();
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(channel->processTimeouts(afterPublish + 59 * kSecond));
  EXPECT_EQ(stats().inFlightCount, 1);

  EXPECT_TRUE(channel->processTimeouts(monoNanos() + 61 * kSecond));
  ChannelStats s = stats();
  EXPECT_EQ(s.timeoutCount, 1u);
  EXPECT_EQ(s.inFlightCount, 0);
  EXPECT_EQ(s.depth, 1);
  EXPECT_EQ(s.requeueCount, 0u);
  EXPECT_EQ(channel->inFlightCount(client->id()), 0);

  std::string desc;
  EXPECT_EQ(codeOf(channel->finish(*client, msgs[0].id), &desc), ErrorCode::FinFailed);  // expired
  EXPECT_EQ(desc, "FIN " + std::string(msgs[0].id.view()) + " failed ID not in flight");

  auto again = pull(*client);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, msgs[0].id);
  EXPECT_EQ(again[0].attempts, 2);
}

TEST_F(ChannelTest, TimeoutsExpireOnlyUnfinishedMessages) {
  init();
  auto client = addClient(50);
  publish(bodiesNumbered(50));
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 50u);
  std::string desc;
  std::set<std::string> left;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (i % 3 == 0) {
      ASSERT_EQ(codeOf(channel->finish(*client, msgs[i].id), &desc), ErrorCode::None) << desc;
    } else {
      left.insert(bodyOf(msgs[i]));
      if (i % 3 == 1) {
        ASSERT_EQ(codeOf(channel->touch(*client, msgs[i].id), &desc), ErrorCode::None) << desc;
      }
    }
  }
  EXPECT_TRUE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  EXPECT_EQ(stats().timeoutCount, left.size());
  EXPECT_EQ(stats().inFlightCount, 0);
  EXPECT_EQ(channel->inFlightCount(client->id()), 0);
  auto again = pull(*client);
  std::set<std::string> back;
  for (const auto& m : again) back.insert(bodyOf(m));
  EXPECT_EQ(back, left);
}

TEST_F(ChannelTest, TouchMovesTheDeadline) {
  opts.msgTimeout = 10s;
  opts.maxMsgTimeout = 15min;
  init();
  auto client = addClient(1);
  publish({"t"});
  int64_t beforePull = monoNanos();
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  std::this_thread::sleep_for(200ms);
  std::string desc;
  ASSERT_EQ(codeOf(channel->touch(*client, msgs[0].id), &desc), ErrorCode::None) << desc;
  // The original deadline (pull + 10s) has passed at this time; the touched one (touch + 10s)
  // has not.
  EXPECT_FALSE(channel->processTimeouts(beforePull + 10 * kSecond + 100'000'000));
  EXPECT_EQ(stats().inFlightCount, 1);
  EXPECT_TRUE(channel->processTimeouts(monoNanos() + 10 * kSecond + 1));
  EXPECT_EQ(stats().timeoutCount, 1u);
}

TEST_F(ChannelTest, TouchNeverPassesDeliveryPlusMaxMsgTimeout) {
  opts.msgTimeout = 10s;
  opts.maxMsgTimeout = 10s;
  init();
  auto client = addClient(1);
  publish({"t"});
  auto msgs = pull(*client);
  int64_t afterPull = monoNanos();
  ASSERT_EQ(msgs.size(), 1u);
  std::this_thread::sleep_for(200ms);
  std::string desc;
  ASSERT_EQ(codeOf(channel->touch(*client, msgs[0].id), &desc), ErrorCode::None) << desc;
  // Capped at delivery + 10s, which is before afterPull + 10s + 1ms.
  EXPECT_TRUE(channel->processTimeouts(afterPull + 10 * kSecond + 1'000'000));
  EXPECT_EQ(stats().timeoutCount, 1u);
}

// ---------------------------------------------------------------------------------------------
// empty, pause, stats

TEST_F(ChannelTest, EmptyClearsQueuedInFlightAndDeferred) {
  opts.memQueueSize = 2;
  init();
  auto client = addClient(2);
  publish(bodiesNumbered(6));
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 2u);
  std::string desc;
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[0].id, 60 * kSecond), &desc), ErrorCode::None);
  ChannelStats before = stats();
  EXPECT_EQ(before.inFlightCount, 1);
  EXPECT_EQ(before.deferredCount, 1);
  EXPECT_EQ(before.depth, 4);
  EXPECT_GT(before.backendDepth, 0);

  channel->empty();
  ChannelStats s = stats();
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.backendDepth, 0);
  EXPECT_EQ(s.inFlightCount, 0);
  EXPECT_EQ(s.deferredCount, 0);
  EXPECT_EQ(channel->inFlightCount(client->id()), 0);
  EXPECT_EQ(codeOf(channel->finish(*client, msgs[1].id), &desc), ErrorCode::FinFailed);
  EXPECT_FALSE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  EXPECT_TRUE(pull(*client).empty());

  publish({"fresh"});  // still usable
  auto fresh = pull(*client);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(bodyOf(fresh[0]), "fresh");
}

TEST_F(ChannelTest, PauseStopsDeliveryButNotFinReqTouch) {
  init();
  auto client = addClient(1);
  publish(bodiesNumbered(3));
  auto first = pull(*client);
  ASSERT_EQ(first.size(), 1u);
  channel->pause();
  EXPECT_TRUE(channel->paused());
  EXPECT_TRUE(stats().paused);
  std::string desc;
  EXPECT_EQ(codeOf(channel->touch(*client, first[0].id), &desc), ErrorCode::None);
  EXPECT_EQ(codeOf(channel->finish(*client, first[0].id), &desc), ErrorCode::None);
  client->setReadyCount(10);
  EXPECT_TRUE(pull(*client).empty());
  EXPECT_EQ(stats().depth, 2);

  channel->unpause();
  EXPECT_FALSE(stats().paused);
  EXPECT_EQ(pull(*client).size(), 2u);
}

TEST_F(ChannelTest, StatsCountersAreExact) {
  init();
  auto a = addClient(4);
  auto b = addClient(0);
  publish(bodiesNumbered(4));
  ChannelStats s0 = stats();
  EXPECT_EQ(s0.name, "c");
  EXPECT_EQ(s0.messageCount, 4u);
  EXPECT_EQ(s0.depth, 4);
  EXPECT_EQ(s0.backendDepth, 0);
  EXPECT_TRUE(s0.clients.empty());  // not asked for
  EXPECT_EQ(channel->stats(true).clients.size(), 2u);
  EXPECT_EQ(channel->clientCount(), 2u);

  auto msgs = pull(*a);
  ASSERT_EQ(msgs.size(), 4u);
  std::string desc;
  ASSERT_EQ(codeOf(channel->finish(*a, msgs[0].id), &desc), ErrorCode::None);
  ASSERT_EQ(codeOf(channel->requeue(*a, msgs[1].id, 0), &desc), ErrorCode::None);
  ASSERT_EQ(codeOf(channel->requeue(*a, msgs[2].id, 60 * kSecond), &desc), ErrorCode::None);
  ChannelStats s1 = stats();
  EXPECT_EQ(s1.messageCount, 4u);  // requeues are not new messages
  EXPECT_EQ(s1.requeueCount, 2u);
  EXPECT_EQ(s1.timeoutCount, 0u);
  EXPECT_EQ(s1.inFlightCount, 1);
  EXPECT_EQ(s1.deferredCount, 1);
  EXPECT_EQ(s1.depth, 1);
  EXPECT_EQ(channel->depth(), 1);

  ASSERT_TRUE(channel->processTimeouts(monoNanos() + 2 * 60 * kSecond));  // msgs[3] + deferred
  ChannelStats s2 = stats();
  EXPECT_EQ(s2.timeoutCount, 1u);
  EXPECT_EQ(s2.requeueCount, 2u);
  EXPECT_EQ(s2.inFlightCount, 0);
  EXPECT_EQ(s2.deferredCount, 0);
  EXPECT_EQ(s2.depth, 3);
  EXPECT_EQ(channel->inFlightCount(b->id()), 0);

  TopicStats ts = topic->stats("", false);
  EXPECT_EQ(ts.messageCount, 4u);
  EXPECT_EQ(ts.messageBytes, 8u);  // "m0".."m3"
  ASSERT_EQ(ts.channels.size(), 1u);
  EXPECT_EQ(ts.channels[0].timeoutCount, 1u);
}

// ---------------------------------------------------------------------------------------------
// Memory limit, disk spill, ephemeral

TEST_F(ChannelTest, OverflowSpillsToDiskAndPullReturnsAllInArrivalOrder) {
  opts.memQueueSize = 3;
  init();
  auto client = addClient(100);
  publish(bodiesNumbered(10));
  ChannelStats s = stats();
  EXPECT_EQ(s.depth, 10);
  EXPECT_EQ(s.backendDepth, 7);
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(bodyOf(msgs[i]), "m" + std::to_string(i));
    EXPECT_EQ(msgs[i].attempts, 1);
  }
  EXPECT_EQ(stats().depth, 0);
  EXPECT_EQ(stats().backendDepth, 0);
}

// Once a publish found the channel at --mem-queue-size, the next one stages the publisher's
// bytes unbuilt (Topic::publishLocked); a consumer may have made room in between, and then the
// channel must copy them into bodies of its own (the publisher's buffer is gone after publish).
TEST_F(ChannelTest, APublishAfterTheChannelSpilledKeepsItsBodiesWhenMemoryHasRoomAgain) {
  opts.memQueueSize = 3;
  init();
  publish(bodiesNumbered(5));  // m0..m2 in memory, m3 m4 on disk: the topic now skips building
  auto client = addClient(3);
  auto first = pull(*client);  // memory first
  ASSERT_EQ(first.size(), 3u);
  for (const auto& m : first) ASSERT_FALSE(channel->finish(*client, m.id));
  publish(bodiesNumbered(2, "x"));  // memory has room again: built under the lock
  publish(bodiesNumbered(1, "d"), kSecond / 1000);  // a deferred one needs its body too
  EXPECT_EQ(stats().backendDepth, 2);
  client->setReadyCount(10);
  auto rest = pull(*client);
  ASSERT_TRUE(channel->processTimeouts(monoNanos() + kSecond));
  auto deferred = pull(*client);
  std::vector<std::string> bodies;
  for (const auto& m : rest) bodies.push_back(bodyOf(m));
  for (const auto& m : deferred) bodies.push_back(bodyOf(m));
  EXPECT_EQ(bodies, (std::vector<std::string>{"x0", "x1", "m3", "m4", "d0"}));
}

// While every channel spills, a fan-out publish encodes each message's disk record once from
// the publisher's bytes, before the topic lock, and every channel appends it: both channels read
// every body back, each message with the same ID and timestamp in both, the IDs all distinct.
TEST_F(ChannelTest, EveryChannelOfASpillingTopicReadsTheBodiesBackFromDisk) {
  opts.memQueueSize = 1;
  init();
  auto other = topic->getChannel("c2");
  ASSERT_NE(other, nullptr);
  publish(bodiesNumbered(2, "a"));
  publish(bodiesNumbered(3, "b"));  // unbuilt: both channels are at the mark
  std::vector<std::vector<Message>> got;
  for (const auto& ch : {channel, other}) {
    auto client = newConsumer(10);
    ASSERT_FALSE(ch->addClient(client));
    std::vector<Message> msgs = pullFrom(*ch, *client);
    std::vector<std::string> bodies;
    for (const auto& m : msgs) bodies.push_back(bodyOf(m));
    EXPECT_EQ(bodies, (std::vector<std::string>{"a0", "a1", "b0", "b1", "b2"})) << ch->name();
    got.push_back(std::move(msgs));
  }
  ASSERT_EQ(got[0].size(), got[1].size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < got[0].size(); ++i) {
    EXPECT_EQ(got[0][i].id, got[1][i].id) << i;
    EXPECT_EQ(got[0][i].timestamp, got[1][i].timestamp) << i;
    ids.insert(std::string(got[0][i].id.view()));
  }
  EXPECT_EQ(ids.size(), got[0].size());
}

TEST_F(ChannelTest, ZeroMemQueueSendsEverythingThroughDisk) {
  opts.memQueueSize = 0;
  init();
  auto client = addClient(10);
  publish(bodiesNumbered(4));
  EXPECT_EQ(stats().backendDepth, 4);
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bodyOf(msgs[i]), "m" + std::to_string(i));
}

TEST_F(ChannelTest, AttemptsSurviveDiskSpill) {
  opts.memQueueSize = 1;
  init();
  auto client = addClient(1);
  publish({"a"});
  auto first = pull(*client);
  ASSERT_EQ(first.size(), 1u);
  std::string desc;
  ASSERT_EQ(codeOf(channel->requeue(*client, first[0].id, 0), &desc), ErrorCode::None);  // attempts 1
  auto second = pull(*client);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempts, 2);
  // Graceful close writes the in-flight message to disk with its attempts; a new nsqd reads it.
  restartGracefully();
  auto again = addClient(1);
  auto back = pull(*again);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, first[0].id);
  EXPECT_EQ(back[0].attempts, 3);
}

TEST_F(ChannelTest, EphemeralChannelNeverCreatesFiles) {
  opts.memQueueSize = 2;
  init("t", "c#ephemeral");
  auto client = addClient(10);
  publish(bodiesNumbered(5));
  ChannelStats s = stats();
  EXPECT_EQ(s.depth, 2);  // overflow is discarded, there is no disk
  EXPECT_EQ(s.backendDepth, 0);
  EXPECT_EQ(pull(*client).size(), 2u);
  topic->close(false);  // a graceful stop must not write it either
  for (const auto& name : dataFiles()) EXPECT_EQ(name.find("ephemeral"), std::string::npos) << name;
}

TEST_F(ChannelTest, EphemeralTopicAndChannelLeaveTheDataDirEmpty) {
  opts.memQueueSize = 1;
  init("e#ephemeral", "c#ephemeral");
  auto client = addClient(10);
  publish(bodiesNumbered(3));
  std::string desc;
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 1u);
  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[0].id, 0), &desc), ErrorCode::None);
  topic->close(false);
  EXPECT_TRUE(dataFiles().empty());
}

TEST_F(ChannelTest, RemoveClientReportsLastClientOfEphemeralChannel) {
  init("t", "c#ephemeral");
  auto a = addClient(1);
  auto b = addClient(1);
  EXPECT_FALSE(channel->removeClient(*a));
  EXPECT_EQ(channel->clientCount(), 1u);
  EXPECT_TRUE(channel->removeClient(*b));
  EXPECT_EQ(channel->clientCount(), 0u);
  EXPECT_FALSE(channel->removeClient(*b));  // not a member any more
}

TEST_F(ChannelTest, RemoveClientOfDurableChannelNeverAsksForDeletion) {
  init();
  auto a = addClient(1);
  EXPECT_FALSE(channel->removeClient(*a));
  EXPECT_EQ(channel->clientCount(), 0u);
}

TEST_F(ChannelTest, RemovedWaitingClientIsForgotten) {
  init();
  auto a = addClient(5);
  EXPECT_TRUE(pull(*a).empty());  // registers as waiting
  EXPECT_FALSE(channel->removeClient(*a));
  publish({"x"});
  EXPECT_EQ(a->wakes.load(), 0);  // forgotten: the put wakes nobody
  a.reset();  // gone for good; a later put must not touch it
  publish({"y"});
  EXPECT_EQ(stats().depth, 2);
}

TEST_F(ChannelTest, WaitingConsumerIsWokenByTheNextPut) {
  init();
  auto a = addClient(5);
  EXPECT_TRUE(pull(*a).empty());  // nothing yet: waits
  EXPECT_EQ(a->wakes.load(), 0);
  publish({"x"});
  EXPECT_EQ(a->wakes.load(), 1);
  EXPECT_EQ(pull(*a).size(), 1u);
}

TEST_F(ChannelTest, PullForAConsumerThatIsNotSubscribedTakesNothing) {
  init();
  publish({"x"});
  auto stranger = newConsumer(5);
  EXPECT_TRUE(pull(*stranger).empty());
  EXPECT_EQ(stats().depth, 1);
  EXPECT_EQ(channel->inFlightCount(stranger->id()), 0);
}

TEST_F(ChannelTest, FinFromAConsumerThatDoesNotOwnTheMessageKeepsItsCounts) {
  init();
  auto owner = addClient(1);
  auto other = addClient(1);
  publish({"x"});
  auto msgs = pull(*owner);
  ASSERT_EQ(msgs.size(), 1u);
  Error err = channel->finish(*other, msgs[0].id);
  EXPECT_EQ(err.code, ErrorCode::FinFailed);
  EXPECT_FALSE(isFatal(err.code));
  EXPECT_EQ(err.frameText(), "E_FIN_FAILED FIN " + std::string(msgs[0].id.view()) + " failed client does not own message");
  EXPECT_EQ(channel->inFlightCount(owner->id()), 1);
  EXPECT_EQ(channel->inFlightCount(other->id()), 0);
  EXPECT_FALSE(channel->finish(*owner, msgs[0].id));
  EXPECT_EQ(channel->inFlightCount(owner->id()), 0);
}

TEST_F(ChannelTest, RemovedConsumersMessagesStayInFlightUntilTheyTimeOut) {
  init();
  auto gone = addClient(2);
  auto other = addClient(2);
  publish(bodiesNumbered(2));
  auto msgs = pull(*gone);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(pull(*other).empty());
  EXPECT_FALSE(channel->removeClient(*gone));
  EXPECT_EQ(stats().inFlightCount, 2);  // not requeued at once (as upstream)
  EXPECT_EQ(channel->inFlightCount(gone->id()), 0);  // no longer a member
  std::string desc;
  EXPECT_EQ(codeOf(channel->finish(*gone, msgs[0].id), &desc), ErrorCode::None);  // still its message
  const int wakesBefore = gone->wakes.load();
  ASSERT_TRUE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  EXPECT_EQ(gone->wakes.load(), wakesBefore);  // the removed consumer is left alone
  EXPECT_EQ(stats().timeoutCount, 1u);
  auto again = pull(*other);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, msgs[1].id);
  EXPECT_EQ(again[0].attempts, 2);
}

TEST_F(ChannelTest, TimeoutWakesTheOwner) {
  init();
  auto a = addClient(1);
  publish({"x"});
  ASSERT_EQ(pull(*a).size(), 1u);
  const int before = a->wakes.load();
  ASSERT_TRUE(channel->processTimeouts(monoNanos() + 3600 * kSecond));
  EXPECT_GT(a->wakes.load(), before);
  EXPECT_EQ(channel->inFlightCount(a->id()), 0);
}

TEST_F(ChannelTest, ClosingTheChannelAsksEveryConsumerToClose) {
  init();
  auto a = addClient(1);
  auto b = addClient(1);
  topic->close(true);
  EXPECT_EQ(a->closeRequests.load(), 1);
  EXPECT_EQ(b->closeRequests.load(), 1);
  EXPECT_EQ(channel->clientCount(), 0u);
}

TEST_F(ChannelTest, MaxChannelConsumersLimitsSubscriptions) {
  opts.maxChannelConsumers = 1;
  init();
  addClient(1);
  auto extra = newConsumer(1);
  Error err = channel->addClient(extra);
  EXPECT_EQ(err.code, ErrorCode::SubFailed);
  EXPECT_EQ(err.description, "SUB failed consumers for t:c exceeds limit of 1");
}

TEST_F(ChannelTest, ClosedChannelRefusesClientsAndPuts) {
  init();
  auto client = addClient(1);
  topic->close(true);
  EXPECT_TRUE(channel->exiting());
  auto late = newConsumer(1);
  EXPECT_EQ(channel->addClient(late).code, ErrorCode::SubFailed);
  EXPECT_TRUE(channel->put(Message{}, 0));
  EXPECT_TRUE(pull(*client).empty());
}

// ---------------------------------------------------------------------------------------------
// Full-disk findings: draining journals references, a failed publish is stored nowhere

TEST_F(ChannelTest, DrainingFromDiskJournalsReferencesNotBodiesAndRestoresThem) {
  opts.syncEvery = 1;  // every delivery journaled before it is sent (else held: below)
  std::vector<std::string> bodies;
  std::shared_ptr<FakeConsumer> client;
  auto msgs = deliverTwentyFromDisk(bodies, client);
  ASSERT_EQ(msgs.size(), 20u);
  const std::string journal = dir.file("t:c.journal.dat");
  ASSERT_TRUE(fs::exists(journal));
  EXPECT_LT(fs::file_size(journal), 20u * 100) << "the journal copied message bodies";
  std::string desc;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(codeOf(channel->finish(*client, msgs[i].id), &desc), ErrorCode::None) << desc;
  channel->processTimeouts(monoNanos());
  EXPECT_FALSE(fs::exists(dir.file("t:c.diskqueue.000000.dat")));  // all finished: deleted
  EXPECT_TRUE(fs::exists(dir.file("t:c.diskqueue.000005.dat")));   // read, but in flight: kept

  restartGracefully();
  auto again = addClient(20);
  auto back = pull(*again);
  ASSERT_EQ(back.size(), 10u);
  std::set<std::string> want(bodies.begin() + 10, bodies.end()), got;
  for (const auto& m : back) {
    got.insert(bodyOf(m));
    EXPECT_EQ(m.attempts, 2);
  }
  EXPECT_EQ(got, want);
  for (const auto& m : back) ASSERT_EQ(codeOf(channel->finish(*again, m.id), &desc), ErrorCode::None) << desc;
  channel->processTimeouts(monoNanos());
  for (int n = 5; n < 9; ++n) EXPECT_FALSE(fs::exists(dir.file("t:c.diskqueue.00000" + std::to_string(n) + ".dat"))) << n;
}

// With --sync-every above 1 a message popped from disk is not journaled while in flight: its
// record is held, and the disk queue's committed read position (which decides the segments
// deleted) stops before the oldest held record until that one is finished. One that leaves
// flight unfinished (REQ) is journaled then, by reference, with its attempts.
TEST_F(ChannelTest, DrainingFromDiskHoldsTheRecordsOfMessagesInFlightUntilFinished) {
  ASSERT_GT(opts.syncEvery, 1);
  std::vector<std::string> bodies;
  std::shared_ptr<FakeConsumer> client;
  auto msgs = deliverTwentyFromDisk(bodies, client);
  ASSERT_EQ(msgs.size(), 20u);
  const std::string journal = dir.file("t:c.journal.dat");
  EXPECT_TRUE(!fs::exists(journal) || fs::file_size(journal) <= static_cast<uintmax_t>(kJournalHeaderSize))
      << "a delivery was journaled";
  std::string desc;
  for (int i = 1; i < 10; ++i) ASSERT_EQ(codeOf(channel->finish(*client, msgs[i].id), &desc), ErrorCode::None) << desc;
  channel->processTimeouts(monoNanos());
  EXPECT_TRUE(fs::exists(dir.file("t:c.diskqueue.000000.dat"))) << "the oldest message in flight lost its record";
  ASSERT_EQ(codeOf(channel->finish(*client, msgs[0].id), &desc), ErrorCode::None) << desc;
  channel->processTimeouts(monoNanos());
  for (int n = 0; n < 5; ++n) EXPECT_FALSE(fs::exists(dir.file("t:c.diskqueue.00000" + std::to_string(n) + ".dat"))) << n;
  EXPECT_TRUE(fs::exists(dir.file("t:c.diskqueue.000005.dat")));  // message 10 is still in flight

  ASSERT_EQ(codeOf(channel->requeue(*client, msgs[10].id, 60'000'000'000), &desc), ErrorCode::None) << desc;
  ASSERT_TRUE(fs::exists(journal));
  EXPECT_GT(fs::file_size(journal), static_cast<uintmax_t>(kJournalHeaderSize)) << "the requeue was not journaled";

  restartGracefully();  // graceful: the held ones go back to the disk queue, attempts kept
  auto again = addClient(20);
  auto back = pull(*again);
  ASSERT_EQ(back.size(), 9u);  // 11..19; 10 waits for its delay
  std::set<std::string> want(bodies.begin() + 11, bodies.end()), got;
  for (const auto& m : back) {
    got.insert(bodyOf(m));
    EXPECT_EQ(m.attempts, 2);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(stats().deferredCount, 1);
}

TEST_F(ChannelTest, PublishThatOneChannelCannotStoreIsStoredInNone) {
  opts.memQueueSize = 0;
  opts.syncEvery = 1;
  init();
  auto other = topic->getChannel("c2");
  auto client = addClient(10);
  const std::string blocked = dir.file("t:c2.diskqueue.meta.dat");
  fs::remove(blocked);
  fs::create_directory(blocked);  // c2's metadata cannot be written: its sync fails
  std::vector<std::string_view> views{"a", "b"};
  Error error = topic->publish(views, 0, ErrorCode::PubFailed);
  EXPECT_TRUE(error);
  EXPECT_EQ(error.code, ErrorCode::PubFailed);
  EXPECT_NE(error.description.find("write metadata"), std::string::npos) << error.description;
  EXPECT_FALSE(nsqd->healthy());
  EXPECT_TRUE(pull(*client).empty());
  EXPECT_EQ(stats().depth, 0);
  EXPECT_EQ(other->depth(), 0);
  EXPECT_EQ(stats().messageCount, 0u);
  fs::remove(blocked);
  error = topic->publish(views, 0, ErrorCode::PubFailed);
  ASSERT_FALSE(error) << error.description;
  EXPECT_TRUE(nsqd->healthy()) << nsqd->health();
  auto msgs = pull(*client);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(bodyOf(msgs[0]), "a");
  EXPECT_EQ(other->depth(), 2);
}

}  // namespace
}  // namespace nsq::nsqd

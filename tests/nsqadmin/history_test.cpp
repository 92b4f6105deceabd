// History: the bounded point rings and the rate computation behind the live graphs.
#include "nsqadmin/history.h"

#include <gtest/gtest.h>

using namespace nsq::admin;

namespace {

TopicStats topic(const std::string& node, const std::string& name, int64_t messages, int64_t depth) {
  TopicStats t;
  t.node = node;
  t.topicName = name;
  t.messageCount = messages;
  t.depth = depth;
  return t;
}

ChannelStats channel(const std::string& topicName, const std::string& name, int64_t messages, int64_t finished,
                     int64_t requeued, int64_t timedOut, int64_t inFlight, int64_t depth = 0) {
  ChannelStats c;
  c.depth = depth;
  c.topicName = topicName;
  c.channelName = name;
  c.messageCount = messages;
  c.requeueCount = requeued;
  c.timeoutCount = timedOut;
  c.inFlightCount = inFlight;
  ClientStats client;
  client.finishCount = finished;
  c.clients.push_back(client);
  return c;
}

}  // namespace

TEST(PointRing, KeepsTheNewestPointsOldestFirstOnceFull) {
  PointRing ring(3);
  for (int64_t i = 1; i <= 5; ++i) ring.push(Point{i * 1000, i, 0, 0, 0, 0, 0});
  auto points = ring.points();
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].depth, 3);
  EXPECT_EQ(points[2].depth, 5);
  EXPECT_EQ(ring.last()->depth, 5);
  EXPECT_EQ(ring.capacity(), 3u);
}

TEST(PointRing, EmptyRingHasNoPoints) {
  PointRing ring(4);
  EXPECT_TRUE(ring.points().empty());
  EXPECT_EQ(ring.last(), nullptr);
}

TEST(CounterIncrease, ADecreaseIsAResetNeverNegative) {
  EXPECT_EQ(counterIncrease(10, 25), 15);
  EXPECT_EQ(counterIncrease(1000, 7), 7);  // restarted nsqd: counted again from 0
  EXPECT_EQ(counterIncrease(5, 5), 0);
  EXPECT_EQ(counterIncrease(5, -1), 0);
}

TEST(History, RatesAreIncreasesPerSecondSummedOverNodes) {
  History h(10, 5000);
  TopicStats a = topic("n1:4151", "t", 100, 4);
  a.channels.push_back(channel("t", "c", 100, 50, 2, 1, 3));
  TopicStats b = topic("n2:4151", "t", 10, 1);
  h.record(0, {a, b});
  a.messageCount = 150;   // +50 in 5 s
  a.channels[0] = channel("t", "c", 150, 75, 7, 1, 2, 9);
  b.messageCount = 35;    // +25 in 5 s
  h.record(5000, {a, b});
  auto points = h.points("t", "");
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].publishRate, 0);  // no previous sample: no rate
  EXPECT_DOUBLE_EQ(points[1].publishRate, 15.0);
  EXPECT_DOUBLE_EQ(points[1].finishRate, 5.0);
  EXPECT_DOUBLE_EQ(points[1].requeueRate, 1.0);
  EXPECT_EQ(points[1].depth, 5 + 9) << "the topic's backlog: its own depth and its channel's";
  EXPECT_EQ(points[1].inFlight, 2);
  auto ch = h.points("t", "c");
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_DOUBLE_EQ(ch[1].publishRate, 10.0);
  EXPECT_DOUBLE_EQ(ch[1].timeoutRate, 0.0);
}

TEST(History, AnNsqdRestartGivesNoNegativeRate) {
  History h(10, 1000);
  TopicStats before = topic("n1:4151", "t", 5000, 0);
  before.channels.push_back(channel("t", "c", 5000, 4000, 30, 20, 0));
  TopicStats other = topic("n2:4151", "t", 100, 0);
  h.record(0, {before, other});
  TopicStats after = topic("n1:4151", "t", 20, 0);  // restarted: counters from 0
  after.channels.push_back(channel("t", "c", 20, 10, 0, 0, 0));
  other.messageCount = 110;
  h.record(1000, {after, other});
  auto p = h.points("t", "").back();
  EXPECT_DOUBLE_EQ(p.publishRate, 30.0);  // 20 since the restart + 10 on the other node
  EXPECT_DOUBLE_EQ(p.finishRate, 10.0);
  auto c = h.points("t", "c").back();
  EXPECT_GE(c.requeueRate, 0.0);
  EXPECT_GE(c.timeoutRate, 0.0);
}

TEST(History, ANodeMissingFromAPollKeepsItsCountersForTheNext) {
  History h(10, 1000);
  h.record(0, {topic("n1", "t", 100, 0)});
  h.record(1000, {});  // n1 did not answer
  h.record(2000, {topic("n1", "t", 140, 0)});
  EXPECT_DOUBLE_EQ(h.points("t", "").back().publishRate, 20.0);  // 40 over 2 s
}

TEST(History, SeriesNotSeenForTheRingsSpanAreForgotten) {
  History h(3, 1000);  // span 3 s
  h.record(0, {topic("n1", "gone", 1, 0)});
  EXPECT_EQ(h.seriesCount(), 1u);
  h.record(5000, {topic("n1", "kept", 1, 0)});
  EXPECT_EQ(h.seriesCount(), 1u);
  EXPECT_TRUE(h.points("gone", "").empty());
}

TEST(History, JsonNamesItsColumnsAndListsPoints) {
  History h(4, 5000);
  h.record(1000, {topic("n1", "t", 1, 2)});
  std::string json = h.json("t", "");
  EXPECT_NE(json.find("\"interval_ms\":5000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"columns\":[\"time_ms\",\"depth\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"points\":[[1000,2,0,0,0,0,0]]"), std::string::npos) << json;
  EXPECT_NE(h.topicsJson().find("\"topics\":{\"t\":[[1000,2,"), std::string::npos) << h.topicsJson();
  EXPECT_NE(h.json("none", "").find("\"points\":[]"), std::string::npos);
}

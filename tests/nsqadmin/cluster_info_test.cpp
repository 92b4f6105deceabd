// ClusterInfo: aggregation across producers as the original sums topics and channels, the JSON
// shapes, the error texts and the bounded fan-out. (The real-cluster queries are in
// tests/integration/nsqadmin_test.cpp.)
#include "nsqadmin/cluster_info.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/test_support.h"

using namespace nsq::admin;

namespace {
TopicStats nodeTopic(const std::string& node, const std::string& host, int64_t depth, int64_t backend, int64_t count,
                     bool paused) {
  TopicStats t;
  t.node = node;
  t.hostname = host;
  t.topicName = "t";
  t.depth = depth;
  t.backendDepth = backend;
  t.memoryDepth = depth - backend;
  t.messageCount = count;
  t.paused = paused;
  ChannelStats c;
  c.node = node;
  c.hostname = host;
  c.topicName = "t";
  c.channelName = "c";
  c.depth = depth;
  c.inFlightCount = 1;
  c.clientCount = 1;
  ClientStats client;
  client.node = node;
  client.finishCount = 3;
  c.clients.push_back(client);
  Percentile p;
  p.quantile = 0.99;
  p.value = p.min = p.max = p.average = 100.0 * static_cast<double>(count);
  p.count = 10;
  c.e2e.count = 10;
  c.e2e.percentiles.push_back(p);
  t.channels.push_back(c);
  return t;
}
}  // namespace

TEST(TopicStats, SumsEveryProducerAndKeepsEachAsANode) {
  TopicStats all;
  all.topicName = "t";
  all.add(nodeTopic("b:4151", "hostB", 5, 2, 10, false));
  all.add(nodeTopic("a:4151", "hostA", 1, 0, 4, true));
  EXPECT_EQ(all.node, "*");
  EXPECT_EQ(all.depth, 6);
  EXPECT_EQ(all.backendDepth, 2);
  EXPECT_EQ(all.memoryDepth, 4);
  EXPECT_EQ(all.messageCount, 14);
  EXPECT_TRUE(all.paused) << "one paused producer marks the topic paused";
  ASSERT_EQ(all.nodes.size(), 2u);
  EXPECT_EQ(all.nodes[0].hostname, "hostA") << "nodes sorted by hostname";
  ASSERT_EQ(all.channels.size(), 1u);
  const ChannelStats& c = all.channels[0];
  EXPECT_EQ(c.node, "*");
  EXPECT_EQ(c.depth, 6);
  EXPECT_EQ(c.inFlightCount, 2);
  EXPECT_EQ(c.clientCount, 2);
  EXPECT_EQ(c.nodes.size(), 2u) << "every producer of the channel is listed, the first one too";
  EXPECT_EQ(c.clients.size(), 2u);
  EXPECT_EQ(c.e2e.count, 20);
  ASSERT_EQ(c.e2e.percentiles.size(), 1u);
  EXPECT_DOUBLE_EQ(c.e2e.percentiles[0].max, 1000.0);
  EXPECT_DOUBLE_EQ(c.e2e.percentiles[0].min, 400.0);
  EXPECT_DOUBLE_EQ(c.e2e.percentiles[0].average, 700.0);
}

TEST(TopicStats, JsonHasTheOriginalKeysInOrder) {
  TopicStats all;
  all.topicName = "t";
  all.add(nodeTopic("a:4151", "hostA", 1, 0, 4, false));
  std::string json = toJson(all);
  const char* keys[] = {"\"node\":\"*\"", "\"hostname\":", "\"topic_name\":\"t\"", "\"depth\":1", "\"memory_depth\":1",
                        "\"backend_depth\":0", "\"message_count\":4", "\"nodes\":[", "\"channels\":[", "\"paused\":false",
                        "\"e2e_processing_latency\":{"};
  std::size_t at = 0;
  for (const char* k : keys) {
    auto pos = json.find(k, at);
    ASSERT_NE(pos, std::string::npos) << k << " in " << json;
    at = pos;
  }
  EXPECT_NE(json.find("\"channel_name\":\"c\""), std::string::npos);
  EXPECT_NE(json.find("\"in_flight_count\":1"), std::string::npos);
  EXPECT_NE(json.find("\"finish_count\":3"), std::string::npos);
}

TEST(Producer, JsonAndAddresses) {
  Producer p;
  p.broadcastAddress = "::1";
  p.httpPort = 4151;
  p.tcpPort = 4150;
  p.topics.push_back({"t", true});
  EXPECT_EQ(p.httpAddress(), "[::1]:4151");
  EXPECT_EQ(p.tcpAddress(), "[::1]:4150");
  std::string json = toJson(p);
  EXPECT_EQ(json.rfind("{\"remote_addresses\":null,\"remote_address\":\"\"", 0), 0u) << json;
  EXPECT_NE(json.find("\"topics\":[{\"topic\":\"t\",\"tombstoned\":true}],\"out_of_date\":false}"), std::string::npos)
      << json;
}

TEST(QueryErrors, MessageIsTheOriginalsWarning) {
  QueryErrors e;
  EXPECT_EQ(e.message(), "");
  e.partial = {"a failed", "b failed"};
  EXPECT_EQ(e.message(), "WARNING: a failed; b failed");
}

TEST(GoQuote, EscapesAsGosPercentQ) {
  EXPECT_EQ(goQuote("{\"message\":\"TOPIC_NOT_FOUND\"}"), "\"{\\\"message\\\":\\\"TOPIC_NOT_FOUND\\\"}\"");
  EXPECT_EQ(goQuote("a\nb\x01"), "\"a\\nb\\x01\"");
}

TEST(FanOut, RunsEveryIndexOnceOnAtMostTheBoundOfThreads) {
  std::mutex mu;
  std::set<std::size_t> seen;
  std::set<std::thread::id> threads;
  std::atomic<int> running{0}, peak{0};
  fanOut(100, [&](std::size_t i) {
    int now = ++running;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {
    }
    {
      std::lock_guard lock(mu);
      seen.insert(i);
      threads.insert(std::this_thread::get_id());
    }
    --running;
  });
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_LE(threads.size(), kMaxParallel);
  EXPECT_LE(peak.load(), static_cast<int>(kMaxParallel));
}

TEST(ClusterInfo, AllNodesDownIsFatalAndNamesThem) {
  ClusterConfig c;
  int port = nsq::test::freePort();  // nothing listens there
  c.nsqd = {"127.0.0.1:" + std::to_string(port)};
  QueryErrors errs;
  auto topics = ClusterInfo(c).topics(errs);
  EXPECT_TRUE(topics.empty());
  ASSERT_TRUE(errs.fatal);
  EXPECT_EQ(errs.fatal->rfind("failed to query any nsqd: Get \"http://127.0.0.1:" + std::to_string(port), 0), 0u)
      << *errs.fatal;
}

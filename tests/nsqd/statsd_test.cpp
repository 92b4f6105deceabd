// statsd line and packet building (NSQ-COMPAT §4.10) without sockets; the UDP push itself is
// covered end to end in tests/integration/metrics_test.cpp.
#include "nsqd/statsd.h"

#include <gtest/gtest.h>

using namespace nsq::nsqd;

namespace {

TopicSnapshot topic(const std::string& name, uint64_t count, uint64_t bytes, int64_t depth) {
  TopicSnapshot t;
  t.stats.name = name;
  t.stats.messageCount = count;
  t.stats.messageBytes = bytes;
  t.stats.depth = depth;
  t.stats.backendDepth = depth / 2;
  return t;
}

ChannelSnapshot channel(const std::string& name, uint64_t count, uint64_t requeues, uint64_t timeouts) {
  ChannelSnapshot c;
  c.stats.name = name;
  c.stats.messageCount = count;
  c.stats.requeueCount = requeues;
  c.stats.timeoutCount = timeouts;
  c.stats.depth = 4;
  c.stats.backendDepth = 1;
  c.stats.inFlightCount = 2;
  c.stats.deferredCount = 3;
  c.clientCount = 1;
  return c;
}

}  // namespace

TEST(StatsdPrefix, ReplacesHostAndAddsTrailingDot) {
  EXPECT_EQ(statsdPrefix("nsq.%s", "host.example.com", 4151), "nsq.host_example_com_4151.");
  EXPECT_EQ(statsdPrefix("nsq.%s.", "10.0.0.1", 80), "nsq.10_0_0_1_80.");
  EXPECT_EQ(statsdPrefix("nsq.%s", "::1", 4151), "nsq.[__1]_4151.");
  EXPECT_EQ(statsdPrefix("fixed", "h", 1), "fixed.");
  EXPECT_EQ(statsdPrefix("", "h", 1), "");
}

TEST(StatsdLines, CountersAreDeltasGaugesAreLevels) {
  StatsdState state;
  auto t = topic("t", 5, 50, 6);
  t.channels.push_back(channel("c", 5, 1, 0));
  auto first = statsdLines({t}, std::nullopt, "p.", false, state);
  std::vector<std::string> want = {
      "p.topic.t.message_count:5|c\n",         "p.topic.t.message_bytes:50|c\n",
      "p.topic.t.depth:6|g\n",                 "p.topic.t.backend_depth:3|g\n",
      "p.topic.t.channel.c.message_count:5|c\n", "p.topic.t.channel.c.depth:4|g\n",
      "p.topic.t.channel.c.backend_depth:1|g\n", "p.topic.t.channel.c.in_flight_count:2|g\n",
      "p.topic.t.channel.c.deferred_count:3|g\n", "p.topic.t.channel.c.requeue_count:1|c\n",
      "p.topic.t.channel.c.timeout_count:0|c\n", "p.topic.t.channel.c.clients:1|g\n",
  };
  EXPECT_EQ(first, want);

  t.stats.messageCount = 8;
  t.stats.messageBytes = 80;
  t.channels[0] = channel("c", 7, 1, 2);
  auto second = statsdLines({t}, std::nullopt, "p.", false, state);
  EXPECT_EQ(second[0], "p.topic.t.message_count:3|c\n");
  EXPECT_EQ(second[1], "p.topic.t.message_bytes:30|c\n");
  EXPECT_EQ(second[4], "p.topic.t.channel.c.message_count:2|c\n");
  EXPECT_EQ(second[9], "p.topic.t.channel.c.requeue_count:0|c\n");
  EXPECT_EQ(second[10], "p.topic.t.channel.c.timeout_count:2|c\n");
}

TEST(StatsdLines, NewChannelCountsFromZeroAndEphemeralCanBeExcluded) {
  StatsdState state;
  auto t = topic("t", 1, 1, 0);
  statsdLines({t}, std::nullopt, "", false, state);
  t.channels.push_back(channel("late", 9, 0, 0));
  t.channels.push_back(channel("tmp#ephemeral", 9, 0, 0));
  auto eph = topic("e#ephemeral", 1, 1, 0);
  auto lines = statsdLines({eph, t}, std::nullopt, "", true, state);
  ASSERT_EQ(lines.size(), 4u + 8u);
  EXPECT_EQ(lines[0], "topic.t.message_count:0|c\n");
  EXPECT_EQ(lines[4], "topic.t.channel.late.message_count:9|c\n");
  for (const auto& l : lines) EXPECT_EQ(l.find("ephemeral"), std::string::npos) << l;
  auto all = statsdLines({eph, t}, std::nullopt, "", false, state);
  EXPECT_EQ(all.size(), 4u + 4u + 8u + 8u);
}

TEST(StatsdLines, E2eLatencyGaugesNamedByRoundedPercent) {
  StatsdState state;
  auto t = topic("t", 1, 1, 0);
  t.stats.e2e = LatencyPercentiles{3, 0, {{1.0, 9e6}, {0.999, 8.5e6}, {0.99, 8e6}, {0.5, 1234.9}}};
  t.channels.push_back(channel("c", 1, 0, 0));
  t.channels[0].stats.e2e = LatencyPercentiles{3, 0, {{1.0, 9e6}, {0.999, 8.5e6}, {0.99, 8e6}, {0.5, 1234.9}}};
  auto lines = statsdLines({t}, std::nullopt, "p.", false, state);
  ASSERT_EQ(lines.size(), 4u + 4u + 8u + 4u);
  std::vector<std::string> topicLines(lines.begin() + 4, lines.begin() + 8);
  EXPECT_EQ(topicLines, (std::vector<std::string>{
                            "p.topic.t.e2e_processing_latency_100:9000000|g\n",
                            "p.topic.t.e2e_processing_latency_100:8500000|g\n",  // 0.999 rounds to 100, as upstream
                            "p.topic.t.e2e_processing_latency_99:8000000|g\n",
                            "p.topic.t.e2e_processing_latency_50:1234|g\n",
                        }));
  EXPECT_EQ(lines[16], "p.topic.t.channel.c.e2e_processing_latency_100:9000000|g\n");
  EXPECT_EQ(lines.back(), "p.topic.t.channel.c.e2e_processing_latency_50:1234|g\n");
}

TEST(StatsdLines, MemoryGaugesAndGcRuns) {
  StatsdState state;
  MemoryStats mem;
  mem.heapObjects = 10;
  mem.heapInUseBytes = 2048;
  mem.gcTotalRuns = 3;
  auto lines = statsdLines({}, mem, "n.", false, state);
  std::vector<std::string> want = {
      "n.mem.heap_objects:10|g\n",        "n.mem.heap_idle_bytes:0|g\n",
      "n.mem.heap_in_use_bytes:2048|g\n", "n.mem.heap_released_bytes:0|g\n",
      "n.mem.gc_pause_usec_100:0|g\n",    "n.mem.gc_pause_usec_99:0|g\n",
      "n.mem.gc_pause_usec_95:0|g\n",     "n.mem.next_gc_bytes:0|g\n",
      "n.mem.gc_runs:3|c\n",
  };
  EXPECT_EQ(lines, want);
  mem.gcTotalRuns = 5;
  EXPECT_EQ(statsdLines({}, mem, "n.", false, state).back(), "n.mem.gc_runs:2|c\n");
}

TEST(StatsdPackets, FillUpToTheSizeWithoutSplittingLines) {
  std::vector<std::string> lines = {"aaaa\n", "bbbb\n", "cccc\n", "dd\n"};
  auto packets = statsdPackets(lines, 10);
  EXPECT_EQ(packets, (std::vector<std::string>{"aaaa\nbbbb\n", "cccc\ndd\n"}));
  packets = statsdPackets(lines, 12);
  EXPECT_EQ(packets, (std::vector<std::string>{"aaaa\nbbbb\n", "cccc\ndd\n"}));
  packets = statsdPackets({"x\n", std::string(20, 'y') + "\n", "z\n"}, 8);
  EXPECT_EQ(packets, (std::vector<std::string>{"x\n", std::string(20, 'y') + "\n", "z\n"}));
  EXPECT_TRUE(statsdPackets({}, 508).empty());
  std::vector<std::string> many(100, "nsq.host_4151.topic.t.channel.c.in_flight_count:12|g\n");
  for (const auto& p : statsdPackets(many, 508)) {
    EXPECT_LE(p.size(), 508u);
    EXPECT_EQ(p.back(), '\n');
  }
}

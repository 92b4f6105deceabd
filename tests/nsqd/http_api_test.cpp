// Unit tests of the /stats renderings (stats.cpp): exact JSON key order and null handling as
// upstream emits them, and the text page's layout. The HTTP routes themselves are covered end to
// end in tests/integration/nsqd_http_test.cpp.
#include <gtest/gtest.h>

#include "nsqd/metrics.h"
#include "nsqd/stats.h"

using namespace nsq::nsqd;

namespace {

ClientStats consumer() {
  ClientStats c;
  c.clientId = "cid";
  c.hostname = "host";
  c.userAgent = "ua/1.0";
  c.remoteAddress = "127.0.0.1:5555";
  c.state = 3;
  c.readyCount = 10;
  c.inFlightCount = 2;
  c.messageCount = 7;
  c.finishCount = 5;
  c.requeueCount = 1;
  c.connectTs = 1700000000;
  c.sampleRate = 0;
  return c;
}

StatsSnapshot snapshot(bool includeClients) {
  StatsSnapshot s;
  s.health = "OK";
  s.startTime = 1700000000;
  s.includeClients = includeClients;
  TopicSnapshot t;
  t.stats.name = "t";
  t.stats.depth = 3;
  t.stats.backendDepth = 1;
  t.stats.messageCount = 9;
  t.stats.messageBytes = 90;
  t.stats.paused = true;
  ChannelSnapshot c;
  c.stats.name = "c";
  c.stats.depth = 4;
  c.stats.inFlightCount = 2;
  c.stats.deferredCount = 1;
  c.stats.messageCount = 9;
  c.clientCount = 1;
  if (includeClients) c.clients.push_back(consumer());
  t.channels.push_back(c);
  s.topics.push_back(t);
  return s;
}

}  // namespace

TEST(StatsJson, ClientKeysFollowUpstreamOrder) {
  EXPECT_EQ(clientStatsJson(consumer()),
            "{\"client_id\":\"cid\",\"hostname\":\"host\",\"version\":\"V2\",\"remote_address\":"
            "\"127.0.0.1:5555\",\"state\":3,\"ready_count\":10,\"in_flight_count\":2,"
            "\"message_count\":7,\"finish_count\":5,\"requeue_count\":1,\"connect_ts\":1700000000,"
            "\"sample_rate\":0,\"deflate\":false,\"snappy\":false,\"user_agent\":\"ua/1.0\","
            "\"topology_zone\":\"\",\"topology_region\":\"\",\"tls\":false,\"tls_cipher_suite\":\"\","
            "\"tls_version\":\"\",\"tls_negotiated_protocol\":\"\","
            "\"tls_negotiated_protocol_is_mutual\":false}");
}

TEST(StatsJson, ProducerShowsPubCounts) {
  ClientStats p = consumer();
  p.pubCounts = {{"a", 2}, {"b", 3}};
  std::string json = clientStatsJson(p);
  EXPECT_NE(json.find(",\"pub_counts\":[{\"topic\":\"a\",\"count\":2},{\"topic\":\"b\",\"count\":3}],\"tls\":"),
            std::string::npos)
      << json;
}

TEST(StatsJson, WholeDocumentShape) {
  StatsSnapshot s = snapshot(true);
  s.memory = MemoryStats{};
  std::string json = statsJson(s);
  EXPECT_EQ(json.rfind("{\"version\":\"1.3.0\",\"health\":\"OK\",\"start_time\":1700000000,\"topics\":[", 0), 0u)
      << json;
  EXPECT_NE(json.find("{\"topic_name\":\"t\",\"channels\":[{\"channel_name\":\"c\",\"depth\":4,"
                      "\"backend_depth\":0,\"in_flight_count\":2,\"deferred_count\":1,"
                      "\"message_count\":9,\"requeue_count\":0,\"timeout_count\":0,"
                      "\"client_count\":1,\"clients\":[{\"client_id\":\"cid\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"paused\":false,\"e2e_processing_latency\":{\"count\":0,\"percentiles\":null}}],"
                      "\"depth\":3,\"backend_depth\":1,\"message_count\":9,\"message_bytes\":90,"
                      "\"paused\":true,\"e2e_processing_latency\":{\"count\":0,\"percentiles\":null}}]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(",\"memory\":{\"heap_objects\":0,\"heap_idle_bytes\":0,"), std::string::npos);
  EXPECT_NE(json.find("\"gc_total_runs\":0},\"producers\":[]}"), std::string::npos) << json;
}

TEST(StatsJson, E2eLatencyAsUpstreamWritesIt) {
  StatsSnapshot s = snapshot(false);
  s.topics[0].stats.e2e = LatencyPercentiles{12, 0, {{1.0, 2174529418.0}, {0.99, 2e21}, {0.5, 1e-7}}};
  s.topics[0].channels[0].stats.e2e = LatencyPercentiles{0, 0, {{0.999, 0}}};
  std::string json = statsJson(s);
  EXPECT_NE(json.find("\"paused\":false,\"e2e_processing_latency\":{\"count\":0,\"percentiles\":"
                      "[{\"quantile\":0.999,\"value\":0}]}}]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"paused\":true,\"e2e_processing_latency\":{\"count\":12,\"percentiles\":"
                      "[{\"quantile\":1,\"value\":2174529418},{\"quantile\":0.99,\"value\":2e+21},"
                      "{\"quantile\":0.5,\"value\":1e-7}]}}]"),
            std::string::npos)
      << json;
}

TEST(StatsText, E2eColumnInHumanUnits) {
  StatsSnapshot s = snapshot(false);
  s.topics[0].stats.e2e = LatencyPercentiles{4, 0, {{1.0, 2174529418.0}, {0.99, 1500000}, {0.5, 2500}, {0.1, 999}}};
  s.topics[0].channels[0].stats.e2e = LatencyPercentiles{0, 0, {{0.999, 0}}};
  std::string text = statsText(s, 1700000100LL * 1'000'000'000);
  EXPECT_NE(text.find("msgs: 9        e2e%: 2.2s, 1.5ms, 2.5us, 999.0ns\n"), std::string::npos) << text;
  EXPECT_NE(text.find("msgs: 9        e2e%: 0.0ns\n"), std::string::npos) << text;
}

TEST(StatsJson, ExcludedClientsAreNull) {
  std::string json = statsJson(snapshot(false));
  EXPECT_NE(json.find("\"client_count\":1,\"clients\":null,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"producers\":null}"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"memory\""), std::string::npos);
}

TEST(StatsJson, QuotesEscapeControlCharacters) {
  EXPECT_EQ(jsonQuote("a\"b\\c\n\x01/"), "\"a\\\"b\\\\c\\n\\u0001/\"");
}

TEST(StatsText, MarksPausedTopicsAndListsClients) {
  std::string text = statsText(snapshot(true), 1700000100LL * 1'000'000'000);
  EXPECT_NE(text.find("uptime 1m40s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n*P [t              ] depth: 3     be-depth: 1     msgs: 9        e2e%: \n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("      [c                        ] depth: 4     be-depth: 0     inflt: 2    def: 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("        [V2 host:5555 ua/1.0     ] state: 3 inflt: 2    rdy: 10   fin: 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("connected: 1m40s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nProducers: None\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("Memory:"), std::string::npos);
}

// The four renderings of the memory figures (/stats JSON and text, statsd, /metrics) come from
// memoryRows(): each shows the same values under upstream's names and in its order.
TEST(MemoryRows, EveryRenderingShowsTheSameFiguresInUpstreamsOrder) {
  MemoryStats m{1, 2, 3, 4, 5, 6, 7, 8, 9};
  StatsSnapshot s = snapshot(false);
  s.memory = m;
  EXPECT_NE(statsJson(s).find(",\"memory\":{\"heap_objects\":1,\"heap_idle_bytes\":2,\"heap_in_use_bytes\":3,"
                              "\"heap_released_bytes\":4,\"gc_pause_usec_100\":5,\"gc_pause_usec_99\":6,"
                              "\"gc_pause_usec_95\":7,\"next_gc_bytes\":8,\"gc_total_runs\":9}"),
            std::string::npos);
  EXPECT_NE(statsText(s, 1700000100LL * 1'000'000'000)
                .find("\nMemory:\n"
                      "   heap_objects             \t1\n   heap_idle_bytes          \t2\n"
                      "   heap_in_use_bytes        \t3\n   heap_released_bytes      \t4\n"
                      "   gc_pause_usec_100        \t5\n   gc_pause_usec_99         \t6\n"
                      "   gc_pause_usec_95         \t7\n   next_gc_bytes            \t8\n"
                      "   gc_total_runs            \t9\n"),
            std::string::npos)
      << statsText(s, 1700000100LL * 1'000'000'000);
  std::string metrics = metricsText(s, 0);
  EXPECT_NE(metrics.find("# TYPE nsq_heap_objects gauge\nnsq_heap_objects 1\n"
                         "# HELP nsq_heap_in_use_bytes Heap bytes in use (malloc statistics).\n"
                         "# TYPE nsq_heap_in_use_bytes gauge\nnsq_heap_in_use_bytes 3\n"
                         "# HELP nsq_heap_idle_bytes Heap bytes free but not returned to the OS (malloc statistics).\n"
                         "# TYPE nsq_heap_idle_bytes gauge\nnsq_heap_idle_bytes 2\n"),
            std::string::npos)
      << metrics;
  const auto rows = memoryRows(m);
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows.front().name, "heap_objects");
  EXPECT_EQ(rows.back().name, "gc_total_runs");
  EXPECT_EQ(rows.back().value, 9u);
}

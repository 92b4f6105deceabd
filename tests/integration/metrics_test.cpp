// End-to-end metrics: statsd packets caught on a UDP socket of the test's own, and GET /metrics
// of the real nsqd and nsqlookupd binaries parsed with the strict exposition parser after real
// traffic, with exact values checked against what the test published and consumed.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "nsq/base/sanitizers.h"
#include "support/nsqd_process.h"
#include "support/prometheus_parser.h"
#include "support/statsd_sink.h"
#include "support/test_support.h"
#include "support/v2_client.h"

using namespace nsq::test;
using namespace std::chrono_literals;

// nsqd is built with the same flags as this test, so NSQ_ASAN here says how nsqd was built.

namespace {

// Publishes 5 messages on topic t, then a consumer on t/c takes 2 (RDY 2), requeues one with
// a 60 s delay and so gets a third: depth 2, in flight 2, deferred 1, requeued 1.
struct Traffic {
  std::unique_ptr<V2Client> producer;
  std::unique_ptr<V2Client> consumer;
  void run(int tcpPort, const std::string& topic) {
    producer = std::make_unique<V2Client>(tcpPort);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(producer->pub(topic, "hello"), "OK");
    consumer = std::make_unique<V2Client>(tcpPort);
    ASSERT_EQ(consumer->sub(topic, "c"), "OK");
    consumer->rdy(2);
    auto first = consumer->readMessage();
    consumer->readMessage();
    consumer->req(first.id, 60000);
    consumer->readMessage();
  }
};

// Scrapes until pred holds (the topic-to-channel pump is asynchronous) or 5 s pass.
template <typename Pred>
PromExposition scrapeUntil(int port, Pred pred, HttpResponse* last = nullptr) {
  PromExposition m;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    HttpResponse resp = httpRequest(port, "GET", "/metrics");
    EXPECT_EQ(resp.status, 200);
    m = parsePrometheusText(resp.body);  // throws (fails the test) on any format error
    if (last) *last = resp;
    if (pred(m) || std::chrono::steady_clock::now() > deadline) return m;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST(StatsdE2E, PushesTheOriginalsMetricNamesWithDeltasAndGauges) {
  StatsdSink sink;
  NsqdProcess nsqd({"--statsd-address=127.0.0.1:" + std::to_string(sink.port()), "--statsd-interval=1s",
                    "--statsd-udp-packet-size=200", "--statsd-exclude-ephemeral"});
  Traffic traffic;
  traffic.run(nsqd.tcpPort(), "t");
  V2Client ephemeral(nsqd.tcpPort());
  ASSERT_EQ(ephemeral.sub("t", "e#ephemeral"), "OK");

  const std::string prefix = "nsq.127_0_0_1_" + std::to_string(nsqd.httpPort()) + ".";
  const std::regex lineRe("^" + std::regex_replace(prefix, std::regex("\\."), "\\.") +
                          "[a-z0-9_.#-]+:-?[0-9]+\\|[cg]$");
  std::map<std::string, int64_t> counters;  // summed deltas
  std::map<std::string, int64_t> gauges;    // last value
  std::set<std::string> names;
  auto settled = [&] {
    return counters["topic.t.message_count"] == 5 && gauges.count("topic.t.channel.c.in_flight_count") &&
           gauges["topic.t.channel.c.depth"] == 2 && gauges["topic.t.channel.c.in_flight_count"] == 2 &&
           gauges["topic.t.channel.c.deferred_count"] == 1 && counters["topic.t.channel.c.requeue_count"] == 1;
  };
  // mem.gc_runs is the last line of a push: judge whole pushes only.
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    std::string packet = sink.receive(2000ms);
    if (packet.empty()) continue;
    EXPECT_LE(packet.size(), 200u);
    ASSERT_EQ(packet.back(), '\n') << packet;
    std::size_t start = 0;
    while (start < packet.size()) {
      std::size_t nl = packet.find('\n', start);
      std::string line = packet.substr(start, nl - start);
      start = nl + 1;
      ASSERT_TRUE(std::regex_match(line, lineRe)) << line;
      EXPECT_EQ(line.find("ephemeral"), std::string::npos) << line;
      std::string stat = line.substr(prefix.size(), line.find(':') - prefix.size());
      int64_t value = std::stoll(line.substr(line.find(':') + 1));
      names.insert(stat);
      if (line.ends_with("|c")) counters[stat] += value;
      else gauges[stat] = value;
      if (stat == "mem.gc_runs") done = settled();
    }
  }
  ASSERT_TRUE(done) << nsqd.logs();
  EXPECT_EQ(counters["topic.t.message_bytes"], 25);
  EXPECT_EQ(counters["topic.t.channel.c.message_count"], 5);
  EXPECT_EQ(counters["topic.t.channel.c.timeout_count"], 0);
  EXPECT_EQ(gauges["topic.t.depth"], 0);
  EXPECT_EQ(gauges["topic.t.backend_depth"], 0);
  EXPECT_EQ(gauges["topic.t.channel.c.backend_depth"], 0);
  EXPECT_EQ(gauges["topic.t.channel.c.clients"], 1);
  for (const char* want :
       {"topic.t.message_count", "topic.t.message_bytes", "topic.t.depth", "topic.t.backend_depth",
        "topic.t.channel.c.message_count", "topic.t.channel.c.depth", "topic.t.channel.c.backend_depth",
        "topic.t.channel.c.in_flight_count", "topic.t.channel.c.deferred_count",
        "topic.t.channel.c.requeue_count", "topic.t.channel.c.timeout_count", "topic.t.channel.c.clients",
        "mem.heap_objects", "mem.heap_idle_bytes", "mem.heap_in_use_bytes", "mem.heap_released_bytes",
        "mem.gc_pause_usec_100", "mem.gc_pause_usec_99", "mem.gc_pause_usec_95", "mem.next_gc_bytes",
        "mem.gc_runs"})
    EXPECT_TRUE(names.count(want)) << want;
#ifndef NSQ_ASAN  // ASan's allocator makes mallinfo2() report zeros
  EXPECT_GT(gauges["mem.heap_in_use_bytes"], 0);
#endif
  EXPECT_EQ(nsqd.logs().find("statsd-address is not supported"), std::string::npos);
}

TEST(StatsdE2E, MemStatsCanBeTurnedOff) {
  StatsdSink sink;
  NsqdProcess nsqd({"--statsd-address=127.0.0.1:" + std::to_string(sink.port()), "--statsd-interval=1s",
                    "--statsd-mem-stats=false", "--statsd-prefix=custom"});
  V2Client producer(nsqd.tcpPort());
  ASSERT_EQ(producer.pub("m", "x"), "OK");
  std::string all;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (all.find("custom.topic.m.depth:") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    all += sink.receive(2000ms);
  auto more = std::chrono::steady_clock::now() + 1500ms;  // at least one whole push more
  while (std::chrono::steady_clock::now() < more) all += sink.receive(500ms);
  EXPECT_NE(all.find("custom.topic.m.depth:1|g\n"), std::string::npos) << all;
  EXPECT_EQ(all.find("mem."), std::string::npos) << all;
}

TEST(MetricsE2E, NsqdServesStrictPrometheusTextWithExactValues) {
  NsqdProcess nsqd;
  Traffic traffic;
  traffic.run(nsqd.tcpPort(), "t");
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=other", "abc").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/pause?topic=other").status, 200);

  const PromLabels t = {{"topic", "t"}}, tc = {{"topic", "t"}, {"channel", "c"}};
  HttpResponse resp;
  PromExposition m = scrapeUntil(
      nsqd.httpPort(), [&](const PromExposition& e) { return e.value("nsq_channel_messages_total", tc) == 5.0; },
      &resp);
  EXPECT_EQ(resp.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(resp.header("X-NSQ-Content-Type"), "");
  EXPECT_EQ(m.value("nsq_topic_messages_total", t), 5.0) << resp.body;
  EXPECT_EQ(m.value("nsq_topic_message_bytes_total", t), 25.0);
  EXPECT_EQ(m.value("nsq_topic_depth", t), 0.0);
  EXPECT_EQ(m.value("nsq_topic_backend_depth", t), 0.0);
  EXPECT_EQ(m.value("nsq_topic_channels", t), 1.0);
  EXPECT_EQ(m.value("nsq_channel_messages_total", tc), 5.0);
  EXPECT_EQ(m.value("nsq_channel_depth", tc), 2.0);
  EXPECT_EQ(m.value("nsq_channel_backend_depth", tc), 0.0);
  EXPECT_EQ(m.value("nsq_channel_in_flight_messages", tc), 2.0);
  EXPECT_EQ(m.value("nsq_channel_deferred_messages", tc), 1.0);
  EXPECT_EQ(m.value("nsq_channel_requeues_total", tc), 1.0);
  EXPECT_EQ(m.value("nsq_channel_timeouts_total", tc), 0.0);
  EXPECT_EQ(m.value("nsq_channel_clients", tc), 1.0);
  EXPECT_EQ(m.value("nsq_channel_paused", tc), 0.0);
  EXPECT_EQ(m.value("nsq_topic_messages_total", {{"topic", "other"}}), 1.0);
  EXPECT_EQ(m.value("nsq_topic_depth", {{"topic", "other"}}), 1.0);
  EXPECT_EQ(m.value("nsq_topic_paused", {{"topic", "other"}}), 1.0);
  EXPECT_EQ(m.value("nsq_topics"), 2.0);
  EXPECT_EQ(m.value("nsq_clients"), 2.0);
  EXPECT_EQ(m.value("nsq_healthy"), 1.0);
  EXPECT_EQ(m.value("nsq_build_info", {{"version", "1.3.0"}}), 1.0);
  EXPECT_EQ(m.types.at("nsq_channel_messages_total"), "counter");
  EXPECT_EQ(m.types.at("nsq_channel_in_flight_messages"), "gauge");
  ASSERT_TRUE(m.value("process_resident_memory_bytes"));
  EXPECT_GT(*m.value("process_resident_memory_bytes"), 1e6);
  ASSERT_TRUE(m.value("process_open_fds"));
  EXPECT_GT(*m.value("process_open_fds"), 4.0);
  ASSERT_TRUE(m.value("process_start_time_seconds"));
  EXPECT_NEAR(*m.value("process_start_time_seconds"), static_cast<double>(time(nullptr)), 120.0);

  // Counters only go up: after a FIN and more publishes the scrape moves on consistently.
  ASSERT_EQ(traffic.producer->pub("t", "hello"), "OK");
  m = scrapeUntil(nsqd.httpPort(),
                  [&](const PromExposition& e) { return e.value("nsq_channel_messages_total", tc) == 6.0; });
  EXPECT_EQ(m.value("nsq_topic_messages_total", t), 6.0);
  EXPECT_EQ(m.value("nsq_channel_messages_total", tc), 6.0);

  EXPECT_EQ(httpRequest(nsqd.httpPort(), "POST", "/metrics").status, 405);
}

TEST(MetricsE2E, NsqlookupdServesRegistryFigures) {
  TempDir dir;
  int tcpPort = freePort(), httpPort = freePort();
  Process lookupd(binaryPath("nsqlookupd"),
                  {"--tcp-address=127.0.0.1:" + std::to_string(tcpPort),
                   "--http-address=127.0.0.1:" + std::to_string(httpPort)},
                  dir.path());
  ASSERT_TRUE(waitForPort(tcpPort)) << lookupd.stderrText();
  ASSERT_TRUE(waitForPort(httpPort)) << lookupd.stderrText();

  HttpResponse resp = httpRequest(httpPort, "GET", "/metrics");
  ASSERT_EQ(resp.status, 200);
  EXPECT_EQ(resp.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  PromExposition m = parsePrometheusText(resp.body);
  EXPECT_EQ(m.value("nsqlookupd_producers"), 0.0);
  EXPECT_EQ(m.value("nsqlookupd_topics"), 0.0);

  NsqdProcess nsqd({"--lookupd-tcp-address=127.0.0.1:" + std::to_string(tcpPort)});
  V2Client producer(nsqd.tcpPort());
  ASSERT_EQ(producer.pub("lt", "x"), "OK");
  V2Client consumer(nsqd.tcpPort());
  ASSERT_EQ(consumer.sub("lt", "c1"), "OK");
  ASSERT_EQ(httpRequest(httpPort, "POST", "/topic/create?topic=empty").status, 200);

  m = scrapeUntil(httpPort, [](const PromExposition& e) { return e.value("nsqlookupd_channels") == 1.0; }, &resp);
  EXPECT_EQ(m.value("nsqlookupd_producers"), 1.0) << resp.body;
  EXPECT_EQ(m.value("nsqlookupd_topics"), 2.0);
  EXPECT_EQ(m.value("nsqlookupd_channels"), 1.0);
  EXPECT_EQ(m.value("nsqlookupd_topic_producers", {{"topic", "lt"}}), 1.0);
  EXPECT_EQ(m.value("nsqlookupd_topic_producers", {{"topic", "empty"}}), 0.0);
  EXPECT_EQ(m.value("nsqlookupd_topic_channels", {{"topic", "lt"}}), 1.0);
  EXPECT_EQ(m.value("nsqlookupd_topic_channels", {{"topic", "empty"}}), 0.0);
  ASSERT_TRUE(m.value("process_resident_memory_bytes"));
}

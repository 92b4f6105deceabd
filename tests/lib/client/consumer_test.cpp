// Consumer against real nsqd processes: RDY split over connections, backoff after requeues,
// heartbeats keeping an idle connection alive, graceful stop waiting for in-flight messages.
#include "nsq/client/consumer.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "nsq/base/options.h"
#include "nsq/client/producer.h"
#include "support/nsqd_process.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {
std::string addr(NsqdProcess& n) { return "127.0.0.1:" + std::to_string(n.tcpPort()); }

}  // namespace

TEST(Consumer, SplitsMaxInFlightAcrossConnectionsAndRecomputesWhenOneJoins) {
  NsqdProcess a, b, c;
  ConsumerConfig cfg;
  cfg.maxInFlight = 10;
  Consumer consumer("t", "c", cfg, [](const DeliveryPtr&) { return HandlerResult::Finish; });
  consumer.connectToNsqd(addr(a));
  EXPECT_EQ(consumer.rdyCounts(), (std::vector<int64_t>{10}));
  consumer.connectToNsqd(addr(b));
  EXPECT_EQ(consumer.rdyCounts(), (std::vector<int64_t>{5, 5}));
  consumer.connectToNsqd(addr(c));
  EXPECT_EQ(consumer.rdyCounts(), (std::vector<int64_t>{3, 3, 3}));
  consumer.connectToNsqd(addr(c));  // deduplicated
  EXPECT_EQ(consumer.connectionCount(), 3u);
}

TEST(Consumer, MoreConnectionsThanMaxInFlightNeverExceedsIt) {
  NsqdProcess a, b, c;
  ConsumerConfig cfg;
  cfg.maxInFlight = 2;
  Consumer consumer("t", "c", cfg, [](const DeliveryPtr&) { return HandlerResult::Finish; });
  for (NsqdProcess* n : {&a, &b, &c}) consumer.connectToNsqd(addr(*n));
  auto rdy = consumer.rdyCounts();
  EXPECT_EQ(std::accumulate(rdy.begin(), rdy.end(), int64_t{0}), 2);
}

TEST(Consumer, RequeueBacksOffToRdyZeroThenTestsWithOneAndRecoversOnSuccess) {
  NsqdProcess nsqd;
  Producer p(addr(nsqd));
  ASSERT_TRUE(p.publish("b", "x").ok());
  ConsumerConfig cfg;
  cfg.maxInFlight = 5;
  cfg.backoffMultiplier = 300ms;
  cfg.defaultRequeueDelay = 200ms;  // redelivery waits, so the backoff state can be seen
  std::atomic<int> calls{0};
  Consumer consumer("b", "c", cfg, [&](const DeliveryPtr&) {
    return ++calls == 1 ? HandlerResult::Requeue : HandlerResult::Finish;
  });
  consumer.connectToNsqd(addr(nsqd));
  ASSERT_TRUE(eventually([&] { return calls == 1; }));
  ASSERT_TRUE(eventually([&] { return consumer.backoffLevel() == 1; }));
  EXPECT_EQ(consumer.rdyCounts(), (std::vector<int64_t>{0}));
  // After 2 x 300 ms: RDY 1, the redelivery succeeds, backoff ends and RDY is restored.
  ASSERT_TRUE(eventually([&] { return calls == 2; }, 5s));
  ASSERT_TRUE(eventually([&] { return consumer.rdyCounts() == std::vector<int64_t>{5}; }));
  EXPECT_EQ(consumer.backoffLevel(), 0);
  EXPECT_EQ(consumer.finished(), 1u);
  EXPECT_EQ(consumer.requeued(), 1u);
}

TEST(Consumer, AnswersHeartbeatsSoAnIdleConnectionStaysUp) {
  NsqdProcess nsqd;
  ConsumerConfig cfg;
  ASSERT_EQ(applyConsumerOption(cfg, "heartbeat_interval,1s"), "");
  std::atomic<int> got{0};
  Consumer consumer("hb", "c", cfg, [&](const DeliveryPtr&) {
    ++got;
    return HandlerResult::Finish;
  });
  consumer.connectToNsqd(addr(nsqd));
  std::this_thread::sleep_for(3500ms);  // nsqd drops a client silent for 2 heartbeats
  EXPECT_EQ(consumer.connectionCount(), 1u);
  Producer p(addr(nsqd));
  ASSERT_TRUE(p.publish("hb", "x").ok());
  EXPECT_TRUE(eventually([&] { return got == 1; }));
}

TEST(Consumer, StopSendsClsAndWaitsForInFlightMessagesToBeAnswered) {
  NsqdProcess nsqd;
  Producer p(addr(nsqd));
  ASSERT_TRUE(p.multiPublish("s", {"1", "2"}).ok());
  ConsumerConfig cfg;
  cfg.maxInFlight = 2;
  std::vector<DeliveryPtr> held;
  std::mutex m;
  Consumer consumer("s", "c", cfg, [&](const DeliveryPtr& d) {
    std::lock_guard lock(m);
    held.push_back(d);
    return HandlerResult::Later;
  });
  consumer.connectToNsqd(addr(nsqd));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return held.size() == 2;
  }));
  consumer.stop();
  std::thread answer([&] {
    std::this_thread::sleep_for(300ms);
    std::lock_guard lock(m);
    held[0]->finish();
    held[1]->requeue(0ms, false);
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(consumer.waitStopped());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  answer.join();
  EXPECT_EQ(consumer.connectionCount(), 0u);
  EXPECT_EQ(consumer.finished(), 1u);
  EXPECT_EQ(consumer.requeued(), 1u);
}

TEST(Consumer, SubscribeErrorsNameTheNsqd) {
  NsqdProcess nsqd;
  Consumer consumer("t", "c", {}, [](const DeliveryPtr&) { return HandlerResult::Finish; });
  int port = freePort();
  try {
    consumer.connectToNsqd("127.0.0.1:" + std::to_string(port));
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  }
  EXPECT_THROW(Consumer("bad topic", "c", {}, [](const DeliveryPtr&) { return HandlerResult::Finish; }),
               ConnectionError);
}

TEST(ConsumerOptions, ParsesGoNsqKeysAndRejectsUnknownOnes) {
  ConsumerConfig cfg;
  EXPECT_EQ(applyConsumerOption(cfg, "max_in_flight,7"), "");
  EXPECT_EQ(cfg.maxInFlight, 7);
  EXPECT_EQ(applyConsumerOption(cfg, "lookupd_poll_interval,15s"), "");
  EXPECT_EQ(cfg.lookupdPollInterval, 15000ms);
  EXPECT_EQ(applyConsumerOption(cfg, "snappy"), "");
  EXPECT_TRUE(cfg.conn.snappy);
  EXPECT_NE(applyConsumerOption(cfg, "max_in_flight,x"), "");
  EXPECT_NE(applyConsumerOption(cfg, "nope,1").find("unknown option \"nope\""), std::string::npos);
}

TEST(ConsumerOptions, ToolHelpNamesTheExampleAndTheTlsKeys) {
  EXPECT_EQ(consumerOptHelp(),
            "option to pass through to the consumer, as key,value (e.g. lookupd_poll_interval,5s; TLS: tls_v1 "
            "with tls_root_ca_file, tls_insecure_skip_verify, tls_cert, tls_key, tls_min_version)");
  EXPECT_EQ(consumerOptHelp("passthrough").rfind("option to passthrough to the consumer, as key,value", 0), 0u);
  EXPECT_EQ(connectionOptHelp("option to pass through to the producer", "write_timeout,5s"),
            "option to pass through to the producer, as key,value (e.g. write_timeout,5s; TLS: tls_v1 with "
            "tls_root_ca_file, tls_insecure_skip_verify, tls_cert, tls_key, tls_min_version)");
}

TEST(ConsumerOptions, CheckThrowsAnOptionErrorNamingTheFlag) {
  EXPECT_NO_THROW(checkConsumerOpts({"max_in_flight,5", "snappy"}));
  try {
    checkConsumerOpts({"nope,1"});
    FAIL() << "no throw";
  } catch (const OptionError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("flag --consumer-opt: ", 0), 0u) << e.what();
  }
}

TEST(ConsumerOptions, ValueReadersStoreOrNameTheKeyAndLeaveTheTargetAlone) {
  int64_t n = 3;
  EXPECT_EQ(readIntOption("max_in_flight", "12", n), "");
  EXPECT_EQ(n, 12);
  EXPECT_EQ(readIntOption("max_in_flight", "x", n), "invalid integer \"x\" for max_in_flight");
  EXPECT_EQ(n, 12);
  std::chrono::milliseconds d{5};
  EXPECT_EQ(readDurationOption("read_timeout", "1.5s", d), "");
  EXPECT_EQ(d, 1500ms);
  EXPECT_EQ(readDurationOption("read_timeout", "soon", d), "invalid duration \"soon\" for read_timeout");
  EXPECT_EQ(d, 1500ms);
  bool b = false;
  EXPECT_EQ(readBoolOption("snappy", "true", b), "");
  EXPECT_TRUE(b);
  EXPECT_EQ(readBoolOption("snappy", "maybe", b),
            "invalid boolean \"maybe\" for snappy (use true or false; also 1/0, t/f, T/F, TRUE/FALSE, True/False)");
}

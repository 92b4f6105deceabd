// Per-topic message policies end to end, with the real nsqd over the raw protocol, HTTP and
// nsqjs: bounded depth (reject and drop_oldest), max attempts into the dead-letter topic, TTL,
// /topic/policy and /stats, the start-up errors and the SIGHUP reload.
#include <gtest/gtest.h>
#include <signal.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/node_script.h"
#include "support/nsqd_process.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The /stats JSON object of topic (null when absent).
Poco::JSON::Object::Ptr topicStats(int httpPort, const std::string& topic) {
  HttpResponse r = httpRequest(httpPort, "GET", "/stats?format=json&topic=" + topic);
  auto topics = parseObject(r.body)->getArray("topics");
  for (std::size_t i = 0; topics && i < topics->size(); ++i) {
    auto t = topics->getObject(static_cast<unsigned>(i));
    if (t->getValue<std::string>("topic_name") == topic) return t;
  }
  return nullptr;
}

Poco::JSON::Object::Ptr channelStats(int httpPort, const std::string& topic, const std::string& channel) {
  auto t = topicStats(httpPort, topic);
  if (!t) return nullptr;
  auto channels = t->getArray("channels");
  for (std::size_t i = 0; channels && i < channels->size(); ++i) {
    auto c = channels->getObject(static_cast<unsigned>(i));
    if (c->getValue<std::string>("channel_name") == channel) return c;
  }
  return nullptr;
}

int64_t channelCounter(int httpPort, const std::string& topic, const std::string& channel, const std::string& key) {
  auto c = channelStats(httpPort, topic, channel);
  return c && c->has(key) ? c->getValue<int64_t>(key) : -1;
}

// A config file in its own temp dir with the given topics: list.
struct Config {
  TempDir dir;
  std::string path = dir.file("nsqd.yaml");
  explicit Config(const std::string& text) { writeFile(path, text); }
};

void createChannel(int httpPort, const std::string& topic, const std::string& channel) {
  ASSERT_EQ(httpRequest(httpPort, "POST", "/topic/create?topic=" + topic).status, 200);
  ASSERT_EQ(httpRequest(httpPort, "POST", "/channel/create?topic=" + topic + "&channel=" + channel).status, 200);
}

// The next message frame, or false when none comes within d.
bool readMessageWithin(V2Client& c, std::chrono::milliseconds d, Message& out) {
  c.tcp().setTimeout(d);
  try {
    for (;;) {
      TestFrame f = c.readFrame();
      if (f.type != FrameType::Message) continue;
      out = f.message();
      c.tcp().setTimeout(5s);
      return true;
    }
  } catch (const std::runtime_error&) {
    c.tcp().setTimeout(5s);
    return false;
  }
}

}  // namespace

TEST(NsqdPolicy, BadTopicsEntryStopsStartupNamingFileLineAndKey) {
  Config bad("mem_queue_size: 5\ntopics:\n  - match: \"^orders$\"\n    max_attempts: 3\n    overflw: reject\n");
  auto [code, err] = runNsqdToExit({"--config", bad.path, "--data-path=" + bad.dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("nsqd.yaml:5: unknown key \"overflw\""), std::string::npos) << err;
  Config regex("topics:\n  - match: \"([a-z\"\n");
  std::tie(code, err) = runNsqdToExit({"--config", regex.path, "--data-path=" + regex.dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("nsqd.yaml:2: key \"match\": bad regex"), std::string::npos) << err;
  std::tie(code, err) = runNsqdToExit({"--overflow=spill", "--data-path=" + regex.dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("--overflow"), std::string::npos) << err;
}

TEST(NsqdPolicy, TopicPolicyEndpointAndStatsShowTheEffectivePolicy) {
  Config cfg("topics:\n  - match: \"^orders$\"\n    max_attempts: 5\n    message_ttl: 24h\n    max_depth: 100\n");
  NsqdProcess nsqd({"--config", cfg.path});
  HttpResponse r = httpRequest(nsqd.httpPort(), "GET", "/topic/policy?topic=orders");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"topic":"orders","exists":false,"policy":{"match":"^orders$","max_attempts":5,)"
            R"("dead_letter_topic":"orders.dead","message_ttl":"24h0m0s","max_depth":100,"overflow":"reject"}})");
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/topic/policy?topic=plain").body,
            R"({"topic":"plain","exists":false,"policy":null})");
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/topic/policy?topic=bad!").status, 400);
  EXPECT_EQ(topicStats(nsqd.httpPort(), "orders"), nullptr);  // asking created nothing

  createChannel(nsqd.httpPort(), "orders", "c");
  createChannel(nsqd.httpPort(), "plain", "c");
  auto orders = topicStats(nsqd.httpPort(), "orders");
  ASSERT_TRUE(orders);
  EXPECT_EQ(orders->getObject("policy")->getValue<int64_t>("max_depth"), 100);
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "orders", "c", "dead_letter_count"), 0);
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "orders", "c", "expired_count"), 0);
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "orders", "c", "dropped_count"), 0);
  // A topic without a policy keeps upstream's keys only.
  auto plain = topicStats(nsqd.httpPort(), "plain");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->has("policy"));
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "plain", "c", "dead_letter_count"), -1);
  std::string text = httpRequest(nsqd.httpPort(), "GET", "/stats").body;
  EXPECT_NE(text.find("policy: max_attempts: 5 dead_letter_topic: orders.dead"), std::string::npos) << text;
  EXPECT_NE(text.find("dead-lettered: 0"), std::string::npos) << text;
  std::string metrics = httpRequest(nsqd.httpPort(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("nsq_channel_dead_letters_total{topic=\"orders\",channel=\"c\"} 0"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("nsq_channel_dead_letters_total{topic=\"plain\""), std::string::npos);
}

TEST(NsqdPolicy, RejectRefusesWholePublishesPastMaxDepthAndKeepsTheConnection) {
  Config cfg("topics:\n  - match: \"^full$\"\n    max_depth: 3\n");
  NsqdProcess nsqd({"--config", cfg.path, "--mem-queue-size=1"});
  createChannel(nsqd.httpPort(), "full", "c");
  V2Client c(nsqd.tcpPort());
  EXPECT_EQ(c.mpub("full", {"a", "b"}), "OK");
  // An MPUB of two would make 4: refused as a whole, nothing of it stored.
  c.commandWithBody("MPUB full", V2Client::mpubBody({"c", "d"}));
  TestFrame f = c.readFrame();
  EXPECT_EQ(f.type, FrameType::Error);
  EXPECT_EQ(f.data, "E_PUB_FAILED MPUB failed topic full is full (max_depth 3)");
  EXPECT_EQ(c.pub("full", "c"), "OK");
  c.commandWithBody("PUB full", "d");
  f = c.readFrame();
  EXPECT_EQ(f.data, "E_PUB_FAILED PUB failed topic full is full (max_depth 3)");
  c.commandWithBody("DPUB full 1000", "e");
  f = c.readFrame();
  EXPECT_EQ(f.data, "E_PUB_FAILED DPUB failed topic full is full (max_depth 3)");
  EXPECT_EQ(c.pub("other", "fine"), "OK");  // the same connection goes on
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "full", "c", "depth"), 3);

  HttpResponse r = httpRequest(nsqd.httpPort(), "POST", "/pub?topic=full", "x");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("TOPIC_FULL"), std::string::npos) << r.body;
  r = httpRequest(nsqd.httpPort(), "POST", "/mpub?topic=full", "x\ny\n");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("TOPIC_FULL"), std::string::npos) << r.body;

  // Consuming makes room again; the messages are the accepted ones, in order.
  V2Client sub(nsqd.tcpPort());
  EXPECT_EQ(sub.sub("full", "c"), "OK");
  sub.rdy(10);
  for (const char* want : {"a", "b", "c"}) {
    Message m = sub.readMessage();
    EXPECT_EQ(m.body.view(), want);
    sub.fin(m.id);
  }
  ASSERT_TRUE(eventually([&] { return channelCounter(nsqd.httpPort(), "full", "c", "depth") == 0; }));
  EXPECT_TRUE(eventually([&] { return httpRequest(nsqd.httpPort(), "POST", "/pub?topic=full", "y").status == 200; }));
}

TEST(NsqdPolicy, RejectBoundsATopicWithoutChannelsByItsOwnQueue) {
  Config cfg("topics:\n  - match: \"^held$\"\n    max_depth: 2\n");
  NsqdProcess nsqd({"--config", cfg.path});
  V2Client c(nsqd.tcpPort());
  EXPECT_EQ(c.mpub("held", {"a", "b"}), "OK");
  c.commandWithBody("PUB held", "c");
  EXPECT_EQ(c.readFrame().data, "E_PUB_FAILED PUB failed topic held is full (max_depth 2)");
  EXPECT_EQ(topicStats(nsqd.httpPort(), "held")->getValue<int64_t>("depth"), 2);
}

TEST(NsqdPolicy, DropOldestKeepsTheNewestMessagesAndCountsTheDropped) {
  Config cfg("topics:\n  - match: \"^ring$\"\n    max_depth: 3\n    overflow: drop_oldest\n");
  NsqdProcess nsqd({"--config", cfg.path, "--mem-queue-size=1"});  // most of them on disk
  createChannel(nsqd.httpPort(), "ring", "c");
  V2Client c(nsqd.tcpPort());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.pub("ring", "m" + std::to_string(i)), "OK");
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "ring", "c", "depth"), 3);
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "ring", "c", "dropped_count"), 7);
  V2Client sub(nsqd.tcpPort());
  EXPECT_EQ(sub.sub("ring", "c"), "OK");
  sub.rdy(10);
  for (const char* want : {"m7", "m8", "m9"}) {
    Message m = sub.readMessage();
    EXPECT_EQ(m.body.view(), want);
    sub.fin(m.id);
  }
}

TEST(NsqdPolicy, MaxAttemptsMovesTheMessageToTheDeadLetterTopicOnRequeueAndTimeout) {
  Config cfg("topics:\n  - match: \"^jobs$\"\n    max_attempts: 2\n");
  NsqdProcess nsqd({"--config", cfg.path, "--msg-timeout=200ms"});
  V2Client pub(nsqd.tcpPort());
  EXPECT_EQ(pub.pub("jobs", "poison"), "OK");
  EXPECT_EQ(pub.pub("jobs", "slow"), "OK");
  V2Client sub(nsqd.tcpPort());
  EXPECT_EQ(sub.sub("jobs", "work"), "OK");
  sub.rdy(1);
  // "poison": requeued twice. "slow": never finished, times out twice.
  Message m = sub.readMessage();
  EXPECT_EQ(m.body.view(), "poison");
  EXPECT_EQ(m.attempts, 1);
  sub.req(m.id);
  std::set<std::string> dead;
  for (int deliveries = 0; deliveries < 3;) {
    m = sub.readMessage();
    ++deliveries;
    if (m.body.view() == "poison") {
      EXPECT_EQ(m.attempts, 2);
      sub.req(m.id);  // its second failure: dead-lettered
    }  // "slow" is left to time out
  }
  ASSERT_TRUE(eventually([&] { return channelCounter(nsqd.httpPort(), "jobs", "work", "dead_letter_count") == 2; }))
      << nsqd.logs();
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "jobs", "work", "depth"), 0);
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "jobs", "work", "in_flight_count"), 0);
  V2Client deadSub(nsqd.tcpPort());
  EXPECT_EQ(deadSub.sub("jobs.dead", "inspect"), "OK");
  deadSub.rdy(2);
  for (int i = 0; i < 2; ++i) {
    Message d = deadSub.readMessage();
    dead.insert(std::string(d.body.view()));
    EXPECT_EQ(d.attempts, 1);
    deadSub.fin(d.id);
  }
  EXPECT_EQ(dead, (std::set<std::string>{"poison", "slow"}));
}

TEST(NsqdPolicy, ExpiredMessagesAreNeverDeliveredAndAreCounted) {
  Config cfg("topics:\n  - match: \"^news$\"\n    message_ttl: 300ms\n");
  NsqdProcess nsqd({"--config", cfg.path});
  createChannel(nsqd.httpPort(), "news", "c");
  V2Client pub(nsqd.tcpPort());
  EXPECT_EQ(pub.pub("news", "stale"), "OK");
  const auto published = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return std::chrono::steady_clock::now() - published > 400ms; }));
  V2Client sub(nsqd.tcpPort());
  EXPECT_EQ(sub.sub("news", "c"), "OK");
  sub.rdy(1);
  ASSERT_TRUE(eventually([&] { return channelCounter(nsqd.httpPort(), "news", "c", "expired_count") == 1; }));
  EXPECT_EQ(pub.pub("news", "fresh"), "OK");
  Message m = sub.readMessage();
  EXPECT_EQ(m.body.view(), "fresh");  // the stale one never came
}

TEST(NsqdPolicy, SighupReloadsTheTopicsListAndABadFileKeepsTheOldOne) {
  Config cfg("topics:\n  - match: \"^t$\"\n    max_depth: 1\n");
  NsqdProcess nsqd({"--config", cfg.path});
  createChannel(nsqd.httpPort(), "t", "c");
  auto maxDepth = [&] {
    auto p = parseObject(httpRequest(nsqd.httpPort(), "GET", "/topic/policy?topic=t").body);
    return p->isNull("policy") ? int64_t{-1} : p->getObject("policy")->getValue<int64_t>("max_depth");
  };
  EXPECT_EQ(maxDepth(), 1);
  writeFile(cfg.path, "topics:\n  - match: \"^t$\"\n    max_depth: 5\n");
  ::kill(nsqd.process().pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return maxDepth() == 5; }));
  V2Client c(nsqd.tcpPort());
  EXPECT_EQ(c.mpub("t", {"1", "2", "3", "4", "5"}), "OK");  // the existing topic obeys the new limit
  writeFile(cfg.path, "topics:\n  - match: \"^t$\"\n    max_depth: many\n");
  ::kill(nsqd.process().pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return nsqd.logs().find("policy reload failed") != std::string::npos; }));
  EXPECT_NE(nsqd.logs().find("nsqd.yaml:3: key \"max_depth\""), std::string::npos) << nsqd.logs();
  EXPECT_EQ(maxDepth(), 5);
  writeFile(cfg.path, "mem_queue_size: 10\n");  // no topics: any more
  ::kill(nsqd.process().pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return maxDepth() == -1; }));
  EXPECT_EQ(c.pub("t", "6"), "OK");
}

// nsqjs closes its own connection after an E_PUB_FAILED (its rule for every error but
// E_FIN/REQ/TOUCH_FAILED); nsqd keeping it open is shown by the raw-protocol test above.
TEST(NsqdPolicy, NsqjsSeesTheFullTopicAsAPublishErrorAndPublishesAgain) {
  Config cfg("topics:\n  - match: \"^js-full$\"\n    max_depth: 3\n");
  NsqdProcess nsqd({"--config", cfg.path});
  auto r = runNodeScript("nsqjs", "nsqjs_topic_full.js", {std::to_string(nsqd.tcpPort()), "js-full", "3", "js-free"});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("SURFACED: E_PUB_FAILED PUB failed topic js-full is full (max_depth 3)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("GOOD: "), std::string::npos) << r.out;
}

// kill -9 at random points while a consumer REQs every message of a max_attempts 1 topic, so
// each REQ moves a message to the dead-letter topic. With --mem-queue-size=0 --sync-every=1
// no message is lost and none is duplicated: in the end each one is in the dead-letter topic
// exactly once. (The channel's journal marks a move with the ID the dead letter will carry
// before publishing it; a restart that finds the mark publishes only if that ID is absent.
// Messages in flight on their last attempt at the kill go to the dead-letter topic at restart.)
TEST(NsqdPolicy, Kill9DuringDeadLetteringLeavesEachMessageInExactlyOnePlace) {
  Config cfg("topics:\n  - match: \"^dl$\"\n    max_attempts: 1\n");
  NsqdProcess nsqd({"--config", cfg.path, "--mem-queue-size=0", "--sync-every=1", "--msg-timeout=60s"});
  createChannel(nsqd.httpPort(), "dl", "c");
  createChannel(nsqd.httpPort(), "dl.dead", "x");
  const int total = 120;
  {
    V2Client p(nsqd.tcpPort());
    for (int i = 0; i < total; i += 20) {
      std::vector<std::string> bodies;
      for (int k = i; k < i + 20; ++k) bodies.push_back("m" + std::to_string(k));
      ASSERT_EQ(p.mpub("dl", bodies), "OK");
    }
  }
  std::mt19937 rng(16);
  int kills = 0;
  bool drained = false;
  for (int round = 0; round < 80 && !drained; ++round) {
    if (channelCounter(nsqd.httpPort(), "dl", "c", "depth") == 0 &&
        channelCounter(nsqd.httpPort(), "dl", "c", "in_flight_count") == 0) {
      drained = true;
      break;
    }
    {
      V2Client c(nsqd.tcpPort());
      ASSERT_EQ(c.sub("dl", "c"), "OK");
      c.rdy(20);
      const int requeues = 1 + static_cast<int>(rng() % 20);
      Message m;
      for (int i = 0; i < requeues && readMessageWithin(c, 2s, m); ++i)
        c.req(m.id);
      // Every other round, a PUB's OK shows the REQs before it were handled (commands run in
      // order); otherwise the kill lands right behind the REQs, some handled, one maybe halfway.
      if (round % 2 == 0) {
        c.commandWithBody("PUB sync", "x");
        TestFrame f = c.readFrame();
        while (f.type == FrameType::Message) f = c.readFrame();  // deliveries queued before it
        EXPECT_EQ(f.data, "OK");
      }
      nsqd.process().stop(9);  // right behind the REQs: some handled, some not, one maybe halfway
      ++kills;
    }
    nsqd.restart();
  }
  ASSERT_TRUE(drained) << nsqd.logs();
  std::map<std::string, int> seen;
  V2Client x(nsqd.tcpPort());
  ASSERT_EQ(x.sub("dl.dead", "x"), "OK");
  x.rdy(200);
  Message m;
  while (readMessageWithin(x, 2s, m)) {
    ++seen[std::string(m.body.view())];
    x.fin(m.id);
  }
  int missing = 0, duplicates = 0;
  for (int i = 0; i < total; ++i) {
    auto it = seen.find("m" + std::to_string(i));
    if (it == seen.end())
      ++missing;
    else
      duplicates += it->second - 1;
  }
  std::cout << "[ kill -9 dead-letter loop ] kills=" << kills << " messages=" << total
            << " dead-lettered(distinct)=" << seen.size() << " duplicates=" << duplicates << " missing=" << missing
            << "\n";
  EXPECT_EQ(missing, 0) << nsqd.logs();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(total));
  EXPECT_EQ(duplicates, 0) << nsqd.logs();
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "dl.dead", "x", "depth"), 0);
}

// A message in flight on its last attempt when nsqd is killed counts as timed out: after the
// restart it is in the dead-letter topic, and no consumer of the channel gets it again.
TEST(NsqdPolicy, InFlightOnItsLastAttemptAtKill9GoesToTheDeadLetterTopicAtRestart) {
  Config cfg("topics:\n  - match: \"^jobs$\"\n    max_attempts: 1\n");
  NsqdProcess nsqd({"--config", cfg.path, "--mem-queue-size=0", "--sync-every=1", "--msg-timeout=60s"});
  createChannel(nsqd.httpPort(), "jobs", "work");
  {
    V2Client pub(nsqd.tcpPort());
    ASSERT_EQ(pub.pub("jobs", "last-try"), "OK");
    ASSERT_EQ(pub.pub("jobs", "untouched"), "OK");
    V2Client sub(nsqd.tcpPort());
    ASSERT_EQ(sub.sub("jobs", "work"), "OK");
    sub.rdy(1);
    Message m = sub.readMessage();
    ASSERT_EQ(m.body.view(), "last-try");
    ASSERT_TRUE(eventually([&] { return channelCounter(nsqd.httpPort(), "jobs", "work", "in_flight_count") == 1; }));
    nsqd.process().stop(9);
  }
  nsqd.restart();
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "jobs", "work", "dead_letter_count"), 1) << nsqd.logs();
  V2Client sub(nsqd.tcpPort());
  ASSERT_EQ(sub.sub("jobs", "work"), "OK");
  sub.rdy(5);
  Message m;
  ASSERT_TRUE(readMessageWithin(sub, 5s, m));
  EXPECT_EQ(m.body.view(), "untouched");
  sub.fin(m.id);
  EXPECT_FALSE(readMessageWithin(sub, 500ms, m)) << "got " << m.body.view();
  V2Client dead(nsqd.tcpPort());
  ASSERT_EQ(dead.sub("jobs.dead", "inspect"), "OK");
  dead.rdy(5);
  ASSERT_TRUE(readMessageWithin(dead, 5s, m));
  EXPECT_EQ(m.body.view(), "last-try");
  dead.fin(m.id);
  EXPECT_FALSE(readMessageWithin(dead, 500ms, m)) << "got " << m.body.view();
}

// TTL is measured from the publish timestamp, which the journal and the disk queue keep: a
// message that expires while nsqd is down (graceful stop or kill -9) is never delivered after
// the restart, whether it waited in the queue or was deferred, and is counted as expired.
TEST(NsqdPolicy, MessagesExpireAcrossARestartFromTheirPublishTime) {
  Config cfg("topics:\n  - match: \"^news$\"\n    message_ttl: 1s\n");
  for (int signal : {SIGTERM, SIGKILL}) {
    SCOPED_TRACE(signal);
    NsqdProcess nsqd({"--config", cfg.path, "--mem-queue-size=0", "--sync-every=1"});
    createChannel(nsqd.httpPort(), "news", "c");
    {
      V2Client pub(nsqd.tcpPort());
      ASSERT_EQ(pub.pub("news", "queued"), "OK");
      ASSERT_EQ(pub.dpub("news", 200, "deferred"), "OK");
    }
    const auto published = std::chrono::steady_clock::now();
    nsqd.process().stop(signal);
    std::this_thread::sleep_for(1200ms - (std::chrono::steady_clock::now() - published));
    nsqd.restart();
    V2Client pub(nsqd.tcpPort());
    ASSERT_EQ(pub.pub("news", "fresh"), "OK");
    V2Client sub(nsqd.tcpPort());
    ASSERT_EQ(sub.sub("news", "c"), "OK");
    sub.rdy(5);
    Message m;
    ASSERT_TRUE(readMessageWithin(sub, 5s, m));
    EXPECT_EQ(m.body.view(), "fresh");
    sub.fin(m.id);
    EXPECT_FALSE(readMessageWithin(sub, 700ms, m)) << "got " << m.body.view();
    EXPECT_TRUE(eventually([&] { return channelCounter(nsqd.httpPort(), "news", "c", "expired_count") == 2; }))
        << nsqd.logs();
  }
}

// The same for a graceful stop with the default memory queue: the in-flight message is written
// to the disk queue with its attempts, and after the restart the channel sends it to the
// dead-letter topic instead of delivering it a max_attempts+1st time.
TEST(NsqdPolicy, InFlightOnItsLastAttemptAtAGracefulStopGoesToTheDeadLetterTopic) {
  Config cfg("topics:\n  - match: \"^jobs$\"\n    max_attempts: 2\n");
  NsqdProcess nsqd({"--config", cfg.path, "--msg-timeout=60s"});
  createChannel(nsqd.httpPort(), "jobs", "work");
  {
    V2Client pub(nsqd.tcpPort());
    ASSERT_EQ(pub.pub("jobs", "twice"), "OK");
    V2Client sub(nsqd.tcpPort());
    ASSERT_EQ(sub.sub("jobs", "work"), "OK");
    sub.rdy(1);
    sub.failNextAttempt();
    Message m = sub.readMessage();
    ASSERT_EQ(m.attempts, 2);
    nsqd.process().stop(SIGTERM);
  }
  nsqd.restart();
  V2Client sub(nsqd.tcpPort());
  ASSERT_EQ(sub.sub("jobs", "work"), "OK");
  sub.rdy(5);
  Message m;
  EXPECT_FALSE(readMessageWithin(sub, 1s, m)) << "delivered again: " << m.body.view() << " attempts " << m.attempts;
  EXPECT_EQ(channelCounter(nsqd.httpPort(), "jobs", "work", "dead_letter_count"), 1) << nsqd.logs();
  V2Client dead(nsqd.tcpPort());
  ASSERT_EQ(dead.sub("jobs.dead", "inspect"), "OK");
  dead.rdy(5);
  ASSERT_TRUE(readMessageWithin(dead, 5s, m));
  EXPECT_EQ(m.body.view(), "twice");
}

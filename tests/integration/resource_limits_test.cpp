// Issue 18, end to end: every resource limit is a flag with a default, and a client that goes
// past one gets a clear refusal while other clients keep being served. One test per limit
// (docs/reliability.md, "Resource limits", names them): TCP connections, topics, channels per
// topic, HTTP header bytes and count on all three HTTP daemons, message and body sizes, and the
// per-connection output buffer. Limits are set small so each test goes past them quickly.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <dirent.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/admin_process.h"
#include "support/lookupd_process.h"
#include "support/nsqd_process.h"
#include "support/test_support.h"
#include "support/v2_client.h"

namespace nsq::test {
namespace {

using namespace std::chrono_literals;

// The next non-heartbeat frame must be an error starting with prefix.
void expectErrorFrame(V2Client& c, const std::string& prefix) {
  TestFrame f = c.readFrame();
  EXPECT_EQ(f.type, FrameType::Error) << f.data;
  EXPECT_EQ(f.data.rfind(prefix, 0), 0u) << f.data;
}

void expectHttpError(const HttpResponse& r, int status, const std::string& message) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.body, "{\"message\":\"" + message + "\"}");
}

// A connection that has been served: it published and got OK.
bool served(V2Client& c, const std::string& topic = "served") {
  try {
    return c.pub(topic, "x") == "OK";
  } catch (const std::exception&) {
    return false;
  }
}

// How many descriptors the process holds.
int openFds(pid_t pid) {
  int n = 0;
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = ::opendir(path.c_str())) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n - 2;  // . and ..
}

Poco::JSON::Object::Ptr stats(int httpPort) {
  auto r = httpRequest(httpPort, "GET", "/stats?format=json");
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

std::vector<std::string> topicNames(int httpPort) {
  std::vector<std::string> out;
  auto topics = stats(httpPort)->getArray("topics");
  for (unsigned i = 0; topics && i < topics->size(); ++i)
    out.push_back(topics->getObject(i)->getValue<std::string>("topic_name"));
  return out;
}

std::size_t channelCount(int httpPort, const std::string& topic) {
  auto topics = stats(httpPort)->getArray("topics");
  for (unsigned i = 0; topics && i < topics->size(); ++i)
    if (topics->getObject(i)->getValue<std::string>("topic_name") == topic)
      return topics->getObject(i)->getArray("channels")->size();
  return 0;
}

// --- TCP connections -------------------------------------------------------------------------

TEST(ResourceLimits, TcpConnectionsPastTheLimitGetTooManyConnectionsAndOthersAreServed) {
  NsqdProcess nsqd({"--tcp-max-connections=3"});
  // The start-up port probe may hold a slot for a moment: fill the three slots with
  // connections that are served.
  auto held = holdServed(
      3, [&] { return std::make_unique<V2Client>(nsqd.tcpPort()); }, [](V2Client& c) { return served(c); }, 20);
  ASSERT_EQ(held.size(), 3u) << nsqd.logs();

  // The fourth reads the refusal as the answer to its first command, then EOF.
  V2Client extra(nsqd.tcpPort());
  extra.commandWithBody("IDENTIFY", "{}");
  expectErrorFrame(extra, "E_TOO_MANY_CONNECTIONS");
  EXPECT_TRUE(extra.tcp().waitClosed(3s));
  EXPECT_TRUE(eventually([&] { return nsqd.logs().find("--tcp-max-connections") != std::string::npos; }, 3s));

  // The three are still served, and a slot freed is a slot a new client gets.
  for (auto& c : held) EXPECT_TRUE(served(*c));
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    V2Client next(nsqd.tcpPort());
    return served(next);
  }, 5s));
}

TEST(ResourceLimits, RefusedTcpConnectionsDoNotPileUp) {
  NsqdProcess nsqd({"--tcp-max-connections=1"});
  std::unique_ptr<V2Client> member;
  ASSERT_TRUE(eventually([&] {
    member = std::make_unique<V2Client>(nsqd.tcpPort());
    return served(*member);
  }, 5s));
  const int before = openFds(nsqd.process().pid());
  // 400 clients that are refused but never close their end: nsqd keeps at most 256 of them,
  // each for about a second.
  std::vector<std::unique_ptr<TcpClient>> flood;
  for (int i = 0; i < 400; ++i) flood.push_back(std::make_unique<TcpClient>(nsqd.tcpPort()));
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(openFds(nsqd.process().pid()), before + 256 + 8);
  EXPECT_TRUE(served(*member));
  // The first of them reads the frame, then EOF.
  std::string head = flood.front()->readExact(8);
  std::string text = flood.front()->readExact(getUint32(head.data()) - 4);
  EXPECT_EQ(getUint32(head.data() + 4), 1u);  // frame type: error
  EXPECT_EQ(text.rfind("E_TOO_MANY_CONNECTIONS", 0), 0u) << text;
  EXPECT_TRUE(flood.front()->waitClosed(3s));
  // Within a few seconds every refused socket is closed on nsqd's side.
  EXPECT_TRUE(eventually([&] { return openFds(nsqd.process().pid()) <= before + 2; }, 5s))
      << openFds(nsqd.process().pid()) << " open, " << before << " before";
  EXPECT_TRUE(served(*member));
}

// --- topics and channels ---------------------------------------------------------------------

TEST(ResourceLimits, PublishesToANewTopicPastMaxTopicsAreRefusedAndTheConnectionStays) {
  NsqdProcess nsqd({"--max-topics=2"});
  V2Client producer(nsqd.tcpPort());
  ASSERT_EQ(producer.pub("a", "1"), "OK");
  ASSERT_EQ(producer.pub("b", "1"), "OK");
  producer.commandWithBody("PUB c", "1");
  expectErrorFrame(producer, "E_PUB_FAILED PUB failed TOO_MANY_TOPICS");
  producer.commandWithBody("MPUB c", V2Client::mpubBody({"1", "2"}));
  expectErrorFrame(producer, "E_MPUB_FAILED MPUB failed TOO_MANY_TOPICS");
  producer.commandWithBody("DPUB c 100", "1");
  expectErrorFrame(producer, "E_DPUB_FAILED DPUB failed TOO_MANY_TOPICS");
  producer.commandWithBody("PUB e#ephemeral", "1");  // ephemeral topics count too
  expectErrorFrame(producer, "E_PUB_FAILED");
  // Not fatal: the same connection publishes to an existing topic.
  EXPECT_EQ(producer.pub("a", "2"), "OK");

  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=c", "1"), 503, "TOO_MANY_TOPICS");
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/mpub?topic=c", "1\n2\n"), 503, "TOO_MANY_TOPICS");
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=c"), 503, "TOO_MANY_TOPICS");
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=b", "2").status, 200);

  // SUB to a new topic is refused (E_SUB_FAILED is fatal, as for --max-channel-consumers).
  V2Client lost(nsqd.tcpPort());
  lost.command("SUB c ch");
  expectErrorFrame(lost, "E_SUB_FAILED SUB failed TOO_MANY_TOPICS");
  EXPECT_TRUE(lost.tcp().waitClosed(3s));

  // Consumers of the existing topics are served.
  V2Client consumer(nsqd.tcpPort());
  ASSERT_EQ(consumer.sub("a", "ch"), "OK");
  consumer.rdy(1);
  ASSERT_EQ(producer.pub("a", "3"), "OK");
  Message m = consumer.readMessage();
  EXPECT_EQ(m.body.view(), "1");  // the queue's first
  EXPECT_EQ(topicNames(nsqd.httpPort()), (std::vector<std::string>{"a", "b"}));
}

TEST(ResourceLimits, ChannelsPastMaxChannelsPerTopicAreRefusedAndOthersAreServed) {
  NsqdProcess nsqd({"--max-channels-per-topic=2"});
  V2Client one(nsqd.tcpPort()), two(nsqd.tcpPort()), third(nsqd.tcpPort());
  ASSERT_EQ(one.sub("t", "one"), "OK");
  ASSERT_EQ(two.sub("t", "two#ephemeral"), "OK");  // ephemeral channels count too
  third.command("SUB t three");
  expectErrorFrame(third, "E_SUB_FAILED SUB failed TOO_MANY_CHANNELS");
  EXPECT_TRUE(third.tcp().waitClosed(3s));
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=t&channel=three"), 503,
                  "TOO_MANY_CHANNELS");
  // Another topic has its own count.
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=u").status, 200);
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=u&channel=three").status, 200);

  // The existing channels are served; a second consumer of one of them joins it.
  V2Client oneMore(nsqd.tcpPort());
  ASSERT_EQ(oneMore.sub("t", "one"), "OK");
  one.rdy(1);
  two.rdy(1);
  V2Client producer(nsqd.tcpPort());
  ASSERT_EQ(producer.pub("t", "m"), "OK");
  EXPECT_EQ(one.readMessage().body.view(), "m");
  EXPECT_EQ(two.readMessage().body.view(), "m");
  EXPECT_EQ(channelCount(nsqd.httpPort(), "t"), 2u);
}

TEST(ResourceLimits, TopicsAndChannelsFromNsqdDatLoadPastTheLimits) {
  TempDir data;
  {
    NsqdProcess before({}, data.path());
    for (const char* t : {"x", "y", "z"})
      ASSERT_EQ(httpRequest(before.httpPort(), "POST", std::string("/topic/create?topic=") + t).status, 200);
    for (const char* c : {"c1", "c2", "c3"})
      ASSERT_EQ(httpRequest(before.httpPort(), "POST", std::string("/channel/create?topic=x&channel=") + c).status,
                200);
    ASSERT_EQ(httpRequest(before.httpPort(), "POST", "/pub?topic=y", "kept").status, 200);
    ASSERT_EQ(before.stop(), 0);
  }
  NsqdProcess after({"--max-topics=1", "--max-channels-per-topic=1"}, data.path());
  EXPECT_EQ(topicNames(after.httpPort()), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(channelCount(after.httpPort(), "x"), 3u);
  EXPECT_NE(after.logs().find("created past --max-topics=1 (restored from nsqd.dat)"), std::string::npos)
      << after.logs();
  EXPECT_NE(after.logs().find("past --max-channels-per-topic=1"), std::string::npos) << after.logs();
  // Restored, the topics work; new ones stay refused.
  V2Client consumer(after.tcpPort());
  ASSERT_EQ(consumer.sub("y", "late"), "OK");  // y had no channel: one is allowed
  expectHttpError(httpRequest(after.httpPort(), "POST", "/pub?topic=w", "1"), 503, "TOO_MANY_TOPICS");
  expectHttpError(httpRequest(after.httpPort(), "POST", "/channel/create?topic=x&channel=c4"), 503,
                  "TOO_MANY_CHANNELS");
  EXPECT_EQ(httpRequest(after.httpPort(), "POST", "/pub?topic=x", "1").status, 200);
}

// A new topic takes the channels nsqlookupd knows for it (as the original does), but no more
// than --max-channels-per-topic: the rest are named in a warning and the topic is served.
TEST(ResourceLimits, ChannelsKnownToLookupdStopAtMaxChannelsPerTopic) {
  LookupdProcess lookupd;
  const std::string viaLookupd = "--lookupd-tcp-address=127.0.0.1:" + std::to_string(lookupd.tcpPort);
  NsqdProcess a({viaLookupd});
  ASSERT_EQ(httpRequest(a.httpPort(), "POST", "/topic/create?topic=t").status, 200);
  for (const char* ch : {"c1", "c2", "c3"})
    ASSERT_EQ(httpRequest(a.httpPort(), "POST", std::string("/channel/create?topic=t&channel=") + ch).status, 200);
  auto known = [&] { return httpRequest(lookupd.httpPort, "GET", "/channels?topic=t").body; };
  ASSERT_TRUE(eventually([&] { return known().find("\"c3\"") != std::string::npos; })) << known();

  NsqdProcess b({viaLookupd, "--max-channels-per-topic=2"});
  const std::string bPort = "\"tcp_port\":" + std::to_string(b.tcpPort());
  ASSERT_TRUE(eventually([&] {
    return httpRequest(lookupd.httpPort, "GET", "/nodes").body.find(bPort) != std::string::npos;
  })) << "nsqd b never registered with nsqlookupd";
  V2Client producer(b.tcpPort());
  ASSERT_EQ(producer.pub("t", "m"), "OK");
  EXPECT_TRUE(eventually([&] { return channelCount(b.httpPort(), "t") == 2; })) << b.logs();
  EXPECT_TRUE(eventually([&] {
    return b.logs().find("channel t/c3 known to nsqlookupd not created - TOO_MANY_CHANNELS: topic t has 2 "
                         "channels (--max-channels-per-topic)") != std::string::npos;
  })) << b.logs();
  EXPECT_EQ(channelCount(b.httpPort(), "t"), 2u);
  // The channels that were created got the message.
  V2Client consumer(b.tcpPort());
  ASSERT_EQ(consumer.sub("t", "c1"), "OK");
  consumer.rdy(1);
  EXPECT_EQ(consumer.readMessage().body.view(), "m");
}

TEST(ResourceLimits, DeadLetterTopicsAreCreatedPastMaxTopics) {
  NsqdProcess nsqd({"--max-topics=1", "--max-attempts=1"});
  V2Client producer(nsqd.tcpPort());
  ASSERT_EQ(producer.pub("jobs", "poison"), "OK");
  V2Client consumer(nsqd.tcpPort());
  ASSERT_EQ(consumer.sub("jobs", "work"), "OK");
  consumer.rdy(1);
  consumer.failNextAttempt();  // its one attempt: dead-lettered
  ASSERT_TRUE(eventually([&] {
    auto names = topicNames(nsqd.httpPort());
    return names == std::vector<std::string>{"jobs", "jobs.dead"};
  })) << nsqd.logs();
  EXPECT_NE(nsqd.logs().find("TOPIC(jobs.dead): created past --max-topics=1 (a dead-letter topic)"),
            std::string::npos)
      << nsqd.logs();
  V2Client inspector(nsqd.tcpPort());
  ASSERT_EQ(inspector.sub("jobs.dead", "inspect"), "OK");
  inspector.rdy(1);
  EXPECT_EQ(inspector.readMessage().body.view(), "poison");
  // Ordinary topics are still refused.
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=other", "1"), 503, "TOO_MANY_TOPICS");
}

// --- HTTP request heads ----------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> manyHeaders(int n) {
  std::vector<std::pair<std::string, std::string>> h;
  for (int i = 0; i < n; ++i) h.emplace_back("X-Extra-" + std::to_string(i), "v");
  return h;
}

// A keep-alive client that already has a connection: it must be answered while others are
// refused.
bool answersPing(TcpClient& c, const std::string& path = "/ping") {
  try {
    c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got;
    while (got.size() < 8192 && got.find("\r\n\r\n") == std::string::npos) got += c.readExact(1);
    auto cl = got.find("Content-Length: ");
    if (cl != std::string::npos) got += c.readExact(std::stoul(got.substr(cl + 16)));
    return got.starts_with("HTTP/1.1 200");
  } catch (const std::exception&) {
    return false;
  }
}

// Header count and size past the flags get 431 on port; a held keep-alive connection and a new
// client are served throughout. pingPath is an endpoint answering 200.
void checkHeaderLimits(int port, const std::string& pingPath) {
  TcpClient keepAlive(port);
  ASSERT_TRUE(answersPing(keepAlive, pingPath));
  EXPECT_EQ(httpRequest(port, "GET", pingPath, "", manyHeaders(5)).status, 200);
  EXPECT_EQ(httpRequest(port, "GET", pingPath, "", manyHeaders(20)).status, 431);
  EXPECT_EQ(httpRequest(port, "GET", pingPath, "", {{"X-Big", std::string(900, 'b')}}).status, 200);
  EXPECT_EQ(httpRequest(port, "GET", pingPath, "", {{"X-Big", std::string(3000, 'b')}}).status, 431);
  EXPECT_TRUE(answersPing(keepAlive, pingPath));
  EXPECT_EQ(httpRequest(port, "GET", pingPath).status, 200);
}

const std::vector<std::string> kSmallHeads = {"--http-max-header-bytes=2048", "--http-max-header-count=10"};

TEST(ResourceLimits, NsqdHttpHeadersPastTheLimitsGet431AndOthersAreServed) {
  NsqdProcess nsqd(kSmallHeads);
  checkHeaderLimits(nsqd.httpPort(), "/ping");
  // The defaults (64 KiB, 100 fields) hold too.
  NsqdProcess byDefault;
  EXPECT_EQ(httpRequest(byDefault.httpPort(), "GET", "/ping", "", manyHeaders(95)).status, 200);
  EXPECT_EQ(httpRequest(byDefault.httpPort(), "GET", "/ping", "", manyHeaders(101)).status, 431);
  EXPECT_EQ(httpRequest(byDefault.httpPort(), "GET", "/ping", "", {{"X-Big", std::string(70000, 'b')}}).status,
            431);
  EXPECT_EQ(httpRequest(byDefault.httpPort(), "GET", "/ping").status, 200);
}

TEST(ResourceLimits, NsqlookupdHttpHeadersPastTheLimitsGet431AndOthersAreServed) {
  LookupdProcess lookupd(kSmallHeads);
  checkHeaderLimits(lookupd.httpPort, "/ping");
}

TEST(ResourceLimits, NsqadminHttpHeadersPastTheLimitsGet431AndOthersAreServed) {
  NsqdProcess nsqd;
  std::vector<std::string> args = kSmallHeads;
  args.push_back("--nsqd-http-address=127.0.0.1:" + std::to_string(nsqd.httpPort()));
  AdminProcess admin(args);
  checkHeaderLimits(admin.httpPort, "/ping");
}

TEST(ResourceLimits, HeaderFlagsOutOfRangeStopEachDaemonNamingTheFlag) {
  auto [code, err] = runNsqdToExit({"--http-max-header-bytes=100"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("--http-max-header-bytes"), std::string::npos) << err;
  auto [code2, err2] = runNsqdToExit({"--tcp-max-connections=0"});
  EXPECT_EQ(code2, 1);
  EXPECT_NE(err2.find("--tcp-max-connections"), std::string::npos) << err2;
  const std::pair<const char*, std::vector<std::string>> others[] = {
      {"nsqlookupd", {"--http-max-header-count=0"}},
      {"nsqadmin", {"--http-max-header-count=0", "--nsqd-http-address=127.0.0.1:1"}},
  };
  for (const auto& [daemon, args] : others) {
    TempDir logs;
    Process p(binaryPath(daemon), args, logs.path());
    EXPECT_TRUE(eventually([&] { return !p.running(); }, 5s)) << daemon;
    EXPECT_NE(p.stderrText().find("--http-max-header-count"), std::string::npos) << daemon << ": " << p.stderrText();
  }
}

// --- message and body sizes, output buffer ---------------------------------------------------

TEST(ResourceLimits, MessagesAndBodiesPastTheirSizesAreRefusedWhileAnotherClientIsServed) {
  NsqdProcess nsqd({"--max-msg-size=100", "--max-body-size=1000"});
  V2Client other(nsqd.tcpPort());
  ASSERT_EQ(other.sub("sizes", "ch"), "OK");
  other.rdy(10);
  V2Client producer(nsqd.tcpPort());

  V2Client big(nsqd.tcpPort());
  big.commandWithBody("PUB sizes", std::string(101, 'x'));
  expectErrorFrame(big, "E_BAD_MESSAGE PUB message too big 101 > 100");
  EXPECT_TRUE(big.tcp().waitClosed(3s));
  V2Client bigBody(nsqd.tcpPort());
  bigBody.commandWithBody("MPUB sizes", V2Client::mpubBody(std::vector<std::string>(20, std::string(60, 'y'))));
  expectErrorFrame(bigBody, "E_BAD_BODY");
  EXPECT_TRUE(bigBody.tcp().waitClosed(3s));
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=sizes", std::string(101, 'x')), 413,
                  "MSG_TOO_BIG");
  expectHttpError(httpRequest(nsqd.httpPort(), "POST", "/mpub?topic=sizes", std::string(1001, 'x')), 413,
                  "BODY_TOO_BIG");

  ASSERT_EQ(producer.pub("sizes", std::string(100, 'z')), "OK");  // at the limit: accepted
  Message m = other.readMessage();
  EXPECT_EQ(m.body.size(), 100u);
}

TEST(ResourceLimits, AnOutputBufferPastTheMaximumIsRefusedWhileAnotherClientIsServed) {
  NsqdProcess nsqd({"--max-output-buffer-size=4096"});
  V2Client other(nsqd.tcpPort());
  ASSERT_EQ(other.identify(R"({"output_buffer_size":4096})").rfind("OK", 0), 0u);
  V2Client greedy(nsqd.tcpPort());
  greedy.commandWithBody("IDENTIFY", R"({"output_buffer_size":4097})");
  expectErrorFrame(greedy, "E_BAD_BODY IDENTIFY output buffer size (4097) is invalid");
  EXPECT_TRUE(greedy.tcp().waitClosed(3s));
  EXPECT_EQ(other.pub("buffers", "x"), "OK");
}

}  // namespace
}  // namespace nsq::test

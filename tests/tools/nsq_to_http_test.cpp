// nsq_to_http end to end: a real nsqd, the built binary and a recording HTTP server. A sink that
// answers 500 once per message still gets every message exactly once; a dead endpoint requeues
// and loses nothing; GET escaping, headers and content type; -n bounds the concurrency;
// timeouts requeue; bad flags; --help against the man page; --version; YAML config.
#include <atomic>
#include <fstream>
#include <thread>

#include "support/http_sink.h"
#include "support/man_page.h"
#include "tools/tool_harness.h"

namespace nsq::test {
namespace {

using namespace std::chrono_literals;

// nsq_to_http running in the background.
struct ToHttp : BackgroundTool {
  explicit ToHttp(const std::vector<std::string>& args) : BackgroundTool("nsq_to_http", args) {}
};

// Retry quickly: the tests' endpoints fail on purpose.
const std::vector<std::string> kFastRetry = {"--consumer-opt=default_requeue_delay,100ms",
                                             "--consumer-opt=backoff_multiplier,50ms",
                                             "--consumer-opt=max_backoff_duration,200ms"};

std::vector<std::string> args(std::vector<std::string> a, bool fastRetry = true) {
  if (fastRetry) a.insert(a.end(), kFastRetry.begin(), kFastRetry.end());
  return a;
}

void publish(NsqdProcess& n, const std::string& topic, const std::vector<std::string>& bodies) {
  V2Client c(n.tcpPort());
  for (const auto& b : bodies) c.pub(topic, b);
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

bool drained(NsqdProcess& n, const std::string& topic, const std::string& channel, int64_t published) {
  return channelDrained(n, topic, channel, published);
}

TEST(NsqToHttp, ASinkAnswering500OncePerMessageGetsEveryMessageExactlyOnce) {
  NsqdProcess nsqd;
  auto bodies = numbered("m", 100);
  publish(nsqd, "web", bodies);
  HttpSink sink([](const SinkRequest&, int seenBefore) { return seenBefore == 0 ? 500 : 200; });
  ToHttp tool(args({"--topic=web", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + sink.url("/in"), "--n=4"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "web", "nsq_to_http", 100); }, 60s)) << tool.logs();
  auto accepted = sink.accepted();
  EXPECT_EQ(accepted.size(), 100u);
  for (const auto& b : bodies) EXPECT_EQ(accepted[b], 1) << b;
  EXPECT_EQ(sink.requests().size(), 200u);
  EXPECT_GE(statValue(nsqd.httpPort(), "web", "nsq_to_http", "requeue_count"), 100);
  EXPECT_EQ(tool.stop(), 0);
  EXPECT_NE(tool.logs().find("got status code 500"), std::string::npos) << tool.logs();
}

TEST(NsqToHttp, ADeadEndpointRequeuesAndNothingIsLost) {
  NsqdProcess nsqd;
  auto bodies = numbered("d", 20);
  publish(nsqd, "dead", bodies);
  RefusingPort dead;
  const int port = dead.port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/in";
  ToHttp tool(args({"--topic=dead", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + url}));
  ASSERT_TRUE(eventually([&] { return statValue(nsqd.httpPort(), "dead", "nsq_to_http", "requeue_count") >= 20; }, 30s))
      << tool.logs();
  EXPECT_NE(tool.logs().find("connection refused"), std::string::npos) << tool.logs();
  EXPECT_EQ(statValue(nsqd.httpPort(), "dead", "nsq_to_http", "message_count"), 20);
  dead.release();
  HttpSink sink({}, 0ms, port);  // the endpoint comes up
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "dead", "nsq_to_http", 20); }, 60s)) << tool.logs();
  auto accepted = sink.accepted();
  EXPECT_EQ(accepted.size(), 20u);
  for (const auto& b : bodies) EXPECT_GE(accepted[b], 1) << b;
  EXPECT_EQ(tool.stop(), 0);
}

TEST(NsqToHttp, ATimedOutRequestIsRequeuedAndDeliveredLater) {
  NsqdProcess nsqd;
  publish(nsqd, "slow", {"s1"});
  HttpSink sink([](const SinkRequest&, int seenBefore) {
    if (seenBefore == 0) std::this_thread::sleep_for(1500ms);
    return 200;
  });
  ToHttp tool(args({"--topic=slow", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + sink.url("/"),
                    "--http-client-request-timeout=300ms"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "slow", "nsq_to_http", 1); }, 30s)) << tool.logs();
  EXPECT_NE(tool.logs().find("timed out"), std::string::npos) << tool.logs();
  // The first request is recorded when its slow answer is finally given.
  EXPECT_TRUE(eventually([&] { return sink.requests().size() >= 2; }, 10s));
  EXPECT_EQ(tool.stop(), 0);
}

TEST(NsqToHttp, GetPutsTheUrlEscapedBodyInPlaceOfPercentS) {
  NsqdProcess nsqd;
  publish(nsqd, "g", {"a b&c=d/\xc3\xa9"});
  HttpSink sink;
  ToHttp tool(args({"--topic=g", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--get=" + sink.url("/hit?data=%s&v=1")}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "g", "nsq_to_http", 1); }, 30s)) << tool.logs();
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].uri, "/hit?data=a+b%26c%3Dd%2F%C3%A9&v=1");
}

TEST(NsqToHttp, PostSendsHeadersContentTypeAndUserAgent) {
  NsqdProcess nsqd;
  publish(nsqd, "h", {R"({"k":1})"});
  HttpSink sink;
  ToHttp tool(args({"--topic=h", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + sink.url("/p"),
                    "--content-type=application/json", "--header=X-Token: secret", "--header=X-Env:test"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "h", "nsq_to_http", 1); }, 30s)) << tool.logs();
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, R"({"k":1})");
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
  EXPECT_EQ(reqs[0].header("X-Token"), "secret");
  EXPECT_EQ(reqs[0].header("X-Env"), "test");
  EXPECT_EQ(reqs[0].header("User-Agent"), "nsq_to_http/1.3.0 nsq-cpp/1.3.0");
}

TEST(NsqToHttp, NBoundsTheConcurrentRequests) {
  NsqdProcess nsqd;
  auto bodies = numbered("c", 30);
  publish(nsqd, "conc", bodies);
  HttpSink sink({}, 50ms);
  ToHttp tool(args({"--topic=conc", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + sink.url("/"), "--n=3",
                    "--max-in-flight=30"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "conc", "nsq_to_http", 30); }, 60s)) << tool.logs();
  EXPECT_EQ(sink.accepted().size(), 30u);
  EXPECT_LE(sink.maxConcurrent(), 3);
  EXPECT_LE(sink.connections(), 3);  // kept alive: one connection per publisher at most
}

TEST(NsqToHttp, RoundRobinSpreadsOverEveryEndpoint) {
  NsqdProcess nsqd;
  publish(nsqd, "rr", numbered("r", 20));
  HttpSink a, b;
  ToHttp tool(args({"--topic=rr", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + a.url("/"),
                    "--post=" + b.url("/"), "--mode=round-robin", "--n=1"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "rr", "nsq_to_http", 20); }, 30s)) << tool.logs();
  EXPECT_EQ(a.requests().size() + b.requests().size(), 20u);
  EXPECT_GE(a.requests().size(), 5u);
  EXPECT_GE(b.requests().size(), 5u);
}

TEST(NsqToHttp, SampleZeroFinishesWithoutSending) {
  NsqdProcess nsqd;
  publish(nsqd, "smp", numbered("s", 10));
  HttpSink sink;
  ToHttp tool(args({"--topic=smp", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--post=" + sink.url("/"), "--sample=0"}));
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "smp", "nsq_to_http", 10); }, 30s)) << tool.logs();
  EXPECT_EQ(sink.requests().size(), 0u);
  EXPECT_EQ(tool.stop(), 0);
  EXPECT_NE(tool.logs().find("skipped by --sample 10"), std::string::npos) << tool.logs();
}

TEST(NsqToHttp, ReadsItsOptionsFromAYamlFile) {
  NsqdProcess nsqd;
  publish(nsqd, "yaml", {"y"});
  HttpSink sink;
  TempDir dir;
  {
    std::ofstream f(dir.file("c.yaml"));
    f << "topic: [yaml]\nnsqd_tcp_address: [\"" << tcpAddr(nsqd) << "\"]\npost: [\"" << sink.url("/y")
      << "\"]\nheader: [\"X-From: yaml\"]\nsample: 1.0\n";
  }
  ToHttp tool({"--config=" + dir.file("c.yaml")});
  ASSERT_TRUE(eventually([&] { return drained(nsqd, "yaml", "nsq_to_http", 1); }, 30s)) << tool.logs();
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("X-From"), "yaml");
}

TEST(NsqToHttp, BadFlagsAreRefusedNamingTheFlag) {
  const std::string base = "\"$NSQ_TO_HTTP\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 ";
  struct Case {
    std::string flags, expect;
  } cases[] = {
      {"", "--get or --post required"},
      {"--get=http://h/%s --post=http://h/", "use --get or --post not both"},
      {"--get=http://h/x", "flag --get"},
      {"--post=h:80/x", "flag --post"},
      {"--post=http://h/ --header=NoColon", "flag --header"},
      {"--post=http://h/ --sample=1.5", "flag --sample"},
      {"--post=http://h/ --sample=x", "flag --sample"},
      {"--post=http://h/ --mode=random", "flag --mode"},
      {"--post=http://h/ --n=0", "flag -n"},
      {"--get=http://h/%s --content-type=text/plain", "flag --content-type: only used with --post"},
      {"--post=http://h/ --http-client-request-timeout=0s", "flag --http-client-request-timeout"},
      {"--post=http://h/ --consumer-opt=bogus,1", "flag --consumer-opt"},
  };
  for (const auto& c : cases) {
    auto r = runShell(base + c.flags);
    EXPECT_EQ(r.exitCode, 1) << c.flags;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.flags << ": " << r.err;
  }
}

TEST(NsqToHttp, HelpMatchesTheManPageAndVersionPrints) {
  auto r = runShell("\"$NSQ_TO_HTTP\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_to_http.1"));
  r = runShell("\"$NSQ_TO_HTTP\" --version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out.rfind("nsq_to_http v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace nsq::test

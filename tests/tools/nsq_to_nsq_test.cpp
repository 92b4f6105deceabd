// nsq_to_nsq end to end: real source and destination nsqd processes and the built binary.
// A destination killed with SIGKILL and restarted mid-stream loses nothing; JSON filters;
// binary bodies; the three --mode choices; --help against the man page; --version.
#include <atomic>
#include <set>
#include <thread>

#include "support/man_page.h"
#include "tools/tool_harness.h"

namespace nsq::test {
namespace {

using namespace std::chrono_literals;

// nsq_to_nsq running in the background.
struct Relay : BackgroundTool {
  explicit Relay(const std::vector<std::string>& args) : BackgroundTool("nsq_to_nsq", args) {}
};

// True once the source channel holds nothing: every message was FINished.
bool drained(NsqdProcess& src, const std::string& topic, const std::string& channel, int64_t published) {
  return channelDrained(src, topic, channel, published);
}

int64_t topicDepth(NsqdProcess& n, const std::string& topic) {
  return statValue(n.httpPort(), topic, "", "depth");
}

TEST(NsqToNsq, DestinationKilledAndRestartedMidStreamLosesNothing) {
  NsqdProcess src;
  NsqdProcess dst({"--mem-queue-size=0", "--sync-every=1"});
  constexpr int kMessages = 2000;
  Relay relay({"--topic=relay", "--nsqd-tcp-address=" + tcpAddr(src), "--destination-nsqd-tcp-address=" + tcpAddr(dst),
               "--max-in-flight=50", "--consumer-opt=default_requeue_delay,200ms",
               "--consumer-opt=max_backoff_duration,500ms", "--producer-opt=dial_timeout,1s"});
  std::atomic<int> published{0};
  std::thread publisher([&] {
    V2Client c(src.tcpPort());
    for (int i = 0; i < kMessages; ++i) {
      c.pub("relay", "m" + std::to_string(i));
      ++published;
      if (i % 10 == 9) std::this_thread::sleep_for(5ms);
    }
  });
  ASSERT_TRUE(eventually([&] { return published >= kMessages / 4 && topicDepth(dst, "relay") > 0; }, 20s));
  dst.process().stop(SIGKILL);
  std::this_thread::sleep_for(700ms);
  dst.restart();
  publisher.join();
  ASSERT_TRUE(eventually([&] { return drained(src, "relay", "nsq_to_nsq", kMessages); }, 90s)) << relay.logs();
  int64_t depth = topicDepth(dst, "relay");
  ASSERT_GE(depth, kMessages) << relay.logs();
  std::set<std::string> distinct;
  for (auto& b : consume(dst.tcpPort(), "relay", static_cast<std::size_t>(depth))) distinct.insert(b);
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(relay.stop(), 0);
  EXPECT_NE(relay.logs().find("requeueing them at the source"), std::string::npos) << relay.logs();
}

TEST(NsqToNsq, JsonFiltersFinishWhatTheyDropAndWarnAboutNonJson) {
  NsqdProcess src, dst;
  {
    V2Client c(src.tcpPort());
    c.pub("events", R"({"kind":"click","user":7,"secret":"s"})");
    c.pub("events", R"({"kind":"view","user":8})");
    c.pub("events", R"({"user":9})");
    c.pub("events", "not json");
  }
  Relay relay({"--topic=events", "--nsqd-tcp-address=" + tcpAddr(src),
               "--destination-nsqd-tcp-address=" + tcpAddr(dst), "--destination-topic=clicks",
               "--require-json-field=kind", "--require-json-value=click", "--whitelist-json-field=kind",
               "--whitelist-json-field=user"});
  ASSERT_TRUE(eventually([&] { return drained(src, "events", "nsq_to_nsq", 4); }, 20s)) << relay.logs();
  ASSERT_TRUE(eventually([&] { return topicDepth(dst, "clicks") == 1; }, 10s));
  EXPECT_EQ(consume(dst.tcpPort(), "clicks", 1), (std::vector<std::string>{R"({"kind":"click","user":7})"}));
  EXPECT_EQ(relay.stop(), 0);
  EXPECT_NE(relay.logs().find("is not a JSON object"), std::string::npos) << relay.logs();
  EXPECT_NE(relay.logs().find("filtered out 2; not JSON 1"), std::string::npos) << relay.logs();
}

TEST(NsqToNsq, BinaryBodiesPassUnchanged) {
  NsqdProcess src, dst;
  std::vector<std::string> bodies = {std::string("a\nb\r\n", 5), std::string("\0\0x\0", 4), "\xff\xfe", "plain"};
  {
    V2Client c(src.tcpPort());
    for (const auto& b : bodies) c.pub("bin", b);
  }
  Relay relay({"--topic=bin", "--nsqd-tcp-address=" + tcpAddr(src), "--destination-nsqd-tcp-address=" + tcpAddr(dst)});
  ASSERT_TRUE(eventually([&] { return topicDepth(dst, "bin") == 4; }, 20s)) << relay.logs();
  auto got = consume(dst.tcpPort(), "bin", 4);
  std::sort(got.begin(), got.end());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(got, bodies);
}

// Publishes n messages to topic on src and relays them with --mode; returns the per-destination depths.
std::vector<int64_t> relayWithMode(const std::string& mode, NsqdProcess& src, std::vector<std::string> dests,
                                   std::vector<NsqdProcess*> live, int n) {
  {
    V2Client c(src.tcpPort());
    for (int i = 0; i < n; ++i) c.pub("modes", "m" + std::to_string(i));
  }
  std::vector<std::string> args = {"--topic=modes", "--channel=" + mode, "--nsqd-tcp-address=" + tcpAddr(src),
                                   "--mode=" + mode, "--max-in-flight=1"};
  for (const auto& d : dests) args.push_back("--destination-nsqd-tcp-address=" + d);
  Relay relay(args);
  EXPECT_TRUE(eventually([&] { return drained(src, "modes", mode, n); }, 30s)) << relay.logs();
  EXPECT_EQ(relay.stop(), 0);
  std::vector<int64_t> depths;
  for (auto* d : live) depths.push_back(std::max<int64_t>(0, topicDepth(*d, "modes")));
  return depths;
}

TEST(NsqToNsq, RoundRobinSpreadsOverEveryDestination) {
  NsqdProcess src, a, b;
  auto d = relayWithMode("round-robin", src, {tcpAddr(a), tcpAddr(b)}, {&a, &b}, 40);
  EXPECT_EQ(d[0] + d[1], 40);
  EXPECT_GT(d[0], 5);
  EXPECT_GT(d[1], 5);
}

TEST(NsqToNsq, HostPoolAndEpsilonGreedyRouteAroundADeadDestination) {
  for (std::string mode : {"hostpool", "epsilon-greedy", "round-robin"}) {
    NsqdProcess src, live;
    std::string dead = "127.0.0.1:" + std::to_string(freePort());
    auto d = relayWithMode(mode, src, {dead, tcpAddr(live)}, {&live}, 30);
    EXPECT_EQ(d[0], 30) << mode;
  }
}

TEST(NsqToNsq, BadFlagsAreRefusedNamingTheFlag) {
  auto r = runShell("\"$NSQ_TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:4150");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--destination-nsqd-tcp-address required"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 "
               "--destination-nsqd-tcp-address=127.0.0.1:4150 --mode=random");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("flag --mode"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 "
               "--destination-nsqd-tcp-address=127.0.0.1:4150 --require-json-value=1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--require-json-field"), std::string::npos) << r.err;
}

TEST(NsqToNsq, HelpMatchesTheManPageAndVersionPrints) {
  auto r = runShell("\"$NSQ_TO_NSQ\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_to_nsq.1"));
  r = runShell("\"$NSQ_TO_NSQ\" --version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out.rfind("nsq_to_nsq v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace nsq::test

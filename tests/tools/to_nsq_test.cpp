// to_nsq end to end: real pipelines into a real nsqd, checking exactly what arrives, plus its
// failure reports, exit codes, --help against the man page, --version and --config.
#include <algorithm>

#include "support/man_page.h"
#include "tools/tool_harness.h"

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {
std::string toNsq(NsqdProcess& n, const std::string& topic) {
  return "\"$TO_NSQ\" --topic=" + topic + " --nsqd-tcp-address=" + tcpAddr(n);
}
}  // namespace

TEST(ToNsq, PublishesEachLineOnceInOrder) {
  NsqdProcess nsqd;
  auto r = runShell("printf 'a\\nb\\nc\\n' | " + toNsq(nsqd, "lines"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "lines", "", "message_count"), 3);
  auto bodies = consume(nsqd.tcpPort(), "lines", 3);
  EXPECT_EQ(bodies, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ToNsq, SkipsEmptyRecordsAndPublishesAnUnterminatedLastRecordWhole) {
  NsqdProcess nsqd;
  auto r = runShell("printf 'one\\n\\n\\ntwo\\nthree' | " + toNsq(nsqd, "t"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "t", "", "message_count"), 3);
  EXPECT_EQ(consume(nsqd.tcpPort(), "t", 3), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(ToNsq, SplitsOnACustomDelimiter) {
  NsqdProcess nsqd;
  auto r = runShell("printf 'x y\\nz,w,' | " + toNsq(nsqd, "t") + " --delimiter=,");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(consume(nsqd.tcpPort(), "t", 2), (std::vector<std::string>{"x y\nz", "w"}));
}

TEST(ToNsq, NulDelimitedInputGivenAsAnEscape) {
  NsqdProcess nsqd;
  auto r = runShell("printf 'a\\nb\\000c\\000' | " + toNsq(nsqd, "nul") + " --delimiter='\\0'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(consume(nsqd.tcpPort(), "nul", 2), (std::vector<std::string>{"a\nb", "c"}));
}

TEST(ToNsq, EveryRecordGoesToEveryNsqd) {
  NsqdProcess a, b;
  auto r = runShell("seq 1 100 | " + toNsq(a, "t") + " --nsqd-tcp-address=" + tcpAddr(b));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (NsqdProcess* n : {&a, &b}) {
    EXPECT_EQ(statValue(n->httpPort(), "t", "", "message_count"), 100);
    auto bodies = consume(n->tcpPort(), "t", 100);
    std::vector<std::string> expected;
    for (int i = 1; i <= 100; ++i) expected.push_back(std::to_string(i));
    std::sort(bodies.begin(), bodies.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(bodies, expected);
  }
}

TEST(ToNsq, BulkInputIsBatchedAndEveryLineArrivesExactlyOnce) {
  NsqdProcess nsqd;
  auto start = std::chrono::steady_clock::now();
  auto r = runShell("seq 1 50000 | " + toNsq(nsqd, "bulk"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  EXPECT_EQ(statValue(nsqd.httpPort(), "bulk", "", "message_count"), 50000);
  auto bodies = consume(nsqd.tcpPort(), "bulk", 50000);
  std::set<std::string> unique(bodies.begin(), bodies.end());
  EXPECT_EQ(unique.size(), 50000u);
  EXPECT_TRUE(unique.count("1") && unique.count("50000"));
}

TEST(ToNsq, RateLimitsPublishing) {
  NsqdProcess nsqd;
  auto start = std::chrono::steady_clock::now();
  auto r = runShell("seq 1 30 | " + toNsq(nsqd, "slow") + " --rate=10");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "slow", "", "message_count"), 30);
  // A burst of 10, then 20 more at 10/s.
  EXPECT_GE(took, 1800ms);
  EXPECT_LT(took, 6s);
}

TEST(ToNsq, IdleInputKeepsTheConnectionAliveThroughHeartbeats) {
  NsqdProcess nsqd;
  // heartbeat 1s: nsqd would close a silent client after 2s; the producer answers with NOP.
  auto r = runShell("(echo first; sleep 3; echo second) | " + toNsq(nsqd, "idle") +
                    " --producer-opt=heartbeat_interval,1s");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(consume(nsqd.tcpPort(), "idle", 2), (std::vector<std::string>{"first", "second"}));
}

TEST(ToNsq, UnreachableNsqdIsNamedAndExitsOne) {
  int port = freePort();
  auto r = runShell("echo x | \"$TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(ToNsq, BadTopicAndMissingFlagsAreUsageErrors) {
  auto r = runShell("echo x | \"$TO_NSQ\" --topic='bad topic!' --nsqd-tcp-address=127.0.0.1:4150");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("invalid topic name \"bad topic!\""), std::string::npos) << r.err;
  r = runShell("echo x | \"$TO_NSQ\" --nsqd-tcp-address=127.0.0.1:4150");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--topic required"), std::string::npos) << r.err;
  r = runShell("echo x | \"$TO_NSQ\" --topic=t");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--nsqd-tcp-address required"), std::string::npos) << r.err;
  r = runShell("\"$TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --delimiter=ab");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--delimiter must be a single byte"), std::string::npos) << r.err;
  r = runShell("\"$TO_NSQ\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --producer-opt=bogus,1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("unknown option \"bogus\""), std::string::npos) << r.err;
}

TEST(ToNsq, RejectedPublishSaysWhichRecordsMayNotHaveBeenPublished) {
  NsqdProcess nsqd({"--max-msg-size=100"});
  // Three short records, then one over nsqd's limit, then more: the bad one is refused.
  auto r = runShell("(printf 'a\\nb\\nc\\n'; sleep 0.5; head -c 300 /dev/zero | tr '\\0' x; "
                    "printf '\\nd\\n') | " + toNsq(nsqd, "t"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("E_BAD_MESSAGE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 records were acknowledged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("records from 4 on may not have been published"), std::string::npos) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "t", "", "message_count"), 3);
}

TEST(ToNsq, NsqdGoingAwayMidStreamFailsWithExitOne) {
  NsqdProcess nsqd;
  std::thread killer([&] {
    std::this_thread::sleep_for(700ms);
    nsqd.process().stop(9);
  });
  auto r = runShell("(echo a; sleep 1.5; echo b) | " + toNsq(nsqd, "t"));
  killer.join();
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find(tcpAddr(nsqd)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 records were acknowledged"), std::string::npos) << r.err;
}

TEST(ToNsq, SigtermStopsAndExitsZero) {
  NsqdProcess nsqd;
  TempDir dir;
  // A fifo keeps the writer out of to_nsq's job, so `wait` returns when to_nsq exits.
  auto r = runShell("mkfifo " + dir.file("in") + "; (echo a; sleep 20) > " + dir.file("in") + " & " + toNsq(nsqd, "t") +
                        " < " + dir.file("in") + " & pid=$!; sleep 1; kill -TERM $pid; wait $pid",
                    8s);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "t", "", "message_count"), 1);
}

TEST(ToNsq, ConfigFileSuppliesFlagsAndFlagsWin) {
  NsqdProcess nsqd;
  TempDir dir;
  {
    std::ofstream f(dir.file("to_nsq.yaml"));
    f << "topic: fromfile\nnsqd_tcp_address: [\"" << tcpAddr(nsqd) << "\"]\nrate: 0\n";
  }
  auto r = runShell("echo x | \"$TO_NSQ\" --config=" + dir.file("to_nsq.yaml"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "fromfile", "", "message_count"), 1);
  r = runShell("echo x | \"$TO_NSQ\" --config=" + dir.file("to_nsq.yaml") + " --topic=fromflag");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(statValue(nsqd.httpPort(), "fromflag", "", "message_count"), 1);
  {
    std::ofstream f(dir.file("bad.yaml"));
    f << "topic: t\nrat: 5\n";
  }
  r = runShell("\"$TO_NSQ\" --config=" + dir.file("bad.yaml"));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("bad.yaml:2: unknown key \"rat\""), std::string::npos) << r.err;
}

TEST(ToNsq, HelpMatchesTheManPageAndVersionPrints) {
  auto r = runShell("\"$TO_NSQ\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/to_nsq.1"));
  r = runShell("\"$TO_NSQ\" --version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out.rfind("to_nsq v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
}

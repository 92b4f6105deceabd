// nsq_tail end to end: to_nsq | nsq_tail pipelines against real nsqd (and nsqlookupd), -n,
// --print-topic, a closed stdout (| head, | true) ending it quietly with unprinted messages
// requeued, signals, errors, --help against the man page.
#include <algorithm>

#include "support/man_page.h"
#include "tools/tool_harness.h"

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {
std::string toNsq(NsqdProcess& n, const std::string& topic) {
  return "\"$TO_NSQ\" --topic=" + topic + " --nsqd-tcp-address=" + tcpAddr(n);
}
std::string tail(NsqdProcess& n, const std::string& topic) {
  return "\"$NSQ_TAIL\" --topic=" + topic + " --nsqd-tcp-address=" + tcpAddr(n);
}
std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}
}  // namespace

TEST(NsqTail, PrintsExactlyWhatToNsqPublished) {
  NsqdProcess nsqd;
  auto r = runShell("printf 'a\\nb\\nc\\n' | " + toNsq(nsqd, "p") + " && " + tail(nsqd, "p") + " -n 3");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\nc\n");
}

TEST(NsqTail, StopsAfterNMessagesAndLeavesTheRestQueued) {
  NsqdProcess nsqd;
  auto r = runShell("seq 1 20 | " + toNsq(nsqd, "p") + " && " + tail(nsqd, "p") + " --channel=c -n 5");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "1\n2\n3\n4\n5\n");
  // The other 15 were never delivered or were requeued: a second reader of the channel gets them.
  auto rest = consume(nsqd.tcpPort(), "p", 15, "c");
  std::sort(rest.begin(), rest.end(), [](auto& a, auto& b) { return std::stoi(a) < std::stoi(b); });
  std::vector<std::string> expected;
  for (int i = 6; i <= 20; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(rest, expected);
}

TEST(NsqTail, WithNFromTwoNsqdsItFinishesAtMostNAndRequeuesTheRest) {
  NsqdProcess a, b;
  auto r = runShell("seq 1 20 | " + toNsq(a, "d") + " && seq 21 40 | " + toNsq(b, "d") + " && \"$NSQ_TAIL\" --topic=d" +
                    " --channel=durable --nsqd-tcp-address=" + tcpAddr(a) + " --nsqd-tcp-address=" + tcpAddr(b) +
                    " -n 5 | head -n 5");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 5u);
  // Exactly the 35 messages it did not print are still on the channel, on one node or the other.
  ASSERT_TRUE(eventually([&] {
    auto left = [&](NsqdProcess& n) {
      return statValue(n.httpPort(), "d", "durable", "depth") + statValue(n.httpPort(), "d", "durable", "deferred_count") +
             statValue(n.httpPort(), "d", "durable", "in_flight_count");
    };
    return left(a) + left(b) == 35;
  }));
}

TEST(NsqTail, HeadClosingThePipeEndsItQuietly) {
  NsqdProcess nsqd;
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  auto r = runShell("seq 1 1000 | " + toNsq(nsqd, "h") + " && { " + tail(nsqd, "h") + "; echo $? > " +
                    dir.file("status") + "; } | head -n 3");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out, "1\n2\n3\n");
  EXPECT_EQ(readWhole(dir.file("status")), "0\n");
  EXPECT_EQ(r.err.find("rror"), std::string::npos) << r.err;
}

TEST(NsqTail, MessagesItCouldNotPrintAreRequeuedNotFinished) {
  NsqdProcess nsqd;
  TempDir dir;
  // `true` exits at once, so the very first write fails with EPIPE.
  auto r = runShell("seq 1 10 | " + toNsq(nsqd, "q") + " && { sleep 0.3; " + tail(nsqd, "q") +
                    " --channel=keep; echo $? > " + dir.file("status") + "; } | true");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(readWhole(dir.file("status")), "0\n");
  auto all = consume(nsqd.tcpPort(), "q", 10, "keep");
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), 10u);
}

TEST(NsqTail, PrintTopicAndSeveralTopics) {
  NsqdProcess nsqd;
  for (std::string t : {"t1", "t2"})
    ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=" + t).status, 200);
  for (std::string t : {"t1", "t2"})
    for (std::string c : {"first", "other"})
      ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=" + t + "&channel=" + c).status, 200);
  // -n counts over all topics: the first message printed ends it.
  auto r = runShell("echo one | " + toNsq(nsqd, "t1") + " && echo two | " + toNsq(nsqd, "t2") + " && " +
                    tail(nsqd, "t1") + " --topic=t2 --print-topic -n 1 --channel=first");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0] == "t1 | one" || out[0] == "t2 | two") << out[0];
  r = runShell(tail(nsqd, "t1") + " --topic=t2 --print-topic -n 2 --channel=other");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  out = lines(r.out);
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<std::string>{"t1 | one", "t2 | two"}));
}

TEST(NsqTail, ConsumesFromEveryNsqdGivenOrDiscovered) {
  LookupdProcess lookupd;
  NsqdProcess a({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  NsqdProcess b({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  for (NsqdProcess* n : {&a, &b})
    ASSERT_EQ(httpRequest(n->httpPort(), "POST", "/topic/create?topic=d").status, 200);
  for (NsqdProcess* n : {&a, &b})
    for (std::string c : {"direct", "discovered"})
      ASSERT_EQ(httpRequest(n->httpPort(), "POST", "/channel/create?topic=d&channel=" + c).status, 200);
  auto r = runShell("seq 1 50 | " + toNsq(a, "d") + " && seq 51 100 | " + toNsq(b, "d"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  ASSERT_TRUE(eventually([&] {
    auto l = httpRequest(lookupd.http(), "GET", "/lookup?topic=d");
    return l.body.find(std::to_string(a.tcpPort())) != std::string::npos &&
           l.body.find(std::to_string(b.tcpPort())) != std::string::npos;
  }));
  std::vector<std::string> expected;
  for (int i = 1; i <= 100; ++i) expected.push_back(std::to_string(i));
  std::sort(expected.begin(), expected.end());
  for (std::string source : {"--nsqd-tcp-address=" + tcpAddr(a) + " --nsqd-tcp-address=" + tcpAddr(b),
                             "--lookupd-http-address=" + lookupd.httpAddress()}) {
    std::string channel = source[2] == 'n' ? "direct" : "discovered";
    r = runShell("\"$NSQ_TAIL\" --topic=d --channel=" + channel + " " + source + " -n 100", 20s);
    ASSERT_EQ(r.exitCode, 0) << source << "\n" << r.err;
    auto got = lines(r.out);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected) << source;
  }
}

TEST(NsqTail, WaitsForATopicThatLookupdDoesNotKnowYet) {
  LookupdProcess lookupd;
  NsqdProcess nsqd({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  std::thread later([&] {
    std::this_thread::sleep_for(1s);
    runShell("echo late | " + toNsq(nsqd, "later"));
  });
  auto r = runShell("\"$NSQ_TAIL\" --topic=later --lookupd-http-address=" + lookupd.httpAddress() +
                        " --consumer-opt=lookupd_poll_interval,500ms -n 1",
                    15s);
  later.join();
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "late\n");
}

TEST(NsqTail, LogsTheLookupdRetryWhileTheTopicIsUnknown) {
  LookupdProcess lookupd;
  NsqdProcess nsqd({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  TempDir logs;
  Process p(binaryPath("nsq_tail"),
            {"--topic=unknown", "--lookupd-http-address=" + lookupd.httpAddress(),
             "--consumer-opt=lookupd_poll_interval,200ms", "-n", "1"},
            logs.path());
  // At go-nsq's levels: the failed query is an ERROR, the retry an INFO; and it repeats.
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    std::string err = p.stderrText();
    for (auto at = err.find(what); at != std::string::npos; at = err.find(what, at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(eventually([&] { return count("querying again in 200ms") >= 2; }, 15s)) << p.stderrText();
  EXPECT_NE(p.stderrText().find("ERROR: error querying nsqlookupd (" + lookupd.httpAddress() +
                                "/lookup?topic=unknown) - TOPIC_NOT_FOUND"),
            std::string::npos)
      << p.stderrText();
  EXPECT_NE(p.stderrText().find("INFO: no nsqlookupd knows topic unknown yet"), std::string::npos) << p.stderrText();
  runShell("echo found | " + toNsq(nsqd, "unknown"));
  ASSERT_TRUE(eventually([&] { return !p.running(); }, 15s)) << p.stderrText();
  EXPECT_EQ(p.stdoutText(), "found\n");
}

TEST(NsqTail, FormatShowsIdAttemptsAndTimestamp) {
  NsqdProcess nsqd;
  auto r = runShell("echo hi | " + toNsq(nsqd, "f") + " && " + tail(nsqd, "f") +
                    " -n 1 --format='%T %i %a %t %d %l [%b]\\n'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream in(r.out);
  std::string topic, id, attempts, ts, date, len, body;
  in >> topic >> id >> attempts >> ts >> date >> len >> body;
  EXPECT_EQ(topic, "f");
  EXPECT_EQ(id.size(), 16u) << r.out;
  EXPECT_EQ(attempts, "1");
  EXPECT_GT(std::stoll(ts), 1700000000000000000LL) << r.out;
  EXPECT_EQ(date.size(), 30u) << date;  // 2026-12-06T05:40:00.123456789Z
  EXPECT_EQ(date.back(), 'Z');
  EXPECT_EQ(len, "2");
  EXPECT_EQ(body, "[hi]");
  r = runShell(tail(nsqd, "f") + " --format='%q'");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("flag --format: unknown field %q"), std::string::npos) << r.err;
}

TEST(NsqTail, NulDelimitedOutputRoundTripsThroughToNsq) {
  NsqdProcess nsqd;
  {
    V2Client c(nsqd.tcpPort());
    c.pub("bin", "line one\nline two");
    c.pub("bin", "tab\there");
    c.pub("bin", "plain");
  }
  auto r = runShell(tail(nsqd, "bin") + " -n 3 --format='%b\\0' | " + toNsq(nsqd, "copy") + " --delimiter='\\0'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto got = consume(nsqd.tcpPort(), "copy", 3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"line one\nline two", "plain", "tab\there"}));
}

TEST(NsqTail, SigtermStopsGracefullyAndClosesItsConnection) {
  NsqdProcess nsqd;
  TempDir logs;
  Process p(binaryPath("nsq_tail"), {"--topic=s", "--channel=c", "--nsqd-tcp-address=" + tcpAddr(nsqd)}, logs.path());
  ASSERT_TRUE(eventually([&] { return statValue(nsqd.httpPort(), "s", "c", "client_count") == 1; }));
  runShell("seq 1 3 | " + toNsq(nsqd, "s"));
  ASSERT_TRUE(eventually([&] { return p.stdoutText() == "1\n2\n3\n"; })) << p.stdoutText();
  int status = p.stop(SIGTERM, 5s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << p.stderrText();
  EXPECT_EQ(statValue(nsqd.httpPort(), "s", "c", "client_count"), 0);
  EXPECT_EQ(statValue(nsqd.httpPort(), "s", "c", "in_flight_count"), 0);
  EXPECT_EQ(statValue(nsqd.httpPort(), "s", "c", "depth"), 0);
}

TEST(NsqTail, ErrorsNameTheProblem) {
  int port = freePort();
  auto r = runShell("\"$NSQ_TAIL\" --topic=t --nsqd-tcp-address=127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + ": cannot connect to nsqd"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TAIL\" --topic='no good' --nsqd-tcp-address=127.0.0.1:4150");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("invalid topic name \"no good\""), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TAIL\" --nsqd-tcp-address=127.0.0.1:4150");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--topic is required"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_TAIL\" --topic=t --nsqd-tcp-address=127.0.0.1:4150 --lookupd-http-address=127.0.0.1:4161");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  // An unreachable lookupd is reported by address; nsq_tail keeps polling until stopped.
  r = runShell("\"$NSQ_TAIL\" --topic=t --lookupd-http-address=127.0.0.1:" + std::to_string(port) +
                   " & pid=$!; sleep 1; kill $pid; wait $pid",
               10s);
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + ": connection refused"), std::string::npos) << r.err;
}

TEST(NsqTail, HelpMatchesTheManPageVersionAndConfig) {
  auto r = runShell("\"$NSQ_TAIL\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_tail.1"));
  r = runShell("\"$NSQ_TAIL\" --version");
  EXPECT_EQ(r.out.rfind("nsq_tail v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
  NsqdProcess nsqd;
  TempDir dir;
  {
    std::ofstream f(dir.file("tail.yaml"));
    f << "topic: [cfg]\nnsqd_tcp_address: [\"" << tcpAddr(nsqd) << "\"]\nn: 1\n";
  }
  r = runShell("echo viaconfig | " + toNsq(nsqd, "cfg") + " && \"$NSQ_TAIL\" --config=" + dir.file("tail.yaml"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "viaconfig\n");
}

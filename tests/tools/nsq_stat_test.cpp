// nsq_stat end to end: counts in its table match what was published and consumed, summed over
// nodes found directly or through nsqlookupd; errors and --help against the man page.
#include "support/man_page.h"
#include "tools/tool_harness.h"

#include <algorithm>

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {
std::vector<std::vector<std::string>> rows(const std::string& out) {
  std::vector<std::vector<std::string>> r;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find('|') == std::string::npos || line.find("ingress") != std::string::npos ||
        line.find("----") != std::string::npos)
      continue;
    std::istringstream words(line);
    std::vector<std::string> cols;
    std::string w;
    while (words >> w)
      if (w != "|") cols.push_back(w);
    r.push_back(cols);
  }
  return r;
}
}  // namespace

TEST(NsqStat, CountsMatchWhatWasDone) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=st").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=st&channel=c").status, 200);
  auto r = runShell("seq 1 10 | \"$TO_NSQ\" --topic=st --nsqd-tcp-address=" + tcpAddr(nsqd) +
                    " && \"$NSQ_TAIL\" --topic=st --channel=c -n 4 --nsqd-tcp-address=" + tcpAddr(nsqd));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = runShell("\"$NSQ_STAT\" --topic=st --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
               " --interval=200ms --count=2");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out.find("------rate------+"), 0u) << r.out;
  auto data = rows(r.out);
  ASSERT_EQ(data.size(), 2u) << r.out;
  // ingress egress total mem disk inflt def req t-o msgs clients. nsq_tail may have requeued
  // messages it received past -n 4; req must show nsqd's own count of those.
  std::string req = std::to_string(statValue(nsqd.httpPort(), "st", "c", "requeue_count"));
  EXPECT_EQ(data[1], (std::vector<std::string>{"0", "0", "6", "6", "0", "0", "0", req, "0", "10", "0"})) << r.out;
}

TEST(NsqStat, RatesFollowPublishingAndNodesAreSummedThroughLookupd) {
  LookupdProcess lookupd;
  NsqdProcess a({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  NsqdProcess b({"--lookupd-tcp-address=" + lookupd.tcpAddress(), "--broadcast-address=127.0.0.1"});
  for (NsqdProcess* n : {&a, &b}) {
    ASSERT_EQ(httpRequest(n->httpPort(), "POST", "/topic/create?topic=lt").status, 200);
    ASSERT_EQ(httpRequest(n->httpPort(), "POST", "/channel/create?topic=lt&channel=c").status, 200);
  }
  ASSERT_TRUE(eventually([&] {
    auto l = httpRequest(lookupd.http(), "GET", "/lookup?topic=lt");
    return l.body.find(std::to_string(a.tcpPort())) != std::string::npos &&
           l.body.find(std::to_string(b.tcpPort())) != std::string::npos;
  }));
  // Publish 30 to each node well after the baseline poll and before the last row (interval 1 s,
  // four rows). Rates are per measured second, so under load the rows need not add up to 60
  // exactly; the publish shows as ingress in some row, and the totals are exact.
  std::thread pub([&] {
    std::this_thread::sleep_for(1500ms);
    runShell("seq 1 30 | \"$TO_NSQ\" --topic=lt --nsqd-tcp-address=" + tcpAddr(a) +
             " --nsqd-tcp-address=" + tcpAddr(b));
  });
  auto r = runShell("\"$NSQ_STAT\" --topic=lt --channel=c --lookupd-http-address=" + lookupd.httpAddress() +
                    " --interval=1s --count=4");
  pub.join();
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto data = rows(r.out);
  ASSERT_EQ(data.size(), 4u) << r.out;
  int ingress = 0;
  for (const auto& row : data) {
    ingress = std::max(ingress, std::stoi(row[0]));
    EXPECT_EQ(row[1], "0") << r.out;  // nothing left the queue
  }
  EXPECT_GT(ingress, 0) << r.out;
  EXPECT_LE(ingress, 60) << r.out;
  EXPECT_EQ(data[3][2], "60") << r.out;  // total depth over both nodes
  EXPECT_EQ(data[3][9], "60") << r.out;  // msgs
}

TEST(NsqStat, HeaderRepeatsEvery25Polls) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=h").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=h&channel=c").status, 200);
  auto r = runShell("\"$NSQ_STAT\" --topic=h --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
                    " --interval=10ms --count=30");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::size_t headers = 0;
  for (std::size_t p = r.out.find("ingress"); p != std::string::npos; p = r.out.find("ingress", p + 1)) ++headers;
  EXPECT_EQ(headers, 2u);
  EXPECT_EQ(rows(r.out).size(), 30u);
}

TEST(NsqStat, JsonPrintsOneParsableObjectPerReport) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=j").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=j&channel=c").status, 200);
  {
    V2Client c(nsqd.tcpPort());
    for (int i = 0; i < 7; ++i) c.pub("j", "m");
  }
  auto r = runShell("\"$NSQ_STAT\" --topic=j --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
                    " --interval=10ms --count=3 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  int objects = 0;
  while (std::getline(in, line)) {
    auto obj = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    EXPECT_EQ(obj->getValue<std::string>("topic"), "j");
    EXPECT_EQ(obj->getValue<std::string>("channel"), "c");
    EXPECT_EQ(obj->getValue<int64_t>("depth"), 7);
    EXPECT_EQ(obj->getValue<int64_t>("message_count"), 7);
    std::string ts = obj->getValue<std::string>("timestamp");
    EXPECT_EQ(ts.size(), 24u) << ts;  // 2026-12-06T05:40:00.123Z
    EXPECT_EQ(ts.back(), 'Z');
    ++objects;
  }
  EXPECT_EQ(objects, 3);
}

TEST(NsqStat, TimestampAddsATimeColumn) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=ts").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=ts&channel=c").status, 200);
  auto r = runShell("\"$NSQ_STAT\" --topic=ts --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
                    " --interval=10ms --count=2 --timestamp");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto data = rows(r.out);
  ASSERT_EQ(data.size(), 2u) << r.out;
  for (const auto& cols : data) {
    ASSERT_EQ(cols.size(), 12u) << r.out;
    EXPECT_EQ(cols[0].size(), 20u) << cols[0];
    EXPECT_EQ(cols[0][10], 'T');
  }
  EXPECT_NE(r.out.find("time                 ingress"), std::string::npos) << r.out;
}

TEST(NsqStat, StatusEverySetsTheHeaderRepeat) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=h").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=h&channel=c").status, 200);
  auto headers = [&](const std::string& every) {
    auto r = runShell("\"$NSQ_STAT\" --topic=h --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
                      " --interval=10ms --count=12 --status-every=" + every);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    std::size_t n = 0;
    for (std::size_t p = r.out.find("ingress"); p != std::string::npos; p = r.out.find("ingress", p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(headers("5"), 3u);  // polls 0, 5, 10
  EXPECT_EQ(headers("0"), 1u);
}

TEST(NsqStat, SigintAndSigtermEndItWithStatusZero) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=s").status, 200);
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/create?topic=s&channel=c").status, 200);
  for (std::string sig : {"INT", "TERM"}) {
    // Started in the background from a script, as the newcomer did: SIGINT must still stop it.
    auto start = std::chrono::steady_clock::now();
    auto r = runShell("\"$NSQ_STAT\" --topic=s --channel=c --nsqd-http-address=" + httpAddr(nsqd) +
                      " --interval=200ms & pid=$!; sleep 0.5; kill -" + sig + " $pid; wait $pid; echo status=$?");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << sig;
    EXPECT_NE(r.out.find("status=0"), std::string::npos) << sig << ": " << r.out << r.err;
  }
}

TEST(NsqStat, ErrorsNameTheProblem) {
  NsqdProcess nsqd;
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/create?topic=e").status, 200);
  auto r = runShell("\"$NSQ_STAT\" --topic=e --channel=missing --nsqd-http-address=" + httpAddr(nsqd) + " --count=1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("failed to find channel(missing) in stats metadata for topic(e)"), std::string::npos) << r.err;
  int port = freePort();
  r = runShell("\"$NSQ_STAT\" --topic=e --channel=c --nsqd-http-address=127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + ": connection refused"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_STAT\" --topic=e --channel=c --lookupd-http-address=127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
  r = runShell("\"$NSQ_STAT\" --topic=e --nsqd-http-address=127.0.0.1:1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("--topic and --channel are required"), std::string::npos) << r.err;
  r = runShell("\"$NSQ_STAT\" --topic=e --channel=c --nsqd-http-address=http://127.0.0.1:1");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("without a scheme"), std::string::npos) << r.err;
}

TEST(NsqStat, HelpMatchesTheManPageAndVersion) {
  auto r = runShell("\"$NSQ_STAT\" --help");
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_EQ(helpFlags(r.out), manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_stat.1"));
  r = runShell("\"$NSQ_STAT\" --version");
  EXPECT_EQ(r.out.rfind("nsq_stat v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
}

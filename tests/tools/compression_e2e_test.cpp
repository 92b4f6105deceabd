// Client-side compression end to end: to_nsq and nsq_tail asking for deflate or snappy (go-nsq
// option names) against our nsqd, which grants both; every line arrives exactly once and nsqd
// reports the connection as compressed.
#include <algorithm>

#include "tools/tool_harness.h"

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> sortedLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  std::sort(out.begin(), out.end());
  return out;
}

void roundTrip(const std::string& producerOpt, const std::string& consumerOpt, const std::string& statKey) {
  NsqdProcess nsqd;
  std::string topic = "z";
  // Long, compressible lines plus short ones; several frames per compressed chunk.
  auto r = runShell("{ seq 1 300; seq 1 50 | sed 's/$/ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'; } | \"$TO_NSQ\" "
                    "--topic=" + topic + " --nsqd-tcp-address=" + tcpAddr(nsqd) + " --producer-opt=" + producerOpt);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  TempDir logs;
  Process tail(binaryPath("nsq_tail"),
               {"--topic=" + topic, "--channel=c", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--consumer-opt=" + consumerOpt,
                "-n", "350"},
               logs.path());
  ASSERT_TRUE(eventually([&] { return !tail.running(); }, 20s)) << tail.stderrText();
  auto expected = sortedLines(runShell("seq 1 300; seq 1 50 | sed 's/$/ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/'").out);
  EXPECT_EQ(sortedLines(tail.stdoutText()), expected) << tail.stderrText();
  EXPECT_EQ(statValue(nsqd.httpPort(), topic, "", "message_count"), 350);
  // While a compressed consumer is connected, nsqd lists it as such.
  Process idle(binaryPath("nsq_tail"),
               {"--topic=" + topic, "--channel=c2", "--nsqd-tcp-address=" + tcpAddr(nsqd), "--consumer-opt=" + consumerOpt},
               logs.path());
  ASSERT_TRUE(eventually([&] {
    auto body = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=z").body;
    return body.find("\"" + statKey + "\":true") != std::string::npos;
  })) << httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=z").body;
  EXPECT_EQ(idle.stop(SIGTERM), 0);
}

}  // namespace

TEST(ClientCompression, DeflateProducerAndSnappyConsumer) { roundTrip("deflate,true", "snappy,true", "snappy"); }

TEST(ClientCompression, SnappyProducerAndDeflateConsumer) {
  roundTrip("snappy", "deflate,true", "deflate");
}

TEST(ClientCompression, DeflateLevelIsAccepted) { roundTrip("deflate_level,1", "deflate", "deflate"); }

// nsqd start-up configuration end to end: YAML file, flag precedence, Go flag syntax, and the
// one-line errors that name the flag or the file, line and key.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "support/nsqd_process.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {
void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}
}  // namespace

TEST(NsqdConfig, UnknownYamlKeyStopsStartupNamingFileLineAndKey) {
  TempDir dir;
  writeFile(dir.file("bad.yaml"), "mem_queue_size: 5\n\nmem_queue: 10\n");
  auto [code, err] = runNsqdToExit({"--config", dir.file("bad.yaml"), "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("bad.yaml:3: unknown key \"mem_queue\""), std::string::npos) << err;
}

TEST(NsqdConfig, BadYamlValueAndSyntaxAreReportedWithTheirLine) {
  TempDir dir;
  writeFile(dir.file("v.yaml"), "msg_timeout: soon\n");
  auto [code, err] = runNsqdToExit({"--config", dir.file("v.yaml"), "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("v.yaml:1: key \"msg_timeout\""), std::string::npos) << err;
  writeFile(dir.file("s.yaml"), "a: [1, 2\n");
  std::tie(code, err) = runNsqdToExit({"--config", dir.file("s.yaml"), "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("s.yaml:"), std::string::npos) << err;
}

TEST(NsqdConfig, BadFlagIsNamed) {
  auto [code, err] = runNsqdToExit({"--mem-queue-size=lots"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("--mem-queue-size"), std::string::npos) << err;
  std::tie(code, err) = runNsqdToExit({"--no-such-flag=1"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("no-such-flag"), std::string::npos) << err;
}

TEST(NsqdConfig, FlagWinsOverFileWhichWinsOverDefault) {
  TempDir dir;
  // File sets max_msg_size 10 and max_rdy_count 7; the flag overrides max_msg_size to 20.
  writeFile(dir.file("c.yaml"), "max_msg_size: 10\nmax_rdy_count: 7\n");
  NsqdProcess nsqd({"--config", dir.file("c.yaml"), "-max-msg-size", "20"});
  V2Client c(nsqd.tcpPort());
  std::string resp = c.identify(R"({"feature_negotiation":true})");
  EXPECT_NE(resp.find("\"max_rdy_count\":7"), std::string::npos) << resp;
  EXPECT_EQ(c.pub("cfg", std::string(20, 'x')), "OK");
  c.commandWithBody("PUB cfg", std::string(21, 'x'));
  TestFrame f = c.readFrame();
  EXPECT_EQ(f.type, FrameType::Error);
  EXPECT_EQ(f.data.substr(0, 13), "E_BAD_MESSAGE") << f.data;
}

TEST(NsqdConfig, UnreadableTlsCertificateStopsStartupNamingIt) {
  TempDir dir;
  auto [code, err] = runNsqdToExit({"--tls-cert=/nonexistent.pem", "--tls-key=/nonexistent.key",
                                "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("/nonexistent.pem"), std::string::npos) << err;
}

TEST(NsqdConfig, HelpAndVersionExitZero) {
  auto [code, err] = runNsqdToExit({"--version"});
  EXPECT_EQ(code, 0) << err;
  std::tie(code, err) = runNsqdToExit({"-help"});
  EXPECT_EQ(code, 0) << err;
}

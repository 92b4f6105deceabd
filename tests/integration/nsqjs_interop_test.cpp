// Interop: nsqjs (a third-party NSQ client from npm, installed by scripts/test) publishes and
// consumes through our nsqd, plain and with each compression it negotiates. The node script checks every message arrives, MPUB, DPUB, REQ
// (attempts counted) and TOUCH; this test runs it and requires success.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "support/nsqd_process.h"

using namespace nsq::test;

class NsqjsInterop : public ::testing::TestWithParam<const char*> {};

// plain, deflate (nsqjs' zlib raw deflate) and snappy (nsqjs' snappystream framing).
TEST_P(NsqjsInterop, PublishesAndConsumesThroughNsqd) {
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/interop";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/nsqjs"))
      << "nsqjs is not installed: run scripts/test (it runs npm install in tests/interop)";
  NsqdProcess nsqd;
  TempDir logs;
  Process node("/usr/bin/env",
               {"node", dir + "/nsqjs_roundtrip.js", std::to_string(nsqd.tcpPort()), "interop", "500", GetParam()},
               logs.path());
  int status = -1;
  for (int i = 0; i < 400 && node.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  status = node.stop(9, std::chrono::seconds(1));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "node stdout: " << node.stdoutText() << "\nnode stderr: " << node.stderrText()
      << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(node.stdoutText().find("OK 501 messages"), std::string::npos) << node.stdoutText();
}

INSTANTIATE_TEST_SUITE_P(Compression, NsqjsInterop, ::testing::Values("plain", "deflate", "snappy"));

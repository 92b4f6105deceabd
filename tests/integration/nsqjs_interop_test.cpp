// Interop: nsqjs (a third-party NSQ client from npm, installed by scripts/test) publishes and
// consumes through our nsqd, plain and with each compression it negotiates, with and without TLS. The node script checks every message arrives, MPUB, DPUB, REQ
// (attempts counted) and TOUCH; this test runs it and requires success.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "support/nsqd_process.h"
#include "support/tls_client.h"

using namespace nsq::test;

namespace {

// Runs the node script against nsqd and requires success.
void runRoundtrip(NsqdProcess& nsqd, const std::string& compression, const std::string& security) {
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/interop";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/nsqjs"))
      << "nsqjs is not installed: run scripts/test (it runs npm install in tests/interop)";
  TempDir logs;
  Process node("/usr/bin/env",
               {"node", dir + "/nsqjs_roundtrip.js", std::to_string(nsqd.tcpPort()), "interop", "500",
                compression, security},
               logs.path());
  int status = -1;
  for (int i = 0; i < 400 && node.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  status = node.stop(9, std::chrono::seconds(1));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "node stdout: " << node.stdoutText() << "\nnode stderr: " << node.stderrText()
      << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(node.stdoutText().find("OK 501 messages"), std::string::npos) << node.stdoutText();
}

}  // namespace

class NsqjsInterop : public ::testing::TestWithParam<const char*> {};

// plain, deflate (nsqjs' zlib raw deflate) and snappy (nsqjs' snappystream framing).
TEST_P(NsqjsInterop, PublishesAndConsumesThroughNsqd) {
  NsqdProcess nsqd;
  runRoundtrip(nsqd, GetParam(), "none");
}

INSTANTIATE_TEST_SUITE_P(Compression, NsqjsInterop, ::testing::Values("plain", "deflate", "snappy"));

// nsqjs with tls: true (tlsVerification: false) against throwaway certificates; --tls-required
// proves every connection really upgraded. Compression then sits on top of TLS.
class NsqjsTlsInterop : public ::testing::TestWithParam<const char*> {};

TEST_P(NsqjsTlsInterop, PublishesAndConsumesOverTls) {
  TempDir certDir;
  auto certs = makeTestCerts(certDir.path());
  NsqdProcess nsqd({"--tls-cert=" + certs.serverCert, "--tls-key=" + certs.serverKey, "--tls-required"});
  runRoundtrip(nsqd, GetParam(), "tls");
}

INSTANTIATE_TEST_SUITE_P(Compression, NsqjsTlsInterop, ::testing::Values("plain", "deflate", "snappy"));

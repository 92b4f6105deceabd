// Interop: nsqjs (a third-party NSQ client from npm, installed by scripts/test) publishes and
// consumes through our nsqd, plain and with each compression it negotiates, with and without TLS. The node script checks every message arrives, MPUB, DPUB, REQ
// (attempts counted) and TOUCH; this test runs it and requires success.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "support/fake_auth_server.h"
#include "support/nsqd_process.h"
#include "support/tls_client.h"

using namespace nsq::test;

namespace {

// Runs the node script against nsqd and requires success.
void runRoundtrip(NsqdProcess& nsqd, const std::string& compression, const std::string& security,
                  const std::string& authSecret = "") {
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/interop";
  ASSERT_TRUE(std::filesystem::exists(dir + "/node_modules/nsqjs"))
      << "nsqjs is not installed: run scripts/test (it runs npm install in tests/interop)";
  TempDir logs;
  Process node("/usr/bin/env",
               {"node", dir + "/nsqjs_roundtrip.js", std::to_string(nsqd.tcpPort()), "interop", "500",
                compression, security, authSecret},
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

// nsqjs with authSecret against an auth server: the right secret publishes (PUB, MPUB, DPUB) and
// consumes through AUTH; a refused one surfaces nsqd's error as the Writer's 'error' event.
TEST(NsqjsAuthInterop, RightSecretPublishesAndConsumes) {
  FakeAuthServer server;
  server.set("good-token", FakeAuthServer::grant("^interop$", R"([".*"])", R"(["subscribe","publish"])"));
  NsqdProcess nsqd({"--auth-http-address=" + server.address()});
  runRoundtrip(nsqd, "plain", "none", "good-token");
  std::size_t asked = 0;
  for (const auto& r : server.requests()) asked += r.fields.at("secret") == "good-token";
  EXPECT_GE(asked, 2u) << "the Writer and the Reader each AUTH";
  EXPECT_EQ(server.count(), asked);
}

TEST(NsqjsAuthInterop, WrongSecretFailsWithTheErrorSurfaced) {
  FakeAuthServer server;
  server.set("good-token", FakeAuthServer::grant("^interop$", R"([".*"])", R"(["subscribe","publish"])"));
  server.set("read-only", FakeAuthServer::grant("^interop$", R"([".*"])", R"(["subscribe"])"));
  NsqdProcess nsqd({"--auth-http-address=" + server.address()});
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/interop";
  for (const char* secret : {"wrong-token", "read-only"}) {
    TempDir logs;
    Process node("/usr/bin/env", {"node", dir + "/nsqjs_auth_refused.js", std::to_string(nsqd.tcpPort()), "interop", secret},
                 logs.path());
    int status = node.stop(0, std::chrono::seconds(30));  // signal 0: wait for it to exit
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << secret << "\nnode stdout: " << node.stdoutText() << "\nnode stderr: " << node.stderrText();
    std::string expected = std::string(secret) == "wrong-token" ? "REFUSED E_AUTH_FAILED AUTH failed"
                                                                : "REFUSED E_UNAUTHORIZED AUTH failed for PUB on \"interop\" \"\"";
    EXPECT_NE(node.stdoutText().find(expected), std::string::npos) << node.stdoutText();
  }
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  EXPECT_EQ(stats.body.find("\"topic_name\":\"interop\""), std::string::npos) << "a refused publish created the topic";
}

// Interop: nsqjs (a third-party NSQ client from npm, installed by scripts/test) publishes and
// consumes through our nsqd, plain and with each compression it negotiates, with and without
// TLS. The node script checks every message arrives, MPUB, DPUB, REQ (attempts counted) and
// TOUCH; this test runs it and requires success. nsqjs_failures.js then drives nsqjs into
// failures (untrusted certificate, deflate level over the maximum, both compressions) and
// checks what it surfaces and that nsqd still serves a good client afterwards. With an auth server,
// nsqjs authenticates with authSecret, and a refused secret surfaces nsqd's error.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "support/fake_auth_server.h"
#include "support/node_script.h"
#include "support/nsqd_process.h"
#include "support/tls_client.h"
#include "support/v2_client.h"

using namespace nsq::test;

namespace {

NodeResult runNode(const std::string& script, const std::vector<std::string>& args) {
  return runNodeScript("nsqjs", script, args);
}

// Runs the round-trip script against nsqd and requires success.
void runRoundtrip(NsqdProcess& nsqd, const std::string& compression, const std::string& security,
                  const std::string& authSecret = "") {
  auto r = runNode("nsqjs_roundtrip.js",
                   {std::to_string(nsqd.tcpPort()), "interop", "500", compression, security, authSecret});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("OK 501 messages"), std::string::npos) << r.out;
}

// Runs one case of the failure script; requires that it saw the failure and that nsqd then
// served a good client. Returns what nsqjs surfaced.
std::string runFailure(NsqdProcess& nsqd, const std::vector<std::string>& caseArgs) {
  std::vector<std::string> args = {std::to_string(nsqd.tcpPort())};
  args.insert(args.end(), caseArgs.begin(), caseArgs.end());
  auto r = runNode("nsqjs_failures.js", args);
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("\nGOOD: "), std::string::npos) << r.out;
  EXPECT_TRUE(nsqd.process().running());
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/ping").body, "OK");
  auto start = r.out.find("SURFACED: ");
  if (start == std::string::npos) return "";
  start += 10;
  return r.out.substr(start, r.out.find('\n', start) - start);
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
  for (const char* secret : {"wrong-token", "read-only"}) {
    auto r = runNode("nsqjs_refused.js", {std::to_string(nsqd.tcpPort()), "interop", "^E_(AUTH_FAILED|UNAUTHORIZED) ", secret});
    EXPECT_TRUE(r.ok) << secret << "\nnode stdout: " << r.out << "\nnode stderr: " << r.err;
    std::string expected = std::string(secret) == "wrong-token" ? "REFUSED E_AUTH_FAILED AUTH failed"
                                                                : "REFUSED E_UNAUTHORIZED AUTH failed for PUB on \"interop\" \"\"";
    EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
  }
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  EXPECT_EQ(stats.body.find("\"topic_name\":\"interop\""), std::string::npos) << "a refused publish created the topic";
}

// Issue 18: past --tcp-max-connections nsqd answers E_TOO_MANY_CONNECTIONS and closes. nsqjs
// surfaces it as an 'error' event (it reads the frame as the answer to its IDENTIFY), and the
// connection that holds the one slot is still served.
TEST(NsqjsFailures, ConnectionPastTheLimitSurfacesTooManyConnections) {
  NsqdProcess nsqd({"--tcp-max-connections=1"});
  // The start-up port probe may hold the slot for a moment: retry until a client is served.
  std::unique_ptr<V2Client> held;
  for (int i = 0; i < 50 && !held; ++i) {
    try {
      auto c = std::make_unique<V2Client>(nsqd.tcpPort());
      if (c->pub("held", "x") == "OK") held = std::move(c);
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_TRUE(held) << nsqd.logs();
  auto r = runNode("nsqjs_refused.js", {std::to_string(nsqd.tcpPort()), "interop", "^E_TOO_MANY_CONNECTIONS "});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err;
  EXPECT_NE(r.out.find("REFUSED E_TOO_MANY_CONNECTIONS"), std::string::npos) << r.out;
  EXPECT_EQ(held->pub("held", "y"), "OK");
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  EXPECT_EQ(stats.body.find("\"topic_name\":\"interop\""), std::string::npos) << "a refused client published";
}

// nsqjs verifying the server against a CA that did not sign nsqd's certificate: the TLS
// handshake fails on the client with Node's reason, and nsqd goes on serving clients that
// trust the right CA.
TEST(NsqjsFailures, UntrustedServerCertificate) {
  TempDir certDir;
  auto certs = makeTestCerts(certDir.path());
  NsqdProcess nsqd({"--tls-cert=" + certs.serverCert, "--tls-key=" + certs.serverKey, "--tls-required=tcp-https"});
  std::string surfaced = runFailure(nsqd, {"badcert", certs.strangerCert, certs.caCert});
  EXPECT_NE(surfaced.find("unable to verify the first certificate"), std::string::npos) << surfaced;
}

// NSQ-COMPAT §1.5: deflate_level above --max-deflate-level is clamped, not refused. nsqjs
// asks for 9, the IDENTIFY reply says 2, and nsqjs compresses at 2 from then on.
TEST(NsqjsFailures, DeflateLevelAboveTheMaximumIsClamped) {
  NsqdProcess nsqd({"--max-deflate-level=2"});
  std::string surfaced = runFailure(nsqd, {"deflatelevel", "9"});
  EXPECT_EQ(surfaced, "deflate=true deflate_level=2 max_deflate_level=2");
}

// NSQ-COMPAT §1.6 and §1.10: both compressions granted -> fatal E_IDENTIFY_FAILED with the
// original's text, which nsqjs surfaces as its error; the connection closes, others go on.
TEST(NsqjsFailures, SnappyAndDeflateAtOnce) {
  NsqdProcess nsqd;
  std::string surfaced = runFailure(nsqd, {"bothcompressions"});
  EXPECT_EQ(surfaced, "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
}

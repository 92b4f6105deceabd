// End-to-end TLS: the upgrade after IDENTIFY (alone and under compression), --tls-required on
// TCP and HTTP, client certificate policies, HTTPS, and the startup checks. Each test makes its
// own throwaway CA and certificates.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <thread>

#include "support/nsqd_process.h"
#include "support/tls_client.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> tlsArgs(const TestCerts& c, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--tls-cert=" + c.serverCert, "--tls-key=" + c.serverKey};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// IDENTIFY with tls_v1, handshake, then the OK that must arrive over TLS.
void upgrade(TlsV2Client& c, const TestCerts& certs, const std::string& extra = "") {
  std::string json = c.identifyPlain("{\"feature_negotiation\":true,\"tls_v1\":true" + extra + "}");
  ASSERT_NE(json.find("\"tls_v1\":true"), std::string::npos) << json;
  std::string err;
  ASSERT_TRUE(c.startTls({certs.caCert, certs.clientCert, certs.clientKey}, &err)) << err;
  ASSERT_EQ(c.expectResponse(), "OK");
}

}  // namespace

TEST(NsqdTls, UpgradeAfterIdentifyThenPublishAndConsume) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs));
  TlsV2Client producer(nsqd.tcpPort());
  upgrade(producer, certs);
  ASSERT_EQ(producer.pub("secure", "hello over tls"), "OK");
  TlsV2Client consumer(nsqd.tcpPort());
  upgrade(consumer, certs);
  ASSERT_EQ(consumer.sub("secure", "c"), "OK");
  consumer.rdy(1);
  EXPECT_EQ(consumer.readMessage().body.view(), "hello over tls");

  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  EXPECT_NE(stats.body.find("\"tls\":true"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find("\"tls_version\":\"TLS1."), std::string::npos) << stats.body;
  EXPECT_EQ(stats.body.find("\"tls_cipher_suite\":\"\""), std::string::npos) << stats.body;
}

TEST(NsqdTls, NotGrantedWithoutCertificate) {
  NsqdProcess nsqd;
  V2Client c(nsqd.tcpPort());
  std::string json = c.identify("{\"feature_negotiation\":true,\"tls_v1\":true}");
  EXPECT_NE(json.find("\"tls_v1\":false"), std::string::npos) << json;
  EXPECT_EQ(c.pub("plain", "x"), "OK");  // still a plain connection
}

TEST(NsqdTls, CompressionSitsOnTopOfTls) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs));
  for (bool deflate : {false, true}) {
    SCOPED_TRACE(deflate ? "deflate" : "snappy");
    std::string topic = deflate ? "tls_deflate" : "tls_snappy";
    TlsV2Client c(nsqd.tcpPort());
    upgrade(c, certs, deflate ? ",\"deflate\":true,\"deflate_level\":3" : ",\"snappy\":true");
    c.startCompression(deflate, 3);
    ASSERT_EQ(c.expectResponse(), "OK");  // the compressed OK
    ASSERT_EQ(c.pub(topic, std::string(5000, 'z')), "OK");
    ASSERT_EQ(c.sub(topic, "c"), "OK");
    c.rdy(1);
    EXPECT_EQ(c.readMessage().body.view(), std::string(5000, 'z'));
  }
}

TEST(NsqdTls, CommandsPipelinedAfterIdentifyAreTlsRecords) {
  // The handshake must not be disturbed by the client writing right after its ClientHello;
  // here the client sends PUB immediately after the handshake, before reading the OK.
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs));
  TlsV2Client c(nsqd.tcpPort());
  std::string json = c.identifyPlain("{\"feature_negotiation\":true,\"tls_v1\":true}");
  std::string err;
  ASSERT_TRUE(c.startTls({certs.caCert, "", ""}, &err)) << err;
  c.commandWithBody("PUB piped", "x");
  EXPECT_EQ(c.expectResponse(), "OK");
  EXPECT_EQ(c.expectResponse(), "OK");
}

TEST(NsqdTls, TlsRequiredRefusesPlainCommandsWithTheOriginalsError) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs, {"--tls-required"}));
  {
    V2Client c(nsqd.tcpPort());
    c.commandWithBody("PUB t", "x");
    auto f = c.readFrame();
    EXPECT_EQ(f.type, FrameType::Error);
    EXPECT_EQ(f.data, "E_INVALID cannot PUB in current state (TLS required)");
  }
  {
    V2Client c(nsqd.tcpPort());
    EXPECT_EQ(c.identify("{\"client_id\":\"x\"}"), "OK");  // IDENTIFY itself is allowed
    c.command("SUB t c");
    auto f = c.readFrame();
    EXPECT_EQ(f.data, "E_INVALID cannot SUB in current state (TLS required)");
  }
  TlsV2Client ok(nsqd.tcpPort());
  upgrade(ok, certs);
  EXPECT_EQ(ok.pub("t", "x"), "OK");
}

TEST(NsqdTls, RequireVerifyRejectsClientsWithoutATrustedCertificate) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs, {"--tls-client-auth-policy=require-verify", "--tls-root-ca-file=" + certs.caCert}));
  auto rejected = [&](const TlsClientOptions& opts) {
    TlsV2Client c(nsqd.tcpPort());
    c.identifyPlain("{\"feature_negotiation\":true,\"tls_v1\":true}");
    std::string err;
    if (!c.startTls(opts, &err)) return true;
    try {
      c.expectResponse();  // TLS 1.3: the client learns of the rejection on its first read
      return false;
    } catch (const std::exception&) {
      return true;
    }
  };
  EXPECT_TRUE(rejected({certs.caCert, "", ""}));
  EXPECT_TRUE(rejected({certs.caCert, certs.strangerCert, certs.strangerKey}));
  EXPECT_FALSE(rejected({certs.caCert, certs.clientCert, certs.clientKey}));
  // The policy implies --tls-required.
  V2Client plain(nsqd.tcpPort());
  plain.commandWithBody("PUB t", "x");
  EXPECT_EQ(plain.readFrame().data, "E_INVALID cannot PUB in current state (TLS required)");
}

TEST(NsqdTls, RequireAcceptsAnyClientCertificate) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs, {"--tls-client-auth-policy=require"}));
  TlsV2Client c(nsqd.tcpPort());
  c.identifyPlain("{\"feature_negotiation\":true,\"tls_v1\":true}");
  std::string err;
  ASSERT_TRUE(c.startTls({certs.caCert, certs.strangerCert, certs.strangerKey}, &err)) << err;
  EXPECT_EQ(c.expectResponse(), "OK");
}

TEST(NsqdTls, HttpsServesTheApiAndPlainHttpAnswersTlsRequired) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  int httpsPort = freePort();
  NsqdProcess nsqd(tlsArgs(certs, {"--https-address=127.0.0.1:" + std::to_string(httpsPort), "--tls-required=true"}));
  ASSERT_TRUE(waitForPort(httpsPort));
  auto ping = httpsRequest(httpsPort, "GET", "/ping", certs.caCert);
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "OK");
  auto pub = httpsRequest(httpsPort, "POST", "/pub?topic=over_https", certs.caCert, "body");
  EXPECT_EQ(pub.status, 200);
  EXPECT_EQ(pub.body, "OK");
  auto plain = httpRequest(nsqd.httpPort(), "GET", "/ping");
  EXPECT_EQ(plain.status, 403);
  EXPECT_EQ(plain.body, "{\"message\": \"TLS_REQUIRED\", \"https_port\": " + std::to_string(httpsPort) + "}");
}

TEST(NsqdTls, TcpHttpsLeavesPlainHttpOpen) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs, {"--https-address=127.0.0.1:" + std::to_string(freePort()), "--tls-required=tcp-https"}));
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/ping").status, 200);
  V2Client c(nsqd.tcpPort());
  c.commandWithBody("PUB t", "x");
  EXPECT_EQ(c.readFrame().data, "E_INVALID cannot PUB in current state (TLS required)");
}

TEST(NsqdTls, MinVersionTls13) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(tlsArgs(certs, {"--tls-min-version=tls1.3"}));
  TlsV2Client c(nsqd.tcpPort());
  upgrade(c, certs);
  ASSERT_EQ(c.sub("t13", "c"), "OK");  // /stats lists subscribed clients
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  EXPECT_NE(stats.body.find("\"tls_version\":\"TLS1.3\""), std::string::npos) << stats.body;
}

TEST(NsqdTls, StartupFailsClearly) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  std::string data = "--data-path=" + dir.path();
  auto expectFailure = [&](std::vector<std::string> args, const std::string& text) {
    args.push_back(data);
    auto [code, err] = runNsqdToExit(args);
    EXPECT_EQ(code, 1) << err;
    EXPECT_NE(err.find(text), std::string::npos) << err;
  };
  expectFailure({"--tls-required"}, "cannot require TLS client connections without TLS key and cert");
  expectFailure({"--tls-client-auth-policy=require"}, "cannot require TLS client connections without TLS key and cert");
  expectFailure({"--tls-cert=" + dir.path() + "/missing.pem", "--tls-key=" + certs.serverKey}, "missing.pem");
  expectFailure({"--tls-cert=" + certs.serverCert, "--tls-key=" + certs.caCert}, "failed to build TLS config");
  expectFailure(tlsArgs(certs, {"--tls-client-auth-policy=maybe"}), "--tls-client-auth-policy");
  expectFailure(tlsArgs(certs, {"--tls-min-version=ssl3.0"}), "--tls-min-version");
  expectFailure(tlsArgs(certs, {"--tls-required=sometimes"}), "--tls-required");
}

// Client-side TLS (lib/nsq/tls.h and Connection's upgrade) against the real nsqd with
// --tls-required: Producer and Consumer over TLS alone and under snappy and deflate, server
// verification (untrusted CA, wrong host name, insecure_skip_verify), client certificates
// under require-verify, a refused upgrade, and the option and file checks. Every test makes
// its own throwaway CA and certificates.
#include "nsq/net/tls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "nsq/client/connection.h"
#include "nsq/client/consumer.h"
#include "nsq/client/producer.h"
#include "support/nsqd_process.h"
#include "support/tls_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

std::string addr(NsqdProcess& n) { return "127.0.0.1:" + std::to_string(n.tcpPort()); }

std::vector<std::string> serverArgs(const TestCerts& c, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--tls-cert=" + c.serverCert, "--tls-key=" + c.serverKey, "--tls-required=tcp-https"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

ConnectionConfig tlsConfig(const std::string& caFile) {
  ConnectionConfig cfg;
  cfg.tlsV1 = true;
  cfg.tls.rootCaFile = caFile;
  cfg.dialTimeout = 5s;
  cfg.readTimeout = 5s;
  return cfg;
}

// What Producer::connect() says, or "" when it connected.
std::string connectError(const std::string& address, const ConnectionConfig& cfg) {
  Producer p(address, cfg);
  try {
    p.connect();
  } catch (const ConnectionError& e) {
    return e.what();
  }
  return "";
}

// Publishes n messages with one Producer and reads them back with a Consumer, both using cfg.
void roundTrip(NsqdProcess& nsqd, const ConnectionConfig& cfg, const std::string& topic, int n,
               const std::string& statKey = "") {
  Producer producer(addr(nsqd), cfg);
  std::vector<std::string> batch;
  for (int i = 0; i < n; ++i) batch.push_back("m" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7) * 40, 'x'));
  ASSERT_TRUE(producer.multiPublish(topic, std::vector<std::string>(batch.begin(), batch.begin() + n / 2)).ok());
  for (int i = n / 2; i < n; ++i) ASSERT_TRUE(producer.publish(topic, batch[static_cast<std::size_t>(i)]).ok());
  std::mutex mu;
  std::multiset<std::string> got;
  ConsumerConfig ccfg;
  ccfg.conn = cfg;
  ccfg.maxInFlight = 50;
  Consumer consumer(topic, "c", ccfg, [&](const DeliveryPtr& d) {
    std::lock_guard lock(mu);
    got.insert(std::string(d->body()));
    return HandlerResult::Finish;
  });
  consumer.connectToNsqd(addr(nsqd));
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return got.size() >= static_cast<std::size_t>(n);
  }));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(got, std::multiset<std::string>(batch.begin(), batch.end()));
  }
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=" + topic).body;
  EXPECT_NE(stats.find("\"tls\":true"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("\"tls\":false"), std::string::npos) << stats;
  if (!statKey.empty()) {
    EXPECT_NE(stats.find("\"" + statKey + "\":true"), std::string::npos) << stats;
  }
  consumer.stop();
  consumer.waitStopped();
}

}  // namespace

TEST(ClientTls, ProducerAndConsumerOverTlsAloneAndUnderCompression) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(serverArgs(certs));
  {
    SCOPED_TRACE("tls");
    roundTrip(nsqd, tlsConfig(certs.caCert), "tls_plain", 200);
  }
  {
    SCOPED_TRACE("tls+snappy");
    auto cfg = tlsConfig(certs.caCert);
    cfg.snappy = true;
    roundTrip(nsqd, cfg, "tls_snappy", 200, "snappy");
  }
  {
    SCOPED_TRACE("tls+deflate");
    auto cfg = tlsConfig(certs.caCert);
    cfg.deflate = true;
    cfg.deflateLevel = 3;
    roundTrip(nsqd, cfg, "tls_deflate", 200, "deflate");
  }
}

TEST(ClientTls, LargeMessagesCrossManyRecords) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(serverArgs(certs));
  auto cfg = tlsConfig(certs.caCert);
  Producer producer(addr(nsqd), cfg);
  std::string big(900 * 1024, 'b');  // ~56 TLS records each way
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(producer.publish("big", big + std::to_string(i)).ok());
  std::atomic<int> got{0};
  ConsumerConfig ccfg;
  ccfg.conn = cfg;
  Consumer consumer("big", "c", ccfg, [&](const DeliveryPtr& d) {
    if (d->body().size() == big.size() + 1 && d->body().substr(0, big.size()) == big) ++got;
    return HandlerResult::Finish;
  });
  consumer.connectToNsqd(addr(nsqd));
  EXPECT_TRUE(eventually([&] { return got == 3; }));
  consumer.stop();
  consumer.waitStopped();
}

TEST(ClientTls, UntrustedServerCertificateFailsAndNsqdServesOthers) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(serverArgs(certs));
  std::string err = connectError(addr(nsqd), tlsConfig(certs.strangerCert));  // a CA that signed nothing here
  EXPECT_NE(err.find(addr(nsqd) + ": TLS handshake failed"), std::string::npos) << err;
  EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
  // The system's CAs do not know the throwaway CA either.
  err = connectError(addr(nsqd), tlsConfig(""));
  EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
  EXPECT_EQ(connectError(addr(nsqd), tlsConfig(certs.caCert)), "");
  Producer good(addr(nsqd), tlsConfig(certs.caCert));
  EXPECT_TRUE(good.publish("t", "still serving").ok());
}

TEST(ClientTls, CertificateMustNameTheHost) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  auto elsewhere = makeServerCert(dir.path(), "elsewhere", "DNS:elsewhere.example");
  NsqdProcess nsqd({"--tls-cert=" + elsewhere.cert, "--tls-key=" + elsewhere.key, "--tls-required"});
  std::string err = connectError(addr(nsqd), tlsConfig(certs.caCert));
  EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
  EXPECT_NE(err.find("mismatch"), std::string::npos) << err;  // "IP address mismatch"
  auto insecure = tlsConfig(certs.caCert);
  insecure.tls.insecureSkipVerify = true;
  EXPECT_EQ(connectError(addr(nsqd), insecure), "");
}

TEST(ClientTls, InsecureSkipVerifyAcceptsAnyCertificate) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(serverArgs(certs));
  auto cfg = tlsConfig("");
  cfg.tls.insecureSkipVerify = true;
  Producer p(addr(nsqd), cfg);
  EXPECT_TRUE(p.publish("t", "x").ok());
}

TEST(ClientTls, ClientCertificateUnderRequireVerify) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd(serverArgs(certs, {"--tls-client-auth-policy=require-verify", "--tls-root-ca-file=" + certs.caCert}));
  auto withCert = tlsConfig(certs.caCert);
  withCert.tls.certFile = certs.clientCert;
  withCert.tls.keyFile = certs.clientKey;
  roundTrip(nsqd, withCert, "mutual", 20);

  // Without a certificate, or with one nsqd's CA did not sign, nsqd ends the session; under
  // TLS 1.3 the client learns it from the alert that follows its finished handshake.
  for (bool stranger : {false, true}) {
    SCOPED_TRACE(stranger ? "stranger certificate" : "no certificate");
    auto cfg = tlsConfig(certs.caCert);
    if (stranger) {
      cfg.tls.certFile = certs.strangerCert;
      cfg.tls.keyFile = certs.strangerKey;
    }
    std::string err = connectError(addr(nsqd), cfg);
    EXPECT_NE(err.find(addr(nsqd)), std::string::npos) << err;
    EXPECT_NE(err.find(stranger ? "unknown ca" : "certificate required"), std::string::npos) << err;
  }
  Producer good(addr(nsqd), withCert);
  EXPECT_TRUE(good.publish("mutual", "after the refusals").ok());
}

TEST(ClientTls, MinimumVersionOptionWorksWithATls13OnlyNsqd) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess nsqd({"--tls-cert=" + certs.serverCert, "--tls-key=" + certs.serverKey, "--tls-required",
                    "--tls-min-version=tls1.3"});
  auto cfg = tlsConfig(certs.caCert);
  ASSERT_EQ(applyConnectionOption(cfg, "tls_min_version", "tls1.3"), "");
  EXPECT_EQ(connectError(addr(nsqd), cfg), "");
}

TEST(ClientTls, UngrantedUpgradeFailsRatherThanGoOnInTheClear) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  NsqdProcess plain;  // no certificate: IDENTIFY answers tls_v1:false
  std::string err = connectError(addr(plain), tlsConfig(certs.caCert));
  EXPECT_NE(err.find("nsqd did not grant TLS"), std::string::npos) << err;
}

TEST(ClientTlsOptions, GoNsqNamesAndChecks) {
  ConnectionConfig cfg;
  EXPECT_EQ(applyConnectionOption(cfg, "tls_v1", "true"), "");
  EXPECT_EQ(applyConnectionOption(cfg, "tls_root_ca_file", "/x/ca.pem"), "");
  EXPECT_EQ(applyConnectionOption(cfg, "tls_insecure_skip_verify", "true"), "");
  EXPECT_EQ(applyConnectionOption(cfg, "tls_cert", "/x/c.pem"), "");
  EXPECT_EQ(applyConnectionOption(cfg, "tls_key", "/x/c.key"), "");
  EXPECT_EQ(applyConnectionOption(cfg, "tls_min_version", "tls1.2"), "");
  EXPECT_TRUE(cfg.tlsV1);
  EXPECT_EQ(cfg.tls.rootCaFile, "/x/ca.pem");
  EXPECT_TRUE(cfg.tls.insecureSkipVerify);
  EXPECT_EQ(cfg.tls.certFile, "/x/c.pem");
  EXPECT_EQ(cfg.tls.keyFile, "/x/c.key");
  EXPECT_EQ(cfg.tls.minVersion, "tls1.2");
  EXPECT_NE(applyConnectionOption(cfg, "tls_min_version", "tls9"), "");
  EXPECT_NE(applyConnectionOption(cfg, "tls_insecure_skip_verify", "maybe"), "");
  EXPECT_EQ(validateConnectionConfig(ConnectionConfig{}), "");  // nothing asked for
}

TEST(ClientTlsOptions, FilesThatCannotBeUsedAreNamed) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  std::ofstream(dir.file("junk.pem")) << "not a certificate\n";
  auto check = [](const std::string& ca, const std::string& cert, const std::string& key) {
    ConnectionConfig cfg;
    cfg.tls.rootCaFile = ca;
    cfg.tls.certFile = cert;
    cfg.tls.keyFile = key;
    return validateConnectionConfig(cfg);
  };
  std::string err = check(dir.file("missing.pem"), "", "");
  EXPECT_NE(err.find("tls_root_ca_file " + dir.file("missing.pem") + ": cannot read file"), std::string::npos) << err;
  err = check(dir.file("junk.pem"), "", "");
  EXPECT_NE(err.find("tls_root_ca_file"), std::string::npos) << err;
  err = check("", certs.clientCert, "");
  EXPECT_NE(err.find("tls_cert and tls_key must be given together"), std::string::npos) << err;
  err = check("", certs.clientCert, certs.serverKey);
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  err = check("", dir.file("junk.pem"), certs.clientKey);
  EXPECT_NE(err.find("tls_cert"), std::string::npos) << err;
  EXPECT_EQ(check(certs.caCert, certs.clientCert, certs.clientKey), "");
}

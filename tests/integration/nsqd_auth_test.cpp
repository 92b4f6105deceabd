// End-to-end tests of authorization (NSQ-COMPAT 1.8): the real nsqd with --auth-http-address
// pointing at FakeAuthServer, a POCO HTTP server in this process that answers per secret and
// records every request (tests/support/fake_auth_server.h), so each test sees exactly what
// nsqd asked and when.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <Poco/JSON/Parser.h>

#include <chrono>
#include <set>
#include <thread>

#include "support/fake_auth_server.h"
#include "support/nsqd_process.h"
#include "support/tls_client.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

const std::string kAll = FakeAuthServer::grant(".*", R"([".*"])", R"(["subscribe","publish"])");
using G = FakeAuthServer;

std::string expectError(V2Client& c, const std::string& text) {
  TestFrame f = c.readFrame();
  EXPECT_EQ(f.type, FrameType::Error) << f.data;
  EXPECT_EQ(f.data, text);
  return f.data;
}

std::string auth(V2Client& c, const std::string& secret) {
  c.commandWithBody("AUTH", secret);
  return c.readFrame().data;
}

// A connection that has passed AUTH with secret.
std::unique_ptr<V2Client> authed(NsqdProcess& nsqd, const std::string& secret) {
  auto c = std::make_unique<V2Client>(nsqd.tcpPort());
  std::string reply = auth(*c, secret);
  EXPECT_EQ(reply.substr(0, 12), "{\"identity\":") << reply;
  return c;
}

Poco::JSON::Object::Ptr statsJson(NsqdProcess& nsqd) {
  auto r = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json");
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

std::vector<std::string> args(const FakeAuthServer& server, std::vector<std::string> more = {}) {
  more.push_back("--auth-http-address=" + server.address());
  more.push_back("--http-client-request-timeout=2s");
  return more;
}

}  // namespace

TEST(NsqdAuth, IdentifySaysAuthRequiredAndConfigListsTheServers) {
  FakeAuthServer a, b;
  NsqdProcess nsqd({"--auth-http-address=" + a.address() + "," + b.address()});
  V2Client c(nsqd.tcpPort());
  auto obj = Poco::JSON::Parser()
                 .parse(c.identify(R"({"feature_negotiation":true})"))
                 .extract<Poco::JSON::Object::Ptr>();
  EXPECT_TRUE(obj->getValue<bool>("auth_required"));
  auto r = httpRequest(nsqd.httpPort(), "GET", "/config/auth_http_addresses");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[\"" + a.address() + "\",\"" + b.address() + "\"]");
}

TEST(NsqdAuth, AuthWithoutServersIsDisabled) {
  NsqdProcess nsqd;
  V2Client c(nsqd.tcpPort());
  auto obj = Poco::JSON::Parser()
                 .parse(c.identify(R"({"feature_negotiation":true})"))
                 .extract<Poco::JSON::Object::Ptr>();
  EXPECT_FALSE(obj->getValue<bool>("auth_required"));
  c.commandWithBody("AUTH", "secret");
  expectError(c, "E_AUTH_DISABLED AUTH disabled");
  EXPECT_TRUE(c.tcp().waitClosed());
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/config/auth_http_addresses").body, "[]");
}

TEST(NsqdAuth, EveryPublishAndSubNeedsAuthFirst) {
  FakeAuthServer server;
  NsqdProcess nsqd(args(server));
  struct Case {
    std::function<void(V2Client&)> send;
    std::string error;
  };
  std::vector<Case> cases = {
      {[](V2Client& c) { c.command("SUB t c"); }, "E_AUTH_FIRST AUTH required before SUB"},
      {[](V2Client& c) { c.commandWithBody("PUB t", "x"); }, "E_AUTH_FIRST AUTH required before PUB"},
      {[](V2Client& c) { c.commandWithBody("MPUB t", V2Client::mpubBody({"x"})); }, "E_AUTH_FIRST AUTH required before MPUB"},
      {[](V2Client& c) { c.commandWithBody("DPUB t 10", "x"); }, "E_AUTH_FIRST AUTH required before DPUB"},
  };
  for (auto& k : cases) {
    V2Client c(nsqd.tcpPort());
    k.send(c);
    expectError(c, k.error);
    EXPECT_TRUE(c.tcp().waitClosed()) << k.error;
  }
  // MPUB is checked before its body, as the original: a body it never reads changes nothing.
  V2Client c(nsqd.tcpPort());
  c.send("MPUB t\n");
  expectError(c, "E_AUTH_FIRST AUTH required before MPUB");
  EXPECT_EQ(server.count(), 0u);
}

TEST(NsqdAuth, AuthBodyAndParametersAreCheckedBeforeAnyQuery) {
  FakeAuthServer server;
  server.set("k", kAll);
  NsqdProcess nsqd(args(server, {"--max-msg-size=100", "--max-body-size=100"}));
  struct Case {
    std::string bytes, error;
  };
  std::vector<Case> cases = {
      {std::string("AUTH\n") + std::string(4, '\0'), "E_BAD_BODY AUTH invalid body size 0"},
      {std::string("AUTH\n") + std::string("\0\0\0\x65", 4) + std::string(101, 'k'), "E_BAD_BODY AUTH body too big 101 > 100"},
      {std::string("AUTH extra\n") + std::string("\0\0\0\x01", 4) + "k", "E_INVALID AUTH invalid number of parameters"},
  };
  for (const auto& k : cases) {
    V2Client c(nsqd.tcpPort());
    c.send(k.bytes);
    expectError(c, k.error);
    EXPECT_TRUE(c.tcp().waitClosed()) << k.error;
  }
  EXPECT_EQ(server.count(), 0u);
}

TEST(NsqdAuth, AuthRepliesWithIdentityAndSendsTheOriginalsGetQuery) {
  FakeAuthServer server;
  server.set("s3cret&=", kAll);
  NsqdProcess nsqd(args(server));
  V2Client c(nsqd.tcpPort());
  EXPECT_EQ(auth(c, "s3cret&="), R"({"identity":"alice","identity_url":"https://auth.test/alice","permission_count":1})");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/auth");
  EXPECT_EQ(reqs[0].accept, "application/vnd.nsq; version=1.0");
  EXPECT_EQ(reqs[0].fields, (std::map<std::string, std::string>{
                                {"common_name", ""}, {"remote_ip", "127.0.0.1"}, {"secret", "s3cret&="}, {"tls", "false"}}));
  EXPECT_EQ(c.pub("t", "hello"), "OK");
  c.commandWithBody("AUTH", "s3cret&=");
  expectError(c, "E_INVALID AUTH already set");
  EXPECT_TRUE(c.tcp().waitClosed());
}

TEST(NsqdAuth, PostMethodSendsJsonArraysToAFullUrl) {
  FakeAuthServer server;
  server.set("tok", kAll);
  NsqdProcess nsqd({"--auth-http-address=http://" + server.address() + "/v1/nsq-auth", "--auth-http-request-method=post"});
  V2Client c(nsqd.tcpPort());
  auth(c, "tok");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/v1/nsq-auth");
  EXPECT_EQ(reqs[0].contentType, "application/json");
  EXPECT_EQ(reqs[0].body, R"({"common_name":[""],"remote_ip":["127.0.0.1"],"secret":["tok"],"tls":["false"]})");
}

TEST(NsqdAuth, BadRepliesAndDeniedCommandsGiveTheOriginalsErrors) {
  FakeAuthServer server;
  server.set("forbidden", FakeAuthServer::Reply{403, "{}", false});
  server.set("garbage", "{not json");
  server.set("zero-ttl", G::grant(".*", R"([".*"])", R"(["publish"])", 0));
  server.set("bad-perm", G::grant(".*", R"([".*"])", R"(["admin"])"));
  server.set("nothing", R"({"ttl":60,"identity":"x","authorizations":[]})");
  server.set("orders", G::grant("^orders$", R"(["^archive$"])", R"(["subscribe","publish"])"));
  server.set("subonly", G::grant("^orders$", R"([".*"])", R"(["subscribe"])"));
  NsqdProcess nsqd(args(server));
  for (const char* secret : {"forbidden", "garbage", "zero-ttl", "bad-perm", "unknown"}) {
    V2Client c(nsqd.tcpPort());
    c.commandWithBody("AUTH", secret);
    expectError(c, "E_AUTH_FAILED AUTH failed");
    EXPECT_TRUE(c.tcp().waitClosed()) << secret;
  }
  {
    V2Client c(nsqd.tcpPort());
    c.commandWithBody("AUTH", "nothing");
    expectError(c, "E_UNAUTHORIZED AUTH no authorizations found");
    EXPECT_TRUE(c.tcp().waitClosed());
  }
  struct Case {
    std::string secret, line, body, error;
  };
  std::vector<Case> denied = {
      {"orders", "PUB invoices", "x", R"(E_UNAUTHORIZED AUTH failed for PUB on "invoices" "")"},
      {"orders", "SUB orders other", "", R"(E_UNAUTHORIZED AUTH failed for SUB on "orders" "other")"},
      {"orders", "SUB orders_v2 archive", "", R"(E_UNAUTHORIZED AUTH failed for SUB on "orders_v2" "archive")"},
      // a publish tests channel "": "^archive$" does not match it
      {"orders", "PUB orders", "x", R"(E_UNAUTHORIZED AUTH failed for PUB on "orders" "")"},
      {"subonly", "PUB orders", "x", R"(E_UNAUTHORIZED AUTH failed for PUB on "orders" "")"},
      {"subonly", "MPUB orders", V2Client::mpubBody({"x"}), R"(E_UNAUTHORIZED AUTH failed for MPUB on "orders" "")"},
      {"subonly", "DPUB orders 5", "x", R"(E_UNAUTHORIZED AUTH failed for DPUB on "orders" "")"},
  };
  for (const auto& k : denied) {
    auto c = authed(nsqd, k.secret);
    if (k.body.empty())
      c->command(k.line);
    else
      c->commandWithBody(k.line, k.body);
    expectError(*c, k.error);
    EXPECT_TRUE(c->tcp().waitClosed()) << k.line;
  }
  // What is granted works.
  auto sub = authed(nsqd, "orders");
  EXPECT_EQ(sub->sub("orders", "archive"), "OK");
}

TEST(NsqdAuth, UnreachableServerIsAuthFailed) {
  int dead = freePort();
  NsqdProcess nsqd({"--auth-http-address=127.0.0.1:" + std::to_string(dead)});
  V2Client c(nsqd.tcpPort());
  c.commandWithBody("AUTH", "x");
  expectError(c, "E_AUTH_FAILED AUTH failed");
  EXPECT_NE(nsqd.logs().find("failed to auth against 127.0.0.1:" + std::to_string(dead)), std::string::npos)
      << nsqd.logs();
  EXPECT_EQ(nsqd.logs().find("AUTH failed x"), std::string::npos) << "the secret must not be logged";
}

TEST(NsqdAuth, AuthorizedClientsPublishAndConsume) {
  FakeAuthServer server;
  server.set("producer", G::grant("^jobs$", R"([".*"])", R"(["publish"])"));
  server.set("worker", G::grant("^jobs$", R"(["^workers$"])", R"(["subscribe"])"));
  NsqdProcess nsqd(args(server));
  auto p = authed(nsqd, "producer");
  auto w = authed(nsqd, "worker");
  EXPECT_EQ(w->sub("jobs", "workers"), "OK");
  w->rdy(10);
  EXPECT_EQ(p->pub("jobs", "one"), "OK");
  EXPECT_EQ(p->mpub("jobs", {"two", "three"}), "OK");
  EXPECT_EQ(p->dpub("jobs", 10, "four"), "OK");
  std::set<std::string> got;
  for (int i = 0; i < 4; ++i) {
    Message m = w->readMessage();
    got.insert(std::string(m.body.view()));
    w->fin(m.id);
  }
  EXPECT_EQ(got, (std::set<std::string>{"one", "two", "three", "four"}));
  EXPECT_EQ(server.count(), 2u) << "one query per AUTH while the ttl lasts";
}

TEST(NsqdAuth, ServersAreTriedFromARandomStartAndADownOneIsSkipped) {
  FakeAuthServer a, b;
  a.set("k", kAll);
  b.set("k", kAll);
  int dead = freePort();
  NsqdProcess nsqd({"--auth-http-address=" + a.address(), "--auth-http-address=127.0.0.1:" + std::to_string(dead),
                    "--auth-http-address=" + b.address()});
  for (int i = 0; i < 24; ++i) {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(auth(c, "k").substr(0, 12), "{\"identity\":") << i;
  }
  EXPECT_EQ(a.count() + b.count(), 24u);
  // From a random start both live servers get work (all 24 on one: chance about 2^-13).
  EXPECT_GT(a.count(), 0u);
  EXPECT_GT(b.count(), 0u);
}

TEST(NsqdAuth, ExpiredAuthorizationIsFetchedAgainAndRevocationTakesEffect) {
  FakeAuthServer server;
  server.set("k", G::grant("^t$", R"([".*"])", R"(["publish","subscribe"])", 1));
  server.set("k2", G::grant("^t$", R"([".*"])", R"(["publish","subscribe"])", 1));
  NsqdProcess nsqd(args(server));
  auto c = authed(nsqd, "k");
  EXPECT_EQ(c->pub("t", "a"), "OK");
  EXPECT_EQ(server.count(), 1u);
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(c->pub("t", "b"), "OK");
  EXPECT_EQ(server.count(), 2u) << "the ttl ran out: the next PUB asks again";
  EXPECT_EQ(c->pub("t", "c"), "OK");
  EXPECT_EQ(server.count(), 2u);
  // Revoke: the server now grants only another topic.
  server.set("k", G::grant("^other$", R"([".*"])", R"(["publish"])", 1));
  std::this_thread::sleep_for(1200ms);
  c->commandWithBody("PUB t", "d");
  expectError(*c, R"(E_UNAUTHORIZED AUTH failed for PUB on "t" "")");
  EXPECT_TRUE(c->tcp().waitClosed());
  EXPECT_EQ(server.count(), 3u);

  // A server failing at the re-check is E_AUTH_FAILED; a pending SUB is re-checked the same way.
  auto s = authed(nsqd, "k2");
  server.set("k2", FakeAuthServer::Reply{500, "oops", false});
  std::this_thread::sleep_for(1200ms);
  s->command("SUB t c");
  expectError(*s, "E_AUTH_FAILED AUTH failed");
  EXPECT_TRUE(s->tcp().waitClosed());
}

TEST(NsqdAuth, HangingServerTimesOutWithoutBlockingOtherClients) {
  FakeAuthServer server;
  server.set("slow", FakeAuthServer::Reply{200, kAll, true});
  server.set("fast", kAll);
  // One IO thread: every connection below shares the loop the slow AUTH came in on.
  NsqdProcess nsqd({"--auth-http-address=" + server.address(), "--http-client-request-timeout=2s", "--io-threads=1"});
  auto consumer = authed(nsqd, "fast");
  EXPECT_EQ(consumer->sub("t", "c"), "OK");
  consumer->rdy(100);
  auto producer = authed(nsqd, "fast");

  V2Client slow(nsqd.tcpPort());
  auto started = std::chrono::steady_clock::now();
  slow.commandWithBody("AUTH", "slow");
  for (int i = 0; i < 1000 && server.count() < 3; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server.count(), 3u) << "the slow query never reached the auth server";

  // Meanwhile: a new client authorizes, old ones publish and consume, HTTP answers.
  auto fresh = authed(nsqd, "fast");
  for (int i = 0; i < 20; ++i) ASSERT_EQ(producer->pub("t", "m" + std::to_string(i)), "OK");
  EXPECT_EQ(fresh->pub("t", "m20"), "OK");
  for (int i = 0; i < 21; ++i) consumer->fin(consumer->readMessage().id);
  EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/ping").body, "OK");
  auto meanwhile = std::chrono::steady_clock::now() - started;
  EXPECT_LT(meanwhile, 1500ms) << "other clients waited for the hanging auth server";

  expectError(slow, "E_AUTH_FAILED AUTH failed");
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 1900ms);
  EXPECT_LT(waited, 4s) << "--http-client-request-timeout=2s was not honoured";
  server.release();
}

TEST(NsqdAuth, HttpPublishNeedsASecretThatGrantsPublish) {
  FakeAuthServer server;
  server.set("pub", G::grant("^events$", R"([".*"])", R"(["publish"])"));
  server.set("sub", G::grant(".*", R"([".*"])", R"(["subscribe"])"));
  NsqdProcess nsqd(args(server));
  int port = nsqd.httpPort();
  auto bearer = [](const std::string& s) { return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + s}}; };

  auto r = httpRequest(port, "POST", "/pub?topic=events", "a");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"message":"AUTH_REQUIRED"})");
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"nsqd\"");
  EXPECT_EQ(r.header("X-NSQ-Content-Type"), "nsq; version=1.0");

  r = httpRequest(port, "POST", "/pub?topic=events", "a", bearer("pub"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "OK");
  r = httpRequest(port, "POST", "/mpub?topic=events", "b\nc\n", bearer("pub"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = httpRequest(port, "POST", "/pub?topic=events&secret=pub", "d");
  EXPECT_EQ(r.status, 200) << r.body;

  r = httpRequest(port, "POST", "/pub?topic=audit", "x", bearer("pub"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"message":"UNAUTHORIZED"})");
  r = httpRequest(port, "POST", "/mpub?topic=events", "x", bearer("sub"));
  EXPECT_EQ(r.status, 403);
  r = httpRequest(port, "POST", "/pub?topic=events", "x", bearer("wrong"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"message":"AUTH_FAILED"})");

  // Only what was granted arrived; a refused topic was not even created.
  auto stats = statsJson(nsqd);
  auto topics = stats->getArray("topics");
  ASSERT_EQ(topics->size(), 1u);
  EXPECT_EQ(topics->getObject(0)->getValue<std::string>("topic_name"), "events");
  EXPECT_EQ(topics->getObject(0)->getValue<int>("message_count"), 4);
  // Replies are cached for their ttl: "pub" was asked once (remote IP and TLS unchanged).
  std::size_t pubQueries = 0;
  for (const auto& q : server.requests()) pubQueries += q.fields.at("secret") == "pub";
  EXPECT_EQ(pubQueries, 1u);
  EXPECT_EQ(server.requests()[0].fields.at("remote_ip"), "127.0.0.1");
  // Other endpoints are as upstream (not behind auth).
  EXPECT_EQ(httpRequest(port, "POST", "/topic/create?topic=admin").status, 200);
}

TEST(NsqdAuth, StatsShowTheIdentityOfAuthedClients) {
  FakeAuthServer server;
  server.set("k", kAll);
  NsqdProcess nsqd(args(server));
  auto c = authed(nsqd, "k");
  EXPECT_EQ(c->sub("t", "c"), "OK");
  auto stats = statsJson(nsqd);
  auto client = stats->getArray("topics")->getObject(0)->getArray("channels")->getObject(0)->getArray("clients")->getObject(0);
  EXPECT_TRUE(client->getValue<bool>("authed"));
  EXPECT_EQ(client->getValue<std::string>("auth_identity"), "alice");
  EXPECT_EQ(client->getValue<std::string>("auth_identity_url"), "https://auth.test/alice");
  // Not authed (yet): the keys are omitted, as upstream's omitempty.
  V2Client p(nsqd.tcpPort());
  p.identify("{}");
  auto text = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json").body;
  EXPECT_EQ(text.find("\"authed\":false"), std::string::npos);
}

TEST(NsqdAuth, TlsClientsSendTlsTrueAndTheirCertificateName) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  FakeAuthServer server;
  server.set("k", kAll);
  NsqdProcess nsqd({"--auth-http-address=" + server.address(), "--tls-cert=" + certs.serverCert,
                    "--tls-key=" + certs.serverKey, "--tls-client-auth-policy=require"});
  TlsV2Client c(nsqd.tcpPort());
  c.identifyPlain(R"({"feature_negotiation":true,"tls_v1":true})");
  std::string error;
  ASSERT_TRUE(c.startTls({certs.caCert, certs.clientCert, certs.clientKey}, &error)) << error;
  EXPECT_EQ(c.expectResponse(), "OK");
  c.commandWithBody("AUTH", "k");
  EXPECT_EQ(c.expectResponse().substr(0, 12), "{\"identity\":");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].fields["tls"], "true");
  EXPECT_EQ(reqs[0].fields["common_name"], "nsq-test-client");
  EXPECT_EQ(c.pub("t", "x"), "OK");
}

TEST(NsqdAuth, HttpsAuthServerIsVerifiedAgainstTheRootCaFile) {
  TempDir dir;
  auto certs = makeTestCerts(dir.path());
  FakeAuthServer server(certs.serverCert, certs.serverKey);
  server.set("k", kAll);
  std::string url = "https://" + server.address() + "/auth";
  {
    NsqdProcess nsqd({"--auth-http-address=" + url, "--tls-root-ca-file=" + certs.caCert});
    V2Client c(nsqd.tcpPort());
    EXPECT_EQ(auth(c, "k").substr(0, 12), "{\"identity\":");
    EXPECT_EQ(server.count(), 1u);
  }
  // Not signed by a CA it trusts: the auth server is not believed.
  NsqdProcess untrusting({"--auth-http-address=" + url});
  V2Client c(untrusting.tcpPort());
  c.commandWithBody("AUTH", "k");
  expectError(c, "E_AUTH_FAILED AUTH failed");
  EXPECT_EQ(server.count(), 1u) << "a request reached the server over an unverified connection";
}

TEST(NsqdAuth, StartupRefusesAnUnknownAuthMethod) {
  TempDir logs;
  Process p(binaryPath("nsqd"), {"--auth-http-address=127.0.0.1:1", "--auth-http-request-method=put",
                                 "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0"},
            logs.path());
  int status = p.stop(0, 10s);  // signal 0: just wait for it to exit
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
  EXPECT_NE(p.stderrText().find("--auth-http-request-method"), std::string::npos) << p.stderrText();
}

// HttpPublisher against a recording HTTP server: --header parsing, URL checks, GET escaping,
// POST body and headers, 2xx-only success, keep-alive, refused connections and timeouts.
#include "nsq_to_http/http_publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/http_sink.h"
#include "support/test_support.h"
#include "support/tls_client.h"

namespace nsq::tools {
namespace {

using namespace std::chrono_literals;
using test::HttpSink;

TEST(HttpPublisher, HeaderIsNameColonValueBothTrimmedAndNonEmpty) {
  std::pair<std::string, std::string> h;
  ASSERT_TRUE(parseHeader("X-Token: abc:def ", &h));
  EXPECT_EQ(h.first, "X-Token");
  EXPECT_EQ(h.second, "abc:def");
  EXPECT_FALSE(parseHeader("X-Token", &h));
  EXPECT_FALSE(parseHeader(":value", &h));
  EXPECT_FALSE(parseHeader("Name:  ", &h));
}

TEST(HttpPublisher, UrlChecksNameTheProblem) {
  EXPECT_EQ(checkEndpointUrl("http://127.0.0.1:8080/p", false), "");
  EXPECT_EQ(checkEndpointUrl("https://example.com", false), "");
  EXPECT_EQ(checkEndpointUrl("http://h/get?d=%s", true), "");
  EXPECT_NE(checkEndpointUrl("ftp://h/", false).find("http:// or https://"), std::string::npos);
  EXPECT_NE(checkEndpointUrl("127.0.0.1:80/p", false).find("http:// or https://"), std::string::npos);
  EXPECT_NE(checkEndpointUrl("http://h/get", true).find("exactly one %s"), std::string::npos);
  EXPECT_NE(checkEndpointUrl("http://h/get?a=%s&b=%s", true).find("exactly one %s"), std::string::npos);
  EXPECT_NE(checkEndpointUrl("http:///p", false).find("no host"), std::string::npos);
  EXPECT_NE(checkEndpointUrl("http://h:99999/p", false), "");
}

TEST(HttpPublisher, GetReplacesPercentSWithTheQueryEscapedBody) {
  HttpSink sink;
  HttpPublisherConfig cfg;
  cfg.method = HttpPublisherConfig::Method::Get;
  cfg.urls = {sink.url("/get?x=1&data=%s&y=2")};
  HttpPublisher p(cfg);
  EXPECT_EQ(p.publish(0, "a b&c=d/\xc3\xa9\n"), "");
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].uri, "/get?x=1&data=a+b%26c%3Dd%2F%C3%A9%0A&y=2");
  EXPECT_EQ(reqs[0].body, "");
}

TEST(HttpPublisher, PostSendsTheBodyContentTypeHeadersAndUserAgent) {
  HttpSink sink;
  HttpPublisherConfig cfg;
  cfg.urls = {sink.url("/in")};
  cfg.contentType = "application/json";
  cfg.headers = {{"X-Token", "abc"}, {"X-Other", "1"}};
  cfg.userAgent = "nsq_to_http test";
  HttpPublisher p(cfg);
  std::string body("{\"a\":1}\n\0x", 10);
  EXPECT_EQ(p.publish(0, body), "");
  auto reqs = sink.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].uri, "/in");
  EXPECT_EQ(reqs[0].body, body);
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
  EXPECT_EQ(reqs[0].header("X-Token"), "abc");
  EXPECT_EQ(reqs[0].header("X-Other"), "1");
  EXPECT_EQ(reqs[0].header("User-Agent"), "nsq_to_http test");
}

TEST(HttpPublisher, OnlyA2xxAnswerIsSuccess) {
  std::atomic<int> status{204};
  HttpSink sink([&](const test::SinkRequest&, int) { return status.load(); });
  HttpPublisherConfig cfg;
  cfg.urls = {sink.url("/")};
  HttpPublisher p(cfg);
  EXPECT_EQ(p.publish(0, "m"), "");
  status = 500;
  EXPECT_EQ(p.publish(0, "m"), "got status code 500");
  status = 302;
  EXPECT_EQ(p.publish(0, "m"), "got status code 302");
  status = 404;
  EXPECT_EQ(p.publish(0, "m"), "got status code 404");
}

TEST(HttpPublisher, KeepsTheConnectionAliveAcrossRequests) {
  HttpSink sink;
  HttpPublisherConfig cfg;
  cfg.urls = {sink.url("/")};
  HttpPublisher p(cfg);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p.publish(0, "m" + std::to_string(i)), "");
  EXPECT_EQ(sink.requests().size(), 10u);
  EXPECT_EQ(sink.connections(), 1);
}

TEST(HttpPublisher, ARefusedConnectionIsAFailureNamingTheEndpoint) {
  HttpPublisherConfig cfg;
  test::RefusingPort refusing;
  const int port = refusing.port();
  cfg.urls = {"http://127.0.0.1:" + std::to_string(port) + "/"};
  HttpPublisher p(cfg);
  std::string err = p.publish(0, "m");
  EXPECT_NE(err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << err;
  EXPECT_NE(err.find("refused"), std::string::npos) << err;
}

TEST(HttpPublisher, HttpsIsVerifiedAgainstTheSystemCaStore) {
  // A certificate from a CA the system does not trust: the request fails at the handshake and
  // never reaches the handler.
  test::TempDir dir;
  test::TestCerts certs = test::makeTestCerts(dir.path());
  HttpSink sink({}, 0ms, 0, certs.serverCert, certs.serverKey);
  HttpPublisherConfig cfg;
  cfg.urls = {sink.url("/")};
  HttpPublisher p(cfg);
  std::string err = p.publish(0, "m");
  EXPECT_NE(err, "");
  EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
  EXPECT_EQ(sink.requests().size(), 0u);
}

TEST(HttpPublisher, ASlowAnswerTimesOutAfterTheRequestTimeout) {
  HttpSink sink([](const test::SinkRequest&, int) {
    std::this_thread::sleep_for(1500ms);
    return 200;
  });
  HttpPublisherConfig cfg;
  cfg.urls = {sink.url("/")};
  cfg.requestTimeout = 200ms;
  HttpPublisher p(cfg);
  std::string err = p.publish(0, "m");
  EXPECT_NE(err.find("timed out"), std::string::npos) << err;
}

}  // namespace
}  // namespace nsq::tools

// Issue 11 §2, end to end: silent, trickling and idle clients on every HTTP and TCP control
// port must not stop nsqd and nsqlookupd from answering everyone else. (Before the event-loop
// servers, 8 silent connections silenced nsqd's HTTP API, 16 nsqlookupd's, and 128 idle V1
// connections its TCP port.) Nothing here asserts a timing beyond the clients' 5 s read
// timeout; bench/slow_clients measures the latencies.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "support/lookupd_process.h"
#include "support/nsqd_process.h"
#include "support/test_support.h"

namespace nsq::test {
namespace {

using namespace std::chrono_literals;
constexpr int kEach = 300;  // per kind and port; bench/slow_clients runs 1,000

// kEach silent connections and kEach that send part of a request head and stop.
std::vector<std::unique_ptr<TcpClient>> occupyHttp(int port) {
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 2 * kEach; ++i) {
    held.push_back(std::make_unique<TcpClient>(port));
    if (i % 2) held.back()->send("GET /stats HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  return held;
}

// Sends a keep-alive GET /ping and reads the answer up to its "OK" body.
bool answersPing(TcpClient& c) {
  try {
    c.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string got;
    while (got.size() < 4096 && !got.ends_with("\r\n\r\nOK")) got += c.readExact(1);
    return got.starts_with("HTTP/1.1 200");
  } catch (const std::exception&) {
    return false;
  }
}

std::string v1Reply(TcpClient& c) {
  std::string size = c.readExact(4);
  uint32_t n;
  std::memcpy(&n, size.data(), 4);
  return c.readExact(ntohl(n));
}

TEST(SlowClients, NsqdHttpAnswersWhileSilentAndTricklingClientsHoldConnections) {
  NsqdProcess nsqd;
  auto held = occupyHttp(nsqd.httpPort());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(httpRequest(nsqd.httpPort(), "GET", "/ping").body, "OK");
    EXPECT_EQ(httpRequest(nsqd.httpPort(), "POST", "/pub?topic=slow", "m" + std::to_string(i)).status, 200);
  }
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=slow");
  EXPECT_EQ(stats.status, 200);
  EXPECT_NE(stats.body.find("\"message_count\":5"), std::string::npos) << stats.body;
  // The TCP protocol is untouched by the HTTP port's load.
  TcpClient v2(nsqd.tcpPort());
  v2.send("  V2NOP\n");
  EXPECT_FALSE(v2.waitClosed(200ms));
}

TEST(SlowClients, NsqlookupdAnswersWhileIdleClientsHoldBothPorts) {
  LookupdProcess lookupd;
  auto held = occupyHttp(lookupd.httpPort);
  std::vector<std::unique_ptr<TcpClient>> idle;
  for (int i = 0; i < kEach; ++i) {
    idle.push_back(std::make_unique<TcpClient>(lookupd.tcpPort));
    if (i % 2) idle.back()->send("  V1");  // magic, then nothing
  }
  // A producer can still register, and consumers see it.
  TcpClient producer(lookupd.tcpPort);
  std::string body = R"({"version":"1.3.0","broadcast_address":"p.test","hostname":"p","tcp_port":4150,"http_port":4151})";
  uint32_t size = htonl(static_cast<uint32_t>(body.size()));
  producer.send("  V1IDENTIFY\n" + std::string(reinterpret_cast<const char*>(&size), 4) + body);
  EXPECT_NE(v1Reply(producer).find("\"tcp_port\""), std::string::npos);
  producer.send("REGISTER slow\nPING\n");
  EXPECT_EQ(v1Reply(producer), "OK");
  EXPECT_EQ(v1Reply(producer), "OK");
  EXPECT_EQ(httpRequest(lookupd.httpPort, "GET", "/ping").body, "OK");
  auto lookup = httpRequest(lookupd.httpPort, "GET", "/lookup?topic=slow");
  EXPECT_EQ(lookup.status, 200);
  EXPECT_NE(lookup.body.find("p.test"), std::string::npos) << lookup.body;
}

TEST(SlowClients, ConnectionsBeyondTheLimitAreRefusedAndTheDaemonServesAfterwards) {
  NsqdProcess nsqd({"--http-max-connections=50"});
  // Each held connection proves it was accepted by getting a keep-alive answer. A short-lived
  // connection (the start-up port probe) can still hold a slot for a moment and get one of
  // these refused; such a one is replaced, so 50 served connections are open before `extra`.
  auto held = holdServed(
      50, [&] { return std::make_unique<TcpClient>(nsqd.httpPort()); }, [](TcpClient& c) { return answersPing(c); },
      50);
  ASSERT_EQ(held.size(), 50u);
  TcpClient extra(nsqd.httpPort());
  EXPECT_TRUE(extra.waitClosed(3s));
  EXPECT_TRUE(eventually([&] { return nsqd.logs().find("connections open (the limit)") != std::string::npos; }, 3s));
  held.clear();
  EXPECT_TRUE(eventually([&] {
    try {
      return httpRequest(nsqd.httpPort(), "GET", "/ping").body == "OK";
    } catch (...) {
      return false;
    }
  }, 5s));
}

TEST(SlowClients, ARequestThatMissesTheReadTimeoutIsClosed) {
  NsqdProcess nsqd({"--http-read-timeout=300ms"});
  TcpClient trickle(nsqd.httpPort());
  trickle.send("POST /pub?topic=t HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_TRUE(trickle.waitClosed(3s));
  auto stats = httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=t");
  EXPECT_EQ(stats.body.find("\"message_count\":1"), std::string::npos);  // nothing half-published
}

TEST(SlowClients, BadLimitFlagsAreStartupErrors) {
  auto [code, err] = runNsqdToExit({"--http-max-connections=0"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("--http-max-connections"), std::string::npos) << err;
  auto [code2, err2] = runNsqdToExit({"--http-read-timeout=0s"});
  EXPECT_EQ(code2, 1);
  EXPECT_NE(err2.find("--http-read-timeout"), std::string::npos) << err2;
}

}  // namespace
}  // namespace nsq::test

// http::Server on loopback: whole requests reach the handler, slow and silent clients hold no
// worker, and the caps (connections, queue, deadline) answer as documented.
#include "nsq/http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace nsq::http {
namespace {

using namespace std::chrono_literals;
using test::TcpClient;

// Reads one response (head + Content-Length body) from the client.
std::string readResponse(TcpClient& c) {
  std::string got;
  while (got.find("\r\n\r\n") == std::string::npos) got += c.readExact(1);
  auto cl = got.find("Content-Length: ");
  std::size_t len = std::stoul(got.substr(cl + 16));
  return got + (len ? c.readExact(len) : "");
}

struct Fixture {
  explicit Fixture(ServerOptions o = {}, std::size_t workers = 2, std::size_t queue = 64)
      : pool("test-http", workers, queue) {
    server = std::make_unique<Server>(std::move(o), pool, [this](Request& r) { return handler(r); });
    port = server->listen(Poco::Net::SocketAddress("127.0.0.1", 0));
    server->start();
  }
  ~Fixture() {
    server->stop();
    pool.stop();
  }
  std::function<Response(Request&)> handler = [](Request& r) {
    Response resp;
    resp.body = r.method + " " + r.target + " [" + r.body + "]";
    return resp;
  };
  net::WorkerPool pool;
  std::unique_ptr<Server> server;
  int port = 0;
};

TEST(HttpServer, ServesKeepAliveAndPipelinedRequestsInOrder) {
  Fixture f;
  TcpClient c(f.port);
  c.send("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\n\r\n");
  EXPECT_NE(readResponse(c).find("GET /a []"), std::string::npos);
  EXPECT_NE(readResponse(c).find("POST /b [xyz]"), std::string::npos);
  EXPECT_NE(readResponse(c).find("GET /c []"), std::string::npos);
  c.send("GET /d HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string last = readResponse(c);
  EXPECT_NE(last.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.waitClosed(2s));
}

TEST(HttpServer, AnswersContinueBeforeTheBody) {
  Fixture f;
  TcpClient c(f.port);
  c.send("POST /pub HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(c.readExact(25), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hi");
  EXPECT_NE(readResponse(c).find("POST /pub [hi]"), std::string::npos);
}

TEST(HttpServer, SilentAndTricklingClientsDoNotStarveOthers) {
  Fixture f({}, /*workers=*/1);
  std::vector<std::unique_ptr<TcpClient>> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<TcpClient>(f.port));
    if (i % 2) idle.back()->send("GET /slow HTTP/1.1\r\nX-Header: 1\r\n");  // never finished
  }
  for (int i = 0; i < 20; ++i) {
    TcpClient c(f.port);
    c.send("GET /ping HTTP/1.1\r\n\r\n");
    EXPECT_NE(readResponse(c).find("GET /ping"), std::string::npos);
  }
}

TEST(HttpServer, ClosesARequestThatMissesTheReadDeadline) {
  ServerOptions o;
  o.readTimeout = 300ms;
  Fixture f(o);
  TcpClient silent(f.port);
  TcpClient trickle(f.port);
  trickle.send("GET / HTTP/1.1\r\n");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(100ms);
    try {
      trickle.send("A: b\r\n");
    } catch (...) {
    }
  }
  EXPECT_TRUE(trickle.waitClosed(3s));
  EXPECT_TRUE(silent.waitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(HttpServer, RefusesConnectionsBeyondTheLimitAndServesAgainAfter) {
  ServerOptions o;
  o.maxConnections = 3;
  Fixture f(o);
  std::vector<std::unique_ptr<TcpClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<TcpClient>(f.port));
  ASSERT_TRUE(test::eventually([&] { return f.server->connectionCount() == 3; }, 2s));
  TcpClient extra(f.port);
  EXPECT_TRUE(extra.waitClosed(2s));
  held.clear();
  ASSERT_TRUE(test::eventually([&] { return f.server->connectionCount() == 0; }, 2s));
  TcpClient again(f.port);
  again.send("GET /ok HTTP/1.1\r\n\r\n");
  EXPECT_NE(readResponse(again).find("GET /ok"), std::string::npos);
}

TEST(HttpServer, AHandlerThatThrowsGets500AndTheServerGoesOn) {
  Fixture f;
  f.handler = [](Request& r) -> Response {
    if (r.target == "/boom") throw std::runtime_error("injected");
    Response ok;
    ok.body = "fine";
    return ok;
  };
  TcpClient c(f.port);
  c.send("GET /boom HTTP/1.1\r\n\r\n");
  EXPECT_EQ(readResponse(c).rfind("HTTP/1.1 500 ", 0), 0u);
  TcpClient d(f.port);
  d.send("GET /fine HTTP/1.1\r\n\r\n");
  EXPECT_NE(readResponse(d).find("fine"), std::string::npos);
}

TEST(HttpServer, AnswersBadRequestsAndOversizedBodies) {
  ParserLimits limits;
  limits.maxBodyBytes = 4;
  ServerOptions o;
  o.limits = limits;
  Fixture f(o);
  f.handler = [](Request& r) {
    Response resp;
    resp.body = r.bodyTooLarge ? "too large" : "ok";
    return resp;
  };
  TcpClient bad(f.port);
  bad.send("NOT A REQUEST\r\n\r\n");
  EXPECT_EQ(readResponse(bad).rfind("HTTP/1.1 400 ", 0), 0u);
  EXPECT_TRUE(bad.waitClosed(3s));
  TcpClient big(f.port);
  big.send("POST /pub HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  std::string r = readResponse(big);
  EXPECT_NE(r.find("too large"), std::string::npos);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(big.waitClosed(3s));
}

TEST(HttpServer, AnswersServiceUnavailableWhenTheQueueIsFull) {
  Fixture f({}, /*workers=*/1, /*queue=*/1);
  std::atomic<bool> release{false};
  f.handler = [&](Request&) {
    while (!release.load()) std::this_thread::sleep_for(5ms);
    return Response{};
  };
  TcpClient running(f.port), queued(f.port), refused(f.port);
  running.send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] { return f.pool.queued() == 0; }, 2s));
  std::this_thread::sleep_for(50ms);
  queued.send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] { return f.pool.queued() == 1; }, 2s));
  refused.send("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(readResponse(refused).rfind("HTTP/1.1 503 ", 0), 0u);
  release = true;
  EXPECT_EQ(readResponse(running).rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_EQ(readResponse(queued).rfind("HTTP/1.1 200 ", 0), 0u);
}

TEST(HttpServer, AnIdleLoopWaitsForItsScanInsteadOfSpinning) {
  // The loop wakes every 100 ms for its deadline scan. A wait rounded down to whole
  // milliseconds left a fraction over, spent in waits of 0 ms: hundreds of wakes per scan.
  Fixture f;
  std::this_thread::sleep_for(100ms);
  uint64_t before = f.server->loopWaits();
  std::this_thread::sleep_for(500ms);
  uint64_t waits = f.server->loopWaits() - before;
  EXPECT_GE(waits, 1u);  // the scan still runs (at least once, even on a loaded machine)
  EXPECT_LE(waits, 12u);  // a late wake only makes fewer: ~5 in 500 ms
}

}  // namespace
}  // namespace nsq::http

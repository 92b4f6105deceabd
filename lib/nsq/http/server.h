#pragma once
// Server: HTTP/1.1 on an nsq::net::EventServer. Requests are read on the loop thread, with one
// deadline for the whole request (head and body) and caps on head size, header count and body;
// only a complete request reaches a worker of the given WorkerPool, which runs the handler and
// hands the response back to the loop to write. Keep-alive and pipelining are served one
// request at a time per connection; "Expect: 100-continue" is answered before the body.
//
// Answered by the server itself: 400/431/501/505 for a request it cannot read (then close),
// 503 when the pool's queue is full, 500 when the handler throws.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "nsq/http/request.h"
#include "nsq/http/request_parser.h"
#include "nsq/net/event_server.h"
#include "nsq/net/worker_pool.h"

namespace nsq::http {

// Runs on a pool thread; may block (it holds that thread, never the loop).
using Handler = std::function<Response(Request&)>;

struct ServerOptions {
  std::string name = "HTTP";  // in log lines: "HTTP", "HTTPS"
  std::size_t maxConnections = 4096;
  // A request must arrive whole within this, counted from the connection's open or the end
  // of the previous response; an idle keep-alive connection is closed after it too.
  std::chrono::milliseconds readTimeout{30000};
  std::chrono::milliseconds writeTimeout{30000};
  ParserLimits limits;
  std::shared_ptr<ssl_ctx_st> tls;  // set: HTTPS
  net::LogSink log;
};

// The pool must be stopped (after stop() here) before the Server is destroyed: its tasks
// refer to the server's handler and post answers to its loop.
class Server {
 public:
  Server(ServerOptions options, net::WorkerPool& pool, Handler handler);
  ~Server();
  // Binds (port 0 = any free port) and returns the bound port; throws std::runtime_error.
  int listen(const Poco::Net::SocketAddress& address);
  void start();
  void stop();  // idempotent
  std::size_t connectionCount() const { return events_->connectionCount(); }
  uint64_t loopWaits() const { return events_->waits(); }

 private:
  ServerOptions options_;
  net::WorkerPool& pool_;
  Handler handler_;
  std::unique_ptr<net::EventServer> events_;
};

}  // namespace nsq::http

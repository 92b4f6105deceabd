#pragma once
// HttpApi: nsqd's HTTP interface (NSQ-COMPAT §2) on nsq::http::Server (an event loop per
// listener that reads whole requests, and a fixed pool of 8 handler threads shared by HTTP and
// HTTPS): publishing (/pub, /mpub), /stats, /info, /ping, topic and channel administration and
// /config/:opt.
#include <cstddef>
#include <memory>
#include <string>

#include <Poco/Net/Context.h>

struct ssl_ctx_st;

namespace nsq::http {
class Server;
}
namespace nsq::net {
class WorkerPool;
}

namespace nsq::nsqd {

class Nsqd;

class HttpApi {
 public:
  explicit HttpApi(Nsqd& nsqd);
  ~HttpApi();
  // Binds "host:port" (port 0 = any free port); returns the bound port. Nothing is served
  // until serve(), so the caller can record the port first (/info reports it).
  // Throws std::runtime_error naming the address on failure.
  int listen(const std::string& address);
  // The same API over TLS with the given server context (the --tls-* flags), on its own
  // listener and the shared thread pool. Returns the bound port; throws like listen().
  int listenHttps(const std::string& address, const Poco::Net::Context::Ptr& context);
  // Starts serving on every listener bound so far.
  void serve();
  // Stops accepting and closes open connections. Idempotent.
  void stop();
  std::size_t connectionCount() const;  // HTTP + HTTPS

  // Settings changed at run time through PUT /config/:opt, shared with the request threads.
  struct RuntimeConfig;

 private:
  Nsqd& nsqd_;
  std::unique_ptr<RuntimeConfig> config_;
  std::unique_ptr<http::Server> makeServer(const std::string& name, std::shared_ptr<ssl_ctx_st> tls);

  std::unique_ptr<net::WorkerPool> pool_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Server> httpsServer_;
};

}  // namespace nsq::nsqd

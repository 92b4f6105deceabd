#pragma once
// HttpApi: nsqd's HTTP interface (NSQ-COMPAT §2) on POCO's HTTPServer with a small fixed thread
// pool: publishing (/pub, /mpub), /stats, /info, /ping, topic and channel administration and
// /config/:opt.
#include <memory>
#include <string>

#include <Poco/Net/Context.h>

namespace Poco {
class ThreadPool;
}
namespace Poco::Net {
class HTTPServer;
}

namespace nsq::nsqd {

class Nsqd;

class HttpApi {
 public:
  explicit HttpApi(Nsqd& nsqd);
  ~HttpApi();
  // Binds "host:port" (port 0 = any free port) and starts serving; returns the bound port.
  // Throws std::runtime_error naming the address on failure.
  int start(const std::string& address);
  // The same API over TLS with the given server context (the --tls-* flags), on its own
  // listener and the shared thread pool. Returns the bound port; throws like start().
  int startHttps(const std::string& address, const Poco::Net::Context::Ptr& context);
  // Stops accepting and closes open connections. Idempotent.
  void stop();

  // Settings changed at run time through PUT /config/:opt, shared with the request threads.
  struct RuntimeConfig;

 private:
  Nsqd& nsqd_;
  std::unique_ptr<RuntimeConfig> config_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;  // declared last: stop before pool_ goes
  std::unique_ptr<Poco::Net::HTTPServer> httpsServer_;
};

}  // namespace nsq::nsqd

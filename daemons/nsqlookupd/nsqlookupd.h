#pragma once
// NsqLookupd: the daemon minus process concerns. Owns the RegistrationDB, the TCP (protocol V1)
// server and the HTTP server. start() binds both listeners or throws; stop() is idempotent and
// returns once both loops and the HTTP pool have finished.

#include <memory>

#include "nsq/http/server.h"
#include "nsq/net/event_server.h"
#include "nsq/net/worker_pool.h"
#include "nsqlookupd/http_api.h"
#include "nsqlookupd/logger.h"
#include "nsqlookupd/lookup_protocol.h"
#include "nsqlookupd/options.h"
#include "nsqlookupd/registration_db.h"

namespace nsq::lookupd {

class NsqLookupd {
 public:
  NsqLookupd(const Options& opts, Logger& log);
  ~NsqLookupd();

  void start();  // throws Poco::Exception (e.g. address in use) or nsq::OptionError
  void stop();

  int tcpPort() const { return tcpCtx_.tcpPort; }
  int httpPort() const { return tcpCtx_.httpPort; }
  RegistrationDB& db() { return db_; }

 private:
  Options opts_;
  Logger& log_;
  RegistrationDB db_;
  LookupContext tcpCtx_;
  HttpContext httpCtx_;
  std::unique_ptr<net::WorkerPool> httpPool_;
  std::unique_ptr<net::EventServer> tcpServer_;
  std::unique_ptr<http::Server> httpServer_;
  bool stopped_ = false;
};

}  // namespace nsq::lookupd

#pragma once
// The nsqlookupd HTTP API (NSQ-COMPAT §3.3 with the §2.1 conventions), served by Poco's
// HTTPServer. route() is the whole API as a pure function of (method, target) so tests can call
// it without a socket; HttpApiFactory adapts it to Poco.
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <chrono>
#include <string>

#include "logger.h"
#include "registration_db.h"

namespace nsq::lookupd {

struct HttpContext {
  RegistrationDB& db;
  Logger& log;
  std::chrono::nanoseconds inactiveProducerTimeout;
  std::chrono::nanoseconds tombstoneLifetime;
};

struct HttpReply {
  enum class Kind { Json, Text, Empty, Prometheus };  // Prometheus: text format 0.0.4
  int status = 200;
  Kind kind = Kind::Json;
  std::string body;
  bool nsqHeader = true;  // X-NSQ-Content-Type: nsq; version=1.0
};

// target = path plus optional "?query", as on the request line.
HttpReply route(HttpContext& ctx, const std::string& method, const std::string& target);

class HttpApiFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HttpApiFactory(HttpContext& ctx) : ctx_(ctx) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  HttpContext& ctx_;
};

}  // namespace nsq::lookupd

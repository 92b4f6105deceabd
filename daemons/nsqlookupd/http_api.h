#pragma once
// The nsqlookupd HTTP API (NSQ-COMPAT §3.3 with the §2.1 conventions), served by
// nsq::http::Server. route() is the whole API as a pure function of (method, target) so tests
// can call it without a socket; handleHttp() adapts it to a request and response.

#include <chrono>
#include <string>

#include "nsq/http/reply.h"
#include "nsq/http/request.h"
#include "nsqlookupd/logger.h"
#include "nsqlookupd/registration_db.h"

namespace nsq::lookupd {

struct HttpContext {
  RegistrationDB& db;
  Logger& log;
  std::chrono::nanoseconds inactiveProducerTimeout;
  std::chrono::nanoseconds tombstoneLifetime;
};

// Kind Json, Text or Empty; /metrics is Text with the Prometheus Content-Type.
using HttpReply = http::Reply;

// target = path plus optional "?query", as on the request line.
HttpReply route(HttpContext& ctx, const std::string& method, const std::string& target);

// The whole request handled: route() plus headers. Runs on an HTTP pool thread.
http::Response handleHttp(HttpContext& ctx, const http::Request& req);

}  // namespace nsq::lookupd

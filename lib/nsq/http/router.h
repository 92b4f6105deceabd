#pragma once
// Router: a fixed route table (path -> allowed methods + handler) for nsqd's and nsqlookupd's
// HTTP APIs. It answers what no handler needs to see, in upstream's order: a bad escape in the
// path is 400 INVALID_REQUEST, an unknown path 404 NOT_FOUND, a method the route lacks 405
// METHOD_NOT_ALLOWED, a malformed query 400 INVALID_REQUEST (query.h) on a route that reads its
// query; a route that reads none (upstream's /ping, /info, /topics, ...) ignores a malformed one,
// as upstream does by never parsing it (docs/leniency.md). A path key may end in
// one parameter segment ("/config/:opt" matches "/config/x", not "/config/" or "/config/x/y").
// The target may be origin-form ("/pub?topic=t") or absolute-form ("http://host/pub?topic=t").
//
// Built once, then read-only: match() is safe from any number of threads.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/http/query.h"
#include "nsq/http/reply.h"

namespace nsq::http {

// The decoded path of target and, in *query, its raw query (after '?'; empty when none);
// nullopt when the path holds a bad percent escape.
std::optional<std::string> decodeTargetPath(std::string_view target, std::string_view* query);

// Whether path matches key, a literal path or one ending in "/:name" (one non-empty segment).
bool routeKeyMatches(std::string_view key, std::string_view path);

// The 405 for a method outside methods. With advertiseMethods it carries "Allow: <methods>,
// OPTIONS", and an OPTIONS request gets 200 with that header and no X-NSQ-Content-Type instead.
Reply methodNotAllowed(std::string_view method, const std::vector<std::string>& methods, bool advertiseMethods);

template <class Handler>
struct Route {
  std::vector<std::string> methods;  // e.g. {"GET"} or {"GET", "PUT"}
  Handler handler;
  bool log = true;  // for the daemon's request log: false for /pub-like hot routes
  bool readsQuery = true;  // false: a malformed query is ignored (params left empty)
};

template <class Handler>
class Router {
 public:
  using Table = std::map<std::string, Route<Handler>>;

  // advertiseMethods: see methodNotAllowed() (nsqd: true; nsqlookupd: false).
  Router(Table routes, bool advertiseMethods) : routes_(std::move(routes)), advertise_(advertiseMethods) {}

  struct Match {
    const Route<Handler>* route = nullptr;
    std::string path;    // decoded
    QueryParams params;  // parsed query
  };

  // True with *out filled when a handler should run; false with *reply holding the answer.
  // out->route is set as soon as the path names a route, even when the method or query is refused.
  [[nodiscard]] bool match(std::string_view method, std::string_view target, Match* out, Reply* reply) const {
    std::string_view query;
    auto path = decodeTargetPath(target, &query);
    if (!path) return *reply = errorReply(400, "INVALID_REQUEST"), false;
    const Route<Handler>* route = find(*path);
    if (!route) return *reply = errorReply(404, "NOT_FOUND"), false;
    out->route = route;
    bool allowed = false;
    for (const auto& m : route->methods) allowed = allowed || m == method;
    if (!allowed) return *reply = methodNotAllowed(method, route->methods, advertise_), false;
    auto params = parseQuery(query);
    if (!params && route->readsQuery) return *reply = errorReply(400, "INVALID_REQUEST"), false;
    out->path = std::move(*path);
    out->params = params ? std::move(*params) : QueryParams{};
    return true;
  }

  // The route for a decoded path, or nullptr (no method check).
  const Route<Handler>* find(const std::string& path) const {
    if (auto it = routes_.find(path); it != routes_.end()) return &it->second;
    for (const auto& [key, route] : routes_)
      if (routeKeyMatches(key, path)) return &route;
    return nullptr;
  }

 private:
  Table routes_;
  bool advertise_;
};

}  // namespace nsq::http

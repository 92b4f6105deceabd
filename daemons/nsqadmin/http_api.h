#pragma once
// The nsqadmin HTTP API (NSQ-COMPAT §8): the original's JSON API under /api, /config/:opt, /ping,
// the pages (each serves the one-page UI, which draws itself from the path) and /static assets,
// all under --base-path. route() is the whole API as a function of the request, so tests can call
// it without a socket; it runs on an HTTP pool thread and may block on cluster queries (each
// bounded by the client timeouts).
#include <memory>
#include <mutex>
#include <string>

#include "nsq/http/reply.h"
#include "nsq/http/request.h"
#include "nsqadmin/cluster_info.h"
#include "nsqadmin/notifier.h"
#include "nsqadmin/options.h"

namespace nsq::admin {

class History;

// The options a running nsqadmin may change (PUT /config/:opt): readers take a snapshot.
class RuntimeOptions {
 public:
  explicit RuntimeOptions(Options o) : current_(std::make_shared<const Options>(std::move(o))) {}
  std::shared_ptr<const Options> get() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void set(Options o) {
    std::lock_guard lock(mu_);
    current_ = std::make_shared<const Options>(std::move(o));
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Options> current_;
};

struct ApiContext {
  RuntimeOptions& options;
  Notifier& notifier;
  Poco::Net::Context::Ptr tls;  // for https:// nodes (--http-client-tls-*)
  History* history = nullptr;   // GET /api/history; null: 404
  std::string hostname;         // "via" of notifications
};

// The cluster as the current options describe it.
ClusterInfo clusterFor(const ApiContext& ctx);

http::Reply route(ApiContext& ctx, const http::Request& req);
http::Response handleHttp(ApiContext& ctx, const http::Request& req);

}  // namespace nsq::admin

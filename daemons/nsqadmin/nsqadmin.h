#pragma once
// NsqAdmin: the daemon minus process concerns. Owns the HTTP server (with its worker pool), the
// notifier and the history poller. start() binds or throws; stop() is idempotent and returns once
// every thread has finished.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "nsq/http/server.h"
#include "nsq/net/worker_pool.h"
#include "nsqadmin/history.h"
#include "nsqadmin/http_api.h"
#include "nsqadmin/notifier.h"
#include "nsqadmin/options.h"

namespace nsq::admin {

class NsqAdmin {
 public:
  explicit NsqAdmin(const Options& opts);
  ~NsqAdmin();

  void start();  // throws Poco::Exception (address in use, bad TLS files) or std::runtime_error
  void stop();
  int httpPort() const { return port_; }
  History& history() { return *history_; }

 private:
  void poll();  // the history poller's loop
  RuntimeOptions options_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<History> history_;
  std::unique_ptr<ApiContext> ctx_;
  std::unique_ptr<net::WorkerPool> pool_;
  std::unique_ptr<http::Server> server_;
  std::thread poller_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool stopped_ = false;
  int port_ = 0;
};

}  // namespace nsq::admin

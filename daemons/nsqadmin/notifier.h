#pragma once
// Notifier: POSTs a JSON record of every admin action to --notification-http-endpoint, as the
// original nsqadmin does ({"action","topic","channel","node","timestamp","user","remote_ip",
// "user_agent","url","via"}). Records wait in a bounded queue and one thread sends them, so a
// slow or dead endpoint never delays an action: past kMaxQueued, records are dropped (and
// logged). push() from any thread; stop() sends nothing more and joins.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "nsq/client/lookupd_client.h"

namespace nsq::admin {

struct AdminAction {
  std::string action, topic, channel, node;
  int64_t timestamp = 0;  // unix seconds
  std::string user, remoteIp, userAgent, url, via;
};

std::string toJson(const AdminAction& a);

class Notifier {
 public:
  static constexpr std::size_t kMaxQueued = 1024;
  Notifier(std::string endpoint, HttpTimeouts timeouts);
  ~Notifier();
  void push(AdminAction action);  // no-op when the endpoint is empty
  void stop();

 private:
  void run();
  std::string endpoint_;
  HttpTimeouts timeouts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<AdminAction> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nsq::admin

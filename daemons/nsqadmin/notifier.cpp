// Notifier: one sender thread behind a bounded queue (see notifier.h).
#include "nsqadmin/notifier.h"

#include "nsq/base/json_text.h"
#include "nsq/base/log.h"

namespace nsq::admin {

std::string toJson(const AdminAction& a) {
  std::string out = "{\"action\":" + jsonQuote(a.action) + ",\"topic\":" + jsonQuote(a.topic);
  if (!a.channel.empty()) out += ",\"channel\":" + jsonQuote(a.channel);
  if (!a.node.empty()) out += ",\"node\":" + jsonQuote(a.node);
  out += ",\"timestamp\":" + std::to_string(a.timestamp);
  if (!a.user.empty()) out += ",\"user\":" + jsonQuote(a.user);
  out += ",\"remote_ip\":" + jsonQuote(a.remoteIp) + ",\"user_agent\":" + jsonQuote(a.userAgent) +
         ",\"url\":" + jsonQuote(a.url) + ",\"via\":" + jsonQuote(a.via) + "}";
  return out;
}

Notifier::Notifier(std::string endpoint, HttpTimeouts timeouts)
    : endpoint_(std::move(endpoint)), timeouts_(timeouts) {
  if (!endpoint_.empty()) thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() { stop(); }

void Notifier::push(AdminAction action) {
  if (endpoint_.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= kMaxQueued) {
      logWarn("notification queue full: dropping ", action.action, " of ", action.topic);
      return;
    }
    queue_.push_back(std::move(action));
  }
  cv_.notify_one();
}

void Notifier::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::run() {
  for (;;) {
    AdminAction a;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      a = std::move(queue_.front());
      queue_.pop_front();
    }
    HttpCall call;
    call.method = "POST";
    call.url = endpoint_;
    call.body = toJson(a);
    call.contentType = "application/json";
    call.timeouts = timeouts_;
    try {
      auto r = httpFetch(call);
      if (r.status / 100 != 2) logWarn("notification POST to ", endpoint_, " got status ", std::to_string(r.status));
    } catch (const std::exception& e) {
      logError("notification POST failed: ", e.what());
    }
  }
}

}  // namespace nsq::admin

// Health: the failing sources behind /ping. One atomic flag keeps the healthy case (every good
// write of every queue calls clearHealth()) off the mutex.
#include "nsqd/health.h"

#include "nsq/base/log.h"

namespace nsq::nsqd {

void Health::setHealth(const std::string& source, const std::string& error) {
  std::lock_guard lock(mu_);
  errors_[source] = {++seq_, error};
  healthy_.store(false);
}

void Health::clearHealth(const std::string& source) {
  if (healthy()) return;
  std::lock_guard lock(mu_);
  if (errors_.erase(source) == 0) return;
  if (errors_.empty()) {
    healthy_.store(true);
    logInfo("NSQ: healthy again (", source, " works)");
  }
}

std::string Health::text() const {
  std::lock_guard lock(mu_);
  const std::pair<uint64_t, std::string>* latest = nullptr;
  for (const auto& [source, e] : errors_)
    if (!latest || e.first > latest->first) latest = &e;
  return latest ? "NOK - " + latest->second : "OK";
}

}  // namespace nsq::nsqd

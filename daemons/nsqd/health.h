#pragma once
// Health: nsqd's /ping state. NOK while any source (a disk queue, a journal) has a failed write
// or sync that no later write or sync of the same source has made good; the text is that of the
// latest failure. Any thread.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "nsqd/queue_context.h"

namespace nsq::nsqd {

class Health final : public HealthSink {
 public:
  void setHealth(const std::string& source, const std::string& error) override;
  void clearHealth(const std::string& source) override;  // logs when the last failure clears
  std::string text() const;  // "OK" or "NOK - <error>"
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> healthy_{true};
  mutable std::mutex mu_;
  std::map<std::string, std::pair<uint64_t, std::string>> errors_;  // source -> (seq, error)
  uint64_t seq_ = 0;
};

}  // namespace nsq::nsqd

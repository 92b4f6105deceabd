// Syncer (syncer.h). A task that throws is logged and dropped; the thread carries on with the
// next one, since an escaped exception would terminate nsqd.
#include "nsqd/syncer.h"

#include <exception>
#include <utility>

#include "nsq/base/log.h"

namespace nsq::nsqd {

void Syncer::start() {
  std::lock_guard lock(mu_);
  if (!background_ || running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Syncer::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

void Syncer::run(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (running_ && !stopping_ && tasks_.size() < kMaxQueued) {
      tasks_.push_back(std::move(task));
      if (tasks_.size() == 1) cv_.notify_one();
      return;
    }
  }
  task();
}

std::size_t Syncer::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

void Syncer::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and everything queued has run
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      logError("SYNC: task failed - ", e.what());
    } catch (...) {
      logError("SYNC: task failed - unknown exception");
    }
    task = nullptr;  // what it holds goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace nsq::nsqd

// WorkerPool: one mutex and condition variable around a deque. The work it runs (HTTP
// handlers) takes far longer than the hand-off, so nothing finer is needed.
#include "nsq/net/worker_pool.h"

#include <pthread.h>

#include "nsq/base/log.h"

namespace nsq::net {

WorkerPool::WorkerPool(std::string name, std::size_t threads, std::size_t maxQueued)
    : name_(std::move(name)), maxQueued_(maxQueued) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= maxQueued_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkerPool::run() {
  ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      logError(name_, ": task failed: ", e.what());
    } catch (...) {
      logError(name_, ": task failed with an unknown exception");
    }
  }
}

}  // namespace nsq::net

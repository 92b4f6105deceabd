#pragma once
// WorkerPool: a fixed number of threads taking tasks from one bounded queue. submit() never
// blocks: a full queue is the caller's to answer (e.g. 503). A task that throws is logged and
// the thread goes on with the next one.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nsq::net {

class WorkerPool {
 public:
  WorkerPool(std::string name, std::size_t threads, std::size_t maxQueued);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (task dropped, not run) when maxQueued tasks wait or the pool has stopped. Any thread.
  [[nodiscard]] bool submit(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void stop();
  std::size_t queued() const;

 private:
  void run();

  std::string name_;
  std::size_t maxQueued_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nsq::net

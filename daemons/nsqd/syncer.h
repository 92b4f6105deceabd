#pragma once
// Syncer: the thread that runs nsqd's fsyncs, so no IO thread and no lock holder waits for the
// disk. Disk queues report a due sync through DiskQueueOptions::onSyncDue, journals hand over
// their fsync handle; both become tasks here, run one at a time in the order they came. The
// order is what durability needs: a channel queues its journal fsync before the disk-queue sync
// that lets the matching pops become durable.
//
// With --sync-every=1 the user asked for every write to be durable when it is acknowledged:
// then (and before start() / after stop()) tasks run on the caller, as before. The queue is
// bounded: past kMaxQueued tasks a caller runs its own task, which slows that publisher rather
// than letting memory grow.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace nsq::nsqd {

class Syncer {
 public:
  static constexpr std::size_t kMaxQueued = 4096;

  explicit Syncer(bool background) : background_(background) {}
  ~Syncer() { stop(); }
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  void start();
  // Runs whatever is queued, then joins the thread. Later tasks run on their caller.
  void stop();

  // Runs task on the syncer thread (or right here, see above). Any thread; never call it with a
  // lock held that the task's fsync must not be waited for under. On the syncer thread an
  // exception from task is logged and the thread goes on; on the caller it propagates.
  void run(std::function<void()> task);

  // Tasks queued and not yet started (for tests and /debug).
  std::size_t queued() const;

 private:
  void loop();

  const bool background_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nsq::nsqd

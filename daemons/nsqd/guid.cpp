// Message ID generation (twitter-snowflake layout, as the original nsqd).
#include "nsqd/guid.h"

#include <thread>

#include "nsqd/clock.h"

namespace nsq::nsqd {

namespace {
constexpr int64_t kTwepoch = 1288834974288LL;
constexpr int64_t kSequenceMask = (1 << 12) - 1;
}  // namespace

uint64_t GuidFactory::next() { return next(wallNanos()); }

uint64_t GuidFactory::next(int64_t wallNs) {
  // A time older than the last ID's tick (read before another publisher's, or a clock that went
  // back) counts as that tick.
  const int64_t ts = wallNs >> 20;
  if (ts > lastTs_) {
    lastTs_ = ts;
    sequence_ = 0;
  } else {
    while (sequence_ == kSequenceMask) {  // 4096 IDs in this ~1 ms tick: wait for the next one
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (const int64_t now = wallNanos() >> 20; now > lastTs_) {
        lastTs_ = now;
        sequence_ = -1;
      }
    }
    ++sequence_;
  }
  return static_cast<uint64_t>(((lastTs_ - kTwepoch) << 22) | (nodeId_ << 12) | sequence_);
}

}  // namespace nsq::nsqd

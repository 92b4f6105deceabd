// Message ID generation (twitter-snowflake layout, as the original nsqd).
#include "nsqd/guid.h"

#include <thread>

#include "nsqd/clock.h"

namespace nsq::nsqd {

namespace {
constexpr int64_t kTwepoch = 1288834974288LL;
constexpr int64_t kSequenceMask = (1 << 12) - 1;
}  // namespace

uint64_t GuidFactory::next() {
  for (;;) {
    int64_t ts = wallNanos() >> 20;
    if (ts < lastTs_) {  // clock went back: wait it out
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (ts == lastTs_) {
      if (sequence_ == kSequenceMask) {  // 4096 IDs in this ~1ms tick: wait for the next tick
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        continue;
      }
      ++sequence_;
    } else {
      sequence_ = 0;
    }
    lastTs_ = ts;
    return static_cast<uint64_t>(((ts - kTwepoch) << 22) | (nodeId_ << 12) | sequence_);
  }
}

}  // namespace nsq::nsqd

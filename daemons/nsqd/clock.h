#pragma once
// Time sources. Wall-clock nanoseconds stamp messages (they travel to clients); the monotonic clock
// drives every deadline so a clock step never expires or freezes in-flight messages.
#include <chrono>
#include <cstdint>

namespace nsq::nsqd {

inline int64_t wallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline int64_t monoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace nsq::nsqd

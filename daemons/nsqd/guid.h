#pragma once
// GuidFactory: per-topic message IDs, NSQ-COMPAT §4.11:
//   guid = ((ts - 1288834974288) << 22) | (nodeId << 12) | seq,  ts = unix_ns >> 20
// 12-bit seq resets when ts changes; on overflow or clock regression wait and retry.
// Not thread-safe: the topic calls it under its mutex.
#include <cstdint>

namespace nsq::nsqd {

class GuidFactory {
 public:
  explicit GuidFactory(int64_t nodeId) : nodeId_(nodeId) {}
  uint64_t next();

 private:
  int64_t nodeId_;
  int64_t lastTs_ = 0;
  int64_t sequence_ = 0;
};

}  // namespace nsq::nsqd

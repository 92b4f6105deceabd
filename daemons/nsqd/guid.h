#pragma once
// GuidFactory: per-topic message IDs, NSQ-COMPAT §4.11:
//   guid = ((ts - 1288834974288) << 22) | (nodeId << 12) | seq,  ts = unix_ns >> 20
// 12-bit seq resets when ts moves on; a ts older than the last (the clock went back) counts as
// the last; past 4096 IDs in one tick it waits for the next tick.
// Not thread-safe: the topic calls it under its ID lock (guidMu_, taken before the topic lock).
//
// next(wallNs) takes a time the caller read before it took that mutex (one clock read per
// publish: reading it per ID was 4% of nsqd's CPU on MPUB). A time older than the last ID's
// tick counts as that tick, so IDs stay unique and increasing whoever read the clock first;
// only a full tick, or a real clock regression, makes it read the clock again and wait.
#include <cstdint>

namespace nsq::nsqd {

class GuidFactory {
 public:
  explicit GuidFactory(int64_t nodeId) : nodeId_(nodeId) {}
  uint64_t next();
  uint64_t next(int64_t wallNs);

 private:
  int64_t nodeId_;
  int64_t lastTs_ = 0;
  int64_t sequence_ = 0;
};

}  // namespace nsq::nsqd

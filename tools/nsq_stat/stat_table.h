#pragma once
// nsq_stat's periodic table (NSQ-COMPAT §5.6): channel counters summed over nsqd nodes, and the
// header and row text, column widths 7 7 | 7 7 7 5 5 | 7 7 12 7, right-aligned.
#include <cstdint>
#include <string>

#include <Poco/JSON/Object.h>

namespace nsq {

struct ChannelCounts {
  int64_t depth = 0;
  int64_t backendDepth = 0;
  int64_t inFlight = 0;
  int64_t deferred = 0;
  int64_t requeued = 0;
  int64_t timedOut = 0;
  int64_t messages = 0;
  int64_t clients = 0;
  void add(const ChannelCounts& o);
};

// Reads one CHANNEL object of /stats JSON.
ChannelCounts channelCountsFromJson(const Poco::JSON::Object& channel);

// The two header lines (printed before the first poll and then every 25 polls).
std::string statHeader();
// One data row: rates are per second over `intervalSeconds` from prev to cur.
std::string statRow(const ChannelCounts& prev, const ChannelCounts& cur, double intervalSeconds);

}  // namespace nsq

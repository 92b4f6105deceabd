#pragma once
// nsq_stat's periodic table (NSQ-COMPAT §5.6): channel counters summed over nsqd nodes, and the
// header and row text, column widths 7 7 | 7 7 7 5 5 | 7 7 12 7, right-aligned.
#include <chrono>
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

// --timestamp: the header with a "time" column first, and a row with `at` (UTC RFC 3339, whole
// seconds) first.
std::string statHeader(bool timeColumn);
std::string statRow(const ChannelCounts& prev, const ChannelCounts& cur, double intervalSeconds,
                    std::chrono::system_clock::time_point at);
// --json: one line holding one JSON object per report: "timestamp" (UTC RFC 3339 with
// milliseconds), "topic", "channel", the two rates and every counter, named as in /stats.
std::string statJson(const ChannelCounts& prev, const ChannelCounts& cur, double intervalSeconds,
                     std::chrono::system_clock::time_point at, const std::string& topic, const std::string& channel);
// UTC RFC 3339: "2026-12-06T05:40:00Z", or with millis "2026-12-06T05:40:00.123Z".
std::string rfc3339(std::chrono::system_clock::time_point at, bool millis);

}  // namespace nsq

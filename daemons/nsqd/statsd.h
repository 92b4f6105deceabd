#pragma once
// Statsd: pushes nsqd's figures to a statsd daemon over UDP every --statsd-interval
// (NSQ-COMPAT §4.10), with the original's metric names. The line and packet building are free
// functions so tests can check them without a socket.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nsqd/stats.h"

namespace nsq::nsqd {

class Nsqd;

// --statsd-prefix with "%s" replaced by "<broadcast_address>_<http_port>" ('.' and ':' made
// '_'; an IPv6 address is bracketed first, as Go's JoinHostPort does) and a '.' appended
// when missing. "" stays "".
std::string statsdPrefix(const std::string& prefixTemplate, const std::string& broadcastAddress,
                         int httpPort);

// What one push compares against: counters are sent as deltas since the previous push.
struct StatsdState {
  std::vector<TopicSnapshot> lastTopics;
  uint32_t lastGcRuns = 0;
};

// The lines of one push ("<prefix><stat>:<value>|c" or "|g", each ending in '\n'). Updates
// state for the next push. memory: the mem.* gauges, or nullopt to leave them out.
std::vector<std::string> statsdLines(const std::vector<TopicSnapshot>& topics,
                                     const std::optional<MemoryStats>& memory,
                                     const std::string& prefix, bool excludeEphemeral,
                                     StatsdState& state);

// Packs lines into packets of at most packetSize bytes without splitting a line; a line longer
// than packetSize goes alone in its own packet.
std::vector<std::string> statsdPackets(const std::vector<std::string>& lines, std::size_t packetSize);

// The push thread. start() and stop() from the thread that runs Nsqd::start/stop.
class StatsdPusher {
 public:
  explicit StatsdPusher(Nsqd& nsqd);
  ~StatsdPusher();
  void start();
  // Wakes the thread; a push in progress sends its remaining packets without pacing. Idempotent.
  void stop();

 private:
  void loop();
  void push(StatsdState& state);
  // Sleeps up to d; false when stop() was called.
  bool sleepFor(std::chrono::nanoseconds d);

  Nsqd& nsqd_;
  std::string prefix_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace nsq::nsqd

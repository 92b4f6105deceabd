#pragma once
// DestinationPool: which destination (an nsqd for nsq_to_nsq, an HTTP endpoint for nsq_to_http)
// a publish goes to first, and which ones next when it fails (the tools' --mode). Every mode returns all destinations, so a batch is tried on each before its
// messages are requeued at the source.
//   round-robin     rotate the first choice; the rest follow in ring order
//   hostpool        like go-hostpool: healthy hosts first (rotating); a failed host is skipped
//                   until its retry time (30 s, doubling per failure up to 900 s), then tried again
//   epsilon-greedy  healthy hosts ordered by their mean publish time (decayed), except that a
//                   random host goes first 10% of the time to keep measuring the others
// Thread-safe; the clock is passed in so tests drive it.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace nsq {

class DestinationPool {
 public:
  enum class Mode { RoundRobin, HostPool, EpsilonGreedy };
  using Clock = std::chrono::steady_clock;
  // Parses "round-robin", "hostpool", "epsilon-greedy"; false otherwise.
  static bool parseMode(const std::string& name, Mode* mode);

  DestinationPool(std::size_t count, Mode mode, unsigned seed = std::random_device{}());
  // Indices of every destination, first choice first.
  std::vector<std::size_t> order(Clock::time_point now);
  // Reports the outcome of one publish to destination i and how long it took.
  void mark(std::size_t i, bool ok, std::chrono::microseconds took, Clock::time_point now);

 private:
  struct Host {
    bool dead = false;
    Clock::time_point retryAt{};
    std::chrono::seconds retryDelay{30};
    double meanMicros = 0;  // decayed mean publish time; 0 = not measured yet
  };
  std::mutex mutex_;
  Mode mode_;
  std::vector<Host> hosts_;
  std::size_t next_ = 0;
  std::mt19937 rng_;
};

}  // namespace nsq

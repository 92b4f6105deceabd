#pragma once
// Consumer flow control, kept free of sockets and threads so it can be tested alone
// (NSQ-COMPAT §6): how --max-in-flight is split into per-connection RDY counts, how spare RDY
// is redistributed when there are more connections than messages allowed in flight, and the
// exponential backoff after failed messages.
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace nsq {

using SteadyTime = std::chrono::steady_clock::time_point;

// Each connection's share: max(1, maxInFlight / conns).
int64_t perConnectionRdy(int64_t maxInFlight, std::size_t conns);

// The RDY to send to one connection that wants `desired`: capped by the server's max_rdy_count
// and by what is left of maxInFlight once the other connections' RDY (totalRdy minus this
// connection's current connRdy) is counted. nullopt: nothing is left (retry later).
std::optional<int64_t> rdyToSend(int64_t desired, int64_t maxRdyCount, int64_t maxInFlight, int64_t totalRdy,
                                 int64_t connRdy);

struct RdyConnState {
  int64_t rdy = 0;
  SteadyTime lastMessage;
  SteadyTime lastRdyChange;
};

struct RedistributeConfig {
  std::chrono::milliseconds lowRdyIdleTimeout{10000};  // RDY>0 but no message for this long -> 0
  std::chrono::milliseconds lowRdyTimeout{30000};      // RDY>0 set this long ago -> 0
};

// Redistribution tick (every 5 s). Only acts when conns > maxInFlight, or in backoff with more
// than one connection: idle or stale RDY>0 connections go to 0, then the spare RDY
// (maxInFlight, or 1 in backoff, minus what is still given) is dealt as RDY 1 to random
// connections. Returns the new RDY per connection (same order); unchanged when it does nothing.
std::vector<int64_t> redistributeRdy(const std::vector<RdyConnState>& conns, int64_t maxInFlight, bool inBackoff,
                                     SteadyTime now, const RedistributeConfig& cfg, std::mt19937& rng);

// Exponential backoff (go-nsq's startStopContinueBackoff). A failure raises the level while
// multiplier x 2^(level+1) stays within maxDelay; a success lowers it. While the level is above
// zero every result sets RDY 0 everywhere and starts a wait of multiplier x 2^level, after which
// one connection gets RDY 1 to test the water; results that arrive during a wait are ignored.
// Reaching level 0 again restores every connection's RDY.
class Backoff {
 public:
  enum class Signal { Success, Failure, Continue };
  enum class Action {
    None,   // nothing changes
    Enter,  // RDY 0 on every connection, then after delay(): RDY 1 on one random connection
    Exit,   // backoff over: give every connection its normal RDY
  };
  Backoff(std::chrono::milliseconds multiplier, std::chrono::milliseconds maxDelay)
      : multiplier_(multiplier), maxDelay_(maxDelay) {}

  Action onResult(Signal s);
  // The wait that the last Enter asked for.
  std::chrono::milliseconds delay() const;
  // The wait is over (the caller has sent RDY 1 somewhere).
  void resumed() { waiting_ = false; }
  int level() const { return level_; }
  bool waiting() const { return waiting_; }
  bool active() const { return level_ > 0 || waiting_; }

 private:
  std::chrono::milliseconds duration(int level) const;
  std::chrono::milliseconds multiplier_;
  std::chrono::milliseconds maxDelay_;
  int level_ = 0;
  bool waiting_ = false;
};

}  // namespace nsq

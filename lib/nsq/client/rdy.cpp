// RDY split, redistribution and backoff for consumers. Pure functions of their inputs; the
// Consumer applies the results to its connections under its own lock.
#include "nsq/client/rdy.h"

#include <algorithm>

namespace nsq {

int64_t perConnectionRdy(int64_t maxInFlight, std::size_t conns) {
  if (conns == 0) return std::max<int64_t>(1, maxInFlight);
  return std::max<int64_t>(1, maxInFlight / static_cast<int64_t>(conns));
}

std::optional<int64_t> rdyToSend(int64_t desired, int64_t maxRdyCount, int64_t maxInFlight, int64_t totalRdy,
                                 int64_t connRdy) {
  int64_t count = std::min(desired, maxRdyCount);
  int64_t possible = maxInFlight - (totalRdy - connRdy);
  if (possible <= 0) return count > 0 ? std::nullopt : std::optional<int64_t>(0);
  return std::min(count, possible);
}

std::vector<int64_t> redistributeRdy(const std::vector<RdyConnState>& conns, int64_t maxInFlight, bool inBackoff,
                                     SteadyTime now, const RedistributeConfig& cfg, std::mt19937& rng) {
  std::vector<int64_t> rdy;
  for (const auto& c : conns) rdy.push_back(c.rdy);
  bool needed = static_cast<int64_t>(conns.size()) > maxInFlight || (inBackoff && conns.size() > 1);
  if (!needed) return rdy;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    if (rdy[i] <= 0) continue;
    if (now - conns[i].lastMessage > cfg.lowRdyIdleTimeout || now - conns[i].lastRdyChange > cfg.lowRdyTimeout)
      rdy[i] = 0;
  }
  int64_t total = 0;
  for (int64_t r : rdy) total += r;
  int64_t available = (inBackoff ? 1 : maxInFlight) - total;
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < conns.size(); ++i)
    if (rdy[i] == 0) candidates.push_back(i);
  while (available > 0 && !candidates.empty()) {
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    std::size_t k = pick(rng);
    rdy[candidates[k]] = 1;
    candidates.erase(candidates.begin() + static_cast<long>(k));
    --available;
  }
  return rdy;
}

std::chrono::milliseconds Backoff::duration(int level) const {
  auto d = multiplier_ * (int64_t{1} << std::min(level, 40));
  return std::min<std::chrono::milliseconds>(d, maxDelay_);
}

std::chrono::milliseconds Backoff::delay() const { return duration(level_); }

Backoff::Action Backoff::onResult(Signal s) {
  if (waiting_) return Action::None;
  bool updated = false;
  if (s == Signal::Success && level_ > 0) {
    --level_;
    updated = true;
  } else if (s == Signal::Failure) {
    if (multiplier_ * (int64_t{1} << std::min(level_ + 1, 40)) <= maxDelay_) {
      ++level_;
      updated = true;
    }
  }
  if (updated && level_ == 0) return Action::Exit;
  if (level_ > 0) {
    waiting_ = true;
    return Action::Enter;
  }
  return Action::None;
}

}  // namespace nsq

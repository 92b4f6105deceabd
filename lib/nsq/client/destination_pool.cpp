// DestinationPool: the --mode choice of nsq_to_nsq and nsq_to_http. Unlike go-hostpool, a host is never
// "unavailable" for a batch: dead hosts are ordered last instead of left out, so a batch is
// requeued at the source only after every destination refused it.
#include "nsq/client/destination_pool.h"

#include <algorithm>

namespace nsq {

namespace {
constexpr auto kMaxRetryDelay = std::chrono::seconds(900);
constexpr double kEpsilon = 0.1;
constexpr double kDecay = 0.8;  // weight of the old mean in each new sample
}  // namespace

bool DestinationPool::parseMode(const std::string& name, Mode* mode) {
  if (name == "round-robin") *mode = Mode::RoundRobin;
  else if (name == "hostpool") *mode = Mode::HostPool;
  else if (name == "epsilon-greedy") *mode = Mode::EpsilonGreedy;
  else return false;
  return true;
}

DestinationPool::DestinationPool(std::size_t count, Mode mode, unsigned seed)
    : mode_(mode), hosts_(count), rng_(seed) {}

std::vector<std::size_t> DestinationPool::order(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const std::size_t n = hosts_.size();
  std::vector<std::size_t> ring;
  ring.reserve(n);
  std::size_t start = n ? next_++ % n : 0;
  for (std::size_t k = 0; k < n; ++k) ring.push_back((start + k) % n);
  if (mode_ == Mode::RoundRobin || n < 2) return ring;

  auto usable = [&](std::size_t i) { return !hosts_[i].dead || now >= hosts_[i].retryAt; };
  std::stable_partition(ring.begin(), ring.end(), usable);
  if (mode_ == Mode::EpsilonGreedy) {
    auto live = static_cast<std::ptrdiff_t>(std::count_if(ring.begin(), ring.end(), usable));
    std::stable_sort(ring.begin(), ring.begin() + live,
                     [&](std::size_t a, std::size_t b) { return hosts_[a].meanMicros < hosts_[b].meanMicros; });
    if (live > 1 && std::uniform_real_distribution<double>(0, 1)(rng_) < kEpsilon) {
      auto pick = std::uniform_int_distribution<std::ptrdiff_t>(0, live - 1)(rng_);
      std::rotate(ring.begin(), ring.begin() + pick, ring.begin() + pick + 1);
    }
  }
  return ring;
}

void DestinationPool::mark(std::size_t i, bool ok, std::chrono::microseconds took, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (i >= hosts_.size()) return;
  Host& h = hosts_[i];
  if (ok) {
    h.dead = false;
    h.retryDelay = std::chrono::seconds(30);
    double sample = static_cast<double>(took.count());
    h.meanMicros = h.meanMicros == 0 ? sample : kDecay * h.meanMicros + (1 - kDecay) * sample;
    return;
  }
  if (h.dead) h.retryDelay = std::min(h.retryDelay * 2, std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryDelay));
  h.dead = true;
  h.retryAt = now + h.retryDelay;
}

}  // namespace nsq

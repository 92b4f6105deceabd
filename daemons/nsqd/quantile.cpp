// Quantile: the targeted-quantile summary and the two-stream latency window. Two departures
// from the paper, both for the error bound: below a target the invariant is 2 eps n (see
// allowed()), and a new value's rank uncertainty is taken from its successor's (g + delta - 1),
// the uncertainty it really has, rather than f(r, n) - 1; the same rule merges whole
// summaries, so merging channels into a topic keeps the bound.
#include "nsqd/quantile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace nsq::nsqd {

std::shared_ptr<const QuantileTargets> makeQuantileTargets(const std::vector<std::string>& values) {
  if (values.empty()) return nullptr;
  auto t = std::make_shared<QuantileTargets>();
  for (const auto& v : values) t->quantiles.push_back(std::strtod(v.c_str(), nullptr));
  return t;
}

QuantileSummary::QuantileSummary(std::shared_ptr<const QuantileTargets> targets)
    : targets_(std::move(targets)) {}

double QuantileSummary::allowed(double rank) const {
  const double n = static_cast<double>(n_);
  const double eps = targets_->epsilon;
  double m = std::numeric_limits<double>::infinity();
  for (double q : targets_->quantiles) {
    if (q >= 1) continue;  // no bound below the maximum, which is never merged away
    // Above the target the paper's 2 eps r / q. Below it the paper allows
    // 2 eps (n - r) / (1 - q), which grows as r moves down: a tuple starting just below the
    // target may then straddle it wider than 2 eps n (for q >= 1 - 2 eps without limit), and the
    // answer misses by more than eps n (perks shows the same). 2 eps n there keeps the bound.
    m = std::min(m, rank >= q * n ? 2 * eps * rank / q : 2 * eps * n);
  }
  return m;
}

// Merges tuples_ with a second ascending sequence other(0..otherSize-1) holding otherCount
// values. A tuple's new delta adds the uncertainty of the other side's next tuple: between
// the two neighbours it came from, it could sit anywhere.
template <typename Other>
void QuantileSummary::mergeTuples(std::size_t otherSize, Other other, uint64_t otherCount) {
  scratch_.clear();
  scratch_.reserve(tuples_.size() + otherSize);
  std::size_t i = 0, j = 0;
  while (i < tuples_.size() || j < otherSize) {
    bool takeOurs = j == otherSize || (i < tuples_.size() && tuples_[i].value <= other(j).value);
    if (takeOurs) {
      Tuple t = tuples_[i++];
      if (j < otherSize) t.delta += other(j).g + other(j).delta - 1;
      scratch_.push_back(t);
    } else {
      Tuple t = other(j++);
      if (i < tuples_.size()) t.delta += tuples_[i].g + tuples_[i].delta - 1;
      scratch_.push_back(t);
    }
  }
  tuples_.swap(scratch_);
  n_ += otherCount;
  compress();
}

void QuantileSummary::insertSorted(std::span<const double> sorted) {
  if (sorted.empty()) return;
  mergeTuples(sorted.size(), [&](std::size_t k) { return Tuple{sorted[k], 1, 0}; }, sorted.size());
}

void QuantileSummary::merge(const QuantileSummary& other) {
  if (other.n_ == 0) return;
  mergeTuples(other.tuples_.size(), [&](std::size_t k) { return other.tuples_[k]; }, other.n_);
}

// Folds each tuple into its right neighbour while the neighbour stays within the invariant,
// walking from the top; kept tuples are written from the back, then moved to the front. The
// first and last tuples (minimum and maximum) are always kept.
void QuantileSummary::compress() {
  const std::size_t size = tuples_.size();
  if (size < 3) return;
  std::size_t w = size - 1;     // tuples_[w..] are kept; tuples_[w] is the one to fold into
  uint64_t suffix = tuples_[w].g;  // sum of g from index j on
  for (std::size_t j = size - 2; j >= 1; --j) {
    const Tuple c = tuples_[j];
    suffix += c.g;
    const double rank = static_cast<double>(n_ - suffix);  // sum of g below j
    Tuple& x = tuples_[w];
    if (static_cast<double>(c.g + x.g + x.delta) <= allowed(rank)) {
      x.g += c.g;
    } else {
      tuples_[--w] = c;
    }
  }
  tuples_[--w] = tuples_[0];
  if (w > 0) std::move(tuples_.begin() + static_cast<std::ptrdiff_t>(w), tuples_.end(), tuples_.begin());
  tuples_.resize(size - w);
}

double QuantileSummary::query(double q) const {
  if (tuples_.empty()) return 0;
  // The tuple whose possible ranks [rmin, rmin + delta] stray least from the target. Some tuple
  // is within eps n: those straddling the target are at most 2 eps n wide (see allowed()).
  const double target = std::ceil(q * static_cast<double>(n_));
  double best = std::numeric_limits<double>::infinity();
  double value = tuples_.back().value;
  uint64_t rmin = 0;
  for (const Tuple& t : tuples_) {
    rmin += t.g;
    double lo = static_cast<double>(rmin), hi = static_cast<double>(rmin + t.delta);
    double miss = std::max(target - lo, hi - target);
    if (miss < best) {
      best = miss;
      value = t.value;
    }
  }
  return value;
}

void QuantileSummary::clear() {
  tuples_.clear();
  n_ = 0;
}

QuantileStream::QuantileStream(std::shared_ptr<const QuantileTargets> targets) : summary_(std::move(targets)) {
  buffer_.reserve(kBufferSize);
}

void QuantileStream::insert(double value) {
  buffer_.push_back(value);
  sum_ += value;
  if (buffer_.size() < kBufferSize) return;
  std::sort(buffer_.begin(), buffer_.end());
  summary_.insertSorted(buffer_);
  buffer_.clear();
}

void QuantileStream::reset() {
  buffer_.clear();
  summary_.clear();
  sum_ = 0;
}

void QuantileStream::mergeInto(QuantileSummary& into) const {
  into.merge(summary_);
  if (buffer_.empty()) return;
  std::vector<double> sorted = buffer_;
  std::sort(sorted.begin(), sorted.end());
  into.insertSorted(sorted);
}

LatencyPercentiles percentilesOf(const QuantileSummary& summary, double sumNs) {
  LatencyPercentiles p;
  p.count = summary.count();
  p.sumNs = sumNs;
  for (double q : summary.targets().quantiles) p.values.emplace_back(q, summary.query(q));
  return p;
}

LatencyWindow::LatencyWindow(std::shared_ptr<const QuantileTargets> targets, int64_t windowNs, int64_t nowMono)
    : targets_(targets),
      streams_{QuantileStream(targets), QuantileStream(targets)},
      lastRotate_(nowMono),
      halfWindow_(std::max<int64_t>(windowNs / 2, 1)) {}

// As the original: the window moves in steps of half its length, the older stream being
// cleared at each step. After an idle spell of a whole window or more, both are.
void LatencyWindow::rotateLocked(int64_t now) {
  if (now - lastRotate_ <= halfWindow_) return;
  int64_t steps = (now - lastRotate_ - 1) / halfWindow_;  // then now <= lastRotate_ + halfWindow_
  if (steps >= 2) {
    streams_[0].reset();
    streams_[1].reset();
  } else {
    streams_[current_ ^ 1].reset();
  }
  current_ ^= static_cast<int>(steps & 1);
  lastRotate_ += steps * halfWindow_;
}

void LatencyWindow::record(double value, int64_t nowMono) {
  std::lock_guard lock(mu_);
  rotateLocked(nowMono);
  streams_[current_].insert(value);
}

void LatencyWindow::collect(QuantileSummary& into, double* sumNs, int64_t nowMono) {
  std::lock_guard lock(mu_);
  rotateLocked(nowMono);
  for (const auto& s : streams_) {
    s.mergeInto(into);
    *sumNs += s.sum();
  }
}

}  // namespace nsq::nsqd

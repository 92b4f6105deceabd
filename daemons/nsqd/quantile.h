#pragma once
// Quantile: streaming estimates of a few chosen quantiles, for the end-to-end processing latency
// figures (NSQ-COMPAT §4.9). The summary is the targeted-quantile algorithm of Cormode, Korn,
// Muthukrishnan and Srivastava ("Effective Computation of Biased Quantiles over Data Streams",
// ICDE 2005), the one the original nsqd uses through the perks package, with its defaults:
// rank error epsilon = 0.01 and a 500-value insert buffer.
//
// Guarantee: for each target q, query(q) returns a value whose rank among the n values seen is
// within epsilon * n of ceil(q * n) (the error perks promises; see quantile.cpp for the two
// places where we depart from the paper to keep it). Space: on the order of 1/epsilon tuples
// (about 80 for a million values), so memory stays bounded however many values arrive;
// merging summaries keeps the bound.
//
// LatencyWindow keeps two such streams, each covering half of the window: values go into the
// current one, and every half window the older one is cleared and becomes current. Reads merge
// both. Time is passed in (monotonic ns), so tests drive it with a fake clock.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nsq::nsqd {

// The quantiles to track, each in (0, 1], in the order results are reported.
struct QuantileTargets {
  std::vector<double> quantiles;
  double epsilon = 0.01;
};

// Parses --e2e-processing-latency-percentile values (already validated); null when none.
std::shared_ptr<const QuantileTargets> makeQuantileTargets(const std::vector<std::string>& values);

// A compressed, mergeable summary of a multiset of values. Not thread-safe.
class QuantileSummary {
 public:
  explicit QuantileSummary(std::shared_ptr<const QuantileTargets> targets);

  // Adds values sorted ascending. Allocates only while its tuple storage is still growing.
  void insertSorted(std::span<const double> sorted);
  // Adds another summary (of the same targets).
  void merge(const QuantileSummary& other);
  // The estimate for quantile q (one of the targets); 0 when empty.
  double query(double q) const;
  uint64_t count() const { return n_; }
  std::size_t tuples() const { return tuples_.size(); }
  void clear();
  const QuantileTargets& targets() const { return *targets_; }

 private:
  // One stored value: g = its minimum rank minus the previous tuple's, delta = how much larger
  // its rank may be than that minimum.
  struct Tuple {
    double value;
    uint64_t g;
    uint64_t delta;
  };
  // The largest g + delta a tuple at rank r may have (the "targeted" invariant f(r, n)).
  double allowed(double rank) const;
  template <typename Other>
  void mergeTuples(std::size_t otherSize, Other other, uint64_t otherCount);
  void compress();

  std::shared_ptr<const QuantileTargets> targets_;
  std::vector<Tuple> tuples_;   // ascending by value
  std::vector<Tuple> scratch_;  // merge output, swapped with tuples_ (keeps both capacities)
  uint64_t n_ = 0;
};

// A summary with an insert buffer: insert() only appends until the buffer is full, then sorts
// it and merges it in. Not thread-safe.
class QuantileStream {
 public:
  static constexpr std::size_t kBufferSize = 500;
  explicit QuantileStream(std::shared_ptr<const QuantileTargets> targets);
  void insert(double value);
  void reset();
  // Adds everything this stream holds, buffered values included, to into.
  void mergeInto(QuantileSummary& into) const;
  uint64_t count() const { return summary_.count() + buffer_.size(); }
  double sum() const { return sum_; }
  std::size_t tuples() const { return summary_.tuples(); }

 private:
  std::vector<double> buffer_;  // capacity kBufferSize, reserved up front
  QuantileSummary summary_;
  double sum_ = 0;
};

// What /stats, statsd and /metrics show for one channel or topic.
struct LatencyPercentiles {
  uint64_t count = 0;
  double sumNs = 0;
  std::vector<std::pair<double, double>> values;  // (quantile, ns), in target order
};
LatencyPercentiles percentilesOf(const QuantileSummary& summary, double sumNs);

// The sliding window of one channel: two streams of half the window each. Thread-safe.
class LatencyWindow {
 public:
  LatencyWindow(std::shared_ptr<const QuantileTargets> targets, int64_t windowNs, int64_t nowMono);
  // Records one value (ns). The lock is held for an append, and every kBufferSize values for a
  // sort and merge of the buffer.
  void record(double value, int64_t nowMono);
  // Merges both halves into into (values older than the window are dropped first); *sumNs gets
  // their sum added.
  void collect(QuantileSummary& into, double* sumNs, int64_t nowMono);
  const std::shared_ptr<const QuantileTargets>& targets() const { return targets_; }

 private:
  void rotateLocked(int64_t nowMono);
  const std::shared_ptr<const QuantileTargets> targets_;
  std::mutex mu_;
  QuantileStream streams_[2];
  int current_ = 0;
  int64_t lastRotate_;
  const int64_t halfWindow_;
};

}  // namespace nsq::nsqd

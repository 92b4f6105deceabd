// The quantile estimator against exact answers: random data of several shapes checked against
// the sorted values within the error bound, merging, bounded memory, and the two-stream window
// driven by a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "nsqd/quantile.h"

using namespace nsq::nsqd;

namespace {

std::shared_ptr<const QuantileTargets> targets(std::vector<double> qs) {
  auto t = std::make_shared<QuantileTargets>();
  t->quantiles = std::move(qs);
  return t;
}

// True when v may have a rank within eps * n of q * n in the sorted data (ties give v a range
// of ranks; any of them will do).
::testing::AssertionResult withinBound(const std::vector<double>& sorted, double q, double v, double eps) {
  const double n = static_cast<double>(sorted.size());
  const double lo = static_cast<double>(std::lower_bound(sorted.begin(), sorted.end(), v) - sorted.begin()) + 1;
  const double hi = static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), v) - sorted.begin());
  const double want = std::ceil(q * n);
  const double slack = eps * n + 1;
  if (hi < lo) return ::testing::AssertionFailure() << "value " << v << " was never inserted";
  if (lo <= want + slack && hi >= want - slack) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "q=" << q << " value " << v << " has ranks [" << lo << "," << hi
                                       << "], want " << want << " +- " << slack;
}

std::vector<double> data(const std::string& shape, std::size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> out(n);
  if (shape == "uniform") {
    std::uniform_real_distribution<double> d(0, 1e9);
    for (auto& v : out) v = std::floor(d(rng));
  } else if (shape == "lognormal") {  // latency-like: long right tail
    std::lognormal_distribution<double> d(15, 2);
    for (auto& v : out) v = std::floor(d(rng));
  } else if (shape == "ascending") {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(i);
  } else if (shape == "descending") {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(n - i);
  } else {  // few distinct values: many ties
    std::uniform_int_distribution<int> d(0, 9);
    for (auto& v : out) v = d(rng) * 1000.0;
  }
  return out;
}

const std::vector<double> kQuantiles = {1.0, 0.999, 0.99, 0.95, 0.5, 0.25, 0.01};

}  // namespace

class QuantileAccuracy : public ::testing::TestWithParam<std::tuple<const char*, std::size_t>> {};

TEST_P(QuantileAccuracy, EveryTargetWithinEpsilonOfTheExactRank) {
  auto [shape, n] = GetParam();
  auto t = targets(kQuantiles);
  QuantileStream stream(t);
  auto values = data(shape, n, 42);
  double sum = 0;
  for (double v : values) {
    stream.insert(v);
    sum += v;
  }
  QuantileSummary merged(t);
  stream.mergeInto(merged);
  EXPECT_EQ(merged.count(), n);
  EXPECT_DOUBLE_EQ(stream.sum(), sum);
  std::sort(values.begin(), values.end());
  for (double q : kQuantiles) EXPECT_TRUE(withinBound(values, q, merged.query(q), t->epsilon));
  EXPECT_EQ(merged.query(1.0), values.back());  // the maximum is kept exactly
}

INSTANTIATE_TEST_SUITE_P(Shapes, QuantileAccuracy,
                         ::testing::Combine(::testing::Values("uniform", "lognormal", "ascending", "descending", "ties"),
                                            ::testing::Values(std::size_t{7}, std::size_t{499}, std::size_t{501},
                                                              std::size_t{20000}, std::size_t{200000})));

// Too few values to compress: the answers are exact, the ceil(q * n)-th smallest.
TEST(QuantileSummary, SmallDataIsExact) {
  auto t = targets({1.0, 0.99, 0.5, 0.25});
  QuantileStream s(t);
  std::vector<double> values;
  for (int i = 1; i <= 20; ++i) values.push_back(i * 10.0);
  std::shuffle(values.begin(), values.end(), std::mt19937(3));
  for (double v : values) s.insert(v);
  QuantileSummary m(t);
  s.mergeInto(m);
  EXPECT_EQ(m.query(1.0), 200);
  EXPECT_EQ(m.query(0.99), 200);
  EXPECT_EQ(m.query(0.5), 100);
  EXPECT_EQ(m.query(0.25), 50);
}

TEST(QuantileSummary, EmptyAnswersZero) {
  QuantileSummary s(targets({0.99}));
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.query(0.99), 0);
}

TEST(QuantileSummary, MergeOfManyStreamsKeepsTheBound) {
  auto t = targets(kQuantiles);
  std::vector<double> all;
  QuantileSummary total(t);
  for (uint32_t k = 0; k < 6; ++k) {  // six channels, each with its own distribution
    QuantileStream s(t);
    auto values = data(k % 2 ? "lognormal" : "uniform", 10000 + 3000 * k, 100 + k);
    for (double v : values) s.insert(v);
    all.insert(all.end(), values.begin(), values.end());
    QuantileSummary channel(t);
    s.mergeInto(channel);
    total.merge(channel);  // a merge of merges, as topic stats does
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(total.count(), all.size());
  for (double q : kQuantiles) EXPECT_TRUE(withinBound(all, q, total.query(q), t->epsilon));
}

TEST(QuantileStream, MemoryStaysBounded) {
  auto t = targets({0.99, 0.5});
  QuantileStream s(t);
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(15, 2);
  std::size_t most = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    s.insert(std::floor(d(rng)));
    most = std::max(most, s.tuples());
  }
  EXPECT_EQ(s.count(), 1'000'000u);
  EXPECT_LT(most, 500u) << most;  // vs. a million values
}

TEST(QuantileStream, ResetForgetsEverything) {
  QuantileStream s(targets({0.5}));
  for (int i = 0; i < 1200; ++i) s.insert(i);
  s.reset();
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.sum(), 0);
  s.insert(5);
  QuantileSummary m(targets({0.5}));
  s.mergeInto(m);
  EXPECT_EQ(m.query(0.5), 5);
}

TEST(MakeQuantileTargets, ParsesInGivenOrderOrNullWhenNone) {
  EXPECT_EQ(makeQuantileTargets({}), nullptr);
  auto t = makeQuantileTargets({"1", "0.99", "0.5"});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->quantiles, (std::vector<double>{1, 0.99, 0.5}));
}

// A 10 s window: two halves of 5 s. Values older than one to two half windows disappear.
TEST(LatencyWindow, RotatesEveryHalfWindowAndReadsMergeBothHalves) {
  constexpr int64_t kS = 1'000'000'000;
  auto t = targets({1.0, 0.5});
  int64_t now = 1000 * kS;  // fake monotonic clock
  LatencyWindow w(t, 10 * kS, now);
  auto read = [&](double* sum = nullptr) {
    QuantileSummary s(t);
    double total = 0;
    w.collect(s, &total, now);
    if (sum) *sum = total;
    return percentilesOf(s, total);
  };
  for (int i = 1; i <= 100; ++i) w.record(i * 1000.0, now);  // first half: 1..100 us
  now += 5 * kS;                                              // exactly half: still the same half
  for (int i = 0; i < 10; ++i) w.record(1e9, now);
  auto p = read();
  EXPECT_EQ(p.count, 110u);
  EXPECT_EQ(p.values[0], std::make_pair(1.0, 1e9));

  now += 1;  // past the half: the second stream starts; both are read
  w.record(2e9, now);
  double sum = 0;
  p = read(&sum);
  EXPECT_EQ(p.count, 111u);
  EXPECT_EQ(p.values[0].second, 2e9);
  EXPECT_DOUBLE_EQ(sum, 5050 * 1000.0 + 10 * 1e9 + 2e9);

  now += 5 * kS;  // another half: the first half's values are gone
  p = read();
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.values[0].second, 2e9);
  EXPECT_EQ(p.values[1].second, 2e9);

  now += 5 * kS;  // and then the second's
  p = read(&sum);
  EXPECT_EQ(p.count, 0u);
  EXPECT_EQ(sum, 0);
  EXPECT_EQ(p.values[0].second, 0);

  w.record(7, now);
  now += 3600 * kS;  // a long idle spell clears everything at once
  EXPECT_EQ(read().count, 0u);
  w.record(9, now);
  p = read();
  EXPECT_EQ(p.count, 1u);
  EXPECT_EQ(p.values[1], std::make_pair(0.5, 9.0));
}

TEST(LatencyWindow, ConcurrentRecordersLoseNothing) {
  auto t = targets({0.99});
  LatencyWindow w(t, 600'000'000'000, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&w, k] {
      for (int i = 0; i < 5000; ++i) w.record(k * 5000 + i, 1);
    });
  for (auto& th : threads) th.join();
  QuantileSummary s(t);
  double sum = 0;
  w.collect(s, &sum, 2);
  EXPECT_EQ(s.count(), 20000u);
  EXPECT_DOUBLE_EQ(sum, 19999.0 * 20000 / 2);
}

#pragma once
// History: the live graphs' data. nsqadmin samples every nsqd's /stats each --history-interval
// and records, per topic and per channel summed over the nodes, one Point: depth, in-flight,
// and the publish, finish (consume), requeue and timeout rates since the previous sample.
//
// Bounds: each series is a fixed ring of capacity points (one hour at the interval); at most
// kMaxSeries series (topics + channels) are kept, and a series or node counter that has not been
// seen for longer than the ring's span is forgotten. Memory is O(kMaxSeries x capacity).
//
// Rates are computed per node before summing, from that node's previous cumulative counters, so
// one nsqd restarting (its counters start again from 0) does not disturb the others; a counter
// that went down counts as reset (the increase is its new value), so no rate is ever negative.
// Thread-safe: record() from the poller, json() from HTTP threads.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nsqadmin/cluster_info.h"

namespace nsq::admin {

// For a topic, depth is its backlog (the topic's own depth plus its channels') and in-flight the
// sum over its channels: what an operator watching the topic wants to see grow or shrink.
struct Point {
  int64_t timeMs = 0;  // unix milliseconds
  int64_t depth = 0, inFlight = 0;
  double publishRate = 0, finishRate = 0, requeueRate = 0, timeoutRate = 0;  // messages per second
};

// Fixed-capacity ring: push() overwrites the oldest once full.
class PointRing {
 public:
  explicit PointRing(std::size_t capacity) : buf_(capacity) {}
  void push(const Point& p);
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return buf_.size(); }
  std::vector<Point> points() const;  // oldest first
  const Point* last() const;

 private:
  std::vector<Point> buf_;
  std::size_t head_ = 0;  // next slot to write
  std::size_t size_ = 0;
};

// The increase of a cumulative counter from prev to cur; a decrease is a reset (cur counted
// from 0), so the result is never negative.
int64_t counterIncrease(int64_t prev, int64_t cur);

// Cumulative counters of one node's topic or channel.
struct Counters {
  int64_t published = 0, finished = 0, requeued = 0, timedOut = 0;
};

class History {
 public:
  static constexpr std::size_t kMaxSeries = 5000;
  // capacity: points per series (one hour / interval); intervalMs: the sampling interval.
  History(std::size_t capacity, int64_t intervalMs);

  // One poll: the per-node topic stats of every nsqd that answered (clients included, for the
  // finish counts), taken at nowMs.
  void record(int64_t nowMs, const std::vector<TopicStats>& perNodeTopics);

  std::vector<Point> points(const std::string& topic, const std::string& channel) const;
  std::size_t seriesCount() const;

  // {"topic","channel","interval_ms","columns":[...],"points":[[time_ms,depth,...],...]}
  std::string json(const std::string& topic, const std::string& channel) const;
  // Every topic's series: {"interval_ms","columns",topics:{"t":[[...]...]}}, for the sparklines.
  std::string topicsJson() const;

 private:
  struct Series {
    PointRing ring;
    int64_t lastSeenMs = 0;
  };
  struct NodeCounters {
    Counters counters;
    int64_t timeMs = 0;
  };
  using Key = std::pair<std::string, std::string>;  // topic, channel ("" for the topic)
  void forgetOld(int64_t nowMs);
  std::size_t capacity_;
  int64_t intervalMs_;
  mutable std::mutex mu_;
  std::map<Key, Series> series_;
  std::map<std::pair<std::string, Key>, NodeCounters> nodes_;  // (node, key) -> last counters
};

}  // namespace nsq::admin

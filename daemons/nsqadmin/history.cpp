// History: per-series point rings and the per-node counter bookkeeping behind the rates (see
// history.h for the bounds and the reset rule).
#include "nsqadmin/history.h"

#include "nsq/base/json_text.h"

namespace nsq::admin {

void PointRing::push(const Point& p) {
  if (buf_.empty()) return;
  buf_[head_] = p;
  head_ = (head_ + 1) % buf_.size();
  if (size_ < buf_.size()) ++size_;
}

std::vector<Point> PointRing::points() const {
  std::vector<Point> out;
  out.reserve(size_);
  std::size_t start = (head_ + buf_.size() - size_) % (buf_.empty() ? 1 : buf_.size());
  for (std::size_t i = 0; i < size_; ++i) out.push_back(buf_[(start + i) % buf_.size()]);
  return out;
}

const Point* PointRing::last() const {
  if (size_ == 0) return nullptr;
  return &buf_[(head_ + buf_.size() - 1) % buf_.size()];
}

int64_t counterIncrease(int64_t prev, int64_t cur) {
  if (cur < 0) return 0;
  return cur >= prev ? cur - prev : cur;
}

History::History(std::size_t capacity, int64_t intervalMs) : capacity_(capacity), intervalMs_(intervalMs) {}

namespace {
Counters channelCounters(const ChannelStats& c) {
  Counters k;
  k.published = c.messageCount;
  for (const auto& cl : c.clients) k.finished += cl.finishCount;
  k.requeued = c.requeueCount;
  k.timedOut = c.timeoutCount;
  return k;
}
}  // namespace

void History::record(int64_t nowMs, const std::vector<TopicStats>& perNodeTopics) {
  std::map<Key, Point> sums;
  std::lock_guard lock(mu_);
  auto addNode = [&](const std::string& node, const Key& key, int64_t depth, int64_t inFlight, const Counters& now) {
    Point& p = sums[key];
    p.timeMs = nowMs;
    p.depth += depth;
    p.inFlight += inFlight;
    auto [it, fresh] = nodes_.try_emplace({node, key});
    if (!fresh && nowMs > it->second.timeMs) {
      double seconds = static_cast<double>(nowMs - it->second.timeMs) / 1000.0;
      const Counters& before = it->second.counters;
      p.publishRate += static_cast<double>(counterIncrease(before.published, now.published)) / seconds;
      p.finishRate += static_cast<double>(counterIncrease(before.finished, now.finished)) / seconds;
      p.requeueRate += static_cast<double>(counterIncrease(before.requeued, now.requeued)) / seconds;
      p.timeoutRate += static_cast<double>(counterIncrease(before.timedOut, now.timedOut)) / seconds;
    }
    it->second.counters = now;
    it->second.timeMs = nowMs;
  };
  for (const auto& t : perNodeTopics) {
    Counters topic;
    topic.published = t.messageCount;
    int64_t topicInFlight = 0, backlog = t.depth;
    for (const auto& c : t.channels) {
      backlog += c.depth;
      Counters ch = channelCounters(c);
      topic.finished += ch.finished;
      topic.requeued += ch.requeued;
      topic.timedOut += ch.timedOut;
      topicInFlight += c.inFlightCount;
      addNode(t.node, {t.topicName, c.channelName}, c.depth, c.inFlightCount, ch);
    }
    addNode(t.node, {t.topicName, ""}, backlog, topicInFlight, topic);
  }
  for (const auto& [key, point] : sums) {
    auto it = series_.find(key);
    if (it == series_.end()) {
      if (series_.size() >= kMaxSeries) continue;
      it = series_.emplace(key, Series{PointRing(capacity_), nowMs}).first;
    }
    it->second.ring.push(point);
    it->second.lastSeenMs = nowMs;
  }
  forgetOld(nowMs);
}

void History::forgetOld(int64_t nowMs) {
  const int64_t span = static_cast<int64_t>(capacity_) * intervalMs_;
  for (auto it = series_.begin(); it != series_.end();)
    it = nowMs - it->second.lastSeenMs > span ? series_.erase(it) : std::next(it);
  for (auto it = nodes_.begin(); it != nodes_.end();)
    it = nowMs - it->second.timeMs > span ? nodes_.erase(it) : std::next(it);
}

std::vector<Point> History::points(const std::string& topic, const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = series_.find({topic, channel});
  return it == series_.end() ? std::vector<Point>{} : it->second.ring.points();
}

std::size_t History::seriesCount() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

namespace {
constexpr const char* kColumns =
    "[\"time_ms\",\"depth\",\"in_flight\",\"publish_rate\",\"finish_rate\",\"requeue_rate\",\"timeout_rate\"]";

std::string pointsJson(const std::vector<Point>& points) {
  std::string out = "[";
  for (const auto& p : points) {
    if (out.size() > 1) out += ',';
    out += "[" + std::to_string(p.timeMs) + "," + std::to_string(p.depth) + "," + std::to_string(p.inFlight) + "," +
           jsonNumber(p.publishRate) + "," + jsonNumber(p.finishRate) + "," + jsonNumber(p.requeueRate) + "," +
           jsonNumber(p.timeoutRate) + "]";
  }
  return out + "]";
}
}  // namespace

std::string History::json(const std::string& topic, const std::string& channel) const {
  return "{\"topic\":" + jsonQuote(topic) + ",\"channel\":" + jsonQuote(channel) +
         ",\"interval_ms\":" + std::to_string(intervalMs_) + ",\"columns\":" + kColumns +
         ",\"points\":" + pointsJson(points(topic, channel)) + "}";
}

std::string History::topicsJson() const {
  std::lock_guard lock(mu_);
  std::string out = "{\"interval_ms\":" + std::to_string(intervalMs_) + ",\"columns\":" + kColumns + ",\"topics\":{";
  bool first = true;
  for (const auto& [key, s] : series_) {
    if (!key.second.empty()) continue;
    out += (first ? "" : ",") + jsonQuote(key.first) + ":" + pointsJson(s.ring.points());
    first = false;
  }
  return out + "}}";
}

}  // namespace nsq::admin

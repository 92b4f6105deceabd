// RecordSplitter / RateLimiter for to_nsq. Records are copied once out of the partial buffer;
// the limiter is a plain token bucket refilled from the caller's clock.
#include "to_nsq/records.h"

#include <algorithm>

#include "nsq/base/escapes.h"

namespace nsq {

std::optional<char> parseDelimiter(const std::string& text, std::string* error) {
  if (text.size() == 1) return text[0];
  std::string why;
  auto bytes = unescape(text, &why);
  if (!bytes) {
    *error = "flag --delimiter: " + why;
    return std::nullopt;
  }
  if (bytes->size() != 1) {
    *error = "--delimiter must be a single byte (or an escape such as \\0, \\t, \\x1e)";
    return std::nullopt;
  }
  return (*bytes)[0];
}

void RecordSplitter::feed(std::string_view bytes, std::vector<std::string>& out) {
  std::size_t start = 0;
  for (;;) {
    std::size_t pos = bytes.find(delimiter_, start);
    if (pos == std::string_view::npos) break;
    std::string_view piece = bytes.substr(start, pos - start);
    if (!partial_.empty()) {
      partial_.append(piece);
      out.push_back(std::move(partial_));
      partial_.clear();
    } else if (!piece.empty()) {
      out.emplace_back(piece);
    }
    start = pos + 1;
  }
  partial_.append(bytes.substr(start));
}

void RecordSplitter::finish(std::vector<std::string>& out) {
  if (!partial_.empty()) out.push_back(std::move(partial_));
  partial_.clear();
}

RateLimiter::RateLimiter(int64_t rate, Clock::time_point now)
    : rate_(rate), tokens_(static_cast<double>(std::max<int64_t>(rate, 0))), last_(now) {}

void RateLimiter::refill(Clock::time_point now) {
  if (now <= last_) return;
  double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(rate_), tokens_ + secs * static_cast<double>(rate_));
  last_ = now;
}

int64_t RateLimiter::take(int64_t want, Clock::time_point now) {
  if (unlimited()) return want;
  refill(now);
  int64_t granted = std::min<int64_t>(want, static_cast<int64_t>(tokens_));
  tokens_ -= static_cast<double>(granted);
  return granted;
}

RateLimiter::Clock::duration RateLimiter::waitTime(Clock::time_point now) const {
  if (unlimited()) return Clock::duration::zero();
  double tokens = tokens_;
  if (now > last_) tokens += std::chrono::duration<double>(now - last_).count() * static_cast<double>(rate_);
  if (tokens >= 1.0) return Clock::duration::zero();
  auto secs = std::chrono::duration<double>((1.0 - tokens) / static_cast<double>(rate_));
  return std::chrono::duration_cast<Clock::duration>(secs) + std::chrono::microseconds(1);
}

}  // namespace nsq

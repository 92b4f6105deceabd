#pragma once
// RecordSplitter and RateLimiter: the input side of to_nsq. The splitter cuts a byte stream
// into records at a one-byte delimiter; the limiter hands out publish permits at a fixed rate
// with at most one second's worth of burst.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsq {

// --delimiter: one byte, given as itself or as a backslash escape (\0, \n, \t, \r, \\, \xHH)
// so that NUL, which no shell can pass in argv, can be used (pairs with nsq_tail --format='%b\0').
// nullopt with *error (naming the flag) otherwise.
std::optional<char> parseDelimiter(const std::string& text, std::string* error);

class RecordSplitter {
 public:
  explicit RecordSplitter(char delimiter) : delimiter_(delimiter) {}
  // Appends bytes and moves every complete, non-empty record (delimiter removed) to out.
  void feed(std::string_view bytes, std::vector<std::string>& out);
  // At end of input: the unterminated last record, if non-empty (it is published whole).
  void finish(std::vector<std::string>& out);
  std::size_t buffered() const { return partial_.size(); }

 private:
  char delimiter_;
  std::string partial_;
};

// Token bucket: `rate` permits per second, bucket size `rate` (one second of burst). rate 0 =
// unlimited. Time is passed in so tests need no sleeping.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(int64_t rate, Clock::time_point now);
  // Takes up to `want` permits; returns how many were granted (0 when the bucket is empty).
  int64_t take(int64_t want, Clock::time_point now);
  // How long until the next permit exists.
  Clock::duration waitTime(Clock::time_point now) const;
  bool unlimited() const { return rate_ <= 0; }

 private:
  void refill(Clock::time_point now);
  int64_t rate_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace nsq

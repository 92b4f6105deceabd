// to_nsq's input side: record splitting and the rate limiter.
#include "to_nsq/records.h"

#include <gtest/gtest.h>

using namespace nsq;
using namespace std::chrono_literals;

TEST(RecordSplitter, SplitsAcrossChunksAndSkipsEmptyRecords) {
  RecordSplitter s('\n');
  std::vector<std::string> out;
  s.feed("ab", out);
  EXPECT_TRUE(out.empty());
  s.feed("c\n\nde\nf", out);
  EXPECT_EQ(out, (std::vector<std::string>{"abc", "de"}));
  s.feed("\n", out);
  s.finish(out);
  EXPECT_EQ(out, (std::vector<std::string>{"abc", "de", "f"}));
}

TEST(RecordSplitter, PublishesAnUnterminatedLastRecordWhole) {
  RecordSplitter s(',');
  std::vector<std::string> out;
  s.feed("x,yz", out);
  s.finish(out);
  EXPECT_EQ(out, (std::vector<std::string>{"x", "yz"}));
}

TEST(RateLimiter, BurstsOneSecondThenRefillsAtTheRate) {
  auto t0 = RateLimiter::Clock::time_point{} + 1h;
  RateLimiter r(10, t0);
  EXPECT_EQ(r.take(25, t0), 10);
  EXPECT_EQ(r.take(1, t0), 0);
  EXPECT_GT(r.waitTime(t0), 99ms);
  EXPECT_EQ(r.take(5, t0 + 500ms), 5);
  EXPECT_EQ(r.take(50, t0 + 10s), 10);  // never more than one second's worth
}

TEST(RateLimiter, ZeroMeansUnlimited) {
  RateLimiter r(0, RateLimiter::Clock::now());
  EXPECT_EQ(r.take(1000000, RateLimiter::Clock::now()), 1000000);
  EXPECT_EQ(r.waitTime(RateLimiter::Clock::now()), RateLimiter::Clock::duration::zero());
}

TEST(Delimiter, OneByteAsItselfOrAsAnEscape) {
  std::string error;
  EXPECT_EQ(parseDelimiter(",", &error), ',');
  EXPECT_EQ(parseDelimiter("\\", &error), '\\');  // one byte: itself, not an escape
  EXPECT_EQ(parseDelimiter("\\0", &error), '\0');
  EXPECT_EQ(parseDelimiter("\\t", &error), '\t');
  EXPECT_EQ(parseDelimiter("\\x1e", &error), '\x1e');
  EXPECT_FALSE(parseDelimiter("ab", &error));
  EXPECT_NE(error.find("--delimiter must be a single byte"), std::string::npos) << error;
  EXPECT_FALSE(parseDelimiter("\\q", &error));
  EXPECT_NE(error.find("flag --delimiter: unknown escape \\q"), std::string::npos) << error;
  EXPECT_FALSE(parseDelimiter("", &error));
}

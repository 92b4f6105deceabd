// Go time.Duration syntax: parsing as flag.Duration does and printing as Duration.String().
#include "nsq/base/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace nsq {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesSingleUnits) {
  EXPECT_EQ(parseDuration("250ms"), Duration(250ms));
  EXPECT_EQ(parseDuration("30s"), Duration(30s));
  EXPECT_EQ(parseDuration("1h"), Duration(1h));
  EXPECT_EQ(parseDuration("15m"), Duration(15min));
  EXPECT_EQ(parseDuration("7ns"), Duration(7));
  EXPECT_EQ(parseDuration("1us"), Duration(1000));
}

TEST(Duration, ParsesBothMicroSigns) {
  EXPECT_EQ(parseDuration("1\xC2\xB5s"), Duration(1000));  // U+00B5 micro sign
  EXPECT_EQ(parseDuration("2\xCE\xBCs"), Duration(2000));  // U+03BC Greek mu
}

TEST(Duration, ParsesCompoundValues) {
  EXPECT_EQ(parseDuration("1m30s"), Duration(90s));
  EXPECT_EQ(parseDuration("1h0m0s"), Duration(1h));
  EXPECT_EQ(parseDuration("2h45m10s"), Duration(2h + 45min + 10s));
  EXPECT_EQ(parseDuration("1s500ms"), Duration(1500ms));
}

TEST(Duration, ParsesFractions) {
  EXPECT_EQ(parseDuration("1.5s"), Duration(1500ms));
  EXPECT_EQ(parseDuration(".5s"), Duration(500ms));
  EXPECT_EQ(parseDuration("5.s"), Duration(5s));
  EXPECT_EQ(parseDuration("0.25h"), Duration(15min));
  EXPECT_EQ(parseDuration("1.000000001s"), Duration(1000000001));
}

TEST(Duration, ParsesZeroAndSigns) {
  EXPECT_EQ(parseDuration("0"), Duration(0));
  EXPECT_EQ(parseDuration("-0"), Duration(0));
  EXPECT_EQ(parseDuration("+0"), Duration(0));
  EXPECT_EQ(parseDuration("0s"), Duration(0));
  EXPECT_EQ(parseDuration("-1s"), Duration(-1s));
  EXPECT_EQ(parseDuration("-1m30s"), Duration(-90s));
  EXPECT_EQ(parseDuration("+2ms"), Duration(2ms));
}

TEST(Duration, RejectsBareNumbersOtherThanZero) {
  EXPECT_FALSE(parseDuration("5").has_value());
  EXPECT_FALSE(parseDuration("1.5").has_value());
  EXPECT_FALSE(parseDuration("00").has_value());
  EXPECT_FALSE(parseDuration("1s5").has_value());
}

TEST(Duration, RejectsGarbage) {
  for (const char* text : {"", "-", "+", "s", "ms", ".", ".s", "abc", "1x", "1sec", "1 s", " 1s",
                           "1s ", "1S", "1H", "1d", "1,5s", "--1s", "1e3s", "1.2.3s"})
    EXPECT_FALSE(parseDuration(text).has_value()) << '"' << text << '"';
}

TEST(Duration, RejectsOverflow) {
  EXPECT_TRUE(parseDuration("2562047h").has_value());  // just under the int64 ns limit
  EXPECT_FALSE(parseDuration("2562048h").has_value());
  EXPECT_FALSE(parseDuration("9223372037s").has_value());
  EXPECT_FALSE(parseDuration("9223372036854775808ns").has_value());
  EXPECT_FALSE(parseDuration("99999999999999999999999h").has_value());
  EXPECT_FALSE(parseDuration("2562047h2562047h").has_value());
}

TEST(Duration, FormatsLikeGo) {
  EXPECT_EQ(formatDuration(Duration(0)), "0s");
  EXPECT_EQ(formatDuration(60s), "1m0s");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(1h), "1h0m0s");
  EXPECT_EQ(formatDuration(1500ms), "1.5s");
  EXPECT_EQ(formatDuration(90s), "1m30s");
  EXPECT_EQ(formatDuration(15min), "15m0s");
  EXPECT_EQ(formatDuration(10min), "10m0s");
  EXPECT_EQ(formatDuration(2s), "2s");
  EXPECT_EQ(formatDuration(25ms), "25ms");
  EXPECT_EQ(formatDuration(Duration(1)), "1ns");
  EXPECT_EQ(formatDuration(Duration(1500)), "1.5\xC2\xB5s");
  EXPECT_EQ(formatDuration(Duration(1000)), "1\xC2\xB5s");
  EXPECT_EQ(formatDuration(Duration(1100000)), "1.1ms");
  EXPECT_EQ(formatDuration(90s + 500ms), "1m30.5s");
  EXPECT_EQ(formatDuration(26h + 3min + 4s), "26h3m4s");
  EXPECT_EQ(formatDuration(Duration(1000000001)), "1.000000001s");
}

TEST(Duration, FormatsNegativeValues) {
  EXPECT_EQ(formatDuration(-1s), "-1s");
  EXPECT_EQ(formatDuration(-90s), "-1m30s");
  EXPECT_EQ(formatDuration(Duration(-5)), "-5ns");
  EXPECT_EQ(formatDuration(Duration(INT64_MIN)), "-2562047h47m16.854775808s");
  EXPECT_EQ(formatDuration(Duration(INT64_MAX)), "2562047h47m16.854775807s");
}

TEST(Duration, FormatThenParseRoundTrips) {
  for (Duration d : {Duration(0), Duration(1), Duration(999), Duration(1500), Duration(250ms),
                     Duration(1500ms), Duration(90s), Duration(1h), Duration(26h + 3min + 4s + 5ms),
                     Duration(-42s), Duration(1000000001)}) {
    auto back = parseDuration(formatDuration(d));
    ASSERT_TRUE(back.has_value()) << formatDuration(d);
    EXPECT_EQ(*back, d) << formatDuration(d);
  }
}

}  // namespace
}  // namespace nsq

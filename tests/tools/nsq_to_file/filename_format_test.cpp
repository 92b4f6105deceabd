// nsq_to_file naming: strftime subset, token substitution, the <REV> rule, .gz suffix.
#include "nsq_to_file/filename_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <stdexcept>

namespace nsq {
namespace {

class FilenameFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

constexpr std::time_t kT = 1700000000;  // 2023-11-14 22:13:20 UTC, a Tuesday

TEST_F(FilenameFormat, StrftimeSubsetInLocalTime) {
  EXPECT_EQ(strftimeSubset("%Y-%m-%d_%H", kT), "2023-11-14_22");
  EXPECT_EQ(strftimeSubset("%y%m%d %I:%M:%S %p", kT), "231114 10:13:20 PM");
  EXPECT_EQ(strftimeSubset("%A %a %B %b %Z %z %%", kT), "Tuesday Tue November Nov UTC +0000 %");
  ::setenv("TZ", "EST5", 1);
  ::tzset();
  EXPECT_EQ(strftimeSubset("%H %z", kT), "17 -0500");
}

TEST_F(FilenameFormat, UnknownDirectivesAndTrailingPercentAreLiteral) {
  EXPECT_EQ(strftimeSubset("%j-%Q-x%", kT), "%j-%Q-x%");
  EXPECT_EQ(strftimeSubset("plain", kT), "plain");
}

FilenameParams params() {
  FilenameParams p;
  p.format = "<TOPIC>.<HOST><REV>.<DATETIME>.log";
  p.topic = "events";
  p.hostname = "box.example.com";
  p.pid = 42;
  return p;
}

TEST_F(FilenameFormat, SubstitutesTopicHostPidAndDropsRevWhenNotNeeded) {
  auto p = params();
  EXPECT_EQ(computeFilenameFormat(p), "events.box.<DATETIME>.log");
  p.format = "<PID>/<TOPIC><REV>";
  EXPECT_EQ(computeFilenameFormat(p), "42/events");
}

TEST_F(FilenameFormat, HostIdentifierExpandsShortAndFullHostNames) {
  auto p = params();
  p.hostIdentifier = "<SHORT_HOST>@<HOSTNAME>";
  EXPECT_EQ(computeFilenameFormat(p), "events.box@box.example.com.<DATETIME>.log");
  p.hostIdentifier = "fixed";
  EXPECT_EQ(computeFilenameFormat(p), "events.fixed.<DATETIME>.log");
}

TEST_F(FilenameFormat, RevIsRequiredWhenAskedForAndKept) {
  auto p = params();
  p.revRequired = true;
  EXPECT_EQ(computeFilenameFormat(p), "events.box<REV>.<DATETIME>.log");
  p.format = "<TOPIC>.<DATETIME>.log";
  EXPECT_THROW(computeFilenameFormat(p), std::invalid_argument);
}

TEST_F(FilenameFormat, GzipAppendsGzOnce) {
  auto p = params();
  p.gzip = true;
  p.revRequired = true;
  EXPECT_EQ(computeFilenameFormat(p), "events.box<REV>.<DATETIME>.log.gz");
  p.format = "<TOPIC><REV>.gz";
  EXPECT_EQ(computeFilenameFormat(p), "events<REV>.gz");
}

TEST_F(FilenameFormat, RevAndDatetimeRendering) {
  EXPECT_EQ(withRev("a<REV>.b<REV>", 0), "a-000000.b-000000");
  EXPECT_EQ(withRev("a<REV>", 1234567), "a-1234567");
  EXPECT_EQ(withRev("a", 3), "a");
  EXPECT_EQ(withDatetime("x.<DATETIME>.log", "2023"), "x.2023.log");
}

}  // namespace
}  // namespace nsq

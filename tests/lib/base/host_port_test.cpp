// parseHostPort / joinHostPort: Go's spellings, port range and syntax, errors instead of throws.
#include "nsq/base/host_port.h"

#include <gtest/gtest.h>

namespace nsq {
namespace {

TEST(HostPort, SplitsHostAndPortAtTheLastColon) {
  auto hp = parseHostPort("127.0.0.1:4150");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 4150);
  hp = parseHostPort("nsqd.example:0");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->port, 0);
}

TEST(HostPort, BracketedV6HostLosesItsBrackets) {
  auto hp = parseHostPort("[::1]:4150");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 4150);
}

TEST(HostPort, EmptyHostIsKeptEmpty) {
  auto hp = parseHostPort(":4161");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "");
  EXPECT_EQ(hp->port, 4161);
}

TEST(HostPort, NoColonIsMissingPort) {
  EXPECT_EQ(parseHostPort("localhost").error, HostPortError::MissingPort);
  EXPECT_EQ(parseHostPort("").error, HostPortError::MissingPort);
}

TEST(HostPort, PortsOutsideTheRangeOrNotPlainDigitsAreInvalid) {
  for (const char* bad : {"h:", "h:65536", "h:18446744073709551616", "h:-1", "h:+80", "h: 80", "h:80 ",
                          "h:0x50", "h:http", "[::1]:"})
    EXPECT_EQ(parseHostPort(bad).error, HostPortError::InvalidPort) << bad;
  EXPECT_TRUE(parseHostPort("h:65535"));
}

TEST(HostPort, MinimumPortRejectsZeroForDialing) {
  EXPECT_EQ(parseHostPort("h:0", 1).error, HostPortError::InvalidPort);
  EXPECT_TRUE(parseHostPort("h:1", 1));
}

TEST(HostPort, JoinBracketsHostsWithColons) {
  EXPECT_EQ(joinHostPort("h", 4151), "h:4151");
  EXPECT_EQ(joinHostPort("::1", 4151), "[::1]:4151");
  EXPECT_EQ(joinHostPort("", 80), ":80");
}

}  // namespace
}  // namespace nsq

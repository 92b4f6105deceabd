// parseHostPort / joinHostPort: Go's spellings, port range and syntax, errors instead of throws.
#include "nsq/base/host_port.h"
#include "nsq/base/options.h"

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

TEST(HostPort, ProblemNamesTheAddressAndTheAcceptedRange) {
  EXPECT_EQ(hostPortProblem("127.0.0.1:4150", 0), "");
  EXPECT_EQ(hostPortProblem(":0", 0), "");
  EXPECT_EQ(hostPortProblem("127.0.0.1:99999", 0), "invalid port in address 127.0.0.1:99999 (want 0-65535)");
  EXPECT_EQ(hostPortProblem("h:0", 1), "invalid port in address h:0 (want 1-65535)");
  EXPECT_EQ(hostPortProblem("localhost", 1), "invalid address localhost (want host:port)");
  EXPECT_EQ(hostPortProblem("http://h:4161/", 1, true), "");
  EXPECT_EQ(hostPortProblem("https://h:4161", 1, true), "");
  EXPECT_NE(hostPortProblem("http://h:4161/", 1), "");
  EXPECT_EQ(hostPortProblem("http://h:70000", 1, true), "invalid port in address http://h:70000 (want 1-65535)");
}

TEST(HostPort, FlagChecksThrowNamingTheFlag) {
  EXPECT_NO_THROW(requireHostPortFlag("tcp-address", "0.0.0.0:4150", 0));
  try {
    requireHostPortFlag("tcp-address", "127.0.0.1:99999", 0);
    FAIL();
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "flag --tcp-address: invalid port in address 127.0.0.1:99999 (want 0-65535)");
  }
  EXPECT_THROW(requireHostPortFlags("lookupd-tcp-address", {"a:1", "b:0"}, 1), OptionError);
  EXPECT_NO_THROW(requireHostPortFlags("lookupd-tcp-address", {}, 1));
  EXPECT_NO_THROW(requirePortFlag("broadcast-tcp-port", 65535));
  EXPECT_NO_THROW(requirePortFlag("broadcast-tcp-port", 0));
  try {
    requirePortFlag("broadcast-tcp-port", 65536);
    FAIL();
  } catch (const OptionError& e) {
    EXPECT_STREQ(e.what(), "flag --broadcast-tcp-port: port 65536 out of range 0-65535");
  }
  EXPECT_THROW(requirePortFlag("broadcast-http-port", -1), OptionError);
}

TEST(HostPort, JoinBracketsHostsWithColons) {
  EXPECT_EQ(joinHostPort("h", 4151), "h:4151");
  EXPECT_EQ(joinHostPort("::1", 4151), "[::1]:4151");
  EXPECT_EQ(joinHostPort("", 80), ":80");
}

}  // namespace
}  // namespace nsq

// The test helpers the end-to-end tests rely on.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <set>

namespace nsq::test {
namespace {

// A daemon takes two or three ports in a row; bind(0) may offer the port just closed again,
// which once started nsqd with its TCP and HTTP listeners on the same port.
TEST(FreePort, NeverHandsOutTheSamePortTwice) {
  std::set<int> seen;
  for (int i = 0; i < 3000; ++i) {
    int port = freePort();
    ASSERT_GT(port, 0);
    ASSERT_TRUE(seen.insert(port).second) << "port " << port << " handed out twice, call " << i;
  }
}

// Ports the kernel hands to connect() and bind(0) come from the ephemeral range: a port from
// there could be taken by any client socket between freePort() and the daemon's bind. So ports
// come from below the range (or above it, where it starts too low to leave room below).
TEST(FreePort, StaysOutsideTheKernelsEphemeralRange) {
  const auto [low, high] = ephemeralPortRange();
  if (!freePortRange()) GTEST_SKIP() << "the range leaves no room: bind(0) picks";
  for (int i = 0; i < 200; ++i) {
    int port = freePort();
    EXPECT_TRUE(port < low || port > high) << port << " in " << low << "-" << high;
    EXPECT_GE(port, 10000);
  }
}

}  // namespace
}  // namespace nsq::test

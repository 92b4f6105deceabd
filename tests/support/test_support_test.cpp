// The test helpers the end-to-end tests rely on.
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <set>

namespace nsq::test {
namespace {

// A daemon takes two or three ports in a row; the kernel may offer the port just closed again,
// which once started nsqd with its TCP and HTTP listeners on the same port.
TEST(FreePort, NeverHandsOutTheSamePortTwice) {
  std::set<int> seen;
  for (int i = 0; i < 3000; ++i) {
    int port = freePort();
    ASSERT_GT(port, 0);
    ASSERT_TRUE(seen.insert(port).second) << "port " << port << " handed out twice, call " << i;
  }
}

}  // namespace
}  // namespace nsq::test

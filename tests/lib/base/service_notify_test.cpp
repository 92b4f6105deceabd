#include "nsq/base/service_notify.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/notify_socket.h"

using namespace std::chrono_literals;

TEST(ServiceNotify, ReadyAndStoppingReachTheNotifySocket) {
  if (!nsq::serviceNotifySupported()) GTEST_SKIP() << "built without libsystemd";
  nsq::test::NotifySocket socket;
  ASSERT_TRUE(socket.bound());
  EXPECT_TRUE(nsq::notifyReady());
  EXPECT_EQ(socket.receive(2s), "READY=1");
  EXPECT_TRUE(nsq::notifyStopping());
  EXPECT_EQ(socket.receive(2s), "STOPPING=1");
}

TEST(ServiceNotify, WithoutANotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(nsq::notifyReady());
  EXPECT_FALSE(nsq::notifyStopping());
}

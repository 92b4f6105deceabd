// Type=notify readiness: each daemon tells the service manager READY=1 only once its listeners
// accept connections, and STOPPING=1 when SIGTERM starts its graceful stop.
#include <gtest/gtest.h>

#include "nsq/base/service_notify.h"
#include "support/notify_socket.h"
#include "support/test_support.h"

using namespace std::chrono_literals;
using nsq::test::binaryPath;
using nsq::test::freePort;

namespace {

// One connection attempt, no retries.
bool acceptsNow(int port) {
  try {
    nsq::test::TcpClient client(port, 1s);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void expectReadyThenStopping(const std::string& daemon, std::vector<std::string> args, int tcpPort,
                             int httpPort) {
  if (!nsq::serviceNotifySupported()) GTEST_SKIP() << "built without libsystemd";
  nsq::test::NotifySocket socket;
  ASSERT_TRUE(socket.bound());
  nsq::test::TempDir logs;
  nsq::test::Process proc(binaryPath(daemon), args, logs.path());
  auto ready = socket.receive(10s);
  ASSERT_EQ(ready, "READY=1") << proc.stderrText();
  // Ready means ready: both listeners take a connection at once, without waiting.
  EXPECT_TRUE(acceptsNow(tcpPort)) << daemon << " said READY=1 before its TCP port accepted";
  EXPECT_TRUE(acceptsNow(httpPort)) << daemon << " said READY=1 before its HTTP port accepted";
  int status = proc.stop(SIGTERM);
  EXPECT_EQ(socket.receive(2s), "STOPPING=1");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << proc.stderrText();
}

}  // namespace

TEST(ServiceNotify, NsqdSaysReadyOnceItsListenersAcceptAndStoppingOnSigterm) {
  nsq::test::TempDir data;
  int tcp = freePort(), http = freePort();
  expectReadyThenStopping("nsqd",
                          {"--tcp-address=127.0.0.1:" + std::to_string(tcp),
                           "--http-address=127.0.0.1:" + std::to_string(http), "--data-path=" + data.path()},
                          tcp, http);
}

TEST(ServiceNotify, NsqlookupdSaysReadyOnceItsListenersAcceptAndStoppingOnSigterm) {
  int tcp = freePort(), http = freePort();
  expectReadyThenStopping("nsqlookupd",
                          {"--tcp-address=127.0.0.1:" + std::to_string(tcp),
                           "--http-address=127.0.0.1:" + std::to_string(http)},
                          tcp, http);
}

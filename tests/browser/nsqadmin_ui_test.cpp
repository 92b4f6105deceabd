// nsqadmin's web UI in a real headless Chromium: a live cluster (nsqlookupd, two nsqd, a
// subscribed consumer) and nsqadmin sampling every second; tests/browser/nsqadmin_ui.js then
// loads every page, checks what it shows, pauses the channel from the UI and checks both nsqd.
// With NSQADMIN_SCREENSHOTS=<dir> it also writes the README's screenshots there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "support/admin_process.h"
#include "support/node_script.h"

using namespace nsq::test;

TEST(NsqAdminUi, EveryPageShowsTheLiveClusterAndPauseReachesBothNsqd) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
      << "Debian's chromium is not installed: run scripts/install-deps";
  AdminCluster c;
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(httpRequest(c.a.httpPort(), "POST", "/pub?topic=orders", "m" + std::to_string(i)).status, 200);
  TcpClient consumer(c.a.tcpPort());
  consumer.send("  V2SUB orders billing\n");
  consumer.readExact(4 + 4 + 2);  // OK: the channel now has a client (RDY 0)
  AdminProcess admin({c.lookupdFlag(), "--history-interval=1s"});
  std::vector<std::string> args = {admin.url(), loopback(c.a.httpPort()), loopback(c.b.httpPort()), "orders", "billing"};
  if (const char* shots = std::getenv("NSQADMIN_SCREENSHOTS")) args.push_back(shots);
  auto result = runNodeScriptIn("browser", "puppeteer-core", "nsqadmin_ui.js", args, std::chrono::seconds(150));
  EXPECT_TRUE(result.ok) << result.out << result.err << "\nnsqadmin log:\n" << admin.proc->stderrText();
}

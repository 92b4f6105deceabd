#pragma once
// LookupdProcess: the built nsqlookupd running on free loopback ports, logs in its own temp dir.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/test_support.h"

namespace nsq::test {

struct LookupdProcess {
  TempDir dir;
  int tcpPort = freePort();
  int httpPort = freePort();
  std::unique_ptr<Process> proc;

  explicit LookupdProcess(const std::vector<std::string>& extraArgs = {}) {
    std::vector<std::string> args{"--tcp-address=127.0.0.1:" + std::to_string(tcpPort),
                                  "--http-address=127.0.0.1:" + std::to_string(httpPort)};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    proc = std::make_unique<Process>(binaryPath("nsqlookupd"), args, dir.path());
    EXPECT_TRUE(waitForPort(tcpPort)) << proc->stderrText();
    EXPECT_TRUE(waitForPort(httpPort)) << proc->stderrText();
  }
};

}  // namespace nsq::test

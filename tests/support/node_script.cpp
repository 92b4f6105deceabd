// runNodeScript: one node process per call, killed after 40 s; its output captured.
#include "support/node_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/test_support.h"

namespace nsq::test {

NodeResult runNodeScript(const std::string& module, const std::string& script, const std::vector<std::string>& args) {
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/interop";
  EXPECT_TRUE(std::filesystem::exists(dir + "/node_modules/" + module))
      << module << " is not installed: run scripts/test (it runs npm install in tests/interop)";
  TempDir logs;
  std::vector<std::string> argv = {"node", dir + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  Process node("/usr/bin/env", argv, logs.path());
  for (int i = 0; i < 400 && node.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = node.stop(9, std::chrono::seconds(1));
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, node.stdoutText(), node.stderrText()};
}

}  // namespace nsq::test

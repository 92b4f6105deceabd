// runNodeScript: one node process per call, killed after its time limit; its output captured.
#include "support/node_script.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/test_support.h"

namespace nsq::test {

NodeResult runNodeScript(const std::string& module, const std::string& script, const std::vector<std::string>& args) {
  return runNodeScriptIn("interop", module, script, args, std::chrono::seconds(40));
}

NodeResult runNodeScriptIn(const std::string& folder, const std::string& module, const std::string& script,
                           const std::vector<std::string>& args, std::chrono::seconds limit) {
  std::string dir = std::string(NSQ_SOURCE_DIR) + "/tests/" + folder;
  EXPECT_TRUE(std::filesystem::exists(dir + "/node_modules/" + module))
      << module << " is not installed: run scripts/test (it runs npm install in tests/" << folder << ")";
  TempDir logs;
  std::vector<std::string> argv = {"node", dir + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  Process node("/usr/bin/env", argv, logs.path());
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (node.running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = node.stop(9, std::chrono::seconds(1));
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, node.stdoutText(), node.stderrText()};
}

}  // namespace nsq::test

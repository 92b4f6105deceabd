#pragma once
// Runs node scripts from a test, on the test's thread: those in tests/interop (third-party NSQ
// clients from npm) for at most 40 s, and those of another folder with its own node_modules
// (tests/browser: puppeteer-core), all installed by scripts/test.
#include <chrono>
#include <string>
#include <vector>

namespace nsq::test {

struct NodeResult {
  bool ok = false;  // exited 0
  std::string out, err;
};

// Runs tests/interop/<script> with args. Fails the calling test (EXPECT) when the npm package
// `module` is not installed in tests/interop/node_modules; the script then fails too.
NodeResult runNodeScript(const std::string& module, const std::string& script, const std::vector<std::string>& args);

// The same for tests/<folder>/<script>, killed after `limit`.
NodeResult runNodeScriptIn(const std::string& folder, const std::string& module, const std::string& script,
                           const std::vector<std::string>& args, std::chrono::seconds limit);

}  // namespace nsq::test

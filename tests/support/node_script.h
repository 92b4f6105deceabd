#pragma once
// Runs the node scripts in tests/interop (third-party NSQ clients from npm, installed there by
// scripts/test) from a test, on the test's thread, for at most 40 s.
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

}  // namespace nsq::test

// nsq_bench's command line: --help and --version exit 0, --help matches the man page, and a
// missing or unknown mode is a usage error (exit 2).
#include "support/man_page.h"
#include "tools/tool_harness.h"

namespace nsq::test {
namespace {

TEST(NsqBench, HelpAndVersionExitZeroAndHelpMatchesTheManPage) {
  std::string bench = binaryPath("nsq_bench");
  auto r = runShell("'" + bench + "' --help");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("writer|reader|latency|relay|idle"), std::string::npos) << r.out;
  std::set<std::string> flags = helpFlags(r.out);
  flags.insert("version");  // handled before the mode, listed in the man page
  EXPECT_EQ(flags, manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsq_bench.1"));
  r = runShell("'" + bench + "' --version");
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out.rfind("nsq_bench v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << r.out;
  r = runShell("'" + bench + "'");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("usage: nsq_bench"), std::string::npos);
  r = runShell("'" + bench + "' bogus");
  EXPECT_EQ(r.exitCode, 2);
}

}  // namespace
}  // namespace nsq::test

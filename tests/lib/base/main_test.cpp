// main() plumbing: exit codes 0 (--help) / 1 (one-line error) / go on, what the error line says,
// and the signal mask every daemon and tool sets before its first thread.
#include "nsq/base/main.h"

#include <Poco/Exception.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace nsq {
namespace {

struct Argv {
  explicit Argv(std::vector<std::string> args) : strings(std::move(args)) {
    for (auto& s : strings) pointers.push_back(s.data());
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

TEST(Main, ParseCommandLineGoesOnAfterValidOptionsAndRunsValidate) {
  int64_t n = 0;
  OptionSet set("prog", "");
  set.addInt("n", &n, "a number");
  Argv a({"prog", "--n=5"});
  bool validated = false;
  EXPECT_EQ(parseCommandLine("prog", set, a.argc(), a.argv(), [&] { validated = true; }), std::nullopt);
  EXPECT_EQ(n, 5);
  EXPECT_TRUE(validated);
}

TEST(Main, HelpExitsZeroWithoutValidating) {
  OptionSet set("prog", "");
  Argv a({"prog", "--help"});
  testing::internal::CaptureStdout();
  auto code = parseCommandLine("prog", set, a.argc(), a.argv(), [] { FAIL() << "validated after --help"; });
  testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0);
}

TEST(Main, BadFlagsAndFailedValidationPrintOneLineAndExitOne) {
  int64_t n = 0;
  OptionSet set("prog", "");
  set.addInt("n", &n, "a number");
  Argv bad({"prog", "--n=x"});
  testing::internal::CaptureStderr();
  EXPECT_EQ(parseCommandLine("prog", set, bad.argc(), bad.argv()), 1);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.rfind("prog: ", 0), 0u) << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << err;

  OptionSet set2("prog", "");
  Argv ok({"prog"});
  testing::internal::CaptureStderr();
  EXPECT_EQ(parseCommandLine("prog", set2, ok.argc(), ok.argv(), [] { throw OptionError("--topic required"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "prog: --topic required\n");
}

TEST(Main, RunOrReportReturnsTheBodysCodeOrReportsItsException) {
  EXPECT_EQ(runOrReport("prog", [] { return 3; }), 3);
  testing::internal::CaptureStderr();
  EXPECT_EQ(runOrReport("prog", []() -> int { throw std::runtime_error("listen on :1 failed"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "prog: listen on :1 failed\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(runOrReport("prog", []() -> int { throw Poco::InvalidArgumentException("bad address"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "prog: Invalid argument: bad address\n");
}

TEST(Main, BlockSignalsMasksThemAndIgnoresSigpipe) {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  struct sigaction oldPipe {};
  sigaction(SIGPIPE, nullptr, &oldPipe);

  sigset_t set = blockSignals({SIGUSR1, SIGUSR2});
  EXPECT_EQ(sigismember(&set, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&set, SIGINT), 0);
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
  EXPECT_EQ(sigismember(&now, SIGUSR2), 1);
  struct sigaction pipe {};
  sigaction(SIGPIPE, nullptr, &pipe);
  EXPECT_EQ(pipe.sa_handler, SIG_IGN);

  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  sigaction(SIGPIPE, &oldPipe, nullptr);
}

TEST(Main, RunMainRunsOnlyAfterAGoodCommandLine) {
  OptionSet set("prog", "");
  Argv ok({"prog"});
  EXPECT_EQ(runMain("prog", set, ok.argc(), ok.argv(), {}, [] {}, [] { return 7; }), 7);
  OptionSet set2("prog", "");
  Argv help({"prog", "--help"});
  testing::internal::CaptureStdout();
  EXPECT_EQ(runMain("prog", set2, help.argc(), help.argv(), {}, [] {}, [] { return 7; }), 0);
  testing::internal::GetCapturedStdout();
  OptionSet set3("prog", "");
  testing::internal::CaptureStderr();
  EXPECT_EQ(runMain("prog", set3, ok.argc(), ok.argv(), {}, [] { throw OptionError("bad"); }, [] { return 7; }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "prog: bad\n");
}

}  // namespace
}  // namespace nsq

namespace nsq {
namespace {

TEST(Main, VersionLineNamesTheProgramTheNsqVersionAndTheBuild) {
  std::string v = versionLine("nsq_tail");
  EXPECT_EQ(v.rfind("nsq_tail v1.3.0 (C++ nsq-cpp 1.3.0, built w/ ", 0), 0u) << v;
  EXPECT_EQ(v.back(), ')');
}

TEST(Main, UserAgentIsProgramSlashVersionThenTheLibrary) {
  setProgramName("");
  EXPECT_EQ(userAgent(), "nsq-cpp/1.3.0");
  setProgramName("nsq_to_file");
  EXPECT_EQ(userAgent(), "nsq_to_file/1.3.0 nsq-cpp/1.3.0");
  setProgramName("");
}

}  // namespace
}  // namespace nsq

// main() plumbing shared by nsqd, nsqlookupd and the tools: option parsing inside the one
// catch that turns a start-up exception into a one-line message and exit code 1, and the
// signal mask set before the first thread starts.
#include "nsq/base/main.h"

#include <Poco/Exception.h>

#include <exception>
#include <iostream>

#include "nsq/version.h"

namespace nsq {

namespace {
std::string& programName() {
  static std::string name;
  return name;
}
}  // namespace

std::string versionLine(std::string_view program) {
#if defined(__clang__)
  const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char* compiler = "gcc " __VERSION__;
#else
  const char* compiler = "unknown compiler";
#endif
  return std::string(program) + " v" NSQ_VERSION " (C++ nsq-cpp " NSQ_VERSION ", built w/ " + compiler + ")";
}

std::string userAgent() {
  const std::string& name = programName();
  std::string lib = "nsq-cpp/" NSQ_VERSION;
  return name.empty() ? lib : name + "/" NSQ_VERSION " " + lib;
}

void setProgramName(std::string_view program) { programName() = std::string(program); }

std::optional<int> parseCommandLine(std::string_view program, OptionSet& set, int argc, char** argv,
                                    const std::function<void()>& validate) {
  setProgramName(program);
  std::optional<int> code;
  int failed = runOrReport(program, [&] {
    if (set.parse(argc, argv, std::cout) == OptionSet::Result::Exit) {
      code = 0;
      return 0;
    }
    if (validate) validate();
    return 0;
  });
  if (failed != 0) return failed;
  return code;
}

int runOrReport(std::string_view program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const Poco::Exception& e) {
    std::cerr << program << ": " << e.displayText() << "\n";
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
  }
  return 1;
}

namespace {

sigset_t signalSet(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  return set;
}

}  // namespace

int waitForSignal(std::initializer_list<int> signals) {
  const sigset_t set = signalSet(signals);
  for (;;) {
    int sig = ::sigwaitinfo(&set, nullptr);
    if (sig > 0) return sig;  // < 0: EINTR from another signal; keep waiting
  }
}

sigset_t blockSignals(std::initializer_list<int> signals) {
  sigset_t set = signalSet(signals);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int runMain(std::string_view program, OptionSet& set, int argc, char** argv, std::initializer_list<int> signals,
            const std::function<void()>& validate, const std::function<int()>& run) {
  if (auto code = parseCommandLine(program, set, argc, argv, validate)) return *code;
  blockSignals(signals);
  return run();
}

}  // namespace nsq

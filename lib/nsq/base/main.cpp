// main() plumbing shared by nsqd, nsqlookupd and the tools: option parsing inside the one
// catch that turns a start-up exception into a one-line message and exit code 1, and the
// signal mask set before the first thread starts.
#include "nsq/base/main.h"

#include <Poco/Exception.h>

#include <exception>
#include <iostream>

namespace nsq {

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

#pragma once
// The start of every nsq binary's main(), written once: parse the command line, report a
// start-up failure as one line ("nsqd: <what>") with exit code 1, and set the signal mask
// before any thread exists. Exceptions are for start-up only (STYLE.md §4); these helpers are
// where they stop. Call them from the main thread.
#include <signal.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "nsq/base/options.h"

namespace nsq {

// Every binary's --version line: "<program> v<version> (C++ nsq-cpp <version>, built w/ <compiler>)",
// e.g. "nsq_tail v1.3.0 (C++ nsq-cpp 1.3.0, built w/ gcc 12.2.0)"; the original prints
// "nsq_tail v1.3.0 (built w/go1.21.5)". The version is the NSQ release this one is compatible with.
std::string versionLine(std::string_view program);

// The one user agent convention, as the original tools send "nsq_to_file/1.3.0 go-nsq/1.1.0":
// "<program>/<version> nsq-cpp/<version>" once parseCommandLine() named the program, else
// "nsq-cpp/<version>" (the library in someone else's program). Used for IDENTIFY's user_agent
// and the User-Agent of every HTTP request. Any thread.
std::string userAgent();
// Names the running program for userAgent(); parseCommandLine() calls it. Call before threads.
void setProgramName(std::string_view program);

// Parses argv with set, then runs validate (which may throw; it fills in and checks the
// options). Returns nullopt when the program should go on, 0 after --help or --version was
// printed to stdout, or 1 after an exception was reported by runOrReport().
[[nodiscard]] std::optional<int> parseCommandLine(std::string_view program, OptionSet& set, int argc,
                                                  char** argv, const std::function<void()>& validate = {});

// Runs body and returns its exit code; an exception escaping it is printed to stderr as
// "<program>: <message>" (a Poco::Exception with its displayText()) and gives 1.
int runOrReport(std::string_view program, const std::function<int()>& body);

// Blocks signals in the calling thread, so every thread created afterwards inherits the mask
// and only a sigwait() (or Poco's waitForTerminationRequest()) sees them, and ignores SIGPIPE
// (a write to a closed socket or pipe fails with EPIPE instead). Returns the blocked set.
sigset_t blockSignals(std::initializer_list<int> signals);

// Blocks the calling thread until one of signals arrives (they must be blocked, as
// blockSignals() or runMain() leaves them) and returns it.
int waitForSignal(std::initializer_list<int> signals);

// A whole main() for a binary with nothing to do between parsing and running:
// parseCommandLine(program, set, argc, argv, validate), then blockSignals(signals), then run(),
// whose result is the exit code.
int runMain(std::string_view program, OptionSet& set, int argc, char** argv, std::initializer_list<int> signals,
            const std::function<void()>& validate, const std::function<int()>& run);

}  // namespace nsq

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
#include "nsq/base/program.h"  // versionLine(), userAgent(), setProgramName()

namespace nsq {

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

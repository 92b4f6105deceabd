#pragma once
// The running program's name and version as every binary reports them (--version) and sends
// them (IDENTIFY's user_agent, HTTP User-Agent). Kept apart from main.h so the client library
// can use it without the option parser (and so without yaml-cpp and CLI11).
#include <string>
#include <string_view>

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

}  // namespace nsq

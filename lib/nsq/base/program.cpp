// versionLine(), userAgent(), setProgramName(): one form of the program's name and version for
// every binary and the client library.
#include "nsq/base/program.h"

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

}  // namespace nsq

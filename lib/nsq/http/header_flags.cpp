// HeaderFlags: --http-max-header-bytes and --http-max-header-count for every HTTP daemon.
// The ranges keep a misconfiguration from turning the cap off: below 1024 bytes an ordinary
// browser request is refused, above 1 MiB a head is as much memory as a body.
#include "nsq/http/header_flags.h"

#include <string>

namespace nsq::http {

namespace {
constexpr int64_t kMinHeaderBytes = 1024;
constexpr int64_t kMaxHeaderBytes = 1024 * 1024;
constexpr int64_t kMinHeaderCount = 1;
constexpr int64_t kMaxHeaderCount = 10000;

void requireRange(const char* flag, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max)
    throw OptionError(std::string("flag --") + flag + ": " + std::to_string(value) + " must be in range " +
                      std::to_string(min) + "-" + std::to_string(max));
}
}  // namespace

void addHeaderFlags(OptionSet& set, HeaderFlags& flags) {
  set.addInt("http-max-header-bytes", &flags.maxHeaderBytes,
             "largest HTTP request head (request line and headers) in bytes, 1024-1048576; a larger one gets 431");
  set.addInt("http-max-header-count", &flags.maxHeaderCount,
             "most header fields in one HTTP request, 1-10000; more get 431");
}

void validateHeaderFlags(const HeaderFlags& flags) {
  requireRange("http-max-header-bytes", flags.maxHeaderBytes, kMinHeaderBytes, kMaxHeaderBytes);
  requireRange("http-max-header-count", flags.maxHeaderCount, kMinHeaderCount, kMaxHeaderCount);
}

void applyHeaderFlags(const HeaderFlags& flags, ParserLimits& limits) {
  limits.maxHeaderBytes = static_cast<std::size_t>(flags.maxHeaderBytes);
  limits.maxHeaderCount = static_cast<std::size_t>(flags.maxHeaderCount);
}

}  // namespace nsq::http

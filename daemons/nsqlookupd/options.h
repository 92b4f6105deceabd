#pragma once
// nsqlookupd's options (NSQ-COMPAT §5, §5.2) and the one OptionSet that exposes them as flags,
// YAML keys and --help. The man-page test builds the same table through makeOptionSet().
#include <memory>
#include <string>

#include "nsq/base/duration.h"
#include "nsq/base/host_port.h"
#include "nsq/base/options.h"
#include "nsq/http/header_flags.h"

namespace nsq::lookupd {

struct Options {
  std::string tcpAddress = "0.0.0.0:4160";
  std::string httpAddress = "0.0.0.0:4161";
  std::string broadcastAddress;  // defaults to the hostname
  Duration inactiveProducerTimeout = std::chrono::minutes(5);
  Duration tombstoneLifetime = std::chrono::seconds(45);
  int64_t tcpMaxConnections = 4096;   // per listener; more are accepted and closed at once
  int64_t httpMaxConnections = 4096;
  Duration httpReadTimeout = std::chrono::seconds(30);  // one whole HTTP request
  http::HeaderFlags httpHeaders;  // --http-max-header-bytes, --http-max-header-count
  std::string logLevel = "info";
  std::string logPrefix = "[nsqlookupd] ";
  bool verbose = false;  // deprecated no-op
};

std::string versionLine();  // nsq::versionLine("nsqlookupd")

// The option table bound to `opts` (which must outlive it).
std::unique_ptr<nsq::OptionSet> makeOptionSet(Options& opts);

// Checks values a type cannot: log level, listen addresses. Throws nsq::OptionError naming the flag.
void validate(const Options& opts);

}  // namespace nsq::lookupd

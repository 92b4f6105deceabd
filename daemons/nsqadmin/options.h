#pragma once
// nsqadmin's options (the original nsqadmin 1.3's flags, plus --history-interval) and the one
// OptionSet that exposes them as flags, YAML keys, --help and /config/:opt. The man-page test
// builds the same table through makeOptionSet().
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/options.h"
#include "nsq/http/header_flags.h"

namespace nsq::admin {

struct Options {
  std::string httpAddress = "0.0.0.0:4171";
  std::string basePath = "/";
  std::vector<std::string> lookupdHttpAddresses;  // one kind of address or the other
  std::vector<std::string> nsqdHttpAddresses;
  Duration httpClientConnectTimeout = std::chrono::seconds(2);
  Duration httpClientRequestTimeout = std::chrono::seconds(5);
  bool httpClientTlsInsecureSkipVerify = false;
  std::string httpClientTlsRootCaFile;
  std::string httpClientTlsCert;
  std::string httpClientTlsKey;
  std::string notificationHttpEndpoint;
  std::string aclHttpHeader = "X-Forwarded-User";
  std::vector<std::string> adminUsers;
  std::string allowConfigFromCidr = "127.0.0.1/8";
  // Our addition: how often nsqadmin samples every nsqd's /stats for the live graphs.
  Duration historyInterval = std::chrono::seconds(5);
  int64_t httpMaxConnections = 1024;
  http::HeaderFlags httpHeaders;  // --http-max-header-bytes, --http-max-header-count
  std::string logLevel = "info";
  std::string logPrefix = "[nsqadmin] ";
  // Accepted for compatibility; nsqadmin draws its own graphs (see --history-interval).
  std::string graphiteUrl;
  bool proxyGraphite = false;
  std::string statsdPrefix = "nsq.%s";
  std::string statsdCounterFormat = "stats.counters.%s.count";
  std::string statsdGaugeFormat = "stats.gauges.%s";
  Duration statsdInterval = std::chrono::seconds(60);
  std::string devStaticDir;
  bool verbose = false;  // deprecated no-op
};

std::string versionLine();  // "nsqadmin v1.3.0 (C++)"

// The option table bound to `opts` (which must outlive it).
std::unique_ptr<nsq::OptionSet> makeOptionSet(Options& opts);

// Checks what a type cannot (and normalizes --base-path to "/x" without a trailing slash, "/"
// alone staying "/"). Throws nsq::OptionError naming the flag.
void validate(Options& opts);

// An IPv4 or IPv6 CIDR ("127.0.0.1/8"). parse() is false for anything else.
struct Cidr {
  unsigned char net[16] = {};
  int bits = 0;
  bool v6 = false;
  bool parse(const std::string& text);
  bool contains(const std::string& ip) const;  // false for an unparsable ip
};

}  // namespace nsq::admin

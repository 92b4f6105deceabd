#pragma once
// nsq_to_http: consume topics and send every message to HTTP endpoints, finishing a message only
// after a 2xx answer (see nsq_to_http.cpp, man/nsq_to_http.1).
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/options.h"

namespace nsq::tools {

struct NsqToHttpOptions {
  std::vector<std::string> topics;
  std::string channel = "nsq_to_http";
  std::vector<std::string> nsqdTcpAddresses;
  std::vector<std::string> lookupdHttpAddresses;
  std::vector<std::string> postUrls;
  std::vector<std::string> getUrls;
  std::string contentType = "application/octet-stream";
  std::vector<std::string> headers;
  std::string mode = "hostpool";
  int64_t maxInFlight = 200;
  int64_t publishers = 100;  // --n
  double sample = 1.0;
  Duration connectTimeout = std::chrono::seconds(2);
  Duration requestTimeout = std::chrono::seconds(20);
  int64_t statusEvery = 250;
  std::vector<std::string> consumerOpts;
};

// The most concurrent publishers (--n) accepted: each is a thread.
inline constexpr int64_t kMaxPublishers = 1000;

std::unique_ptr<OptionSet> makeNsqToHttpOptionSet(NsqToHttpOptions& o);
// Throws OptionError naming the flag.
void validate(const NsqToHttpOptions& o);
// Runs until SIGINT/SIGTERM (blocked by the caller); then stops consuming, answers what it
// holds and returns the exit status (0; 1 when a source could not be reached at start).
int runNsqToHttp(const NsqToHttpOptions& o);

}  // namespace nsq::tools

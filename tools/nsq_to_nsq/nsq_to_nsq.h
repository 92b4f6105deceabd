#pragma once
// nsq_to_nsq: consume topics and republish every message to destination nsqd nodes, finishing a
// source message only after a destination acknowledged it (see nsq_to_nsq.cpp, man/nsq_to_nsq.1).
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/options.h"

namespace nsq::tools {

struct NsqToNsqOptions {
  std::vector<std::string> topics;
  std::string channel = "nsq_to_nsq";
  std::vector<std::string> nsqdTcpAddresses;
  std::vector<std::string> lookupdHttpAddresses;
  std::vector<std::string> destinationNsqdTcpAddresses;
  std::string destinationTopic;  // "" = the source topic's name
  std::string mode = "hostpool";
  int64_t maxInFlight = 200;
  int64_t statusEvery = 250;
  std::vector<std::string> consumerOpts;
  std::vector<std::string> producerOpts;
  std::string requireJsonField;
  std::string requireJsonValue;
  std::vector<std::string> whitelistJsonFields;
};

std::unique_ptr<OptionSet> makeNsqToNsqOptionSet(NsqToNsqOptions& o);
// Throws OptionError naming the flag.
void validate(const NsqToNsqOptions& o);
// Runs until SIGINT/SIGTERM (blocked by the caller); then stops consuming, relays or requeues
// what it holds and returns the exit status (0; 1 when a source could not be reached at start).
int runNsqToNsq(const NsqToNsqOptions& o);

}  // namespace nsq::tools

#pragma once
// nsq_tail: consume topics and print message bodies to stdout (NSQ-COMPAT §5.4).
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/options.h"

namespace nsq::tools {

struct NsqTailOptions {
  std::vector<std::string> topics;
  std::string channel;
  std::vector<std::string> nsqdTcpAddresses;
  std::vector<std::string> lookupdHttpAddresses;
  int64_t maxInFlight = 200;
  int64_t totalMessages = 0;
  bool printTopic = false;
  std::string format;  // "" = "%b\n", or "%T | %b\n" with printTopic (see tail_format.h)
  std::vector<std::string> consumerOpts;
};

std::unique_ptr<OptionSet> makeNsqTailOptionSet(NsqTailOptions& o);
void validate(NsqTailOptions& o);
// The --format template in effect (the default depends on --print-topic).
std::string effectiveFormat(const NsqTailOptions& o);  // throws OptionError; fills the default channel
// Runs until -n messages were printed, stdout closed, or SIGINT/SIGTERM (blocked by the
// caller). Returns the exit status.
int runNsqTail(const NsqTailOptions& o);

}  // namespace nsq::tools

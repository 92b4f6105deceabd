#pragma once
// to_nsq: stdin -> PUB/MPUB to every --nsqd-tcp-address (NSQ-COMPAT §5.3).
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/options.h"

namespace nsq::tools {

struct ToNsqOptions {
  std::string topic;
  std::vector<std::string> nsqdTcpAddresses;
  std::string delimiter = "\n";
  std::vector<std::string> producerOpts;
  int64_t rate = 0;
};

std::unique_ptr<OptionSet> makeToNsqOptionSet(ToNsqOptions& o);
// Throws OptionError naming the flag.
void validate(const ToNsqOptions& o);
// Reads fd until EOF or SIGINT/SIGTERM (which the caller has blocked), publishing every record.
// Returns the exit status: 0 all acknowledged, 1 a publish failed (reported on stderr).
int runToNsq(const ToNsqOptions& o, int inputFd);

}  // namespace nsq::tools

#pragma once
// nsq_to_file: archive NSQ topics to files (NSQ-COMPAT §5.5).
#include <memory>
#include <string>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/options.h"

namespace nsq::tools {

struct NsqToFileOptions {
  std::vector<std::string> topics;
  std::string topicPattern;
  Duration topicRefresh = std::chrono::minutes(1);
  std::string channel = "nsq_to_file";
  std::vector<std::string> nsqdTcpAddresses;
  std::vector<std::string> lookupdHttpAddresses;
  std::vector<std::string> consumerOpts;
  int64_t maxInFlight = 200;
  Duration httpConnectTimeout = std::chrono::seconds(2);
  Duration httpRequestTimeout = std::chrono::seconds(5);
  std::string logPrefix = "[nsq_to_file] ";
  std::string logLevel = "info";
  std::string outputDir = "/tmp";
  std::string workDir;
  std::string datetimeFormat = "%Y-%m-%d_%H";
  std::string filenameFormat = "<TOPIC>.<HOST><REV>.<DATETIME>.log";
  std::string hostIdentifier;
  int64_t gzipLevel = 6;
  bool gzip = false;
  bool skipEmptyFiles = false;
  int64_t rotateSize = 0;
  Duration rotateInterval{0};
  Duration syncInterval = std::chrono::seconds(30);
  Duration statusInterval = std::chrono::seconds(30);  // 0: no status lines
};

std::unique_ptr<OptionSet> makeNsqToFileOptionSet(NsqToFileOptions& o);
// Throws OptionError (flags) or std::runtime_error (the directories, naming the one that
// failed). Fills work-dir, creates and probes both directories.
void validate(NsqToFileOptions& o);
// Runs until SIGINT/SIGTERM (blocked by the caller, as is SIGHUP). Returns the exit status.
int runNsqToFile(const NsqToFileOptions& o);

}  // namespace nsq::tools

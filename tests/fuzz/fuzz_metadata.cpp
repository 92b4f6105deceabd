// Fuzz target: nsqd.dat (the topic and channel list nsqd reloads at start). A file that is not
// what nsqd writes is a start-up error with the file name, never a crash; names that are not
// valid are skipped.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "loopback.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsqd/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = (nsq::Logger::configure("", nsq::LogLevel::Fatal), true);
  (void)quiet;
  nsq::fuzz::ScratchDir dir;
  nsq::nsqd::MetadataFile file(dir.path());
  std::ofstream(file.path(), std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  try {
    for (const auto& topic : file.load())
      if (!nsq::isValidTopicName(topic.name)) std::abort();
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find(file.path()) == std::string::npos) std::abort();  // names the file
  }
  return 0;
}

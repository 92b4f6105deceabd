#pragma once
// MetadataFile: nsqd.dat under --data-path, the topics and channels nsqd recreates at start
// with their paused state (NSQ-COMPAT: the same JSON as upstream's, #ephemeral ones left out).
//
// Threads: not thread-safe; nsqd serializes load() and save() under its metadata lock.
#include <string>
#include <vector>

namespace nsq::nsqd {

struct ChannelMetadata {
  std::string name;
  bool paused = false;
};

struct TopicMetadata {
  std::string name;
  bool paused = false;
  std::vector<ChannelMetadata> channels;
};

class MetadataFile {
 public:
  explicit MetadataFile(const std::string& dataPath);

  const std::string& path() const { return path_; }

  // The topics the file lists; none when it is absent or empty. Invalid or #ephemeral names
  // are skipped with a warning. Throws std::runtime_error "<path>: failed to parse metadata -
  // <reason>" when the file is not the JSON nsqd writes (start-up only).
  std::vector<TopicMetadata> load() const;

  // Replaces the file (tmp + fsync + rename) unless it already holds these contents. False,
  // logged, when the write fails; the old file is then left as it was.
  bool save(const std::vector<TopicMetadata>& topics);

 private:
  std::string path_;
  std::string lastWritten_;  // what the file holds, as far as this process wrote it
};

}  // namespace nsq::nsqd

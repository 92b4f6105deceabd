// MetadataFile: reading and atomically replacing nsqd.dat. A write goes to a uniquely named
// temporary file that is fsynced and renamed over the old one, so a crash leaves either the old
// or the new contents; identical contents are not rewritten (an HTTP create persists at once and
// the topology hook queues a write of the same state too).
#include "nsqd/metadata.h"

#include <fcntl.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/version.h"

namespace nsq::nsqd {

MetadataFile::MetadataFile(const std::string& dataPath) : path_(dataPath + "/nsqd.dat") {}

std::vector<TopicMetadata> MetadataFile::load() const {
  std::vector<TopicMetadata> out;
  std::ifstream in(path_);
  if (!in) return out;
  std::stringstream buf;
  buf << in.rdbuf();
  if (buf.str().empty()) return out;
  Poco::JSON::Object::Ptr root;
  try {
    root = Poco::JSON::Parser().parse(buf.str()).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path_ + ": failed to parse metadata - " + e.what());
  }
  if (!root) throw std::runtime_error(path_ + ": failed to parse metadata - not a JSON object");
  try {
    auto topicsJson = root->getArray("topics");
    for (std::size_t i = 0; topicsJson && i < topicsJson->size(); ++i) {
      auto t = topicsJson->getObject(static_cast<unsigned>(i));
      if (!t) continue;
      TopicMetadata topic;
      topic.name = t->optValue<std::string>("name", "");
      if (!isValidTopicName(topic.name) || isEphemeral(topic.name)) {
        logWarn("NSQ: skipping creation of invalid topic ", topic.name);
        continue;
      }
      topic.paused = t->optValue<bool>("paused", false);
      auto chans = t->getArray("channels");
      for (std::size_t j = 0; chans && j < chans->size(); ++j) {
        auto c = chans->getObject(static_cast<unsigned>(j));
        if (!c) continue;
        ChannelMetadata channel;
        channel.name = c->optValue<std::string>("name", "");
        if (!isValidChannelName(channel.name) || isEphemeral(channel.name)) {
          logWarn("NSQ: skipping creation of invalid channel ", channel.name);
          continue;
        }
        channel.paused = c->optValue<bool>("paused", false);
        topic.channels.push_back(std::move(channel));
      }
      out.push_back(std::move(topic));
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path_ + ": failed to parse metadata - " + e.what());
  }
  return out;
}

bool MetadataFile::save(const std::vector<TopicMetadata>& topics) {
  Poco::JSON::Object root;
  Poco::JSON::Array topicsJson;
  for (const auto& topic : topics) {
    Poco::JSON::Object t;
    t.set("name", topic.name);
    t.set("paused", topic.paused);
    Poco::JSON::Array chans;
    for (const auto& c : topic.channels) {
      Poco::JSON::Object cj;
      cj.set("name", c.name);
      cj.set("paused", c.paused);
      chans.add(cj);
    }
    t.set("channels", chans);
    topicsJson.add(t);
  }
  root.set("topics", topicsJson);
  root.set("version", std::string(NSQ_VERSION));
  std::ostringstream out;
  root.stringify(out);
  std::string data = out.str();
  if (data == lastWritten_) return true;
  std::string tmp = path_ + "." + std::to_string(std::random_device{}()) + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    logError("NSQ: failed to write metadata ", tmp, " - ", std::strerror(errno));
    return false;
  }
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    logError("NSQ: failed to write metadata ", path_, " - ", std::strerror(errno));
    ::unlink(tmp.c_str());
    return false;
  }
  lastWritten_ = std::move(data);
  return true;
}

}  // namespace nsq::nsqd

// Topic: ID assignment and fan-out. Publishing copies a 48-byte Message per channel; the body
// block is shared. Messages published while there is no channel (or while paused) wait here and
// are drained into the channels by drain(), called on channel creation, unpause and by the
// scanner for whatever spilled to disk.
#include "topic.h"

#include "channel.h"
#include "clock.h"
#include "nsq/log.h"
#include "nsq/names.h"
#include "nsqd.h"

namespace nsq::nsqd {

Topic::Topic(Nsqd& nsqd, std::string name)
    : nsqd_(nsqd), name_(std::move(name)), ephemeral_(isEphemeral(name_)),
      guids_(nsqd.options().nodeId) {
  if (!ephemeral_) disk_ = std::make_unique<DiskQueue>(nsqd_.diskQueueOptions(name_));
}

Topic::~Topic() = default;

bool Topic::storeLocked(Message&& msg, std::string* error) {
  auto limit = static_cast<std::size_t>(nsqd_.options().memQueueSize);
  if (memory_.size() < limit || (!disk_ && memory_.size() < std::max<std::size_t>(limit, 1))) {
    memory_.push(std::move(msg));
    return true;
  }
  if (!disk_) return true;  // #ephemeral: overflow is discarded
  scratch_.clear();
  msg.appendPayload(scratch_);
  std::string err;
  if (!disk_->put(scratch_, &err)) {
    nsqd_.setHealth(err);
    if (error) *error = err;
    return false;
  }
  if (!nsqd_.healthy()) nsqd_.clearHealth();
  return true;
}

bool Topic::distributeLocked(Message&& msg, int64_t deferNs, std::string* error) {
  std::size_t n = channels_.size();
  std::size_t i = 0;
  for (auto& [name, channel] : channels_) {
    bool last = ++i == n;
    if (!channel->put(last ? std::move(msg) : Message(msg), deferNs, error)) return false;
  }
  return true;
}

bool Topic::publish(const std::vector<std::string_view>& bodies, int64_t deferNs,
                    std::string* error) {
  std::lock_guard lock(mu_);
  if (exiting()) {
    if (error) *error = "exiting";
    return false;
  }
  int64_t now = wallNanos();
  bool hold = paused() || !started_.load(std::memory_order_acquire) || channels_.empty();
  uint64_t bytes = 0;
  for (auto body : bodies) {
    Message msg;
    msg.id = MessageId::fromGuid(guids_.next());
    msg.timestamp = now;
    msg.body = Body(body);
    bytes += body.size();
    bool ok;
    if (!hold) {
      ok = distributeLocked(std::move(msg), deferNs, error);
    } else if (deferNs > 0 &&
               memory_.size() + deferredWaiting_.size() <
                   static_cast<std::size_t>(nsqd_.options().memQueueSize)) {
      deferredWaiting_.push_back({std::move(msg), deferNs});
      ok = true;
    } else {
      ok = storeLocked(std::move(msg), error);  // a deferred message spilled here loses its delay
    }
    if (!ok) return false;
    messageCount_.fetch_add(1, std::memory_order_relaxed);
  }
  messageBytes_.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

std::shared_ptr<Channel> Topic::getChannel(const std::string& name, bool* created) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mu_);
    if (exiting()) return nullptr;
    auto it = channels_.find(name);
    if (it != channels_.end()) {
      if (created) *created = false;
      return it->second;
    }
    channel = std::make_shared<Channel>(nsqd_, *this, name);
    channels_.emplace(name, channel);
    if (created) *created = true;
    logInfo("TOPIC(", name_, "): new channel(", name, ")");
  }
  drain(SIZE_MAX / 2);
  nsqd_.channelCreated(name_, name);
  return channel;
}

std::shared_ptr<Channel> Topic::findChannel(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Channel>> Topic::channels() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Channel>> out;
  for (const auto& [n, c] : channels_) out.push_back(c);
  return out;
}

bool Topic::deleteChannel(const std::string& name) {
  std::shared_ptr<Channel> channel;
  bool lastOfEphemeralTopic = false;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) return false;
    channel = it->second;
    channels_.erase(it);
    lastOfEphemeralTopic = ephemeral_ && channels_.empty();
  }
  logInfo("TOPIC(", name_, "): deleting channel ", name);
  channel->close(true);
  nsqd_.channelDeleted(name_, name);
  if (lastOfEphemeralTopic) nsqd_.deleteTopic(name_);
  return true;
}

bool Topic::drain(std::size_t budget) {
  std::lock_guard lock(mu_);
  if (exiting() || paused() || !started_.load(std::memory_order_acquire) || channels_.empty()) return false;
  bool moved = false;
  std::string error;
  for (auto& w : deferredWaiting_) {
    distributeLocked(std::move(w.msg), w.deferNs, &error);
    moved = true;
  }
  deferredWaiting_.clear();
  Message msg;
  while (budget > 0 && memory_.pop(msg)) {
    distributeLocked(std::move(msg), 0, &error);
    --budget;
    moved = true;
  }
  std::string payload;
  while (budget > 0 && disk_ && disk_->pop(payload)) {
    if (!Message::parsePayload(payload, msg)) continue;
    if (!distributeLocked(std::move(msg), 0, &error)) {
      logError("TOPIC(", name_, "): failed to move message to channels - ", error);
    }
    --budget;
    moved = true;
  }
  if (disk_) disk_->syncIfDue();
  return moved;
}

void Topic::start() {
  started_.store(true, std::memory_order_release);
  drain(SIZE_MAX / 2);
}

void Topic::pause() { paused_.store(true); }

void Topic::unpause() {
  paused_.store(false);
  drain(SIZE_MAX / 2);
}

void Topic::empty() {
  std::lock_guard lock(mu_);
  memory_.clear();
  deferredWaiting_.clear();
  if (disk_) disk_->empty();
}

void Topic::close(bool deleteData) {
  std::map<std::string, std::shared_ptr<Channel>> channels;
  {
    std::lock_guard lock(mu_);
    if (exiting_.exchange(true)) return;
    channels = channels_;
    if (deleteData) channels_.clear();
  }
  for (auto& [n, c] : channels) c->close(deleteData);
  std::lock_guard lock(mu_);
  if (deleteData) {
    memory_.clear();
    deferredWaiting_.clear();
    if (disk_) disk_->deleteAll();
    return;
  }
  if (!disk_) return;
  Message msg;
  std::string err;
  auto spill = [&](const Message& m) {
    scratch_.clear();
    m.appendPayload(scratch_);
    if (!disk_->put(scratch_, &err))
      logError("TOPIC(", name_, "): failed to persist message on exit - ", err);
  };
  for (auto& w : deferredWaiting_) spill(w.msg);
  deferredWaiting_.clear();
  while (memory_.pop(msg)) spill(msg);
  disk_->close();
}

TopicStats Topic::stats(const std::string& channelFilter, bool withClients) const {
  std::vector<std::shared_ptr<Channel>> chans;
  TopicStats s;
  {
    std::lock_guard lock(mu_);
    s.name = name_;
    s.backendDepth = disk_ ? disk_->depth() : 0;
    s.depth = static_cast<int64_t>(memory_.size() + deferredWaiting_.size()) + s.backendDepth;
    s.messageCount = messageCount_.load();
    s.messageBytes = messageBytes_.load();
    s.paused = paused();
    for (const auto& [n, c] : channels_)
      if (channelFilter.empty() || n == channelFilter) chans.push_back(c);
  }
  for (const auto& c : chans) s.channels.push_back(c->stats(withClients));
  return s;
}

int64_t Topic::depth() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(memory_.size() + deferredWaiting_.size()) +
         (disk_ ? disk_->depth() : 0);
}

}  // namespace nsq::nsqd

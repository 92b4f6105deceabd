#pragma once
// Topic: a stream of messages. Each published message gets an ID and is copied to every
// channel; while the topic has no channel (or is paused) messages wait in the topic's own
// memory queue and disk queue, and drain() moves them on once channels exist. Deferred messages
// that wait in a non-ephemeral topic are journaled with their due time (MessageJournal).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/message.h"
#include "nsq/storage/disk_queue.h"
#include "nsqd/guid.h"
#include "nsqd/memory_queue.h"
#include "nsqd/message_journal.h"
#include "nsqd/quantile.h"

namespace nsq::nsqd {

class Channel;
class Nsqd;
struct ChannelStats;

struct TopicStats {
  std::string name;
  int64_t depth = 0;
  int64_t backendDepth = 0;
  uint64_t messageCount = 0;
  uint64_t messageBytes = 0;
  bool paused = false;
  std::vector<ChannelStats> channels;
  // Merged over all the topic's channels (whatever the filter); nullopt when percentiles are
  // off or the topic has no channel.
  std::optional<LatencyPercentiles> e2e;
};

class Topic {
 public:
  Topic(Nsqd& nsqd, std::string name);
  ~Topic();
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  const std::string& name() const { return name_; }
  bool ephemeral() const { return ephemeral_; }
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }

  // Publishes bodies, all or nothing: false with *error (topic exiting, a disk or journal write
  // or the sync a write owes failed) means none of them was stored or can be delivered.
  // deferNs > 0 defers each.
  bool publish(const std::vector<std::string_view>& bodies, int64_t deferNs, std::string* error);

  // Channel registry. getChannel creates on first use (nullptr while exiting).
  std::shared_ptr<Channel> getChannel(const std::string& name, bool* created = nullptr);
  std::shared_ptr<Channel> findChannel(const std::string& name) const;
  bool deleteChannel(const std::string& name);  // false if absent
  std::vector<std::shared_ptr<Channel>> channels() const;

  // Moves waiting topic messages to the channels (bounded work per call); true if any moved.
  bool drain(std::size_t budget);
  // Begins delivering to channels. A new topic is held (messages wait in it) until nsqd has
  // asked nsqlookupd for the channels the cluster knows and created them.
  void start();
  void pause();
  void unpause();
  bool paused() const { return paused_.load(std::memory_order_relaxed); }
  void empty();
  // Stops the topic and its channels; deleteData removes their files, else flushes to disk.
  void close(bool deleteData);

  TopicStats stats(const std::string& channelFilter, bool withClients) const;
  int64_t depth() const;

 private:
  // Messages moved on the caller's thread when a channel appears or the topic starts/unpauses;
  // the scanner moves the rest, a pass at a time, so no thread holds the topic lock for long.
  static constexpr std::size_t kInlineDrain = 10000;
  void drainSoon();
  struct Waiting {
    Message msg;
    int64_t wallDeadline;  // unix ns when it is due
  };
  using Syncs = std::vector<std::unique_ptr<MessageJournal::Sync>>;
  bool publishLocked(const std::vector<std::string_view>& bodies, int64_t deferNs,
                     std::string* error, Syncs& syncs);
  // Prepares what this publish or drain pass staged in the channels (Channel::prepare), then
  // commits it, or aborts it everywhere when any channel failed. Returns false with *error then.
  bool finishChannelsLocked(std::string* error, Syncs& syncs);
  bool distributeLocked(Message&& msg, int64_t deferNs, std::string* error);

  Nsqd& nsqd_;
  const std::string name_;
  const bool ephemeral_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;
  MemoryQueue memory_;
  std::vector<Waiting> deferredWaiting_;
  std::shared_ptr<DiskQueue> disk_;
  std::unique_ptr<MessageJournal> journal_;  // deferredWaiting_ on disk; null for #ephemeral
  GuidFactory guids_;
  std::string scratch_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> exiting_{false};
  std::atomic<uint64_t> messageCount_{0};
  std::atomic<uint64_t> messageBytes_{0};
};

}  // namespace nsq::nsqd

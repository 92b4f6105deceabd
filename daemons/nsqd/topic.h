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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsqd/backlog.h"
#include "nsqd/guid.h"
#include "nsqd/policy.h"
#include "nsqd/queue_context.h"
#include "nsqd/quantile.h"

namespace nsq::nsqd {

class Channel;
struct ChannelStats;

struct TopicStats {
  std::string name;
  int64_t depth = 0;
  int64_t backendDepth = 0;
  uint64_t messageCount = 0;
  uint64_t messageBytes = 0;
  bool paused = false;
  uint64_t droppedCount = 0;  // overflow drop_oldest of the topic's own queue
  std::shared_ptr<const TopicPolicy> policy;  // null: none (stats then show nothing new)
  std::vector<ChannelStats> channels;
  // Merged over all the topic's channels (whatever the filter); nullopt when percentiles are
  // off or the topic has no channel.
  std::optional<LatencyPercentiles> e2e;
};

class Topic {
 public:
  // ctx and events outlive the topic (nsqd implements both). policy: its effective policy
  // (null: none), shared with its channels.
  Topic(StorageContext& ctx, TopologyEvents& events, std::string name,
        std::shared_ptr<const TopicPolicy> policy = nullptr);
  ~Topic();
  Topic(const Topic&) = delete;
  Topic& operator=(const Topic&) = delete;

  const std::string& name() const { return name_; }
  bool ephemeral() const { return ephemeral_; }
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }

  // Publishes bodies, all or nothing: an error (topic exiting, a disk or journal write or the
  // sync a write owes failed) means none of them was stored or can be delivered. It carries
  // failCode (the caller's PubFailed, MpubFailed or DpubFailed) and the reason ("exiting" or
  // the storage error text); or TopicFull ("topic <name> is full (max_depth <n>)") when the
  // policy's overflow is reject and the topic's queue or a channel's would pass max_depth.
  // deferNs > 0 defers each. Any thread.
  [[nodiscard]] Error publish(const std::vector<std::string_view>& bodies, int64_t deferNs, ErrorCode failCode);
  // A dead letter: an ID from reserveId() (which the source channel journals first), then
  // publishAs() stores body under it exactly as publish() would. holds() tells, at start,
  // whether a message with that ID is still anywhere in the topic or its channels (reads the
  // disk queues' files). Any thread.
  MessageId reserveId();
  [[nodiscard]] Error publishAs(std::string_view body, const MessageId& id, ErrorCode failCode);
  bool holds(const MessageId& id);

  // Channel registry. getChannel creates on first use; nullptr while exiting, or when a new
  // channel would pass --max-channels-per-topic under Limit::Enforce (then *refused says so).
  std::shared_ptr<Channel> getChannel(const std::string& name, Limit limit = Limit::Enforce,
                                      Refusal* refused = nullptr);
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

  // The effective policy (null: none). setPolicy() applies a reloaded one to the topic and its
  // channels. Any thread.
  std::shared_ptr<const TopicPolicy> policy() const;
  void setPolicy(std::shared_ptr<const TopicPolicy> policy);

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
  // Below: mu_ held. Storage errors carry ErrorCode::PubFailed; publish() sets the caller's code.
  // id: the ID of the one body (publishAs); null: new IDs.
  [[nodiscard]] Error publishLocked(const std::vector<std::string_view>& bodies, int64_t deferNs, SyncScope& syncs,
                                    const MessageId* id = nullptr);
  // Prepares what this publish staged in the channels (Channel::prepare) unless error is set
  // already, then commits it, or aborts it everywhere when error is set or a channel failed
  // (error then holds that channel's error). Returns whether it committed and every channel
  // now sends new messages to disk (Channel::commit).
  // With writes, a channel whose new messages all went to disk may leave its batch there for
  // writeChannels() (one entry per channel that did, reused from publish to publish).
  struct ChannelWrite {
    std::shared_ptr<Channel> channel;
    DiskQueue::Write write;
    int64_t published = 0;  // messages the completed write made visible
  };
  using ChannelWrites = std::vector<std::unique_ptr<ChannelWrite>>;
  bool finishChannelsLocked(Error& error, SyncScope& syncs, ChannelWrites* writes = nullptr);
  // After the topic lock: writes the batches finishChannelsLocked() left, and publishes all of
  // them when keep is true and every write worked, else takes all of them back. PubFailed with
  // the storage error when they were not published.
  [[nodiscard]] Error writeChannels(ChannelWrites& writes, bool keep);
  // TopicFull when n more messages would take the topic's queue (hold) or a channel past
  // max_depth under overflow reject.
  [[nodiscard]] Error checkDepthLocked(std::size_t n, bool hold) const;
  // Stages a copy of each message in every channel, one channel lock each (the last channel
  // takes the messages: msgs is left moved-from); the first channel's error if any could not
  // store them. unbuilt: the bodies, when the messages' are not built (Channel::putBatch).
  [[nodiscard]] Error distributeLocked(std::span<Message> msgs, int64_t deferNs,
                                       std::span<const UnbuiltBody> unbuilt = {});

  StorageContext& ctx_;
  TopologyEvents& events_;
  const std::string name_;
  const bool ephemeral_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Channel>> channels_;
  Backlog backlog_;  // its journal holds deferredWaiting_
  std::vector<Waiting> deferredWaiting_;
  std::mutex guidMu_;  // guids_: taken before mu_ (publishLocked), never the other way round
  GuidFactory guids_;
  std::shared_ptr<const TopicPolicy> policy_;  // null: no policy (checked once per publish)
  std::atomic<uint64_t> droppedCount_{0};
  std::atomic<bool> paused_{false};
  // The last publish found every channel sending new messages to disk: the next one does not
  // build bodies before taking mu_ (publishLocked). A hint; read without mu_.
  std::atomic<bool> spilling_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> exiting_{false};
  std::atomic<uint64_t> messageCount_{0};
  std::atomic<uint64_t> messageBytes_{0};
};

}  // namespace nsq::nsqd

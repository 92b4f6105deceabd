#pragma once
// Channel: one consumer group on a topic. Messages wait in a bounded memory queue that spills to
// the channel's disk queue; delivery is pull-based: a subscribed consumer's IO thread calls
// pull() to take as many messages as its RDY window allows, so a slow client never holds up the
// others and no lock is held while bytes go to a socket. A consumer that finds nothing registers
// as waiting and is woken by the next put(). Consumers are seen through the small Consumer
// interface; what the channel keeps per consumer (in flight, waiting) is its own, under mu_.
//
// In-flight messages sit in an InFlightTable (ID index plus deadline heap; FIN removes from the
// heap in O(log n), so finished messages leave no garbage); deferred messages in a second heap.
// The scanner in nsqd.cpp calls processTimeouts(); there are no per-message timers.
//
// Durability: a non-ephemeral channel keeps a MessageJournal of its deferred messages (with their
// wall-clock due time) and of in-flight messages that were popped from its disk queue (by
// segment and offset; the disk queue keeps those segments), so both survive a restart, graceful
// or kill -9. With --sync-every above 1 and no max_attempts policy, a message popped from disk
// is journaled only if it leaves flight unfinished: until then its disk record is held (the
// committed read position stops before it, Backlog::holdPop), so a crash delivers it again
// from there, on the attempt its record has. Messages that only ever lived in memory are not
// journaled when delivered: they were not durable before delivery either.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsqd/backlog.h"
#include "nsqd/consumer.h"
#include "nsqd/in_flight_table.h"
#include "nsqd/policy.h"
#include "nsqd/queue_context.h"
#include "nsqd/quantile.h"

namespace nsq::nsqd {

struct ChannelStats {
  std::string name;
  int64_t depth = 0;
  int64_t backendDepth = 0;
  int64_t inFlightCount = 0;
  int64_t deferredCount = 0;
  uint64_t messageCount = 0;
  uint64_t requeueCount = 0;
  uint64_t timeoutCount = 0;
  // Policy counters (policy.h): moved to the dead-letter topic, dropped past message_ttl,
  // dropped by overflow drop_oldest.
  uint64_t deadLetterCount = 0;
  uint64_t expiredCount = 0;
  uint64_t droppedCount = 0;
  bool paused = false;
  std::vector<std::shared_ptr<Consumer>> clients;  // in subscription order
  std::optional<LatencyPercentiles> e2e;  // nullopt without --e2e-processing-latency-percentile
};

class Channel {
 public:
  // ctx outlives the channel (nsqd implements it). The channel knows its topic by name only: it
  // never calls back into the Topic that owns it.
  // policy: the topic's effective policy (null: none), known before the journal is replayed so
  // that messages recovered past max_attempts go to the dead-letter topic, not to a consumer.
  Channel(StorageContext& ctx, std::string topicName, std::string name,
          std::shared_ptr<const TopicPolicy> policy = nullptr);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& topicName() const { return topicName_; }
  bool ephemeral() const { return ephemeral_; }
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }

  // A publish in three steps, so that an error reply means nothing was stored: put() stages a
  // copy of a topic message in the channel's backlog (Backlog::stage; deferNs > 0: for the
  // deferred heap and the journal) where no consumer sees it yet; prepare() writes the disk batch
  // and the journal (and runs a sync that is owed inline); then commit() makes everything
  // visible, or abort() takes it all back. put() and prepare() return an error (PubFailed, with
  // "exiting" or the storage error text) when the message could be stored nowhere; the caller
  // then calls abort(). The topic calls them under its lock, once per publish or drain pass. A
  // journal fsync that comes due goes into syncs, which the caller hands to the syncer once it
  // has dropped its own locks. Any thread.
  [[nodiscard]] Error put(Message msg, int64_t deferNs);
  // put() for every message of a publish under one lock: copies them, or moves them out when
  // take is true (the last channel). Stops at the first error and returns it. With `unbuilt`
  // (one view per message), the messages' bodies are not built yet: each is the publisher's
  // bytes, copied into a Body only where the channel keeps it in memory (Backlog::stage).
  [[nodiscard]] Error putBatch(std::span<Message> msgs, bool take, int64_t deferNs,
                               std::span<const UnbuiltBody> unbuilt = {});
  // With detach, prepare() may leave the disk batch to be written after the caller drops its
  // locks (Backlog::prepare, DiskQueue::Write): not under an overflow policy, whose depth checks
  // count it. When it did (detach->active()), nothing else was staged: the caller calls neither
  // commit() nor abort(), *spilling is what commit() would have returned, and once the caller
  // completed the write and kept it, written() counts its messages and wakes consumers waiting
  // for them.
  [[nodiscard]] Error prepare(SyncScope& syncs, DiskQueue::Write* detach = nullptr, bool* spilling = nullptr);
  void written(int64_t records);
  // Returns whether a new message would now go to the disk queue (Backlog::spilling()).
  bool commit();
  void abort();

  // Subscribes / unsubscribes a consumer. addClient fails (E_SUB_FAILED) when exiting or over
  // --max-channel-consumers. removeClient returns true when this was the last consumer of an
  // ephemeral channel (the caller then deletes the channel). The removed consumer's messages
  // stay in flight until they time out (as upstream), then go to the next consumer. Any thread.
  [[nodiscard]] Error addClient(const std::shared_ptr<Consumer>& consumer);
  bool removeClient(const Consumer& consumer);

  // Takes up to the consumer's open window (RDY - its messages in flight) of messages, marking
  // them in flight with its msg_timeout, and appends a MESSAGE frame for each to frames (written
  // under the lock, from the in-flight entry: no copy of the message is made); returns how many.
  // When it could take more than there was, it is woken by the next put. Call on the consumer's
  // IO thread; nothing for an unknown consumer.
  std::size_t pull(Consumer& consumer, std::string& frames);

  // FIN / REQ / TOUCH from the owning consumer: None, or E_FIN_FAILED / E_REQ_FAILED /
  // E_TOUCH_FAILED with upstream's text ("FIN <id> failed ID not in flight", "... failed client
  // does not own message"). Never throws. Any thread.
  [[nodiscard]] Error finish(const Consumer& consumer, const MessageId& id);
  // FIN for several IDs under one lock; each failure is appended to failures, in order.
  void finishBatch(const Consumer& consumer, std::span<const MessageId> ids, std::vector<Error>& failures);
  [[nodiscard]] Error requeue(const Consumer& consumer, const MessageId& id, int64_t delayNs);
  [[nodiscard]] Error touch(const Consumer& consumer, const MessageId& id);

  // How many of this channel's messages the consumer has in flight (0 for a stranger). Any thread.
  int64_t inFlightCount(uint64_t consumerId) const;

  // Expires in-flight messages and releases due deferred ones; true if anything happened.
  bool processTimeouts(int64_t nowMono);

  void pause();
  void unpause();
  bool paused() const { return paused_.load(std::memory_order_relaxed); }
  // Drops every queued, in-flight and deferred message (and the disk files' contents).
  void empty();
  // Stops the channel. deleteData: remove its disk files; otherwise flush memory, in-flight and
  // deferred messages to disk (graceful shutdown). Clients are closed either way.
  void close(bool deleteData);

  // The topic's effective policy (null: none); the topic sets it at creation and on reload.
  // Any thread.
  void setPolicy(std::shared_ptr<const TopicPolicy> policy);
  // Messages waiting here (memory, disk, deferred, staged), for max_depth. Any thread.
  int64_t queued() const;
  // Finishes, once nsqd has loaded every topic, the dead-letter moves a restart found: messages
  // journaled as being moved (published to the dead-letter topic unless it already holds them)
  // and messages that were in flight on their last attempt. Nothing to do (cheap) otherwise.
  // Call without locks held. Any thread.
  void sendRecoveredDeadLetters();
  // Whether a message with this ID is anywhere in the channel (queues, disk, journal, in flight,
  // deferred). Reads the disk queue's files: for recovery checks only. Any thread.
  bool holds(const MessageId& id);

  ChannelStats stats(bool withClients) const;
  // Adds the channel's end-to-end latency window to into (and its sum to *sumNs); false, adding
  // nothing, when percentiles are off. Any thread.
  bool collectE2e(QuantileSummary& into, double* sumNs) const;
  int64_t depth() const;
  std::size_t clientCount() const;

 private:
  struct Deferred {
    int64_t deadline;
    Message msg;
  };

  // pull() under the lock; messages out of attempts (restored so) go to dead, for
  // sendDeadLetters() once the lock and the syncs are released.
  std::size_t pullLocked(Consumer& client, std::string& frames, std::vector<Message>& dead, std::string& deadTopic);

  // All below: mu_ held.
  // unbuilt: the message's body when msg.body is not built yet (putBatch), else null.
  [[nodiscard]] Error putLocked(Message&& msg, int64_t deferNs, const UnbuiltBody* unbuilt = nullptr);
  void restoreJournal();  // places the backlog's journaled messages (deferred heap or memory)
  int64_t queuedLocked() const;
  // Whether m (just taken out of flight for a REQ or a timeout) has used up its attempts and
  // should go to the dead-letter topic instead of back to the queue.
  bool outOfAttemptsLocked(const Message& m) const {
    return policy_ && policy_->maxAttempts > 0 && ctx_.deadLetters() && m.attempts >= policy_->maxAttempts;
  }
  // A message on its way to the dead-letter topic `to`, where it is published as message `as`
  // (all zero: no ID reserved yet).
  struct DeadLetter {
    Message msg;
    MessageId as{};
    std::string to;
  };
  // Publishes each message to the dead-letter topic, then (re-locking) forgets it in the
  // journal; one that could not be published goes back to the queue. Call without mu_ held.
  void sendDeadLetters(std::vector<Message>& msgs, const std::string& topic);
  // The same for moves that may already carry an ID (recovered: published only when the topic
  // does not hold that ID yet).
  void moveDeadLetters(std::vector<DeadLetter>& moves, bool recovered);
  // What the channel keeps per consumer. Pointers to it stay valid until removeClient.
  struct ConsumerState {
    std::shared_ptr<Consumer> consumer;
    int64_t inFlight = 0;  // entries of inFlight_ whose clientId is this consumer's
    bool waiting = false;  // in waiting_
  };

  void wakeWaitersLocked(std::size_t n);
  ConsumerState* findConsumerLocked(uint64_t id);
  void setWaitingLocked(ConsumerState& state);
  // The in-flight entry for id if this consumer owns it; else nullptr with *err set.
  InFlightTable::Entry* ownedLocked(const Consumer& consumer, const MessageId& id, const char* cmd,
                                    ErrorCode failCode, Error* err);
  // Takes id out of flight for its owner; state is the owner's entry (null once removed).
  // finished: a FIN (a held disk record is released), else a REQ (it is journaled).
  [[nodiscard]] Error takeInFlightLocked(const Consumer& consumer, ConsumerState* state, const MessageId& id,
                                         const char* cmd, ErrorCode failCode, Message& out, bool finished);

  StorageContext& ctx_;
  const std::string name_;
  const std::string topicName_;
  const bool ephemeral_;

  mutable std::mutex mu_;
  Backlog backlog_;  // memory + disk queue + journal (deferred and disk-popped in-flight)
  InFlightTable inFlight_;
  std::vector<Deferred> deferred_;  // min-heap by deadline
  std::vector<DeadLetter> recoveredDead_;  // found by restoreJournal(), for sendRecoveredDeadLetters()
  std::atomic<bool> hasRecoveredDead_{false};
  std::vector<Deferred> stagedDeferred_;  // put() with a delay, until commit()
  std::shared_ptr<const TopicPolicy> policy_;  // null: no policy (checked once per call)
  std::unordered_map<uint64_t, ConsumerState> consumers_;  // by Consumer::id()
  std::vector<ConsumerState*> order_;    // subscription order, for stats and close
  std::vector<ConsumerState*> waiting_;  // found nothing to pull: woken by put()
  // FIN latencies (now - publish time); null when percentiles are off. Has its own lock, taken
  // after mu_ is released.
  std::unique_ptr<LatencyWindow> e2e_;

  std::atomic<bool> paused_{false};
  std::atomic<bool> exiting_{false};
  std::atomic<uint64_t> messageCount_{0};
  std::atomic<uint64_t> requeueCount_{0};
  std::atomic<uint64_t> timeoutCount_{0};
  std::atomic<uint64_t> deadLetterCount_{0};
  std::atomic<uint64_t> expiredCount_{0};
  std::atomic<uint64_t> droppedCount_{0};
  std::atomic<int64_t> inFlightCount_{0};
  std::atomic<int64_t> deferredCount_{0};
};

}  // namespace nsq::nsqd

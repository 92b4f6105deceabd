// Topic: ID assignment and fan-out. Publishing copies a 48-byte Message per channel; the body
// block is shared. Messages published while there is no channel (or while paused) wait here and
// are drained into the channels by drain(), called on channel creation, unpause and by the
// scanner for whatever spilled to disk. Draining pops the topic's disk queue without syncing
// and lets the pops be synced only after the channels hold the messages, so a crash in between
// duplicates a message rather than losing it.
#include "nsqd/topic.h"

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/storage/record.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"

namespace nsq::nsqd {

Topic::Topic(StorageContext& ctx, TopologyEvents& events, std::string name,
             std::shared_ptr<const TopicPolicy> policy)
    : ctx_(ctx), events_(events), name_(std::move(name)), ephemeral_(isEphemeral(name_)),
      backlog_(ctx_, name_, !ephemeral_, "TOPIC(" + name_ + ")", Backlog::PopCommit::AtHandOff),
      guids_(ctx_.options().nodeId), policy_(std::move(policy)) {
  backlog_.setStrictOrder(policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::DropOldest);
  for (auto& e : backlog_.open()) deferredWaiting_.push_back({std::move(e.msg), e.wallDeadline});
  if (!deferredWaiting_.empty())
    logInfo("TOPIC(", name_, "): restored ", std::to_string(deferredWaiting_.size()),
            " deferred messages from its journal");
}

Topic::~Topic() = default;

Error Topic::distributeLocked(std::span<Message> msgs, int64_t deferNs, std::span<const UnbuiltBody> unbuilt) {
  std::size_t n = channels_.size();
  std::size_t i = 0;
  Error first;
  for (auto& [name, channel] : channels_) {
    Error e = channel->putBatch(msgs, /*take=*/++i == n, deferNs, unbuilt);
    if (e && !first) first = std::move(e);
  }
  return first;
}

bool Topic::finishChannelsLocked(Error& error, SyncScope& syncs, ChannelWrites* writes) {
  // A channel that left its batch to writeChannels() (its write is active) has nothing to
  // commit or abort here, and its lock must not be taken again before that batch is completed:
  // a thread emptying or deleting the channel may hold it while it waits for the batch.
  auto writeOf = [&](std::size_t i) -> DiskQueue::Write* { return writes ? &(*writes)[i]->write : nullptr; };
  bool spilling = true;
  std::size_t i = 0;
  for (auto& [name, channel] : channels_) {
    if (error) break;
    if (writes && writes->size() <= i) writes->push_back(std::make_unique<ChannelWrite>());
    if (writes) (*writes)[i]->channel = channel;
    bool channelSpilling = false;
    error = channel->prepare(syncs, writeOf(i), &channelSpilling);
    if (!error && writeOf(i) && writeOf(i)->active() && !channelSpilling) spilling = false;
    ++i;
  }
  if (error) spilling = false;
  i = 0;
  for (auto& [name, channel] : channels_) {
    DiskQueue::Write* write = i < (writes ? writes->size() : 0) ? writeOf(i) : nullptr;
    ++i;
    if (write && write->active()) continue;
    if (error)
      channel->abort();
    else if (!channel->commit())
      spilling = false;
  }
  return spilling;
}

Error Topic::writeChannels(ChannelWrites& writes, bool keep) {
  // Every batch is written, then each waits for the batches reserved before it (another
  // publisher's, being written on another thread), then all are published or all taken back.
  std::string error;
  for (auto& cw : writes)
    if (keep && cw->write.active() && !cw->write.queue()->write(cw->write, &error)) keep = false;
  for (auto& cw : writes)
    if (keep && cw->write.active() && !cw->write.queue()->awaitTurn(cw->write)) keep = false;
  // Every batch is completed before any channel lock is taken: a channel being deleted waits,
  // under its lock, for the batches of its queue, which another publisher may complete only
  // after this one completed its batch in another channel's queue.
  for (auto& cw : writes) {
    cw->published = 0;
    if (!cw->write.active()) continue;
    const int64_t records = cw->write.records();
    std::string why;
    if (cw->write.queue()->complete(cw->write, keep, &why))
      cw->published = records;
    else if (error.empty())
      error = std::move(why);
  }
  for (auto& cw : writes) {
    if (cw->published > 0) cw->channel->written(cw->published);
    DiskQueue::awaitCutBack(cw->write);  // an error reply only once the files no longer hold it
    cw->channel.reset();
  }
  if (keep) return {};
  return {ErrorCode::PubFailed, error.empty() ? "exiting" : std::move(error)};
}

Error Topic::publish(const std::vector<std::string_view>& bodies, int64_t deferNs, ErrorCode failCode) {
  SyncScope syncs;  // journal fsyncs, handed to the syncer after the topic lock is released
  Error error = publishLocked(bodies, deferNs, syncs);
  if (error && error.code != ErrorCode::TopicFull) error.code = failCode;
  return error;
}

MessageId Topic::reserveId() {
  std::lock_guard lock(guidMu_);
  return MessageId::fromGuid(guids_.next());
}

Error Topic::publishAs(std::string_view body, const MessageId& id, ErrorCode failCode) {
  SyncScope syncs;
  Error error = publishLocked({body}, 0, syncs, &id);
  if (error && error.code != ErrorCode::TopicFull) error.code = failCode;
  return error;
}

bool Topic::holds(const MessageId& id) {
  std::vector<std::shared_ptr<Channel>> chans;
  {
    std::lock_guard lock(mu_);
    if (backlog_.holds(id)) return true;
    for (const auto& w : deferredWaiting_)
      if (w.msg.id == id) return true;
    for (const auto& [name, channel] : channels_) chans.push_back(channel);
  }
  for (const auto& c : chans)
    if (c->holds(id)) return true;
  return false;
}

Error Topic::checkDepthLocked(std::size_t n, bool hold) const {
  const int64_t max = policy_->maxDepth;
  const auto more = static_cast<int64_t>(n);
  bool full = hold ? backlog_.depth() + static_cast<int64_t>(deferredWaiting_.size()) + more > max : false;
  if (!hold)
    for (const auto& [name, channel] : channels_)
      if (channel->queued() + more > max) full = true;
  if (!full) return {};
  return {ErrorCode::TopicFull, "topic " + name_ + " is full (max_depth " + std::to_string(max) + ")"};
}

Error Topic::publishLocked(const std::vector<std::string_view>& bodies, int64_t deferNs, SyncScope& syncs,
                           const MessageId* id) {
  // The bodies are copied into their blocks before the topic lock is taken: a copy may be the
  // first touch of a fresh pool chunk (the kernel zeroes it in the page fault), and another
  // connection publishing to this topic must not wait for that.
  // While every channel sends new messages to its disk queue (as the last publish found), the
  // bodies are not built at all: the disk records are encoded here from the publisher's bytes,
  // and a channel builds a Body only if it keeps the message in memory after all.
  // The IDs are taken first too, under their own small lock, so that the records (CRC-32C
  // included) are encoded outside the topic lock, once for all channels: perf of a
  // 200 B publish spilling at 1.4M msgs/s had the CRC at 7% of nsqd's CPU, all of it inside
  // the topic lock the other connection was waiting for. Two publishers may then store their
  // batches in the other order than their IDs; nothing orders by ID.
  const bool unbuilt = spilling_.load(std::memory_order_relaxed);
  thread_local std::vector<Message> built;
  thread_local std::vector<UnbuiltBody> views;
  thread_local std::string records;
  built.clear();  // a Body that threw bad_alloc may have left some
  views.clear();
  records.clear();
  const int64_t now = wallNanos();
  uint64_t bytes = 0;
  for (auto body : bodies) {
    Message& msg = built.emplace_back();
    msg.timestamp = now;
    if (!unbuilt) msg.body = Body(body);
    bytes += body.size();
  }
  {
    std::lock_guard ids(guidMu_);
    for (auto& msg : built) msg.id = id ? *id : MessageId::fromGuid(guids_.next(now));
  }
  if (unbuilt) {
    const bool encode = deferNs <= 0;  // a deferred message goes to the journal, not a queue
    // Exactly the records' size: no append below moves the buffer, so each view stays valid.
    if (encode) records.reserve(bodies.size() * (kRecordHeaderSize + kMessageHeaderLength) + bytes);
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      UnbuiltBody& view = views.emplace_back(UnbuiltBody{bodies[i], {}});
      if (!encode) continue;
      char header[kMessageHeaderLength];
      built[i].encodeHeader(header);
      const std::size_t start = records.size();
      appendRecord(records, {header, sizeof header}, bodies[i]);
      view.record = std::string_view(records).substr(start);
    }
  }
  struct Release {  // the blocks go back to this thread's pool cache, whatever happens below
    ~Release() {
      built.clear();
      if (built.capacity() > 4096) std::vector<Message>().swap(built);  // after an MPUB of many tiny messages
      if (views.capacity() > 4096) std::vector<UnbuiltBody>().swap(views);
      if (records.capacity() > (4u << 20)) std::string().swap(records);  // after a large MPUB
    }
  } release;

  // Batches that go to the channels' disk queues are written after the topic lock is released
  // (DiskQueue::Write): perf of a 200 B publish spilling at 1.4M msgs/s had the pwrite at 27% of
  // nsqd's CPU, all of it under the topic lock, while the machine was a third idle.
  thread_local ChannelWrites writes;
  std::unique_lock lock(mu_);
  if (exiting()) return {ErrorCode::PubFailed, "exiting"};
  bool hold = paused() || !started_.load(std::memory_order_acquire) || channels_.empty();
  if (policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::Reject)
    if (Error full = checkDepthLocked(bodies.size(), hold)) return full;
  // Nothing becomes visible before everything is stored: messages wait staged in the topic's
  // backlog (Backlog::stage) or in the channels' (Channel::putBatch); on any failure all of it
  // is taken back.
  const std::size_t heldBefore = deferredWaiting_.size();
  Error error;
  if (!hold) {
    error = distributeLocked(built, deferNs, views);  // one lock per channel; views empty unless unbuilt
  } else {
    for (std::size_t i = 0; i < built.size(); ++i) {
      Message& msg = built[i];
      if (deferNs > 0 && (backlog_.durable() || backlog_.memoryHasRoom(deferredWaiting_.size()))) {
        if (unbuilt) msg.body = Body(bodies[i]);
        backlog_.stageDeferred(msg, now + deferNs);  // waits with its due time, in memory and journal
        deferredWaiting_.push_back({std::move(msg), now + deferNs});
      } else {
        error = backlog_.stage(std::move(msg), unbuilt ? &views[i] : nullptr);
      }
      if (error) break;
    }
  }
  if (!error) error = backlog_.prepare(syncs);
  const bool spilling = !hold && finishChannelsLocked(error, syncs, &writes);
  spilling_.store(spilling, std::memory_order_relaxed);
  if (error) {
    backlog_.abort();
    deferredWaiting_.resize(heldBefore);
    if (!hold) {
      lock.unlock();
      (void)writeChannels(writes, /*keep=*/false);
    }
    return error;
  }
  backlog_.commit();
  if (hold && policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::DropOldest)
    droppedCount_.fetch_add(backlog_.dropOldest(policy_->maxDepth, static_cast<int64_t>(deferredWaiting_.size())),
                            std::memory_order_relaxed);
  lock.unlock();
  if (!hold)
    if (Error e = writeChannels(writes, /*keep=*/true)) return e;
  messageCount_.fetch_add(bodies.size(), std::memory_order_relaxed);
  messageBytes_.fetch_add(bytes, std::memory_order_relaxed);
  return {};
}

std::shared_ptr<Channel> Topic::getChannel(const std::string& name, Limit limit, Refusal* refused) {
  std::shared_ptr<Channel> channel;
  const auto max = static_cast<std::size_t>(ctx_.options().maxChannelsPerTopic);
  {
    std::lock_guard lock(mu_);
    if (exiting()) return nullptr;
    auto it = channels_.find(name);
    if (it != channels_.end()) return it->second;
    const bool past = max > 0 && channels_.size() >= max;
    if (past && limit == Limit::Enforce) {
      if (refused)
        *refused = {"TOO_MANY_CHANNELS",
                    "topic " + name_ + " has " + std::to_string(max) + " channels (--max-channels-per-topic)"};
      return nullptr;
    }
    channel = std::make_shared<Channel>(ctx_, name_, name, policy_);
    channels_.emplace(name, channel);
    logInfo("TOPIC(", name_, "): new channel(", name, ")");
    if (past)
      logWarn("TOPIC(", name_, "): channel(", name, ") created past --max-channels-per-topic=",
              std::to_string(max), " (restored from nsqd.dat)");
  }
  drainSoon();
  events_.channelCreated(name_, name);
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
  events_.channelDeleted(name_, name);
  if (lastOfEphemeralTopic) events_.deleteTopic(name_);
  return true;
}

bool Topic::drain(std::size_t budget) {
  std::lock_guard lock(mu_);
  // Declared after the lock: handed to the syncer before the lock is released, so a later pass
  // cannot queue its commit ahead of this pass's channel journal fsyncs.
  SyncScope syncs;
  if (exiting()) return false;
  if (paused() || !started_.load(std::memory_order_acquire) || channels_.empty()) {
    // Holding its messages, the topic still owes its time-based syncs (and the retry of a
    // failed write's sync, which is what clears /ping once the disk works again).
    backlog_.syncLater(syncs, /*dueDiskSync=*/true);
    return false;
  }
  bool moved = false;
  const int64_t wallNow = wallNanos();
  // Each channel keeps what it could store; one that failed (full disk) loses this pass's
  // copies, as a failed put always did (its error is logged below).
  for (auto& w : deferredWaiting_) {
    MessageId id = w.msg.id;
    (void)distributeLocked({&w.msg, 1}, std::max<int64_t>(0, w.wallDeadline - wallNow));
    backlog_.forget(id);
    moved = true;
  }
  deferredWaiting_.clear();
  Message msg;
  while (budget > 0 && backlog_.pop(msg)) {
    (void)distributeLocked({&msg, 1}, 0);
    --budget;
    moved = true;
  }
  for (auto& [name, channel] : channels_) {
    if (Error e = channel->prepare(syncs)) {
      channel->abort();
      logError("TOPIC(", name_, "): failed to move messages to channel ", name, " - ", e.description);
    } else {
      channel->commit();
    }
  }
  // The channels stored the popped messages, so the pops may be committed. The channels'
  // journal fsyncs are queued before this topic's journal fsync and the sync that lets its disk
  // queue record the pops (the syncer runs them in this order).
  backlog_.flushJournal();
  backlog_.syncLater(syncs, /*dueDiskSync=*/true);
  return moved;
}

void Topic::start() {
  started_.store(true, std::memory_order_release);
  drainSoon();
}

void Topic::drainSoon() {
  // A bounded part here (the caller may be an IO thread), the rest by the scanner in passes.
  if (drain(kInlineDrain)) events_.wakeScanner();
}

void Topic::pause() { paused_.store(true); }

void Topic::unpause() {
  paused_.store(false);
  drainSoon();
}

void Topic::empty() {
  std::lock_guard lock(mu_);
  deferredWaiting_.clear();
  backlog_.empty();
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
  deferredWaiting_.clear();  // deleted, or in the journal with their due times
  if (deleteData)
    backlog_.deleteData();
  else
    backlog_.close();  // memory to disk; drain() stored whatever it popped in the channels
}

TopicStats Topic::stats(const std::string& channelFilter, bool withClients) const {
  std::vector<std::shared_ptr<Channel>> chans;
  TopicStats s;
  {
    std::lock_guard lock(mu_);
    s.name = name_;
    s.backendDepth = backlog_.diskDepth();
    s.depth = backlog_.depth() + static_cast<int64_t>(deferredWaiting_.size());
    s.messageCount = messageCount_.load();
    s.messageBytes = messageBytes_.load();
    s.paused = paused();
    s.policy = policy_;
    s.droppedCount = droppedCount_.load();
    for (const auto& [n, c] : channels_) chans.push_back(c);
  }
  // As upstream, the topic's latency merges every channel's, even under a channel filter.
  std::optional<QuantileSummary> e2e;
  double e2eSum = 0;
  if (!chans.empty())
    if (auto targets = makeQuantileTargets(ctx_.options().e2eProcessingLatencyPercentiles)) e2e.emplace(targets);
  for (const auto& c : chans) {
    if (channelFilter.empty() || c->name() == channelFilter) s.channels.push_back(c->stats(withClients));
    if (e2e) c->collectE2e(*e2e, &e2eSum);
  }
  if (e2e) s.e2e = percentilesOf(*e2e, e2eSum);
  return s;
}

std::shared_ptr<const TopicPolicy> Topic::policy() const {
  std::lock_guard lock(mu_);
  return policy_;
}

void Topic::setPolicy(std::shared_ptr<const TopicPolicy> policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
  backlog_.setStrictOrder(policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::DropOldest);
  for (auto& [n, c] : channels_) c->setPolicy(policy_);
}

int64_t Topic::depth() const {
  std::lock_guard lock(mu_);
  return backlog_.depth() + static_cast<int64_t>(deferredWaiting_.size());
}

}  // namespace nsq::nsqd

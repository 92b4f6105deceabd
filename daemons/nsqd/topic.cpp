// Topic: ID assignment and fan-out. Publishing copies a 48-byte Message per channel; the body
// block is shared. Messages published while there is no channel (or while paused) wait here and
// are drained into the channels by drain(), called on channel creation, unpause and by the
// scanner for whatever spilled to disk. Draining pops the topic's disk queue without syncing
// and lets the pops be synced only after the channels hold the messages, so a crash in between
// duplicates a message rather than losing it.
#include "nsqd/topic.h"

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"
#include "nsqd/nsqd.h"

namespace nsq::nsqd {

Topic::Topic(Nsqd& nsqd, std::string name)
    : nsqd_(nsqd), name_(std::move(name)), ephemeral_(isEphemeral(name_)),
      guids_(nsqd.options().nodeId) {
  if (ephemeral_) return;
  disk_ = nsqd_.makeDiskQueue(name_);
  journal_ = std::make_unique<MessageJournal>(journalOptions(nsqd_.options(), name_));
  for (auto& e : journal_->recover()) deferredWaiting_.push_back({std::move(e.msg), e.wallDeadline});
  if (!deferredWaiting_.empty())
    logInfo("TOPIC(", name_, "): restored ", std::to_string(deferredWaiting_.size()),
            " deferred messages from its journal");
}

Topic::~Topic() = default;

bool Topic::distributeLocked(Message&& msg, int64_t deferNs, std::string* error) {
  std::size_t n = channels_.size();
  std::size_t i = 0;
  bool ok = true;
  for (auto& [name, channel] : channels_) {
    bool last = ++i == n;
    ok &= channel->put(last ? std::move(msg) : Message(msg), deferNs, error);
  }
  return ok;
}

bool Topic::finishChannelsLocked(std::string* error, Syncs& syncs) {
  bool ok = true;
  for (auto& [name, channel] : channels_)
    if (!(ok = channel->prepare(error, &syncs))) break;
  for (auto& [name, channel] : channels_) ok ? channel->commit() : channel->abort();
  return ok;
}

bool Topic::publish(const std::vector<std::string_view>& bodies, int64_t deferNs,
                    std::string* error) {
  Syncs syncs;  // journal fsyncs, handed to the syncer after the topic lock is released
  bool ok = publishLocked(bodies, deferNs, error, syncs);
  nsqd_.syncJournalsLater(syncs);
  return ok;
}

bool Topic::publishLocked(const std::vector<std::string_view>& bodies, int64_t deferNs,
                          std::string* error, Syncs& syncs) {
  std::lock_guard lock(mu_);
  if (exiting()) {
    if (error) *error = "exiting";
    return false;
  }
  int64_t now = wallNanos();
  bool hold = paused() || !started_.load(std::memory_order_acquire) || channels_.empty();
  // Nothing becomes visible before everything is stored: messages for the topic's memory queue
  // wait in `staged`, disk records in the disk queue's unpublished batch, channel copies in the
  // channels' staging (Channel::put); on any failure all of it is taken back.
  std::vector<Message> staged;
  const std::size_t heldBefore = deferredWaiting_.size();
  uint64_t bytes = 0;
  bool ok = true;
  for (auto body : bodies) {
    Message msg;
    msg.id = MessageId::fromGuid(guids_.next());
    msg.timestamp = now;
    msg.body = Body(body);
    bytes += body.size();
    if (!hold) {
      ok = distributeLocked(std::move(msg), deferNs, error);
    } else if (deferNs > 0 && journal_) {
      journal_->add(msg, now + deferNs);  // waits with its due time, in memory and journal
      deferredWaiting_.push_back({std::move(msg), now + deferNs});
    } else if (deferNs > 0 && memory_.size() + staged.size() + deferredWaiting_.size() <
                                  static_cast<std::size_t>(nsqd_.options().memQueueSize)) {
      deferredWaiting_.push_back({std::move(msg), now + deferNs});
    } else {
      // #ephemeral over the mark: discarded
      ok = nsqd_.storeMessage(memory_.size(), staged, disk_.get(), scratch_, std::move(msg), error);
    }
    if (!ok) break;
  }
  if (ok && disk_) ok = disk_->prepare(error);
  if (ok && journal_ && journal_->pending()) {
    std::string err;
    if ((ok = journal_->flush(&err))) {
      nsqd_.clearHealth(journal_->path());
      if (auto s = journal_->takeSync()) syncs.push_back(std::move(s));
    } else {
      logError("TOPIC(", name_, "): journal write failed - ", err);
      nsqd_.setHealth(journal_->path(), err);
      if (error) *error = err;
    }
  }
  if (!hold) ok = finishChannelsLocked(ok ? error : nullptr, syncs) && ok;
  if (!ok) {
    if (disk_) disk_->abort();
    if (journal_) {
      for (std::size_t i = heldBefore; i < deferredWaiting_.size(); ++i) journal_->remove(deferredWaiting_[i].msg.id);
      std::string err;
      if (journal_->pending() && !journal_->flush(&err)) nsqd_.setHealth(journal_->path(), err);
    }
    deferredWaiting_.resize(heldBefore);
    return false;
  }
  if (disk_) disk_->publish();
  for (auto& m : staged) memory_.push(std::move(m));
  messageCount_.fetch_add(bodies.size(), std::memory_order_relaxed);
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
  drainSoon();
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
  if (exiting()) return false;
  if (paused() || !started_.load(std::memory_order_acquire) || channels_.empty()) {
    // Holding its messages, the topic still owes its time-based syncs (and the retry of a
    // failed write's sync, which is what clears /ping once the disk works again).
    if (disk_ && disk_->syncDue()) nsqd_.journalThenDisk(nullptr, disk_);
    return false;
  }
  bool moved = false;
  std::string error;
  Syncs syncs;
  const int64_t wallNow = wallNanos();
  for (auto& w : deferredWaiting_) {
    MessageId id = w.msg.id;
    distributeLocked(std::move(w.msg), std::max<int64_t>(0, w.wallDeadline - wallNow), &error);
    if (journal_) journal_->remove(id);
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
  bool popped = false;
  while (budget > 0 && disk_ && disk_->popNoSync(payload)) {
    popped = true;
    if (!Message::parsePayload(payload, msg)) continue;
    distributeLocked(std::move(msg), 0, &error);
    --budget;
    moved = true;
  }
  // Each channel keeps what it could store; one that failed (full disk) loses this pass's
  // copies, as a failed put always did.
  for (auto& [name, channel] : channels_) {
    std::string err;
    if (channel->prepare(&err, &syncs)) {
      channel->commit();
    } else {
      channel->abort();
      logError("TOPIC(", name_, "): failed to move messages to channel ", name, " - ", err);
    }
  }
  // The channels stored the popped messages (written above), so the pops may be committed. The
  // channels' journal fsyncs are queued before this topic's journal fsync and the sync that
  // lets its disk queue record the pops (the syncer runs them in this order).
  std::optional<DiskQueue::Position> commit;
  if (popped) commit = disk_->readPosition();
  nsqd_.syncJournalsLater(syncs);
  std::unique_ptr<MessageJournal::Sync> journalSync;
  if (journal_ && journal_->pending()) {
    std::string err;
    if (journal_->flush(&err)) {
      nsqd_.clearHealth(journal_->path());
    } else {
      logError("TOPIC(", name_, "): journal write failed - ", err);
      nsqd_.setHealth(journal_->path(), err);
    }
    journalSync = journal_->takeSync();
  }
  bool diskOwed = disk_ && (popped || disk_->syncDue());
  nsqd_.journalThenDisk(std::move(journalSync), diskOwed ? disk_ : nullptr, commit);
  return moved;
}

void Topic::start() {
  started_.store(true, std::memory_order_release);
  drainSoon();
}

void Topic::drainSoon() {
  // A bounded part here (the caller may be an IO thread), the rest by the scanner in passes.
  if (drain(kInlineDrain)) nsqd_.wakeScanner();
}

void Topic::pause() { paused_.store(true); }

void Topic::unpause() {
  paused_.store(false);
  drainSoon();
}

void Topic::empty() {
  std::lock_guard lock(mu_);
  memory_.clear();
  deferredWaiting_.clear();
  if (disk_) disk_->empty();
  if (journal_) {
    journal_->clear();
    nsqd_.clearHealth(journal_->path());
  }
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
    if (journal_) {
      journal_->removeFile();
      nsqd_.clearHealth(journal_->path());
    }
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
  deferredWaiting_.clear();  // they are in the journal, due times included
  while (memory_.pop(msg)) spill(msg);
  disk_->commitReads(disk_->readPosition());  // drain() stored whatever it popped in the channels
  if (journal_ && !journal_->close(&err))
    logError("TOPIC(", name_, "): failed to write journal on exit - ", err);
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
    for (const auto& [n, c] : channels_) chans.push_back(c);
  }
  // As upstream, the topic's latency merges every channel's, even under a channel filter.
  std::optional<QuantileSummary> e2e;
  double e2eSum = 0;
  if (!chans.empty())
    if (auto targets = makeQuantileTargets(nsqd_.options().e2eProcessingLatencyPercentiles)) e2e.emplace(targets);
  for (const auto& c : chans) {
    if (channelFilter.empty() || c->name() == channelFilter) s.channels.push_back(c->stats(withClients));
    if (e2e) c->collectE2e(*e2e, &e2eSum);
  }
  if (e2e) s.e2e = percentilesOf(*e2e, e2eSum);
  return s;
}

int64_t Topic::depth() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(memory_.size() + deferredWaiting_.size()) +
         (disk_ ? disk_->depth() : 0);
}

}  // namespace nsq::nsqd

// Channel: queue, in-flight and deferred bookkeeping for one consumer group. The one choice
// worth knowing: delivery is pulled by each client's IO thread (pull()), and put() only wakes
// clients that said they were waiting, so there is no per-channel thread and no lock held
// while writing to sockets. Journal records are buffered under the lock and written with one
// write() per pull/command; the fsync a sync policy asks for runs after the lock is released.
//
// Crash ordering for a message popped from the disk queue: popNoSync() moves the read position
// in memory only and no sync records it until the pull commits it (DiskQueue::commitReads),
// which happens only after a journal write that covers it (and its fsync, when one is due). The
// journal holds the record's segment and offset, and the disk queue keeps every segment the
// journal refers to, so at every instant the message is in the disk queue's durable range, or
// journaled with its record still on disk, or both (then it is delivered twice, never lost).
#include "nsqd/channel.h"

#include <algorithm>
#include <random>

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsqd/clock.h"
#include "nsqd/nsqd.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

namespace {
bool later(const auto& a, const auto& b) { return a.deadline > b.deadline; }
}  // namespace

Channel::Channel(Nsqd& nsqd, Topic& topic, std::string name)
    : nsqd_(nsqd), name_(std::move(name)), topicName_(topic.name()), ephemeral_(isEphemeral(name_)) {
  const NsqdOptions& o = nsqd_.options();
  if (auto targets = makeQuantileTargets(o.e2eProcessingLatencyPercentiles))
    e2e_ = std::make_unique<LatencyWindow>(std::move(targets), o.e2eProcessingLatencyWindowTime.count(), monoNanos());
  if (!ephemeral_) {
    // The journal first: the segments it refers to must survive the disk queue's recovery.
    journal_ = std::make_unique<MessageJournal>(journalOptions(nsqd_.options(), topicName_ + ":" + name_));
    auto segments = restoreJournal();
    disk_ = nsqd_.makeDiskQueue(topicName_ + ":" + name_, std::move(segments));
    refsVersion_ = journal_->refsVersion();
  }
}

std::vector<int64_t> Channel::restoreJournal() {
  const DiskQueueOptions diskOpts = nsqd_.diskQueueOptions(topicName_ + ":" + name_);
  std::size_t gone = 0;
  auto resolve = [&](MessageJournal::Entry& e) {
    std::string payload, err;
    Message m;
    if (!DiskQueue::readRecord(diskOpts, e.segment, e.offset, payload, &err) || !Message::parsePayload(payload, m) ||
        m.id != e.msg.id) {
      ++gone;  // finished before the crash (its DONE was not yet written), or the file was damaged
      return false;
    }
    m.attempts = e.msg.attempts;
    e.msg = std::move(m);
    return true;
  };
  auto entries = journal_->recover(resolve);
  if (gone > 0)
    logWarn("channel(", topicName_, ":", name_, "): ", std::to_string(gone),
            " journaled in-flight messages no longer found in the disk queue (finished before a crash, "
            "or their segment was removed); not restored");
  if (entries.empty()) return journal_->referencedSegments();
  const int64_t wallNow = wallNanos(), monoNow = monoNanos();
  std::size_t deferred = 0;
  for (auto& e : entries) {
    if (e.wallDeadline > wallNow) {
      deferred_.push_back({monoNow + (e.wallDeadline - wallNow), std::move(e.msg)});
      std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      ++deferred;
    } else {
      memory_.push(std::move(e.msg));  // due, or was in flight: deliver again, attempts kept
    }
  }
  deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
  logInfo("channel(", topicName_, ":", name_, "): restored ", std::to_string(entries.size()),
          " messages from its journal (", std::to_string(deferred), " deferred)");
  return journal_->referencedSegments();
}

bool Channel::flushJournalLocked(std::string* error, std::optional<DiskQueue::Position>* commit) {
  std::string err;
  const bool wasDirty = journal_->dirty();
  if (!journal_->flush(&err)) {
    // Retried by every pull and scan while the disk is full: logged once per outage.
    if (!wasDirty)
      logError("channel(", topicName_, ":", name_, "): journal write failed - ", err, " (retrying)");
    nsqd_.setHealth(journal_->path(), err);
    if (error) *error = err;
    return false;
  }
  if (wasDirty) logInfo("channel(", topicName_, ":", name_, "): journal written again");
  nsqd_.clearHealth(journal_->path());
  if (disk_) {
    // Keep the segments the journal refers to before any commit lets a sync delete them.
    if (journal_->refsVersion() != refsVersion_) {
      refsVersion_ = journal_->refsVersion();
      disk_->retainSegments(journal_->referencedSegments());
    }
    if (commit) *commit = disk_->readPosition();
  }
  return true;
}

Channel::~Channel() = default;

bool Channel::prepare(std::string* error, Syncs* syncs) {
  std::lock_guard lock(mu_);
  if (disk_ && !disk_->prepare(error)) return false;
  if (journal_ && journal_->pending()) {
    if (!flushJournalLocked(error)) return false;
    if (auto s = journal_->takeSync()) syncs->push_back(std::move(s));
  }
  return true;
}

void Channel::commit() {
  std::lock_guard lock(mu_);
  std::size_t n = staged_.size() + (disk_ ? static_cast<std::size_t>(disk_->publish()) : 0);
  for (auto& m : staged_) memory_.push(std::move(m));
  staged_.clear();
  for (auto& d : stagedDeferred_) {
    deferred_.push_back(std::move(d));
    std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
  }
  messageCount_.fetch_add(n + stagedDeferred_.size(), std::memory_order_relaxed);
  stagedDeferred_.clear();
  deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
  wakeWaitersLocked(n);
}

void Channel::abort() {
  std::lock_guard lock(mu_);
  staged_.clear();
  if (disk_) disk_->abort();
  if (journal_ && !stagedDeferred_.empty()) {
    for (const auto& d : stagedDeferred_) journal_->remove(d.msg.id);
    if (journal_->pending()) flushJournalLocked(nullptr);  // else the next pull or scan writes it
  }
  stagedDeferred_.clear();
}

bool Channel::popLocked(Message& out, bool& fromDisk, DiskQueue::Position* at) {
  fromDisk = false;
  if (memory_.pop(out)) return true;
  if (disk_ && disk_->depth() > 0) {
    std::string payload;
    while (disk_->popNoSync(payload, at)) {  // the caller journals, then commits the pop
      fromDisk = true;
      if (Message::parsePayload(payload, out)) return true;
      logError("channel(", topicName_, ":", name_, "): dropped undecodable disk record of ",
               std::to_string(payload.size()), " bytes");
    }
  }
  return false;
}

bool Channel::put(Message msg, int64_t deferNs, std::string* error) {
  std::lock_guard lock(mu_);
  if (exiting()) {
    if (error) *error = "exiting";
    return false;
  }
  if (deferNs > 0) {
    if (journal_) journal_->add(msg, wallNanos() + deferNs);  // written by prepare()
    stagedDeferred_.push_back({monoNanos() + deferNs, std::move(msg)});
    return true;
  }
  return nsqd_.storeMessage(memory_.size(), staged_, disk_.get(), scratch_, std::move(msg), error);
}

void Channel::wakeWaitersLocked(std::size_t n) {
  while (n-- > 0 && !waiting_.empty()) {
    ConsumerState* c = waiting_.back();
    waiting_.pop_back();
    c->waiting = false;
    c->consumer->wake();
  }
}

void Channel::setWaitingLocked(ConsumerState& state) {
  if (state.waiting) return;
  state.waiting = true;
  waiting_.push_back(&state);
}

Error Channel::addClient(const std::shared_ptr<Consumer>& consumer) {
  std::lock_guard lock(mu_);
  if (exiting()) return {ErrorCode::SubFailed, "SUB failed exiting"};
  int64_t max = nsqd_.options().maxChannelConsumers;
  if (max > 0 && static_cast<int64_t>(order_.size()) >= max)
    return {ErrorCode::SubFailed, "SUB failed consumers for " + topicName_ + ":" + name_ +
                                      " exceeds limit of " + std::to_string(max)};
  auto [it, added] = consumers_.try_emplace(consumer->id());
  if (!added) return {};  // already subscribed
  it->second.consumer = consumer;
  order_.push_back(&it->second);
  return {};
}

bool Channel::removeClient(const Consumer& consumer) {
  std::lock_guard lock(mu_);
  auto it = consumers_.find(consumer.id());
  if (it == consumers_.end()) return false;
  ConsumerState* state = &it->second;
  std::erase(order_, state);
  if (state->waiting) std::erase(waiting_, state);
  // Its messages stay in inFlight_ and time out to the other consumers.
  consumers_.erase(it);
  return ephemeral_ && consumers_.empty() && !exiting();
}

Channel::ConsumerState* Channel::findConsumerLocked(uint64_t id) {
  auto it = consumers_.find(id);
  return it == consumers_.end() ? nullptr : &it->second;
}

int64_t Channel::inFlightCount(uint64_t consumerId) const {
  std::lock_guard lock(mu_);
  auto it = consumers_.find(consumerId);
  return it == consumers_.end() ? 0 : it->second.inFlight;
}

void Channel::pull(Consumer& client, std::vector<Message>& out) {
  std::unique_ptr<MessageJournal::Sync> sync;
  std::optional<DiskQueue::Position> commit;
  {
    std::lock_guard lock(mu_);
    if (exiting()) return;
    // After a failed journal write, retry it before popping more (its live set may be empty
    // by now, and then the rewrite needs no disk space), so a full disk cannot hold back the
    // commits of the pops it has already seen finished.
    if (journal_ && journal_->dirty()) flushJournalLocked(nullptr, &commit);
    ConsumerState* state = findConsumerLocked(client.id());
    if (!state) return;
    int64_t window = client.readyCount() - state->inFlight;
    if (window <= 0) return;
    if (paused()) {
      setWaitingLocked(*state);
      return;
    }
    int64_t now = monoNanos();
    int sampleRate = client.sampleRate();
    thread_local std::minstd_rand rng(std::random_device{}());
    Message msg;
    bool fromDisk = false;
    DiskQueue::Position at;
    while (window > 0 && popLocked(msg, fromDisk, &at)) {
      if (fromDisk && journal_ && journal_->contains(msg.id)) {
        // A crash left it both in the disk queue and in the journal; the journal's copy is live.
        continue;
      }
      if (sampleRate > 0 && static_cast<int>(rng() % 100) > sampleRate) {  // sampled out
        if (journal_) journal_->remove(msg.id);
        continue;
      }
      msg.attempts++;
      Message copy = msg;  // one for the table, one for the socket; the body is shared
      if (!inFlight_.insert(copy, client.id(), now, now + client.msgTimeoutNs())) {
        // The same ID twice in flight can only come from a duplicated disk record; deliver once.
        logWarn("channel(", topicName_, ":", name_, "): ID ", std::string(msg.id.view()),
                " already in flight, dropping duplicate");
        continue;
      }
      if (journal_) {
        if (fromDisk)
          journal_->addRef(msg, at.fileNum, at.pos, 0);  // the disk queue keeps the record
        else if (journal_->contains(msg.id))
          journal_->update(msg.id, msg.attempts, 0);
      }
      out.push_back(std::move(msg));
      --window;
    }
    state->inFlight += static_cast<int64_t>(out.size());
    inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
    if (window > 0) {
      setWaitingLocked(*state);
    } else if (memory_.size() > 0 || (disk_ && disk_->depth() > 0)) {
      wakeWaitersLocked(1);  // more left than this client could take: pass the baton
    }
    if (journal_) {
      if (journal_->pending()) flushJournalLocked(nullptr, &commit);
      sync = journal_->takeSync();
    }
  }
  // Journal first (written above, fsynced by the syncer if due), then the disk queue may commit
  // and record the pops.
  nsqd_.journalThenDisk(std::move(sync), commit ? disk_ : nullptr, commit);
}

InFlightTable::Entry* Channel::ownedLocked(const Consumer& client, const MessageId& id, const char* cmd,
                                           ErrorCode failCode, Error* err) {
  InFlightTable::Entry* e = inFlight_.find(id);
  if (!e) {
    *err = {failCode, std::string(cmd) + " " + std::string(id.view()) + " failed ID not in flight"};
  } else if (e->clientId != client.id()) {
    *err = {failCode, std::string(cmd) + " " + std::string(id.view()) + " failed client does not own message"};
    e = nullptr;
  }
  return e;
}

Error Channel::takeInFlightLocked(const Consumer& client, ConsumerState* state, const MessageId& id,
                                  const char* cmd, ErrorCode failCode, Message& out) {
  Error err;
  InFlightTable::Entry* e = ownedLocked(client, id, cmd, failCode, &err);
  if (!e) return err;
  out = inFlight_.take(e);
  inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
  if (state) --state->inFlight;
  return {};
}

Error Channel::finish(const Consumer& client, const MessageId& id) {
  std::vector<Error> failures;
  finishBatch(client, std::span<const MessageId>(&id, 1), failures);
  if (failures.empty()) return {};
  return std::move(failures.front());
}

void Channel::finishBatch(const Consumer& client, std::span<const MessageId> ids, std::vector<Error>& failures) {
  thread_local std::vector<Message> done;  // bodies released and latencies recorded after the lock
  done.clear();
  {
    std::lock_guard lock(mu_);
    ConsumerState* state = findConsumerLocked(client.id());
    for (const MessageId& id : ids) {
      Message m;
      if (Error err = takeInFlightLocked(client, state, id, "FIN", ErrorCode::FinFailed, m)) {
        failures.push_back(std::move(err));
        continue;
      }
      // Buffered: written with the next pull or scan. Lost in a crash, it costs a redelivery.
      if (journal_) journal_->remove(id);
      done.push_back(std::move(m));
    }
  }
  if (e2e_) {
    const int64_t wallNow = wallNanos(), monoNow = monoNanos();
    for (const auto& m : done) e2e_->record(static_cast<double>(wallNow - m.timestamp), monoNow);
  }
  done.clear();
}

Error Channel::requeue(const Consumer& client, const MessageId& id, int64_t delayNs) {
  std::unique_ptr<MessageJournal::Sync> sync;
  {
    std::lock_guard lock(mu_);
    Message m;
    if (Error err = takeInFlightLocked(client, findConsumerLocked(client.id()), id, "REQ", ErrorCode::ReqFailed, m))
      return err;
    requeueCount_.fetch_add(1, std::memory_order_relaxed);
    if (delayNs > 0) {
      if (journal_) {
        int64_t due = wallNanos() + delayNs;
        if (journal_->contains(id))
          journal_->update(id, m.attempts, due);
        else
          journal_->add(m, due);
        flushJournalLocked(nullptr);  // on failure the delay is kept in memory only
        sync = journal_->takeSync();
      }
      deferred_.push_back({monoNanos() + delayNs, std::move(m)});
      std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
    } else {
      memory_.push(std::move(m));  // an accepted message is never refused: may pass the mark
      wakeWaitersLocked(1);
    }
  }
  nsqd_.journalThenDisk(std::move(sync), nullptr);
  return {};
}

Error Channel::touch(const Consumer& client, const MessageId& id) {
  std::lock_guard lock(mu_);
  Error err;
  InFlightTable::Entry* e = ownedLocked(client, id, "TOUCH", ErrorCode::TouchFailed, &err);
  if (!e) return err;
  int64_t now = monoNanos();
  int64_t cap = e->deliveredMono + nsqd_.options().maxMsgTimeout.count();
  inFlight_.setDeadline(e, std::min(now + client.msgTimeoutNs(), cap));
  return {};
}

bool Channel::processTimeouts(int64_t nowMono) {
  std::vector<std::shared_ptr<Consumer>> toWake;
  std::unique_ptr<MessageJournal::Sync> sync;
  std::optional<DiskQueue::Position> commit;
  bool work = false;
  bool diskDue = false;
  {
    std::lock_guard lock(mu_);
    if (exiting()) return false;
    std::size_t requeued = 0;
    for (InFlightTable::Entry* e; (e = inFlight_.earliest()) && e->deadline <= nowMono;) {
      if (ConsumerState* owner = findConsumerLocked(e->clientId)) {
        --owner->inFlight;
        toWake.push_back(owner->consumer);
      }
      timeoutCount_.fetch_add(1, std::memory_order_relaxed);
      memory_.push(inFlight_.take(e));
      ++requeued;
    }
    while (!deferred_.empty() && deferred_.front().deadline <= nowMono) {
      std::pop_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      memory_.push(std::move(deferred_.back().msg));
      deferred_.pop_back();
      ++requeued;
    }
    if (requeued > 0) {
      work = true;
      inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
      deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
      wakeWaitersLocked(requeued);
    }
    if (journal_) {
      if (journal_->pending()) flushJournalLocked(nullptr, &commit);  // FINs since the last pull
      sync = journal_->takeSync();
    }
    diskDue = disk_ && (commit || disk_->syncDue());
  }
  nsqd_.journalThenDisk(std::move(sync), diskDue ? disk_ : nullptr, commit);
  for (auto& c : toWake) c->wake();
  return work;
}

void Channel::pause() { paused_.store(true); }

void Channel::unpause() {
  std::lock_guard lock(mu_);
  paused_.store(false);
  wakeWaitersLocked(waiting_.size());
}

void Channel::empty() {
  std::vector<std::shared_ptr<Consumer>> toWake;
  {
    std::lock_guard lock(mu_);
    memory_.clear();
    if (disk_) disk_->empty();
    if (journal_) {
      journal_->clear();
      nsqd_.clearHealth(journal_->path());
      refsVersion_ = journal_->refsVersion();
    }
    inFlight_.clear();
    deferred_.clear();
    inFlightCount_.store(0);
    deferredCount_.store(0);
    for (ConsumerState* c : order_) {
      c->inFlight = 0;
      toWake.push_back(c->consumer);
    }
  }
  for (auto& c : toWake) c->wake();
}

void Channel::close(bool deleteData) {
  std::vector<std::shared_ptr<Consumer>> clients;
  {
    std::lock_guard lock(mu_);
    if (exiting_.exchange(true)) return;
    for (ConsumerState* c : order_) clients.push_back(std::move(c->consumer));
    waiting_.clear();
    order_.clear();
    consumers_.clear();
    if (deleteData) {
      memory_.clear();
      inFlight_.clear();
      deferred_.clear();
      if (disk_) disk_->deleteAll();
      if (journal_) {
        journal_->removeFile();
        nsqd_.clearHealth(journal_->path());
      }
    } else if (disk_) {
      // Graceful stop: what the journal holds (deferred messages with their due time, in-flight
      // ones from disk) stays there; everything else goes to the disk queue, attempts kept.
      Message msg;
      std::string err;
      auto spill = [&](const Message& m) {
        if (journal_ && journal_->contains(m.id)) return;
        scratch_.clear();
        m.appendPayload(scratch_);
        if (!disk_->put(scratch_, &err))
          logError("channel(", topicName_, ":", name_, "): failed to persist message on exit - ", err);
      };
      while (memory_.pop(msg)) spill(msg);
      inFlight_.forEach([&](const InFlightTable::Entry& e) { spill(e.msg); });
      for (auto& d : deferred_) spill(d.msg);
      inFlight_.clear();
      deferred_.clear();
      if (journal_ && !journal_->close(&err)) {
        logError("channel(", topicName_, ":", name_, "): failed to write journal on exit - ", err);
      } else {
        // Everything popped is journaled (and fsynced) or finished: the final sync may record it.
        disk_->retainSegments(journal_ ? journal_->referencedSegments() : std::vector<int64_t>{});
        disk_->commitReads(disk_->readPosition());
      }
      disk_->close();
    }
    inFlightCount_.store(0);
    deferredCount_.store(0);
  }
  for (auto& c : clients) c->requestClose();
}

ChannelStats Channel::stats(bool withClients) const {
  ChannelStats s;
  {
    std::lock_guard lock(mu_);
    s.name = name_;
    s.backendDepth = disk_ ? disk_->depth() : 0;
    s.depth = static_cast<int64_t>(memory_.size()) + s.backendDepth;
    s.inFlightCount = static_cast<int64_t>(inFlight_.size());
    s.deferredCount = static_cast<int64_t>(deferred_.size());
    s.messageCount = messageCount_.load();
    s.requeueCount = requeueCount_.load();
    s.timeoutCount = timeoutCount_.load();
    s.paused = paused();
    if (withClients)
      for (const ConsumerState* c : order_) s.clients.push_back(c->consumer);
  }
  if (e2e_) {
    QuantileSummary summary(e2e_->targets());
    double sum = 0;
    e2e_->collect(summary, &sum, monoNanos());
    s.e2e = percentilesOf(summary, sum);
  }
  return s;
}

bool Channel::collectE2e(QuantileSummary& into, double* sumNs) const {
  if (!e2e_) return false;
  e2e_->collect(into, sumNs, monoNanos());
  return true;
}

int64_t Channel::depth() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(memory_.size()) + (disk_ ? disk_->depth() : 0);
}

std::size_t Channel::clientCount() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

// Indexed binary min-heap over InFlight entries (each knows its slot), by deadline.
}  // namespace nsq::nsqd

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
#include "nsq/protocol/wire.h"
#include "nsqd/clock.h"

namespace nsq::nsqd {

namespace {
bool later(const auto& a, const auto& b) { return a.deadline > b.deadline; }
}  // namespace

Channel::Channel(StorageContext& ctx, std::string topicName, std::string name,
                 std::shared_ptr<const TopicPolicy> policy)
    : ctx_(ctx), name_(std::move(name)), topicName_(std::move(topicName)), ephemeral_(isEphemeral(name_)),
      backlog_(ctx_, topicName_ + ":" + name_, !ephemeral_, "channel(" + topicName_ + ":" + name_ + ")",
               Backlog::PopCommit::AfterJournal) {
  setPolicy(std::move(policy));
  const NsqdOptions& o = ctx_.options();
  if (auto targets = makeQuantileTargets(o.e2eProcessingLatencyPercentiles))
    e2e_ = std::make_unique<LatencyWindow>(std::move(targets), o.e2eProcessingLatencyWindowTime.count(), monoNanos());
  restoreJournal();
}

void Channel::restoreJournal() {
  auto entries = backlog_.open();
  if (entries.empty()) return;
  const int64_t wallNow = wallNanos(), monoNow = monoNanos();
  std::size_t deferred = 0, dead = 0;
  for (auto& e : entries) {
    if (!e.movingTo.empty()) {
      // A kill -9 in the middle of a dead-letter move: finished by sendRecoveredDeadLetters().
      recoveredDead_.push_back({std::move(e.msg), e.movingAs, std::move(e.movingTo)});
      ++dead;
    } else if (e.wallDeadline <= wallNow && outOfAttemptsLocked(e.msg)) {
      // In flight on its last attempt when nsqd stopped: as if it timed out.
      recoveredDead_.push_back({std::move(e.msg), {}, policy_->deadLetterTopic});
      ++dead;
    } else if (e.wallDeadline > wallNow) {
      deferred_.push_back({monoNow + (e.wallDeadline - wallNow), std::move(e.msg)});
      std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      ++deferred;
    } else {
      backlog_.push(std::move(e.msg));  // due, or was in flight: deliver again, attempts kept
    }
  }
  deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
  hasRecoveredDead_.store(dead > 0);
  logInfo("channel(", topicName_, ":", name_, "): restored ", std::to_string(entries.size()),
          " messages from its journal (", std::to_string(deferred), " deferred, ", std::to_string(dead),
          " for the dead-letter topic)");
}

void Channel::sendRecoveredDeadLetters() {
  if (!hasRecoveredDead_.load()) return;
  std::vector<DeadLetter> moves;
  {
    std::lock_guard lock(mu_);
    moves.swap(recoveredDead_);
    hasRecoveredDead_.store(false);
  }
  if (!moves.empty()) moveDeadLetters(moves, /*recovered=*/true);
}

bool Channel::holds(const MessageId& id) {
  std::lock_guard lock(mu_);
  if (inFlight_.find(id) || backlog_.holds(id)) return true;
  for (const auto& d : deferred_)
    if (d.msg.id == id) return true;
  for (const auto& d : recoveredDead_)
    if (d.msg.id == id) return true;
  return false;
}

Channel::~Channel() = default;

Error Channel::prepare(SyncScope& syncs, DiskQueue::Write* detach, bool* spilling) {
  std::lock_guard lock(mu_);
  if (policy_ && policy_->maxDepth > 0) detach = nullptr;
  Error e = backlog_.prepare(syncs, detach);
  if (spilling) *spilling = backlog_.spilling();
  return e;
}

void Channel::written(int64_t records) {
  std::lock_guard lock(mu_);
  messageCount_.fetch_add(static_cast<uint64_t>(records), std::memory_order_relaxed);
  wakeWaitersLocked(static_cast<std::size_t>(records));
}

bool Channel::commit() {
  std::lock_guard lock(mu_);
  std::size_t n = backlog_.commit();
  for (auto& d : stagedDeferred_) {
    deferred_.push_back(std::move(d));
    std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
  }
  messageCount_.fetch_add(n + stagedDeferred_.size(), std::memory_order_relaxed);
  stagedDeferred_.clear();
  if (policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::DropOldest) {
    std::size_t dropped = backlog_.dropOldest(policy_->maxDepth, static_cast<int64_t>(deferred_.size()));
    droppedCount_.fetch_add(dropped, std::memory_order_relaxed);
    n = n > dropped ? n - dropped : 0;
  }
  deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
  wakeWaitersLocked(n);
  return backlog_.spilling();
}

void Channel::abort() {
  std::lock_guard lock(mu_);
  backlog_.abort();  // takes the staged deferred messages back out of the journal too
  stagedDeferred_.clear();
}

Error Channel::put(Message msg, int64_t deferNs) {
  std::lock_guard lock(mu_);
  return putLocked(std::move(msg), deferNs);
}

Error Channel::putBatch(std::span<Message> msgs, bool take, int64_t deferNs,
                        std::span<const UnbuiltBody> unbuilt) {
  std::lock_guard lock(mu_);
  if (deferNs <= 0 && !unbuilt.empty() && !unbuilt.front().record.empty() && backlog_.spilling()) {
    // All of them go to disk (nothing leaves the memory queue while the lock is held): the
    // records the publisher encoded back to back are appended in one piece.
    const std::string_view first = unbuilt.front().record, last = unbuilt.back().record;
    const std::string_view run(first.data(), static_cast<std::size_t>(last.data() + last.size() - first.data()));
    if (exiting()) return {ErrorCode::PubFailed, "exiting"};
    return backlog_.stageRecords(run, unbuilt.size());
  }
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    Message& m = msgs[i];
    if (Error e = putLocked(take ? std::move(m) : Message(m), deferNs, unbuilt.empty() ? nullptr : &unbuilt[i]))
      return e;
  }
  return {};
}

Error Channel::putLocked(Message&& msg, int64_t deferNs, const UnbuiltBody* unbuilt) {
  if (exiting()) return {ErrorCode::PubFailed, "exiting"};
  if (deferNs > 0) {
    if (unbuilt) msg.body = Body(unbuilt->bytes);
    backlog_.stageDeferred(msg, wallNanos() + deferNs);  // journaled by prepare()
    stagedDeferred_.push_back({monoNanos() + deferNs, std::move(msg)});
    return {};
  }
  return backlog_.stage(std::move(msg), unbuilt);
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
  int64_t max = ctx_.options().maxChannelConsumers;
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

std::size_t Channel::pull(Consumer& client, std::string& frames) {
  std::vector<Message> dead;
  std::string deadTopic;
  const std::size_t taken = pullLocked(client, frames, dead, deadTopic);
  if (!dead.empty()) sendDeadLetters(dead, deadTopic);
  return taken;
}

std::size_t Channel::pullLocked(Consumer& client, std::string& frames, std::vector<Message>& dead,
                                std::string& deadTopic) {
  std::size_t taken = 0;
  SyncScope syncs;  // handed to the syncer after the lock is released
  {
    std::lock_guard lock(mu_);
    if (exiting()) return 0;
    // After a failed journal write, retry it before popping more (its live set may be empty
    // by now, and then the rewrite needs no disk space), so a full disk cannot hold back the
    // commits of the pops it has already seen finished.
    if (backlog_.journalDirty()) backlog_.flushJournal();
    ConsumerState* state = findConsumerLocked(client.id());
    if (!state) return 0;
    int64_t window = client.readyCount() - state->inFlight;
    if (window <= 0) return 0;
    if (paused()) {
      setWaitingLocked(*state);
      return 0;
    }
    int64_t now = monoNanos();
    // A message past its policy's TTL is dropped here instead of delivered.
    const int64_t ttl = policy_ ? policy_->messageTtl.count() : 0;
    const int64_t expiredBefore = ttl > 0 ? wallNanos() - ttl : 0;
    int sampleRate = client.sampleRate();
    // A message from the disk queue goes in flight with its record held there, unjournaled
    // (Backlog::holdPop), unless a crash must keep the attempt it is on: with --sync-every=1
    // every delivery is journaled before it is sent, and so it is under a max_attempts policy.
    const bool holdPops = ctx_.options().syncEvery > 1 && !(policy_ && policy_->maxAttempts > 0);
    thread_local std::minstd_rand rng(std::random_device{}());
    Message msg;
    Backlog::Popped where;
    while (window > 0 && backlog_.pop(msg, &where)) {
      if (backlog_.crashDuplicate(msg.id, where)) continue;  // the journal's copy is live
      if (ttl > 0 && msg.timestamp <= expiredBefore) {
        backlog_.forget(msg.id);
        expiredCount_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (outOfAttemptsLocked(msg)) {
        // Delivered max_attempts times before a graceful restart (in flight then, kept on
        // disk with its attempts): not delivered again. Journaled first, so the move that
        // follows is as durable as one from a REQ.
        backlog_.journalInFlight(msg, where);
        deadTopic = policy_->deadLetterTopic;
        dead.push_back(std::move(msg));
        continue;
      }
      if (sampleRate > 0 && static_cast<int>(rng() % 100) > sampleRate) {  // sampled out
        backlog_.forget(msg.id);
        continue;
      }
      msg.attempts++;
      InFlightTable::Entry* e = inFlight_.insert(msg, client.id(), now, now + client.msgTimeoutNs());
      if (!e) {
        // The same ID twice in flight can only come from a duplicated disk record; deliver once.
        logWarn("channel(", topicName_, ":", name_, "): ID ", std::string(msg.id.view()),
                " already in flight, dropping duplicate");
        continue;
      }
      if (holdPops && where.fromDisk)
        e->heldPop = backlog_.holdPop(e->msg, where);
      else
        backlog_.journalInFlight(e->msg, where);
      // The frame is written here, from the table's entry: a copy of the message for the
      // socket cost a locked add and a locked subtract on the body's count, a cache line the
      // channels of a fan-out topic pull between cores (perf, 4 channels: pullLocked 7.2% of
      // nsqd's CPU, nearly all of it that line; 1.2% since).
      appendMessageFrame(frames, e->msg);
      ++taken;
      --window;
    }
    state->inFlight += static_cast<int64_t>(taken);
    inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
    if (window > 0) {
      setWaitingLocked(*state);
    } else if (backlog_.depth() > 0) {
      wakeWaitersLocked(1);  // more left than this client could take: pass the baton
    }
    // Journal first (written here, fsynced by the syncer if due), then the disk queue may
    // commit and record the pops.
    backlog_.flushJournal();
    backlog_.syncLater(syncs, /*dueDiskSync=*/false);
  }
  return taken;
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
                                  const char* cmd, ErrorCode failCode, Message& out, bool finished) {
  Error err;
  InFlightTable::Entry* e = ownedLocked(client, id, cmd, failCode, &err);
  if (!e) return err;
  // A held disk record is released on FIN; a message leaving flight unfinished is journaled
  // by reference first, so that everything after this works on a journaled message.
  const uint64_t held = e->heldPop;
  out = inFlight_.take(e);
  if (held != 0) {
    if (finished)
      backlog_.releasePop(held);
    else
      backlog_.journalHeldPop(held, out);
  }
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
      if (Error err = takeInFlightLocked(client, state, id, "FIN", ErrorCode::FinFailed, m, /*finished=*/true)) {
        failures.push_back(std::move(err));
        continue;
      }
      // Buffered: written with the next pull or scan. Lost in a crash, it costs a redelivery.
      backlog_.forget(id);
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
  std::vector<Message> dead;
  std::string deadTopic;
  SyncScope syncs;  // handed to the syncer after the lock is released
  {
    std::lock_guard lock(mu_);
    Message m;
    if (Error err = takeInFlightLocked(client, findConsumerLocked(client.id()), id, "REQ", ErrorCode::ReqFailed, m,
                                      /*finished=*/false))
      return err;
    requeueCount_.fetch_add(1, std::memory_order_relaxed);
    if (outOfAttemptsLocked(m)) {
      deadTopic = policy_->deadLetterTopic;
      dead.push_back(std::move(m));
    } else if (delayNs > 0) {
      backlog_.journalDeferred(m, wallNanos() + delayNs);
      backlog_.flushJournal();  // on failure the delay is kept in memory only
      backlog_.syncJournalLater(syncs);
      deferred_.push_back({monoNanos() + delayNs, std::move(m)});
      std::push_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
    } else {
      backlog_.push(std::move(m));  // an accepted message is never refused: may pass the mark
      wakeWaitersLocked(1);
    }
  }
  if (!dead.empty()) {
    syncs.handOff();
    sendDeadLetters(dead, deadTopic);
  }
  return {};
}

void Channel::sendDeadLetters(std::vector<Message>& msgs, const std::string& topic) {
  std::vector<DeadLetter> moves;
  moves.reserve(msgs.size());
  for (auto& m : msgs) moves.push_back({std::move(m), {}, topic});
  moveDeadLetters(moves, /*recovered=*/false);
}

void Channel::moveDeadLetters(std::vector<DeadLetter>& moves, bool recovered) {
  // Crash ordering, for a journaled message: the journal first records the ID and topic it is
  // about to be published under (MOVE, synced like a REQ), then the dead-letter topic stores it
  // (synced as a publish), then the journal forgets it. A restart that finds the MOVE record
  // publishes the message only if that topic holds no message with that ID, so after recovery
  // it is in exactly one place. A message only in memory was not durable before either.
  DeadLetterSink* sink = ctx_.deadLetters();
  std::vector<bool> reserved(moves.size(), false);
  for (std::size_t i = 0; i < moves.size(); ++i) {
    if (moves[i].as != MessageId{}) {
      reserved[i] = true;
    } else if (sink && sink->reserveDeadLetterId(moves[i].to, moves[i].as)) {
      reserved[i] = true;
    }
  }
  {
    SyncScope syncs;  // the MOVE records' fsync, run (with --sync-every=1) before the publishes
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < moves.size(); ++i)
      if (reserved[i] && backlog_.journaled(moves[i].msg.id))
        backlog_.journalMoving(moves[i].msg.id, moves[i].as, moves[i].to);
    backlog_.flushJournal();
    backlog_.syncJournalLater(syncs);
  }
  std::vector<bool> stored(moves.size(), false);
  for (std::size_t i = 0; i < moves.size(); ++i) {
    DeadLetter& d = moves[i];
    if (!reserved[i]) {
      logError("channel(", topicName_, ":", name_, "): dead letter ", std::string(d.msg.id.view()), " to topic ",
               d.to, " failed - topic unavailable; requeued");
    } else if (recovered && sink->holdsDeadLetter(d.to, d.as)) {
      stored[i] = true;  // the move was done before the restart; only the journal's DONE was lost
    } else if (Error e = sink->deadLetter(d.to, d.msg, d.as)) {
      logError("channel(", topicName_, ":", name_, "): dead letter ", std::string(d.msg.id.view()), " to topic ",
               d.to, " failed - ", e.description, "; requeued");
    } else {
      stored[i] = true;
    }
  }
  SyncScope syncs;
  std::lock_guard lock(mu_);
  std::size_t back = 0;
  for (std::size_t i = 0; i < moves.size(); ++i) {
    if (stored[i]) {
      backlog_.forget(moves[i].msg.id);
      deadLetterCount_.fetch_add(1, std::memory_order_relaxed);
    } else if (!exiting()) {
      backlog_.push(std::move(moves[i].msg));
      ++back;
    }
  }
  backlog_.flushJournal();
  backlog_.syncLater(syncs, /*dueDiskSync=*/false);
  if (back > 0) wakeWaitersLocked(back);
}

Error Channel::touch(const Consumer& client, const MessageId& id) {
  std::lock_guard lock(mu_);
  Error err;
  InFlightTable::Entry* e = ownedLocked(client, id, "TOUCH", ErrorCode::TouchFailed, &err);
  if (!e) return err;
  int64_t now = monoNanos();
  int64_t cap = e->deliveredMono + ctx_.options().maxMsgTimeout.count();
  inFlight_.setDeadline(e, std::min(now + client.msgTimeoutNs(), cap));
  return {};
}

bool Channel::processTimeouts(int64_t nowMono) {
  std::vector<std::shared_ptr<Consumer>> toWake;
  std::vector<Message> dead;
  std::string deadTopic;
  SyncScope syncs;  // handed to the syncer after the lock is released, before the wakes
  bool work = false;
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
      const uint64_t held = e->heldPop;
      Message m = inFlight_.take(e);
      if (held != 0) backlog_.journalHeldPop(held, m);  // leaves flight unfinished: journaled
      if (outOfAttemptsLocked(m)) {
        deadTopic = policy_->deadLetterTopic;
        dead.push_back(std::move(m));
        work = true;
        continue;
      }
      backlog_.push(std::move(m));
      ++requeued;
    }
    if (!dead.empty()) inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
    while (!deferred_.empty() && deferred_.front().deadline <= nowMono) {
      std::pop_heap(deferred_.begin(), deferred_.end(), later<Deferred, Deferred>);
      backlog_.push(std::move(deferred_.back().msg));
      deferred_.pop_back();
      ++requeued;
    }
    if (requeued > 0) {
      work = true;
      inFlightCount_.store(static_cast<int64_t>(inFlight_.size()), std::memory_order_relaxed);
      deferredCount_.store(static_cast<int64_t>(deferred_.size()), std::memory_order_relaxed);
      wakeWaitersLocked(requeued);
    }
    backlog_.flushJournal();  // FINs since the last pull
    backlog_.syncLater(syncs, /*dueDiskSync=*/true);
  }
  syncs.handOff();
  if (!dead.empty()) sendDeadLetters(dead, deadTopic);
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
    backlog_.empty();
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
      inFlight_.clear();
      deferred_.clear();
      backlog_.deleteData();
    } else if (backlog_.durable()) {
      // Graceful stop: what the journal holds (deferred messages with their due time, in-flight
      // ones from disk) stays there; everything else goes to the disk queue, attempts kept.
      backlog_.spillMemory();
      inFlight_.forEach([&](const InFlightTable::Entry& e) { backlog_.spill(e.msg); });
      for (auto& d : deferred_) backlog_.spill(d.msg);
      inFlight_.clear();
      deferred_.clear();
      backlog_.close();
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
    s.backendDepth = backlog_.diskDepth();
    s.depth = backlog_.depth();
    s.inFlightCount = static_cast<int64_t>(inFlight_.size());
    s.deferredCount = static_cast<int64_t>(deferred_.size());
    s.messageCount = messageCount_.load();
    s.requeueCount = requeueCount_.load();
    s.timeoutCount = timeoutCount_.load();
    s.deadLetterCount = deadLetterCount_.load();
    s.expiredCount = expiredCount_.load();
    s.droppedCount = droppedCount_.load();
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

void Channel::setPolicy(std::shared_ptr<const TopicPolicy> policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
  backlog_.setStrictOrder(policy_ && policy_->maxDepth > 0 && policy_->overflow == Overflow::DropOldest);
}

int64_t Channel::queuedLocked() const {
  return backlog_.depth() + static_cast<int64_t>(deferred_.size() + stagedDeferred_.size());
}

int64_t Channel::queued() const {
  std::lock_guard lock(mu_);
  return queuedLocked();
}

int64_t Channel::depth() const {
  std::lock_guard lock(mu_);
  return backlog_.depth();
}

std::size_t Channel::clientCount() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

// Indexed binary min-heap over InFlight entries (each knows its slot), by deadline.
}  // namespace nsq::nsqd

// Backlog: one queue's storage, and the one place that decides memory or disk for a new message.
// The choice worth knowing: nothing here waits for the disk under the owner's lock except the
// writes themselves; every fsync (journal, then the disk queue's commit of the pops that journal
// covers) leaves through a SyncScope, in the order durability needs, for the syncer to run.
#include "nsqd/backlog.h"

#include <algorithm>
#include <utility>

#include "nsq/base/log.h"
#include "nsqd/syncer.h"

namespace nsq::nsqd {

void SyncScope::add(Syncer& syncer, std::function<void()> task) {
  syncer_ = &syncer;
  tasks_.push_back(std::move(task));
}

void SyncScope::handOff() {
  for (auto& task : tasks_) syncer_->run(std::move(task));
  tasks_.clear();
}

DiskQueueOptions diskQueueOptions(const NsqdOptions& opts, const std::string& queueName) {
  DiskQueueOptions o;
  o.dataPath = opts.dataPath;
  o.name = queueName;
  o.maxBytesPerFile = opts.maxBytesPerFile;
  o.minMsgSize = static_cast<int32_t>(kMessageHeaderLength);
  o.maxMsgSize = static_cast<int32_t>(opts.maxMsgSize + static_cast<int64_t>(kMessageHeaderLength));
  o.syncEvery = opts.syncEvery;
  o.syncTimeout = opts.syncTimeout;
  o.logError = [](const std::string& text) { logError("DISKQUEUE: ", text); };
  return o;
}

Backlog::Backlog(StorageContext& ctx, std::string queueName, bool durable, std::string logName,
                 PopCommit popCommit)
    : ctx_(ctx), queueName_(std::move(queueName)), durable_(durable), logName_(std::move(logName)),
      popCommit_(popCommit) {}

Backlog::~Backlog() = default;

std::vector<MessageJournal::Entry> Backlog::open() {
  if (!durable_) return {};
  // The journal first: the segments it refers to must survive the disk queue's recovery.
  journal_ = std::make_unique<MessageJournal>(journalOptions(ctx_.options(), queueName_));
  DiskQueueOptions o = diskQueueOptions(ctx_.options(), queueName_);
  std::size_t gone = 0;
  auto resolve = [&](MessageJournal::Entry& e) {
    std::string payload, err;
    Message m;
    if (!DiskQueue::readRecord(o, e.segment, e.offset, payload, &err) || !Message::parsePayload(payload, m) ||
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
    logWarn(logName_, ": ", std::to_string(gone),
            " journaled in-flight messages no longer found in the disk queue (finished before a crash, "
            "or their segment was removed); not restored");

  o.retainedSegments = journal_->referencedSegments();
  refsVersion_ = journal_->refsVersion();
  HealthSink& health = ctx_.healthSink();
  o.onHealth = [&health, source = "diskqueue(" + queueName_ + ")"](const std::string& error) {
    if (error.empty())
      health.clearHealth(source);
    else
      health.setHealth(source, error);
  };
  // The callback needs the queue it belongs to, which exists only after construction; it is
  // first called from a put or pop, after the assignment below.
  auto self = std::make_shared<std::weak_ptr<DiskQueue>>();
  o.onSyncDue = [&syncer = ctx_.syncer(), self] {
    syncer.run([w = *self] {
      if (auto q = w.lock()) q->syncIfNeeded();
    });
  };
  disk_ = std::make_shared<DiskQueue>(std::move(o));
  *self = disk_;
  if (journal_->size() > 0) popsBeforeOpen_ = disk_->depth();
  return entries;
}

bool Backlog::memoryHasRoom(std::size_t alsoHeld) const {
  return memory_.size() + staged_.size() + alsoHeld < static_cast<std::size_t>(ctx_.options().memQueueSize);
}

bool Backlog::spilling() const {
  auto limit = static_cast<std::size_t>(ctx_.options().memQueueSize);
  if (!disk_) limit = std::max<std::size_t>(limit, 1);
  return memory_.size() + staged_.size() >= limit || (strictOrder_ && disk_ && disk_->depth() > 0);
}

Error Backlog::stage(Message&& msg, const UnbuiltBody* unbuilt) {
  if (!spilling()) {
    if (unbuilt) msg.body = Body(unbuilt->bytes);
    staged_.push_back(std::move(msg));
    return {};
  }
  if (!disk_) return {};  // #ephemeral: overflow is discarded
  std::string err;
  bool stored;
  if (unbuilt && !unbuilt->record.empty()) {
    stored = disk_->appendEncoded(unbuilt->record, &err);
  } else {
    char header[kMessageHeaderLength];
    msg.encodeHeader(header);
    stored = disk_->append({header, sizeof header}, unbuilt ? unbuilt->bytes : msg.body.view(), &err);
  }
  if (!stored) return {ErrorCode::PubFailed, std::move(err)};  // health: onHealth
  return {};
}

Error Backlog::stageRecords(std::string_view records, std::size_t count) {
  if (!disk_) return {};  // #ephemeral: overflow is discarded
  std::string err;
  if (!disk_->appendEncodedRun(records, count, &err)) return {ErrorCode::PubFailed, std::move(err)};
  return {};
}

void Backlog::stageDeferred(const Message& msg, int64_t wallDeadline) {
  if (!journal_) return;
  journal_->add(msg, wallDeadline);
  stagedDeferred_.push_back(msg.id);
}

Error Backlog::prepare(SyncScope& syncs, DiskQueue::Write* detach) {
  std::string err;
  if (!staged_.empty() || !stagedDeferred_.empty()) detach = nullptr;
  if (disk_ && !disk_->prepare(&err, detach)) return {ErrorCode::PubFailed, std::move(err)};
  if (journal_ && journal_->pending())
    if (Error e = writeJournal()) return e;
  syncJournalLater(syncs);
  return {};
}

std::size_t Backlog::commit() {
  std::size_t n = staged_.size() + (disk_ ? static_cast<std::size_t>(disk_->publish()) : 0);
  for (auto& m : staged_) memory_.push(std::move(m));
  staged_.clear();
  stagedDeferred_.clear();
  return n;
}

void Backlog::abort() {
  staged_.clear();
  if (disk_) disk_->abort();
  if (journal_ && !stagedDeferred_.empty()) {
    for (const auto& id : stagedDeferred_) journal_->remove(id);
    flushJournal();  // on failure the next pull or scan writes it
  }
  stagedDeferred_.clear();
}

bool Backlog::pop(Message& out, Popped* where) {
  if (where) where->fromDisk = false;
  if (memory_.pop(out)) return true;
  if (!disk_ || disk_->depth() <= 0) return false;
  DiskQueue::Position at;
  while (disk_->popNoSync(scratch_, &at)) {  // committed as the top of backlog.h says
    popped_ = true;
    const bool beforeOpen = popsBeforeOpen_ > 0;
    if (beforeOpen) --popsBeforeOpen_;
    if (where) {
      where->fromDisk = true;
      where->at = at;
      where->fromBeforeOpen = beforeOpen;
    }
    if (Message::parsePayload(scratch_, out)) return true;
    logError(logName_, ": dropped undecodable disk record of ", std::to_string(scratch_.size()), " bytes");
  }
  return false;
}

void Backlog::push(Message&& msg) { memory_.push(std::move(msg)); }

std::size_t Backlog::dropOldest(int64_t keep, int64_t alsoHeld) {
  std::size_t dropped = 0;
  Message msg;
  Popped where;
  while (depth() + alsoHeld > keep && pop(msg, &where)) {
    if (crashDuplicate(msg.id, where)) continue;  // its live copy is in flight
    forget(msg.id);  // a redelivered deferred message may still be journaled
    ++dropped;
  }
  // Everything popped before was journaled by its pull, held or finished; the dropped ones are gone.
  if (dropped > 0 && popCommit_ == PopCommit::AfterJournal) flushJournal();
  return dropped;
}

uint64_t Backlog::holdPop(const Message& msg, const Popped& where) {
  held_.push_back({msg.id, msg.timestamp, msg.attempts, false, where.at});
  const uint64_t ticket = heldBase_ + held_.size() - 1;
  // Past the bound the oldest goes to the journal, so that the committed read position (and
  // what a crash would deliver again) never lags more than kMaxHeldPops pops behind.
  if (held_.size() > kMaxHeldPops) journalHeld(0);
  return ticket;
}

void Backlog::releasePop(uint64_t ticket) {
  if (ticket < heldBase_ || ticket - heldBase_ >= held_.size()) return;
  held_[ticket - heldBase_].released = true;
  while (!held_.empty() && held_.front().released) {
    held_.pop_front();
    ++heldBase_;
  }
}

void Backlog::journalHeldPop(uint64_t ticket, const Message& msg) {
  if (ticket < heldBase_ || ticket - heldBase_ >= held_.size()) return;
  const std::size_t i = ticket - heldBase_;
  if (held_[i].released) return;
  held_[i].attempts = msg.attempts;
  journalHeld(i);
}

void Backlog::journalHeld(std::size_t i) {
  const Held& h = held_[i];
  if (journal_) {
    Message m;
    m.id = h.id;
    m.timestamp = h.timestamp;
    m.attempts = h.attempts;
    journal_->addRef(m, h.at.fileNum, h.at.pos, 0);  // written before commitPops() passes it
  }
  releasePop(heldBase_ + i);
}

void Backlog::commitPops(bool always) {
  if (!disk_ || popCommit_ != PopCommit::AfterJournal || (journal_ && journal_->dirty())) return;
  DiskQueue::Position upTo;
  if (held_.empty()) {
    upTo = disk_->readPosition();
  } else {
    upTo = held_.front().at;  // up to the oldest held record, not including it
    --upTo.pops;
  }
  if (!always && upTo.pops <= committedPops_) return;
  committedPops_ = upTo.pops;
  commit_ = upTo;
}

void Backlog::journalInFlight(const Message& msg, const Popped& where) {
  if (!journal_) return;
  if (where.fromDisk)
    journal_->addRef(msg, where.at.fileNum, where.at.pos, 0);  // the disk queue keeps the record
  else if (journal_->contains(msg.id))
    journal_->update(msg.id, msg.attempts, 0);
}

void Backlog::journalDeferred(const Message& msg, int64_t wallDeadline) {
  if (!journal_) return;
  if (journal_->contains(msg.id))
    journal_->update(msg.id, msg.attempts, wallDeadline);
  else
    journal_->add(msg, wallDeadline);
}

void Backlog::forget(const MessageId& id) {
  if (journal_) journal_->remove(id);
}

void Backlog::journalMoving(const MessageId& id, const MessageId& as, const std::string& to) {
  if (journal_) journal_->markMoving(id, as, to);
}

bool Backlog::holds(const MessageId& id) {
  if (memory_.contains(id) || journaled(id)) return true;
  for (const auto& m : staged_)
    if (m.id == id) return true;
  bool found = false;
  if (disk_)
    disk_->scanUnread([&](std::string_view payload) {
      // §1.2 payload: int64 timestamp, uint16 attempts, then the 16-byte ID.
      found = payload.size() >= kMessageHeaderLength &&
              payload.substr(10, kMessageIdLength) == id.view();
      return !found;
    });
  return found;
}

void Backlog::flushJournal() {
  if (journal_ && journal_->pending())
    (void)writeJournal();
  else
    commitPops(/*always=*/false);  // releases since the last write
}

Error Backlog::writeJournal() {
  std::string err;
  const bool wasDirty = journal_->dirty();
  if (!journal_->flush(&err)) {
    // Retried by every pull and scan while the disk is full: logged once per outage.
    if (!wasDirty) logError(logName_, ": journal write failed - ", err, " (retrying)");
    ctx_.healthSink().setHealth(journal_->path(), err);
    return {ErrorCode::PubFailed, std::move(err)};
  }
  if (wasDirty) logInfo(logName_, ": journal written again");
  ctx_.healthSink().clearHealth(journal_->path());
  retainJournalRefs();
  // Every message popped from the disk queue before the oldest held one is journaled now (or
  // finished).
  commitPops(/*always=*/true);
  return {};
}

void Backlog::retainJournalRefs() {
  // Keep the segments the journal refers to before any commit lets a sync delete them.
  if (!disk_ || journal_->refsVersion() == refsVersion_) return;
  refsVersion_ = journal_->refsVersion();
  disk_->retainSegments(journal_->referencedSegments());
}

void Backlog::syncJournalLater(SyncScope& syncs) {
  if (!journal_) return;
  if (auto journal = journal_->takeSync())
    syncs.add(ctx_.syncer(), [j = std::shared_ptr<MessageJournal::Sync>(std::move(journal))] { (void)j->run(); });
}

void Backlog::syncLater(SyncScope& syncs, bool dueDiskSync) {
  if (disk_ && popCommit_ == PopCommit::AtHandOff && popped_) commit_ = disk_->readPosition();
  popped_ = false;
  std::unique_ptr<MessageJournal::Sync> journal = journal_ ? journal_->takeSync() : nullptr;
  std::optional<DiskQueue::Position> commit = std::exchange(commit_, std::nullopt);
  std::shared_ptr<DiskQueue> disk = disk_ && (commit || (dueDiskSync && disk_->syncDue())) ? disk_ : nullptr;
  if (!journal && !disk) return;
  syncs.add(ctx_.syncer(), [j = std::shared_ptr<MessageJournal::Sync>(std::move(journal)), d = std::move(disk), commit] {
    if (j && !j->run()) return;  // the pops stay uncommitted: a crash redelivers, never loses
    if (!d) return;
    if (commit) d->commitReads(*commit);
    d->syncIfNeeded();
  });
}

void Backlog::spill(const Message& msg) {
  if (!disk_ || journaled(msg.id)) return;  // the journal keeps it, due time included
  scratch_.clear();
  msg.appendPayload(scratch_);
  std::string err;
  if (!disk_->put(scratch_, &err)) logError(logName_, ": failed to persist message on exit - ", err);
}

void Backlog::spillMemory() {
  if (!disk_) return;
  Message msg;
  while (memory_.pop(msg)) spill(msg);
}

void Backlog::close() {
  if (!disk_) return;
  spillMemory();
  // The owner spilled its held messages (they were in flight) with the rest.
  heldBase_ += held_.size();
  held_.clear();
  std::string err;
  bool journalOk = true;
  if (journal_ && !(journalOk = journal_->close(&err)))
    logError(logName_, ": failed to write journal on exit - ", err);
  // A topic's pops are in its channels; a channel's are journaled (and fsynced) or finished:
  // the final sync may record them.
  if (journalOk || popCommit_ == PopCommit::AtHandOff) {
    disk_->retainSegments(journal_ ? journal_->referencedSegments() : std::vector<int64_t>{});
    disk_->commitReads(disk_->readPosition());
  }
  disk_->close();
}

void Backlog::empty() {
  memory_.clear();
  heldBase_ += held_.size();
  held_.clear();
  commit_.reset();
  popped_ = false;
  popsBeforeOpen_ = 0;
  if (disk_) disk_->empty();
  if (journal_) {
    journal_->clear();
    ctx_.healthSink().clearHealth(journal_->path());
    refsVersion_ = journal_->refsVersion();
  }
}

void Backlog::deleteData() {
  memory_.clear();
  heldBase_ += held_.size();
  held_.clear();
  if (disk_) disk_->deleteAll();
  if (journal_) {
    journal_->removeFile();
    ctx_.healthSink().clearHealth(journal_->path());
  }
}

}  // namespace nsq::nsqd

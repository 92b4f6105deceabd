#pragma once
// Backlog: the storage of one queue, a topic's or a channel's. New messages go to a bounded
// memory queue and, past --mem-queue-size, to the queue's disk queue (an #ephemeral queue has no
// disk queue and drops the overflow). A journal (MessageJournal) keeps the messages the owner
// holds outside both queues: deferred ones with their due time, and a channel's in-flight
// messages that were popped from the disk queue (by reference; the disk queue keeps the segments
// the journal refers to). Write failures of either file go to the health sink (/ping) and are
// cleared by the next good write.
//
// Threads: not thread-safe; the owner calls everything under its own lock. The fsyncs a call
// owes are collected in a SyncScope that hands them to the syncer once the owner's locks are
// released (or when the owner calls handOff()).
//
// Crash ordering: a disk pop moves the disk queue's read position in memory only; the syncer
// records it (DiskQueue::commitReads) only after the message is stored elsewhere: for a channel,
// after a journal write that covers it and that journal's fsync; for a topic, once the owner
// handed it to its channels (PopCommit). So a crash duplicates a message, never loses it.
//
// Held pops: a channel may instead hold a popped message's disk record (holdPop) while it is in
// flight: nothing is journaled, and the committed read position stops before the oldest held
// record until it is released (FIN). A held message that leaves flight unfinished (REQ,
// timeout) is journaled by reference then (journalHeldPop), as is the oldest once more than
// kMaxHeldPops pops lie between it and the read position. A crash redelivers the held messages
// from the disk queue with the attempts their record has, and may redeliver messages finished
// after the oldest held one (at most kMaxHeldPops): at least once, as ever, with no journal
// record written or fsynced for a message finished while held.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsq/base/ring_queue.h"
#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsq/storage/disk_queue.h"
#include "nsqd/memory_queue.h"
#include "nsqd/message_journal.h"
#include "nsqd/queue_context.h"

namespace nsq::nsqd {

class Syncer;

// Fsyncs collected under the owner's locks, handed to the syncer in the order they came when
// handOff() is called or the scope ends. Declare it before the lock guard, so that it ends after
// the lock is released. Not thread-safe.
class SyncScope {
 public:
  SyncScope() = default;
  ~SyncScope() { handOff(); }
  SyncScope(const SyncScope&) = delete;
  SyncScope& operator=(const SyncScope&) = delete;

  void handOff();
  bool empty() const { return tasks_.empty(); }

 private:
  friend class Backlog;
  void add(Syncer& syncer, std::function<void()> task);

  Syncer* syncer_ = nullptr;
  std::vector<std::function<void()>> tasks_;
};

// A message whose body is not built yet (a publish while the channels spill): the publisher's
// bytes, and, when the publisher encoded it before taking its locks, the message's disk-queue
// record (appendRecord: length, CRC-32C, header, body) for every queue it goes to.
struct UnbuiltBody {
  std::string_view bytes;
  std::string_view record;  // empty: encoded by the queue that stores it
};

// The disk queue options for queue `queueName` ("topic" or "topic:channel") under nsqd's
// --data-path, with its size limits and sync policy.
DiskQueueOptions diskQueueOptions(const NsqdOptions& opts, const std::string& queueName);

class Backlog {
 public:
  // When the disk pops may be recorded as done (see the top of the file).
  enum class PopCommit {
    AfterJournal,  // a channel: once a journal write covers them (their in-flight references)
    AtHandOff,     // a topic: at every syncLater(), its caller having stored them in the channels
  };

  // queueName: "topic" or "topic:channel"; durable false: #ephemeral (memory only). logName
  // prefixes log lines, e.g. "channel(t:c)". Opens nothing yet: call open().
  Backlog(StorageContext& ctx, std::string queueName, bool durable, std::string logName, PopCommit popCommit);
  ~Backlog();
  Backlog(const Backlog&) = delete;
  Backlog& operator=(const Backlog&) = delete;

  // Replays the journal (references resolved from the disk queue's files; those no longer found
  // are dropped with a warning) and then opens the disk queue, which keeps the segments the
  // journal refers to. Returns the journal's live entries for the owner to place. Call once,
  // before anything else; nothing to do for an ephemeral backlog.
  std::vector<MessageJournal::Entry> open();

  bool durable() const { return durable_; }
  std::size_t memorySize() const { return memory_.size(); }
  int64_t diskDepth() const { return disk_ ? disk_->depth() : 0; }
  int64_t depth() const { return static_cast<int64_t>(memory_.size()) + diskDepth(); }
  // Whether alsoHeld more messages beside the memory queue and this publish's staged ones stay
  // below --mem-queue-size (an ephemeral topic's deferred messages are bounded by it).
  bool memoryHasRoom(std::size_t alsoHeld) const;
  // Whether stage() would send a new message to the disk queue (or drop it, #ephemeral): the
  // memory queue is at --mem-queue-size, or strict order keeps new messages behind the disk's.
  bool spilling() const;

  // A publish in steps, so that an error reply means nothing was stored. stage() puts a
  // message where no reader sees it yet: to be pushed to memory while the memory queue plus
  // what is staged stays below --mem-queue-size (an ephemeral backlog keeps at least a
  // one-message hand-off slot and drops the overflow), else into the disk queue's unpublished
  // batch. stageDeferred() journals a message the owner holds with its wall-clock due time.
  // prepare() writes the disk batch and the journal (a failure marks /ping unhealthy) and adds
  // the journal fsync that came due to syncs; commit() then makes the staged messages visible
  // and returns how many, or abort() takes everything staged back out (journal included).
  // stage() and prepare() fail with ErrorCode::PubFailed and the storage error text; the caller
  // then calls abort().
  // unbuilt: the body, when msg.body is not built yet (the publisher's bytes): copied into a
  // Body only when the message goes to memory, encoded into the disk batch straight from these
  // bytes when it goes to disk (no block taken from the pool and given back per spilled message),
  // or appended as its ready record when the publisher encoded one.
  [[nodiscard]] Error stage(Message&& msg, const UnbuiltBody* unbuilt = nullptr);
  // stage() of `count` messages whose disk records the publisher encoded back to back in
  // `records`, while spilling(): appended to the disk batch in one piece (dropped, #ephemeral).
  [[nodiscard]] Error stageRecords(std::string_view records, std::size_t count);
  void stageDeferred(const Message& msg, int64_t wallDeadline);
  // With detach, it may leave the disk batch to be written outside the owner's lock
  // (DiskQueue::Write: the caller then writes, awaits its turn and completes it; commit() does
  // not count it). Only when nothing else is staged: new messages all went to disk.
  [[nodiscard]] Error prepare(SyncScope& syncs, DiskQueue::Write* detach = nullptr);
  std::size_t commit();
  void abort();

  // Where pop() took a message from.
  struct Popped {
    bool fromDisk = false;
    DiskQueue::Position at;  // when fromDisk: where its record sits
    // A record that was in the disk queue when open() found a journal with live entries: a
    // crash may have left it both there and in the journal (see crashDuplicate()).
    bool fromBeforeOpen = false;
  };
  // The oldest message: memory first, then the disk queue (its pop is recorded only as the top
  // of the file says; undecodable records are logged and skipped). False when both are empty.
  bool pop(Message& out, Popped* where = nullptr);
  // Back into the memory queue (requeue, timeout, restore): never refused, may pass the mark.
  void push(Message&& msg);
  // Overflow drop_oldest (policy.h): pops the oldest messages, memory first, then disk, until
  // depth() + alsoHeld <= keep or the queue is empty; returns how many it dropped. A disk pop is
  // recorded as the top of the file says (with the next journal write for a channel).
  std::size_t dropOldest(int64_t keep, int64_t alsoHeld);
  // Strict FIFO for dropOldest(): while the disk queue holds messages, stage() sends new ones
  // there too, so the memory queue (popped first) never holds newer messages than the disk.
  void setStrictOrder(bool on) { strictOrder_ = on; }

  // The journal; every call is a no-op (or false) for an ephemeral backlog. Records are
  // buffered until flushJournal() or prepare().
  bool journaled(const MessageId& id) const { return journal_ && journal_->contains(id); }
  // A popped message whose live copy is the journal's: a crash left its record in the disk
  // queue after journaling it. Only records from before open() can be such, so the journal
  // is not asked about the others.
  bool crashDuplicate(const MessageId& id, const Popped& where) const {
    return where.fromDisk && where.fromBeforeOpen && journaled(id);
  }
  // A message going in flight: by reference when it was popped from the disk queue, else its
  // attempts updated if the journal holds it (a redelivered deferred message).
  void journalInFlight(const Message& msg, const Popped& where);
  // A message held until wallDeadline (REQ with a delay): added, or updated if journaled.
  void journalDeferred(const Message& msg, int64_t wallDeadline);
  void forget(const MessageId& id);  // finished, dropped or handed on
  // A journaled message about to be published to topic `to` as message `as` (a dead letter):
  // forget() afterwards records that the move is done; a restart in between sees the mark.
  void journalMoving(const MessageId& id, const MessageId& as, const std::string& to);
  // Held pops (see the top of the file). holdPop() returns the ticket (never 0) of a message
  // popped from the disk queue (where.fromDisk) that goes in flight unjournaled; releasePop()
  // lets the committed read position pass it (finished; a ticket already released or
  // journaled is ignored); journalHeldPop() journals it by reference with msg's attempts (it
  // left flight unfinished) unless that happened already. A channel only.
  static constexpr std::size_t kMaxHeldPops = 32768;
  uint64_t holdPop(const Message& msg, const Popped& where);
  void releasePop(uint64_t ticket);
  void journalHeldPop(uint64_t ticket, const Message& msg);
  std::size_t heldPops() const { return held_.size(); }  // from the oldest held to the newest pop

  // Whether the memory queue, the journal or the unread part of the disk queue holds a message
  // with this ID. Reads the disk queue's files: for recovery checks only.
  bool holds(const MessageId& id);
  bool journalDirty() const { return journal_ && journal_->dirty(); }  // a write failed
  // Writes the buffered journal records, if any. A failure is logged once per outage, marks
  // /ping unhealthy and is retried by the next flush, which clears it.
  void flushJournal();
  // Adds to syncs the journal fsync that is due, then the disk queue's commit of the pops that
  // may be recorded with the sync that commit owes (the syncer runs them in that order). With
  // dueDiskSync also a disk sync owed without a commit (time-based, or the retry of a failed
  // one): the scanner's passes ask for it, the hot paths leave it to the disk queue's onSyncDue.
  void syncLater(SyncScope& syncs, bool dueDiskSync);
  // Only the journal fsync that is due (publish, REQ): the pops wait for the next syncLater().
  void syncJournalLater(SyncScope& syncs);

  // Graceful stop. spill() writes a message the owner holds to the disk queue unless the
  // journal has it (attempts kept; failures logged); spillMemory() does so for the memory
  // queue; close() spills the memory queue, writes and fsyncs the journal and closes the disk
  // queue, recording every pop the journal covers. Nothing to do for an ephemeral backlog.
  void spill(const Message& msg);
  void spillMemory();
  void close();
  // Drops every message and the files' contents; the backlog stays usable.
  void empty();
  // Drops every message and removes the files (the queue is deleted).
  void deleteData();

 private:
  Error writeJournal();  // flush; PubFailed with the error text on failure
  void retainJournalRefs();
  // Lets the next syncLater() record the pops up to the oldest held one, if that moved.
  // always: even if it did not move (after a journal write, as every write did before).
  void commitPops(bool always);
  void journalHeld(std::size_t index);  // held_[index] by reference, then released

  // A held pop: where its record is and what the journal needs if it must take it over.
  struct Held {
    MessageId id;
    int64_t timestamp = 0;
    uint16_t attempts = 0;
    bool released = false;
    DiskQueue::Position at;
  };

  StorageContext& ctx_;
  const std::string queueName_;
  const bool durable_;
  const std::string logName_;
  const PopCommit popCommit_;
  bool strictOrder_ = false;

  MemoryQueue memory_;
  std::shared_ptr<DiskQueue> disk_;          // null for #ephemeral
  std::unique_ptr<MessageJournal> journal_;  // null for #ephemeral
  std::vector<Message> staged_;              // stage() for memory, until commit()
  std::vector<MessageId> stagedDeferred_;    // stageDeferred(), until commit()
  std::optional<DiskQueue::Position> commit_;  // pops the next syncLater() may record
  bool popped_ = false;                        // a disk pop since the last syncLater()
  int64_t popsBeforeOpen_ = 0;  // disk records left that were queued before open() (Popped)
  uint64_t refsVersion_ = 0;                   // journal_->refsVersion() last given to disk_
  std::string scratch_;                        // payload encode buffer
  RingQueue<Held> held_;  // from the oldest unreleased held pop to the newest held pop
  uint64_t heldBase_ = 1;  // the ticket of held_.front()
  int64_t committedPops_ = 0;  // Position::pops of the last commit_ commitPops() set
};

}  // namespace nsq::nsqd

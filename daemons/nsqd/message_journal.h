#pragma once
// MessageJournal: an append-only, checksummed log of the messages a channel (or a topic) holds
// outside its queues: deferred ones with their wall-clock due time, and in-flight ones whose
// record the disk queue's read position moved past when they were popped. Those are journaled by
// reference (segment and offset; the owner keeps the segment), so draining a queue writes a few
// dozen bytes per message, never its body. Replaying it at start gives back every live entry;
// compaction rewrites the live set (tmp + fsync + rename) once the file has grown well past it.
// Byte layout: docs/message-journal-format.md.
//
// Threads: not thread-safe. The owner calls everything under its own lock, except that the
// fsync handle returned by takeSync() is meant to be run after that lock is released.
#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nsq/base/posix_io.h"
#include "nsq/protocol/message.h"
#include "nsq/storage/record.h"
#include "nsqd/id_index.h"

namespace nsq::nsqd {

struct NsqdOptions;

struct JournalOptions {
  std::string path;  // e.g. <data-path>/<topic>:<channel>.journal.dat
  int64_t syncEvery = 2500;  // fsync after this many records; 1 = every flush is durable
  std::chrono::nanoseconds syncTimeout = std::chrono::seconds(2);
  // Compact only past this file size ... A channel draining its disk queue journals ~84 bytes
  // per message (REF + DONE): at 1 MiB it compacted ~40 times a second at 600k msgs/s, each
  // time with two fsyncs under the channel lock that stalled every consumer of the channel.
  int64_t compactMinBytes = 16 << 20;
  int64_t maxMsgSize = 1048576;       // body limit, to validate records
  std::function<void(const std::string&)> logError;  // empty -> stderr
};

// The journal of queue `queueName` ("topic" or "topic:channel") under nsqd's --data-path, with
// its --sync-every / --sync-timeout and errors logged as JOURNAL lines.
JournalOptions journalOptions(const NsqdOptions& opts, const std::string& queueName);

// Journal layout constants (docs/message-journal-format.md).
constexpr uint32_t kJournalMagic = 0xD14E534A;  // "\xD1NSJ"
constexpr uint16_t kJournalVersion = 1;
constexpr int64_t kJournalHeaderSize = kRecordFileHeaderSize;
constexpr int64_t kJournalRecordHeaderSize = kRecordHeaderSize;  // uint32 length, uint32 crc32c (record.h)

class MessageJournal {
 public:
  struct Entry {
    Message msg;               // attempts as of the last record
    int64_t wallDeadline = 0;  // unix ns when it is due; 0 = at once (it was in flight)
    // For an entry added by addRef(): the disk queue record that holds the message (msg then
    // carries only id, timestamp and attempts). -1: msg is complete.
    int64_t segment = -1;
    int64_t offset = 0;
    // Set by markMoving(): the message is being moved to topic movingTo, where it carries the
    // ID movingAs (all zero bytes: not being moved).
    MessageId movingAs{};
    std::string movingTo;
  };
  // An fsync to run outside the owner's lock (see takeSync()).
  class Sync {
   public:
    virtual ~Sync() = default;
    virtual bool run() = 0;  // false after a failed fsync (logged)
  };

  explicit MessageJournal(JournalOptions opts);
  ~MessageJournal();
  MessageJournal(const MessageJournal&) = delete;
  MessageJournal& operator=(const MessageJournal&) = delete;

  // Replays the file if there is one: corrupt or torn records are reported with file and
  // offset, copied to <path>.bad.<offset> and skipped; the live set is then rewritten compactly.
  // resolve is called for each entry by reference (segment >= 0) and fills in msg from the
  // disk queue; false drops the entry. Returns the live entries. Call once, before anything else.
  std::vector<Entry> recover(const std::function<bool(Entry&)>& resolve = {});

  bool contains(const MessageId& id) const { return slotOf(id) != IdIndex::kNone; }
  std::size_t size() const { return index_.size(); }
  // Entry slots allocated (live or free): kept while the journal empties and fills again with as
  // many, given back when it empties after holding less than half of them (a burst is over).
  std::size_t slotCapacity() const { return slots_.size(); }

  // Buffer a record; no IO. add() keeps a full entry (replacing one with the same ID); update()
  // and remove() only act on an ID the journal holds.
  void add(const Message& msg, int64_t wallDeadline);
  // add() for a message whose record stays readable at (segment, offset) of the owner's disk
  // queue: only the ID, timestamp, attempts and the position are written.
  void addRef(const Message& msg, int64_t segment, int64_t offset, int64_t wallDeadline);
  void update(const MessageId& id, uint16_t attempts, int64_t wallDeadline);
  void remove(const MessageId& id);
  // Records that the entry is about to be published to topic `to` as message `as` (a dead
  // letter); a later remove() records that the move is done. Only acts on an ID the journal holds.
  void markMoving(const MessageId& id, const MessageId& as, const std::string& to);
  bool pending() const { return !buf_.empty() || dirty_; }
  // A write failed and the file is not yet rewritten.
  bool dirty() const { return dirty_; }
  // Disk queue segments that live entries refer to (addRef()), ascending.
  std::vector<int64_t> referencedSegments() const;
  // Changes whenever referencedSegments() does.
  uint64_t refsVersion() const { return refsVersion_; }

  // Writes the buffered records with one pwrite (compacting first if the file is more than
  // twice its live contents and past compactMinBytes). On an IO error returns false with
  // *error; the entries stay, and the next flush rewrites the whole live set.
  bool flush(std::string* error);

  // When an fsync is due (syncEvery records written since the last one, or force, or
  // syncTimeout passed with unsynced records), returns it to run outside the lock; else null.
  std::unique_ptr<Sync> takeSync(bool force = false);

  // Drops every entry and removes the file (channel/topic emptied).
  void clear();
  // Flushes and fsyncs (graceful stop). The journal stays usable.
  bool close(std::string* error);
  // Removes the file for good (channel/topic deleted).
  void removeFile();

  const std::string& path() const { return opts_.path; }
  int64_t fileBytes() const { return fileBytes_; }

 private:
  using Fd = UniqueFd;  // shared with the fsync handles takeSync() gives out
  bool openFile(std::string* error);
  bool compact(std::string* error);
  void appendAdd(std::string& out, const Entry& e) const;  // ADD or REF, then MOVE if marked
  static void appendMove(std::string& out, const Entry& e);
  static int64_t recordBytes(const Entry& e);
  void track(const Entry& e, int sign);  // liveBytes_ and refs_ for an entry coming or going
  // The live entries: slots_[s] for every s in index_ (keyed by slots_[s].msg.id); free slots
  // hold reset entries and are listed in free_.
  uint32_t slotOf(const MessageId& id) const {
    return index_.find(IdIndex::hashOf(id), [&](uint32_t s) { return slots_[s].msg.id == id; });
  }
  Entry* findEntry(const MessageId& id) {
    uint32_t s = slotOf(id);
    return s == IdIndex::kNone ? nullptr : &slots_[s];
  }
  // The slot of id's entry, and whether it was live already; a new one holds a reset entry.
  std::pair<uint32_t, bool> place(const MessageId& id);
  void erase(uint32_t slot);
  Entry& slotFor(const MessageId& id);  // the entry for id, reset (untracked) if it was live
  static constexpr std::size_t kKeepSlots = 4096;  // slots always kept when the journal empties
  void logError(const std::string& text) const;

  JournalOptions opts_;
  std::deque<Entry> slots_;
  std::vector<uint32_t> free_;
  IdIndex index_;
  std::size_t periodPeak_ = 0;  // most live entries since the journal was last empty
  int64_t liveBytes_ = 0;  // size of the ADD / REF records that compaction would write
  std::map<int64_t, int64_t> refs_;  // segment -> live entries that refer into it
  // The refs_ entry track() used last (end(): none): a disk backlog's pops and FINs run through
  // one segment at a time, so most calls skip the tree walk.
  std::map<int64_t, int64_t>::iterator refsHint_ = refs_.end();
  uint64_t refsVersion_ = 0;
  std::string buf_;        // encoded records not yet written
  int64_t bufRecords_ = 0;
  bool dirty_ = false;     // a write failed: only a full rewrite makes the file right again
  std::shared_ptr<Fd> fd_;
  int64_t fileBytes_ = 0;
  int64_t unsynced_ = 0;   // records written since the last fsync
  std::chrono::steady_clock::time_point lastSync_;
};

}  // namespace nsq::nsqd

#pragma once
// DiskQueue: a segmented, append-only FIFO of opaque records (message payloads, NSQ-COMPAT §1.2)
// that a topic or channel overflows into. File names, the metadata text and the roll/sync rules
// follow go-diskqueue (NSQ-COMPAT §4.3); the record format of the segments we write is a
// versioned, checksummed one (docs/disk-queue-format.md), and segments written by the original
// go-diskqueue are still read, so an old data directory migrates on its own.
//
// Threads: put()/append()/flush() callers serialize among themselves, pop() callers among themselves, and a put
// never blocks a pop (the reader only looks at a published write position). fsync runs with
// neither lock held. depth() and healthy() are plain atomics for the stats threads.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/base/posix_io.h"
#include "nsq/storage/record.h"

namespace nsq {

struct DiskQueueOptions {
  std::string dataPath;  // directory; created if missing
  std::string name;      // e.g. "topic" or "topic:channel"
  int64_t maxBytesPerFile = 104857600;
  int32_t minMsgSize = 26;  // payload size bounds for validating records
  int32_t maxMsgSize = 1048576 + 26;
  int64_t syncEvery = 2500;  // fsync after this many writes+reads; 1 = every put durable on return
  std::chrono::nanoseconds syncTimeout = std::chrono::seconds(2);
  // Where corruption and IO errors are reported (with file and offset). Empty -> stderr.
  std::function<void(const std::string&)> logError;
  // When set (and syncEvery > 1), put() and pop() never fsync themselves: a sync that comes due
  // is reported once through this callback and the owner runs syncIfNeeded() on a thread of its
  // own (nsqd's syncer), so publishers and consumers never wait for the disk.
  std::function<void()> onSyncDue;
  // Time source for syncIfDue(). Empty -> std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Called on the syncing thread after each fsync of dataPath (a sync that follows the creation
  // of a segment). Empty -> nothing. For tests: which call pays for the directory fsync.
  std::function<void()> onDirSync;
  // Called with the error text each time a write or sync fails, and with "" once a write or
  // sync succeeds again after that. Runs under an internal lock: keep it short and never call
  // back into the queue.
  std::function<void(const std::string& error)> onHealth;
  // Segments an owner's journal still refers to (see retainSegments()). Recovery keeps them
  // although the metadata's read position is past them.
  std::vector<int64_t> retainedSegments;
};

// Segment layout constants (docs/disk-queue-format.md).
constexpr uint32_t kDiskQueueMagic = 0xD14E5144;  // "\xD1NQD": negative as an original-format length
constexpr uint16_t kDiskQueueVersion = 1;
constexpr int64_t kDiskQueueFileHeaderSize = kRecordFileHeaderSize;  // magic, version, reserved
constexpr int64_t kDiskQueueRecordHeaderSize = kRecordHeaderSize;    // length, crc32c (record.h)

class DiskQueue {
 public:
  // Opens the queue and recovers its state from the files (see the format doc). Throws
  // std::runtime_error only if dataPath cannot be created or is not a directory.
  explicit DiskQueue(DiskQueueOptions opts);
  ~DiskQueue();
  DiskQueue(const DiskQueue&) = delete;
  DiskQueue& operator=(const DiskQueue&) = delete;

  // Appends one record. Any thread. Returns false and fills *error when the payload size is out of
  // bounds, the queue is closed, or an IO error happened (then healthy() turns false, nothing of
  // the record is visible, and a later put may succeed). When syncEvery is reached the put also
  // syncs before returning; if that sync fails the record is taken back out and put() fails.
  bool put(std::string_view payload, std::string* error = nullptr);

  // put() in steps, for a batch: append() encodes the record into a write buffer (written
  // early, but not made visible, past kMaxPendingBytes or at a segment roll). prepare() writes
  // the rest with one pwrite and runs the sync a put would run (syncEvery reached or a segment
  // finished, when no onSyncDue takes it); publish() then makes the batch visible to pop() and
  // depth(), and abort() takes it back out of the files instead. flush() = prepare() + publish().
  // Nothing appended may be acknowledged before prepare() returns true; a failed prepare()
  // (or append()) has already taken the whole batch back out. One batch at a time: the callers
  // of append() serialize. *written / the result of publish(): records made visible.
  bool append(std::string_view payload, std::string* error = nullptr);
  // append() of the payload head + tail (a message's header and its body), not joined first.
  bool append(std::string_view head, std::string_view tail, std::string* error = nullptr);
  // append() of a record already encoded by appendRecord() (record.h: length, CRC-32C,
  // payload), so that a publisher encodes a message once, before it takes any lock, for every
  // queue it goes to. A record whose length field is not its size is refused.
  bool appendEncoded(std::string_view record, std::string* error = nullptr);
  // appendEncoded() of `count` records lying back to back in `records`, under one lock and, when
  // they fit in the current segment, with one copy. Refused whole (nothing appended) unless the
  // length fields tile `records` exactly into `count` records of allowed sizes.
  bool appendEncodedRun(std::string_view records, std::size_t count, std::string* error = nullptr);
  bool prepare(std::string* error = nullptr);
  int64_t publish();
  void abort();
  bool flush(std::string* error = nullptr, int64_t* written = nullptr);
  static constexpr std::size_t kMaxPendingBytes = 256 * 1024;

  // A batch written outside the owner's locks. prepare(error, &w), called where prepare()
  // would be, reserves the batch's place in the files and hands its unwritten bytes to w
  // instead of writing them (only when syncs are deferred to onSyncDue; otherwise, or with
  // nothing appended, it prepares as usual and w stays inactive). The owner may then release
  // its locks and call, from the same thread: write(w) (the pwrite), awaitTurn(w) (waits until
  // every batch reserved before w is published or rolled back; false if w cannot be published)
  // and complete(w, keep), which publishes w when keep is true and awaitTurn() said so, or else
  // takes it back out of the files, together with every batch reserved after it (their owners'
  // complete() then fails: none of them is acknowledged yet). Batches become visible in the
  // order they were reserved. An owner that reserved batches in several queues under one lock
  // calls write() for each, then awaitTurn() for each, then complete() with keep = all of them
  // were written and their turns came: all are published or none. Meanwhile further batches
  // may be appended and reserved; a batch prepared the usual way waits for the reserved ones
  // to be published before prepare() returns. close(), empty() and deleteAll() wait for them.
  class Write {
   public:
    Write() = default;
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;
    bool active() const { return queue_ != nullptr; }
    DiskQueue* queue() const { return queue_; }  // while active
    int64_t records() const { return records_; }

   private:
    friend class DiskQueue;
    void release() {  // no longer reserved: drops the files, keeps the buffer's capacity
      queue_ = nullptr;
      file_.reset();
      startFile_.reset();
      endFile_.reset();
      rolled_.clear();
      buf_.clear();
    }
    DiskQueue* queue_ = nullptr;  // while reserved
    DiskQueue* takenBackFrom_ = nullptr;  // complete() took it back; awaitCutBack() not yet called
    uint64_t seq_ = 0;
    std::string buf_;  // the bytes still to write, at (file_, pos_)
    std::shared_ptr<UniqueFd> file_;
    int64_t pos_ = 0;
    int64_t startFileNum_ = 0, startPos_ = 0;  // where the batch begins (rollback)
    std::shared_ptr<UniqueFd> startFile_;
    int64_t endFileNum_ = 0, endPos_ = 0;  // where it ends (publication)
    std::shared_ptr<UniqueFd> endFile_;
    int64_t records_ = 0;
    std::vector<std::shared_ptr<UniqueFd>> rolled_;  // segments it finished
  };
  bool prepare(std::string* error, Write* detach);
  bool write(Write& w, std::string* error = nullptr);
  bool awaitTurn(Write& w);
  bool complete(Write& w, bool keep, std::string* error = nullptr);
  // After complete() took w back: waits until the files are cut back past it (every batch
  // reserved after it has left too), so that an error reply sent afterwards can never be
  // followed by a crash recovery that finds w's records. Call it once all of the caller's
  // batches are completed (it waits for other owners to complete theirs). No-op otherwise.
  static void awaitCutBack(Write& w);
  // Whether awaitCutBack(w) would return at once: no cut back is owed for w, or it was made.
  static bool cutBackMade(const Write& w);

  // Where a popped record sits: segment number and offset of its record header, and `pops`,
  // a count of pops since open, so commitReads() knows how many records a position covers.
  struct Position {
    int64_t fileNum = 0;
    int64_t pos = 0;
    int64_t pops = 0;
  };

  // Pops the oldest record into out; false when empty or closed. Any thread. Never waits for a
  // writer's write or fsync; if its own turn to sync comes while another sync runs, it skips it.
  bool pop(std::string& out);

  // pop() without its commit: the read position moves in memory only, and no sync records it
  // until the owner calls commitReads() with a position at or past it, so a crash before that
  // delivers the record again. For an owner that must record the popped record elsewhere (a
  // journal) first. *at: where the record sits, for readRecord(). Any thread.
  bool popNoSync(std::string& out, Position* at = nullptr);

  // The read position after the last pop. Any thread.
  Position readPosition();

  // Lets syncs record the pops up to `upTo` (a readPosition() result); later commits of older
  // positions are ignored. A commit that completes a segment makes its sync owed. Any thread.
  void commitReads(const Position& upTo);

  // Segments that are kept, though fully read, until a later call leaves them out (an owner's
  // journal refers into them by position instead of copying the records). Any thread.
  void retainSegments(std::vector<int64_t> fileNums);

  // The record at (fileNum, pos), as popNoSync() reported it, validated like a pop. False with
  // *error when the segment is gone or holds no valid record there. Any thread.
  bool readRecord(int64_t fileNum, int64_t pos, std::string& out, std::string* error = nullptr) const;
  // The same for the queue `opts` names, without opening it (its owner reads its journal's
  // references before it opens the queue). Any thread.
  static bool readRecord(const DiskQueueOptions& opts, int64_t fileNum, int64_t pos, std::string& out,
                         std::string* error = nullptr);

  // Calls fn with each valid record not yet popped, oldest first, without popping it; stops
  // early when fn returns false (then returns true). Bad records are skipped silently (a pop
  // reports them). Reads the files; blocks pops while it runs. For rare checks at start. Any thread.
  bool scanUnread(const std::function<bool(std::string_view)>& fn);

  // Runs the sync that is owed, if any: syncEvery reached, a segment finished, or syncTimeout
  // passed with unsynced writes or reads.
  void syncIfNeeded();

  // True when syncIfDue() would sync now. Cheap (atomics).
  bool syncDue() const;

  // Records not yet popped. Cheap (one atomic load).
  int64_t depth() const;

  // fsync the write file, then write the metadata (tmp + fsync + rename), then delete fully read
  // segments. Any thread; concurrent callers run one after another.
  void sync();

  // Called periodically (~100ms) by the owner: syncs if syncTimeout has elapsed since the last
  // sync and anything was written or read since.
  void syncIfDue();

  // Drops every record and removes the segment files and the metadata; the queue stays open and
  // file numbers keep growing.
  void empty();

  // Syncs and closes (idempotent). put()/pop() fail afterwards.
  void close();

  // Closes and removes every segment file and the metadata of this queue.
  void deleteAll();

  // False after a failed write or sync until a later one succeeds.
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  // The last IO error text ("" when healthy); for /ping's "NOK - <err>".
  std::string lastError() const;

  // Segment and metadata paths (for tests and tools).
  std::string segmentPath(int64_t fileNum) const;
  std::string metadataPath() const;

 private:
  using File = UniqueFd;  // shared: an fd closed when the last reference goes
  struct Segment;  // read-side view of one segment file
  struct Published {
    int64_t fileNum = 0;
    int64_t pos = 0;
    std::shared_ptr<File> file;  // the write file, or null before its first write
  };

  // The batch a flush is about to publish, for syncImpl() to cover before it is visible.
  struct PendingWrite {
    int64_t fileNum = 0;
    int64_t pos = 0;
    int64_t records = 0;
    std::shared_ptr<File> file;
    std::vector<std::shared_ptr<File>> rolled;
  };

  void recover();
  bool popImpl(std::string& out, bool sync, Position* at);
  // False (and why) when the queue is closed or a payload of size is out of bounds.
  bool canAppend(std::size_t size, std::string* error) const;
  // encoded: head is a whole record (appendEncoded), tail empty.
  bool appendLocked(std::string_view head, std::string_view tail, std::string* error, bool encoded = false);
  bool writeLocked(std::string* error);  // writes writeBuf_; on failure rolls the batch back
  bool detachLocked(Write& w, std::string* error);
  bool doomedLocked(const Write& w) const;
  bool turnOrDoomLocked(const Write& w) const { return doomedLocked(w) || writes_.front() == &w; }
  // A batch (usual, about to be reserved, or open at close) past doomed ones: rolled back, fails
  // with their error.
  bool failBehindPoisonLocked(std::string* error);
  // Cuts the files back to (fileNum, pos) of `file` (rollbacks) and writes from there on.
  void cutBackLocked(int64_t fileNum, int64_t pos, std::shared_ptr<File> file);
  // Makes the write side up to (fileNum, pos) visible, with `records` more records; rolled:
  // the segments finished on the way, owed their fsync.
  void showLocked(int64_t fileNum, int64_t pos, const std::shared_ptr<File>& file,
                  const std::vector<std::shared_ptr<File>>& rolled, int64_t records);
  void poisonLocked(const Write& w, const std::string& error);
  void maybeRollBackLocked();
  bool cutBackMadeLocked(const Write& w) const;  // writeMu_ held
  // Waits until no reserved batch is left (a doomed one is rolled back meanwhile).
  void waitForWritesLocked(std::unique_lock<std::mutex>& lk);
  void rollbackLocked();
  int64_t publishLocked();
  bool afterWrite(int64_t records, bool rolled, std::string* error);
  bool failWrite(const std::string& what, std::string* error);
  void markHealthy();
  bool syncImpl(bool blocking, std::string* error, const PendingWrite* pending = nullptr);
  bool deferSyncs() const { return opts_.onSyncDue && opts_.syncEvery > 1; }
  void requestSync();
  bool writeMetadata(int64_t depth, int64_t rfn, int64_t rpos, int64_t wfn, int64_t wpos,
                     std::string* error);
  void reportBad(const Segment& seg, int64_t fileNum, int64_t from, int64_t to, const char* why);
  void removeAllFiles();
  void fail(const std::string& what);
  void logError(const std::string& text) const;
  std::chrono::steady_clock::time_point now() const;

  DiskQueueOptions opts_;

  // Write side: guarded by writeMu_.
  std::mutex writeMu_;
  int64_t writeFileNum_ = 0;
  int64_t writePos_ = 0;
  std::shared_ptr<File> writeFile_;
  std::string writeBuf_;       // encoded records not yet written (append() .. flush())
  // The batch not yet published: where it started, its records (written or in writeBuf_) and
  // the segments it finished by rolling. Rolled back as a whole on failure.
  bool inBatch_ = false;
  int64_t batchFileNum_ = 0;
  int64_t batchPos_ = 0;
  int64_t batchRecords_ = 0;
  std::shared_ptr<File> batchStartFile_;
  std::vector<std::shared_ptr<File>> batchRolled_;
  bool prepared_ = false;        // prepare() wrote (and synced if owed) the batch
  bool preparedSynced_ = false;  // ... and that sync ran
  // Reserved batches (Write) not yet published or taken back, oldest first. The first one
  // taken back (its write failed, or its owner did not keep it) dooms itself and every later
  // one: each leaves as its owner completes it, and once the last has left (so no write into
  // their place is under way) and no batch is being appended, the files are cut back to where
  // the first began (maybeRollBackLocked).
  std::deque<Write*> writes_;
  uint64_t nextWriteSeq_ = 1;
  struct Poison {
    uint64_t seq = 0;
    int64_t fileNum = 0, pos = 0;  // where the first doomed batch began
    std::shared_ptr<File> file;
    std::string error;
  };
  std::optional<Poison> poison_;
  std::condition_variable writeCv_;

  // What the reader and sync may see of the write side; written under writeMu_ + pubMu_, read
  // under pubMu_. depth_ changes with it, so "caught up" and depth agree.
  mutable std::mutex pubMu_;
  Published pub_;
  std::vector<std::shared_ptr<File>> finishedUnsynced_;  // rolled segments awaiting their fsync

  // Read side: guarded by readMu_.
  std::mutex readMu_;
  int64_t readFileNum_ = 0;
  int64_t readPos_ = 0;
  std::unique_ptr<Segment> readSeg_;
  std::vector<int64_t> finishedFiles_;  // fully read; deleted once the metadata moved past them
  int64_t pops_ = 0;                    // records popped since open
  Position commit_;                     // what a sync may record as the read position
  std::vector<int64_t> retained_;       // retainSegments(), sorted

  std::mutex syncMu_;  // one sync at a time; held across fsync, never taken by put/pop's IO
  std::atomic<int64_t> opsSinceSync_{0};
  std::atomic<bool> needSync_{false};
  std::atomic<bool> syncRequested_{false};  // onSyncDue called, sync not yet run
  std::atomic<bool> dirSyncOwed_{false};    // a segment was created since the last sync
  bool finalSynced_ = false;  // close() has synced for the last time; guarded by syncMu_
  std::atomic<int64_t> lastSyncNs_{0};

  std::atomic<int64_t> depth_{0};
  std::atomic<bool> healthy_{true};
  std::atomic<bool> closed_{false};
  mutable std::mutex errMu_;
  std::string lastError_;
};

}  // namespace nsq

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
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
};

// CRC-32C (Castagnoli), as used by the segment records; crc32c(0, "123456789", 9) == 0xE3069283.
// Pass a previous result as `crc` to continue over more bytes.
uint32_t crc32c(uint32_t crc, const void* data, std::size_t n);

// Segment layout constants (docs/disk-queue-format.md).
constexpr uint32_t kDiskQueueMagic = 0xD14E5144;  // "\xD1NQD": negative as an original-format length
constexpr uint16_t kDiskQueueVersion = 1;
constexpr int64_t kDiskQueueFileHeaderSize = 8;    // magic, version, reserved
constexpr int64_t kDiskQueueRecordHeaderSize = 8;  // length, crc32c

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
  // syncs before returning; a failed sync returns false although the record stays queued.
  bool put(std::string_view payload, std::string* error = nullptr);

  // put() in two steps, for a batch: append() encodes the record into a write buffer (written
  // early only past kMaxPendingBytes) and flush() writes the buffer with one pwrite and makes
  // its records visible to pop() and depth(). Until flush() returns true nothing appended is in
  // the file: call it before acknowledging. A failed flush loses the whole buffered batch.
  bool append(std::string_view payload, std::string* error = nullptr);
  bool flush(std::string* error = nullptr, int64_t* written = nullptr);  // *written: records
  static constexpr std::size_t kMaxPendingBytes = 256 * 1024;

  // Pops the oldest record into out; false when empty or closed. Any thread. Never waits for a
  // writer's write or fsync; if its own turn to sync comes while another sync runs, it skips it.
  bool pop(std::string& out);

  // pop() without its sync: the read position moves in memory only, so a crash before the next
  // sync delivers the record again. For an owner that must record the popped record elsewhere
  // (a journal) before the pop may become durable; it then calls syncIfNeeded(). Any thread.
  bool popNoSync(std::string& out);

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
  struct File;     // an open fd, closed when the last reference goes
  struct Segment;  // read-side view of one segment file
  struct Published {
    int64_t fileNum = 0;
    int64_t pos = 0;
    std::shared_ptr<File> file;  // the write file, or null before its first write
  };

  void recover();
  bool popImpl(std::string& out, bool sync);
  bool appendLocked(std::string_view payload, std::string* error, bool* rolled);
  bool flushLocked(std::string* error);
  bool afterWrite(int64_t records, bool rolled, std::string* error);
  bool failWrite(const std::string& what, std::string* error);
  bool syncImpl(bool blocking, std::string* error);
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
  int64_t pendingRecords_ = 0;  // records in writeBuf_

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

  std::mutex syncMu_;  // one sync at a time; held across fsync, never taken by put/pop's IO
  std::atomic<int64_t> opsSinceSync_{0};
  std::atomic<bool> needSync_{false};
  std::atomic<bool> syncRequested_{false};  // onSyncDue called, sync not yet run
  bool finalSynced_ = false;  // close() has synced for the last time; guarded by syncMu_
  std::atomic<int64_t> lastSyncNs_{0};

  std::atomic<int64_t> depth_{0};
  std::atomic<bool> healthy_{true};
  std::atomic<bool> closed_{false};
  mutable std::mutex errMu_;
  std::string lastError_;
};

}  // namespace nsq

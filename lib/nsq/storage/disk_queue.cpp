// DiskQueue: go-diskqueue's files and rules (NSQ-COMPAT §4.3) with a checksummed record format,
// so recovery can trust the data rather than the metadata. The writer publishes (file, position)
// under a tiny mutex after each record is fully in the kernel; the reader never reads past that
// position, which is why a pop never waits on a put and why the read cache can never hold bytes
// that are later overwritten. Byte layouts and the recovery algorithm: docs/disk-queue-format.md.
#include "nsq/storage/disk_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "nsq/base/number.h"
#include "nsq/base/posix_io.h"
#include "nsq/protocol/message.h"
#include "nsq/storage/record.h"

namespace nsq {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

struct Meta {
  int64_t depth = 0, rfn = 0, rpos = 0, wfn = 0, wpos = 0;
};

// go-diskqueue's "<depth>\n<readFile>,<readPos>\n<writeFile>,<writePos>\n", each number through
// the range-checked parser; false when one is missing, not a number, or negative (a negative
// depth is kept: recovery checks depth before trusting it).
bool parseMeta(std::string_view text, Meta& m) {
  int64_t* fields[] = {&m.depth, &m.rfn, &m.rpos, &m.wfn, &m.wpos};
  const char separators[] = {'\n', ',', '\n', ',', '\n'};
  for (int i = 0; i < 5; ++i) {
    std::size_t end = text.find(separators[i]);
    if (end == std::string_view::npos) {
      if (i < 4) return false;
      end = text.size();
    }
    std::string_view field = text.substr(0, end);
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t' || field.back() == '\r')) field.remove_suffix(1);
    ParsedInt v = parseInt(field, i == 0 ? kInt64Min : 0, kInt64Max);
    if (!v) return false;
    *fields[i] = *v;
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return true;
}

}  // namespace

// Read-side view of one segment with a small window cache. Callers pass `end`, the first byte
// they may look at; bytes below it never change, so the cache stays valid.
struct DiskQueue::Segment {
  enum class Format { Unknown, Original, V1, Unsupported };

  ~Segment() {
    if (fd >= 0) ::close(fd);
  }

  bool open(const std::string& p) {
    path = p;
    fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    return fd >= 0;
  }

  // Pointer to bytes [pos, pos+n), or nullptr if they are not all below `end` / in the file.
  const char* at(int64_t pos, int64_t n, int64_t end) {
    if (pos < 0 || n < 0 || pos + n > end) return nullptr;
    if (pos >= bufStart && pos + n <= bufStart + static_cast<int64_t>(buf.size()))
      return buf.data() + (pos - bufStart);
    int64_t want = std::min<int64_t>(std::max<int64_t>(n, kReadChunk), end - pos);
    buf.resize(static_cast<std::size_t>(want));
    int64_t got = 0;
    while (got < want) {
      ssize_t r = ::pread(fd, buf.data() + got, static_cast<std::size_t>(want - got),
                          static_cast<off_t>(pos + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += r;
    }
    buf.resize(static_cast<std::size_t>(got));
    bufStart = pos;
    return got >= n ? buf.data() : nullptr;
  }

  // Looks at the file header once at least 4 bytes are below end.
  void detect(int64_t end) {
    if (format != Format::Unknown) return;
    const char* h = at(0, 4, end);
    if (!h) return;
    if (getUint32(h) != kDiskQueueMagic) {
      format = Format::Original;
      dataStart = 0;
      return;
    }
    const char* v = at(0, kDiskQueueFileHeaderSize, end);
    if (!v) return;
    format = getUint16(v + 4) == kDiskQueueVersion ? Format::V1 : Format::Unsupported;
    dataStart = kDiskQueueFileHeaderSize;
  }

  // Length of the record at pos if it is whole and valid (range, bounds, checksum), else -1.
  int64_t recordAt(int64_t pos, int64_t end, int32_t minSize, int32_t maxSize) {
    if (format == Format::Original) {
      const char* p = at(pos, 4, end);
      if (!p) return -1;
      auto len = static_cast<int32_t>(getUint32(p));
      if (len < minSize || len > maxSize || !at(pos, 4 + int64_t(len), end)) return -1;
      return len;
    }
    const char* p = at(pos, kDiskQueueRecordHeaderSize, end);
    if (!p) return -1;
    auto len = static_cast<int32_t>(recordBodyLength(p));
    if (len < minSize || len > maxSize) return -1;
    p = at(pos, kDiskQueueRecordHeaderSize + int64_t(len), end);
    if (!p) return -1;
    return recordChecksumMatches(p, static_cast<std::size_t>(len)) ? len : -1;
  }

  int64_t headerSize() const {
    return format == Format::Original ? 4 : kDiskQueueRecordHeaderSize;
  }

  // Valid records in [from, end), resynchronising past bad bytes in a V1 segment as the reader
  // does (an original segment stops at its first bad record). *goodEnd: end of the last one.
  int64_t countRecords(int64_t from, int64_t end, int32_t minSize, int32_t maxSize, int64_t* goodEnd) {
    int64_t p = std::max(from, dataStart), count = 0;
    *goodEnd = p;
    while (p < end) {
      int64_t len = recordAt(p, end, minSize, maxSize);
      if (len >= 0) {
        ++count;
        p += headerSize() + len;
        *goodEnd = p;
        continue;
      }
      if (format == Format::Original) break;
      p = resync(p + 1, end, minSize, maxSize);
    }
    return count;
  }

  // First position in [from, end) holding a valid V1 record, or end.
  int64_t resync(int64_t from, int64_t end, int32_t minSize, int32_t maxSize) {
    for (int64_t p = from; p + kDiskQueueRecordHeaderSize <= end; ++p)
      if (recordAt(p, end, minSize, maxSize) >= 0) return p;
    return end;
  }

  std::string path;
  int fd = -1;
  Format format = Format::Unknown;
  int64_t dataStart = 0;
  int64_t knownSize = -1;  // size of a finished (no longer written) segment
  std::string buf;
  int64_t bufStart = 0;
};

DiskQueue::DiskQueue(DiskQueueOptions opts) : opts_(std::move(opts)) {
  if (opts_.syncEvery < 1) opts_.syncEvery = 1;
  retained_ = opts_.retainedSegments;
  std::sort(retained_.begin(), retained_.end());
  recover();
  lastSyncNs_ = now().time_since_epoch().count();
}

DiskQueue::~DiskQueue() { close(); }

std::string DiskQueue::segmentPath(int64_t fileNum) const {
  char num[32];
  std::snprintf(num, sizeof num, "%06" PRId64, fileNum);
  return opts_.dataPath + "/" + opts_.name + ".diskqueue." + num + ".dat";
}

std::string DiskQueue::metadataPath() const {
  return opts_.dataPath + "/" + opts_.name + ".diskqueue.meta.dat";
}

std::chrono::steady_clock::time_point DiskQueue::now() const {
  return opts_.clock ? opts_.clock() : std::chrono::steady_clock::now();
}

void DiskQueue::logError(const std::string& text) const {
  std::string line = "diskqueue(" + opts_.name + "): " + text;
  if (opts_.logError)
    opts_.logError(line);
  else
    std::fprintf(stderr, "%s\n", line.c_str());
}

void DiskQueue::fail(const std::string& what) {
  {
    // Under errMu_, so the owner sees failures and recoveries in the order they happened.
    std::lock_guard<std::mutex> lk(errMu_);
    lastError_ = what;
    healthy_.store(false, std::memory_order_relaxed);
    if (opts_.onHealth) opts_.onHealth(what);
  }
  logError(what);
}

void DiskQueue::markHealthy() {
  if (healthy_.load(std::memory_order_relaxed)) return;
  std::lock_guard<std::mutex> lk(errMu_);
  if (healthy_.exchange(true)) return;
  lastError_.clear();
  if (opts_.onHealth) opts_.onHealth("");
}

std::string DiskQueue::lastError() const {
  std::lock_guard<std::mutex> lk(errMu_);
  return healthy_.load() ? std::string() : lastError_;
}

int64_t DiskQueue::depth() const { return std::max<int64_t>(0, depth_.load(std::memory_order_relaxed)); }

// ---- recovery ----

void DiskQueue::recover() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opts_.dataPath, ec);
  if (!fs::is_directory(opts_.dataPath, ec) || ::access(opts_.dataPath.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error("disk queue: data path " + opts_.dataPath + " is not a usable directory");

  const std::string prefix = opts_.name + ".diskqueue.";
  const std::string metaName = opts_.name + ".diskqueue.meta.dat";
  std::map<int64_t, std::string> segs;
  for (const auto& entry : fs::directory_iterator(opts_.dataPath, ec)) {
    std::string fname = entry.path().filename().string();
    if (fname.rfind(prefix, 0) != 0) continue;
    std::string rest = fname.substr(prefix.size());
    if (rest.size() > 4 && rest.size() <= 4 + 18 && rest.compare(rest.size() - 4, 4, ".dat") == 0) {
      std::string digits = rest.substr(0, rest.size() - 4);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        segs[std::stoll(digits)] = entry.path().string();
    } else if (fname.rfind(metaName + ".", 0) == 0 && fname.size() > 4 &&
               fname.compare(fname.size() - 4, 4, ".tmp") == 0) {
      fs::remove(entry.path(), ec);  // a metadata write that never got renamed
    }
  }

  Meta m;
  bool haveMeta = false;
  if (FILE* f = std::fopen(metadataPath().c_str(), "r")) {
    char text[512];
    std::size_t n = std::fread(text, 1, sizeof text, f);
    std::fclose(f);
    haveMeta = parseMeta(std::string_view(text, n), m);
    if (!haveMeta) logError("unparsable metadata " + metadataPath() + "; recovering from the segments");
  }

  int64_t rfn = 0, rpos = 0;
  if (haveMeta) {
    rfn = m.rfn;
    rpos = m.rpos;
    // Segments below the read file were fully read; the metadata moved past them before deletion.
    // Those the owner's journal still refers to stay until it releases them.
    for (auto it = segs.begin(); it != segs.end() && it->first < rfn;) {
      if (std::binary_search(retained_.begin(), retained_.end(), it->first)) {
        finishedFiles_.push_back(it->first);
      } else {
        logError("removing already-read segment " + it->second);
        fs::remove(it->second, ec);
      }
      it = segs.erase(it);
    }
  } else if (!segs.empty()) {
    rfn = segs.begin()->first;
  }
  if (!segs.count(rfn)) {
    rpos = 0;
    auto it = segs.upper_bound(rfn);
    if (it != segs.end()) {
      if (haveMeta) logError("read segment " + segmentPath(rfn) + " is missing; continuing at " + it->second);
      rfn = it->first;
    }
  }

  // A read position past the end of its segment (damaged metadata) would skip the whole
  // segment without a word: say what is skipped.
  if (haveMeta && segs.count(rfn) && rpos > 0) {
    Segment seg;
    if (seg.open(segs[rfn])) {
      const int64_t size = fileSize(seg.fd);
      if (rpos > size) {
        seg.detect(size);
        int64_t goodEnd = 0;
        const int64_t n = seg.format == Segment::Format::V1 || seg.format == Segment::Format::Original
                              ? seg.countRecords(seg.dataStart, size, opts_.minMsgSize, opts_.maxMsgSize, &goodEnd)
                              : -1;
        logError("metadata read position " + std::to_string(rpos) + " is past the end of " + segs[rfn] +
                 " (" + std::to_string(size) + " bytes); skipping " +
                 (n >= 0 ? std::to_string(n) + " records" : "its contents") + " (" +
                 std::to_string(std::max<int64_t>(0, size - seg.dataStart)) + " bytes) in it");
      }
    }
  }

  // Where to start counting records. The metadata's depth covers [read, write) when it is
  // consistent; everything after its write position is found by scanning, since metadata may lag.
  int64_t sfn = rfn, spos = rpos, depth = 0;
  if (haveMeta && m.rfn == rfn && m.rpos == rpos && m.depth >= 0 &&
      (m.wfn > rfn || (m.wfn == rfn && m.wpos >= rpos))) {
    int64_t size = segs.count(m.wfn) ? pathSize(segs[m.wfn]) : 0;
    if (size >= m.wpos) {
      sfn = m.wfn;
      spos = m.wpos;
      depth = m.depth;
    } else {
      logError("metadata write position " + std::to_string(m.wpos) + " is past the end of " +
               segmentPath(m.wfn) + "; recounting from the read position");
    }
  }

  // The last segment found becomes the write file, unless it is not ours to append to (original
  // format, unsupported version, unreadable header): then writing starts in the next number.
  int64_t wfn = std::max(sfn, haveMeta ? std::max(m.wfn, rfn) : rfn);
  int64_t wpos = 0;
  bool rollOnOpen = false;
  for (auto it = segs.lower_bound(sfn); it != segs.end(); ++it) {
    const bool last = std::next(it) == segs.end();
    wfn = it->first;
    wpos = 0;
    rollOnOpen = true;
    Segment seg;
    if (!seg.open(it->second)) {
      logError(errnoText("open", it->second, errno));
      continue;
    }
    const int64_t size = fileSize(seg.fd);
    seg.detect(size);
    if (seg.format == Segment::Format::Unknown) {
      // Fewer than 4 bytes, or a torn V1 header: nothing readable.
      rollOnOpen = size > 0;
      if (size > 0 && last) {
        logError("torn segment header in " + it->second + " (" + std::to_string(size) + " bytes); truncated");
        rollOnOpen = ::truncate(it->second.c_str(), 0) != 0;
      }
      continue;
    }
    if (seg.format == Segment::Format::Unsupported) continue;  // the reader reports and skips it
    int64_t goodEnd = 0;
    depth += seg.countRecords(std::min(it->first == sfn ? spos : 0, size), size, opts_.minMsgSize,
                              opts_.maxMsgSize, &goodEnd);
    if (seg.format == Segment::Format::Original) continue;  // new records go to a new-format segment
    rollOnOpen = false;
    wpos = goodEnd;
    if (last && goodEnd < size) {
      logError("torn final record in " + it->second + " at offset " + std::to_string(goodEnd) + " (" +
               std::to_string(size - goodEnd) + " bytes); truncated");
      if (::truncate(it->second.c_str(), goodEnd) != 0) {
        logError(errnoText("truncate", it->second, errno));
        rollOnOpen = true;
      }
    }
  }
  if (rollOnOpen) {
    ++wfn;
    wpos = 0;
  }
  if (rfn > wfn) rfn = wfn, rpos = 0;
  if (rfn == wfn && rpos > wpos) rpos = wpos;

  readFileNum_ = rfn;
  readPos_ = rpos;
  commit_ = {rfn, rpos, 0};
  writeFileNum_ = wfn;
  writePos_ = wpos;
  pub_.fileNum = wfn;
  pub_.pos = wpos;
  depth_ = depth;
}

// ---- write side ----

bool DiskQueue::put(std::string_view payload, std::string* error) {
  return append(payload, error) && flush(error);
}

bool DiskQueue::append(std::string_view payload, std::string* error) { return append(payload, {}, error); }

bool DiskQueue::canAppend(std::size_t size, std::string* error) const {
  if (closed_.load()) {
    if (error) *error = "exiting";
    return false;
  }
  if (size < static_cast<std::size_t>(opts_.minMsgSize) || size > static_cast<std::size_t>(opts_.maxMsgSize)) {
    if (error)
      *error = "invalid message size " + std::to_string(size) + " (" +
               std::to_string(opts_.minMsgSize) + ".." + std::to_string(opts_.maxMsgSize) + ")";
    return false;
  }
  return true;
}

bool DiskQueue::append(std::string_view head, std::string_view tail, std::string* error) {
  if (!canAppend(head.size() + tail.size(), error)) return false;
  std::lock_guard<std::mutex> lk(writeMu_);
  return appendLocked(head, tail, error);
}

bool DiskQueue::appendEncoded(std::string_view record, std::string* error) {
  const auto header = static_cast<std::size_t>(kDiskQueueRecordHeaderSize);
  if (record.size() < header || getUint32(record.data()) != record.size() - header) {
    if (error) *error = "malformed record of " + std::to_string(record.size()) + " bytes";
    return false;
  }
  if (!canAppend(record.size() - header, error)) return false;
  std::lock_guard<std::mutex> lk(writeMu_);
  return appendLocked(record, {}, error, true);
}

bool DiskQueue::appendEncodedRun(std::string_view records, std::size_t count, std::string* error) {
  const auto header = static_cast<std::size_t>(kDiskQueueRecordHeaderSize);
  std::size_t at = 0, seen = 0;
  while (at < records.size() && records.size() - at >= header) {
    const std::size_t body = recordBodyLength(records.data() + at);
    if (body > records.size() - at - header) break;
    if (!canAppend(body, error)) return false;  // closed, or a size out of bounds
    at += header + body;
    ++seen;
  }
  if (at != records.size() || seen != count) {
    if (error)
      *error = "malformed run of " + std::to_string(count) + " records in " + std::to_string(records.size()) + " bytes";
    return false;
  }
  if (count == 0) return true;
  std::lock_guard<std::mutex> lk(writeMu_);
  if (static_cast<int64_t>(records.size()) > opts_.maxBytesPerFile) {  // spans segments: record by record
    for (std::size_t i = 0; i < records.size();) {
      const std::size_t size = header + recordBodyLength(records.data() + i);
      if (!appendLocked(records.substr(i, size), {}, error, true)) return false;
      i += size;
    }
    return true;
  }
  // As one record for the roll: the whole run goes to the next segment if it does not fit.
  if (!appendLocked(records, {}, error, true)) return false;
  batchRecords_ += static_cast<int64_t>(count) - 1;
  return true;
}

bool DiskQueue::flush(std::string* error, int64_t* written) {
  if (written) *written = 0;
  if (!prepare(error)) return false;
  int64_t n = publish();
  if (written) *written = n;
  return true;
}

bool DiskQueue::prepare(std::string* error) { return prepare(error, nullptr); }

bool DiskQueue::prepare(std::string* error, Write* detach) {
  std::unique_lock<std::mutex> lk(writeMu_);
  if (!inBatch_ || prepared_) return true;
  if (detach && deferSyncs()) return detachLocked(*detach, error);
  if (!writeLocked(error)) return false;
  // Publishing this batch would show the reserved ones before them, maybe unwritten.
  if (!writes_.empty()) writeCv_.wait(lk, [&] { return writes_.empty() || poison_.has_value(); });
  // It lies past the doomed ones (it was opened after they were reserved), whose files are cut
  // back once it ends: published, it would show their records and then be cut off with them.
  if (poison_) return failBehindPoisonLocked(error);
  prepared_ = true;
  preparedSynced_ = false;
  const bool rolled = !batchRolled_.empty();
  if (deferSyncs() || (!rolled && opsSinceSync_.load() + batchRecords_ < opts_.syncEvery)) return true;
  // The sync a put owes runs before the batch is visible, so if it fails the batch can still be
  // taken back: an error reply then means the records are not stored.
  PendingWrite w{writeFileNum_, writePos_, batchRecords_, writeFile_, batchRolled_};
  if (!syncImpl(true, error, &w)) {
    rollbackLocked();
    return false;
  }
  preparedSynced_ = true;
  return true;
}

int64_t DiskQueue::publish() {
  if (!prepare(nullptr)) return 0;  // already prepared: nothing to do; else a failure rolled back
  int64_t records = 0;
  bool rolled = false, synced = false;
  {
    std::lock_guard<std::mutex> lk(writeMu_);
    if (!inBatch_) return 0;
    synced = preparedSynced_;
    rolled = !batchRolled_.empty();
    records = publishLocked();
  }
  if (!synced) afterWrite(records, rolled, nullptr);
  return records;
}

void DiskQueue::abort() {
  std::lock_guard<std::mutex> lk(writeMu_);
  rollbackLocked();
  maybeRollBackLocked();  // doomed reserved batches may have waited for this one to end
}

bool DiskQueue::detachLocked(Write& w, std::string* error) {
  if (poison_) return failBehindPoisonLocked(error);  // its place would lie past doomed batches
  w.queue_ = this;
  w.takenBackFrom_ = nullptr;
  w.seq_ = nextWriteSeq_++;
  w.buf_.clear();
  w.buf_.swap(writeBuf_);  // both keep their capacity
  w.file_ = writeFile_;
  w.pos_ = writePos_;
  w.startFileNum_ = batchFileNum_;
  w.startPos_ = batchPos_;
  w.startFile_ = std::move(batchStartFile_);
  writePos_ += static_cast<int64_t>(w.buf_.size());
  w.endFileNum_ = writeFileNum_;
  w.endPos_ = writePos_;
  w.endFile_ = writeFile_;
  w.records_ = batchRecords_;
  w.rolled_.swap(batchRolled_);
  batchRolled_.clear();
  writes_.push_back(&w);
  batchStartFile_.reset();
  batchRecords_ = 0;
  inBatch_ = prepared_ = preparedSynced_ = false;
  return true;
}

bool DiskQueue::failBehindPoisonLocked(std::string* error) {
  if (error) *error = poison_->error;
  rollbackLocked();
  maybeRollBackLocked();
  return false;
}

bool DiskQueue::doomedLocked(const Write& w) const {
  return w.queue_ == nullptr || (poison_ && poison_->seq <= w.seq_);
}

void DiskQueue::poisonLocked(const Write& w, const std::string& error) {
  if (poison_ && poison_->seq <= w.seq_) return;
  poison_ = Poison{w.seq_, w.startFileNum_, w.startPos_, w.startFile_, error};
}

bool DiskQueue::write(Write& w, std::string* error) {
  int err = 0;
  const bool ok = w.buf_.empty() || pwriteAll(w.file_->get(), w.buf_.data(), w.buf_.size(), w.pos_, &err);
  std::lock_guard<std::mutex> lk(writeMu_);
  if (!ok) {
    std::string what = errnoText("write", segmentPath(w.endFileNum_), err);
    poisonLocked(w, what);  // dooms w itself too
    failWrite(what, error);
  }
  writeCv_.notify_all();
  return ok;
}

bool DiskQueue::awaitTurn(Write& w) {
  std::unique_lock<std::mutex> lk(writeMu_);
  // Every batch before w belongs to an owner that reserved it earlier and waits for nothing
  // later than itself, so the front always moves on.
  writeCv_.wait(lk, [&] { return turnOrDoomLocked(w); });
  return !doomedLocked(w);
}

bool DiskQueue::complete(Write& w, bool keep, std::string* error) {
  std::unique_lock<std::mutex> lk(writeMu_);
  if (!w.queue_) return false;
  if (keep && !doomedLocked(w)) {
    writeCv_.wait(lk, [&] { return turnOrDoomLocked(w); });
    if (!doomedLocked(w)) {
      const int64_t records = w.records_;
      const bool rolled = !w.rolled_.empty();
      showLocked(w.endFileNum_, w.endPos_, w.endFile_, w.rolled_, records);
      writes_.pop_front();
      w.release();
      markHealthy();
      writeCv_.notify_all();
      lk.unlock();
      afterWrite(records, rolled, nullptr);
      return true;
    }
  }
  // Taken back: w and everything reserved after it (see maybeRollBackLocked()).
  poisonLocked(w, "a batch written to " + opts_.name + " before it was taken back");
  if (error) *error = poison_->error;
  writes_.erase(std::find(writes_.begin(), writes_.end(), &w));
  w.release();
  w.takenBackFrom_ = this;
  maybeRollBackLocked();
  return false;
}

void DiskQueue::awaitCutBack(Write& w) {
  DiskQueue* q = std::exchange(w.takenBackFrom_, nullptr);
  if (!q) return;
  std::unique_lock<std::mutex> lk(q->writeMu_);
  q->writeCv_.wait(lk, [&] { return q->cutBackMadeLocked(w); });
}

bool DiskQueue::cutBackMade(const Write& w) {
  DiskQueue* q = w.takenBackFrom_;
  if (!q) return true;
  std::lock_guard<std::mutex> lk(q->writeMu_);
  return q->cutBackMadeLocked(w);
}

bool DiskQueue::cutBackMadeLocked(const Write& w) const { return !poison_ || poison_->seq > w.seq_; }

void DiskQueue::maybeRollBackLocked() {
  writeCv_.notify_all();
  if (!poison_ || inBatch_) return;
  for (const Write* x : writes_)
    if (x->seq_ >= poison_->seq) return;  // its owner has not completed it: it may be writing
  // Nothing of the doomed batches was published, none is being written, no batch is being
  // appended after them: cut the files back to where the first began, as rollbackLocked() does.
  Poison p = std::move(*poison_);
  poison_.reset();
  cutBackLocked(p.fileNum, p.pos, std::move(p.file));
  writeCv_.notify_all();  // awaitCutBack()
}

void DiskQueue::waitForWritesLocked(std::unique_lock<std::mutex>& lk) {
  for (;;) {
    // The caller's own batch lies past the doomed ones: it goes too.
    if (poison_ && inBatch_) (void)failBehindPoisonLocked(nullptr);
    if (writes_.empty()) break;
    writeCv_.wait(lk);
  }
  maybeRollBackLocked();
}

bool DiskQueue::afterWrite(int64_t records, bool rolled, std::string* error) {
  int64_t ops = opsSinceSync_.fetch_add(records) + records;
  if (!rolled && ops < opts_.syncEvery) return true;
  if (!deferSyncs()) return syncImpl(true, error);
  requestSync();
  return true;
}

void DiskQueue::requestSync() {
  needSync_.store(true);
  if (!syncRequested_.exchange(true)) opts_.onSyncDue();
}

bool DiskQueue::failWrite(const std::string& what, std::string* error) {
  fail(what);
  needSync_.store(true);  // the next due sync retries the disk, and clears health if it works
  if (error) *error = what;
  return false;
}

bool DiskQueue::appendLocked(std::string_view head, std::string_view tail, std::string* error, bool encoded) {
  if (closed_.load()) {
    if (error) *error = "exiting";
    return false;
  }
  if (!inBatch_) {
    inBatch_ = true;
    batchFileNum_ = writeFileNum_;
    batchPos_ = writePos_;
    batchStartFile_ = writeFile_;
    batchRecords_ = 0;
  }
  prepared_ = false;
  const int64_t recSize = (encoded ? 0 : kDiskQueueRecordHeaderSize) + static_cast<int64_t>(head.size() + tail.size());
  const int64_t end = writePos_ + static_cast<int64_t>(writeBuf_.size());
  if (end > 0 && end + recSize > opts_.maxBytesPerFile) {
    if (!writeLocked(error)) return false;
    if (writeFile_) {
      // Its fsync is owed before the metadata may move past it: prepare() or the next sync
      // runs it (batchRolled_, then finishedUnsynced_).
      batchRolled_.push_back(writeFile_);
    }
    writeFile_.reset();
    ++writeFileNum_;
    writePos_ = 0;
  }
  if (!writeFile_) {
    const std::string path = segmentPath(writeFileNum_);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::string what = errnoText("open", path, errno);
      rollbackLocked();
      return failWrite(what, error);
    }
    writeFile_ = std::make_shared<File>(fd);
    // The new name must survive a power cut too: the next sync fsyncs the directory before it
    // records anything in this segment. Not here: under the owner's lock, a directory fsync
    // stalled every publisher of the topic (~15 ms per segment roll at 1 KB messages).
    if (writePos_ == 0) dirSyncOwed_.store(true);
  }
  if (writePos_ == 0 && writeBuf_.empty()) appendFileHeader(writeBuf_, kDiskQueueMagic, kDiskQueueVersion);
  if (encoded)
    writeBuf_.append(head);
  else
    appendRecord(writeBuf_, head, tail);
  ++batchRecords_;
  if (writeBuf_.size() >= kMaxPendingBytes) return writeLocked(error);
  return true;
}

bool DiskQueue::writeLocked(std::string* error) {
  if (writeBuf_.empty()) return true;
  int err = 0;
  if (!pwriteAll(writeFile_->get(), writeBuf_.data(), writeBuf_.size(), writePos_, &err)) {
    std::string what = errnoText("write", segmentPath(writeFileNum_), err);
    rollbackLocked();
    return failWrite(what, error);
  }
  writePos_ += static_cast<int64_t>(writeBuf_.size());
  writeBuf_.clear();
  if (writeBuf_.capacity() > 4 * kMaxPendingBytes) writeBuf_.shrink_to_fit();
  markHealthy();
  return true;
}

void DiskQueue::rollbackLocked() {
  writeBuf_.clear();
  if (!inBatch_) return;
  // Nothing of the batch was published, so no reader has looked past (batchFileNum_, batchPos_):
  // segments the batch rolled into hold only its records, the one it started in is cut back.
  batchRolled_.clear();
  cutBackLocked(batchFileNum_, batchPos_, std::move(batchStartFile_));
  batchRecords_ = 0;
  inBatch_ = prepared_ = preparedSynced_ = false;
}

void DiskQueue::cutBackLocked(int64_t fileNum, int64_t pos, std::shared_ptr<File> file) {
  // Nothing past (fileNum, pos) was published, so no reader has looked there: segments after
  // it hold only records taken back, the one it lies in is cut back.
  writeFile_.reset();
  for (int64_t f = writeFileNum_; f > fileNum; --f) ::unlink(segmentPath(f).c_str());
  const std::string first = segmentPath(fileNum);
  if (pos == 0) {
    ::unlink(first.c_str());
  } else if ((file ? ::ftruncate(file->get(), static_cast<off_t>(pos)) : ::truncate(first.c_str(), static_cast<off_t>(pos))) !=
             0) {
    logError(errnoText("truncate", first, errno));
  }
  writeFileNum_ = fileNum;
  writePos_ = pos;
  writeFile_ = pos > 0 ? std::move(file) : nullptr;  // null: reopened by the next append
}

void DiskQueue::showLocked(int64_t fileNum, int64_t pos, const std::shared_ptr<File>& file,
                           const std::vector<std::shared_ptr<File>>& rolled, int64_t records) {
  std::lock_guard<std::mutex> pk(pubMu_);
  finishedUnsynced_.insert(finishedUnsynced_.end(), rolled.begin(), rolled.end());
  pub_.fileNum = fileNum;
  pub_.pos = pos;
  pub_.file = file;
  depth_.fetch_add(records, std::memory_order_relaxed);
}

int64_t DiskQueue::publishLocked() {
  const int64_t records = batchRecords_;
  showLocked(writeFileNum_, writePos_, writeFile_, batchRolled_, records);
  batchRolled_.clear();
  batchStartFile_.reset();
  batchRecords_ = 0;
  inBatch_ = prepared_ = preparedSynced_ = false;
  return records;
}

// ---- read side ----

bool DiskQueue::pop(std::string& out) { return popImpl(out, true, nullptr); }

bool DiskQueue::popNoSync(std::string& out, Position* at) { return popImpl(out, false, at); }

DiskQueue::Position DiskQueue::readPosition() {
  std::lock_guard<std::mutex> lk(readMu_);
  return {readFileNum_, readPos_, pops_};
}

void DiskQueue::commitReads(const Position& upTo) {
  std::lock_guard<std::mutex> lk(readMu_);
  if (upTo.pops < commit_.pops || upTo.fileNum < commit_.fileNum ||
      (upTo.fileNum == commit_.fileNum && upTo.pos <= commit_.pos))
    return;
  commit_ = upTo;
  for (int64_t f : finishedFiles_)
    if (f < commit_.fileNum) needSync_.store(true);  // it can be deleted now
}

void DiskQueue::retainSegments(std::vector<int64_t> fileNums) {
  std::sort(fileNums.begin(), fileNums.end());
  fileNums.erase(std::unique(fileNums.begin(), fileNums.end()), fileNums.end());
  std::lock_guard<std::mutex> lk(readMu_);
  for (int64_t f : retained_)
    if (!std::binary_search(fileNums.begin(), fileNums.end(), f) &&
        std::find(finishedFiles_.begin(), finishedFiles_.end(), f) != finishedFiles_.end())
      needSync_.store(true);  // released a finished segment: the next sync deletes it
  retained_ = std::move(fileNums);
}

bool DiskQueue::readRecord(int64_t fileNum, int64_t pos, std::string& out, std::string* error) const {
  return readRecord(opts_, fileNum, pos, out, error);
}

bool DiskQueue::readRecord(const DiskQueueOptions& opts, int64_t fileNum, int64_t pos, std::string& out,
                           std::string* error) {
  Segment seg;
  char num[32];
  std::snprintf(num, sizeof num, "%06" PRId64, fileNum);
  const std::string path = opts.dataPath + "/" + opts.name + ".diskqueue." + num + ".dat";
  if (!seg.open(path)) {
    if (error) *error = errnoText("open", path, errno);
    return false;
  }
  const int64_t size = fileSize(seg.fd);
  seg.detect(size);
  int64_t len = -1;
  if ((seg.format == Segment::Format::V1 || seg.format == Segment::Format::Original) && pos >= seg.dataStart)
    len = seg.recordAt(pos, size, opts.minMsgSize, opts.maxMsgSize);
  const char* p = len >= 0 ? seg.at(pos + seg.headerSize(), len, size) : nullptr;
  if (!p) {
    if (error) *error = "no valid record at offset " + std::to_string(pos) + " of " + path;
    return false;
  }
  out.assign(p, static_cast<std::size_t>(len));
  return true;
}

bool DiskQueue::scanUnread(const std::function<bool(std::string_view)>& fn) {
  if (closed_.load()) return false;
  std::lock_guard<std::mutex> lk(readMu_);
  int64_t wfn, wpos;
  {
    std::lock_guard<std::mutex> pk(pubMu_);
    wfn = pub_.fileNum;
    wpos = pub_.pos;
  }
  for (int64_t fileNum = readFileNum_, pos = readPos_; fileNum <= wfn; ++fileNum, pos = 0) {
    Segment seg;
    if (!seg.open(segmentPath(fileNum))) continue;
    const int64_t end = fileNum == wfn ? wpos : fileSize(seg.fd);
    seg.detect(end);
    if (seg.format != Segment::Format::V1 && seg.format != Segment::Format::Original) continue;
    pos = std::max(pos, seg.dataStart);
    while (pos < end) {
      int64_t len = seg.recordAt(pos, end, opts_.minMsgSize, opts_.maxMsgSize);
      if (len < 0) {
        if (seg.format == Segment::Format::Original) break;
        pos = seg.resync(pos + 1, end, opts_.minMsgSize, opts_.maxMsgSize);
        continue;
      }
      const char* p = seg.at(pos + seg.headerSize(), len, end);
      if (!fn(std::string_view(p, static_cast<std::size_t>(len)))) return true;
      pos += seg.headerSize() + len;
    }
  }
  return true;
}

void DiskQueue::syncIfNeeded() {
  if (closed_.load()) return;
  if (needSync_.load() || opsSinceSync_.load() >= opts_.syncEvery || syncDue())
    syncImpl(false, nullptr);
  else
    syncRequested_.store(false);  // owed nothing (emptied meanwhile): later ops may ask again
}

bool DiskQueue::syncDue() const {
  if (closed_.load()) return false;
  if (opsSinceSync_.load() == 0 && !needSync_.load()) return false;
  auto elapsed = std::chrono::nanoseconds(now().time_since_epoch().count() - lastSyncNs_.load());
  return elapsed >= opts_.syncTimeout;
}

bool DiskQueue::popImpl(std::string& out, bool sync, Position* at) {
  if (closed_.load()) return false;
  bool got = false;
  {
    std::lock_guard<std::mutex> lk(readMu_);
    if (closed_.load()) return false;
    for (;;) {
      int64_t wfn, wpos;
      {
        std::lock_guard<std::mutex> pk(pubMu_);
        wfn = pub_.fileNum;
        wpos = pub_.pos;
        if (readFileNum_ > wfn || (readFileNum_ == wfn && readPos_ >= wpos)) {
          // Caught up: whatever depth says, nothing is left (records lost to corruption or a
          // stale metadata depth are forgotten here). Puts change depth_ under pubMu_ too.
          if (depth_.load() != 0) depth_.store(0);
          break;
        }
      }
      const bool isWriteFile = readFileNum_ == wfn;
      if (!readSeg_) {
        auto seg = std::make_unique<Segment>();
        if (!seg->open(segmentPath(readFileNum_))) {
          if (isWriteFile) break;  // cannot happen unless someone removed it; try again later
          logError(errnoText("open", segmentPath(readFileNum_), errno) + "; skipping to the next segment");
          finishedFiles_.push_back(readFileNum_);
          ++readFileNum_;
          readPos_ = 0;
          needSync_ = true;
          continue;
        }
        readSeg_ = std::move(seg);
      }
      Segment& seg = *readSeg_;
      int64_t end = wpos;
      if (!isWriteFile) {
        if (seg.knownSize < 0 || readPos_ >= seg.knownSize) seg.knownSize = fileSize(seg.fd);
        end = seg.knownSize;
      }
      seg.detect(end);
      if (seg.format == Segment::Format::Unsupported) {
        reportBad(seg, readFileNum_, 0, end, "unsupported segment version");
        readPos_ = end;
      } else if (seg.format != Segment::Format::Unknown) {
        readPos_ = std::max(readPos_, seg.dataStart);
      }
      if (readPos_ >= end) {
        if (isWriteFile) break;
        if (seg.format == Segment::Format::Unknown && end > 0)
          reportBad(seg, readFileNum_, 0, end, "truncated segment header");
        readSeg_.reset();
        finishedFiles_.push_back(readFileNum_);
        ++readFileNum_;
        readPos_ = 0;
        needSync_ = true;
        continue;
      }
      int64_t len = seg.recordAt(readPos_, end, opts_.minMsgSize, opts_.maxMsgSize);
      if (len >= 0) {
        const char* p = seg.at(readPos_ + seg.headerSize(), len, end);
        out.assign(p, static_cast<std::size_t>(len));
        ++pops_;
        if (at) *at = {readFileNum_, readPos_, pops_};
        readPos_ += seg.headerSize() + len;
        depth_.fetch_sub(1, std::memory_order_relaxed);
        got = true;
        break;
      }
      const bool original = seg.format == Segment::Format::Original;
      int64_t next = original ? end : seg.resync(readPos_ + 1, end, opts_.minMsgSize, opts_.maxMsgSize);
      reportBad(seg, readFileNum_, readPos_, next, original ? "invalid record length" : "bad length or checksum");
      readPos_ = next;
    }
    if (sync) commit_ = {readFileNum_, readPos_, pops_};
  }
  int64_t ops = got ? opsSinceSync_.fetch_add(1) + 1 : opsSinceSync_.load();
  if (sync && (needSync_.load() || ops >= opts_.syncEvery)) {
    if (deferSyncs())
      requestSync();
    else
      syncImpl(false, nullptr);
  }
  return got;
}

void DiskQueue::reportBad(const Segment& seg, int64_t fileNum, int64_t from, int64_t to, const char* why) {
  const std::string badPath = seg.path + ".bad." + std::to_string(from);
  std::string msg = "corrupt data in " + seg.path + " at offset " + std::to_string(from) + " (" +
                    std::to_string(to - from) + " bytes, " + why + ")";
  int out = ::open(badPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool copied = out >= 0;
  std::string chunk;
  for (int64_t p = from; copied && p < to;) {
    chunk.resize(static_cast<std::size_t>(std::min<int64_t>(to - p, kReadChunk)));
    ssize_t r = ::pread(seg.fd, chunk.data(), chunk.size(), static_cast<off_t>(p));
    int err = 0;
    if (r <= 0 || !pwriteAll(out, chunk.data(), static_cast<std::size_t>(r), p - from, &err)) copied = false;
    else p += r;
  }
  if (out >= 0) ::close(out);
  logError(msg + (copied ? "; copied to " + badPath : "; could not copy it aside") +
           "; continuing at offset " + std::to_string(to));
}

// ---- sync ----

bool DiskQueue::syncImpl(bool blocking, std::string* error, const PendingWrite* pending) {
  std::unique_lock<std::mutex> sl(syncMu_, std::defer_lock);
  if (blocking)
    sl.lock();
  else if (!sl.try_lock())
    return true;  // someone is syncing; our turn comes with the next op or syncIfDue
  if (finalSynced_) return true;  // closed (or deleted): a late background sync writes nothing

  syncRequested_.store(false);
  opsSinceSync_.store(0);
  needSync_.store(false);
  Meta m;
  std::shared_ptr<File> wf;
  std::vector<int64_t> finished;
  std::vector<std::shared_ptr<File>> rolledFiles;
  {
    // The read position recorded is the committed one (see popNoSync()); a pending batch
    // (prepare()) is recorded as written although readers cannot see it yet.
    std::lock_guard<std::mutex> rk(readMu_);
    std::lock_guard<std::mutex> pk(pubMu_);
    m.rfn = commit_.fileNum;
    m.rpos = commit_.pos;
    m.wfn = pending ? pending->fileNum : pub_.fileNum;
    m.wpos = pending ? pending->pos : pub_.pos;
    m.depth = std::max<int64_t>(0, depth_.load() + (pops_ - commit_.pops) + (pending ? pending->records : 0));
    wf = pending ? pending->file : pub_.file;
    std::vector<int64_t> kept;
    for (int64_t f : finishedFiles_) {
      bool deletable = f < commit_.fileNum && !std::binary_search(retained_.begin(), retained_.end(), f);
      (deletable ? finished : kept).push_back(f);
    }
    finishedFiles_.swap(kept);
    rolledFiles.swap(finishedUnsynced_);
  }
  auto failWith = [&](const std::string& what) {
    fail(what);
    if (error) *error = what;
    needSync_.store(true);
    std::lock_guard<std::mutex> rk(readMu_);
    finishedFiles_.insert(finishedFiles_.end(), finished.begin(), finished.end());
    return false;
  };
  for (std::size_t i = 0; i < rolledFiles.size(); ++i) {
    if (::fsync(rolledFiles[i]->get()) != 0) {
      std::lock_guard<std::mutex> pk(pubMu_);  // owed again by the next sync
      finishedUnsynced_.insert(finishedUnsynced_.begin(), rolledFiles.begin() + static_cast<long>(i), rolledFiles.end());
      return failWith(errnoText("fsync", "a finished segment of " + opts_.name, errno));
    }
  }
  if (pending) {
    for (const auto& f : pending->rolled)  // on failure the caller takes the batch back
      if (::fsync(f->get()) != 0) return failWith(errnoText("fsync", "a finished segment of " + opts_.name, errno));
  }
  if (wf && ::fsync(wf->get()) != 0) return failWith(errnoText("fsync", segmentPath(m.wfn), errno));
  if (dirSyncOwed_.exchange(false)) {  // segments created since the last sync
    fsyncDir(opts_.dataPath);
    if (opts_.onDirSync) opts_.onDirSync();
  }
  auto removeFinished = [&] {
    for (int64_t f : finished) {
      if (::unlink(segmentPath(f).c_str()) != 0 && errno != ENOENT)
        logError(errnoText("remove", segmentPath(f), errno));
    }
  };
  std::string err;
  if (!writeMetadata(m.depth, m.rfn, m.rpos, m.wfn, m.wpos, &err)) {
    if (finished.empty()) return failWith(err);
    // Probably a full disk, and only deleting the read segments frees space. Every record in
    // them is committed, so deleting them before the metadata moves is safe: a crash now
    // finds the old read segment missing and starts at the next one (docs: Recovery, step 2).
    logError(err + "; removing " + std::to_string(finished.size()) + " fully read segments first");
    removeFinished();
    finished.clear();
    err.clear();
    if (!writeMetadata(m.depth, m.rfn, m.rpos, m.wfn, m.wpos, &err)) return failWith(err);
  } else {
    removeFinished();
  }
  lastSyncNs_ = now().time_since_epoch().count();
  markHealthy();
  return true;
}

bool DiskQueue::writeMetadata(int64_t depth, int64_t rfn, int64_t rpos, int64_t wfn, int64_t wpos,
                              std::string* error) {
  char text[160];
  int n = std::snprintf(text, sizeof text, "%" PRId64 "\n%" PRId64 ",%" PRId64 "\n%" PRId64 ",%" PRId64 "\n",
                        depth, rfn, rpos, wfn, wpos);
  const std::string meta = metadataPath();
  const std::string tmp = meta + tempFileSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = errnoText("open", tmp, errno);
    return false;
  }
  int err = 0;
  bool ok = pwriteAll(fd, text, static_cast<std::size_t>(n), 0, &err);
  if (ok && ::fsync(fd) != 0) ok = false, err = errno;
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), meta.c_str()) != 0) ok = false, err = errno;
  if (!ok) {
    ::unlink(tmp.c_str());
    *error = errnoText("write metadata", meta, err);
  }
  return ok;
}

void DiskQueue::sync() {
  if (closed_.load()) return;
  syncImpl(true, nullptr);
}

void DiskQueue::syncIfDue() {
  if (syncDue()) syncImpl(true, nullptr);
}

// ---- lifecycle ----

void DiskQueue::removeAllFiles() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string prefix = opts_.name + ".diskqueue.";
  for (const auto& entry : fs::directory_iterator(opts_.dataPath, ec)) {
    std::string fname = entry.path().filename().string();
    if (fname.rfind(prefix, 0) != 0) continue;
    std::string rest = fname.substr(prefix.size());
    bool segment = rest.size() > 4 && rest.compare(rest.size() - 4, 4, ".dat") == 0 &&
                   std::all_of(rest.begin(), rest.end() - 4, [](char c) { return c >= '0' && c <= '9'; });
    bool meta = rest == "meta.dat" || (rest.rfind("meta.dat.", 0) == 0 && fname.size() > 4 &&
                                       fname.compare(fname.size() - 4, 4, ".tmp") == 0);
    if ((segment || meta) && !fs::remove(entry.path(), ec) && ec)
      logError("remove " + entry.path().string() + ": " + ec.message());
  }
}

void DiskQueue::empty() {
  {
    std::unique_lock<std::mutex> wl(writeMu_);
    waitForWritesLocked(wl);  // none is reserved meanwhile: the owner calls this under its lock
  }
  std::scoped_lock lk(syncMu_, readMu_, writeMu_);
  std::lock_guard<std::mutex> pk(pubMu_);
  readSeg_.reset();
  writeFile_.reset();
  pub_.file.reset();
  removeAllFiles();
  const int64_t next = writeFileNum_ + 1;
  readFileNum_ = writeFileNum_ = pub_.fileNum = next;
  readPos_ = writePos_ = pub_.pos = 0;
  writeBuf_.clear();
  inBatch_ = prepared_ = preparedSynced_ = false;
  batchRecords_ = 0;
  batchRolled_.clear();
  batchStartFile_.reset();
  finishedUnsynced_.clear();
  finishedFiles_.clear();
  retained_.clear();
  commit_ = {next, 0, pops_};
  depth_.store(0);
  opsSinceSync_.store(0);
  needSync_.store(false);
  markHealthy();  // nothing left that a failed write could have concerned
}

void DiskQueue::close() {
  bool expected = false;
  if (!closed_.compare_exchange_strong(expected, true)) return;
  {
    std::unique_lock<std::mutex> lk(writeMu_);
    waitForWritesLocked(lk);  // reserved batches are published first (closed_ refuses new ones)
    // An owner that appended without flushing still gets its records kept.
    if (inBatch_ && writeLocked(nullptr)) publishLocked();
  }
  syncImpl(true, nullptr);
  std::scoped_lock lk(syncMu_, readMu_, writeMu_);
  finalSynced_ = true;
  std::lock_guard<std::mutex> pk(pubMu_);
  readSeg_.reset();
  writeFile_.reset();
  pub_.file.reset();
}

void DiskQueue::deleteAll() {
  close();
  std::scoped_lock lk(syncMu_, readMu_, writeMu_);
  removeAllFiles();
  depth_.store(0);
  markHealthy();
}

}  // namespace nsq

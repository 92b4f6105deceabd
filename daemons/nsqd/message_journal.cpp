// MessageJournal: ADD / UPDATE / DONE records over a map of live entries. The map, not the file,
// is the truth while running: a failed write only marks the journal dirty, and the next flush
// rewrites the whole live set, so an IO error never leaves a half-applied history behind.
#include "nsqd/message_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "nsq/base/log.h"
#include "nsq/base/posix_io.h"
#include "nsq/storage/record.h"
#include "nsqd/options.h"

namespace nsq::nsqd {
namespace {

enum RecordType : uint8_t { kAdd = 1, kUpdate = 2, kDone = 3, kRef = 4, kMove = 5 };
constexpr int64_t kAddFixed = 1 + 8;             // type, wall deadline; then the §1.2 payload
constexpr int64_t kUpdateSize = 1 + 8 + 2 + 16;  // type, wall deadline, attempts, id
constexpr int64_t kDoneSize = 1 + 16;            // type, id
constexpr int64_t kRefSize = 1 + 8 + 8 + 2 + 16 + 8 + 8;  // type, deadline, ts, attempts, id, segment, offset
constexpr int64_t kMoveFixed = 1 + 16 + 16;      // type, id, id it moves as; then the topic name
constexpr int64_t kMaxMoveTopic = 64;            // a topic name's longest (names.h)

}  // namespace

namespace {
class FdSync : public MessageJournal::Sync {
 public:
  FdSync(std::shared_ptr<void> keep, int fd, std::string path, std::function<void(const std::string&)> log)
      : keep_(std::move(keep)), fd_(fd), path_(std::move(path)), log_(std::move(log)) {}
  bool run() override {
    if (::fsync(fd_) == 0) return true;
    log_(errnoText("fsync", path_, errno));
    return false;
  }

 private:
  std::shared_ptr<void> keep_;  // holds the fd open even if compaction replaced the file
  int fd_;
  std::string path_;
  std::function<void(const std::string&)> log_;
};
}  // namespace

JournalOptions journalOptions(const NsqdOptions& opts, const std::string& queueName) {
  JournalOptions o;
  o.path = opts.dataPath + "/" + queueName + ".journal.dat";
  o.syncEvery = opts.syncEvery;
  o.syncTimeout = opts.syncTimeout;
  o.maxMsgSize = opts.maxMsgSize;
  o.logError = [](const std::string& text) { logError("JOURNAL: ", text); };
  return o;
}

MessageJournal::MessageJournal(JournalOptions opts)
    : opts_(std::move(opts)), lastSync_(std::chrono::steady_clock::now()) {
  if (opts_.syncEvery < 1) opts_.syncEvery = 1;
}

MessageJournal::~MessageJournal() = default;

void MessageJournal::logError(const std::string& text) const {
  if (opts_.logError)
    opts_.logError(text);
  else
    std::fprintf(stderr, "%s\n", text.c_str());
}

std::vector<MessageJournal::Entry> MessageJournal::recover(const std::function<bool(Entry&)>& resolve) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path(opts_.path);
  const std::string stem = path.filename().string() + ".";
  for (const auto& de : fs::directory_iterator(path.parent_path().empty() ? "." : path.parent_path(), ec)) {
    std::string n = de.path().filename().string();
    if (n.rfind(stem, 0) == 0 && n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) fs::remove(de.path(), ec);
  }

  std::string data;
  {
    int fd = ::open(opts_.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char chunk[65536];
    for (;;) {
      ssize_t r = ::read(fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      data.append(chunk, static_cast<std::size_t>(r));
    }
    ::close(fd);
  }
  const auto size = static_cast<int64_t>(data.size());
  auto reportBad = [&](int64_t from, int64_t to, const char* why) {
    std::string bad = opts_.path + ".bad." + std::to_string(from);
    bool copied = false;
    int out = ::open(bad.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out >= 0) {
      int err = 0;
      copied = pwriteAll(out, data.data() + from, static_cast<std::size_t>(to - from), 0, &err);
      ::close(out);
    }
    logError("corrupt data in " + opts_.path + " at offset " + std::to_string(from) + " (" +
             std::to_string(to - from) + " bytes, " + why + ")" +
             (copied ? "; copied to " + bad : "; could not copy it aside") + "; continuing at offset " +
             std::to_string(to));
  };

  std::vector<MessageId> order;
  const int64_t maxLen = kAddFixed + static_cast<int64_t>(kMessageHeaderLength) + opts_.maxMsgSize;
  auto recordAt = [&](int64_t pos) -> int64_t {
    RecordCheck r = checkRecord(std::string_view(data).substr(static_cast<std::size_t>(pos)), kDoneSize, maxLen);
    return r ? r.bodyLength : -1;
  };

  if (size > 0) {
    if (size < kJournalHeaderSize || getUint32(data.data()) != kJournalMagic ||
        getUint16(data.data() + 4) != kJournalVersion) {
      reportBad(0, size, "not a version-1 journal");
    } else {
      int64_t pos = kJournalHeaderSize;
      while (pos < size) {
        int64_t len = recordAt(pos);
        if (len < 0) {
          int64_t next = pos + 1;
          while (next < size && recordAt(next) < 0) ++next;
          reportBad(pos, next, next == size ? "torn or bad final record" : "bad length or checksum");
          pos = next;
          continue;
        }
        const char* r = data.data() + pos + kJournalRecordHeaderSize;
        pos += kJournalRecordHeaderSize + len;
        auto type = static_cast<uint8_t>(r[0]);
        if (type == kAdd && len >= kAddFixed + static_cast<int64_t>(kMessageHeaderLength)) {
          Entry e;
          e.wallDeadline = static_cast<int64_t>(getUint64(r + 1));
          if (!Message::parsePayload(std::string_view(r + kAddFixed, static_cast<std::size_t>(len - kAddFixed)), e.msg))
            continue;
          auto [slot, had] = place(e.msg.id);
          if (!had) order.push_back(e.msg.id);
          slots_[slot] = std::move(e);
        } else if (type == kRef && len == kRefSize) {
          Entry e;
          e.wallDeadline = static_cast<int64_t>(getUint64(r + 1));
          e.msg.timestamp = static_cast<int64_t>(getUint64(r + 9));
          e.msg.attempts = getUint16(r + 17);
          std::memcpy(e.msg.id.bytes.data(), r + 19, kMessageIdLength);
          e.segment = static_cast<int64_t>(getUint64(r + 35));
          e.offset = static_cast<int64_t>(getUint64(r + 43));
          auto [slot, had] = place(e.msg.id);
          if (!had) order.push_back(e.msg.id);
          slots_[slot] = std::move(e);
        } else if (type == kUpdate && len == kUpdateSize) {
          MessageId id;
          std::memcpy(id.bytes.data(), r + 11, kMessageIdLength);
          Entry* e = findEntry(id);
          if (!e) continue;
          e->wallDeadline = static_cast<int64_t>(getUint64(r + 1));
          e->msg.attempts = getUint16(r + 9);
        } else if (type == kMove && len > kMoveFixed && len <= kMoveFixed + kMaxMoveTopic) {
          MessageId id;
          std::memcpy(id.bytes.data(), r + 1, kMessageIdLength);
          Entry* e = findEntry(id);
          if (!e) continue;
          std::memcpy(e->movingAs.bytes.data(), r + 17, kMessageIdLength);
          e->movingTo.assign(r + kMoveFixed, static_cast<std::size_t>(len - kMoveFixed));
        } else if (type == kDone && len == kDoneSize) {
          MessageId id;
          std::memcpy(id.bytes.data(), r + 1, kMessageIdLength);
          if (uint32_t slot = slotOf(id); slot != IdIndex::kNone) erase(slot);
        } else {
          logError("unknown record type " + std::to_string(type) + " in " + opts_.path + "; skipped");
        }
      }
    }
  }
  // The index holds exactly the live set; order may name an ID twice (added, done, added again).
  std::vector<Entry> out;
  std::unordered_map<MessageId, bool, MessageIdHash> emitted;
  for (const auto& id : order) {
    uint32_t slot = slotOf(id);
    if (slot == IdIndex::kNone || !emitted.emplace(id, true).second) continue;
    Entry& e = slots_[slot];
    if (e.segment >= 0 && !(resolve && resolve(e))) {
      erase(slot);
      continue;
    }
    track(e, +1);
    out.push_back(e);
  }
  std::string err;
  if (!compact(&err)) logError("cannot rewrite journal " + opts_.path + " - " + err);
  return out;
}

void MessageJournal::appendAdd(std::string& out, const Entry& e) const {
  std::size_t start = beginRecord(out);
  if (e.segment >= 0) {
    char r[kRefSize];
    r[0] = static_cast<char>(kRef);
    putUint64(r + 1, static_cast<uint64_t>(e.wallDeadline));
    putUint64(r + 9, static_cast<uint64_t>(e.msg.timestamp));
    putUint16(r + 17, e.msg.attempts);
    std::memcpy(r + 19, e.msg.id.bytes.data(), kMessageIdLength);
    putUint64(r + 35, static_cast<uint64_t>(e.segment));
    putUint64(r + 43, static_cast<uint64_t>(e.offset));
    out.append(r, sizeof r);
  } else {
    out.push_back(static_cast<char>(kAdd));
    char d[8];
    putUint64(d, static_cast<uint64_t>(e.wallDeadline));
    out.append(d, 8);
    e.msg.appendPayload(out);
  }
  sealRecord(out, start);
  if (!e.movingTo.empty()) appendMove(out, e);
}

void MessageJournal::appendMove(std::string& out, const Entry& e) {
  std::size_t start = beginRecord(out);
  out.push_back(static_cast<char>(kMove));
  out.append(e.msg.id.bytes.data(), kMessageIdLength);
  out.append(e.movingAs.bytes.data(), kMessageIdLength);
  out.append(e.movingTo);
  sealRecord(out, start);
}

int64_t MessageJournal::recordBytes(const Entry& e) {
  return kJournalRecordHeaderSize +
         (e.segment >= 0 ? kRefSize : kAddFixed + static_cast<int64_t>(e.msg.payloadSize())) +
         (e.movingTo.empty() ? 0 : kJournalRecordHeaderSize + kMoveFixed + static_cast<int64_t>(e.movingTo.size()));
}

void MessageJournal::track(const Entry& e, int sign) {
  liveBytes_ += sign * recordBytes(e);
  if (e.segment < 0) return;
  auto it = refsHint_;
  if (it == refs_.end() || it->first != e.segment) {
    bool inserted = false;
    std::tie(it, inserted) = refs_.try_emplace(e.segment, 0);
    if (inserted) ++refsVersion_;
  }
  if ((it->second += sign) <= 0) {
    refs_.erase(it);
    refsHint_ = refs_.end();
    ++refsVersion_;
  } else {
    refsHint_ = it;
  }
}

std::vector<int64_t> MessageJournal::referencedSegments() const {
  std::vector<int64_t> out;
  out.reserve(refs_.size());
  for (const auto& [segment, n] : refs_) out.push_back(segment);
  return out;
}

std::pair<uint32_t, bool> MessageJournal::place(const MessageId& id) {
  const uint32_t h = IdIndex::hashOf(id);
  uint32_t slot = index_.find(h, [&](uint32_t s) { return slots_[s].msg.id == id; });
  if (slot != IdIndex::kNone) return {slot, true};
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[slot].msg.id = id;
  index_.insert(h, slot);
  periodPeak_ = std::max(periodPeak_, index_.size());
  return {slot, false};
}

void MessageJournal::erase(uint32_t slot) {
  Entry& e = slots_[slot];
  index_.erase(IdIndex::hashOf(e.msg.id), slot);
  e = Entry();  // drops a body now, not when the slot is reused
  free_.push_back(slot);
  if (!index_.empty()) return;
  // Empty again. A consumer whose window drains to nothing between refills comes back for as
  // many slots: keep them (regrowing cost a malloc per few entries). Only a burst that is over,
  // past kKeepSlots and more than twice what this last period held, gives its slots back.
  if (slots_.size() > kKeepSlots && slots_.size() > 2 * periodPeak_) {
    slots_.clear();
    free_.clear();
  }
  periodPeak_ = 0;
}

// Every message popped from a disk backlog comes through here: one lookup, no allocation once
// the journal has slots for the messages in flight.
MessageJournal::Entry& MessageJournal::slotFor(const MessageId& id) {
  auto [slot, had] = place(id);
  Entry& e = slots_[slot];
  if (had) {
    track(e, -1);
    e = Entry();
    e.msg.id = id;
  }
  return e;
}

void MessageJournal::add(const Message& msg, int64_t wallDeadline) {
  Entry& e = slotFor(msg.id);
  e.msg = msg;
  e.wallDeadline = wallDeadline;
  track(e, +1);
  if (!dirty_) appendAdd(buf_, e);
  ++bufRecords_;
}

void MessageJournal::addRef(const Message& msg, int64_t segment, int64_t offset, int64_t wallDeadline) {
  Entry& e = slotFor(msg.id);
  e.msg.id = msg.id;
  e.msg.timestamp = msg.timestamp;
  e.msg.attempts = msg.attempts;
  e.wallDeadline = wallDeadline;
  e.segment = segment;
  e.offset = offset;
  track(e, +1);
  if (!dirty_) appendAdd(buf_, e);
  ++bufRecords_;
}

void MessageJournal::update(const MessageId& id, uint16_t attempts, int64_t wallDeadline) {
  Entry* e = findEntry(id);
  if (!e) return;
  e->msg.attempts = attempts;
  e->wallDeadline = wallDeadline;
  ++bufRecords_;
  if (dirty_) return;
  std::size_t start = beginRecord(buf_);
  char r[kUpdateSize];
  r[0] = static_cast<char>(kUpdate);
  putUint64(r + 1, static_cast<uint64_t>(wallDeadline));
  putUint16(r + 9, attempts);
  std::memcpy(r + 11, id.bytes.data(), kMessageIdLength);
  buf_.append(r, sizeof r);
  sealRecord(buf_, start);
}

void MessageJournal::markMoving(const MessageId& id, const MessageId& as, const std::string& to) {
  Entry* e = findEntry(id);
  if (!e || to.empty() || static_cast<int64_t>(to.size()) > kMaxMoveTopic) return;
  track(*e, -1);
  e->movingAs = as;
  e->movingTo = to;
  track(*e, +1);
  ++bufRecords_;
  if (!dirty_) appendMove(buf_, *e);
}

void MessageJournal::remove(const MessageId& id) {
  uint32_t slot = slotOf(id);  // every FIN asks, mostly of an empty journal
  if (slot == IdIndex::kNone) return;
  track(slots_[slot], -1);
  erase(slot);
  ++bufRecords_;
  if (dirty_) return;
  std::size_t start = beginRecord(buf_);
  char r[kDoneSize];
  r[0] = static_cast<char>(kDone);
  std::memcpy(r + 1, id.bytes.data(), kMessageIdLength);
  buf_.append(r, sizeof r);
  sealRecord(buf_, start);
}

bool MessageJournal::openFile(std::string* error) {
  int fd = ::open(opts_.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = errnoText("open", opts_.path, errno);
    return false;
  }
  fd_ = std::make_shared<Fd>(fd);
  std::string h;
  appendFileHeader(h, kJournalMagic, kJournalVersion);
  int err = 0;
  if (!pwriteAll(fd, h.data(), h.size(), 0, &err)) {
    *error = errnoText("write", opts_.path, err);
    fd_.reset();
    ::unlink(opts_.path.c_str());
    return false;
  }
  fileBytes_ = kJournalHeaderSize;
  fsyncParentDir(opts_.path);
  return true;
}

bool MessageJournal::flush(std::string* error) {
  if (!dirty_ && buf_.empty()) {
    bufRecords_ = 0;
    return true;
  }
  const auto projected = fileBytes_ + static_cast<int64_t>(buf_.size());
  if (dirty_ || (projected > opts_.compactMinBytes && projected > 2 * (liveBytes_ + kJournalHeaderSize)))
    return compact(error);
  if (!fd_ && !openFile(error)) {
    dirty_ = true;
    buf_.clear();
    return false;
  }
  int err = 0;
  const int64_t end = fileBytes_ + static_cast<int64_t>(buf_.size());
  if (!pwriteAll(fd_->get(), buf_.data(), buf_.size(), fileBytes_, &err)) {
    (void)!::ftruncate(fd_->get(), static_cast<off_t>(fileBytes_));
    *error = errnoText("write", opts_.path, err);
    dirty_ = true;
    buf_.clear();
    return false;
  }
  fileBytes_ = end;
  unsynced_ += bufRecords_;
  buf_.clear();
  bufRecords_ = 0;
  return true;
}

bool MessageJournal::compact(std::string* error) {
  buf_.clear();
  if (index_.empty()) {
    fd_.reset();
    if (::unlink(opts_.path.c_str()) != 0 && errno != ENOENT) {
      *error = errnoText("remove", opts_.path, errno);
      dirty_ = true;
      return false;
    }
    fileBytes_ = 0;
    unsynced_ = bufRecords_ = 0;
    dirty_ = false;
    return true;
  }
  const std::string tmp = opts_.path + tempFileSuffix();
  auto failWith = [&](const std::string& what, int fd) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    *error = what;
    dirty_ = true;
    return false;
  };
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failWith(errnoText("open", tmp, errno), -1);
  std::string chunk;
  appendFileHeader(chunk, kJournalMagic, kJournalVersion);
  int64_t off = 0;
  int err = 0;
  bool wrote = true;
  index_.forEach([&](uint32_t slot) {
    if (!wrote) return;
    appendAdd(chunk, slots_[slot]);
    if (chunk.size() >= (1u << 20)) {
      wrote = pwriteAll(fd, chunk.data(), chunk.size(), off, &err);
      off += static_cast<int64_t>(chunk.size());
      chunk.clear();
    }
  });
  if (!wrote) return failWith(errnoText("write", tmp, err), fd);
  if (!pwriteAll(fd, chunk.data(), chunk.size(), off, &err)) return failWith(errnoText("write", tmp, err), fd);
  off += static_cast<int64_t>(chunk.size());
  if (::fsync(fd) != 0) return failWith(errnoText("fsync", tmp, errno), fd);
  if (::rename(tmp.c_str(), opts_.path.c_str()) != 0) return failWith(errnoText("rename", tmp, errno), fd);
  fsyncParentDir(opts_.path);
  fd_ = std::make_shared<Fd>(fd);
  fileBytes_ = off;
  unsynced_ = bufRecords_ = 0;
  lastSync_ = std::chrono::steady_clock::now();
  dirty_ = false;
  return true;
}

std::unique_ptr<MessageJournal::Sync> MessageJournal::takeSync(bool force) {
  if (unsynced_ == 0 || !fd_) return nullptr;
  auto now = std::chrono::steady_clock::now();
  if (!force && unsynced_ < opts_.syncEvery && now - lastSync_ < opts_.syncTimeout) return nullptr;
  unsynced_ = 0;
  lastSync_ = now;
  auto log = opts_.logError ? opts_.logError : [](const std::string& t) { std::fprintf(stderr, "%s\n", t.c_str()); };
  return std::make_unique<FdSync>(fd_, fd_->get(), opts_.path, std::move(log));
}

void MessageJournal::clear() {
  slots_.clear();
  free_.clear();
  index_.clear();
  periodPeak_ = 0;
  refs_.clear();
  refsHint_ = refs_.end();
  ++refsVersion_;
  liveBytes_ = 0;
  buf_.clear();
  bufRecords_ = 0;
  dirty_ = false;
  fd_.reset();
  if (::unlink(opts_.path.c_str()) != 0 && errno != ENOENT) logError(errnoText("remove", opts_.path, errno));
  fileBytes_ = 0;
  unsynced_ = 0;
}

bool MessageJournal::close(std::string* error) {
  if (!flush(error)) return false;
  if (auto s = takeSync(true)) return s->run();
  return true;
}

void MessageJournal::removeFile() { clear(); }

}  // namespace nsq::nsqd

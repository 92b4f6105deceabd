// FileLogger: rotation, gzip members and the work-dir -> output-dir move of nsq_to_file. Writes
// go to an in-memory buffer flushed at 64 KiB and on sync(), so a message costs no syscall; the
// caller acknowledges messages only after sync(). Gzip is one zlib deflate stream with a gzip
// wrapper, finished (Z_FINISH) and reset at each sync: the file becomes concatenated gzip
// members, each ending with the CRC of exactly the messages acknowledged after it.
#include "nsq_to_file/file_logger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "nsq/base/log.h"
#include "nsq_to_file/filename_format.h"

namespace nsq {

namespace {

constexpr std::size_t kFlushAt = 64 * 1024;

std::string errnoText() { return std::strerror(errno); }

std::string joinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string dirOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool exists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  throw FileLoggerError("unable to stat output file " + path + ": " + errnoText());
}

}  // namespace

void makeDirs(const std::string& path) {
  if (path.empty()) return;
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty() || partial == "/") continue;
    if (::mkdir(partial.c_str(), 0770) != 0 && errno != EEXIST)
      throw FileLoggerError("unable to create dir " + partial + ": " + errnoText());
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw FileLoggerError("unable to create dir " + path + ": " + errnoText());
  if (!S_ISDIR(st.st_mode)) throw FileLoggerError("unable to create dir " + path + ": Not a directory");
}

FileLogger::FileLogger(FileLoggerConfig cfg, WallClock clock) : cfg_(std::move(cfg)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

FileLogger::~FileLogger() {
  try {
    close();
  } catch (const std::exception& e) {
    logError(e.what());
  }
  if (zsReady_) deflateEnd(&zs_);
}

std::string FileLogger::currentFilename() const {
  std::time_t t = std::chrono::system_clock::to_time_t(clock_());
  return withDatetime(cfg_.filenameFormat, strftimeSubset(cfg_.datetimeFormat, t));
}

FileLogger::Rotation FileLogger::needsRotation() const {
  if (fd_ < 0) return Rotation::NotOpen;
  if (currentFilename() != filename_) return Rotation::NewName;
  if (cfg_.rotateInterval.count() > 0 && clock_() - openTime_ > cfg_.rotateInterval) return Rotation::Interval;
  if (cfg_.rotateSize > 0 && size_ > cfg_.rotateSize) return Rotation::Size;
  return Rotation::None;
}

std::string FileLogger::outputPathFor(const std::string& workPath) const {
  return joinPath(cfg_.outputDir, workPath.substr(joinPath(cfg_.workDir, "").size()));
}

void FileLogger::rotate() {
  close();
  std::string name = currentFilename();
  if (name != filename_) {
    rev_ = 0;
  } else {
    ++rev_;
  }
  filename_ = name;
  openTime_ = clock_();
  openNext();
}

void FileLogger::openNext() {
  std::string full = joinPath(cfg_.workDir, filename_);
  makeDirs(dirOf(full));
  bool distinct = cfg_.workDir != cfg_.outputDir;
  for (;; ++rev_) {
    std::string path = withRev(full, rev_);
    if (distinct) {
      std::string out = outputPathFor(path);
      makeDirs(dirOf(out));
      if (exists(out)) {
        logWarn("output file already exists: ", out);
        continue;
      }
    }
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    flags |= (cfg_.gzip || cfg_.rotateInterval.count() > 0) ? O_EXCL : O_APPEND;
    int fd = ::open(path.c_str(), flags, 0666);
    if (fd < 0) {
      if (errno == EEXIST) {
        logWarn("working file already exists: ", path);
        continue;
      }
      throw FileLoggerError("unable to open " + path + ": " + errnoText());
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      std::string err = errnoText();
      ::close(fd);
      throw FileLoggerError("unable to stat file " + path + ": " + err);
    }
    if (cfg_.rotateSize > 0 && st.st_size > cfg_.rotateSize) {
      logInfo(path, " currently ", std::to_string(st.st_size), " bytes (> ", std::to_string(cfg_.rotateSize),
              "), rotating...");
      ::close(fd);
      continue;
    }
    logInfo("opening ", path);
    fd_ = fd;
    path_ = path;
    size_ = st.st_size;
    break;
  }
  anyMember_ = false;
  memberOpen_ = false;
  if (cfg_.gzip) {
    if (!zsReady_) {
      // windowBits 15 + 16: gzip header and trailer around raw deflate.
      if (deflateInit2(&zs_, cfg_.gzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw FileLoggerError("unable to initialise gzip (level " + std::to_string(cfg_.gzipLevel) + ")");
      zsReady_ = true;
    } else {
      deflateReset(&zs_);
    }
  }
}

void FileLogger::deflateInto(std::string_view in, int flush) {
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  for (;;) {
    zs_.next_out = reinterpret_cast<Bytef*>(chunk);
    zs_.avail_out = sizeof chunk;
    int rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) throw FileLoggerError("gzip failed for " + path_);
    buffer_.append(chunk, sizeof chunk - zs_.avail_out);
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0)) break;
  }
}

void FileLogger::write(std::string_view bytes) {
  if (fd_ < 0) throw FileLoggerError("write with no open file");
  if (cfg_.gzip) {
    deflateInto(bytes, Z_NO_FLUSH);
    memberOpen_ = true;
  } else {
    buffer_.append(bytes);
  }
  size_ += static_cast<int64_t>(bytes.size());
  if (buffer_.size() >= kFlushAt) flushBuffer();
}

void FileLogger::flushBuffer() {
  std::size_t off = 0;
  while (off < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileLoggerError("writing to " + path_ + ": " + errnoText());
    off += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void FileLogger::sync() {
  if (fd_ < 0) return;
  if (cfg_.gzip && (memberOpen_ || !anyMember_)) {
    deflateInto({}, Z_FINISH);
    deflateReset(&zs_);
    memberOpen_ = false;
    anyMember_ = true;
  }
  flushBuffer();
  if (::fsync(fd_) != 0) throw FileLoggerError("failed to fsync " + path_ + ": " + errnoText());
}

void FileLogger::close() {
  if (fd_ < 0) return;
  sync();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw FileLoggerError("failed to close " + path_ + ": " + errnoText());
  lastClosed_ = path_;
  if (cfg_.workDir == cfg_.outputDir) return;
  std::string src = path_;
  std::string dst = outputPathFor(src);
  logInfo("moving finished file ", src, " to ", dst);
  std::string dstTemplate = joinPath(dirOf(dst), filename_.substr(filename_.rfind('/') + 1));
  for (unsigned rev = rev_ + 1;; ++rev) {
    if (::link(src.c_str(), dst.c_str()) == 0) break;
    if (errno != EEXIST) throw FileLoggerError("unable to move file from " + src + " to " + dst + ": " + errnoText());
    logWarn("destination file already exists: ", dst);
    dst = withRev(dstTemplate, rev);
  }
  if (::unlink(src.c_str()) != 0) throw FileLoggerError("unable to remove " + src + ": " + errnoText());
  lastClosed_ = dst;
}

}  // namespace nsq

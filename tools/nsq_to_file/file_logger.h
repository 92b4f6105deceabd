#pragma once
// FileLogger: the file side of nsq_to_file for one topic (NSQ-COMPAT §5.5): which file is
// current, when to rotate, plain or gzip writing, fsync, and the atomic move from the work
// dir to the output dir. It knows nothing about NSQ messages; the caller FINs what it wrote
// once sync() (or close()) returned.
//
// Not thread-safe: one owner thread. Time comes from an injectable wall clock. I/O failures
// throw FileLoggerError naming the path.
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nsq {

class FileLoggerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FileLoggerConfig {
  std::string workDir;
  std::string outputDir;
  std::string filenameFormat;  // from computeFilenameFormat(): <DATETIME> and <REV> still in it
  std::string datetimeFormat = "%Y-%m-%d_%H";
  bool gzip = false;
  int gzipLevel = 6;
  int64_t rotateSize = 0;                     // bytes of message data; 0 = off
  std::chrono::nanoseconds rotateInterval{0};  // 0 = off
};

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// Creates path and its parents with mode 0770 (existing ones are fine). Throws FileLoggerError.
void makeDirs(const std::string& path);

class FileLogger {
 public:
  explicit FileLogger(FileLoggerConfig cfg, WallClock clock = {});
  ~FileLogger();  // close() with errors logged, not thrown
  FileLogger(const FileLogger&) = delete;
  FileLogger& operator=(const FileLogger&) = delete;

  enum class Rotation { None, NotOpen, NewName, Interval, Size };
  // Why the current file must be replaced before the next write, or None.
  Rotation needsRotation() const;
  // Closes (and moves) the current file and opens the next one: revision 0 for a new name,
  // else the next revision; names taken in the work dir (gzip or rotate-interval: exclusive
  // create) or the output dir, and plain files already over rotate-size, are skipped.
  void rotate();
  // Buffers bytes (compressed under gzip) for the current file, which must be open.
  void write(std::string_view bytes);
  // Makes everything written so far durable: under gzip ends the member (the next write starts
  // another one), flushes, fsync(2).
  void sync();
  // sync(), close, and with a distinct work dir hard-link the file into the output dir and
  // unlink it (name taken there: next revision). No-op when nothing is open.
  void close();

  bool isOpen() const { return fd_ >= 0; }
  std::string currentFilename() const;              // format with <DATETIME> for now, <REV> kept
  const std::string& workPath() const { return path_; }  // of the open file
  const std::string& lastClosedPath() const { return lastClosed_; }  // where close() left it
  unsigned rev() const { return rev_; }
  int64_t size() const { return size_; }  // message bytes written to the current file

 private:
  void openNext();
  void flushBuffer();
  void deflateInto(std::string_view in, int flush);
  std::string outputPathFor(const std::string& workPath) const;

  FileLoggerConfig cfg_;
  WallClock clock_;
  int fd_ = -1;
  std::string filename_;  // current name template (<REV> kept)
  std::string path_;
  std::string lastClosed_;
  unsigned rev_ = 0;
  int64_t size_ = 0;
  std::chrono::system_clock::time_point openTime_{};
  std::string buffer_;
  z_stream zs_{};
  bool zsReady_ = false;
  bool memberOpen_ = false;  // a gzip member has been started and not finished
  bool anyMember_ = false;   // the current file holds at least one complete member
};

}  // namespace nsq

#pragma once
// POSIX file helpers shared by the disk queue, the message journal and anything else that writes
// files it must trust after a crash: whole writes that survive EINTR and short writes, fsync of
// a directory (so a new or renamed name survives a power cut), sizes, and one-line error texts.
// Nothing here throws; any thread (each call works on the descriptor or path it is given).
#include <cstddef>
#include <cstdint>
#include <string>

namespace nsq {

// An open file descriptor, closed when the owner goes. Move-only; -1 means none.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept;            // gives up ownership; returns the fd
  void reset(int fd = -1) noexcept;  // closes the current fd (if any), then owns fd

 private:
  int fd_;
};

// "<what> <path>: <strerror(err)>", e.g. "write /data/t.diskqueue.000001.dat: No space left on device".
std::string errnoText(const char* what, const std::string& path, int err);

// Writes all n bytes at offset off, retrying on EINTR and short writes. On failure returns false
// with *err = errno; an unknown prefix of the bytes may have been written.
[[nodiscard]] bool pwriteAll(int fd, const char* p, std::size_t n, int64_t off, int* err);

// fsync of a directory, so entries created, renamed or removed in it are durable. Best effort:
// a directory that cannot be opened is skipped (the data itself was fsynced by the caller).
void fsyncDir(const std::string& dir);
// fsyncDir() of the directory holding file ("." for a bare name).
void fsyncParentDir(const std::string& file);

// Size in bytes, or -1 when fstat / stat fails.
int64_t fileSize(int fd);
int64_t pathSize(const std::string& path);

// ".<16 random hex digits>.tmp": the suffix of a file written in full, fsynced, then renamed
// over its final name; recovery removes leftovers matching "<name>.*.tmp".
std::string tempFileSuffix();

}  // namespace nsq

// POSIX file helpers: the one copy of pwriteAll / fsyncDir / errnoText that the disk queue and
// the message journal both used to carry. Thin wrappers over the syscalls; the only policy is
// that EINTR and short writes are retried and directory fsyncs are best effort.
#include "nsq/base/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

namespace nsq {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() noexcept {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string errnoText(const char* what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

bool pwriteAll(int fd, const char* p, std::size_t n, int64_t off, int* err) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (r < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    p += r;
    n -= static_cast<std::size_t>(r);
    off += r;
  }
  return true;
}

void fsyncDir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void fsyncParentDir(const std::string& file) {
  fsyncDir(std::filesystem::path(file).parent_path().string());
}

int64_t fileSize(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

int64_t pathSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

std::string tempFileSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".%016" PRIx64 ".tmp", static_cast<uint64_t>(rng()));
  return suffix;
}

}  // namespace nsq

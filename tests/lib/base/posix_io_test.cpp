// posix_io: whole writes at an offset, error texts, sizes, temp-file suffixes and the fd owner.
#include "nsq/base/posix_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <set>

#include "support/test_support.h"

namespace nsq {
namespace {

using test::TempDir;

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PosixIo, PwriteAllWritesEveryByteAtTheOffset) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd);
  std::string big(1 << 20, 'x');
  int err = 0;
  ASSERT_TRUE(pwriteAll(fd.get(), big.data(), big.size(), 0, &err));
  ASSERT_TRUE(pwriteAll(fd.get(), "abc", 3, 10, &err));
  EXPECT_EQ(fileSize(fd.get()), 1 << 20);
  EXPECT_EQ(pathSize(path), 1 << 20);
  EXPECT_EQ(readAll(path).substr(8, 7), "xxabcxx");
}

TEST(PosixIo, PwriteAllReportsErrnoOnABadDescriptor) {
  int err = 0;
  EXPECT_FALSE(pwriteAll(-1, "abc", 3, 0, &err));
  EXPECT_EQ(err, EBADF);
}

TEST(PosixIo, ErrnoTextNamesTheOperationAndThePath) {
  EXPECT_EQ(errnoText("write", "/d/f", ENOSPC), "write /d/f: No space left on device");
}

TEST(PosixIo, SizesAreMinusOneForWhatDoesNotExist) {
  EXPECT_EQ(pathSize("/nonexistent/file"), -1);
  EXPECT_EQ(fileSize(-1), -1);
}

TEST(PosixIo, DirectoryFsyncsTolerateMissingDirectories) {
  TempDir dir;
  fsyncDir(dir.path());
  fsyncParentDir(dir.path() + "/file");
  fsyncParentDir("bare-name");
  fsyncDir("/nonexistent/dir");  // best effort: no crash, nothing to report
}

TEST(PosixIo, TempFileSuffixesAreRandomHexEndingInTmp) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string s = tempFileSuffix();
    ASSERT_EQ(s.size(), 1 + 16 + 4u) << s;
    EXPECT_EQ(s.front(), '.');
    EXPECT_EQ(s.substr(17), ".tmp");
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef", 1), 17u) << s;
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(PosixIo, UniqueFdClosesOnceAndMovesOwnership) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), fds[0]);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), fds[0]);
    EXPECT_NE(::fcntl(fds[0], F_GETFD), -1);
  }
  EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1);  // closed by c
  EXPECT_EQ(errno, EBADF);
  UniqueFd d(::dup(0));
  int raw = d.release();
  EXPECT_FALSE(d);
  EXPECT_EQ(::close(raw), 0);
}

}  // namespace
}  // namespace nsq

// FileLogger: rotation decisions with a fake clock, revision numbering, append vs exclusive
// create, gzip members, and the work-dir -> output-dir move with clashes.
#include "nsq_to_file/file_logger.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace nsq {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nsq::test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Decompresses concatenated gzip members; fails the test on corrupt data.
std::string gunzipAll(const std::string& data, int* members = nullptr) {
  std::string out;
  std::size_t off = 0;
  int count = 0;
  while (off < data.size()) {
    z_stream zs{};
    EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + off));
    zs.avail_in = static_cast<uInt>(data.size() - off);
    int rc;
    do {
      char buf[4096];
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (rc == Z_OK);
    EXPECT_EQ(rc, Z_STREAM_END);
    off = data.size() - zs.avail_in;
    inflateEnd(&zs);
    ++count;
    if (rc != Z_STREAM_END) break;
  }
  if (members) *members = count;
  return out;
}

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class FileLoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  FileLoggerConfig config() {
    FileLoggerConfig c;
    c.workDir = dir.path();
    c.outputDir = dir.path();
    c.filenameFormat = "t<REV>.<DATETIME>.log";
    c.datetimeFormat = "%H";
    return c;
  }
  WallClock clock() {
    return [this] { return now; };
  }
  TempDir dir;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::from_time_t(1700000000);  // 22:13:20
};

TEST_F(FileLoggerTest, OpensOnFirstUseAndRotatesWhenTheNameChanges) {
  FileLogger f(config(), clock());
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::NotOpen);
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("t-000000.22.log"));
  f.write("a\n");
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::None);
  now += 1h;
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::NewName);
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("t-000000.23.log"));  // new name: revision 0 again
  f.write("b\n");
  f.close();
  EXPECT_EQ(slurp(dir.file("t-000000.22.log")), "a\n");
  EXPECT_EQ(slurp(dir.file("t-000000.23.log")), "b\n");
}

TEST_F(FileLoggerTest, RotatesBySizeOnlyOnceOverTheLimitAndBumpsRev) {
  auto c = config();
  c.rotateSize = 4;
  FileLogger f(c, clock());
  f.rotate();
  f.write("abcd");
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::None);  // == size is not over it
  f.write("e");
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::Size);
  f.rotate();
  EXPECT_EQ(f.rev(), 1u);
  EXPECT_EQ(f.workPath(), dir.file("t-000001.22.log"));
}

TEST_F(FileLoggerTest, RotatesByInterval) {
  auto c = config();
  c.rotateInterval = 10s;
  FileLogger f(c, clock());
  f.rotate();
  now += 10s;
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::None);
  now += 1s;
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::Interval);
  f.rotate();
  EXPECT_EQ(f.rev(), 1u);
  now += 5s;
  EXPECT_EQ(f.needsRotation(), FileLogger::Rotation::None);  // interval counts from the new open
}

TEST_F(FileLoggerTest, PlainFilesAppendButSkipOnesOverRotateSize) {
  { std::ofstream(dir.file("t.22.log")) << "old\n"; }
  auto c = config();
  c.filenameFormat = "t.<DATETIME>.log";  // no <REV> needed without rotation
  {
    FileLogger f(c, clock());
    f.rotate();
    f.write("new\n");
  }
  EXPECT_EQ(slurp(dir.file("t.22.log")), "old\nnew\n");
  { std::ofstream(dir.file("t-000000.22.log")) << "0123456789\n"; }
  c = config();
  c.rotateSize = 5;
  FileLogger f(c, clock());
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("t-000001.22.log"));
}

TEST_F(FileLoggerTest, GzipAndIntervalNeverReuseAnExistingFile) {
  { std::ofstream(dir.file("t-000000.22.log")) << "x"; }
  auto c = config();
  c.rotateInterval = 1h;
  FileLogger f(c, clock());
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("t-000001.22.log"));
  EXPECT_EQ(slurp(dir.file("t-000000.22.log")), "x");
}

TEST_F(FileLoggerTest, GzipWritesOneMemberPerSync) {
  auto c = config();
  c.gzip = true;
  c.gzipLevel = 9;
  FileLogger f(c, clock());
  f.rotate();
  f.write("one\n");
  f.sync();
  f.sync();  // nothing new: no empty member
  f.write("two\n");
  f.write("three\n");
  EXPECT_EQ(f.size(), 14);  // message bytes, not compressed bytes
  f.close();
  int members = 0;
  EXPECT_EQ(gunzipAll(slurp(dir.file("t-000000.22.log")), &members), "one\ntwo\nthree\n");
  EXPECT_EQ(members, 2);
}

TEST_F(FileLoggerTest, GzipFileWithoutMessagesIsStillValid) {
  auto c = config();
  c.gzip = true;
  {
    FileLogger f(c, clock());
    f.rotate();
  }
  EXPECT_EQ(gunzipAll(slurp(dir.file("t-000000.22.log"))), "");
}

TEST_F(FileLoggerTest, MovesClosedFilesIntoTheOutputDirWithoutOverwriting) {
  TempDir out;
  auto c = config();
  c.outputDir = out.path();
  c.filenameFormat = "sub/t<REV>.<DATETIME>.log";
  FileLogger f(c, clock());
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("sub/t-000000.22.log"));
  f.write("a\n");
  // Someone else takes the name in the output dir while the file is open.
  { std::ofstream(out.file("sub/t-000000.22.log")) << "theirs"; }
  f.close();
  EXPECT_EQ(f.lastClosedPath(), out.file("sub/t-000001.22.log"));
  EXPECT_EQ(slurp(out.file("sub/t-000001.22.log")), "a\n");
  EXPECT_EQ(slurp(out.file("sub/t-000000.22.log")), "theirs");
  EXPECT_TRUE(listDir(dir.file("sub")).empty());
  // A name already in the output dir is skipped when opening.
  f.rotate();
  EXPECT_EQ(f.workPath(), dir.file("sub/t-000002.22.log"));
}

TEST_F(FileLoggerTest, UnwritableDirectoryThrowsNamingThePath) {
  { std::ofstream(dir.file("plainfile")) << "x"; }
  auto c = config();
  c.workDir = c.outputDir = dir.file("plainfile/sub");
  FileLogger f(c, clock());
  try {
    f.rotate();
    FAIL() << "no error";
  } catch (const FileLoggerError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("plainfile")), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nsq

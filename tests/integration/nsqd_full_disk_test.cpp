// End-to-end findings of a fuzzing probe around full disks and damaged metadata, against the
// real nsqd: draining a queue on a full disk (a 2 MiB tmpfs) needs no space and /ping recovers
// without a publish; in-flight messages journaled by reference survive kill -9; a publish that
// got an error reply is never delivered (PUB, MPUB, DPUB, HTTP /pub and /mpub); a metadata read
// position past the end of its segment is logged with the file and the records skipped.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/nsqd_process.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A tmpfs of `size` mounted on a fresh temp dir; unmounted (lazily, so a leftover process
// cannot keep it busy) and removed by the destructor, whatever the test did.
class Tmpfs {
 public:
  explicit Tmpfs(const char* size) {
    std::string opts = std::string("size=") + size;
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) == 0)
      mounted_ = true;
    else
      error_ = errno;
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  bool mounted() const { return mounted_; }
  int error() const { return error_; }
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  int error_ = 0;
};

#define MOUNT_TMPFS_OR_SKIP(fs, size)                                                             \
  Tmpfs fs(size);                                                                                 \
  if (!fs.mounted()) {                                                                            \
    if (fs.error() == EPERM || fs.error() == EACCES)                                              \
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(fs.error())                  \
                   << "); run as root or with CAP_SYS_ADMIN to test full-disk behaviour";         \
    FAIL() << "mount tmpfs: " << std::strerror(fs.error());                                       \
  }

// Sends a command and returns "OK" or the error frame's text.
std::string reply(V2Client& c, const std::string& line, const std::string& body) {
  c.commandWithBody(line, body);
  TestFrame f = c.readFrame();
  return f.type == FrameType::Response ? f.data : "ERR " + f.data;
}

bool readMessageWithin(V2Client& c, std::chrono::milliseconds d, Message& out) {
  c.tcp().setTimeout(d);
  try {
    TestFrame f = c.readFrame();
    c.tcp().setTimeout(5s);
    if (f.type != FrameType::Message) return false;
    out = f.message();
    return true;
  } catch (const std::runtime_error&) {
    c.tcp().setTimeout(5s);
    return false;
  }
}

std::string ping(int httpPort) { return httpRequest(httpPort, "GET", "/ping").body; }

int64_t bytesUnder(const std::string& dir) {
  int64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) n += static_cast<int64_t>(e.file_size());
  return n;
}

}  // namespace

// Item 1: the in-flight journal used to copy each body popped from the disk queue, so draining
// a full disk failed its journal writes and /ping stayed NOK even after space came back.
TEST(NsqdFullDisk, DrainingAFullDiskNeedsNoSpaceAndHealthComesBackWithoutAPublish) {
  MOUNT_TMPFS_OR_SKIP(tmp, "2m");
  const std::string data = tmp.path() + "/data";
  fs::create_directories(data);
  NsqdProcess nsqd({"--mem-queue-size=0", "--sync-every=1", "--sync-timeout=100ms",
                    "--max-bytes-per-file=65536"},
                   data);
  V2Client consumer(nsqd.tcpPort());
  ASSERT_EQ(consumer.sub("full", "c"), "OK");

  // Fill the disk: MPUBs of 10 while they fit, then single PUBs until one fails too.
  const std::string pad(1000, 'x');
  std::set<std::string> acked, refused;
  int n = 0;
  for (bool batches : {true, false}) {
    V2Client p(nsqd.tcpPort());  // an E_*_FAILED reply closes the connection
    for (;;) {
      ASSERT_LT(n, 5000) << "the 2 MiB file system never filled";
      std::vector<std::string> bodies;
      for (int k = 0; k < (batches ? 10 : 1); ++k) bodies.push_back(std::to_string(n++) + "-" + pad);
      std::string r = batches ? reply(p, "MPUB full", V2Client::mpubBody(bodies)) : reply(p, "PUB full", bodies[0]);
      (r == "OK" ? acked : refused).insert(bodies.begin(), bodies.end());
      if (r == "OK") continue;
      EXPECT_NE(r.find(batches ? "E_MPUB_FAILED" : "E_PUB_FAILED"), std::string::npos) << r;
      break;
    }
  }
  ASSERT_GT(acked.size(), 100u);
  EXPECT_EQ(ping(nsqd.httpPort()).substr(0, 6), "NOK - ");

  // Drain everything. Only the journal's small records are written meanwhile.
  consumer.rdy(50);
  std::set<std::string> got;
  Message m;
  while (got.size() < acked.size() && readMessageWithin(consumer, 3s, m)) {
    std::string body(m.body.view());
    EXPECT_FALSE(refused.count(body)) << "a refused message was delivered: " << body.substr(0, 12);
    got.insert(body);
    consumer.fin(m.id);
  }
  EXPECT_EQ(got.size(), acked.size()) << nsqd.logs();
  for (const auto& a : acked) ASSERT_TRUE(got.count(a)) << a.substr(0, 12) << "\n" << nsqd.logs();
  EXPECT_FALSE(readMessageWithin(consumer, 300ms, m)) << "extra message " << std::string(m.body.view()).substr(0, 12);

  // Nobody publishes, yet /ping recovers: the queue's owed sync and the journal's next write
  // succeed now that the drained segments are gone.
  EXPECT_TRUE(eventually([&] { return ping(nsqd.httpPort()) == "OK"; }, 5s))
      << ping(nsqd.httpPort()) << "\n" << nsqd.logs();
  EXPECT_TRUE(eventually([&] { return bytesUnder(data) < 256 * 1024; }, 5s)) << bytesUnder(data);
  const std::string journal = data + "/full:c.journal.dat";
  if (fs::exists(journal)) {
    EXPECT_LT(fs::file_size(journal), 256u * 1024);
  }
}

// Item 1, the guarantee: messages popped from the disk queue are journaled by reference (their
// segment is kept); kill -9 with durable settings loses none that was not finished.
TEST(NsqdFullDisk, InFlightMessagesJournaledByReferenceSurviveKill9) {
  NsqdProcess nsqd({"--mem-queue-size=0", "--sync-every=1", "--max-bytes-per-file=4096"});
  std::set<std::string> unfinished;
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("ref", "c"), "OK");
    V2Client p(nsqd.tcpPort());
    std::vector<std::string> bodies;
    for (int i = 0; i < 40; ++i) bodies.push_back(std::to_string(i) + "-" + std::string(700, 'r'));
    ASSERT_EQ(p.mpub("ref", bodies), "OK");  // ~8 segments
    c.rdy(40);
    for (int i = 0; i < 40; ++i) {
      Message m = c.readMessage();
      if (i % 3 == 0)
        c.fin(m.id);
      else
        unfinished.insert(std::string(m.body.view()));
    }
    std::this_thread::sleep_for(300ms);  // the FINs and a sync reach nsqd; read segments go
  }
  const std::string journal = nsqd.dataPath() + "/ref:c.journal.dat";
  ASSERT_TRUE(fs::exists(journal));
  EXPECT_LT(fs::file_size(journal), 40u * 100) << "the journal copied message bodies";
  nsqd.process().stop(9);
  nsqd.restart();
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("ref", "c"), "OK");
  c.rdy(100);
  std::set<std::string> got;
  Message m;
  while (readMessageWithin(c, 1s, m)) {
    got.insert(std::string(m.body.view()));
    c.fin(m.id);
  }
  for (const auto& u : unfinished) EXPECT_TRUE(got.count(u)) << "lost " << u.substr(0, 6) << "\n" << nsqd.logs();
}

// Item 2: data written, then the sync a durable publish owes fails (the metadata cannot be
// written), or the journal of a deferred one cannot be opened: an error reply must mean the
// message is never delivered, so a client that retries gets no duplicate.
TEST(NsqdFullDisk, PublishesAnsweredWithAnErrorAreNeverDelivered) {
  NsqdProcess nsqd({"--mem-queue-size=0", "--sync-every=1"});
  const std::string dir = nsqd.dataPath();
  const int http = nsqd.httpPort();
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("dup", "c"), "OK");  // the channel exists; messages wait in it
  }
  V2Client ok(nsqd.tcpPort());
  ASSERT_EQ(ok.pub("dup", "before"), "OK");
  const std::string meta = dir + "/dup:c.diskqueue.meta.dat", journal = dir + "/dup:c.journal.dat";
  ASSERT_TRUE(fs::exists(meta));
  ASSERT_FALSE(fs::exists(journal));
  fs::remove(meta);
  fs::create_directory(meta);     // every metadata write fails; segment writes still work
  fs::create_directory(journal);  // the journal cannot be created
  {
    V2Client p(nsqd.tcpPort());
    EXPECT_EQ(reply(p, "PUB dup", "pub-refused").substr(0, 16), "ERR E_PUB_FAILED");
  }
  {
    V2Client p(nsqd.tcpPort());
    EXPECT_EQ(reply(p, "MPUB dup", V2Client::mpubBody({"mpub-refused-1", "mpub-refused-2"})).substr(0, 17),
              "ERR E_MPUB_FAILED");
  }
  {
    V2Client p(nsqd.tcpPort());
    EXPECT_EQ(reply(p, "DPUB dup 100", "dpub-refused").substr(0, 17), "ERR E_DPUB_FAILED");
  }
  EXPECT_EQ(httpRequest(http, "POST", "/pub?topic=dup", "http-refused").status, 500);
  EXPECT_EQ(httpRequest(http, "POST", "/mpub?topic=dup", "http-m-refused-1\nhttp-m-refused-2").status, 500);
  EXPECT_EQ(httpRequest(http, "POST", "/pub?topic=dup&defer=100", "http-dpub-refused").status, 500);
  EXPECT_EQ(ping(http).substr(0, 6), "NOK - ");

  fs::remove(meta);
  fs::remove(journal);
  V2Client p(nsqd.tcpPort());
  ASSERT_EQ(p.pub("dup", "after"), "OK");
  EXPECT_EQ(ping(http), "OK");
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("dup", "c"), "OK");
  c.rdy(20);
  std::vector<std::string> got;
  Message m;
  while (readMessageWithin(c, 600ms, m)) {  // past the refused deferred messages' 100 ms
    got.emplace_back(m.body.view());
    c.fin(m.id);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"before", "after"})) << nsqd.logs();
}

// Item 3: a metadata read position past the end of its segment skips that segment's records;
// it used to do so without a word.
TEST(NsqdFullDisk, ReadPositionPastItsSegmentIsLoggedWithFileAndCount) {
  NsqdProcess nsqd({"--mem-queue-size=0", "--max-bytes-per-file=2048"});
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("meta", "c"), "OK");
    V2Client p(nsqd.tcpPort());
    std::vector<std::string> bodies;
    for (int i = 0; i < 30; ++i) bodies.push_back(std::to_string(100 + i) + std::string(90, 'm'));
    ASSERT_EQ(p.mpub("meta", bodies), "OK");  // 16 records of 127 bytes per 2 KiB segment
  }
  ASSERT_EQ(nsqd.stop(), 0);
  const std::string dir = nsqd.dataPath();
  const std::string seg0 = dir + "/meta:c.diskqueue.000000.dat";
  ASSERT_TRUE(fs::exists(seg0));
  const auto seg1Size = fs::file_size(dir + "/meta:c.diskqueue.000001.dat");
  std::ofstream(dir + "/meta:c.diskqueue.meta.dat", std::ios::trunc)
      << "30\n0,999999\n1," << seg1Size << "\n";
  nsqd.restart();
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("meta", "c"), "OK");
  c.rdy(50);
  int got = 0;
  Message m;
  while (readMessageWithin(c, 500ms, m)) {
    ++got;
    c.fin(m.id);
  }
  EXPECT_EQ(got, 14);
  const std::string logs = nsqd.logs();
  EXPECT_NE(logs.find("read position 999999 is past the end of " + seg0), std::string::npos) << logs;
  EXPECT_NE(logs.find("skipping 16 records (2032 bytes)"), std::string::npos) << logs;
}

// End-to-end durability tests of nsqd: deferred and in-flight messages across graceful stops and
// kill -9, a kill -9 loop under load with --mem-queue-size=0 --sync-every=1, migration from an
// original-format data directory, damaged files, a full disk (tmpfs), and file removal.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "support/nsqd_process.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads frames until a message arrives or `d` passes; heartbeats are answered by skipping.
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

void kill9(NsqdProcess& nsqd) { nsqd.process().stop(9); }

Poco::JSON::Object::Ptr stats(int httpPort) {
  HttpResponse r = httpRequest(httpPort, "GET", "/stats?format=json");
  EXPECT_EQ(r.status, 200) << r.body;
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Object::Ptr findByName(Poco::JSON::Array::Ptr list, const char* key, const std::string& name) {
  for (std::size_t i = 0; list && i < list->size(); ++i) {
    auto o = list->getObject(static_cast<unsigned>(i));
    if (o->getValue<std::string>(key) == name) return o;
  }
  return nullptr;
}

std::vector<std::string> filesWithPrefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  }
  return out;
}

// An original (go-diskqueue) payload: int64 ts, uint16 attempts, 16-byte id, body.
std::string originalPayload(int64_t ts, uint16_t attempts, const std::string& id, const std::string& body) {
  std::string p(26, '\0');
  putUint64(p.data(), static_cast<uint64_t>(ts));
  putUint16(p.data() + 8, attempts);
  std::memcpy(p.data() + 10, id.data(), 16);
  return p + body;
}

// Writes <name>.diskqueue.000000.dat ([int32 len][payload]...) and its text metadata.
void writeOriginalQueue(const std::string& dir, const std::string& name, const std::vector<std::string>& payloads) {
  std::string data;
  for (const auto& p : payloads) {
    char len[4];
    putUint32(len, static_cast<uint32_t>(p.size()));
    data.append(len, 4);
    data += p;
  }
  std::ofstream(dir + "/" + name + ".diskqueue.000000.dat", std::ios::binary) << data;
  std::ofstream(dir + "/" + name + ".diskqueue.meta.dat")
      << payloads.size() << "\n0,0\n0," << data.size() << "\n";
}

}  // namespace

// ---- deferred and in-flight messages ----

TEST(NsqdDurability, DeferredMessagesSurviveKill9AndKeepTheirTime) {
  NsqdProcess nsqd;
  int64_t due;
  {
    V2Client sub(nsqd.tcpPort());
    ASSERT_EQ(sub.sub("later", "c"), "OK");  // channel exists: it defers the message itself
    V2Client p(nsqd.tcpPort());
    due = wallMs() + 3000;
    ASSERT_EQ(p.dpub("later", 3000, "channel-deferred"), "OK");
    ASSERT_EQ(p.dpub("waiting", 3000, "topic-deferred"), "OK");  // no channel yet: waits in the topic
  }
  kill9(nsqd);
  nsqd.restart();
  V2Client a(nsqd.tcpPort()), b(nsqd.tcpPort());
  ASSERT_EQ(a.sub("later", "c"), "OK");
  ASSERT_EQ(b.sub("waiting", "c"), "OK");
  a.rdy(10);
  b.rdy(10);
  for (V2Client* c : {&a, &b}) {
    Message m;
    ASSERT_TRUE(readMessageWithin(*c, 8s, m)) << nsqd.logs();
    int64_t at = wallMs();
    EXPECT_GE(at, due - 150) << "delivered early";  // scanner granularity is 100 ms
    EXPECT_LE(at, due + 3000);
    EXPECT_EQ(m.attempts, 1);
    c->fin(m.id);
  }
}

TEST(NsqdDurability, InFlightAndRequeuedMessagesSurviveKill9WithAttempts) {
  NsqdProcess nsqd({"--mem-queue-size=0", "--sync-every=1"});
  int64_t reqDue;
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("inflight", "c"), "OK");
    V2Client p(nsqd.tcpPort());
    ASSERT_EQ(p.pub("inflight", "kept-in-flight"), "OK");
    ASSERT_EQ(p.pub("inflight", "requeued"), "OK");
    c.rdy(2);
    Message m1 = c.readMessage(), m2 = c.readMessage();
    EXPECT_EQ(m1.attempts, 1);
    Message req = std::string(m1.body.view()) == "requeued" ? m1 : m2;
    reqDue = wallMs() + 2500;
    c.req(req.id, 2500);
    std::this_thread::sleep_for(200ms);  // let the REQ reach nsqd; the other stays in flight
  }
  kill9(nsqd);
  nsqd.restart();
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("inflight", "c"), "OK");
  c.rdy(10);
  Message m;
  ASSERT_TRUE(readMessageWithin(c, 3s, m)) << nsqd.logs();
  EXPECT_EQ(std::string(m.body.view()), "kept-in-flight");
  EXPECT_EQ(m.attempts, 2);
  c.fin(m.id);
  ASSERT_TRUE(readMessageWithin(c, 6s, m));
  EXPECT_EQ(std::string(m.body.view()), "requeued");
  EXPECT_GE(wallMs(), reqDue - 150) << "requeue delay not kept";
  EXPECT_EQ(m.attempts, 2);
  c.fin(m.id);
}

// With the default --sync-every a message popped from disk is not journaled while in flight:
// its record stays in the disk queue (the committed read position stops before it), so kill -9
// delivers it again from there. A message that left flight unfinished is journaled when it
// leaves (a REQ keeps its delay and attempts).
TEST(NsqdDurability, InFlightMessagesPoppedFromDiskSurviveKill9WithTheDefaultSyncEvery) {
  // A short --sync-timeout: the disk queue records its read position before the kill.
  NsqdProcess nsqd({"--mem-queue-size=0", "--sync-timeout=100ms"});
  int64_t reqDue;
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("held", "c"), "OK");
    V2Client p(nsqd.tcpPort());
    ASSERT_EQ(p.mpub("held", {"kept-in-flight", "finished", "requeued"}), "OK");
    c.rdy(3);
    std::map<std::string, Message> got;
    for (int i = 0; i < 3; ++i) {
      Message m = c.readMessage();
      EXPECT_EQ(m.attempts, 1);
      got[std::string(m.body.view())] = m;
    }
    ASSERT_EQ(got.size(), 3u);
    c.fin(got["finished"].id);
    reqDue = wallMs() + 2500;
    c.req(got["requeued"].id, 2500);
    std::this_thread::sleep_for(600ms);  // the FIN and REQ reach nsqd, and its timed syncs run
  }
  kill9(nsqd);
  nsqd.restart();
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("held", "c"), "OK");
  c.rdy(10);
  std::set<std::string> seen;  // "finished" may come again too: at least once
  Message m;
  while (!(seen.count("kept-in-flight") && seen.count("requeued")) && readMessageWithin(c, 6s, m)) {
    const std::string body(m.body.view());
    if (body == "requeued") {
      EXPECT_GE(wallMs(), reqDue - 150) << "requeue delay not kept";
      EXPECT_EQ(m.attempts, 2);
    }
    seen.insert(body);
    c.fin(m.id);
  }
  EXPECT_EQ(seen.count("kept-in-flight"), 1u) << nsqd.logs();
  EXPECT_EQ(seen.count("requeued"), 1u) << nsqd.logs();
}

TEST(NsqdDurability, GracefulStopKeepsDeferredDelaysAndInFlightAttempts) {
  NsqdProcess nsqd;
  int64_t due;
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("graceful", "c"), "OK");
    V2Client p(nsqd.tcpPort());
    ASSERT_EQ(p.pub("graceful", "in-flight"), "OK");
    c.rdy(1);
    EXPECT_EQ(c.readMessage().attempts, 1);
    due = wallMs() + 3000;
    ASSERT_EQ(p.dpub("graceful", 3000, "deferred"), "OK");
    EXPECT_EQ(nsqd.stop(), 0);
  }
  nsqd.restart();
  V2Client c(nsqd.tcpPort());
  ASSERT_EQ(c.sub("graceful", "c"), "OK");
  c.rdy(10);
  Message m;
  ASSERT_TRUE(readMessageWithin(c, 3s, m));
  EXPECT_EQ(std::string(m.body.view()), "in-flight");
  EXPECT_EQ(m.attempts, 2);
  c.fin(m.id);
  ASSERT_TRUE(readMessageWithin(c, 6s, m));
  EXPECT_EQ(std::string(m.body.view()), "deferred");
  EXPECT_GE(wallMs(), due - 150) << "deferred message lost its delay";
  c.fin(m.id);
}

// ---- kill -9 under load ----

// Under both ways of keeping a message popped from disk while it is in flight: journaled before
// it is sent (--sync-every=1), or its disk record held until it is finished (the default).
class Kill9Loop : public ::testing::TestWithParam<const char*> {};

TEST_P(Kill9Loop, UnderLoadLosesNoAcknowledgedMessage) {
  NsqdProcess nsqd({"--mem-queue-size=0", GetParam(), "--msg-timeout=3s"});
  const int port = nsqd.tcpPort();
  std::mutex mu;
  std::set<std::string> acked;
  std::set<std::string> received;
  uint64_t deliveries = 0;
  std::atomic<bool> publishing{true};
  std::atomic<bool> consuming{true};
  { V2Client c(port); ASSERT_EQ(c.sub("load", "c"), "OK"); }

  auto publisher = [&](int id) {
    int seq = 0;
    while (publishing) {
      try {
        V2Client p(port);
        while (publishing) {
          if (seq % 3 == 0) {
            std::vector<std::string> bodies;
            for (int k = 0; k < 5; ++k) bodies.push_back("p" + std::to_string(id) + "-" + std::to_string(seq++));
            if (p.mpub("load", bodies) == "OK") {
              std::lock_guard lock(mu);
              acked.insert(bodies.begin(), bodies.end());
            }
          } else {
            std::string b = "p" + std::to_string(id) + "-" + std::to_string(seq++);
            if (p.pub("load", b) == "OK") {
              std::lock_guard lock(mu);
              acked.insert(b);
            }
          }
        }
      } catch (const std::exception&) {
        std::this_thread::sleep_for(20ms);  // nsqd is down or restarting
      }
    }
  };
  auto consumer = [&] {
    while (consuming) {
      try {
        V2Client c(port);
        if (c.sub("load", "c") != "OK") continue;
        c.rdy(50);
        c.tcp().setTimeout(1s);
        while (consuming) {
          TestFrame f = c.readFrame();
          if (f.type != FrameType::Message) continue;
          Message m = f.message();
          {
            std::lock_guard lock(mu);
            received.insert(std::string(m.body.view()));
            ++deliveries;
          }
          c.fin(m.id);
        }
      } catch (const std::exception&) {
        std::this_thread::sleep_for(20ms);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back(publisher, i);
  threads.emplace_back(consumer);

  const int rounds = 5;
  for (int round = 0; round < rounds; ++round) {
    std::this_thread::sleep_for(1200ms);
    kill9(nsqd);
    nsqd.restart();
  }
  std::this_thread::sleep_for(500ms);
  publishing = false;
  threads[0].join();
  threads[1].join();
  std::size_t okCount;
  {
    std::lock_guard lock(mu);
    okCount = acked.size();
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::vector<std::string> missing;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    std::lock_guard lock(mu);
    missing.clear();
    for (const auto& b : acked)
      if (!received.count(b)) missing.push_back(b);
    if (missing.empty()) break;
  }
  consuming = false;
  threads[2].join();
  std::lock_guard lock(mu);
  std::cout << "[ kill -9 loop ] rounds=" << rounds << " acked=" << okCount
            << " received(distinct)=" << received.size() << " deliveries=" << deliveries
            << " duplicates=" << (deliveries - received.size()) << " missing=" << missing.size() << "\n";
  RecordProperty("acked", static_cast<int>(okCount));
  RecordProperty("deliveries", static_cast<int>(deliveries));
  EXPECT_GT(okCount, 100u);
  EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged messages lost, e.g. " << missing.front()
                               << "\n" << nsqd.logs();
}

INSTANTIATE_TEST_SUITE_P(NsqdDurability, Kill9Loop, ::testing::Values("--sync-every=1", "--sync-every=2500"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.index == 0 ? "JournaledDeliveries" : "HeldDiskRecords");
                         });

// ---- migration from an original data directory ----

TEST(NsqdDurability, MigratesAnOriginalDataDirectory) {
  TempDir dir;
  {
    std::ofstream(dir.file("nsqd.dat"))
        << R"({"topics":[{"channels":[{"name":"live","paused":false},{"name":"held","paused":true}],)"
        << R"("name":"old","paused":true},{"channels":null,"name":"plain","paused":false}],"version":"1.2.1"})";
    std::vector<std::string> topicMsgs, channelMsgs;
    const int64_t ts = 1700000000000000000;
    for (int i = 0; i < 5; ++i) {
      char id[17];
      std::snprintf(id, sizeof id, "0000000000000a%02d", i);
      topicMsgs.push_back(originalPayload(ts, 0, id, "topic-" + std::to_string(i)));
      std::snprintf(id, sizeof id, "0000000000000b%02d", i);
      channelMsgs.push_back(originalPayload(ts, 3, id, "channel-" + std::to_string(i)));
    }
    writeOriginalQueue(dir.path(), "old", topicMsgs);
    writeOriginalQueue(dir.path(), "old:live", channelMsgs);
  }
  NsqdProcess nsqd({}, dir.path());
  auto topics = stats(nsqd.httpPort())->getArray("topics");
  auto old = findByName(topics, "topic_name", "old");
  ASSERT_TRUE(old);
  EXPECT_TRUE(findByName(topics, "topic_name", "plain"));
  EXPECT_TRUE(old->getValue<bool>("paused"));
  EXPECT_EQ(old->getValue<int64_t>("depth"), 5);
  auto live = findByName(old->getArray("channels"), "channel_name", "live");
  auto held = findByName(old->getArray("channels"), "channel_name", "held");
  ASSERT_TRUE(live && held);
  EXPECT_FALSE(live->getValue<bool>("paused"));
  EXPECT_TRUE(held->getValue<bool>("paused"));
  EXPECT_EQ(live->getValue<int64_t>("depth"), 5);

  V2Client a(nsqd.tcpPort()), b(nsqd.tcpPort());
  ASSERT_EQ(a.sub("old", "live"), "OK");
  ASSERT_EQ(b.sub("old", "held"), "OK");
  a.rdy(100);
  b.rdy(100);
  std::set<std::string> gotLive;
  for (int i = 0; i < 5; ++i) {
    Message m = a.readMessage();
    EXPECT_EQ(m.attempts, 4) << "attempts not kept";  // 3 on disk, +1 for this delivery
    EXPECT_EQ(m.timestamp, 1700000000000000000);
    gotLive.insert(std::string(m.body.view()));
    a.fin(m.id);
  }
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/topic/unpause?topic=old").status, 200);
  for (int i = 0; i < 5; ++i) {
    Message m = a.readMessage();
    gotLive.insert(std::string(m.body.view()));
    a.fin(m.id);
  }
  EXPECT_EQ(gotLive.size(), 10u);
  Message m;
  EXPECT_FALSE(readMessageWithin(b, 500ms, m)) << "paused channel delivered";
  ASSERT_EQ(httpRequest(nsqd.httpPort(), "POST", "/channel/unpause?topic=old&channel=held").status, 200);
  std::set<std::string> gotHeld;
  for (int i = 0; i < 5; ++i) {
    Message hm = b.readMessage();
    gotHeld.insert(std::string(hm.body.view()));
    b.fin(hm.id);
  }
  EXPECT_EQ(gotHeld, (std::set<std::string>{"topic-0", "topic-1", "topic-2", "topic-3", "topic-4"}));
}

// ---- damaged files ----

TEST(NsqdDurability, DamagedChannelSegmentLosesOnlyTheBadRecords) {
  NsqdProcess nsqd({"--mem-queue-size=0"});
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("dmg", "c"), "OK");
    V2Client c2(nsqd.tcpPort());
    ASSERT_EQ(c2.sub("dmg", "other"), "OK");
  }
  V2Client p(nsqd.tcpPort());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(p.pub("dmg", "msg-" + std::to_string(i)), "OK");
  ASSERT_EQ(nsqd.stop(), 0);
  // Version-1 segment: 8-byte header, then records of 8 + 26 + 5 bytes.
  const std::string seg = nsqd.dataPath() + "/dmg:c.diskqueue.000000.dat";
  ASSERT_EQ(fs::file_size(seg), 8u + 10u * 39u);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 4 * 39 + 8 + 26 + 2);
    f.put('X');  // garble the body of record 4
  }
  fs::resize_file(seg, fs::file_size(seg) - 5);  // tear the final record
  nsqd.restart();
  V2Client c(nsqd.tcpPort()), o(nsqd.tcpPort());
  ASSERT_EQ(c.sub("dmg", "c"), "OK");
  ASSERT_EQ(o.sub("dmg", "other"), "OK");
  c.rdy(100);
  o.rdy(100);
  std::set<std::string> got, gotOther;
  Message m;
  while (readMessageWithin(c, 1s, m)) {
    got.insert(std::string(m.body.view()));
    c.fin(m.id);
  }
  while (gotOther.size() < 10 && readMessageWithin(o, 2s, m)) {
    gotOther.insert(std::string(m.body.view()));
    o.fin(m.id);
  }
  std::set<std::string> want;
  for (int i : {0, 1, 2, 3, 5, 6, 7, 8}) want.insert("msg-" + std::to_string(i));
  EXPECT_EQ(got, want);
  EXPECT_EQ(gotOther.size(), 10u) << "the other channel's queue must keep serving";
  std::string logs = nsqd.logs();
  EXPECT_NE(logs.find("corrupt data in " + seg + " at offset " + std::to_string(8 + 4 * 39)), std::string::npos) << logs;
  EXPECT_NE(logs.find("torn final record in " + seg + " at offset " + std::to_string(8 + 9 * 39)), std::string::npos)
      << logs;
  // Publishing still works on the damaged queue.
  V2Client p2(nsqd.tcpPort());
  ASSERT_EQ(p2.pub("dmg", "after"), "OK");
  ASSERT_TRUE(readMessageWithin(c, 2s, m));
  EXPECT_EQ(std::string(m.body.view()), "after");
}

TEST(NsqdDurability, StaleMetadataAndChangedMaxBytesPerFileLoseNothing) {
  TempDir dir;
  std::set<std::string> published;
  auto pubN = [&](NsqdProcess& n, int from, int count) {
    V2Client p(n.tcpPort());
    for (int i = from; i < from + count; ++i) {
      std::string b = "m-" + std::to_string(i);
      ASSERT_EQ(p.pub("meta", b), "OK");
      published.insert(b);
    }
  };
  const std::string meta = dir.path() + "/meta:c.diskqueue.meta.dat";
  std::string oldMeta;
  {
    NsqdProcess n({"--mem-queue-size=0", "--max-bytes-per-file=200"}, dir.path());
    { V2Client c(n.tcpPort()); ASSERT_EQ(c.sub("meta", "c"), "OK"); }
    pubN(n, 0, 20);
    ASSERT_EQ(n.stop(), 0);
    std::ifstream in(meta);
    oldMeta.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_FALSE(oldMeta.empty());
  }
  {
    NsqdProcess n({"--mem-queue-size=0", "--max-bytes-per-file=1000"}, dir.path());
    pubN(n, 20, 20);
    ASSERT_EQ(n.stop(), 0);
  }
  std::ofstream(meta, std::ios::trunc) << oldMeta;  // metadata now older than the data
  NsqdProcess n({"--mem-queue-size=0", "--max-bytes-per-file=300"}, dir.path());
  V2Client c(n.tcpPort());
  ASSERT_EQ(c.sub("meta", "c"), "OK");
  c.rdy(100);
  std::set<std::string> got;
  Message m;
  while (got.size() < published.size() && readMessageWithin(c, 2s, m)) {
    got.insert(std::string(m.body.view()));
    c.fin(m.id);
  }
  EXPECT_EQ(got, published) << n.logs();
}

// ---- full disk ----

// A 2 MiB tmpfs of which a filler file takes 1.5 MiB, unmounted at the end: a data directory
// that fills after about half a MiB. failure says why it could not be mounted (skip the test
// when permissionDenied).
struct NearlyFullDisk {
  NearlyFullDisk() {
    if (::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=2m") != 0) {
      permissionDenied = errno == EPERM;
      failure = std::string("mount tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted = true;
    fs::create_directories(data());
    std::ofstream filler(dir.path() + "/filler", std::ios::binary);
    std::string mb(1024 * 1024, 'f');
    filler << mb;
    filler.write(mb.data(), 512 * 1024);
  }
  ~NearlyFullDisk() {
    if (mounted) ::umount2(dir.path().c_str(), MNT_DETACH);
  }
  std::string data() const { return dir.path() + "/data"; }
  void makeRoom() const { fs::remove(dir.path() + "/filler"); }

  TempDir dir;
  bool mounted = false;
  bool permissionDenied = false;
  std::string failure;
};

TEST(NsqdDurability, FullDiskFailsPublishesKeepsServingAndRecovers) {
  NearlyFullDisk disk;
  if (disk.permissionDenied) GTEST_SKIP() << disk.failure;
  ASSERT_TRUE(disk.failure.empty()) << disk.failure;
  const std::string data = disk.data();
  std::set<std::string> acked;
  {
    NsqdProcess nsqd({"--mem-queue-size=0", "--max-bytes-per-file=65536"}, data);
    { V2Client c(nsqd.tcpPort()); ASSERT_EQ(c.sub("full", "c"), "OK"); }
    V2Client p(nsqd.tcpPort());
    std::string pad(1000, 'x');
    bool failed = false;
    for (int i = 0; i < 5000 && !failed; ++i) {
      std::string b = std::to_string(i) + "-" + pad;
      p.commandWithBody("PUB full", b);
      TestFrame f = p.readFrame();
      if (f.type == FrameType::Response) {
        acked.insert(b);
      } else {
        EXPECT_EQ(f.data.substr(0, 12), "E_PUB_FAILED") << f.data;
        failed = true;
      }
    }
    ASSERT_TRUE(failed) << "the 2 MiB file system never filled";
    ASSERT_GT(acked.size(), 10u);
    HttpResponse ping = httpRequest(nsqd.httpPort(), "GET", "/ping");
    EXPECT_EQ(ping.status, 500);
    EXPECT_EQ(ping.body.substr(0, 6), "NOK - ") << ping.body;
    HttpResponse hp = httpRequest(nsqd.httpPort(), "POST", "/pub?topic=full", "http-" + pad);
    EXPECT_EQ(hp.status, 500) << hp.body;

    // Reads keep working on the full disk.
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("full", "c"), "OK");
    c.rdy(100);
    std::set<std::string> got;
    for (int i = 0; i < 20; ++i) {
      Message m = c.readMessage();
      got.insert(std::string(m.body.view()));
      c.fin(m.id);
    }
    EXPECT_EQ(got.size(), 20u);

    disk.makeRoom();  // space returns
    std::string b = "after-" + pad;
    V2Client p2(nsqd.tcpPort());  // E_PUB_FAILED is fatal: the first connection is closed
    ASSERT_EQ(p2.pub("full", b), "OK");
    acked.insert(b);
    ping = httpRequest(nsqd.httpPort(), "GET", "/ping");
    EXPECT_EQ(ping.status, 200);
    EXPECT_EQ(ping.body, "OK");
    Message m;
    while (got.size() < acked.size() && readMessageWithin(c, 3s, m)) {
      got.insert(std::string(m.body.view()));
      c.fin(m.id);
    }
    for (const auto& a : acked) EXPECT_TRUE(got.count(a)) << a.substr(0, 12);
    nsqd.stop();
  }
}

// Two channels spill every publish to disk, and their batches are written after the topic lock
// is released, by two publishers at once, until the disk is full: a publish answered OK is in
// both channels, one answered with an error in neither (a batch lying past one that failed is
// taken back with it, so its publisher is told too).
TEST(NsqdDurability, FullDiskWithTwoChannelsAndTwoPublishersStoresEachBatchInBothOrNeither) {
  NearlyFullDisk disk;
  if (disk.permissionDenied) GTEST_SKIP() << disk.failure;
  ASSERT_TRUE(disk.failure.empty()) << disk.failure;
  const std::string data = disk.data();
  NsqdProcess nsqd({"--mem-queue-size=0", "--max-bytes-per-file=65536"}, data);
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("both", "c1"), "OK");
    V2Client d(nsqd.tcpPort());
    ASSERT_EQ(d.sub("both", "c2"), "OK");
  }
  std::mutex mu;
  std::set<std::string> acked, refused;
  auto publisher = [&](int who) {
    V2Client p(nsqd.tcpPort());
    const std::string pad(1000, 'x');
    for (int batch = 0; batch < 2000; ++batch) {
      std::vector<std::string> bodies;
      for (int i = 0; i < 10; ++i)
        bodies.push_back(std::to_string(who) + "-" + std::to_string(batch) + "-" + std::to_string(i) + "-" + pad);
      p.commandWithBody("MPUB both", V2Client::mpubBody(bodies));
      TestFrame f = p.readFrame();
      std::lock_guard lk(mu);
      if (f.type == FrameType::Response) {
        acked.insert(bodies.begin(), bodies.end());
        continue;
      }
      EXPECT_EQ(f.data.substr(0, 13), "E_MPUB_FAILED") << f.data;
      refused.insert(bodies.begin(), bodies.end());
      return;  // fatal: the connection is closed
    }
  };
  std::thread a(publisher, 1), b(publisher, 2);
  a.join();
  b.join();
  ASSERT_FALSE(refused.empty()) << "the 2 MiB file system never filled";
  ASSERT_GT(acked.size(), 10u);
  disk.makeRoom();
  for (const char* channel : {"c1", "c2"}) {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("both", channel), "OK");
    c.rdy(200);
    std::set<std::string> got;
    Message m;
    while (readMessageWithin(c, 1s, m)) {
      got.insert(std::string(m.body.view()));
      c.fin(m.id);
    }
    EXPECT_EQ(got.size(), acked.size()) << channel;
    for (const auto& x : acked) EXPECT_TRUE(got.count(x)) << channel << " lost " << x.substr(0, 12);
    for (const auto& x : refused) EXPECT_FALSE(got.count(x)) << channel << " has refused " << x.substr(0, 12);
  }
  nsqd.stop();
}

// While publishers spill every batch to two channels' disk queues (written outside the topic
// lock), one channel is deleted and created again and the other emptied, over and over: each
// waits, under its channel's lock, for the batches being written (a publisher that took that
// lock again before completing its batch would hang with it), none of it may hang, every publish is answered OK, and a
// graceful stop keeps what the surviving channel holds.
TEST(NsqdDurability, DeletingAndEmptyingSpillingChannelsWhilePublishersWriteNeverHangs) {
  NsqdProcess nsqd({"--mem-queue-size=0", "--max-bytes-per-file=65536"});
  const int http = nsqd.httpPort();
  ASSERT_EQ(httpRequest(http, "POST", "/topic/create?topic=churn").status, 200);
  ASSERT_EQ(httpRequest(http, "POST", "/channel/create?topic=churn&channel=kept").status, 200);
  ASSERT_EQ(httpRequest(http, "POST", "/channel/create?topic=churn&channel=gone").status, 200);
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0}, refused{0};
  auto publisher = [&](int who) {
    V2Client p(nsqd.tcpPort());
    const std::string pad(180, 'x');
    for (int batch = 0; !stop; ++batch) {
      std::vector<std::string> bodies;
      for (int i = 0; i < 20; ++i) bodies.push_back(std::to_string(who) + "-" + std::to_string(batch) + "-" + pad);
      p.commandWithBody("MPUB churn", V2Client::mpubBody(bodies));
      TestFrame f = p.readFrame();
      if (f.type == FrameType::Response) {
        acked += 20;
      } else {
        ADD_FAILURE() << f.data;
        ++refused;
        return;
      }
    }
  };
  std::thread a(publisher, 1), b(publisher, 2);
  int rounds = 0;
  for (auto until = std::chrono::steady_clock::now() + 1500ms; std::chrono::steady_clock::now() < until; ++rounds) {
    EXPECT_EQ(httpRequest(http, "POST", "/channel/delete?topic=churn&channel=gone").status, 200);
    EXPECT_EQ(httpRequest(http, "POST", "/channel/create?topic=churn&channel=gone").status, 200);
    EXPECT_EQ(httpRequest(http, "POST", "/channel/empty?topic=churn&channel=kept").status, 200);
  }
  stop = true;
  a.join();
  b.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_GT(acked.load(), 1000);
  EXPECT_GT(rounds, 5);
  {
    V2Client p(nsqd.tcpPort());
    ASSERT_EQ(p.mpub("churn", std::vector<std::string>(20, "last")), "OK");
  }
  // What "kept" holds now survives a graceful stop, to the message.
  const std::string stats = httpRequest(http, "GET", "/stats?format=json&topic=churn&channel=kept").body;
  auto depthOf = [](const std::string& json) {
    auto at = json.find("\"depth\":", json.find("\"channel_name\":\"kept\""));
    return at == std::string::npos ? -1L : std::stol(json.substr(at + 8));
  };
  const long before = depthOf(stats);
  ASSERT_GE(before, 20) << stats;
  EXPECT_EQ(nsqd.stop(), 0) << nsqd.logs();
  nsqd.restart();
  EXPECT_EQ(depthOf(httpRequest(nsqd.httpPort(), "GET", "/stats?format=json&topic=churn&channel=kept").body), before);
  nsqd.stop();
}

// ---- file removal ----

TEST(NsqdDurability, EmptyingAndDeletingRemoveQueueAndJournalFiles) {
  NsqdProcess nsqd({"--mem-queue-size=0"});
  const std::string dir = nsqd.dataPath();
  int http = nsqd.httpPort();
  {
    V2Client c(nsqd.tcpPort());
    ASSERT_EQ(c.sub("gone", "c"), "OK");
  }
  V2Client p(nsqd.tcpPort());
  ASSERT_EQ(p.pub("gone", "queued"), "OK");
  ASSERT_EQ(p.dpub("gone", 60000, "deferred"), "OK");
  EXPECT_TRUE(fs::exists(dir + "/gone:c.journal.dat"));
  EXPECT_TRUE(fs::exists(dir + "/gone:c.diskqueue.000000.dat"));

  ASSERT_EQ(httpRequest(http, "POST", "/channel/empty?topic=gone&channel=c").status, 200);
  EXPECT_TRUE(filesWithPrefix(dir, "gone:c.").empty());

  ASSERT_EQ(p.pub("gone", "queued"), "OK");
  ASSERT_EQ(p.dpub("gone", 60000, "deferred"), "OK");
  ASSERT_EQ(httpRequest(http, "POST", "/channel/delete?topic=gone&channel=c").status, 200);
  EXPECT_TRUE(filesWithPrefix(dir, "gone:").empty());

  ASSERT_EQ(p.pub("gone", "queued"), "OK");  // no channel: waits in the topic
  ASSERT_EQ(p.dpub("gone", 60000, "deferred"), "OK");
  EXPECT_TRUE(fs::exists(dir + "/gone.journal.dat"));
  ASSERT_EQ(httpRequest(http, "POST", "/topic/empty?topic=gone").status, 200);
  EXPECT_TRUE(filesWithPrefix(dir, "gone.").empty());
  ASSERT_EQ(p.dpub("gone", 60000, "deferred"), "OK");
  ASSERT_EQ(httpRequest(http, "POST", "/topic/delete?topic=gone").status, 200);
  EXPECT_TRUE(filesWithPrefix(dir, "gone").empty());
}

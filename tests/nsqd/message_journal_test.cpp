// MessageJournal: replay of ADD/UPDATE/DONE, torn and garbled records, compaction, clear.
#include "nsqd/message_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

using namespace nsq;
using namespace nsq::nsqd;
using nsq::test::TempDir;
namespace fs = std::filesystem;

namespace {

Message msg(int i, uint16_t attempts = 0) {
  Message m;
  m.id = MessageId::fromGuid(1000 + static_cast<uint64_t>(i));
  m.timestamp = 42 + i;
  m.attempts = attempts;
  m.body = Body("body-" + std::to_string(i));
  return m;
}

struct Fixture {
  TempDir dir;
  std::vector<std::string> errors;
  JournalOptions opts() {
    JournalOptions o;
    o.path = dir.file("t:c.journal.dat");
    o.logError = [this](const std::string& e) { errors.push_back(e); };
    return o;
  }
};

}  // namespace

TEST(MessageJournal, ReplaysLiveEntriesWithAttemptsAndDeadlines) {
  Fixture f;
  {
    MessageJournal j(f.opts());
    EXPECT_TRUE(j.recover().empty());
    for (int i = 0; i < 5; ++i) j.add(msg(i, 1), i == 0 ? 0 : 5000 + i);
    j.update(msg(1).id, 7, 0);
    j.remove(msg(2).id);
    std::string err;
    ASSERT_TRUE(j.flush(&err)) << err;
    j.remove(msg(3).id);
    ASSERT_TRUE(j.close(&err));
  }
  MessageJournal j(f.opts());
  auto entries = j.recover();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].msg.id, msg(0).id);
  EXPECT_EQ(entries[0].wallDeadline, 0);
  EXPECT_EQ(entries[1].msg.attempts, 7);
  EXPECT_EQ(entries[1].wallDeadline, 0);
  EXPECT_EQ(entries[2].msg.id, msg(4).id);
  EXPECT_EQ(entries[2].wallDeadline, 5004);
  EXPECT_EQ(entries[2].msg.body.view(), "body-4");
  EXPECT_EQ(entries[2].msg.timestamp, 46);
  EXPECT_TRUE(j.contains(msg(4).id));
  EXPECT_FALSE(j.contains(msg(2).id));
  EXPECT_TRUE(f.errors.empty());
}

TEST(MessageJournal, UnflushedRecordsAreNotWritten) {
  Fixture f;
  {
    MessageJournal j(f.opts());
    j.recover();
    j.add(msg(0), 0);
  }
  MessageJournal j(f.opts());
  EXPECT_TRUE(j.recover().empty());
}

TEST(MessageJournal, TornFinalRecordIsReportedAndDropped) {
  Fixture f;
  {
    MessageJournal j(f.opts());
    j.recover();
    j.add(msg(0), 0);
    j.add(msg(1), 0);
    std::string err;
    ASSERT_TRUE(j.flush(&err));
  }
  const std::string path = f.opts().path;
  auto size = fs::file_size(path);
  fs::resize_file(path, size - 3);
  MessageJournal j(f.opts());
  auto entries = j.recover();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].msg.id, msg(0).id);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_NE(f.errors[0].find("corrupt data in " + path + " at offset"), std::string::npos) << f.errors[0];
  // Rewritten: a second open finds a clean file.
  f.errors.clear();
  MessageJournal again(f.opts());
  EXPECT_EQ(again.recover().size(), 1u);
  EXPECT_TRUE(f.errors.empty());
}

TEST(MessageJournal, GarbledMiddleRecordCostsOnlyItself) {
  Fixture f;
  int64_t recordSize;
  {
    MessageJournal j(f.opts());
    j.recover();
    j.add(msg(0), 0);
    std::string err;
    ASSERT_TRUE(j.flush(&err));
    recordSize = j.fileBytes() - kJournalHeaderSize;
    j.add(msg(1), 0);
    j.add(msg(2), 0);
    ASSERT_TRUE(j.flush(&err));
  }
  const std::string path = f.opts().path;
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(kJournalHeaderSize + recordSize + recordSize - 2);
    io.put('#');
  }
  MessageJournal j(f.opts());
  auto entries = j.recover();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].msg.id, msg(0).id);
  EXPECT_EQ(entries[1].msg.id, msg(2).id);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_NE(f.errors[0].find("at offset " + std::to_string(kJournalHeaderSize + recordSize)), std::string::npos)
      << f.errors[0];
  EXPECT_TRUE(fs::exists(path + ".bad." + std::to_string(kJournalHeaderSize + recordSize)));
}

TEST(MessageJournal, CompactsWhenTheFileOutgrowsItsLiveSet) {
  Fixture f;
  auto o = f.opts();
  o.compactMinBytes = 4096;
  MessageJournal j(o);
  j.recover();
  std::string err;
  j.add(msg(9999), 123);
  for (int i = 0; i < 2000; ++i) {
    j.add(msg(i), 0);
    j.remove(msg(i).id);
    ASSERT_TRUE(j.flush(&err)) << err;
  }
  EXPECT_LT(j.fileBytes(), 8192);
  MessageJournal r(o);
  auto entries = r.recover();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].wallDeadline, 123);
}

TEST(MessageJournal, SyncIsDueAfterSyncEveryRecords) {
  Fixture f;
  auto o = f.opts();
  o.syncEvery = 3;
  o.syncTimeout = std::chrono::hours(1);
  MessageJournal j(o);
  j.recover();
  std::string err;
  j.add(msg(0), 0);
  j.add(msg(1), 0);
  ASSERT_TRUE(j.flush(&err));
  EXPECT_EQ(j.takeSync(), nullptr);
  j.remove(msg(0).id);
  ASSERT_TRUE(j.flush(&err));
  auto s = j.takeSync();
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->run());
  EXPECT_EQ(j.takeSync(), nullptr);
}

TEST(MessageJournal, ClearRemovesTheFile) {
  Fixture f;
  MessageJournal j(f.opts());
  j.recover();
  j.add(msg(0), 0);
  std::string err;
  ASSERT_TRUE(j.flush(&err));
  EXPECT_TRUE(fs::exists(f.opts().path));
  j.clear();
  EXPECT_FALSE(fs::exists(f.opts().path));
  EXPECT_FALSE(j.contains(msg(0).id));
}

TEST(MessageJournal, RefEntriesReplayWithTheirPositionAndAreResolvedByTheOwner) {
  Fixture f;
  {
    MessageJournal j(f.opts());
    j.recover();
    j.addRef(msg(1, 3), 7, 100, 0);
    j.addRef(msg(2, 1), 8, 8, 0);
    j.add(msg(3), 9000);
    std::string err;
    ASSERT_TRUE(j.close(&err)) << err;
    EXPECT_EQ(j.referencedSegments(), (std::vector<int64_t>{7, 8}));
  }
  MessageJournal j(f.opts());
  std::vector<std::pair<int64_t, int64_t>> asked;
  auto entries = j.recover([&](MessageJournal::Entry& e) {
    asked.emplace_back(e.segment, e.offset);
    EXPECT_TRUE(e.msg.body.view().empty());
    if (e.segment == 8) return false;  // its record is gone
    e.msg.body = Body("from-disk");
    return true;
  });
  EXPECT_EQ(asked, (std::vector<std::pair<int64_t, int64_t>>{{7, 100}, {8, 8}}));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].msg.id, msg(1).id);
  EXPECT_EQ(entries[0].msg.attempts, 3);
  EXPECT_EQ(entries[0].msg.timestamp, msg(1).timestamp);
  EXPECT_EQ(entries[0].msg.body.view(), "from-disk");
  EXPECT_EQ(entries[1].msg.body.view(), "body-3");
  EXPECT_FALSE(j.contains(msg(2).id));
  EXPECT_EQ(j.referencedSegments(), (std::vector<int64_t>{7}));
}

TEST(MessageJournal, ARefRecordCostsTheSameWhateverTheBodySize) {
  Fixture f;
  MessageJournal j(f.opts());
  j.recover();
  Message big = msg(1);
  big.body = Body(std::string(100000, 'x'));
  std::string err;
  j.addRef(big, 0, 8, 0);
  ASSERT_TRUE(j.flush(&err)) << err;
  const int64_t one = j.fileBytes();
  j.addRef(msg(2), 0, 100008, 0);
  ASSERT_TRUE(j.flush(&err)) << err;
  EXPECT_EQ(j.fileBytes() - one, kJournalRecordHeaderSize + 51);
  EXPECT_LT(one, 100);
}

TEST(MessageJournal, ReferencedSegmentsFollowTheLiveEntries) {
  Fixture f;
  MessageJournal j(f.opts());
  j.recover();
  const uint64_t v0 = j.refsVersion();
  j.addRef(msg(1), 3, 8, 0);
  j.addRef(msg(2), 3, 60, 0);
  j.addRef(msg(3), 5, 8, 0);
  EXPECT_EQ(j.referencedSegments(), (std::vector<int64_t>{3, 5}));
  const uint64_t v1 = j.refsVersion();
  EXPECT_NE(v1, v0);
  j.remove(msg(1).id);
  EXPECT_EQ(j.refsVersion(), v1);  // segment 3 is still referred to
  j.add(msg(2), 0);                // replaced by a full copy
  EXPECT_EQ(j.referencedSegments(), (std::vector<int64_t>{5}));
  j.update(msg(3).id, 4, 123);     // REQ with a delay keeps the reference
  EXPECT_EQ(j.referencedSegments(), (std::vector<int64_t>{5}));
  j.clear();
  EXPECT_TRUE(j.referencedSegments().empty());
}

TEST(MessageJournal, AFailedWriteLeavesItDirtyUntilARewriteSucceeds) {
  Fixture f;
  MessageJournal j(f.opts());
  j.recover();
  j.add(msg(1), 0);
  std::string err;
  fs::create_directory(f.opts().path);  // the journal's own path taken: opening it fails
  EXPECT_FALSE(j.flush(&err));
  EXPECT_TRUE(j.dirty());
  EXPECT_TRUE(j.pending());
  fs::remove(f.opts().path);
  ASSERT_TRUE(j.flush(&err)) << err;
  EXPECT_FALSE(j.dirty());
  MessageJournal again(f.opts());
  ASSERT_EQ(again.recover().size(), 1u);
}

TEST(MessageJournal, MoveMarksReplayAndSurviveCompactionUntilTheEntryIsDone) {
  Fixture f;
  const MessageId as = MessageId::fromGuid(777);
  {
    MessageJournal j(f.opts());
    j.recover();
    j.addRef(msg(1, 5), 7, 100, 0);
    j.add(msg(2, 5), 0);
    j.add(msg(3, 5), 0);
    j.markMoving(msg(1).id, as, "orders.dead");
    j.markMoving(msg(2).id, as, "other.dead");
    j.markMoving(msg(9).id, as, "absent.dead");  // not held: no record
    j.remove(msg(2).id);                         // moved: DONE
    std::string err;
    ASSERT_TRUE(j.close(&err)) << err;
  }
  for (int replay = 0; replay < 2; ++replay) {  // the second replay reads the compacted file
    MessageJournal j(f.opts());
    auto entries = j.recover([](MessageJournal::Entry& e) {
      e.msg.body = Body("from-disk");
      return true;
    });
    ASSERT_EQ(entries.size(), 2u) << replay;
    if (entries[0].msg.id != msg(1).id) std::swap(entries[0], entries[1]);  // compaction's order
    EXPECT_EQ(entries[0].msg.id, msg(1).id);
    EXPECT_EQ(entries[0].movingAs, as);
    EXPECT_EQ(entries[0].movingTo, "orders.dead");
    EXPECT_EQ(entries[0].msg.attempts, 5);
    EXPECT_EQ(entries[1].msg.id, msg(3).id);
    EXPECT_TRUE(entries[1].movingTo.empty());
    EXPECT_EQ(entries[1].movingAs, MessageId{});
    std::string err;
    ASSERT_TRUE(j.close(&err)) << err;
  }
  EXPECT_TRUE(f.errors.empty());
}

TEST(MessageJournal, KeepsItsSlotsForAWindowThatDrainsAndRefillsAndGivesABurstsBack) {
  // A consumer with more in flight than kKeepSlots whose window drains to nothing between
  // refills: the journal's slots stay (regrowing them cost a malloc every few entries), and a
  // burst that is over (the next period holds less than half as many) gives its slots back.
  Fixture f;
  MessageJournal j(f.opts());
  (void)j.recover();
  constexpr int kWindow = 5000;  // > kKeepSlots (4096)
  std::size_t capacity = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < kWindow; ++i) j.addRef(msg(round * kWindow + i), 1, 100 + i, 0);
    if (round == 0) capacity = j.slotCapacity();
    for (int i = 0; i < kWindow; ++i) j.remove(msg(round * kWindow + i).id);
    ASSERT_EQ(j.size(), 0u);
    EXPECT_EQ(j.slotCapacity(), capacity) << "round " << round;
  }
  EXPECT_GE(capacity, static_cast<std::size_t>(kWindow));
  for (int i = 0; i < 100; ++i) j.addRef(msg(100000 + i), 1, 100 + i, 0);
  for (int i = 0; i < 100; ++i) j.remove(msg(100000 + i).id);
  EXPECT_EQ(j.slotCapacity(), 0u);  // 5,000 slots after a period of 100: given back
  EXPECT_TRUE(f.errors.empty());
}

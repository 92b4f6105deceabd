// Backlog without nsqd: a small fake StorageContext (options, a health sink that records the
// failing sources, a Syncer that runs each task on its caller) and one queue in a temp dir.
#include "nsqd/backlog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nsqd/clock.h"
#include "nsqd/syncer.h"
#include "support/test_support.h"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;

class RecordingHealth final : public HealthSink {
 public:
  void setHealth(const std::string& source, const std::string& error) override { failing[source] = error; }
  void clearHealth(const std::string& source) override { failing.erase(source); }
  std::map<std::string, std::string> failing;
};

class FakeStorage final : public StorageContext {
 public:
  const NsqdOptions& options() const override { return opts; }
  HealthSink& healthSink() override { return health; }
  Syncer& syncer() override { return syncer_; }

  NsqdOptions opts;
  RecordingHealth health;

 private:
  Syncer syncer_{false};  // never started: tasks run on the caller
};

class BacklogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx.opts.dataPath = dir.path();
    ctx.opts.memQueueSize = 2;
  }

  std::unique_ptr<Backlog> open(std::vector<MessageJournal::Entry>* entries = nullptr,
                                bool durable = true) {
    auto b = std::make_unique<Backlog>(ctx, "q", durable, "backlog(q)", Backlog::PopCommit::AfterJournal);
    auto e = b->open();
    if (entries) *entries = std::move(e);
    return b;
  }

  Message message(const std::string& body) {
    Message m;
    m.id = MessageId::fromGuid(++guid);
    m.timestamp = wallNanos();
    m.body = Body(body);
    return m;
  }

  // Stages, prepares and commits bodies; the first error if any (then aborts).
  Error publish(Backlog& b, const std::vector<std::string>& bodies) {
    SyncScope syncs;
    Error error;
    for (const auto& body : bodies)
      if ((error = b.stage(message(body)))) break;
    if (!error) error = b.prepare(syncs);
    if (error)
      b.abort();
    else
      b.commit();
    return error;
  }

  std::vector<std::string> drain(Backlog& b) {
    std::vector<std::string> out;
    Message m;
    while (b.pop(m)) out.emplace_back(m.body.view());
    return out;
  }

  test::TempDir dir;
  FakeStorage ctx;
  uint64_t guid = 0;
};

TEST_F(BacklogTest, KeepsMessagesInMemoryUpToMemQueueSizeThenSpillsToDisk) {
  auto b = open();
  ASSERT_FALSE(publish(*b, {"a", "b", "c", "d", "e"}));
  EXPECT_EQ(b->memorySize(), 2u);
  EXPECT_EQ(b->diskDepth(), 3);
  EXPECT_EQ(b->depth(), 5);
  EXPECT_EQ(drain(*b), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(b->depth(), 0);
}

// stage(msg, &unbuilt): the body is still the caller's bytes. Kept in memory, it gets a copy of its
// own; spilled, its record is encoded from the bytes. The caller's buffer is reused at once.
TEST_F(BacklogTest, AnUnbuiltBodyIsCopiedWhenKeptInMemoryAndEncodedWhenSpilled) {
  auto b = open();
  SyncScope syncs;
  std::string buffer;
  EXPECT_FALSE(b->spilling());
  for (const char* body : {"first", "second", "third", "fourth"}) {
    buffer = body;
    Message m = message("");
    m.body = Body();
    const UnbuiltBody unbuilt{buffer, {}};
    ASSERT_FALSE(b->stage(std::move(m), &unbuilt));
    buffer.assign(buffer.size(), '#');  // the publisher's input buffer is overwritten
  }
  EXPECT_TRUE(b->spilling());  // two staged for memory: at --mem-queue-size
  ASSERT_FALSE(b->prepare(syncs));
  EXPECT_EQ(b->commit(), 4u);
  EXPECT_EQ(b->memorySize(), 2u);
  EXPECT_EQ(b->diskDepth(), 2);
  EXPECT_EQ(drain(*b), (std::vector<std::string>{"first", "second", "third", "fourth"}));
  EXPECT_FALSE(b->spilling());
}

// A publisher that encoded the disk record before taking its locks hands it over with the bytes:
// a spilled message is stored as that record (its ID, timestamp and body), one kept in memory
// is built from the bytes. Here the record and the bytes differ on purpose, to see which is used.
TEST_F(BacklogTest, ASpilledUnbuiltBodyIsStoredAsTheRecordItsPublisherEncoded) {
  auto b = open();
  SyncScope syncs;
  std::vector<MessageId> ids;
  for (const char* body : {"first", "second", "third"}) {
    Message m = message("");
    m.body = Body();
    ids.push_back(m.id);
    char header[kMessageHeaderLength];
    m.encodeHeader(header);
    std::string record;
    appendRecord(record, {header, sizeof header}, std::string("record-") + body);
    const std::string bytes = std::string("bytes-") + body;
    const UnbuiltBody unbuilt{bytes, record};
    ASSERT_FALSE(b->stage(std::move(m), &unbuilt));
  }
  ASSERT_FALSE(b->prepare(syncs));
  EXPECT_EQ(b->commit(), 3u);
  EXPECT_EQ(b->diskDepth(), 1);
  std::vector<std::string> bodies;
  Message m;
  for (std::size_t i = 0; b->pop(m); ++i) {
    bodies.emplace_back(m.body.view());
    ASSERT_LT(i, ids.size());
    EXPECT_EQ(m.id, ids[i]);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"bytes-first", "bytes-second", "record-third"}));
}

TEST_F(BacklogTest, StrictOrderSpillsWhileTheDiskHoldsMessages) {
  auto b = open();
  b->setStrictOrder(true);
  ASSERT_FALSE(publish(*b, {"a", "b", "c"}));  // c on disk
  Message m;
  ASSERT_TRUE(b->pop(m));  // a: memory has room, but the disk is not empty
  EXPECT_TRUE(b->spilling());
  ASSERT_FALSE(publish(*b, {"d"}));
  EXPECT_EQ(b->diskDepth(), 2);
  EXPECT_EQ(drain(*b), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_FALSE(b->spilling());
}

TEST_F(BacklogTest, StagedMessagesAreInvisibleUntilCommit) {
  auto b = open();
  SyncScope syncs;
  ASSERT_FALSE(b->stage(message("a")));
  ASSERT_FALSE(b->stage(message("b")));
  ASSERT_FALSE(b->stage(message("c")));
  ASSERT_FALSE(b->prepare(syncs));
  EXPECT_EQ(b->depth(), 0);
  EXPECT_EQ(b->commit(), 3u);
  EXPECT_EQ(b->depth(), 3);
}

TEST_F(BacklogTest, AbortLeavesNothingInMemoryOnDiskOrInTheJournal) {
  auto b = open();
  Message deferred = message("later");
  SyncScope syncs;
  for (const char* body : {"a", "b", "c", "d"}) ASSERT_FALSE(b->stage(message(body)));
  b->stageDeferred(deferred, wallNanos() + 60'000'000'000);
  ASSERT_FALSE(b->prepare(syncs));
  b->abort();
  EXPECT_EQ(b->depth(), 0);
  EXPECT_FALSE(b->journaled(deferred.id));
  Message m;
  EXPECT_FALSE(b->pop(m));
  b->close();
  b.reset();

  std::vector<MessageJournal::Entry> entries;
  auto again = open(&entries);
  EXPECT_TRUE(entries.empty());
  EXPECT_EQ(again->depth(), 0);
}

TEST_F(BacklogTest, EphemeralBacklogKeepsAHandOffSlotAndDropsTheOverflow) {
  ctx.opts.memQueueSize = 0;
  auto b = open(nullptr, /*durable=*/false);
  ASSERT_FALSE(publish(*b, {"a", "b", "c"}));
  EXPECT_EQ(drain(*b), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST_F(BacklogTest, FailingWriteMarksHealthAndALaterGoodWriteClearsIt) {
  ctx.opts.memQueueSize = 0;
  ctx.opts.syncEvery = 1;
  auto b = open();
  const std::string meta = dir.file("q.diskqueue.meta.dat");
  fs::remove(meta);
  fs::create_directory(meta);  // the metadata cannot be written: the sync a put owes fails

  Error error = publish(*b, {"a"});
  EXPECT_EQ(error.code, ErrorCode::PubFailed);
  EXPECT_NE(error.description.find("write metadata"), std::string::npos) << error.description;
  EXPECT_EQ(ctx.health.failing.count("diskqueue(q)"), 1u);
  EXPECT_EQ(b->depth(), 0);

  fs::remove(meta);
  error = publish(*b, {"b"});
  EXPECT_FALSE(error) << error.description;
  EXPECT_TRUE(ctx.health.failing.empty());
  EXPECT_EQ(drain(*b), (std::vector<std::string>{"b"}));
}

TEST_F(BacklogTest, DeferredAndDiskPoppedInFlightEntriesSurviveAReopen) {
  ctx.opts.memQueueSize = 0;
  auto b = open();
  const int64_t due = wallNanos() + 3'600'000'000'000;
  Message deferred = message("deferred");
  {
    SyncScope syncs;
    b->stageDeferred(deferred, due);
    ASSERT_FALSE(b->stage(message("on disk")));
    ASSERT_FALSE(b->prepare(syncs));
    b->commit();
  }
  Message inFlight;
  Backlog::Popped where;
  ASSERT_TRUE(b->pop(inFlight, &where));
  EXPECT_TRUE(where.fromDisk);
  inFlight.attempts = 1;
  b->journalInFlight(inFlight, where);
  b->flushJournal();
  {
    SyncScope syncs;
    b->syncLater(syncs, /*dueDiskSync=*/false);
  }
  b->close();
  b.reset();

  std::vector<MessageJournal::Entry> entries;
  auto again = open(&entries);
  ASSERT_EQ(entries.size(), 2u);
  std::map<std::string, MessageJournal::Entry> byBody;
  for (auto& e : entries) byBody[std::string(e.msg.body.view())] = e;
  ASSERT_EQ(byBody.count("deferred"), 1u);
  EXPECT_EQ(byBody["deferred"].msg.id, deferred.id);
  EXPECT_EQ(byBody["deferred"].wallDeadline, due);
  ASSERT_EQ(byBody.count("on disk"), 1u);  // read back from the disk queue's kept segment
  EXPECT_EQ(byBody["on disk"].msg.id, inFlight.id);
  EXPECT_EQ(byBody["on disk"].msg.attempts, 1);
  EXPECT_EQ(again->diskDepth(), 0);  // the pop was recorded: it is delivered from the journal only
}

// Held pops (backlog.h): nothing is journaled, and the committed read position a crash resumes
// from stops before the oldest held record until it is released.
TEST_F(BacklogTest, AHeldPopKeepsTheCommittedReadPositionBeforeItUntilReleased) {
  ctx.opts.memQueueSize = 0;
  ctx.opts.syncEvery = 1;  // every syncLater() writes the metadata (holding is the channel's choice)
  auto b = open();
  ASSERT_FALSE(publish(*b, {"a", "b", "c", "d"}));
  std::vector<Message> popped(4);
  std::vector<uint64_t> tickets;
  for (auto& m : popped) {
    Backlog::Popped where;
    ASSERT_TRUE(b->pop(m, &where));
    ASSERT_TRUE(where.fromDisk);
    m.attempts = 1;
    tickets.push_back(b->holdPop(m, where));
  }
  EXPECT_EQ(b->heldPops(), 4u);
  // Crash: a copy of the files as they are after the owner's flush and syncs.
  int crashes = 0;
  auto crashAndReopen = [&](std::vector<MessageJournal::Entry>* entries) {
    {
      SyncScope syncs;
      b->flushJournal();
      b->syncLater(syncs, /*dueDiskSync=*/true);
    }
    const fs::path crashed = fs::path(dir.path()) / ("crashed" + std::to_string(++crashes));
    fs::create_directory(crashed);
    for (const auto& f : fs::directory_iterator(dir.path()))
      if (f.is_regular_file()) fs::copy_file(f.path(), crashed / f.path().filename());
    FakeStorage other;
    other.opts = ctx.opts;
    other.opts.dataPath = crashed.string();
    auto c = std::make_unique<Backlog>(other, "q", true, "backlog(q)", Backlog::PopCommit::AfterJournal);
    *entries = c->open();
    std::vector<std::string> out = drain(*c);
    c->close();
    return out;
  };
  b->releasePop(tickets[1]);
  b->releasePop(tickets[2]);
  EXPECT_EQ(b->heldPops(), 4u);  // "a" is still held: nothing after it may be recorded
  std::vector<MessageJournal::Entry> entries;
  EXPECT_EQ(crashAndReopen(&entries), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_TRUE(entries.empty());
  EXPECT_FALSE(b->journaled(popped[0].id));

  b->releasePop(tickets[0]);
  b->releasePop(tickets[0]);  // twice: ignored
  EXPECT_EQ(b->heldPops(), 1u);
  EXPECT_EQ(crashAndReopen(&entries), (std::vector<std::string>{"d"}));

  popped[3].attempts = 3;
  b->journalHeldPop(tickets[3], popped[3]);  // left flight unfinished: journaled by reference
  EXPECT_EQ(b->heldPops(), 0u);
  EXPECT_TRUE(b->journaled(popped[3].id));
  // (Its record may still be in the copy's disk queue: the pop is recorded with the queue's next
  // sync, and then the journal's copy is the live one, crashDuplicate().)
  (void)crashAndReopen(&entries);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].msg.id, popped[3].id);
  EXPECT_EQ(entries[0].msg.attempts, 3);
  EXPECT_EQ(entries[0].msg.body.view(), "d");
  b->journalHeldPop(tickets[3], popped[3]);  // already journaled: nothing more
  b->close();
}

TEST_F(BacklogTest, PastTheBoundTheOldestHeldPopIsJournaled) {
  ctx.opts.memQueueSize = 0;
  auto b = open();
  std::vector<std::string> bodies(Backlog::kMaxHeldPops + 1, "x");
  ASSERT_FALSE(publish(*b, bodies));
  Message first, m;
  Backlog::Popped where;
  ASSERT_TRUE(b->pop(first, &where));
  first.attempts = 1;
  const uint64_t firstTicket = b->holdPop(first, where);
  for (std::size_t i = 1; i < Backlog::kMaxHeldPops; ++i) {
    ASSERT_TRUE(b->pop(m, &where));
    (void)b->holdPop(m, where);
  }
  EXPECT_FALSE(b->journaled(first.id));
  EXPECT_EQ(b->heldPops(), Backlog::kMaxHeldPops);
  ASSERT_TRUE(b->pop(m, &where));
  (void)b->holdPop(m, where);  // one past the bound
  EXPECT_TRUE(b->journaled(first.id));
  EXPECT_EQ(b->heldPops(), Backlog::kMaxHeldPops);
  b->releasePop(firstTicket);  // its FIN: the journal entry goes with forget()
  b->forget(first.id);
  EXPECT_FALSE(b->journaled(first.id));
  EXPECT_EQ(b->heldPops(), Backlog::kMaxHeldPops);
  b->close();
}

TEST_F(BacklogTest, OnlyRecordsQueuedBeforeOpenAreAskedWhetherTheJournalHasThem) {
  ctx.opts.memQueueSize = 0;
  auto b = open();
  ASSERT_FALSE(publish(*b, {"first", "second"}));
  Message inFlight;
  Backlog::Popped where;
  ASSERT_TRUE(b->pop(inFlight, &where));
  EXPECT_FALSE(where.fromBeforeOpen);  // queued after this open
  EXPECT_FALSE(b->crashDuplicate(inFlight.id, where));
  inFlight.attempts = 1;
  b->journalInFlight(inFlight, where);
  b->flushJournal();  // journaled, but the pop is not yet recorded: a crash now leaves it twice
  const fs::path crashed = fs::path(dir.path()) / "crashed";
  fs::create_directory(crashed);
  for (const auto& f : fs::directory_iterator(dir.path()))
    if (f.is_regular_file()) fs::copy_file(f.path(), crashed / f.path().filename());
  b->close();
  b.reset();

  ctx.opts.dataPath = crashed.string();
  std::vector<MessageJournal::Entry> entries;
  auto again = open(&entries);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].msg.id, inFlight.id);
  ASSERT_EQ(again->diskDepth(), 2);
  Message m;
  ASSERT_TRUE(again->pop(m, &where));
  EXPECT_EQ(m.id, inFlight.id);
  EXPECT_TRUE(where.fromBeforeOpen);
  EXPECT_TRUE(again->crashDuplicate(m.id, where));  // the journal's copy is the live one
  ASSERT_TRUE(again->pop(m, &where));
  EXPECT_EQ(m.body.view(), "second");
  EXPECT_TRUE(where.fromBeforeOpen);
  EXPECT_FALSE(again->crashDuplicate(m.id, where));
  // Past the records found at open, the journal is not asked: even a record carrying the ID of
  // a journaled message (which a running nsqd never writes) is not taken for a duplicate.
  Message same = message("again");
  same.id = inFlight.id;
  {
    SyncScope syncs;
    ASSERT_FALSE(again->stage(std::move(same)));
    ASSERT_FALSE(again->prepare(syncs));
    again->commit();
  }
  ASSERT_TRUE(again->pop(m, &where));
  EXPECT_FALSE(where.fromBeforeOpen);
  EXPECT_FALSE(again->crashDuplicate(m.id, where));
}

}  // namespace
}  // namespace nsq::nsqd

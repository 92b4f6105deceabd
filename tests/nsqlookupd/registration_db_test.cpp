// RegistrationDB: registration keys, producers, the §3.1 ephemeral rules, tombstones and the
// inactivity filter, all against an injected clock.
#include "nsqlookupd/registration_db.h"

#include <gtest/gtest.h>

using namespace nsq::lookupd;
using namespace std::chrono_literals;

namespace {

struct RegistrationDBTest : ::testing::Test {
  int64_t now = 1'000'000'000'000;
  RegistrationDB db{[this] { return now; }};

  std::shared_ptr<PeerInfo> peer(const std::string& id, const std::string& broadcast = "host",
                                 int httpPort = 4151) {
    auto p = std::make_shared<PeerInfo>();
    p->id = p->remoteAddress = id;
    p->broadcastAddress = broadcast;
    p->tcpPort = 4150;
    p->httpPort = httpPort;
    p->version = "1.3.0";
    p->lastUpdate = now;
    return p;
  }
  std::vector<std::string> ids(const std::vector<Producer>& ps) {
    std::vector<std::string> out;
    for (const auto& p : ps) out.push_back(p.peer->id);
    return out;
  }
  std::vector<std::string> topics() { return keysOf(db.findRegistrations("topic", "*", "")); }
  std::vector<std::string> channels(const std::string& t) {
    return subKeysOf(db.findRegistrations("channel", t, "*"));
  }
};

using S = std::vector<std::string>;

}  // namespace

TEST_F(RegistrationDBTest, RegisterChannelAlsoRegistersTopic) {
  auto a = peer("1.1.1.1:1");
  auto added = db.registerProducer(a, "t", "c");
  EXPECT_EQ(added.size(), 2u);
  EXPECT_EQ(topics(), S{"t"});
  EXPECT_EQ(channels("t"), S{"c"});
  EXPECT_EQ(ids(db.findProducers("topic", "t", "")), S{"1.1.1.1:1"});
  EXPECT_EQ(ids(db.findProducers("channel", "t", "c")), S{"1.1.1.1:1"});
  EXPECT_TRUE(db.registerProducer(a, "t", "c").empty()) << "second REGISTER adds nothing";
}

TEST_F(RegistrationDBTest, FindProducersDeduplicatesAcrossWildcardMatches) {
  auto a = peer("a:1"), b = peer("b:1");
  db.registerProducer(a, "t", "c1");
  db.registerProducer(a, "t", "c2");
  db.registerProducer(b, "t", "c2");
  EXPECT_EQ(ids(db.findProducers("channel", "t", "*")), (S{"a:1", "b:1"}));
  EXPECT_EQ(ids(db.findProducers("topic", "*", "")), (S{"a:1", "b:1"}));
  EXPECT_EQ(channels("t"), (S{"c1", "c2"}));
}

TEST_F(RegistrationDBTest, UnregisterChannelKeepsNonEphemeralKey) {
  auto a = peer("a:1");
  db.registerProducer(a, "t", "c");
  db.unregisterProducer("a:1", "t", "c");
  EXPECT_EQ(channels("t"), S{"c"});
  EXPECT_TRUE(db.findProducers("channel", "t", "c").empty());
  EXPECT_EQ(ids(db.findProducers("topic", "t", "")), S{"a:1"});
}

TEST_F(RegistrationDBTest, EphemeralChannelDisappearsWithLastProducer) {
  auto a = peer("a:1"), b = peer("b:1");
  db.registerProducer(a, "t", "c#ephemeral");
  db.registerProducer(b, "t", "c#ephemeral");
  db.unregisterProducer("a:1", "t", "c#ephemeral");
  EXPECT_EQ(channels("t"), S{"c#ephemeral"}) << "b still has it";
  db.unregisterProducer("b:1", "t", "c#ephemeral");
  EXPECT_TRUE(channels("t").empty());
  EXPECT_EQ(topics(), S{"t"});
}

TEST_F(RegistrationDBTest, UnregisterTopicLeavesItsChannelsToo) {
  auto a = peer("a:1"), b = peer("b:1");
  db.registerProducer(a, "t", "c");
  db.registerProducer(b, "t", "c");
  db.registerProducer(a, "u", "c");
  db.unregisterProducer("a:1", "t", "");
  EXPECT_EQ(ids(db.findProducers("channel", "t", "c")), S{"b:1"});
  EXPECT_EQ(ids(db.findProducers("topic", "t", "")), S{"b:1"});
  EXPECT_EQ(ids(db.findProducers("channel", "u", "c")), S{"a:1"}) << "other topics untouched";
  EXPECT_EQ(topics(), (S{"t", "u"}));
}

TEST_F(RegistrationDBTest, EphemeralTopicDisappearsWithLastProducer) {
  auto a = peer("a:1");
  db.registerProducer(a, "t#ephemeral", "");
  db.registerProducer(a, "plain", "");
  db.unregisterProducer("a:1", "t#ephemeral", "");
  db.unregisterProducer("a:1", "plain", "");
  EXPECT_EQ(topics(), S{"plain"});
}

TEST_F(RegistrationDBTest, RemovePeerLeavesEverythingButKeepsKeys) {
  auto a = peer("a:1"), b = peer("b:1");
  db.addProducer({"client", "", ""}, a);
  db.registerProducer(a, "t", "c");
  db.registerProducer(b, "t", "");
  auto removed = db.removePeer("a:1");
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_TRUE(db.lookupRegistrations("a:1").empty());
  EXPECT_EQ(ids(db.findProducers("topic", "t", "")), S{"b:1"});
  EXPECT_EQ(channels("t"), S{"c"}) << "keys outlive producers";
}

TEST_F(RegistrationDBTest, LookupRegistrationsListsAPeersKeys) {
  auto a = peer("a:1");
  db.addProducer({"client", "", ""}, a);
  db.registerProducer(a, "t", "c");
  auto regs = db.lookupRegistrations("a:1");
  ASSERT_EQ(regs.size(), 3u);
  EXPECT_EQ(regs[0], (Registration{"channel", "t", "c"}));
  EXPECT_EQ(regs[1], (Registration{"client", "", ""}));
  EXPECT_EQ(regs[2], (Registration{"topic", "t", ""}));
}

TEST_F(RegistrationDBTest, RemoveProducerReportsWhatIsLeft) {
  auto a = peer("a:1"), b = peer("b:1");
  db.registerProducer(a, "t", "");
  db.registerProducer(b, "t", "");
  EXPECT_EQ(db.removeProducer({"topic", "t", ""}, "a:1"), std::make_pair(true, std::size_t{1}));
  EXPECT_EQ(db.removeProducer({"topic", "t", ""}, "a:1"), std::make_pair(false, std::size_t{1}));
  EXPECT_EQ(db.removeProducer({"topic", "x", ""}, "a:1"), std::make_pair(false, std::size_t{0}));
}

TEST_F(RegistrationDBTest, DeleteTopicDropsTopicAndChannelKeysOnly) {
  auto a = peer("a:1");
  db.registerProducer(a, "t", "c1");
  db.registerProducer(a, "t", "c2");
  db.registerProducer(a, "u", "c1");
  db.deleteTopic("t");
  EXPECT_EQ(topics(), S{"u"});
  EXPECT_TRUE(channels("t").empty());
  EXPECT_EQ(channels("u"), S{"c1"});
  db.deleteTopic("absent");  // no-op
}

TEST_F(RegistrationDBTest, AddRegistrationCreatesEmptyKey) {
  db.addRegistration({"channel", "t", "c"});
  db.addRegistration({"topic", "t", ""});
  EXPECT_EQ(topics(), S{"t"});
  EXPECT_EQ(channels("t"), S{"c"});
  EXPECT_TRUE(db.findProducers("topic", "t", "").empty());
  EXPECT_TRUE(db.removeRegistration({"channel", "t", "c"}));
  EXPECT_FALSE(db.removeRegistration({"channel", "t", "c"}));
}

TEST_F(RegistrationDBTest, InactiveProducersAreFiltered) {
  auto a = peer("a:1"), b = peer("b:1");
  db.registerProducer(a, "t", "");
  db.registerProducer(b, "t", "");
  now += std::chrono::nanoseconds(10s).count();
  b->lastUpdate = now;  // b pinged
  auto active = filterByActive(db.findProducers("topic", "t", ""), db.now(), 5s, 45s);
  EXPECT_EQ(ids(active), S{"b:1"});
  active = filterByActive(db.findProducers("topic", "t", ""), db.now(), 1min, 45s);
  EXPECT_EQ(ids(active), (S{"a:1", "b:1"}));
}

TEST_F(RegistrationDBTest, TombstoneHidesProducerForItsLifetimeOnly) {
  auto a = peer("a:1", "nodeA", 4151), b = peer("b:1", "nodeB", 4151);
  db.registerProducer(a, "t", "");
  db.registerProducer(b, "t", "");
  db.registerProducer(a, "u", "");
  EXPECT_EQ(db.tombstone("t", "nodeA:4151"), 1);
  EXPECT_EQ(db.tombstone("t", "nodeA:9999"), 0);
  auto visible = [&](const std::string& topic) {
    return ids(filterByActive(db.findProducers("topic", topic, ""), db.now(), 5min, 45s));
  };
  EXPECT_EQ(visible("t"), S{"b:1"});
  EXPECT_EQ(visible("u"), S{"a:1"}) << "tombstones are per topic";
  // lifetime 0 ignores tombstones (/nodes).
  EXPECT_EQ(ids(filterByActive(db.findProducers("topic", "t", ""), db.now(), 5min, 0s)),
            (S{"a:1", "b:1"}));
  now += std::chrono::nanoseconds(46s).count();
  a->lastUpdate = b->lastUpdate = now;
  EXPECT_EQ(visible("t"), (S{"a:1", "b:1"})) << "reappears after the lifetime";
}

TEST_F(RegistrationDBTest, SnapshotShowsEveryKeyWithProducers) {
  auto a = peer("a:1");
  db.addProducer({"client", "", ""}, a);
  db.registerProducer(a, "t", "");
  db.addRegistration({"topic", "empty", ""});
  auto snap = db.snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[(Registration{"topic", "empty", ""})].size(), 0u);
  EXPECT_EQ(snap[(Registration{"topic", "t", ""})].size(), 1u);
}

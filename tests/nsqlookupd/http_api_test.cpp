// The HTTP route table as a pure function: methods, status codes, error messages, JSON shapes.
#include "nsqlookupd/http_api.h"

#include <gtest/gtest.h>

using namespace nsq::lookupd;
using namespace std::chrono_literals;

namespace {

struct HttpTest : ::testing::Test {
  int64_t now = 1'000'000'000'000;
  RegistrationDB db{[this] { return now; }};
  Logger log{LogLevel::Fatal, ""};
  HttpContext ctx{db, log, 5min, 45s};

  std::shared_ptr<PeerInfo> producer(const std::string& id, const std::string& topic,
                                     const std::string& channel = "") {
    auto p = std::make_shared<PeerInfo>();
    p->id = p->remoteAddress = id;
    p->hostname = "h";
    p->broadcastAddress = "b" + id.substr(0, 1);
    p->tcpPort = 4150;
    p->httpPort = 4151;
    p->version = "1.3.0";
    p->lastUpdate = now;
    db.addProducer({"client", "", ""}, p);
    db.registerProducer(p, topic, channel);
    return p;
  }
  HttpReply get(const std::string& t) { return route(ctx, "GET", t); }
  HttpReply post(const std::string& t) { return route(ctx, "POST", t); }
};

void expectError(const HttpReply& r, int status, const std::string& msg) {
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.body, "{\"message\":\"" + msg + "\"}");
  EXPECT_EQ(r.kind, HttpReply::Kind::Json);
  EXPECT_TRUE(r.nsqHeader);
}

}  // namespace

TEST_F(HttpTest, PingIsPlainTextWithoutNsqHeader) {
  auto r = get("/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.kind, HttpReply::Kind::Text);
  EXPECT_FALSE(r.nsqHeader);
}

TEST_F(HttpTest, InfoReportsVersion) { EXPECT_EQ(get("/info").body, R"({"version":"1.3.0"})"); }

TEST_F(HttpTest, UnknownPathAndWrongMethod) {
  expectError(get("/nope"), 404, "NOT_FOUND");
  expectError(post("/lookup?topic=t"), 405, "METHOD_NOT_ALLOWED");
  expectError(get("/topic/create?topic=t"), 405, "METHOD_NOT_ALLOWED");
  expectError(route(ctx, "PUT", "/topic/delete?topic=t"), 405, "METHOD_NOT_ALLOWED");
}

TEST_F(HttpTest, UnparsableQueryIsInvalidRequest) {
  expectError(get("/lookup?topic=%zz"), 400, "INVALID_REQUEST");
  expectError(get("/lookup?topic=a;b"), 400, "INVALID_REQUEST");
  expectError(post("/topic/create?topic=%4"), 400, "INVALID_REQUEST");
}

// docs/leniency.md #12: routes whose upstream handler never parses the query ignore a bad one.
TEST_F(HttpTest, RoutesThatReadNoQueryIgnoreAMalformedOne) {
  EXPECT_EQ(get("/ping?x=%zz").body, "OK");
  EXPECT_EQ(get("/ping?_=1;2").status, 200);
  EXPECT_EQ(get("/info?a;b").status, 200);
  EXPECT_EQ(get("/topics?%").status, 200);
  EXPECT_EQ(get("/nodes?x=%zz").status, 200);
  EXPECT_EQ(get("/debug?x=%zz").status, 200);
}

TEST_F(HttpTest, LookupShapesAndErrors) {
  expectError(get("/lookup"), 400, "MISSING_ARG_TOPIC");
  expectError(get("/lookup?topic=absent"), 404, "TOPIC_NOT_FOUND");
  producer("1.2.3.4:5", "t", "c");
  auto r = get("/lookup?topic=t");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"channels":["c"],"producers":[{"remote_address":"1.2.3.4:5","hostname":"h",)"
            R"("broadcast_address":"b1","tcp_port":4150,"http_port":4151,"version":"1.3.0",)"
            R"("topology_zone":"","topology_region":""}]})");
}

TEST_F(HttpTest, LookupOfCreatedTopicWithoutProducersIsEmptyNotNull) {
  EXPECT_EQ(post("/topic/create?topic=t").status, 200);
  EXPECT_EQ(get("/lookup?topic=t").body, R"({"channels":[],"producers":[]})");
}

TEST_F(HttpTest, TopicsAndChannels) {
  EXPECT_EQ(get("/topics").body, R"({"topics":[]})");
  producer("1.1.1.1:1", "b", "y");
  producer("2.2.2.2:2", "a", "x");
  producer("2.2.2.2:2", "b", "x");
  EXPECT_EQ(get("/topics").body, R"({"topics":["a","b"]})");
  EXPECT_EQ(get("/channels?topic=b").body, R"({"channels":["x","y"]})");
  EXPECT_EQ(get("/channels?topic=zzz").body, R"({"channels":[]})");
  expectError(get("/channels"), 400, "MISSING_ARG_TOPIC");
}

TEST_F(HttpTest, CreateAndDeleteErrors) {
  expectError(post("/topic/create"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/create?topic=b@d"), 400, "INVALID_ARG_TOPIC");
  expectError(post("/topic/create?topic="), 400, "INVALID_ARG_TOPIC");
  expectError(post("/topic/delete"), 400, "MISSING_ARG_TOPIC");
  EXPECT_EQ(post("/topic/delete?topic=absent").status, 200);
  expectError(post("/channel/create?channel=c"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/channel/create?topic=b@d&channel=c"), 400, "INVALID_ARG_TOPIC");
  expectError(post("/channel/create?topic=t"), 400, "MISSING_ARG_CHANNEL");
  expectError(post("/channel/create?topic=t&channel=b@d"), 400, "INVALID_ARG_CHANNEL");
  expectError(post("/channel/delete?topic=t&channel=c"), 404, "CHANNEL_NOT_FOUND");
  expectError(post("/channel/delete?topic=t"), 400, "MISSING_ARG_CHANNEL");
  expectError(post("/topic/tombstone?node=x:1"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/tombstone?topic=t"), 400, "MISSING_ARG_NODE");
}

TEST_F(HttpTest, ChannelCreateAddsTopicAndDeleteRemovesChannel) {
  auto r = post("/channel/create?topic=t&channel=c");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.kind, HttpReply::Kind::Empty);
  EXPECT_EQ(get("/topics").body, R"({"topics":["t"]})");
  EXPECT_EQ(get("/channels?topic=t").body, R"({"channels":["c"]})");
  EXPECT_EQ(post("/channel/delete?topic=t&channel=c").status, 200);
  EXPECT_EQ(get("/channels?topic=t").body, R"({"channels":[]})");
}

TEST_F(HttpTest, TopicDeleteRemovesTopicAndChannels) {
  producer("1.1.1.1:1", "t", "c");
  EXPECT_EQ(post("/topic/delete?topic=t").status, 200);
  EXPECT_EQ(get("/topics").body, R"({"topics":[]})");
  expectError(get("/lookup?topic=t"), 404, "TOPIC_NOT_FOUND");
}

TEST_F(HttpTest, TombstoneHidesFromLookupAndFlagsInNodes) {
  producer("1.1.1.1:1", "t");
  producer("2.2.2.2:2", "t");
  EXPECT_EQ(post("/topic/tombstone?topic=t&node=b1:4151").status, 200);
  auto r = get("/lookup?topic=t");
  EXPECT_EQ(r.body.find("1.1.1.1:1"), std::string::npos);
  EXPECT_NE(r.body.find("2.2.2.2:2"), std::string::npos);
  auto nodes = get("/nodes").body;
  EXPECT_NE(nodes.find(R"("remote_address":"1.1.1.1:1")"), std::string::npos);
  EXPECT_NE(nodes.find(R"("tombstones":[true],"topics":["t"])"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find(R"("tombstones":[false],"topics":["t"])"), std::string::npos) << nodes;
  now += std::chrono::nanoseconds(46s).count();
  for (const auto& p : db.findProducers("client", "", "")) const_cast<PeerInfo&>(*p.peer).lastUpdate = now;
  EXPECT_NE(get("/lookup?topic=t").body.find("1.1.1.1:1"), std::string::npos);
}

TEST_F(HttpTest, InactiveProducersLeaveLookupAndNodes) {
  producer("1.1.1.1:1", "t");
  now += std::chrono::nanoseconds(6min).count();
  EXPECT_EQ(get("/lookup?topic=t").body, R"({"channels":[],"producers":[]})");
  EXPECT_EQ(get("/nodes").body, R"({"producers":[]})");
}

TEST_F(HttpTest, DebugListsEveryRegistration) {
  producer("1.1.1.1:1", "t", "c");
  auto body = get("/debug").body;
  EXPECT_NE(body.find(R"("channel:t:c":[{"broadcast_address":"b1","hostname":"h","http_port":4151,"id":"1.1.1.1:1","last_update":)"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("client::":[)"), std::string::npos);
  EXPECT_NE(body.find(R"("topic:t:":[)"), std::string::npos);
  EXPECT_NE(body.find(R"("tombstoned":false,"tombstoned_at":0)"), std::string::npos);
}

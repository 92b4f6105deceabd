// End-to-end: the real nsqadmin against a real nsqlookupd and two nsqd on loopback. Every API
// route and action, aggregation across the two nodes, an unreachable nsqd, the notification
// POST, the ACL refusal, and the history fed by nsqadmin's own polling.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <memory>

#include "support/admin_process.h"
#include "support/fake_auth_server.h"
#include "support/test_support.h"

using namespace nsq::test;
using Poco::JSON::Array;
using Poco::JSON::Object;

TEST(NsqAdmin, TopicsListsTheUnionFromLookupd) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto r = admin.get("/api/topics");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"topics\":[\"orders\"],\"message\":\"\"}");
  EXPECT_EQ(r.header("X-NSQ-Content-Type"), "nsq; version=1.0");
}

TEST(NsqAdmin, TopicSumsBothProducers) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto r = admin.get("/api/topics/orders");
  ASSERT_EQ(r.status, 200) << r.body;
  auto t = parseJson(r);
  EXPECT_EQ(t->getValue<std::string>("node"), "*");
  EXPECT_EQ(t->getValue<std::string>("topic_name"), "orders");
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 3);
  EXPECT_EQ(t->getArray("nodes")->size(), 2u);
  auto ch = t->getArray("channels")->getObject(0);
  EXPECT_EQ(ch->getValue<std::string>("channel_name"), "billing");
  EXPECT_EQ(ch->getValue<int64_t>("depth"), 3) << "1 on one node + 2 on the other";
  EXPECT_EQ(ch->getArray("nodes")->size(), 2u);
  EXPECT_EQ(t->getValue<std::string>("message"), "");
}

TEST(NsqAdmin, ChannelSumsNodesAndListsClients) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  TcpClient consumer(c.a.tcpPort());
  consumer.send("  V2SUB orders billing\n");
  consumer.readExact(4 + 4 + 2);  // OK frame
  auto r = admin.get("/api/topics/orders/billing");
  ASSERT_EQ(r.status, 200) << r.body;
  auto ch = parseJson(r);
  EXPECT_EQ(ch->getValue<std::string>("node"), "*");
  EXPECT_EQ(ch->getValue<int64_t>("depth"), 3);
  EXPECT_EQ(ch->getValue<int64_t>("client_count"), 1);
  ASSERT_EQ(ch->getArray("clients")->size(), 1u);
  EXPECT_EQ(ch->getArray("clients")->getObject(0)->getValue<std::string>("node"), loopback(c.a.httpPort()));
  // A channel the topic does not have: the original's empty answer.
  EXPECT_EQ(admin.get("/api/topics/orders/nope").body, "{\"message\":\"\"}");
}

TEST(NsqAdmin, UnknownTopicIsTheOriginals502WithLookupds404) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto r = admin.get("/api/topics/nope");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(parseJson(r)->getValue<std::string>("message"),
            "UPSTREAM_ERROR: failed to query any nsqlookupd: got response 404 Not Found "
            "\"{\\\"message\\\":\\\"TOPIC_NOT_FOUND\\\"}\"");
}

TEST(NsqAdmin, NodesAndOneNode) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto nodes = parseJson(admin.get("/api/nodes"))->getArray("nodes");
  ASSERT_EQ(nodes->size(), 2u);
  auto n0 = nodes->getObject(0);
  EXPECT_EQ(n0->getArray("remote_addresses")->size(), 1u);
  EXPECT_EQ(n0->getArray("topics")->getObject(0)->getValue<std::string>("topic"), "orders");
  EXPECT_FALSE(n0->getValue<bool>("out_of_date"));
  auto one = admin.get("/api/nodes/" + loopback(c.b.httpPort()));
  ASSERT_EQ(one.status, 200) << one.body;
  auto node = parseJson(one);
  EXPECT_EQ(node->getValue<int64_t>("total_messages"), 2);
  EXPECT_EQ(node->getArray("topics")->size(), 1u);
  EXPECT_EQ(admin.get("/api/nodes/127.0.0.1:1").body, "{\"message\":\"NODE_NOT_FOUND\"}");
}

TEST(NsqAdmin, CounterKeysByTopicChannelAndNode) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto stats = parseJson(admin.get("/api/counter"))->getObject("stats");
  auto key = "orders:billing:" + loopback(c.b.httpPort());
  ASSERT_TRUE(stats->has(key)) << admin.get("/api/counter").body;
  EXPECT_EQ(stats->getObject(key)->getValue<int64_t>("message_count"), 2);
  EXPECT_EQ(stats->size(), 2u);
}

TEST(NsqAdmin, PauseUnpauseAndEmptyReachBothNsqd) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto r = admin.send("POST", "/api/topics/orders/billing", "{\"action\":\"pause\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parseJson(r)->getValue<std::string>("message"), "");
  EXPECT_EQ(parseJson(r)->getArray("results")->size(), 2u);
  EXPECT_TRUE(c.paused(c.a, "billing"));
  EXPECT_TRUE(c.paused(c.b, "billing"));
  ASSERT_EQ(admin.send("POST", "/api/topics/orders/billing", "{\"action\":\"unpause\"}").status, 200);
  EXPECT_FALSE(c.paused(c.a, "billing"));
  EXPECT_FALSE(c.paused(c.b, "billing"));
  ASSERT_EQ(admin.send("POST", "/api/topics/orders", "{\"action\":\"pause\"}").status, 200);
  EXPECT_TRUE(c.paused(c.a, ""));
  EXPECT_TRUE(c.paused(c.b, ""));
  ASSERT_EQ(admin.send("POST", "/api/topics/orders", "{\"action\":\"unpause\"}").status, 200);
  EXPECT_FALSE(c.paused(c.b, ""));
  ASSERT_EQ(admin.send("POST", "/api/topics/orders/billing", "{\"action\":\"empty\"}").status, 200);
  EXPECT_EQ(c.channelDepth(c.a), 0);
  EXPECT_EQ(c.channelDepth(c.b), 0);
  ASSERT_EQ(admin.send("POST", "/api/topics/orders", "{\"action\":\"empty\"}").status, 200);
}

TEST(NsqAdmin, CreateAndDeleteTopicsAndChannels) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  ASSERT_EQ(admin.send("POST", "/api/topics", "{\"topic\":\"orders\",\"channel\":\"audit\"}").status, 200);
  EXPECT_EQ(httpRequest(c.a.httpPort(), "GET", "/stats?format=json&topic=orders&channel=audit").body.find("\"audit\"") !=
                std::string::npos,
            true);
  ASSERT_EQ(admin.send("POST", "/api/topics", "{\"topic\":\"fresh\"}").status, 200);
  EXPECT_NE(httpRequest(c.lookupd.httpPort, "GET", "/topics").body.find("\"fresh\""), std::string::npos);
  ASSERT_EQ(admin.send("DELETE", "/api/topics/orders/audit").status, 200);
  EXPECT_EQ(httpRequest(c.b.httpPort(), "GET", "/stats?format=json&topic=orders&channel=audit").body.find("\"audit\""),
            std::string::npos);
  auto del = admin.send("DELETE", "/api/topics/orders");
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(parseJson(del)->getArray("results")->size(), 3u) << "one lookupd and two nsqd";
  EXPECT_EQ(httpRequest(c.a.httpPort(), "GET", "/stats?format=json").body.find("\"orders\""), std::string::npos);
  EXPECT_EQ(httpRequest(c.b.httpPort(), "GET", "/stats?format=json").body.find("\"orders\""), std::string::npos);
}

TEST(NsqAdmin, TombstoneMarksTheNodeInLookupdAndDeletesItsTopic) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag()});
  auto r = admin.send("DELETE", "/api/nodes/" + loopback(c.a.httpPort()), "{\"topic\":\"orders\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(httpRequest(c.a.httpPort(), "GET", "/stats?format=json").body.find("\"orders\""), std::string::npos);
  EXPECT_NE(httpRequest(c.b.httpPort(), "GET", "/stats?format=json").body.find("\"orders\""), std::string::npos);
}

TEST(NsqAdmin, UnreachableNsqdIsNamedInMessageNotAFailure) {
  AdminCluster c;
  int dead = freePort();
  AdminProcess admin({"--nsqd-http-address=" + loopback(c.a.httpPort()), "--nsqd-http-address=" + loopback(dead),
                      "--http-client-connect-timeout=500ms"});
  auto topics = admin.get("/api/topics");
  ASSERT_EQ(topics.status, 200) << topics.body;
  auto t = parseJson(topics);
  EXPECT_EQ(t->getArray("topics")->size(), 1u);
  std::string message = t->getValue<std::string>("message");
  EXPECT_EQ(message.rfind("WARNING: ", 0), 0u) << message;
  EXPECT_NE(message.find(loopback(dead)), std::string::npos) << message;
  auto topic = admin.get("/api/topics/orders");
  ASSERT_EQ(topic.status, 200) << topic.body;
  EXPECT_EQ(parseJson(topic)->getValue<int64_t>("message_count"), 1);
  EXPECT_NE(parseJson(topic)->getValue<std::string>("message").find(loopback(dead)), std::string::npos);
  // With the nsqd list, a topic no nsqd has is a plain 404.
  auto none = admin.get("/api/topics/nope");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, "{\"message\":\"TOPIC_NOT_FOUND\"}");
}

TEST(NsqAdmin, AclRefusesUnlistedUsersAndNotifiesListedOnes) {
  AdminCluster c;
  FakeAuthServer sink;  // records the notification POSTs
  AdminProcess admin({c.lookupdFlag(), "--admin-user=alice", "--notification-http-endpoint=http://" + sink.address() + "/notify"});
  auto refused = admin.send("POST", "/api/topics/orders", "{\"action\":\"pause\"}", {{"X-Forwarded-User", "bob"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(c.paused(c.a, ""));
  auto ok = admin.send("POST", "/api/topics/orders", "{\"action\":\"pause\"}",
                       {{"X-Forwarded-User", "alice"}, {"Authorization", "Basic YWxpY2U6c2VjcmV0"}, {"User-Agent", "t/1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(c.paused(c.a, ""));
  ASSERT_TRUE(eventually([&] { return sink.count() == 1; }));
  auto req = sink.requests()[0];
  EXPECT_EQ(req.method, "POST");
  auto n = Poco::JSON::Parser().parse(req.body).extract<Object::Ptr>();
  EXPECT_EQ(n->getValue<std::string>("action"), "pause_topic");
  EXPECT_EQ(n->getValue<std::string>("topic"), "orders");
  EXPECT_EQ(n->getValue<std::string>("user"), "alice");
  EXPECT_EQ(n->getValue<std::string>("user_agent"), "t/1");
  std::string url = n->getValue<std::string>("url");  // scheme, the request's Host header, target
  EXPECT_EQ(url.rfind("http://127.0.0.1", 0), 0u) << url;
  EXPECT_TRUE(url.ends_with("/api/topics/orders")) << url;
  EXPECT_FALSE(n->has("channel"));
  EXPECT_GT(n->getValue<int64_t>("timestamp"), 0);
}

TEST(NsqAdmin, HistoryFillsFromPolling) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag(), "--history-interval=1s"});
  ASSERT_TRUE(eventually(
      [&] {
        auto h = parseJson(admin.get("/api/history?topic=orders&channel=billing"));
        return h->getArray("points")->size() >= 2;
      },
      std::chrono::seconds(15)));
  auto h = parseJson(admin.get("/api/history?topic=orders&channel=billing"));
  auto last = h->getArray("points")->getArray(static_cast<unsigned>(h->getArray("points")->size() - 1));
  EXPECT_EQ(last->getElement<int64_t>(1), 3) << "depth summed over both nsqd";
  EXPECT_NE(admin.get("/api/history").body.find("\"orders\":[["), std::string::npos);
}

TEST(NsqAdmin, ServesTheConsoleUnderTheBasePath) {
  AdminCluster c;
  AdminProcess admin({c.lookupdFlag(), "--base-path=/admin"});
  EXPECT_EQ(admin.get("/admin/ping").body, "OK");
  EXPECT_EQ(admin.get("/admin/topics/orders").status, 200);
  EXPECT_EQ(admin.get("/admin/api/topics").body, "{\"topics\":[\"orders\"],\"message\":\"\"}");
  EXPECT_EQ(admin.get("/api/topics").status, 404);
}

TEST(NsqAdmin, HelpVersionAndBadFlags) {
  TempDir dir;
  {
    Process p(binaryPath("nsqadmin"), {"--version"}, dir.path());
    EXPECT_TRUE(eventually([&] { return !p.running(); }));
    EXPECT_NE(p.stdoutText().find("nsqadmin v"), std::string::npos);
  }
  TempDir dir2;
  Process bad(binaryPath("nsqadmin"), {"--http-address=127.0.0.1:0"}, dir2.path());
  EXPECT_TRUE(eventually([&] { return !bad.running(); }));
  EXPECT_NE(bad.stderrText().find("nsqadmin: --lookupd-http-address or --nsqd-http-address required"), std::string::npos)
      << bad.stderrText();
}

// LookupSession without a socket: command parsing, the exact error texts of §3.1, and the
// registration side effects.
#include "nsqlookupd/lookup_protocol.h"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace nsq::lookupd;

namespace {

const std::string kIdentify =
    R"({"version":"1.3.0","tcp_port":4150,"http_port":4151,"hostname":"h","broadcast_address":"b"})";

struct SessionTest : ::testing::Test {
  RegistrationDB db;
  Logger log{LogLevel::Fatal, ""};
  LookupContext ctx{db, log};
  SessionTest() {
    ctx.tcpPort = 4160;
    ctx.httpPort = 4161;
    ctx.broadcastAddress = "lookupd";
    ctx.hostname = "lookuphost";
  }
  static BodyReader body(const std::string& b) {
    return [b](LookupReply*) { return std::optional<std::string>(b); };
  }
  static BodyReader noBody() {
    return [](LookupReply*) -> std::optional<std::string> {
      ADD_FAILURE() << "body read unexpectedly";
      return std::nullopt;
    };
  }
};

}  // namespace

TEST_F(SessionTest, IdentifyRepliesWithLookupdInfoAndAddsClient) {
  LookupSession s(ctx, "10.0.0.1:5000");
  auto r = s.exec("IDENTIFY", body(kIdentify));
  EXPECT_FALSE(r.fatal);
  EXPECT_EQ(r.data,
            R"({"broadcast_address":"lookupd","hostname":"lookuphost","http_port":4161,)"
            R"("tcp_port":4160,"version":"1.3.0"})");
  auto clients = db.findProducers("client", "", "");
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].peer->remoteAddress, "10.0.0.1:5000");
  EXPECT_EQ(clients[0].peer->broadcastAddress, "b");
  EXPECT_EQ(clients[0].peer->httpPort, 4151);
}

TEST_F(SessionTest, IdentifyTwiceIsFatalWithoutReadingTheBody) {
  LookupSession s(ctx, "10.0.0.1:5000");
  s.exec("IDENTIFY", body(kIdentify));
  auto r = s.exec("IDENTIFY", noBody());
  EXPECT_TRUE(r.fatal);
  EXPECT_EQ(r.data, "E_INVALID cannot IDENTIFY again");
}

TEST_F(SessionTest, IdentifyBodyErrors) {
  struct Case {
    std::string body, reply;
  } cases[] = {
      {"not json", "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {"[1,2]", "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {R"({"tcp_port":"x"})", "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {R"({"version":1})", "E_BAD_BODY IDENTIFY failed to decode JSON body"},
      {"{}", "E_BAD_BODY IDENTIFY missing fields"},
      {R"({"version":"1.3.0","tcp_port":4150,"http_port":4151})",
       "E_BAD_BODY IDENTIFY missing fields"},
      {R"({"version":"1.3.0","tcp_port":0,"http_port":4151,"broadcast_address":"b"})",
       "E_BAD_BODY IDENTIFY missing fields"},
  };
  for (const auto& c : cases) {
    LookupSession s(ctx, "10.0.0.1:5000");
    auto r = s.exec("IDENTIFY", body(c.body));
    EXPECT_TRUE(r.fatal) << c.body;
    EXPECT_EQ(r.data, c.reply) << c.body;
    EXPECT_FALSE(s.identified());
  }
}

TEST_F(SessionTest, IdentifyPortsOutOfRangeAreFatal) {
  auto identify = [](const std::string& tcp, const std::string& http) {
    return R"({"version":"1.3.0","broadcast_address":"b","tcp_port":)" + tcp + R"(,"http_port":)" + http + "}";
  };
  const std::string decode = "E_BAD_BODY IDENTIFY failed to decode JSON body";
  struct Case {
    std::string body, reply;
  } cases[] = {
      // Beyond a Go int: the original cannot decode these either.
      {identify("9223372036854775808", "4151"), decode},
      {identify("-9223372036854775809", "4151"), decode},
      {identify("18446744073709551616", "4151"), decode},  // Poco alone would read 0
      {identify("4150", "9223372036854775808"), decode},
      {identify("4150", "1e400"), decode},
      {identify("true", "4151"), decode},
      {identify("4150.5", "4151"), decode},
      // Go ints, but no port.
      {identify("70000", "4151"), "E_BAD_BODY IDENTIFY tcp_port 70000 out of range 1-65535"},
      {identify("-1", "4151"), "E_BAD_BODY IDENTIFY tcp_port -1 out of range 1-65535"},
      {identify("-9223372036854775808", "4151"),
       "E_BAD_BODY IDENTIFY tcp_port -9223372036854775808 out of range 1-65535"},
      {identify("4150", "65536"), "E_BAD_BODY IDENTIFY http_port 65536 out of range 1-65535"},
      {identify("4150", "-1"), "E_BAD_BODY IDENTIFY http_port -1 out of range 1-65535"},
  };
  for (const auto& c : cases) {
    LookupSession s(ctx, "10.0.0.1:5000");
    auto r = s.exec("IDENTIFY", body(c.body));
    EXPECT_TRUE(r.fatal) << c.body;
    EXPECT_EQ(r.data, c.reply) << c.body;
    EXPECT_FALSE(s.identified());
  }
  LookupSession edge(ctx, "10.0.0.1:5001");
  auto r = edge.exec("IDENTIFY", body(identify("1", "65535")));
  EXPECT_FALSE(r.fatal) << r.data;
  EXPECT_TRUE(db.findProducers("client", "", "").size() == 1u);
}

TEST_F(SessionTest, AnExceptionInACommandIsAFatalReplyNotACrash) {
  LookupSession s(ctx, "10.0.0.1:5000");
  BodyReader throwing = [](LookupReply*) -> std::optional<std::string> { throw std::runtime_error("injected"); };
  auto r = s.exec("IDENTIFY", throwing);
  EXPECT_TRUE(r.fatal);
  EXPECT_EQ(r.data, "E_INVALID internal error");
  BodyReader throwingAnything = [](LookupReply*) -> std::optional<std::string> { throw 42; };
  EXPECT_EQ(s.exec("IDENTIFY", throwingAnything).data, "E_INVALID internal error");
  EXPECT_FALSE(s.exec("IDENTIFY", body(kIdentify)).fatal);  // the session itself is unharmed
}

TEST_F(SessionTest, UnknownKeysInIdentifyAreIgnored) {
  LookupSession s(ctx, "10.0.0.1:5000");
  auto r = s.exec("IDENTIFY", body(R"({"version":"1.3.0","tcp_port":1,"http_port":2,)"
                                   R"("broadcast_address":"b","extra":{"x":[1]}})"));
  EXPECT_FALSE(r.fatal) << r.data;
}

// docs/leniency.md #11: the original's Go decoder matches keys ignoring case; an exact spelling wins.
TEST_F(SessionTest, IdentifyKeysMatchIgnoringCaseAsTheOriginalDecodesThem) {
  LookupSession s(ctx, "10.0.0.1:5000");
  auto r = s.exec("IDENTIFY", body(R"({"Version":"1.3.0","TCP_Port":4150,"Http_Port":4151,)"
                                   R"("BROADCAST_ADDRESS":"upper","broadcast_address":"exact",)"
                                   R"("HostName":"h"})"));
  ASSERT_FALSE(r.fatal) << r.data;
  auto clients = db.findProducers("client", "", "");
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].peer->broadcastAddress, "exact");
  EXPECT_EQ(clients[0].peer->tcpPort, 4150);
  EXPECT_EQ(clients[0].peer->httpPort, 4151);
  EXPECT_EQ(clients[0].peer->hostname, "h");
  EXPECT_EQ(clients[0].peer->version, "1.3.0");
}

TEST_F(SessionTest, RegisterBeforeIdentifyIsFatal) {
  LookupSession s(ctx, "10.0.0.1:5000");
  auto r = s.exec("REGISTER t c", noBody());
  EXPECT_TRUE(r.fatal);
  EXPECT_EQ(r.data, "E_INVALID client must IDENTIFY");
  EXPECT_EQ(s.exec("UNREGISTER t", noBody()).data, "E_INVALID client must IDENTIFY");
}

TEST_F(SessionTest, RegisterErrorTexts) {
  struct Case {
    std::string line, reply;
  } cases[] = {
      {"REGISTER", "E_INVALID REGISTER insufficient number of params"},
      {"UNREGISTER", "E_INVALID UNREGISTER insufficient number of params"},
      {"REGISTER b@d", "E_BAD_TOPIC REGISTER topic name 'b@d' is not valid"},
      {"REGISTER  t", "E_BAD_TOPIC REGISTER topic name '' is not valid"},
      {"REGISTER t b@d", "E_BAD_CHANNEL REGISTER channel name 'b@d' is not valid"},
      {"UNREGISTER t " + std::string(65, 'c'),
       "E_BAD_CHANNEL UNREGISTER channel name '" + std::string(65, 'c') + "' is not valid"},
      {"FOO bar", "E_INVALID invalid command FOO"},
      {"", "E_INVALID invalid command "},
  };
  for (const auto& c : cases) {
    LookupSession s(ctx, "10.0.0.1:5000");
    ASSERT_FALSE(s.exec("IDENTIFY", body(kIdentify)).fatal);
    auto r = s.exec(c.line, noBody());
    EXPECT_TRUE(r.fatal) << c.line;
    EXPECT_EQ(r.data, c.reply) << c.line;
  }
}

TEST_F(SessionTest, RegisterUnregisterAndDisconnect) {
  {
    LookupSession s(ctx, "10.0.0.1:5000");
    s.exec("IDENTIFY", body(kIdentify));
    EXPECT_EQ(s.exec("REGISTER t c", noBody()).data, "OK");
    EXPECT_EQ(s.exec("REGISTER u", noBody()).data, "OK");
    EXPECT_EQ(db.findProducers("channel", "t", "c").size(), 1u);
    EXPECT_EQ(s.exec("UNREGISTER t c", noBody()).data, "OK");
    EXPECT_TRUE(db.findProducers("channel", "t", "c").empty());
    EXPECT_EQ(db.findProducers("topic", "u", "").size(), 1u);
  }
  // Session gone = disconnect: producer removed everywhere, keys remain.
  EXPECT_TRUE(db.findProducers("topic", "u", "").empty());
  EXPECT_TRUE(db.findProducers("client", "", "").empty());
  EXPECT_EQ(db.findRegistrations("topic", "u", "").size(), 1u);
}

TEST_F(SessionTest, PingRefreshesLastUpdateAndWorksBeforeIdentify) {
  int64_t now = 1000;
  RegistrationDB clocked([&] { return now; });
  LookupContext c2(clocked, log);
  LookupSession s(c2, "10.0.0.1:5000");
  EXPECT_EQ(s.exec("PING", noBody()).data, "OK");
  s.exec("IDENTIFY", body(kIdentify));
  now = 5000;
  EXPECT_EQ(s.exec("PING", noBody()).data, "OK");
  EXPECT_EQ(clocked.findProducers("client", "", "")[0].peer->lastUpdate.load(), 5000);
}

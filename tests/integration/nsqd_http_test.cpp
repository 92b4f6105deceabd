// End-to-end tests of nsqd's HTTP API (NSQ-COMPAT §2): the real binary on loopback, driven with
// plain HTTP requests (and raw sockets where the test needs control over the bytes sent).
#include <arpa/inet.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/test_support.h"

using namespace nsq::test;
using namespace std::chrono_literals;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

constexpr const char* kNsqHeader = "nsq; version=1.0";
constexpr const char* kJsonType = "application/json; charset=utf-8";

Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

std::string be32(uint32_t v) {
  uint32_t n = htonl(v);
  return std::string(reinterpret_cast<const char*>(&n), 4);
}

// MPUB binary body: [int32 n] then n x [int32 size][bytes].
std::string mpubBinary(const std::vector<std::string>& bodies) {
  std::string out = be32(static_cast<uint32_t>(bodies.size()));
  for (const auto& b : bodies) out += be32(static_cast<uint32_t>(b.size())) + b;
  return out;
}

// Reads one V2 frame: returns {type, data}.
std::pair<int, std::string> readFrame(TcpClient& c) {
  std::string size = c.readExact(4);
  uint32_t n = ntohl(*reinterpret_cast<const uint32_t*>(size.data()));
  std::string rest = c.readExact(n);
  uint32_t type = ntohl(*reinterpret_cast<const uint32_t*>(rest.data()));
  return {static_cast<int>(type), rest.substr(4)};
}

// Reads a whole HTTP response from a raw socket until the server closes it.
HttpResponse readUntilClose(TcpClient& c) {
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t r = ::recv(c.fd(), buf, sizeof buf, 0);
    if (r <= 0) break;
    raw.append(buf, static_cast<std::size_t>(r));
  }
  HttpResponse resp;
  auto headerEnd = raw.find("\r\n\r\n");
  if (headerEnd == std::string::npos) throw std::runtime_error("bad HTTP response: " + raw);
  std::istringstream head(raw.substr(0, headerEnd));
  std::string line;
  std::getline(head, line);
  resp.status = std::atoi(line.substr(line.find(' ') + 1).c_str());
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    resp.headers.emplace_back(line.substr(0, colon), v);
  }
  resp.body = raw.substr(headerEnd + 4);
  return resp;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class NsqdHttp : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    tcpPort_ = freePort();
    httpPort_ = freePort();
    std::vector<std::string> args = {"--tcp-address=127.0.0.1:" + std::to_string(tcpPort_),
                                     "--http-address=127.0.0.1:" + std::to_string(httpPort_),
                                     "--data-path=" + data_.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    nsqd_ = std::make_unique<Process>(binaryPath("nsqd"), args, logs_.path());
    ASSERT_TRUE(waitForPort(httpPort_)) << nsqd_->stderrText();
    ASSERT_TRUE(waitForPort(tcpPort_)) << nsqd_->stderrText();
  }
  void SetUp() override { start(); }

  HttpResponse get(const std::string& target) { return httpRequest(httpPort_, "GET", target); }
  HttpResponse post(const std::string& target, const std::string& body = "") {
    return httpRequest(httpPort_, "POST", target, body);
  }

  // Asserts an error reply: status, exact JSON body, JSON type and the NSQ header.
  void expectError(const HttpResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.body, "{\"message\":\"" + code + "\"}");
    EXPECT_EQ(r.header("Content-Type"), kJsonType);
    EXPECT_EQ(r.header("X-NSQ-Content-Type"), kNsqHeader);
  }
  void expectOk(const HttpResponse& r, const std::string& body = "") {
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.header("X-NSQ-Content-Type"), kNsqHeader);
  }

  Object::Ptr stats(const std::string& query = "") {
    HttpResponse r = get("/stats?format=json" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("Content-Type"), kJsonType);
    EXPECT_EQ(r.header("X-NSQ-Content-Type"), kNsqHeader);
    return parseObject(r.body);
  }
  // The topic object from /stats, or null.
  Object::Ptr topicStats(const std::string& topic, const std::string& query = "") {
    auto topics = stats(query)->getArray("topics");
    for (std::size_t i = 0; topics && i < topics->size(); ++i) {
      auto t = topics->getObject(static_cast<unsigned>(i));
      if (t->getValue<std::string>("topic_name") == topic) return t;
    }
    return nullptr;
  }
  Object::Ptr channelStats(const std::string& topic, const std::string& channel,
                           const std::string& query = "") {
    auto t = topicStats(topic, query);
    if (!t) return nullptr;
    auto channels = t->getArray("channels");
    for (std::size_t i = 0; channels && i < channels->size(); ++i) {
      auto c = channels->getObject(static_cast<unsigned>(i));
      if (c->getValue<std::string>("channel_name") == channel) return c;
    }
    return nullptr;
  }

  // A raw V2 connection subscribed to topic/channel.
  std::unique_ptr<TcpClient> subscribe(const std::string& topic, const std::string& channel) {
    auto c = std::make_unique<TcpClient>(tcpPort_);
    c->send("  V2");
    c->send("SUB " + topic + " " + channel + "\n");
    auto [type, data] = readFrame(*c);
    EXPECT_EQ(type, 0);
    EXPECT_EQ(data, "OK");
    return c;
  }

  TempDir data_;
  TempDir logs_;
  int tcpPort_ = 0;
  int httpPort_ = 0;
  std::unique_ptr<Process> nsqd_;
};

class NsqdHttpSmallLimits : public NsqdHttp {
 protected:
  void SetUp() override {
    start({"--max-msg-size=100", "--max-body-size=1000", "--max-req-timeout=10s"});
  }
};

}  // namespace

TEST_F(NsqdHttp, PingAnswersPlainOkWithoutNsqHeader) {
  HttpResponse r = get("/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("X-NSQ-Content-Type"), "");
}

TEST_F(NsqdHttp, InfoReportsPortsVersionAndLimits) {
  nsqd_.reset();
  start({"--broadcast-address=node1.example", "--max-output-buffer-size=12345",
         "--topology-zone=z1"});
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  HttpResponse r = get("/info");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), kJsonType);
  EXPECT_EQ(r.header("X-NSQ-Content-Type"), kNsqHeader);
  auto info = parseObject(r.body);
  EXPECT_EQ(info->getValue<std::string>("version"), "1.3.0");
  EXPECT_EQ(info->getValue<std::string>("broadcast_address"), "node1.example");
  EXPECT_FALSE(info->getValue<std::string>("hostname").empty());
  EXPECT_EQ(info->getValue<int>("http_port"), httpPort_);
  EXPECT_EQ(info->getValue<int>("tcp_port"), tcpPort_);
  EXPECT_NEAR(static_cast<double>(info->getValue<int64_t>("start_time")), static_cast<double>(now), 15);
  EXPECT_EQ(info->getValue<int64_t>("max_heartbeat_interval"), 60'000'000'000);
  EXPECT_EQ(info->getValue<int64_t>("max_output_buffer_size"), 12345);
  EXPECT_EQ(info->getValue<int64_t>("max_output_buffer_timeout"), 30'000'000'000);
  EXPECT_EQ(info->getValue<int>("max_deflate_level"), 6);
  EXPECT_EQ(info->getValue<std::string>("topology_zone"), "z1");
  EXPECT_EQ(info->getValue<std::string>("topology_region"), "");
}

TEST_F(NsqdHttp, PubAndMpubAreCountedExactlyInStats) {
  EXPECT_EQ(post("/channel/create?topic=t&channel=c").status, 404);  // topic not created
  expectOk(post("/topic/create?topic=t"));
  expectOk(post("/channel/create?topic=t&channel=c"));

  HttpResponse r = post("/pub?topic=t", "hello");
  expectOk(r, "OK");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  expectOk(post("/mpub?topic=t", "a\nbb\n\nccc\n"), "OK");                // 3 (empty skipped)
  expectOk(post("/mpub?topic=t", "x\ny"), "OK");                          // 2, no trailing \n
  expectOk(post("/mpub?topic=t&binary=true", mpubBinary({"b1", "b\n2"})), "OK");  // 2
  expectOk(post("/mpub?topic=t&binary=1", mpubBinary({"one"})), "OK");            // 1
  expectOk(post("/mpub?topic=t&binary=yes", mpubBinary({"odd"})), "OK");          // unrecognised = binary

  auto t = topicStats("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 10);
  EXPECT_EQ(t->getValue<int64_t>("message_bytes"), 5 + 6 + 2 + 5 + 3 + 3);
  EXPECT_EQ(t->getValue<int64_t>("depth"), 0);  // all moved on to the channel
  auto c = channelStats("t", "c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->getValue<int64_t>("depth"), 10);
  EXPECT_EQ(c->getValue<int64_t>("backend_depth"), 0);
  EXPECT_EQ(c->getValue<int64_t>("message_count"), 10);

  // A topic without channels keeps its messages itself; /pub creates the topic.
  expectOk(post("/pub?topic=lonely", "m"), "OK");
  expectOk(post("/mpub?topic=lonely", "1\n2\n"), "OK");
  auto lonely = topicStats("lonely");
  ASSERT_TRUE(lonely);
  EXPECT_EQ(lonely->getValue<int64_t>("depth"), 3);
  EXPECT_EQ(lonely->getValue<int64_t>("message_count"), 3);
}

TEST_F(NsqdHttpSmallLimits, PubErrorsHaveExactCodes) {
  expectError(post("/pub", "x"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/pub?topic=bad!name", "x"), 400, "INVALID_TOPIC");
  expectError(post("/pub?topic=", "x"), 400, "INVALID_TOPIC");
  expectError(post("/pub?topic=t", ""), 400, "MSG_EMPTY");
  expectError(post("/pub?topic=t", std::string(101, 'x')), 413, "MSG_TOO_BIG");
  expectError(post("/pub", std::string(101, 'x')), 413, "MSG_TOO_BIG");  // size checked first
  expectOk(post("/pub?topic=t", std::string(100, 'x')), "OK");
  expectError(post("/pub?topic=t&defer=-1", "x"), 400, "INVALID_DEFER");
  expectError(post("/pub?topic=t&defer=abc", "x"), 400, "INVALID_DEFER");
  expectError(post("/pub?topic=t&defer=10001", "x"), 400, "INVALID_DEFER");
  expectOk(post("/pub?topic=t&defer=10000", "x"), "OK");
  auto t = topicStats("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 2);
}

TEST_F(NsqdHttpSmallLimits, MpubErrorsHaveExactCodesAndPublishNothing) {
  expectError(post("/mpub", "x\n"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/mpub?topic=a/b", "x\n"), 400, "INVALID_TOPIC");
  expectError(post("/mpub?topic=t", std::string(1001, 'x')), 413, "BODY_TOO_BIG");
  expectError(post("/mpub?topic=t", "ok\n" + std::string(101, 'x') + "\n"), 413, "MSG_TOO_BIG");
  expectOk(post("/mpub?topic=t", std::string(100, 'x') + "\n" + std::string(100, 'y')), "OK");

  expectError(post("/mpub?topic=t&binary=true", ""), 413, "BAD_BODY");
  expectError(post("/mpub?topic=t&binary=true", be32(0)), 413, "BAD_BODY");
  expectError(post("/mpub?topic=t&binary=true", mpubBinary({"ok", ""})), 413, "BAD_MESSAGE");
  expectError(post("/mpub?topic=t&binary=true", mpubBinary({"ok", std::string(101, 'x')})), 413,
              "BAD_MESSAGE");
  std::string truncated = mpubBinary({"ok", "abcdef"});
  truncated.resize(truncated.size() - 2);
  expectError(post("/mpub?topic=t&binary=true", truncated), 413, "BAD_MESSAGE");
  expectError(post("/mpub?topic=t&binary=true", be32(2) + be32(3) + "abc"), 413, "BAD_MESSAGE");

  auto t = topicStats("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 2);  // only the one good text MPUB
  EXPECT_EQ(t->getValue<int64_t>("depth"), 2);
}

// Binary /mpub is read as the original reads it (the count, then each length-prefixed message);
// bytes after the last message are ignored, as there (docs/leniency.md).
TEST_F(NsqdHttpSmallLimits, BinaryMpubIgnoresBytesAfterTheLastMessage) {
  expectOk(post("/mpub?topic=trail&binary=true", mpubBinary({"a", "b"}) + "extra"), "OK");
  auto t = topicStats("trail");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 2);
}

TEST_F(NsqdHttpSmallLimits, OversizedBodyIsRefusedBeforeReading) {
  // Content-Length far over the limit, and no body sent at all: the reply must not wait for it.
  for (const auto& [path, code] : {std::pair<std::string, std::string>{"/pub?topic=t", "MSG_TOO_BIG"},
                                   {"/mpub?topic=t", "BODY_TOO_BIG"}}) {
    TcpClient c(httpPort_);
    c.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
    HttpResponse r = readUntilClose(c);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.body, "{\"message\":\"" + code + "\"}");
    std::string connection = r.header("Connection");
    for (auto& ch : connection) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(connection, "close");
  }
  // A chunked body (no Content-Length) is cut off at the limit.
  TcpClient c(httpPort_);
  std::string chunk(600, 'z');
  c.send("POST /mpub?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
         "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  HttpResponse r = readUntilClose(c);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "{\"message\":\"BODY_TOO_BIG\"}");
  // A chunked body within the limit is fine.
  TcpClient ok(httpPort_);
  ok.send("POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  HttpResponse r2 = readUntilClose(ok);
  EXPECT_EQ(r2.status, 200);
  EXPECT_EQ(r2.body, "OK");
  auto t = topicStats("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->getValue<int64_t>("message_count"), 1);
  EXPECT_EQ(t->getValue<int64_t>("message_bytes"), 5);
}

TEST_F(NsqdHttp, KeepAliveConnectionSurvivesIgnoredBodies) {
  TcpClient c(httpPort_);
  // Three requests pipelined on one connection; the first carries a body the handler ignores.
  c.send("POST /topic/create?topic=ka HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
         "POST /pub?topic=ka HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
         "GET /stats?format=json&topic=ka HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t r = ::recv(c.fd(), buf, sizeof buf, 0);
    if (r <= 0) break;
    raw.append(buf, static_cast<std::size_t>(r));
  }
  std::size_t count = 0;
  for (std::size_t pos = 0; (pos = raw.find("HTTP/1.1 200", pos)) != std::string::npos; ++pos) ++count;
  EXPECT_EQ(count, 3u) << raw;
  EXPECT_NE(raw.find("\"message_count\":1"), std::string::npos) << raw;
}

TEST_F(NsqdHttp, UnknownPathsAndWrongMethods) {
  expectError(get("/nope"), 404, "NOT_FOUND");
  expectError(post("/topic/nope?topic=t"), 404, "NOT_FOUND");
  expectError(get("/debug/pprof/heap"), 404, "NOT_FOUND");
  expectError(get("/config/"), 404, "NOT_FOUND");
  HttpResponse r = get("/pub?topic=t");
  expectError(r, 405, "METHOD_NOT_ALLOWED");
  EXPECT_NE(r.header("Allow").find("POST"), std::string::npos);
  expectError(httpRequest(httpPort_, "PUT", "/pub?topic=t", "x"), 405, "METHOD_NOT_ALLOWED");
  expectError(get("/mpub?topic=t"), 405, "METHOD_NOT_ALLOWED");
  expectError(post("/stats"), 405, "METHOD_NOT_ALLOWED");
  expectError(post("/ping"), 405, "METHOD_NOT_ALLOWED");
  expectError(get("/topic/create?topic=t"), 405, "METHOD_NOT_ALLOWED");
  expectError(get("/channel/pause?topic=t&channel=c"), 405, "METHOD_NOT_ALLOWED");
  expectError(post("/config/mem_queue_size"), 405, "METHOD_NOT_ALLOWED");
  expectError(get("/stats?topic=%zz"), 400, "INVALID_REQUEST");
  expectError(post("/topic/create?topic=a;b"), 400, "INVALID_REQUEST");
}

// docs/leniency.md #12: the routes whose upstream handler never parses the query ignore a bad one.
TEST_F(NsqdHttp, RoutesThatReadNoQueryIgnoreAMalformedOne) {
  EXPECT_EQ(get("/ping?_=1;2").body, "OK");
  EXPECT_EQ(get("/info?x=%zz").status, 200);
  EXPECT_EQ(get("/metrics?%").status, 200);
  EXPECT_EQ(get("/config/mem_queue_size?a;b").status, 200);
  expectError(post("/pub?topic=t;x", "m"), 400, "INVALID_REQUEST");  // these do read it
  expectError(get("/stats?format=json;x"), 400, "INVALID_REQUEST");
}

TEST_F(NsqdHttp, TopicAdminErrorsAndEffects) {
  expectError(post("/topic/create"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/create?topic=bad%20name"), 400, "INVALID_TOPIC");
  expectError(post("/topic/delete"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/delete?topic=absent"), 404, "TOPIC_NOT_FOUND");
  expectError(post("/topic/empty"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/empty?topic=bad!"), 400, "INVALID_TOPIC");
  expectError(post("/topic/empty?topic=absent"), 404, "TOPIC_NOT_FOUND");
  expectError(post("/topic/pause"), 400, "MISSING_ARG_TOPIC");
  expectError(post("/topic/pause?topic=absent"), 404, "TOPIC_NOT_FOUND");
  expectError(post("/topic/unpause?topic=absent"), 404, "TOPIC_NOT_FOUND");

  expectOk(post("/topic/create?topic=t"));
  expectOk(post("/mpub?topic=t", "1\n2\n3\n"), "OK");
  EXPECT_EQ(topicStats("t")->getValue<int64_t>("depth"), 3);
  expectOk(post("/topic/empty?topic=t"));
  EXPECT_EQ(topicStats("t")->getValue<int64_t>("depth"), 0);
  EXPECT_NE(readFile(data_.file("nsqd.dat")).find("\"t\""), std::string::npos);
  expectOk(post("/topic/delete?topic=t"));
  EXPECT_FALSE(topicStats("t"));
  EXPECT_EQ(readFile(data_.file("nsqd.dat")).find("\"t\""), std::string::npos);
  expectError(post("/topic/delete?topic=t"), 404, "TOPIC_NOT_FOUND");
}

TEST_F(NsqdHttp, ChannelAdminErrorsAndEffects) {
  for (const std::string op : {"create", "delete", "empty", "pause", "unpause"}) {
    SCOPED_TRACE(op);
    std::string p = "/channel/" + op;
    expectError(post(p), 400, "MISSING_ARG_TOPIC");
    expectError(post(p + "?topic=bad!&channel=c"), 400, "INVALID_ARG_TOPIC");
    expectError(post(p + "?topic=t"), 400, "MISSING_ARG_CHANNEL");
    expectError(post(p + "?topic=t&channel=bad!"), 400, "INVALID_ARG_CHANNEL");
    expectError(post(p + "?topic=absent&channel=c"), 404, "TOPIC_NOT_FOUND");
  }
  EXPECT_FALSE(topicStats("absent"));  // /channel/* never creates the topic
  expectOk(post("/topic/create?topic=t"));
  for (const std::string op : {"delete", "empty", "pause", "unpause"})
    expectError(post("/channel/" + op + "?topic=t&channel=nope"), 404, "CHANNEL_NOT_FOUND");

  expectOk(post("/channel/create?topic=t&channel=c"));
  expectOk(post("/channel/create?topic=t&channel=eph%23ephemeral"));
  ASSERT_TRUE(channelStats("t", "eph#ephemeral"));
  std::string dat = readFile(data_.file("nsqd.dat"));
  EXPECT_NE(dat.find("\"c\""), std::string::npos) << dat;
  EXPECT_EQ(dat.find("ephemeral"), std::string::npos) << dat;

  expectOk(post("/mpub?topic=t", "1\n2\n3\n"), "OK");
  EXPECT_EQ(channelStats("t", "c")->getValue<int64_t>("depth"), 3);
  expectOk(post("/channel/empty?topic=t&channel=c"));
  EXPECT_EQ(channelStats("t", "c")->getValue<int64_t>("depth"), 0);
  EXPECT_EQ(channelStats("t", "eph#ephemeral")->getValue<int64_t>("depth"), 3);

  expectOk(post("/channel/delete?topic=t&channel=c"));
  EXPECT_FALSE(channelStats("t", "c"));
  EXPECT_EQ(readFile(data_.file("nsqd.dat")).find("\"c\""), std::string::npos);
  expectError(post("/channel/delete?topic=t&channel=c"), 404, "CHANNEL_NOT_FOUND");
}

TEST_F(NsqdHttp, PauseAndUnpauseShowInStatsAndPersist) {
  expectOk(post("/topic/create?topic=t"));
  expectOk(post("/channel/create?topic=t&channel=c"));
  expectOk(post("/topic/pause?topic=t"));
  expectOk(post("/channel/pause?topic=t&channel=c"));
  EXPECT_TRUE(topicStats("t")->getValue<bool>("paused"));
  EXPECT_TRUE(channelStats("t", "c")->getValue<bool>("paused"));
  auto dat = parseObject(readFile(data_.file("nsqd.dat")));
  auto topic = dat->getArray("topics")->getObject(0);
  EXPECT_EQ(topic->getValue<std::string>("name"), "t");
  EXPECT_TRUE(topic->getValue<bool>("paused"));
  EXPECT_TRUE(topic->getArray("channels")->getObject(0)->getValue<bool>("paused"));

  // A paused topic holds new messages back from its channels.
  expectOk(post("/pub?topic=t", "held"), "OK");
  EXPECT_EQ(topicStats("t")->getValue<int64_t>("depth"), 1);
  EXPECT_EQ(channelStats("t", "c")->getValue<int64_t>("depth"), 0);

  expectOk(post("/topic/unpause?topic=t"));
  expectOk(post("/channel/unpause?topic=t&channel=c"));
  EXPECT_FALSE(topicStats("t")->getValue<bool>("paused"));
  EXPECT_FALSE(channelStats("t", "c")->getValue<bool>("paused"));
  EXPECT_EQ(channelStats("t", "c")->getValue<int64_t>("depth"), 1);
  dat = parseObject(readFile(data_.file("nsqd.dat")));
  topic = dat->getArray("topics")->getObject(0);
  EXPECT_FALSE(topic->getValue<bool>("paused"));
  EXPECT_FALSE(topic->getArray("channels")->getObject(0)->getValue<bool>("paused"));
}

TEST_F(NsqdHttp, DeferredPublishIsCountedAsDeferred) {
  expectOk(post("/topic/create?topic=t"));
  expectOk(post("/channel/create?topic=t&channel=c"));
  expectOk(post("/pub?topic=t&defer=60000", "later"), "OK");
  auto c = channelStats("t", "c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->getValue<int64_t>("deferred_count"), 1);
  EXPECT_EQ(c->getValue<int64_t>("depth"), 0);
  EXPECT_EQ(c->getValue<int64_t>("message_count"), 1);
}

TEST_F(NsqdHttp, StatsShapeWithSubscribedClientAndProducer) {
  auto consumer = subscribe("t", "c");
  TcpClient producer(tcpPort_);
  producer.send("  V2");
  producer.send("PUB t\n" + be32(3) + "abc");
  auto [type, data] = readFrame(producer);
  ASSERT_EQ(type, 0);
  ASSERT_EQ(data, "OK");

  auto s = stats();
  EXPECT_EQ(s->getValue<std::string>("version"), "1.3.0");
  EXPECT_EQ(s->getValue<std::string>("health"), "OK");
  EXPECT_GT(s->getValue<int64_t>("start_time"), 0);
  auto mem = s->getObject("memory");
  ASSERT_TRUE(mem);
  for (const char* k : {"heap_objects", "heap_idle_bytes", "heap_in_use_bytes", "heap_released_bytes",
                        "gc_pause_usec_100", "gc_pause_usec_99", "gc_pause_usec_95", "next_gc_bytes",
                        "gc_total_runs"})
    EXPECT_TRUE(mem->has(k)) << k;

  auto topic = s->getArray("topics")->getObject(0);
  for (const char* k : {"topic_name", "channels", "depth", "backend_depth", "message_count",
                        "message_bytes", "paused", "e2e_processing_latency"})
    EXPECT_TRUE(topic->has(k)) << k;
  auto e2e = topic->getObject("e2e_processing_latency");
  EXPECT_EQ(e2e->getValue<int>("count"), 0);
  EXPECT_TRUE(e2e->isNull("percentiles"));
  auto channel = topic->getArray("channels")->getObject(0);
  for (const char* k : {"channel_name", "depth", "backend_depth", "in_flight_count", "deferred_count",
                        "message_count", "requeue_count", "timeout_count", "client_count", "clients",
                        "paused", "e2e_processing_latency"})
    EXPECT_TRUE(channel->has(k)) << k;
  EXPECT_EQ(channel->getValue<int>("client_count"), 1);
  auto clients = channel->getArray("clients");
  ASSERT_EQ(clients->size(), 1u);
  auto client = clients->getObject(0);
  for (const char* k : {"client_id", "hostname", "version", "remote_address", "state", "ready_count",
                        "in_flight_count", "message_count", "finish_count", "requeue_count",
                        "connect_ts", "sample_rate", "deflate", "snappy", "user_agent",
                        "topology_zone", "topology_region", "tls", "tls_cipher_suite", "tls_version",
                        "tls_negotiated_protocol", "tls_negotiated_protocol_is_mutual"})
    EXPECT_TRUE(client->has(k)) << k;
  EXPECT_EQ(client->getValue<std::string>("version"), "V2");
  EXPECT_EQ(client->getValue<int>("state"), 3);
  EXPECT_EQ(client->getValue<int>("ready_count"), 0);
  EXPECT_EQ(client->getValue<std::string>("remote_address").rfind("127.0.0.1:", 0), 0u);
  EXPECT_FALSE(client->getValue<bool>("tls"));
  EXPECT_FALSE(client->getValue<bool>("deflate"));
  EXPECT_FALSE(client->has("pub_counts"));

  auto producers = s->getArray("producers");
  ASSERT_TRUE(producers);
  ASSERT_EQ(producers->size(), 1u);
  auto pubCounts = producers->getObject(0)->getArray("pub_counts");
  ASSERT_TRUE(pubCounts);
  ASSERT_EQ(pubCounts->size(), 1u);
  EXPECT_EQ(pubCounts->getObject(0)->getValue<std::string>("topic"), "t");
  EXPECT_EQ(pubCounts->getObject(0)->getValue<int>("count"), 1);

  // include_clients=false drops client lists and producers but keeps the count.
  auto lean = stats("&include_clients=false&include_mem=false");
  EXPECT_FALSE(lean->has("memory"));
  auto leanChannel = lean->getArray("topics")->getObject(0)->getArray("channels")->getObject(0);
  EXPECT_EQ(leanChannel->getValue<int>("client_count"), 1);
  EXPECT_TRUE(!leanChannel->has("clients") || leanChannel->isNull("clients"));
  EXPECT_TRUE(!lean->has("producers") || lean->isNull("producers"));

  // A closed producer disappears from the list.
  producer.send("CLS\n");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  ::shutdown(producer.fd(), SHUT_RDWR);
  while (stats()->getArray("producers")->size() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(stats()->getArray("producers")->size(), 0u);
}

TEST_F(NsqdHttp, ClientCountersFollowDeliveriesFinsAndRequeues) {
  auto consumer = subscribe("t", "c");
  for (const char* body : {"a", "b", "c"}) expectOk(post("/pub?topic=t", body), "OK");
  consumer->send("RDY 3\n");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto [type, data] = readFrame(*consumer);
    ASSERT_EQ(type, 2) << data;
    ids.push_back(data.substr(10, 16));
  }
  consumer->send("FIN " + ids[0] + "\nREQ " + ids[1] + " 0\n");
  auto [type, again] = readFrame(*consumer);  // the requeued message, delivered a second time
  ASSERT_EQ(type, 2) << again;
  EXPECT_EQ(again.substr(10, 16), ids[1]);

  auto channel = channelStats("t", "c");
  ASSERT_TRUE(channel);
  EXPECT_EQ(channel->getValue<int>("in_flight_count"), 2);
  EXPECT_EQ(channel->getValue<int>("requeue_count"), 1);
  auto client = channel->getArray("clients")->getObject(0);
  EXPECT_EQ(client->getValue<int>("ready_count"), 3);
  EXPECT_EQ(client->getValue<int>("in_flight_count"), 2);
  EXPECT_EQ(client->getValue<int>("message_count"), 4);
  EXPECT_EQ(client->getValue<int>("finish_count"), 1);
  EXPECT_EQ(client->getValue<int>("requeue_count"), 1);
}

TEST_F(NsqdHttp, StatsFiltersAndSorting) {
  for (const char* t : {"zeta", "alpha", "mid"}) expectOk(post(std::string("/topic/create?topic=") + t));
  for (const char* c : {"c2", "c1"}) expectOk(post(std::string("/channel/create?topic=mid&channel=") + c));
  expectOk(post("/channel/create?topic=zeta&channel=c1"));

  auto topics = stats()->getArray("topics");
  ASSERT_EQ(topics->size(), 3u);
  EXPECT_EQ(topics->getObject(0)->getValue<std::string>("topic_name"), "alpha");
  EXPECT_EQ(topics->getObject(1)->getValue<std::string>("topic_name"), "mid");
  EXPECT_EQ(topics->getObject(2)->getValue<std::string>("topic_name"), "zeta");
  auto channels = topics->getObject(1)->getArray("channels");
  ASSERT_EQ(channels->size(), 2u);
  EXPECT_EQ(channels->getObject(0)->getValue<std::string>("channel_name"), "c1");
  EXPECT_EQ(channels->getObject(1)->getValue<std::string>("channel_name"), "c2");

  auto one = stats("&topic=mid")->getArray("topics");
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->getObject(0)->getValue<std::string>("topic_name"), "mid");
  auto none = stats("&topic=unknown");
  EXPECT_TRUE(none->isNull("topics") || none->getArray("topics")->size() == 0);

  auto byChannel = stats("&channel=c2")->getArray("topics");  // topics lacking c2 are skipped
  ASSERT_EQ(byChannel->size(), 1u);
  EXPECT_EQ(byChannel->getObject(0)->getValue<std::string>("topic_name"), "mid");
  ASSERT_EQ(byChannel->getObject(0)->getArray("channels")->size(), 1u);
  auto both = stats("&topic=mid&channel=c1")->getArray("topics");
  ASSERT_EQ(both->size(), 1u);
  ASSERT_EQ(both->getObject(0)->getArray("channels")->size(), 1u);
  EXPECT_EQ(both->getObject(0)->getArray("channels")->getObject(0)->getValue<std::string>("channel_name"),
            "c1");

  // The text format is the default.
  HttpResponse text = get("/stats");
  EXPECT_EQ(text.status, 200);
  EXPECT_EQ(text.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(text.header("X-NSQ-Content-Type"), kNsqHeader);
  EXPECT_NE(text.body.find("Health: OK"), std::string::npos) << text.body;
  EXPECT_NE(text.body.find("[mid            ]"), std::string::npos) << text.body;
  EXPECT_NE(text.body.find("[c2                       ]"), std::string::npos) << text.body;
}

TEST_F(NsqdHttp, ConfigReadsOptionsAndSetsLogLevel) {
  nsqd_.reset();
  start({"--mem-queue-size=555", "--node-id=42", "--msg-timeout=30s"});
  HttpResponse r = get("/config/mem_queue_size");
  expectOk(r, "555");
  EXPECT_EQ(r.header("Content-Type"), kJsonType);
  expectOk(get("/config/id"), "42");
  expectOk(get("/config/msg_timeout"), "30000000000");
  expectOk(get("/config/nsqlookupd_tcp_addresses"), "[]");
  expectOk(get("/config/log_level"), "\"info\"");
  expectOk(get("/config/deflate"), "true");
  expectError(get("/config/no_such_option"), 400, "INVALID_OPTION");
  expectError(get("/config/node_id"), 400, "INVALID_OPTION");  // upstream's name is "id"

  expectOk(httpRequest(httpPort_, "PUT", "/config/log_level", "WARN"), "\"warn\"");
  expectOk(get("/config/log_level"), "\"warn\"");
  expectError(httpRequest(httpPort_, "PUT", "/config/log_level", "loud"), 400, "INVALID_VALUE");
  expectError(httpRequest(httpPort_, "PUT", "/config/log_level", ""), 413, "INVALID_VALUE");
  expectError(httpRequest(httpPort_, "PUT", "/config/mem_queue_size", "5"), 400, "INVALID_OPTION");
}

TEST_F(NsqdHttp, DebugEndpointsAnswerPlainText) {
  HttpResponse r = httpRequest(httpPort_, "POST", "/debug/freememory");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-NSQ-Content-Type"), "");
  EXPECT_EQ(httpRequest(httpPort_, "PUT", "/debug/setblockrate?rate=1").status, 200);
  HttpResponse bad = httpRequest(httpPort_, "PUT", "/debug/setblockrate?rate=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("X-NSQ-Content-Type"), "");
}

// Regression tests against the real binaries for numbers a peer controls. It began with one
// IDENTIFY: {"heartbeat_interval": 9223372036854775808} made Poco throw RangeException on an
// nsqd IO thread and the daemon aborted. Every number from outside now goes through
// nsq/number.h; each test here sends the boundary values (2^63, 2^64, -2^63-1, huge digit
// strings), checks the exact reply and the connection's fate, and then that the daemon still
// answers /ping and serves a new client.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/lookupd_process.h"
#include "support/nsqd_process.h"
#include "support/test_support.h"
#include "support/v2_client.h"

using namespace nsq;
using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

const std::string k2to31 = "2147483648";
const std::string k2to62 = "4611686018427387904";
const std::string k2to63 = "9223372036854775808";
const std::string k2to64 = "18446744073709551616";
const std::string kMinus2to63 = "-9223372036854775808";
const std::string kMinus2to63Minus1 = "-9223372036854775809";
const std::string kHuge = std::string(300, '9');

const char* const kIdentifyIntegerFields[] = {"heartbeat_interval", "output_buffer_size",
                                              "output_buffer_timeout", "msg_timeout",
                                              "sample_rate", "deflate_level"};

// The original's text when a value does not fit its Go field.
const std::string kDecodeFailed = "E_BAD_BODY IDENTIFY failed to decode JSON body";

// nsqd is alive: /ping answers OK and a new client can IDENTIFY and publish.
void expectNsqdServes(NsqdProcess& nsqd) {
  ASSERT_TRUE(nsqd.process().running()) << nsqd.logs();
  auto ping = httpRequest(nsqd.httpPort(), "GET", "/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "OK");
  V2Client client(nsqd.tcpPort());
  EXPECT_EQ(client.identify(R"({"client_id":"after","heartbeat_interval":5000})"), "OK");
  EXPECT_EQ(client.pub("hostile_after", "still here"), "OK");
}

// Sends one IDENTIFY body on a fresh connection; returns the error frame's text (or what came
// instead) and whether nsqd then closed the connection.
std::pair<std::string, bool> identifyReply(NsqdProcess& nsqd, const std::string& body) {
  V2Client client(nsqd.tcpPort());
  client.commandWithBody("IDENTIFY", body);
  TestFrame frame = client.readFrame();
  std::string text = frame.type == FrameType::Error ? frame.data : "non-error frame: " + frame.data;
  return {text, client.tcp().waitClosed(5s)};
}

// A command line (no body) on a fresh, subscribed-if-asked connection; returns the error text.
std::pair<std::string, bool> commandReply(NsqdProcess& nsqd, const std::vector<std::string>& before,
                                          const std::string& line) {
  V2Client client(nsqd.tcpPort());
  for (const auto& b : before) client.send(b);
  client.send(line + "\n");
  for (;;) {
    TestFrame frame = client.readFrame();
    if (frame.type == FrameType::Error) return {frame.data, client.tcp().waitClosed(5s)};
    if (frame.type == FrameType::Response) continue;  // the OK of a SUB sent before
    return {"unexpected frame", false};
  }
}

std::string sizePrefix(std::size_t n) {
  uint32_t be = htonl(static_cast<uint32_t>(n));
  return std::string(reinterpret_cast<const char*>(&be), 4);
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The real nsqlookupd on free loopback ports.
struct Lookupd : LookupdProcess {
  // One V1 IDENTIFY on a fresh connection: the reply and whether lookupd closed afterwards.
  std::pair<std::string, bool> identify(const std::string& tcpPortJson, const std::string& httpPortJson) {
    std::string body = R"({"version":"1.3.0","broadcast_address":"hostile.test","hostname":"h","tcp_port":)" +
                       tcpPortJson + R"(,"http_port":)" + httpPortJson + "}";
    TcpClient conn(tcpPort);
    conn.send("  V1IDENTIFY\n" + sizePrefix(body.size()) + body);
    std::string size = conn.readExact(4);
    uint32_t n;
    std::memcpy(&n, size.data(), 4);
    std::string reply = conn.readExact(ntohl(n));
    return {reply, reply.rfind("E_", 0) == 0 && conn.waitClosed(5s)};
  }
};

}  // namespace

// The report, byte for byte: nsqd must answer and live.
TEST(HostileInput, TheFuzzedIdentifyIsBadBodyAndNsqdLives) {
  NsqdProcess nsqd;
  TcpClient conn(nsqd.tcpPort());
  std::string body = "{\"heartbeat_interval\": 9223372036854775808}";
  conn.send("  V2IDENTIFY\n" + sizePrefix(body.size()) + body);
  std::string header = conn.readExact(8);
  uint32_t size, type;
  std::memcpy(&size, header.data(), 4);
  std::memcpy(&type, header.data() + 4, 4);
  EXPECT_EQ(ntohl(type), static_cast<uint32_t>(FrameType::Error));
  EXPECT_EQ(conn.readExact(ntohl(size) - 4), kDecodeFailed);
  EXPECT_TRUE(conn.waitClosed());
  expectNsqdServes(nsqd);
}

TEST(HostileInput, EveryIdentifyIntegerFieldBeyondItsGoTypeIsBadBodyAndFatal) {
  NsqdProcess nsqd;
  for (const char* field : kIdentifyIntegerFields) {
    for (const auto& value : {k2to63, k2to64, kMinus2to63Minus1, kHuge, "-" + kHuge, k2to63 + ".0",
                              std::string("1e400"), std::string("\"5000\""), std::string("true"),
                              std::string("1.5")}) {
      std::string body = std::string("{\"") + field + "\": " + value + "}";
      auto [reply, closed] = identifyReply(nsqd, body);
      EXPECT_EQ(reply, kDecodeFailed) << body;
      EXPECT_TRUE(closed) << body;
    }
  }
  // sample_rate is an int32 in the original.
  auto [reply, closed] = identifyReply(nsqd, R"({"sample_rate":)" + k2to31 + "}");
  EXPECT_EQ(reply, kDecodeFailed);
  EXPECT_TRUE(closed);
  expectNsqdServes(nsqd);
}

TEST(HostileInput, IdentifyIntegersThatFitButAreInvalidNameTheSetting) {
  NsqdProcess nsqd;
  struct Case {
    std::string body, reply;
  } cases[] = {
      {R"({"heartbeat_interval":)" + k2to62 + "}",
       "E_BAD_BODY IDENTIFY heartbeat interval (" + k2to62 + ") is invalid"},
      {R"({"heartbeat_interval":)" + kMinus2to63 + "}",
       "E_BAD_BODY IDENTIFY heartbeat interval (" + kMinus2to63 + ") is invalid"},
      {R"({"output_buffer_size":9223372036854775807})",
       "E_BAD_BODY IDENTIFY output buffer size (9223372036854775807) is invalid"},
      {R"({"output_buffer_timeout":)" + kMinus2to63 + "}",
       "E_BAD_BODY IDENTIFY output buffer timeout (" + kMinus2to63 + ") is invalid"},
      {R"({"msg_timeout":)" + k2to62 + "}", "E_BAD_BODY IDENTIFY msg timeout (" + k2to62 + ") is invalid"},
      {R"({"sample_rate":2147483647})", "E_BAD_BODY IDENTIFY sample rate (2147483647) is invalid"},
      {R"({"sample_rate":-2147483648})", "E_BAD_BODY IDENTIFY sample rate (-2147483648) is invalid"},
  };
  for (const auto& c : cases) {
    auto [reply, closed] = identifyReply(nsqd, c.body);
    EXPECT_EQ(reply, c.reply) << c.body;
    EXPECT_TRUE(closed) << c.body;
  }
  // A huge deflate_level is clamped to the maximum, as the original does.
  V2Client client(nsqd.tcpPort());
  std::string resp = client.identify(R"({"feature_negotiation":true,"deflate_level":9223372036854775807})");
  EXPECT_NE(resp.find("\"deflate_level\":6"), std::string::npos) << resp;  // deflate not asked for
  expectNsqdServes(nsqd);
}

TEST(HostileInput, NumericCommandParametersOutOfRangeAreInvalid) {
  NsqdProcess nsqd;
  const std::string sub = "SUB hostile_params c\n";
  struct Case {
    std::vector<std::string> before;
    std::string line, reply;
  } cases[] = {
      {{sub}, "RDY " + k2to63, "E_INVALID RDY could not parse count " + k2to63},
      {{sub}, "RDY " + k2to64, "E_INVALID RDY could not parse count " + k2to64},
      {{sub}, "RDY " + kHuge, "E_INVALID RDY could not parse count " + kHuge},
      {{sub}, "RDY -1", "E_INVALID RDY could not parse count -1"},
      {{sub}, "RDY 2501", "E_INVALID RDY count 2501 out of range 0-2500"},
      {{sub}, "REQ 0000000000000000 " + k2to64, "E_INVALID REQ could not parse timeout " + k2to64},
      {{}, "DPUB hostile_params " + k2to64, "E_INVALID DPUB timeout " + k2to64 + " out of range 0-3600000"},
      {{}, "DPUB hostile_params " + kHuge, "E_INVALID DPUB timeout " + kHuge + " out of range 0-3600000"},
      {{}, "DPUB hostile_params 3600001", "E_INVALID DPUB timeout 3600001 out of range 0-3600000"},
      {{}, "DPUB hostile_params -1", "E_INVALID DPUB could not parse timeout -1"},
  };
  for (const auto& c : cases) {
    auto [reply, closed] = commandReply(nsqd, c.before, c.line);
    EXPECT_EQ(reply, c.reply) << c.line;
    EXPECT_TRUE(closed) << c.line;
  }
  expectNsqdServes(nsqd);
}

TEST(HostileInput, HttpNumbersOutOfRangeAre400) {
  NsqdProcess nsqd;
  auto post = [&](const std::string& target) { return httpRequest(nsqd.httpPort(), "POST", target, "m"); };
  for (const auto& defer : {std::string("99999999999999999999"), k2to63, k2to64, kMinus2to63Minus1, kMinus2to63,
                            kHuge, std::string("-1"), std::string("3600001"), std::string("1e3"),
                            std::string("1.5"), std::string("0x10"), std::string("")}) {
    for (const char* path : {"/pub", "/mpub"}) {
      auto r = post(std::string(path) + "?topic=hostile_http&defer=" + defer);
      EXPECT_EQ(r.status, 400) << path << " defer=" << defer;
      EXPECT_EQ(r.body, R"({"message":"INVALID_DEFER"})") << path << " defer=" << defer;
    }
  }
  auto ok = post("/pub?topic=hostile_http&defer=3600000");
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto rate = httpRequest(nsqd.httpPort(), "PUT", "/debug/setblockrate?rate=" + k2to64);
  EXPECT_EQ(rate.status, 400);
  EXPECT_EQ(rate.body, "invalid block rate : " + k2to64);
  expectNsqdServes(nsqd);
}

TEST(HostileInput, ConfigNumbersOutOfRangeStopNsqdWithTheOptionNamed) {
  auto [code, err] = runNsqdToExit({"--mem-queue-size=" + k2to63});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("--mem-queue-size"), std::string::npos) << err;
  EXPECT_NE(err.find("invalid integer value \"" + k2to63 + "\""), std::string::npos) << err;
  TempDir dir;
  writeFile(dir.file("n.yaml"), "mem_queue_size: " + k2to64 + "\n");
  std::tie(code, err) = runNsqdToExit({"--config", dir.file("n.yaml"), "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("n.yaml:1: key \"mem_queue_size\": invalid integer value \"" + k2to64 + "\""),
            std::string::npos)
      << err;
  std::tie(code, err) = runNsqdToExit({"--tcp-address=127.0.0.1:" + k2to64, "--data-path=" + dir.path()});
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("invalid port in address 127.0.0.1:" + k2to64), std::string::npos) << err;
}

TEST(HostileInput, LookupdIdentifyPortsOutOfRangeAreBadBodyAndLookupdLives) {
  Lookupd lookupd;
  struct Case {
    std::string tcp, http, reply;
  } cases[] = {
      {"70000", "4151", "E_BAD_BODY IDENTIFY tcp_port 70000 out of range 1-65535"},
      {"-1", "4151", "E_BAD_BODY IDENTIFY tcp_port -1 out of range 1-65535"},
      {kMinus2to63, "4151", "E_BAD_BODY IDENTIFY tcp_port " + kMinus2to63 + " out of range 1-65535"},
      {kMinus2to63Minus1, "4151", kDecodeFailed},
      {k2to63, "4151", kDecodeFailed},
      {k2to64, "4151", kDecodeFailed},
      {kHuge, "4151", kDecodeFailed},
      {"4150", "70000", "E_BAD_BODY IDENTIFY http_port 70000 out of range 1-65535"},
      {"4150", "-1", "E_BAD_BODY IDENTIFY http_port -1 out of range 1-65535"},
      {"4150", kMinus2to63Minus1, kDecodeFailed},
      {"4150", k2to63, kDecodeFailed},
      {"4150", k2to64, kDecodeFailed},
      {"4150", "0", "E_BAD_BODY IDENTIFY missing fields"},
  };
  for (const auto& c : cases) {
    auto [reply, closed] = lookupd.identify(c.tcp, c.http);
    EXPECT_EQ(reply, c.reply) << c.tcp << " " << c.http;
    EXPECT_TRUE(closed) << c.tcp << " " << c.http;
  }
  ASSERT_TRUE(lookupd.proc->running()) << lookupd.proc->stderrText();
  auto ping = httpRequest(lookupd.httpPort, "GET", "/ping");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "OK");
  // Nothing bad was registered, and a good producer still is.
  auto nodes = httpRequest(lookupd.httpPort, "GET", "/nodes");
  EXPECT_EQ(nodes.body, R"({"producers":[]})");
  TcpClient good(lookupd.tcpPort);
  std::string body = R"({"version":"1.3.0","broadcast_address":"good.test","hostname":"h","tcp_port":1,"http_port":65535})";
  good.send("  V1IDENTIFY\n" + sizePrefix(body.size()) + body);
  std::string size = good.readExact(4);
  uint32_t n;
  std::memcpy(&n, size.data(), 4);
  EXPECT_EQ(good.readExact(ntohl(n)).front(), '{');
  EXPECT_TRUE(eventually([&] {
    return httpRequest(lookupd.httpPort, "GET", "/nodes").body.find("good.test") != std::string::npos;
  }));
}

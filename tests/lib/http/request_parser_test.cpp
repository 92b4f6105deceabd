// RequestParser: whole requests only, byte by byte or pipelined, and every cap refused with the
// status a client should see.
#include "nsq/http/request_parser.h"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

using Status = RequestParser::Status;

ParserLimits smallLimits() {
  ParserLimits l;
  l.maxHeaderBytes = 256;
  l.maxHeaderCount = 4;
  l.maxBodyBytes = 10;
  return l;
}

TEST(HttpRequestParser, ReadsARequestFedOneByteAtATime) {
  RequestParser p({});
  std::string wire = "POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  std::string in;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    in += wire[i];
    Status s = p.parse(in);
    if (i + 1 < wire.size()) ASSERT_EQ(s, Status::NeedMore) << "at byte " << i;
    else ASSERT_EQ(s, Status::Complete);
  }
  EXPECT_EQ(p.request().method, "POST");
  EXPECT_EQ(p.request().target, "/pub?topic=t");
  EXPECT_EQ(p.request().body, "hello");
  EXPECT_EQ(p.request().header("host", ""), "x");
  EXPECT_TRUE(in.empty());
}

TEST(HttpRequestParser, LeavesAPipelinedRequestInTheBuffer) {
  RequestParser p({});
  std::string in = "GET /ping HTTP/1.1\r\n\r\nGET /info HTTP/1.1\r\n\r\n";
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_EQ(p.request().target, "/ping");
  p.reset();
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_EQ(p.request().target, "/info");
  EXPECT_TRUE(in.empty());
}

TEST(HttpRequestParser, AcceptsBareLineFeeds) {
  RequestParser p({});
  std::string in = "GET /ping HTTP/1.0\nA: b\n\n";
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_EQ(p.request().header("a", ""), "b");
  EXPECT_FALSE(p.request().keepAlive());
}

TEST(HttpRequestParser, DecodesChunkedBodiesSplitAnywhere) {
  std::string wire = "POST /mpub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n";
  for (std::size_t split = 1; split < wire.size(); ++split) {
    RequestParser p({});
    std::string in = wire.substr(0, split);
    Status s = p.parse(in);
    ASSERT_NE(s, Status::Error) << split;
    in += wire.substr(split);
    if (s != Status::Complete) s = p.parse(in);
    ASSERT_EQ(s, Status::Complete) << split;
    EXPECT_EQ(p.request().body, "abcde") << split;
  }
}

TEST(HttpRequestParser, FlagsABodyOverTheLimitWithoutReadingIt) {
  RequestParser p(smallLimits());
  std::string in = "POST /pub HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_TRUE(p.request().bodyTooLarge);
  EXPECT_TRUE(p.request().body.empty());
}

TEST(HttpRequestParser, FlagsAChunkedBodyOverTheLimitKeepingLimitPlusOneBytes) {
  RequestParser p(smallLimits());
  std::string in = "POST /pub HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n";
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_TRUE(p.request().bodyTooLarge);
  EXPECT_EQ(p.request().body.size(), 11u);
}

TEST(HttpRequestParser, AsksForContinueOnlyWhenTheClientWaitsForIt) {
  RequestParser p({});
  std::string in = "POST /pub HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(p.parse(in), Status::NeedMore);
  EXPECT_TRUE(p.wantsContinue());
  in += "ok";
  ASSERT_EQ(p.parse(in), Status::Complete);
  EXPECT_FALSE(p.wantsContinue());
}

struct BadCase {
  std::string wire;
  int status;
};

class HttpRequestParserRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(HttpRequestParserRefuses, WithTheRightStatus) {
  RequestParser p(smallLimits());
  std::string in = GetParam().wire;
  ASSERT_EQ(p.parse(in), Status::Error);
  EXPECT_EQ(p.errorStatus(), GetParam().status) << p.errorText();
  EXPECT_FALSE(p.errorText().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HttpRequestParserRefuses,
    ::testing::Values(
        BadCase{"GET /\r\n\r\n", 400},
        BadCase{"GET / HTTP/1.1 extra\r\n\r\n", 400},
        BadCase{"GET / FTP/1.0\r\n\r\n", 400},
        BadCase{"GET / HTTP/2.0\r\n\r\n", 505},
        BadCase{"G(T / HTTP/1.1\r\n\r\n", 400},
        BadCase{"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
        BadCase{"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
        BadCase{"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 431},
        BadCase{"GET / HTTP/1.1\r\nA: " + std::string(300, 'x') + "\r\n\r\n", 431},
        BadCase{"GET / HTTP/1.1\r\nA: " + std::string(300, 'x'), 431},
        BadCase{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        BadCase{"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400},
        BadCase{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", 400},
        BadCase{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabcd", 400}));

TEST(HttpResponse, SerializesStatusHeadersLengthAndClose) {
  Response r;
  r.status = 404;
  r.set("Content-Type", "text/plain");
  r.set("content-type", "application/json");  // set() replaces, whatever the case
  r.body = "{}";
  std::string wire = serializeResponse(r, false, true);
  EXPECT_EQ(wire.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(wire.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("text/plain"), std::string::npos);
  EXPECT_NE(wire.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 6), "\r\n\r\n{}");
  std::string head = serializeResponse(r, true, false);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_EQ(head.find("Connection:"), std::string::npos);
}

}  // namespace
}  // namespace nsq::http

// Reply -> Response: the headers both daemons send for each kind of reply.
#include "nsq/http/reply.h"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

const std::string* header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return &v;
  return nullptr;
}

TEST(Reply, JsonRepliesCarryJsonAndNsqContentTypes) {
  Response r = toResponse(jsonReply("{}"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{}");
  ASSERT_NE(header(r, "Content-Type"), nullptr);
  EXPECT_EQ(*header(r, "Content-Type"), "application/json; charset=utf-8");
  ASSERT_NE(header(r, "X-NSQ-Content-Type"), nullptr);
  EXPECT_EQ(*header(r, "X-NSQ-Content-Type"), "nsq; version=1.0");
  EXPECT_EQ(header(r, "Allow"), nullptr);
}

TEST(Reply, ErrorBodyIsTheQuotedMessage) {
  Reply e = errorReply(404, "TOPIC_NOT_FOUND");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.kind, Reply::Kind::Json);
  EXPECT_EQ(e.body, R"({"message":"TOPIC_NOT_FOUND"})");
}

TEST(Reply, PlainTextHasNoNsqHeaderAndEmptyHasNoContentType) {
  Response plain = toResponse(plainReply(200, "OK"));
  EXPECT_EQ(*header(plain, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(header(plain, "X-NSQ-Content-Type"), nullptr);
  Response text = toResponse(textReply("x"));
  EXPECT_NE(header(text, "X-NSQ-Content-Type"), nullptr);
  Response empty = toResponse(emptyReply());
  EXPECT_EQ(header(empty, "Content-Type"), nullptr);
  EXPECT_EQ(empty.body, "");
}

TEST(Reply, ExplicitContentTypeAllowAndWwwAuthenticateAreSentInOrder) {
  Reply r = errorReply(401, "AUTH_REQUIRED");
  r.contentType = "text/x";
  r.allow = "GET, OPTIONS";
  r.wwwAuthenticate = "Bearer realm=\"nsqd\"";
  Response resp = toResponse(r);
  ASSERT_EQ(resp.headers.size(), 4u);
  EXPECT_EQ(resp.headers[0], std::make_pair(std::string("Content-Type"), std::string("text/x")));
  EXPECT_EQ(resp.headers[1].first, "X-NSQ-Content-Type");
  EXPECT_EQ(resp.headers[2], std::make_pair(std::string("Allow"), std::string("GET, OPTIONS")));
  EXPECT_EQ(resp.headers[3].first, "WWW-Authenticate");
}

}  // namespace
}  // namespace nsq::http

// Router: what the route table answers before any handler runs (400, 404, 405, OPTIONS), path
// parameters and absolute-form targets.
#include "nsq/http/router.h"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

using TestRouter = Router<int>;

TestRouter makeRouter(bool advertise) {
  return TestRouter({{"/ping", {{"GET"}, 1, true}},
                     {"/pub", {{"POST"}, 2, false}},
                     {"/config/:opt", {{"GET", "PUT"}, 3, true}}},
                    advertise);
}

TEST(Router, MatchesPathAndMethodAndParsesTheQuery) {
  auto r = makeRouter(true);
  TestRouter::Match m;
  Reply reply;
  ASSERT_TRUE(r.match("POST", "/pub?topic=a%20b", &m, &reply));
  EXPECT_EQ(m.route->handler, 2);
  EXPECT_EQ(m.path, "/pub");
  EXPECT_EQ(queryValue(m.params, "topic"), "a b");
}

TEST(Router, UnknownPathIs404AndBadEscapesAre400) {
  auto r = makeRouter(true);
  TestRouter::Match m;
  Reply reply;
  EXPECT_FALSE(r.match("GET", "/nope", &m, &reply));
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, R"({"message":"NOT_FOUND"})");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(r.match("GET", "/pi%zzng", &m, &reply));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, R"({"message":"INVALID_REQUEST"})");
  EXPECT_FALSE(r.match("GET", "/ping?a=1;b=2", &m, &reply));
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(m.route, nullptr);  // the route was found before the query was refused
}

TEST(Router, ARouteThatReadsNoQueryIgnoresAMalformedOne) {
  TestRouter r({{"/ping", {{"GET"}, 1, true, false}}, {"/pub", {{"POST"}, 2, false}}}, true);
  TestRouter::Match m;
  Reply reply;
  ASSERT_TRUE(r.match("GET", "/ping?a=1;b=%zz", &m, &reply));
  EXPECT_EQ(m.route->handler, 1);
  EXPECT_TRUE(m.params.empty());
  EXPECT_FALSE(r.match("POST", "/pub?topic=a;b", &m, &reply));
  EXPECT_EQ(reply.status, 400);
  EXPECT_FALSE(r.match("GET", "/pi%zzng?a=1", &m, &reply));  // a bad path is still refused
  EXPECT_EQ(reply.status, 400);
}

TEST(Router, WrongMethodIs405WithAllowWhenAdvertised) {
  auto r = makeRouter(true);
  TestRouter::Match m;
  Reply reply;
  EXPECT_FALSE(r.match("GET", "/pub", &m, &reply));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.body, R"({"message":"METHOD_NOT_ALLOWED"})");
  EXPECT_EQ(reply.allow, "POST, OPTIONS");
  EXPECT_EQ(m.route->handler, 2);
  EXPECT_FALSE(r.match("OPTIONS", "/config/x", &m, &reply));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.kind, Reply::Kind::Empty);
  EXPECT_FALSE(reply.nsqHeader);
  EXPECT_EQ(reply.allow, "GET, PUT, OPTIONS");
}

TEST(Router, WithoutAdvertisingOptionsIsA405WithoutAllow) {
  auto r = makeRouter(false);
  TestRouter::Match m;
  Reply reply;
  EXPECT_FALSE(r.match("OPTIONS", "/ping", &m, &reply));
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.allow, "");
}

TEST(Router, APathParameterMatchesExactlyOneSegment) {
  auto r = makeRouter(true);
  EXPECT_NE(r.find("/config/log_level"), nullptr);
  EXPECT_EQ(r.find("/config/"), nullptr);
  EXPECT_EQ(r.find("/config/a/b"), nullptr);
  EXPECT_TRUE(routeKeyMatches("/config/:opt", "/config/x"));
  EXPECT_FALSE(routeKeyMatches("/ping", "/ping/"));
}

TEST(Router, AbsoluteFormTargetsRouteByTheirPath) {
  auto r = makeRouter(true);
  TestRouter::Match m;
  Reply reply;
  ASSERT_TRUE(r.match("GET", "http://localhost:4151/ping?x=1", &m, &reply));
  EXPECT_EQ(m.path, "/ping");
  EXPECT_EQ(queryValue(m.params, "x"), "1");
  std::string_view query;
  EXPECT_EQ(decodeTargetPath("http://host", &query), "/");
  EXPECT_EQ(query, "");
}

}  // namespace
}  // namespace nsq::http

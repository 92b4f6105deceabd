// Authorization: the auth server's reply (parsing, validation, expiry), permission matching and
// the shape of the request sent for GET and POST. The end-to-end paths are in
// tests/integration/nsqd_auth_test.cpp.
#include "nsqd/auth.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "nsqd/options.h"
#include "support/test_support.h"

using namespace nsq;
using namespace nsq::nsqd;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

AuthStatePtr parse(const std::string& body, int64_t now = 0) {
  std::string error;
  auto state = parseAuthReply(body, now, &error);
  EXPECT_TRUE(state) << error << " for " << body;
  return state;
}

std::string parseError(const std::string& body) {
  std::string error;
  auto state = parseAuthReply(body, 0, &error);
  EXPECT_FALSE(state) << body;
  return error;
}

std::string reply(const std::string& authorizations, int ttl = 60) {
  return R"({"ttl":)" + std::to_string(ttl) + R"(,"identity":"alice","identity_url":"https://id/alice","authorizations":)" +
         authorizations + "}";
}

}  // namespace

TEST(AuthReply, ParsesIdentityTtlAndAuthorizations) {
  auto s = parse(reply(R"([{"topic":"t.*","channels":["c1","c2"],"permissions":["subscribe","publish"]}])", 30), 5 * kSecond);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->identity, "alice");
  EXPECT_EQ(s->identityUrl, "https://id/alice");
  EXPECT_EQ(s->ttlSeconds, 30);
  EXPECT_EQ(s->expiresMono, 35 * kSecond);
  ASSERT_EQ(s->authorizations.size(), 1u);
  EXPECT_EQ(s->authorizations[0].topic, "t.*");
  EXPECT_EQ(s->authorizations[0].channels, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_TRUE(s->authorizations[0].subscribe);
  EXPECT_TRUE(s->authorizations[0].publish);
}

// An auth server in another language may answer {"TTL":...,"Identity":...}: the original's Go
// decoder matches keys ignoring case, and so do we (docs/leniency.md).
TEST(AuthReply, KeysMatchIgnoringCaseAsTheOriginalDecodesThem) {
  auto s = parse(R"({"TTL":30,"Identity":"bob","Identity_URL":"u","Authorizations":[{"Topic":"t","CHANNELS":[".*"],"Permissions":["publish"]}]})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ttlSeconds, 30);
  EXPECT_EQ(s->identity, "bob");
  EXPECT_EQ(s->identityUrl, "u");
  ASSERT_EQ(s->authorizations.size(), 1u);
  EXPECT_EQ(s->authorizations[0].topic, "t");
  EXPECT_EQ(s->authorizations[0].channels, (std::vector<std::string>{".*"}));
  EXPECT_TRUE(s->authorizations[0].publish);
}

TEST(AuthReply, MissingFieldsAndNullAuthorizationsAreEmpty) {
  auto s = parse(R"({"ttl":1,"authorizations":null,"extra":[1,2]})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->identity, "");
  EXPECT_TRUE(s->authorizations.empty());
}

TEST(AuthReply, RefusesBadInput) {
  EXPECT_EQ(parseError("not json"), "invalid JSON reply");
  EXPECT_EQ(parseError("[1,2]"), "invalid JSON reply");
  EXPECT_EQ(parseError(""), "invalid JSON reply");
  EXPECT_EQ(parseError(R"({"identity":"x"})"), "invalid TTL 0 (must be >0)");
  EXPECT_EQ(parseError(R"({"ttl":-5})"), "invalid TTL -5 (must be >0)");
  EXPECT_EQ(parseError(R"({"ttl":"60"})"), "invalid ttl in reply");
  EXPECT_EQ(parseError(R"({"ttl":1.5})"), "invalid ttl in reply");
  EXPECT_EQ(parseError(R"({"ttl":60.0})"), "invalid ttl in reply");
  EXPECT_EQ(parseError(R"({"ttl":true})"), "invalid ttl in reply");
  // Once a Poco::RangeException out of the auth worker, which aborted nsqd.
  EXPECT_EQ(parseError(R"({"ttl":9223372036854775808})"), "invalid ttl in reply");
  EXPECT_EQ(parseError(R"({"ttl":-9223372036854775808})"), "invalid TTL -9223372036854775808 (must be >0)");
  // Poco alone would read these as 0 and -2^63.
  EXPECT_EQ(parseError(R"({"ttl":18446744073709551616})"), "invalid JSON reply");
  EXPECT_EQ(parseError(R"({"ttl":-9223372036854775809})"), "invalid JSON reply");
  EXPECT_EQ(parseError(R"({"ttl":60,"identity":7})"), "invalid identity in reply");
  EXPECT_EQ(parseError(R"({"ttl":60,"authorizations":{}})"), "invalid authorizations in reply");
  EXPECT_EQ(parseError(reply(R"([{"topic":"t","channels":"c","permissions":["publish"]}])")),
            "invalid authorization in reply");
  EXPECT_EQ(parseError(reply(R"([{"topic":"t","channels":[".*"],"permissions":["publish",3]}])")),
            "invalid authorization in reply");
  EXPECT_EQ(parseError(reply(R"([{"topic":"t","channels":[".*"],"permissions":["admin"]}])")),
            "unknown permission admin");
  EXPECT_EQ(parseError(reply(R"([{"topic":"t(","channels":[".*"],"permissions":["publish"]}])")).rfind("unable to compile topic \"t(\" ", 0), 0u);
  EXPECT_EQ(parseError(reply(R"([{"topic":"t","channels":["[a"],"permissions":["publish"]}])")).rfind("unable to compile channel \"[a\" ", 0), 0u);
}

TEST(AuthState, ExpiresAfterTtl) {
  auto s = parse(reply("[]", 2), 10 * kSecond);
  EXPECT_FALSE(s->expired(10 * kSecond));
  EXPECT_FALSE(s->expired(12 * kSecond));
  EXPECT_TRUE(s->expired(12 * kSecond + 1));
}

TEST(Authorization, SubscribeNeedsSubscribeAndPublishNeedsPublish) {
  auto sub = parse(reply(R"([{"topic":".*","channels":[".*"],"permissions":["subscribe"]}])"));
  EXPECT_TRUE(sub->isAllowed("t", "c"));
  EXPECT_FALSE(sub->isAllowed("t", ""));  // a publish asks with channel ""
  auto pub = parse(reply(R"([{"topic":".*","channels":[".*"],"permissions":["publish"]}])"));
  EXPECT_TRUE(pub->isAllowed("t", ""));
  EXPECT_FALSE(pub->isAllowed("t", "c"));
  auto none = parse(reply(R"([{"topic":".*","channels":[".*"],"permissions":[]}])"));
  EXPECT_FALSE(none->isAllowed("t", ""));
  EXPECT_FALSE(none->isAllowed("t", "c"));
}

TEST(Authorization, RegexesMatchUnanchored) {
  auto s = parse(reply(R"([{"topic":"ord","channels":["^arch"],"permissions":["subscribe"]}])"));
  EXPECT_TRUE(s->isAllowed("orders", "archive"));
  EXPECT_TRUE(s->isAllowed("new_orders", "archive"));  // anywhere in the name
  EXPECT_FALSE(s->isAllowed("invoices", "archive"));
  EXPECT_FALSE(s->isAllowed("orders", "my_archive"));  // the server's own anchor counts
  auto anchored = parse(reply(R"([{"topic":"^orders$","channels":["a|b"],"permissions":["subscribe"]}])"));
  EXPECT_TRUE(anchored->isAllowed("orders", "xbx"));
  EXPECT_FALSE(anchored->isAllowed("orders2", "a"));
}

TEST(Authorization, PublishTestsTheEmptyChannel) {
  // A publish matches its channel "" against the channel regexes: "c" does not match it,
  // ".*" and "" do.
  auto named = parse(reply(R"([{"topic":".*","channels":["c"],"permissions":["publish"]}])"));
  EXPECT_FALSE(named->isAllowed("t", ""));
  auto any = parse(reply(R"([{"topic":".*","channels":[".*"],"permissions":["publish"]}])"));
  EXPECT_TRUE(any->isAllowed("t", ""));
  auto empty = parse(reply(R"([{"topic":"t","channels":[""],"permissions":["publish"]}])"));
  EXPECT_TRUE(empty->isAllowed("t", ""));
  auto noChannels = parse(reply(R"([{"topic":"t","channels":[],"permissions":["publish"]}])"));
  EXPECT_FALSE(noChannels->isAllowed("t", ""));
}

TEST(Authorization, AnyOfSeveralAuthorizationsGrants) {
  auto s = parse(reply(R"([{"topic":"^a$","channels":[".*"],"permissions":["publish"]},
                          {"topic":"^b$","channels":["^x$"],"permissions":["subscribe"]},
                          null])"));
  EXPECT_EQ(s->authorizations.size(), 3u);
  EXPECT_TRUE(s->isAllowed("a", ""));
  EXPECT_FALSE(s->isAllowed("b", ""));
  EXPECT_TRUE(s->isAllowed("b", "x"));
  EXPECT_FALSE(s->isAllowed("a", "x"));
}

TEST(AuthCall, GetPutsTheFieldsInTheQuery) {
  AuthRequest r{"10.1.2.3", true, "client cn", "s3cr&t=/"};
  HttpCall call = makeAuthCall("127.0.0.1:4181", r, false);
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url,
            "http://127.0.0.1:4181/auth?common_name=client%20cn&remote_ip=10.1.2.3&secret=s3cr%26t%3D%2F&tls=true");
  EXPECT_TRUE(call.body.empty());
  // An address with a scheme is the whole endpoint.
  r.tls = false;
  r.commonName = "";
  EXPECT_EQ(makeAuthCall("https://auth.example/v1/check", r, false).url,
            "https://auth.example/v1/check?common_name=&remote_ip=10.1.2.3&secret=s3cr%26t%3D%2F&tls=false");
  EXPECT_EQ(makeAuthCall("http://a/check?key=1", r, false).url,
            "http://a/check?key=1&common_name=&remote_ip=10.1.2.3&secret=s3cr%26t%3D%2F&tls=false");
}

TEST(AuthCall, PostSendsJsonArraysLikeGoUrlValues) {
  AuthRequest r{"::1", false, "", "a\"b"};
  HttpCall call = makeAuthCall("127.0.0.1:4181", r, true);
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "http://127.0.0.1:4181/auth");
  EXPECT_EQ(call.contentType, "application/json");
  EXPECT_EQ(call.body, R"({"common_name":[""],"remote_ip":["::1"],"secret":["a\"b"],"tls":["false"]})");
}

TEST(Authorizer, UnreachableServersFailNamingEachOne) {
  NsqdOptions o;
  o.authHttpAddresses = {"127.0.0.1:1", "127.0.0.1:2"};
  o.httpClientConnectTimeout = std::chrono::milliseconds(500);
  o.httpClientRequestTimeout = std::chrono::milliseconds(500);
  Authorizer auth(o);
  AuthResult r = auth.query({"127.0.0.1", false, "", "x"});
  EXPECT_FALSE(r.state);
  EXPECT_NE(r.error.find("failed to auth against 127.0.0.1:1 - "), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("failed to auth against 127.0.0.1:2 - "), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("; "), std::string::npos) << r.error;
}

TEST(Authorizer, SubmitRunsTheQueryOffThreadAndStopDropsTheRest) {
  NsqdOptions o;
  o.authHttpAddresses = {"127.0.0.1:1"};
  Authorizer auth(o);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread::id caller = std::this_thread::get_id(), worker;
  ASSERT_TRUE(auth.submit({"127.0.0.1", false, "", "x"}, [&](AuthResult r) {
    std::lock_guard lock(mu);
    EXPECT_FALSE(r.state);
    worker = std::this_thread::get_id();
    done = true;
    cv.notify_all();
  }));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  EXPECT_NE(worker, caller);
  lock.unlock();
  auth.stop();
  EXPECT_FALSE(auth.submit({"127.0.0.1", false, "", "x"}, [](AuthResult) { ADD_FAILURE() << "ran after stop"; }));
}

TEST(Authorizer, AReplyHandlerThatThrowsLeavesTheWorkersServing) {
  NsqdOptions o;
  o.authHttpAddresses = {"127.0.0.1:1"};
  Authorizer auth(o);
  std::atomic<int> thrown{0};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(auth.submit({"127.0.0.1", false, "", "x"}, [&thrown](AuthResult) {
      ++thrown;
      throw std::runtime_error("injected");
    }));
  std::promise<AuthResult> answered;
  auto result = answered.get_future();
  ASSERT_TRUE(auth.submit({"127.0.0.1", false, "", "x"}, [&answered](AuthResult r) { answered.set_value(std::move(r)); }));
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_FALSE(result.get().state);
  // The fourth query may finish before the other workers have run their throwing handlers.
  EXPECT_TRUE(nsq::test::eventually([&] { return thrown.load() == 3; }, std::chrono::seconds(10)))
      << thrown.load();
  auth.stop();
  EXPECT_EQ(thrown.load(), 3);
}

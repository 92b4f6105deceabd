// nsqadmin's routing and the answers that need no cluster: /ping, pages, assets, 404/405, the
// base path, ACL refusal, body and action checks, /config/:opt. The lookupd configured here is a
// closed port, so anything that does reach the cluster fails fast with a 502.
#include "nsqadmin/http_api.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

using namespace nsq::admin;

namespace {

struct Api {
  Options opts;
  std::unique_ptr<RuntimeOptions> runtime;
  Notifier notifier{"", {}};
  std::unique_ptr<ApiContext> ctx;

  explicit Api(std::function<void(Options&)> tweak = {}) {
    opts.lookupdHttpAddresses = {"127.0.0.1:" + std::to_string(nsq::test::freePort())};
    if (tweak) tweak(opts);
    validate(opts);
    runtime = std::make_unique<RuntimeOptions>(opts);
    ctx = std::make_unique<ApiContext>(ApiContext{*runtime, notifier, nullptr, nullptr, "admin-host"});
  }
  nsq::http::Reply call(const std::string& method, const std::string& target, const std::string& body = "",
                        nsq::http::Headers headers = {}, const std::string& remote = "127.0.0.1") {
    nsq::http::Request req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers = std::move(headers);
    req.remoteHost = remote;
    req.remoteAddress = remote + ":5555";
    return route(*ctx, req);
  }
};

}  // namespace

TEST(HttpApi, PingAnswersOk) {
  Api api;
  auto r = api.call("GET", "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
}

TEST(HttpApi, EveryPagePathServesTheConsole) {
  Api api;
  for (const char* path : {"/", "/topics", "/topics/t", "/topics/t/c", "/nodes", "/nodes/h:4151", "/counter", "/lookup"}) {
    auto r = api.call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.contentType, "text/html; charset=utf-8") << path;
    EXPECT_NE(r.body.find("<html"), std::string::npos) << path;
    EXPECT_EQ(r.body.find("{{BASE_PATH}}"), std::string::npos) << "placeholder filled in";
  }
}

TEST(HttpApi, AssetsAreBuiltInWithTheirContentTypes) {
  Api api;
  auto page = api.call("GET", "/");
  for (const char* asset : {"app.js", "app.css", "chart.min.js", "favicon.svg"})
    EXPECT_NE(page.body.find(std::string("/static/") + asset), std::string::npos) << "the page loads " << asset;
  auto chart = api.call("GET", "/static/chart.min.js");
  EXPECT_EQ(chart.status, 200);
  EXPECT_EQ(chart.contentType, "text/javascript; charset=utf-8");
  EXPECT_NE(chart.body.find("Chart.js v3"), std::string::npos) << "Debian's Chart.js, embedded";
  EXPECT_EQ(api.call("GET", "/static/app.css").contentType, "text/css; charset=utf-8");
  EXPECT_EQ(api.call("GET", "/static/favicon.svg").contentType, "image/svg+xml");
  EXPECT_NE(api.call("GET", "/static/app.js").body.find("/api/history"), std::string::npos);
}

TEST(HttpApi, UnknownPathsAndAssetsAre404AndWrongMethods405) {
  Api api;
  EXPECT_EQ(api.call("GET", "/nope").body, "{\"message\":\"NOT_FOUND\"}");
  EXPECT_EQ(api.call("GET", "/static/nope.js").status, 404);
  auto r = api.call("PUT", "/api/topics");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "{\"message\":\"METHOD_NOT_ALLOWED\"}");
  EXPECT_EQ(api.call("GET", "/api/topics/a/b/c").status, 404);
}

TEST(HttpApi, BasePathPrefixesEveryRoute) {
  Api api([](Options& o) { o.basePath = "/admin/"; });
  EXPECT_EQ(api.call("GET", "/admin/ping").body, "OK");
  EXPECT_EQ(api.call("GET", "/admin").status, 200);
  EXPECT_NE(api.call("GET", "/admin/").body.find("\"/admin/static/app.js\""), std::string::npos) << "links carry the base";
  EXPECT_EQ(api.call("GET", "/ping").status, 404);
  EXPECT_EQ(api.call("GET", "/administrator/ping").status, 404);
}

TEST(HttpApi, UnreachableLookupdIsA502NamingIt) {
  Api api;
  auto r = api.call("GET", "/api/topics");
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("UPSTREAM_ERROR: failed to query any nsqlookupd: Get \\\"http://" +
                        api.opts.lookupdHttpAddresses[0] + "/topics\\\""),
            std::string::npos)
      << r.body;
}

TEST(HttpApi, ActionsCheckTheAclBeforeAnythingElse) {
  Api api([](Options& o) { o.adminUsers = {"alice"}; });
  const std::string body = "{\"action\":\"pause\"}";
  EXPECT_EQ(api.call("POST", "/api/topics/t", body).body, "{\"message\":\"FORBIDDEN\"}");
  EXPECT_EQ(api.call("POST", "/api/topics/t", body, {{"X-Forwarded-User", "mallory"}}).status, 403);
  EXPECT_EQ(api.call("DELETE", "/api/topics/t").status, 403);
  EXPECT_EQ(api.call("DELETE", "/api/topics/t/c").status, 403);
  EXPECT_EQ(api.call("DELETE", "/api/nodes/h:1", "{\"topic\":\"t\"}").status, 403);
  EXPECT_EQ(api.call("POST", "/api/topics", "{\"topic\":\"t\"}").status, 403);
  // alice gets past the ACL (and on to the unreachable lookupd).
  EXPECT_EQ(api.call("POST", "/api/topics/t", body, {{"x-forwarded-user", "alice"}}).status, 502);
}

TEST(HttpApi, BadBodiesAndActionsAre400) {
  Api api;
  EXPECT_EQ(api.call("POST", "/api/topics/t", "").body, "{\"message\":\"EOF\"}");
  auto bad = api.call("POST", "/api/topics/t", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("INVALID_BODY"), std::string::npos) << bad.body;
  EXPECT_EQ(api.call("POST", "/api/topics/t", "{\"action\":\"explode\"}").body, "{\"message\":\"INVALID_ACTION\"}");
  EXPECT_EQ(api.call("POST", "/api/topics/t", "{\"action\":5}").status, 400);
  EXPECT_EQ(api.call("POST", "/api/topics", "{\"topic\":\"bad topic!\"}").body, "{\"message\":\"INVALID_TOPIC\"}");
  EXPECT_EQ(api.call("POST", "/api/topics", "{\"topic\":\"t\",\"channel\":\"bad/ch\"}").body,
            "{\"message\":\"INVALID_CHANNEL\"}");
  EXPECT_EQ(api.call("DELETE", "/api/nodes/h:1", "{\"topic\":\"\"}").body, "{\"message\":\"INVALID_TOPIC\"}");
  EXPECT_EQ(api.call("DELETE", "/api/nodes/h:1", "nope").body, "{\"message\":\"INVALID_BODY\"}");
}

TEST(HttpApi, ConfigReadsAndChangesOptionsFromAllowedAddressesOnly) {
  Api api;
  EXPECT_EQ(api.call("GET", "/config/acl_http_header").body, "\"X-Forwarded-User\"");
  EXPECT_EQ(api.call("GET", "/config/nsqlookupd_http_addresses").body,
            "[\"" + api.opts.lookupdHttpAddresses[0] + "\"]");
  EXPECT_EQ(api.call("GET", "/config/nope").body, "{\"message\":\"INVALID_OPTION\"}");
  EXPECT_EQ(api.call("GET", "/config/acl_http_header", "", {}, "10.0.0.1").status, 403);
  auto put = api.call("PUT", "/config/nsqlookupd_http_addresses", "[\"127.0.0.1:1\",\"127.0.0.1:2\"]");
  EXPECT_EQ(put.status, 200);
  EXPECT_EQ(put.body, "[\"127.0.0.1:1\",\"127.0.0.1:2\"]");
  EXPECT_EQ(api.runtime->get()->lookupdHttpAddresses.size(), 2u);
  EXPECT_EQ(api.call("PUT", "/config/nsqlookupd_http_addresses", "[5]").status, 400);
  EXPECT_EQ(api.call("PUT", "/config/nsqlookupd_http_addresses", "[\"no-port\"]").status, 400);
  EXPECT_EQ(api.call("PUT", "/config/log_level", "").status, 413);
  EXPECT_EQ(api.call("PUT", "/config/log_level", "loud").status, 400);
  EXPECT_EQ(api.call("PUT", "/config/log_level", "debug").body, "\"debug\"");
  EXPECT_EQ(api.call("PUT", "/config/acl_http_header", "X").body, "{\"message\":\"INVALID_OPTION\"}");
}

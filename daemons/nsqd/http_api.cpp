// HttpApi: nsqd's handlers behind a fixed route table (path -> allowed methods + handler; the
// routing, query parsing and reply headers are nsq/http's router.h, query.h and reply.h, shared
// with nsqlookupd). Replies are written by hand in upstream's key order.
//
// Requests reach a handler whole: the server's event loop reads head and body (with a deadline
// and size caps) before a pool thread runs it, so a slow client never holds a thread. A body
// over max(--max-msg-size, --max-body-size) is not read at all (Request::bodyTooLarge) and the
// reply closes the connection.
//
// With --auth-http-address, /pub and /mpub need a secret too (ours, not upstream's, which
// leaves HTTP open): "Authorization: Bearer <secret>" (as go-nsq sends its AuthSecret to
// lookupd) or a "secret" query argument, checked with the auth server like a TCP AUTH (remote
// IP and TLS of the HTTP request) and cached for the reply's ttl. No secret: 401
// AUTH_REQUIRED; no valid reply: 401 AUTH_FAILED; no "publish" on the topic: 403 UNAUTHORIZED.
#include "nsqd/http_api.h"

#include <malloc.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/base/options.h"
#include "nsq/http/prometheus.h"
#include "nsq/http/reply.h"
#include "nsq/http/router.h"
#include "nsq/http/server.h"
#include "nsq/net/worker_pool.h"
#include "nsq/protocol/wire.h"
#include "nsq/version.h"
#include "nsqd/auth.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"
#include "nsqd/metrics.h"
#include "nsqd/nsqd.h"
#include "nsqd/options.h"
#include "nsqd/stats.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

struct HttpApi::RuntimeConfig {
  std::mutex mu;
  std::string logLevel;
};

namespace {

constexpr std::size_t kWorkers = 8;       // handlers run here; the loops never block
constexpr std::size_t kMaxQueued = 1024;  // complete requests waiting; more get 503

using Params = http::QueryParams;
using HttpReply = http::Reply;
using http::emptyReply;
using http::errorReply;
using http::jsonReply;
using http::plainReply;
using http::queryBool;
using http::queryValue;
using http::textReply;

// One request as the handlers see it.
struct Call {
  Nsqd& nsqd;
  HttpApi::RuntimeConfig& config;
  http::Request& req;
  bool secure;  // arrived over HTTPS
  std::string path;
  Params params;
  bool close = false;  // reply with Connection: close (body left unread)
};

enum class BodyStatus { Ok, TooBig };

// Moves the body into out: the server has read it whole, or flagged it as over its cap.
BodyStatus readBody(Call& call, int64_t limit, std::string& out) {
  out = std::move(call.req.body);
  if (call.req.bodyTooLarge || out.size() > static_cast<std::size_t>(limit)) {
    call.close = true;
    return BodyStatus::TooBig;
  }
  return BodyStatus::Ok;
}

// --- /ping /info /debug --------------------------------------------------------------------

// Prometheus scrapes: the exposition format's own content type, no X-NSQ-Content-Type.
HttpReply doMetrics(Call& c) {
  HttpReply reply = plainReply(200, metricsText(c.nsqd));
  reply.contentType = kPrometheusContentType;
  return reply;
}

HttpReply doPing(Call& c) {
  if (!c.nsqd.healthy()) return plainReply(500, c.nsqd.health());
  return plainReply(200, "OK");
}

HttpReply doInfo(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  std::string out = "{\"version\":" + jsonQuote(NSQ_VERSION);
  out += ",\"broadcast_address\":" + jsonQuote(o.broadcastAddress);
  out += ",\"hostname\":" + jsonQuote(hostname(""));
  out += ",\"http_port\":" + std::to_string(c.nsqd.httpPort());
  out += ",\"tcp_port\":" + std::to_string(c.nsqd.tcpPort());
  out += ",\"start_time\":" + std::to_string(c.nsqd.startTime());
  out += ",\"max_heartbeat_interval\":" + std::to_string(o.maxHeartbeatInterval.count());
  out += ",\"max_output_buffer_size\":" + std::to_string(o.maxOutputBufferSize);
  out += ",\"max_output_buffer_timeout\":" + std::to_string(o.maxOutputBufferTimeout.count());
  out += ",\"max_deflate_level\":" + std::to_string(o.maxDeflateLevel);
  out += ",\"topology_zone\":" + jsonQuote(o.topologyZone);
  out += ",\"topology_region\":" + jsonQuote(o.topologyRegion);
  return jsonReply(out + "}");
}

HttpReply doSetBlockRate(Call& c) {
  auto rate = queryValue(c.params, "rate");
  if (!rate || !parseInt(*rate)) return plainReply(400, "invalid block rate : " + rate.value_or(""));
  return plainReply(200, "");  // no block profiler here; accepted for compatibility
}

HttpReply doFreeMemory(Call&) {
  ::malloc_trim(0);
  return plainReply(200, "");
}

// --- publishing ----------------------------------------------------------------------------

// The secret of an HTTP publish: "Authorization: Bearer <secret>", else the "secret" argument.
std::optional<std::string> publishSecret(const Call& c) {
  // A copy: Poco returns a reference to the default when the header is absent.
  std::string header = c.req.header("Authorization", "");
  if (header.size() > 7 && Poco::icompare(header.substr(0, 7), "bearer ") == 0) {
    std::string secret = header.substr(7);
    secret.erase(0, secret.find_first_not_of(' '));
    if (!secret.empty()) return secret;
  }
  auto secret = queryValue(c.params, "secret");
  if (secret && !secret->empty()) return secret;
  return std::nullopt;
}

// With auth enabled: may this request publish to topic? (See the top of the file.)
std::optional<HttpReply> authorizePublish(Call& c, const std::string& topic) {
  Authorizer* auth = c.nsqd.authorizer();
  if (!auth) return std::nullopt;
  auto secret = publishSecret(c);
  if (!secret) {
    HttpReply reply = errorReply(401, "AUTH_REQUIRED");
    reply.wwwAuthenticate = "Bearer realm=\"nsqd\"";
    return reply;
  }
  AuthRequest request;
  request.remoteIp = c.req.remoteHost;
  request.tls = c.secure;
  request.secret = std::move(*secret);
  AuthResult result = auth->cachedQuery(request, monoNanos());
  if (!result.state) {
    logWarn("HTTP: [", c.req.remoteAddress, "] AUTH failed ", result.error);
    return errorReply(401, "AUTH_FAILED");
  }
  if (!result.state->isAllowed(topic, "")) return errorReply(403, "UNAUTHORIZED");
  return std::nullopt;
}

// Upstream's getTopicFromQuery: the topic is created here, before the body is validated. A
// publish is authorized first, so a refused one creates nothing.
std::optional<HttpReply> topicFromQuery(Call& c, std::shared_ptr<Topic>& topic, bool publish = false) {
  auto name = queryValue(c.params, "topic");
  if (!name) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*name)) return errorReply(400, "INVALID_TOPIC");
  if (publish) {
    if (auto refused = authorizePublish(c, *name)) return refused;
  }
  Refusal refused;
  topic = c.nsqd.getTopic(*name, Limit::Enforce, &refused);
  if (refused) {
    logWarn("HTTP: [", c.req.remoteAddress, "] topic ", *name, " refused - ", refused.text());
    return errorReply(503, refused.code);
  }
  if (!topic) return errorReply(503, "EXITING");
  return std::nullopt;
}

// defer=<ms> within 0..max-req-timeout (strconv.ParseInt, then the range, as upstream); returns
// false for INVALID_DEFER, upstream's one answer to both.
bool deferParam(Call& c, int64_t& deferNs) {
  deferNs = 0;
  auto text = queryValue(c.params, "defer");
  if (!text) return true;
  ParsedInt ms = parseInt(*text, 0, c.nsqd.options().maxReqTimeout.count() / 1'000'000);
  if (!ms) return false;
  deferNs = *ms * 1'000'000;
  return true;
}

HttpReply publish(Call& c, Topic& topic, const std::vector<std::string_view>& bodies, int64_t deferNs,
                  ErrorCode failCode) {
  Error error = topic.publish(bodies, deferNs, failCode);
  if (!error) return textReply("OK");
  if (c.nsqd.exiting() || topic.exiting()) return errorReply(503, "EXITING");
  if (error.code == ErrorCode::TopicFull) return errorReply(503, "TOPIC_FULL");
  logError("HTTP: publish to topic ", topic.name(), " failed - ", error.description);
  return errorReply(500, "INTERNAL_ERROR");
}

HttpReply doPub(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  std::string body;
  switch (readBody(c, o.maxMsgSize, body)) {
    case BodyStatus::TooBig: return errorReply(413, "MSG_TOO_BIG");
    case BodyStatus::Ok: break;
  }
  if (body.empty()) return errorReply(400, "MSG_EMPTY");
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic, true)) return *e;
  int64_t deferNs = 0;
  if (!deferParam(c, deferNs)) return errorReply(400, "INVALID_DEFER");
  return publish(c, *topic, {std::string_view(body)}, deferNs, deferNs > 0 ? ErrorCode::DpubFailed : ErrorCode::PubFailed);
}

HttpReply doMpub(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  if (c.req.bodyTooLarge || c.req.body.size() > static_cast<std::size_t>(o.maxBodySize)) {
    c.close = true;
    return errorReply(413, "BODY_TOO_BIG");
  }
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic, true)) return *e;
  int64_t deferNs = 0;  // post-1.3.0 upstream also takes defer on /mpub
  if (!deferParam(c, deferNs)) return errorReply(400, "INVALID_DEFER");

  // Text mode is the default; an unrecognised binary value means binary (upstream).
  bool binary = false;
  if (auto v = queryValue(c.params, "binary")) {
    binary = !(*v == "false" || *v == "0");
    if (*v != "true" && *v != "1" && binary)
      logWarn("HTTP: deprecated value '", *v, "' used for /mpub binary param");
  }
  std::string body;
  switch (readBody(c, o.maxBodySize, body)) {
    case BodyStatus::TooBig: return errorReply(413, "BODY_TOO_BIG");
    case BodyStatus::Ok: break;
  }
  std::vector<std::string_view> bodies;
  if (binary) {
    Error e = parseMpubBody(body, o.maxMsgSize, o.maxBodySize, bodies);
    if (e) return errorReply(413, errorCodeName(e.code).substr(2));  // E_BAD_BODY -> BAD_BODY
  } else {
    std::string_view rest = body;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (line.empty()) continue;
      if (static_cast<int64_t>(line.size()) > o.maxMsgSize) return errorReply(413, "MSG_TOO_BIG");
      bodies.push_back(line);
    }
  }
  return publish(c, *topic, bodies, deferNs, ErrorCode::MpubFailed);
}

// --- /stats --------------------------------------------------------------------------------

HttpReply doStats(Call& c) {
  StatsFilter filter;
  filter.topic = queryValue(c.params, "topic").value_or("");
  filter.channel = queryValue(c.params, "channel").value_or("");
  filter.includeClients = queryBool(c.params, "include_clients").value_or(true);
  filter.includeMem = queryBool(c.params, "include_mem").value_or(true);
  StatsSnapshot snap = collectStats(c.nsqd, filter);
  if (queryValue(c.params, "format").value_or("") == "json") return jsonReply(statsJson(snap));
  return textReply(statsText(snap, wallNanos()));
}

// --- topic and channel administration -------------------------------------------------------

// GET /topic/policy?topic=: the policy the topic has (or, not existing yet, would get), without
// creating it: {"topic":..,"exists":..,"policy":{...} or null}.
HttpReply doTopicPolicy(Call& c) {
  auto name = queryValue(c.params, "topic");
  if (!name) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*name)) return errorReply(400, "INVALID_TOPIC");
  auto topic = c.nsqd.findTopic(*name);
  auto policy = topic ? topic->policy() : c.nsqd.policyFor(*name);
  return jsonReply("{\"topic\":" + jsonQuote(*name) + ",\"exists\":" + (topic ? "true" : "false") +
                   ",\"policy\":" + (policy ? policy->json() : "null") + "}");
}

HttpReply doTopicCreate(Call& c) {
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic)) return *e;
  c.nsqd.persistMetadata();  // an admin's create is on disk when we answer (IO threads defer it)
  return emptyReply();
}

HttpReply doTopicDelete(Call& c) {
  auto name = queryValue(c.params, "topic");
  if (!name) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!c.nsqd.deleteTopic(*name)) return errorReply(404, "TOPIC_NOT_FOUND");
  c.nsqd.persistMetadata();
  return emptyReply();
}

HttpReply doTopicEmpty(Call& c) {
  auto name = queryValue(c.params, "topic");
  if (!name) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*name)) return errorReply(400, "INVALID_TOPIC");
  auto topic = c.nsqd.findTopic(*name);
  if (!topic) return errorReply(404, "TOPIC_NOT_FOUND");
  topic->empty();
  return emptyReply();
}

HttpReply doTopicPause(Call& c) {
  auto name = queryValue(c.params, "topic");
  if (!name) return errorReply(400, "MISSING_ARG_TOPIC");
  auto topic = c.nsqd.findTopic(*name);
  if (!topic) return errorReply(404, "TOPIC_NOT_FOUND");
  if (c.path.ends_with("unpause"))
    topic->unpause();
  else
    topic->pause();
  c.nsqd.persistMetadata();  // a crash must not silently (un)pause it
  return emptyReply();
}

// Upstream's getExistingTopicFromQuery: the TC checks, then the topic must exist.
std::optional<HttpReply> topicChannelFromQuery(Call& c, std::shared_ptr<Topic>& topic,
                                               std::string& channel) {
  auto topicName = queryValue(c.params, "topic");
  if (!topicName) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*topicName)) return errorReply(400, "INVALID_ARG_TOPIC");
  auto channelName = queryValue(c.params, "channel");
  if (!channelName) return errorReply(400, "MISSING_ARG_CHANNEL");
  if (!isValidChannelName(*channelName)) return errorReply(400, "INVALID_ARG_CHANNEL");
  topic = c.nsqd.findTopic(*topicName);
  if (!topic) return errorReply(404, "TOPIC_NOT_FOUND");
  channel = *channelName;
  return std::nullopt;
}

HttpReply doChannelCreate(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  Refusal refused;
  if (!topic->getChannel(name, Limit::Enforce, &refused)) {
    if (!refused) return errorReply(503, "EXITING");
    logWarn("HTTP: [", c.req.remoteAddress, "] channel ", topic->name(), "/", name, " refused - ", refused.text());
    return errorReply(503, refused.code);
  }
  c.nsqd.persistMetadata();
  return emptyReply();
}

HttpReply doChannelDelete(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  if (!topic->deleteChannel(name)) return errorReply(404, "CHANNEL_NOT_FOUND");
  c.nsqd.persistMetadata();
  return emptyReply();
}

HttpReply doChannelEmpty(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  auto channel = topic->findChannel(name);
  if (!channel) return errorReply(404, "CHANNEL_NOT_FOUND");
  channel->empty();
  return emptyReply();
}

HttpReply doChannelPause(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  auto channel = topic->findChannel(name);
  if (!channel) return errorReply(404, "CHANNEL_NOT_FOUND");
  if (c.path.ends_with("unpause"))
    channel->unpause();
  else
    channel->pause();
  c.nsqd.persistMetadata();
  return emptyReply();
}

// --- /config/:opt ----------------------------------------------------------------------------

// Config names that are not simply the flag name with '-' -> '_' (NSQ-COMPAT §2.3).
const std::map<std::string, std::string>& renamedOptions() {
  static const std::map<std::string, std::string> names = {
      {"node-id", "id"},
      {"lookupd-tcp-address", "nsqlookupd_tcp_addresses"},
      {"auth-http-address", "auth_http_addresses"},
      {"e2e-processing-latency-percentile", "e2e_processing_latency_percentiles"},
  };
  return names;
}

HttpReply doConfig(Call& c) {
  std::string opt = c.path.substr(std::string_view("/config/").size());
  if (c.req.method == "PUT") {
    std::string body;
    auto status = readBody(c, c.nsqd.options().maxMsgSize, body);
    if (status == BodyStatus::TooBig || body.empty()) return errorReply(413, "INVALID_VALUE");
    if (opt == "log_level") {
      std::string name = body;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      LogLevel level;
      if (!parseLogLevel(name, level)) return errorReply(400, "INVALID_VALUE");
      std::lock_guard lock(c.config.mu);
      c.config.logLevel = name;
      Logger::configure(c.nsqd.options().logPrefix, level);
    } else if (opt == "nsqlookupd_tcp_addresses") {
      // A JSON array of "host:port" strings.
      std::vector<std::string> addresses;
      try {
        auto arr = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < arr->size(); ++i) {
          auto v = arr->get(static_cast<unsigned>(i));
          if (!v.isString()) return errorReply(400, "INVALID_VALUE");
          std::string a = v.convert<std::string>();
          if (!parseHostPort(a)) return errorReply(400, "INVALID_VALUE");
          addresses.push_back(a);
        }
      } catch (...) {
        return errorReply(400, "INVALID_VALUE");
      }
      c.nsqd.setLookupdAddresses(addresses);
    } else {
      return errorReply(400, "INVALID_OPTION");
    }
  }

  NsqdOptions current = c.nsqd.options();
  {
    std::lock_guard lock(c.config.mu);
    current.logLevel = c.config.logLevel;
  }
  current.lookupdTcpAddresses = c.nsqd.lookupdAddresses();
  OptionSet set("nsqd", "");
  addNsqdOptions(set, current);
  for (const auto& spec : set.specs()) {
    if (spec.hidden) continue;
    auto renamed = renamedOptions().find(spec.name);
    std::string key = renamed == renamedOptions().end() ? spec.configKey() : renamed->second;
    if (key != opt) continue;
    if (spec.name == "e2e-processing-latency-percentile") {  // floats upstream, not strings
      std::string out = "[";
      for (const auto& p : current.e2eProcessingLatencyPercentiles)
        out += (out.size() > 1 ? "," : "") + p;
      return jsonReply(out + "]");
    }
    return jsonReply(spec.jsonValue());
  }
  return errorReply(400, "INVALID_OPTION");
}

// --- routing ---------------------------------------------------------------------------------

using Router = http::Router<HttpReply (*)(Call&)>;

const Router& router() {
  // log: upstream logs every request but /pub and /mpub. readsQuery=false where upstream's
  // handler never parses the query, so a malformed one is ignored there (docs/leniency.md).
  static const Router table(
      {
          {"/ping", {{"GET"}, doPing, true, false}},
          {"/info", {{"GET"}, doInfo, true, false}},
          {"/pub", {{"POST"}, doPub, false}},
          {"/mpub", {{"POST"}, doMpub, false}},
          {"/stats", {{"GET"}, doStats, true}},
          {"/metrics", {{"GET"}, doMetrics, false, false}},  // scraped every few seconds: not logged
          {"/topic/create", {{"POST"}, doTopicCreate, true}},
          {"/topic/policy", {{"GET"}, doTopicPolicy, true}},
          {"/topic/delete", {{"POST"}, doTopicDelete, true}},
          {"/topic/empty", {{"POST"}, doTopicEmpty, true}},
          {"/topic/pause", {{"POST"}, doTopicPause, true}},
          {"/topic/unpause", {{"POST"}, doTopicPause, true}},
          {"/channel/create", {{"POST"}, doChannelCreate, true}},
          {"/channel/delete", {{"POST"}, doChannelDelete, true}},
          {"/channel/empty", {{"POST"}, doChannelEmpty, true}},
          {"/channel/pause", {{"POST"}, doChannelPause, true}},
          {"/channel/unpause", {{"POST"}, doChannelPause, true}},
          {"/config/:opt", {{"GET", "PUT"}, doConfig, true, false}},
          {"/debug/setblockrate", {{"PUT"}, doSetBlockRate, true}},
          {"/debug/freememory", {{"POST"}, doFreeMemory, true, false}},
      },
      /*advertiseMethods=*/true);
  return table;
}

HttpReply dispatch(Call& c, bool& log) {
  Router::Match match;
  HttpReply reply;
  const bool found = router().match(c.req.method, c.req.target, &match, &reply);
  if (match.route) log = match.route->log;
  if (!found) return reply;
  c.path = std::move(match.path);
  c.params = std::move(match.params);
  return match.route->handler(c);
}

http::Response handle(Nsqd& nsqd, HttpApi::RuntimeConfig& config, http::Request& req) {
  int64_t started = monoNanos();
  Call call{nsqd, config, req, req.secure, "", {}};
  bool log = true;
  HttpReply reply;
  if (!req.secure && nsqd.options().tlsRequired == "true") {  // tcp-https exempts plain HTTP
    reply = http::makeReply(403, HttpReply::Kind::Json,
                      "{\"message\": \"TLS_REQUIRED\", \"https_port\": " +
                          std::to_string(nsqd.httpsPort()) + "}");
  } else {
    try {
      reply = dispatch(call, log);
    } catch (const std::exception& e) {
      logError("HTTP: ", req.method, " ", req.target, " failed - ", e.what());
      reply = errorReply(500, "INTERNAL_ERROR");
      call.close = true;
    }
  }
  if (log)
    logInfo(std::to_string(reply.status), " ", req.method, " ", req.target, " (",
            req.remoteAddress, ") ", formatDuration(std::chrono::nanoseconds(monoNanos() - started)));

  http::Response resp = http::toResponse(std::move(reply));
  resp.close = call.close;
  return resp;
}

Poco::Net::SocketAddress bindAddress(const std::string& address) {
  std::string bind = address;
  if (bind.starts_with(":")) bind = "0.0.0.0" + bind;
  return Poco::Net::SocketAddress(bind);
}

}  // namespace

HttpApi::HttpApi(Nsqd& nsqd) : nsqd_(nsqd), config_(std::make_unique<RuntimeConfig>()) {
  config_->logLevel = nsqd.options().logLevel;
}

HttpApi::~HttpApi() { stop(); }

std::unique_ptr<http::Server> HttpApi::makeServer(const std::string& name,
                                                  std::shared_ptr<ssl_ctx_st> tls) {
  const NsqdOptions& o = nsqd_.options();
  // Connections are bounded by --http-max-connections, not by a default soft limit of 1024
  // descriptors.
  net::raiseOpenFileLimit();
  if (!pool_) pool_ = std::make_unique<net::WorkerPool>("nsqd-http", kWorkers, kMaxQueued);
  http::ServerOptions so;
  so.name = name;
  so.maxConnections = static_cast<std::size_t>(o.httpMaxConnections);
  so.readTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.httpReadTimeout);
  so.limits.maxBodyBytes = static_cast<std::size_t>(std::max(o.maxMsgSize, o.maxBodySize));
  http::applyHeaderFlags(o.httpHeaders, so.limits);
  so.tls = std::move(tls);
  return std::make_unique<http::Server>(std::move(so), *pool_, [this](http::Request& req) {
    return handle(nsqd_, *config_, req);
  });
}

int HttpApi::listen(const std::string& address) {
  try {
    server_ = makeServer("HTTP", nullptr);
    return server_->listen(bindAddress(address));
  } catch (const Poco::Exception& e) {
    server_.reset();
    throw std::runtime_error("HTTP: listen on " + address + " failed: " + e.displayText());
  } catch (const std::runtime_error&) {
    server_.reset();
    throw;
  }
}

int HttpApi::listenHttps(const std::string& address, const Poco::Net::Context::Ptr& context) {
  // The server keeps the POCO context alive through the deleter of its OpenSSL handle.
  std::shared_ptr<ssl_ctx_st> tls(context->sslContext(), [context](ssl_ctx_st*) {});
  try {
    httpsServer_ = makeServer("HTTPS", std::move(tls));
    return httpsServer_->listen(bindAddress(address));
  } catch (const Poco::Exception& e) {
    httpsServer_.reset();
    throw std::runtime_error("HTTPS: listen on " + address + " failed: " + e.displayText());
  } catch (const std::runtime_error&) {
    httpsServer_.reset();
    throw;
  }
}

void HttpApi::serve() {
  if (server_) server_->start();
  if (httpsServer_) httpsServer_->start();
}

void HttpApi::stop() {
  // Loops first (no new requests), then the pool (finishes running handlers), then the
  // servers may go: pool tasks refer to them.
  if (server_) server_->stop();
  if (httpsServer_) httpsServer_->stop();
  if (pool_) pool_->stop();
  server_.reset();
  httpsServer_.reset();
  pool_.reset();
}

std::size_t HttpApi::connectionCount() const {
  return (server_ ? server_->connectionCount() : 0) + (httpsServer_ ? httpsServer_->connectionCount() : 0);
}

}  // namespace nsq::nsqd

// HttpApi: a fixed route table (path -> allowed methods + handler) behind nsq::http::Server.
// Query parsing follows Go's url.ParseQuery ("%zz" or ";" is 400 INVALID_REQUEST; "?topic=" is
// present-but-empty, not missing). Replies are written by hand in upstream's key order.
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

using Params = std::multimap<std::string, std::string>;

// Percent-decoding; '+' is a space only in the query (Go's QueryUnescape vs PathUnescape).
std::optional<std::string> unescape(std::string_view s, bool plusIsSpace) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plusIsSpace) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<Params> parseQuery(std::string_view query) {
  Params params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    if (part.find(';') != std::string_view::npos) return std::nullopt;
    auto eq = part.find('=');
    auto key = unescape(part.substr(0, eq), true);
    auto value = unescape(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    params.emplace(std::move(*key), std::move(*value));
  }
  return params;
}

// First value of key, nullopt when absent (Go's ReqParams.Get).
std::optional<std::string> get(const Params& p, const std::string& key) {
  auto it = p.find(key);
  if (it == p.end()) return std::nullopt;
  return it->second;
}

// Upstream's boolParams: only these four spellings count; anything else takes the default.
std::optional<bool> boolParam(const Params& p, const std::string& key) {
  auto v = get(p, key);
  if (!v) return std::nullopt;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return std::nullopt;
}

struct HttpReply {
  enum class Kind { Json, Text, Empty };
  int status = 200;
  Kind kind = Kind::Empty;
  std::string body;
  bool nsqHeader = true;  // X-NSQ-Content-Type (all but /ping and /debug)
  std::string allow;      // Allow header for 405 and OPTIONS
  std::string contentType;  // overrides the kind's Content-Type when set
  std::string wwwAuthenticate;  // 401 only
};

HttpReply makeReply(int status, HttpReply::Kind kind, std::string body, bool nsqHeader = true) {
  HttpReply r;
  r.status = status;
  r.kind = kind;
  r.body = std::move(body);
  r.nsqHeader = nsqHeader;
  return r;
}
HttpReply ok() { return {}; }
HttpReply text(std::string body) { return makeReply(200, HttpReply::Kind::Text, std::move(body)); }
HttpReply json(std::string body) { return makeReply(200, HttpReply::Kind::Json, std::move(body)); }
HttpReply err(int status, std::string_view code) {
  return makeReply(status, HttpReply::Kind::Json, "{\"message\":" + jsonQuote(code) + "}");
}
// /ping and /debug: plain text without X-NSQ-Content-Type.
HttpReply plain(int status, std::string body) {
  return makeReply(status, HttpReply::Kind::Text, std::move(body), false);
}

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
  HttpReply reply = plain(200, metricsText(c.nsqd));
  reply.contentType = kPrometheusContentType;
  return reply;
}

HttpReply doPing(Call& c) {
  if (!c.nsqd.healthy()) return plain(500, c.nsqd.health());
  return plain(200, "OK");
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

HttpReply doInfo(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  std::string out = "{\"version\":" + jsonQuote(NSQ_VERSION);
  out += ",\"broadcast_address\":" + jsonQuote(o.broadcastAddress);
  out += ",\"hostname\":" + jsonQuote(hostname());
  out += ",\"http_port\":" + std::to_string(c.nsqd.httpPort());
  out += ",\"tcp_port\":" + std::to_string(c.nsqd.tcpPort());
  out += ",\"start_time\":" + std::to_string(c.nsqd.startTime());
  out += ",\"max_heartbeat_interval\":" + std::to_string(o.maxHeartbeatInterval.count());
  out += ",\"max_output_buffer_size\":" + std::to_string(o.maxOutputBufferSize);
  out += ",\"max_output_buffer_timeout\":" + std::to_string(o.maxOutputBufferTimeout.count());
  out += ",\"max_deflate_level\":" + std::to_string(o.maxDeflateLevel);
  out += ",\"topology_zone\":" + jsonQuote(o.topologyZone);
  out += ",\"topology_region\":" + jsonQuote(o.topologyRegion);
  return json(out + "}");
}

HttpReply doSetBlockRate(Call& c) {
  auto rate = get(c.params, "rate");
  if (!rate || !parseInt(*rate)) return plain(400, "invalid block rate : " + rate.value_or(""));
  return plain(200, "");  // no block profiler here; accepted for compatibility
}

HttpReply doFreeMemory(Call&) {
  ::malloc_trim(0);
  return plain(200, "");
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
  auto secret = get(c.params, "secret");
  if (secret && !secret->empty()) return secret;
  return std::nullopt;
}

// With auth enabled: may this request publish to topic? (See the top of the file.)
std::optional<HttpReply> authorizePublish(Call& c, const std::string& topic) {
  Authorizer* auth = c.nsqd.authorizer();
  if (!auth) return std::nullopt;
  auto secret = publishSecret(c);
  if (!secret) {
    HttpReply reply = err(401, "AUTH_REQUIRED");
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
    return err(401, "AUTH_FAILED");
  }
  if (!result.state->isAllowed(topic, "")) return err(403, "UNAUTHORIZED");
  return std::nullopt;
}

// Upstream's getTopicFromQuery: the topic is created here, before the body is validated. A
// publish is authorized first, so a refused one creates nothing.
std::optional<HttpReply> topicFromQuery(Call& c, std::shared_ptr<Topic>& topic, bool publish = false) {
  auto name = get(c.params, "topic");
  if (!name) return err(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*name)) return err(400, "INVALID_TOPIC");
  if (publish) {
    if (auto refused = authorizePublish(c, *name)) return refused;
  }
  topic = c.nsqd.getTopic(*name);
  if (!topic) return err(503, "EXITING");
  return std::nullopt;
}

// defer=<ms> within 0..max-req-timeout (strconv.ParseInt, then the range, as upstream); returns
// false for INVALID_DEFER, upstream's one answer to both.
bool deferParam(Call& c, int64_t& deferNs) {
  deferNs = 0;
  auto text = get(c.params, "defer");
  if (!text) return true;
  ParsedInt ms = parseInt(*text, 0, c.nsqd.options().maxReqTimeout.count() / 1'000'000);
  if (!ms) return false;
  deferNs = *ms * 1'000'000;
  return true;
}

HttpReply publish(Call& c, Topic& topic, const std::vector<std::string_view>& bodies, int64_t deferNs) {
  std::string error;
  if (topic.publish(bodies, deferNs, &error)) return text("OK");
  if (c.nsqd.exiting() || topic.exiting()) return err(503, "EXITING");
  logError("HTTP: publish to topic ", topic.name(), " failed - ", error);
  return err(500, "INTERNAL_ERROR");
}

HttpReply doPub(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  std::string body;
  switch (readBody(c, o.maxMsgSize, body)) {
    case BodyStatus::TooBig: return err(413, "MSG_TOO_BIG");
    case BodyStatus::Ok: break;
  }
  if (body.empty()) return err(400, "MSG_EMPTY");
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic, true)) return *e;
  int64_t deferNs = 0;
  if (!deferParam(c, deferNs)) return err(400, "INVALID_DEFER");
  return publish(c, *topic, {std::string_view(body)}, deferNs);
}

HttpReply doMpub(Call& c) {
  const NsqdOptions& o = c.nsqd.options();
  if (c.req.bodyTooLarge || c.req.body.size() > static_cast<std::size_t>(o.maxBodySize)) {
    c.close = true;
    return err(413, "BODY_TOO_BIG");
  }
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic, true)) return *e;
  int64_t deferNs = 0;  // post-1.3.0 upstream also takes defer on /mpub
  if (!deferParam(c, deferNs)) return err(400, "INVALID_DEFER");

  // Text mode is the default; an unrecognised binary value means binary (upstream).
  bool binary = false;
  if (auto v = get(c.params, "binary")) {
    binary = !(*v == "false" || *v == "0");
    if (*v != "true" && *v != "1" && binary)
      logWarn("HTTP: deprecated value '", *v, "' used for /mpub binary param");
  }
  std::string body;
  switch (readBody(c, o.maxBodySize, body)) {
    case BodyStatus::TooBig: return err(413, "BODY_TOO_BIG");
    case BodyStatus::Ok: break;
  }
  std::vector<std::string_view> bodies;
  if (binary) {
    Error e = parseMpubBody(body, o.maxMsgSize, o.maxBodySize, bodies);
    if (e) return err(413, errorCodeName(e.code).substr(2));  // E_BAD_BODY -> BAD_BODY
  } else {
    std::string_view rest = body;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (line.empty()) continue;
      if (static_cast<int64_t>(line.size()) > o.maxMsgSize) return err(413, "MSG_TOO_BIG");
      bodies.push_back(line);
    }
  }
  return publish(c, *topic, bodies, deferNs);
}

// --- /stats --------------------------------------------------------------------------------

HttpReply doStats(Call& c) {
  StatsFilter filter;
  filter.topic = get(c.params, "topic").value_or("");
  filter.channel = get(c.params, "channel").value_or("");
  filter.includeClients = boolParam(c.params, "include_clients").value_or(true);
  filter.includeMem = boolParam(c.params, "include_mem").value_or(true);
  StatsSnapshot snap = collectStats(c.nsqd, filter);
  if (get(c.params, "format").value_or("") == "json") return json(statsJson(snap));
  return text(statsText(snap, wallNanos()));
}

// --- topic and channel administration -------------------------------------------------------

HttpReply doTopicCreate(Call& c) {
  std::shared_ptr<Topic> topic;
  if (auto e = topicFromQuery(c, topic)) return *e;
  c.nsqd.persistMetadata();  // an admin's create is on disk when we answer (IO threads defer it)
  return ok();
}

HttpReply doTopicDelete(Call& c) {
  auto name = get(c.params, "topic");
  if (!name) return err(400, "MISSING_ARG_TOPIC");
  if (!c.nsqd.deleteTopic(*name)) return err(404, "TOPIC_NOT_FOUND");
  c.nsqd.persistMetadata();
  return ok();
}

HttpReply doTopicEmpty(Call& c) {
  auto name = get(c.params, "topic");
  if (!name) return err(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*name)) return err(400, "INVALID_TOPIC");
  auto topic = c.nsqd.findTopic(*name);
  if (!topic) return err(404, "TOPIC_NOT_FOUND");
  topic->empty();
  return ok();
}

HttpReply doTopicPause(Call& c) {
  auto name = get(c.params, "topic");
  if (!name) return err(400, "MISSING_ARG_TOPIC");
  auto topic = c.nsqd.findTopic(*name);
  if (!topic) return err(404, "TOPIC_NOT_FOUND");
  if (c.path.ends_with("unpause"))
    topic->unpause();
  else
    topic->pause();
  c.nsqd.persistMetadata();  // a crash must not silently (un)pause it
  return ok();
}

// Upstream's getExistingTopicFromQuery: the TC checks, then the topic must exist.
std::optional<HttpReply> topicChannelFromQuery(Call& c, std::shared_ptr<Topic>& topic,
                                               std::string& channel) {
  auto topicName = get(c.params, "topic");
  if (!topicName) return err(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*topicName)) return err(400, "INVALID_ARG_TOPIC");
  auto channelName = get(c.params, "channel");
  if (!channelName) return err(400, "MISSING_ARG_CHANNEL");
  if (!isValidChannelName(*channelName)) return err(400, "INVALID_ARG_CHANNEL");
  topic = c.nsqd.findTopic(*topicName);
  if (!topic) return err(404, "TOPIC_NOT_FOUND");
  channel = *channelName;
  return std::nullopt;
}

HttpReply doChannelCreate(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  if (!topic->getChannel(name)) return err(503, "EXITING");
  c.nsqd.persistMetadata();
  return ok();
}

HttpReply doChannelDelete(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  if (!topic->deleteChannel(name)) return err(404, "CHANNEL_NOT_FOUND");
  c.nsqd.persistMetadata();
  return ok();
}

HttpReply doChannelEmpty(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  auto channel = topic->findChannel(name);
  if (!channel) return err(404, "CHANNEL_NOT_FOUND");
  channel->empty();
  return ok();
}

HttpReply doChannelPause(Call& c) {
  std::shared_ptr<Topic> topic;
  std::string name;
  if (auto e = topicChannelFromQuery(c, topic, name)) return *e;
  auto channel = topic->findChannel(name);
  if (!channel) return err(404, "CHANNEL_NOT_FOUND");
  if (c.path.ends_with("unpause"))
    channel->unpause();
  else
    channel->pause();
  c.nsqd.persistMetadata();
  return ok();
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
    if (status == BodyStatus::TooBig || body.empty()) return err(413, "INVALID_VALUE");
    if (opt == "log_level") {
      std::string name = body;
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      LogLevel level;
      if (!parseLogLevel(name, level)) return err(400, "INVALID_VALUE");
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
          if (!v.isString()) return err(400, "INVALID_VALUE");
          std::string a = v.convert<std::string>();
          if (!parseHostPort(a)) return err(400, "INVALID_VALUE");
          addresses.push_back(a);
        }
      } catch (...) {
        return err(400, "INVALID_VALUE");
      }
      c.nsqd.setLookupdAddresses(addresses);
    } else {
      return err(400, "INVALID_OPTION");
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
      return json(out + "]");
    }
    return json(spec.jsonValue());
  }
  return err(400, "INVALID_OPTION");
}

// --- routing ---------------------------------------------------------------------------------

struct Route {
  std::vector<std::string> methods;
  HttpReply (*handler)(Call&);
  bool log;  // upstream logs every request but /pub and /mpub
};

const std::map<std::string, Route>& routes() {
  static const std::map<std::string, Route> table = {
      {"/ping", {{"GET"}, doPing, true}},
      {"/info", {{"GET"}, doInfo, true}},
      {"/pub", {{"POST"}, doPub, false}},
      {"/mpub", {{"POST"}, doMpub, false}},
      {"/stats", {{"GET"}, doStats, true}},
      {"/metrics", {{"GET"}, doMetrics, false}},  // scraped every few seconds: not logged
      {"/topic/create", {{"POST"}, doTopicCreate, true}},
      {"/topic/delete", {{"POST"}, doTopicDelete, true}},
      {"/topic/empty", {{"POST"}, doTopicEmpty, true}},
      {"/topic/pause", {{"POST"}, doTopicPause, true}},
      {"/topic/unpause", {{"POST"}, doTopicPause, true}},
      {"/channel/create", {{"POST"}, doChannelCreate, true}},
      {"/channel/delete", {{"POST"}, doChannelDelete, true}},
      {"/channel/empty", {{"POST"}, doChannelEmpty, true}},
      {"/channel/pause", {{"POST"}, doChannelPause, true}},
      {"/channel/unpause", {{"POST"}, doChannelPause, true}},
      {"/config/:opt", {{"GET", "PUT"}, doConfig, true}},
      {"/debug/setblockrate", {{"PUT"}, doSetBlockRate, true}},
      {"/debug/freememory", {{"POST"}, doFreeMemory, true}},
  };
  return table;
}

const Route* findRoute(const std::string& path) {
  std::string key = path;
  if (path.starts_with("/config/") && path.size() > 8 && path.find('/', 8) == std::string::npos)
    key = "/config/:opt";
  auto it = routes().find(key);
  return it == routes().end() ? nullptr : &it->second;
}

std::string joinMethods(const std::vector<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
  return out;
}

HttpReply dispatch(Call& c, const std::string& target, bool& log) {
  std::string_view t = target;
  if (auto scheme = t.find("://"); scheme != std::string_view::npos && !t.starts_with("/")) {
    auto slash = t.find('/', scheme + 3);
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  auto q = t.find('?');
  auto path = unescape(t.substr(0, q), false);
  if (!path) return err(400, "INVALID_REQUEST");
  c.path = *path;
  const Route* route = findRoute(c.path);
  if (!route) return err(404, "NOT_FOUND");
  log = route->log;
  const std::string& method = c.req.method;
  if (std::find(route->methods.begin(), route->methods.end(), method) == route->methods.end()) {
    HttpReply reply = method == "OPTIONS" ? ok() : err(405, "METHOD_NOT_ALLOWED");
    if (method == "OPTIONS") reply.nsqHeader = false;
    reply.allow = joinMethods(route->methods) + ", OPTIONS";
    return reply;
  }
  auto params = parseQuery(q == std::string_view::npos ? std::string_view{} : t.substr(q + 1));
  if (!params) return err(400, "INVALID_REQUEST");
  c.params = std::move(*params);
  return route->handler(c);
}

http::Response handle(Nsqd& nsqd, HttpApi::RuntimeConfig& config, http::Request& req) {
  int64_t started = monoNanos();
  Call call{nsqd, config, req, req.secure, "", {}};
  bool log = true;
  HttpReply reply;
  if (!req.secure && nsqd.options().tlsRequired == "true") {  // tcp-https exempts plain HTTP
    reply = makeReply(403, HttpReply::Kind::Json,
                      "{\"message\": \"TLS_REQUIRED\", \"https_port\": " +
                          std::to_string(nsqd.httpsPort()) + "}");
  } else {
    try {
      reply = dispatch(call, req.target, log);
    } catch (const std::exception& e) {
      logError("HTTP: ", req.method, " ", req.target, " failed - ", e.what());
      reply = err(500, "INTERNAL_ERROR");
      call.close = true;
    }
  }
  if (log)
    logInfo(std::to_string(reply.status), " ", req.method, " ", req.target, " (",
            req.remoteAddress, ") ", formatDuration(std::chrono::nanoseconds(monoNanos() - started)));

  http::Response resp;
  resp.status = reply.status;
  resp.close = call.close;
  if (!reply.contentType.empty())
    resp.set("Content-Type", reply.contentType);
  else if (reply.kind == HttpReply::Kind::Json)
    resp.set("Content-Type", "application/json; charset=utf-8");
  else if (reply.kind == HttpReply::Kind::Text)
    resp.set("Content-Type", "text/plain; charset=utf-8");
  if (reply.nsqHeader) resp.set("X-NSQ-Content-Type", "nsq; version=1.0");
  if (!reply.allow.empty()) resp.set("Allow", reply.allow);
  if (!reply.wwwAuthenticate.empty()) resp.set("WWW-Authenticate", reply.wwwAuthenticate);
  resp.body = std::move(reply.body);
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
  so.tls = std::move(tls);
  return std::make_unique<http::Server>(std::move(so), *pool_, [this](http::Request& req) {
    return handle(nsqd_, *config_, req);
  });
}

int HttpApi::start(const std::string& address) {
  try {
    server_ = makeServer("HTTP", nullptr);
    int port = server_->listen(bindAddress(address));
    server_->start();
    return port;
  } catch (const Poco::Exception& e) {
    server_.reset();
    throw std::runtime_error("HTTP: listen on " + address + " failed: " + e.displayText());
  } catch (const std::runtime_error&) {
    server_.reset();
    throw;
  }
}

int HttpApi::startHttps(const std::string& address, const Poco::Net::Context::Ptr& context) {
  // The server keeps the POCO context alive through the deleter of its OpenSSL handle.
  std::shared_ptr<ssl_ctx_st> tls(context->sslContext(), [context](ssl_ctx_st*) {});
  try {
    httpsServer_ = makeServer("HTTPS", std::move(tls));
    int port = httpsServer_->listen(bindAddress(address));
    httpsServer_->start();
    return port;
  } catch (const Poco::Exception& e) {
    httpsServer_.reset();
    throw std::runtime_error("HTTPS: listen on " + address + " failed: " + e.displayText());
  } catch (const std::runtime_error&) {
    httpsServer_.reset();
    throw;
  }
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

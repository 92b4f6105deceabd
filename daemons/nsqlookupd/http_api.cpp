// HTTP API: a fixed route table (path -> allowed method + handler). Query parsing follows Go's
// url.ParseQuery (so "%zz" or ";" is 400 INVALID_REQUEST, and "?topic=" is present-but-empty,
// not missing). Replies are written by hand in upstream's key order; lists are [] never null.
#include "nsqlookupd/http_api.h"


#include <functional>
#include <map>
#include <optional>

#include "nsq/base/json_text.h"
#include "nsq/base/names.h"
#include "nsq/http/prometheus.h"
#include "nsq/version.h"

namespace nsq::lookupd {

namespace {

using Params = std::multimap<std::string, std::string>;

// Percent-decoding; '+' is a space only in the query (Go's QueryUnescape vs PathUnescape).
std::optional<std::string> unescape(const std::string& s, bool plusIsSpace) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plusIsSpace) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
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

std::optional<Params> parseQuery(const std::string& query) {
  Params params;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto amp = query.find('&', start);
    std::string part = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    start = amp == std::string::npos ? query.size() + 1 : amp + 1;
    if (part.empty()) continue;
    if (part.find(';') != std::string::npos) return std::nullopt;
    auto eq = part.find('=');
    auto key = unescape(part.substr(0, eq), true);
    auto value = unescape(eq == std::string::npos ? "" : part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    params.emplace(*key, *value);
  }
  return params;
}

// First value of key, nullopt when absent (Go's ReqParams.Get).
std::optional<std::string> get(const Params& p, const std::string& key) {
  auto it = p.find(key);
  if (it == p.end()) return std::nullopt;
  return it->second;
}

HttpReply json(std::string body) { return {200, HttpReply::Kind::Json, std::move(body), true}; }
HttpReply empty() { return {200, HttpReply::Kind::Empty, "", true}; }
HttpReply err(int status, const std::string& message) {
  return {status, HttpReply::Kind::Json, "{\"message\":" + jsonQuote(message) + "}", true};
}

std::string peerFields(const PeerInfo& p) {
  return "\"remote_address\":" + jsonQuote(p.remoteAddress) +
         ",\"hostname\":" + jsonQuote(p.hostname) +
         ",\"broadcast_address\":" + jsonQuote(p.broadcastAddress) +
         ",\"tcp_port\":" + std::to_string(p.tcpPort) +
         ",\"http_port\":" + std::to_string(p.httpPort) + ",\"version\":" + jsonQuote(p.version) +
         ",\"topology_zone\":" + jsonQuote(p.topologyZone) +
         ",\"topology_region\":" + jsonQuote(p.topologyRegion);
}

bool checkTopicChannel(const Params& p, std::string* topic, std::string* channel, HttpReply* e) {
  auto t = get(p, "topic");
  if (!t) return *e = err(400, "MISSING_ARG_TOPIC"), false;
  if (!isValidTopicName(*t)) return *e = err(400, "INVALID_ARG_TOPIC"), false;
  auto c = get(p, "channel");
  if (!c) return *e = err(400, "MISSING_ARG_CHANNEL"), false;
  if (!isValidChannelName(*c)) return *e = err(400, "INVALID_ARG_CHANNEL"), false;
  *topic = *t;
  *channel = *c;
  return true;
}

using Handler = std::function<HttpReply(HttpContext&, const Params&)>;

HttpReply doLookup(HttpContext& ctx, const Params& p) {
  auto topic = get(p, "topic");
  if (!topic) return err(400, "MISSING_ARG_TOPIC");
  if (ctx.db.findRegistrations("topic", *topic, "").empty()) return err(404, "TOPIC_NOT_FOUND");
  auto channels = subKeysOf(ctx.db.findRegistrations("channel", *topic, "*"));
  auto producers = filterByActive(ctx.db.findProducers("topic", *topic, ""), ctx.db.now(),
                                  ctx.inactiveProducerTimeout, ctx.tombstoneLifetime);
  std::string out = "{\"channels\":" + jsonStringArray(channels) + ",\"producers\":[";
  for (std::size_t i = 0; i < producers.size(); ++i)
    out += std::string(i ? "," : "") + "{" + peerFields(*producers[i].peer) + "}";
  return json(out + "]}");
}

HttpReply doTopics(HttpContext& ctx, const Params&) {
  return json("{\"topics\":" + jsonStringArray(keysOf(ctx.db.findRegistrations("topic", "*", ""))) +
              "}");
}

HttpReply doChannels(HttpContext& ctx, const Params& p) {
  auto topic = get(p, "topic");
  if (!topic) return err(400, "MISSING_ARG_TOPIC");
  return json("{\"channels\":" +
              jsonStringArray(subKeysOf(ctx.db.findRegistrations("channel", *topic, "*"))) + "}");
}

HttpReply doNodes(HttpContext& ctx, const Params&) {
  int64_t now = ctx.db.now();
  // Tombstone lifetime 0: /nodes lists tombstoned producers too, flagging them per topic.
  auto producers = filterByActive(ctx.db.findProducers("client", "", ""), now,
                                  ctx.inactiveProducerTimeout, std::chrono::nanoseconds(0));
  std::string out = "{\"producers\":[";
  for (std::size_t i = 0; i < producers.size(); ++i) {
    const PeerInfo& peer = *producers[i].peer;
    std::vector<std::string> topics;
    for (const auto& r : ctx.db.lookupRegistrations(peer.id))
      if (r.category == "topic") topics.push_back(r.key);
    std::string tombstones = "[";
    for (std::size_t j = 0; j < topics.size(); ++j) {
      bool tomb = false;
      for (const auto& tp : ctx.db.findProducers("topic", topics[j], ""))
        if (tp.peer->id == peer.id) tomb = tp.isTombstoned(now, ctx.tombstoneLifetime);
      tombstones += std::string(j ? "," : "") + (tomb ? "true" : "false");
    }
    out += std::string(i ? "," : "") + "{" + peerFields(peer) + ",\"tombstones\":" + tombstones +
           "],\"topics\":" + jsonStringArray(topics) + "}";
  }
  return json(out + "]}");
}

HttpReply doTopicCreate(HttpContext& ctx, const Params& p) {
  auto topic = get(p, "topic");
  if (!topic) return err(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*topic)) return err(400, "INVALID_ARG_TOPIC");
  ctx.log.info("DB: adding topic(" + *topic + ")");
  ctx.db.addRegistration({"topic", *topic, ""});
  return empty();
}

HttpReply doTopicDelete(HttpContext& ctx, const Params& p) {
  auto topic = get(p, "topic");
  if (!topic) return err(400, "MISSING_ARG_TOPIC");
  ctx.log.info("DB: removing topic(" + *topic + ") and its channels");
  ctx.db.deleteTopic(*topic);
  return empty();
}

HttpReply doTombstone(HttpContext& ctx, const Params& p) {
  auto topic = get(p, "topic");
  if (!topic) return err(400, "MISSING_ARG_TOPIC");
  auto node = get(p, "node");
  if (!node) return err(400, "MISSING_ARG_NODE");
  ctx.log.info("DB: setting tombstone for producer@" + *node + " of topic(" + *topic + ")");
  ctx.db.tombstone(*topic, *node);
  return empty();
}

HttpReply doChannelCreate(HttpContext& ctx, const Params& p) {
  std::string topic, channel;
  HttpReply e;
  if (!checkTopicChannel(p, &topic, &channel, &e)) return e;
  ctx.log.info("DB: adding channel(" + channel + ") in topic(" + topic + ")");
  ctx.db.addRegistration({"channel", topic, channel});
  ctx.db.addRegistration({"topic", topic, ""});
  return empty();
}

HttpReply doChannelDelete(HttpContext& ctx, const Params& p) {
  std::string topic, channel;
  HttpReply e;
  if (!checkTopicChannel(p, &topic, &channel, &e)) return e;
  if (!ctx.db.removeRegistration({"channel", topic, channel})) return err(404, "CHANNEL_NOT_FOUND");
  ctx.log.info("DB: removed channel(" + channel + ") from topic(" + topic + ")");
  return empty();
}

HttpReply doDebug(HttpContext& ctx, const Params&) {
  std::string out = "{";
  bool first = true;
  for (const auto& [r, producers] : ctx.db.snapshot()) {
    out += std::string(first ? "" : ",") + jsonQuote(r.category + ":" + r.key + ":" + r.subKey) +
           ":[";
    first = false;
    for (std::size_t i = 0; i < producers.size(); ++i) {
      const auto& p = producers[i];
      const PeerInfo& peer = *p.peer;
      out += std::string(i ? "," : "") + "{\"broadcast_address\":" +
             jsonQuote(peer.broadcastAddress) + ",\"hostname\":" + jsonQuote(peer.hostname) +
             ",\"http_port\":" + std::to_string(peer.httpPort) + ",\"id\":" + jsonQuote(peer.id) +
             ",\"last_update\":" + std::to_string(peer.lastUpdate.load()) +
             ",\"tcp_port\":" + std::to_string(peer.tcpPort) +
             ",\"tombstoned\":" + (p.tombstoned ? "true" : "false") +
             ",\"tombstoned_at\":" + std::to_string(p.tombstonedAt) +
             ",\"topology_region\":" + jsonQuote(peer.topologyRegion) +
             ",\"topology_zone\":" + jsonQuote(peer.topologyZone) +
             ",\"version\":" + jsonQuote(peer.version) + "}";
    }
    out += "]";
  }
  return json(out + "}");
}

// GET /metrics (our addition; the original has none): the registry in Prometheus text format.
// Producer figures use the same filters as /nodes (all) and /lookup (per topic).
HttpReply doMetrics(HttpContext& ctx, const Params&) {
  using T = MetricsText::Type;
  MetricsText m;
  m.family("nsqlookupd_build_info", T::Gauge, "nsqlookupd version, as a label; always 1.");
  m.family("nsqlookupd_producers", T::Gauge, "nsqd producers seen within --inactive-producer-timeout.");
  m.family("nsqlookupd_topics", T::Gauge, "Registered topics.");
  m.family("nsqlookupd_channels", T::Gauge, "Registered channels over all topics.");
  m.family("nsqlookupd_topic_producers", T::Gauge, "Active, not tombstoned producers of the topic, as GET /lookup lists them.");
  m.family("nsqlookupd_topic_channels", T::Gauge, "Registered channels of the topic.");
  const int64_t now = ctx.db.now();
  auto producers = filterByActive(ctx.db.findProducers("client", "", ""), now,
                                  ctx.inactiveProducerTimeout, std::chrono::nanoseconds(0));
  auto topics = keysOf(ctx.db.findRegistrations("topic", "*", ""));
  auto channels = ctx.db.findRegistrations("channel", "*", "*");
  m.sample("nsqlookupd_build_info", {{"version", NSQ_VERSION}}, int64_t{1});
  m.sample("nsqlookupd_producers", {}, static_cast<uint64_t>(producers.size()));
  m.sample("nsqlookupd_topics", {}, static_cast<uint64_t>(topics.size()));
  m.sample("nsqlookupd_channels", {}, static_cast<uint64_t>(channels.size()));
  for (const auto& topic : topics) {
    auto active = filterByActive(ctx.db.findProducers("topic", topic, ""), now,
                                 ctx.inactiveProducerTimeout, ctx.tombstoneLifetime);
    uint64_t channelCount = 0;
    for (const auto& r : channels) channelCount += r.key == topic ? 1 : 0;
    m.sample("nsqlookupd_topic_producers", {{"topic", topic}}, static_cast<uint64_t>(active.size()));
    m.sample("nsqlookupd_topic_channels", {{"topic", topic}}, channelCount);
  }
  addProcessMetrics(m);
  return {200, HttpReply::Kind::Prometheus, m.render(), false};
}

struct Route {
  const char* method;
  Handler handler;
};

const std::map<std::string, Route>& routes() {
  static const std::map<std::string, Route> table = {
      {"/ping", {"GET", [](HttpContext&, const Params&) {
                   return HttpReply{200, HttpReply::Kind::Text, "OK", false};
                 }}},
      {"/info", {"GET", [](HttpContext&, const Params&) {
                   return json(std::string("{\"version\":") + jsonQuote(NSQ_VERSION) + "}");
                 }}},
      {"/debug", {"GET", doDebug}},
      {"/lookup", {"GET", doLookup}},
      {"/topics", {"GET", doTopics}},
      {"/channels", {"GET", doChannels}},
      {"/nodes", {"GET", doNodes}},
      {"/metrics", {"GET", doMetrics}},
      {"/topic/create", {"POST", doTopicCreate}},
      {"/topic/delete", {"POST", doTopicDelete}},
      {"/channel/create", {"POST", doChannelCreate}},
      {"/channel/delete", {"POST", doChannelDelete}},
      {"/topic/tombstone", {"POST", doTombstone}},
  };
  return table;
}

}  // namespace

HttpReply route(HttpContext& ctx, const std::string& method, const std::string& target) {
  auto q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  auto decodedPath = unescape(path, false);
  if (!decodedPath) return err(400, "INVALID_REQUEST");
  auto it = routes().find(*decodedPath);
  if (it == routes().end()) return err(404, "NOT_FOUND");
  if (method != it->second.method) return err(405, "METHOD_NOT_ALLOWED");
  auto params = parseQuery(query);
  if (!params) return err(400, "INVALID_REQUEST");
  return it->second.handler(ctx, *params);
}

http::Response handleHttp(HttpContext& ctx, const http::Request& req) {
  HttpReply reply = route(ctx, req.method, req.target);
  ctx.log.debug(std::to_string(reply.status) + " " + req.method + " " + req.target + " (" +
                req.remoteAddress + ")");
  http::Response resp;
  resp.status = reply.status;
  if (reply.kind == HttpReply::Kind::Json)
    resp.set("Content-Type", "application/json; charset=utf-8");
  else if (reply.kind == HttpReply::Kind::Text)
    resp.set("Content-Type", "text/plain; charset=utf-8");
  else if (reply.kind == HttpReply::Kind::Prometheus)
    resp.set("Content-Type", kPrometheusContentType);
  if (reply.nsqHeader) resp.set("X-NSQ-Content-Type", "nsq; version=1.0");
  resp.body = std::move(reply.body);
  return resp;
}

}  // namespace nsq::lookupd

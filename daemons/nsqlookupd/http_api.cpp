// HTTP API: nsqlookupd's handlers behind a fixed route table (path -> allowed method + handler;
// routing, query parsing and reply headers are nsq/http's router.h, query.h and reply.h, shared
// with nsqd). Replies are written by hand in upstream's key order; lists are [] never null.
#include "nsqlookupd/http_api.h"


#include <optional>

#include "nsq/base/json_text.h"
#include "nsq/base/names.h"
#include "nsq/http/prometheus.h"
#include "nsq/http/router.h"
#include "nsq/version.h"

namespace nsq::lookupd {

namespace {

using Params = http::QueryParams;
using http::errorReply;
using http::jsonReply;
using http::queryValue;

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
  auto t = queryValue(p, "topic");
  if (!t) return *e = errorReply(400, "MISSING_ARG_TOPIC"), false;
  if (!isValidTopicName(*t)) return *e = errorReply(400, "INVALID_ARG_TOPIC"), false;
  auto c = queryValue(p, "channel");
  if (!c) return *e = errorReply(400, "MISSING_ARG_CHANNEL"), false;
  if (!isValidChannelName(*c)) return *e = errorReply(400, "INVALID_ARG_CHANNEL"), false;
  *topic = *t;
  *channel = *c;
  return true;
}

using Handler = HttpReply (*)(HttpContext&, const Params&);

HttpReply doLookup(HttpContext& ctx, const Params& p) {
  auto topic = queryValue(p, "topic");
  if (!topic) return errorReply(400, "MISSING_ARG_TOPIC");
  if (ctx.db.findRegistrations("topic", *topic, "").empty()) return errorReply(404, "TOPIC_NOT_FOUND");
  auto channels = subKeysOf(ctx.db.findRegistrations("channel", *topic, "*"));
  auto producers = filterByActive(ctx.db.findProducers("topic", *topic, ""), ctx.db.now(),
                                  ctx.inactiveProducerTimeout, ctx.tombstoneLifetime);
  std::string out = "{\"channels\":" + jsonStringArray(channels) + ",\"producers\":[";
  for (std::size_t i = 0; i < producers.size(); ++i)
    out += std::string(i ? "," : "") + "{" + peerFields(*producers[i].peer) + "}";
  return jsonReply(out + "]}");
}

HttpReply doTopics(HttpContext& ctx, const Params&) {
  return jsonReply("{\"topics\":" + jsonStringArray(keysOf(ctx.db.findRegistrations("topic", "*", ""))) +
              "}");
}

HttpReply doChannels(HttpContext& ctx, const Params& p) {
  auto topic = queryValue(p, "topic");
  if (!topic) return errorReply(400, "MISSING_ARG_TOPIC");
  return jsonReply("{\"channels\":" +
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
  return jsonReply(out + "]}");
}

HttpReply doTopicCreate(HttpContext& ctx, const Params& p) {
  auto topic = queryValue(p, "topic");
  if (!topic) return errorReply(400, "MISSING_ARG_TOPIC");
  if (!isValidTopicName(*topic)) return errorReply(400, "INVALID_ARG_TOPIC");
  ctx.log.info("DB: adding topic(" + *topic + ")");
  ctx.db.addRegistration({"topic", *topic, ""});
  return http::emptyReply();
}

HttpReply doTopicDelete(HttpContext& ctx, const Params& p) {
  auto topic = queryValue(p, "topic");
  if (!topic) return errorReply(400, "MISSING_ARG_TOPIC");
  ctx.log.info("DB: removing topic(" + *topic + ") and its channels");
  ctx.db.deleteTopic(*topic);
  return http::emptyReply();
}

HttpReply doTombstone(HttpContext& ctx, const Params& p) {
  auto topic = queryValue(p, "topic");
  if (!topic) return errorReply(400, "MISSING_ARG_TOPIC");
  auto node = queryValue(p, "node");
  if (!node) return errorReply(400, "MISSING_ARG_NODE");
  ctx.log.info("DB: setting tombstone for producer@" + *node + " of topic(" + *topic + ")");
  ctx.db.tombstone(*topic, *node);
  return http::emptyReply();
}

HttpReply doChannelCreate(HttpContext& ctx, const Params& p) {
  std::string topic, channel;
  HttpReply e;
  if (!checkTopicChannel(p, &topic, &channel, &e)) return e;
  ctx.log.info("DB: adding channel(" + channel + ") in topic(" + topic + ")");
  ctx.db.addRegistration({"channel", topic, channel});
  ctx.db.addRegistration({"topic", topic, ""});
  return http::emptyReply();
}

HttpReply doChannelDelete(HttpContext& ctx, const Params& p) {
  std::string topic, channel;
  HttpReply e;
  if (!checkTopicChannel(p, &topic, &channel, &e)) return e;
  if (!ctx.db.removeRegistration({"channel", topic, channel})) return errorReply(404, "CHANNEL_NOT_FOUND");
  ctx.log.info("DB: removed channel(" + channel + ") from topic(" + topic + ")");
  return http::emptyReply();
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
  return jsonReply(out + "}");
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
  HttpReply reply = http::plainReply(200, m.render());
  reply.contentType = kPrometheusContentType;
  return reply;
}

using Router = http::Router<Handler>;

const Router& router() {
  // readsQuery=false (the 4th field) where upstream's handler never parses the query, so a
  // malformed one is ignored there as upstream does (docs/leniency.md).
  static const Router table(
      {
          {"/ping", {{"GET"}, [](HttpContext&, const Params&) { return http::plainReply(200, "OK"); }, true, false}},
          {"/info", {{"GET"}, [](HttpContext&, const Params&) {
                       return jsonReply(std::string("{\"version\":") + jsonQuote(NSQ_VERSION) + "}");
                     }, true, false}},
          {"/debug", {{"GET"}, doDebug, true, false}},
          {"/lookup", {{"GET"}, doLookup}},
          {"/topics", {{"GET"}, doTopics, true, false}},
          {"/channels", {{"GET"}, doChannels}},
          {"/nodes", {{"GET"}, doNodes, true, false}},
          {"/metrics", {{"GET"}, doMetrics, true, false}},
          {"/topic/create", {{"POST"}, doTopicCreate}},
          {"/topic/delete", {{"POST"}, doTopicDelete}},
          {"/channel/create", {{"POST"}, doChannelCreate}},
          {"/channel/delete", {{"POST"}, doChannelDelete}},
          {"/topic/tombstone", {{"POST"}, doTombstone}},
      },
      /*advertiseMethods=*/false);  // 405 without Allow; OPTIONS is a 405 too
  return table;
}

}  // namespace

HttpReply route(HttpContext& ctx, const std::string& method, const std::string& target) {
  Router::Match match;
  HttpReply reply;
  if (!router().match(method, target, &match, &reply)) return reply;
  return match.route->handler(ctx, match.params);
}

http::Response handleHttp(HttpContext& ctx, const http::Request& req) {
  HttpReply reply = route(ctx, req.method, req.target);
  ctx.log.debug(std::to_string(reply.status) + " " + req.method + " " + req.target + " (" +
                req.remoteAddress + ")");
  return http::toResponse(std::move(reply));
}

}  // namespace nsq::lookupd

// HTTP API: nsqadmin's routes. Paths are matched by segment after --base-path is taken off
// ("/api/topics/:topic/:channel" has two parameters, which nsq/http's Router does not do); the
// replies, the 404/405 texts and the query parsing are nsq/http's. Every action checks the ACL
// first (--admin-user + --acl-http-header), answers the original's {"message"} plus our
// per-node "results", and queues a notification.
#include "nsqadmin/http_api.h"

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <map>
#include <sstream>

#include "nsq/base/json_text.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/http/router.h"
#include "nsqadmin/assets.h"
#include "nsqadmin/history.h"

namespace nsq::admin {

using http::errorReply;
using http::jsonReply;
using http::Reply;

ClusterInfo clusterFor(const ApiContext& ctx) {
  auto o = ctx.options.get();
  ClusterConfig c;
  c.lookupd = o->lookupdHttpAddresses;
  c.nsqd = o->nsqdHttpAddresses;
  c.timeouts.connect = std::chrono::duration_cast<std::chrono::milliseconds>(o->httpClientConnectTimeout);
  c.timeouts.request = std::chrono::duration_cast<std::chrono::milliseconds>(o->httpClientRequestTimeout);
  c.tls = ctx.tls;
  return ClusterInfo(std::move(c));
}

namespace {

struct Call {
  ApiContext& ctx;
  const http::Request& req;
  std::vector<std::string> seg;  // decoded path segments after the base path
  http::QueryParams params;
  std::shared_ptr<const Options> opts;
};

std::string withMessage(std::string body, const QueryErrors& errs) {
  // body is a JSON object's members (may be empty); "message" goes last, as the original's.
  return "{" + body + (body.empty() ? "" : ",") + "\"message\":" + jsonQuote(errs.message()) + "}";
}

Reply upstream(const QueryErrors& errs) {
  logError(*errs.fatal);
  return errorReply(502, "UPSTREAM_ERROR: " + *errs.fatal);
}

void warnPartial(const QueryErrors& errs) {
  for (const auto& e : errs.partial) logWarn(e);
}

// ---- reads ------------------------------------------------------------------------------------

Reply getTopics(Call& c) {
  ClusterInfo ci = clusterFor(c.ctx);
  QueryErrors errs;
  auto topics = ci.topics(errs);
  if (errs.fatal) return upstream(errs);
  warnPartial(errs);
  if (http::queryValue(c.params, "inactive") == "true") {
    // Topics that no nsqd produces any more, with their channels (lookupd only).
    std::string map = "{";
    if (!c.opts->lookupdHttpAddresses.empty()) {
      for (const auto& topic : topics) {
        QueryErrors ignored;
        if (!ci.topicProducers(topic, ignored).empty() || ignored.fatal) continue;
        auto channels = ci.lookupdTopicChannels(topic, ignored);
        map += (map.size() > 1 ? "," : "") + jsonQuote(topic) + ":" + jsonStringArray(channels);
      }
    }
    return jsonReply(withMessage("\"topics\":" + map + "}", errs));
  }
  return jsonReply(withMessage("\"topics\":" + jsonStringArray(topics), errs));
}

Reply topicNotFound(const Call& c) {
  // With --nsqd-http-address the original answers 502 "failed to query any nsqd: " for a topic
  // no nsqd has; we say what it is. (With lookupd, lookupd's own 404 shows in the 502.)
  (void)c;
  return errorReply(404, "TOPIC_NOT_FOUND");
}

Reply getTopic(Call& c) {
  const std::string& topic = c.seg[2];
  ClusterInfo ci = clusterFor(c.ctx);
  QueryErrors errs;
  auto producers = ci.topicProducers(topic, errs);
  if (errs.fatal) return upstream(errs);
  if (producers.empty() && c.opts->lookupdHttpAddresses.empty()) return topicNotFound(c);
  auto stats = ci.nsqdStats(producers, topic, "", false, errs);
  if (errs.fatal && !producers.empty()) return upstream(errs);
  errs.fatal.reset();
  warnPartial(errs);
  TopicStats all;
  all.topicName = topic;
  all.node = "*";
  for (const auto& t : stats.topics) all.add(t);
  std::string json = toJson(all);
  json.pop_back();  // the object's members, "message" appended
  return jsonReply(withMessage(json.substr(1), errs));
}

Reply getChannel(Call& c) {
  const std::string& topic = c.seg[2];
  const std::string& channel = c.seg[3];
  ClusterInfo ci = clusterFor(c.ctx);
  QueryErrors errs;
  auto producers = ci.topicProducers(topic, errs);
  if (errs.fatal) return upstream(errs);
  if (producers.empty() && c.opts->lookupdHttpAddresses.empty()) return topicNotFound(c);
  auto stats = ci.nsqdStats(producers, topic, channel, true, errs);
  if (errs.fatal && !producers.empty()) return upstream(errs);
  errs.fatal.reset();
  warnPartial(errs);
  auto it = stats.channels.find(channel);
  if (it == stats.channels.end()) return jsonReply(withMessage("", errs));  // as the original: no stats
  std::string json = toJson(it->second);
  json.pop_back();
  return jsonReply(withMessage(json.substr(1), errs));
}

Reply getNodes(Call& c) {
  QueryErrors errs;
  auto producers = clusterFor(c.ctx).producers(errs);
  if (errs.fatal) return upstream(errs);
  warnPartial(errs);
  std::string list = "[";
  for (const auto& p : producers) list += (list.size() > 1 ? "," : "") + toJson(p);
  return jsonReply(withMessage("\"nodes\":" + (producers.empty() ? std::string("null") : list + "]"), errs));
}

Reply getNode(Call& c) {
  const std::string& node = c.seg[2];
  ClusterInfo ci = clusterFor(c.ctx);
  QueryErrors errs;
  auto producers = ci.producers(errs);
  if (errs.fatal) return upstream(errs);
  warnPartial(errs);
  std::vector<Producer> one;
  for (const auto& p : producers)
    if (p.httpAddress() == node) one.push_back(p);
  if (one.empty()) return errorReply(404, "NODE_NOT_FOUND");
  QueryErrors statsErrs;
  auto stats = ci.nsqdStats(one, "", "", true, statsErrs);
  if (statsErrs.fatal) return upstream(statsErrs);
  int64_t totalMessages = 0, totalClients = 0;
  std::string topics = "[";
  for (const auto& t : stats.topics) {
    for (const auto& ch : t.channels) totalClients += static_cast<int64_t>(ch.clients.size());
    totalMessages += t.messageCount;
    topics += (topics.size() > 1 ? "," : "") + toJson(t);
  }
  return jsonReply(withMessage("\"node\":" + jsonQuote(node) + ",\"topics\":" +
                                   (stats.topics.empty() ? std::string("null") : topics + "]") +
                                   ",\"total_messages\":" + std::to_string(totalMessages) +
                                   ",\"total_clients\":" + std::to_string(totalClients),
                               errs));
}

Reply getCounter(Call& c) {
  ClusterInfo ci = clusterFor(c.ctx);
  QueryErrors errs;
  auto producers = ci.producers(errs);
  if (errs.fatal) return upstream(errs);
  auto stats = ci.nsqdStats(producers, "", "", false, errs);
  if (errs.fatal) return upstream(errs);
  warnPartial(errs);
  std::map<std::string, std::string> rows;  // key -> JSON, sorted as Go writes a map
  for (const auto& [key, ch] : stats.channels) {
    for (const auto& n : ch.nodes) {
      rows[ch.topicName + ":" + ch.channelName + ":" + n.node] =
          "{\"node\":" + jsonQuote(n.node) + ",\"topic_name\":" + jsonQuote(ch.topicName) +
          ",\"channel_name\":" + jsonQuote(ch.channelName) + ",\"message_count\":" + std::to_string(n.messageCount) +
          "}";
    }
  }
  std::string map = "{";
  for (const auto& [k, v] : rows) map += (map.size() > 1 ? "," : "") + jsonQuote(k) + ":" + v;
  return jsonReply(withMessage("\"stats\":" + map + "}", errs));
}

Reply getHistory(Call& c) {
  if (!c.ctx.history) return errorReply(404, "NOT_FOUND");
  auto topic = http::queryValue(c.params, "topic");
  if (!topic || topic->empty()) return jsonReply(c.ctx.history->topicsJson());
  std::string channel = http::queryValue(c.params, "channel").value_or("");
  return jsonReply(c.ctx.history->json(*topic, channel));
}

// ---- actions ----------------------------------------------------------------------------------

bool isAdmin(const Call& c) {
  if (c.opts->adminUsers.empty()) return true;
  const std::string* user = c.req.header(c.opts->aclHttpHeader);
  if (!user) return false;
  for (const auto& u : c.opts->adminUsers)
    if (u == *user) return true;
  return false;
}

std::string basicAuthUser(const http::Request& req) {
  const std::string* auth = req.header("Authorization");
  if (!auth || !auth->starts_with("Basic ")) return "";
  try {
    std::istringstream in(auth->substr(6));
    Poco::Base64Decoder decoder(in);
    std::string pair((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    auto colon = pair.find(':');
    return colon == std::string::npos ? "" : pair.substr(0, colon);
  } catch (...) {
    return "";
  }
}

void notify(Call& c, const std::string& action, const std::string& topic, const std::string& channel,
            const std::string& node) {
  AdminAction a;
  a.action = action;
  a.topic = topic;
  a.channel = channel;
  a.node = node;
  a.timestamp = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  a.user = basicAuthUser(c.req);
  a.remoteIp = c.req.remoteAddress;
  a.userAgent = c.req.header("User-Agent", "");
  bool https = c.req.secure || c.req.header("X-Scheme", "") == "https";
  a.url = std::string(https ? "https://" : "http://") + c.req.header("Host", "") + c.req.target;
  a.via = c.ctx.hostname;
  c.ctx.notifier.push(std::move(a));
}

// The body as a JSON object of string fields; false with *reply set (400) otherwise. Go's
// decoder says "EOF" for an empty body.
bool readBody(const Call& c, std::map<std::string, std::string>& fields, Reply* reply) {
  if (c.req.body.find_first_not_of(" \t\r\n") == std::string::npos) return *reply = errorReply(400, "EOF"), false;
  Poco::JSON::Object::Ptr obj;
  try {
    obj = Poco::JSON::Parser().parse(c.req.body).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return *reply = errorReply(400, "INVALID_BODY: " + e.message()), false;
  } catch (const std::exception& e) {
    return *reply = errorReply(400, std::string("INVALID_BODY: ") + e.what()), false;
  }
  if (!obj) return *reply = errorReply(400, "INVALID_BODY: not a JSON object"), false;
  for (auto& [key, value] : fields) {
    auto v = obj->get(key);
    if (v.isEmpty()) continue;
    if (!v.isString()) return *reply = errorReply(400, "INVALID_BODY: \"" + key + "\" must be a string"), false;
    value = v.convert<std::string>();
  }
  return true;
}

Reply actionReply(const std::vector<NodeResult>& results, QueryErrors& errs) {
  if (errs.fatal) return upstream(errs);
  warnPartial(errs);
  return jsonReply(withMessage("\"results\":" + toJson(results), errs));
}

Reply createTopicChannel(Call& c) {
  if (!isAdmin(c)) return errorReply(403, "FORBIDDEN");
  std::map<std::string, std::string> body{{"topic", ""}, {"channel", ""}};
  Reply bad;
  if (!readBody(c, body, &bad)) return bad;
  if (!isValidTopicName(body["topic"])) return errorReply(400, "INVALID_TOPIC");
  if (!body["channel"].empty() && !isValidChannelName(body["channel"])) return errorReply(400, "INVALID_CHANNEL");
  QueryErrors errs;
  auto results = clusterFor(c.ctx).createTopicChannel(body["topic"], body["channel"], errs);
  notify(c, "create_topic", body["topic"], "", "");
  if (!body["channel"].empty()) notify(c, "create_channel", body["topic"], body["channel"], "");
  return actionReply(results, errs);
}

Reply topicChannelAction(Call& c) {
  if (!isAdmin(c)) return errorReply(403, "FORBIDDEN");
  const std::string& topic = c.seg[2];
  std::string channel = c.seg.size() > 3 ? c.seg[3] : "";
  std::map<std::string, std::string> body{{"action", ""}};
  Reply bad;
  if (!readBody(c, body, &bad)) return bad;
  const std::string& action = body["action"];
  if (action != "pause" && action != "unpause" && action != "empty") return errorReply(400, "INVALID_ACTION");
  QueryErrors errs;
  auto results = clusterFor(c.ctx).topicAction(topic, channel, action, errs);
  notify(c, action + (channel.empty() ? "_topic" : "_channel"), topic, channel, "");
  return actionReply(results, errs);
}

Reply deleteTopicOrChannel(Call& c) {
  if (!isAdmin(c)) return errorReply(403, "FORBIDDEN");
  const std::string& topic = c.seg[2];
  QueryErrors errs;
  if (c.seg.size() > 3) {
    auto results = clusterFor(c.ctx).deleteChannel(topic, c.seg[3], errs);
    notify(c, "delete_channel", topic, c.seg[3], "");
    return actionReply(results, errs);
  }
  auto results = clusterFor(c.ctx).deleteTopic(topic, errs);
  notify(c, "delete_topic", topic, "", "");
  return actionReply(results, errs);
}

Reply tombstoneNode(Call& c) {
  if (!isAdmin(c)) return errorReply(403, "FORBIDDEN");
  const std::string& node = c.seg[2];
  std::map<std::string, std::string> body{{"topic", ""}};
  Reply bad;
  if (!readBody(c, body, &bad)) return errorReply(400, "INVALID_BODY");
  if (!isValidTopicName(body["topic"])) return errorReply(400, "INVALID_TOPIC");
  QueryErrors errs;
  auto results = clusterFor(c.ctx).tombstoneNodeForTopic(body["topic"], node, errs);
  notify(c, "tombstone_topic_producer", body["topic"], "", node);
  return actionReply(results, errs);
}

// ---- /config/:opt -------------------------------------------------------------------------------

std::string remoteIp(const http::Request& req) {
  std::string host = req.remoteHost;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

Reply doConfig(Call& c) {
  const std::string& opt = c.seg[1];
  if (!c.opts->allowConfigFromCidr.empty()) {
    Cidr cidr;
    cidr.parse(c.opts->allowConfigFromCidr);  // validated at start-up
    if (!cidr.contains(remoteIp(c.req))) return errorReply(403, "FORBIDDEN");
  }
  if (c.req.method == "PUT") {
    if (c.req.body.empty() || c.req.bodyTooLarge) return errorReply(413, "INVALID_VALUE");
    Options next = *c.ctx.options.get();
    if (opt == "nsqlookupd_http_addresses") {
      std::vector<std::string> addrs;
      try {
        auto arr = Poco::JSON::Parser().parse(c.req.body).extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; arr && i < arr->size(); ++i) {
          auto v = arr->get(static_cast<unsigned>(i));
          if (!v.isString()) return errorReply(400, "INVALID_VALUE");
          addrs.push_back(v.convert<std::string>());
        }
      } catch (...) {
        return errorReply(400, "INVALID_VALUE");
      }
      next.lookupdHttpAddresses = addrs;
      Options check = next;
      if (!addrs.empty()) check.nsqdHttpAddresses.clear();
      try {
        validate(check);
      } catch (const OptionError&) {
        return errorReply(400, "INVALID_VALUE");
      }
      next = check;
    } else if (opt == "log_level") {
      LogLevel level;
      if (!parseLogLevel(c.req.body, level)) return errorReply(400, "INVALID_VALUE");
      next.logLevel = c.req.body;
      Logger::configure(next.logPrefix, level);
    } else {
      return errorReply(400, "INVALID_OPTION");
    }
    c.ctx.options.set(next);
    c.opts = c.ctx.options.get();
  }
  Options current = *c.opts;
  auto set = makeOptionSet(current);
  const OptionSpec* spec = set->find(opt);
  if (!spec || spec->configKey() != opt || spec->name == "config") return errorReply(400, "INVALID_OPTION");
  return jsonReply(spec->jsonValue());
}

// ---- pages and assets ---------------------------------------------------------------------------

Reply page(Call& c) {
  const Asset* index = findAsset("index.html");
  if (!index) return errorReply(404, "NOT_FOUND");
  // The page learns its base path and the server's version from two placeholders.
  std::string html(index->data, index->size);
  auto replace = [&](const std::string& from, const std::string& to) {
    for (auto pos = html.find(from); pos != std::string::npos; pos = html.find(from, pos + to.size()))
      html.replace(pos, from.size(), to);
  };
  std::string base = c.opts->basePath == "/" ? "" : c.opts->basePath;
  replace("{{BASE_PATH}}", base);
  replace("{{VERSION}}", versionLine().substr(std::string("nsqadmin ").size()));
  Reply r = http::plainReply(200, html);
  r.contentType = "text/html; charset=utf-8";
  return r;
}

Reply staticAsset(Call& c) {
  const Asset* a = findAsset(c.seg[1]);
  if (!a) return errorReply(404, "NOT_FOUND");
  Reply r = http::plainReply(200, std::string(a->data, a->size));
  r.contentType = a->contentType;
  return r;
}

// ---- routing ------------------------------------------------------------------------------------

using Handler = Reply (*)(Call&);

struct RouteEntry {
  const char* pattern;  // segments; ":x" matches one
  const char* method;
  Handler handler;
};

constexpr RouteEntry kRoutes[] = {
    {"/ping", "GET", [](Call&) { return http::plainReply(200, "OK"); }},
    {"/", "GET", page},
    {"/topics", "GET", page},
    {"/topics/:topic", "GET", page},
    {"/topics/:topic/:channel", "GET", page},
    {"/nodes", "GET", page},
    {"/nodes/:node", "GET", page},
    {"/counter", "GET", page},
    {"/lookup", "GET", page},
    {"/static/:asset", "GET", staticAsset},
    {"/api/topics", "GET", getTopics},
    {"/api/topics", "POST", createTopicChannel},
    {"/api/topics/:topic", "GET", getTopic},
    {"/api/topics/:topic", "POST", topicChannelAction},
    {"/api/topics/:topic", "DELETE", deleteTopicOrChannel},
    {"/api/topics/:topic/:channel", "GET", getChannel},
    {"/api/topics/:topic/:channel", "POST", topicChannelAction},
    {"/api/topics/:topic/:channel", "DELETE", deleteTopicOrChannel},
    {"/api/nodes", "GET", getNodes},
    {"/api/nodes/:node", "GET", getNode},
    {"/api/nodes/:node", "DELETE", tombstoneNode},
    {"/api/counter", "GET", getCounter},
    {"/api/history", "GET", getHistory},
    {"/config/:opt", "GET", doConfig},
    {"/config/:opt", "PUT", doConfig},
};

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;  // "/" -> {""}
}

bool matches(const char* pattern, const std::vector<std::string>& seg) {
  auto pat = split(pattern);
  if (pat.size() != seg.size()) return false;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    if (pat[i].starts_with(":")) {
      if (seg[i].empty()) return false;
    } else if (pat[i] != seg[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Reply route(ApiContext& ctx, const http::Request& req) {
  auto opts = ctx.options.get();
  std::string_view rawQuery;
  auto path = http::decodeTargetPath(req.target, &rawQuery);
  if (!path) return errorReply(400, "INVALID_REQUEST");
  // Take the base path off: "/admin" serves "/admin", "/admin/" and "/admin/topics/x".
  std::string local = *path;
  if (opts->basePath != "/") {
    if (local == opts->basePath) local = "/";
    else if (local.starts_with(opts->basePath + "/")) local = local.substr(opts->basePath.size());
    else return errorReply(404, "NOT_FOUND");
  }
  auto seg = split(local);
  std::vector<std::string> allowed;
  Handler handler = nullptr;
  for (const auto& r : kRoutes) {
    if (!matches(r.pattern, seg)) continue;
    allowed.emplace_back(r.method);
    if (req.method == r.method || (req.method == "HEAD" && std::string_view(r.method) == "GET")) handler = r.handler;
  }
  if (allowed.empty()) return errorReply(404, "NOT_FOUND");
  if (!handler) return http::methodNotAllowed(req.method, allowed, false);
  auto params = http::parseQuery(rawQuery);
  if (!params) return errorReply(400, "INVALID_REQUEST");
  Call call{ctx, req, std::move(seg), std::move(*params), opts};
  return handler(call);
}

http::Response handleHttp(ApiContext& ctx, const http::Request& req) {
  Reply reply = route(ctx, req);
  logDebug(std::to_string(reply.status), " ", req.method, " ", req.target, " (", req.remoteAddress, ")");
  return http::toResponse(std::move(reply));
}

}  // namespace nsq::admin

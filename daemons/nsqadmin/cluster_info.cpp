// ClusterInfo: the original nsqadmin's cluster queries and aggregation, on httpFetch (connect
// and request timeouts, a size cap on every reply). Replies are parsed with Poco::JSON into the
// structs of cluster_info.h and written back by hand in the original's key order.
//
// One deliberate difference from the original's aggregation: a summed channel is a fresh object
// whose "nodes" lists every producer (the original reuses the first producer's channel object,
// so that producer is missing from the list and its own figures are overwritten).
#include "nsqadmin/cluster_info.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "nsq/base/host_port.h"
#include "nsq/base/json_text.h"
#include "nsq/base/number.h"
#include "nsq/http/request.h"

namespace nsq::admin {

using Poco::JSON::Array;
using Poco::JSON::Object;

void fanOut(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0) return;
  if (n == 1) return fn(0);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  std::size_t count = std::min(n, kMaxParallel);
  threads.reserve(count);
  for (std::size_t t = 0; t < count; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

std::string goQuote(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string QueryErrors::message() const {
  if (fatal) return *fatal;
  if (partial.empty()) return "";
  std::string out = "WARNING: ";
  for (std::size_t i = 0; i < partial.size(); ++i) out += (i ? "; " : "") + partial[i];
  return out;
}

void QueryErrors::merge(const QueryErrors& other) {
  partial.insert(partial.end(), other.partial.begin(), other.partial.end());
  if (other.fatal && !fatal) fatal = other.fatal;
}

std::string Producer::httpAddress() const { return joinHostPort(broadcastAddress, httpPort); }
std::string Producer::tcpAddress() const { return joinHostPort(broadcastAddress, tcpPort); }

namespace {

// ---- JSON reading ---------------------------------------------------------------------------

// A counter or port from a node's reply, through the one range-checked parser: anything that is
// not an integer (absent, null, text, beyond 64 bits) reads as 0.
int64_t num(const Object::Ptr& o, const char* key) {
  if (!o || !o->has(key) || o->isNull(key)) return 0;
  ParsedInt v = jsonInt(o->get(key));
  return v ? v.value : 0;
}
int port(const Object::Ptr& o, const char* key) {
  int64_t p = num(o, key);
  return p >= 0 && p <= 65535 ? static_cast<int>(p) : 0;
}
double real(const Object::Ptr& o, const char* key) {
  if (!o) return 0;
  auto v = o->get(key);
  if (v.isEmpty()) return 0;
  try {
    return v.convert<double>();
  } catch (...) {
    return 0;
  }
}
std::string str(const Object::Ptr& o, const char* key) {
  if (!o) return "";
  auto v = o->get(key);
  if (v.isEmpty() || !v.isString()) return "";
  return v.convert<std::string>();
}
bool flag(const Object::Ptr& o, const char* key) {
  if (!o) return false;
  auto v = o->get(key);
  if (v.isEmpty()) return false;
  try {
    return v.convert<bool>();
  } catch (...) {
    return false;
  }
}
std::vector<Object::Ptr> objects(const Object::Ptr& o, const char* key) {
  std::vector<Object::Ptr> out;
  if (!o) return out;
  Array::Ptr a = o->getArray(key);
  for (std::size_t i = 0; a && i < a->size(); ++i)
    if (auto item = a->getObject(static_cast<unsigned>(i))) out.push_back(item);
  return out;
}
std::vector<std::string> strings(const Object::Ptr& o, const char* key) {
  std::vector<std::string> out;
  Array::Ptr a = o ? o->getArray(key) : nullptr;
  for (std::size_t i = 0; a && i < a->size(); ++i) {
    auto v = a->get(static_cast<unsigned>(i));
    out.push_back(v.isString() ? v.convert<std::string>() : "");
  }
  return out;
}

E2eLatency readE2e(const Object::Ptr& o) {
  E2eLatency e;
  if (!o) return e;
  e.count = num(o, "count");
  for (const auto& p : objects(o, "percentiles")) {
    Percentile q;
    q.quantile = real(p, "quantile");
    q.value = real(p, "value");
    q.min = q.max = q.average = q.value;
    q.count = static_cast<double>(e.count);
    e.percentiles.push_back(q);
  }
  return e;
}

ClientStats readClient(const Object::Ptr& o, const std::string& node) {
  ClientStats c;
  c.node = node;
  c.remoteAddress = str(o, "remote_address");
  c.version = str(o, "version");
  c.clientId = str(o, "client_id");
  c.hostname = str(o, "hostname");
  c.userAgent = str(o, "user_agent");
  c.connectTs = num(o, "connect_ts");
  c.inFlightCount = num(o, "in_flight_count");
  c.readyCount = num(o, "ready_count");
  c.finishCount = num(o, "finish_count");
  c.requeueCount = num(o, "requeue_count");
  c.messageCount = num(o, "message_count");
  c.sampleRate = num(o, "sample_rate");
  c.deflate = flag(o, "deflate");
  c.snappy = flag(o, "snappy");
  c.authed = flag(o, "authed");
  c.authIdentity = str(o, "auth_identity");
  c.authIdentityUrl = str(o, "auth_identity_url");
  c.tls = flag(o, "tls");
  c.tlsCipherSuite = str(o, "tls_cipher_suite");
  c.tlsVersion = str(o, "tls_version");
  c.tlsNegotiatedProtocol = str(o, "tls_negotiated_protocol");
  c.tlsNegotiatedProtocolIsMutual = flag(o, "tls_negotiated_protocol_is_mutual");
  return c;
}

// ---- versions -------------------------------------------------------------------------------

// major.minor.patch of a semver text; 0.0.0 when it is not one (as the original does).
std::tuple<int, int, int> semver(const std::string& v) {
  int parts[3] = {0, 0, 0};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    std::size_t end = pos;
    while (end < v.size() && std::isdigit(static_cast<unsigned char>(v[end]))) ++end;
    if (end == pos || end - pos > 6) return {0, 0, 0};
    parts[i] = std::stoi(v.substr(pos, end - pos));
    if (i < 2) {
      if (end >= v.size() || v[end] != '.') return {0, 0, 0};
      pos = end + 1;
    } else if (end < v.size() && v[end] != '-' && v[end] != '+') {
      return {0, 0, 0};
    }
  }
  return {parts[0], parts[1], parts[2]};
}

template <class T>
void sortByHost(std::vector<T>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& a, const T& b) {
    return a.hostname != b.hostname ? a.hostname < b.hostname : a.node < b.node;
  });
}

// The element of v that match() accepts, or a new one make() gives, appended.
template <class T, class Match, class Make>
T& findOrAppend(std::vector<T>& v, Match match, Make make) {
  auto it = std::find_if(v.begin(), v.end(), match);
  if (it != v.end()) return *it;
  v.push_back(make());
  return v.back();
}

std::string stripScheme(const std::string& a) {
  if (a.starts_with("http://")) return a.substr(7);
  if (a.starts_with("https://")) return a.substr(8);
  return a;
}

// The failure of every node, as the original words it.
std::string allFailed(const char* what, const std::vector<std::string>& errs) {
  std::string out = std::string("failed to query any ") + what + ": ";
  for (std::size_t i = 0; i < errs.size(); ++i) out += (i ? "\n" : "") + errs[i];
  return out;
}

}  // namespace

// ---- aggregation ----------------------------------------------------------------------------

void E2eLatency::add(const E2eLatency& other) {
  perNode = false;
  host = "*";
  count += other.count;
  for (const auto& v : other.percentiles) {
    Percentile* it = &findOrAppend(
        percentiles, [&](const Percentile& p) { return p.quantile == v.quantile; },
        [&] {
          Percentile fresh;
          fresh.quantile = v.quantile;
          fresh.min = v.min;
          return fresh;
        });
    it->max = std::max(it->max, v.max);
    it->min = std::min(it->min, v.min);
    it->count += v.count;
    if (it->count == 0) {
      it->average = 0;
      continue;
    }
    it->average += (v.average - it->average) * v.count / it->count;  // running weighted mean
  }
  std::sort(percentiles.begin(), percentiles.end(),
            [](const Percentile& a, const Percentile& b) { return a.quantile > b.quantile; });
}

void ChannelStats::add(const ChannelStats& a) {
  node = "*";
  depth += a.depth;
  memoryDepth += a.memoryDepth;
  backendDepth += a.backendDepth;
  inFlightCount += a.inFlightCount;
  deferredCount += a.deferredCount;
  requeueCount += a.requeueCount;
  timeoutCount += a.timeoutCount;
  messageCount += a.messageCount;
  clientCount += a.clientCount;
  paused = paused || a.paused;
  nodes.push_back(a);
  sortByHost(nodes);
  if (e2e.host.empty()) {
    e2e.topic = topicName;
    e2e.channel = channelName;
  }
  e2e.add(a.e2e);
  clients.insert(clients.end(), a.clients.begin(), a.clients.end());
  std::stable_sort(clients.begin(), clients.end(), [](const ClientStats& x, const ClientStats& y) {
    return x.node != y.node ? x.node < y.node : x.hostname < y.hostname;
  });
}

void TopicStats::add(const TopicStats& a) {
  node = "*";
  depth += a.depth;
  memoryDepth += a.memoryDepth;
  backendDepth += a.backendDepth;
  messageCount += a.messageCount;
  paused = paused || a.paused;
  for (const auto& ch : a.channels) {
    findOrAppend(
        channels, [&](const ChannelStats& c) { return c.channelName == ch.channelName; },
        [&] {
          ChannelStats sum;
          sum.topicName = ch.topicName;
          sum.channelName = ch.channelName;
          return sum;
        })
        .add(ch);
  }
  nodes.push_back(a);
  sortByHost(nodes);
  if (e2e.host.empty()) e2e.topic = topicName;
  e2e.add(a.e2e);
}

// ---- HTTP -----------------------------------------------------------------------------------

std::string ClusterInfo::url(const std::string& addr, const std::string& target) const {
  if (addr.starts_with("http://") || addr.starts_with("https://")) return addr + target;
  return "http://" + addr + target;
}

HttpReply ClusterInfo::call(const std::string& method, const std::string& addr, const std::string& target) const {
  HttpCall req;
  req.method = method;
  req.url = url(addr, target);
  req.timeouts = c_.timeouts;
  req.tls = c_.tls;
  req.maxBody = 64 << 20;  // a busy nsqd's /stats with clients
  std::string verb = method == "GET" ? "Get" : "Post";
  HttpReply r;
  try {
    r = httpFetch(req);
  } catch (const HttpError& e) {
    throw HttpError(verb + " " + goQuote(req.url) + ": " + e.what());
  }
  if (r.status != 200)
    throw HttpError("got response " + std::to_string(r.status) + " " + std::string(http::reasonPhrase(r.status)) +
                    " " + goQuote(r.body));
  return r;
}

namespace {
Object::Ptr parseObject(const HttpReply& r, const std::string& where) {
  try {
    auto obj = Poco::JSON::Parser().parse(r.body).extract<Object::Ptr>();
    if (obj) return obj;
  } catch (const std::exception&) {
  }
  throw HttpError(where + ": reply is not a JSON object");
}

// Runs fn on every address concurrently; fn's HttpError becomes an entry of errs, in address
// order. Returns how many failed.
std::size_t each(const std::vector<std::string>& addrs, std::vector<std::string>& errs,
                 const std::function<void(std::size_t)>& fn) {
  std::vector<std::string> failures(addrs.size());
  std::vector<char> failed(addrs.size(), 0);
  fanOut(addrs.size(), [&](std::size_t i) {
    try {
      fn(i);
    } catch (const std::exception& e) {
      failures[i] = e.what();
      failed[i] = 1;
    }
  });
  std::size_t n = 0;
  for (std::size_t i = 0; i < addrs.size(); ++i)
    if (failed[i]) {
      errs.push_back(failures[i]);
      ++n;
    }
  return n;
}

// Files a fan-out's failures: all failed -> fatal; some -> partial.
void settle(QueryErrors& errs, const std::vector<std::string>& failures, std::size_t total, const char* what) {
  if (total > 0 && failures.size() == total) {
    errs.fatal = allFailed(what, failures);
    return;
  }
  errs.partial.insert(errs.partial.end(), failures.begin(), failures.end());
}
}  // namespace

// ---- queries --------------------------------------------------------------------------------

std::vector<std::string> ClusterInfo::topics(QueryErrors& errs) const {
  bool viaLookupd = !c_.lookupd.empty();
  const auto& addrs = viaLookupd ? c_.lookupd : c_.nsqd;
  std::mutex mu;
  std::set<std::string> all;
  std::vector<std::string> failures;
  each(addrs, failures, [&](std::size_t i) {
    std::vector<std::string> found;
    if (viaLookupd) {
      found = strings(parseObject(call("GET", addrs[i], "/topics"), addrs[i]), "topics");
    } else {
      auto stats = parseObject(call("GET", addrs[i], "/stats?format=json&include_clients=false"), addrs[i]);
      for (const auto& t : objects(stats, "topics")) found.push_back(str(t, "topic_name"));
    }
    std::lock_guard lock(mu);
    all.insert(found.begin(), found.end());
  });
  settle(errs, failures, addrs.size(), viaLookupd ? "nsqlookupd" : "nsqd");
  if (errs.fatal) return {};
  return {all.begin(), all.end()};
}

std::vector<std::string> ClusterInfo::lookupdTopicChannels(const std::string& topic, QueryErrors& errs) const {
  std::mutex mu;
  std::set<std::string> all;
  std::vector<std::string> failures;
  each(c_.lookupd, failures, [&](std::size_t i) {
    auto found = strings(parseObject(call("GET", c_.lookupd[i], "/channels?topic=" + urlEncode(topic)), c_.lookupd[i]),
                         "channels");
    std::lock_guard lock(mu);
    all.insert(found.begin(), found.end());
  });
  settle(errs, failures, c_.lookupd.size(), "nsqlookupd");
  if (errs.fatal) return {};
  return {all.begin(), all.end()};
}

namespace {
Producer readLookupdProducer(const Object::Ptr& o) {
  Producer p;
  p.remoteAddress = str(o, "remote_address");
  p.hostname = str(o, "hostname");
  p.broadcastAddress = str(o, "broadcast_address");
  p.tcpPort = port(o, "tcp_port");
  p.httpPort = port(o, "http_port");
  p.version = str(o, "version");
  auto topics = strings(o, "topics");
  Array::Ptr tombs = o->getArray("tombstones");
  for (std::size_t i = 0; i < topics.size(); ++i) {
    bool tomb = false;
    if (tombs && i < tombs->size()) {
      auto v = tombs->get(static_cast<unsigned>(i));
      tomb = v.isBoolean() && v.convert<bool>();
    }
    p.topics.push_back({topics[i], tomb});
  }
  std::sort(p.topics.begin(), p.topics.end(),
            [](const ProducerTopic& a, const ProducerTopic& b) { return a.topic < b.topic; });
  return p;
}
}  // namespace

std::vector<Producer> ClusterInfo::producers(QueryErrors& errs) const {
  if (c_.lookupd.empty()) return nsqdProducers(c_.nsqd, errs);
  std::mutex mu;
  std::vector<Producer> all;
  std::vector<std::string> failures;
  each(c_.lookupd, failures, [&](std::size_t i) {
    auto reply = parseObject(call("GET", c_.lookupd[i], "/nodes"), c_.lookupd[i]);
    std::vector<Producer> found;
    for (const auto& o : objects(reply, "producers")) found.push_back(readLookupdProducer(o));
    std::lock_guard lock(mu);
    for (auto& p : found) {
      Producer& known = findOrAppend(
          all, [&](const Producer& q) { return q.tcpAddress() == p.tcpAddress(); }, [&] { return p; });
      known.remoteAddresses.push_back(stripScheme(c_.lookupd[i]) + "/" +
                                    (p.remoteAddress.empty() ? "N/A" : p.remoteAddress));
    }
  });
  settle(errs, failures, c_.lookupd.size(), "nsqlookupd");
  if (errs.fatal) return {};
  std::tuple<int, int, int> newest{0, 0, 0};
  for (const auto& p : all) newest = std::max(newest, semver(p.version));
  for (auto& p : all) {
    p.outOfDate = semver(p.version) < newest;
    std::sort(p.remoteAddresses.begin(), p.remoteAddresses.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Producer& a, const Producer& b) {
    return a.hostname != b.hostname ? a.hostname < b.hostname : a.httpAddress() < b.httpAddress();
  });
  return all;
}

std::vector<Producer> ClusterInfo::nsqdProducers(const std::vector<std::string>& addrs, QueryErrors& errs) const {
  std::vector<std::optional<Producer>> found(addrs.size());
  std::vector<std::string> failures;
  each(addrs, failures, [&](std::size_t i) {
    auto info = parseObject(call("GET", addrs[i], "/info"), addrs[i]);
    auto stats = parseObject(call("GET", addrs[i], "/stats?format=json&include_clients=false"), addrs[i]);
    Producer p;
    p.version = str(info, "version");
    p.broadcastAddress = str(info, "broadcast_address");
    p.hostname = str(info, "hostname");
    p.httpPort = port(info, "http_port");
    p.tcpPort = port(info, "tcp_port");
    if (p.broadcastAddress.empty()) {  // as the original: fall back on the address we were given
      if (auto hp = parseHostPort(stripScheme(addrs[i]))) {
        p.broadcastAddress = hp->host;
        p.httpPort = hp->port;
      }
    }
    for (const auto& t : objects(stats, "topics")) p.topics.push_back({str(t, "topic_name"), false});
    found[i] = std::move(p);
  });
  settle(errs, failures, addrs.size(), "nsqd");
  std::vector<Producer> out;
  if (errs.fatal) return out;
  for (auto& p : found)
    if (p) out.push_back(std::move(*p));
  return out;
}

std::vector<Producer> ClusterInfo::topicProducers(const std::string& topic, QueryErrors& errs) const {
  if (!c_.lookupd.empty()) {
    std::mutex mu;
    std::vector<Producer> all;
    std::vector<std::string> failures;
    each(c_.lookupd, failures, [&](std::size_t i) {
      auto reply = parseObject(call("GET", c_.lookupd[i], "/lookup?topic=" + urlEncode(topic)), c_.lookupd[i]);
      std::vector<Producer> found;
      for (const auto& o : objects(reply, "producers")) found.push_back(readLookupdProducer(o));
      std::lock_guard lock(mu);
      for (auto& p : found)
        if (std::none_of(all.begin(), all.end(), [&](const Producer& q) { return q.httpAddress() == p.httpAddress(); }))
          all.push_back(std::move(p));
    });
    settle(errs, failures, c_.lookupd.size(), "nsqlookupd");
    if (errs.fatal) return {};
    std::sort(all.begin(), all.end(),
              [](const Producer& a, const Producer& b) { return a.httpAddress() < b.httpAddress(); });
    return all;
  }
  QueryErrors own;
  auto all = nsqdProducers(c_.nsqd, own);
  errs.merge(own);
  std::vector<Producer> out;
  for (auto& p : all)
    if (std::any_of(p.topics.begin(), p.topics.end(), [&](const ProducerTopic& t) { return t.topic == topic; }))
      out.push_back(std::move(p));
  return out;
}

NsqdStats ClusterInfo::nsqdStats(const std::vector<Producer>& producers, const std::string& topic,
                                 const std::string& channel, bool includeClients, QueryErrors& errs) const {
  NsqdStats out;
  std::mutex mu;
  std::vector<std::string> addrs;
  for (const auto& p : producers) addrs.push_back(p.httpAddress());
  std::vector<std::string> failures;
  each(addrs, failures, [&](std::size_t i) {
    const std::string& addr = addrs[i];
    std::string target = "/stats?format=json";
    if (!topic.empty()) {
      target += "&topic=" + urlEncode(topic);
      if (!channel.empty()) target += "&channel=" + urlEncode(channel);
    }
    if (!includeClients) target += "&include_clients=false";
    auto reply = parseObject(call("GET", addr, target), addr);
    std::vector<TopicStats> found;
    for (const auto& t : objects(reply, "topics")) {
      TopicStats ts;
      ts.node = addr;
      ts.hostname = producers[i].hostname;
      ts.topicName = str(t, "topic_name");
      if (!topic.empty() && ts.topicName != topic) continue;
      ts.depth = num(t, "depth");
      ts.backendDepth = num(t, "backend_depth");
      ts.memoryDepth = ts.depth - ts.backendDepth;
      ts.messageCount = num(t, "message_count");
      ts.paused = flag(t, "paused");
      ts.e2e = readE2e(t->getObject("e2e_processing_latency"));
      for (const auto& c : objects(t, "channels")) {
        ChannelStats cs;
        cs.node = addr;
        cs.hostname = producers[i].hostname;
        cs.topicName = ts.topicName;
        cs.channelName = str(c, "channel_name");
        cs.depth = num(c, "depth");
        cs.backendDepth = num(c, "backend_depth");
        cs.memoryDepth = cs.depth - cs.backendDepth;
        cs.inFlightCount = num(c, "in_flight_count");
        cs.deferredCount = num(c, "deferred_count");
        cs.requeueCount = num(c, "requeue_count");
        cs.timeoutCount = num(c, "timeout_count");
        cs.messageCount = num(c, "message_count");
        cs.clientCount = num(c, "client_count");
        cs.paused = flag(c, "paused");
        cs.e2e = readE2e(c->getObject("e2e_processing_latency"));
        for (const auto& cl : objects(c, "clients")) cs.clients.push_back(readClient(cl, addr));
        ts.channels.push_back(std::move(cs));
      }
      found.push_back(std::move(ts));
    }
    std::lock_guard lock(mu);
    for (auto& ts : found) {
      for (const auto& cs : ts.channels) {
        std::string key = topic.empty() ? ts.topicName + ":" + cs.channelName : cs.channelName;
        auto [it, fresh] = out.channels.try_emplace(key);
        if (fresh) {
          it->second.topicName = cs.topicName;
          it->second.channelName = cs.channelName;
        }
        it->second.add(cs);
      }
      out.topics.push_back(std::move(ts));
    }
  });
  settle(errs, failures, addrs.size(), "nsqd");
  sortByHost(out.topics);
  return out;
}

// ---- actions --------------------------------------------------------------------------------

std::vector<NodeResult> ClusterInfo::post(const std::vector<std::string>& addrs, const std::string& kind,
                                          const std::string& target, QueryErrors& errs) const {
  std::vector<NodeResult> results(addrs.size());
  fanOut(addrs.size(), [&](std::size_t i) {
    results[i].node = stripScheme(addrs[i]);
    results[i].kind = kind;
    try {
      call("POST", addrs[i], target);
    } catch (const std::exception& e) {
      results[i].error = e.what();
    }
  });
  for (const auto& r : results)
    if (!r.error.empty()) errs.partial.push_back(r.error);
  return results;
}

namespace {
std::vector<std::string> httpAddrs(const std::vector<Producer>& producers) {
  std::vector<std::string> out;
  for (const auto& p : producers) out.push_back(p.httpAddress());
  return out;
}
void append(std::vector<NodeResult>& to, std::vector<NodeResult> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}
std::string topicQuery(const std::string& topic, const std::string& channel) {
  std::string qs = "topic=" + urlEncode(topic);
  if (!channel.empty()) qs += "&channel=" + urlEncode(channel);
  return qs;
}
}  // namespace

std::vector<NodeResult> ClusterInfo::topicAction(const std::string& topic, const std::string& channel,
                                                 const std::string& verb, QueryErrors& errs) const {
  auto producers = topicProducers(topic, errs);
  if (errs.fatal) return {};
  std::string what = channel.empty() ? "topic" : "channel";
  return post(httpAddrs(producers), "nsqd", "/" + what + "/" + verb + "?" + topicQuery(topic, channel), errs);
}

std::vector<NodeResult> ClusterInfo::createTopicChannel(const std::string& topic, const std::string& channel,
                                                        QueryErrors& errs) const {
  std::vector<NodeResult> results;
  if (c_.lookupd.empty()) {
    // Our addition: without lookupd, create on every given nsqd (the original does nothing).
    append(results, post(c_.nsqd, "nsqd", "/topic/create?" + topicQuery(topic, ""), errs));
    if (!channel.empty()) append(results, post(c_.nsqd, "nsqd", "/channel/create?" + topicQuery(topic, channel), errs));
    return results;
  }
  append(results, post(c_.lookupd, "nsqlookupd", "/topic/create?" + topicQuery(topic, ""), errs));
  if (channel.empty()) return results;
  append(results, post(c_.lookupd, "nsqlookupd", "/channel/create?" + topicQuery(topic, channel), errs));
  QueryErrors lookup;
  auto producers = topicProducers(topic, lookup);
  if (lookup.fatal) errs.partial.push_back(*lookup.fatal);
  errs.partial.insert(errs.partial.end(), lookup.partial.begin(), lookup.partial.end());
  append(results, post(httpAddrs(producers), "nsqd", "/channel/create?" + topicQuery(topic, channel), errs));
  return results;
}

std::vector<NodeResult> ClusterInfo::deleteTopic(const std::string& topic, QueryErrors& errs) const {
  auto producers = topicProducers(topic, errs);  // first: the lookupds forget them next
  if (errs.fatal) return {};
  std::vector<NodeResult> results = post(c_.lookupd, "nsqlookupd", "/topic/delete?" + topicQuery(topic, ""), errs);
  append(results, post(httpAddrs(producers), "nsqd", "/topic/delete?" + topicQuery(topic, ""), errs));
  return results;
}

std::vector<NodeResult> ClusterInfo::deleteChannel(const std::string& topic, const std::string& channel,
                                                   QueryErrors& errs) const {
  auto producers = topicProducers(topic, errs);
  if (errs.fatal) return {};
  std::vector<NodeResult> results =
      post(c_.lookupd, "nsqlookupd", "/channel/delete?" + topicQuery(topic, channel), errs);
  append(results, post(httpAddrs(producers), "nsqd", "/channel/delete?" + topicQuery(topic, channel), errs));
  return results;
}

std::vector<NodeResult> ClusterInfo::tombstoneNodeForTopic(const std::string& topic, const std::string& node,
                                                           QueryErrors& errs) const {
  std::vector<NodeResult> results =
      post(c_.lookupd, "nsqlookupd", "/topic/tombstone?" + topicQuery(topic, "") + "&node=" + urlEncode(node), errs);
  QueryErrors own;
  auto producers = nsqdProducers({node}, own);
  if (own.fatal) errs.partial.push_back(*own.fatal);
  append(results, post(httpAddrs(producers), "nsqd", "/topic/delete?" + topicQuery(topic, ""), errs));
  return results;
}

// ---- JSON writing ---------------------------------------------------------------------------

namespace {
void field(std::string& out, const char* key, const std::string& json) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += key;
  out += "\":";
  out += json;
}
void field(std::string& out, const char* key, int64_t v) { field(out, key, std::to_string(v)); }
void fieldStr(std::string& out, const char* key, const std::string& v) { field(out, key, jsonQuote(v)); }
void fieldBool(std::string& out, const char* key, bool v) { field(out, key, v ? "true" : "false"); }

std::string e2eJson(const E2eLatency& e) {
  std::string out = "{";
  field(out, "count", e.count);
  if (e.percentiles.empty()) {
    field(out, "percentiles", "null");
  } else {
    std::string list = "[";
    for (const auto& p : e.percentiles) {
      if (list.size() > 1) list += ',';
      // Go writes a map's keys sorted.
      list += "{\"average\":" + jsonNumber(p.average) + ",\"count\":" + jsonNumber(p.count) +
              ",\"max\":" + jsonNumber(p.max) + ",\"min\":" + jsonNumber(p.min) +
              ",\"quantile\":" + jsonNumber(p.quantile) + (e.perNode ? ",\"value\":" + jsonNumber(p.value) : "") +
              "}";
    }
    field(out, "percentiles", list + "]");
  }
  fieldStr(out, "topic", e.topic);
  fieldStr(out, "channel", e.channel);
  fieldStr(out, "host", e.host);
  return out + "}";
}

std::string clientJson(const ClientStats& c, int64_t nowSeconds) {
  std::string out = "{";
  fieldStr(out, "node", c.node);
  fieldStr(out, "remote_address", c.remoteAddress);
  fieldStr(out, "version", c.version);
  fieldStr(out, "client_id", c.clientId);
  fieldStr(out, "hostname", c.hostname);
  fieldStr(out, "user_agent", c.userAgent);
  field(out, "connect_ts", c.connectTs);
  field(out, "connected", (nowSeconds - c.connectTs) * 1000000000);
  field(out, "in_flight_count", c.inFlightCount);
  field(out, "ready_count", c.readyCount);
  field(out, "finish_count", c.finishCount);
  field(out, "requeue_count", c.requeueCount);
  field(out, "message_count", c.messageCount);
  field(out, "sample_rate", c.sampleRate);
  fieldBool(out, "deflate", c.deflate);
  fieldBool(out, "snappy", c.snappy);
  fieldBool(out, "authed", c.authed);
  fieldStr(out, "auth_identity", c.authIdentity);
  fieldStr(out, "auth_identity_url", c.authIdentityUrl);
  fieldBool(out, "tls", c.tls);
  fieldStr(out, "tls_cipher_suite", c.tlsCipherSuite);
  fieldStr(out, "tls_version", c.tlsVersion);
  fieldStr(out, "tls_negotiated_protocol", c.tlsNegotiatedProtocol);
  fieldBool(out, "tls_negotiated_protocol_is_mutual", c.tlsNegotiatedProtocolIsMutual);
  return out + "}";
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

template <class T, class F>
std::string listJson(const std::vector<T>& items, bool nullWhenEmpty, F write) {
  if (items.empty()) return nullWhenEmpty ? "null" : "[]";
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + write(item);
  return out + "]";
}
}  // namespace

std::string toJson(const ChannelStats& c) {
  const int64_t now = unixNow();
  std::string out = "{";
  fieldStr(out, "node", c.node);
  fieldStr(out, "hostname", c.hostname);
  fieldStr(out, "topic_name", c.topicName);
  fieldStr(out, "channel_name", c.channelName);
  field(out, "depth", c.depth);
  field(out, "memory_depth", c.memoryDepth);
  field(out, "backend_depth", c.backendDepth);
  field(out, "in_flight_count", c.inFlightCount);
  field(out, "deferred_count", c.deferredCount);
  field(out, "requeue_count", c.requeueCount);
  field(out, "timeout_count", c.timeoutCount);
  field(out, "message_count", c.messageCount);
  field(out, "client_count", c.clientCount);
  field(out, "nodes", listJson(c.nodes, c.node != "*", [](const ChannelStats& n) { return toJson(n); }));
  field(out, "clients", listJson(c.clients, true, [&](const ClientStats& cl) { return clientJson(cl, now); }));
  fieldBool(out, "paused", c.paused);
  field(out, "e2e_processing_latency", e2eJson(c.e2e));
  return out + "}";
}

std::string toJson(const TopicStats& t) {
  std::string out = "{";
  fieldStr(out, "node", t.node);
  fieldStr(out, "hostname", t.hostname);
  fieldStr(out, "topic_name", t.topicName);
  field(out, "depth", t.depth);
  field(out, "memory_depth", t.memoryDepth);
  field(out, "backend_depth", t.backendDepth);
  field(out, "message_count", t.messageCount);
  field(out, "nodes", listJson(t.nodes, t.node != "*", [](const TopicStats& n) { return toJson(n); }));
  field(out, "channels", listJson(t.channels, false, [](const ChannelStats& c) { return toJson(c); }));
  fieldBool(out, "paused", t.paused);
  field(out, "e2e_processing_latency", e2eJson(t.e2e));
  return out + "}";
}

std::string toJson(const Producer& p) {
  std::string out = "{";
  field(out, "remote_addresses", p.remoteAddresses.empty() ? "null" : jsonStringArray(p.remoteAddresses));
  fieldStr(out, "remote_address", p.remoteAddress);
  fieldStr(out, "hostname", p.hostname);
  fieldStr(out, "broadcast_address", p.broadcastAddress);
  field(out, "tcp_port", p.tcpPort);
  field(out, "http_port", p.httpPort);
  fieldStr(out, "version", p.version);
  field(out, "topics", listJson(p.topics, true, [](const ProducerTopic& t) {
          return "{\"topic\":" + jsonQuote(t.topic) + ",\"tombstoned\":" + (t.tombstoned ? "true" : "false") + "}";
        }));
  fieldBool(out, "out_of_date", p.outOfDate);
  return out + "}";
}

std::string toJson(const std::vector<NodeResult>& results) {
  return listJson(results, false, [](const NodeResult& r) {
    return "{\"node\":" + jsonQuote(r.node) + ",\"kind\":" + jsonQuote(r.kind) + ",\"ok\":" +
           (r.error.empty() ? "true" : "false") + ",\"error\":" + jsonQuote(r.error) + "}";
  });
}

}  // namespace nsq::admin

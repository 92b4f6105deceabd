// nsq_stat table text. ingress = new messages per second; egress = messages that left the
// channel's queue per second (new minus depth growth); mem = depth - backend_depth.
#include "nsq_stat/stat_table.h"

#include <cstdio>
#include <ctime>

#include "nsq/base/json_text.h"

#include "nsq/base/number.h"

namespace nsq {

void ChannelCounts::add(const ChannelCounts& o) {
  depth += o.depth;
  backendDepth += o.backendDepth;
  inFlight += o.inFlight;
  deferred += o.deferred;
  requeued += o.requeued;
  timedOut += o.timedOut;
  messages += o.messages;
  clients += o.clients;
}

ChannelCounts channelCountsFromJson(const Poco::JSON::Object& c) {
  auto get = [&](const char* k) {
    ParsedInt v = c.has(k) && !c.isNull(k) ? jsonInt(c.get(k)) : ParsedInt{};
    return v ? *v : int64_t{0};  // a counter nsqd cannot have sent reads as 0
  };
  ChannelCounts r;
  r.depth = get("depth");
  r.backendDepth = get("backend_depth");
  r.inFlight = get("in_flight_count");
  r.deferred = get("deferred_count");
  r.requeued = get("requeue_count");
  r.timedOut = get("timeout_count");
  r.messages = get("message_count");
  r.clients = get("client_count");
  return r;
}

std::string statHeader() {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s+%s+%s\n%7s %7s | %7s %7s %7s %5s %5s | %7s %7s %12s %7s\n",
                "------rate------", "----------------depth----------------",
                "--------------metadata---------------", "ingress", "egress", "total", "mem", "disk", "inflt",
                "def", "req", "t-o", "msgs", "clients");
  return buf;
}

namespace {
struct Rates {
  int64_t ingress, egress;
};
Rates rates(const ChannelCounts& o, const ChannelCounts& c, double secs) {
  return {static_cast<int64_t>(static_cast<double>(c.messages - o.messages) / secs),
          static_cast<int64_t>(static_cast<double>(c.messages - o.messages - (c.depth - o.depth)) / secs)};
}
constexpr int kTimeWidth = 20;  // "2026-12-06T05:40:00Z"
}  // namespace

std::string rfc3339(std::chrono::system_clock::time_point at, bool millis) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(at.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (millis) std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  else std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

std::string statHeader(bool timeColumn) {
  std::string h = statHeader();
  if (!timeColumn) return h;
  std::size_t nl = h.find('\n');
  char second[32];
  std::snprintf(second, sizeof second, "%-*s ", kTimeWidth, "time");
  return std::string(kTimeWidth + 1, ' ') + h.substr(0, nl + 1) + second + h.substr(nl + 1);
}

std::string statRow(const ChannelCounts& prev, const ChannelCounts& cur, double secs,
                    std::chrono::system_clock::time_point at) {
  return rfc3339(at, false) + " " + statRow(prev, cur, secs);
}

std::string statJson(const ChannelCounts& o, const ChannelCounts& c, double secs, std::chrono::system_clock::time_point at,
                     const std::string& topic, const std::string& channel) {
  Rates r = rates(o, c, secs);
  std::string out = "{\"timestamp\":" + jsonQuote(rfc3339(at, true)) + ",\"topic\":" + jsonQuote(topic) +
                    ",\"channel\":" + jsonQuote(channel);
  auto field = [&out](const char* name, int64_t v) {
    out += ",\"";
    out += name;
    out += "\":";
    out += std::to_string(v);
  };
  field("ingress", r.ingress);
  field("egress", r.egress);
  field("depth", c.depth);
  field("memory_depth", c.depth - c.backendDepth);
  field("backend_depth", c.backendDepth);
  field("in_flight_count", c.inFlight);
  field("deferred_count", c.deferred);
  field("requeue_count", c.requeued);
  field("timeout_count", c.timedOut);
  field("message_count", c.messages);
  field("client_count", c.clients);
  return out + "}\n";
}

std::string statRow(const ChannelCounts& o, const ChannelCounts& c, double secs) {
  auto [ingress, egress] = rates(o, c, secs);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%7lld %7lld | %7lld %7lld %7lld %5lld %5lld | %7lld %7lld %12lld %7lld\n",
                static_cast<long long>(ingress), static_cast<long long>(egress), static_cast<long long>(c.depth),
                static_cast<long long>(c.depth - c.backendDepth), static_cast<long long>(c.backendDepth),
                static_cast<long long>(c.inFlight), static_cast<long long>(c.deferred),
                static_cast<long long>(c.requeued), static_cast<long long>(c.timedOut),
                static_cast<long long>(c.messages), static_cast<long long>(c.clients));
  return buf;
}

}  // namespace nsq

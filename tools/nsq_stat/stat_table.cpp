// nsq_stat table text. ingress = new messages per second; egress = messages that left the
// channel's queue per second (new minus depth growth); mem = depth - backend_depth.
#include "nsq_stat/stat_table.h"

#include <cstdio>

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

std::string statRow(const ChannelCounts& o, const ChannelCounts& c, double secs) {
  auto ingress = static_cast<int64_t>(static_cast<double>(c.messages - o.messages) / secs);
  auto egress = static_cast<int64_t>(static_cast<double>(c.messages - o.messages - (c.depth - o.depth)) / secs);
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

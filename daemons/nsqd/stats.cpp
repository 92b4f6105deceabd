// Stats: collects topic, channel and client figures and renders /stats. JSON is written by hand
// so keys come out in upstream's order (tools diff it against Go nsqd output) and nothing is
// escaped that Go would not escape. e2e_processing_latency is {"count":0,"percentiles":null}
// where upstream has no quantile stream (flag off, or a topic without channels).
#include "nsqd/stats.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

#include "nsq/base/duration.h"
#include "nsq/version.h"
#include "nsqd/nsqd.h"

namespace nsq::nsqd {

namespace {

// {"count":n,"percentiles":[{"quantile":q,"value":ns},...]}; Go writes each entry as a map, so
// its keys come sorted.
std::string e2eJson(const std::optional<LatencyPercentiles>& e2e) {
  if (!e2e) return "{\"count\":0,\"percentiles\":null}";
  std::string out = "{\"count\":" + std::to_string(e2e->count) + ",\"percentiles\":[";
  for (std::size_t i = 0; i < e2e->values.size(); ++i) {
    if (i) out += ',';
    out += "{\"quantile\":" + jsonNumber(e2e->values[i].first) + ",\"value\":" + jsonNumber(e2e->values[i].second) + "}";
  }
  return out + "]}";
}

void appendField(std::string& out, const char* key, std::string_view raw, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
  out += raw;
}
void appendNum(std::string& out, const char* key, int64_t v) { appendField(out, key, std::to_string(v)); }
void appendUnsigned(std::string& out, const char* key, uint64_t v) {
  appendField(out, key, std::to_string(v));
}
void appendBool(std::string& out, const char* key, bool v) { appendField(out, key, v ? "true" : "false"); }
void appendStr(std::string& out, const char* key, std::string_view v) { appendField(out, key, jsonQuote(v)); }

std::string memoryJson(const MemoryStats& m) {
  std::string out = "{";
  for (const auto& row : memoryRows(m)) {
    if (out.size() > 1) out += ',';
    out += jsonQuote(row.name) + ":" + std::to_string(row.value);
  }
  return out + "}";
}

// withPolicy: the topic has a policy; only then do the policy counters appear (a topic without
// one keeps upstream's exact keys).
std::string channelJson(const ChannelSnapshot& c, bool includeClients, bool withPolicy) {
  const ChannelStats& s = c.stats;
  std::string out = "{";
  appendField(out, "channel_name", jsonQuote(s.name), true);
  appendNum(out, "depth", s.depth);
  appendNum(out, "backend_depth", s.backendDepth);
  appendNum(out, "in_flight_count", s.inFlightCount);
  appendNum(out, "deferred_count", s.deferredCount);
  appendUnsigned(out, "message_count", s.messageCount);
  appendUnsigned(out, "requeue_count", s.requeueCount);
  appendUnsigned(out, "timeout_count", s.timeoutCount);
  if (withPolicy) {
    appendUnsigned(out, "dead_letter_count", s.deadLetterCount);
    appendUnsigned(out, "expired_count", s.expiredCount);
    appendUnsigned(out, "dropped_count", s.droppedCount);
  }
  appendUnsigned(out, "client_count", c.clientCount);
  if (includeClients) {
    std::string clients = "[";
    for (std::size_t i = 0; i < c.clients.size(); ++i) {
      if (i) clients += ',';
      clients += clientStatsJson(c.clients[i]);
    }
    appendField(out, "clients", clients + "]");
  } else {
    appendField(out, "clients", "null");
  }
  appendBool(out, "paused", s.paused);
  appendField(out, "e2e_processing_latency", e2eJson(s.e2e));
  return out + "}";
}

std::string topicJson(const TopicSnapshot& t, bool includeClients) {
  const TopicStats& s = t.stats;
  std::string out = "{";
  appendField(out, "topic_name", jsonQuote(s.name), true);
  std::string channels = "[";
  for (std::size_t i = 0; i < t.channels.size(); ++i) {
    if (i) channels += ',';
    channels += channelJson(t.channels[i], includeClients, s.policy != nullptr);
  }
  appendField(out, "channels", channels + "]");
  appendNum(out, "depth", s.depth);
  appendNum(out, "backend_depth", s.backendDepth);
  appendUnsigned(out, "message_count", s.messageCount);
  appendUnsigned(out, "message_bytes", s.messageBytes);
  appendBool(out, "paused", s.paused);
  appendField(out, "e2e_processing_latency", e2eJson(s.e2e));
  if (s.policy) {
    appendUnsigned(out, "dropped_count", s.droppedCount);
    appendField(out, "policy", s.policy->json());
  }
  return out + "}";
}

// printf into a std::string (the text page mirrors upstream's column widths).
template <typename... Args>
void appendf(std::string& out, const char* fmt, Args... args) {
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

// The text page's "e2e%:" column: each value as upstream's NanoSecondToHuman, ", " between.
std::string e2eText(const std::optional<LatencyPercentiles>& e2e) {
  std::string out;
  if (!e2e) return out;
  for (const auto& [q, ns] : e2e->values) {
    static constexpr std::pair<double, const char*> kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
    double scale = 1;
    const char* unit = "ns";
    for (const auto& [size, name] : kUnits)
      if (ns > size) {
        scale = size;
        unit = name;
        break;
      }
    if (!out.empty()) out += ", ";
    appendf(out, "%0.1f%s", ns / scale, unit);
  }
  return out;
}

std::string rfc3339(int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s = buf;
  // %z gives +0100; RFC 3339 wants +01:00 (or Z for UTC).
  if (s.size() >= 5) {
    std::string zone = s.substr(s.size() - 5);
    s.resize(s.size() - 5);
    s += zone == "+0000" ? "Z" : zone.substr(0, 3) + ":" + zone.substr(3);
  }
  return s;
}

std::string clientText(const ClientStats& c, int64_t nowUnixNs) {
  int64_t ageS = std::max<int64_t>(0, nowUnixNs / 1'000'000'000 - c.connectTs);
  std::string connected = formatDuration(std::chrono::seconds(ageS));
  auto colon = c.remoteAddress.rfind(':');
  std::string port = colon == std::string::npos ? "" : c.remoteAddress.substr(colon + 1);
  std::string id = c.hostname + ":" + port + " " + c.userAgent;
  std::string out;
  if (!c.pubCounts.empty()) {
    uint64_t total = 0;
    std::string topics;
    for (const auto& [topic, count] : c.pubCounts) {
      total += count;
      if (!topics.empty()) topics += ',';
      topics += topic + "=" + std::to_string(count);
    }
    appendf(out, "[V2 %-21s] msgs: %-8llu topics: %s connected: %s", id.c_str(),
            static_cast<unsigned long long>(total), topics.c_str(), connected.c_str());
    return out;
  }
  appendf(out, "[V2 %-21s] state: %d inflt: %-4lld rdy: %-4lld fin: %-8llu re-q: %-8llu msgs: %-8llu connected: %s",
          id.c_str(), c.state, static_cast<long long>(c.inFlightCount),
          static_cast<long long>(c.readyCount), static_cast<unsigned long long>(c.finishCount),
          static_cast<unsigned long long>(c.requeueCount),
          static_cast<unsigned long long>(c.messageCount), connected.c_str());
  return out;
}

}  // namespace

std::array<MemoryRow, 9> memoryRows(const MemoryStats& m) {
  return {{{"heap_objects", m.heapObjects},
           {"heap_idle_bytes", m.heapIdleBytes},
           {"heap_in_use_bytes", m.heapInUseBytes},
           {"heap_released_bytes", m.heapReleasedBytes},
           {"gc_pause_usec_100", m.gcPauseUsec100},
           {"gc_pause_usec_99", m.gcPauseUsec99},
           {"gc_pause_usec_95", m.gcPauseUsec95},
           {"next_gc_bytes", m.nextGcBytes},
           {"gc_total_runs", m.gcTotalRuns}}};
}

MemoryStats readMemoryStats() {
  MemoryStats m;
  struct mallinfo2 mi = ::mallinfo2();
  m.heapInUseBytes = mi.uordblks + mi.hblkhd;
  m.heapIdleBytes = mi.fordblks;
  m.heapObjects = 0;  // glibc does not count live allocations
  return m;
}

StatsSnapshot collectStats(const Nsqd& nsqd, const StatsFilter& filter) {
  StatsSnapshot out;
  out.health = nsqd.health();
  out.startTime = nsqd.startTime();
  out.includeClients = filter.includeClients;
  std::vector<std::shared_ptr<Topic>> topics;
  if (filter.topic.empty()) {
    topics = nsqd.topics();
  } else if (auto t = nsqd.findTopic(filter.topic)) {
    topics.push_back(std::move(t));
  }
  for (const auto& topic : topics) {
    TopicSnapshot ts;
    ts.stats = topic->stats(filter.channel, /*withClients=*/true);
    if (!filter.channel.empty() && ts.stats.channels.empty()) continue;
    std::vector<ChannelStats> channels = std::move(ts.stats.channels);
    ts.stats.channels.clear();
    std::sort(channels.begin(), channels.end(),
              [](const ChannelStats& a, const ChannelStats& b) { return a.name < b.name; });
    for (auto& cs : channels) {
      ChannelSnapshot snap;
      snap.clientCount = cs.clients.size();
      if (filter.includeClients) {
        for (const auto& client : cs.clients) {
          ClientStats c = client->stats();
          if (!filter.topic.empty())
            std::erase_if(c.pubCounts, [&](const auto& pc) { return pc.first != filter.topic; });
          snap.clients.push_back(std::move(c));
        }
      }
      cs.clients.clear();
      snap.stats = std::move(cs);
      ts.channels.push_back(std::move(snap));
    }
    out.topics.push_back(std::move(ts));
  }
  // As upstream: a topic filter that matches nothing lists no producers either.
  bool topicMissing = !filter.topic.empty() && out.topics.empty();
  if (filter.includeClients && !topicMissing) {
    for (ClientStats& c : nsqd.clientStats()) {
      if (c.pubCounts.empty()) continue;
      if (!filter.topic.empty())
        std::erase_if(c.pubCounts, [&](const auto& pc) { return pc.first != filter.topic; });
      out.producers.push_back(std::move(c));
    }
  }
  if (filter.includeMem) out.memory = readMemoryStats();
  return out;
}

std::string clientStatsJson(const ClientStats& c) {
  std::string out = "{";
  appendField(out, "client_id", jsonQuote(c.clientId), true);
  appendStr(out, "hostname", c.hostname);
  appendStr(out, "version", "V2");
  appendStr(out, "remote_address", c.remoteAddress);
  appendNum(out, "state", c.state);
  appendNum(out, "ready_count", c.readyCount);
  appendNum(out, "in_flight_count", c.inFlightCount);
  appendUnsigned(out, "message_count", c.messageCount);
  appendUnsigned(out, "finish_count", c.finishCount);
  appendUnsigned(out, "requeue_count", c.requeueCount);
  appendNum(out, "connect_ts", c.connectTs);
  appendNum(out, "sample_rate", c.sampleRate);
  appendBool(out, "deflate", c.deflate);
  appendBool(out, "snappy", c.snappy);
  appendStr(out, "user_agent", c.userAgent);
  if (c.authed) appendBool(out, "authed", true);  // the three are omitted when empty, as upstream
  if (!c.authIdentity.empty()) appendStr(out, "auth_identity", c.authIdentity);
  if (!c.authIdentityUrl.empty()) appendStr(out, "auth_identity_url", c.authIdentityUrl);
  appendStr(out, "topology_zone", "");
  appendStr(out, "topology_region", "");
  if (!c.pubCounts.empty()) {
    std::string counts = "[";
    for (std::size_t i = 0; i < c.pubCounts.size(); ++i) {
      if (i) counts += ',';
      counts += "{\"topic\":" + jsonQuote(c.pubCounts[i].first) +
                ",\"count\":" + std::to_string(c.pubCounts[i].second) + "}";
    }
    appendField(out, "pub_counts", counts + "]");
  }
  appendBool(out, "tls", c.tls);
  appendStr(out, "tls_cipher_suite", c.tlsCipherSuite);
  appendStr(out, "tls_version", c.tlsVersion);
  appendStr(out, "tls_negotiated_protocol", "");  // no ALPN offered, as the original
  // Go reports true for every TLS connection (the field is deprecated there).
  appendBool(out, "tls_negotiated_protocol_is_mutual", c.tls);
  return out + "}";
}

std::string statsJson(const StatsSnapshot& s) {
  std::string out = "{";
  appendField(out, "version", jsonQuote(NSQ_VERSION), true);
  appendStr(out, "health", s.health);
  appendNum(out, "start_time", s.startTime);
  std::string topics = "[";
  for (std::size_t i = 0; i < s.topics.size(); ++i) {
    if (i) topics += ',';
    topics += topicJson(s.topics[i], s.includeClients);
  }
  appendField(out, "topics", topics + "]");
  if (s.memory) appendField(out, "memory", memoryJson(*s.memory));
  if (s.includeClients) {
    std::string producers = "[";
    for (std::size_t i = 0; i < s.producers.size(); ++i) {
      if (i) producers += ',';
      producers += clientStatsJson(s.producers[i]);
    }
    appendField(out, "producers", producers + "]");
  } else {
    appendField(out, "producers", "null");
  }
  return out + "}";
}

std::string statsText(const StatsSnapshot& s, int64_t nowUnixNs) {
  std::string out = "nsqd v" NSQ_VERSION " (C++)\n";
  out += "start_time " + rfc3339(s.startTime) + "\n";
  out += "uptime " + formatDuration(std::chrono::nanoseconds(nowUnixNs - s.startTime * 1'000'000'000)) + "\n";
  out += "\nHealth: " + s.health + "\n";
  if (s.memory) {
    out += "\nMemory:\n";
    for (const auto& row : memoryRows(*s.memory))
      appendf(out, "   %-25s\t%llu\n", std::string(row.name).c_str(), static_cast<unsigned long long>(row.value));
  }
  out += s.topics.empty() ? "\nTopics: None\n" : "\nTopics:";
  for (const auto& t : s.topics) {
    appendf(out, "\n%s[%-15s] depth: %-5lld be-depth: %-5lld msgs: %-8llu e2e%%: %s\n",
            t.stats.paused ? "*P " : "   ", t.stats.name.c_str(),
            static_cast<long long>(t.stats.depth), static_cast<long long>(t.stats.backendDepth),
            static_cast<unsigned long long>(t.stats.messageCount), e2eText(t.stats.e2e).c_str());
    if (const auto& p = t.stats.policy)
      appendf(out, "    policy: max_attempts: %lld dead_letter_topic: %s message_ttl: %s max_depth: %lld overflow: %s dropped: %llu\n",
              static_cast<long long>(p->maxAttempts), p->maxAttempts > 0 ? p->deadLetterTopic.c_str() : "-",
              formatDuration(p->messageTtl).c_str(), static_cast<long long>(p->maxDepth), overflowName(p->overflow),
              static_cast<unsigned long long>(t.stats.droppedCount));
    for (const auto& c : t.channels) {
      const ChannelStats& cs = c.stats;
      appendf(out,
              "%s[%-25s] depth: %-5lld be-depth: %-5lld inflt: %-4lld def: %-4lld re-q: %-5llu "
              "timeout: %-5llu msgs: %-8llu e2e%%: %s\n",
              cs.paused ? "   *P " : "      ", cs.name.c_str(), static_cast<long long>(cs.depth),
              static_cast<long long>(cs.backendDepth), static_cast<long long>(cs.inFlightCount),
              static_cast<long long>(cs.deferredCount),
              static_cast<unsigned long long>(cs.requeueCount),
              static_cast<unsigned long long>(cs.timeoutCount),
              static_cast<unsigned long long>(cs.messageCount), e2eText(cs.e2e).c_str());
      if (t.stats.policy)
        appendf(out, "          dead-lettered: %-5llu expired: %-5llu dropped: %-5llu\n",
                static_cast<unsigned long long>(cs.deadLetterCount), static_cast<unsigned long long>(cs.expiredCount),
                static_cast<unsigned long long>(cs.droppedCount));
      for (const auto& client : c.clients) out += "        " + clientText(client, nowUnixNs) + "\n";
    }
  }
  if (s.producers.empty()) {
    out += "\nProducers: None\n";
  } else {
    out += "\nProducers:\n";
    for (const auto& p : s.producers) out += "   " + clientText(p, nowUnixNs) + "\n";
  }
  return out;
}

}  // namespace nsq::nsqd

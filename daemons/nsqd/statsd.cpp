// StatsdPusher: one thread that, every --statsd-interval, takes a collectStats() snapshot,
// turns it into statsd lines (counters as deltas against the previous snapshot, gauges as is),
// packs them into UDP packets and sends them paced over interval - 1s, as the original spreads
// its writes so a busy nsqd does not burst one statsd with thousands of packets at once.
// The socket is resolved and opened per push, so a statsd that moves or starts late is found.
#include "nsqd/statsd.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsqd/nsqd.h"

namespace nsq::nsqd {

namespace {

bool isEphemeral(const std::string& name) { return name.ends_with("#ephemeral"); }

void addLine(std::vector<std::string>& out, const std::string& prefix, const std::string& stat,
             int64_t value, const char* type) {
  out.push_back(prefix + stat + ":" + std::to_string(value) + "|" + type + "\n");
}

// uint64 counters subtracted as the original does: a counter that went back (topic deleted
// and recreated) gives a negative delta.
int64_t delta(uint64_t now, uint64_t last) { return static_cast<int64_t>(now - last); }

// A connected UDP socket to address, or -1 with *error set.
int dialUdp(const std::string& address, std::string* error) {
  ParsedHostPort hp = parseHostPort(address);  // "[::1]:8125" too
  if (!hp) {
    *error = "invalid address (want host:port)";
    return -1;
  }
  const std::string& host = hp->host;
  const std::string port = std::to_string(hp->port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res) {
    *error = ::gai_strerror(rc);
    return -1;
  }
  int fd = ::socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    *error = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

// Gauges "<base>.e2e_processing_latency_<P>" with P = quantile x 100 rounded (0.999 -> 100), as
// upstream's %.0f; values in ns, truncated to integers.
void addE2eLines(std::vector<std::string>& out, const std::string& prefix, const std::string& base,
                 const std::optional<LatencyPercentiles>& e2e) {
  if (!e2e) return;
  for (const auto& [q, ns] : e2e->values) {
    char p[32];
    std::snprintf(p, sizeof p, "%.0f", q * 100.0);
    addLine(out, prefix, base + ".e2e_processing_latency_" + p, static_cast<int64_t>(ns), "g");
  }
}

}  // namespace

std::string statsdPrefix(const std::string& prefixTemplate, const std::string& broadcastAddress,
                         int httpPort) {
  if (prefixTemplate.empty()) return "";
  std::string key = joinHostPort(broadcastAddress, httpPort);
  for (char& c : key)
    if (c == '.' || c == ':') c = '_';
  std::string out;
  for (std::size_t i = 0; i < prefixTemplate.size(); ++i) {
    if (prefixTemplate.compare(i, 2, "%s") == 0) {
      out += key;
      ++i;
    } else {
      out += prefixTemplate[i];
    }
  }
  if (out.back() != '.') out += '.';
  return out;
}

std::vector<std::string> statsdLines(const std::vector<TopicSnapshot>& topics,
                                     const std::optional<MemoryStats>& memory,
                                     const std::string& prefix, bool excludeEphemeral,
                                     StatsdState& state) {
  std::vector<std::string> out;
  static const TopicSnapshot kNoTopic;
  static const ChannelSnapshot kNoChannel;
  for (const auto& topic : topics) {
    const TopicStats& t = topic.stats;
    if (excludeEphemeral && isEphemeral(t.name)) continue;
    const TopicSnapshot* last = &kNoTopic;
    for (const auto& candidate : state.lastTopics)
      if (candidate.stats.name == t.name) last = &candidate;
    const std::string base = "topic." + t.name;
    addLine(out, prefix, base + ".message_count", delta(t.messageCount, last->stats.messageCount), "c");
    addLine(out, prefix, base + ".message_bytes", delta(t.messageBytes, last->stats.messageBytes), "c");
    addLine(out, prefix, base + ".depth", t.depth, "g");
    addLine(out, prefix, base + ".backend_depth", t.backendDepth, "g");
    if (t.policy) addLine(out, prefix, base + ".dropped_count", delta(t.droppedCount, last->stats.droppedCount), "c");
    addE2eLines(out, prefix, base, t.e2e);
    for (const auto& channel : topic.channels) {
      const ChannelStats& c = channel.stats;
      if (excludeEphemeral && isEphemeral(c.name)) continue;
      const ChannelSnapshot* lastChannel = &kNoChannel;
      for (const auto& candidate : last->channels)
        if (candidate.stats.name == c.name) lastChannel = &candidate;
      const ChannelStats& lc = lastChannel->stats;
      const std::string cbase = base + ".channel." + c.name;
      addLine(out, prefix, cbase + ".message_count", delta(c.messageCount, lc.messageCount), "c");
      addLine(out, prefix, cbase + ".depth", c.depth, "g");
      addLine(out, prefix, cbase + ".backend_depth", c.backendDepth, "g");
      addLine(out, prefix, cbase + ".in_flight_count", c.inFlightCount, "g");
      addLine(out, prefix, cbase + ".deferred_count", c.deferredCount, "g");
      addLine(out, prefix, cbase + ".requeue_count", delta(c.requeueCount, lc.requeueCount), "c");
      addLine(out, prefix, cbase + ".timeout_count", delta(c.timeoutCount, lc.timeoutCount), "c");
      if (t.policy) {  // policy counters only where a policy applies (policy.h)
        addLine(out, prefix, cbase + ".dead_letter_count", delta(c.deadLetterCount, lc.deadLetterCount), "c");
        addLine(out, prefix, cbase + ".expired_count", delta(c.expiredCount, lc.expiredCount), "c");
        addLine(out, prefix, cbase + ".dropped_count", delta(c.droppedCount, lc.droppedCount), "c");
      }
      addLine(out, prefix, cbase + ".clients", static_cast<int64_t>(channel.clientCount), "g");
      addE2eLines(out, prefix, cbase, c.e2e);
    }
  }
  // Every topic is remembered, excluded ones too: harmless, and the flag can't change at run time.
  state.lastTopics = topics;
  if (memory) {
    // Gauges, but for the run count: upstream sends its change as the counter mem.gc_runs.
    for (const auto& row : memoryRows(*memory)) {
      if (row.name == "gc_total_runs") continue;
      addLine(out, prefix, "mem." + std::string(row.name), static_cast<int64_t>(row.value), "g");
    }
    addLine(out, prefix, "mem.gc_runs", static_cast<int64_t>(memory->gcTotalRuns) - state.lastGcRuns, "c");
    state.lastGcRuns = memory->gcTotalRuns;
  }
  return out;
}

std::vector<std::string> statsdPackets(const std::vector<std::string>& lines, std::size_t packetSize) {
  std::vector<std::string> packets;
  std::string current;
  for (const auto& line : lines) {
    if (!current.empty() && current.size() + line.size() > packetSize) {
      packets.push_back(std::move(current));
      current.clear();
    }
    current += line;
    if (current.size() >= packetSize) {  // full, or one oversized line on its own
      packets.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) packets.push_back(std::move(current));
  return packets;
}

StatsdPusher::StatsdPusher(Nsqd& nsqd) : nsqd_(nsqd) {}

StatsdPusher::~StatsdPusher() { stop(); }

void StatsdPusher::start() {
  const NsqdOptions& o = nsqd_.options();
  int httpPort = o.broadcastHttpPort > 0 ? static_cast<int>(o.broadcastHttpPort) : nsqd_.httpPort();
  prefix_ = statsdPrefix(o.statsdPrefix, o.broadcastAddress, httpPort);
  thread_ = std::thread([this] { loop(); });
}

void StatsdPusher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool StatsdPusher::sleepFor(std::chrono::nanoseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void StatsdPusher::loop() {
  StatsdState state;
  const auto interval = nsqd_.options().statsdInterval;
  auto next = std::chrono::steady_clock::now() + interval;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    }
    next += interval;
    if (next < std::chrono::steady_clock::now()) next = std::chrono::steady_clock::now() + interval;
    push(state);
  }
  logInfo("STATSD: closing");
}

void StatsdPusher::push(StatsdState& state) {
  const NsqdOptions& o = nsqd_.options();
  std::string error;
  int fd = dialUdp(o.statsdAddress, &error);
  if (fd < 0) {
    logError("STATSD: failed to create UDP socket to statsd(", o.statsdAddress, ") - ", error);
    return;
  }
  logInfo("STATSD: pushing stats to ", o.statsdAddress);
  StatsFilter filter;
  filter.includeClients = false;
  filter.includeMem = false;
  StatsSnapshot snapshot = collectStats(nsqd_, filter);
  std::optional<MemoryStats> memory;
  if (o.statsdMemStats) memory = readMemoryStats();
  auto lines = statsdLines(snapshot.topics, memory, prefix_, o.statsdExcludeEphemeral, state);
  auto packets = statsdPackets(lines, static_cast<std::size_t>(std::max<int64_t>(o.statsdUdpPacketSize, 1)));
  // Spread over interval - 1s (none for intervals of 1s or less); stop() ends the pacing.
  auto spread = o.statsdInterval - std::chrono::seconds(1);
  auto gap = spread.count() > 0 && !packets.empty() ? spread / static_cast<int64_t>(packets.size())
                                                    : std::chrono::nanoseconds(0);
  bool pacing = true;
  for (const auto& packet : packets) {
    if (::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) < 0)
      logError("STATSD: send to ", o.statsdAddress, " failed - ", std::strerror(errno));
    if (pacing && gap.count() > 0) pacing = sleepFor(gap);
  }
  ::close(fd);
}

}  // namespace nsq::nsqd

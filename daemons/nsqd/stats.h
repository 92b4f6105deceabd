#pragma once
#include "nsq/base/json_text.h"
// Stats: one snapshot of nsqd's topics, channels, clients and process memory, and its two
// renderings for GET /stats (NSQ-COMPAT §2.4): JSON in upstream's key order, and the
// human-readable text page. statsd and other exporters can reuse collectStats().
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsqd/channel.h"
#include "nsqd/consumer.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

class Nsqd;

// Go runtime.MemStats equivalents. Heap figures come from glibc's mallinfo2(); the GC fields
// have no C++ counterpart and stay 0.
struct MemoryStats {
  uint64_t heapObjects = 0;
  uint64_t heapIdleBytes = 0;
  uint64_t heapInUseBytes = 0;
  uint64_t heapReleasedBytes = 0;
  uint64_t gcPauseUsec100 = 0;
  uint64_t gcPauseUsec99 = 0;
  uint64_t gcPauseUsec95 = 0;
  uint64_t nextGcBytes = 0;
  uint32_t gcTotalRuns = 0;
};
MemoryStats readMemoryStats();

// One memory figure under its upstream name ("heap_objects"). memoryRows() lists all of them
// in upstream's order; /stats (JSON and text), statsd and /metrics all render from it.
struct MemoryRow {
  std::string_view name;
  uint64_t value = 0;
};
std::array<MemoryRow, 9> memoryRows(const MemoryStats& m);

struct ChannelSnapshot {
  ChannelStats stats;  // stats.clients is left empty; see clients below
  std::size_t clientCount = 0;
  std::vector<ClientStats> clients;
};

struct TopicSnapshot {
  TopicStats stats;  // stats.channels is left empty; see channels below
  std::vector<ChannelSnapshot> channels;  // sorted by name
};

struct StatsFilter {
  std::string topic;    // "" = all topics
  std::string channel;  // "" = all channels; topics without this channel are skipped
  bool includeClients = true;
  bool includeMem = true;
};

struct StatsSnapshot {
  std::string health;  // "OK" or "NOK - <error>"
  int64_t startTime = 0;  // unix seconds
  std::vector<TopicSnapshot> topics;  // sorted by name
  bool includeClients = true;
  // Connections that ever published; each one's pub counts are limited to the topic filter.
  std::vector<ClientStats> producers;
  std::optional<MemoryStats> memory;
};

// Takes the snapshot; locks one topic or channel at a time. Any thread.
StatsSnapshot collectStats(const Nsqd& nsqd, const StatsFilter& filter);

// {"version","health","start_time","topics","memory","producers"} (memory only when present;
// client arrays null when clients are excluded).
std::string statsJson(const StatsSnapshot& stats);
// The text page; nowUnixNs gives uptime and connection ages.
std::string statsText(const StatsSnapshot& stats, int64_t nowUnixNs);
std::string clientStatsJson(const ClientStats& client);

// A JSON string literal (quotes included) with control characters escaped.
using nsq::jsonQuote;  // lib/nsq/json_text.h

}  // namespace nsq::nsqd

// Metrics: one collectStats() snapshot rendered as Prometheus families. Families are declared
// up front in a fixed order so the output is stable from scrape to scrape; MetricsText groups
// the samples of each family while topics and channels are walked once.
#include "nsqd/metrics.h"

#include <cmath>

#include "nsq/http/prometheus.h"
#include "nsq/version.h"
#include "nsqd/nsqd.h"

namespace nsq::nsqd {

namespace {
// Seconds, as Prometheus wants; with nothing observed the quantiles are NaN (client_golang's
// convention), not the 0 /stats shows.
void addLatency(MetricsText& m, std::string_view family, const MetricLabels& labels,
                const std::optional<LatencyPercentiles>& e2e) {
  if (!e2e) return;
  std::vector<std::pair<double, double>> quantiles;
  for (const auto& [q, ns] : e2e->values)
    quantiles.emplace_back(q, e2e->count == 0 ? std::nan("") : ns / 1e9);
  m.summary(family, labels, quantiles, e2e->sumNs / 1e9, e2e->count);
}
}  // namespace

// The memory rows (stats.h) /metrics exports as nsq_<row>, in its order, with their help.
constexpr std::pair<std::string_view, std::string_view> kMemoryFamilies[] = {
    {"heap_objects", "Allocated heap chunks (malloc statistics)."},
    {"heap_in_use_bytes", "Heap bytes in use (malloc statistics)."},
    {"heap_idle_bytes", "Heap bytes free but not returned to the OS (malloc statistics)."},
};

std::string metricsText(const StatsSnapshot& stats, std::size_t clientCount) {
  using T = MetricsText::Type;
  MetricsText m;
  m.family("nsq_build_info", T::Gauge, "nsqd version, as a label; always 1.");
  m.family("nsq_healthy", T::Gauge, "1 when nsqd is healthy (GET /ping says OK), 0 after a failed disk write.");
  m.family("nsq_clients", T::Gauge, "Open TCP client connections.");
  m.family("nsq_topics", T::Gauge, "Number of topics.");
  m.family("nsq_topic_depth", T::Gauge, "Messages queued on the topic (memory plus disk), not yet copied to its channels.");
  m.family("nsq_topic_backend_depth", T::Gauge, "Messages queued in the topic's disk queue.");
  m.family("nsq_topic_messages_total", T::Counter, "Messages published to the topic.");
  m.family("nsq_topic_message_bytes_total", T::Counter, "Bytes of message bodies published to the topic.");
  m.family("nsq_topic_paused", T::Gauge, "1 when the topic is paused.");
  m.family("nsq_topic_channels", T::Gauge, "Number of channels on the topic.");
  m.family("nsq_channel_depth", T::Gauge, "Messages queued on the channel (memory plus disk), not counting in-flight or deferred ones.");
  m.family("nsq_channel_backend_depth", T::Gauge, "Messages queued in the channel's disk queue.");
  m.family("nsq_channel_in_flight_messages", T::Gauge, "Messages sent to clients and not yet finished, requeued or timed out.");
  m.family("nsq_channel_deferred_messages", T::Gauge, "Messages deferred (DPUB or REQ with a delay) and not yet due.");
  m.family("nsq_channel_messages_total", T::Counter, "Messages the channel received from its topic.");
  m.family("nsq_channel_requeues_total", T::Counter, "Messages requeued by clients (REQ).");
  m.family("nsq_channel_timeouts_total", T::Counter, "In-flight messages that timed out and were requeued.");
  m.family("nsq_topic_dropped_total", T::Counter, "Messages the topic's own queue dropped for overflow drop_oldest (topics with a policy).");
  m.family("nsq_channel_dead_letters_total", T::Counter, "Messages moved to the dead-letter topic after max_attempts (topics with a policy).");
  m.family("nsq_channel_expired_total", T::Counter, "Messages dropped past their message_ttl (topics with a policy).");
  m.family("nsq_channel_dropped_total", T::Counter, "Messages dropped for overflow drop_oldest (topics with a policy).");
  m.family("nsq_channel_clients", T::Gauge, "Clients subscribed to the channel.");
  m.family("nsq_channel_paused", T::Gauge, "1 when the channel is paused.");
  m.family("nsq_topic_e2e_processing_latency_seconds", T::Summary, "Time from publish to FIN over the last --e2e-processing-latency-window-time, all channels of the topic merged (with --e2e-processing-latency-percentile).");
  m.family("nsq_channel_e2e_processing_latency_seconds", T::Summary, "Time from publish to FIN over the last --e2e-processing-latency-window-time (with --e2e-processing-latency-percentile).");
  for (const auto& [row, help] : kMemoryFamilies) m.family("nsq_" + std::string(row), T::Gauge, help);

  m.sample("nsq_build_info", {{"version", NSQ_VERSION}}, int64_t{1});
  m.sample("nsq_healthy", {}, int64_t{stats.health == "OK" ? 1 : 0});
  m.sample("nsq_clients", {}, static_cast<uint64_t>(clientCount));
  m.sample("nsq_topics", {}, static_cast<uint64_t>(stats.topics.size()));
  for (const auto& topic : stats.topics) {
    const TopicStats& t = topic.stats;
    const MetricLabels tl = {{"topic", t.name}};
    m.sample("nsq_topic_depth", tl, t.depth);
    m.sample("nsq_topic_backend_depth", tl, t.backendDepth);
    m.sample("nsq_topic_messages_total", tl, t.messageCount);
    m.sample("nsq_topic_message_bytes_total", tl, t.messageBytes);
    m.sample("nsq_topic_paused", tl, int64_t{t.paused ? 1 : 0});
    m.sample("nsq_topic_channels", tl, static_cast<uint64_t>(topic.channels.size()));
    if (t.policy) m.sample("nsq_topic_dropped_total", tl, t.droppedCount);
    addLatency(m, "nsq_topic_e2e_processing_latency_seconds", tl, t.e2e);
    for (const auto& channel : topic.channels) {
      const ChannelStats& c = channel.stats;
      const MetricLabels cl = {{"topic", t.name}, {"channel", c.name}};
      m.sample("nsq_channel_depth", cl, c.depth);
      m.sample("nsq_channel_backend_depth", cl, c.backendDepth);
      m.sample("nsq_channel_in_flight_messages", cl, c.inFlightCount);
      m.sample("nsq_channel_deferred_messages", cl, c.deferredCount);
      m.sample("nsq_channel_messages_total", cl, c.messageCount);
      m.sample("nsq_channel_requeues_total", cl, c.requeueCount);
      m.sample("nsq_channel_timeouts_total", cl, c.timeoutCount);
      if (t.policy) {
        m.sample("nsq_channel_dead_letters_total", cl, c.deadLetterCount);
        m.sample("nsq_channel_expired_total", cl, c.expiredCount);
        m.sample("nsq_channel_dropped_total", cl, c.droppedCount);
      }
      m.sample("nsq_channel_clients", cl, static_cast<uint64_t>(channel.clientCount));
      m.sample("nsq_channel_paused", cl, int64_t{c.paused ? 1 : 0});
      addLatency(m, "nsq_channel_e2e_processing_latency_seconds", cl, c.e2e);
    }
  }
  if (stats.memory) {
    const auto rows = memoryRows(*stats.memory);
    for (const auto& [name, help] : kMemoryFamilies)
      for (const auto& row : rows)
        if (row.name == name) m.sample("nsq_" + std::string(name), {}, row.value);
  }
  addProcessMetrics(m);
  return m.render();
}

std::string metricsText(const Nsqd& nsqd) {
  StatsFilter filter;
  filter.includeClients = false;
  return metricsText(collectStats(nsqd, filter), nsqd.clients().size());
}

}  // namespace nsq::nsqd

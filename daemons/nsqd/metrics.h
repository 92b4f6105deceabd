#pragma once
// Metrics: GET /metrics, nsqd's figures in the Prometheus text exposition format 0.0.4. This is
// our own addition (the original has only statsd); names follow Prometheus conventions:
// nsq_ prefix, base units, counters ending in _total, topic/channel as labels.
#include <string>

#include "nsqd/stats.h"

namespace nsq::nsqd {

class Nsqd;

// The exposition for a stats snapshot (taken with includeMem) plus the live client count.
std::string metricsText(const StatsSnapshot& stats, std::size_t clientCount);
// Takes the snapshot and adds the process_* figures. Any thread.
std::string metricsText(const Nsqd& nsqd);

}  // namespace nsq::nsqd

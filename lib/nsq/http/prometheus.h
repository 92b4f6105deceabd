#pragma once
// Prometheus text exposition format, version 0.0.4: what GET /metrics serves on nsqd and
// nsqlookupd. MetricsText groups samples by family so callers may add them in any order (one
// pass over topics fills many families); render() writes each family's # HELP and # TYPE once,
// then its samples, families in the order they were declared. Families without samples are
// left out, as client_golang does.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nsq {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  enum class Type { Counter, Gauge, Summary };
  // Declares a family; redeclaring one is a no-op. Counter names end in "_total" by
  // convention (the caller's job). name must match [a-zA-Z_:][a-zA-Z0-9_:]*.
  void family(std::string_view name, Type type, std::string_view help);
  // Adds a sample to a declared family (undeclared ones are a programming error: assert).
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, const MetricLabels& labels, int64_t value);
  void sample(std::string_view name, const MetricLabels& labels, uint64_t value);
  // One series of a Summary family: name{labels,quantile="q"} per entry, then name_sum and
  // name_count with the same labels.
  void summary(std::string_view name, const MetricLabels& labels,
               const std::vector<std::pair<double, double>>& quantiles, double sum, uint64_t count);
  std::string render() const;

 private:
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::string samples;  // rendered sample lines
  };
  void addLine(std::string_view name, const MetricLabels& labels, std::string_view value);
  // name + suffix, filed under the family name (a summary's _sum and _count).
  void addLine(std::string_view name, std::string_view suffix, const MetricLabels& labels,
               std::string_view value);
  std::vector<Family> families_;
  std::map<std::string, std::size_t, std::less<>> index_;
};

// Label value escaping: \ -> \\, " -> \", newline -> \n.
std::string escapeLabelValue(std::string_view value);
// HELP text escaping: \ -> \\, newline -> \n.
std::string escapeHelp(std::string_view help);
// Shortest round-trip decimal; NaN/+Inf/-Inf as the format spells them.
std::string formatMetricValue(double value);

// process_resident_memory_bytes, process_virtual_memory_bytes, process_start_time_seconds,
// process_cpu_seconds_total, process_open_fds, process_max_fds, read from /proc/self (figures
// that cannot be read are left out).
void addProcessMetrics(MetricsText& out);

}  // namespace nsq

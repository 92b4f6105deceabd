// MetricsText: the Prometheus text format writer. Samples are rendered into their family's
// buffer as they arrive, so render() is one concatenation; the process figures come straight
// from /proc (Linux only, like the packages we ship).
#include "nsq/http/prometheus.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cassert>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace nsq {

void MetricsText::family(std::string_view name, Type type, std::string_view help) {
  if (index_.find(name) != index_.end()) return;
  index_.emplace(std::string(name), families_.size());
  families_.push_back(Family{std::string(name), type, std::string(help), {}});
}

void MetricsText::addLine(std::string_view name, const MetricLabels& labels, std::string_view value) {
  addLine(name, "", labels, value);
}

void MetricsText::addLine(std::string_view name, std::string_view suffix, const MetricLabels& labels,
                          std::string_view value) {
  auto it = index_.find(name);
  assert(it != index_.end() && "sample for an undeclared metric family");
  if (it == index_.end()) return;
  std::string& out = families_[it->second].samples;
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      out += labels[i].first;
      out += "=\"";
      out += escapeLabelValue(labels[i].second);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void MetricsText::sample(std::string_view name, const MetricLabels& labels, double value) {
  addLine(name, labels, formatMetricValue(value));
}
void MetricsText::sample(std::string_view name, const MetricLabels& labels, int64_t value) {
  addLine(name, labels, std::to_string(value));
}
void MetricsText::sample(std::string_view name, const MetricLabels& labels, uint64_t value) {
  addLine(name, labels, std::to_string(value));
}

void MetricsText::summary(std::string_view name, const MetricLabels& labels,
                          const std::vector<std::pair<double, double>>& quantiles, double sum, uint64_t count) {
  MetricLabels withQuantile = labels;
  withQuantile.emplace_back("quantile", "");
  for (const auto& [q, v] : quantiles) {
    std::string label = formatMetricValue(q);
    withQuantile.back().second = label;
    addLine(name, "", withQuantile, formatMetricValue(v));
  }
  addLine(name, "_sum", labels, formatMetricValue(sum));
  addLine(name, "_count", labels, std::to_string(count));
}

std::string MetricsText::render() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.samples.empty()) continue;
    out += "# HELP " + f.name + " " + escapeHelp(f.help) + "\n";
    static const char* const kTypes[] = {" counter\n", " gauge\n", " summary\n"};
    out += "# TYPE " + f.name + kTypes[static_cast<int>(f.type)];
    out += f.samples;
  }
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string formatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, res.ptr);
}

namespace {

// Fields of /proc/self/stat after the ")" that closes the command name; field 3 is index 0.
std::vector<std::string> procStatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  std::string f;
  while (rest >> f) fields.push_back(f);
  return fields;
}

int64_t bootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      int64_t v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

}  // namespace

void addProcessMetrics(MetricsText& out) {
  using T = MetricsText::Type;
  const long pageSize = ::sysconf(_SC_PAGESIZE);
  const long ticks = ::sysconf(_SC_CLK_TCK);
  auto fields = procStatFields();
  // Indexes into fields: utime=14, stime=15, starttime=22, vsize=23, rss=24 (man 5 proc) - 3.
  if (fields.size() > 21 && ticks > 0) {
    out.family("process_cpu_seconds_total", T::Counter, "Total user and system CPU time spent in seconds.");
    double cpu = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(ticks);
    out.sample("process_cpu_seconds_total", {}, cpu);
    out.family("process_virtual_memory_bytes", T::Gauge, "Virtual memory size in bytes.");
    out.sample("process_virtual_memory_bytes", {}, static_cast<uint64_t>(std::stoull(fields[20])));
    out.family("process_resident_memory_bytes", T::Gauge, "Resident memory size in bytes.");
    out.sample("process_resident_memory_bytes", {},
               static_cast<uint64_t>(std::stoull(fields[21]) * static_cast<uint64_t>(pageSize)));
    int64_t boot = bootTimeSeconds();
    if (boot >= 0) {
      out.family("process_start_time_seconds", T::Gauge,
                 "Start time of the process since unix epoch in seconds.");
      out.sample("process_start_time_seconds", {},
                 static_cast<double>(boot) + std::stod(fields[19]) / static_cast<double>(ticks));
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int64_t n = 0;
    while (dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++n;
    ::closedir(dir);
    out.family("process_open_fds", T::Gauge, "Number of open file descriptors.");
    out.sample("process_open_fds", {}, n - 1);  // minus the descriptor opendir itself holds
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    out.family("process_max_fds", T::Gauge, "Maximum number of open file descriptors.");
    out.sample("process_max_fds", {}, static_cast<uint64_t>(lim.rlim_cur));
  }
}

}  // namespace nsq

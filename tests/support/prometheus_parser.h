#pragma once
// A strict parser for the Prometheus text exposition format 0.0.4 as our /metrics endpoints
// must produce it: every line is "# HELP <name> <text>", "# TYPE <name> counter|gauge|summary"
// or a sample "<name>{<label>="<value>",...} <value>"; names match [a-zA-Z_:][a-zA-Z0-9_:]*,
// label names [a-zA-Z_][a-zA-Z0-9_]*, label values use only the \\ \" \n escapes; HELP and TYPE
// come once per family, before its samples, and a family's samples are contiguous; no series
// twice; counters end in _total. A summary's samples are <name>{...,quantile="q"} (q in [0,1]),
// <name>_sum and <name>_count (no quantile label, a whole count), and every quantile series
// has both. Any violation throws std::runtime_error naming the line.
#include <map>
#include <optional>
#include <string>

namespace nsq::test {

using PromLabels = std::map<std::string, std::string>;

struct PromExposition {
  std::map<std::string, std::string> types;  // family -> "counter" | "gauge" | "summary"
  std::map<std::string, std::string> help;   // family -> unescaped text
  std::map<std::pair<std::string, PromLabels>, double> samples;

  std::optional<double> value(const std::string& name, const PromLabels& labels = {}) const;
  // Sum over the series of name whose labels include `match`.
  std::size_t seriesCount(const std::string& name) const;
};

PromExposition parsePrometheusText(const std::string& text);

}  // namespace nsq::test

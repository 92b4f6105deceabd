// MetricsText (the exposition writer) checked with the strict parser from tests/support, and
// the parser itself checked against what it must refuse.
#include "nsq/http/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/prometheus_parser.h"

using namespace nsq;
using nsq::test::parsePrometheusText;

TEST(MetricsText, GroupsSamplesByFamilyWithHelpAndTypeOnce) {
  MetricsText m;
  m.family("a_total", MetricsText::Type::Counter, "Things.");
  m.family("b", MetricsText::Type::Gauge, "Level.");
  m.family("unused", MetricsText::Type::Gauge, "Never sampled.");
  m.sample("a_total", {{"topic", "t1"}}, uint64_t{1});
  m.sample("b", {{"topic", "t1"}}, int64_t{-2});
  m.sample("a_total", {{"topic", "t2"}}, uint64_t{3});
  m.sample("b", {}, 0.5);
  EXPECT_EQ(m.render(),
            "# HELP a_total Things.\n# TYPE a_total counter\na_total{topic=\"t1\"} 1\n"
            "a_total{topic=\"t2\"} 3\n# HELP b Level.\n# TYPE b gauge\nb{topic=\"t1\"} -2\nb 0.5\n");
  auto parsed = parsePrometheusText(m.render());
  EXPECT_EQ(parsed.value("a_total", {{"topic", "t2"}}), 3.0);
  EXPECT_EQ(parsed.types.at("b"), "gauge");
  EXPECT_EQ(parsed.types.count("unused"), 0u);
}

TEST(MetricsText, SummaryWritesQuantilesThenSumAndCount) {
  MetricsText m;
  m.family("lat_seconds", MetricsText::Type::Summary, "Latency.");
  m.summary("lat_seconds", {{"topic", "t"}}, {{0.99, 0.25}, {1, 2.5}}, 7.5, 12);
  m.summary("lat_seconds", {{"topic", "u"}}, {{0.99, std::nan("")}, {1, std::nan("")}}, 0, 0);
  EXPECT_EQ(m.render(),
            "# HELP lat_seconds Latency.\n# TYPE lat_seconds summary\n"
            "lat_seconds{topic=\"t\",quantile=\"0.99\"} 0.25\nlat_seconds{topic=\"t\",quantile=\"1\"} 2.5\n"
            "lat_seconds_sum{topic=\"t\"} 7.5\nlat_seconds_count{topic=\"t\"} 12\n"
            "lat_seconds{topic=\"u\",quantile=\"0.99\"} NaN\nlat_seconds{topic=\"u\",quantile=\"1\"} NaN\n"
            "lat_seconds_sum{topic=\"u\"} 0\nlat_seconds_count{topic=\"u\"} 0\n");
  auto parsed = parsePrometheusText(m.render());
  EXPECT_EQ(parsed.types.at("lat_seconds"), "summary");
  EXPECT_EQ(parsed.value("lat_seconds", {{"topic", "t"}, {"quantile", "0.99"}}), 0.25);
  EXPECT_EQ(parsed.value("lat_seconds_count", {{"topic", "t"}}), 12.0);
  EXPECT_EQ(parsed.value("lat_seconds_sum", {{"topic", "t"}}), 7.5);
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escapeHelp("x\\y\nz\""), "x\\\\y\\nz\"");
  MetricsText m;
  m.family("g", MetricsText::Type::Gauge, "multi\nline \\ help");
  m.sample("g", {{"topic", "we\"ird\\na\nme"}}, int64_t{7});
  auto parsed = parsePrometheusText(m.render());
  EXPECT_EQ(parsed.value("g", {{"topic", "we\"ird\\na\nme"}}), 7.0);
  EXPECT_EQ(parsed.help.at("g"), "multi\nline \\ help");
}

TEST(MetricsText, FormatsSpecialValues) {
  EXPECT_EQ(formatMetricValue(1.5), "1.5");
  EXPECT_EQ(formatMetricValue(1700000000.25), "1700000000.25");
  EXPECT_EQ(formatMetricValue(0.0 / 0.0), "NaN");
  EXPECT_EQ(formatMetricValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(formatMetricValue(-1.0 / 0.0), "-Inf");
}

TEST(MetricsText, ProcessFiguresAreThereAndSane) {
  MetricsText m;
  addProcessMetrics(m);
  auto parsed = parsePrometheusText(m.render());
  ASSERT_TRUE(parsed.value("process_resident_memory_bytes"));
  EXPECT_GT(*parsed.value("process_resident_memory_bytes"), 1e5);
  ASSERT_TRUE(parsed.value("process_open_fds"));
  EXPECT_GE(*parsed.value("process_open_fds"), 3.0);
  ASSERT_TRUE(parsed.value("process_start_time_seconds"));
  double now = static_cast<double>(time(nullptr));
  EXPECT_LE(*parsed.value("process_start_time_seconds"), now + 1);
  EXPECT_GT(*parsed.value("process_start_time_seconds"), now - 3600);
  EXPECT_EQ(parsed.types.at("process_cpu_seconds_total"), "counter");
}

TEST(PrometheusParser, RefusesMalformedExpositions) {
  const char* bad[] = {
      "",                                                      // empty
      "# HELP a x\n# TYPE a gauge\na 1",                       // no final newline
      "a 1\n",                                                 // no TYPE
      "# HELP a x\na 1\n# TYPE a gauge\n",                     // TYPE after sample
      "# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n",     // TYPE twice
      "# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n",         // HELP twice
      "# HELP a x\n# TYPE a gauge\na 1\na 2\n",                // duplicate series
      "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n",                  // bad name
      "# HELP a x\n# TYPE a gauge\na{t=\"x\\q\"} 1\n",         // bad escape
      "# HELP a x\n# TYPE a gauge\na{t=\"x\",} 1\n",           // trailing comma
      "# HELP a x\n# TYPE a gauge\na{t=x} 1\n",                // unquoted label
      "# HELP a x\n# TYPE a gauge\na one\n",                   // bad value
      "# HELP a x\n# TYPE a gauge\na 1 1700000000\n",          // timestamp
      "# HELP a x\n# TYPE a counter\na 1\n",                   // counter without _total
      "# HELP a x\n# TYPE a gauge\n\na 1\n",                   // blank line
      "# random comment\n",                                    // stray comment
      "# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\na{t=\"1\"} 1\nb 1\na{t=\"2\"} 1\n",
      "# HELP a x\n# TYPE a histogram\na 1\n",                                    // type we never emit
      "# HELP s x\n# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n",                 // no quantile label
      "# HELP s x\n# TYPE s summary\ns{quantile=\"2\"} 1\ns_sum 1\ns_count 1\n",  // quantile > 1
      "# HELP s x\n# TYPE s summary\ns{quantile=\"x\"} 1\ns_sum 1\ns_count 1\n",  // not a number
      "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\n",          // no _sum
      "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n",            // no _count
      "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1.5\n",  // fractional count
      "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum{quantile=\"0.5\"} 1\ns_count 1\n",
      "# HELP a x\n# TYPE a gauge\na{quantile=\"0.5\"} 1\n",                    // quantile on a gauge
      "# HELP s x\n# TYPE s summary\n# HELP b x\n# TYPE b gauge\ns{quantile=\"1\"} 1\nb 1\ns_sum 1\ns_count 1\n",
      "# HELP g x\n# TYPE g gauge\ng_sum 1\n",                                    // _sum of a non-summary
  };
  for (const char* text : bad) EXPECT_THROW(parsePrometheusText(text), std::runtime_error) << text;
  EXPECT_NO_THROW(parsePrometheusText("# HELP a x\n# TYPE a gauge\na{t=\"1\",u=\"\"} 1e3\na NaN\n"));
  EXPECT_NO_THROW(parsePrometheusText(
      "# HELP s x\n# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns{quantile=\"1\"} NaN\ns_sum 0\ns_count 0\n"));
}

// nsq_stat's table: header text, column widths and the rate arithmetic.
#include "nsq_stat/stat_table.h"

#include <gtest/gtest.h>

using namespace nsq;

TEST(StatTable, HeaderIsTheOriginalTwoLines) {
  EXPECT_EQ(statHeader(),
            "------rate------+----------------depth----------------+--------------metadata---------------\n"
            "ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients\n");
}

TEST(StatTable, RowShowsRatesPerSecondAndMemoryAsDepthMinusDisk) {
  ChannelCounts prev, cur;
  prev.messages = 100;
  prev.depth = 10;
  cur.messages = 140;  // +40 in 2 s -> ingress 20/s
  cur.depth = 30;      // +20 -> egress (40 - 20) / 2 = 10/s
  cur.backendDepth = 5;
  cur.inFlight = 3;
  cur.deferred = 1;
  cur.requeued = 7;
  cur.timedOut = 2;
  cur.clients = 4;
  EXPECT_EQ(statRow(prev, cur, 2.0),
            "     20      10 |      30      25       5     3     1 |       7       2          140       4\n");
}

TEST(StatTable, TimestampColumnLeadsHeaderAndRows) {
  auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1765000800123));
  EXPECT_EQ(statHeader(true),
            "                     ------rate------+----------------depth----------------+--------------metadata---------------\n"
            "time                 ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients\n");
  ChannelCounts prev, cur;
  cur.messages = 4;
  EXPECT_EQ(statRow(prev, cur, 2.0, at),
            "2025-12-06T06:00:00Z       2       2 |       0       0       0     0     0 |       0       0            4       0\n");
}

TEST(StatTable, JsonIsOneObjectWithTimestampRatesAndCounters) {
  auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1765000800123));
  ChannelCounts prev, cur;
  prev.messages = 100;
  cur.messages = 140;
  cur.depth = 30;
  cur.backendDepth = 5;
  cur.clients = 2;
  EXPECT_EQ(statJson(prev, cur, 2.0, at, "t\"1", "c"),
            "{\"timestamp\":\"2025-12-06T06:00:00.123Z\",\"topic\":\"t\\\"1\",\"channel\":\"c\",\"ingress\":20,"
            "\"egress\":5,\"depth\":30,\"memory_depth\":25,\"backend_depth\":5,\"in_flight_count\":0,"
            "\"deferred_count\":0,\"requeue_count\":0,\"timeout_count\":0,\"message_count\":140,"
            "\"client_count\":2}\n");
}

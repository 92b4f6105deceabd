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

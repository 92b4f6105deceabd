// Interop: nsq.js 1.1.0 (segmentio's pure-JavaScript client, a third independent NSQ client from
// npm, installed by scripts/test) publishes with MPUB and PUB through our nsqd and consumes with
// FIN, REQ and TOUCH; bodies carry \n, \r and NUL.
#include <gtest/gtest.h>

#include "support/node_script.h"
#include "support/nsqd_process.h"

using namespace nsq::test;

TEST(NsqJsInterop, PublishesAndConsumesThroughNsqd) {
  NsqdProcess nsqd;
  NodeResult r = runNodeScript("nsq.js", "nsq_js_roundtrip.js", {std::to_string(nsqd.tcpPort()), "nsqjs_dot", "200"});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("OK 200 messages"), std::string::npos) << r.out;
}

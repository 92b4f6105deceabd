// Interop: squeaky 2.6.0 (a second third-party NSQ client from npm, installed by scripts/test)
// publishes with MPUB, PUB and DPUB and consumes with FIN, REQ and TOUCH through our nsqd.
// squeaky declares MPUB's body size as the sum of the message bodies only; the original reads
// MPUB from the stream and accepts it, and so must we (issue 19, NSQ-COMPAT §1).
#include <gtest/gtest.h>

#include "support/node_script.h"
#include "support/nsqd_process.h"

using namespace nsq::test;

TEST(SqueakyInterop, PublishesAndConsumesThroughNsqd) {
  NsqdProcess nsqd;
  NodeResult r = runNodeScript("squeaky", "squeaky_roundtrip.js", {std::to_string(nsqd.tcpPort()), "squeaky", "200"});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("OK 201 messages"), std::string::npos) << r.out;
}

// The same script's MPUB, bigger than one read from the socket, with --max-body-size just
// above what squeaky's 100 messages occupy on the wire (bodies + 4 + 4 each).
TEST(SqueakyInterop, LargeMpubWithinMaxBodySize) {
  NsqdProcess nsqd({"--max-body-size=200000", "--max-msg-size=2000"});
  NodeResult r = runNodeScript("squeaky", "squeaky_roundtrip.js", {std::to_string(nsqd.tcpPort()), "big", "200", "1500"});
  EXPECT_TRUE(r.ok) << "node stdout: " << r.out << "\nnode stderr: " << r.err << "\nnsqd log: " << nsqd.logs();
  EXPECT_NE(r.out.find("OK 201 messages"), std::string::npos) << r.out;
}

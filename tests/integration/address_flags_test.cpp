// Every address flag of every binary goes through one check (lib/nsq/base/host_port.h): a port
// outside 0-65535 (1-65535 for an address to dial), or no port at all, stops the binary at
// start with exit status 1 and an error naming the flag; nothing is listened on.
#include <gtest/gtest.h>

#include <thread>

#include "support/test_support.h"

namespace nsq::test {
namespace {

using namespace std::chrono_literals;

struct AddressCase {
  std::string binary;
  std::vector<std::string> args;
  std::string flag;  // as the error must name it, e.g. "--tcp-address"
};

void PrintTo(const AddressCase& c, std::ostream* os) {
  *os << c.binary;
  for (const auto& a : c.args) *os << " " << a;
}

class AddressFlag : public testing::TestWithParam<AddressCase> {};

TEST_P(AddressFlag, IsRefusedAtStartNamingTheFlag) {
  const AddressCase& c = GetParam();
  TempDir dir;
  std::vector<std::string> args = c.args;
  for (auto& a : args)
    if (a == "DIR") a = dir.path();
  Process p(binaryPath(c.binary), args, dir.path());
  ASSERT_TRUE(eventually([&] { return !p.running(); }, 15s)) << "still running: " << p.stderrText();
  int status = p.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << " " << p.stderrText();
  EXPECT_NE(p.stderrText().find("flag " + c.flag + ":"), std::string::npos) << p.stderrText();
}

const std::string kHuge = "127.0.0.1:99999";

INSTANTIATE_TEST_SUITE_P(
    EveryBinary, AddressFlag,
    testing::Values(
        AddressCase{"nsqd", {"--data-path=DIR", "--tcp-address=" + kHuge}, "--tcp-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--tcp-address=127.0.0.1"}, "--tcp-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--http-address=127.0.0.1:65536"}, "--http-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--https-address=:70000"}, "--https-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--broadcast-tcp-port=65536"}, "--broadcast-tcp-port"},
        AddressCase{"nsqd", {"--data-path=DIR", "--broadcast-http-port=-1"}, "--broadcast-http-port"},
        AddressCase{"nsqd", {"--data-path=DIR", "--lookupd-tcp-address=" + kHuge}, "--lookupd-tcp-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--lookupd-tcp-address=127.0.0.1:0"}, "--lookupd-tcp-address"},
        AddressCase{"nsqd", {"--data-path=DIR", "--statsd-address=" + kHuge}, "--statsd-address"},
        AddressCase{"nsqlookupd", {"--tcp-address=" + kHuge}, "--tcp-address"},
        AddressCase{"nsqlookupd", {"--http-address=127.0.0.1:65536"}, "--http-address"},
        AddressCase{"to_nsq", {"--topic=t", "--nsqd-tcp-address=" + kHuge}, "--nsqd-tcp-address"},
        AddressCase{"nsq_tail", {"--topic=t", "--nsqd-tcp-address=" + kHuge}, "--nsqd-tcp-address"},
        AddressCase{"nsq_tail", {"--topic=t", "--lookupd-http-address=" + kHuge}, "--lookupd-http-address"},
        AddressCase{"nsq_tail", {"--topic=t", "--lookupd-http-address=not-an-address"}, "--lookupd-http-address"},
        AddressCase{"nsq_to_file", {"--topic=t", "--output-dir=DIR", "--nsqd-tcp-address=" + kHuge},
                    "--nsqd-tcp-address"},
        AddressCase{"nsq_to_file", {"--topic=t", "--output-dir=DIR", "--lookupd-http-address=http://127.0.0.1:70000/"},
                    "--lookupd-http-address"},
        AddressCase{"nsq_stat", {"--topic=t", "--channel=c", "--nsqd-http-address=" + kHuge}, "--nsqd-http-address"},
        AddressCase{"nsq_stat", {"--topic=t", "--channel=c", "--lookupd-http-address=" + kHuge},
                    "--lookupd-http-address"},
        AddressCase{"nsq_to_nsq",
                    {"--topic=t", "--nsqd-tcp-address=" + kHuge, "--destination-nsqd-tcp-address=127.0.0.1:4150"},
                    "--nsqd-tcp-address"},
        AddressCase{"nsq_to_nsq",
                    {"--topic=t", "--lookupd-http-address=" + kHuge, "--destination-nsqd-tcp-address=127.0.0.1:4150"},
                    "--lookupd-http-address"},
        AddressCase{"nsq_to_nsq",
                    {"--topic=t", "--nsqd-tcp-address=127.0.0.1:4150", "--destination-nsqd-tcp-address=" + kHuge},
                    "--destination-nsqd-tcp-address"},
        AddressCase{"nsq_to_http", {"--topic=t", "--post=http://h/", "--nsqd-tcp-address=" + kHuge},
                    "--nsqd-tcp-address"},
        AddressCase{"nsq_to_http", {"--topic=t", "--post=http://h/", "--lookupd-http-address=" + kHuge},
                    "--lookupd-http-address"},
        AddressCase{"nsq_bench", {"writer", "--nsqd-tcp-address=" + kHuge}, "--nsqd-tcp-address"},
        AddressCase{"nsq_bench", {"relay", "--tcp-address=" + kHuge}, "--tcp-address"}));

}  // namespace
}  // namespace nsq::test

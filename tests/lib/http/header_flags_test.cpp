// HeaderFlags: the --http-max-header-bytes / --http-max-header-count pair nsqd, nsqlookupd and
// nsqadmin share: defaults, flag and YAML names, the range checks, and what reaches the parser.
#include "nsq/http/header_flags.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace nsq::http {
namespace {

struct Bound {
  HeaderFlags flags;
  OptionSet set{"test", "test"};
  Bound() { addHeaderFlags(set, flags); }
  void parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out;
    ASSERT_EQ(set.parse(static_cast<int>(argv.size()), argv.data(), out), OptionSet::Result::Run);
  }
};

void expectRejected(HeaderFlags f, const std::string& flag) {
  try {
    validateHeaderFlags(f);
    ADD_FAILURE() << "accepted, expected an error naming " << flag;
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("--" + flag), std::string::npos) << e.what();
  }
}

TEST(HeaderFlags, DefaultsAre64KiBAndAHundredFields) {
  Bound b;
  b.parse({});
  EXPECT_EQ(b.flags.maxHeaderBytes, 65536);
  EXPECT_EQ(b.flags.maxHeaderCount, 100);
  EXPECT_EQ(b.set.find("http-max-header-bytes")->defaultText, "65536");
  EXPECT_EQ(b.set.find("http-max-header-count")->defaultText, "100");
  EXPECT_NO_THROW(validateHeaderFlags(b.flags));
}

TEST(HeaderFlags, FlagsAndYamlKeysSetTheValues) {
  Bound byFlag;
  byFlag.parse({"--http-max-header-bytes=2048", "--http-max-header-count=7"});
  EXPECT_EQ(byFlag.flags.maxHeaderBytes, 2048);
  EXPECT_EQ(byFlag.flags.maxHeaderCount, 7);
  Bound byYaml;
  byYaml.set.applyYaml("http_max_header_bytes: 4096\nhttp_max_header_count: 9\n", "t.yaml");
  EXPECT_EQ(byYaml.flags.maxHeaderBytes, 4096);
  EXPECT_EQ(byYaml.flags.maxHeaderCount, 9);
}

TEST(HeaderFlags, ValuesOutsideTheirRangesNameTheFlag) {
  for (int64_t bad : {int64_t{0}, int64_t{1023}, int64_t{1048577}, int64_t{-1}}) {
    HeaderFlags f;
    f.maxHeaderBytes = bad;
    expectRejected(f, "http-max-header-bytes");
  }
  for (int64_t bad : {int64_t{0}, int64_t{10001}, int64_t{-5}}) {
    HeaderFlags f;
    f.maxHeaderCount = bad;
    expectRejected(f, "http-max-header-count");
  }
  HeaderFlags edges{1024, 1};
  EXPECT_NO_THROW(validateHeaderFlags(edges));
  edges = {1048576, 10000};
  EXPECT_NO_THROW(validateHeaderFlags(edges));
}

TEST(HeaderFlags, ApplySetsTheParserLimitsAndLeavesTheBodyCap) {
  ParserLimits limits;
  limits.maxBodyBytes = 123;
  applyHeaderFlags(HeaderFlags{2048, 3}, limits);
  EXPECT_EQ(limits.maxHeaderBytes, 2048u);
  EXPECT_EQ(limits.maxHeaderCount, 3u);
  EXPECT_EQ(limits.maxBodyBytes, 123u);
}

}  // namespace
}  // namespace nsq::http

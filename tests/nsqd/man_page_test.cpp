// nsqd(8) must document exactly the flags nsqd's option table defines, and --help must name
// every one of them: the two cannot drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "nsqd/options.h"
#include "support/man_page.h"

using namespace nsq;

namespace {
OptionSet makeSet(nsqd::NsqdOptions& opts) {
  OptionSet set("nsqd", "test");
  nsqd::addNsqdOptions(set, opts);
  set.addStandard("nsqd test");
  return set;
}
}  // namespace

TEST(NsqdManPage, ListsExactlyTheFlagsOfTheOptionTable) {
  nsqd::NsqdOptions opts;
  OptionSet set = makeSet(opts);
  std::set<std::string> expected = {"config", "version", "help", "h"};
  for (const auto& s : set.specs())
    if (!s.hidden) expected.insert(s.name);
  EXPECT_EQ(test::manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqd.8"), expected);
}

TEST(NsqdManPage, HelpNamesEveryDocumentedFlagAndHidesDeprecatedOnes) {
  nsqd::NsqdOptions opts;
  OptionSet set = makeSet(opts);
  std::string help = set.helpText();
  for (const auto& flag : test::manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqd.8")) {
    if (flag == "h") continue;
    EXPECT_NE(help.find("--" + flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.find("--verbose"), std::string::npos);
  EXPECT_EQ(help.find("--worker-id"), std::string::npos);
}

TEST(NsqdManPage, DocumentsTheHiddenFlagsAsDeprecated) {
  std::ifstream in(std::string(NSQ_SOURCE_DIR) + "/man/nsqd.8");
  std::stringstream text;
  text << in.rdbuf();
  std::string page = text.str();
  std::size_t section = page.find(".SH DEPRECATED FLAGS");
  ASSERT_NE(section, std::string::npos);
  std::size_t end = page.find(".SH", section + 1);
  std::string deprecated = page.substr(section, end - section);
  nsqd::NsqdOptions opts;
  OptionSet set = makeSet(opts);
  for (const auto& s : set.specs()) {
    if (!s.hidden) continue;
    std::string troff;
    for (char c : s.name) troff += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_NE(deprecated.find("\\-\\-" + troff), std::string::npos) << s.name;
  }
}

TEST(NsqdUnsupported, NothingIsLeftToWarnAbout) {
  nsqd::NsqdOptions opts;
  EXPECT_TRUE(nsqd::checkUnsupported(opts).empty());
  opts.statsdAddress = "127.0.0.1:8125";  // statsd is implemented: no warning
  EXPECT_TRUE(nsqd::checkUnsupported(opts).empty());
  opts.e2eProcessingLatencyPercentiles = {"0.99"};  // so are latency percentiles
  EXPECT_TRUE(nsqd::checkUnsupported(opts).empty());
  opts.tlsCert = "/etc/cert.pem";  // TLS is supported now: nothing to refuse
  opts.tlsKey = "/etc/key.pem";
  opts.tlsRequired = "true";
  EXPECT_NO_THROW(nsqd::checkUnsupported(opts));
  opts.tlsCert.clear();
  opts.authHttpAddresses = {"127.0.0.1:4181"};  // authorization is implemented too
  EXPECT_TRUE(nsqd::checkUnsupported(opts).empty());
}

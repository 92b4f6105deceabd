// The man page's OPTIONS list must name exactly the flags the option table defines (hidden
// deprecated no-ops excepted), so --help and nsqlookupd(8) cannot drift apart.
#include <gtest/gtest.h>

#include <set>

#include "nsqlookupd/options.h"
#include "support/man_page.h"

using nsq::test::manPageFlags;

TEST(ManPage, ListsExactlyTheFlagsOfTheOptionTable) {
  nsq::lookupd::Options opts;
  auto set = nsq::lookupd::makeOptionSet(opts);
  std::set<std::string> expected = {"config", "version", "help", "h"};
  for (const auto& s : set->specs())
    if (!s.hidden) expected.insert(s.name);
  auto documented = manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqlookupd.8");
  EXPECT_EQ(documented, expected);
}

TEST(ManPage, HelpMentionsEveryDocumentedFlag) {
  nsq::lookupd::Options opts;
  auto set = nsq::lookupd::makeOptionSet(opts);
  std::string help = set->helpText();
  for (const auto& flag : manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqlookupd.8")) {
    if (flag == "h") continue;
    EXPECT_NE(help.find("--" + flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.find("--verbose"), std::string::npos) << "deprecated no-op stays hidden";
}

TEST(Options, DefaultsMatchTheContract) {
  nsq::lookupd::Options opts;
  auto set = nsq::lookupd::makeOptionSet(opts);
  EXPECT_EQ(set->find("tcp-address")->defaultText, "0.0.0.0:4160");
  EXPECT_EQ(set->find("http-address")->defaultText, "0.0.0.0:4161");
  EXPECT_EQ(set->find("inactive-producer-timeout")->defaultText, "5m0s");
  EXPECT_EQ(set->find("tombstone-lifetime")->defaultText, "45s");
  EXPECT_EQ(set->find("log-prefix")->defaultText, "[nsqlookupd] ");
  EXPECT_EQ(opts.broadcastAddress, nsq::hostname());
}

TEST(Options, ValidateRejectsBadLevelAndAddress) {
  nsq::lookupd::Options opts;
  opts.logLevel = "loud";
  EXPECT_THROW(nsq::lookupd::validate(opts), nsq::OptionError);
  opts.logLevel = "debug";
  opts.tcpAddress = "nope";
  EXPECT_THROW(nsq::lookupd::validate(opts), nsq::OptionError);
  opts.tcpAddress = ":4160";
  EXPECT_NO_THROW(nsq::lookupd::validate(opts));
}

// The man page's OPTIONS list must name exactly the flags the option table defines (hidden
// deprecated no-ops excepted), so --help and nsqadmin(8) cannot drift apart.
#include <gtest/gtest.h>

#include <set>

#include "nsqadmin/options.h"
#include "support/man_page.h"

using nsq::test::manPageFlags;

TEST(ManPage, ListsExactlyTheFlagsOfTheOptionTable) {
  nsq::admin::Options opts;
  auto set = nsq::admin::makeOptionSet(opts);
  std::set<std::string> expected = {"config", "version", "help", "h"};
  for (const auto& s : set->specs())
    if (!s.hidden) expected.insert(s.name);
  auto documented = manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqadmin.8");
  EXPECT_EQ(documented, expected);
}

TEST(ManPage, HelpMentionsEveryDocumentedFlag) {
  nsq::admin::Options opts;
  auto set = nsq::admin::makeOptionSet(opts);
  std::string help = set->helpText();
  for (const auto& flag : manPageFlags(std::string(NSQ_SOURCE_DIR) + "/man/nsqadmin.8")) {
    if (flag == "h") continue;
    EXPECT_NE(help.find("--" + flag), std::string::npos) << flag;
  }
  EXPECT_EQ(help.find("--verbose"), std::string::npos) << "deprecated no-op stays hidden";
}

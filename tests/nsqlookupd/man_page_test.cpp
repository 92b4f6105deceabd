// The man page's OPTIONS list must name exactly the flags the option table defines (hidden
// deprecated no-ops excepted), so --help and nsqlookupd(8) cannot drift apart.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "options.h"

namespace {

std::string unescapeTroff(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') {
      out += '-';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Flags named by ".B"/".BI" lines directly after ".TP" in the OPTIONS section.
std::set<std::string> manPageFlags(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::set<std::string> flags;
  std::string line, prev;
  bool inOptions = false;
  while (std::getline(in, line)) {
    if (line.rfind(".SH", 0) == 0) inOptions = line.find("OPTIONS") != std::string::npos;
    if (inOptions && prev == ".TP" && (line.rfind(".B ", 0) == 0 || line.rfind(".BI ", 0) == 0)) {
      std::istringstream words(unescapeTroff(line.substr(line.find(' ') + 1)));
      std::string w;
      while (words >> w) {
        if (!w.empty() && w.back() == ',') w.pop_back();
        if (w.rfind("--", 0) == 0) flags.insert(w.substr(2));
        else if (w.rfind("-", 0) == 0) flags.insert(w.substr(1));
      }
    }
    prev = line;
  }
  return flags;
}

}  // namespace

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
  EXPECT_EQ(opts.broadcastAddress, nsq::lookupd::hostname());
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

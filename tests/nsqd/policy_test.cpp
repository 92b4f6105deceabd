// Per-topic message policies: the first matching `topics:` entry over the flag defaults, the
// "<topic>.dead" default, the dead-letter chain check, and every bad YAML case naming file, line
// and key.
#include "nsqd/policy.h"

#include <gtest/gtest.h>

#include <string>

#include "nsq/base/options.h"
#include "nsqd/options.h"

namespace nsq::nsqd {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const PolicySet> parse(const std::string& yaml, const NsqdOptions& o = NsqdOptions{}) {
  return PolicySet::fromYaml(yaml, "p.yaml", o);
}

// fromYaml must throw an OptionError containing every one of parts.
void expectRejected(const std::string& yaml, std::initializer_list<std::string> parts) {
  try {
    (void)parse(yaml);
    ADD_FAILURE() << "accepted:\n" << yaml;
  } catch (const OptionError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(PolicySet, TopicNoRuleTouchesHasNoPolicy) {
  auto set = parse("topics:\n  - match: \"^orders$\"\n    max_depth: 10\n");
  EXPECT_EQ(set->resolve("payments"), nullptr);
  EXPECT_EQ(PolicySet().resolve("orders"), nullptr);
  EXPECT_EQ(parse("mem_queue_size: 5\n")->resolve("orders"), nullptr);
}

TEST(PolicySet, FirstMatchingEntryWins) {
  auto set = parse(
      "topics:\n"
      "  - match: \"^orders$\"\n"
      "    max_depth: 10\n"
      "    overflow: drop_oldest\n"
      "  - match: \"^ord\"\n"
      "    max_depth: 99\n"
      "    message_ttl: 1h30m\n");
  auto p = set->resolve("orders");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->maxDepth, 10);
  EXPECT_EQ(p->overflow, Overflow::DropOldest);
  EXPECT_EQ(p->messageTtl, 0ns);
  EXPECT_EQ(p->match, "^orders$");
  auto q = set->resolve("ordinary");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->maxDepth, 99);
  EXPECT_EQ(q->messageTtl, 90min);
  EXPECT_EQ(q->overflow, Overflow::Reject);
}

TEST(PolicySet, FlagDefaultsApplyWhereNoEntryMatchesAndUnderAnEntrysKeys) {
  NsqdOptions o;
  o.maxAttempts = 3;
  o.messageTtl = 10s;
  o.maxDepth = 7;
  o.overflow = "drop_oldest";
  auto set = parse("topics:\n  - match: \"^big$\"\n    max_depth: 1000\n", o);
  auto p = set->resolve("other");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->maxAttempts, 3);
  EXPECT_EQ(p->deadLetterTopic, "other.dead");
  EXPECT_EQ(p->messageTtl, 10s);
  EXPECT_EQ(p->maxDepth, 7);
  EXPECT_EQ(p->overflow, Overflow::DropOldest);
  auto big = set->resolve("big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->maxDepth, 1000);
  EXPECT_EQ(big->maxAttempts, 3);
}

TEST(PolicySet, DeadLetterTopicDefaultsToTopicDotDeadAndMayBeNamed) {
  auto set = parse(
      "topics:\n"
      "  - match: \"^a$\"\n"
      "    max_attempts: 5\n"
      "  - match: \"^b$\"\n"
      "    max_attempts: 2\n"
      "    dead_letter_topic: graveyard\n"
      "  - match: \"^e#ephemeral$\"\n"
      "    max_attempts: 2\n");
  EXPECT_EQ(set->resolve("a")->deadLetterTopic, "a.dead");
  EXPECT_EQ(set->resolve("a")->maxAttempts, 5);
  EXPECT_EQ(set->resolve("b")->deadLetterTopic, "graveyard");
  EXPECT_EQ(set->resolve("e#ephemeral")->deadLetterTopic, "e.dead#ephemeral");
  EXPECT_EQ(set->resolve("a.dead"), nullptr);  // the dead-letter topic itself has no rule
}

TEST(PolicySet, DefaultDeadLetterChainsEndAtTheDotDeadTopic) {
  // "^orders" also matches orders.dead: without the rule it would go on to orders.dead.dead...
  auto set = parse("topics:\n  - match: \"^orders\"\n    max_attempts: 3\n    max_depth: 5\n");
  EXPECT_EQ(set->resolve("orders")->deadLetterTopic, "orders.dead");
  auto dead = set->resolve("orders.dead");
  ASSERT_NE(dead, nullptr);
  EXPECT_EQ(dead->maxAttempts, 0);
  EXPECT_EQ(dead->maxDepth, 5);
  NsqdOptions o;
  o.maxAttempts = 4;  // the flag default too
  EXPECT_EQ(PolicySet(o).resolve("x.dead"), nullptr);
  EXPECT_EQ(PolicySet(o).resolve("x")->deadLetterTopic, "x.dead");
}

TEST(PolicySet, DeadLetterNameTooLongTurnsMaxAttemptsOffWithAWarning) {
  NsqdOptions o;
  o.maxAttempts = 4;
  std::string warning;
  EXPECT_EQ(PolicySet(o).resolve(std::string(62, 'a'), &warning), nullptr);
  EXPECT_NE(warning.find("not a valid topic name"), std::string::npos) << warning;
}

TEST(PolicySet, JsonNamesEveryKey) {
  auto p = parse("topics:\n  - match: \"^x$\"\n    max_attempts: 2\n    message_ttl: 24h\n")->resolve("x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->json(),
            R"({"match":"^x$","max_attempts":2,"dead_letter_topic":"x.dead","message_ttl":"24h0m0s",)"
            R"("max_depth":0,"overflow":"reject"})");
}

// match is Go's regexp syntax (RE2), which ECMAScript (std::regex) lacks in parts: inline
// flags, \z, (?P<name>...), Unicode classes.
TEST(PolicySet, MatchUsesGoRegexpSyntax) {
  auto set = parse(
      "topics:\n"
      "  - match: \"(?i)^ORDERS\\\\z\"\n"
      "    max_depth: 1\n"
      "  - match: \"^(?P<app>[a-z]+)\\\\.events$\"\n"
      "    max_depth: 2\n"
      "  - match: \"^\\\\pL+[0-9]$\"\n"
      "    max_depth: 3\n");
  ASSERT_NE(set->resolve("orders"), nullptr);
  EXPECT_EQ(set->resolve("orders")->maxDepth, 1);
  EXPECT_EQ(set->resolve("orders_x"), nullptr);
  ASSERT_NE(set->resolve("billing.events"), nullptr);
  EXPECT_EQ(set->resolve("billing.events")->maxDepth, 2);
  ASSERT_NE(set->resolve("abc7"), nullptr);
  EXPECT_EQ(set->resolve("abc7")->maxDepth, 3);
  // A Perl-only construct Go's regexp does not have (backreference) is a bad regex, as in Go.
  expectRejected("topics:\n  - match: \"^(a)\\\\1$\"\n", {"p.yaml:2:", "bad regex"});
}

TEST(PolicySet, BadRegexNamesFileLineAndKey) {
  expectRejected("topics:\n  - match: \"^(orders\"\n", {"p.yaml:2:", "key \"match\"", "bad regex"});
}

TEST(PolicySet, UnknownKeyNamesFileLineAndKey) {
  expectRejected("topics:\n  - match: x\n    max_attempt: 3\n", {"p.yaml:3:", "unknown key \"max_attempt\""});
}

TEST(PolicySet, InvalidDeadLetterTopicNameIsRejected) {
  expectRejected("topics:\n  - match: x\n    max_attempts: 1\n    dead_letter_topic: \"bad name!\"\n",
                 {"p.yaml:4:", "key \"dead_letter_topic\"", "invalid topic name"});
}

TEST(PolicySet, DeadLetterLoopIsRejected) {
  // a -> b -> a
  expectRejected(
      "topics:\n"
      "  - match: \"^a$\"\n"
      "    max_attempts: 1\n"
      "    dead_letter_topic: b\n"
      "  - match: \"^b$\"\n"
      "    max_attempts: 1\n"
      "    dead_letter_topic: a\n",
      {"p.yaml:", "key \"dead_letter_topic\"", "loop"});
  // A dead-letter topic its own entry matches dead-letters into itself.
  expectRejected("topics:\n  - match: \"^q\"\n    max_attempts: 1\n    dead_letter_topic: q.dead\n",
                 {"p.yaml:2:", "key \"dead_letter_topic\"", "loop"});
}

TEST(PolicySet, BadValuesAreRejectedWithTheirKey) {
  expectRejected("topics:\n  - match: x\n    max_attempts: -1\n", {"p.yaml:3:", "key \"max_attempts\""});
  expectRejected("topics:\n  - match: x\n    max_attempts: 70000\n", {"p.yaml:3:", "key \"max_attempts\""});
  expectRejected("topics:\n  - match: x\n    max_depth: lots\n", {"p.yaml:3:", "key \"max_depth\""});
  expectRejected("topics:\n  - match: x\n    message_ttl: soon\n", {"p.yaml:3:", "key \"message_ttl\""});
  expectRejected("topics:\n  - match: x\n    overflow: spill\n", {"p.yaml:3:", "key \"overflow\""});
  expectRejected("topics:\n  - match: x\n    max_depth: [1]\n", {"p.yaml:3:", "key \"max_depth\""});
}

TEST(PolicySet, MalformedListIsRejected) {
  expectRejected("topics: 5\n", {"p.yaml:1:", "key \"topics\""});
  expectRejected("topics:\n  - just-a-string\n", {"p.yaml:2:", "key \"topics\""});
  expectRejected("topics:\n  - max_depth: 5\n", {"p.yaml:2:", "key \"match\""});
}

TEST(PolicySet, FlagDefaultsAreChecked) {
  NsqdOptions o;
  o.nodeId = 1;
  o.dataPath = "/tmp";
  o.overflow = "spill";
  EXPECT_THROW(finalizeOptions(o), OptionError);
  o.overflow = "reject";
  o.maxAttempts = -1;
  EXPECT_THROW(finalizeOptions(o), OptionError);
  o.maxAttempts = 0;
  o.maxDepth = -5;
  EXPECT_THROW(finalizeOptions(o), OptionError);
}

}  // namespace
}  // namespace nsq::nsqd

// JsonFilter: the original nsq_to_nsq's matching rules for the JSON flags.
#include "nsq_to_nsq/json_filter.h"

#include <gtest/gtest.h>

namespace nsq::tools {
namespace {

using V = JsonFilter::Verdict;

TEST(JsonFilter, WithoutFlagsPassesAnyBodyUnchanged) {
  JsonFilter f("", "", {});
  std::string out;
  EXPECT_EQ(f.apply(std::string_view("not json\0\n", 10), &out), V::Pass);
  EXPECT_EQ(out, std::string("not json\0\n", 10));
}

TEST(JsonFilter, RequiredFieldMustBePresent) {
  JsonFilter f("a", "", {});
  std::string out;
  EXPECT_EQ(f.apply(R"({"a":null,"b":2})", &out), V::Pass);
  EXPECT_EQ(out, R"({"a":null,"b":2})");
  EXPECT_EQ(f.apply(R"({"b":2})", &out), V::Drop);
}

TEST(JsonFilter, RequiredValueMatchesStringsAndNumbers) {
  JsonFilter text("a", "x", {});
  std::string out;
  EXPECT_EQ(text.apply(R"({"a":"x"})", &out), V::Pass);
  EXPECT_EQ(text.apply(R"({"a":"y"})", &out), V::Drop);
  EXPECT_EQ(text.apply(R"({"a":true})", &out), V::Drop);
  JsonFilter number("a", "2", {});
  EXPECT_EQ(number.apply(R"({"a":2})", &out), V::Pass);
  EXPECT_EQ(number.apply(R"({"a":2.0})", &out), V::Pass);
  EXPECT_EQ(number.apply(R"({"a":"2"})", &out), V::Pass);
  EXPECT_EQ(number.apply(R"({"a":3})", &out), V::Drop);
  EXPECT_EQ(number.apply(R"({"b":2})", &out), V::Drop);
}

TEST(JsonFilter, WhitelistKeepsOnlyNamedFieldsInFlagOrder) {
  JsonFilter f("", "", {"z", "a", "missing"});
  std::string out;
  EXPECT_EQ(f.apply(R"({"a":1,"b":2,"z":"t"})", &out), V::Pass);
  EXPECT_EQ(out, R"({"z":"t","a":1})");
}

TEST(JsonFilter, NonJsonBodyWithAFilterIsReportedNotThrown) {
  JsonFilter f("a", "", {});
  std::string out;
  EXPECT_EQ(f.apply("plain text", &out), V::NotJson);
  EXPECT_EQ(f.apply("[1,2]", &out), V::NotJson);
  EXPECT_EQ(f.apply("", &out), V::NotJson);
  EXPECT_EQ(f.apply(std::string_view("{\"a\":\0", 6), &out), V::NotJson);
}

}  // namespace
}  // namespace nsq::tools

// Query strings as Go's url.ParseQuery reads them: decoding, repeats, present-but-empty, and
// the malformed inputs that make both daemons answer 400 INVALID_REQUEST.
#include "nsq/http/query.h"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

TEST(Query, DecodesPercentEscapesAndPlusAsSpace) {
  auto p = parseQuery("topic=a%2Fb&channel=c+d&x=%41%62");
  ASSERT_TRUE(p);
  EXPECT_EQ(queryValue(*p, "topic"), "a/b");
  EXPECT_EQ(queryValue(*p, "channel"), "c d");
  EXPECT_EQ(queryValue(*p, "x"), "Ab");
}

TEST(Query, AnEmptyValueIsPresentAndAMissingKeyIsNot) {
  auto p = parseQuery("topic=&flag");
  ASSERT_TRUE(p);
  EXPECT_EQ(queryValue(*p, "topic"), "");
  EXPECT_EQ(queryValue(*p, "flag"), "");
  EXPECT_EQ(queryValue(*p, "channel"), std::nullopt);
}

TEST(Query, RepeatedKeysKeepEveryValueAndGetReturnsTheFirst) {
  auto p = parseQuery("t=1&&t=2&");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->count("t"), 2u);
  EXPECT_EQ(queryValue(*p, "t"), "1");
}

TEST(Query, EmptyQueryHasNoParameters) {
  auto p = parseQuery("");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
}

TEST(Query, SemicolonsAndBadEscapesRejectTheWholeQuery) {
  EXPECT_FALSE(parseQuery("a=1;b=2"));
  EXPECT_FALSE(parseQuery("a=%zz"));
  EXPECT_FALSE(parseQuery("a=%4"));
  EXPECT_FALSE(parseQuery("%=1"));
}

TEST(Query, PathDecodingKeepsPlus) {
  EXPECT_EQ(percentDecode("/a+b%20c", false), "/a+b c");
  EXPECT_EQ(percentDecode("/a+b", true), "/a b");
  EXPECT_EQ(percentDecode("/%G0", false), std::nullopt);
}

TEST(Query, BoolsAcceptOnlyUpstreamsFourSpellings) {
  auto p = parseQuery("a=true&b=1&c=false&d=0&e=yes");
  ASSERT_TRUE(p);
  EXPECT_EQ(queryBool(*p, "a"), true);
  EXPECT_EQ(queryBool(*p, "b"), true);
  EXPECT_EQ(queryBool(*p, "c"), false);
  EXPECT_EQ(queryBool(*p, "d"), false);
  EXPECT_EQ(queryBool(*p, "e"), std::nullopt);
  EXPECT_EQ(queryBool(*p, "missing"), std::nullopt);
}

}  // namespace
}  // namespace nsq::http

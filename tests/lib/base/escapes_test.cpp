// unescape(): the C escapes of to_nsq --delimiter and nsq_tail --format, and its errors.
#include "nsq/base/escapes.h"

#include <gtest/gtest.h>

namespace nsq {
namespace {

std::string ok(std::string_view text) {
  std::string error;
  auto r = unescape(text, &error);
  EXPECT_TRUE(r) << text << ": " << error;
  return r.value_or("<error>");
}

std::string bad(std::string_view text) {
  std::string error;
  EXPECT_FALSE(unescape(text, &error)) << text;
  return error;
}

TEST(Escapes, PlainTextIsUnchanged) {
  EXPECT_EQ(ok("abc"), "abc");
  EXPECT_EQ(ok(""), "");
  EXPECT_EQ(ok("%b"), "%b");
}

TEST(Escapes, CEscapesBecomeTheirBytes) {
  EXPECT_EQ(ok("\\0"), std::string(1, '\0'));
  EXPECT_EQ(ok("a\\nb\\tc\\r"), "a\nb\tc\r");
  EXPECT_EQ(ok("\\\\"), "\\");
  EXPECT_EQ(ok("\\x1e\\xFF"), "\x1e\xff");
}

TEST(Escapes, BadEscapesAreNamed) {
  EXPECT_NE(bad("\\q").find("unknown escape \\q"), std::string::npos);
  EXPECT_NE(bad("\\x1").find("two hex digits"), std::string::npos);
  EXPECT_NE(bad("\\xzz").find("two hex digits"), std::string::npos);
  EXPECT_NE(bad("abc\\").find("trailing"), std::string::npos);
}

}  // namespace
}  // namespace nsq

#include "nsq/base/number.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace nsq;

namespace {

constexpr const char* k2to63 = "9223372036854775808";
constexpr const char* k2to64 = "18446744073709551616";
constexpr const char* kMinus2to63Minus1 = "-9223372036854775809";

NumberError errorOf(std::string_view text, int64_t min = kInt64Min, int64_t max = kInt64Max,
                    IntSyntax syntax = IntSyntax::Decimal) {
  return parseInt(text, min, max, syntax).error;
}

// The value of key "v" in {"v": <literal>} as Poco's parser leaves it.
Poco::Dynamic::Var jsonValue(const std::string& literal) {
  auto obj = Poco::JSON::Parser().parse("{\"v\":" + literal + "}").extract<Poco::JSON::Object::Ptr>();
  return obj->get("v");
}

}  // namespace

TEST(ParseInt, AcceptsDecimalIntegersWithASign) {
  EXPECT_EQ(*parseInt("0"), 0);
  EXPECT_EQ(*parseInt("-0"), 0);
  EXPECT_EQ(*parseInt("+42"), 42);
  EXPECT_EQ(*parseInt("-42"), -42);
  EXPECT_EQ(*parseInt("007"), 7);
  EXPECT_EQ(*parseInt("9223372036854775807"), kInt64Max);
  EXPECT_EQ(*parseInt("-9223372036854775808"), kInt64Min);
}

TEST(ParseInt, BoundariesOfTheGivenRange) {
  EXPECT_EQ(*parseInt("10", 10, 20), 10);      // min
  EXPECT_EQ(*parseInt("20", 10, 20), 20);      // max
  EXPECT_EQ(errorOf("21", 10, 20), NumberError::Range);  // max + 1
  EXPECT_EQ(errorOf("9", 10, 20), NumberError::Range);   // min - 1
  EXPECT_EQ(*parseInt("65535", 0, 65535), 65535);
  EXPECT_EQ(errorOf("65536", 0, 65535), NumberError::Range);
  EXPECT_EQ(errorOf("-1", 0, 65535), NumberError::Range);
}

TEST(ParseInt, BeyondInt64IsRangeNeverAThrowOrAWrap) {
  EXPECT_EQ(errorOf(k2to63), NumberError::Range);
  EXPECT_EQ(errorOf(k2to64), NumberError::Range);
  EXPECT_EQ(errorOf("18446744073709551615"), NumberError::Range);
  EXPECT_EQ(errorOf(kMinus2to63Minus1), NumberError::Range);
  EXPECT_EQ(errorOf("99999999999999999999"), NumberError::Range);
  EXPECT_EQ(errorOf(std::string(5000, '9')), NumberError::Range);
  EXPECT_EQ(errorOf("-" + std::string(5000, '9')), NumberError::Range);
  EXPECT_EQ(errorOf(std::string(5000, '0') + "1", 0, 1), NumberError::None);
}

TEST(ParseInt, AnythingButDigitsIsSyntax) {
  for (const char* bad : {"", "+", "-", "+-1", "--1", " 1", "1 ", "1.5", "1e3", "0x10", "1_000", "abc",
                          "12abc", "NaN", "inf", "\xff", "99999999999999999999x"})
    EXPECT_EQ(errorOf(bad), NumberError::Syntax) << bad;
  std::string withNul("12\0" "3", 4);
  EXPECT_EQ(errorOf(withNul), NumberError::Syntax);
}

TEST(ParseInt, GoFlagSyntaxTakesBasePrefixesAndUnderscores) {
  auto flag = [](std::string_view t) { return parseInt(t, kInt64Min, kInt64Max, IntSyntax::GoFlag); };
  EXPECT_EQ(*flag("0x1f"), 31);
  EXPECT_EQ(*flag("0X1F"), 31);
  EXPECT_EQ(*flag("0o17"), 15);
  EXPECT_EQ(*flag("017"), 15);
  EXPECT_EQ(*flag("0b101"), 5);
  EXPECT_EQ(*flag("-0x10"), -16);
  EXPECT_EQ(*flag("1_000"), 1000);
  EXPECT_EQ(*flag("0x_1f"), 31);
  EXPECT_EQ(*flag("0"), 0);
  EXPECT_EQ(*flag("0x7fffffffffffffff"), kInt64Max);
  EXPECT_EQ(flag("0x8000000000000000").error, NumberError::Range);
  EXPECT_EQ(flag("-0x8000000000000000").value, kInt64Min);
  for (const char* bad : {"0x", "09", "0b2", "1__0", "_1", "1_", "0xg"})
    EXPECT_EQ(flag(bad).error, NumberError::Syntax) << bad;
}

TEST(JsonInt, ReadsEveryIntegerWidthExactly) {
  EXPECT_EQ(*jsonInt(jsonValue("42")), 42);
  EXPECT_EQ(*jsonInt(jsonValue("-42")), -42);
  EXPECT_EQ(*jsonInt(jsonValue("9223372036854775807")), kInt64Max);
  EXPECT_EQ(*jsonInt(jsonValue("-9223372036854775808")), kInt64Min);
  EXPECT_EQ(*jsonInt(Poco::Dynamic::Var(int32_t{-7})), -7);
  EXPECT_EQ(*jsonInt(Poco::Dynamic::Var(uint16_t{7})), 7);
}

TEST(JsonInt, UInt64AboveInt64MaxIsRange) {
  auto v = jsonValue(k2to63);
  ASSERT_EQ(v.type(), typeid(Poco::UInt64));  // what made convert<int64_t>() throw
  EXPECT_EQ(jsonInt(v).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("18446744073709551615")).error, NumberError::Range);
  EXPECT_EQ(jsonInt(Poco::Dynamic::Var(std::numeric_limits<uint64_t>::max())).error, NumberError::Range);
}

TEST(JsonInt, BoundariesOfTheGivenRange) {
  EXPECT_EQ(*jsonInt(jsonValue("0"), 0, 65535), 0);
  EXPECT_EQ(*jsonInt(jsonValue("65535"), 0, 65535), 65535);
  EXPECT_EQ(jsonInt(jsonValue("65536"), 0, 65535).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("-1"), 0, 65535).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("2147483648"), INT32_MIN, INT32_MAX).error, NumberError::Range);
  EXPECT_EQ(*jsonInt(jsonValue("2147483647"), INT32_MIN, INT32_MAX), INT32_MAX);
}

TEST(JsonInt, DoublesCountOnlyWhenIntegralAndInRange) {
  EXPECT_EQ(*jsonInt(jsonValue("30000.0")), 30000);
  EXPECT_EQ(*jsonInt(jsonValue("1e3")), 1000);
  EXPECT_EQ(jsonInt(jsonValue("1.5")).error, NumberError::Syntax);
  EXPECT_EQ(jsonInt(jsonValue("1e19")).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("-1e19")).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("9223372036854775808.0")).error, NumberError::Range);
  EXPECT_EQ(jsonInt(jsonValue("1e300")).error, NumberError::Range);
  EXPECT_EQ(jsonInt(Poco::Dynamic::Var(std::nan(""))).error, NumberError::Syntax);
  EXPECT_EQ(jsonInt(Poco::Dynamic::Var(INFINITY)).error, NumberError::Syntax);
  EXPECT_EQ(*jsonInt(Poco::Dynamic::Var(-9223372036854775808.0)), kInt64Min);
}

TEST(JsonInt, NonNumbersAreSyntax) {
  for (const char* literal : {"\"12\"", "true", "false", "null", "[1]", "{\"a\":1}", "\"\""})
    EXPECT_EQ(jsonInt(jsonValue(literal)).error, NumberError::Syntax) << literal;
  EXPECT_EQ(jsonInt(Poco::Dynamic::Var()).error, NumberError::Syntax);
}

TEST(FindUnrepresentableJsonInteger, FindsWhatPocoWouldWrap) {
  // Poco reads 2^64 as 0 and -2^63-1 as -2^63: the parsed value alone cannot tell.
  EXPECT_EQ(findUnrepresentableJsonInteger(std::string("{\"a\":") + k2to64 + "}"), k2to64);
  EXPECT_EQ(findUnrepresentableJsonInteger(std::string("[1,") + kMinus2to63Minus1 + "]"), kMinus2to63Minus1);
  std::string huge(400, '9');
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\":" + huge + "}"), huge);
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\":00018446744073709551616}"), "00018446744073709551616");
}

TEST(FindUnrepresentableJsonInteger, LeavesRepresentableNumbersStringsAndFloatsAlone) {
  EXPECT_EQ(findUnrepresentableJsonInteger(std::string("{\"a\":") + k2to63 + "}"), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\":18446744073709551615,\"b\":-9223372036854775808}"),
            std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\":\"18446744073709551616\"}"), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\\\"18446744073709551616\":1}"), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("{\"a\":18446744073709551616.5,\"b\":1e99999}"), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger(""), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("\"unterminated 99999999999999999999999"), std::nullopt);
  EXPECT_EQ(findUnrepresentableJsonInteger("-"), std::nullopt);
}

TEST(IsPort, ZeroTo65535) {
  EXPECT_TRUE(isPort(0));
  EXPECT_TRUE(isPort(65535));
  EXPECT_FALSE(isPort(65536));
  EXPECT_FALSE(isPort(-1));
}

TEST(ParseBool, AcceptsGoSpellingsOnly) {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"}) EXPECT_EQ(parseBool(t), true) << t;
  for (const char* t : {"0", "f", "F", "false", "FALSE", "False"}) EXPECT_EQ(parseBool(t), false) << t;
  for (const char* t : {"", "yes", "no", "on", "tRUE", "2", " true"}) EXPECT_FALSE(parseBool(t).has_value()) << t;
}

// TailFormat: nsq_tail --format directives, escapes, binary-safe templates and errors.
#include "nsq_tail/tail_format.h"

#include <gtest/gtest.h>

namespace nsq::tools {
namespace {

Message message(std::string_view body) {
  Message m;
  m.id = MessageId::fromGuid(0x0123456789abcdefULL);
  m.timestamp = 1765000800123456789;  // 2025-12-06T06:00:00.123456789Z
  m.attempts = 3;
  m.body = Body(body);
  return m;
}

std::string render(const std::string& spec, std::string_view body, std::string_view topic = "t") {
  std::string error;
  auto f = TailFormat::parse(spec, &error);
  EXPECT_TRUE(f) << spec << ": " << error;
  std::string out;
  if (f) f->render(message(body), topic, out);
  return out;
}

TEST(TailFormat, DefaultIsTheBodyAndANewline) {
  EXPECT_EQ(render("%b\\n", "hello"), "hello\n");
  EXPECT_EQ(render("%T | %b\\n", "hello", "logs"), "logs | hello\n");
}

TEST(TailFormat, ShowsIdAttemptsTimestampAndLength) {
  EXPECT_EQ(render("%i %a %t %l %%\\t%b", "xyz"), "0123456789abcdef 3 1765000800123456789 3 %\txyz");
  EXPECT_EQ(render("%d", ""), "2025-12-06T06:00:00.123456789Z");
}

TEST(TailFormat, BinarySafeTemplatesKeepEveryByte) {
  std::string body("a\nb\0c", 5);
  EXPECT_EQ(render("%b\\0", body), body + std::string(1, '\0'));
  EXPECT_EQ(render("%l:%b,", body), "5:" + body + ",");
}

TEST(TailFormat, EscapesAreLiteralNotDirectives) {
  EXPECT_EQ(render("\\x25b", "body"), "%b");
  EXPECT_EQ(render("\\\\%b", "body"), "\\body");
}

TEST(TailFormat, BadTemplatesAreNamed) {
  std::string error;
  EXPECT_FALSE(TailFormat::parse("%q", &error));
  EXPECT_NE(error.find("unknown field %q"), std::string::npos) << error;
  EXPECT_FALSE(TailFormat::parse("%b%", &error));
  EXPECT_NE(error.find("trailing %"), std::string::npos) << error;
  EXPECT_FALSE(TailFormat::parse("%b\\y", &error));
  EXPECT_NE(error.find("unknown escape \\y"), std::string::npos) << error;
}

}  // namespace
}  // namespace nsq::tools

// foldJsonKeys: keys in another case fill a field, an exact spelling wins, others stay.
#include "nsq/base/json_fields.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

namespace nsq {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

TEST(JsonFields, AKeyInAnotherCaseIsRenamedToTheField) {
  auto obj = parse(R"({"TCP_Port":1,"Other":2})");
  foldJsonKeys(*obj, {"tcp_port", "http_port"});
  EXPECT_EQ(obj->getValue<int>("tcp_port"), 1);
  EXPECT_FALSE(obj->has("TCP_Port"));
  EXPECT_FALSE(obj->has("http_port"));
  EXPECT_EQ(obj->getValue<int>("Other"), 2);  // matches no field: left alone
}

TEST(JsonFields, AnExactSpellingWinsOverAnotherCase) {
  auto obj = parse(R"({"TTL":1,"ttl":2})");
  foldJsonKeys(*obj, {"ttl"});
  EXPECT_EQ(obj->getValue<int>("ttl"), 2);
}

TEST(JsonFields, OnlyAsciiCaseIsFolded) {
  auto obj = parse(R"({"tcp-port":1,"tcpport":2})");
  foldJsonKeys(*obj, {"tcp_port"});
  EXPECT_FALSE(obj->has("tcp_port"));
}

}  // namespace
}  // namespace nsq

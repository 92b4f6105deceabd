// Reading nsqlookupd's and nsqd's JSON replies as go-nsq reads them: today's bare objects, the
// pre-1.0 {"status_code","status_txt","data"} wrapper, and keys in another case
// (docs/leniency.md #13).
#include "nsq/client/lookupd_client.h"

#include <gtest/gtest.h>

namespace nsq {
namespace {

constexpr const char* kProducer =
    R"({"remote_address":"127.0.0.1:5","hostname":"h","broadcast_address":"b","tcp_port":4150,)"
    R"("http_port":4151,"version":"1.3.0"})";

TEST(LookupdReply, ReadsTheBareObjectOfA1xDaemon) {
  auto obj = replyObject(std::string(R"({"channels":["c"],"producers":[)") + kProducer + "]}");
  auto producers = parseProducers(*obj);
  ASSERT_EQ(producers.size(), 1u);
  EXPECT_EQ(producers[0].tcpAddress(), "b:4150");
  EXPECT_EQ(producers[0].httpPort, 4151);
  EXPECT_EQ(producers[0].version, "1.3.0");
}

TEST(LookupdReply, ReadsTheDataOfAPre10DaemonsWrapper) {
  auto obj = replyObject(std::string(R"({"status_code":200,"status_txt":"OK","data":{"producers":[)") +
                         kProducer + "]}}");
  auto producers = parseProducers(*obj);
  ASSERT_EQ(producers.size(), 1u);
  EXPECT_EQ(producers[0].broadcastAddress, "b");
  // A wrapped error keeps the wrapper: no data object to unwrap.
  auto err = replyObject(R"({"status_code":404,"status_txt":"TOPIC_NOT_FOUND","data":null})");
  EXPECT_TRUE(err->has("status_txt"));
}

TEST(LookupdReply, KeysMatchIgnoringCaseAsGoDecodesThem) {
  auto obj = replyObject(R"({"Producers":[{"Broadcast_Address":"b","TCP_PORT":1,"Http_Port":2}]})");
  auto producers = parseProducers(*obj);
  ASSERT_EQ(producers.size(), 1u);
  EXPECT_EQ(producers[0].tcpAddress(), "b:1");
  EXPECT_EQ(producers[0].httpPort, 2);
}

TEST(LookupdReply, BadRepliesThrowAndNameTheProblem) {
  EXPECT_ANY_THROW(replyObject("[1,2]"));
  EXPECT_ANY_THROW(replyObject("not json"));
  auto badPort = replyObject(R"({"producers":[{"broadcast_address":"b","tcp_port":70000,"http_port":1}]})");
  try {
    parseProducers(*badPort);
    ADD_FAILURE() << "a port past 65535 was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("invalid port"), std::string::npos) << e.what();
  }
  auto notObject = replyObject(R"({"producers":[42]})");
  EXPECT_ANY_THROW(parseProducers(*notObject));
}

}  // namespace
}  // namespace nsq

// negotiateIdentify without sockets: every field's range checks, the type and JSON failures,
// feature negotiation and the reply's exact shape.
#include "nsqd/identify.h"

#include <gtest/gtest.h>

#include <string>

#include "nsq/version.h"
#include "nsqd/options.h"

namespace nsq::nsqd {
namespace {

constexpr int64_t kMs = 1'000'000;

class IdentifyTest : public ::testing::Test {
 protected:
  IdentifyTest() : policy(IdentifyPolicy::fromOptions(opts)), current(ClientSettings::defaults(opts)) {}

  // Negotiates body; the test fails if it errs.
  IdentifyResult ok(const std::string& body) {
    IdentifyResult out;
    std::string why;
    Error err = negotiateIdentify(body, policy, current, out, &why);
    EXPECT_FALSE(err) << body << " -> " << err.frameText() << " (" << why << ")";
    return out;
  }
  // Negotiates body, which must fail; returns the error frame text and sets why.
  std::string fails(const std::string& body) {
    IdentifyResult out;
    why.clear();
    Error err = negotiateIdentify(body, policy, current, out, &why);
    EXPECT_TRUE(err) << body;
    return err.frameText();
  }

  NsqdOptions opts;
  IdentifyPolicy policy;
  ClientSettings current;
  std::string why;
};

const char* const kDecodeFailed = "E_BAD_BODY IDENTIFY failed to decode JSON body";

// ---------------------------------------------------------------------------------------------
// Defaults and identity

TEST_F(IdentifyTest, DefaultsComeFromTheFlags) {
  EXPECT_EQ(current.heartbeatIntervalNs, opts.clientTimeout.count() / 2);
  EXPECT_EQ(current.outputBufferSize, 16384);
  EXPECT_EQ(current.outputBufferTimeoutNs, opts.outputBufferTimeout.count());
  EXPECT_EQ(current.msgTimeoutNs, opts.msgTimeout.count());
  EXPECT_EQ(current.sampleRate, 0);
  EXPECT_EQ(policy.maxRdyCount, opts.maxRdyCount);
  EXPECT_FALSE(policy.tlsAvailable);
  EXPECT_FALSE(policy.authRequired);
}

TEST_F(IdentifyTest, EmptyObjectKeepsEverySettingAndRepliesOk) {
  current.clientId = "peer";
  IdentifyResult r = ok("{}");
  EXPECT_EQ(r.reply, "OK");
  EXPECT_EQ(r.settings.clientId, "");  // absent means empty, as upstream
  EXPECT_EQ(r.settings.heartbeatIntervalNs, current.heartbeatIntervalNs);
  EXPECT_EQ(r.settings.outputBufferSize, current.outputBufferSize);
  EXPECT_EQ(r.settings.outputBufferTimeoutNs, current.outputBufferTimeoutNs);
  EXPECT_EQ(r.settings.msgTimeoutNs, current.msgTimeoutNs);
  EXPECT_FALSE(r.tls || r.snappy || r.deflate);
}

TEST_F(IdentifyTest, IdentityStringsAreTaken) {
  IdentifyResult r = ok(R"({"client_id":"c1","hostname":"h.example","user_agent":"go-nsq/1.1.0"})");
  EXPECT_EQ(r.settings.clientId, "c1");
  EXPECT_EQ(r.settings.hostname, "h.example");
  EXPECT_EQ(r.settings.userAgent, "go-nsq/1.1.0");
}

// The original's Go decoder matches keys to fields ignoring case (docs/leniency.md).
TEST_F(IdentifyTest, KeysMatchIgnoringCaseAsTheOriginalDecodesThem) {
  IdentifyResult r = ok(R"({"Client_ID":"c1","HOSTNAME":"h","Heartbeat_Interval":5000,"Feature_Negotiation":true})");
  EXPECT_EQ(r.settings.clientId, "c1");
  EXPECT_EQ(r.settings.hostname, "h");
  EXPECT_EQ(r.settings.heartbeatIntervalNs, 5'000'000'000);
  EXPECT_NE(r.reply, "OK") << "feature_negotiation was read";
  // An exact spelling wins over another one.
  EXPECT_EQ(ok(R"({"CLIENT_ID":"other","client_id":"exact"})").settings.clientId, "exact");
}

TEST_F(IdentifyTest, NullFieldsCountAsAbsent) {
  IdentifyResult r = ok(R"({"client_id":null,"heartbeat_interval":null,"snappy":null})");
  EXPECT_EQ(r.settings.heartbeatIntervalNs, current.heartbeatIntervalNs);
}

TEST_F(IdentifyTest, ZeroKeepsTheCurrentValueFromAnEarlierIdentify) {
  current.heartbeatIntervalNs = 5000 * kMs;
  current.msgTimeoutNs = 7000 * kMs;
  IdentifyResult r = ok(R"({"heartbeat_interval":0,"msg_timeout":0})");
  EXPECT_EQ(r.settings.heartbeatIntervalNs, 5000 * kMs);
  EXPECT_EQ(r.settings.msgTimeoutNs, 7000 * kMs);
}

// ---------------------------------------------------------------------------------------------
// Range checks

TEST_F(IdentifyTest, HeartbeatIntervalRange) {
  const int64_t maxMs = opts.maxHeartbeatInterval.count() / kMs;
  EXPECT_EQ(ok(R"({"heartbeat_interval":-1})").settings.heartbeatIntervalNs, 0);
  EXPECT_EQ(ok(R"({"heartbeat_interval":1000})").settings.heartbeatIntervalNs, 1000 * kMs);
  EXPECT_EQ(ok("{\"heartbeat_interval\":" + std::to_string(maxMs) + "}").settings.heartbeatIntervalNs, maxMs * kMs);
  EXPECT_EQ(fails(R"({"heartbeat_interval":999})"), "E_BAD_BODY IDENTIFY heartbeat interval (999) is invalid");
  EXPECT_EQ(fails("{\"heartbeat_interval\":" + std::to_string(maxMs + 1) + "}"),
            "E_BAD_BODY IDENTIFY heartbeat interval (" + std::to_string(maxMs + 1) + ") is invalid");
  EXPECT_EQ(fails(R"({"heartbeat_interval":-2})"), "E_BAD_BODY IDENTIFY heartbeat interval (-2) is invalid");
}

TEST_F(IdentifyTest, OutputBufferTimeoutRange) {
  const int64_t minMs = opts.minOutputBufferTimeout.count() / kMs, maxMs = opts.maxOutputBufferTimeout.count() / kMs;
  EXPECT_EQ(ok(R"({"output_buffer_timeout":-1})").settings.outputBufferTimeoutNs, 0);
  EXPECT_EQ(ok("{\"output_buffer_timeout\":" + std::to_string(minMs) + "}").settings.outputBufferTimeoutNs, minMs * kMs);
  EXPECT_EQ(ok("{\"output_buffer_timeout\":" + std::to_string(maxMs) + "}").settings.outputBufferTimeoutNs, maxMs * kMs);
  EXPECT_EQ(fails("{\"output_buffer_timeout\":" + std::to_string(minMs - 1) + "}"),
            "E_BAD_BODY IDENTIFY output buffer timeout (" + std::to_string(minMs - 1) + ") is invalid");
  EXPECT_EQ(fails("{\"output_buffer_timeout\":" + std::to_string(maxMs + 1) + "}"),
            "E_BAD_BODY IDENTIFY output buffer timeout (" + std::to_string(maxMs + 1) + ") is invalid");
}

TEST_F(IdentifyTest, OutputBufferSizeRange) {
  IdentifyResult off = ok(R"({"output_buffer_size":-1,"output_buffer_timeout":100})");
  EXPECT_EQ(off.settings.outputBufferSize, 1);  // -1: every frame goes out at once
  EXPECT_EQ(off.settings.outputBufferTimeoutNs, 0);
  EXPECT_EQ(ok(R"({"output_buffer_size":64})").settings.outputBufferSize, 64);
  EXPECT_EQ(ok("{\"output_buffer_size\":" + std::to_string(opts.maxOutputBufferSize) + "}").settings.outputBufferSize,
            opts.maxOutputBufferSize);
  EXPECT_EQ(fails(R"({"output_buffer_size":63})"), "E_BAD_BODY IDENTIFY output buffer size (63) is invalid");
  EXPECT_EQ(fails("{\"output_buffer_size\":" + std::to_string(opts.maxOutputBufferSize + 1) + "}"),
            "E_BAD_BODY IDENTIFY output buffer size (" + std::to_string(opts.maxOutputBufferSize + 1) + ") is invalid");
}

TEST_F(IdentifyTest, SampleRateRange) {
  EXPECT_EQ(ok(R"({"sample_rate":0})").settings.sampleRate, 0);
  EXPECT_EQ(ok(R"({"sample_rate":99})").settings.sampleRate, 99);
  EXPECT_EQ(fails(R"({"sample_rate":100})"), "E_BAD_BODY IDENTIFY sample rate (100) is invalid");
  EXPECT_EQ(fails(R"({"sample_rate":-1})"), "E_BAD_BODY IDENTIFY sample rate (-1) is invalid");
  // Past int32 (upstream's field type): the body does not decode at all.
  EXPECT_EQ(fails(R"({"sample_rate":2147483648})"), kDecodeFailed);
  EXPECT_EQ(why, "sample_rate out of range");
}

TEST_F(IdentifyTest, MsgTimeoutRange) {
  const int64_t maxMs = opts.maxMsgTimeout.count() / kMs;
  EXPECT_EQ(ok(R"({"msg_timeout":1000})").settings.msgTimeoutNs, 1000 * kMs);
  EXPECT_EQ(ok("{\"msg_timeout\":" + std::to_string(maxMs) + "}").settings.msgTimeoutNs, maxMs * kMs);
  EXPECT_EQ(fails(R"({"msg_timeout":999})"), "E_BAD_BODY IDENTIFY msg timeout (999) is invalid");
  EXPECT_EQ(fails(R"({"msg_timeout":-1})"), "E_BAD_BODY IDENTIFY msg timeout (-1) is invalid");
  EXPECT_EQ(fails("{\"msg_timeout\":" + std::to_string(maxMs + 1) + "}"),
            "E_BAD_BODY IDENTIFY msg timeout (" + std::to_string(maxMs + 1) + ") is invalid");
}

TEST_F(IdentifyTest, RangeErrorsAreFatal) {
  IdentifyResult out;
  Error err = negotiateIdentify(R"({"msg_timeout":1})", policy, current, out);
  EXPECT_EQ(err.code, ErrorCode::BadBody);
  EXPECT_TRUE(isFatal(err.code));
}

// ---------------------------------------------------------------------------------------------
// Bodies that do not decode

TEST_F(IdentifyTest, BadJsonFailsToDecode) {
  EXPECT_EQ(fails("not json"), kDecodeFailed);
  EXPECT_EQ(fails(""), kDecodeFailed);
  EXPECT_EQ(fails("{\"client_id\":"), kDecodeFailed);
  EXPECT_EQ(fails("[1,2]"), kDecodeFailed);  // not an object
  EXPECT_EQ(fails("42"), kDecodeFailed);
}

TEST_F(IdentifyTest, WrongTypesNameTheFirstFieldForTheLog) {
  EXPECT_EQ(fails(R"({"client_id":5})"), kDecodeFailed);
  EXPECT_EQ(why, "client_id is not a string");
  EXPECT_EQ(fails(R"({"snappy":"yes"})"), kDecodeFailed);
  EXPECT_EQ(why, "snappy is not a boolean");
  EXPECT_EQ(fails(R"({"heartbeat_interval":"1000"})"), kDecodeFailed);
  EXPECT_EQ(why, "heartbeat_interval is not an integer");
  EXPECT_EQ(fails(R"({"msg_timeout":1500.5})"), kDecodeFailed);
  EXPECT_EQ(why, "msg_timeout is not an integer");
  EXPECT_EQ(fails(R"({"user_agent":1,"deflate":2})"), kDecodeFailed);
  EXPECT_EQ(why, "user_agent is not a string");
}

TEST_F(IdentifyTest, NumbersPastInt64AreRefusedBeforeParsing) {
  EXPECT_EQ(fails(R"({"heartbeat_interval":18446744073709551616})"), kDecodeFailed);
  EXPECT_EQ(why, "number 18446744073709551616 out of range");
  EXPECT_EQ(fails(R"({"output_buffer_size":9223372036854775808})"), kDecodeFailed);
  EXPECT_NE(why.find("out of range"), std::string::npos) << why;
}

// ---------------------------------------------------------------------------------------------
// Feature negotiation

TEST_F(IdentifyTest, FeatureNegotiationReplyHasUpstreamsShape) {
  IdentifyResult r = ok(R"({"feature_negotiation":true,"client_id":"c"})");
  EXPECT_EQ(r.reply,
            "{\"max_rdy_count\":2500,\"version\":\"" NSQ_VERSION "\",\"max_msg_timeout\":900000,"
            "\"msg_timeout\":60000,\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,"
            "\"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":0,\"auth_required\":false,"
            "\"output_buffer_size\":16384,\"output_buffer_timeout\":250,\"topology_region\":\"\","
            "\"topology_zone\":\"\"}");
}

TEST_F(IdentifyTest, ReplyReportsNegotiatedValuesAndServerSettings) {
  policy.authRequired = true;
  policy.topologyRegion = "eu";
  policy.topologyZone = "eu-\"1\"";
  IdentifyResult r = ok(R"({"feature_negotiation":true,"msg_timeout":5000,"sample_rate":10,)"
                        R"("output_buffer_size":100,"output_buffer_timeout":-1})");
  EXPECT_NE(r.reply.find("\"msg_timeout\":5000,"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("\"sample_rate\":10,"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("\"auth_required\":true,"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("\"output_buffer_size\":100,\"output_buffer_timeout\":0,"), std::string::npos) << r.reply;
  EXPECT_NE(r.reply.find("\"topology_region\":\"eu\",\"topology_zone\":\"eu-\\\"1\\\"\"}"), std::string::npos) << r.reply;
}

TEST_F(IdentifyTest, TlsIsGrantedOnlyWhenAvailable) {
  EXPECT_FALSE(ok(R"({"feature_negotiation":true,"tls_v1":true})").tls);
  policy.tlsAvailable = true;
  IdentifyResult r = ok(R"({"feature_negotiation":true,"tls_v1":true})");
  EXPECT_TRUE(r.tls);
  EXPECT_NE(r.reply.find("\"tls_v1\":true"), std::string::npos);
  EXPECT_FALSE(ok(R"({"feature_negotiation":true})").tls);  // not asked for
}

TEST_F(IdentifyTest, WithoutFeatureNegotiationNothingIsGranted) {
  policy.tlsAvailable = true;
  IdentifyResult r = ok(R"({"tls_v1":true,"snappy":true})");
  EXPECT_EQ(r.reply, "OK");
  EXPECT_FALSE(r.tls);
  EXPECT_FALSE(r.snappy);
}

TEST_F(IdentifyTest, CompressionFollowsTheServerFlags) {
  IdentifyResult s = ok(R"({"feature_negotiation":true,"snappy":true})");
  EXPECT_TRUE(s.snappy);
  EXPECT_FALSE(s.deflate);
  EXPECT_NE(s.reply.find("\"snappy\":true"), std::string::npos);
  policy.snappy = false;
  EXPECT_FALSE(ok(R"({"feature_negotiation":true,"snappy":true})").snappy);
  policy.deflate = false;
  EXPECT_FALSE(ok(R"({"feature_negotiation":true,"deflate":true})").deflate);
}

TEST_F(IdentifyTest, DeflateLevelIsCappedByTheServer) {
  policy.maxDeflateLevel = 4;
  IdentifyResult r = ok(R"({"feature_negotiation":true,"deflate":true,"deflate_level":9})");
  EXPECT_TRUE(r.deflate);
  EXPECT_EQ(r.deflateLevel, 4);
  EXPECT_NE(r.reply.find("\"deflate\":true,\"deflate_level\":4,\"max_deflate_level\":4"), std::string::npos) << r.reply;
  policy.maxDeflateLevel = 9;
  EXPECT_EQ(ok(R"({"feature_negotiation":true,"deflate":true})").deflateLevel, 6);  // 0 = default
  EXPECT_EQ(ok(R"({"feature_negotiation":true,"deflate":true,"deflate_level":2})").deflateLevel, 2);
}

TEST_F(IdentifyTest, BothCompressionsAtOnceFail) {
  EXPECT_EQ(fails(R"({"feature_negotiation":true,"deflate":true,"snappy":true})"),
            "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression");
  policy.snappy = false;  // only one would be granted: no conflict
  EXPECT_TRUE(ok(R"({"feature_negotiation":true,"deflate":true,"snappy":true})").deflate);
}

}  // namespace
}  // namespace nsq::nsqd

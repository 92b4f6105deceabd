// IDENTIFY: decodes the client's JSON, range-checks every field against the server's limits and
// writes the reply. Like the original, which decodes into Go ints (sample_rate an int32), a
// value that does not fit its field (2^63, a string, a fraction) fails the whole body with the
// original's text; *why names the field, as the original logs the decoder's error. Numbers go
// through nsq::jsonInt, which never throws: an escaped Poco::RangeException once aborted nsqd.
// Poco's parser reports bad JSON by throwing; that one exception is caught right here.
#include "nsqd/identify.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <climits>

#include "nsq/base/json_text.h"
#include "nsq/base/number.h"
#include "nsq/version.h"
#include "nsq/base/json_fields.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

namespace {
constexpr int64_t kMs = 1'000'000;
}  // namespace

IdentifyPolicy IdentifyPolicy::fromOptions(const NsqdOptions& o) {
  IdentifyPolicy p;
  p.maxHeartbeatIntervalNs = o.maxHeartbeatInterval.count();
  p.minOutputBufferTimeoutNs = o.minOutputBufferTimeout.count();
  p.maxOutputBufferTimeoutNs = o.maxOutputBufferTimeout.count();
  p.maxOutputBufferSize = o.maxOutputBufferSize;
  p.maxMsgTimeoutNs = o.maxMsgTimeout.count();
  p.maxRdyCount = o.maxRdyCount;
  p.maxDeflateLevel = o.maxDeflateLevel;
  p.deflate = o.deflate;
  p.snappy = o.snappy;
  p.topologyRegion = o.topologyRegion;
  p.topologyZone = o.topologyZone;
  return p;
}

ClientSettings ClientSettings::defaults(const NsqdOptions& o) {
  ClientSettings s;
  s.heartbeatIntervalNs = o.clientTimeout.count() / 2;
  s.outputBufferTimeoutNs = o.outputBufferTimeout.count();
  s.msgTimeoutNs = o.msgTimeout.count();
  return s;
}

Error negotiateIdentify(std::string_view body, const IdentifyPolicy& policy, const ClientSettings& current,
                        IdentifyResult& out, std::string* why) {
  const Error decodeFailed{ErrorCode::BadBody, "IDENTIFY failed to decode JSON body"};
  auto refuse = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return decodeFailed;
  };
  // Poco would read these wrapped (2^64 as 0), so they are refused before parsing.
  if (auto big = findUnrepresentableJsonInteger(body))
    return refuse("number " + std::string(big->substr(0, 64)) + " out of range");
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(body));
    obj = v.extract<Poco::JSON::Object::Ptr>();
  } catch (...) {
    return decodeFailed;
  }
  if (!obj) return decodeFailed;
  // Go's decoder matches field names ignoring case; so do we (docs/leniency.md).
  foldJsonKeys(*obj, {"client_id", "hostname", "user_agent", "topology_region", "topology_zone",
                      "feature_negotiation", "tls_v1", "snappy", "deflate", "heartbeat_interval",
                      "output_buffer_size", "output_buffer_timeout", "deflate_level", "sample_rate",
                      "msg_timeout"});

  std::string typeError;  // the first field that did not decode
  auto getString = [&](const char* key, std::string& value) {
    if (!obj->has(key) || obj->isNull(key)) return;
    auto v = obj->get(key);
    if (!v.isString()) typeError = typeError.empty() ? std::string(key) + " is not a string" : typeError;
    else value = v.convert<std::string>();
  };
  auto getBool = [&](const char* key, bool& value) {
    if (!obj->has(key) || obj->isNull(key)) return;
    auto v = obj->get(key);
    if (!v.isBoolean()) typeError = typeError.empty() ? std::string(key) + " is not a boolean" : typeError;
    else value = v.convert<bool>();
  };
  auto getInt = [&](const char* key, int64_t& value, int64_t min = kInt64Min, int64_t max = kInt64Max) {
    if (!obj->has(key) || obj->isNull(key)) return;
    ParsedInt n = jsonInt(obj->get(key), min, max);
    if (n) {
      value = *n;
    } else if (typeError.empty()) {
      typeError = std::string(key) + (n.error == NumberError::Range ? " out of range" : " is not an integer");
    }
  };
  std::string clientId, hostname, userAgent, region, zone;
  bool featureNegotiation = false, tls = false, snappy = false, deflate = false;
  int64_t heartbeat = 0, obSize = 0, obTimeout = 0, deflateLevel = 0, sampleRate = 0, msgTimeout = 0;
  getString("client_id", clientId);
  getString("hostname", hostname);
  getString("user_agent", userAgent);
  getString("topology_region", region);
  getString("topology_zone", zone);
  getBool("feature_negotiation", featureNegotiation);
  getBool("tls_v1", tls);
  getBool("snappy", snappy);
  getBool("deflate", deflate);
  getInt("heartbeat_interval", heartbeat);
  getInt("output_buffer_size", obSize);
  getInt("output_buffer_timeout", obTimeout);
  getInt("deflate_level", deflateLevel);
  getInt("sample_rate", sampleRate, INT32_MIN, INT32_MAX);
  getInt("msg_timeout", msgTimeout);
  if (!typeError.empty()) return refuse(typeError);

  auto invalid = [](const char* what, int64_t v) {
    return Error{ErrorCode::BadBody, std::string("IDENTIFY ") + what + " (" + std::to_string(v) + ") is invalid"};
  };
  // For each number: -1 turns the feature off where that means something, 0 keeps the current
  // value, anything else must lie in the server's range.
  int64_t hbNs = current.heartbeatIntervalNs;
  const int64_t maxHbMs = policy.maxHeartbeatIntervalNs / kMs;
  if (heartbeat == -1) hbNs = 0;
  else if (heartbeat == 0) {}
  else if (heartbeat >= 1000 && heartbeat <= maxHbMs) hbNs = heartbeat * kMs;
  else return invalid("heartbeat interval", heartbeat);

  int64_t obTimeoutNs = current.outputBufferTimeoutNs;
  const int64_t minObMs = policy.minOutputBufferTimeoutNs / kMs, maxObMs = policy.maxOutputBufferTimeoutNs / kMs;
  if (obTimeout == -1) obTimeoutNs = 0;
  else if (obTimeout == 0) {}
  else if (obTimeout >= minObMs && obTimeout <= maxObMs) obTimeoutNs = obTimeout * kMs;
  else return invalid("output buffer timeout", obTimeout);

  int64_t obBytes = current.outputBufferSize;
  if (obSize == -1) {
    obBytes = 1;
    obTimeoutNs = 0;
  } else if (obSize == 0) {
  } else if (obSize >= 64 && obSize <= policy.maxOutputBufferSize) {
    obBytes = obSize;
  } else {
    return invalid("output buffer size", obSize);
  }
  if (sampleRate < 0 || sampleRate > 99) return invalid("sample rate", sampleRate);
  int64_t msgTimeoutNs = current.msgTimeoutNs;
  const int64_t maxMsgMs = policy.maxMsgTimeoutNs / kMs;
  if (msgTimeout == 0) {}
  else if (msgTimeout >= 1000 && msgTimeout <= maxMsgMs) msgTimeoutNs = msgTimeout * kMs;
  else return invalid("msg timeout", msgTimeout);

  ClientSettings& s = out.settings;
  s.clientId = std::move(clientId);
  s.hostname = std::move(hostname);
  s.userAgent = std::move(userAgent);
  s.heartbeatIntervalNs = hbNs;
  s.outputBufferTimeoutNs = obTimeoutNs;
  s.outputBufferSize = obBytes;
  s.sampleRate = static_cast<int>(sampleRate);
  s.msgTimeoutNs = msgTimeoutNs;
  out.tls = out.snappy = out.deflate = false;
  out.deflateLevel = 6;

  if (!featureNegotiation) {
    out.reply = "OK";
    return {};
  }
  out.tls = tls && policy.tlsAvailable;
  out.deflate = deflate && policy.deflate;
  out.snappy = snappy && policy.snappy;
  if (out.deflate && out.snappy)
    return {ErrorCode::IdentifyFailed, "cannot enable both deflate and snappy compression"};
  int64_t level = out.deflate && deflateLevel > 0 ? deflateLevel : 6;
  level = std::min(level, policy.maxDeflateLevel);
  out.deflateLevel = static_cast<int>(level);
  out.reply = "{\"max_rdy_count\":" + std::to_string(policy.maxRdyCount) + ",\"version\":\"" NSQ_VERSION "\"" +
              ",\"max_msg_timeout\":" + std::to_string(maxMsgMs) +
              ",\"msg_timeout\":" + std::to_string(msgTimeoutNs / kMs) +
              ",\"tls_v1\":" + std::string(out.tls ? "true" : "false") +
              ",\"deflate\":" + (out.deflate ? "true" : "false") +
              ",\"deflate_level\":" + std::to_string(level) +
              ",\"max_deflate_level\":" + std::to_string(policy.maxDeflateLevel) +
              ",\"snappy\":" + (out.snappy ? "true" : "false") +
              ",\"sample_rate\":" + std::to_string(sampleRate) +
              ",\"auth_required\":" + (policy.authRequired ? "true" : "false") +
              ",\"output_buffer_size\":" + std::to_string(obBytes) +
              ",\"output_buffer_timeout\":" + std::to_string(obTimeoutNs / kMs) +
              ",\"topology_region\":" + jsonQuote(policy.topologyRegion) +
              ",\"topology_zone\":" + jsonQuote(policy.topologyZone) + "}";
  return {};
}

}  // namespace nsq::nsqd

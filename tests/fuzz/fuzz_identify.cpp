// Fuzz target: the JSON the daemons read from others, without a socket: nsqd's IDENTIFY
// negotiation, an auth server's reply, and nsqlookupd's IDENTIFY body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nsqd/auth.h"
#include "nsqd/identify.h"
#include "nsqlookupd/lookup_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  nsq::nsqd::IdentifyPolicy policy;
  policy.maxHeartbeatIntervalNs = 60'000'000'000;
  policy.maxOutputBufferTimeoutNs = 30'000'000'000;
  policy.maxOutputBufferSize = 64 * 1024;
  policy.maxMsgTimeoutNs = 900'000'000'000;
  policy.maxRdyCount = 2500;
  policy.deflate = policy.snappy = policy.tlsAvailable = true;
  nsq::nsqd::ClientSettings current;
  nsq::nsqd::IdentifyResult result;
  std::string why;
  (void)nsq::nsqd::negotiateIdentify(body, policy, current, result, &why);

  std::string error;
  (void)nsq::nsqd::parseAuthReply(body, 0, &error);

  nsq::lookupd::PeerInfo peer;
  (void)nsq::lookupd::parseIdentifyBody(std::string(body), &peer);
  return 0;
}

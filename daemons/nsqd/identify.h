#pragma once
// IDENTIFY negotiation (NSQ-COMPAT 1.5) as a pure function: the client's JSON body and the
// server's limits in; the connection's new settings, the upgrades granted and the reply out,
// or the E_BAD_BODY / E_IDENTIFY_FAILED error to send. No socket, no session, no logging: the
// session applies the result (and performs the TLS / compression upgrades) itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "nsq/protocol/error.h"

namespace nsq::nsqd {

struct NsqdOptions;

// The server's side: nsqd's flags and what this connection may still be granted.
struct IdentifyPolicy {
  int64_t maxHeartbeatIntervalNs = 0;
  int64_t minOutputBufferTimeoutNs = 0, maxOutputBufferTimeoutNs = 0;
  int64_t maxOutputBufferSize = 0;
  int64_t maxMsgTimeoutNs = 0;
  int64_t maxRdyCount = 0;
  int64_t maxDeflateLevel = 6;
  bool deflate = false, snappy = false;  // --deflate / --snappy
  bool tlsAvailable = false;  // a TLS context is configured and the connection is still plain
  bool authRequired = false;  // --auth-http-address is set
  std::string topologyRegion, topologyZone;

  // From the flags; tlsAvailable and authRequired are left for the caller.
  static IdentifyPolicy fromOptions(const NsqdOptions& opts);
};

// A connection's negotiable settings. IDENTIFY starts from the current ones: a field the
// client leaves out (or sends as 0) keeps its value.
struct ClientSettings {
  std::string clientId, hostname, userAgent;
  int64_t heartbeatIntervalNs = 0;  // 0 = heartbeats off
  int64_t outputBufferSize = 16384;  // bytes; 1 = flush every frame
  int64_t outputBufferTimeoutNs = 0;  // 0 = flush every frame
  int64_t msgTimeoutNs = 0;
  int sampleRate = 0;  // 0 = deliver all, else keep about this percent

  // Before any IDENTIFY: heartbeat = --client-timeout / 2, the flags' buffer timeout and
  // msg timeout, client_id and hostname empty (the session puts the peer's host there).
  static ClientSettings defaults(const NsqdOptions& opts);
};

struct IdentifyResult {
  ClientSettings settings;
  // Upgrades granted (only with feature_negotiation); at most one of snappy and deflate.
  bool tls = false, snappy = false, deflate = false;
  int deflateLevel = 6;
  // The response frame's body: "OK", or with feature_negotiation the JSON of what was
  // negotiated, in upstream's key order.
  std::string reply;
};

// Never throws. On failure *out is unspecified, and when the body did not decode *why (if
// given) names the field or the parser's complaint, for the log only: the client gets
// upstream's "IDENTIFY failed to decode JSON body".
[[nodiscard]] Error negotiateIdentify(std::string_view body, const IdentifyPolicy& policy,
                                      const ClientSettings& current, IdentifyResult& out,
                                      std::string* why = nullptr);

}  // namespace nsq::nsqd

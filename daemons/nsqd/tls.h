#pragma once
// TLS for nsqd: the server context built from the --tls-* flags (shared by the TCP upgrade and
// the HTTPS listener). The session itself is nsq::TlsStream (lib/nsq/tls.h), shared with the
// client library; TlsStream here is its server side.
#include <Poco/Net/Context.h>

#include "nsq/net/tls.h"

namespace nsq::nsqd {

struct NsqdOptions;

// nullptr when neither --tls-cert nor --tls-key is set. Throws std::runtime_error naming the
// file or flag when the certificate, key or CA cannot be loaded. Call once at startup.
Poco::Net::Context::Ptr makeServerTlsContext(const NsqdOptions& opts);

// One connection's server-side TLS session. IO thread only.
class TlsStream : public nsq::TlsStream {
 public:
  explicit TlsStream(const Poco::Net::Context::Ptr& ctx) : nsq::TlsStream(ctx->sslContext(), Role::Server) {}
};

}  // namespace nsq::nsqd

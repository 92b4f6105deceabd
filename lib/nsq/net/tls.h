#pragma once
// TLS for both ends of the NSQ upgrade (NSQ-COMPAT §1.7): TlsStream, one TLS session driven
// entirely through OpenSSL memory BIOs, so it never touches a socket and fits nsqd's
// non-blocking IO loop and the client library's blocking socket alike; and the client context
// built from go-nsq's tls_* settings.
//
//   socket bytes --feed()--> [rbio] --SSL--> read() plaintext
//   write() plaintext --SSL--> [wbio] --drain()--> socket bytes
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace nsq {

// One connection's TLS session. Not thread-safe: callers serialize all calls.
class TlsStream {
 public:
  enum class Role { Client, Server };
  // ctx: the OpenSSL context (the session takes its own reference). serverName (clients only):
  // sent as SNI when it is a host name, and, when ctx verifies peers, the name or IP address the
  // server's certificate must carry.
  TlsStream(ssl_ctx_st* ctx, Role role, const std::string& serverName = "");
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Hands over bytes received from the peer.
  void feed(std::string_view raw);
  enum class Step { Done, NeedMore, Failed };
  // Advances the handshake with what has been fed; Failed fills *err (OpenSSL's reason, plus
  // the certificate verification error when there is one).
  Step handshake(std::string* err);
  bool established() const { return established_; }
  // Appends all plaintext decryptable so far; false (with *err) on a fatal TLS error or
  // when the peer sent close_notify.
  bool read(std::string& plain, std::string* err);
  // Encrypts plaintext into TLS records (kept until drain()).
  bool write(std::string_view plain);
  // Moves the TLS records waiting to be sent to the end of out.
  void drain(std::string& out);
  // True when records are waiting for drain() (reading can produce some, e.g. alerts).
  bool pendingOutput() const;

  std::string version() const;      // "TLS1.2", as the original's stats
  std::string cipherSuite() const;  // IANA name, e.g. TLS_AES_128_GCM_SHA256
  // Subject common name of the peer's certificate; "" without one.
  std::string peerCommonName() const;

 private:
  ssl_st* ssl_ = nullptr;
  bool established_ = false;
};

// "tls1.0".."tls1.3" (and go-nsq's "ssl3.0") as an OpenSSL protocol version; 0 if unknown.
int tlsVersionFromName(std::string_view name);

// The client side of the upgrade, with go-nsq's option names.
struct TlsClientConfig {
  std::string rootCaFile;           // tls_root_ca_file: trust only these CAs (default: the system's)
  bool insecureSkipVerify = false;  // tls_insecure_skip_verify: accept any server certificate
  std::string certFile;             // tls_cert: client certificate (PEM), with tls_key
  std::string keyFile;              // tls_key
  std::string minVersion;           // tls_min_version; "" = OpenSSL's default
};

using TlsContextPtr = std::shared_ptr<ssl_ctx_st>;
// Loads the files and builds the client context. Throws std::runtime_error naming the option
// and file that could not be used.
TlsContextPtr makeClientTlsContext(const TlsClientConfig& cfg);

}  // namespace nsq

#pragma once
// TLS for nsqd: the server context built from the --tls-* flags (shared by the TCP upgrade and
// the HTTPS listener), and TlsStream, one server-side TLS session driven entirely through memory
// BIOs so that it fits the non-blocking IoLoop: the session never touches the socket.
//
//   socket bytes --feed()--> [rbio] --SSL--> read() plaintext
//   write() plaintext --SSL--> [wbio] --drain()--> socket bytes
#include <Poco/Net/Context.h>

#include <string>
#include <string_view>

struct ssl_st;

namespace nsq::nsqd {

struct NsqdOptions;

// nullptr when neither --tls-cert nor --tls-key is set. Throws std::runtime_error naming the
// file or flag when the certificate, key or CA cannot be loaded. Call once at startup.
Poco::Net::Context::Ptr makeServerTlsContext(const NsqdOptions& opts);

// One connection's server-side TLS session. IO thread only.
class TlsStream {
 public:
  explicit TlsStream(const Poco::Net::Context::Ptr& ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Hands over bytes received from the peer.
  void feed(std::string_view raw);
  enum class Step { Done, NeedMore, Failed };
  // Advances the handshake with what has been fed; Failed fills *err.
  Step handshake(std::string* err);
  bool established() const { return established_; }
  // Appends all plaintext decryptable so far; false (with *err) on a fatal TLS error or
  // when the peer sent close_notify.
  bool read(std::string& plain, std::string* err);
  // Encrypts plaintext into TLS records (kept until drain()).
  bool write(std::string_view plain);
  // Moves the TLS records waiting to be sent to the end of out.
  void drain(std::string& out);

  std::string version() const;      // "TLS1.2", as the original's stats
  std::string cipherSuite() const;  // IANA name, e.g. TLS_AES_128_GCM_SHA256
  // Subject common name of the client's certificate; "" without one.
  std::string peerCommonName() const;

 private:
  ssl_st* ssl_ = nullptr;
  bool established_ = false;
};

}  // namespace nsq::nsqd

#pragma once
// TLS test support: throwaway certificates made with the openssl CLI, and TlsV2Client, a
// blocking V2 client that performs the upgrade sequence itself (IDENTIFY JSON in the clear,
// then a TLS handshake on the same socket, then optional compression on top), so tests can
// watch every step.
#include <memory>
#include <string>

#include "nsq/protocol/compression.h"
#include "support/v2_client.h"

struct ssl_st;
struct ssl_ctx_st;

namespace nsq::test {

// A CA, a server certificate for 127.0.0.1 signed by it, a client certificate signed by it and
// a self-signed client certificate no one trusts, written into dir.
struct TestCerts {
  std::string caCert, serverCert, serverKey, clientCert, clientKey, strangerCert, strangerKey;
};
TestCerts makeTestCerts(const std::string& dir);
// One more server certificate signed by dir's CA (after makeTestCerts), for subjectAltName
// (e.g. "DNS:elsewhere.example"); written as dir/<name>.pem and dir/<name>.key.
struct CertAndKey {
  std::string cert, key;
};
CertAndKey makeServerCert(const std::string& dir, const std::string& name, const std::string& subjectAltName);

struct TlsClientOptions {
  std::string caFile;    // non-empty: verify the server against it
  std::string certFile;  // non-empty: present this client certificate
  std::string keyFile;
};

class TlsV2Client {
 public:
  explicit TlsV2Client(int port);  // connects and sends the V2 magic
  ~TlsV2Client();
  TlsV2Client(const TlsV2Client&) = delete;
  TlsV2Client& operator=(const TlsV2Client&) = delete;

  // Sends IDENTIFY in the clear and returns the (plain) response frame's data.
  std::string identifyPlain(const std::string& json);
  // TLS client handshake on the socket; false with *error when it fails.
  bool startTls(const TlsClientOptions& opts, std::string* error);
  // From now on both directions are compressed (after the server's plain-over-TLS OK).
  void startCompression(bool deflate, int level = 6);

  // Everything below goes through TLS (once started) and compression (once started).
  void send(const std::string& bytes);
  void command(const std::string& line) { send(line + "\n"); }
  void commandWithBody(const std::string& line, const std::string& body);
  TestFrame readFrame(bool skipHeartbeats = true);
  std::string expectResponse();
  std::string pub(const std::string& topic, const std::string& body);
  std::string sub(const std::string& topic, const std::string& channel);
  void rdy(int n) { command("RDY " + std::to_string(n)); }
  Message readMessage();
  // True when the server closed the connection (reads EOF or a TLS failure) within the timeout.
  bool closedByPeer();

 private:
  void sendRaw(const std::string& bytes);
  bool fill();  // reads more plaintext into in_; false on EOF/error
  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::unique_ptr<StreamCodec> codec_;
  std::string in_;
};

// One HTTP/1.0 request over TLS, verifying the server against caFile. Throws on failure.
HttpResponse httpsRequest(int port, const std::string& method, const std::string& target,
                          const std::string& caFile, const std::string& body = "");

}  // namespace nsq::test

// TLS: the server context used by Transport's upgrade and the HTTPS listener. The context comes
// from POCO (so the HTTPS listener can use it as is); its verification is then set directly on
// the OpenSSL context, because the original's policies are Go's: "require" asks for any client
// certificate without checking it, "require-verify" checks it against --tls-root-ca-file.
#include "nsqd/tls.h"

#include <openssl/ssl.h>

#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

#include "nsqd/options.h"

namespace nsq::nsqd {

namespace {

int acceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

void requireReadable(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("failed to build TLS config - --") + flag + " " + path + ": cannot read file");
}

}  // namespace

Poco::Net::Context::Ptr makeServerTlsContext(const NsqdOptions& o) {
  if (o.tlsCert.empty() && o.tlsKey.empty()) return nullptr;
  static std::once_flag init;
  std::call_once(init, [] { Poco::Net::initializeSSL(); });
  requireReadable(o.tlsCert, "tls-cert");
  requireReadable(o.tlsKey, "tls-key");
  if (!o.tlsRootCaFile.empty()) requireReadable(o.tlsRootCaFile, "tls-root-ca-file");
  Poco::Net::Context::Params params;
  params.certificateFile = o.tlsCert;
  params.privateKeyFile = o.tlsKey;
  params.caLocation = o.tlsRootCaFile;
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;
  params.loadDefaultCAs = false;
  params.cipherList = "DEFAULT";
  Poco::Net::Context::Ptr ctx;
  try {
    ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("failed to build TLS config - " + e.displayText());
  }
  SSL_CTX* ssl = ctx->sslContext();
  if (SSL_CTX_check_private_key(ssl) != 1)
    throw std::runtime_error("failed to build TLS config - private key does not match certificate");
  int minVersion = o.tlsMinVersion.empty() ? TLS1_VERSION : tlsVersionFromName(o.tlsMinVersion);
  SSL_CTX_set_min_proto_version(ssl, minVersion);
  if (minVersion < TLS1_2_VERSION) SSL_CTX_set_security_level(ssl, 0);  // lets old versions work
  if (o.tlsClientAuthPolicy == "require") {
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAnyCertificate);
  } else if (o.tlsClientAuthPolicy == "require-verify") {
    if (o.tlsRootCaFile.empty()) SSL_CTX_set_default_verify_paths(ssl);
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

}  // namespace nsq::nsqd

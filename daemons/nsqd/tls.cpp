// TLS: the server context and the memory-BIO session used by ClientSession. The context comes
// from POCO (so the HTTPS listener can use it as is); its verification is then set directly on
// the OpenSSL context, because the original's policies are Go's: "require" asks for any client
// certificate without checking it, "require-verify" checks it against --tls-root-ca-file.
#include "tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>

#include <fstream>
#include <mutex>
#include <stdexcept>

#include "options.h"

namespace nsq::nsqd {

namespace {

std::string lastSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

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
  int minVersion = TLS1_VERSION;
  if (o.tlsMinVersion == "tls1.1") minVersion = TLS1_1_VERSION;
  else if (o.tlsMinVersion == "tls1.2") minVersion = TLS1_2_VERSION;
  else if (o.tlsMinVersion == "tls1.3") minVersion = TLS1_3_VERSION;
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

TlsStream::TlsStream(const Poco::Net::Context::Ptr& ctx) {
  ssl_ = SSL_new(ctx->sslContext());
  if (!ssl_) throw std::runtime_error("SSL_new: " + lastSslError());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);  // empty = "want more", not EOF
  SSL_set_bio(ssl_, rbio, wbio);     // ssl_ owns both
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

void TlsStream::feed(std::string_view raw) {
  if (!raw.empty()) BIO_write(SSL_get_rbio(ssl_), raw.data(), static_cast<int>(raw.size()));
}

TlsStream::Step TlsStream::handshake(std::string* err) {
  if (established_) return Step::Done;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    established_ = true;
    return Step::Done;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Step::NeedMore;
  *err = lastSslError();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) *err += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  return Step::Failed;
}

bool TlsStream::read(std::string& plain, std::string* err) {
  char buf[16 * 1024];
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plain.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    *err = e == SSL_ERROR_ZERO_RETURN ? "peer closed the TLS session" : lastSslError();
    return false;
  }
}

bool TlsStream::write(std::string_view plain) {
  while (!plain.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, plain.data(), static_cast<int>(std::min<std::size_t>(plain.size(), 1 << 30)));
    if (n <= 0) return false;  // memory BIO: only a broken session fails
    plain.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void TlsStream::drain(std::string& out) {
  BIO* wbio = SSL_get_wbio(ssl_);
  char* data = nullptr;
  long n = BIO_get_mem_data(wbio, &data);
  if (n > 0) {
    out.append(data, static_cast<std::size_t>(n));
    (void)BIO_reset(wbio);
  }
}

std::string TlsStream::version() const {
  switch (SSL_version(ssl_)) {
    case TLS1_VERSION: return "TLS1.0";
    case TLS1_1_VERSION: return "TLS1.1";
    case TLS1_2_VERSION: return "TLS1.2";
    case TLS1_3_VERSION: return "TLS1.3";
    default: return "Unknown " + std::to_string(SSL_version(ssl_));
  }
}

std::string TlsStream::cipherSuite() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  const char* name = c ? SSL_CIPHER_standard_name(c) : nullptr;
  return name ? name : "";
}

std::string TlsStream::peerCommonName() const {
  X509* cert = SSL_get_peer_certificate(ssl_);
  if (!cert) return "";
  std::string cn;
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n > 0) cn.assign(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }
  X509_free(cert);
  return cn;
}

}  // namespace nsq::nsqd

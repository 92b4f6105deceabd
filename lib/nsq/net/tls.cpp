// TLS: the memory-BIO session shared by nsqd's client sessions and the client library's
// Connection, and the client context. The one choice worth knowing: the client verifies the
// server as go-nsq's Go TLS does (the CA file alone when given, else the system's CAs; the
// address's host name, or IP address, must be in the certificate), unless
// tls_insecure_skip_verify says not to.
#include "nsq/net/tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace nsq {

namespace {

std::string lastSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool isIpAddress(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

TlsStream::TlsStream(ssl_ctx_st* ctx, Role role, const std::string& serverName) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) throw std::runtime_error("SSL_new: " + lastSslError());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);  // empty = "want more", not EOF
  SSL_set_bio(ssl_, rbio, wbio);     // ssl_ owns both
  if (role == Role::Server) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (serverName.empty()) return;
  if (isIpAddress(serverName)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), serverName.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, serverName.c_str());
    SSL_set1_host(ssl_, serverName.c_str());
  }
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

bool TlsStream::pendingOutput() const { return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

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

int tlsVersionFromName(std::string_view name) {
  if (name == "ssl3.0") return SSL3_VERSION;
  if (name == "tls1.0") return TLS1_VERSION;
  if (name == "tls1.1") return TLS1_1_VERSION;
  if (name == "tls1.2") return TLS1_2_VERSION;
  if (name == "tls1.3") return TLS1_3_VERSION;
  return 0;
}

TlsContextPtr makeClientTlsContext(const TlsClientConfig& cfg) {
  TlsContextPtr ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + lastSslError());
  SSL_CTX* c = ctx.get();
  auto fail = [](const std::string& option, const std::string& file, const std::string& why) {
    throw std::runtime_error(option + " " + file + ": " + why);
  };
  auto readable = [&](const std::string& option, const std::string& file) {
    if (!std::ifstream(file)) fail(option, file, "cannot read file");
  };
  if (!cfg.rootCaFile.empty()) {
    readable("tls_root_ca_file", cfg.rootCaFile);
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(c, cfg.rootCaFile.c_str(), nullptr) != 1)
      fail("tls_root_ca_file", cfg.rootCaFile, "no certificates could be loaded (" + lastSslError() + ")");
  } else {
    SSL_CTX_set_default_verify_paths(c);
  }
  SSL_CTX_set_verify(c, cfg.insecureSkipVerify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  if (cfg.certFile.empty() != cfg.keyFile.empty())
    throw std::runtime_error("tls_cert and tls_key must be given together");
  if (!cfg.certFile.empty()) {
    readable("tls_cert", cfg.certFile);
    readable("tls_key", cfg.keyFile);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(c, cfg.certFile.c_str()) != 1)
      fail("tls_cert", cfg.certFile, "not a PEM certificate (" + lastSslError() + ")");
    if (SSL_CTX_use_PrivateKey_file(c, cfg.keyFile.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c) != 1) {
      bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
      std::string reason = lastSslError();
      fail("tls_key", cfg.keyFile, mismatch ? "does not match tls_cert " + cfg.certFile : "not a PEM private key (" + reason + ")");
    }
  }
  if (!cfg.minVersion.empty()) {
    int v = tlsVersionFromName(cfg.minVersion);
    if (v == 0)
      throw std::runtime_error("tls_min_version: unknown version \"" + cfg.minVersion +
                               "\" (ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3)");
    SSL_CTX_set_min_proto_version(c, v);
    if (v < TLS1_2_VERSION) SSL_CTX_set_security_level(c, 0);  // lets the old versions work
  }
  return ctx;
}

}  // namespace nsq

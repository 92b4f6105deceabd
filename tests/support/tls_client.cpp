// TLS test support (see tls_client.h). The certificates are made by the openssl command line
// tool so the tests exercise files shaped like an operator's, not in-memory objects.
#include "support/tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"

namespace nsq::test {

namespace {

void run(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

void appendUint32(std::string& out, uint32_t v) {
  char b[4];
  putUint32(b, v);
  out.append(b, 4);
}

std::string sslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256] = "unknown";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

TestCerts makeTestCerts(const std::string& dir) {
  TestCerts c{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem",
              dir + "/client.key", dir + "/stranger.pem", dir + "/stranger.key"};
  const std::string key = "openssl req -newkey rsa:2048 -nodes -sha256 ";
  run("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=nsq-test-ca -keyout " + dir +
      "/ca.key -out " + c.caCert);
  std::ofstream(dir + "/server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  run(key + "-subj /CN=127.0.0.1 -keyout " + c.serverKey + " -out " + dir + "/server.csr");
  run("openssl x509 -req -days 2 -sha256 -in " + dir + "/server.csr -CA " + c.caCert + " -CAkey " + dir +
      "/ca.key -CAcreateserial -extfile " + dir + "/server.ext -out " + c.serverCert);
  run(key + "-subj /CN=nsq-test-client -keyout " + c.clientKey + " -out " + dir + "/client.csr");
  run("openssl x509 -req -days 2 -sha256 -in " + dir + "/client.csr -CA " + c.caCert + " -CAkey " + dir +
      "/ca.key -CAcreateserial -out " + c.clientCert);
  run("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj /CN=stranger -keyout " + c.strangerKey +
      " -out " + c.strangerCert);
  return c;
}

CertAndKey makeServerCert(const std::string& dir, const std::string& name, const std::string& subjectAltName) {
  CertAndKey c{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  std::ofstream(dir + "/" + name + ".ext") << "subjectAltName=" << subjectAltName << "\n";
  run("openssl req -newkey rsa:2048 -nodes -sha256 -subj /CN=" + name + " -keyout " + c.key + " -out " + dir + "/" +
      name + ".csr");
  run("openssl x509 -req -days 2 -sha256 -in " + dir + "/" + name + ".csr -CA " + dir + "/ca.pem -CAkey " + dir +
      "/ca.key -CAcreateserial -extfile " + dir + "/" + name + ".ext -out " + c.cert);
  return c;
}

TlsV2Client::TlsV2Client(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect failed");
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sendRaw(std::string(kMagicV2));
}

TlsV2Client::~TlsV2Client() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

void TlsV2Client::sendRaw(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

std::string TlsV2Client::identifyPlain(const std::string& json) {
  std::string cmd = "IDENTIFY\n";
  appendUint32(cmd, static_cast<uint32_t>(json.size()));
  sendRaw(cmd + json);
  // Read exactly one frame from the raw socket: the bytes after it belong to TLS.
  auto readExact = [this](std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r <= 0) throw std::runtime_error("connection closed during IDENTIFY");
      got += static_cast<std::size_t>(r);
    }
    return out;
  };
  std::string size = readExact(4);
  std::string rest = readExact(getUint32(size.data()));
  return rest.substr(4);
}

bool TlsV2Client::startTls(const TlsClientOptions& o, std::string* error) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!o.caFile.empty()) {
    SSL_CTX_load_verify_locations(ctx_, o.caFile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.certFile.empty()) {
    SSL_CTX_use_certificate_file(ctx_, o.certFile.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, o.keyFile.c_str(), SSL_FILETYPE_PEM);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (!o.caFile.empty()) SSL_set1_host(ssl_, "127.0.0.1");
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    *error = sslError();
    return false;
  }
  return true;
}

void TlsV2Client::startCompression(bool deflate, int level) {
  codec_ = deflate ? makeDeflateCodec(level) : makeSnappyCodec();
  // Bytes already read past the last frame were compressed.
  std::string rest = std::move(in_);
  in_.clear();
  std::string err;
  if (!codec_->decode(rest, in_, 1 << 26, &err)) throw std::runtime_error("decode: " + err);
}

void TlsV2Client::send(const std::string& bytes) {
  std::string wire;
  if (codec_) codec_->encode(bytes, wire);
  const std::string& out = codec_ ? wire : bytes;
  if (!ssl_) return sendRaw(out);
  if (SSL_write(ssl_, out.data(), static_cast<int>(out.size())) != static_cast<int>(out.size()))
    throw std::runtime_error("SSL_write failed: " + sslError());
}

void TlsV2Client::commandWithBody(const std::string& line, const std::string& body) {
  std::string cmd = line + "\n";
  appendUint32(cmd, static_cast<uint32_t>(body.size()));
  send(cmd + body);
}

bool TlsV2Client::fill() {
  char buf[16384];
  int n = 0;
  if (ssl_) {
    n = SSL_read(ssl_, buf, sizeof buf);
  } else {
    n = static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
  }
  if (n <= 0) return false;
  if (!codec_) {
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  std::string err;
  if (!codec_->decode(std::string_view(buf, static_cast<std::size_t>(n)), in_, 1 << 26, &err))
    throw std::runtime_error("decode: " + err);
  return true;
}

TestFrame TlsV2Client::readFrame(bool skipHeartbeats) {
  for (;;) {
    while (in_.size() < 4 || in_.size() < 4 + getUint32(in_.data()))
      if (!fill()) throw std::runtime_error("connection closed while reading a frame");
    uint32_t size = getUint32(in_.data());
    TestFrame f{static_cast<FrameType>(getUint32(in_.data() + 4)), in_.substr(8, size - 4)};
    in_.erase(0, 4 + size);
    if (skipHeartbeats && f.type == FrameType::Response && f.data == kHeartbeat) continue;
    return f;
  }
}

std::string TlsV2Client::expectResponse() {
  TestFrame f = readFrame();
  if (f.type != FrameType::Response) throw std::runtime_error("expected response, got: " + f.data);
  return f.data;
}

std::string TlsV2Client::pub(const std::string& topic, const std::string& body) {
  commandWithBody("PUB " + topic, body);
  return expectResponse();
}

std::string TlsV2Client::sub(const std::string& topic, const std::string& channel) {
  command("SUB " + topic + " " + channel);
  return expectResponse();
}

Message TlsV2Client::readMessage() {
  TestFrame f = readFrame();
  if (f.type != FrameType::Message) throw std::runtime_error("expected message, got: " + f.data);
  return f.message();
}

bool TlsV2Client::closedByPeer() {
  try {
    for (;;) {
      if (!fill()) return true;
    }
  } catch (const std::exception&) {
    return true;
  }
}

HttpResponse httpsRequest(int port, const std::string& method, const std::string& target,
                          const std::string& caFile, const std::string& body) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect failed");
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, caFile.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set1_host(ssl, "127.0.0.1");
  std::string raw;
  bool ok = SSL_connect(ssl) == 1;
  if (ok) {
    std::string req = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) raw.append(buf, static_cast<std::size_t>(n));
  }
  std::string err = ok ? "" : sslError();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  if (!ok) throw std::runtime_error("TLS handshake failed: " + err);
  HttpResponse r;
  auto headerEnd = raw.find("\r\n\r\n");
  if (raw.size() < 12 || headerEnd == std::string::npos) throw std::runtime_error("bad HTTPS response: " + raw);
  r.status = std::atoi(raw.c_str() + 9);
  r.body = raw.substr(headerEnd + 4);
  return r;
}

}  // namespace nsq::test

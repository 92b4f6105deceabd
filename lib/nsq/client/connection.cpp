// Connection: one client-side nsqd V2 connection. Plain POSIX sockets with poll() deadlines, so
// every read and write has its own timeout and close() can wake a blocked reader (shutdown(2);
// the descriptor itself is released only by the destructor, so it cannot be reused under a
// reader's feet).
#include "nsq/client/connection.h"
#include "nsq/base/program.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "nsq/base/json_text.h"
#include "nsq/base/number.h"
#include "nsq/base/options.h"
#include "nsq/protocol/compression.h"
#include "nsq/protocol/wire.h"

namespace nsq {

namespace {

// One socket read of at most 64 KiB may inflate to no more than this (a decompression bomb).
constexpr std::size_t kMaxDecodedPerRead = 64 * 1024 * 1024;

int64_t msLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : left.count();
}

}  // namespace

std::string ConnectionConfig::identifyJson() const {
  std::string host = hostname.empty() ? nsq::hostname() : hostname;
  std::string id = clientId;
  if (id.empty()) id = host.substr(0, host.find('.'));
  std::string ua = userAgent.empty() ? nsq::userAgent() : userAgent;
  std::string j = "{\"client_id\":" + jsonQuote(id) + ",\"hostname\":" + jsonQuote(host) +
                  ",\"user_agent\":" + jsonQuote(ua) + ",\"feature_negotiation\":true" +
                  ",\"heartbeat_interval\":" + std::to_string(heartbeatIntervalMs) +
                  ",\"output_buffer_size\":" + std::to_string(outputBufferSize) +
                  ",\"output_buffer_timeout\":" + std::to_string(outputBufferTimeoutMs) +
                  ",\"msg_timeout\":" + std::to_string(msgTimeoutMs) +
                  ",\"sample_rate\":" + std::to_string(sampleRate) +
                  ",\"tls_v1\":" + (tlsV1 ? "true" : "false") + ",\"snappy\":" + (snappy ? "true" : "false") +
                  ",\"deflate\":" + (deflate ? "true" : "false") +
                  ",\"deflate_level\":" + std::to_string(deflateLevel) + "}";
  return j;
}

std::string readIntOption(const std::string& key, const std::string& value, int64_t& out) {
  ParsedInt v = parseInt(value);
  if (!v) return "invalid integer \"" + value + "\" for " + key;
  out = *v;
  return "";
}

std::string readDurationOption(const std::string& key, const std::string& value, std::chrono::milliseconds& out) {
  auto d = parseDuration(value);
  if (!d) return "invalid duration \"" + value + "\" for " + key;
  out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  return "";
}

std::string readBoolOption(const std::string& key, const std::string& value, bool& out) {
  auto b = parseBool(value);
  if (!b) return "invalid boolean \"" + value + "\" for " + key + " " + kBoolValuesHelp;
  out = *b;
  return "";
}

std::string applyConnectionOption(ConnectionConfig& cfg, const std::string& key, const std::string& value) {
  auto asInt = [&](int64_t& out) { return readIntOption(key, value, out); };
  auto asTimeout = [&](std::chrono::milliseconds& out) { return readDurationOption(key, value, out); };
  auto asBool = [&](bool& out) { return readBoolOption(key, value, out); };
  auto asMs = [&](int64_t& out) {
    std::chrono::milliseconds ms{out};
    std::string err = readDurationOption(key, value, ms);
    out = ms.count();
    return err;
  };
  if (key == "dial_timeout") return asTimeout(cfg.dialTimeout);
  if (key == "read_timeout") return asTimeout(cfg.readTimeout);
  if (key == "write_timeout") return asTimeout(cfg.writeTimeout);
  if (key == "heartbeat_interval") return asMs(cfg.heartbeatIntervalMs);
  if (key == "output_buffer_size") return asInt(cfg.outputBufferSize);
  if (key == "output_buffer_timeout") return asMs(cfg.outputBufferTimeoutMs);
  if (key == "msg_timeout") return asMs(cfg.msgTimeoutMs);
  if (key == "sample_rate") return asInt(cfg.sampleRate);
  if (key == "client_id") return cfg.clientId = value, "";
  if (key == "hostname") return cfg.hostname = value, "";
  if (key == "user_agent") return cfg.userAgent = value, "";
  if (key == "tls_v1") return asBool(cfg.tlsV1);
  if (key == "tls_root_ca_file") return cfg.tls.rootCaFile = value, "";
  if (key == "tls_insecure_skip_verify") return asBool(cfg.tls.insecureSkipVerify);
  if (key == "tls_cert") return cfg.tls.certFile = value, "";
  if (key == "tls_key") return cfg.tls.keyFile = value, "";
  if (key == "tls_min_version") {
    if (tlsVersionFromName(value) == 0)
      return "invalid tls_min_version \"" + value + "\" (ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3)";
    return cfg.tls.minVersion = value, "";
  }
  if (key == "snappy") return asBool(cfg.snappy);
  if (key == "deflate") return asBool(cfg.deflate);
  if (key == "deflate_level") return asInt(cfg.deflateLevel);
  if (key == "auth_secret") return cfg.authSecret = value, "";
  return "unknown";
}

std::string validateConnectionConfig(const ConnectionConfig& cfg) {
  const TlsClientConfig& t = cfg.tls;
  if (!cfg.tlsV1 && t.rootCaFile.empty() && t.certFile.empty() && t.keyFile.empty()) return "";
  try {
    makeClientTlsContext(t);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

ServerFeatures parseIdentifyResponse(std::string_view data) {
  ServerFeatures f;
  if (data == kOk) return f;
  if (data.empty() || data.front() != '{')
    throw ConnectionError("unexpected IDENTIFY response \"" + std::string(data.substr(0, 64)) + "\"");
  if (auto big = findUnrepresentableJsonInteger(data))
    throw ConnectionError("invalid IDENTIFY response: number " + std::string(big->substr(0, 64)) + " out of range");
  try {
    auto obj = Poco::JSON::Parser().parse(std::string(data)).extract<Poco::JSON::Object::Ptr>();
    auto getInt = [&](const char* k, int64_t def) {
      if (!obj->has(k) || obj->isNull(k)) return def;
      ParsedInt v = jsonInt(obj->get(k));
      if (!v) throw ConnectionError(std::string("IDENTIFY response: ") + k + " is not an int64");
      return *v;
    };
    auto getBool = [&](const char* k) { return obj->has(k) && !obj->isNull(k) && obj->getValue<bool>(k); };
    f.maxRdyCount = getInt("max_rdy_count", 2500);
    f.maxMsgTimeoutMs = getInt("max_msg_timeout", 0);
    f.msgTimeoutMs = getInt("msg_timeout", 0);
    f.tlsV1 = getBool("tls_v1");
    f.snappy = getBool("snappy");
    f.deflate = getBool("deflate");
    f.authRequired = getBool("auth_required");
    if (obj->has("version")) f.version = obj->getValue<std::string>("version");
  } catch (const Poco::Exception& e) {
    throw ConnectionError("invalid IDENTIFY response: " + e.displayText());
  }
  return f;
}

std::string connectionOptHelp(std::string_view lead, std::string_view example) {
  return std::string(lead) + ", as key,value (e.g. " + std::string(example) +
         "; TLS: tls_v1 with tls_root_ca_file, tls_insecure_skip_verify, tls_cert, tls_key, tls_min_version)";
}

std::optional<HostPort> dialAddress(const std::string& address, std::string* error) {
  ParsedHostPort hp = parseHostPort(address, 1);
  if (hp) return *hp;
  *error = hostPortProblem(address, 1);
  return std::nullopt;
}

struct Connection::Socket {
  int fd = -1;
  std::atomic<bool> closed{false};
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

Connection::Connection(std::string address, ConnectionConfig cfg)
    : address_(std::move(address)), cfg_(std::move(cfg)), socket_(std::make_unique<Socket>()) {}

Connection::~Connection() = default;

const ServerFeatures& Connection::connect() {
  std::string addressError;
  auto hostPort = dialAddress(address_, &addressError);
  if (!hostPort) throw ConnectionError(address_ + ": " + addressError);
  const auto& [host, port] = *hostPort;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) throw ConnectionError(address_ + ": cannot resolve host: " + ::gai_strerror(gai));
  std::string lastError = "no address";
  auto deadline = std::chrono::steady_clock::now() + cfg_.dialTimeout;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(msLeft(deadline)));
      if (rc == 0) {
        lastError = "connect timed out";
        ::close(fd);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      lastError = std::strerror(errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    socket_->fd = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (socket_->fd < 0) throw ConnectionError(address_ + ": cannot connect to nsqd: " + lastError);

  writeRaw(kMagicV2);
  writeCommand("IDENTIFY", cfg_.identifyJson());
  Frame f = readFrame();
  while (f.type == FrameType::Response && f.data == kHeartbeat) f = readFrame();
  if (f.type == FrameType::Error) throw ConnectionError(address_ + ": IDENTIFY failed: " + std::string(f.data));
  try {
    features_ = parseIdentifyResponse(f.data);
  } catch (const ConnectionError& e) {
    throw ConnectionError(address_ + ": " + e.what());
  }
  // Upgrades happen only when both sides asked; the server never grants what we did not request.
  // TLS comes first; compression then sits on top of it (§1.7). Unlike go-nsq, which carries on
  // in the clear, a tls_v1 request that nsqd does not grant fails the connection.
  if (cfg_.tlsV1) {
    if (!features_.tlsV1)
      throw ConnectionError(address_ + ": nsqd did not grant TLS (tls_v1 was asked for; nsqd needs --tls-cert and --tls-key)");
    startTls(host);
  }
  bool snappy = features_.snappy && cfg_.snappy;
  bool deflate = features_.deflate && cfg_.deflate;
  if (snappy && deflate) throw ConnectionError(address_ + ": nsqd granted both snappy and deflate");
  if (snappy || deflate) {
    // §1.7: the JSON reply was plain; everything after it, both ways, is compressed, starting
    // with the server's OK. Bytes of it that arrived with the JSON are decoded now.
    int level = static_cast<int>(std::clamp<int64_t>(cfg_.deflateLevel, 1, 9));
    {
      std::lock_guard lock(writeMutex_);
      codec_ = snappy ? makeSnappyCodec() : makeDeflateCodec(level);
    }
    in_.erase(0, consumed_);
    consumed_ = 0;
    std::string early = std::move(in_);
    in_.clear();
    std::string err;
    if (!codec_->decode(early, in_, kMaxDecodedPerRead, &err))
      throw ConnectionError(address_ + ": " + codec_->name() + " stream from nsqd: " + err);
    Frame ok = readFrame();
    if (ok.type != FrameType::Response || ok.data != kOk)
      throw ConnectionError(address_ + ": " + codec_->name() + " upgrade failed: " + std::string(ok.data));
  }
  if (features_.authRequired) {
    if (cfg_.authSecret.empty())
      throw ConnectionError(address_ + ": nsqd requires AUTH but no auth_secret was configured");
    writeCommand("AUTH", cfg_.authSecret);
    Frame a = readFrame();
    while (a.type == FrameType::Response && a.data == kHeartbeat) a = readFrame();
    if (a.type != FrameType::Response) throw ConnectionError(address_ + ": AUTH failed: " + std::string(a.data));
  }
  return features_;
}

void Connection::startTls(const std::string& host) {
  TlsContextPtr ctx;
  try {
    ctx = makeClientTlsContext(cfg_.tls);
  } catch (const std::exception& e) {
    throw ConnectionError(address_ + ": " + e.what());
  }
  auto tls = std::make_unique<TlsStream>(ctx.get(), TlsStream::Role::Client, host);
  in_.erase(0, consumed_);  // anything after the IDENTIFY reply is already TLS
  consumed_ = 0;
  tls->feed(in_);
  in_.clear();
  auto deadline = std::chrono::steady_clock::now() + cfg_.readTimeout;
  char buf[16 * 1024];
  std::string records, err;
  for (;;) {
    auto step = tls->handshake(&err);
    records.clear();
    tls->drain(records);  // our flight, or the alert that tells nsqd why we gave up
    if (!records.empty()) {
      std::lock_guard lock(writeMutex_);
      sendAll(records);
    }
    if (step == TlsStream::Step::Done) break;
    if (step == TlsStream::Step::Failed) throw ConnectionError(address_ + ": TLS handshake failed: " + err);
    tls->feed(std::string_view(buf, recvSome(buf, sizeof buf, deadline)));
  }
  if (!tls->read(in_, &err)) throw ConnectionError(address_ + ": TLS: " + err);  // records that came along
  {
    std::lock_guard lock(writeMutex_);
    tls_ = std::move(tls);
  }
  Frame ok = readFrame();
  while (ok.type == FrameType::Response && ok.data == kHeartbeat) ok = readFrame();
  if (ok.type != FrameType::Response || ok.data != kOk)
    throw ConnectionError(address_ + ": TLS upgrade failed: " + std::string(ok.data));
}

void Connection::writeCommand(std::string_view line) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf += '\n';
  writeRaw(buf);
}

void Connection::writeCommand(std::string_view line, std::string_view body) {
  std::string buf;
  buf.reserve(line.size() + 5 + body.size());
  buf.append(line);
  buf += '\n';
  char size[4];
  putUint32(size, static_cast<uint32_t>(body.size()));
  buf.append(size, 4);
  buf.append(body);
  writeRaw(buf);
}

void Connection::writeRaw(std::string_view bytes) {
  std::lock_guard lock(writeMutex_);
  if (socket_->closed) throw ConnectionError(address_ + ": connection closed");
  if (codec_) {
    writeScratch_.clear();
    codec_->encode(bytes, writeScratch_);
    bytes = writeScratch_;
  }
  if (tls_) {
    tlsScratch_.clear();
    {
      std::lock_guard tlsLock(tlsMutex_);
      if (!tls_->write(bytes)) throw ConnectionError(address_ + ": TLS write failed");
      tls_->drain(tlsScratch_);
    }
    bytes = tlsScratch_;
  }
  sendAll(bytes);
}

void Connection::flushTls() {
  std::lock_guard lock(writeMutex_);
  tlsScratch_.clear();
  {
    std::lock_guard tlsLock(tlsMutex_);
    tls_->drain(tlsScratch_);
  }
  if (!tlsScratch_.empty()) sendAll(tlsScratch_);
}

void Connection::sendAll(std::string_view bytes) {
  auto deadline = std::chrono::steady_clock::now() + cfg_.writeTimeout;
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(socket_->fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{socket_->fd, POLLOUT, 0};
      int left = static_cast<int>(msLeft(deadline));
      if (left == 0 || ::poll(&p, 1, left) == 0) throw ConnectionError(address_ + ": write timed out");
      continue;
    }
    throw ConnectionError(address_ + ": write failed: " + std::strerror(errno));
  }
}

std::size_t Connection::recvSome(char* buf, std::size_t size, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    ssize_t n = ::recv(socket_->fd, buf, size, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0 || socket_->closed) throw ConnectionError(address_ + ": connection closed by nsqd");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      throw ConnectionError(address_ + ": read failed: " + std::strerror(errno));
    pollfd p{socket_->fd, POLLIN, 0};
    int left = static_cast<int>(msLeft(deadline));
    if (left == 0 || ::poll(&p, 1, left) == 0) throw ConnectionError(address_ + ": read timed out");
  }
}

void Connection::readMore() {
  auto deadline = std::chrono::steady_clock::now() + cfg_.readTimeout;
  char buf[65536];
  std::string plain;
  for (;;) {
    std::string_view chunk(buf, recvSome(buf, sizeof buf, deadline));
    if (tls_) {
      std::string err;
      bool ok, reply;
      plain.clear();
      {
        std::lock_guard lock(tlsMutex_);
        tls_->feed(chunk);
        ok = tls_->read(plain, &err);
        reply = tls_->pendingOutput();
      }
      if (reply) flushTls();  // e.g. a TLS 1.3 key update answer
      if (!ok) throw ConnectionError(address_ + ": TLS: " + err);
      if (plain.empty()) continue;  // a partial record: read on
      chunk = plain;
    }
    if (!codec_) {
      in_.append(chunk);
      return;
    }
    std::string err;
    std::size_t before = in_.size();
    if (!codec_->decode(chunk, in_, kMaxDecodedPerRead, &err))
      throw ConnectionError(address_ + ": " + codec_->name() + " stream from nsqd: " + err);
    if (in_.size() > before) return;
    // a partial compressed chunk: read on
  }
}

Frame Connection::readFrame() {
  if (consumed_ > 0) {
    in_.erase(0, consumed_);
    consumed_ = 0;
  }
  for (;;) {
    Frame f{};
    long n = decodeFrame(in_, f);
    if (n < 0) throw ConnectionError(address_ + ": malformed frame from nsqd");
    if (n > 0) {
      consumed_ = static_cast<std::size_t>(n);
      return f;
    }
    if (socket_->fd < 0) throw ConnectionError(address_ + ": not connected");
    readMore();
  }
}

void Connection::close() {
  if (socket_->closed.exchange(true)) return;
  if (socket_->fd >= 0) ::shutdown(socket_->fd, SHUT_RDWR);
}

bool Connection::closed() const { return socket_->closed; }

}  // namespace nsq

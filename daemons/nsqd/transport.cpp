// Transport: socket, TLS and compression for one client connection. The one non-obvious
// choice: reads go through one scratch buffer per IO thread and land straight in the session's
// input (plain), in the codec (compressed) or in the TLS stream, so an idle connection holds
// no read buffer of its own; writes go from out() down through the layers in one flush().
#include "nsqd/transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "nsq/base/log.h"
#include "nsq/protocol/wire.h"
#include "nsqd/clock.h"
#include "nsqd/tls.h"

namespace nsq::nsqd {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxReadPerPass = 1024 * 1024;
constexpr std::size_t kShrinkAbove = 4 * 1024 * 1024;  // a flushed buffer larger than this shrinks
}  // namespace

Transport::Transport(UniqueFd fd, std::string remoteAddress, std::size_t maxBodySize)
    : fd_(std::move(fd)), remoteAddress_(std::move(remoteAddress)), maxDecodedPerRead_(maxBodySize + 2 * kReadChunk) {}

Transport::~Transport() = default;

void Transport::close() { fd_.reset(); }

bool Transport::read(std::string& in, bool* gotBytes) {
  thread_local std::unique_ptr<char[]> scratch(new char[kReadChunk]);
  char* buf = scratch.get();
  std::size_t total = 0;
  *gotBytes = false;
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, kReadChunk, 0);
    if (n == 0) return false;  // peer closed
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return false;
    }
    *gotBytes = true;
    std::string_view chunk(buf, static_cast<std::size_t>(n));
    if (tls_)
      tls_->feed(chunk);
    else if (codec_) {
      if (!decode(chunk, in)) return false;
    } else
      in.append(chunk);
    total += chunk.size();
    if (chunk.size() < kReadChunk || total >= kMaxReadPerPass) break;
  }
  return !tls_ || advanceTls(in);
}

bool Transport::reinject(std::string_view raw, std::string& in) {
  if (raw.empty()) return true;
  if (tls_) {
    tls_->feed(raw);
    return advanceTls(in);
  }
  if (codec_) return decode(raw, in);
  in.append(raw);
  return true;
}

bool Transport::takeTlsEstablished() {
  bool was = tlsEstablished_;
  tlsEstablished_ = false;
  return was;
}

bool Transport::advanceTls(std::string& in) {
  std::string err;
  if (!tls_->established()) {
    auto step = tls_->handshake(&err);
    if (step == TlsStream::Step::Failed) {
      logError("PROTOCOL(V2): [", remoteAddress_, "] TLS handshake failed - ", err);
      (void)flush(monoNanos());  // best effort: the alert tells the client why, as Go's TLS does
      return false;
    }
    if (step == TlsStream::Step::NeedMore) return true;  // flush() sends the handshake records
    {
      std::lock_guard lock(infoMutex_);
      tlsVersion_ = tls_->version();
      tlsCipherSuite_ = tls_->cipherSuite();
    }
    tlsOn_.store(true);
    tlsEstablished_ = true;
    appendFrame(out_, FrameType::Response, kOk);  // the first frame over TLS
    if (pendingCodec_ != 0) startCompression(pendingCodec_ == 2, pendingLevel_);
  }
  std::string plain;
  if (!tls_->read(plain, &err)) {
    logInfo("PROTOCOL(V2): [", remoteAddress_, "] TLS - ", err);
    return false;
  }
  if (plain.empty()) return true;
  if (codec_) return decode(plain, in);
  in.append(plain);
  return true;
}

bool Transport::decode(std::string_view wire, std::string& in) {
  std::string err;
  if (!codec_->decode(wire, in, maxDecodedPerRead_, &err)) {
    logError("PROTOCOL(V2): [", remoteAddress_, "] ", codec_->name(), " - ", err);
    return false;
  }
  return true;
}

void Transport::startTls(const Poco::Net::Context::Ptr& ctx, int64_t deadlineMono, bool deflate, bool snappy,
                         int deflateLevel) {
  tlsOut_.append(out_, outPos_, std::string::npos);
  out_.clear();
  outPos_ = 0;
  tls_ = std::make_unique<TlsStream>(ctx);
  tlsDeadlineMono_ = deadlineMono;
  pendingCodec_ = deflate ? 2 : snappy ? 1 : 0;
  pendingLevel_ = deflateLevel;
}

void Transport::startCompression(bool deflate, int level) {
  wire_.append(out_, outPos_, std::string::npos);
  out_.clear();
  outPos_ = 0;
  codec_ = deflate ? makeDeflateCodec(level) : makeSnappyCodec();
  codecName_.store(codec_->name());
  appendFrame(out_, FrameType::Response, kOk);
}

bool Transport::handshaking() const { return tls_ && !tls_->established(); }

std::string Transport::peerCommonName() const { return tls_ ? tls_->peerCommonName() : std::string(); }

std::size_t Transport::unsent() const {
  return out_.size() - outPos_ + wire_.size() - wirePos_ + tlsOut_.size() - tlsOutPos_;
}

bool Transport::flush(int64_t now) {
  std::string* buf = &out_;
  std::size_t* pos = &outPos_;
  if (codec_) {
    if (outPos_ < out_.size()) codec_->encode(std::string_view(out_).substr(outPos_), wire_);
    out_.clear();
    outPos_ = 0;
    buf = &wire_;
    pos = &wirePos_;
  }
  if (tls_) {
    // Plaintext waits in its buffer until the handshake is done.
    if (tls_->established() && *pos < buf->size()) {
      if (!tls_->write(std::string_view(*buf).substr(*pos))) return false;
      buf->clear();
      *pos = 0;
    }
    tls_->drain(tlsOut_);
    buf = &tlsOut_;
    pos = &tlsOutPos_;
  }
  while (*pos < buf->size()) {
    ssize_t n = ::send(fd_.get(), buf->data() + *pos, buf->size() - *pos, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!blocked_) {
          blocked_ = true;
          blockedSince_ = now;
        }
        return true;
      }
      return false;
    }
    *pos += static_cast<std::size_t>(n);
  }
  buf->clear();
  *pos = 0;
  if (buf->capacity() > kShrinkAbove) buf->shrink_to_fit();
  blocked_ = false;
  return true;
}

void Transport::trimIdle(std::size_t keep) {
  if (outPos_ != out_.size() || wirePos_ != wire_.size() || tlsOutPos_ != tlsOut_.size()) return;
  auto trim = [keep](std::string& buf) {
    buf.clear();
    if (buf.capacity() > keep) std::string().swap(buf);
  };
  outPos_ = wirePos_ = tlsOutPos_ = 0;
  trim(out_);
  trim(wire_);
  trim(tlsOut_);
}

std::string Transport::tlsVersion() const {
  std::lock_guard lock(infoMutex_);
  return tlsVersion_;
}

std::string Transport::tlsCipherSuite() const {
  std::lock_guard lock(infoMutex_);
  return tlsCipherSuite_;
}

}  // namespace nsq::nsqd

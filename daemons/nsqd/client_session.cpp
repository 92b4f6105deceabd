// ClientSession: protocol V2 for one connection, run on its IoLoop thread. Commands are parsed
// in place from the input buffer; a command whose body has not fully arrived is re-parsed when
// more bytes come (cheap: one line), and body sizes are checked before any body is buffered, so
// an oversized PUB is refused without reading it. Responses for a batch of pipelined commands
// go out in one write.
//
// Transport layers, top down: frames in out_ -> [codec -> wire_] -> [TLS -> tlsOut_] -> socket,
// and the reverse for input. TLS is installed first and compression on top of it, as the
// upgrade sequence orders them (NSQ-COMPAT 1.7); until the handshake completes nothing but the
// plain IDENTIFY reply and handshake records is written, not even a heartbeat.
#include "nsqd/client_session.h"

#include <sys/socket.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <type_traits>

#include "nsq/base/json_text.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/protocol/compression.h"
#include "nsq/version.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"
#include "nsqd/io_loop.h"
#include "nsqd/nsqd.h"
#include "nsqd/tls.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxReadPerPass = 1024 * 1024;
constexpr std::size_t kMaxPendingOutput = 1024 * 1024;  // stop pulling messages past this
constexpr int64_t kTlsHandshakeTimeoutNs = 5'000'000'000;
// A connection that has sent nothing for this long gives back buffer capacity above
// kIdleBufferBytes, so thousands of idle clients cost little memory.
constexpr int64_t kIdleTrimNs = 1'000'000'000;
constexpr std::size_t kIdleBufferBytes = 4096;

// A numeric command parameter: unsigned decimal digits (NSQ-COMPAT 1.4) read as an int64, so
// anything past 2^63-1, like a sign, is Syntax ("could not parse", as strconv.ParseInt fails
// in the original).
ParsedInt parseParam(std::string_view text, int64_t max = kInt64Max) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) return {NumberError::Syntax, 0};
  return parseInt(text, 0, max);
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

ClientSession::ClientSession(Nsqd& nsqd, IoLoop& loop, int fd, uint64_t id, std::string remote)
    : nsqd_(nsqd), loop_(loop), fd_(fd), id_(id), remoteAddress_(std::move(remote)),
      connectTs_(wallNanos() / 1'000'000'000) {
  const auto& o = nsqd_.options();
  heartbeatIntervalNs_ = o.clientTimeout.count() / 2;
  outputBufferTimeoutNs_ = o.outputBufferTimeout.count();
  msgTimeoutNs_ = o.msgTimeout.count();
  int64_t now = monoNanos();
  lastReadMono_ = now;
  nextHeartbeatMono_ = now + heartbeatIntervalNs_;
  std::string host = remoteAddress_.substr(0, remoteAddress_.rfind(':'));
  clientId_ = host;
  hostname_ = host;
}

ClientSession::~ClientSession() {
  if (fd_ >= 0) ::close(fd_);
}

void ClientSession::wake() {
  if (wakePending.exchange(true, std::memory_order_acq_rel)) return;
  loop_.wake(shared_from_this());
}

void ClientSession::requestClose() { loop_.requestClose(shared_from_this()); }

void ClientSession::closed() {
  state_.store(static_cast<int>(ClientState::Closing));
  if (channel_) {
    bool lastOfEphemeral = channel_->removeClient(this);
    if (lastOfEphemeral) {
      if (auto topic = nsqd_.findTopic(channel_->topicName())) topic->deleteChannel(channel_->name());
    }
    channel_.reset();
  }
  cachedTopic_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// Reads what the socket has (bounded per pass, for fairness between connections) into one
// scratch buffer per IO thread, and hands each chunk to the transport: plain bytes are appended
// to the input, compressed ones decoded into it, TLS records fed to the TLS stream. An idle
// connection therefore holds no read buffer of its own beyond the bytes it has sent.
bool ClientSession::onReadable(int64_t now) {
  thread_local std::unique_ptr<char[]> scratch(new char[kReadChunk]);
  char* buf = scratch.get();
  std::size_t total = 0;
  for (;;) {
    ssize_t n = ::recv(fd_, buf, kReadChunk, 0);
    if (n == 0) return false;  // peer closed
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return false;
    }
    lastReadMono_ = now;
    std::string_view chunk(buf, static_cast<std::size_t>(n));
    if (tls_)
      tls_->feed(chunk);
    else if (codec_) {
      if (!decodeInput(chunk)) return false;
    } else
      in_.append(chunk);
    total += chunk.size();
    if (chunk.size() < kReadChunk || total >= kMaxReadPerPass) break;
  }
  if (tls_ && !advanceTls()) return false;
  if (!processInput(now)) return false;
  return pump(now);
}

bool ClientSession::advanceTls() {
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
    nextHeartbeatMono_ = monoNanos() + heartbeatIntervalNs_;
    sendResponse(kOk);  // the first frame over TLS
    if (pendingCodec_ != 0) startCompression(pendingCodec_ == 2, pendingLevel_);
  }
  std::string plain;
  if (!tls_->read(plain, &err)) {
    logInfo("PROTOCOL(V2): [", remoteAddress_, "] TLS - ", err);
    return false;
  }
  if (plain.empty()) return true;
  if (codec_) return decodeInput(plain);
  in_.append(plain);
  return true;
}

bool ClientSession::decodeInput(std::string_view wire) {
  std::string err;
  // Bound what one read may expand to: a command body is at most max-body-size.
  auto cap = static_cast<std::size_t>(nsqd_.options().maxBodySize) + 2 * kReadChunk;
  if (!codec_->decode(wire, in_, cap, &err)) {
    logError("PROTOCOL(V2): [", remoteAddress_, "] ", codec_->name(), " - ", err);
    return false;
  }
  return true;
}

bool ClientSession::onWritable(int64_t now) {
  if (!flush(now)) return false;
  return pump(now);
}

bool ClientSession::onTick(int64_t now) {
  if (tls_ && !tls_->established()) {
    if (now > tlsDeadlineMono_) {
      logInfo("PROTOCOL(V2): [", remoteAddress_, "] TLS handshake timed out, closing");
      return false;
    }
    return true;  // nothing may be written until the upgrade completes
  }
  if (heartbeatIntervalNs_ > 0) {
    // While an auth query is out the client waits for us, not the other way round.
    if (!authPending_ && now - lastReadMono_ > 2 * heartbeatIntervalNs_) {
      logInfo("PROTOCOL(V2): [", remoteAddress_, "] no command within 2 heartbeat intervals, closing");
      return false;
    }
    if (now >= nextHeartbeatMono_) {
      nextHeartbeatMono_ = now + heartbeatIntervalNs_;
      sendResponse(kHeartbeat);
      if (!flush(now)) return false;
    }
  }
  if (now - lastReadMono_ > kIdleTrimNs && !writeBlocked_) trimBuffers();
  if (writeBlocked_) {
    int64_t limit = heartbeatIntervalNs_ > 0 ? heartbeatIntervalNs_ : nsqd_.options().clientTimeout.count();
    if (now - writeBlockedSince_ > std::max<int64_t>(limit, 1'000'000'000)) {
      logInfo("PROTOCOL(V2): [", remoteAddress_, "] write timed out, closing");
      return false;
    }
  }
  return true;
}

void ClientSession::trimBuffers() {
  auto trim = [](auto& buf, std::size_t keep) {
    if (buf.empty() && buf.capacity() > keep) std::decay_t<decltype(buf)>().swap(buf);
  };
  if (inPos_ == in_.size()) {
    in_.clear();
    inPos_ = 0;
  }
  trim(in_, kIdleBufferBytes);
  if (outPos_ == out_.size() && wirePos_ == wire_.size() && tlsOutPos_ == tlsOut_.size()) {
    out_.clear();
    outPos_ = 0;
    wire_.clear();
    wirePos_ = 0;
    tlsOut_.clear();
    tlsOutPos_ = 0;
    trim(out_, kIdleBufferBytes);
    trim(wire_, kIdleBufferBytes);
    trim(tlsOut_, kIdleBufferBytes);
  }
  trim(batch_, 16);
  trim(bodies_, 16);
}

bool ClientSession::processInput(int64_t now) {
  if (authPending_) return true;  // resumed by onAuthResult
  while (inPos_ < in_.size() && !closeAfterFlush_ && !authPending_) {
    long used = executeOne(std::string_view(in_).substr(inPos_), now);
    if (used < 0) {
      closeAfterFlush_ = true;
      break;
    }
    if (used == 0) break;
    inPos_ += static_cast<std::size_t>(used);
    if (upgradeInput_) {
      // Bytes after the upgrading IDENTIFY were sent as TLS records or compressed.
      upgradeInput_ = false;
      std::string rest = in_.substr(inPos_);
      in_.resize(inPos_);
      if (tls_) {
        tls_->feed(rest);
        if (!rest.empty() && !advanceTls()) return false;
      } else if (!rest.empty() && !decodeInput(rest)) {
        return false;
      }
    }
  }
  flushFins();
  if (inPos_ == in_.size()) {
    in_.clear();
    inPos_ = 0;
  } else if (inPos_ > 0 && inPos_ >= in_.size() / 2) {
    in_.erase(0, inPos_);
    inPos_ = 0;
  }
  if (in_.capacity() > 4 * kReadChunk && in_.size() < kReadChunk) in_.shrink_to_fit();
  return true;
}

void ClientSession::sendResponse(std::string_view data) { appendFrame(out_, FrameType::Response, data); }

void ClientSession::sendError(const Error& err) {
  logAt(isFatal(err.code) ? LogLevel::Error : LogLevel::Warn, "PROTOCOL(V2): [", remoteAddress_,
        "] ", err.frameText());
  appendFrame(out_, FrameType::Error, err.frameText());
}

long ClientSession::executeOne(std::string_view buf, int64_t now) {
  if (!magicRead_) {
    if (buf.size() < 4) return 0;
    if (buf.substr(0, 4) != kMagicV2) {
      // The original answers the bare code; the log says what arrived.
      logError("client(", remoteAddress_, ") bad protocol magic ", quoted(buf.substr(0, 4)));
      appendFrame(out_, FrameType::Error, errorCodeName(ErrorCode::BadProtocol));
      return -1;
    }
    magicRead_ = true;
    return 4;
  }
  std::size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) {
    if (buf.size() > kMaxLineLength) {
      sendError({ErrorCode::Invalid, "command line too long"});
      return -1;
    }
    return 0;
  }
  CommandLine cmd = parseCommandLine(buf.substr(0, nl));
  std::size_t pos = nl + 1;
  if (cmd.name != CommandName::Fin) flushFins();  // FINs so far answer before this command
  auto fail = [this](Error e) -> long {
    sendError(e);
    return isFatal(e.code) ? -1 : 0;
  };
  const auto& o = nsqd_.options();
  // Like the original, every command but IDENTIFY is refused on a plain connection, before
  // its body is read.
  if (cmd.name != CommandName::Identify && o.tlsRequired != "false" && !tlsOn_.load(std::memory_order_relaxed))
    return fail({ErrorCode::Invalid, "cannot " + std::string(cmd.nameText) + " in current state (TLS required)"});
  auto state = static_cast<ClientState>(state_.load(std::memory_order_relaxed));

  if (!cmd.hasBody()) {
    Error err;
    switch (cmd.name) {
      case CommandName::Sub: err = handleSub(cmd); break;
      case CommandName::Rdy: err = handleRdy(cmd); break;
      case CommandName::Fin:
      case CommandName::Req:
      case CommandName::Touch: err = handleFinReqTouch(cmd); break;
      case CommandName::Cls:
        if (state != ClientState::Subscribed) {
          err = {ErrorCode::Invalid, "cannot CLS in current state"};
          break;
        }
        state_.store(static_cast<int>(ClientState::Closing));
        rdy_.store(0);
        sendResponse(kCloseWait);
        break;
      case CommandName::Nop: break;
      default: err = {ErrorCode::Invalid, "invalid command " + std::string(cmd.nameText)}; break;
    }
    if (err) {
      flushFins();  // a FIN that failed its checks answers after the FINs before it
      sendError(err);
      if (isFatal(err.code)) return -1;
    }
    if (authPending_) return 0;
    return static_cast<long>(pos);
  }

  // Commands with a body: check what can be checked before the body arrives.
  const char* name = cmd.name == CommandName::Identify ? "IDENTIFY"
                     : cmd.name == CommandName::Auth   ? "AUTH"
                     : cmd.name == CommandName::Pub    ? "PUB"
                     : cmd.name == CommandName::Mpub   ? "MPUB"
                                                       : "DPUB";
  int64_t deferNs = 0;
  int64_t maxSize = o.maxMsgSize;
  ErrorCode sizeCode = ErrorCode::BadMessage;
  switch (cmd.name) {
    case CommandName::Identify:
      if (state != ClientState::Init) return fail({ErrorCode::Invalid, "cannot IDENTIFY in current state"});
      maxSize = o.maxBodySize;
      sizeCode = ErrorCode::BadBody;
      break;
    case CommandName::Auth:
      if (state != ClientState::Init) return fail({ErrorCode::Invalid, "cannot AUTH in current state"});
      if (cmd.paramCount != 0) return fail({ErrorCode::Invalid, "AUTH invalid number of parameters"});
      maxSize = o.maxBodySize;
      sizeCode = ErrorCode::BadBody;
      break;
    case CommandName::Pub:
    case CommandName::Mpub:
    case CommandName::Dpub: {
      int need = cmd.name == CommandName::Dpub ? 2 : 1;
      if (cmd.paramCount < need)
        return fail({ErrorCode::Invalid, std::string(name) + " insufficient number of parameters"});
      if (!isValidTopicName(cmd.params[0]))
        return fail({ErrorCode::BadTopic, std::string(name) + " topic name " + quoted(cmd.params[0]) + " is not valid"});
      if (cmd.name == CommandName::Dpub) {
        // The original reads bare digits (no sign) and says which bound was crossed.
        std::string_view text = cmd.params[1];
        int64_t maxMs = o.maxReqTimeout.count() / 1'000'000;
        ParsedInt ms = parseParam(text, maxMs);
        if (ms.error == NumberError::Syntax)
          return fail({ErrorCode::Invalid, "DPUB could not parse timeout " + std::string(text)});
        if (!ms)
          return fail({ErrorCode::Invalid, "DPUB timeout " + std::string(text) + " out of range 0-" + std::to_string(maxMs)});
        deferNs = *ms * 1'000'000;
      }
      if (cmd.name == CommandName::Mpub) {
        // The original checks MPUB's authorization before reading its body (PUB/DPUB after).
        if (Error e = checkAuth(name, cmd.params[0], "")) return fail(e);
        if (authPending_) return 0;
        maxSize = o.maxBodySize;
        sizeCode = ErrorCode::BadBody;
      }
      break;
    }
    default: break;
  }
  if (buf.size() < pos + 4) return 0;
  int32_t size = static_cast<int32_t>(getUint32(buf.data() + pos));
  if (size <= 0)
    return fail({sizeCode, std::string(name) + (sizeCode == ErrorCode::BadBody ? " invalid body size " : " invalid message body size ") + std::to_string(size)});
  if (size > maxSize) {
    std::string what = cmd.name == CommandName::Identify || cmd.name == CommandName::Auth ? " body too big "
                       : cmd.name == CommandName::Mpub                                    ? " body too big "
                                                                                          : " message too big ";
    return fail({sizeCode, std::string(name) + what + std::to_string(size) + " > " + std::to_string(maxSize)});
  }
  if (buf.size() < pos + 4 + static_cast<std::size_t>(size)) {
    in_.reserve(inPos_ + pos + 4 + static_cast<std::size_t>(size));
    return 0;
  }
  std::string_view body = buf.substr(pos + 4, static_cast<std::size_t>(size));
  long consumed = static_cast<long>(pos + 4 + static_cast<std::size_t>(size));
  Error err;
  switch (cmd.name) {
    case CommandName::Identify: err = handleIdentify(body); break;
    case CommandName::Auth: err = handleAuth(body); break;
    case CommandName::Pub:
    case CommandName::Dpub:
      err = checkAuth(name, cmd.params[0], "");
      if (err || authPending_) break;
      bodies_.assign(1, body);
      err = publish(cmd.params[0], bodies_, deferNs,
                    cmd.name == CommandName::Pub ? ErrorCode::PubFailed : ErrorCode::DpubFailed, name);
      break;
    case CommandName::Mpub:
      err = parseMpubBody(body, o.maxMsgSize, o.maxBodySize, bodies_);
      if (!err) err = publish(cmd.params[0], bodies_, 0, ErrorCode::MpubFailed, name);
      break;
    default: break;
  }
  if (err) {
    sendError(err);
    if (isFatal(err.code)) return -1;
  }
  if (authPending_) return 0;  // parsed again when the auth result arrives
  (void)now;
  return consumed;
}

std::shared_ptr<Topic> ClientSession::topicFor(std::string_view name) {
  if (cachedTopic_ && !cachedTopic_->exiting() && cachedTopicName_ == name) return cachedTopic_;
  cachedTopicName_.assign(name);
  cachedTopic_ = nsqd_.getTopic(cachedTopicName_);
  return cachedTopic_;
}

Error ClientSession::publish(std::string_view topicName, const std::vector<std::string_view>& bodies,
                             int64_t deferNs, ErrorCode failCode, const char* cmd) {
  auto topic = topicFor(topicName);
  if (!topic) return {failCode, std::string(cmd) + " failed exiting"};
  if (Error error = topic->publish(bodies, deferNs, failCode))
    return {error.code, std::string(cmd) + " failed " + error.description};
  {
    std::lock_guard lock(infoMutex_);
    pubCounts_[cachedTopicName_] += bodies.size();
  }
  sendResponse(kOk);
  return {};
}

// Like the original, which decodes into Go ints (sample_rate an int32), a value that does not
// fit its field (2^63, a string, a fraction) fails the whole body with the original's text;
// the log names the field, as the original logs the decoder's error. Numbers go through
// nsq::jsonInt, which never throws: an escaped Poco::RangeException once aborted nsqd.
Error ClientSession::handleIdentify(std::string_view body) {
  const Error decodeFailed{ErrorCode::BadBody, "IDENTIFY failed to decode JSON body"};
  auto refuse = [&](std::string_view why) {
    logWarn("PROTOCOL(V2): [", remoteAddress_, "] IDENTIFY failed to decode JSON body - ", why);
    return decodeFailed;
  };
  // Poco would read these wrapped (2^64 as 0), so they are refused before parsing.
  if (auto big = findUnrepresentableJsonInteger(body))
    return refuse("number " + std::string(big->substr(0, 64)) + " out of range");
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(body));
    obj = v.extract<Poco::JSON::Object::Ptr>();
  } catch (...) {
    return decodeFailed;
  }
  if (!obj) return decodeFailed;
  const auto& o = nsqd_.options();
  std::string typeError;  // the first field that did not decode
  auto getString = [&](const char* key, std::string& out) {
    if (!obj->has(key) || obj->isNull(key)) return;
    auto v = obj->get(key);
    if (!v.isString()) typeError = typeError.empty() ? std::string(key) + " is not a string" : typeError;
    else out = v.convert<std::string>();
  };
  auto getBool = [&](const char* key, bool& out) {
    if (!obj->has(key) || obj->isNull(key)) return;
    auto v = obj->get(key);
    if (!v.isBoolean()) typeError = typeError.empty() ? std::string(key) + " is not a boolean" : typeError;
    else out = v.convert<bool>();
  };
  auto getInt = [&](const char* key, int64_t& out, int64_t min = kInt64Min, int64_t max = kInt64Max) {
    if (!obj->has(key) || obj->isNull(key)) return;
    ParsedInt n = jsonInt(obj->get(key), min, max);
    if (n) {
      out = *n;
    } else if (typeError.empty()) {
      typeError = std::string(key) + (n.error == NumberError::Range ? " out of range" : " is not an integer");
    }
  };
  std::string clientId = clientId_, hostname = hostname_, userAgent, region, zone;
  bool featureNegotiation = false, tls = false, snappy = false, deflate = false;
  int64_t heartbeat = 0, obSize = 0, obTimeout = 0, deflateLevel = 0, sampleRate = 0, msgTimeout = 0;
  clientId.clear();
  hostname.clear();
  getString("client_id", clientId);
  getString("hostname", hostname);
  getString("user_agent", userAgent);
  getString("topology_region", region);
  getString("topology_zone", zone);
  getBool("feature_negotiation", featureNegotiation);
  getBool("tls_v1", tls);
  getBool("snappy", snappy);
  getBool("deflate", deflate);
  getInt("heartbeat_interval", heartbeat);
  getInt("output_buffer_size", obSize);
  getInt("output_buffer_timeout", obTimeout);
  getInt("deflate_level", deflateLevel);
  getInt("sample_rate", sampleRate, INT32_MIN, INT32_MAX);
  getInt("msg_timeout", msgTimeout);
  if (!typeError.empty()) return refuse(typeError);

  auto invalid = [](const char* what, int64_t v) {
    return Error{ErrorCode::BadBody, std::string("IDENTIFY ") + what + " (" + std::to_string(v) + ") is invalid"};
  };
  int64_t hbNs = heartbeatIntervalNs_;
  int64_t maxHbMs = o.maxHeartbeatInterval.count() / 1'000'000;
  if (heartbeat == -1) hbNs = 0;
  else if (heartbeat == 0) {}
  else if (heartbeat >= 1000 && heartbeat <= maxHbMs) hbNs = heartbeat * 1'000'000;
  else return invalid("heartbeat interval", heartbeat);

  int64_t obTimeoutNs = outputBufferTimeoutNs_;
  int64_t minObMs = o.minOutputBufferTimeout.count() / 1'000'000, maxObMs = o.maxOutputBufferTimeout.count() / 1'000'000;
  if (obTimeout == -1) obTimeoutNs = 0;
  else if (obTimeout == 0) {}
  else if (obTimeout >= minObMs && obTimeout <= maxObMs) obTimeoutNs = obTimeout * 1'000'000;
  else return invalid("output buffer timeout", obTimeout);

  int64_t obBytes = outputBufferSize_;
  if (obSize == -1) {
    obBytes = 1;
    obTimeoutNs = 0;
  } else if (obSize == 0) {
  } else if (obSize >= 64 && obSize <= o.maxOutputBufferSize) {
    obBytes = obSize;
  } else {
    return invalid("output buffer size", obSize);
  }
  if (sampleRate < 0 || sampleRate > 99) return invalid("sample rate", sampleRate);
  int64_t msgTimeoutNs = msgTimeoutNs_;
  int64_t maxMsgMs = o.maxMsgTimeout.count() / 1'000'000;
  if (msgTimeout == 0) {}
  else if (msgTimeout >= 1000 && msgTimeout <= maxMsgMs) msgTimeoutNs = msgTimeout * 1'000'000;
  else return invalid("msg timeout", msgTimeout);

  {
    std::lock_guard lock(infoMutex_);
    clientId_ = clientId;
    hostname_ = hostname;
    userAgent_ = userAgent;
  }
  heartbeatIntervalNs_ = hbNs;
  nextHeartbeatMono_ = monoNanos() + hbNs;
  outputBufferTimeoutNs_ = obTimeoutNs;
  outputBufferSize_ = obBytes;
  sampleRate_ = static_cast<int>(sampleRate);
  msgTimeoutNs_ = msgTimeoutNs;
  identified_ = true;

  if (!featureNegotiation) {
    sendResponse(kOk);
    return {};
  }
  bool grantTls = tls && nsqd_.tlsContext() && !tls_;
  bool grantDeflate = deflate && o.deflate;
  bool grantSnappy = snappy && o.snappy;
  if (grantDeflate && grantSnappy)
    return {ErrorCode::IdentifyFailed, "cannot enable both deflate and snappy compression"};
  int64_t level = grantDeflate && deflateLevel > 0 ? deflateLevel : 6;
  level = std::min(level, o.maxDeflateLevel);
  std::string resp = "{\"max_rdy_count\":" + std::to_string(o.maxRdyCount) + ",\"version\":\"" NSQ_VERSION "\"" +
                     ",\"max_msg_timeout\":" + std::to_string(maxMsgMs) +
                     ",\"msg_timeout\":" + std::to_string(msgTimeoutNs / 1'000'000) +
                     ",\"tls_v1\":" + std::string(grantTls ? "true" : "false") + ",\"deflate\":" + (grantDeflate ? "true" : "false") +
                     ",\"deflate_level\":" + std::to_string(level) +
                     ",\"max_deflate_level\":" + std::to_string(o.maxDeflateLevel) +
                     ",\"snappy\":" + (grantSnappy ? "true" : "false") +
                     ",\"sample_rate\":" + std::to_string(sampleRate) +
                     ",\"auth_required\":" + (nsqd_.authorizer() ? "true" : "false") +
                     ",\"output_buffer_size\":" + std::to_string(obBytes) +
                     ",\"output_buffer_timeout\":" + std::to_string(obTimeoutNs / 1'000'000) +
                     ",\"topology_region\":" + jsonQuote(o.topologyRegion) + ",\"topology_zone\":" +
                     jsonQuote(o.topologyZone) + "}";
  sendResponse(resp);
  if (grantTls) {
    // Upgrade: the JSON above goes out plain; then the TLS handshake on the raw socket, then
    // OK over TLS and any compression on top (advanceTls). Whatever the client pipelined
    // after IDENTIFY is already TLS records.
    tlsOut_.append(out_, outPos_, std::string::npos);
    out_.clear();
    outPos_ = 0;
    tls_ = std::make_unique<TlsStream>(nsqd_.tlsContext());
    tlsDeadlineMono_ = monoNanos() + kTlsHandshakeTimeoutNs;
    pendingCodec_ = grantDeflate ? 2 : grantSnappy ? 1 : 0;
    pendingLevel_ = static_cast<int>(level);
    upgradeInput_ = true;
  } else if (grantDeflate || grantSnappy) {
    startCompression(grantDeflate, static_cast<int>(level));
    upgradeInput_ = true;
  }
  return {};
}

// The frames queued so far go out uncompressed; everything after them, both ways, is
// compressed, starting with the OK that confirms the switch (NSQ-COMPAT 1.7).
void ClientSession::startCompression(bool deflate, int level) {
  wire_.append(out_, outPos_, std::string::npos);
  out_.clear();
  outPos_ = 0;
  codec_ = deflate ? makeDeflateCodec(level) : makeSnappyCodec();
  codecName_.store(codec_->name());
  sendResponse(kOk);
}

Error ClientSession::handleSub(const CommandLine& cmd) {
  if (static_cast<ClientState>(state_.load()) != ClientState::Init)
    return {ErrorCode::Invalid, "cannot SUB in current state"};
  if (heartbeatIntervalNs_ <= 0) return {ErrorCode::Invalid, "cannot SUB with heartbeats disabled"};
  if (cmd.paramCount < 2) return {ErrorCode::Invalid, "SUB insufficient number of parameters"};
  std::string topicName(cmd.params[0]), channelName(cmd.params[1]);
  if (!isValidTopicName(topicName))
    return {ErrorCode::BadTopic, "SUB topic name " + quoted(topicName) + " is not valid"};
  if (!isValidChannelName(channelName))
    return {ErrorCode::BadChannel, "SUB channel name " + quoted(channelName) + " is not valid"};
  if (Error e = checkAuth("SUB", topicName, channelName)) return e;
  if (authPending_) return {};
  // An ephemeral channel or topic can be deleted between lookup and join: try twice.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto topic = nsqd_.getTopic(topicName);
    if (!topic) return {ErrorCode::SubFailed, "SUB failed exiting"};
    auto channel = topic->getChannel(channelName);
    if (!channel) continue;
    Error err = channel->addClient(shared_from_this());
    if (err) {
      if (channel->exiting()) continue;
      return err;
    }
    channel_ = std::move(channel);
    state_.store(static_cast<int>(ClientState::Subscribed));
    sendResponse(kOk);
    return {};
  }
  return {ErrorCode::SubFailed, "SUB failed to deleted topic/channel"};
}

Error ClientSession::handleRdy(const CommandLine& cmd) {
  auto state = static_cast<ClientState>(state_.load());
  if (state == ClientState::Closing) return {};
  if (state != ClientState::Subscribed) return {ErrorCode::Invalid, "cannot RDY in current state"};
  int64_t count = 1;
  if (cmd.paramCount >= 1) {
    ParsedInt v = parseParam(cmd.params[0]);
    if (!v) return {ErrorCode::Invalid, "RDY could not parse count " + std::string(cmd.params[0])};
    if (*v > nsqd_.options().maxRdyCount)
      return {ErrorCode::Invalid, "RDY count " + std::to_string(*v) + " out of range 0-" +
                                      std::to_string(nsqd_.options().maxRdyCount)};
    count = *v;
  }
  rdy_.store(count, std::memory_order_relaxed);
  return {};
}

void ClientSession::flushFins() {
  if (pendingFins_.empty()) return;
  finFailures_.clear();
  channel_->finishBatch(*this, pendingFins_, finFailures_);
  pendingFins_.clear();
  for (auto& desc : finFailures_) sendError({ErrorCode::FinFailed, std::move(desc)});
}

Error ClientSession::handleFinReqTouch(const CommandLine& cmd) {
  const char* name = cmd.name == CommandName::Fin ? "FIN" : cmd.name == CommandName::Req ? "REQ" : "TOUCH";
  auto state = static_cast<ClientState>(state_.load());
  if (state != ClientState::Subscribed && state != ClientState::Closing)
    return {ErrorCode::Invalid, std::string("cannot ") + name + " in current state"};
  int need = cmd.name == CommandName::Req ? 2 : 1;
  if (cmd.paramCount < need) return {ErrorCode::Invalid, std::string(name) + " insufficient number of params"};
  MessageId id;
  if (!MessageId::parse(cmd.params[0], id)) return {ErrorCode::Invalid, "invalid message ID"};
  std::string desc;
  ErrorCode code = ErrorCode::None;
  if (cmd.name == CommandName::Fin) {
    pendingFins_.push_back(id);  // run together by flushFins(): one channel lock per read
    return {};
  } else if (cmd.name == CommandName::Touch) {
    code = channel_->touch(*this, id, &desc);
  } else {
    ParsedInt ms = parseParam(cmd.params[1]);
    if (!ms) return {ErrorCode::Invalid, "REQ could not parse timeout " + std::string(cmd.params[1])};
    int64_t maxNs = nsqd_.options().maxReqTimeout.count();
    int64_t delayNs = *ms > maxNs / 1'000'000 ? maxNs : *ms * 1'000'000;
    code = channel_->requeue(*this, id, delayNs, &desc);
  }
  if (code != ErrorCode::None) return {code, desc};
  return {};
}

Error ClientSession::handleAuth(std::string_view body) {
  if (authed_) return {ErrorCode::Invalid, "AUTH already set"};
  if (!nsqd_.authorizer()) return {ErrorCode::AuthDisabled, "AUTH disabled"};
  if (!authReply_) {
    authSecret_.assign(body);
    if (!startAuthQuery()) return {ErrorCode::AuthFailed, "AUTH failed"};
    return {};
  }
  AuthResult result = std::move(*authReply_);
  authReply_.reset();
  if (!result.state) {
    // Errors contacting the auth server go to the log, never to the untrusted client.
    logWarn("PROTOCOL(V2): [", remoteAddress_, "] AUTH failed ", result.error);
    return {ErrorCode::AuthFailed, "AUTH failed"};
  }
  if (result.state->authorizations.empty())
    return {ErrorCode::Unauthorized, "AUTH no authorizations found"};
  authed_ = true;
  {
    std::lock_guard lock(infoMutex_);
    authState_ = result.state;
  }
  sendResponse("{\"identity\":" + jsonQuote(authState_->identity) + ",\"identity_url\":" +
               jsonQuote(authState_->identityUrl) + ",\"permission_count\":" +
               std::to_string(authState_->authorizations.size()) + "}");
  return {};
}

Error ClientSession::checkAuth(const char* cmd, std::string_view topic, std::string_view channel) {
  if (!nsqd_.authorizer()) return {};
  if (!authed_) return {ErrorCode::AuthFirst, std::string("AUTH required before ") + cmd};
  if (authReply_) {
    AuthResult result = std::move(*authReply_);
    authReply_.reset();
    if (!result.state) {
      logWarn("PROTOCOL(V2): [", remoteAddress_, "] AUTH failed ", result.error);
      return {ErrorCode::AuthFailed, "AUTH failed"};
    }
    std::lock_guard lock(infoMutex_);
    authState_ = result.state;
  } else if (authState_->expired(monoNanos())) {
    if (!startAuthQuery()) return {ErrorCode::AuthFailed, "AUTH failed"};
    return {};
  }
  if (!authState_->isAllowed(topic, channel))
    return {ErrorCode::Unauthorized, std::string("AUTH failed for ") + cmd + " on " + quoted(topic) + " " + quoted(channel)};
  return {};
}

bool ClientSession::startAuthQuery() {
  AuthRequest request;
  // remote_ip is the bare address: "[::1]:5000" -> "::1".
  request.remoteIp = remoteAddress_.substr(0, remoteAddress_.rfind(':'));
  if (request.remoteIp.size() >= 2 && request.remoteIp.front() == '[')
    request.remoteIp = request.remoteIp.substr(1, request.remoteIp.size() - 2);
  request.tls = tlsOn_.load();
  if (request.tls) request.commonName = tls_->peerCommonName();
  request.secret = authSecret_;
  auto self = shared_from_this();
  bool queued = nsqd_.authorizer()->submit(std::move(request), [self](AuthResult result) {
    self->loop().post(self, [self, r = std::move(result)](int64_t now) mutable {
      return self->onAuthResult(std::move(r), now);
    });
  });
  if (!queued) {
    logWarn("PROTOCOL(V2): [", remoteAddress_, "] AUTH failed - too many auth queries waiting");
    return false;
  }
  authPending_ = true;
  updateInterest();
  return true;
}

bool ClientSession::onAuthResult(AuthResult result, int64_t now) {
  authPending_ = false;
  authReply_ = std::move(result);
  lastReadMono_ = now;
  updateInterest();
  bool ok = processInput(now);
  authReply_.reset();  // taken by the command parsed again; never left for a later one
  return ok && pump(now);
}

void ClientSession::updateInterest() { loop_.setInterest(*this, !authPending_, writeBlocked_); }

bool ClientSession::wantsMessages() const {
  return channel_ && static_cast<ClientState>(state_.load(std::memory_order_relaxed)) == ClientState::Subscribed &&
         out_.size() - outPos_ + wire_.size() - wirePos_ + tlsOut_.size() - tlsOutPos_ < kMaxPendingOutput;
}

bool ClientSession::pump(int64_t now) {
  while (wantsMessages()) {
    batch_.clear();
    channel_->pull(*this, batch_);
    if (batch_.empty()) break;
    for (const auto& m : batch_) appendMessageFrame(out_, m);
    messageCount.fetch_add(batch_.size(), std::memory_order_relaxed);
    if (static_cast<int64_t>(out_.size() - outPos_) >= outputBufferSize_ && !flush(now)) return false;
  }
  batch_.clear();
  return flush(now);
}

bool ClientSession::flush(int64_t now) {
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
    ssize_t n = ::send(fd_, buf->data() + *pos, buf->size() - *pos, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!writeBlocked_) {
          writeBlocked_ = true;
          writeBlockedSince_ = now;
          updateInterest();
        }
        return true;
      }
      return false;
    }
    *pos += static_cast<std::size_t>(n);
  }
  buf->clear();
  *pos = 0;
  if (buf->capacity() > 4 * kMaxPendingOutput) buf->shrink_to_fit();
  if (writeBlocked_) {
    writeBlocked_ = false;
    updateInterest();
  }
  return !closeAfterFlush_;
}

ClientStats ClientSession::stats() const {
  ClientStats s;
  {
    std::lock_guard lock(infoMutex_);
    s.clientId = clientId_;
    s.hostname = hostname_;
    s.userAgent = userAgent_;
    for (const auto& [t, n] : pubCounts_) s.pubCounts.emplace_back(t, n);
  }
  s.remoteAddress = remoteAddress_;
  s.state = state_.load();
  s.readyCount = rdy_.load();
  s.inFlightCount = inFlight.load();
  s.messageCount = messageCount.load();
  s.finishCount = finishCount.load();
  s.requeueCount = requeueCount.load();
  s.connectTs = connectTs_;
  s.sampleRate = sampleRate_;
  std::string_view codec = codecName_.load();
  s.deflate = codec == "deflate";
  s.snappy = codec == "snappy";
  s.tls = tlsOn_.load();
  {
    std::lock_guard lock(infoMutex_);
    if (s.tls) {
      s.tlsVersion = tlsVersion_;
      s.tlsCipherSuite = tlsCipherSuite_;
    }
    if (authState_) {
      s.authed = !authState_->authorizations.empty();
      s.authIdentity = authState_->identity;
      s.authIdentityUrl = authState_->identityUrl;
    }
  }
  return s;
}

}  // namespace nsq::nsqd

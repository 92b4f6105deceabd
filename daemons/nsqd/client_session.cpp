// ClientSession: protocol V2 for one connection, run on its IoLoop thread. Commands are parsed
// in place from the input buffer; a command whose body has not fully arrived is re-parsed when
// more bytes come (cheap: one line), and body sizes are checked before any body is buffered, so
// an oversized PUB is refused without reading it. Responses for a batch of pipelined commands
// go out in one write. Bytes in and out pass through the Transport (plain / TLS / snappy /
// deflate); IDENTIFY's negotiation is the pure negotiateIdentify(), applied here.
#include "nsqd/client_session.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>

#include "nsq/base/json_text.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"
#include "nsqd/io_loop.h"
#include "nsqd/nsqd.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxPendingOutput = 1024 * 1024;  // stop pulling messages past this
constexpr int64_t kTlsHandshakeTimeoutNs = 5'000'000'000;
constexpr std::size_t kFinLineLength = 4 + kMessageIdLength + 1;  // "FIN <id>\n"
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

const char* bodyCommandName(CommandName name) {
  switch (name) {
    case CommandName::Identify: return "IDENTIFY";
    case CommandName::Auth: return "AUTH";
    case CommandName::Pub: return "PUB";
    case CommandName::Mpub: return "MPUB";
    default: return "DPUB";
  }
}

}  // namespace

ClientSession::ClientSession(Nsqd& nsqd, IoLoop& loop, UniqueFd fd, uint64_t id, std::string remote)
    : nsqd_(nsqd), loop_(loop), id_(id), remoteAddress_(std::move(remote)),
      connectTs_(wallNanos() / 1'000'000'000),
      transport_(std::move(fd), remoteAddress_, static_cast<std::size_t>(nsqd.options().maxBodySize)),
      settings_(ClientSettings::defaults(nsqd.options())) {
  int64_t now = monoNanos();
  lastReadMono_ = now;
  nextHeartbeatMono_ = now + settings_.heartbeatIntervalNs;
  std::string host = remoteAddress_.substr(0, remoteAddress_.rfind(':'));
  settings_.clientId = host;
  settings_.hostname = host;
}

ClientSession::~ClientSession() = default;

void ClientSession::wake() {
  if (wakePending_.exchange(true, std::memory_order_acq_rel)) return;
  loop_.wake(shared_from_this());
}

bool ClientSession::onWake(int64_t now) {
  wakePending_.store(false, std::memory_order_release);
  return pump(now);
}

void ClientSession::requestClose() { loop_.requestClose(shared_from_this()); }

void ClientSession::closed() {
  state_.store(static_cast<int>(ClientState::Closing));
  if (channel_) {
    bool lastOfEphemeral = channel_->removeClient(*this);
    if (lastOfEphemeral) {
      if (auto topic = nsqd_.findTopic(channel_->topicName())) topic->deleteChannel(channel_->name());
    }
    std::shared_ptr<Channel> gone;  // released outside the lock
    std::lock_guard lock(infoMutex_);
    gone.swap(channel_);
  }
  cachedTopic_.reset();
  transport_.close();
}

bool ClientSession::readTransport(bool* gotBytes) {
  if (!transport_.read(in_, gotBytes)) return false;
  if (transport_.takeTlsEstablished()) nextHeartbeatMono_ = monoNanos() + settings_.heartbeatIntervalNs;
  return true;
}

bool ClientSession::reinjectAfterUpgrade() {
  // Bytes after the upgrading IDENTIFY were sent as TLS records or compressed.
  std::string rest = in_.substr(inPos_);
  in_.resize(inPos_);
  if (!transport_.reinject(rest, in_)) return false;
  if (transport_.takeTlsEstablished()) nextHeartbeatMono_ = monoNanos() + settings_.heartbeatIntervalNs;
  return true;
}

bool ClientSession::onReadable(int64_t now) {
  bool gotBytes = false;
  if (!readTransport(&gotBytes)) return false;
  if (gotBytes) lastReadMono_ = now;
  if (!processInput(now)) return false;
  return pump(now);
}

bool ClientSession::onWritable(int64_t now) {
  if (!flush(now)) return false;
  return pump(now);
}

bool ClientSession::onTick(int64_t now) {
  if (transport_.handshaking()) {
    if (transport_.handshakeTimedOut(now)) {
      logInfo("PROTOCOL(V2): [", remoteAddress_, "] TLS handshake timed out, closing");
      return false;
    }
    return true;  // nothing may be written until the upgrade completes
  }
  const int64_t heartbeatNs = settings_.heartbeatIntervalNs;
  if (heartbeatNs > 0) {
    // While an auth query is out the client waits for us, not the other way round.
    if (!authPending_ && now - lastReadMono_ > 2 * heartbeatNs) {
      logInfo("PROTOCOL(V2): [", remoteAddress_, "] no command within 2 heartbeat intervals, closing");
      return false;
    }
    if (now >= nextHeartbeatMono_) {
      nextHeartbeatMono_ = now + heartbeatNs;
      sendResponse(kHeartbeat);
      if (!flush(now)) return false;
    }
  }
  if (now - lastReadMono_ > kIdleTrimNs && !transport_.blocked()) trimBuffers();
  if (transport_.blocked()) {
    int64_t limit = heartbeatNs > 0 ? heartbeatNs : nsqd_.options().clientTimeout.count();
    if (now - transport_.blockedSince() > std::max<int64_t>(limit, 1'000'000'000)) {
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
  transport_.trimIdle(kIdleBufferBytes);
  trim(bodies_, 16);
}

bool ClientSession::processInput(int64_t) {
  if (authPending_) return true;  // resumed by onAuthResult
  while (inPos_ < in_.size() && !closeAfterFlush_ && !authPending_) {
    long used = executeOne(std::string_view(in_).substr(inPos_));
    if (used < 0) {
      closeAfterFlush_ = true;
      break;
    }
    if (used == 0) break;
    inPos_ += static_cast<std::size_t>(used);
    if (upgradeInput_) {
      upgradeInput_ = false;
      if (!reinjectAfterUpgrade()) return false;
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

void ClientSession::sendResponse(std::string_view data) { appendFrame(transport_.out(), FrameType::Response, data); }

void ClientSession::sendError(const Error& err) {
  logAt(isFatal(err.code) ? LogLevel::Error : LogLevel::Warn, "PROTOCOL(V2): [", remoteAddress_,
        "] ", err.frameText());
  appendFrame(transport_.out(), FrameType::Error, err.frameText());
}

long ClientSession::readMagic(std::string_view buf) {
  if (buf.size() < 4) return 0;
  if (buf.substr(0, 4) != kMagicV2) {
    // The original answers the bare code; the log says what arrived.
    logError("client(", remoteAddress_, ") bad protocol magic ", quoted(buf.substr(0, 4)));
    appendFrame(transport_.out(), FrameType::Error, errorCodeName(ErrorCode::BadProtocol));
    return -1;
  }
  magicRead_ = true;
  return 4;
}

long ClientSession::executeOne(std::string_view buf) {
  if (!magicRead_) return readMagic(buf);
  if (queueWellFormedFin(buf)) return static_cast<long>(kFinLineLength);
  std::size_t nl = buf.find('\n');
  if (nl == std::string_view::npos) {
    if (buf.size() > kMaxLineLength) {
      sendError({ErrorCode::Invalid, "command line too long"});
      return -1;
    }
    return 0;
  }
  CommandLine cmd = parseCommandLine(buf.substr(0, nl));
  const std::size_t pos = nl + 1;
  if (cmd.name != CommandName::Fin) flushFins();  // FINs so far answer before this command
  auto fail = [this](const Error& e) -> long {
    sendError(e);
    return isFatal(e.code) ? -1 : 0;
  };
  // Like the original, every command but IDENTIFY is refused on a plain connection, before
  // its body is read.
  if (cmd.name != CommandName::Identify && lacksRequiredTls())
    return fail({ErrorCode::Invalid, "cannot " + std::string(cmd.nameText) + " in current state (TLS required)"});

  if (!cmd.hasBody()) {
    if (Error err = runCommand(cmd)) {
      flushFins();  // a FIN that failed its checks answers after the FINs before it
      sendError(err);
      if (isFatal(err.code)) return -1;
    }
    if (authPending_) return 0;
    return static_cast<long>(pos);
  }

  // Commands with a body: check what can be checked before the body arrives.
  BodyRule rule{nsqd_.options().maxMsgSize, ErrorCode::BadMessage};
  if (Error err = checkBeforeBody(cmd, rule)) return fail(err);
  if (authPending_) return 0;
  const char* name = bodyCommandName(cmd.name);
  if (buf.size() < pos + 4) return 0;
  int32_t size = static_cast<int32_t>(getUint32(buf.data() + pos));
  if (size <= 0)
    return fail({rule.sizeCode, std::string(name) + (rule.sizeCode == ErrorCode::BadBody ? " invalid body size " : " invalid message body size ") + std::to_string(size)});
  if (size > rule.maxSize) {
    std::string what = cmd.name == CommandName::Identify || cmd.name == CommandName::Auth ? " body too big "
                       : cmd.name == CommandName::Mpub                                    ? " body too big "
                                                                                          : " message too big ";
    return fail({rule.sizeCode, std::string(name) + what + std::to_string(size) + " > " + std::to_string(rule.maxSize)});
  }
  if (cmd.name == CommandName::Mpub) return executeMpub(cmd, buf, pos + 4, static_cast<std::size_t>(size), rule);
  if (buf.size() < pos + 4 + static_cast<std::size_t>(size)) {
    in_.reserve(inPos_ + pos + 4 + static_cast<std::size_t>(size));
    return 0;
  }
  std::string_view body = buf.substr(pos + 4, static_cast<std::size_t>(size));
  if (Error err = runBodyCommand(cmd, body, rule)) {
    sendError(err);
    if (isFatal(err.code)) return -1;
  }
  if (authPending_) return 0;  // parsed again when the auth result arrives
  return static_cast<long>(pos + 4 + static_cast<std::size_t>(size));
}

long ClientSession::executeMpub(const CommandLine& cmd, std::string_view buf, std::size_t start,
                                std::size_t declared, const BodyRule& rule) {
  // The declared size was only range-checked: the count and the messages come from the stream,
  // as the original reads them; readMpub bounds what one MPUB may read by --max-body-size.
  // Progress survives the calls that wait for more bytes (offsets, not views: in_ may move).
  const auto& o = nsqd_.options();
  if (!mpubReading_) {
    mpub_ = {};
    mpubReading_ = true;
  }
  std::string_view stream = buf.substr(start);
  Error err;
  switch (readMpub(stream, o.maxMsgSize, o.maxBodySize, mpub_, err)) {
    case MpubStatus::NeedMore:
      in_.reserve(inPos_ + start + std::max(mpub_.want, declared));
      return 0;
    case MpubStatus::Failed:
      mpubReading_ = false;
      sendError(err);
      return -1;
    case MpubStatus::Done: break;
  }
  mpubReading_ = false;
  if (Error e = runBodyCommand(cmd, stream.substr(0, mpub_.pos), rule)) {
    sendError(e);
    if (isFatal(e.code)) return -1;
  }
  return static_cast<long>(start + mpub_.pos);
}

Error ClientSession::runCommand(const CommandLine& cmd) {
  switch (cmd.name) {
    case CommandName::Sub: return handleSub(cmd);
    case CommandName::Rdy: return handleRdy(cmd);
    case CommandName::Fin: return handleFin(cmd);
    case CommandName::Req: return handleReq(cmd);
    case CommandName::Touch: return handleTouch(cmd);
    case CommandName::Cls: return handleCls();
    case CommandName::Nop: return {};
    default: return {ErrorCode::Invalid, "invalid command " + std::string(cmd.nameText)};
  }
}

Error ClientSession::checkBeforeBody(const CommandLine& cmd, BodyRule& rule) {
  const auto& o = nsqd_.options();
  const char* name = bodyCommandName(cmd.name);
  auto state = static_cast<ClientState>(state_.load(std::memory_order_relaxed));
  switch (cmd.name) {
    case CommandName::Identify:
      if (state != ClientState::Init) return {ErrorCode::Invalid, "cannot IDENTIFY in current state"};
      rule.maxSize = o.maxBodySize;
      rule.sizeCode = ErrorCode::BadBody;
      return {};
    case CommandName::Auth:
      if (state != ClientState::Init) return {ErrorCode::Invalid, "cannot AUTH in current state"};
      if (cmd.paramCount != 0) return {ErrorCode::Invalid, "AUTH invalid number of parameters"};
      rule.maxSize = o.maxBodySize;
      rule.sizeCode = ErrorCode::BadBody;
      return {};
    default: break;
  }
  int need = cmd.name == CommandName::Dpub ? 2 : 1;
  if (cmd.paramCount < need) return {ErrorCode::Invalid, std::string(name) + " insufficient number of parameters"};
  if (!isValidTopicName(cmd.params[0]))
    return {ErrorCode::BadTopic, std::string(name) + " topic name " + quoted(cmd.params[0]) + " is not valid"};
  if (cmd.name == CommandName::Dpub) {
    // The original reads bare digits (no sign) and says which bound was crossed.
    std::string_view text = cmd.params[1];
    int64_t maxMs = o.maxReqTimeout.count() / 1'000'000;
    ParsedInt ms = parseParam(text, maxMs);
    if (ms.error == NumberError::Syntax) return {ErrorCode::Invalid, "DPUB could not parse timeout " + std::string(text)};
    if (!ms)
      return {ErrorCode::Invalid, "DPUB timeout " + std::string(text) + " out of range 0-" + std::to_string(maxMs)};
    rule.deferNs = *ms * 1'000'000;
  }
  if (cmd.name == CommandName::Mpub) {
    // The original checks MPUB's authorization before reading its body (PUB/DPUB after).
    if (Error e = checkAuth(name, cmd.params[0], "")) return e;
    rule.maxSize = o.maxBodySize;
    rule.sizeCode = ErrorCode::BadBody;
  }
  return {};
}

Error ClientSession::runBodyCommand(const CommandLine& cmd, std::string_view body, const BodyRule& rule) {
  const char* name = bodyCommandName(cmd.name);
  switch (cmd.name) {
    case CommandName::Identify: return handleIdentify(body);
    case CommandName::Auth: return handleAuth(body);
    case CommandName::Pub:
    case CommandName::Dpub:
      if (Error e = checkAuth(name, cmd.params[0], "")) return e;
      if (authPending_) return {};
      bodies_.assign(1, body);
      return publish(cmd.params[0], bodies_, rule.deferNs,
                     cmd.name == CommandName::Pub ? ErrorCode::PubFailed : ErrorCode::DpubFailed, name);
    case CommandName::Mpub: {
      const auto& o = nsqd_.options();
      if (Error e = parseMpubBody(body, o.maxMsgSize, o.maxBodySize, bodies_)) return e;
      return publish(cmd.params[0], bodies_, 0, ErrorCode::MpubFailed, name);
    }
    default: return {};
  }
}

std::shared_ptr<Topic> ClientSession::topicFor(std::string_view name, Refusal* refused) {
  if (cachedTopic_ && !cachedTopic_->exiting() && cachedTopicName_ == name) return cachedTopic_;
  cachedTopicName_.assign(name);
  cachedTopic_ = nsqd_.getTopic(cachedTopicName_, Limit::Enforce, refused);
  return cachedTopic_;
}

Error ClientSession::publish(std::string_view topicName, const std::vector<std::string_view>& bodies,
                             int64_t deferNs, ErrorCode failCode, const char* cmd) {
  Refusal refused;
  auto topic = topicFor(topicName, &refused);
  // Past --max-topics the publish is refused but the connection stays: the producer's other
  // topics keep working.
  if (refused) return {refusedCode(failCode), std::string(cmd) + " failed " + refused.text()};
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

Error ClientSession::handleIdentify(std::string_view body) {
  IdentifyPolicy policy = IdentifyPolicy::fromOptions(nsqd_.options());
  policy.tlsAvailable = nsqd_.tlsContext() && !transport_.tls() && !transport_.handshaking();
  policy.authRequired = nsqd_.authorizer() != nullptr;
  IdentifyResult result;
  std::string why;
  if (Error err = negotiateIdentify(body, policy, settings_, result, &why)) {
    if (!why.empty()) logWarn("PROTOCOL(V2): [", remoteAddress_, "] IDENTIFY failed to decode JSON body - ", why);
    return err;
  }
  {
    std::lock_guard lock(infoMutex_);
    settings_ = std::move(result.settings);
  }
  sampleRate_.store(settings_.sampleRate, std::memory_order_relaxed);
  nextHeartbeatMono_ = monoNanos() + settings_.heartbeatIntervalNs;
  sendResponse(result.reply);
  if (result.tls) {
    // Upgrade: the reply above goes out plain; then the TLS handshake on the raw socket, then
    // OK over TLS and any compression on top. Whatever the client pipelined after IDENTIFY is
    // already TLS records.
    transport_.startTls(nsqd_.tlsContext(), monoNanos() + kTlsHandshakeTimeoutNs, result.deflate, result.snappy,
                        result.deflateLevel);
    upgradeInput_ = true;
  } else if (result.deflate || result.snappy) {
    transport_.startCompression(result.deflate, result.deflateLevel);
    upgradeInput_ = true;
  }
  return {};
}

Error ClientSession::handleSub(const CommandLine& cmd) {
  if (static_cast<ClientState>(state_.load()) != ClientState::Init)
    return {ErrorCode::Invalid, "cannot SUB in current state"};
  if (settings_.heartbeatIntervalNs <= 0) return {ErrorCode::Invalid, "cannot SUB with heartbeats disabled"};
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
    Refusal refused;
    auto topic = nsqd_.getTopic(topicName, Limit::Enforce, &refused);
    if (!topic && !refused) return {ErrorCode::SubFailed, "SUB failed exiting"};
    auto channel = topic ? topic->getChannel(channelName, Limit::Enforce, &refused) : nullptr;
    if (refused) return {ErrorCode::SubFailed, "SUB failed " + refused.text()};
    if (!channel) continue;
    if (Error err = channel->addClient(shared_from_this())) {
      if (channel->exiting()) continue;
      return err;
    }
    {
      std::lock_guard lock(infoMutex_);
      channel_ = std::move(channel);
    }
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

Error ClientSession::handleCls() {
  if (static_cast<ClientState>(state_.load()) != ClientState::Subscribed)
    return {ErrorCode::Invalid, "cannot CLS in current state"};
  state_.store(static_cast<int>(ClientState::Closing));
  rdy_.store(0);
  sendResponse(kCloseWait);
  return {};
}

void ClientSession::flushFins() {
  if (pendingFins_.empty()) return;
  finFailures_.clear();
  channel_->finishBatch(*this, pendingFins_, finFailures_);
  finishCount_.fetch_add(pendingFins_.size() - finFailures_.size(), std::memory_order_relaxed);
  pendingFins_.clear();
  for (const Error& err : finFailures_) sendError(err);
}

bool ClientSession::lacksRequiredTls() const { return nsqd_.options().tlsRequired != "false" && !transport_.tls(); }

bool ClientSession::takesInFlightCommands() const {
  auto state = static_cast<ClientState>(state_.load());
  return state == ClientState::Subscribed || state == ClientState::Closing;
}

Error ClientSession::checkInFlightCommand(const CommandLine& cmd, const char* name, int params, MessageId* id) {
  if (!takesInFlightCommands()) return {ErrorCode::Invalid, std::string("cannot ") + name + " in current state"};
  if (cmd.paramCount < params) return {ErrorCode::Invalid, std::string(name) + " insufficient number of params"};
  if (!MessageId::parse(cmd.params[0], *id)) return {ErrorCode::Invalid, "invalid message ID"};
  return {};
}

// A consumer sends a FIN per message, nearly always as "FIN <16-byte ID>\n": that shape is
// queued here without the general line split (the newline search, split and command lookup
// were ~9% of nsqd's CPU in fan-out). Any other FIN (a trailing '\r', a space or control byte
// in the ID, the wrong state, TLS required and missing) takes the general path, which answers
// it as before; for this shape both paths queue the same ID.
bool ClientSession::queueWellFormedFin(std::string_view buf) {
  if (buf.size() < kFinLineLength || buf[kFinLineLength - 1] != '\n' || std::memcmp(buf.data(), "FIN ", 4) != 0)
    return false;
  if (!takesInFlightCommands() || lacksRequiredTls()) return false;
  const std::string_view text = buf.substr(4, kMessageIdLength);
  bool plain = true;
  for (char c : text) plain &= static_cast<unsigned char>(c) > ' ';
  MessageId id;
  if (!plain || !MessageId::parse(text, id)) return false;
  pendingFins_.push_back(id);
  return true;
}

Error ClientSession::handleFin(const CommandLine& cmd) {
  MessageId id;
  if (Error e = checkInFlightCommand(cmd, "FIN", 1, &id)) return e;
  pendingFins_.push_back(id);  // run together by flushFins(): one channel lock per read
  return {};
}

Error ClientSession::handleReq(const CommandLine& cmd) {
  MessageId id;
  if (Error e = checkInFlightCommand(cmd, "REQ", 2, &id)) return e;
  ParsedInt ms = parseParam(cmd.params[1]);
  if (!ms) return {ErrorCode::Invalid, "REQ could not parse timeout " + std::string(cmd.params[1])};
  int64_t maxNs = nsqd_.options().maxReqTimeout.count();
  int64_t delayNs = *ms > maxNs / 1'000'000 ? maxNs : *ms * 1'000'000;
  if (Error e = channel_->requeue(*this, id, delayNs)) return e;
  requeueCount_.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Error ClientSession::handleTouch(const CommandLine& cmd) {
  MessageId id;
  if (Error e = checkInFlightCommand(cmd, "TOUCH", 1, &id)) return e;
  return channel_->touch(*this, id);
}

Error ClientSession::takeAuthReply(AuthStatePtr* state) {
  AuthResult result = std::move(*authReply_);
  authReply_.reset();
  if (!result.state) {
    // Errors contacting the auth server go to the log, never to the untrusted client.
    logWarn("PROTOCOL(V2): [", remoteAddress_, "] AUTH failed ", result.error);
    return {ErrorCode::AuthFailed, "AUTH failed"};
  }
  *state = std::move(result.state);
  return {};
}

void ClientSession::setAuthState(AuthStatePtr state) {
  std::lock_guard lock(infoMutex_);
  authState_ = std::move(state);
}

Error ClientSession::handleAuth(std::string_view body) {
  if (authed_) return {ErrorCode::Invalid, "AUTH already set"};
  if (!nsqd_.authorizer()) return {ErrorCode::AuthDisabled, "AUTH disabled"};
  if (!authReply_) {
    authSecret_.assign(body);
    if (!startAuthQuery()) return {ErrorCode::AuthFailed, "AUTH failed"};
    return {};
  }
  AuthStatePtr state;
  if (Error e = takeAuthReply(&state)) return e;
  if (state->authorizations.empty()) return {ErrorCode::Unauthorized, "AUTH no authorizations found"};
  authed_ = true;
  setAuthState(std::move(state));
  sendResponse("{\"identity\":" + jsonQuote(authState_->identity) + ",\"identity_url\":" +
               jsonQuote(authState_->identityUrl) + ",\"permission_count\":" +
               std::to_string(authState_->authorizations.size()) + "}");
  return {};
}

Error ClientSession::checkAuth(const char* cmd, std::string_view topic, std::string_view channel) {
  if (!nsqd_.authorizer()) return {};
  if (!authed_) return {ErrorCode::AuthFirst, std::string("AUTH required before ") + cmd};
  if (authReply_) {
    AuthStatePtr state;
    if (Error e = takeAuthReply(&state)) return e;
    setAuthState(std::move(state));
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
  request.tls = transport_.tls();
  if (request.tls) request.commonName = transport_.peerCommonName();
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

void ClientSession::updateInterest() { loop_.setInterest(*this, !authPending_, transport_.blocked()); }

bool ClientSession::wantsMessages() const {
  return channel_ && static_cast<ClientState>(state_.load(std::memory_order_relaxed)) == ClientState::Subscribed &&
         transport_.unsent() < kMaxPendingOutput;
}

bool ClientSession::pump(int64_t now) {
  while (wantsMessages()) {
    const std::size_t taken = channel_->pull(*this, transport_.out());
    if (taken == 0) break;
    messageCount_.fetch_add(taken, std::memory_order_relaxed);
    if (static_cast<int64_t>(transport_.pendingFrames()) >= settings_.outputBufferSize && !flush(now)) return false;
  }
  return flush(now);
}

bool ClientSession::flush(int64_t now) {
  const bool wasBlocked = transport_.blocked();
  if (!transport_.flush(now)) return false;
  if (transport_.blocked() != wasBlocked) updateInterest();
  if (transport_.blocked()) return true;  // the rest goes when the socket is writable
  return !closeAfterFlush_;
}

ClientStats ClientSession::stats() const {
  ClientStats s;
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(infoMutex_);
    s.clientId = settings_.clientId;
    s.hostname = settings_.hostname;
    s.userAgent = settings_.userAgent;
    for (const auto& [t, n] : pubCounts_) s.pubCounts.emplace_back(t, n);
    channel = channel_;
    if (authState_) {
      s.authed = !authState_->authorizations.empty();
      s.authIdentity = authState_->identity;
      s.authIdentityUrl = authState_->identityUrl;
    }
  }
  s.remoteAddress = remoteAddress_;
  s.state = state_.load();
  s.readyCount = rdy_.load();
  s.inFlightCount = channel ? channel->inFlightCount(id_) : 0;
  s.messageCount = messageCount_.load();
  s.finishCount = finishCount_.load();
  s.requeueCount = requeueCount_.load();
  s.connectTs = connectTs_;
  s.sampleRate = sampleRate_.load(std::memory_order_relaxed);
  std::string_view codec = transport_.codecName();
  s.deflate = codec == "deflate";
  s.snappy = codec == "snappy";
  s.tls = transport_.tls();
  if (s.tls) {
    s.tlsVersion = transport_.tlsVersion();
    s.tlsCipherSuite = transport_.tlsCipherSuite();
  }
  return s;
}

}  // namespace nsq::nsqd

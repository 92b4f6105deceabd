// LookupProtocol V1: one LookupSession per nsqd connection. The connection loop reads through a
// small buffer with an absolute per-command deadline, polled in short slices so a stop request
// is noticed within kStopPollSlice; a slow or silent client therefore ties up only its own pool
// thread, for at most commandTimeout, and never takes a lock while waiting.
#include "lookup_protocol.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <arpa/inet.h>

#include <cstring>

#include "nsq/json_text.h"
#include "nsq/names.h"
#include "nsq/number.h"

namespace nsq::lookupd {

namespace {

constexpr std::chrono::milliseconds kStopPollSlice{200};
constexpr std::chrono::seconds kWriteTimeout{5};

std::vector<std::string> splitSpaces(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto sp = line.find(' ', start);
    out.push_back(line.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  return out;
}

std::string trimSpace(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

LookupReply fatal(std::string text) { return {std::move(text), true}; }

}  // namespace

std::string parseIdentifyBody(const std::string& body, PeerInfo* peer) {
  const std::string decodeError = "IDENTIFY failed to decode JSON body";
  // Poco would read these wrapped (2^64 as 0); the original's Go int cannot hold them either.
  if (findUnrepresentableJsonInteger(body)) return decodeError;
  Poco::Dynamic::Var root;
  try {
    Poco::JSON::Parser parser;
    root = parser.parse(body);
  } catch (const Poco::Exception&) {
    return decodeError;
  }
  if (root.isEmpty()) return "";  // JSON null: every field missing
  if (root.type() != typeid(Poco::JSON::Object::Ptr)) return decodeError;
  auto obj = root.extract<Poco::JSON::Object::Ptr>();
  auto str = [&](const char* key, std::string* out) {
    if (!obj->has(key)) return true;
    auto v = obj->get(key);
    if (v.isEmpty()) return true;  // null leaves the zero value, as Go does
    if (!v.isString()) return false;
    *out = v.extract<std::string>();
    return true;
  };
  // Any Go int decodes in the original (2^63 does not); the port range is checked by the caller.
  auto num = [&](const char* key, int64_t* out) {
    if (!obj->has(key)) return true;
    auto v = obj->get(key);
    if (v.isEmpty()) return true;
    ParsedInt n = jsonInt(v);
    if (n) *out = *n;
    return static_cast<bool>(n);
  };
  bool ok = str("hostname", &peer->hostname) && str("broadcast_address", &peer->broadcastAddress) &&
            num("tcp_port", &peer->tcpPort) && num("http_port", &peer->httpPort) &&
            str("version", &peer->version) && str("topology_zone", &peer->topologyZone) &&
            str("topology_region", &peer->topologyRegion);
  return ok ? "" : decodeError;
}

LookupSession::LookupSession(LookupContext& ctx, std::string remoteAddress)
    : ctx_(ctx), remoteAddress_(std::move(remoteAddress)) {}

LookupSession::~LookupSession() {
  if (!peer_) return;
  for (const auto& r : ctx_.db.removePeer(peer_->id))
    ctx_.log.info("DB: client(" + peer_->id + ") UNREGISTER category:" + r.category +
                  " key:" + r.key + " subkey:" + r.subKey);
}

// The last-resort handler for one connection: whatever a command throws (a bug, or memory
// running out) closes this connection with a fatal reply and leaves the daemon serving.
LookupReply LookupSession::exec(const std::string& line, const BodyReader& readBody) {
  std::string what;
  try {
    return execCommand(line, readBody);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  ctx_.log.error("client(" + remoteAddress_ + ") - internal error in " + line.substr(0, 64) + ": " + what);
  return fatal("E_INVALID internal error");
}

LookupReply LookupSession::execCommand(const std::string& line, const BodyReader& readBody) {
  auto params = splitSpaces(line);
  const std::string& cmd = params[0];
  if (cmd == "PING") return ping();
  if (cmd == "IDENTIFY") return identify(readBody);
  if (cmd == "REGISTER") return registration(cmd, params, true);
  if (cmd == "UNREGISTER") return registration(cmd, params, false);
  return fatal("E_INVALID invalid command " + cmd);
}

LookupReply LookupSession::ping() {
  if (peer_) peer_->lastUpdate.store(ctx_.db.now());
  return {"OK", false};
}

LookupReply LookupSession::identify(const BodyReader& readBody) {
  if (peer_) return fatal("E_INVALID cannot IDENTIFY again");
  LookupReply err;
  auto body = readBody(&err);
  if (!body) return err;
  auto peer = std::make_shared<PeerInfo>();
  peer->id = remoteAddress_;
  std::string bad = parseIdentifyBody(*body, peer.get());
  if (!bad.empty()) return fatal("E_BAD_BODY " + bad);
  peer->remoteAddress = remoteAddress_;
  if (peer->broadcastAddress.empty() || peer->tcpPort == 0 || peer->httpPort == 0 ||
      peer->version.empty())
    return fatal("E_BAD_BODY IDENTIFY missing fields");
  // Ours, not the original's (which registers any Go int): a port nsqd could not listen on would
  // be handed to every consumer by /lookup.
  if (!isPort(peer->tcpPort))
    return fatal("E_BAD_BODY IDENTIFY tcp_port " + std::to_string(peer->tcpPort) + " out of range 1-65535");
  if (!isPort(peer->httpPort))
    return fatal("E_BAD_BODY IDENTIFY http_port " + std::to_string(peer->httpPort) + " out of range 1-65535");
  peer->lastUpdate.store(ctx_.db.now());
  ctx_.log.info("CLIENT(" + remoteAddress_ + "): IDENTIFY Address:" + peer->broadcastAddress +
                " TCP:" + std::to_string(peer->tcpPort) + " HTTP:" +
                std::to_string(peer->httpPort) + " Version:" + peer->version);
  peer_ = peer;
  if (ctx_.db.addProducer({"client", "", ""}, peer_))
    ctx_.log.info("DB: client(" + peer_->id + ") REGISTER category:client key: subkey:");

  std::string reply = "{\"broadcast_address\":" + jsonQuote(ctx_.broadcastAddress) +
                      ",\"hostname\":" + jsonQuote(ctx_.hostname) +
                      ",\"http_port\":" + std::to_string(ctx_.httpPort) +
                      ",\"tcp_port\":" + std::to_string(ctx_.tcpPort) +
                      ",\"version\":" + jsonQuote(NSQ_VERSION) + "}";
  return {reply, false};
}

LookupReply LookupSession::registration(const std::string& cmd,
                                        const std::vector<std::string>& params, bool add) {
  if (!peer_) return fatal("E_INVALID client must IDENTIFY");
  if (params.size() < 2) return fatal("E_INVALID " + cmd + " insufficient number of params");
  const std::string& topic = params[1];
  std::string channel = params.size() >= 3 ? params[2] : "";
  if (!isValidTopicName(topic))
    return fatal("E_BAD_TOPIC " + cmd + " topic name '" + topic + "' is not valid");
  if (!channel.empty() && !isValidChannelName(channel))
    return fatal("E_BAD_CHANNEL " + cmd + " channel name '" + channel + "' is not valid");
  auto changed = add ? ctx_.db.registerProducer(peer_, topic, channel)
                     : ctx_.db.unregisterProducer(peer_->id, topic, channel);
  for (const auto& r : changed)
    ctx_.log.info("DB: client(" + peer_->id + ") " + cmd + " category:" + r.category +
                  " key:" + r.key + " subkey:" + r.subKey);
  return {"OK", false};
}

namespace {

// Buffered reads against one absolute deadline per command.
class DeadlineReader {
 public:
  enum class Status { Ok, Eof, Timeout, TooLong, Stopping };

  DeadlineReader(Poco::Net::StreamSocket& socket, LookupContext& ctx)
      : socket_(socket), ctx_(ctx) {}

  void startCommand() { deadline_ = std::chrono::steady_clock::now() + ctx_.commandTimeout; }

  Status readLine(std::string* out, std::size_t max) {
    for (;;) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        if (nl - pos_ > max) return Status::TooLong;
        out->assign(buf_, pos_, nl - pos_);
        consume(nl + 1 - pos_);
        return Status::Ok;
      }
      if (buf_.size() - pos_ > max) return Status::TooLong;
      if (auto s = fill(); s != Status::Ok) return s;
    }
  }

  Status readExact(std::size_t n, std::string* out) {
    while (buf_.size() - pos_ < n)
      if (auto s = fill(); s != Status::Ok) return s;
    out->assign(buf_, pos_, n);
    consume(n);
    return Status::Ok;
  }

 private:
  void consume(std::size_t n) {
    pos_ += n;
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
  }

  Status fill() {
    for (;;) {
      if (ctx_.stopping.load()) return Status::Stopping;
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      if (remaining.count() <= 0) return Status::Timeout;
      auto slice = std::min(remaining, kStopPollSlice);
      if (!socket_.poll(Poco::Timespan(slice.count() * 1000),
                        Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR))
        continue;
      char tmp[4096];
      int n = socket_.receiveBytes(tmp, sizeof tmp);
      if (n <= 0) return Status::Eof;
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      buf_.append(tmp, static_cast<std::size_t>(n));
      return Status::Ok;
    }
  }

  Poco::Net::StreamSocket& socket_;
  LookupContext& ctx_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::chrono::steady_clock::time_point deadline_;
};

void sendReply(Poco::Net::StreamSocket& socket, const std::string& data) {
  std::string frame(4, '\0');
  uint32_t size = htonl(static_cast<uint32_t>(data.size()));
  std::memcpy(frame.data(), &size, 4);
  frame += data;
  std::size_t sent = 0;
  while (sent < frame.size()) {
    int n = socket.sendBytes(frame.data() + sent, static_cast<int>(frame.size() - sent));
    if (n <= 0) throw Poco::Net::NetException("send failed");
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

void LookupConnection::run() {
  auto& sock = socket();
  std::string remote;
  try {
    remote = sock.peerAddress().toString();
    sock.setNoDelay(true);
    sock.setSendTimeout(Poco::Timespan(kWriteTimeout.count(), 0));
  } catch (const Poco::Exception&) {
    return;  // already gone
  }
  ctx_.log.info("TCP: new client(" + remote + ")");
  DeadlineReader reader(sock, ctx_);
  try {
    reader.startCommand();
    std::string magic;
    if (reader.readExact(4, &magic) != DeadlineReader::Status::Ok) {
      ctx_.log.info("TCP: client(" + remote + ") closed before sending the protocol magic");
      return;
    }
    if (magic != "  V1") {
      ctx_.log.error("client(" + remote + ") bad protocol magic");
      sendReply(sock, "E_BAD_PROTOCOL");
      return;
    }
    ctx_.log.info("CLIENT(" + remote + "): desired protocol magic '  V1'");
    LookupSession session(ctx_, remote);
    BodyReader readBody = [&](LookupReply* err) -> std::optional<std::string> {
      std::string sizeBytes;
      if (reader.readExact(4, &sizeBytes) != DeadlineReader::Status::Ok) {
        *err = fatal("E_BAD_BODY IDENTIFY failed to read body size");
        return std::nullopt;
      }
      uint32_t raw;
      std::memcpy(&raw, sizeBytes.data(), 4);
      auto size = static_cast<int32_t>(ntohl(raw));
      if (size <= 0 || size > kMaxIdentifyBody) {
        *err = fatal("E_BAD_BODY IDENTIFY invalid body size " + std::to_string(size));
        return std::nullopt;
      }
      std::string body;
      if (reader.readExact(static_cast<std::size_t>(size), &body) != DeadlineReader::Status::Ok) {
        *err = fatal("E_BAD_BODY IDENTIFY failed to read body");
        return std::nullopt;
      }
      return body;
    };
    for (;;) {
      reader.startCommand();
      std::string line;
      auto status = reader.readLine(&line, kMaxLookupLine);
      if (status == DeadlineReader::Status::TooLong) {
        sendReply(sock, "E_INVALID command line longer than " + std::to_string(kMaxLookupLine) +
                            " bytes");
        break;
      }
      if (status == DeadlineReader::Status::Timeout) {
        ctx_.log.warn("TCP: client(" + remote + ") read timeout, closing");
        break;
      }
      if (status != DeadlineReader::Status::Ok) break;
      auto reply = session.exec(trimSpace(line), readBody);
      if (reply.fatal) ctx_.log.error("client(" + remote + ") - " + reply.data);
      sendReply(sock, reply.data);
      if (reply.fatal) break;
    }
  } catch (const Poco::Exception& e) {
    ctx_.log.info("TCP: client(" + remote + ") connection error: " + e.displayText());
  } catch (const std::exception& e) {
    ctx_.log.error("TCP: client(" + remote + ") error: " + e.what());
  }
  ctx_.log.info("CLIENT(" + remote + "): closing");
}

}  // namespace nsq::lookupd

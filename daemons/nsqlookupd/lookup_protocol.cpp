// LookupProtocol V1: one LookupSession per nsqd connection, driven by V1Connection on the
// event loop. A whole command (line, and body for IDENTIFY) must arrive within commandTimeout
// of the previous reply; a slow or silent client costs a descriptor and a small buffer.
#include "nsqlookupd/lookup_protocol.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <arpa/inet.h>

#include <cstring>

#include "nsq/base/json_fields.h"
#include "nsq/base/json_text.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/version.h"

namespace nsq::lookupd {

namespace {

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
  // Keys in another case fill the fields, as the original's Go decoder reads them.
  foldJsonKeys(*obj, {"hostname", "broadcast_address", "tcp_port", "http_port", "version",
                      "topology_zone", "topology_region"});
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

V1Connection::~V1Connection() {
  if (!remote_.empty()) ctx_.log.info("CLIENT(" + remote_ + "): closing");
}

void V1Connection::onOpen(net::Connection& c) {
  remote_ = c.remoteAddress();
  ctx_.log.info("TCP: new client(" + remote_ + ")");
  c.setDeadline(net::Clock::now() + ctx_.commandTimeout);
}

void V1Connection::onDeadline(net::Connection& c) {
  ctx_.log.warn("TCP: client(" + remote_ + ") read timeout, closing");
  c.close();
}

void V1Connection::reply(net::Connection& c, const std::string& data) {
  char size[4];
  uint32_t n = htonl(static_cast<uint32_t>(data.size()));
  std::memcpy(size, &n, 4);
  c.send(std::string_view(size, 4));
  c.send(data);
}

void V1Connection::onInput(net::Connection& c) {
  std::string& in = c.input();
  if (!session_) {
    if (in.size() < 4) return;
    if (in.compare(0, 4, "  V1") != 0) {
      ctx_.log.error("client(" + remote_ + ") bad protocol magic");
      reply(c, "E_BAD_PROTOCOL");
      c.closeAfterWrite();
      return;
    }
    in.erase(0, 4);
    ctx_.log.info("CLIENT(" + remote_ + "): desired protocol magic '  V1'");
    session_ = std::make_unique<LookupSession>(ctx_, remote_);
  }
  std::size_t pos = 0;
  while (!c.closing()) {
    auto nl = in.find('\n', pos);
    if (nl == std::string::npos ? in.size() - pos > kMaxLookupLine : nl - pos > kMaxLookupLine) {
      reply(c, "E_INVALID command line longer than " + std::to_string(kMaxLookupLine) + " bytes");
      c.closeAfterWrite();
      break;
    }
    if (nl == std::string::npos) break;
    std::string line = trimSpace(in.substr(pos, nl - pos));
    std::size_t next = nl + 1;
    // IDENTIFY carries "[int32 size][body]": run it only once the whole body is here (or its
    // size alone is already an error).
    std::optional<std::string> body;
    LookupReply bodyError;
    if (splitSpaces(line)[0] == "IDENTIFY" && !session_->identified()) {
      if (in.size() - next < 4) break;
      uint32_t raw;
      std::memcpy(&raw, in.data() + next, 4);
      auto size = static_cast<int32_t>(ntohl(raw));
      if (size <= 0 || size > kMaxIdentifyBody) {
        bodyError = fatal("E_BAD_BODY IDENTIFY invalid body size " + std::to_string(size));
      } else {
        if (in.size() - next - 4 < static_cast<std::size_t>(size)) break;
        body = in.substr(next + 4, static_cast<std::size_t>(size));
        next += 4 + static_cast<std::size_t>(size);
      }
    }
    pos = next;
    BodyReader readBody = [&](LookupReply* err) -> std::optional<std::string> {
      if (!body) *err = bodyError;
      return body;
    };
    auto r = session_->exec(line, readBody);
    if (r.fatal) ctx_.log.error("client(" + remote_ + ") - " + r.data);
    reply(c, r.data);
    if (r.fatal) {
      c.closeAfterWrite();
      break;
    }
    c.setDeadline(net::Clock::now() + ctx_.commandTimeout);
  }
  in.erase(0, std::min(pos, in.size()));
}

}  // namespace nsq::lookupd

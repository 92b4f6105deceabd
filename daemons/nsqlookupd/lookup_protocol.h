#pragma once
// The nsqlookupd TCP protocol V1 (NSQ-COMPAT §3.1), spoken by nsqd.
//
//   client -> server                          server -> client
//   "  V1"                 (4 bytes, once)    +--------+------+
//   NAME[ param]*\n                           | int32  | data |   no frame-type word;
//   IDENTIFY\n[int32 size][JSON body]         | size   |      |   size = len(data)
//                                             +--------+------+
// Every error is fatal: the reply "<E_CODE> <description>", then close.
//
// LookupSession is the per-connection state machine, free of sockets so tests can drive it;
// V1Connection adds framing, deadlines and size bounds on nsqlookupd's event loop.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsq/net/event_server.h"
#include "nsqlookupd/logger.h"
#include "nsqlookupd/registration_db.h"

namespace nsq::lookupd {

constexpr std::size_t kMaxLookupLine = 1024;          // longest valid line is ~140 bytes
constexpr int32_t kMaxIdentifyBody = 64 * 1024;       // IDENTIFY JSON is ~300 bytes

// What every connection shares. Owned by NsqLookupd; outlives all connections.
struct LookupContext {
  LookupContext(RegistrationDB& database, Logger& logger) : db(database), log(logger) {}
  RegistrationDB& db;
  Logger& log;
  int tcpPort = 0;   // real bound ports, reported by IDENTIFY
  int httpPort = 0;
  std::string broadcastAddress;
  std::string hostname;
  // A whole command (line + body) must arrive within this; an idle connection is closed after
  // it. nsqd PINGs every 15 s, so 60 s never cuts a healthy peer.
  std::chrono::milliseconds commandTimeout{60000};
};

struct LookupReply {
  std::string data;
  bool fatal = false;
};

// Reads "[int32 size][body]"; returns the body, or nullopt with a fatal E_BAD_BODY reply set.
using BodyReader = std::function<std::optional<std::string>(LookupReply* error)>;

class LookupSession {
 public:
  LookupSession(LookupContext& ctx, std::string remoteAddress);
  ~LookupSession();  // removes the producer everywhere (disconnect)
  LookupSession(const LookupSession&) = delete;
  LookupSession& operator=(const LookupSession&) = delete;

  // Executes one command line (already stripped of surrounding whitespace). Never throws: an
  // exception from a command or from readBody becomes a fatal "E_INVALID internal error".
  LookupReply exec(const std::string& line, const BodyReader& readBody);
  bool identified() const { return peer_ != nullptr; }

 private:
  LookupReply execCommand(const std::string& line, const BodyReader& readBody);
  LookupReply identify(const BodyReader& readBody);
  LookupReply registration(const std::string& cmd, const std::vector<std::string>& params,
                           bool add);
  LookupReply ping();

  LookupContext& ctx_;
  std::string remoteAddress_;
  std::shared_ptr<PeerInfo> peer_;
};

// Parses an IDENTIFY body into `peer`; returns "" or the E_BAD_BODY description.
std::string parseIdentifyBody(const std::string& body, PeerInfo* peer);

// V1Connection: one TCP connection on nsqlookupd's event loop (nsq::net::EventServer). It
// parses the magic, command lines and IDENTIFY bodies from the bytes received so far and runs
// each whole command through its LookupSession on the loop thread (the RegistrationDB calls
// are short and never block), so an idle or slow peer holds no thread at all.
class V1Connection : public net::Protocol {
 public:
  explicit V1Connection(LookupContext& ctx) : ctx_(ctx) {}
  ~V1Connection() override;
  void onOpen(net::Connection& c) override;
  void onInput(net::Connection& c) override;
  void onDeadline(net::Connection& c) override;

 private:
  void reply(net::Connection& c, const std::string& data);

  LookupContext& ctx_;
  std::string remote_;
  std::unique_ptr<LookupSession> session_;  // after the magic
};

}  // namespace nsq::lookupd

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
// LookupConnection (a Poco TCPServerConnection) adds the socket, deadlines and size bounds.
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "logger.h"
#include "registration_db.h"

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
  std::atomic<bool> stopping{false};
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

class LookupConnection : public Poco::Net::TCPServerConnection {
 public:
  LookupConnection(const Poco::Net::StreamSocket& socket, LookupContext& ctx)
      : TCPServerConnection(socket), ctx_(ctx) {}
  void run() override;

 private:
  LookupContext& ctx_;
};

class LookupConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit LookupConnectionFactory(LookupContext& ctx) : ctx_(ctx) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& s) override {
    return new LookupConnection(s, ctx_);
  }

 private:
  LookupContext& ctx_;
};

}  // namespace nsq::lookupd

#pragma once
// ClientSession: one TCP client speaking protocol V2 — its IDENTIFY settings, its subscription,
// its counters and the command dispatch. It lives on one IoLoop thread: all reads, writes and
// command handling happen there. To its channel it is a Consumer; other threads touch only
// wake(), requestClose() (through the loop's mailbox), readyCount() and stats().
//
// Bytes move through its Transport (socket, TLS, compression, output buffers); input is parsed
// in place from one growable buffer and frames are encoded straight into the transport's output,
// which is flushed when the client can take no more, when the channel has nothing left for it,
// when it passes output_buffer_size, and for every response/error.
//
// Every command handler returns an Error; executeOne() alone turns it into an E_* frame and
// isFatal() decides whether the connection closes after the frame is flushed.
//
// Authorization: AUTH, and a PUB/SUB whose cached authorization has expired, need an HTTP query
// that must not block the IO thread. The session hands it to the Authorizer's workers, stops
// reading and executing input, and leaves the command unconsumed; the result comes back
// through the loop's mailbox (onAuthResult), and the same command is parsed again and now
// finds the result waiting.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"
#include "nsqd/auth.h"
#include "nsqd/consumer.h"
#include "nsqd/identify.h"
#include "nsqd/transport.h"

namespace nsq::nsqd {

class Channel;
class IoLoop;
class Nsqd;
class Topic;
struct Refusal;

enum class ClientState : int { Init = 0, Subscribed = 3, Closing = 4 };

class ClientSession final : public Consumer, public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(Nsqd& nsqd, IoLoop& loop, UniqueFd fd, uint64_t id, std::string remoteAddress);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  int fd() const { return transport_.fd(); }
  const std::string& remoteAddress() const { return remoteAddress_; }
  IoLoop& loop() { return loop_; }

  // IO thread: socket readiness and periodic checks. Each returns false when the connection
  // must close now.
  bool onReadable(int64_t nowMono);
  bool onWritable(int64_t nowMono);
  bool onTick(int64_t nowMono);
  // IO thread: a wake() arrived through the loop's mailbox; pumps.
  bool onWake(int64_t nowMono);
  // IO thread: deliver what the channel has for us, then flush if needed.
  bool pump(int64_t nowMono);
  // IO thread: the connection is gone; unsubscribe and release the socket.
  void closed();

  // Consumer. wake() (any thread) asks the IO thread to pump soon, coalesced; requestClose()
  // (any thread) asks it to close this connection.
  uint64_t id() const override { return id_; }
  int64_t readyCount() const override { return rdy_.load(std::memory_order_relaxed); }
  int64_t msgTimeoutNs() const override { return settings_.msgTimeoutNs; }
  int sampleRate() const override { return sampleRate_.load(std::memory_order_relaxed); }
  void wake() override;
  void requestClose() override;
  // Any thread; the in-flight count comes from the subscribed channel.
  ClientStats stats() const override;

 private:
  // Parses and executes complete commands in the input buffer. false = close now.
  bool processInput(int64_t nowMono);
  // Moves what the socket has into in_ (and notes a finished TLS handshake). false = close now.
  bool readTransport(bool* gotBytes);
  bool reinjectAfterUpgrade();
  // Gives back buffer capacity an idle connection no longer needs.
  void trimBuffers();
  // Returns bytes consumed by one command (0 = need more input), or -1 after a fatal error.
  long executeOne(std::string_view buf);
  long readMagic(std::string_view buf);
  // Commands without a body, one handler each.
  Error runCommand(const CommandLine& cmd);
  // Commands with a body: what can be checked before the body arrives, then the handler.
  struct BodyRule {
    int64_t maxSize;
    ErrorCode sizeCode;  // BadBody or BadMessage
    int64_t deferNs = 0;  // DPUB
  };
  Error checkBeforeBody(const CommandLine& cmd, BodyRule& rule);
  Error runBodyCommand(const CommandLine& cmd, std::string_view body, const BodyRule& rule);
  // MPUB's body from the stream at buf[start] (NSQ-COMPAT §1); returns like executeOne.
  long executeMpub(const CommandLine& cmd, std::string_view buf, std::size_t start, std::size_t declared,
                   const BodyRule& rule);

  Error handleIdentify(std::string_view body);
  Error handleAuth(std::string_view body);
  // For SUB and the publishes when auth is enabled (NSQ-COMPAT 1.8). May instead start a
  // query (authPending_ set, no error): the caller then leaves the command unconsumed.
  Error checkAuth(const char* cmd, std::string_view topic, std::string_view channel);
  // Takes the waiting auth query's result into *state; a failed query is E_AUTH_FAILED.
  Error takeAuthReply(AuthStatePtr* state);
  void setAuthState(AuthStatePtr state);
  // Starts a query with the stored secret; false when the Authorizer refused it.
  bool startAuthQuery();
  bool onAuthResult(AuthResult result, int64_t nowMono);
  void updateInterest();
  Error handleSub(const CommandLine& cmd);
  Error handleRdy(const CommandLine& cmd);
  Error handleCls();
  // FIN is queued (pendingFins_) and answered by flushFins(); REQ and TOUCH run at once.
  Error handleFin(const CommandLine& cmd);
  bool queueWellFormedFin(std::string_view buf);
  // True while TLS is required and this connection has none (every command but IDENTIFY refused).
  bool lacksRequiredTls() const;
  // FIN, REQ and TOUCH are only taken from a subscribed (or closing) client.
  bool takesInFlightCommands() const;
  Error handleReq(const CommandLine& cmd);
  Error handleTouch(const CommandLine& cmd);
  // The state and parameter checks FIN, REQ and TOUCH share; fills *id.
  Error checkInFlightCommand(const CommandLine& cmd, const char* name, int params, MessageId* id);
  // Finishes the FINs parsed since the last call under one channel lock; failures are answered
  // in order. Runs before any other command and at the end of each input pass, so responses
  // keep the order of the commands.
  void flushFins();
  Error publish(std::string_view topicName, const std::vector<std::string_view>& bodies,
                int64_t deferNs, ErrorCode failCode, const char* cmd);
  // The topic (cached for repeated publishes); *refused set when --max-topics refused it.
  std::shared_ptr<Topic> topicFor(std::string_view name, Refusal* refused);

  void sendResponse(std::string_view data);
  void sendError(const Error& err);
  bool flush(int64_t nowMono);
  bool wantsMessages() const;

  Nsqd& nsqd_;
  IoLoop& loop_;
  const uint64_t id_;
  const std::string remoteAddress_;
  const int64_t connectTs_;
  Transport transport_;

  std::string in_;
  std::size_t inPos_ = 0;
  bool upgradeInput_ = false;
  bool magicRead_ = false;
  bool closeAfterFlush_ = false;
  int64_t lastReadMono_ = 0;
  int64_t nextHeartbeatMono_ = 0;
  std::vector<MessageId> pendingFins_;
  std::vector<Error> finFailures_;
  std::vector<std::string_view> bodies_;
  MpubProgress mpub_;          // an MPUB read so far, while it waits for more bytes (IO thread)
  bool mpubReading_ = false;

  std::atomic<int> state_{static_cast<int>(ClientState::Init)};
  std::atomic<int64_t> rdy_{0};
  std::atomic<bool> wakePending_{false};
  // What this session sent, finished and requeued (its own counts; in flight is the channel's).
  std::atomic<uint64_t> messageCount_{0};
  std::atomic<uint64_t> finishCount_{0};
  std::atomic<uint64_t> requeueCount_{0};
  std::shared_ptr<Channel> channel_;  // IO thread writes under infoMutex_; stats reads under it
  std::string cachedTopicName_;
  std::shared_ptr<Topic> cachedTopic_;

  // IDENTIFY settings: the IO thread writes; the strings (and pubCounts_, authState_) are read
  // by stats under infoMutex_, and sample_rate through its atomic copy.
  mutable std::mutex infoMutex_;
  ClientSettings settings_;
  std::atomic<int> sampleRate_{0};
  std::map<std::string, uint64_t> pubCounts_;

  // Authorization (IO thread; authState_ also read by stats under infoMutex_).
  std::string authSecret_;
  bool authed_ = false;            // AUTH succeeded
  bool authPending_ = false;       // a query is out: input is paused
  std::optional<AuthResult> authReply_;  // its result, for the re-parsed command to take
  AuthStatePtr authState_;
};

}  // namespace nsq::nsqd

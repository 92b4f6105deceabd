#pragma once
// ClientSession: one TCP client speaking protocol V2 — its socket buffers, its IDENTIFY
// settings, its subscription and counters. It lives on one IoLoop thread: all reads, writes and
// command handling happen there. Other threads touch only the atomics below, wake() and close
// requests (through the loop's mailbox).
//
// Input is parsed in place from one growable buffer; output frames are encoded straight into one
// output buffer that is flushed when the client can take no more, when the channel has nothing
// left for it, when it passes output_buffer_size, and for every response/error.
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

#include "nsq/protocol/compression.h"
#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"
#include "nsqd/auth.h"

namespace nsq::nsqd {

class Channel;
class IoLoop;
class Nsqd;
class Topic;
class TlsStream;

enum class ClientState : int { Init = 0, Subscribed = 3, Closing = 4 };

struct ClientStats {
  std::string clientId, hostname, userAgent, remoteAddress;
  int state = 0;
  int64_t readyCount = 0, inFlightCount = 0;
  uint64_t messageCount = 0, finishCount = 0, requeueCount = 0;
  int64_t connectTs = 0;
  int sampleRate = 0;
  bool deflate = false, snappy = false, tls = false;
  std::string tlsVersion, tlsCipherSuite;
  bool authed = false;  // AUTH succeeded (auth enabled)
  std::string authIdentity, authIdentityUrl;
  std::vector<std::pair<std::string, uint64_t>> pubCounts;
};

class ClientSession : public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(Nsqd& nsqd, IoLoop& loop, int fd, uint64_t id, std::string remoteAddress);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  uint64_t id() const { return id_; }
  int fd() const { return fd_; }
  const std::string& remoteAddress() const { return remoteAddress_; }
  IoLoop& loop() { return loop_; }

  // IO thread: socket readiness and periodic checks. Each returns false when the connection
  // must close now.
  bool onReadable(int64_t nowMono);
  bool onWritable(int64_t nowMono);
  bool onTick(int64_t nowMono);
  // IO thread: deliver what the channel has for us, then flush if needed.
  bool pump(int64_t nowMono);
  // IO thread: the connection is gone; unsubscribe and release the socket.
  void closed();

  // Any thread: ask the IO thread to pump soon (coalesced).
  void wake();
  // Any thread: ask the IO thread to close this connection.
  void requestClose();

  // Read by Channel under its lock / by stats from any thread.
  int64_t readyCount() const { return rdy_.load(std::memory_order_relaxed); }
  void setReadyCount(int64_t n) { rdy_.store(n, std::memory_order_relaxed); }
  int64_t msgTimeoutNs() const { return msgTimeoutNs_; }
  int sampleRate() const { return sampleRate_; }
  ClientStats stats() const;

  // Channel bookkeeping, guarded by the channel's mutex.
  std::atomic<int64_t> inFlight{0};
  bool waiting = false;
  std::atomic<uint64_t> messageCount{0};
  std::atomic<uint64_t> finishCount{0};
  std::atomic<uint64_t> requeueCount{0};
  std::atomic<bool> wakePending{false};

 private:
  // Parses and executes complete commands in the input buffer. false = close now.
  bool processInput(int64_t nowMono);
  // Gives back buffer capacity an idle connection no longer needs.
  void trimBuffers();
  // Feeds the handshake, then moves decrypted bytes to the input. false = close now.
  bool advanceTls();
  void startCompression(bool deflate, int level);
  bool decodeInput(std::string_view wire);
  // Returns bytes consumed by one command (0 = need more input), or -1 after a fatal error.
  long executeOne(std::string_view buf, int64_t nowMono);
  Error handleIdentify(std::string_view body);
  Error handleAuth(std::string_view body);
  // For SUB and the publishes when auth is enabled (NSQ-COMPAT 1.8). May instead start a
  // query (authPending_ set, no error): the caller then leaves the command unconsumed.
  Error checkAuth(const char* cmd, std::string_view topic, std::string_view channel);
  // Starts a query with the stored secret; false when the Authorizer refused it.
  bool startAuthQuery();
  bool onAuthResult(AuthResult result, int64_t nowMono);
  void updateInterest();
  Error handleSub(const CommandLine& cmd);
  Error handleRdy(const CommandLine& cmd);
  Error handleFinReqTouch(const CommandLine& cmd);
  // Finishes the FINs parsed since the last call under one channel lock; failures are answered
  // in order. Runs before any other command and at the end of each input pass, so responses
  // keep the order of the commands.
  void flushFins();
  Error publish(std::string_view topicName, const std::vector<std::string_view>& bodies,
                int64_t deferNs, ErrorCode failCode, const char* cmd);
  std::shared_ptr<Topic> topicFor(std::string_view name);

  void sendResponse(std::string_view data);
  void sendError(const Error& err);
  bool flush(int64_t nowMono);
  bool wantsMessages() const;

  Nsqd& nsqd_;
  IoLoop& loop_;
  int fd_;
  const uint64_t id_;
  const std::string remoteAddress_;
  const int64_t connectTs_;

  std::string in_;
  std::size_t inPos_ = 0;
  std::string out_;  // plaintext frames not yet flushed
  std::size_t outPos_ = 0;
  std::unique_ptr<StreamCodec> codec_;  // snappy or deflate once negotiated
  std::atomic<const char*> codecName_{""};  // for stats from other threads
  std::string wire_;  // compressed bytes not yet written (with a codec)
  std::size_t wirePos_ = 0;
  // TLS (under compression): plaintext or codec output goes through tls_ into tlsOut_.
  std::unique_ptr<TlsStream> tls_;
  std::string tlsOut_;  // TLS records (and the plain IDENTIFY reply before them) not yet written
  std::size_t tlsOutPos_ = 0;
  int64_t tlsDeadlineMono_ = 0;
  int pendingCodec_ = 0;  // after the handshake: 1 snappy, 2 deflate (at pendingLevel_)
  int pendingLevel_ = 6;
  std::atomic<bool> tlsOn_{false};
  bool upgradeInput_ = false;
  bool magicRead_ = false;
  bool closeAfterFlush_ = false;
  bool writeBlocked_ = false;
  int64_t writeBlockedSince_ = 0;
  int64_t lastReadMono_ = 0;
  int64_t nextHeartbeatMono_ = 0;
  std::vector<Message> batch_;
  std::vector<MessageId> pendingFins_;
  std::vector<std::string> finFailures_;
  std::vector<std::string_view> bodies_;

  std::atomic<int> state_{static_cast<int>(ClientState::Init)};
  std::atomic<int64_t> rdy_{0};
  std::shared_ptr<Channel> channel_;
  std::string cachedTopicName_;
  std::shared_ptr<Topic> cachedTopic_;

  // IDENTIFY settings (IO thread writes, stats read: guarded by infoMutex_ for strings)
  mutable std::mutex infoMutex_;
  std::string clientId_, hostname_, userAgent_;
  std::string tlsVersion_, tlsCipherSuite_;
  std::map<std::string, uint64_t> pubCounts_;
  int64_t heartbeatIntervalNs_;
  int64_t outputBufferSize_ = 16384;
  int64_t outputBufferTimeoutNs_;
  int64_t msgTimeoutNs_;
  int sampleRate_ = 0;
  bool identified_ = false;

  // Authorization (IO thread; authState_ also read by stats under infoMutex_).
  std::string authSecret_;
  bool authed_ = false;            // AUTH succeeded
  bool authPending_ = false;       // a query is out: input is paused
  std::optional<AuthResult> authReply_;  // its result, for the re-parsed command to take
  AuthStatePtr authState_;
};

}  // namespace nsq::nsqd

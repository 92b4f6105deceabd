#pragma once
// EventServer: one thread running an epoll loop over a listening socket and every connection
// accepted from it (non-blocking sockets, optional TLS through nsq::TlsStream). A Protocol
// object per connection turns bytes into replies on that thread; work that may block is handed
// to a WorkerPool and its answer comes back through post(). So a silent or slow peer costs a
// file descriptor and a buffer, never a thread, and the number of connections is capped.
//
// Each connection has one deadline, set by its protocol (e.g. "the whole request by then"),
// and a write deadline while output is pending; the loop closes it when either passes.
// Exceptions from a protocol callback close that one connection and are logged; nothing a
// peer sends can stop the loop.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/ServerSocket.h>

#include "nsq/base/log.h"

struct ssl_ctx_st;

namespace nsq {
class TlsStream;
}

namespace nsq::net {

using Clock = std::chrono::steady_clock;
using LogSink = std::function<void(LogLevel, const std::string&)>;

class Connection;

// Raises the soft limit on open files to the hard limit (as Go's runtime does at start-up), so
// a daemon can hold the connections its limits allow; returns the limit now in force.
std::size_t raiseOpenFileLimit();

// One per connection; all calls on the server's loop thread.
class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual void onOpen(Connection&) {}
  // New plaintext bytes were appended to c.input(); consume what is used.
  virtual void onInput(Connection& c) = 0;
  // The deadline set with Connection::setDeadline passed. Default: close.
  virtual void onDeadline(Connection& c);
  // Every queued byte has been written to the socket.
  virtual void onDrained(Connection&) {}
  // The peer sent FIN (or TLS close_notify): no more input. Default: close.
  virtual void onPeerClosed(Connection& c);
};

class EventServer;

class Connection {
 public:
  uint64_t id() const { return id_; }
  const std::string& remoteAddress() const { return remote_; }  // "ip:port"
  const std::string& remoteHost() const { return remoteHost_; }  // "ip"
  bool secure() const { return tls_ != nullptr; }
  Protocol& protocol() { return *protocol_; }

  std::string& input() { return in_; }
  // Queues plaintext for the peer (encrypted first under TLS).
  void send(std::string_view bytes);
  std::size_t pendingOutput() const { return out_.size() - outPos_; }
  // Closes once queued output is written (bounded by the write timeout).
  void closeAfterWrite();
  // Closes now; queued output is dropped.
  void close() { closing_ = true; }
  bool closing() const { return closing_ || closeAfterWrite_; }
  void setDeadline(Clock::time_point when) { deadline_ = when; }
  void clearDeadline() { deadline_ = Clock::time_point::max(); }
  // Stops (or resumes) reading from the socket; received bytes stay in the kernel.
  void pauseInput(bool paused);
  EventServer& server() { return server_; }

 private:
  friend class EventServer;
  Connection(EventServer& server, uint64_t id, int fd, std::string remote, std::string host);

  EventServer& server_;
  uint64_t id_;
  int fd_;
  std::string remote_;
  std::string remoteHost_;
  std::unique_ptr<Protocol> protocol_;
  std::unique_ptr<TlsStream> tls_;
  std::string in_;
  std::string out_;  // raw bytes (TLS records under TLS)
  std::size_t outPos_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point writeDeadline_ = Clock::time_point::max();
  bool paused_ = false;
  bool closing_ = false;
  bool closeAfterWrite_ = false;
  bool lingering_ = false;
  std::size_t lingerBytes_ = 0;  // output done, write side shut: discarding input until EOF
  bool wantWrite_ = false;  // EPOLLOUT registered
  bool wantRead_ = true;    // EPOLLIN registered
};

class EventServer {
 public:
  using Factory = std::function<std::unique_ptr<Protocol>(Connection&)>;
  struct Options {
    std::string name = "server";      // for log lines and the thread name: "HTTP", "TCP"
    std::size_t maxConnections = 4096;  // more are accepted and closed at once, with a warning
    std::chrono::milliseconds writeTimeout{10000};  // pending output must move within this
    std::size_t maxOutputBytes = 64 * 1024 * 1024;  // a peer that reads nothing is closed
    std::shared_ptr<ssl_ctx_st> tls;   // set: every connection starts with a TLS handshake
    LogSink log;                       // default: nsq::Logger
  };

  EventServer(Options options, Factory factory);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Binds address (port 0 = any free port); returns the bound port. Throws
  // std::runtime_error naming the address.
  int listen(const Poco::Net::SocketAddress& address, int backlog = 1024);
  void start();
  // Closes every connection and joins the thread. Idempotent.
  void stop();

  // Any thread: runs fn(connection) on the loop thread if that connection is still open.
  void post(uint64_t connectionId, std::function<void(Connection&)> fn);
  std::size_t connectionCount() const { return count_.load(std::memory_order_relaxed); }
  // How many times the loop has waited for events: idle, about ten a second (the deadline scan).
  uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  const Options& options() const { return options_; }
  void log(LogLevel level, const std::string& text) const;

 private:
  friend class Connection;
  void run();
  void accept(Clock::time_point now);
  void onReadable(Connection& c);
  void flush(Connection& c, Clock::time_point now);
  void updateInterest(Connection& c);
  void destroy(uint64_t id);
  // Runs fn with c's protocol; a throw closes the connection.
  template <typename Fn>
  void guarded(Connection& c, const char* what, Fn&& fn);
  void afterCallback(Connection& c, Clock::time_point now);
  void startLinger(Connection& c, Clock::time_point now);
  void linger(Connection& c);
  void checkDeadlines(Clock::time_point now);
  void drainMailbox(Clock::time_point now);

  Options options_;
  Factory factory_;
  Poco::Net::ServerSocket listener_;
  int listenFd_ = -1;
  int epfd_ = -1;
  int eventFd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> count_{0};
  std::atomic<uint64_t> waits_{0};
  uint64_t nextId_ = 2;  // 0 = listener, 1 = eventfd
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;  // loop thread only
  Clock::time_point lastRefusalLog_{};
  int spareFd_ = -1;

  std::mutex mailboxMutex_;
  std::vector<std::pair<uint64_t, std::function<void(Connection&)>>> mailbox_;
};

}  // namespace nsq::net

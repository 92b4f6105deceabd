// EventServer: the epoll loop behind nsqd's and nsqlookupd's HTTP ports and nsqlookupd's TCP
// port. Level-triggered epoll; EPOLLOUT only while output is pending; deadlines are checked by
// a scan every 100 ms (a few thousand comparisons), which is simpler than a timer heap and
// cheap at the connection counts a control port sees.
#include "nsq/net/event_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "nsq/net/tls.h"

namespace nsq::net {

namespace {
constexpr uint64_t kListenerId = 0;
constexpr uint64_t kEventId = 1;
constexpr auto kScanEvery = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerWake = 4;  // then let other connections have a turn
constexpr int kAcceptsPerWake = 256;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 256 * 1024;

std::string hostOf(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return buf;
}

int portOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}
}  // namespace

std::size_t raiseOpenFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return static_cast<std::size_t>(rl.rlim_cur);
}

void Protocol::onDeadline(Connection& c) { c.close(); }
void Protocol::onPeerClosed(Connection& c) { c.close(); }

Connection::Connection(EventServer& server, uint64_t id, int fd, std::string remote,
                       std::string host)
    : server_(server), id_(id), fd_(fd), remote_(std::move(remote)), remoteHost_(std::move(host)) {}

void Connection::send(std::string_view bytes) {
  if (closing_) return;
  if (tls_) {
    if (!tls_->write(bytes)) {
      closing_ = true;
      return;
    }
    tls_->drain(out_);
  } else {
    out_.append(bytes);
  }
}

void Connection::closeAfterWrite() {
  closeAfterWrite_ = true;
  pauseInput(true);
}

void Connection::pauseInput(bool paused) { paused_ = paused; }

EventServer::EventServer(Options options, Factory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

EventServer::~EventServer() {
  stop();
  if (eventFd_ >= 0) ::close(eventFd_);
}

void EventServer::log(LogLevel level, const std::string& text) const {
  if (options_.log)
    options_.log(level, text);
  else
    logAt(level, text);
}

int EventServer::listen(const Poco::Net::SocketAddress& address, int backlog) {
  try {
    listener_.bind(address, true);
    listener_.listen(backlog);
    listener_.setBlocking(false);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error(options_.name + ": listen on " + address.toString() +
                             " failed: " + e.displayText());
  }
  listenFd_ = listener_.impl()->sockfd();
  return listener_.address().port();
}

void EventServer::start() {
  if (listenFd_ < 0) throw std::logic_error("EventServer::start before listen");
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || eventFd_ < 0) throw std::runtime_error(options_.name + ": epoll/eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listenFd_, &ev);
  ev.data.u64 = kEventId;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventFd_, &ev);
  thread_ = std::thread([this] { run(); });
}

void EventServer::stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(eventFd_, &one, sizeof one);
    thread_.join();
  }
  for (auto& [id, c] : conns_) ::close(c->fd_);
  conns_.clear();
  count_.store(0);
  try {
    listener_.close();
  } catch (const Poco::Exception&) {
  }
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
  // eventFd_ stays open until destruction: a worker may still post() an answer.
}

void EventServer::post(uint64_t connectionId, std::function<void(Connection&)> fn) {
  {
    std::lock_guard lock(mailboxMutex_);
    mailbox_.emplace_back(connectionId, std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(eventFd_, &one, sizeof one);
}

template <typename Fn>
void EventServer::guarded(Connection& c, const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    log(LogLevel::Error, options_.name + ": client(" + c.remote_ + ") " + what +
                             " failed, closing the connection: " + e.what());
    c.closing_ = true;
  } catch (...) {
    log(LogLevel::Error, options_.name + ": client(" + c.remote_ + ") " + what +
                             " failed with an unknown exception, closing the connection");
    c.closing_ = true;
  }
}

void EventServer::run() {
  ::pthread_setname_np(::pthread_self(), ("nsq-" + options_.name).substr(0, 15).c_str());
  // A spare descriptor: when accept fails for lack of descriptors, give it up, accept and
  // close the waiting connection, and take it back, so the listener does not spin.
  spareFd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<epoll_event> events(256);
  auto nextScan = Clock::now() + kScanEvery;
  while (!stopping_.load(std::memory_order_relaxed)) {
    // Rounded up: a wait cut short by the rounding would leave a fraction of a millisecond,
    // and waits of 0 ms until the scan came due (thousands of idle wakes a second).
    auto waitMs = std::chrono::ceil<std::chrono::milliseconds>(nextScan - Clock::now()).count();
    waits_.fetch_add(1, std::memory_order_relaxed);
    int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                         static_cast<int>(std::max<int64_t>(0, waitMs)));
    if (n < 0 && errno != EINTR) {
      log(LogLevel::Error, options_.name + ": epoll_wait failed: " + std::strerror(errno));
      break;
    }
    auto now = Clock::now();
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kListenerId) {
        accept(now);
        continue;
      }
      if (id == kEventId) {
        uint64_t v;
        while (::read(eventFd_, &v, sizeof v) > 0) {
        }
        drainMailbox(now);
        continue;
      }
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Connection& c = *it->second;
      uint32_t ev = events[i].events;
      if (ev & EPOLLOUT) flush(c, now);
      if (c.lingering_) {
        if (ev & EPOLLIN) linger(c);
      } else if (!c.closing_ && (ev & EPOLLIN)) {
        onReadable(c);
      }
      // Hung up both ways or failed: nothing more can be read or written (and a paused
      // connection would otherwise be reported again on every wait).
      if (ev & (EPOLLHUP | EPOLLERR)) c.closing_ = true;
      afterCallback(c, now);
    }
    if (now >= nextScan) {
      checkDeadlines(now);
      nextScan = now + kScanEvery;
    }
    if (spareFd_ < 0) spareFd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  if (spareFd_ >= 0) ::close(spareFd_);
  spareFd_ = -1;
}

void EventServer::accept(Clock::time_point now) {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&ss), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        if (now - lastRefusalLog_ > std::chrono::seconds(5)) {
          lastRefusalLog_ = now;
          log(LogLevel::Warn, options_.name + ": out of file descriptors; refusing connections");
        }
        // Shed one waiting connection so the listener stops reporting readiness.
        if (spareFd_ >= 0) ::close(spareFd_);
        int shed = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (shed >= 0) ::close(shed);
        spareFd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      }
      return;
    }
    if (count_.load(std::memory_order_relaxed) >= options_.maxConnections) {
      ::close(fd);
      if (now - lastRefusalLog_ > std::chrono::seconds(5)) {
        lastRefusalLog_ = now;
        log(LogLevel::Warn, options_.name + ": " + std::to_string(options_.maxConnections) +
                                " connections open (the limit); refusing new ones");
      }
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string host = hostOf(ss);
    std::string remote = (ss.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" +
                         std::to_string(portOf(ss));
    uint64_t id = nextId_++;
    auto conn = std::unique_ptr<Connection>(new Connection(*this, id, fd, remote, host));
    Connection& c = *conn;
    if (options_.tls) c.tls_ = std::make_unique<TlsStream>(options_.tls.get(), TlsStream::Role::Server);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    conns_.emplace(id, std::move(conn));
    count_.fetch_add(1, std::memory_order_relaxed);
    guarded(c, "open", [&] {
      c.protocol_ = factory_(c);
      c.protocol_->onOpen(c);
    });
    if (!c.protocol_) c.closing_ = true;
    afterCallback(c, now);
  }
}

void EventServer::onReadable(Connection& c) {
  static thread_local std::string scratch(kReadChunk, '\0');
  bool gotInput = false;
  for (int i = 0; i < kReadsPerWake && !c.paused_ && !c.closing(); ++i) {
    ssize_t n = ::recv(c.fd_, scratch.data(), scratch.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.closing_ = true;
      break;
    }
    if (n == 0) {
      // The peer finished sending: let the protocol answer what it has, then close.
      if (gotInput) guarded(c, "read", [&] { c.protocol_->onInput(c); });
      gotInput = false;
      c.paused_ = true;
      if (!c.closing_) guarded(c, "peer close", [&] { c.protocol_->onPeerClosed(c); });
      break;
    }
    std::string_view raw(scratch.data(), static_cast<std::size_t>(n));
    if (!c.tls_) {
      c.in_.append(raw);
      gotInput = true;
      if (static_cast<std::size_t>(n) < scratch.size()) break;
      continue;
    }
    c.tls_->feed(raw);
    if (!c.tls_->established()) {
      std::string err;
      auto step = c.tls_->handshake(&err);
      c.tls_->drain(c.out_);
      if (step == TlsStream::Step::Failed) {
        log(LogLevel::Debug, options_.name + ": client(" + c.remote_ + ") TLS handshake failed: " + err);
        c.closeAfterWrite();
        break;
      }
      if (step == TlsStream::Step::NeedMore) continue;
    }
    std::string err;
    std::size_t before = c.in_.size();
    bool ok = c.tls_->read(c.in_, &err);
    if (c.tls_->pendingOutput()) c.tls_->drain(c.out_);
    if (c.in_.size() > before) gotInput = true;
    if (!ok) {
      c.paused_ = true;
      if (gotInput) guarded(c, "read", [&] { c.protocol_->onInput(c); });
      gotInput = false;
      if (!c.closing_) guarded(c, "peer close", [&] { c.protocol_->onPeerClosed(c); });
      break;
    }
  }
  if (gotInput && !c.closing_) guarded(c, "read", [&] { c.protocol_->onInput(c); });
}

void EventServer::flush(Connection& c, Clock::time_point now) {
  bool had = c.pendingOutput() > 0;
  while (c.pendingOutput() > 0) {
    ssize_t n = ::send(c.fd_, c.out_.data() + c.outPos_, c.pendingOutput(), MSG_NOSIGNAL);
    if (n > 0) {
      c.outPos_ += static_cast<std::size_t>(n);
      c.writeDeadline_ = now + options_.writeTimeout;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.closing_ = true;  // reset or broken pipe
    return;
  }
  if (c.pendingOutput() > 0) {
    if (c.writeDeadline_ == Clock::time_point::max()) c.writeDeadline_ = now + options_.writeTimeout;
    if (c.out_.size() > options_.maxOutputBytes) c.closing_ = true;
    return;
  }
  c.out_.clear();
  c.outPos_ = 0;
  c.writeDeadline_ = Clock::time_point::max();
  if (c.closeAfterWrite_) {
    startLinger(c, now);
    return;
  }
  if (had) guarded(c, "drained", [&] { c.protocol_->onDrained(c); });
}

// After a last reply, close as HTTP servers do: shut the write side and discard what the peer
// still sends (up to kLingerBytes, for at most kLingerTime), so that closing with unread input
// does not reset the connection and destroy the reply before the peer has read it.
void EventServer::startLinger(Connection& c, Clock::time_point now) {
  if (c.lingering_) return;
  c.lingering_ = true;
  ::shutdown(c.fd_, SHUT_WR);
  c.in_.clear();
  c.paused_ = false;
  c.deadline_ = now + kLingerTime;
}

void EventServer::linger(Connection& c) {
  static thread_local std::string scratch(kReadChunk, '\0');
  for (int i = 0; i < kReadsPerWake; ++i) {
    ssize_t n = ::recv(c.fd_, scratch.data(), scratch.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) break;
    c.lingerBytes_ += static_cast<std::size_t>(n);
    if (c.lingerBytes_ > kLingerBytes) break;
  }
  c.closing_ = true;
}

void EventServer::afterCallback(Connection& c, Clock::time_point now) {
  if (!c.closing_ && c.pendingOutput() > 0) flush(c, now);
  if (!c.closing_ && c.closeAfterWrite_ && c.pendingOutput() == 0) startLinger(c, now);
  if (c.closing_) {
    destroy(c.id_);
    return;
  }
  updateInterest(c);
}

void EventServer::updateInterest(Connection& c) {
  bool read = !c.paused_;
  bool write = c.pendingOutput() > 0;
  if (read == c.wantRead_ && write == c.wantWrite_) return;
  epoll_event ev{};
  ev.events = (read ? EPOLLIN : 0u) | (write ? EPOLLOUT : 0u);
  ev.data.u64 = c.id_;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd_, &ev);
  c.wantRead_ = read;
  c.wantWrite_ = write;
}

void EventServer::destroy(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second->fd_, nullptr);
  ::close(it->second->fd_);
  auto conn = std::move(it->second);
  conns_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
  try {
    conn->protocol_.reset();
  } catch (...) {
    log(LogLevel::Error, options_.name + ": client(" + conn->remote_ + ") cleanup failed");
  }
}

void EventServer::checkDeadlines(Clock::time_point now) {
  std::vector<uint64_t> due;
  for (auto& [id, c] : conns_)
    if (now >= c->deadline_ || now >= c->writeDeadline_) due.push_back(id);
  for (uint64_t id : due) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    Connection& c = *it->second;
    if (c.lingering_ || now >= c.writeDeadline_) {
      log(LogLevel::Debug, options_.name + ": client(" + c.remote_ + ") write timeout, closing");
      destroy(id);
      continue;
    }
    c.deadline_ = Clock::time_point::max();
    guarded(c, "deadline", [&] { c.protocol_->onDeadline(c); });
    afterCallback(c, now);
  }
}

void EventServer::drainMailbox(Clock::time_point now) {
  std::vector<std::pair<uint64_t, std::function<void(Connection&)>>> tasks;
  {
    std::lock_guard lock(mailboxMutex_);
    tasks.swap(mailbox_);
  }
  for (auto& task : tasks) {
    auto it = conns_.find(task.first);
    if (it == conns_.end()) continue;  // closed meanwhile: the answer has nowhere to go
    Connection& c = *it->second;
    guarded(c, "task", [&] { task.second(c); });
    afterCallback(c, now);
  }
}

}  // namespace nsq::net

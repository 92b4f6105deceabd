// Nsqd: lifecycle and wiring. It owns the topic registry, the TCP listener, the IO loops, the
// HTTP API, the queue scanner, the syncer, /ping health (health.cpp) and nsqd.dat (metadata.cpp),
// and relays topology changes to nsqlookupd. Storage policy lives in each queue's Backlog.
//
// Threading model (fixed thread counts)
// - main thread: parses options, starts Nsqd, then waits in sigwait() for SIGINT/SIGTERM and
//   runs the graceful stop.
// - 1 accept thread: poll() on the TCP listener; each new socket goes round robin to an IoLoop.
//   Past --tcp-max-connections a socket gets E_TOO_MANY_CONNECTIONS instead and lingers on
//   this thread (refused_connections.h: at most 256, 1 s each) so the client reads the frame.
// - N IoLoop threads (--io-threads, default one per core, max 8): epoll over non-blocking
//   client sockets. A connection stays on one loop for life; its commands run there, and
//   message delivery is pulled by that same thread from the channel (Channel::pull), so no lock
//   is ever held across a socket write and a slow client only slows itself.
// - 1 scanner thread: every 100 ms expires in-flight messages, releases deferred ones, moves
//   waiting topic messages into channels (10,000 per pass, passes back to back while there is
//   a backlog) and notices time-based syncs that are due.
// - 1 syncer thread (syncer.h): runs every fsync (disk queues, journals, nsqd.dat after a
//   topic/channel appears), so no IO thread and no queue lock ever waits for the disk. With
//   --sync-every=1 syncs stay on the thread that wrote, before the OK.
// - HTTP and HTTPS: one event-loop thread per listener (nsq::http::Server) reads whole requests
//   with a deadline and size caps (--http-read-timeout, --http-max-connections), then a fixed
//   pool of 8 threads shared by both runs the handlers; a slow client never holds a thread.
// - Auth (only with --auth-http-address): up to 8 worker threads, started as queries need them,
//   run the blocking auth server requests for AUTH and expired authorizations; each result goes
//   back to the client's IoLoop through its mailbox (auth.h).
// Cross-thread signals (a put waking a waiting consumer, a timeout freeing a window) go through
// the target loop's mailbox: a mutex-guarded vector and an eventfd.
// Lock order: a topic's lock, then its channels' locks (publish, drain); a topic's ID lock
// (guidMu_) is taken alone, before the topic lock; topicsMutex_ guards only the registry.
// No lock is held across a socket write; fsyncs leave the locks through a SyncScope
// (backlog.h), except with --sync-every=1, where they run where the write happened.
#include "nsqd/nsqd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/protocol/wire.h"
#include "nsqd/auth.h"
#include "nsqd/channel.h"
#include "nsqd/client_session.h"
#include "nsqd/clock.h"
#include "nsqd/http_api.h"
#include "nsqd/io_loop.h"
#include "nsqd/lookup_registrar.h"
#include "nsqd/refused_connections.h"
#include "nsqd/statsd.h"
#include "nsqd/tls.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

namespace {

// "host:port" ("[::1]:4150" too); an empty host means all interfaces.
int listenTcp(const std::string& address, int& boundPort) {
  ParsedHostPort hp = parseHostPort(address);
  if (hp.error == HostPortError::MissingPort)
    throw std::runtime_error("invalid address " + address + " (want host:port)");
  if (!hp) throw std::runtime_error("invalid port in address " + address);
  const auto& [host, port] = *hp;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string portText = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), portText.c_str(), &hints, &res) != 0 || !res)
    throw std::runtime_error("cannot resolve listen address " + address);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    std::string err = std::strerror(errno);
    ::freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("listen on " + address + " failed: " + err);
  }
  ::freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  boundPort = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

std::string peerAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
  ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
  port = ntohs(a->sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

constexpr int kAcceptsPerWake = 256;  // then the lingering refused sockets get a turn

// What a client past --tcp-max-connections reads: one error frame.
std::string refusalFrame(std::size_t limit) {
  std::string frame;
  Error err{ErrorCode::TooManyConnections,
            "nsqd has " + std::to_string(limit) + " TCP connections open (--tcp-max-connections)"};
  appendFrame(frame, FrameType::Error, err.frameText());
  return frame;
}

}  // namespace

Nsqd::Nsqd(NsqdOptions opts)
    : opts_(std::move(opts)), startTime_(wallNanos() / 1'000'000'000),
      policies_(std::make_shared<PolicySet>(opts_)), metadata_(opts_.dataPath), syncer_(opts_.syncEvery > 1) {}

Nsqd::~Nsqd() { stop(); }

void Nsqd::wakeScanner() { scanCv_.notify_all(); }

void Nsqd::lockDataPath() {
  std::filesystem::create_directories(opts_.dataPath);
  std::string lockPath = opts_.dataPath + "/.nsqd.lock";
  lockFd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lockFd_ < 0) throw std::runtime_error("cannot open " + lockPath + ": " + std::strerror(errno));
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error("--data-path=" + opts_.dataPath + " in use (possibly by another instance of nsqd)");
}

void Nsqd::start() {
  tlsContext_ = makeServerTlsContext(opts_);
  if (!opts_.authHttpAddresses.empty()) {
    try {
      authorizer_ = std::make_unique<Authorizer>(opts_);
    } catch (const Poco::Exception& e) {
      throw std::runtime_error("failed to build the auth servers' TLS config - " + e.displayText());
    }
  }
  lockDataPath();
  // Always present once started (possibly with no address), so /config can add lookupds later.
  lookup_ = std::make_unique<LookupRegistrar>(*this, opts_.lookupdTcpAddresses);
  syncer_.start();
  loadMetadata();
  // Dead-letter moves a kill -9 interrupted: now that every topic is loaded, each goes to its
  // topic unless it is there already.
  for (auto& topic : topics())
    for (auto& channel : topic->channels()) channel->sendRecoveredDeadLetters();
  persistMetadata();
  listenFd_ = listenTcp(opts_.tcpAddress, tcpPort_);
  logInfo("TCP: listening on ", opts_.tcpAddress, " (port ", std::to_string(tcpPort_), ")");
  if (!opts_.httpAddress.empty()) {
    http_ = std::make_unique<HttpApi>(*this);
    httpPort_ = http_->listen(opts_.httpAddress);
    logInfo("HTTP: listening on ", opts_.httpAddress, " (port ", std::to_string(httpPort_), ")");
  }
  if (tlsContext_ && !opts_.httpsAddress.empty()) {
    if (!http_) http_ = std::make_unique<HttpApi>(*this);
    httpsPort_ = http_->listenHttps(opts_.httpsAddress, tlsContext_);
    logInfo("HTTPS: listening on ", opts_.httpsAddress, " (port ", std::to_string(httpsPort_), ")");
  }
  if (http_) http_->serve();  // after the ports are recorded: /info reports them
  int64_t threads = opts_.ioThreads;
  if (threads <= 0) threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 8);
  for (int64_t i = 0; i < threads; ++i) {
    loops_.push_back(std::make_unique<IoLoop>(*this, static_cast<int>(i)));
    loops_.back()->start();
  }
  acceptThread_ = std::thread([this] { acceptLoop(); });
  if (lookup_) lookup_->start();
  scanThread_ = std::thread([this] {
    // The scanner's last-resort handler: an exception out of a pass is logged and scanning
    // resumes, since an escaped one would terminate nsqd.
    while (!exiting()) {
      try {
        scanLoop();
        return;
      } catch (const std::exception& e) {
        logError("NSQ: queue scanner failed - ", e.what(), "; restarting");
      } catch (...) {
        logError("NSQ: queue scanner failed - unknown exception; restarting");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  if (!opts_.statsdAddress.empty()) {
    statsd_ = std::make_unique<StatsdPusher>(*this);
    statsd_->start();
  }
  started_.store(true);
}

void Nsqd::stop() {
  if (!started_.exchange(false)) return;
  exiting_.store(true, std::memory_order_release);
  logInfo("NSQ: closing");
  if (listenFd_ >= 0) ::shutdown(listenFd_, SHUT_RDWR);
  if (acceptThread_.joinable()) acceptThread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
  listenFd_ = -1;
  if (http_) http_->stop();
  if (statsd_) statsd_->stop();
  for (auto& loop : loops_) loop->stop();
  // After the loops (no new queries) and before they are destroyed (workers post to them).
  if (authorizer_) authorizer_->stop();
  if (lookup_) lookup_->stop();
  {
    std::lock_guard lock(scanMutex_);
  }
  scanCv_.notify_all();
  if (scanThread_.joinable()) scanThread_.join();
  syncer_.stop();  // runs what is queued; from here on fsyncs run on their caller
  persistMetadata();
  for (auto& topic : topics()) topic->close(false);
  loops_.clear();
  if (lockFd_ >= 0) {
    ::flock(lockFd_, LOCK_UN);
    ::close(lockFd_);
    lockFd_ = -1;
  }
  logInfo("NSQ: stopped");
}

std::vector<std::string> Nsqd::lookupdAddresses() const {
  return lookup_ ? lookup_->addresses() : opts_.lookupdTcpAddresses;
}

void Nsqd::setLookupdAddresses(const std::vector<std::string>& addresses) {
  if (lookup_) lookup_->setAddresses(addresses);
}

IoLoop& Nsqd::nextLoop() { return *loops_[nextLoop_.fetch_add(1) % loops_.size()]; }

void Nsqd::acceptLoop() {
  // The listener is non-blocking and polled together with the refused sockets still lingering;
  // stop() wakes the poll by shutting the listener down.
  ::fcntl(listenFd_, F_SETFL, ::fcntl(listenFd_, F_GETFL) | O_NONBLOCK);
  const auto limit = static_cast<std::size_t>(opts_.tcpMaxConnections);
  RefusedConnections refused(refusalFrame(limit));
  std::vector<pollfd> fds;
  int64_t lastRefusalLog = 0;
  while (!exiting()) {
    fds.assign(1, pollfd{listenFd_, POLLIN, 0});
    refused.addPollFds(fds);
    int ready = ::poll(fds.data(), fds.size(), refused.pollTimeoutMs(monoNanos()));
    if (exiting()) break;
    int64_t now = monoNanos();
    refused.onPoll(fds, 1, now);
    if (ready <= 0 || fds[0].revents == 0) continue;
    for (int i = 0; i < kAcceptsPerWake && !exiting(); ++i) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          logError("TCP: accept failed - ", std::strerror(errno), " (raise the open-files limit)");
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        } else if (errno == EINVAL || errno == EBADF) {
          return;  // shut down
        }
        break;  // EAGAIN: back to poll
      }
      std::string remote = peerAddress(ss);
      if (tcpConnections_.load(std::memory_order_relaxed) >= limit) {
        if (lastRefusalLog == 0 || now - lastRefusalLog >= 5'000'000'000) {
          lastRefusalLog = now;
          logWarn("TCP: ", std::to_string(limit), " connections open (--tcp-max-connections); refusing client(",
                  remote, ") and any others for now with E_TOO_MANY_CONNECTIONS");
        }
        refused.refuse(fd, now);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      logInfo("TCP: new client(", remote, ")");
      nextLoop().adopt(UniqueFd(fd), std::move(remote), ConnectionSlot(tcpConnections_));
    }
  }
}

void Nsqd::scanLoop() {
  // Every queue-scan interval: expire in-flight messages, release deferred ones, move waiting
  // topic messages on, and run time-based disk syncs. Loops at once while there is work.
  std::unique_lock lock(scanMutex_);
  while (!exiting()) {
    bool work = false;
    int64_t now = monoNanos();
    lock.unlock();
    for (auto& topic : topics()) {
      work |= topic->drain(10000);
      for (auto& channel : topic->channels()) {
        channel->sendRecoveredDeadLetters();  // a channel first opened after start
        work |= channel->processTimeouts(now);
      }
    }
    lock.lock();
    if (exiting()) break;
    if (!work) scanCv_.wait_for(lock, opts_.queueScanInterval);
    else scanCv_.wait_for(lock, std::chrono::microseconds(200));  // let others take the locks
  }
}

std::shared_ptr<Topic> Nsqd::getTopic(const std::string& name, Limit limit, Refusal* refused) {
  {
    std::shared_lock lock(topicsMutex_);
    auto it = topics_.find(name);
    if (it != topics_.end()) return it->second;
  }
  if (exiting()) return nullptr;
  std::shared_ptr<Topic> topic;
  const auto max = static_cast<std::size_t>(opts_.maxTopics);
  bool past = false;
  {
    std::unique_lock lock(topicsMutex_);
    auto it = topics_.find(name);
    if (it != topics_.end()) return it->second;
    past = max > 0 && topics_.size() >= max;
    if (past && limit == Limit::Enforce) {
      if (refused) *refused = {"TOO_MANY_TOPICS", "nsqd has " + std::to_string(max) + " topics (--max-topics)"};
      return nullptr;
    }
    topic = std::make_shared<Topic>(*this, *this, name, policyFor(name));
    topics_.emplace(name, topic);
  }
  logInfo("TOPIC(", name, "): created");
  if (past)
    logWarn("TOPIC(", name, "): created past --max-topics=", std::to_string(max),
            loadingMetadata_ ? " (restored from nsqd.dat)" : " (a dead-letter topic)");
  topicCreated(topic);
  return topic;
}

void Nsqd::setPolicies(std::shared_ptr<const PolicySet> policies, std::string configPath) {
  {
    std::lock_guard lock(policiesMutex_);
    policies_ = std::move(policies);
    configPath_ = std::move(configPath);
  }
  for (auto& topic : topics()) topic->setPolicy(policyFor(topic->name()));
}

std::string Nsqd::reloadPolicies() {
  std::string path;
  {
    std::lock_guard lock(policiesMutex_);
    path = configPath_;
  }
  std::shared_ptr<const PolicySet> fresh;
  try {
    fresh = PolicySet::load(path, opts_);
  } catch (const std::exception& e) {
    logError("NSQ: policy reload failed, keeping the current policies - ", e.what());
    return e.what();
  }
  setPolicies(fresh, path);
  logInfo("NSQ: reloaded topic policies (", std::to_string(fresh->size()), " topics entries",
          path.empty() ? "" : " from " + path, ")");
  return "";
}

std::shared_ptr<const TopicPolicy> Nsqd::policyFor(const std::string& name) const {
  std::shared_ptr<const PolicySet> set;
  {
    std::lock_guard lock(policiesMutex_);
    set = policies_;
  }
  std::string warning;
  auto policy = set->resolve(name, &warning);
  if (!warning.empty()) logWarn("NSQ: ", warning);
  return policy;
}

bool Nsqd::reserveDeadLetterId(const std::string& topicName, MessageId& id) {
  auto topic = getTopic(topicName, Limit::Exempt);
  if (!topic) return false;
  id = topic->reserveId();
  return true;
}

Error Nsqd::deadLetter(const std::string& topicName, const Message& msg, const MessageId& id) {
  auto topic = getTopic(topicName, Limit::Exempt);
  if (!topic) return {ErrorCode::PubFailed, "exiting"};
  return topic->publishAs(msg.body.view(), id, ErrorCode::PubFailed);
}

bool Nsqd::holdsDeadLetter(const std::string& topicName, const MessageId& id) {
  auto topic = findTopic(topicName);
  return topic && topic->holds(id);
}

std::shared_ptr<Topic> Nsqd::findTopic(const std::string& name) const {
  std::shared_lock lock(topicsMutex_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

bool Nsqd::deleteTopic(const std::string& name) {
  std::shared_ptr<Topic> topic;
  {
    std::unique_lock lock(topicsMutex_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return false;
    topic = it->second;
    topics_.erase(it);
  }
  logInfo("TOPIC(", name, "): deleting");
  topic->close(true);
  topicDeleted(name);
  return true;
}

void Nsqd::registerClient(std::shared_ptr<ClientSession> client) {
  std::lock_guard lock(clientsMutex_);
  uint64_t id = client->id();
  clients_[id] = std::move(client);
}

void Nsqd::unregisterClient(uint64_t id) {
  std::shared_ptr<ClientSession> gone;  // released outside the lock
  std::lock_guard lock(clientsMutex_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  gone = std::move(it->second);
  clients_.erase(it);
}

std::vector<std::shared_ptr<ClientSession>> Nsqd::clients() const {
  std::lock_guard lock(clientsMutex_);
  std::vector<std::shared_ptr<ClientSession>> out;
  out.reserve(clients_.size());
  for (const auto& [id, c] : clients_) out.push_back(c);
  return out;
}

std::vector<ClientStats> Nsqd::clientStats() const {
  std::vector<ClientStats> out;
  for (const auto& c : clients()) out.push_back(c->stats());
  return out;
}

std::vector<std::shared_ptr<Topic>> Nsqd::topics() const {
  std::vector<std::shared_ptr<Topic>> out;
  {
    std::shared_lock lock(topicsMutex_);
    for (const auto& [n, t] : topics_) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
  return out;
}

void Nsqd::persistMetadataLater() {
  if (metadataQueued_.exchange(true)) return;  // a queued write will see this change too
  syncer_.run([this] {
    metadataQueued_.store(false);
    persistMetadata();
  });
}

void Nsqd::topicCreated(const std::shared_ptr<Topic>& topic) {
  if (!topic->ephemeral() && !loadingMetadata_) persistMetadataLater();
  if (lookup_) {
    lookup_->registerTopic(topic->name());
    // Pre-create the channels the cluster knows before delivering (the registrar starts it).
    if (!loadingMetadata_ && lookup_->anyConnected()) {
      lookup_->discoverChannels(topic->name());
      return;
    }
  }
  topic->start();
}

void Nsqd::topicDeleted(const std::string& topic) {
  if (!isEphemeral(topic)) persistMetadataLater();
  if (lookup_) lookup_->unregisterTopic(topic);
}

void Nsqd::channelCreated(const std::string& topic, const std::string& channel) {
  if (!isEphemeral(topic) && !isEphemeral(channel) && !loadingMetadata_) persistMetadataLater();
  if (lookup_) lookup_->registerTopic(topic, channel);
}

void Nsqd::channelDeleted(const std::string& topic, const std::string& channel) {
  if (!isEphemeral(topic) && !isEphemeral(channel)) persistMetadataLater();
  if (lookup_) lookup_->unregisterTopic(topic, channel);
}

void Nsqd::persistMetadata() {
  std::lock_guard lock(metadataMutex_);
  if (loadingMetadata_) return;
  std::vector<TopicMetadata> state;
  for (const auto& topic : topics()) {
    if (topic->ephemeral()) continue;
    TopicMetadata t{topic->name(), topic->paused(), {}};
    for (const auto& c : topic->channels())
      if (!c->ephemeral()) t.channels.push_back({c->name(), c->paused()});
    state.push_back(std::move(t));
  }
  (void)metadata_.save(state);  // a failure is logged; the next change writes it again
}

void Nsqd::loadMetadata() {
  std::vector<TopicMetadata> state;
  {
    std::lock_guard lock(metadataMutex_);
    state = metadata_.load();
    loadingMetadata_ = true;
  }
  for (const auto& t : state) {
    auto topic = getTopic(t.name, Limit::Exempt);
    if (t.paused) topic->pause();
    for (const auto& c : t.channels) {
      auto channel = topic->getChannel(c.name, Limit::Exempt);
      if (channel && c.paused) channel->pause();
    }
  }
  std::lock_guard lock(metadataMutex_);
  loadingMetadata_ = false;
}

}  // namespace nsq::nsqd

// LookupRegistrar: one thread, blocking sockets with 1 s deadlines, a job queue fed by topic and
// channel changes. A failed command drops the connection; the next pass reconnects and replays
// everything, so lookupd restarts heal by themselves.
#include "nsqd/lookup_registrar.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sstream>

#include "nsq/base/host_port.h"
#include "nsq/base/json_text.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/base/number.h"
#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"
#include "nsq/version.h"
#include "nsqd/channel.h"
#include "nsqd/clock.h"
#include "nsqd/nsqd.h"
#include "nsqd/topic.h"

namespace nsq::nsqd {

namespace {
constexpr int kDeadlineMs = 1000;
constexpr int64_t kPingIntervalNs = 15'000'000'000LL;
constexpr int64_t kMaxBackoffNs = 15'000'000'000LL;

int connectWithTimeout(const std::string& address) {
  ParsedHostPort hp = parseHostPort(address);
  if (!hp) return -1;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(hp->host.c_str(), std::to_string(hp->port).c_str(), &hints, &res) != 0 || !res) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return -1;
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t len = sizeof err;
  if (::poll(&p, 1, kDeadlineMs) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd);
    return -1;
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{kDeadlineMs / 1000, (kDeadlineMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool sendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool recvAll(int fd, char* buf, std::size_t n) {
  std::size_t off = 0;
  while (off < n) {
    ssize_t r = ::recv(fd, buf + off, n - off, 0);
    if (r <= 0) return false;
    off += static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

struct LookupRegistrar::Peer {
  std::string address;
  int fd = -1;
  std::string httpAddress;  // from the IDENTIFY reply
  int64_t nextPingNs = 0;
  int64_t retryAtNs = 0;
  int64_t backoffNs = 1'000'000'000;
};

LookupRegistrar::LookupRegistrar(Nsqd& nsqd, std::vector<std::string> addresses) : nsqd_(nsqd) {
  wanted_ = std::move(addresses);
  addressesChanged_ = true;
  applyAddresses();
}

void LookupRegistrar::setAddresses(const std::vector<std::string>& addresses) {
  std::lock_guard lock(mu_);
  wanted_ = addresses;
  addressesChanged_ = true;
  cv_.notify_one();
}

std::vector<std::string> LookupRegistrar::addresses() const {
  std::lock_guard lock(mu_);
  return wanted_;
}

// Thread side (or constructor): make peers_ match wanted_.
void LookupRegistrar::applyAddresses() {
  std::vector<std::string> wanted;
  {
    std::lock_guard lock(mu_);
    if (!addressesChanged_) return;
    addressesChanged_ = false;
    wanted = wanted_;
  }
  std::vector<std::unique_ptr<Peer>> kept;
  for (auto& p : peers_) {
    if (std::find(wanted.begin(), wanted.end(), p->address) != wanted.end()) {
      kept.push_back(std::move(p));
    } else {
      logInfo("LOOKUP(", p->address, "): removed");
      closePeer(*p);
    }
  }
  for (const auto& a : wanted) {
    bool have = std::any_of(kept.begin(), kept.end(), [&](const auto& p) { return p->address == a; });
    if (have) continue;
    auto p = std::make_unique<Peer>();
    p->address = a;
    kept.push_back(std::move(p));
  }
  std::lock_guard lock(mu_);  // anyConnected() reads peers_ under mu_
  peers_.swap(kept);
}

LookupRegistrar::~LookupRegistrar() { stop(); }

// The thread's last-resort handler: an exception out of run() (a bug, or memory running out)
// is logged and run() starts over a second later, so registrations keep flowing.
void LookupRegistrar::start() {
  thread_ = std::thread([this] {
    for (;;) {
      std::string what = "unknown exception";
      try {
        run();
        return;
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      logError("LOOKUP: registrar failed - ", what, "; restarting in 1s");
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) return;
    }
  });
}

void LookupRegistrar::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& p : peers_) closePeer(*p);
}

void LookupRegistrar::registerTopic(const std::string& topic, const std::string& channel) {
  std::lock_guard lock(mu_);
  jobs_.push_back({Job::Register, topic, channel});
  cv_.notify_one();
}

void LookupRegistrar::unregisterTopic(const std::string& topic, const std::string& channel) {
  std::lock_guard lock(mu_);
  jobs_.push_back({Job::Unregister, topic, channel});
  cv_.notify_one();
}

void LookupRegistrar::discoverChannels(const std::string& topic) {
  std::lock_guard lock(mu_);
  jobs_.push_back({Job::Discover, topic, ""});
  cv_.notify_one();
}

bool LookupRegistrar::anyConnected() const {
  std::lock_guard lock(mu_);
  for (const auto& p : peers_)
    if (!p->httpAddress.empty()) return true;
  return false;
}

void LookupRegistrar::closePeer(Peer& p) {
  if (p.fd >= 0) ::close(p.fd);
  p.fd = -1;
}

// Sends one command (and optional body) and reads its one reply ([int32 size][data]).
bool LookupRegistrar::command(Peer& p, const std::string& line, const std::string* body,
                              std::string* reply) {
  std::string out = line + "\n";
  if (body) {
    char size[4];
    putUint32(size, static_cast<uint32_t>(body->size()));
    out.append(size, 4);
    out += *body;
  }
  char sizeBuf[4];
  if (!sendAll(p.fd, out) || !recvAll(p.fd, sizeBuf, 4)) return false;
  uint32_t size = getUint32(sizeBuf);
  if (size > 1024 * 1024) return false;
  std::string data(size, '\0');
  if (!recvAll(p.fd, data.data(), size)) return false;
  if (data.rfind("E_", 0) == 0) {
    logError("LOOKUP(", p.address, "): ", line, " failed - ", data);
    return false;
  }
  if (reply) *reply = std::move(data);
  return true;
}

bool LookupRegistrar::connectPeer(Peer& p) {
  p.fd = connectWithTimeout(p.address);
  if (p.fd < 0) return false;
  const auto& o = nsqd_.options();
  int tcpPort = o.broadcastTcpPort > 0 ? static_cast<int>(o.broadcastTcpPort) : nsqd_.tcpPort();
  int httpPort = o.broadcastHttpPort > 0 ? static_cast<int>(o.broadcastHttpPort) : nsqd_.httpPort();
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string identify = "{\"version\":\"" NSQ_VERSION "\",\"tcp_port\":" + std::to_string(tcpPort) +
                         ",\"http_port\":" + std::to_string(httpPort) + ",\"hostname\":" + jsonQuote(host) +
                         ",\"broadcast_address\":" + jsonQuote(o.broadcastAddress) +
                         ",\"topology_zone\":" + jsonQuote(o.topologyZone) +
                         ",\"topology_region\":" + jsonQuote(o.topologyRegion) + "}";
  std::string reply;
  if (!sendAll(p.fd, std::string(kMagicV1)) || !command(p, "IDENTIFY", &identify, &reply)) {
    closePeer(p);
    return false;
  }
  std::string httpAddress;
  try {
    if (findUnrepresentableJsonInteger(reply)) throw std::runtime_error("number out of range");
    auto obj = Poco::JSON::Parser().parse(reply).extract<Poco::JSON::Object::Ptr>();
    std::string addr = obj->optValue<std::string>("broadcast_address", "");
    ParsedInt port = obj->has("http_port") ? jsonInt(obj->get("http_port"), 1, 65535) : ParsedInt{};
    if (!addr.empty() && port && *port > 0) httpAddress = addr + ":" + std::to_string(*port);
  } catch (...) {
    logWarn("LOOKUP(", p.address, "): unparsable IDENTIFY reply");
  }
  logInfo("LOOKUP(", p.address, "): connected (http ", httpAddress, ")");
  // Replay every registration: after a reconnect the lookupd knows nothing of us.
  for (const auto& topic : nsqd_.topics()) {
    auto channels = topic->channels();
    bool ok = true;
    if (channels.empty()) ok = command(p, "REGISTER " + topic->name(), nullptr, nullptr);
    for (const auto& c : channels)
      if (ok) ok = command(p, "REGISTER " + topic->name() + " " + c->name(), nullptr, nullptr);
    if (!ok) {
      closePeer(p);
      return false;
    }
  }
  std::lock_guard lock(mu_);
  p.httpAddress = httpAddress;
  return true;
}

void LookupRegistrar::discover(const std::string& topicName) {
  auto topic = nsqd_.findTopic(topicName);
  if (!topic) return;
  std::vector<std::string> httpAddresses;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : peers_)
      if (!p->httpAddress.empty()) httpAddresses.push_back(p->httpAddress);
  }
  const auto& o = nsqd_.options();
  std::vector<std::string> names;
  for (const auto& addr : httpAddresses) {
    try {
      Poco::URI uri("http://" + addr);
      Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
      session.setTimeout(Poco::Timespan(o.httpClientConnectTimeout.count() / 1000),
                         Poco::Timespan(o.httpClientRequestTimeout.count() / 1000),
                         Poco::Timespan(o.httpClientRequestTimeout.count() / 1000));
      Poco::URI path("/channels");
      path.addQueryParameter("topic", topicName);
      Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path.getPathAndQuery(),
                                 Poco::Net::HTTPMessage::HTTP_1_1);
      req.set("Accept", "application/vnd.nsq; version=1.0");
      session.sendRequest(req);
      Poco::Net::HTTPResponse resp;
      std::istream& in = session.receiveResponse(resp);
      if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) continue;
      auto obj = Poco::JSON::Parser().parse(in).extract<Poco::JSON::Object::Ptr>();
      auto arr = obj->getArray("channels");
      for (std::size_t i = 0; arr && i < arr->size(); ++i) names.push_back(arr->getElement<std::string>(static_cast<unsigned>(i)));
    } catch (const std::exception& e) {
      logWarn("LOOKUP: GET ", addr, "/channels?topic=", topicName, " failed - ", e.what());
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) {
    if (!isValidChannelName(n) || isEphemeral(n)) continue;
    Refusal refused;
    if (!topic->getChannel(n, Limit::Enforce, &refused) && refused)
      logWarn("LOOKUP: channel ", topicName, "/", n, " known to nsqlookupd not created - ", refused.text());
  }
  topic->start();
}

void LookupRegistrar::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    int64_t now = monoNanos();
    lock.unlock();
    applyAddresses();
    // A lookupd never speaks unasked: a readable socket means it closed or reset. Notice that
    // now rather than at the next PING, so a restarted lookupd is re-taught within a second.
    for (auto& p : peers_) {
      if (p->fd < 0) continue;
      pollfd pfd{p->fd, POLLIN, 0};
      if (::poll(&pfd, 1, 0) > 0) {
        logWarn("LOOKUP(", p->address, "): connection closed; reconnecting");
        closePeer(*p);
        p->retryAtNs = 0;
      }
    }
    // Connect (or reconnect) peers that are due.
    for (auto& p : peers_) {
      if (p->fd >= 0 || now < p->retryAtNs) continue;
      if (connectPeer(*p)) {
        p->backoffNs = 1'000'000'000;
        p->nextPingNs = now + kPingIntervalNs;
      } else {
        p->retryAtNs = now + p->backoffNs;
        p->backoffNs = std::min(p->backoffNs * 2, kMaxBackoffNs);
      }
    }
    lock.lock();
    std::deque<Job> jobs;
    jobs.swap(jobs_);
    lock.unlock();
    for (const auto& job : jobs) {
      if (job.kind == Job::Discover) {
        discover(job.topic);
        continue;
      }
      std::string line = std::string(job.kind == Job::Register ? "REGISTER " : "UNREGISTER ") + job.topic;
      if (!job.channel.empty()) line += " " + job.channel;
      for (auto& p : peers_) {
        if (p->fd < 0) continue;  // replayed in full on reconnect
        if (!command(*p, line, nullptr, nullptr)) {
          logWarn("LOOKUP(", p->address, "): ", line, " failed; reconnecting");
          closePeer(*p);
          p->retryAtNs = 0;
        }
      }
    }
    for (auto& p : peers_) {
      if (p->fd < 0 || now < p->nextPingNs) continue;
      p->nextPingNs = now + kPingIntervalNs;
      if (!command(*p, "PING", nullptr, nullptr)) {
        logWarn("LOOKUP(", p->address, "): PING failed; reconnecting");
        closePeer(*p);
        p->retryAtNs = 0;
      }
    }
    lock.lock();
    if (stopping_) break;
    if (jobs_.empty() && !addressesChanged_) cv_.wait_for(lock, std::chrono::milliseconds(250));
  }
}

}  // namespace nsq::nsqd

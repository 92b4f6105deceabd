// IoLoop: epoll readiness loop for client sessions. Level-triggered; each readable event reads
// what is there (bounded per pass for fairness), runs the complete commands, pumps messages and
// flushes. A 100 ms tick drives heartbeats and read/write deadlines for every connection.
//
// Nothing may escape this thread (std::terminate would take nsqd down): each connection's work
// runs under guarded(), which logs an exception and closes only that connection, and each loop
// pass has a last-resort handler of its own.
#include "nsqd/io_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

#include "nsq/base/log.h"
#include "nsqd/client_session.h"
#include "nsqd/clock.h"
#include "nsqd/nsqd.h"

namespace nsq::nsqd {

namespace {

// Runs one connection's step; an exception counts as "close it" (false) after a log line.
void logClosing(const ClientSession& client, const char* stage, const char* what) noexcept {
  try {
    logError("IO: client(", client.remoteAddress(), ") ", stage, " failed - ", what, "; closing the connection");
  } catch (...) {
  }
}

template <typename Step>
bool guarded(const ClientSession& client, const char* stage, Step&& step) noexcept {
  try {
    return step();
  } catch (const std::exception& e) {
    logClosing(client, stage, e.what());
  } catch (...) {
    logClosing(client, stage, "unknown exception");
  }
  return false;
}

}  // namespace

IoLoop::IoLoop(Nsqd& nsqd, int index) : nsqd_(nsqd), index_(index) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || eventFd_ < 0) throw std::runtime_error("epoll/eventfd creation failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = eventFd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, eventFd_, &ev);
}

IoLoop::~IoLoop() {
  stop();
  if (epfd_ >= 0) ::close(epfd_);
  if (eventFd_ >= 0) ::close(eventFd_);
}

void IoLoop::start() { thread_ = std::thread([this] { run(); }); }

void IoLoop::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  notify();
  thread_.join();
}

void IoLoop::notify() {
  uint64_t one = 1;
  ssize_t n = ::write(eventFd_, &one, sizeof one);
  (void)n;
}

void IoLoop::adopt(UniqueFd fd, std::string remote, ConnectionSlot slot) {
  std::lock_guard lock(mailboxMutex_);
  newConns_.push_back({std::move(fd), std::move(remote), std::move(slot)});
  if (!notified_) {
    notified_ = true;
    notify();
  }
}

void IoLoop::wake(std::shared_ptr<ClientSession> client) {
  std::lock_guard lock(mailboxMutex_);
  wakes_.push_back(std::move(client));
  if (!notified_) {
    notified_ = true;
    notify();
  }
}

void IoLoop::requestClose(std::shared_ptr<ClientSession> client) {
  std::lock_guard lock(mailboxMutex_);
  closes_.push_back(std::move(client));
  if (!notified_) {
    notified_ = true;
    notify();
  }
}

void IoLoop::post(std::shared_ptr<ClientSession> client, Task task) {
  std::lock_guard lock(mailboxMutex_);
  tasks_.emplace_back(std::move(client), std::move(task));
  if (!notified_) {
    notified_ = true;
    notify();
  }
}

void IoLoop::setInterest(ClientSession& client, bool read, bool write) {
  epoll_event ev{};
  ev.events = (read ? static_cast<uint32_t>(EPOLLIN) : 0u) | (write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.fd = client.fd();
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, client.fd(), &ev);
}

bool IoLoop::isOpen(const std::shared_ptr<ClientSession>& client) const {
  auto it = conns_.find(client->fd());
  return it != conns_.end() && it->second.session == client;
}

void IoLoop::closeNow(const std::shared_ptr<ClientSession>& client) {
  auto it = conns_.find(client->fd());
  if (it == conns_.end() || it->second.session != client) return;  // already closed
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, client->fd(), nullptr);
  ConnectionSlot slot = std::move(it->second.slot);  // given back when this returns
  conns_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
  nsqd_.unregisterClient(client->id());
  client->closed();
}

void IoLoop::drainMailbox(int64_t now) {
  std::vector<Incoming> newConns;
  std::vector<std::shared_ptr<ClientSession>> closes;
  std::vector<std::pair<std::shared_ptr<ClientSession>, Task>> tasks;
  {
    std::lock_guard lock(mailboxMutex_);
    newConns.swap(newConns_);
    wakesTaken_.swap(wakes_);  // wakesTaken_ was left empty, with its capacity
    closes.swap(closes_);
    tasks.swap(tasks_);
    notified_ = false;
    uint64_t v;
    ssize_t n = ::read(eventFd_, &v, sizeof v);
    (void)n;
  }
  // A connection whose set-up fails is closed by whichever owns its socket at that moment, and
  // its slot is given back when `in` goes.
  for (auto& in : newConns) {
    const int fd = in.fd.get();
    std::shared_ptr<ClientSession> client;
    try {
      client = std::make_shared<ClientSession>(nsqd_, *this, std::move(in.fd), nsqd_.newClientId(), in.remote);
    } catch (const std::exception& e) {
      logError("IO: client(", in.remote, ") setup failed - ", e.what(), "; closing the connection");
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      client->closed();
      continue;
    }
    nsqd_.registerClient(client);
    conns_.emplace(fd, Open{std::move(client), std::move(in.slot)});
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& c : wakesTaken_)
    if (isOpen(c) && !guarded(*c, "pump", [&] { return c->onWake(now); })) close(c);
  wakesTaken_.clear();
  for (auto& [c, task] : tasks) {
    auto& run = task;  // clang 14 cannot capture a structured binding (the fuzz build uses it)
    if (isOpen(c) && !guarded(*c, "task", [&] { return run(now); })) close(c);
  }
  for (auto& c : closes) close(c);
}

void IoLoop::close(const std::shared_ptr<ClientSession>& client) {
  try {
    closeNow(client);
  } catch (const std::exception& e) {
    logError("IO: client(", client->remoteAddress(), ") close failed - ", e.what());
  } catch (...) {
    logError("IO: client(", client->remoteAddress(), ") close failed - unknown exception");
  }
}

void IoLoop::run() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    try {
      runLoop();
    } catch (const std::exception& e) {
      logError("IO: loop ", std::to_string(index_), " - ", e.what(), "; carrying on");
    } catch (...) {
      logError("IO: loop ", std::to_string(index_), " - unknown exception; carrying on");
    }
  }
  std::vector<std::shared_ptr<ClientSession>> all;
  for (auto& [fd, open] : conns_) all.push_back(open.session);
  for (auto& c : all) close(c);
  std::lock_guard lock(mailboxMutex_);
  newConns_.clear();  // closes the sockets never taken up and gives back their slots
  wakes_.clear();
  closes_.clear();
  tasks_.clear();
}

void IoLoop::runLoop() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  int64_t nextTick = monoNanos() + 100'000'000;
  while (!stopping_.load(std::memory_order_relaxed)) {
    int64_t now = monoNanos();
    int timeoutMs = static_cast<int>(std::max<int64_t>(0, (nextTick - now) / 1'000'000)) + 1;
    int n = ::epoll_wait(epfd_, events, kMaxEvents, timeoutMs);
    now = monoNanos();
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == eventFd_) {
        drainMailbox(now);
        continue;
      }
      auto it = conns_.find(fd);
      if (it == conns_.end()) continue;
      std::shared_ptr<ClientSession> c = it->second.session;
      uint32_t ready = events[i].events;
      bool ok = guarded(*c, "IO", [&] {
        if (ready & (EPOLLERR | EPOLLHUP)) return c->onReadable(now) && false;
        if ((ready & EPOLLOUT) && !c->onWritable(now)) return false;
        if ((ready & EPOLLIN) && !c->onReadable(now)) return false;
        return true;
      });
      if (!ok) close(c);
    }
    if (now >= nextTick) {
      nextTick = now + 100'000'000;
      std::vector<std::shared_ptr<ClientSession>> dead;
      for (auto& entry : conns_) {
        auto& c = entry.second.session;
        if (!guarded(*c, "tick", [&] { return c->onTick(now); })) dead.push_back(c);
      }
      for (auto& c : dead) close(c);
    }
  }
}

}  // namespace nsq::nsqd

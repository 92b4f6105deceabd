// IoLoop: epoll readiness loop for client sessions. Level-triggered; each readable event reads
// what is there (bounded per pass for fairness), runs the complete commands, pumps messages and
// flushes. A 100 ms tick drives heartbeats and read/write deadlines for every connection.
#include "io_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

#include "client_session.h"
#include "clock.h"
#include "nsq/log.h"
#include "nsqd.h"

namespace nsq::nsqd {

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

void IoLoop::adopt(int fd, std::string remote) {
  std::lock_guard lock(mailboxMutex_);
  newConns_.emplace_back(fd, std::move(remote));
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
  return it != conns_.end() && it->second == client;
}

void IoLoop::close(const std::shared_ptr<ClientSession>& client) {
  auto it = conns_.find(client->fd());
  if (it == conns_.end() || it->second != client) return;  // already closed
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, client->fd(), nullptr);
  conns_.erase(it);
  count_.fetch_sub(1, std::memory_order_relaxed);
  nsqd_.unregisterClient(client->id());
  client->closed();
}

void IoLoop::drainMailbox(int64_t now) {
  std::vector<std::pair<int, std::string>> newConns;
  std::vector<std::shared_ptr<ClientSession>> wakes, closes;
  std::vector<std::pair<std::shared_ptr<ClientSession>, Task>> tasks;
  {
    std::lock_guard lock(mailboxMutex_);
    newConns.swap(newConns_);
    wakes.swap(wakes_);
    closes.swap(closes_);
    tasks.swap(tasks_);
    notified_ = false;
    uint64_t v;
    ssize_t n = ::read(eventFd_, &v, sizeof v);
    (void)n;
  }
  for (auto& [fd, remote] : newConns) {
    auto client = std::make_shared<ClientSession>(nsqd_, *this, fd, nsqd_.newClientId(), remote);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      client->closed();
      continue;
    }
    nsqd_.registerClient(client);
    conns_.emplace(fd, std::move(client));
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& c : wakes) {
    c->wakePending.store(false, std::memory_order_release);
    if (isOpen(c) && !c->pump(now)) close(c);
  }
  for (auto& [c, task] : tasks)
    if (isOpen(c) && !task(now)) close(c);
  for (auto& c : closes) close(c);
}

void IoLoop::run() {
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
      std::shared_ptr<ClientSession> c = it->second;
      bool ok = true;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) ok = c->onReadable(now) && false;
      if (ok && (events[i].events & EPOLLOUT)) ok = c->onWritable(now);
      if (ok && (events[i].events & EPOLLIN)) ok = c->onReadable(now);
      if (!ok) close(c);
    }
    if (now >= nextTick) {
      nextTick = now + 100'000'000;
      std::vector<std::shared_ptr<ClientSession>> dead;
      for (auto& [fd, c] : conns_)
        if (!c->onTick(now)) dead.push_back(c);
      for (auto& c : dead) close(c);
    }
  }
  std::vector<std::shared_ptr<ClientSession>> all;
  for (auto& [fd, c] : conns_) all.push_back(c);
  for (auto& c : all) close(c);
  std::lock_guard lock(mailboxMutex_);
  for (auto& [fd, remote] : newConns_) ::close(fd);
  newConns_.clear();
  wakes_.clear();
  closes_.clear();
  tasks_.clear();
}

}  // namespace nsq::nsqd

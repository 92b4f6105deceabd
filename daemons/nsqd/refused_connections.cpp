// RefusedConnections: the answer to a TCP client past --tcp-max-connections. Closing a socket
// whose peer has unread bytes for us (its magic, its IDENTIFY) makes the kernel send a reset,
// and a reset can discard the error frame before the client reads it; so the write side is
// shut after the frame (the client sees the frame, then EOF) and the read side is drained for
// a bounded time. The bounds (1 s, 256 sockets, 64 KiB each) keep a flood of refused clients
// from costing more than a few hundred descriptors.
#include "nsqd/refused_connections.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace nsq::nsqd {

void RefusedConnections::refuse(int fd, int64_t nowMono) {
  ssize_t n = ::send(fd, frame_.data(), frame_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)n;  // a fresh socket's send buffer takes a few dozen bytes; if not, the client gets EOF
  ::shutdown(fd, SHUT_WR);
  if (lingering_.size() >= kMaxLingering) {
    ::close(fd);
    return;
  }
  lingering_.push_back({fd, nowMono + kLingerNs});
}

void RefusedConnections::addPollFds(std::vector<pollfd>& fds) const {
  for (const auto& l : lingering_) fds.push_back({l.fd, POLLIN, 0});
}

void RefusedConnections::onPoll(const std::vector<pollfd>& fds, std::size_t first, int64_t nowMono) {
  // fds[first + i] belongs to lingering_[i]: nothing was added or removed since addPollFds.
  char scratch[4096];
  for (std::size_t i = 0; i < lingering_.size() && first + i < fds.size(); ++i) {
    auto& l = lingering_[i];
    if (fds[first + i].revents == 0) continue;
    for (;;) {
      ssize_t n = ::recv(l.fd, scratch, sizeof scratch, MSG_DONTWAIT);
      if (n > 0) {
        l.drained += static_cast<std::size_t>(n);
        if (l.drained > kMaxDrain) {
          l.deadline = 0;
          break;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      l.deadline = 0;  // EOF or error: done
      break;
    }
  }
  auto done = std::remove_if(lingering_.begin(), lingering_.end(), [&](const Lingering& l) {
    if (l.deadline > nowMono) return false;
    ::close(l.fd);
    return true;
  });
  lingering_.erase(done, lingering_.end());
}

int RefusedConnections::pollTimeoutMs(int64_t nowMono) const {
  if (lingering_.empty()) return -1;
  int64_t next = lingering_.front().deadline;
  for (const auto& l : lingering_) next = std::min(next, l.deadline);
  return static_cast<int>(std::clamp<int64_t>((next - nowMono) / 1'000'000 + 1, 0, 1000));
}

void RefusedConnections::closeAll() {
  for (const auto& l : lingering_) ::close(l.fd);
  lingering_.clear();
}

}  // namespace nsq::nsqd

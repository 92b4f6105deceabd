#pragma once
// RefusedConnections: TCP clients turned away at --tcp-max-connections. Each gets one error
// frame, E_TOO_MANY_CONNECTIONS, as soon as it is accepted (a client reads it as the answer to
// its magic or IDENTIFY); then nsqd shuts its write side and reads and drops what the client
// sends until the client closes, kLinger passes or kMaxDrain bytes came, so the frame reaches
// the client rather than being lost to a reset. At most kMaxLingering sockets linger; past that
// a socket is closed right after its frame. Owned and driven by nsqd's accept thread only.
#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nsq::nsqd {

class RefusedConnections {
 public:
  static constexpr int64_t kLingerNs = 1'000'000'000;
  static constexpr std::size_t kMaxLingering = 256;
  static constexpr std::size_t kMaxDrain = 64 * 1024;

  explicit RefusedConnections(std::string frame) : frame_(std::move(frame)) {}
  ~RefusedConnections() { closeAll(); }
  RefusedConnections(const RefusedConnections&) = delete;
  RefusedConnections& operator=(const RefusedConnections&) = delete;

  // Takes fd (non-blocking): sends the frame and starts its linger (or closes it at once).
  void refuse(int fd, int64_t nowMono);
  // Appends one pollfd (POLLIN) per lingering socket to fds.
  void addPollFds(std::vector<pollfd>& fds) const;
  // After poll(): reads what the sockets in fds (those addPollFds added, from `first` on) have,
  // closes the finished ones and those past their deadline.
  void onPoll(const std::vector<pollfd>& fds, std::size_t first, int64_t nowMono);
  // Milliseconds until the next deadline (-1: nothing lingers).
  int pollTimeoutMs(int64_t nowMono) const;
  std::size_t lingering() const { return lingering_.size(); }
  void closeAll();

 private:
  struct Lingering {
    int fd;
    int64_t deadline;
    std::size_t drained = 0;
  };
  std::string frame_;
  std::vector<Lingering> lingering_;
};

}  // namespace nsq::nsqd

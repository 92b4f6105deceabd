#pragma once
// IoLoop: one thread running an epoll loop over many client connections (non-blocking sockets).
// nsqd runs a fixed number of them; a new connection is handed to one by round robin and stays
// there. Other threads talk to a loop only through its mailbox (adopt, wake, close, post), which
// is a mutex-guarded vector plus an eventfd to interrupt epoll_wait.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nsqd/connection_slot.h"
#include "nsq/base/posix_io.h"

namespace nsq::nsqd {

class ClientSession;
class Nsqd;

class IoLoop {
 public:
  IoLoop(Nsqd& nsqd, int index);
  ~IoLoop();
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  void start();
  // Closes every connection and joins the thread.
  void stop();

  // Any thread.
  // Takes the socket and its place under --tcp-max-connections (given back when it closes).
  void adopt(UniqueFd fd, std::string remote, ConnectionSlot slot);
  void wake(std::shared_ptr<ClientSession> client);
  void requestClose(std::shared_ptr<ClientSession> client);
  // Runs task(nowMono) on the IO thread if the client is still open there (otherwise the task
  // is just destroyed); a false return closes the connection, and so does an exception (logged;
  // the loop and its other connections carry on). For work finished elsewhere, such as an auth
  // query.
  using Task = std::function<bool(int64_t)>;
  void post(std::shared_ptr<ClientSession> client, Task task);
  // IO thread: which readiness events a connection wants: readable (false while its input is
  // paused) and writable (while it has unsent output).
  void setInterest(ClientSession& client, bool read, bool write);
  std::size_t connectionCount() const { return count_.load(std::memory_order_relaxed); }

 private:
  void run();      // runLoop() under a last-resort handler, then closes everything
  void runLoop();  // until stopping_
  void drainMailbox(int64_t now);
  void close(const std::shared_ptr<ClientSession>& client);  // never throws
  void closeNow(const std::shared_ptr<ClientSession>& client);
  void notify();
  bool isOpen(const std::shared_ptr<ClientSession>& client) const;

  Nsqd& nsqd_;
  int index_;
  int epfd_ = -1;
  int eventFd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> count_{0};

  std::mutex mailboxMutex_;
  struct Incoming {
    UniqueFd fd;
    std::string remote;
    ConnectionSlot slot;
  };
  std::vector<Incoming> newConns_;
  std::vector<std::shared_ptr<ClientSession>> wakes_;
  // IO thread only: the wakes being run, swapped with wakes_ on each drain so that both keep
  // their capacity (a wake per publish to a consumer on this loop allocates nothing).
  std::vector<std::shared_ptr<ClientSession>> wakesTaken_;
  std::vector<std::shared_ptr<ClientSession>> closes_;
  std::vector<std::pair<std::shared_ptr<ClientSession>, Task>> tasks_;
  bool notified_ = false;

  struct Open {
    std::shared_ptr<ClientSession> session;
    ConnectionSlot slot;  // released with the entry
  };
  std::unordered_map<int, Open> conns_;  // IO thread only
};

}  // namespace nsq::nsqd

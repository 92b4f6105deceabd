#pragma once
// Test helpers shared by every test binary: temp dirs, free loopback ports, child processes of
// the built binaries, and a tiny blocking TCP/HTTP client for end-to-end tests.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nsq::test {

// Opens connections with open() until n of them are served(*c), replacing any that is refused
// (a short-lived connection such as a daemon's start-up port probe may hold a slot for a
// moment); gives up after maxRefused refusals. Returns the served ones, to be held open.
template <class Open, class Served>
auto holdServed(std::size_t n, Open open, Served served, int maxRefused) {
  std::vector<decltype(open())> held;
  for (int refused = 0; held.size() < n && refused < maxRefused;) {
    auto c = open();
    if (served(*c))
      held.push_back(std::move(c));
    else
      ++refused;
  }
  return held;
}

// A fresh directory under $TMPDIR, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A loopback TCP port that was free a moment ago, from freePortRange() (so no connect() or
// bind(0) takes it meanwhile), and that this process has not been given before.
int freePort();
// The kernel's ephemeral range (the ports it picks for connect() and bind(0)), inclusive.
std::pair<int, int> ephemeralPortRange();
// The ports freePort() draws from, inclusive: below the ephemeral range, or above it where it
// starts too low to leave room below; nullopt where it leaves no room either way (bind(0) picks).
std::optional<std::pair<int, int>> freePortRange();

// Path of a built binary, e.g. binaryPath("nsqd") -> <build>/daemons/nsqd/nsqd.
std::string binaryPath(const std::string& name);

// A child process; killed (SIGKILL) and reaped by the destructor if still running.
// stdout/stderr go to files in logDir (or /dev/null if empty) so failures can be shown.
class Process {
 public:
  Process(const std::string& path, const std::vector<std::string>& args,
          const std::string& logDir = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const { return pid_; }
  // Sends sig and waits up to `timeout` for exit; returns the exit status (as from waitpid) or -1.
  int stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running();
  std::string stderrText() const;  // the child's stderr so far ("" without logDir)
  std::string stdoutText() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string logDir_;
};

// Polls cond every 20 ms until it holds or timeout passes; returns its last value.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Waits until something accepts TCP connections on 127.0.0.1:port.
bool waitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A blocking loopback TCP client with a receive timeout on every read.
class TcpClient {
 public:
  explicit TcpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  void send(const std::string& bytes);
  // Reads exactly n bytes; throws std::runtime_error on timeout or EOF.
  std::string readExact(std::size_t n);
  // True when the peer closed the connection (EOF) within `timeout`.
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void setTimeout(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const;  // case-insensitive, "" if absent
};

// One HTTP/1.0 request to 127.0.0.1:port, with extra headers; throws on connection failure.
HttpResponse httpRequest(int port, const std::string& method, const std::string& target,
                         const std::string& body = "",
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace nsq::test

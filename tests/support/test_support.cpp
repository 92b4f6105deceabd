// Shared test helpers: temp dirs, ports, child processes, blocking TCP and HTTP clients.
#include "support/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace nsq::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/nsqtest.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::pair<int, int> ephemeralPortRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (in >> low >> high && low > 0 && low <= high && high <= 65535) return {low, high};
  return {32768, 60999};
}

std::optional<std::pair<int, int>> freePortRange() {
  static const auto [low, high] = ephemeralPortRange();  // read once per process
  if (low - 10000 >= 1000) return std::pair{10000, low - 1};
  if (65535 - high >= 1000) return std::pair{high + 1, 65535};
  return std::nullopt;
}

namespace {

// Binds a loopback TCP socket to port (0: the kernel picks) and closes it; the port, or -1.
int bindAndClose(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  int got = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    got = ntohs(addr.sin_port);
  ::close(fd);
  return got;
}

}  // namespace

int freePort() {
  // A port is handed out here and bound by a daemon a moment later. Taken from the kernel's
  // ephemeral range (bind(0)), it could go in between to any connect() of this or another test
  // process, and bind(0) may offer the port it just closed again: once nsqd got the same port
  // for TCP and HTTP. So: a random port outside that range (below it, or above it where the
  // range starts low; only other tests' freePort() draws there), free now, and never one this
  // process handed out before. Only where the range leaves no room does bind(0) pick.
  static std::mutex mutex;
  static std::set<int> handedOut;
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  std::lock_guard lock(mutex);
  const auto range = freePortRange();
  std::uniform_int_distribution<int> pick(range ? range->first : 0, range ? range->second : 0);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const int port = bindAndClose(pick(random));
    if (port <= 0 || handedOut.count(port)) continue;
    handedOut.insert(port);
    return port;
  }
  throw std::runtime_error("freePort: no free loopback port found");
}

std::string binaryPath(const std::string& name) {
  std::string bin = NSQ_BIN_DIR;
  for (const char* dir : {"/daemons/", "/tools/", "/bench/"}) {
    std::string p = bin + dir + name + "/" + name;
    if (std::filesystem::exists(p)) return p;
  }
  if (std::filesystem::exists(bin + "/bench/" + name)) return bin + "/bench/" + name;
  throw std::runtime_error("binary not built: " + name);
}

Process::Process(const std::string& path, const std::vector<std::string>& args,
                 const std::string& logDir)
    : logDir_(logDir) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    std::string out = logDir.empty() ? "/dev/null" : logDir + "/stdout.log";
    std::string err = logDir.empty() ? "/dev/null" : logDir + "/stderr.log";
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
}

bool Process::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

int Process::stop(int sig, std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string Process::stderrText() const { return logDir_.empty() ? "" : slurp(logDir_ + "/stderr.log"); }
std::string Process::stdoutText() const { return logDir_.empty() ? "" : slurp(logDir_ + "/stdout.log"); }

namespace {
int connectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}
}  // namespace

bool waitForPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = connectLoopback(port);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TcpClient::TcpClient(int port, std::chrono::milliseconds timeout) {
  fd_ = connectLoopback(port);
  if (fd_ < 0) throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
  setTimeout(timeout);
}

TcpClient::~TcpClient() {
  if (fd_ >= 0) ::close(fd_);
}

void TcpClient::setTimeout(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void TcpClient::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

std::string TcpClient::readExact(std::size_t n) {
  std::string out(n, '\0');
  std::size_t off = 0;
  while (off < n) {
    ssize_t r = ::recv(fd_, out.data() + off, n - off, 0);
    if (r == 0) throw std::runtime_error("connection closed by peer");
    if (r < 0) throw std::runtime_error("read timed out or failed");
    off += static_cast<std::size_t>(r);
  }
  return out;
}

bool TcpClient::waitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (::poll(&p, 1, std::max(left, 1)) <= 0) continue;
    ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return true;  // reset counts as closed
  }
  return false;
}

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

HttpResponse httpRequest(int port, const std::string& method, const std::string& target,
                         const std::string& body, const std::vector<std::pair<std::string, std::string>>& headers) {
  TcpClient c(port, std::chrono::seconds(10));
  std::string req = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "\r\n" + body;
  c.send(req);
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t r = ::recv(c.fd(), buf, sizeof buf, 0);
    if (r <= 0) break;
    raw.append(buf, static_cast<std::size_t>(r));
  }
  HttpResponse resp;
  auto headerEnd = raw.find("\r\n\r\n");
  if (headerEnd == std::string::npos) throw std::runtime_error("bad HTTP response: " + raw);
  std::istringstream head(raw.substr(0, headerEnd));
  std::string line;
  std::getline(head, line);
  resp.status = std::atoi(line.substr(line.find(' ') + 1).c_str());
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    resp.headers.emplace_back(line.substr(0, colon), v);
  }
  resp.body = raw.substr(headerEnd + 4);
  return resp;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

}  // namespace nsq::test

// nsq_bench: load generator for nsqd, with the original bench_writer/bench_reader flags.
//
//   nsq_bench writer  --nsqd-tcp-address=H:P --topic=T --size=200 --batch-size=200 --runfor=10s
//   nsq_bench reader  --nsqd-tcp-address=H:P --topic=T --channel=C --rdy=2500 --runfor=10s
//   (writer/reader --count=N: stop after N messages, or at --runfor, whichever comes first)
//   nsq_bench latency --nsqd-tcp-address=H:P --topic=T --rate=100000 --runfor=10s
//   nsq_bench relay   --tcp-address=H:P         (the raw baseline: a loopback relay, no broker)
//   nsq_bench idle    --nsqd-tcp-address=H:P --connections=10000 --runfor=10s
//
// writer/reader use --connections sockets (default: one per core, like the originals' GOMAXPROCS
// workers); the writer sends MPUB batches and waits for each OK, the reader FINs every message
// and flushes its FINs in batches. The relay speaks just enough of protocol V2 for these two:
// MPUB/PUB bodies become message frames in one shared FIFO, SUB+RDY readers drain it within
// their window. Results print like the originals ("duration: ... - X mb/s - Y ops/s - Z us/op")
// or as one JSON object with --json.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/host_port.h"
#include "nsq/base/options.h"
#include "nsq/protocol/message.h"
#include "nsq/protocol/wire.h"
#include "nsq/base/main.h"

using namespace nsq;
using Clock = std::chrono::steady_clock;

namespace {

struct Flags {
  std::string address = "127.0.0.1:4150";
  std::string listen = "127.0.0.1:4170";
  std::string topic = "sub_bench";
  std::string channel = "ch";
  int64_t size = 200;
  int64_t batchSize = 200;
  int64_t rdy = 2500;
  int64_t connections = 0;
  int64_t rate = 100000;
  int64_t count = 0;  // writer/reader: stop after this many messages (0: run for --runfor)
  Duration runfor = std::chrono::seconds(10);
  bool json = false;
};

int dial(const std::string& address) {
  auto colon = address.rfind(':');
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints, &res) != 0)
    throw std::runtime_error("cannot resolve " + address);
  int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::freeaddrinfo(res);
    throw std::runtime_error("cannot connect to " + address + ": " + std::strerror(errno));
  }
  ::freeaddrinfo(res);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Buffered frame reader over a blocking socket.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  // Returns false on EOF/error.
  bool next(Frame& f) {
    for (;;) {
      long used = decodeFrame(std::string_view(buf_).substr(pos_), f);
      if (used > 0) {
        pos_ += static_cast<std::size_t>(used);
        return true;
      }
      if (used < 0) return false;
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      std::size_t old = buf_.size();
      buf_.resize(old + 256 * 1024);
      ssize_t n = ::recv(fd_, buf_.data() + old, 256 * 1024, 0);
      buf_.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
      if (n <= 0) return false;
    }
  }
  bool buffered() const { return pos_ < buf_.size(); }

 private:
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
};

std::string withBody(const std::string& line, std::string_view body) {
  std::string out = line + "\n";
  char size[4];
  putUint32(size, static_cast<uint32_t>(body.size()));
  out.append(size, 4);
  out.append(body);
  return out;
}

void report(const Flags& f, const char* mode, double seconds, int64_t messages) {
  double mbps = static_cast<double>(messages) * static_cast<double>(f.size) / seconds / 1024 / 1024;
  double ops = static_cast<double>(messages) / seconds;
  if (f.json) {
    std::printf("{\"mode\":\"%s\",\"seconds\":%.3f,\"messages\":%lld,\"msgs_per_sec\":%.1f,\"mb_per_sec\":%.3f}\n",
                mode, seconds, static_cast<long long>(messages), ops, mbps);
  } else {
    std::printf("%s: duration: %.3fs - %.3fmb/s - %.3fops/s - %.3fus/op\n", mode, seconds, mbps, ops,
                messages ? seconds * 1e6 / static_cast<double>(messages) : 0.0);
  }
  std::fflush(stdout);
}

int runWriter(const Flags& f) {
  std::string body(static_cast<std::size_t>(f.size), 'a');
  std::vector<std::string> bodies(static_cast<std::size_t>(f.batchSize), body);
  std::string mpub;
  {
    std::string b;
    char n[4];
    putUint32(n, static_cast<uint32_t>(bodies.size()));
    b.append(n, 4);
    for (const auto& m : bodies) {
      putUint32(n, static_cast<uint32_t>(m.size()));
      b.append(n, 4);
      b += m;
    }
    mpub = withBody("MPUB " + f.topic, b);
  }
  std::atomic<int64_t> total{0};
  std::atomic<int64_t> claimed{0};  // batches handed out under --count
  auto start = Clock::now();
  auto end = start + f.runfor;
  std::vector<std::thread> workers;
  for (int64_t i = 0; i < f.connections; ++i) {
    workers.emplace_back([&] {
      int fd = dial(f.address);
      sendAll(fd, kMagicV2);
      FrameReader reader(fd);
      Frame fr{};
      int64_t count = 0;
      while (Clock::now() < end) {
        if (f.count > 0 && claimed.fetch_add(f.batchSize) >= f.count) break;
        sendAll(fd, mpub);
        if (!reader.next(fr) || fr.type != FrameType::Response || fr.data != kOk) {
          std::cerr << "writer: unexpected reply: " << std::string(fr.data) << "\n";
          break;
        }
        count += f.batchSize;
      }
      total += count;
      ::close(fd);
    });
  }
  for (auto& w : workers) w.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  report(f, "writer", secs, total.load());
  return 0;
}

int runReader(const Flags& f) {
  std::atomic<int64_t> total{0};
  std::atomic<int64_t> received{0};  // across connections, for --count
  Clock::time_point reachedAt{};    // written once, by the thread that receives message --count
  auto start = Clock::now();
  auto end = start + f.runfor;
  std::vector<std::thread> workers;
  for (int64_t i = 0; i < f.connections; ++i) {
    workers.emplace_back([&] {
      int fd = dial(f.address);
      sendAll(fd, std::string(kMagicV2) + withBody("IDENTIFY", R"({"client_id":"reader","hostname":"reader","user_agent":"nsq_bench"})") +
                      "SUB " + f.topic + " " + f.channel + "\nRDY " + std::to_string(f.rdy) + "\n");
      timeval tv{0, 200000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      FrameReader reader(fd);
      Frame fr{};
      int64_t count = 0;
      std::string fins;
      while (Clock::now() < end && (f.count <= 0 || received.load(std::memory_order_relaxed) < f.count)) {
        if (!reader.next(fr)) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
          break;
        }
        if (fr.type == FrameType::Error) {
          std::cerr << "reader: " << std::string(fr.data) << "\n";
          break;
        }
        if (fr.type != FrameType::Message) continue;
        fins.append("FIN ");
        fins.append(fr.data.substr(10, kMessageIdLength));
        fins.push_back('\n');
        ++count;
        if (f.count > 0 && received.fetch_add(1, std::memory_order_relaxed) + 1 == f.count) reachedAt = Clock::now();
        if (!reader.buffered() || (f.count > 0 && received.load(std::memory_order_relaxed) >= f.count)) {
          sendAll(fd, fins);
          fins.clear();
        }
      }
      total += count;
      ::close(fd);
    });
  }
  for (auto& w : workers) w.join();
  auto stop = reachedAt == Clock::time_point{} ? Clock::now() : reachedAt;
  double secs = std::chrono::duration<double>(stop - start).count();
  report(f, "reader", secs, std::min(total.load(), f.count > 0 ? f.count : total.load()));
  return 0;
}

int runLatency(const Flags& f) {
  // One paced publisher (an MPUB of the messages due, as soon as the last one's OK is back; a
  // 200 us sleep when none are due), one consumer measuring publish-to-delivery time from
  // a steady-clock stamp in the first 8 body bytes, and the longest time between two deliveries
  // (a stall shows there as itself, where the percentiles only show how many it delayed).
  int sub = dial(f.address);
  sendAll(sub, std::string(kMagicV2) + "SUB " + f.topic + " " + f.channel + "\nRDY " + std::to_string(f.rdy) + "\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<int64_t> samples;
  samples.reserve(static_cast<std::size_t>(f.rate * (f.runfor.count() / 1'000'000'000 + 1)));
  std::atomic<bool> done{false};
  int64_t lastArrival = 0, maxGap = 0;  // ns; written by the consumer, read after it joins
  std::thread consumer([&] {
    timeval tv{0, 200000};
    ::setsockopt(sub, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    FrameReader reader(sub);
    Frame fr{};
    std::string fins;
    while (!done.load()) {
      if (!reader.next(fr)) continue;
      if (fr.type != FrameType::Message) continue;
      int64_t sent = static_cast<int64_t>(getUint64(fr.data.data() + kMessageHeaderLength));
      const int64_t arrived = Clock::now().time_since_epoch().count();
      if (lastArrival != 0) maxGap = std::max(maxGap, arrived - lastArrival);
      lastArrival = arrived;
      samples.push_back(arrived - sent);
      fins.append("FIN ");
      fins.append(fr.data.substr(10, kMessageIdLength));
      fins.push_back('\n');
      if (!reader.buffered()) {
        sendAll(sub, fins);
        fins.clear();
      }
    }
  });
  int pub = dial(f.address);
  sendAll(pub, kMagicV2);
  FrameReader pubReader(pub);
  std::string body(static_cast<std::size_t>(std::max<int64_t>(f.size, 8)), 'l');
  auto start = Clock::now();
  auto end = start + f.runfor;
  int64_t sent = 0;
  Frame fr{};
  while (Clock::now() < end) {
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    int64_t due = static_cast<int64_t>(elapsed * static_cast<double>(f.rate)) - sent;
    if (due <= 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    due = std::min<int64_t>(due, 1000);
    std::string b;
    char n[4];
    putUint32(n, static_cast<uint32_t>(due));
    b.append(n, 4);
    for (int64_t i = 0; i < due; ++i) {
      putUint64(body.data(), static_cast<uint64_t>(Clock::now().time_since_epoch().count()));
      putUint32(n, static_cast<uint32_t>(body.size()));
      b.append(n, 4);
      b += body;
    }
    sendAll(pub, withBody("MPUB " + f.topic, b));
    if (!pubReader.next(fr)) break;
    sent += due;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  done = true;
  consumer.join();
  ::close(pub);
  ::close(sub);
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) -> double {
    if (samples.empty()) return 0;
    return static_cast<double>(samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * static_cast<double>(samples.size())))]) / 1000.0;
  };
  double secs = std::chrono::duration<double>(f.runfor).count();
  if (f.json) {
    std::printf("{\"mode\":\"latency\",\"rate\":%lld,\"sent\":%lld,\"received\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
                "\"p999_us\":%.1f,\"max_gap_us\":%.1f}\n",
                static_cast<long long>(f.rate), static_cast<long long>(sent), samples.size(), pct(0.5), pct(0.99), pct(0.999),
                static_cast<double>(maxGap) / 1000.0);
  } else {
    std::printf("latency: %.0f msgs/s for %.1fs - sent %lld received %zu - p50 %.1fus p99 %.1fus p99.9 %.1fus - "
                "longest gap between deliveries %.1fus\n",
                static_cast<double>(sent) / secs, secs, static_cast<long long>(sent), samples.size(), pct(0.5), pct(0.99),
                pct(0.999), static_cast<double>(maxGap) / 1000.0);
  }
  return 0;
}

int runIdle(const Flags& f) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  std::vector<int> fds;
  for (int64_t i = 0; i < f.connections; ++i) {
    int fd = dial(f.address);
    sendAll(fd, kMagicV2);
    fds.push_back(fd);
  }
  std::printf("idle: holding %zu connections for %.1fs\n", fds.size(), std::chrono::duration<double>(f.runfor).count());
  std::fflush(stdout);
  auto end = Clock::now() + f.runfor;
  // Answer heartbeats so nothing times out during long holds.
  std::vector<pollfd> pfds;
  for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
  char buf[4096];
  while (Clock::now() < end) {
    if (::poll(pfds.data(), pfds.size(), 200) <= 0) continue;
    for (auto& p : pfds)
      if (p.revents & POLLIN) {
        if (::recv(p.fd, buf, sizeof buf, 0) > 0) sendAll(p.fd, "NOP\n");
      }
  }
  for (int fd : fds) ::close(fd);
  return 0;
}

// ---- relay: the raw baseline ----

struct Relay {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> frames;  // encoded message frames
  std::atomic<uint64_t> seq{0};
};

void relayConnection(Relay& relay, int fd) {
  std::string in;
  std::size_t pos = 0;
  bool magic = false;
  bool reader = false;
  int64_t window = 0;
  char buf[256 * 1024];
  std::string out;
  auto frameOf = [&relay](std::string_view body) {
    Message m;
    m.id = MessageId::fromGuid(relay.seq.fetch_add(1));
    m.timestamp = 0;
    m.attempts = 1;
    m.body = Body(body);
    std::string frame;
    appendMessageFrame(frame, m);
    return frame;
  };
  std::atomic<bool> alive{true};
  std::thread sender;
  std::mutex wmu;
  std::condition_variable wcv;
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
    for (;;) {
      std::string_view v = std::string_view(in).substr(pos);
      if (!magic) {
        if (v.size() < 4) break;
        magic = true;
        pos += 4;
        continue;
      }
      auto nl = v.find('\n');
      if (nl == std::string_view::npos) break;
      CommandLine cmd = parseCommandLine(v.substr(0, nl));
      std::size_t used = nl + 1;
      if (cmd.hasBody()) {
        if (v.size() < used + 4) break;
        uint32_t size = getUint32(v.data() + used);
        if (v.size() < used + 4 + size) break;
        std::string_view body = v.substr(used + 4, size);
        used += 4 + size;
        if (cmd.name == CommandName::Mpub || cmd.name == CommandName::Pub) {
          std::vector<std::string_view> bodies;
          if (cmd.name == CommandName::Pub) bodies.push_back(body);
          else (void)parseMpubBody(body, 1 << 30, 1 << 30, bodies);  // all-or-nothing: a bad body relays none
          {
            std::lock_guard lock(relay.mu);
            for (auto b : bodies) relay.frames.push_back(frameOf(b));
          }
          relay.cv.notify_all();
          appendFrame(out, FrameType::Response, kOk);
        } else {
          appendFrame(out, FrameType::Response, kOk);
        }
      } else if (cmd.name == CommandName::Sub) {
        appendFrame(out, FrameType::Response, kOk);
        if (!reader) {
          reader = true;
          sender = std::thread([&] {
            std::string batch;
            while (alive.load()) {
              {
                std::unique_lock lk(wmu);
                wcv.wait_for(lk, std::chrono::milliseconds(50), [&] { return window > 0 || !alive.load(); });
                if (window <= 0) continue;
              }
              std::unique_lock lock(relay.mu);
              relay.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return !relay.frames.empty(); });
              batch.clear();
              int64_t take;
              {
                std::lock_guard lk(wmu);
                take = window;
              }
              int64_t took = 0;
              while (took < take && !relay.frames.empty()) {
                batch += relay.frames.front();
                relay.frames.pop_front();
                ++took;
              }
              lock.unlock();
              {
                std::lock_guard lk(wmu);
                window -= took;
              }
              if (!batch.empty() && ::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL) <= 0) break;
            }
          });
        }
      } else if (cmd.name == CommandName::Rdy || cmd.name == CommandName::Fin) {
        std::lock_guard lk(wmu);
        if (cmd.name == CommandName::Rdy) window = std::stoll(std::string(cmd.params[0]));
        else ++window;
        wcv.notify_one();
      }
      pos += used;
    }
    if (pos > 0) {
      in.erase(0, pos);
      pos = 0;
    }
    if (!out.empty()) {
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      out.clear();
    }
  }
  alive = false;
  wcv.notify_all();
  if (sender.joinable()) sender.join();
  ::close(fd);
}

int runRelay(const Flags& f) {
  auto colon = f.listen.rfind(':');
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(f.listen.substr(colon + 1))));
  ::inet_pton(AF_INET, f.listen.substr(0, colon).c_str(), &addr.sin_addr);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 128) != 0) {
    std::cerr << "relay: cannot listen on " << f.listen << "\n";
    return 1;
  }
  Relay relay;
  for (;;) {
    int fd = ::accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread([&relay, fd] { relayConnection(relay, fd); }).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* kUsage = "usage: nsq_bench writer|reader|latency|relay|idle [flags]";
  std::string first = argc < 2 ? "" : argv[1];
  if (first == "--version" || first == "-version") {
    std::cout << versionLine("nsq_bench") << "\n";
    return 0;
  }
  bool help = first == "--help" || first == "-help" || first == "-h";
  bool completion = first.starts_with("--completion");  // the shell completion script
  if (argc < 2 || (first[0] == '-' && !help && !completion)) {
    std::cerr << kUsage << " (--help for flags)\n";
    return 2;
  }
  std::string mode = help || completion ? "MODE" : first;
  Flags f;
  OptionSet set("nsq_bench " + mode, std::string(kUsage) + ": NSQ load generator (see nsq_bench(1))");
  set.addString("nsqd-tcp-address", &f.address, "<addr>:<port> to connect to nsqd");
  set.addString("tcp-address", &f.listen, "relay: <addr>:<port> to listen on");
  set.addString("topic", &f.topic, "topic to publish/receive messages on");
  set.addString("channel", &f.channel, "channel to receive messages on");
  set.addInt("size", &f.size, "size of messages");
  set.addInt("batch-size", &f.batchSize, "batch size of messages (writer)");
  set.addInt("rdy", &f.rdy, "RDY count to use (reader, latency)");
  set.addInt("connections", &f.connections, "connections (writer/reader: 0 = one per core; idle: how many)");
  set.addInt("rate", &f.rate, "latency: messages per second to publish");
  set.addInt("count", &f.count, "writer/reader: stop after this many messages (0: run for --runfor)");
  set.addDuration("runfor", &f.runfor, "duration of time to run");
  std::string deadline;
  set.addString("deadline", &deadline, "accepted for compatibility with bench_writer/bench_reader");
  set.addBool("json", &f.json, "print one JSON object instead of text");
  set.setCompletionFirstWords({"writer", "reader", "latency", "relay", "idle"});
  try {
    if (completion) return set.parse(argc, argv, std::cout) == OptionSet::Result::Exit ? 0 : 2;
    if (help) {
      const char* helpArgv[] = {"nsq_bench", "--help"};
      (void)set.parse(2, helpArgv, std::cout);
      return 0;
    }
    if (set.parse(argc - 1, argv + 1, std::cout) == OptionSet::Result::Exit) return 0;
    requireHostPortFlag("nsqd-tcp-address", f.address, 1);
    requireHostPortFlag("tcp-address", f.listen, 0);
    if (f.connections <= 0)
      f.connections = mode == "idle" ? 1000 : std::max<int64_t>(1, std::thread::hardware_concurrency());
    if (mode == "writer") return runWriter(f);
    if (mode == "reader") return runReader(f);
    if (mode == "latency") return runLatency(f);
    if (mode == "relay") return runRelay(f);
    if (mode == "idle") return runIdle(f);
    std::cerr << "nsq_bench: unknown mode " << mode << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nsq_bench: " << e.what() << "\n";
    return 1;
  }
}

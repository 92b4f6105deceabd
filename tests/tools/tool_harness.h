#pragma once
// Helpers for the tools' end-to-end tests: run a shell pipeline of built binaries with a time
// limit and collect its exit status and output; a real nsqlookupd on loopback; the flags a
// --help text names (to hold it against the man page); consuming a topic with a raw V2 client;
// a relay tool in the background and the check that a channel was drained.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "support/nsqd_process.h"
#include "support/test_support.h"
#include "support/v2_client.h"

namespace nsq::test {

struct ShellResult {
  int exitCode = -1;  // -1: killed after the time limit
  std::string out;
  std::string err;
};

inline std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `sh -c script` (in its own process group) with TO_NSQ, NSQ_TAIL, NSQ_TO_FILE, NSQ_STAT
// NSQ_TO_NSQ and NSQ_TO_HTTP set to the built binaries. Kills the group after `limit`.
inline ShellResult runShell(const std::string& script,
                            std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  TempDir dir;
  std::string outPath = dir.file("out"), errPath = dir.file("err");
  auto bin = [](const char* n) {
    try {
      return binaryPath(n);
    } catch (...) {
      return std::string("/nonexistent/") + n;
    }
  };
  std::string env = "TO_NSQ='" + bin("to_nsq") + "' NSQ_TAIL='" + bin("nsq_tail") + "' NSQ_TO_FILE='" +
                    bin("nsq_to_file") + "' NSQ_STAT='" + bin("nsq_stat") + "' NSQ_TO_NSQ='" + bin("nsq_to_nsq") +
                    "' NSQ_TO_HTTP='" + bin("nsq_to_http") + "'; export TO_NSQ NSQ_TAIL NSQ_TO_FILE NSQ_STAT NSQ_TO_NSQ NSQ_TO_HTTP; ";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    std::string full = env + script;
    std::freopen(outPath.c_str(), "w", stdout);
    std::freopen(errPath.c_str(), "w", stderr);
    std::freopen("/dev/null", "r", stdin);
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ShellResult r;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);  // stragglers of the pipeline
  r.out = readWhole(outPath);
  r.err = readWhole(errPath);
  return r;
}

class LookupdProcess {
 public:
  LookupdProcess() : tcp_(freePort()), http_(freePort()) {
    proc_ = std::make_unique<Process>(
        binaryPath("nsqlookupd"),
        std::vector<std::string>{"--tcp-address=127.0.0.1:" + std::to_string(tcp_),
                                 "--http-address=127.0.0.1:" + std::to_string(http_),
                                 "--broadcast-address=127.0.0.1"},
        logs_.path());
    if (!waitForPort(tcp_) || !waitForPort(http_)) throw std::runtime_error("nsqlookupd did not start");
  }
  int http() const { return http_; }
  std::string tcpAddress() const { return "127.0.0.1:" + std::to_string(tcp_); }
  std::string httpAddress() const { return "127.0.0.1:" + std::to_string(http_); }

 private:
  TempDir logs_;
  int tcp_, http_;
  std::unique_ptr<Process> proc_;
};

// A tool (nsq_to_nsq, nsq_to_http) running in the background, its stderr kept in a temp dir;
// stop() sends SIGTERM and returns the wait status (once; later calls repeat it).
class BackgroundTool {
 public:
  BackgroundTool(const std::string& name, const std::vector<std::string>& args)
      : proc_(binaryPath(name), args, logs_.path()) {}
  ~BackgroundTool() { stop(); }
  int stop() {
    if (stopped_) return status_;
    stopped_ = true;
    status_ = proc_.stop(SIGTERM, std::chrono::seconds(40));
    return status_;
  }
  std::string logs() const { return proc_.stderrText(); }

 private:
  TempDir logs_;
  Process proc_;
  bool stopped_ = false;
  int status_ = -1;
};

inline std::string tcpAddr(NsqdProcess& n) { return "127.0.0.1:" + std::to_string(n.tcpPort()); }
inline std::string httpAddr(NsqdProcess& n) { return "127.0.0.1:" + std::to_string(n.httpPort()); }

// The flags a --help text lists ("  --name ..." and "  -h, --help").
inline std::set<std::string> helpFlags(const std::string& help) {
  std::set<std::string> flags;
  std::istringstream in(help);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  -", 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w && w[0] == '-') {
      if (w.back() == ',') w.pop_back();
      flags.insert(w.substr(w.rfind('-', 1) == 1 ? 2 : 1));
    }
  }
  return flags;
}

// Subscribes with a raw client and reads n message bodies (FINning each).
inline std::vector<std::string> consume(int tcpPort, const std::string& topic, std::size_t n,
                                        const std::string& channel = "check") {
  V2Client c(tcpPort);
  c.sub(topic, channel);
  c.rdy(static_cast<int>(std::min<std::size_t>(n, 2500)));
  std::vector<std::string> bodies;
  while (bodies.size() < n) {
    Message m = c.readMessage();
    bodies.emplace_back(m.body.view());
    c.fin(m.id);
  }
  return bodies;
}

// One /stats reading of a topic (channel empty) or of one of its channels; null if absent.
inline Poco::JSON::Object::Ptr statObject(int httpPort, const std::string& topic, const std::string& channel) {
  HttpResponse r = httpRequest(httpPort, "GET", "/stats?format=json&topic=" + topic);
  auto root = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  auto topics = root->getArray("topics");
  for (std::size_t i = 0; topics && i < topics->size(); ++i) {
    auto t = topics->getObject(static_cast<unsigned>(i));
    if (t->getValue<std::string>("topic_name") != topic) continue;
    if (channel.empty()) return t;
    auto chans = t->getArray("channels");
    for (std::size_t j = 0; chans && j < chans->size(); ++j) {
      auto c = chans->getObject(static_cast<unsigned>(j));
      if (c->getValue<std::string>("channel_name") == channel) return c;
    }
  }
  return nullptr;
}

// A value from nsqd's /stats JSON for topic (and channel when given), e.g. "message_count".
inline int64_t statValue(int httpPort, const std::string& topic, const std::string& channel,
                         const std::string& key) {
  auto o = statObject(httpPort, topic, channel);
  return o ? o->getValue<int64_t>(key) : -1;
}

// True once the channel has seen `published` messages and holds none: every one was FINished.
// All four figures come from one /stats reading: read one by one, a batch of messages moving
// together (in flight -> requeued -> in flight) could be missed by each read in turn.
inline bool channelDrained(NsqdProcess& n, const std::string& topic, const std::string& channel, int64_t published) {
  auto c = statObject(n.httpPort(), topic, channel);
  return c && c->getValue<int64_t>("message_count") >= published && c->getValue<int64_t>("depth") == 0 &&
         c->getValue<int64_t>("in_flight_count") == 0 && c->getValue<int64_t>("deferred_count") == 0;
}

}  // namespace nsq::test

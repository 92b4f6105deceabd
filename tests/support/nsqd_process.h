#pragma once
// NsqdProcess: the built nsqd binary running on free loopback ports with its own data dir.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.h"

namespace nsq::test {

// Runs nsqd with args alone (no ports or data dir added) and waits up to 5 s for it to exit by
// itself, killing it otherwise. Returns {exit code, or -1 when it had to be killed, stderr}.
std::pair<int, std::string> runNsqdToExit(const std::vector<std::string>& args);

class NsqdProcess {
 public:
  // Starts nsqd with --tcp-address/--http-address on free 127.0.0.1 ports, --data-path=dataDir
  // (a fresh temp dir when empty) plus extraArgs, and waits until both ports accept.
  explicit NsqdProcess(std::vector<std::string> extraArgs = {}, std::string dataDir = "");
  ~NsqdProcess();
  int tcpPort() const { return tcpPort_; }
  int httpPort() const { return httpPort_; }
  const std::string& dataPath() const { return dataPath_; }
  Process& process() { return *process_; }
  // SIGTERM and wait; returns the exit status.
  int stop();
  // Starts again on the same ports and data dir (after stop() or a kill).
  void restart();
  std::string logs() const { return process_ ? process_->stderrText() : ""; }

 private:
  void launch();
  std::unique_ptr<TempDir> ownDir_;
  std::unique_ptr<TempDir> logDir_;
  std::string dataPath_;
  std::vector<std::string> extraArgs_;
  int tcpPort_ = 0;
  int httpPort_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace nsq::test

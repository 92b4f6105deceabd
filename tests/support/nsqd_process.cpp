// NsqdProcess: start/stop/restart the real nsqd for end-to-end tests.
#include "support/nsqd_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <stdexcept>
#include <thread>

namespace nsq::test {

std::pair<int, std::string> runNsqdToExit(const std::vector<std::string>& args) {
  TempDir logs;
  Process p(binaryPath("nsqd"), args, logs.path());
  for (int i = 0; i < 100 && p.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int status = p.stop(9, std::chrono::seconds(1));
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, p.stderrText()};
}

NsqdProcess::NsqdProcess(std::vector<std::string> extraArgs, std::string dataDir)
    : logDir_(std::make_unique<TempDir>()), extraArgs_(std::move(extraArgs)) {
  if (dataDir.empty()) {
    ownDir_ = std::make_unique<TempDir>();
    dataPath_ = ownDir_->path();
  } else {
    dataPath_ = std::move(dataDir);
  }
  tcpPort_ = freePort();
  httpPort_ = freePort();
  launch();
}

NsqdProcess::~NsqdProcess() {
  // Stop gracefully, so a sanitizer build also runs its exit-time leak check, and fail the test
  // if the daemon reported a sanitizer error at any point (its log dies with this object).
  if (process_ && process_->running()) process_->stop(15);
  std::string log = logs();
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                             "ThreadSanitizer"}) {
    if (log.find(marker) != std::string::npos) {
      ADD_FAILURE() << "nsqd reported a sanitizer error:\n" << log;
      break;
    }
  }
}

void NsqdProcess::launch() {
  std::vector<std::string> args = {"--tcp-address=127.0.0.1:" + std::to_string(tcpPort_),
                                   "--http-address=127.0.0.1:" + std::to_string(httpPort_),
                                   "--data-path=" + dataPath_, "--broadcast-address=127.0.0.1"};
  args.insert(args.end(), extraArgs_.begin(), extraArgs_.end());
  process_ = std::make_unique<Process>(binaryPath("nsqd"), args, logDir_->path());
  if (!waitForPort(tcpPort_) || !waitForPort(httpPort_))
    throw std::runtime_error("nsqd did not start: " + process_->stderrText());
}

int NsqdProcess::stop() { return process_->stop(15); }

void NsqdProcess::restart() {
  if (process_->running()) process_->stop(15);
  launch();
}

}  // namespace nsq::test

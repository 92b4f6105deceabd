// nsqd: the NSQ broker daemon.
//
// Threading model: see the top of nsqd.cpp.
#include <signal.h>

#include <iostream>

#include "nsq/base/log.h"
#include "nsq/version.h"
#include "nsqd/nsqd.h"
#include "nsqd/options.h"

int main(int argc, char** argv) {
  using namespace nsq;
  nsqd::NsqdOptions opts;
  OptionSet set("nsqd", "nsqd is the daemon that receives, queues, and delivers messages to clients");
  nsqd::addNsqdOptions(set, opts);
  std::vector<std::string> warnings;
  set.addStandard("nsqd v" NSQ_VERSION " (C++)");
  try {
    if (set.parse(argc, argv, std::cout) == OptionSet::Result::Exit) return 0;
    nsqd::finalizeOptions(opts);
    warnings = nsqd::checkUnsupported(opts);
  } catch (const std::exception& e) {
    std::cerr << "nsqd: " << e.what() << "\n";
    return 1;
  }
  LogLevel level = LogLevel::Info;
  parseLogLevel(opts.logLevel, level);
  Logger::configure(opts.logPrefix, level);
  for (const auto& w : warnings) logWarn(w);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread inherits the mask
  signal(SIGPIPE, SIG_IGN);

  nsqd::Nsqd daemon(opts);
  try {
    logInfo("nsqd v" NSQ_VERSION " (C++) starting");
    daemon.start();
  } catch (const std::exception& e) {
    std::cerr << "nsqd: " << e.what() << "\n";
    return 1;
  }
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  daemon.stop();
  return 0;
}

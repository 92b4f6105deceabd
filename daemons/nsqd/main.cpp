// nsqd: the NSQ broker daemon.
//
// Threading model: see the top of nsqd.cpp.
#include <signal.h>

#include "nsq/base/log.h"
#include "nsq/base/main.h"
#include "nsq/base/service_notify.h"
#include "nsqd/nsqd.h"
#include "nsqd/options.h"

int main(int argc, char** argv) {
  using namespace nsq;
  nsqd::NsqdOptions opts;
  OptionSet set("nsqd", "nsqd is the daemon that receives, queues, and delivers messages to clients");
  nsqd::addNsqdOptions(set, opts);
  std::vector<std::string> warnings;
  set.addStandard(versionLine("nsqd"));
  if (auto code = parseCommandLine("nsqd", set, argc, argv, [&] {
        nsqd::finalizeOptions(opts);
        warnings = nsqd::checkUnsupported(opts);
      }))
    return *code;
  LogLevel level = LogLevel::Info;
  parseLogLevel(opts.logLevel, level);
  Logger::configure(opts.logPrefix, level);
  for (const auto& w : warnings) logWarn(w);

  blockSignals({SIGINT, SIGTERM, SIGHUP});

  nsqd::Nsqd daemon(opts);
  if (int code = runOrReport("nsqd", [&] {
        logInfo(versionLine("nsqd"), " starting");
        daemon.start();
        return 0;
      }))
    return code;
  notifyReady();  // listeners are up: a Type=notify unit counts as started from here
  while (waitForSignal({SIGINT, SIGTERM, SIGHUP}) == SIGHUP) {
  }
  notifyStopping();
  daemon.stop();
  return 0;
}

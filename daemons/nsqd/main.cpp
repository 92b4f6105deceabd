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
  set.addSection("topics");  // the per-topic message policies, read by PolicySet
  std::vector<std::string> warnings;
  std::shared_ptr<const nsqd::PolicySet> policies;
  set.addStandard(versionLine("nsqd"));
  if (auto code = parseCommandLine("nsqd", set, argc, argv, [&] {
        nsqd::finalizeOptions(opts);
        warnings = nsqd::checkUnsupported(opts);
        policies = nsqd::PolicySet::load(set.configPath(), opts);
      }))
    return *code;
  LogLevel level = LogLevel::Info;
  parseLogLevel(opts.logLevel, level);
  Logger::configure(opts.logPrefix, level);
  for (const auto& w : warnings) logWarn(w);

  blockSignals({SIGINT, SIGTERM, SIGHUP});

  nsqd::Nsqd daemon(opts);
  daemon.setPolicies(policies, set.configPath());
  if (int code = runOrReport("nsqd", [&] {
        logInfo(versionLine("nsqd"), " starting");
        daemon.start();
        return 0;
      }))
    return code;
  notifyReady();  // listeners are up: a Type=notify unit counts as started from here
  // SIGHUP reloads the topics: list of --config (a bad file keeps the old policies, logged).
  while (waitForSignal({SIGINT, SIGTERM, SIGHUP}) == SIGHUP) (void)daemon.reloadPolicies();
  notifyStopping();
  daemon.stop();
  return 0;
}

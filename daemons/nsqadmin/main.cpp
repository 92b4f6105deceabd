// nsqadmin: process entry point. Parses the option table, runs NsqAdmin until SIGINT/SIGTERM
// (threading model at the top of nsqadmin.cpp).
#include <signal.h>

#include "nsq/base/log.h"
#include "nsq/base/main.h"
#include "nsq/base/service_notify.h"
#include "nsqadmin/nsqadmin.h"
#include "nsqadmin/options.h"

int main(int argc, char** argv) {
  using namespace nsq;
  admin::Options opts;
  auto set = admin::makeOptionSet(opts);
  if (auto code = parseCommandLine("nsqadmin", *set, argc, argv, [&] { admin::validate(opts); })) return *code;
  LogLevel level = LogLevel::Info;
  parseLogLevel(opts.logLevel, level);
  Logger::configure(opts.logPrefix, level);
  if (!opts.graphiteUrl.empty() || opts.proxyGraphite)
    logWarn("--graphite-url / --proxy-graphite are accepted for compatibility only: nsqadmin draws its own graphs");
  blockSignals({SIGINT, SIGTERM, SIGHUP});
  admin::NsqAdmin daemon(opts);
  if (int code = runOrReport("nsqadmin", [&] {
        logInfo(admin::versionLine());
        daemon.start();
        return 0;
      }))
    return code;
  notifyReady();  // the listener is up: a Type=notify unit counts as started from here
  while (waitForSignal({SIGINT, SIGTERM, SIGHUP}) == SIGHUP) {
  }
  notifyStopping();
  daemon.stop();
  return 0;
}

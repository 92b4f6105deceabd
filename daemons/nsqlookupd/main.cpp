// nsqlookupd: process entry point. Parses the option table, then runs NsqLookupd inside a
// Poco ServerApplication until SIGINT/SIGTERM.
//
// Threading model:
//   - main thread: parses options, starts the servers, blocks in waitForTerminationRequest();
//     SIGINT/SIGTERM/SIGQUIT are blocked in every thread before any is created, so only that
//     sigwait() sees them.
//   - TCP (protocol V1): one event-loop thread (nsq::net::EventServer, epoll) for every
//     connection, at most --tcp-max-connections (4096). Commands run on that thread (the
//     RegistrationDB calls are short); a whole command must arrive within 60 s, lines are capped
//     at 1 KiB and bodies at 64 KiB, so an idle or slow peer costs a descriptor, never a thread.
//   - HTTP: one event-loop thread reads whole requests (--http-read-timeout, --http-max-connections)
//     and hands them to a fixed pool of 4 handler threads (503 past 1024 queued).
//   - Shared state: RegistrationDB behind one mutex, held only for in-memory bookkeeping.
// Shutdown: stop both loops (closing their connections), then join the HTTP pool.
#include <Poco/Util/ServerApplication.h>
#include <signal.h>

#include "nsq/base/main.h"
#include "nsq/base/service_notify.h"
#include "nsqlookupd/logger.h"
#include "nsqlookupd/nsqlookupd.h"
#include "nsqlookupd/options.h"

namespace {

class LookupdApp : public Poco::Util::ServerApplication {
 public:
  explicit LookupdApp(const nsq::lookupd::Options& opts) : opts_(opts) {}

 protected:
  int main(const std::vector<std::string>&) override {
    nsq::LogLevel level = nsq::LogLevel::Info;
    nsq::parseLogLevel(opts_.logLevel, level);  // validated by validate()
    nsq::lookupd::Logger log(level, opts_.logPrefix);
    log.info(nsq::lookupd::versionLine());
    nsq::lookupd::NsqLookupd daemon(opts_, log);
    if (int code = nsq::runOrReport("nsqlookupd", [&] {
          daemon.start();
          return 0;
        }))
      return code;
    nsq::notifyReady();  // listeners are up: a Type=notify unit counts as started from here
    waitForTerminationRequest();
    nsq::notifyStopping();
    log.info("exiting");
    daemon.stop();
    return 0;
  }

 private:
  nsq::lookupd::Options opts_;
};

}  // namespace

int main(int argc, char** argv) {
  nsq::lookupd::Options opts;
  auto set = nsq::lookupd::makeOptionSet(opts);
  return nsq::runMain("nsqlookupd", *set, argc, argv, {SIGINT, SIGTERM, SIGQUIT}, [&] { nsq::lookupd::validate(opts); },
                      [&] {
                        LookupdApp app(opts);
                        // Options are ours: Poco's own option processing only sees the program name.
                        return app.run(std::vector<std::string>{argv[0]});
                      });
}

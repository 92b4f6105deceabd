// nsqlookupd: process entry point. Parses the option table, then runs NsqLookupd inside a
// Poco ServerApplication until SIGINT/SIGTERM.
//
// Threading model:
//   - main thread: parses options, starts the servers, blocks in waitForTerminationRequest();
//     SIGINT/SIGTERM/SIGQUIT are blocked in every thread before any is created, so only that
//     sigwait() sees them.
//   - TCP (protocol V1): Poco TCPServer, one acceptor thread + a pool of at most 128 threads,
//     one per live nsqd connection (connections past 128 wait in a queue of 64). Each connection
//     has a 60 s per-command read deadline and bounded line (1 KiB) and body (64 KiB) sizes, so a
//     slow or malicious client holds only its own thread, briefly, and never a lock while
//     waiting on the socket.
//   - HTTP: Poco HTTPServer, one acceptor + a pool of at most 16 threads, 10 s socket timeouts.
//   - Shared state: RegistrationDB behind one mutex, held only for in-memory bookkeeping.
// Shutdown: stop accepting, let connection loops see the stop flag (<= 200 ms), join the pools.
#include <Poco/Util/ServerApplication.h>
#include <signal.h>

#include <iostream>

#include "logger.h"
#include "nsqlookupd.h"
#include "options.h"

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
    try {
      daemon.start();
    } catch (const Poco::Exception& e) {
      std::cerr << "nsqlookupd: " << e.displayText() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << "nsqlookupd: " << e.what() << "\n";
      return 1;
    }
    waitForTerminationRequest();
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
  try {
    auto set = nsq::lookupd::makeOptionSet(opts);
    if (set->parse(argc, argv, std::cout) == nsq::OptionSet::Result::Exit) return 0;
    nsq::lookupd::validate(opts);
  } catch (const std::exception& e) {
    std::cerr << "nsqlookupd: " << e.what() << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  LookupdApp app(opts);
  // Options are ours: Poco's own option processing only sees the program name.
  return app.run(std::vector<std::string>{argv[0]});
}

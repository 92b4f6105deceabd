// nsqd: the NSQ broker daemon.
//
// Threading model
// - main thread: parses options, starts Nsqd, then waits in sigwait() for SIGINT/SIGTERM and
//   runs the graceful stop.
// - 1 accept thread: blocking accept() on the TCP listener; each new socket goes round robin
//   to an IoLoop.
// - N IoLoop threads (--io-threads, default one per core, max 8): epoll over non-blocking
//   client sockets. A connection stays on one loop for life; its commands run there, and
//   message delivery is pulled by that same thread from the channel (Channel::pull), so no lock
//   is ever held across a socket write and a slow client only slows itself.
// - 1 scanner thread: every 100 ms expires in-flight messages, releases deferred ones, moves
//   waiting topic messages into channels (10,000 per pass, passes back to back while there is
//   a backlog) and notices time-based syncs that are due.
// - 1 syncer thread (syncer.h): runs every fsync (disk queues, journals, nsqd.dat after a
//   topic/channel appears), so no IO thread and no queue lock ever waits for the disk. With
//   --sync-every=1 syncs stay on the thread that wrote, before the OK.
// - HTTP and HTTPS: one event-loop thread per listener (nsq::http::Server) reads whole requests
//   with a deadline and size caps (--http-read-timeout, --http-max-connections), then a fixed
//   pool of 8 threads shared by both runs the handlers; a slow client never holds a thread.
// - Auth (only with --auth-http-address): up to 8 worker threads, started as queries need them,
//   run the blocking auth server requests for AUTH and expired authorizations; each result goes
//   back to the client's IoLoop through its mailbox (auth.h).
// Cross-thread signals (a put waking a waiting consumer, a timeout freeing a window) go through
// the target loop's mailbox: a mutex-guarded vector and an eventfd.
#include <signal.h>

#include "nsq/base/log.h"
#include "nsq/base/main.h"
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
  if (auto code = parseCommandLine("nsqd", set, argc, argv, [&] {
        nsqd::finalizeOptions(opts);
        warnings = nsqd::checkUnsupported(opts);
      }))
    return *code;
  LogLevel level = LogLevel::Info;
  parseLogLevel(opts.logLevel, level);
  Logger::configure(opts.logPrefix, level);
  for (const auto& w : warnings) logWarn(w);

  const sigset_t signals = blockSignals({SIGINT, SIGTERM, SIGHUP});

  nsqd::Nsqd daemon(opts);
  if (int code = runOrReport("nsqd", [&] {
        logInfo("nsqd v" NSQ_VERSION " (C++) starting");
        daemon.start();
        return 0;
      }))
    return code;
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  daemon.stop();
  return 0;
}

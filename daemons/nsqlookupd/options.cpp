// nsqlookupd option table. Defaults live in the Options struct; this file only names and
// documents them, so flags, YAML and --help cannot drift apart.
#include "nsqlookupd/options.h"

#include <unistd.h>

#include "nsq/base/main.h"
#include "nsqlookupd/logger.h"
#include "nsqlookupd/net_address.h"

namespace nsq::lookupd {

std::string versionLine() {
  return nsq::versionLine("nsqlookupd");
}

std::unique_ptr<nsq::OptionSet> makeOptionSet(Options& o) {
  if (o.broadcastAddress.empty()) o.broadcastAddress = hostname();
  auto set = std::make_unique<nsq::OptionSet>(
      "nsqlookupd", "nsqlookupd: the NSQ topology daemon (producer discovery for consumers)");
  set->addString("tcp-address", &o.tcpAddress, "<addr>:<port> to listen on for TCP clients");
  set->addString("http-address", &o.httpAddress, "<addr>:<port> to listen on for HTTP clients");
  set->addString("broadcast-address", &o.broadcastAddress,
                 "address of this lookupd node, reported to nsqd in the IDENTIFY reply");
  set->addDuration("inactive-producer-timeout", &o.inactiveProducerTimeout,
                   "duration of time a producer will remain in the active list since its last ping");
  set->addDuration("tombstone-lifetime", &o.tombstoneLifetime,
                   "duration of time a producer will remain tombstoned if registration remains");
  set->addInt("tcp-max-connections", &o.tcpMaxConnections,
              "maximum open TCP connections; more are refused");
  set->addInt("http-max-connections", &o.httpMaxConnections,
              "maximum open HTTP connections; more are refused");
  set->addDuration("http-read-timeout", &o.httpReadTimeout,
                   "time allowed to read a whole HTTP request (headers and body); idle keep-alive connections close after it too");
  http::addHeaderFlags(*set, o.httpHeaders);
  set->addString("log-level", &o.logLevel, "set log verbosity: debug, info, warn, error, or fatal");
  set->addString("log-prefix", &o.logPrefix, "log message prefix");
  set->addBool("verbose", &o.verbose, "[deprecated] has no effect, use --log-level").hidden = true;
  set->addStandard(versionLine());
  return set;
}

void validate(const Options& o) {
  nsq::LogLevel level;
  if (!nsq::parseLogLevel(o.logLevel, level))
    throw nsq::OptionError("flag --log-level: invalid log level \"" + o.logLevel +
                           "\" (use debug, info, warn, error or fatal)");
  nsq::requireHostPortFlag("tcp-address", o.tcpAddress, 0);
  nsq::requireHostPortFlag("http-address", o.httpAddress, 0);
  std::string err;
  if (!parseListenAddress(o.tcpAddress, &err))
    throw nsq::OptionError("flag --tcp-address: " + err);
  if (!parseListenAddress(o.httpAddress, &err))
    throw nsq::OptionError("flag --http-address: " + err);
  if (o.inactiveProducerTimeout.count() <= 0)
    throw nsq::OptionError("flag --inactive-producer-timeout: must be positive");
  if (o.tcpMaxConnections < 1 || o.tcpMaxConnections > 1000000)
    throw nsq::OptionError("flag --tcp-max-connections: must be in range 1-1000000");
  if (o.httpMaxConnections < 1 || o.httpMaxConnections > 1000000)
    throw nsq::OptionError("flag --http-max-connections: must be in range 1-1000000");
  if (o.httpReadTimeout.count() <= 0)
    throw nsq::OptionError("flag --http-read-timeout: must be positive");
  http::validateHeaderFlags(o.httpHeaders);
  if (o.tombstoneLifetime.count() < 0)
    throw nsq::OptionError("flag --tombstone-lifetime: must not be negative");
}

}  // namespace nsq::lookupd

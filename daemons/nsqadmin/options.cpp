// nsqadmin option table. Defaults live in the Options struct; this file only names and
// documents them, so flags, YAML, --help and /config/:opt cannot drift apart.
#include "nsqadmin/options.h"

#include <arpa/inet.h>

#include <cstring>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/version.h"

namespace nsq::admin {

std::string versionLine() { return std::string("nsqadmin v") + NSQ_VERSION + " (C++)"; }

std::unique_ptr<nsq::OptionSet> makeOptionSet(Options& o) {
  auto set = std::make_unique<nsq::OptionSet>(
      "nsqadmin", "nsqadmin: the NSQ cluster's web console (topics, channels, nodes, live graphs)");
  auto& s = *set;
  s.addString("http-address", &o.httpAddress, "<addr>:<port> to listen on for HTTP clients");
  s.addString("base-path", &o.basePath, "URL base path");
  s.addStringList("lookupd-http-address", &o.lookupdHttpAddresses,
                  "lookupd HTTP address (may be given multiple times)")
      .key = "nsqlookupd_http_addresses";
  s.addStringList("nsqd-http-address", &o.nsqdHttpAddresses, "nsqd HTTP address (may be given multiple times)")
      .key = "nsqd_http_addresses";
  s.addDuration("http-client-connect-timeout", &o.httpClientConnectTimeout, "timeout for HTTP connect");
  s.addDuration("http-client-request-timeout", &o.httpClientRequestTimeout, "timeout for HTTP request");
  s.addBool("http-client-tls-insecure-skip-verify", &o.httpClientTlsInsecureSkipVerify,
            "configure the HTTP client to skip verification of TLS certificates");
  s.addString("http-client-tls-root-ca-file", &o.httpClientTlsRootCaFile, "path to CA file for the HTTP client");
  s.addString("http-client-tls-cert", &o.httpClientTlsCert, "path to certificate file for the HTTP client");
  s.addString("http-client-tls-key", &o.httpClientTlsKey, "path to key file for the HTTP client");
  s.addString("notification-http-endpoint", &o.notificationHttpEndpoint,
              "HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent");
  s.addString("acl-http-header", &o.aclHttpHeader, "HTTP header to check for authenticated admin users");
  s.addStringList("admin-user", &o.adminUsers,
                  "admin user (may be given multiple times; if specified, only these users will be able to "
                  "perform privileged actions; acl-http-header is used to determine the authenticated user)")
      .key = "admin_users";
  s.addString("allow-config-from-cidr", &o.allowConfigFromCidr,
              "A CIDR from which to allow HTTP requests to the /config endpoint");
  s.addDuration("history-interval", &o.historyInterval,
                "how often to sample every nsqd's /stats for the live graphs (one hour of samples is kept)");
  s.addInt("http-max-connections", &o.httpMaxConnections, "maximum open HTTP connections; more are refused");
  http::addHeaderFlags(s, o.httpHeaders);
  s.addString("log-level", &o.logLevel, "set log verbosity: debug, info, warn, error, or fatal");
  s.addString("log-prefix", &o.logPrefix, "log message prefix");
  s.addString("graphite-url", &o.graphiteUrl, "graphite HTTP address (accepted for compatibility; not used)");
  s.addBool("proxy-graphite", &o.proxyGraphite, "proxy HTTP requests to graphite (accepted for compatibility; not used)");
  s.addString("statsd-counter-format", &o.statsdCounterFormat,
              "The counter stats key formatting applied by the implementation of statsd (accepted for compatibility; not used)");
  s.addString("statsd-gauge-format", &o.statsdGaugeFormat,
              "The gauge stats key formatting applied by the implementation of statsd (accepted for compatibility; not used)");
  s.addString("statsd-prefix", &o.statsdPrefix,
              "prefix used for keys sent to statsd (accepted for compatibility; not used)");
  s.addDuration("statsd-interval", &o.statsdInterval,
                "time interval nsqd is configured to push to statsd (accepted for compatibility; not used)");
  s.addString("dev-static-dir", &o.devStaticDir, "(development use only)").hidden = true;
  s.addBool("verbose", &o.verbose, "[deprecated] has no effect, use --log-level").hidden = true;
  s.addStandard(versionLine());
  return set;
}

namespace {
void checkAddresses(const std::vector<std::string>& list, const std::string& flag) {
  for (const auto& a : list) {
    std::string addr = a.starts_with("http://") ? a.substr(7) : a.starts_with("https://") ? a.substr(8) : a;
    if (!parseHostPort(addr, 1))
      throw nsq::OptionError("flag --" + flag + ": \"" + a + "\" is not host:port (port 1-65535)");
  }
}
}  // namespace

void validate(Options& o) {
  nsq::LogLevel level;
  if (!nsq::parseLogLevel(o.logLevel, level))
    throw nsq::OptionError("flag --log-level: invalid log level \"" + o.logLevel +
                           "\" (use debug, info, warn, error or fatal)");
  if (!parseHostPort(o.httpAddress, 0))
    throw nsq::OptionError("flag --http-address: \"" + o.httpAddress + "\" is not host:port (port 0-65535)");
  if (!o.lookupdHttpAddresses.empty() && !o.nsqdHttpAddresses.empty())
    throw nsq::OptionError("use --lookupd-http-address or --nsqd-http-address, not both");
  if (o.lookupdHttpAddresses.empty() && o.nsqdHttpAddresses.empty())
    throw nsq::OptionError("--lookupd-http-address or --nsqd-http-address required");
  checkAddresses(o.lookupdHttpAddresses, "lookupd-http-address");
  checkAddresses(o.nsqdHttpAddresses, "nsqd-http-address");
  if (o.httpClientConnectTimeout.count() <= 0)
    throw nsq::OptionError("flag --http-client-connect-timeout: must be positive");
  if (o.httpClientRequestTimeout.count() <= 0)
    throw nsq::OptionError("flag --http-client-request-timeout: must be positive");
  if (o.historyInterval < std::chrono::seconds(1) || o.historyInterval > std::chrono::minutes(5))
    throw nsq::OptionError("flag --history-interval: must be in range 1s-5m");
  if (o.httpMaxConnections < 1 || o.httpMaxConnections > 1000000)
    throw nsq::OptionError("flag --http-max-connections: must be in range 1-1000000");
  http::validateHeaderFlags(o.httpHeaders);
  if (!o.notificationHttpEndpoint.empty() && !o.notificationHttpEndpoint.starts_with("http://") &&
      !o.notificationHttpEndpoint.starts_with("https://"))
    throw nsq::OptionError("flag --notification-http-endpoint: must be a http:// or https:// URL");
  if (!o.httpClientTlsCert.empty() != !o.httpClientTlsKey.empty())
    throw nsq::OptionError("flag --http-client-tls-cert and --http-client-tls-key must be given together");
  if (!o.allowConfigFromCidr.empty() && !Cidr().parse(o.allowConfigFromCidr))
    throw nsq::OptionError("flag --allow-config-from-cidr: invalid CIDR \"" + o.allowConfigFromCidr + "\"");
  // As the original: path.Join("/", base) — one leading slash, no trailing one.
  std::string p = o.basePath;
  if (p.empty() || p[0] != '/') p.insert(0, "/");
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.find("//") != std::string::npos || p.find_first_of("?#% ") != std::string::npos)
    throw nsq::OptionError("flag --base-path: invalid path \"" + o.basePath + "\"");
  o.basePath = p;
}

bool Cidr::parse(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = text.substr(0, slash), len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos) return false;
  bits = std::stoi(len);
  v6 = ip.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), net) != 1) return false;
  return bits <= (v6 ? 128 : 32);
}

bool Cidr::contains(const std::string& ipText) const {
  unsigned char ip[16] = {};
  bool isV6 = ipText.find(':') != std::string::npos;
  if (inet_pton(isV6 ? AF_INET6 : AF_INET, ipText.c_str(), ip) != 1) return false;
  if (isV6 && !v6) {  // an IPv4-mapped address (::ffff:a.b.c.d) against an IPv4 net
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip, kMapped, 12) != 0) return false;
    std::memmove(ip, ip + 12, 4);
  } else if (isV6 != v6) {
    return false;
  }
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(ip, net, static_cast<std::size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (ip[full] & mask) == (net[full] & mask);
}

}  // namespace nsq::admin

// The nsqd option table: names, defaults and help text as the original's flags.
#include "nsqd/options.h"

#include <unistd.h>

#include <Poco/Checksum.h>
#include <Poco/MD5Engine.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <filesystem>

#include "nsq/base/host_port.h"
#include "nsq/http/header_flags.h"

namespace nsq::nsqd {

void addNsqdOptions(OptionSet& s, NsqdOptions& o) {
  s.addString("log-level", &o.logLevel, "set log verbosity: debug, info, warn, error, or fatal");
  s.addString("log-prefix", &o.logPrefix, "log message prefix");
  s.addBool("verbose", &o.verbose, "[deprecated] has no effect, use --log-level").hidden = true;
  s.addInt("worker-id", &o.workerId, "[deprecated] use --node-id").hidden = true;
  s.addInt("node-id", &o.nodeId, "unique part for message IDs, (int) in range [0,1024)").defaultText = "hash of hostname";
  s.addString("https-address", &o.httpsAddress, "<addr>:<port> to listen on for HTTPS clients");
  s.addString("http-address", &o.httpAddress, "<addr>:<port> to listen on for HTTP clients (empty disables)");
  s.addInt("http-max-connections", &o.httpMaxConnections, "maximum open connections per HTTP/HTTPS listener; more are refused");
  s.addDuration("http-read-timeout", &o.httpReadTimeout, "time allowed to read a whole HTTP request (headers and body); idle keep-alive connections close after it too");
  http::addHeaderFlags(s, o.httpHeaders);
  s.addString("tcp-address", &o.tcpAddress, "<addr>:<port> to listen on for TCP clients");
  s.addInt("tcp-max-connections", &o.tcpMaxConnections, "maximum open TCP client connections; more get E_TOO_MANY_CONNECTIONS and are closed");
  s.addString("broadcast-address", &o.broadcastAddress, "address that will be registered with lookupd (defaults to the OS hostname)");
  s.addInt("broadcast-tcp-port", &o.broadcastTcpPort, "TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)");
  s.addInt("broadcast-http-port", &o.broadcastHttpPort, "HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)");
  s.addStringList("lookupd-tcp-address", &o.lookupdTcpAddresses, "lookupd TCP address");
  s.addDuration("http-client-connect-timeout", &o.httpClientConnectTimeout, "timeout for HTTP connect");
  s.addDuration("http-client-request-timeout", &o.httpClientRequestTimeout, "timeout for HTTP request");
  s.addString("data-path", &o.dataPath, "path to store disk-backed messages (default: the current directory)");
  s.addInt("mem-queue-size", &o.memQueueSize, "number of messages to keep in memory (per topic/channel)");
  s.addInt("max-bytes-per-file", &o.maxBytesPerFile, "number of bytes per diskqueue file before rolling");
  s.addInt("sync-every", &o.syncEvery, "number of messages per diskqueue fsync");
  s.addDuration("sync-timeout", &o.syncTimeout, "duration of time per diskqueue fsync");
  s.addInt("queue-scan-worker-pool-max", &o.queueScanWorkerPoolMax, "max concurrency for checking in-flight and deferred message timeouts");
  s.addInt("queue-scan-selection-count", &o.queueScanSelectionCount, "number of channels to check per cycle (every 100ms) for in-flight and deferred timeouts");
  s.addDuration("msg-timeout", &o.msgTimeout, "default duration to wait before auto-requeing a message");
  s.addDuration("max-msg-timeout", &o.maxMsgTimeout, "maximum duration before a message will timeout");
  s.addInt("max-msg-size", &o.maxMsgSize, "maximum size of a single message in bytes");
  s.addDuration("max-req-timeout", &o.maxReqTimeout, "maximum requeuing timeout for a message");
  s.addInt("max-body-size", &o.maxBodySize, "maximum size of a single command body");
  s.addDuration("max-heartbeat-interval", &o.maxHeartbeatInterval, "maximum client configurable duration of time between client heartbeats");
  s.addInt("max-rdy-count", &o.maxRdyCount, "maximum RDY count for a client");
  s.addInt("max-output-buffer-size", &o.maxOutputBufferSize, "maximum client configurable size (in bytes) for a client output buffer");
  s.addDuration("max-output-buffer-timeout", &o.maxOutputBufferTimeout, "maximum client configurable duration of time between flushing to a client");
  s.addDuration("min-output-buffer-timeout", &o.minOutputBufferTimeout, "minimum client configurable duration of time between flushing to a client");
  s.addDuration("output-buffer-timeout", &o.outputBufferTimeout, "default duration of time between flushing data to clients");
  s.addInt("max-channel-consumers", &o.maxChannelConsumers, "maximum channel consumer connection count per nsqd instance (0: unlimited)");
  s.addInt("max-topics", &o.maxTopics, "maximum topics (ephemeral ones included); publishing to or creating another is refused (0: unlimited)");
  s.addInt("max-channels-per-topic", &o.maxChannelsPerTopic, "maximum channels per topic (ephemeral ones included); subscribing to or creating another is refused (0: unlimited)");
  s.addInt("max-attempts", &o.maxAttempts, "deliveries per channel after which a requeued or timed-out message goes to the dead-letter topic <topic>.dead (0: unlimited; default for topics no topics: entry matches)");
  s.addDuration("message-ttl", &o.messageTtl, "drop messages older than this (from their publish time) instead of delivering them (0: never; default for topics no topics: entry matches)");
  s.addInt("max-depth", &o.maxDepth, "maximum messages queued per topic and per channel (0: unlimited; default for topics no topics: entry matches)");
  s.addString("overflow", &o.overflow, "what a publish past --max-depth does: reject (E_PUB_FAILED, HTTP 503) or drop_oldest");
  s.addString("statsd-address", &o.statsdAddress, "UDP <addr>:<port> of a statsd daemon for pushing stats");
  s.addString("statsd-prefix", &o.statsdPrefix, "prefix used for keys sent to statsd (%s for host replacement)");
  s.addDuration("statsd-interval", &o.statsdInterval, "duration between pushing to statsd");
  s.addBool("statsd-mem-stats", &o.statsdMemStats, "toggle sending memory and GC stats to statsd");
  s.addInt("statsd-udp-packet-size", &o.statsdUdpPacketSize, "the size in bytes of statsd UDP packets");
  s.addBool("statsd-exclude-ephemeral", &o.statsdExcludeEphemeral, "omit ephemeral topics and channels from statsd metrics");
  s.addStringList("e2e-processing-latency-percentile", &o.e2eProcessingLatencyPercentiles, "message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)");
  s.addDuration("e2e-processing-latency-window-time", &o.e2eProcessingLatencyWindowTime, "calculate end to end latency quantiles for this duration of time (ie: 60s would only show quantile calculations from the past 60 seconds)");
  s.addString("tls-cert", &o.tlsCert, "path to certificate file");
  s.addString("tls-key", &o.tlsKey, "path to key file");
  s.addString("tls-client-auth-policy", &o.tlsClientAuthPolicy, "client certificate auth policy ('require' or 'require-verify')");
  s.addString("tls-root-ca-file", &o.tlsRootCaFile, "path to certificate authority file");
  auto& tlsRequired = s.addString("tls-required", &o.tlsRequired, "require TLS for client connections (true, false, tcp-https)");
  tlsRequired.bareAllowed = true;
  tlsRequired.assign = [&o](const std::string& v) -> std::string {
    // As Go's flag: tcp-https, or any boolean spelling (a bare --tls-required means true).
    std::string lower;
    for (char c : v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "tcp-https") {
      o.tlsRequired = lower;
      return "";
    }
    auto b = parseBool(v);
    if (!b) return "invalid value \"" + v + "\" (true, false or tcp-https)";
    o.tlsRequired = *b ? "true" : "false";
    return "";
  };
  s.addString("tls-min-version", &o.tlsMinVersion, "minimum SSL/TLS version acceptable ('tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')");
  s.addBool("deflate", &o.deflate, "enable deflate feature negotiation (client compression)");
  s.addInt("max-deflate-level", &o.maxDeflateLevel, "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)");
  s.addBool("snappy", &o.snappy, "enable snappy feature negotiation (client compression)");
  s.addStringList("auth-http-address", &o.authHttpAddresses, "<addr>:<port> or a full url to query auth server (may be given multiple times or as a comma list)");
  s.addString("auth-http-request-method", &o.authHttpRequestMethod, "HTTP method to use for auth server requests (get or post)");
  s.addString("topology-region", &o.topologyRegion, "A region represents a larger domain, typically a geographic region (experimental)");
  s.addString("topology-zone", &o.topologyZone, "A zone represents a logical failure domain, typically a datacenter (experimental)");
  s.addStringList("enable-experiment", &o.enableExperiments, "enable experimental features (topology-aware-consumption)");
  s.addInt("io-threads", &o.ioThreads, "number of network IO threads for TCP clients (0: one per CPU core, at most 8)");
}

namespace {
// "a,b" + "c" -> a, b, c.
std::vector<std::string> splitCommaLists(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& entry : values) {
    std::size_t start = 0;
    for (;;) {
      std::size_t comma = entry.find(',', start);
      out.push_back(entry.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}
}  // namespace

void finalizeOptions(NsqdOptions& o) {
  if (o.broadcastAddress.empty()) o.broadcastAddress = hostname();
  if (o.dataPath.empty()) o.dataPath = std::filesystem::current_path().string();
  if (o.nodeId == -1) {  // the "unset" sentinel; any other negative value is an error below
    // CRC32-IEEE of the MD5 of the hostname, mod 1024 (NSQ-COMPAT §4.11).
    Poco::MD5Engine md5;
    md5.update(hostname());
    const auto& digest = md5.digest();
    Poco::Checksum crc(Poco::Checksum::TYPE_CRC32);
    crc.update(reinterpret_cast<const char*>(digest.data()), static_cast<unsigned>(digest.size()));
    o.nodeId = crc.checksum() % 1024;
  }
  auto require = [](bool ok, const std::string& msg) {
    if (!ok) throw OptionError(msg);
  };
  require(o.nodeId >= 0 && o.nodeId < 1024, "flag --node-id: " + std::to_string(o.nodeId) + " must be in range [0,1024)");
  require(o.maxDeflateLevel >= 1 && o.maxDeflateLevel <= 9, "flag --max-deflate-level: must be in range 1-9");
  // Every address flag through the one check (lib/nsq/base/host_port.h), naming the flag.
  requireHostPortFlag("tcp-address", o.tcpAddress, 0);
  if (!o.httpAddress.empty()) requireHostPortFlag("http-address", o.httpAddress, 0);
  if (!o.httpsAddress.empty()) requireHostPortFlag("https-address", o.httpsAddress, 0);
  requirePortFlag("broadcast-tcp-port", o.broadcastTcpPort);
  requirePortFlag("broadcast-http-port", o.broadcastHttpPort);
  requireHostPortFlags("lookupd-tcp-address", o.lookupdTcpAddresses, 1);
  if (!o.statsdAddress.empty()) requireHostPortFlag("statsd-address", o.statsdAddress, 1);
  require(o.memQueueSize >= 0, "flag --mem-queue-size: must be >= 0");
  require(o.maxMsgSize > 0, "flag --max-msg-size: must be > 0");
  require(o.maxBodySize >= o.maxMsgSize, "flag --max-body-size: must be >= --max-msg-size");
  require(o.maxRdyCount > 0, "flag --max-rdy-count: must be > 0");
  require(o.maxBytesPerFile > 0, "flag --max-bytes-per-file: must be > 0");
  require(o.syncEvery > 0, "flag --sync-every: must be > 0");
  require(o.msgTimeout.count() > 0, "flag --msg-timeout: must be > 0");
  require(o.maxMsgTimeout >= o.msgTimeout, "flag --max-msg-timeout: must be >= --msg-timeout");
  require(o.statsdAddress.empty() || o.statsdInterval.count() > 0, "flag --statsd-interval: must be > 0");
  require(o.maxAttempts >= 0 && o.maxAttempts <= 65535, "flag --max-attempts: must be in range 0-65535");
  require(o.messageTtl.count() >= 0, "flag --message-ttl: must be >= 0");
  require(o.maxDepth >= 0, "flag --max-depth: must be >= 0");
  require(o.overflow == "reject" || o.overflow == "drop_oldest", "flag --overflow: must be reject or drop_oldest");
  require(o.httpMaxConnections >= 1 && o.httpMaxConnections <= 1000000,
          "flag --http-max-connections: must be in range 1-1000000");
  require(o.httpReadTimeout.count() > 0, "flag --http-read-timeout: must be > 0");
  http::validateHeaderFlags(o.httpHeaders);
  require(o.tcpMaxConnections >= 1 && o.tcpMaxConnections <= 1000000,
          "flag --tcp-max-connections: must be in range 1-1000000");
  require(o.maxTopics >= 0, "flag --max-topics: must be >= 0");
  require(o.maxChannelsPerTopic >= 0, "flag --max-channels-per-topic: must be >= 0");
  require(o.ioThreads >= 0 && o.ioThreads <= 64, "flag --io-threads: must be in range 0-64");
  require(o.authHttpRequestMethod == "get" || o.authHttpRequestMethod == "post",
          "flag --auth-http-request-method: must be get or post");
  require(o.tlsRequired == "true" || o.tlsRequired == "false" || o.tlsRequired == "tcp-https",
          "flag --tls-required: must be true, false or tcp-https");
  require(o.tlsMinVersion.empty() || o.tlsMinVersion == "tls1.0" || o.tlsMinVersion == "tls1.1" ||
              o.tlsMinVersion == "tls1.2" || o.tlsMinVersion == "tls1.3",
          "flag --tls-min-version: unknown version \"" + o.tlsMinVersion + "\" (tls1.0, tls1.1, tls1.2 or tls1.3)");
  require(o.tlsClientAuthPolicy.empty() || o.tlsClientAuthPolicy == "require" ||
              o.tlsClientAuthPolicy == "require-verify",
          "flag --tls-client-auth-policy: must be require or require-verify");
  // A client certificate policy implies TLS for everything, as in the original.
  if (!o.tlsClientAuthPolicy.empty() && o.tlsRequired == "false") o.tlsRequired = "true";
  require(o.tlsRequired == "false" || (!o.tlsCert.empty() && !o.tlsKey.empty()),
          "cannot require TLS client connections without TLS key and cert (--tls-cert, --tls-key)");
  require(o.tlsCert.empty() == o.tlsKey.empty(), "flag --tls-cert and --tls-key must be given together");
  // Each value may itself be a comma-separated list ("0.99,0.999"), as upstream accepts.
  // Ours, not upstream's: "--auth-http-address=a:1,b:2" names two servers.
  o.authHttpAddresses = splitCommaLists(o.authHttpAddresses);
  for (const auto& a : o.authHttpAddresses) {
    require(!a.empty(), "flag --auth-http-address: empty address");
    if (a.find("://") == std::string::npos) requireHostPortFlag("auth-http-address", a, 1);
  }
  // Kept as upstream keeps them: sorted largest first, written as Go prints floats ("1.0" -> 1).
  std::vector<double> quantiles;
  for (const auto& p : splitCommaLists(o.e2eProcessingLatencyPercentiles)) {
    char* end = nullptr;
    double v = std::strtod(p.c_str(), &end);
    require(!p.empty() && end && *end == '\0' && v > 0 && v <= 1,
            "flag --e2e-processing-latency-percentile: " + p + " is not in (0, 1.0]");
    quantiles.push_back(v);
  }
  std::sort(quantiles.begin(), quantiles.end(), std::greater<>());
  o.e2eProcessingLatencyPercentiles.clear();
  for (double q : quantiles) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, q);
    o.e2eProcessingLatencyPercentiles.emplace_back(buf, res.ptr);
  }
  require(quantiles.empty() || o.e2eProcessingLatencyWindowTime.count() > 0,
          "flag --e2e-processing-latency-window-time: must be > 0");
  static const char* levels[] = {"debug", "info", "warn", "error", "fatal"};
  bool levelOk = false;
  for (const char* l : levels) levelOk |= o.logLevel == l;
  require(levelOk, "flag --log-level: must be one of debug, info, warn, error, fatal");
}

std::vector<std::string> checkUnsupported(const NsqdOptions& o) {
  return {};
}

}  // namespace nsq::nsqd

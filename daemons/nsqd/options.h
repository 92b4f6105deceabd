#pragma once
// NsqdOptions: every nsqd setting, named as the original's flags (NSQ-COMPAT §5.1). The one
// table in makeOptionSet() binds them to flags, YAML keys, --help and /config/:opt.
#include <cstdint>
#include <string>
#include <vector>

#include "nsq/base/duration.h"
#include "nsq/base/options.h"
#include "nsq/http/header_flags.h"

namespace nsq::nsqd {

using namespace std::chrono_literals;

struct NsqdOptions {
  // identity and listeners
  int64_t nodeId = -1;  // -1: derived from the hostname
  std::string logLevel = "info";
  std::string logPrefix = "[nsqd] ";
  std::string tcpAddress = "0.0.0.0:4150";
  std::string httpAddress = "0.0.0.0:4151";
  std::string httpsAddress = "0.0.0.0:4152";
  std::string broadcastAddress;  // default: hostname
  int64_t broadcastTcpPort = 0;
  int64_t broadcastHttpPort = 0;
  std::vector<std::string> lookupdTcpAddresses;
  // storage
  std::string dataPath;  // default: current directory
  int64_t memQueueSize = 10000;
  int64_t maxBytesPerFile = 104857600;
  int64_t syncEvery = 2500;
  Duration syncTimeout = 2s;
  int64_t queueScanWorkerPoolMax = 4;
  int64_t queueScanSelectionCount = 20;
  Duration queueScanInterval = 100ms;
  Duration queueScanRefreshInterval = 5s;
  // messages
  Duration msgTimeout = 60s;
  Duration maxMsgTimeout = 15min;
  int64_t maxMsgSize = 1048576;
  int64_t maxBodySize = 5242880;
  Duration maxReqTimeout = 1h;
  // clients
  Duration clientTimeout = 60s;
  Duration maxHeartbeatInterval = 60s;
  int64_t maxRdyCount = 2500;
  int64_t maxOutputBufferSize = 65536;
  Duration maxOutputBufferTimeout = 30s;
  Duration minOutputBufferTimeout = 25ms;
  Duration outputBufferTimeout = 250ms;
  int64_t maxChannelConsumers = 0;
  // registry limits (0 = unlimited); nsqd.dat and dead-letter topics load past them
  int64_t maxTopics = 0;
  int64_t maxChannelsPerTopic = 0;
  // message policies for topics no `topics:` entry matches (policy.h); 0 = off
  int64_t maxAttempts = 0;
  Duration messageTtl = 0s;
  int64_t maxDepth = 0;
  std::string overflow = "reject";
  // statsd
  std::string statsdAddress;
  std::string statsdPrefix = "nsq.%s";
  Duration statsdInterval = 60s;
  bool statsdMemStats = true;
  int64_t statsdUdpPacketSize = 508;
  bool statsdExcludeEphemeral = false;
  // e2e latency
  std::vector<std::string> e2eProcessingLatencyPercentiles;
  Duration e2eProcessingLatencyWindowTime = 10min;
  // TLS
  std::string tlsCert;
  std::string tlsKey;
  std::string tlsRootCaFile;
  std::string tlsClientAuthPolicy;
  std::string tlsRequired = "false";
  std::string tlsMinVersion = "tls1.0";
  // compression
  bool deflate = true;
  bool snappy = true;
  int64_t maxDeflateLevel = 6;
  // auth and outbound HTTP
  std::vector<std::string> authHttpAddresses;
  std::string authHttpRequestMethod = "get";
  Duration httpClientConnectTimeout = 2s;
  Duration httpClientRequestTimeout = 5s;
  // inbound HTTP/HTTPS: connections per listener, and the time to read one whole request
  int64_t httpMaxConnections = 4096;
  Duration httpReadTimeout = 30s;
  http::HeaderFlags httpHeaders;  // --http-max-header-bytes, --http-max-header-count
  // TCP clients: more connections get E_TOO_MANY_CONNECTIONS and are closed
  int64_t tcpMaxConnections = 65536;
  // experimental
  std::string topologyRegion;
  std::string topologyZone;
  std::vector<std::string> enableExperiments;
  // our own
  int64_t ioThreads = 0;  // 0: one per CPU core (at most 8)
  // deprecated no-ops
  bool verbose = false;
  int64_t workerId = 0;
};

// Builds the option table bound to `opts` (whose current values are the defaults shown).
void addNsqdOptions(OptionSet& set, NsqdOptions& opts);

// Fills derived defaults (hostname, data path, node id) and checks cross-field rules.
// Throws OptionError naming the flag.
void finalizeOptions(NsqdOptions& opts);

// Features whose flags are accepted for compatibility but that this build does not provide yet:
// warnings for the log. (A security feature would throw OptionError rather than run without it.)
std::vector<std::string> checkUnsupported(const NsqdOptions& opts);

}  // namespace nsq::nsqd

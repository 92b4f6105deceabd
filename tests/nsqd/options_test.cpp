// nsqd's option table: defaults as NSQ-COMPAT §5.1, YAML keys bound to the same fields as the
// flags, and finalizeOptions' checks (each error names its flag) and derived defaults.
#include "nsqd/options.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace nsq::nsqd {
namespace {

using namespace std::chrono_literals;

struct Bound {
  NsqdOptions opts;
  OptionSet set{"nsqd", "test"};
  Bound() {
    addNsqdOptions(set, opts);
    set.addStandard("nsqd vtest");
  }
  void parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"nsqd"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out;
    ASSERT_EQ(set.parse(static_cast<int>(argv.size()), argv.data(), out), OptionSet::Result::Run);
  }
};

// finalizeOptions must throw an OptionError mentioning `flag`.
void expectRejected(NsqdOptions o, const std::string& flag) {
  try {
    finalizeOptions(o);
    ADD_FAILURE() << "accepted, expected an error naming " << flag;
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
  }
}

NsqdOptions valid() {
  NsqdOptions o;
  o.nodeId = 1;
  o.dataPath = "/tmp";
  return o;
}

TEST(NsqdOptions, DefaultsMatchUpstream) {
  Bound b;
  b.parse({});
  const NsqdOptions& o = b.opts;
  EXPECT_EQ(o.tcpAddress, "0.0.0.0:4150");
  EXPECT_EQ(o.httpAddress, "0.0.0.0:4151");
  EXPECT_EQ(o.httpsAddress, "0.0.0.0:4152");
  EXPECT_EQ(o.broadcastTcpPort, 0);
  EXPECT_EQ(o.broadcastHttpPort, 0);
  EXPECT_TRUE(o.lookupdTcpAddresses.empty());
  EXPECT_EQ(o.memQueueSize, 10000);
  EXPECT_EQ(o.maxBytesPerFile, 104857600);
  EXPECT_EQ(o.syncEvery, 2500);
  EXPECT_EQ(o.syncTimeout, 2s);
  EXPECT_EQ(o.queueScanWorkerPoolMax, 4);
  EXPECT_EQ(o.queueScanSelectionCount, 20);
  EXPECT_EQ(o.msgTimeout, 1min);
  EXPECT_EQ(o.maxMsgTimeout, 15min);
  EXPECT_EQ(o.maxMsgSize, 1048576);
  EXPECT_EQ(o.maxBodySize, 5242880);
  EXPECT_EQ(o.maxReqTimeout, 1h);
  EXPECT_EQ(o.maxHeartbeatInterval, 1min);
  EXPECT_EQ(o.maxRdyCount, 2500);
  EXPECT_EQ(o.maxOutputBufferSize, 65536);
  EXPECT_EQ(o.maxOutputBufferTimeout, 30s);
  EXPECT_EQ(o.minOutputBufferTimeout, 25ms);
  EXPECT_EQ(o.outputBufferTimeout, 250ms);
  EXPECT_EQ(o.maxChannelConsumers, 0);
  EXPECT_EQ(o.statsdAddress, "");
  EXPECT_EQ(o.statsdPrefix, "nsq.%s");
  EXPECT_EQ(o.statsdInterval, 1min);
  EXPECT_TRUE(o.statsdMemStats);
  EXPECT_EQ(o.statsdUdpPacketSize, 508);
  EXPECT_FALSE(o.statsdExcludeEphemeral);
  EXPECT_TRUE(o.e2eProcessingLatencyPercentiles.empty());
  EXPECT_EQ(o.e2eProcessingLatencyWindowTime, 10min);
  EXPECT_EQ(o.tlsRequired, "false");
  EXPECT_EQ(o.tlsMinVersion, "tls1.0");
  EXPECT_TRUE(o.deflate);
  EXPECT_TRUE(o.snappy);
  EXPECT_EQ(o.maxDeflateLevel, 6);
  EXPECT_TRUE(o.authHttpAddresses.empty());
  EXPECT_EQ(o.authHttpRequestMethod, "get");
  EXPECT_EQ(o.httpClientConnectTimeout, 2s);
  EXPECT_EQ(o.httpClientRequestTimeout, 5s);
  EXPECT_EQ(o.logLevel, "info");
  EXPECT_EQ(o.logPrefix, "[nsqd] ");
}

TEST(NsqdOptions, HelpDefaultsUseGoForms) {
  Bound b;
  const std::pair<const char*, const char*> cases[] = {
      {"mem-queue-size", "10000"},        {"msg-timeout", "1m0s"},
      {"max-msg-timeout", "15m0s"},       {"max-req-timeout", "1h0m0s"},
      {"max-heartbeat-interval", "1m0s"}, {"output-buffer-timeout", "250ms"},
      {"sync-timeout", "2s"},             {"statsd-interval", "1m0s"},
      {"max-msg-size", "1048576"},        {"max-body-size", "5242880"},
      {"max-rdy-count", "2500"},          {"e2e-processing-latency-window-time", "10m0s"},
      {"statsd-mem-stats", "true"},       {"statsd-prefix", "nsq.%s"},
      {"tcp-address", "0.0.0.0:4150"},    {"max-deflate-level", "6"},
  };
  for (const auto& [name, def] : cases) {
    const OptionSpec* s = b.set.find(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->defaultText, def) << name;
  }
}

TEST(NsqdOptions, EveryUpstreamFlagExists) {
  Bound b;
  for (const char* name :
       {"tcp-address", "http-address", "https-address", "broadcast-address", "broadcast-tcp-port",
        "broadcast-http-port", "lookupd-tcp-address", "node-id", "data-path", "mem-queue-size",
        "max-bytes-per-file", "sync-every", "sync-timeout", "queue-scan-worker-pool-max",
        "queue-scan-selection-count", "msg-timeout", "max-msg-timeout", "max-msg-size",
        "max-body-size", "max-req-timeout", "max-heartbeat-interval", "max-rdy-count",
        "max-output-buffer-size", "max-output-buffer-timeout", "min-output-buffer-timeout",
        "output-buffer-timeout", "max-channel-consumers", "statsd-address", "statsd-prefix",
        "statsd-interval", "statsd-mem-stats", "statsd-udp-packet-size", "statsd-exclude-ephemeral",
        "e2e-processing-latency-percentile", "e2e-processing-latency-window-time", "tls-cert",
        "tls-key", "tls-root-ca-file", "tls-client-auth-policy", "tls-required", "tls-min-version",
        "deflate", "snappy", "max-deflate-level", "auth-http-address", "auth-http-request-method",
        "http-client-connect-timeout", "http-client-request-timeout", "topology-region",
        "topology-zone", "enable-experiment", "log-level", "log-prefix", "verbose", "worker-id"})
    EXPECT_NE(b.set.find(name), nullptr) << name;
  EXPECT_TRUE(b.set.find("verbose")->hidden);
  EXPECT_TRUE(b.set.find("worker-id")->hidden);
  EXPECT_FALSE(b.set.find("mem-queue-size")->hidden);
}

// A sample value per kind that differs from every default.
std::string sample(const OptionSpec& s) {
  if (s.name == "tls-required") return "tcp-https";  // checked as it is parsed
  switch (s.kind) {
    case OptionKind::Bool: return s.defaultText == "true" ? "false" : "true";
    case OptionKind::Int: return "7";
    case OptionKind::Float: return "0.5";
    case OptionKind::String: return "sample-" + s.name;
    case OptionKind::Duration: return "7s";
    case OptionKind::StringList: return "item-" + s.name;
  }
  return "";
}

TEST(NsqdOptions, YamlKeysBindTheSameFieldsAsFlags) {
  Bound byFlag, byYaml;
  std::vector<std::string> args;
  std::string yaml;
  for (const auto& s : byFlag.set.specs()) {
    args.push_back("--" + s.name + "=" + sample(s));
    yaml += s.configKey() + ": " + (s.kind == OptionKind::StringList ? "[" + sample(s) + "]" : "\"" + sample(s) + "\"") + "\n";
  }
  byFlag.parse(args);
  byYaml.set.applyYaml(yaml, "nsqd.yaml");
  Bound untouched;
  ASSERT_EQ(byFlag.set.specs().size(), byYaml.set.specs().size());
  for (std::size_t i = 0; i < byFlag.set.specs().size(); ++i) {
    const auto& f = byFlag.set.specs()[i];
    const auto& y = byYaml.set.specs()[i];
    EXPECT_EQ(f.jsonValue(), y.jsonValue()) << f.name;
    // and the value really changed, so the comparison means something
    EXPECT_NE(f.jsonValue(), untouched.set.specs()[i].jsonValue()) << f.name;
  }
  EXPECT_EQ(byYaml.opts.memQueueSize, 7);
  EXPECT_EQ(byYaml.opts.msgTimeout, 7s);
  EXPECT_EQ(byYaml.opts.lookupdTcpAddresses, (std::vector<std::string>{"item-lookupd-tcp-address"}));
  EXPECT_EQ(byYaml.opts.statsdMemStats, false);
  EXPECT_EQ(byYaml.opts.tlsMinVersion, "sample-tls-min-version");
}

TEST(NsqdOptions, YamlUsesUpstreamKeyNames) {
  Bound b;
  b.set.applyYaml(
      "mem_queue_size: 5\nmax_rdy_count: 10\nlookupd_tcp_address:\n  - a:4160\n  - b:4160\n"
      "msg_timeout: 30s\nstatsd_mem_stats: false\ndata_path: /var/nsq\n",
      "nsqd.yaml");
  EXPECT_EQ(b.opts.memQueueSize, 5);
  EXPECT_EQ(b.opts.maxRdyCount, 10);
  EXPECT_EQ(b.opts.lookupdTcpAddresses, (std::vector<std::string>{"a:4160", "b:4160"}));
  EXPECT_EQ(b.opts.msgTimeout, 30s);
  EXPECT_FALSE(b.opts.statsdMemStats);
  EXPECT_EQ(b.opts.dataPath, "/var/nsq");
}

TEST(NsqdOptions, FinalizeAcceptsDefaultsAndFillsDerivedValues) {
  NsqdOptions o;
  ASSERT_NO_THROW(finalizeOptions(o));
  EXPECT_GE(o.nodeId, 0);
  EXPECT_LT(o.nodeId, 1024);
  EXPECT_FALSE(o.broadcastAddress.empty());
  EXPECT_EQ(o.dataPath, std::filesystem::current_path().string());
}

TEST(NsqdOptions, DerivedNodeIdIsStableForAHost) {
  NsqdOptions a, b;
  finalizeOptions(a);
  finalizeOptions(b);
  EXPECT_EQ(a.nodeId, b.nodeId);
}

TEST(NsqdOptions, ExplicitValuesAreKept) {
  NsqdOptions o;
  o.nodeId = 0;
  o.broadcastAddress = "me.example";
  o.dataPath = "/data";
  finalizeOptions(o);
  EXPECT_EQ(o.nodeId, 0);
  EXPECT_EQ(o.broadcastAddress, "me.example");
  EXPECT_EQ(o.dataPath, "/data");
  NsqdOptions top = valid();
  top.nodeId = 1023;
  EXPECT_NO_THROW(finalizeOptions(top));
}

TEST(NsqdOptions, RejectsNodeIdOutOfRange) {
  NsqdOptions o = valid();
  o.nodeId = 1024;
  expectRejected(o, "--node-id");
  o.nodeId = 5000;
  expectRejected(o, "--node-id");
}

TEST(NsqdOptions, RejectsNegativeNodeIdGivenOnTheCommandLine) {
  Bound b;
  b.parse({"--node-id=-5"});
  expectRejected(b.opts, "--node-id");
}

TEST(NsqdOptions, RejectsDeflateLevelOutsideOneToNine) {
  for (int64_t level : {0, -1, 10}) {
    NsqdOptions o = valid();
    o.maxDeflateLevel = level;
    expectRejected(o, "--max-deflate-level");
  }
  for (int64_t level : {1, 9}) {
    NsqdOptions o = valid();
    o.maxDeflateLevel = level;
    EXPECT_NO_THROW(finalizeOptions(o)) << level;
  }
}

TEST(NsqdOptions, RejectsE2ePercentilesOutsideZeroToOne) {
  for (const char* p : {"0", "-0.5", "1.01", "2", "abc", "", "0.5x"}) {
    NsqdOptions o = valid();
    o.e2eProcessingLatencyPercentiles = {p};
    expectRejected(o, "--e2e-processing-latency-percentile");
  }
  NsqdOptions o = valid();
  o.e2eProcessingLatencyPercentiles = {"1.0", "0.99", "0.999", "1"};
  EXPECT_NO_THROW(finalizeOptions(o));
  // As upstream's FloatArray: sorted largest first, duplicates kept, printed as Go prints floats.
  EXPECT_EQ(o.e2eProcessingLatencyPercentiles, (std::vector<std::string>{"1", "1", "0.999", "0.99"}));
}

TEST(NsqdOptions, E2eWindowMustBePositiveWhenPercentilesAreOn) {
  NsqdOptions o = valid();
  o.e2eProcessingLatencyWindowTime = std::chrono::seconds(0);
  EXPECT_NO_THROW(finalizeOptions(o));  // unused without percentiles
  o.e2eProcessingLatencyPercentiles = {"0.99"};
  expectRejected(o, "--e2e-processing-latency-window-time");
}

// NSQ-COMPAT §4.9: percentiles may be repeated or given as a comma list (upstream's FloatArray
// splits on ',').
TEST(NsqdOptions, AcceptsCommaSeparatedE2ePercentiles) {
  Bound b;
  b.parse({"--e2e-processing-latency-percentile=0.99,0.999", "--e2e-processing-latency-percentile=0.5",
           "--node-id=1"});
  EXPECT_NO_THROW(finalizeOptions(b.opts));
  EXPECT_EQ(b.opts.e2eProcessingLatencyPercentiles, (std::vector<std::string>{"0.999", "0.99", "0.5"}));
  Bound bad;
  bad.parse({"--e2e-processing-latency-percentile=0.99,1.5", "--node-id=1"});
  EXPECT_THROW(finalizeOptions(bad.opts), nsq::OptionError);
}

// --auth-http-address repeats, takes comma lists (ours) and the YAML key auth_http_address.
TEST(NsqdOptions, AuthHttpAddressesRepeatSplitOnCommasAndComeFromYaml) {
  Bound b;
  b.parse({"--auth-http-address=127.0.0.1:4181,127.0.0.1:4182", "-auth-http-address", "http://auth/v1",
           "--auth-http-request-method=post", "--node-id=1"});
  finalizeOptions(b.opts);
  EXPECT_EQ(b.opts.authHttpAddresses,
            (std::vector<std::string>{"127.0.0.1:4181", "127.0.0.1:4182", "http://auth/v1"}));
  EXPECT_EQ(b.opts.authHttpRequestMethod, "post");
  Bound y;
  y.set.applyYaml("auth_http_address:\n  - a:1\n  - b:2\nauth_http_request_method: get\n", "nsqd.yaml");
  finalizeOptions(y.opts);
  EXPECT_EQ(y.opts.authHttpAddresses, (std::vector<std::string>{"a:1", "b:2"}));
  Bound empty;
  empty.parse({"--auth-http-address=a:1,", "--node-id=1"});
  expectRejected(empty.opts, "--auth-http-address");
}

TEST(NsqdOptions, RejectsUnknownLogLevel) {
  for (const char* level : {"verbose", "INFO", "", "trace"}) {
    NsqdOptions o = valid();
    o.logLevel = level;
    expectRejected(o, "--log-level");
  }
  for (const char* level : {"debug", "info", "warn", "error", "fatal"}) {
    NsqdOptions o = valid();
    o.logLevel = level;
    EXPECT_NO_THROW(finalizeOptions(o)) << level;
  }
}

TEST(NsqdOptions, RejectsUnknownAuthMethod) {
  for (const char* m : {"put", "GET", ""}) {
    NsqdOptions o = valid();
    o.authHttpRequestMethod = m;
    expectRejected(o, "--auth-http-request-method");
  }
  NsqdOptions o = valid();
  o.authHttpRequestMethod = "post";
  EXPECT_NO_THROW(finalizeOptions(o));
}

TEST(NsqdOptions, RejectsUnknownTlsRequiredValue) {
  for (const char* v : {"maybe", "yes", ""}) {
    NsqdOptions o = valid();
    o.tlsRequired = v;
    expectRejected(o, "--tls-required");
  }
  for (const char* v : {"true", "false", "tcp-https"}) {
    NsqdOptions o = valid();
    o.tlsRequired = v;
    o.tlsCert = "/etc/nsq/cert.pem";  // files are read at start, not here
    o.tlsKey = "/etc/nsq/key.pem";
    EXPECT_NO_THROW(finalizeOptions(o)) << v;
  }
}

TEST(NsqdOptions, TlsRequiredTakesGoBooleansAndBareMeansTrue) {
  for (auto [arg, want] : std::vector<std::pair<std::string, std::string>>{
           {"--tls-required", "true"}, {"--tls-required=1", "true"}, {"--tls-required=FALSE", "false"},
           {"--tls-required=tcp-https", "tcp-https"}}) {
    Bound b;
    const char* argv[] = {"nsqd", arg.c_str()};
    std::ostringstream out;
    b.set.parse(2, argv, out);
    EXPECT_EQ(b.opts.tlsRequired, want) << arg;
  }
  Bound bad;
  const char* argv[] = {"nsqd", "--tls-required=maybe"};
  std::ostringstream out;
  EXPECT_THROW(bad.set.parse(2, argv, out), OptionError);
}

TEST(NsqdOptions, TlsPolicyImpliesRequiredAndNeedsCertificate) {
  NsqdOptions o = valid();
  o.tlsClientAuthPolicy = "require-verify";
  expectRejected(o, "without TLS key and cert");
  o.tlsCert = "/c.pem";
  o.tlsKey = "/k.pem";
  EXPECT_NO_THROW(finalizeOptions(o));
  EXPECT_EQ(o.tlsRequired, "true");
  o.tlsClientAuthPolicy = "sometimes";
  expectRejected(o, "--tls-client-auth-policy");
  NsqdOptions v = valid();
  v.tlsMinVersion = "tls1.4";
  expectRejected(v, "--tls-min-version");
}

TEST(NsqdOptions, RejectsInconsistentSizesAndTimeouts) {
  NsqdOptions a = valid();
  a.maxBodySize = a.maxMsgSize - 1;
  expectRejected(a, "--max-body-size");
  NsqdOptions b = valid();
  b.maxMsgTimeout = b.msgTimeout - 1s;
  expectRejected(b, "--max-msg-timeout");
  NsqdOptions c = valid();
  c.memQueueSize = -1;
  expectRejected(c, "--mem-queue-size");
  NsqdOptions d = valid();
  d.memQueueSize = 0;  // 0 is allowed: everything goes through disk
  EXPECT_NO_THROW(finalizeOptions(d));
}

TEST(NsqdOptions, ResourceLimitFlagsHaveDefaultsYamlKeysAndRangeChecks) {
  Bound b;
  b.parse({});
  EXPECT_EQ(b.opts.tcpMaxConnections, 65536);
  EXPECT_EQ(b.opts.maxTopics, 0);
  EXPECT_EQ(b.opts.maxChannelsPerTopic, 0);
  EXPECT_EQ(b.opts.httpHeaders.maxHeaderBytes, 65536);
  EXPECT_EQ(b.opts.httpHeaders.maxHeaderCount, 100);
  Bound y;
  y.set.applyYaml("tcp_max_connections: 10\nmax_topics: 3\nmax_channels_per_topic: 2\n"
                  "http_max_header_bytes: 2048\nhttp_max_header_count: 5\n",
                  "nsqd.yaml");
  EXPECT_EQ(y.opts.tcpMaxConnections, 10);
  EXPECT_EQ(y.opts.maxTopics, 3);
  EXPECT_EQ(y.opts.maxChannelsPerTopic, 2);
  EXPECT_EQ(y.opts.httpHeaders.maxHeaderBytes, 2048);
  EXPECT_EQ(y.opts.httpHeaders.maxHeaderCount, 5);

  NsqdOptions a = valid();
  a.tcpMaxConnections = 0;
  expectRejected(a, "--tcp-max-connections");
  a.tcpMaxConnections = 1000001;
  expectRejected(a, "--tcp-max-connections");
  a.tcpMaxConnections = 1;
  EXPECT_NO_THROW(finalizeOptions(a));
  NsqdOptions t = valid();
  t.maxTopics = -1;
  expectRejected(t, "--max-topics");
  NsqdOptions c = valid();
  c.maxChannelsPerTopic = -1;
  expectRejected(c, "--max-channels-per-topic");
  NsqdOptions h = valid();
  h.httpHeaders.maxHeaderBytes = 1023;
  expectRejected(h, "--http-max-header-bytes");
  NsqdOptions n = valid();
  n.httpHeaders.maxHeaderCount = 0;
  expectRejected(n, "--http-max-header-count");
}

}  // namespace
}  // namespace nsq::nsqd

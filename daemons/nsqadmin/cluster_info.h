#pragma once
// ClusterInfo: what nsqadmin knows about the cluster, asked fresh on every call, as the original
// nsqadmin's clusterinfo package does: topics, channels and producers from every nsqlookupd
// (/topics, /channels, /nodes, /lookup) or from the given nsqds (/info, /stats), then each
// producer's /stats?format=json, summed per topic and channel; and the admin actions (pause,
// empty, delete, tombstone, create), sent to every nsqd and nsqlookupd concerned.
//
// Fan-out: requests to different nodes run concurrently on at most kMaxParallel short-lived
// threads per call, each with the connect and request timeouts. A node that fails is named in
// QueryErrors::partial (the answer's "message"); only when no node answered is the query failed
// (QueryErrors::fatal, the handler's 502). Any thread; no shared mutable state.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>

#include "nsq/client/lookupd_client.h"

namespace nsq::admin {

inline constexpr std::size_t kMaxParallel = 16;

// One E2E latency percentile as the original's aggregate keeps it.
struct Percentile {
  double quantile = 0, value = 0, min = 0, max = 0, average = 0, count = 0;
};

struct E2eLatency {
  int64_t count = 0;
  std::vector<Percentile> percentiles;  // null in JSON when empty
  std::string topic, channel, host;
  bool perNode = true;  // a node's own figures (they carry "value")
  void add(const E2eLatency& other);
};

struct ClientStats {
  std::string node, remoteAddress, version, clientId, hostname, userAgent;
  int64_t connectTs = 0, inFlightCount = 0, readyCount = 0, finishCount = 0, requeueCount = 0, messageCount = 0;
  int64_t sampleRate = 0;
  bool deflate = false, snappy = false, authed = false, tls = false, tlsNegotiatedProtocolIsMutual = false;
  std::string authIdentity, authIdentityUrl, tlsCipherSuite, tlsVersion, tlsNegotiatedProtocol;
};

struct ChannelStats {
  std::string node, hostname, topicName, channelName;
  int64_t depth = 0, memoryDepth = 0, backendDepth = 0, inFlightCount = 0, deferredCount = 0, requeueCount = 0,
          timeoutCount = 0, messageCount = 0, clientCount = 0;
  std::vector<ChannelStats> nodes;  // per producer (aggregates only)
  std::vector<ClientStats> clients;
  bool paused = false;
  E2eLatency e2e;
  void add(const ChannelStats& nodeStats);  // sums a producer's figures in; node becomes "*"
};

struct TopicStats {
  std::string node, hostname, topicName;
  int64_t depth = 0, memoryDepth = 0, backendDepth = 0, messageCount = 0;
  std::vector<TopicStats> nodes;  // per producer (aggregates only)
  std::vector<ChannelStats> channels;
  bool paused = false;
  E2eLatency e2e;
  void add(const TopicStats& nodeStats);
};

struct ProducerTopic {
  std::string topic;
  bool tombstoned = false;
};

struct Producer {
  std::vector<std::string> remoteAddresses;  // "lookupd/remote" per lookupd that lists it
  std::string remoteAddress, hostname, broadcastAddress, version;
  int tcpPort = 0, httpPort = 0;
  std::vector<ProducerTopic> topics;
  bool outOfDate = false;
  std::string httpAddress() const;  // broadcast_address:http_port: the node's name in the API
  std::string tcpAddress() const;
};

struct QueryErrors {
  std::vector<std::string> partial;  // nodes that failed while others answered
  std::optional<std::string> fatal;  // no node answered: "failed to query any nsqd: ..."
  // "WARNING: a; b" as the original's maybeWarnMsg, or "".
  std::string message() const;
  void merge(const QueryErrors& other);
};

// Result of an action on one node ("node" is host:port, kind "nsqd" or "nsqlookupd").
struct NodeResult {
  std::string node, kind, error;  // error empty: done
};

struct NsqdStats {
  std::vector<TopicStats> topics;               // one per producer and topic, sorted by hostname
  std::map<std::string, ChannelStats> channels;  // summed; key "topic:channel" (or channel alone)
};

struct ClusterConfig {
  std::vector<std::string> lookupd;  // one of the two is set
  std::vector<std::string> nsqd;
  HttpTimeouts timeouts;
  Poco::Net::Context::Ptr tls;  // for https:// nodes; null = system CAs
};

class ClusterInfo {
 public:
  explicit ClusterInfo(ClusterConfig config) : c_(std::move(config)) {}
  const ClusterConfig& config() const { return c_; }

  // Sorted union of topics (lookupd /topics, or every nsqd's /stats).
  std::vector<std::string> topics(QueryErrors& errs) const;
  // Sorted union of a topic's channels from every lookupd (/channels).
  std::vector<std::string> lookupdTopicChannels(const std::string& topic, QueryErrors& errs) const;
  // Every nsqd: lookupd /nodes merged by TCP address (out_of_date: older than the newest), or
  // each given nsqd's /info + /stats.
  std::vector<Producer> producers(QueryErrors& errs) const;
  // The nsqds that have the topic: lookupd /lookup, or the given nsqds whose /stats lists it.
  std::vector<Producer> topicProducers(const std::string& topic, QueryErrors& errs) const;
  std::vector<Producer> nsqdProducers(const std::vector<std::string>& addrs, QueryErrors& errs) const;
  // Every producer's /stats?format=json (narrowed to topic / channel when given).
  NsqdStats nsqdStats(const std::vector<Producer>& producers, const std::string& topic, const std::string& channel,
                      bool includeClients, QueryErrors& errs) const;

  // Actions. Each returns what every node said; errs gets the failures (fatal when the
  // producers could not be listed at all).
  std::vector<NodeResult> topicAction(const std::string& topic, const std::string& channel, const std::string& verb,
                                      QueryErrors& errs) const;  // verb: pause, unpause, empty
  std::vector<NodeResult> createTopicChannel(const std::string& topic, const std::string& channel,
                                             QueryErrors& errs) const;
  std::vector<NodeResult> deleteTopic(const std::string& topic, QueryErrors& errs) const;
  std::vector<NodeResult> deleteChannel(const std::string& topic, const std::string& channel,
                                        QueryErrors& errs) const;
  std::vector<NodeResult> tombstoneNodeForTopic(const std::string& topic, const std::string& node,
                                                QueryErrors& errs) const;

 private:
  HttpReply call(const std::string& method, const std::string& addr, const std::string& target) const;
  std::string url(const std::string& addr, const std::string& target) const;
  std::vector<NodeResult> post(const std::vector<std::string>& addrs, const std::string& kind,
                               const std::string& target, QueryErrors& errs) const;
  ClusterConfig c_;
};

// JSON as the original nsqadmin writes these (key order as its structs).
std::string toJson(const TopicStats& t);
std::string toJson(const ChannelStats& c);
std::string toJson(const Producer& p);
std::string toJson(const std::vector<NodeResult>& results);

// Go's %q of a byte string: "..." with \" \\ \n \t \xNN escapes.
std::string goQuote(const std::string& s);

// Runs fn(0..n-1) on up to kMaxParallel threads and returns when all are done.
void fanOut(std::size_t n, const std::function<void(std::size_t)>& fn);

}  // namespace nsq::admin

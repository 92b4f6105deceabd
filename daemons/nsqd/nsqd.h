#pragma once
// Nsqd: the broker's lifecycle and wiring. Owns the topic map, the TCP listener and IO loops,
// the HTTP API, the queue scanner, the syncer, /ping health and the metadata file (nsqd.dat);
// topics and channels see it only through StorageContext and TopologyEvents (queue_context.h).
// The threading model is at the top of nsqd.cpp.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/Context.h>

#include "nsqd/health.h"
#include "nsqd/metadata.h"
#include "nsqd/options.h"
#include "nsqd/policy.h"
#include "nsqd/queue_context.h"
#include "nsqd/syncer.h"

namespace nsq::nsqd {

class Authorizer;
class ClientSession;
struct ClientStats;
class HttpApi;
class LookupRegistrar;
class StatsdPusher;
class IoLoop;
class Topic;

class Nsqd final : public StorageContext, public TopologyEvents, public DeadLetterSink {
 public:
  explicit Nsqd(NsqdOptions opts);
  ~Nsqd() override;
  Nsqd(const Nsqd&) = delete;
  Nsqd& operator=(const Nsqd&) = delete;

  // Locks the data path, loads metadata, binds listeners, starts threads. Throws
  // std::runtime_error with a one-line reason on failure.
  void start();
  // Graceful stop: listeners and clients close, metadata and every queued, in-flight and
  // deferred message is written to disk. Idempotent.
  void stop();

  const NsqdOptions& options() const override { return opts_; }
  int tcpPort() const { return tcpPort_; }
  int httpPort() const { return httpPort_; }
  int httpsPort() const { return httpsPort_; }  // 0 without cert+key or --https-address
  // The TLS server context, or null without --tls-cert/--tls-key. Set in start().
  const Poco::Net::Context::Ptr& tlsContext() const { return tlsContext_; }
  int64_t startTime() const { return startTime_; }  // unix seconds
  // The auth servers' client, or null when --auth-http-address is not set. Set in start().
  Authorizer* authorizer() const { return authorizer_.get(); }
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }

  // Message policies (policy.h). setPolicies() before start() (main passes what it loaded from
  // --config); reloadPolicies() (SIGHUP) reads configPath again and re-resolves every topic's
  // policy, or keeps the old ones and returns why not (also logged). Any thread.
  void setPolicies(std::shared_ptr<const PolicySet> policies, std::string configPath = "");
  std::string reloadPolicies();
  // The policy a topic named name has or would get now (null: none).
  std::shared_ptr<const TopicPolicy> policyFor(const std::string& name) const;
  DeadLetterSink* deadLetters() override { return this; }
  bool reserveDeadLetterId(const std::string& topic, MessageId& id) override;
  Error deadLetter(const std::string& topic, const Message& msg, const MessageId& id) override;
  bool holdsDeadLetter(const std::string& topic, const MessageId& id) override;

  // Topic registry. getTopic creates on first use; nullptr while exiting, or when a new topic
  // would pass --max-topics under Limit::Enforce (then *refused says so).
  std::shared_ptr<Topic> getTopic(const std::string& name, Limit limit = Limit::Enforce, Refusal* refused = nullptr);
  std::shared_ptr<Topic> findTopic(const std::string& name) const;
  bool deleteTopic(const std::string& name) override;  // false if absent
  std::vector<std::shared_ptr<Topic>> topics() const;  // sorted by name

  // Where fsyncs run (see syncer.h).
  Syncer& syncer() override { return syncer_; }
  // Asks the scanner for a pass now (a topic has a backlog to move into a new channel).
  void wakeScanner() override;

  // Health: NOK while any source (a disk queue, a journal) has a failed write or sync that no
  // later write or sync of the same source has made good. Any thread.
  HealthSink& healthSink() override { return health_; }
  std::string health() const { return health_.text(); }  // "OK" or "NOK - <error>" (the latest)
  bool healthy() const { return health_.healthy(); }

  // Writes nsqd.dat (topics, channels, paused state). Any thread. persistMetadataLater() has
  // the syncer do it (coalesced), for callers on IO threads.
  void persistMetadata();
  void persistMetadataLater();
  // Topology changes: persist nsqd.dat (non-ephemeral) and tell every nsqlookupd. Any thread,
  // never with a topic or channel lock held.
  void topicCreated(const std::shared_ptr<Topic>& topic);
  void topicDeleted(const std::string& topic);
  void channelCreated(const std::string& topic, const std::string& channel) override;
  void channelDeleted(const std::string& topic, const std::string& channel) override;

  // nsqlookupd TCP addresses in use; setting them connects new ones and drops removed ones.
  std::vector<std::string> lookupdAddresses() const;
  void setLookupdAddresses(const std::vector<std::string>& addresses);

  IoLoop& nextLoop();
  // Open TCP client connections, counted from accept to close against --tcp-max-connections:
  // each holds a ConnectionSlot (connection_slot.h). Any thread.
  std::size_t tcpConnections() const { return tcpConnections_.load(std::memory_order_relaxed); }

  // Live TCP clients (for /stats producers). IoLoop registers a session once it is polled and
  // unregisters it on close. Any thread.
  void registerClient(std::shared_ptr<ClientSession> client);
  void unregisterClient(uint64_t id);
  std::vector<std::shared_ptr<ClientSession>> clients() const;  // sorted by id
  // Each live client's stats, sorted by id; taken outside the registry's lock.
  std::vector<ClientStats> clientStats() const;

 private:
  void loadMetadata();
  void lockDataPath();
  void acceptLoop();
  void scanLoop();

  NsqdOptions opts_;
  int64_t startTime_;
  std::atomic<bool> exiting_{false};
  std::atomic<bool> started_{false};
  Health health_;

  mutable std::mutex policiesMutex_;
  std::shared_ptr<const PolicySet> policies_;  // guarded by policiesMutex_
  std::string configPath_;                     // guarded by policiesMutex_

  mutable std::shared_mutex topicsMutex_;
  std::unordered_map<std::string, std::shared_ptr<Topic>> topics_;
  std::mutex metadataMutex_;
  bool loadingMetadata_ = false;
  MetadataFile metadata_;  // guarded by metadataMutex_

  int listenFd_ = -1;
  int tcpPort_ = 0;
  int httpPort_ = 0;
  int httpsPort_ = 0;
  Poco::Net::Context::Ptr tlsContext_;
  int lockFd_ = -1;
  std::vector<std::unique_ptr<IoLoop>> loops_;
  std::atomic<std::size_t> nextLoop_{0};
  std::atomic<uint64_t> nextClientId_{0};
  std::atomic<std::size_t> tcpConnections_{0};
  std::thread acceptThread_;
  std::thread scanThread_;
  Syncer syncer_;
  std::atomic<bool> metadataQueued_{false};
  std::mutex scanMutex_;
  std::condition_variable scanCv_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<HttpApi> http_;
  std::unique_ptr<StatsdPusher> statsd_;  // only with --statsd-address
  std::unique_ptr<LookupRegistrar> lookup_;  // set in start(), before any other thread runs
  mutable std::mutex clientsMutex_;
  std::map<uint64_t, std::shared_ptr<ClientSession>> clients_;

  friend class ClientSession;
 public:
  uint64_t newClientId() { return nextClientId_.fetch_add(1) + 1; }
};

}  // namespace nsq::nsqd

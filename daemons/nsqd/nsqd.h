#pragma once
// Nsqd: the broker. Owns the topic map, the TCP listener and IO loops, the HTTP API, the queue
// scanner and the metadata file (nsqd.dat). See main.cpp for the threading model.
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

#include "nsq/storage/disk_queue.h"
#include "nsqd/memory_queue.h"
#include "nsqd/message_journal.h"
#include "nsqd/options.h"
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

class Nsqd {
 public:
  explicit Nsqd(NsqdOptions opts);
  ~Nsqd();
  Nsqd(const Nsqd&) = delete;
  Nsqd& operator=(const Nsqd&) = delete;

  // Locks the data path, loads metadata, binds listeners, starts threads. Throws
  // std::runtime_error with a one-line reason on failure.
  void start();
  // Graceful stop: listeners and clients close, metadata and every queued, in-flight and
  // deferred message is written to disk. Idempotent.
  void stop();

  const NsqdOptions& options() const { return opts_; }
  int tcpPort() const { return tcpPort_; }
  int httpPort() const { return httpPort_; }
  int httpsPort() const { return httpsPort_; }  // 0 without cert+key or --https-address
  // The TLS server context, or null without --tls-cert/--tls-key. Set in start().
  const Poco::Net::Context::Ptr& tlsContext() const { return tlsContext_; }
  int64_t startTime() const { return startTime_; }  // unix seconds
  // The auth servers' client, or null when --auth-http-address is not set. Set in start().
  Authorizer* authorizer() const { return authorizer_.get(); }
  bool exiting() const { return exiting_.load(std::memory_order_acquire); }

  // Topic registry. getTopic creates on first use (nullptr while exiting).
  std::shared_ptr<Topic> getTopic(const std::string& name);
  std::shared_ptr<Topic> findTopic(const std::string& name) const;
  bool deleteTopic(const std::string& name);  // false if absent
  std::vector<std::shared_ptr<Topic>> topics() const;  // sorted by name

  // Options for a topic's or channel's disk queue.
  DiskQueueOptions diskQueueOptions(const std::string& queueName) const;
  // A topic's or channel's disk queue, its due syncs run by syncer() and its health reported to
  // setHealth(). retained: segments the owner's journal refers to (DiskQueue::retainSegments).
  std::shared_ptr<DiskQueue> makeDiskQueue(const std::string& queueName, std::vector<int64_t> retained = {});
  // Where fsyncs run (see syncer.h); journalThenDisk() queues a journal fsync and, if it
  // succeeds, commits the disk queue's reads up to *commit (when given) and runs its owed sync
  // (journal and disk may each be null).
  Syncer& syncer() { return syncer_; }
  void journalThenDisk(std::unique_ptr<MessageJournal::Sync> journal, std::shared_ptr<DiskQueue> disk,
                       std::optional<DiskQueue::Position> commit = std::nullopt);
  // journalThenDisk() for each journal fsync a publish or drain collected; empties syncs.
  void syncJournalsLater(std::vector<std::unique_ptr<MessageJournal::Sync>>& syncs);
  // Asks the scanner for a pass now (a topic has a backlog to move into a new channel).
  void wakeScanner();

  // Stores a message a topic or channel accepted: into staged (the caller moves it to its
  // memory queue once the publish is prepared) while memorySize + staged stays below
  // --mem-queue-size (an #ephemeral queue, disk == nullptr, keeps at least a one-message
  // hand-off slot and drops the overflow), else appended to the disk queue's batch (scratch is
  // the caller's encode buffer), which DiskQueue::prepare()/publish() complete. false with
  // *error when the disk write fails. Caller holds its queue lock.
  bool storeMessage(std::size_t memorySize, std::vector<Message>& staged, DiskQueue* disk,
                    std::string& scratch, Message&& msg, std::string* error);

  // Health: NOK while any source (a disk queue, a journal) has a failed write or sync that no
  // later write or sync of the same source has made good. Any thread.
  void setHealth(const std::string& source, const std::string& error);
  void clearHealth(const std::string& source);  // cheap when the source is not failing
  std::string health() const;  // "OK" or "NOK - <error>" (the latest failure)
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }

  // Writes nsqd.dat (topics, channels, paused state). Any thread. persistMetadataLater() has
  // the syncer do it (coalesced), for callers on IO threads.
  void persistMetadata();
  void persistMetadataLater();
  // Topology changes: persist nsqd.dat (non-ephemeral) and tell every nsqlookupd. Any thread,
  // never with a topic or channel lock held.
  void topicCreated(const std::shared_ptr<Topic>& topic);
  void topicDeleted(const std::string& topic);
  void channelCreated(const std::string& topic, const std::string& channel);
  void channelDeleted(const std::string& topic, const std::string& channel);

  // nsqlookupd TCP addresses in use; setting them connects new ones and drops removed ones.
  std::vector<std::string> lookupdAddresses() const;
  void setLookupdAddresses(const std::vector<std::string>& addresses);

  IoLoop& nextLoop();
  void adoptConnection(int fd, std::string remote);

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
  std::atomic<bool> healthy_{true};
  mutable std::mutex healthMutex_;
  std::map<std::string, std::pair<uint64_t, std::string>> healthErrors_;  // source -> (seq, error)
  uint64_t healthSeq_ = 0;

  mutable std::shared_mutex topicsMutex_;
  std::unordered_map<std::string, std::shared_ptr<Topic>> topics_;
  std::mutex metadataMutex_;
  bool loadingMetadata_ = false;
  std::string lastMetadata_;  // what nsqd.dat holds (guarded by metadataMutex_)

  int listenFd_ = -1;
  int tcpPort_ = 0;
  int httpPort_ = 0;
  int httpsPort_ = 0;
  Poco::Net::Context::Ptr tlsContext_;
  int lockFd_ = -1;
  std::vector<std::unique_ptr<IoLoop>> loops_;
  std::atomic<std::size_t> nextLoop_{0};
  std::atomic<uint64_t> nextClientId_{0};
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

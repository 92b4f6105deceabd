#pragma once
// RegistrationDB: what nsqlookupd knows about the cluster (NSQ-COMPAT §3). A registration is a
// key (category "client", "topic" or "channel"; topic; channel) that maps to the producers
// (nsqd connections) that announced it. Keys outlive their producers: a key stays listed, empty,
// until deleted over HTTP, except for the #ephemeral rules of §3.1.
//
// Thread-safe: every method takes the one internal mutex; results are snapshots.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nsq::lookupd {

// The nsqd side of one V1 connection, from its IDENTIFY. Immutable after IDENTIFY except
// lastUpdate, which PING refreshes (shared by every registration of the connection).
struct PeerInfo {
  std::string id;  // TCP peer "ip:port", unique per connection
  std::string remoteAddress;
  std::string hostname;
  std::string broadcastAddress;
  int64_t tcpPort = 0;
  int64_t httpPort = 0;
  std::string version;
  std::string topologyZone;
  std::string topologyRegion;
  std::atomic<int64_t> lastUpdate{0};  // unix ns of the last IDENTIFY/PING

  std::string node() const { return broadcastAddress + ":" + std::to_string(httpPort); }
};
using PeerPtr = std::shared_ptr<const PeerInfo>;

struct Registration {
  std::string category;  // "client", "topic" or "channel"
  std::string key;       // topic ("" for client)
  std::string subKey;    // channel ("" otherwise)

  auto operator<=>(const Registration&) const = default;
  bool matches(const std::string& category, const std::string& key,
               const std::string& subKey) const;  // "*" matches any key / subKey
};

// One producer of one registration. Tombstones are per registration (§3.2).
struct Producer {
  PeerPtr peer;
  bool tombstoned = false;
  int64_t tombstonedAt = 0;  // unix ns

  bool isTombstoned(int64_t now, std::chrono::nanoseconds lifetime) const {
    return tombstoned && now - tombstonedAt < lifetime.count();
  }
};

class RegistrationDB {
 public:
  using Clock = std::function<int64_t()>;  // unix ns
  static int64_t systemNow();

  explicit RegistrationDB(Clock clock = systemNow) : clock_(std::move(clock)) {}

  int64_t now() const { return clock_(); }

  // Low-level operations (the upstream vocabulary). "*" in key/subKey is a wildcard for find*.
  void addRegistration(const Registration& r);
  bool addProducer(const Registration& r, PeerPtr peer);  // true when the producer is new
  // Returns {removed, producers left}; {false, 0} when the key does not exist.
  std::pair<bool, std::size_t> removeProducer(const Registration& r, const std::string& id);
  bool removeRegistration(const Registration& r);  // true when it existed
  std::vector<Registration> findRegistrations(const std::string& category, const std::string& key,
                                              const std::string& subKey) const;
  // Producers of all matching keys, each peer once (first match wins), ordered by peer id.
  std::vector<Producer> findProducers(const std::string& category, const std::string& key,
                                      const std::string& subKey) const;
  std::vector<Registration> lookupRegistrations(const std::string& peerId) const;
  // Every registration with its producers (for /debug).
  std::map<Registration, std::vector<Producer>> snapshot() const;

  // Protocol operations with the §3.1 rules, each atomic.
  // REGISTER: topic (and channel if not empty). Returns the keys newly joined.
  std::vector<Registration> registerProducer(PeerPtr peer, const std::string& topic,
                                             const std::string& channel);
  // UNREGISTER channel: leave it, drop an empty #ephemeral channel. UNREGISTER topic: leave the
  // topic and all its channels, drop an empty #ephemeral topic. Returns the keys left.
  std::vector<Registration> unregisterProducer(const std::string& peerId, const std::string& topic,
                                               const std::string& channel);
  // Disconnect: the peer leaves every key; keys stay. Returns the keys left.
  std::vector<Registration> removePeer(const std::string& peerId);
  // /topic/delete: drops the topic key and all its channel keys.
  void deleteTopic(const std::string& topic);
  // /topic/tombstone: tombstones the topic's producers whose node() equals `node`. Returns count.
  int tombstone(const std::string& topic, const std::string& node);

 private:
  using ProducerMap = std::map<std::string, Producer>;  // by peer id
  std::pair<bool, std::size_t> removeProducerLocked(const Registration& r, const std::string& id);

  Clock clock_;
  mutable std::mutex mu_;
  std::map<Registration, ProducerMap> registrations_;
};

// Producers whose peer was seen within `inactive` and that are not tombstoned within
// `tombstoneLifetime` (0 = ignore tombstones).
std::vector<Producer> filterByActive(const std::vector<Producer>& producers, int64_t now,
                                     std::chrono::nanoseconds inactive,
                                     std::chrono::nanoseconds tombstoneLifetime);

// Distinct keys (resp. subKeys) of the registrations, sorted.
std::vector<std::string> keysOf(const std::vector<Registration>& regs);
std::vector<std::string> subKeysOf(const std::vector<Registration>& regs);

}  // namespace nsq::lookupd

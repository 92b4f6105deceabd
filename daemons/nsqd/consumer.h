#pragma once
// Consumer: what a Channel needs from a subscriber, and nothing more (upstream's channel talks
// to the same kind of small interface). ClientSession is the one real implementation; tests use
// small fakes. The channel keeps its own per-consumer bookkeeping (messages in flight, whether
// the consumer is waiting for a put) under its own lock; a consumer never sees it written.
//
// ClientStats lives here because both sides of the interface produce it: the session fills in
// what it knows, and reads its in-flight count from the channel (Channel::inFlightCount).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nsq::nsqd {

// One client's row in /stats (NSQ-COMPAT §2.4), for consumers and producers alike.
struct ClientStats {
  std::string clientId, hostname, userAgent, remoteAddress;
  int state = 0;
  int64_t readyCount = 0, inFlightCount = 0;
  uint64_t messageCount = 0, finishCount = 0, requeueCount = 0;
  int64_t connectTs = 0;
  int sampleRate = 0;
  bool deflate = false, snappy = false, tls = false;
  std::string tlsVersion, tlsCipherSuite;
  bool authed = false;  // AUTH succeeded (auth enabled)
  std::string authIdentity, authIdentityUrl;
  std::vector<std::pair<std::string, uint64_t>> pubCounts;
};

class Consumer {
 public:
  virtual ~Consumer() = default;

  // Unique for the life of nsqd; names the consumer in the channel's in-flight table.
  virtual uint64_t id() const = 0;
  // The RDY count: the channel delivers while the consumer has fewer than this in flight.
  // Any thread (called under the channel's lock; must not take it).
  virtual int64_t readyCount() const = 0;
  // IDENTIFY's msg_timeout (ns) and sample_rate (0 = all, else keep ~that percent). Read by
  // pull() and touch(), on the consumer's own thread.
  virtual int64_t msgTimeoutNs() const = 0;
  virtual int sampleRate() const = 0;

  // Any thread, any locks held: there may be messages for you; call pull() again soon.
  // Must not call back into the channel synchronously.
  virtual void wake() = 0;
  // Any thread, any locks held: the channel is going away; disconnect soon.
  virtual void requestClose() = 0;
  // Any thread, no channel lock held (the implementation may ask the channel for its counts).
  virtual ClientStats stats() const = 0;
};

}  // namespace nsq::nsqd

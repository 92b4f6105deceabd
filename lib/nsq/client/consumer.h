#pragma once
// Consumer: subscribes one topic/channel on a set of nsqd nodes, given directly or discovered
// by polling nsqlookupd, and hands each message to a handler (NSQ-COMPAT §6, go-nsq defaults).
// It splits max_in_flight into per-connection RDY counts, answers heartbeats, backs off after
// failed messages, reconnects, and on stop() sends CLS everywhere and waits until the messages
// it holds are finished or requeued.
//
// Threading: one reader thread per connection, one manager thread (lookupd polls, RDY
// redistribution, backoff timer, reconnects) and `concurrency` handler threads that call the
// handler. All bookkeeping sits behind one mutex; FIN/REQ/TOUCH writes happen outside it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nsq/client/connection.h"
#include "nsq/client/lookupd_client.h"
#include "nsq/client/rdy.h"
#include "nsq/protocol/message.h"

namespace nsq {

// A Consumer's settings: the connection's (conn, see ConnectionConfig) and go-nsq's consumer
// options, named in quotes as applyConsumerOption() accepts them. Defaults are go-nsq's.
struct ConsumerConfig {
  ConnectionConfig conn;
  int64_t maxInFlight = 1;  // "max_in_flight": messages held at once over all nsqd connections
  int64_t maxAttempts = 5;  // "max_attempts": a message delivered more often is finished
                            // without the handler (logged); 0 = no limit
  std::chrono::milliseconds lookupdPollInterval{60000};  // "lookupd_poll_interval"
  double lookupdPollJitter = 0.3;                        // "lookupd_poll_jitter": 0..1
  std::chrono::milliseconds defaultRequeueDelay{90000};  // "default_requeue_delay", x attempts
  std::chrono::milliseconds maxRequeueDelay{900000};     // "max_requeue_delay"
  std::chrono::milliseconds backoffMultiplier{1000};     // "backoff_multiplier"
  std::chrono::milliseconds maxBackoffDuration{120000};  // "max_backoff_duration"; 0 = no backoff
  std::chrono::milliseconds lowRdyIdleTimeout{10000};    // "low_rdy_idle_timeout"
  std::chrono::milliseconds lowRdyTimeout{30000};        // "low_rdy_timeout"
  std::chrono::milliseconds rdyRedistributeInterval{5000};  // "rdy_redistribute_interval"
  std::chrono::milliseconds stopTimeout{30000};  // waitStopped()'s limit for in-flight messages
  int64_t concurrency = 1;  // handler threads (go-nsq's AddConcurrentHandlers(h, n))
  HttpTimeouts http;        // nsqlookupd queries: connect and whole-request timeouts
};

// Applies one go-nsq option written "key,value" (bare "key" = true), e.g. "max_in_flight,100" or
// "snappy": ConsumerConfig's and ConnectionConfig's names. Returns "" or an error.
std::string applyConsumerOption(ConsumerConfig& cfg, const std::string& keyValue);
// Applies each option in turn, then checks the whole (validateConnectionConfig: the TLS files).
// Returns "" or the first error.
std::string applyConsumerOptions(ConsumerConfig& cfg, const std::vector<std::string>& keyValues);

// For the consuming tools (nsq_tail, nsq_to_file): the help of their --max-in-flight and
// --consumer-opt flags (nsq_to_file keeps upstream's "passthrough"), and the start-up check of
// --consumer-opt values, which throws OptionError("flag --consumer-opt: <error>").
inline constexpr const char* kMaxInFlightHelp = "max number of messages to allow in flight";
std::string consumerOptHelp(std::string_view passThrough = "pass through");
void checkConsumerOpts(const std::vector<std::string>& keyValues);
// The start-up check of a consuming tool's sources: one of --nsqd-tcp-address and
// --lookupd-http-address (not both), each a host:port (lookupd: an http:// prefix allowed).
// Throws OptionError naming the flag.
void checkConsumerSources(const std::vector<std::string>& nsqdTcpAddresses,
                          const std::vector<std::string>& lookupdHttpAddresses);

class Consumer;
struct ConsumerConn;

// One delivered message, handed to the handler. Respond once: finish(), requeue(), or return a
// HandlerResult other than Later and let the consumer respond. The Delivery may be kept and
// answered later from any thread (return HandlerResult::Later), but nsqd redelivers it after
// msg_timeout unless touch() is called. Responding after the connection closed does nothing
// (nsqd requeues the message itself).
class Delivery {
 public:
  // The message: id, attempts (1 on first delivery), timestamp (ns) and body.
  const Message& message() const { return msg_; }
  std::string_view body() const { return msg_.body.view(); }
  const std::string& topic() const;
  // FIN: done, nsqd forgets it.
  void finish();
  // REQ: deliver again after delay. nullopt = default_requeue_delay x attempts (capped by
  // max_requeue_delay). backoff: count it as a failure (slows the consumer, see max_backoff_duration).
  void requeue(std::optional<std::chrono::milliseconds> delay = std::nullopt, bool backoff = true);
  // TOUCH: restart nsqd's msg_timeout for it (a slow handler that is still working).
  void touch();
  bool responded() const { return responded_; }

 private:
  friend class Consumer;
  Message msg_;
  std::shared_ptr<ConsumerConn> conn_;
  Consumer* consumer_ = nullptr;
  std::atomic<bool> responded_{false};
};
using DeliveryPtr = std::shared_ptr<Delivery>;

// What the consumer does with a message once the handler returns.
enum class HandlerResult {
  Finish,                 // FIN, counts as success for backoff
  Requeue,                // REQ with the default delay, backoff
  RequeueWithoutBackoff,  // REQ 0, no backoff (e.g. shutting down)
  Later,                  // the handler keeps the Delivery and responds itself
};
// Called on one of `concurrency` handler threads, one message at a time per thread. It must not
// throw: catch inside and return Requeue (an escaping exception reaches std::terminate).
using Handler = std::function<HandlerResult(const DeliveryPtr&)>;

class Consumer {
 public:
  // Starts the handler and manager threads; connects to nothing yet. Throws ConnectionError
  // for a topic or channel name nsqd would refuse (1-64 of [.a-zA-Z0-9_-], optional "#ephemeral").
  Consumer(std::string topic, std::string channel, ConsumerConfig cfg, Handler handler);
  // stop() and waitStopped(), then joins every thread.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Connects and subscribes; throws ConnectionError naming the nsqd (unreachable, SUB refused).
  // A connection lost later is retried every lookupd_poll_interval.
  void connectToNsqd(const std::string& address);
  // Queries the lookupds now (errors are logged, not thrown) and then every poll interval.
  void connectToLookupds(const std::vector<std::string>& addresses);

  // The consuming tools' --nsqd-tcp-address / --lookupd-http-address: connectToNsqd() for each
  // of nsqds, or connectToLookupds(lookupds) when nsqds is empty. Throws as connectToNsqd().
  void connectToSources(const std::vector<std::string>& nsqds, const std::vector<std::string>& lookupds);

  // Begins a graceful stop: CLS on every connection. Returns at once. Any thread.
  void stop();
  // Waits until every connection is closed (after its in-flight messages were answered) or
  // stop_timeout passed, then closes what is left. Returns false on timeout.
  bool waitStopped();

  const std::string& topic() const { return topic_; }
  const std::string& channel() const { return channel_; }
  std::size_t connectionCount();
  std::vector<int64_t> rdyCounts();  // per live connection, for tests
  int backoffLevel();
  uint64_t received() const { return received_; }
  uint64_t finished() const { return finished_; }
  uint64_t requeued() const { return requeued_; }

 private:
  friend class Delivery;
  enum class Response { Fin, Req, Touch };
  void respond(Delivery& d, Response r, std::chrono::milliseconds delay, bool backoff);
  void connectTo(const std::string& address);  // throws ConnectionError
  void readLoop(std::shared_ptr<ConsumerConn> c);
  void handlerLoop();
  void managerLoop();
  void queryLookupds();
  // Called with mutex_ held.
  void setRdy(ConsumerConn& c, int64_t n);
  void rebalance();
  void applyBackoff(Backoff::Signal s);
  void onClosed(const std::shared_ptr<ConsumerConn>& c, const std::string& reason);
  void maybeClose(ConsumerConn& c);
  int64_t totalRdy() const;

  std::string topic_;
  std::string channel_;
  ConsumerConfig cfg_;
  Handler handler_;

  std::mutex mutex_;
  std::condition_variable managerCv_;
  std::condition_variable queueCv_;
  std::condition_variable stoppedCv_;
  std::vector<std::shared_ptr<ConsumerConn>> conns_;     // live, subscribed
  std::vector<std::shared_ptr<ConsumerConn>> allConns_;  // every one ever started (threads joined at exit)
  std::deque<DeliveryPtr> queue_;
  std::vector<std::string> lookupds_;
  std::size_t lookupdIndex_ = 0;
  std::map<std::string, SteadyTime> reconnectAt_;
  std::vector<std::string> connecting_;
  Backoff backoff_;
  SteadyTime resumeAt_{};
  SteadyTime nextPoll_{};
  bool pollNow_ = false;
  SteadyTime nextRedistribute_{};
  std::optional<SteadyTime> rdyRetryAt_;
  bool stopping_ = false;
  SteadyTime stopDeadline_{};
  bool shutdown_ = false;
  std::mt19937 rng_;
  std::thread manager_;
  std::vector<std::thread> handlers_;
  std::atomic<uint64_t> received_{0}, finished_{0}, requeued_{0};
};

}  // namespace nsq

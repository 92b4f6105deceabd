#pragma once
// Producer: publishes to one nsqd over TCP (PUB, MPUB, DPUB). It connects lazily on the first
// publish and again after a lost connection; publishes are pipelined and each reply is matched
// to the oldest outstanding publish (FIFO), as go-nsq does. A background reader answers
// heartbeats with NOP, so an idle producer stays connected.
//
// Threading: publish calls may come from any thread; each blocks until nsqd answers. One reader
// thread per live connection. The destructor closes the connection and fails what is pending.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nsq/client/connection.h"

namespace nsq {

// The outcome of one publish. `error` is empty on success. When it failed, `sent` says whether
// the command reached the socket (then nsqd may or may not have queued it).
struct PublishResult {
  std::string error;
  bool sent = false;
  bool ok() const { return error.empty(); }
};

// For the publishing tools (to_nsq, nsq_to_nsq): a ConnectionConfig from go-nsq style
// "key,value" --producer-opt values (bare key = true), checked whole (TLS files). Throws
// OptionError("flag --producer-opt: <error>").
ConnectionConfig producerConfig(const std::vector<std::string>& keyValues);

// Encodes an MPUB body: [int32 n] then n x ([int32 size][bytes]).
std::string encodeMpubBody(const std::vector<std::string>& bodies);

class Producer {
 public:
  // address: the nsqd TCP address, "host:port" (e.g. "127.0.0.1:4150"). Does not connect;
  // cfg is checked when the first connection is made (connect() or the first publish).
  Producer(std::string address, ConnectionConfig cfg = {});
  // stop(), then joins the reader threads.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // PUB: one message. Blocks until nsqd answers OK or an error (E_BAD_TOPIC, E_PUB_FAILED, ...),
  // or the connection fails (dial, write or read timeout of cfg). Never throws for any of these:
  // the result's `error` says what happened ("<address>: E_BAD_TOPIC ...") and `sent` whether
  // the command left this process. A failed publish leaves the producer usable; the next
  // publish reconnects. The topic name is checked by nsqd, not here.
  PublishResult publish(const std::string& topic, std::string_view body);
  // MPUB: several messages, queued by nsqd all or none. Empty `bodies` is an error from nsqd.
  PublishResult multiPublish(const std::string& topic, const std::vector<std::string>& bodies);
  // DPUB: one message delivered to consumers no earlier than `delay` from now (nsqd caps it at
  // its --max-req-timeout, 1 h by default).
  PublishResult deferredPublish(const std::string& topic, std::chrono::milliseconds delay, std::string_view body);

  // Connects now (publishes connect lazily), so a wrong address or refused TLS shows at start-up.
  // Throws ConnectionError naming the address.
  void connect();
  // Closes the connection; publishes still waiting fail with an error. Later publishes fail.
  // Idempotent; any thread.
  void stop();
  const std::string& address() const { return address_; }

 private:
  struct Pending;
  struct Live;
  PublishResult send(const std::string& line, std::string_view body);
  std::shared_ptr<Live> ensureConnected();
  void readLoop(std::shared_ptr<Live> live);

  std::string address_;
  ConnectionConfig cfg_;
  std::mutex mutex_;  // guards live_ and each Live's pending queue
  std::shared_ptr<Live> live_;
  std::vector<std::thread> readers_;
  bool stopped_ = false;
};

}  // namespace nsq

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
  Producer(std::string address, ConnectionConfig cfg = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  PublishResult publish(const std::string& topic, std::string_view body);
  PublishResult multiPublish(const std::string& topic, const std::vector<std::string>& bodies);
  PublishResult deferredPublish(const std::string& topic, std::chrono::milliseconds delay, std::string_view body);

  // Connects now (publishes connect lazily); throws ConnectionError naming the address.
  void connect();
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

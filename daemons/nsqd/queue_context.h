#pragma once
// The narrow views of nsqd that a topic, a channel and their backlogs get instead of Nsqd&:
// what storage needs (options, where health goes, where fsyncs run) and the topology changes a
// topic reports upward. Nsqd implements both; a test can pass small fakes.
#include <string>

#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

class Syncer;

// How a get-or-create meets --max-topics and --max-channels-per-topic. Enforce: a new one past
// the limit is refused (nullptr, and the Refusal says which limit). Exempt: it is created anyway, with a
// warning; for topics and channels restored from nsqd.dat and for dead-letter topics, so that a
// limit never loses a message that is already stored or on its way to a dead-letter topic.
enum class Limit { Enforce, Exempt };

// Which limit refused a get-or-create. Built where the limit is checked, so every protocol
// says the same: an error frame "<CMD> failed " + text(), an HTTP 503 with code, a log line.
struct Refusal {
  std::string code;    // "TOO_MANY_TOPICS" or "TOO_MANY_CHANNELS" (the HTTP error text)
  std::string detail;  // e.g. "nsqd has 100 topics (--max-topics)"
  explicit operator bool() const { return !code.empty(); }
  std::string text() const { return code + ": " + detail; }
};

// Where a channel sends a message that ran out of attempts (policy.h). Nsqd implements it.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // The ID the next dead letter to topic will carry (the topic is created on first use and
  // registered with nsqlookupd like any topic); false when it cannot be had (exiting).
  virtual bool reserveDeadLetterId(const std::string& topic, MessageId& id) = 0;
  // Publishes msg's body, unchanged, to topic as message id (from reserveDeadLetterId()) exactly
  // as a PUB would store it, syncs included; an error means it was not stored.
  [[nodiscard]] virtual Error deadLetter(const std::string& topic, const Message& msg, const MessageId& id) = 0;
  // Whether topic still holds message id anywhere (recovery after a crash mid-move).
  virtual bool holdsDeadLetter(const std::string& topic, const MessageId& id) = 0;
  // All: never called with a topic or channel lock held. Any thread.
};

// Where a queue reports its disk and journal write failures (/ping). Any thread.
class HealthSink {
 public:
  virtual ~HealthSink() = default;
  // source (a file or queue name) failed with error: NOK until clearHealth(source).
  virtual void setHealth(const std::string& source, const std::string& error) = 0;
  // A later write or sync of source worked. Cheap when source is not failing.
  virtual void clearHealth(const std::string& source) = 0;
};

// What a topic's or channel's storage needs from the daemon. Lives as long as every topic.
class StorageContext {
 public:
  virtual ~StorageContext() = default;
  // nsqd's options (data path, mem-queue-size, sync policy, message size limits, ...).
  virtual const NsqdOptions& options() const = 0;
  virtual HealthSink& healthSink() = 0;
  // Where journal fsyncs and due disk-queue syncs run, in the order handed over.
  virtual Syncer& syncer() = 0;
  // Where dead letters go; null (the default, and in unit tests' fakes) keeps them on the channel.
  virtual DeadLetterSink* deadLetters() { return nullptr; }
};

// Topology notices a topic sends up. Any thread, never called with a topic or channel lock held.
class TopologyEvents {
 public:
  virtual ~TopologyEvents() = default;
  virtual void channelCreated(const std::string& topic, const std::string& channel) = 0;
  virtual void channelDeleted(const std::string& topic, const std::string& channel) = 0;
  // The last channel of an #ephemeral topic went away: the topic goes too. False if absent.
  virtual bool deleteTopic(const std::string& topic) = 0;
  // A topic has more backlog to move into its channels than it moved inline: scan soon.
  virtual void wakeScanner() = 0;
};

}  // namespace nsq::nsqd

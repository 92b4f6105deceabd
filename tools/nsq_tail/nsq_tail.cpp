// nsq_tail: one Consumer per --topic; the handler renders the --format template (by default
// "[topic | ]body\n") into one reused buffer and writes it to stdout with one write(2) and finishes the message only once that write succeeded. After -n messages, or when
// stdout is gone (EPIPE from `| head`), every further message is requeued at once without
// backoff, and the consumers stop gracefully (CLS, answer what is in flight, close).
#include "nsq_tail/nsq_tail.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <mutex>
#include <random>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/client/consumer.h"
#include "nsq/base/main.h"
#include "nsq_tail/tail_format.h"

namespace nsq::tools {

std::unique_ptr<OptionSet> makeNsqTailOptionSet(NsqTailOptions& o) {
  auto set = std::make_unique<OptionSet>("nsq_tail", "nsq_tail [OPTIONS]: print messages of NSQ topics to stdout");
  set->addStringList("topic", &o.topics, "NSQ topic to consume");
  set->addString("channel", &o.channel, "NSQ channel").defaultText = "tail<random>#ephemeral";
  set->addStringList("nsqd-tcp-address", &o.nsqdTcpAddresses, "nsqd TCP address");
  set->addStringList("lookupd-http-address", &o.lookupdHttpAddresses, "nsqlookupd HTTP address");
  set->addInt("max-in-flight", &o.maxInFlight, kMaxInFlightHelp);
  set->addInt("n", &o.totalMessages, "total messages to show (will wait if starved)");
  set->addBool("print-topic", &o.printTopic, "prefix each message with its topic");
  set->addString("format", &o.format,
                 "output template: %b body, %l length, %T topic, %i id, %a attempts, %t timestamp (ns), "
                 "%d timestamp (RFC 3339), %%; escapes \\n \\t \\0 \\xHH (binary-safe: '%b\\0' or '%l:%b,')")
      .defaultText = "%b\\n";
  set->addStringList("consumer-opt", &o.consumerOpts, consumerOptHelp());
  set->addStandard(versionLine("nsq_tail"));
  return set;
}

std::string effectiveFormat(const NsqTailOptions& o) {
  if (!o.format.empty()) return o.format;
  return o.printTopic ? "%T | %b\\n" : "%b\\n";
}

void validate(NsqTailOptions& o) {
  if (o.topics.empty()) throw OptionError("--topic is required");
  for (const auto& t : o.topics)
    if (!isValidTopicName(t)) throw OptionError("flag --topic: invalid topic name \"" + t + "\"");
  if (o.channel.empty()) {
    std::mt19937 rng(std::random_device{}());
    char buf[32];
    std::snprintf(buf, sizeof buf, "tail%06d#ephemeral", std::uniform_int_distribution<int>(0, 999998)(rng));
    o.channel = buf;
  }
  if (!isValidChannelName(o.channel)) throw OptionError("flag --channel: invalid channel name \"" + o.channel + "\"");
  checkConsumerSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
  if (o.maxInFlight <= 0) throw OptionError("--max-in-flight must be positive");
  if (o.printTopic && !o.format.empty()) throw OptionError("use --print-topic or --format not both (%T is the topic)");
  std::string error;
  if (!TailFormat::parse(effectiveFormat(o), &error)) throw OptionError("flag --format: " + error);
  if (o.totalMessages < 0) throw OptionError("-n must not be negative");
  if (o.totalMessages > 0 && o.totalMessages < o.maxInFlight) o.maxInFlight = o.totalMessages;
  checkConsumerOpts(o.consumerOpts);
}

namespace {
// Writes all of s to fd 1; false when stdout is closed or broken.
bool writeOut(const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}
}  // namespace

int runNsqTail(const NsqTailOptions& o) {
  Logger::configure("", LogLevel::Info);
  ConsumerConfig cfg;
  cfg.maxInFlight = o.maxInFlight;
  (void)applyConsumerOptions(cfg, o.consumerOpts);  // checked by validate()

  std::string unused;
  const TailFormat format = *TailFormat::parse(effectiveFormat(o), &unused);  // checked by validate()
  std::mutex outMutex;
  std::string line;  // guarded by outMutex; reused for every message
  int64_t printed = 0;
  std::atomic<bool> done{false};
  // Stopping sends CLS (RDY 0 on the server) before the requeue of the message in hand, so a
  // requeued message is not redelivered to us in a loop.
  std::mutex consumersMutex;
  std::vector<Consumer*> started;
  auto finishUp = [&] {
    done = true;
    std::lock_guard lock(consumersMutex);
    for (auto* c : started) c->stop();
  };
  auto handlerFor = [&](const std::string& topic) {
    return [&, topic](const DeliveryPtr& d) {
      std::lock_guard lock(outMutex);
      if (done) return HandlerResult::RequeueWithoutBackoff;
      line.clear();
      format.render(d->message(), topic, line);
      if (!writeOut(line)) {
        finishUp();  // stdout closed: quietly stop; this message was not printed
        return HandlerResult::RequeueWithoutBackoff;
      }
      if (o.totalMessages > 0 && ++printed >= o.totalMessages) finishUp();
      return HandlerResult::Finish;
    };
  };

  std::vector<std::unique_ptr<Consumer>> consumers;
  int status = 0;
  try {
    for (const auto& topic : o.topics) {
      consumers.push_back(std::make_unique<Consumer>(topic, o.channel, cfg, handlerFor(topic)));
      {
        std::lock_guard lock(consumersMutex);
        started.push_back(consumers.back().get());
        if (done) consumers.back()->stop();
      }
      consumers.back()->connectToSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
    }
  } catch (const ConnectionError& e) {
    std::cerr << "nsq_tail: " << e.what() << "\n";
    done = true;
    status = 1;
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  timespec tick{0, 50 * 1000 * 1000};
  while (!done) {
    if (::sigtimedwait(&mask, nullptr, &tick) > 0) break;
  }
  for (auto& c : consumers) c->stop();
  for (auto& c : consumers) c->waitStopped();
  consumers.clear();
  return status;
}

}  // namespace nsq::tools

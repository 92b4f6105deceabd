// nsq_to_nsq: one Consumer per --topic hands each message (after the JSON filters) to a queue
// and keeps it unanswered (HandlerResult::Later). Sender threads take runs of queued messages
// for one destination topic, publish them as one MPUB (a lone message as PUB) to the
// destination the DestinationPool picks, and FIN the source messages only after that nsqd's OK.
// A failed publish is tried on every other destination; when all fail, the messages are
// requeued at the source (one backoff step per batch, not per message, so a restarting
// destination does not push the consumer to max_backoff_duration).
//
// Unlike go-nsq's default, max_attempts is 0 (unlimited) here: a relay must not drop a message
// because the destination was down for a while. --consumer-opt=max_attempts,N restores a limit.
#include "nsq_to_nsq/nsq_to_nsq.h"

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "nsq/base/log.h"
#include "nsq/base/main.h"
#include "nsq/base/names.h"
#include "nsq/client/consumer.h"
#include "nsq/client/destination_pool.h"
#include "nsq/client/producer.h"
#include "nsq_to_nsq/json_filter.h"

namespace nsq::tools {

namespace {
constexpr std::size_t kMaxBatchMessages = 256;
constexpr std::size_t kMaxBatchBytes = 512 * 1024;
}  // namespace

std::unique_ptr<OptionSet> makeNsqToNsqOptionSet(NsqToNsqOptions& o) {
  auto set = std::make_unique<OptionSet>("nsq_to_nsq", "nsq_to_nsq [OPTIONS]: relay NSQ topics to other nsqd nodes");
  set->addStringList("topic", &o.topics, "nsq topic");
  set->addString("channel", &o.channel, "nsq channel");
  set->addStringList("nsqd-tcp-address", &o.nsqdTcpAddresses, "nsqd TCP address");
  set->addStringList("lookupd-http-address", &o.lookupdHttpAddresses,
                     "lookupd HTTP address");
  set->addStringList("destination-nsqd-tcp-address", &o.destinationNsqdTcpAddresses,
                     "destination nsqd TCP address");
  set->addString("destination-topic", &o.destinationTopic,
                 "use this destination topic for all consumed topics (default is consumed topic name)");
  set->addString("mode", &o.mode, "the upstream request mode options: round-robin, hostpool, epsilon-greedy");
  set->addInt("max-in-flight", &o.maxInFlight, kMaxInFlightHelp);
  set->addInt("status-every", &o.statusEvery,
              "the # of messages between logging status (per destination), 0 disables");
  set->addStringList("consumer-opt", &o.consumerOpts, consumerOptHelp("passthrough"));
  set->addStringList("producer-opt", &o.producerOpts,
                     connectionOptHelp("option to passthrough to the producers", "write_timeout,5s"));
  set->addString("require-json-field", &o.requireJsonField,
                 "for JSON messages: only pass messages that contain this field");
  set->addString("require-json-value", &o.requireJsonValue,
                 "for JSON messages: only pass messages in which the required field has this value");
  set->addStringList("whitelist-json-field", &o.whitelistJsonFields,
                     "for JSON messages: pass this field");
  set->addStandard(versionLine("nsq_to_nsq"));
  return set;
}

void validate(const NsqToNsqOptions& o) {
  if (o.topics.empty()) throw OptionError("--topic is required");
  for (const auto& t : o.topics)
    if (!isValidTopicName(t)) throw OptionError("flag --topic: invalid topic name \"" + t + "\"");
  if (!isValidChannelName(o.channel)) throw OptionError("flag --channel: invalid channel name \"" + o.channel + "\"");
  if (!o.destinationTopic.empty() && !isValidTopicName(o.destinationTopic))
    throw OptionError("flag --destination-topic: invalid topic name \"" + o.destinationTopic + "\"");
  checkConsumerSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
  if (o.destinationNsqdTcpAddresses.empty()) throw OptionError("--destination-nsqd-tcp-address required");
  requireHostPortFlags("destination-nsqd-tcp-address", o.destinationNsqdTcpAddresses, 1);
  DestinationPool::Mode mode;
  if (!DestinationPool::parseMode(o.mode, &mode))
    throw OptionError("flag --mode: invalid mode \"" + o.mode + "\" (round-robin, hostpool, epsilon-greedy)");
  if (o.maxInFlight <= 0) throw OptionError("--max-in-flight must be positive");
  if (o.statusEvery < 0) throw OptionError("--status-every must not be negative");
  if (!o.requireJsonValue.empty() && o.requireJsonField.empty())
    throw OptionError("--require-json-value requires --require-json-field");
  checkConsumerOpts(o.consumerOpts);
  (void)producerConfig(o.producerOpts);
}

namespace {

// The queue between the consumers' handler and the publishing threads, and the publishing.
class Relay {
 public:
  Relay(const NsqToNsqOptions& o, ConnectionConfig producerCfg, DestinationPool::Mode mode)
      : statusEvery_(static_cast<uint64_t>(o.statusEvery)),
        pool_(o.destinationNsqdTcpAddresses.size(), mode),
        stats_(o.destinationNsqdTcpAddresses.size()) {
    for (const auto& a : o.destinationNsqdTcpAddresses) producers_.push_back(std::make_unique<Producer>(a, producerCfg));
    std::size_t threads = std::max<std::size_t>(2, producers_.size());
    for (std::size_t i = 0; i < threads; ++i) senders_.emplace_back([this] { sendLoop(); });
  }
  ~Relay() { finish(); }

  // Any thread (the consumers' handler threads).
  void push(DeliveryPtr d, std::string body, const std::string& topic) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(Item{std::move(d), std::move(body), topic});
    }
    cv_.notify_one();
  }

  // Publishes what is queued, then joins the senders and closes the producers.
  void finish() {
    {
      std::lock_guard lock(mutex_);
      if (finishing_) return;
      finishing_ = true;
    }
    cv_.notify_all();
    for (auto& t : senders_) t.join();
    for (auto& p : producers_) p->stop();
  }

  uint64_t relayed() const { return relayed_; }
  uint64_t requeued() const { return requeued_; }

 private:
  struct Item {
    DeliveryPtr delivery;
    std::string body;
    std::string topic;
  };
  struct DestinationStats {
    uint64_t messages = 0;
    uint64_t publishes = 0;
    std::chrono::microseconds took{0};
  };

  void sendLoop() {
    for (;;) {
      std::vector<Item> batch;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !queue_.empty() || finishing_; });
        if (queue_.empty()) return;
        std::size_t bytes = 0;
        const std::string topic = queue_.front().topic;
        while (!queue_.empty() && batch.size() < kMaxBatchMessages && queue_.front().topic == topic &&
               (batch.empty() || bytes + queue_.front().body.size() <= kMaxBatchBytes)) {
          bytes += queue_.front().body.size();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      send(batch);
    }
  }

  void send(std::vector<Item>& batch) {
    const std::string& topic = batch.front().topic;
    std::vector<std::string> bodies;
    if (batch.size() > 1) {
      bodies.reserve(batch.size());
      for (auto& it : batch) bodies.push_back(std::move(it.body));
    }
    for (std::size_t i : pool_.order(DestinationPool::Clock::now())) {
      auto start = DestinationPool::Clock::now();
      PublishResult r = batch.size() == 1 ? producers_[i]->publish(topic, batch.front().body)
                                          : producers_[i]->multiPublish(topic, bodies);
      auto end = DestinationPool::Clock::now();
      auto took = std::chrono::duration_cast<std::chrono::microseconds>(end - start);
      pool_.mark(i, r.ok(), took, end);
      if (r.ok()) {
        for (auto& it : batch) it.delivery->finish();
        relayed_ += batch.size();
        noteStatus(i, batch.size(), took);
        return;
      }
      logWarn("publishing ", std::to_string(batch.size()), " message(s) to ", producers_[i]->address(), " failed: ", r.error);
    }
    logWarn("no destination accepted ", std::to_string(batch.size()), " message(s); requeueing them at the source");
    bool first = true;
    for (auto& it : batch) {
      it.delivery->requeue(std::nullopt, first);
      first = false;
    }
    requeued_ += batch.size();
  }

  void noteStatus(std::size_t i, std::size_t n, std::chrono::microseconds took) {
    if (statusEvery_ == 0) return;
    std::lock_guard lock(statsMutex_);
    DestinationStats& s = stats_[i];
    uint64_t before = s.messages / statusEvery_;
    s.messages += n;
    s.publishes += 1;
    s.took += took;
    if (s.messages / statusEvery_ == before) return;
    auto meanMicros = s.took.count() / static_cast<int64_t>(s.publishes);
    logInfo("[", producers_[i]->address(), "] ", std::to_string(s.messages), " messages relayed in ",
            std::to_string(s.publishes), " publishes, mean publish time ", std::to_string(meanMicros / 1000), ".",
            std::to_string((meanMicros % 1000) / 100), "ms");
  }

  uint64_t statusEvery_;
  DestinationPool pool_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool finishing_ = false;
  std::vector<std::thread> senders_;
  std::mutex statsMutex_;
  std::vector<DestinationStats> stats_;
  std::atomic<uint64_t> relayed_{0}, requeued_{0};
};

}  // namespace

int runNsqToNsq(const NsqToNsqOptions& o) {
  Logger::configure("", LogLevel::Info);
  ConsumerConfig cfg;
  cfg.maxAttempts = 0;
  cfg.maxInFlight = o.maxInFlight;
  (void)applyConsumerOptions(cfg, o.consumerOpts);  // checked by validate()
  DestinationPool::Mode mode = DestinationPool::Mode::HostPool;
  (void)DestinationPool::parseMode(o.mode, &mode);
  JsonFilter filter(o.requireJsonField, o.requireJsonValue, o.whitelistJsonFields);
  Relay relay(o, producerConfig(o.producerOpts), mode);
  std::atomic<uint64_t> filtered{0}, notJson{0};

  auto handlerFor = [&](const std::string& destTopic) {
    return [&, destTopic](const DeliveryPtr& d) {
      std::string body;
      switch (filter.apply(d->body(), &body)) {
        case JsonFilter::Verdict::Drop:
          ++filtered;
          return HandlerResult::Finish;
        case JsonFilter::Verdict::NotJson:
          logWarn("message ", d->message().id.view(), " is not a JSON object; finished without relaying (",
                  std::to_string(++notJson), " so far)");
          return HandlerResult::Finish;
        case JsonFilter::Verdict::Pass:
          break;
      }
      relay.push(d, std::move(body), destTopic);
      return HandlerResult::Later;
    };
  };

  std::vector<std::unique_ptr<Consumer>> consumers;
  int status = 0;
  try {
    for (const auto& topic : o.topics) {
      const std::string& dest = o.destinationTopic.empty() ? topic : o.destinationTopic;
      consumers.push_back(std::make_unique<Consumer>(topic, o.channel, cfg, handlerFor(dest)));
      consumers.back()->connectToSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
    }
  } catch (const ConnectionError& e) {
    std::cerr << "nsq_to_nsq: " << e.what() << "\n";
    status = 1;
  }

  if (status == 0) waitForSignal({SIGINT, SIGTERM});
  for (auto& c : consumers) c->stop();
  for (auto& c : consumers) c->waitStopped();  // the relay answers what they hold meanwhile
  relay.finish();
  consumers.clear();
  logInfo("relayed ", std::to_string(relay.relayed()), " messages; requeued ", std::to_string(relay.requeued()),
          "; filtered out ", std::to_string(filtered.load()), "; not JSON ", std::to_string(notJson.load()));
  return status;
}

}  // namespace nsq::tools

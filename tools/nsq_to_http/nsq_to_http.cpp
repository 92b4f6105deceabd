// nsq_to_http: one Consumer per --topic with --n handler threads (the fixed worker pool); each
// handler sends its message to one endpoint, chosen by --mode, and returns Finish only for a 2xx
// answer. Anything else (another status, a timeout, a refused or reset connection) returns
// Requeue: go-nsq's REQ with default_requeue_delay x attempts and a backoff step, both tunable
// with --consumer-opt. The consumer holds at most --max-in-flight messages, so the queue in
// front of the workers is bounded by it; the endpoints see at most --n requests at once.
//
// As in nsq_to_nsq, max_attempts is 0 (unlimited) unless given with --consumer-opt: a message
// is not dropped because an endpoint was down for a while.
#include "nsq_to_http/nsq_to_http.h"

#include <signal.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <random>

#include "nsq/base/log.h"
#include "nsq/base/main.h"
#include "nsq/base/names.h"
#include "nsq/client/consumer.h"
#include "nsq/client/destination_pool.h"
#include "nsq_to_http/http_publisher.h"

namespace nsq::tools {

std::unique_ptr<OptionSet> makeNsqToHttpOptionSet(NsqToHttpOptions& o) {
  auto set = std::make_unique<OptionSet>("nsq_to_http",
                                         "nsq_to_http [OPTIONS]: send NSQ messages to HTTP endpoints");
  set->addStringList("topic", &o.topics, "nsq topic");
  set->addString("channel", &o.channel, "nsq channel");
  set->addStringList("nsqd-tcp-address", &o.nsqdTcpAddresses, "nsqd TCP address");
  set->addStringList("lookupd-http-address", &o.lookupdHttpAddresses, "lookupd HTTP address");
  set->addStringList("post", &o.postUrls, "HTTP address to make a POST request to; data will be in the body");
  set->addStringList("get", &o.getUrls,
                     "HTTP address to make a GET request to; '%s' will be replaced with the URL-escaped data");
  set->addString("content-type", &o.contentType, "the Content-Type used for POST requests");
  set->addStringList("header", &o.headers, "custom header for HTTP requests, as Name:value");
  set->addString("mode", &o.mode, "the upstream request mode options: round-robin, hostpool, epsilon-greedy");
  set->addInt("max-in-flight", &o.maxInFlight, kMaxInFlightHelp);
  set->addInt("n", &o.publishers, "number of concurrent publishers");
  set->addFloat("sample", &o.sample, "fraction of messages to publish (between 0 and 1)");
  set->addDuration("http-client-connect-timeout", &o.connectTimeout, "timeout for HTTP connect");
  set->addDuration("http-client-request-timeout", &o.requestTimeout, "timeout for HTTP request");
  set->addInt("status-every", &o.statusEvery, "the # of requests between logging status (per endpoint), 0 disables");
  set->addStringList("consumer-opt", &o.consumerOpts, consumerOptHelp("passthrough"));
  set->addStandard(versionLine("nsq_to_http"));
  return set;
}

void validate(const NsqToHttpOptions& o) {
  if (o.topics.empty()) throw OptionError("--topic is required");
  for (const auto& t : o.topics)
    if (!isValidTopicName(t)) throw OptionError("flag --topic: invalid topic name \"" + t + "\"");
  if (!isValidChannelName(o.channel)) throw OptionError("flag --channel: invalid channel name \"" + o.channel + "\"");
  checkConsumerSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
  if (o.getUrls.empty() && o.postUrls.empty()) throw OptionError("--get or --post required");
  if (!o.getUrls.empty() && !o.postUrls.empty()) throw OptionError("use --get or --post not both");
  for (const auto& u : o.postUrls)
    if (std::string e = checkEndpointUrl(u, false); !e.empty()) throw OptionError("flag --post: " + e);
  for (const auto& u : o.getUrls)
    if (std::string e = checkEndpointUrl(u, true); !e.empty()) throw OptionError("flag --get: " + e);
  if (o.contentType.empty()) throw OptionError("flag --content-type: requires a value");
  if (o.contentType != NsqToHttpOptions().contentType && o.postUrls.empty())
    throw OptionError("flag --content-type: only used with --post");
  for (const auto& h : o.headers) {
    std::pair<std::string, std::string> parsed;
    if (!parseHeader(h, &parsed))
      throw OptionError("flag --header: invalid header \"" + h + "\" (want Name:value, both non-empty)");
  }
  DestinationPool::Mode mode;
  if (!DestinationPool::parseMode(o.mode, &mode))
    throw OptionError("flag --mode: invalid mode \"" + o.mode + "\" (round-robin, hostpool, epsilon-greedy)");
  if (o.maxInFlight <= 0) throw OptionError("flag --max-in-flight: must be positive");
  if (o.publishers <= 0 || o.publishers > kMaxPublishers)
    throw OptionError("flag -n: must be between 1 and " + std::to_string(kMaxPublishers));
  if (o.sample < 0.0 || o.sample > 1.0) throw OptionError("flag --sample: must be between 0.0 and 1.0");
  if (o.connectTimeout <= Duration::zero())
    throw OptionError("flag --http-client-connect-timeout: must be positive");
  if (o.requestTimeout <= Duration::zero())
    throw OptionError("flag --http-client-request-timeout: must be positive");
  if (o.statusEvery < 0) throw OptionError("flag --status-every: must not be negative");
  checkConsumerOpts(o.consumerOpts);
}

namespace {

// --status-every: one line per endpoint (when there are several) and one for all of them, every
// statusEvery successful requests. Any thread.
class StatusLog {
 public:
  StatusLog(const HttpPublisher& publisher, uint64_t every)
      : publisher_(publisher), every_(every), perEndpoint_(publisher.size()) {}

  void note(std::size_t i, std::chrono::microseconds took) {
    if (every_ == 0) return;
    std::lock_guard lock(mutex_);
    if (perEndpoint_.size() > 1) add(perEndpoint_[i], "[" + publisher_.url(i) + "]", took);
    add(aggregate_, "[aggregate]", took);
  }

 private:
  struct Window {
    uint64_t requests = 0;
    std::chrono::microseconds took{0};
    std::chrono::microseconds max{0};
  };
  void add(Window& w, const std::string& label, std::chrono::microseconds took) {
    ++w.requests;
    w.took += took;
    w.max = std::max(w.max, took);
    if (w.requests < every_) return;
    auto ms = [](std::chrono::microseconds us) {
      return std::to_string(us.count() / 1000) + "." + std::to_string((us.count() % 1000) / 100) + "ms";
    };
    logInfo(label, ": finished ", std::to_string(w.requests), " requests - avg: ",
            ms(w.took / static_cast<int64_t>(w.requests)), " - max: ", ms(w.max));
    w = Window{};
  }

  const HttpPublisher& publisher_;
  uint64_t every_;
  std::mutex mutex_;
  std::vector<Window> perEndpoint_;
  Window aggregate_;
};

}  // namespace

int runNsqToHttp(const NsqToHttpOptions& o) {
  Logger::configure("", LogLevel::Info);
  ConsumerConfig cfg;
  cfg.maxAttempts = 0;
  cfg.maxInFlight = o.maxInFlight;
  cfg.concurrency = o.publishers;
  (void)applyConsumerOptions(cfg, o.consumerOpts);  // checked by validate()
  DestinationPool::Mode mode = DestinationPool::Mode::HostPool;
  (void)DestinationPool::parseMode(o.mode, &mode);

  HttpPublisherConfig pc;
  pc.method = o.getUrls.empty() ? HttpPublisherConfig::Method::Post : HttpPublisherConfig::Method::Get;
  pc.urls = o.getUrls.empty() ? o.postUrls : o.getUrls;
  pc.contentType = o.contentType;
  for (const auto& h : o.headers) {
    std::pair<std::string, std::string> parsed;
    if (parseHeader(h, &parsed)) pc.headers.push_back(std::move(parsed));
  }
  pc.userAgent = userAgent();
  pc.connectTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.connectTimeout);
  pc.requestTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.requestTimeout);
  HttpPublisher publisher(pc);
  DestinationPool pool(publisher.size(), mode);
  StatusLog status(publisher, static_cast<uint64_t>(o.statusEvery));
  std::atomic<uint64_t> sent{0}, failed{0}, skipped{0};

  Handler handler = [&](const DeliveryPtr& d) {
    if (o.sample < 1.0) {
      thread_local std::mt19937 rng(std::random_device{}());
      if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) > o.sample) {
        ++skipped;
        return HandlerResult::Finish;
      }
    }
    const auto start = DestinationPool::Clock::now();
    const std::size_t i = pool.order(start).front();
    std::string error = publisher.publish(i, d->body());
    const auto end = DestinationPool::Clock::now();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(end - start);
    pool.mark(i, error.empty(), took, end);
    if (!error.empty()) {
      ++failed;
      logWarn("message ", d->message().id.view(), " (attempt ", std::to_string(d->message().attempts), ") to ",
              publisher.url(i), ": ", error, "; requeueing it");
      return HandlerResult::Requeue;
    }
    ++sent;
    status.note(i, took);
    return HandlerResult::Finish;
  };

  std::vector<std::unique_ptr<Consumer>> consumers;
  int exitStatus = 0;
  try {
    for (const auto& topic : o.topics) {
      consumers.push_back(std::make_unique<Consumer>(topic, o.channel, cfg, handler));
      consumers.back()->connectToSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
    }
  } catch (const ConnectionError& e) {
    std::cerr << "nsq_to_http: " << e.what() << "\n";
    exitStatus = 1;
  }

  if (exitStatus == 0) waitForSignal({SIGINT, SIGTERM});
  for (auto& c : consumers) c->stop();
  for (auto& c : consumers) c->waitStopped();  // the workers answer what they hold meanwhile
  consumers.clear();
  logInfo("sent ", std::to_string(sent.load()), " messages; failed attempts ", std::to_string(failed.load()),
          "; skipped by --sample ", std::to_string(skipped.load()));
  return exitStatus;
}

}  // namespace nsq::tools

// nsq_to_file: one TopicArchiver per topic, each a Consumer plus a router thread that owns the
// topic's FileLogger. The consumer's handler only queues the delivery (HandlerResult::Later);
// the router writes it and keeps it pending until the file is synced, then FINs the batch. It
// syncs when max-in-flight messages are pending, at every --sync-interval tick (which also
// checks time-based rotation), and when starved: the queue is empty and either the pending
// messages hold 85% of the RDY granted (go-nsq's IsStarved threshold) or nothing arrived for a
// second. So a crash loses nothing that was acknowledged.
//
// Topics come from --topic, or from nsqlookupd's /topics filtered by --topic-pattern (asked
// at start and every --topic-refresh). Signals are taken synchronously in the main loop:
// SIGHUP closes every file, SIGINT/SIGTERM stop the consumers (CLS), sync and FIN what is
// left, close and move the files, and exit 0. A file error is fatal (exit 1) with nothing
// pending acknowledged.
#include "nsq_to_file/nsq_to_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <re2/re2.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/client/consumer.h"
#include "nsq/client/lookupd_client.h"
#include "nsq/base/main.h"
#include "nsq_to_file/file_logger.h"
#include "nsq_to_file/filename_format.h"

namespace nsq::tools {

using namespace std::chrono;

std::unique_ptr<OptionSet> makeNsqToFileOptionSet(NsqToFileOptions& o) {
  auto set = std::make_unique<OptionSet>("nsq_to_file", "nsq_to_file [OPTIONS]: write NSQ topics to files");
  set->addStringList("topic", &o.topics, "NSQ topic");
  set->addString("topic-pattern", &o.topicPattern, "only log topics matching the following pattern");
  set->addDuration("topic-refresh", &o.topicRefresh, "how frequently the topic list should be refreshed");
  set->addString("channel", &o.channel, "NSQ channel");
  set->addStringList("nsqd-tcp-address", &o.nsqdTcpAddresses, "nsqd TCP address");
  set->addStringList("lookupd-http-address", &o.lookupdHttpAddresses, "lookupd HTTP address");
  set->addStringList("consumer-opt", &o.consumerOpts, consumerOptHelp("passthrough"));
  set->addInt("max-in-flight", &o.maxInFlight, kMaxInFlightHelp);
  set->addDuration("http-client-connect-timeout", &o.httpConnectTimeout, "timeout for HTTP connect");
  set->addDuration("http-client-request-timeout", &o.httpRequestTimeout, "timeout for HTTP request");
  set->addString("log-prefix", &o.logPrefix, "log message prefix");
  set->addString("log-level", &o.logLevel, "set log verbosity: debug, info, warn, error, or fatal");
  set->addString("output-dir", &o.outputDir, "directory to write output files to");
  set->addString("work-dir", &o.workDir,
                 "directory for in-progress files before moving to output-dir (default: same as --output-dir)")
      .defaultText.clear();
  set->addString("datetime-format", &o.datetimeFormat, "strftime compatible format for <DATETIME> in filename format");
  set->addString("filename-format", &o.filenameFormat,
                 "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced; "
                 "<REV> is required when output is gzipped, rotated or moved from a work dir)");
  set->addString("host-identifier", &o.hostIdentifier,
                 "value to output in log filename in place of hostname; <SHORT_HOST> and <HOSTNAME> are replaced")
      .defaultText = "short host name";
  set->addInt("gzip-level", &o.gzipLevel, "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)");
  set->addBool("gzip", &o.gzip, "gzip output files");
  set->addBool("skip-empty-files", &o.skipEmptyFiles, "skip writing empty files");
  set->addInt("rotate-size", &o.rotateSize, "rotate the file when it grows bigger than rotate-size bytes");
  set->addDuration("rotate-interval", &o.rotateInterval, "rotate the file every duration");
  set->addDuration("sync-interval", &o.syncInterval, "sync file to disk every duration");
  set->addDuration("status-interval", &o.statusInterval,
                   "log one status line (messages/s, files, bytes) every duration; 0 disables");
  set->addStandard(versionLine("nsq_to_file"));
  return set;
}

namespace {

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

bool revRequired(const NsqToFileOptions& o) {
  return o.gzip || o.rotateSize > 0 || o.rotateInterval.count() > 0 || o.workDir != o.outputDir;
}

std::string filenameFormatFor(const NsqToFileOptions& o, const std::string& topic) {
  FilenameParams p;
  p.format = o.filenameFormat;
  p.topic = topic;
  p.hostIdentifier = o.hostIdentifier;
  p.hostname = hostName();
  p.pid = ::getpid();
  p.gzip = o.gzip;
  p.revRequired = revRequired(o);
  return computeFilenameFormat(p);
}

// Creates dir (0770) and proves it writable by creating and removing a probe file; throws
// naming the flag and the directory.
void prepareDir(const std::string& flag, const std::string& dir) {
  try {
    makeDirs(dir);
  } catch (const FileLoggerError& e) {
    throw std::runtime_error("--" + flag + " " + dir + ": " + e.what());
  }
  std::string probe = dir + "/.nsq_to_file-probe-" + std::to_string(::getpid());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("--" + flag + " " + dir + " is not writable: " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

void validate(NsqToFileOptions& o) {
  if (o.channel.empty()) throw OptionError("--channel is required");
  if (!isValidChannelName(o.channel)) throw OptionError("flag --channel: invalid channel name \"" + o.channel + "\"");
  if (o.httpConnectTimeout.count() <= 0) throw OptionError("--http-client-connect-timeout should be positive");
  if (o.httpRequestTimeout.count() <= 0) throw OptionError("--http-client-request-timeout should be positive");
  checkConsumerSources(o.nsqdTcpAddresses, o.lookupdHttpAddresses);
  if (o.gzipLevel < 1 || o.gzipLevel > 9)
    throw OptionError("invalid --gzip-level value (" + std::to_string(o.gzipLevel) + "), should be 1-9");
  if (o.topics.empty() && o.topicPattern.empty()) throw OptionError("--topic or --topic-pattern required");
  if (o.topics.empty() && o.lookupdHttpAddresses.empty())
    throw OptionError("--lookupd-http-address must be specified when no --topic specified");
  for (const auto& t : o.topics)
    if (!isValidTopicName(t)) throw OptionError("flag --topic: invalid topic name \"" + t + "\"");
  if (!o.topicPattern.empty()) {
    RE2::Options reOpts;
    reOpts.set_log_errors(false);
    RE2 re(o.topicPattern, reOpts);
    if (!re.ok())
      throw OptionError("flag --topic-pattern: invalid regular expression \"" + o.topicPattern + "\" - " + re.error());
  }
  if (o.maxInFlight <= 0) throw OptionError("--max-in-flight must be positive");
  if (o.syncInterval.count() <= 0) throw OptionError("--sync-interval must be positive");
  if (o.topicRefresh.count() <= 0) throw OptionError("--topic-refresh must be positive");
  if (o.rotateSize < 0) throw OptionError("--rotate-size must not be negative");
  if (o.statusInterval.count() < 0) throw OptionError("flag --status-interval: must not be negative");
  LogLevel level;
  if (!parseLogLevel(o.logLevel, level)) throw OptionError("--log-level is invalid");
  checkConsumerOpts(o.consumerOpts);
  if (o.workDir.empty()) o.workDir = o.outputDir;
  try {
    (void)filenameFormatFor(o, "t");
  } catch (const std::invalid_argument& e) {
    throw OptionError(e.what());
  }
  prepareDir("output-dir", o.outputDir);
  if (o.workDir != o.outputDir) prepareDir("work-dir", o.workDir);
}

namespace {

// Totals over every topic for the periodic status line. Any thread.
struct ArchiveStats {
  std::atomic<uint64_t> messages{0};  // written, synced and finished
  std::atomic<uint64_t> bytes{0};     // message bytes written (before gzip), newlines included
  std::atomic<uint64_t> files{0};     // files opened
};

class TopicArchiver {
 public:
  TopicArchiver(const NsqToFileOptions& o, std::string topic, const ConsumerConfig& cfg, ArchiveStats& stats)
      : o_(o), topic_(std::move(topic)), stats_(stats) {
    FileLoggerConfig fc;
    fc.workDir = o.workDir;
    fc.outputDir = o.outputDir;
    fc.filenameFormat = filenameFormatFor(o, topic_);
    fc.datetimeFormat = o.datetimeFormat;
    fc.gzip = o.gzip;
    fc.gzipLevel = static_cast<int>(o.gzipLevel);
    fc.rotateSize = o.rotateSize;
    fc.rotateInterval = o.rotateInterval;
    file_ = std::make_unique<FileLogger>(fc);
    consumer_ = std::make_unique<Consumer>(topic_, o.channel, cfg, [this](const DeliveryPtr& d) {
      {
        std::lock_guard lock(mutex_);
        queue_.push_back(d);
      }
      cv_.notify_one();
      return HandlerResult::Later;
    });
    router_ = std::thread([this] { route(); });
  }

  ~TopicArchiver() {
    term();
    join();
  }

  // Throws ConnectionError for an nsqd that cannot be reached or refuses SUB.
  void connect() {
    consumer_->connectToSources(o_.nsqdTcpAddresses, o_.lookupdHttpAddresses);
  }

  void hup() {
    std::lock_guard lock(mutex_);
    hup_ = true;
    cv_.notify_one();
  }

  // Stops the consumer (CLS); the router keeps writing what is still delivered and syncs.
  void term() {
    {
      std::lock_guard lock(mutex_);
      if (term_) return;
      term_ = true;
    }
    consumer_->stop();
    cv_.notify_one();
  }

  // After term(): waits for the consumer to close, then for the router's final sync and close.
  void join() {
    if (!router_.joinable()) return;
    consumer_->waitStopped();
    {
      std::lock_guard lock(mutex_);
      exit_ = true;
    }
    cv_.notify_one();
    router_.join();
  }

 private:
  std::string tag() const { return "[" + topic_ + "/" + o_.channel + "] "; }

  [[noreturn]] void fatal(const std::exception& e) {
    logAt(LogLevel::Fatal, tag(), e.what());
    ::_exit(1);  // pending messages are not acknowledged; nsqd redelivers them
  }

  void rotate() {
    file_->rotate();
    ++stats_.files;
  }

  void syncAndFinish() {
    if (pending_.empty()) return;
    logDebug(tag(), "syncing ", std::to_string(pending_.size()), " records to disk");
    file_->sync();
    for (auto& d : pending_) d->finish();
    stats_.messages += pending_.size();
    pending_.clear();
  }

  bool starved() {
    if (pending_.empty()) return false;
    int64_t rdy = 0;
    for (int64_t r : consumer_->rdyCounts()) rdy += r;
    return rdy > 0 && static_cast<double>(pending_.size()) >= 0.85 * static_cast<double>(rdy);
  }

  void route() {
    try {
      routeLoop();
    } catch (const std::exception& e) {
      fatal(e);
    }
  }

  void routeLoop() {
    const auto syncEvery = duration_cast<steady_clock::duration>(o_.syncInterval);
    const steady_clock::duration idle = std::min<steady_clock::duration>(seconds(1), syncEvery);
    auto nextTick = steady_clock::now() + syncEvery;
    auto lastArrival = steady_clock::now();
    std::deque<DeliveryPtr> batch;
    for (;;) {
      bool hup = false, exit = false, term = false, tick = false, idleSync = false;
      {
        std::unique_lock lock(mutex_);
        auto wake = nextTick;
        if (!pending_.empty()) wake = std::min(wake, lastArrival + idle);
        cv_.wait_until(lock, wake, [&] { return !queue_.empty() || hup_ || exit_ || (term_ && !pending_.empty()); });
        batch.swap(queue_);
        hup = std::exchange(hup_, false);
        exit = exit_;
        term = term_;
      }
      auto now = steady_clock::now();
      if (!batch.empty()) lastArrival = now;
      if (now >= nextTick) {
        tick = true;
        nextTick = now + syncEvery;
      } else if (!pending_.empty() && batch.empty() && now >= lastArrival + idle) {
        idleSync = true;
      }
      bool sync = hup || exit || term || tick || idleSync;
      bool closeFile = hup || exit;
      if (tick && !term && file_->needsRotation() != FileLogger::Rotation::None) {
        if (o_.skipEmptyFiles) {
          closeFile = true;
        } else {
          rotate();
        }
      }
      while (!batch.empty()) {
        DeliveryPtr d = std::move(batch.front());
        batch.pop_front();
        if (file_->needsRotation() != FileLogger::Rotation::None) {
          rotate();
          sync = true;
        }
        file_->write(d->body());
        file_->write("\n");
        stats_.bytes += d->body().size() + 1;
        pending_.push_back(std::move(d));
        if (static_cast<int64_t>(pending_.size()) >= o_.maxInFlight) syncAndFinish();
      }
      if (sync || starved()) syncAndFinish();
      if (closeFile) file_->close();
      if (exit) return;
    }
  }

  const NsqToFileOptions& o_;
  std::string topic_;
  ArchiveStats& stats_;
  std::unique_ptr<FileLogger> file_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<DeliveryPtr> queue_;
  bool hup_ = false, term_ = false, exit_ = false;
  // Declared after what its handler touches, so it is destroyed (its threads joined) first.
  std::unique_ptr<Consumer> consumer_;
  std::vector<DeliveryPtr> pending_;  // router thread only
  std::thread router_;
};

}  // namespace

int runNsqToFile(const NsqToFileOptions& o) {
  LogLevel level = LogLevel::Info;
  (void)parseLogLevel(o.logLevel, level);
  Logger::configure(o.logPrefix, level);
  ConsumerConfig cfg;
  (void)applyConsumerOptions(cfg, o.consumerOpts);  // checked by validate()
  cfg.maxInFlight = o.maxInFlight;
  cfg.http.connect = duration_cast<milliseconds>(o.httpConnectTimeout);
  cfg.http.request = duration_cast<milliseconds>(o.httpRequestTimeout);
  std::unique_ptr<RE2> pattern;  // Go's regexp syntax, as the original's --topic-pattern
  if (!o.topicPattern.empty()) pattern = std::make_unique<RE2>(o.topicPattern);

  ArchiveStats stats;
  std::map<std::string, std::unique_ptr<TopicArchiver>> archivers;
  // Given topics failing to connect are fatal; discovered ones are retried at the next refresh.
  auto addTopics = [&](const std::vector<std::string>& topics, bool given) {
    for (const auto& topic : topics) {
      if (archivers.count(topic)) continue;
      if (pattern && !RE2::PartialMatch(topic, *pattern)) {
        logWarn("skipping topic ", topic, " (doesn't match pattern ", o.topicPattern, ")");
        continue;
      }
      if (!isValidTopicName(topic)) {
        logWarn("skipping topic ", topic, " (invalid name)");
        continue;
      }
      auto a = std::make_unique<TopicArchiver>(o, topic, cfg, stats);
      try {
        a->connect();
      } catch (const ConnectionError& e) {
        if (given) throw;
        logError("couldn't create logger for new topic ", topic, ": ", e.what());
        continue;
      }
      archivers.emplace(topic, std::move(a));
    }
  };
  auto discover = [&] {
    std::vector<std::string> all;
    std::string lastError;
    bool anyOk = false;
    HttpTimeouts t{cfg.http.connect, cfg.http.request};
    for (const auto& l : o.lookupdHttpAddresses) {
      try {
        for (auto& topic : lookupTopics(l, t)) all.push_back(std::move(topic));
        anyOk = true;
      } catch (const HttpError& e) {
        lastError = e.what();
      }
    }
    if (!anyOk) {
      logError("could not retrieve topic list: ", lastError);
      return;
    }
    addTopics(all, false);
  };

  int status = 0;
  try {
    if (!o.topics.empty()) {
      addTopics(o.topics, true);
    } else {
      discover();
    }
  } catch (const ConnectionError& e) {
    std::cerr << "nsq_to_file: " << e.what() << "\n";
    status = 1;
  }

  if (status == 0) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    auto refreshEvery = duration_cast<steady_clock::duration>(o.topicRefresh);
    auto nextRefresh = steady_clock::now() + refreshEvery;
    const auto statusEvery = duration_cast<steady_clock::duration>(o.statusInterval);
    auto lastStatus = steady_clock::now();
    uint64_t lastMessages = 0;
    timespec tick{0, 100 * 1000 * 1000};
    for (;;) {
      int sig = ::sigtimedwait(&mask, nullptr, &tick);
      if (sig == SIGHUP) {
        for (auto& [_, a] : archivers) a->hup();
      } else if (sig == SIGINT || sig == SIGTERM) {
        break;
      }
      if (statusEvery.count() > 0 && steady_clock::now() >= lastStatus + statusEvery) {
        auto now = steady_clock::now();
        uint64_t messages = stats.messages;
        double seconds = duration<double>(now - lastStatus).count();
        char rate[32];
        std::snprintf(rate, sizeof rate, "%.1f", static_cast<double>(messages - lastMessages) / seconds);
        logInfo("status: ", std::to_string(messages), " messages (", rate, "/s), ", std::to_string(stats.files.load()),
                " files, ", std::to_string(stats.bytes.load()), " bytes, ", std::to_string(archivers.size()),
                " topics");
        lastStatus = now;
        lastMessages = messages;
      }
      if (o.topics.empty() && steady_clock::now() >= nextRefresh) {
        discover();
        nextRefresh = steady_clock::now() + refreshEvery;
      }
    }
  }
  for (auto& [_, a] : archivers) a->term();
  for (auto& [_, a] : archivers) a->join();
  archivers.clear();
  return status;
}

}  // namespace nsq::tools

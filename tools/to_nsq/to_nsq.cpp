// to_nsq: reads records from stdin and publishes each one to every --nsqd-tcp-address.
// Records that are already waiting when a read returns go out together as one MPUB (the
// "under load" case); a lone record is a PUB. Each publish waits for nsqd's OK, so the exit
// status is 0 only when every record was acknowledged by every nsqd. On failure the error says
// which records were acknowledged and which may not have been published.
#include "to_nsq/to_nsq.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>

#include "nsq/base/log.h"
#include "nsq/base/names.h"
#include "nsq/client/producer.h"
#include "nsq/base/main.h"
#include "to_nsq/records.h"

namespace nsq::tools {

namespace {
constexpr std::size_t kMaxBatchRecords = 256;
constexpr std::size_t kMaxBatchBytes = 512 * 1024;

std::string recordRange(uint64_t first, uint64_t last) {
  return first == last ? "record " + std::to_string(first)
                       : "records " + std::to_string(first) + "-" + std::to_string(last);
}
}  // namespace

std::unique_ptr<OptionSet> makeToNsqOptionSet(ToNsqOptions& o) {
  auto set = std::make_unique<OptionSet>("to_nsq", "to_nsq [OPTIONS]: publish stdin records to nsqd");
  set->addString("topic", &o.topic, "NSQ topic to publish to");
  set->addStringList("nsqd-tcp-address", &o.nsqdTcpAddresses,
                     "destination nsqd TCP address; every record goes to every address");
  set->addString("delimiter", &o.delimiter, "character to split input from stdin (one byte, or an escape: \\0 \\t \\xHH)").defaultText = "\\n";
  set->addStringList("producer-opt", &o.producerOpts,
                     connectionOptHelp("option to pass through to the producer", "write_timeout,5s"));
  set->addInt("rate", &o.rate, "throttle messages to n per second; 0 to disable");
  set->addStandard(versionLine("to_nsq"));
  return set;
}

void validate(const ToNsqOptions& o) {
  if (o.topic.empty()) throw OptionError("--topic required");
  if (!isValidTopicName(o.topic)) throw OptionError("flag --topic: invalid topic name \"" + o.topic + "\"");
  if (o.nsqdTcpAddresses.empty()) throw OptionError("--nsqd-tcp-address required");
  requireHostPortFlags("nsqd-tcp-address", o.nsqdTcpAddresses, 1);
  std::string error;
  if (!parseDelimiter(o.delimiter, &error)) throw OptionError(error);
  if (o.rate < 0) throw OptionError("--rate must not be negative");
  (void)producerConfig(o.producerOpts);
}

int runToNsq(const ToNsqOptions& o, int inputFd) {
  ConnectionConfig cfg = producerConfig(o.producerOpts);
  std::vector<std::unique_ptr<Producer>> producers;
  for (const auto& a : o.nsqdTcpAddresses) {
    producers.push_back(std::make_unique<Producer>(a, cfg));
    try {
      producers.back()->connect();
    } catch (const ConnectionError& e) {
      std::cerr << "to_nsq: " << e.what() << "\n";
      return 1;
    }
  }
  if (o.rate > 0) std::cerr << "to_nsq: throttling messages to " << o.rate << "/second\n";

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  std::string unused;
  RecordSplitter splitter(parseDelimiter(o.delimiter, &unused).value_or('\n'));  // checked by validate()
  RateLimiter limiter(o.rate, RateLimiter::Clock::now());
  std::vector<std::string> queue;
  std::size_t head = 0;
  uint64_t acked = 0;  // records acknowledged by every nsqd, numbered from 1 in input order
  int signals = 0;
  bool eof = false;
  std::vector<char> buf(64 * 1024);
  auto checkSignal = [&](int timeoutMs) {
    pollfd p{sfd, POLLIN, 0};
    if (sfd >= 0 && ::poll(&p, 1, timeoutMs) > 0) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) ++signals;
    } else if (sfd < 0 && timeoutMs > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
    }
  };

  for (;;) {
    while (head < queue.size()) {
      std::size_t n = 0, bytes = 0;
      while (head + n < queue.size() && n < kMaxBatchRecords &&
             (n == 0 || bytes + queue[head + n].size() <= kMaxBatchBytes))
        bytes += queue[head + n++].size();
      int64_t granted = limiter.take(static_cast<int64_t>(n), RateLimiter::Clock::now());
      if (granted == 0) {
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(limiter.waitTime(RateLimiter::Clock::now()));
        checkSignal(static_cast<int>(std::max<int64_t>(1, wait.count())));
        if (signals > 1) {
          std::cerr << "to_nsq: interrupted; " << acked << " records were published, "
                    << queue.size() - head << " read records were not\n";
          return 1;
        }
        continue;
      }
      n = static_cast<std::size_t>(granted);
      std::vector<std::string> batch(std::make_move_iterator(queue.begin() + static_cast<long>(head)),
                                     std::make_move_iterator(queue.begin() + static_cast<long>(head + n)));
      for (auto& p : producers) {
        PublishResult r = n == 1 ? p->publish(o.topic, batch[0]) : p->multiPublish(o.topic, batch);
        if (!r.ok()) {
          std::cerr << "to_nsq: failed to publish " << recordRange(acked + 1, acked + n) << " to "
                    << p->address() << ": " << r.error << "\n"
                    << "to_nsq: " << acked << " records were acknowledged by every nsqd; "
                    << "records from " << acked + 1 << " on may not have been published\n";
          return 1;
        }
      }
      head += n;
      acked += n;
    }
    queue.clear();
    head = 0;
    if (eof || signals > 0) break;

    pollfd fds[2] = {{inputFd, POLLIN, 0}, {sfd, POLLIN, 0}};
    int rc = ::poll(fds, sfd >= 0 ? 2 : 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (sfd >= 0 && (fds[1].revents & POLLIN)) checkSignal(0);
    if (signals > 0) continue;  // publish nothing more; the queue is empty here
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(inputFd, buf.data(), buf.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got < 0) {
        std::cerr << "to_nsq: reading stdin: " << std::strerror(errno) << "\n";
        return 1;
      }
      if (got == 0) {
        eof = true;
        splitter.finish(queue);
      } else {
        splitter.feed(std::string_view(buf.data(), static_cast<std::size_t>(got)), queue);
      }
    }
  }
  if (sfd >= 0) ::close(sfd);
  for (auto& p : producers) p->stop();
  return 0;
}

}  // namespace nsq::tools

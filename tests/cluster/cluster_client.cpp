// cluster_client: the producer and the consumer of the multi-host cluster test, built on the
// client library and run inside a network namespace (ip netns exec).
//
//   cluster_client produce TOPIC NSQD_TCP...   publishes "m<seq>" until SIGTERM, each to the next
//       nsqd in turn, trying the others when one fails; prints "ACK <body> <nsqd>" for every OK.
//   cluster_client consume TOPIC CHANNEL LOOKUPD_HTTP...   discovers nsqd through the lookupds
//       (polled every second) and prints each body on its own line, then finishes it.
// Output is flushed per line so the test can read it while the program runs.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nsq/client/consumer.h"
#include "nsq/client/producer.h"

namespace {

std::atomic<bool> stopping{false};
void onSignal(int) { stopping = true; }

nsq::ConnectionConfig quickConfig() {
  nsq::ConnectionConfig cfg;  // a partitioned nsqd must not hold a publish for a minute
  cfg.dialTimeout = std::chrono::milliseconds(1000);
  cfg.readTimeout = std::chrono::milliseconds(3000);
  cfg.writeTimeout = std::chrono::milliseconds(1000);
  cfg.heartbeatIntervalMs = 1000;
  return cfg;
}

int produce(const std::string& topic, const std::vector<std::string>& addresses) {
  std::vector<std::unique_ptr<nsq::Producer>> producers;
  for (const auto& a : addresses) producers.push_back(std::make_unique<nsq::Producer>(a, quickConfig()));
  uint64_t seq = 0;
  std::size_t next = 0;
  while (!stopping) {
    std::string body = "m" + std::to_string(seq++);
    for (std::size_t tries = 0; tries < producers.size() && !stopping; ++tries) {
      nsq::Producer& p = *producers[next++ % producers.size()];
      if (p.publish(topic, body).ok()) {
        std::printf("ACK %s %s\n", body.c_str(), p.address().c_str());
        std::fflush(stdout);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

int consume(const std::string& topic, const std::string& channel, const std::vector<std::string>& lookupds) {
  nsq::ConsumerConfig cfg;
  cfg.conn = quickConfig();
  cfg.maxInFlight = 60;
  cfg.maxAttempts = 0;
  cfg.lookupdPollInterval = std::chrono::milliseconds(1000);
  cfg.lookupdPollJitter = 0.1;
  cfg.http.connect = std::chrono::milliseconds(1000);
  cfg.http.request = std::chrono::milliseconds(2000);
  nsq::Consumer consumer(topic, channel, cfg, [](const nsq::DeliveryPtr& d) {
    std::string line(d->body());
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return nsq::HandlerResult::Finish;
  });
  consumer.connectToLookupds(lookupds);
  while (!stopping) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  consumer.stop();
  consumer.waitStopped();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGTERM, onSignal);
  signal(SIGINT, onSignal);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "produce") return produce(args[1], {args.begin() + 2, args.end()});
  if (args.size() >= 4 && args[0] == "consume") return consume(args[1], args[2], {args.begin() + 3, args.end()});
  std::fprintf(stderr, "usage: cluster_client produce TOPIC NSQD_TCP... | consume TOPIC CHANNEL LOOKUPD_HTTP...\n");
  return 2;
}

// consumer: prints the bodies of COUNT messages from TOPIC/CHANNEL, then stops gracefully.
//   consumer --nsqd 127.0.0.1:4150 events archive 10
//   consumer --lookupd 127.0.0.1:4161 events archive 10
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>

#include <nsq/client.h>

int main(int argc, char** argv) {
  if (argc != 6 || (std::string(argv[1]) != "--nsqd" && std::string(argv[1]) != "--lookupd")) {
    std::cerr << "usage: consumer --nsqd|--lookupd ADDRESS TOPIC CHANNEL COUNT\n";
    return 2;
  }
  const long wanted = std::stol(argv[5]);
  std::mutex mutex;
  std::condition_variable done;
  long seen = 0;

  nsq::Logger::configure("[consumer] ", nsq::LogLevel::Warn);  // the library logs to stderr
  nsq::ConsumerConfig cfg;
  cfg.maxInFlight = 10;                                // go-nsq "max_in_flight"
  std::string err = nsq::applyConsumerOption(cfg, "lookupd_poll_interval,1s");  // or by name
  if (!err.empty()) std::cerr << "consumer: " << err << "\n";

  // Runs on the consumer's handler thread; returning Finish sends FIN.
  nsq::Consumer consumer(argv[3], argv[4], cfg, [&](const nsq::DeliveryPtr& d) {
    std::lock_guard lock(mutex);
    if (seen >= wanted) return nsq::HandlerResult::RequeueWithoutBackoff;  // not ours to take
    std::cout << d->body() << std::endl;
    if (++seen == wanted) done.notify_one();
    return nsq::HandlerResult::Finish;
  });
  try {
    if (std::string(argv[1]) == "--nsqd") consumer.connectToNsqd(argv[2]);
    else consumer.connectToLookupds({argv[2]});
  } catch (const nsq::ConnectionError& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
  {
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return seen >= wanted; });
  }
  consumer.stop();                          // CLS to every nsqd
  return consumer.waitStopped() ? 0 : 1;    // in-flight messages answered
}

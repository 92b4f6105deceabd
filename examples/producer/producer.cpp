// producer: publishes each argument after the topic as one message to an nsqd.
//   producer 127.0.0.1:4150 events hello world
// Exits 1 with nsqd's error (or the connection's) when a publish fails.
#include <iostream>

#include <nsq/client.h>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: producer NSQD_TCP_ADDRESS TOPIC MESSAGE...\n";
    return 2;
  }
  nsq::ConnectionConfig cfg;  // go-nsq's defaults; e.g. cfg.snappy = true, cfg.tlsV1 = true
  nsq::Producer producer(argv[1], cfg);
  try {
    producer.connect();  // optional: fail now on a wrong address rather than on the first publish
  } catch (const nsq::ConnectionError& e) {
    std::cerr << "producer: " << e.what() << "\n";
    return 1;
  }
  for (int i = 3; i < argc; ++i) {
    nsq::PublishResult r = producer.publish(argv[2], argv[i]);
    if (!r.ok()) {
      std::cerr << "producer: " << r.error << "\n";
      return 1;
    }
  }
  std::cout << "published " << (argc - 3) << " message(s) to " << argv[2] << "\n";
  return 0;
}

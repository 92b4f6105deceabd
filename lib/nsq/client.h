#pragma once
// The NSQ C++ client library, all of it in one include (docs/client.md is the guide).
//
//   #include <nsq/client.h>
//
//   nsq::Producer producer("127.0.0.1:4150");
//   if (auto r = producer.publish("events", "hello"); !r.ok()) std::cerr << r.error << "\n";
//
//   nsq::ConsumerConfig cfg;
//   cfg.maxInFlight = 100;
//   nsq::Consumer consumer("events", "archive", cfg, [](const nsq::DeliveryPtr& d) {
//     std::cout << d->body() << "\n";
//     return nsq::HandlerResult::Finish;
//   });
//   consumer.connectToLookupds({"127.0.0.1:4161"});
//   ...
//   consumer.stop();
//   consumer.waitStopped();
//
// Link with nsq::client (CMake: find_package(nsq CONFIG)) or `pkg-config --libs nsq-client`;
// the headers need C++20. Everything is in namespace nsq.
//   Producer                 nsq/client/producer.h   PUB, MPUB, DPUB to one nsqd
//   Consumer, Delivery       nsq/client/consumer.h   SUB on nsqd nodes or via nsqlookupd
//   ConnectionConfig         nsq/client/connection.h IDENTIFY settings, TLS, compression, timeouts
//   lookupProducers, ...     nsq/client/lookupd_client.h  nsqlookupd's HTTP API
//   Logger                   nsq/base/log.h          the library's log level (default: info)
#include "nsq/base/log.h"
#include "nsq/client/connection.h"
#include "nsq/client/consumer.h"
#include "nsq/client/lookupd_client.h"
#include "nsq/client/producer.h"

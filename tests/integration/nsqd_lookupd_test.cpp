// Discovery end to end: real nsqlookupd and nsqd processes on loopback. Every nsqd registers its
// topics and channels with every lookupd; losing one lookupd leaves discovery working through the
// other; a restarted lookupd is re-taught by the nsqds; deletions and disconnects show at once.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <functional>
#include <set>
#include <thread>

#include "support/nsqd_process.h"
#include "support/v2_client.h"

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

class Lookupd {
 public:
  Lookupd() : tcp_(freePort()), http_(freePort()) { start(); }
  void start() {
    proc_ = std::make_unique<Process>(
        binaryPath("nsqlookupd"),
        std::vector<std::string>{"--tcp-address=127.0.0.1:" + std::to_string(tcp_),
                                 "--http-address=127.0.0.1:" + std::to_string(http_),
                                 "--broadcast-address=127.0.0.1"},
        logs_.path());
    if (!waitForPort(tcp_) || !waitForPort(http_)) throw std::runtime_error("nsqlookupd did not start");
  }
  void kill() { proc_->stop(9); }
  int tcp() const { return tcp_; }
  int http() const { return http_; }
  std::string tcpAddress() const { return "127.0.0.1:" + std::to_string(tcp_); }

 private:
  TempDir logs_;
  int tcp_, http_;
  std::unique_ptr<Process> proc_;
};

// TCP ports of the producers /lookup lists for topic (empty on 404).
std::set<int> producers(int httpPort, const std::string& topic) {
  HttpResponse r = httpRequest(httpPort, "GET", "/lookup?topic=" + topic);
  std::set<int> ports;
  if (r.status != 200) return ports;
  auto obj = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  auto arr = obj->getArray("producers");
  for (std::size_t i = 0; i < arr->size(); ++i)
    ports.insert(arr->getObject(static_cast<unsigned>(i))->getValue<int>("tcp_port"));
  return ports;
}

std::set<std::string> channels(int httpPort, const std::string& topic) {
  HttpResponse r = httpRequest(httpPort, "GET", "/channels?topic=" + topic);
  std::set<std::string> out;
  auto arr = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>()->getArray("channels");
  for (std::size_t i = 0; i < arr->size(); ++i) out.insert(arr->getElement<std::string>(static_cast<unsigned>(i)));
  return out;
}

}  // namespace

TEST(Discovery, EveryNsqdRegistersWithEveryLookupdAndSurvivesLookupdLoss) {
  Lookupd l1, l2;
  std::vector<std::string> args = {"--lookupd-tcp-address=" + l1.tcpAddress(),
                                   "--lookupd-tcp-address=" + l2.tcpAddress()};
  NsqdProcess n1(args), n2(args), n3(args);
  for (NsqdProcess* n : {&n1, &n2, &n3}) {
    V2Client p(n->tcpPort());
    ASSERT_EQ(p.pub("disc", "x"), "OK");
  }
  std::set<int> all = {n1.tcpPort(), n2.tcpPort(), n3.tcpPort()};
  EXPECT_TRUE(eventually([&] { return producers(l1.http(), "disc") == all; }));
  EXPECT_TRUE(eventually([&] { return producers(l2.http(), "disc") == all; }));

  V2Client consumer(n1.tcpPort());
  consumer.sub("disc", "workers");
  EXPECT_TRUE(eventually([&] { return channels(l2.http(), "disc").count("workers") == 1; }));

  // One lookupd dies: the other still answers.
  l1.kill();
  EXPECT_EQ(producers(l2.http(), "disc"), all);

  // It comes back empty; the nsqds reconnect and register everything again.
  l1.start();
  EXPECT_TRUE(eventually([&] { return producers(l1.http(), "disc") == all; }, 20s));
  EXPECT_EQ(channels(l1.http(), "disc").count("workers"), 1u);

  // An nsqd that dies drops out at once (its connection closes).
  n3.process().stop(9);
  std::set<int> two = {n1.tcpPort(), n2.tcpPort()};
  EXPECT_TRUE(eventually([&] { return producers(l1.http(), "disc") == two; }, 5s));
  EXPECT_TRUE(eventually([&] { return producers(l2.http(), "disc") == two; }, 5s));

  // Deleting the topic on an nsqd unregisters it.
  ASSERT_EQ(httpRequest(n2.httpPort(), "POST", "/topic/delete?topic=disc").status, 200);
  std::set<int> one = {n1.tcpPort()};
  EXPECT_TRUE(eventually([&] { return producers(l2.http(), "disc") == one; }, 5s));
}

TEST(Discovery, NewTopicPreCreatesTheChannelsTheClusterKnows) {
  Lookupd l;
  std::vector<std::string> args = {"--lookupd-tcp-address=" + l.tcpAddress()};
  NsqdProcess a(args), b(args);
  V2Client consumer(a.tcpPort());
  consumer.sub("precreate", "archive");
  EXPECT_TRUE(eventually([&] { return channels(l.http(), "precreate").count("archive") == 1; }));
  // b has never seen the topic: its first publish must still land in channel "archive".
  EXPECT_TRUE(eventually([&] { return httpRequest(b.httpPort(), "GET", "/ping").status == 200; }));
  std::this_thread::sleep_for(1500ms);  // let b's registrar connect (it dials within ~1 s)
  V2Client p(b.tcpPort());
  ASSERT_EQ(p.pub("precreate", "first"), "OK");
  V2Client late(b.tcpPort());
  late.sub("precreate", "archive");
  late.rdy(1);
  EXPECT_EQ(late.readMessage().body.view(), "first");
}

TEST(Discovery, LookupdsCanBeAddedAndDroppedAtRunTime) {
  Lookupd l;
  NsqdProcess n;
  V2Client p(n.tcpPort());
  ASSERT_EQ(p.pub("runtime", "x"), "OK");
  std::set<int> none;
  EXPECT_EQ(producers(l.http(), "runtime"), none);
  std::string list = "[\"" + l.tcpAddress() + "\"]";
  HttpResponse put = httpRequest(n.httpPort(), "PUT", "/config/nsqlookupd_tcp_addresses", list);
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(httpRequest(n.httpPort(), "GET", "/config/nsqlookupd_tcp_addresses").body, list);
  std::set<int> one = {n.tcpPort()};
  EXPECT_TRUE(eventually([&] { return producers(l.http(), "runtime") == one; }));
  EXPECT_EQ(httpRequest(n.httpPort(), "PUT", "/config/nsqlookupd_tcp_addresses", "[]").status, 200);
  EXPECT_TRUE(eventually([&] { return producers(l.http(), "runtime").empty(); }));
  EXPECT_EQ(httpRequest(n.httpPort(), "PUT", "/config/nsqlookupd_tcp_addresses", "[1,2]").status, 400);
  EXPECT_EQ(httpRequest(n.httpPort(), "PUT", "/config/nsqlookupd_tcp_addresses", "not json").status, 400);
}

#pragma once
// AdminProcess: the built nsqadmin running on a free loopback port, logs in its own temp dir,
// stopped with SIGTERM (and checked for sanitizer reports) by the destructor. AdminCluster: the
// cluster it is tested against (nsqlookupd and two nsqd).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/lookupd_process.h"
#include "support/nsqd_process.h"
#include "support/test_support.h"

namespace nsq::test {

struct AdminProcess {
  TempDir dir;
  int httpPort = freePort();
  std::unique_ptr<Process> proc;

  // args: the cluster (--lookupd-http-address=... or --nsqd-http-address=...) and any more flags.
  explicit AdminProcess(const std::vector<std::string>& extraArgs) {
    std::vector<std::string> args{"--http-address=127.0.0.1:" + std::to_string(httpPort)};
    args.insert(args.end(), extraArgs.begin(), extraArgs.end());
    proc = std::make_unique<Process>(binaryPath("nsqadmin"), args, dir.path());
    EXPECT_TRUE(waitForPort(httpPort)) << proc->stderrText();
  }
  ~AdminProcess() {
    if (proc && proc->running()) proc->stop(15);
    std::string log = proc ? proc->stderrText() : "";
    for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
      if (log.find(marker) != std::string::npos) ADD_FAILURE() << "nsqadmin reported a sanitizer error:\n" << log;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(httpPort); }
  HttpResponse get(const std::string& target) const { return httpRequest(httpPort, "GET", target); }
  HttpResponse send(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    return httpRequest(httpPort, method, target, body, headers);
  }
};

inline Poco::JSON::Object::Ptr parseJson(const HttpResponse& r) {
  return Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

inline std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

// nsqlookupd, two nsqd registered with it, and topic "orders" with channel "billing" on both.
struct AdminCluster {
  LookupdProcess lookupd;
  NsqdProcess a{{"--lookupd-tcp-address=" + loopback(lookupd.tcpPort)}};
  NsqdProcess b{{"--lookupd-tcp-address=" + loopback(lookupd.tcpPort)}};

  AdminCluster() {
    for (NsqdProcess* n : {&a, &b}) {
      EXPECT_EQ(httpRequest(n->httpPort(), "POST", "/topic/create?topic=orders").status, 200);
      EXPECT_EQ(httpRequest(n->httpPort(), "POST", "/channel/create?topic=orders&channel=billing").status, 200);
    }
    EXPECT_EQ(httpRequest(a.httpPort(), "POST", "/pub?topic=orders", "one").status, 200);
    EXPECT_EQ(httpRequest(b.httpPort(), "POST", "/pub?topic=orders", "two").status, 200);
    EXPECT_EQ(httpRequest(b.httpPort(), "POST", "/pub?topic=orders", "three").status, 200);
    // Registration reaches lookupd asynchronously.
    EXPECT_TRUE(eventually([&] {
      auto r = httpRequest(lookupd.httpPort, "GET", "/lookup?topic=orders");
      return r.status == 200 && parseJson(r)->getArray("producers")->size() == 2;
    }));
  }
  std::string lookupdFlag() const { return "--lookupd-http-address=" + loopback(lookupd.httpPort); }
  bool paused(NsqdProcess& n, const std::string& channel) {
    auto stats = parseJson(httpRequest(n.httpPort(), "GET", "/stats?format=json&topic=orders"));
    auto topic = stats->getArray("topics")->getObject(0);
    if (channel.empty()) return topic->getValue<bool>("paused");
    auto channels = topic->getArray("channels");
    for (unsigned i = 0; i < channels->size(); ++i)
      if (channels->getObject(i)->getValue<std::string>("channel_name") == channel)
        return channels->getObject(i)->getValue<bool>("paused");
    return false;
  }
  int64_t channelDepth(NsqdProcess& n) {
    auto stats = parseJson(httpRequest(n.httpPort(), "GET", "/stats?format=json&topic=orders&channel=billing"));
    return stats->getArray("topics")->getObject(0)->getArray("channels")->getObject(0)->getValue<int64_t>("depth");
  }
};

}  // namespace nsq::test

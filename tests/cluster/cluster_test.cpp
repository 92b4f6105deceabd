// The multi-host cluster test: nsqlookupd x2 and nsqd x3, each in its own network namespace with
// its own address on a bridge made by the test, a producer (several nsqd addresses) and a
// consumer (discovery through both lookupds) in two more, all through the client library
// (tests/cluster/cluster_client.cpp). Faults: kill -9 an nsqd and a lookupd, restart the lookupd
// empty, take an nsqd's link down and up. After each step the consumer must receive, from every
// nsqd that is reachable, messages the producer got acknowledged there; at the end every
// acknowledged message must have been received. Needs root and `ip` (iproute2); skipped with a
// message otherwise. Names carry the process id, so parallel runs do not collide; a guard
// removes the namespaces and the bridge (and with them the veth pairs) even when a check fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

using namespace nsq::test;
using namespace std::chrono_literals;

namespace {

// The ip(8) binary, or "" when iproute2 is not installed.
std::string ipBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// Runs a shell command quietly; true when it exits 0.
bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// The virtual network: a bridge and one namespace per host, each joined by a veth pair. The
// destructor deletes the namespaces (which deletes the veth pairs) and the bridge.
class Network {
 public:
  Network() : tag_(std::to_string(getpid())), bridge_("nqb" + tag_) {}
  ~Network() {
    for (const auto& [name, host] : hosts_) sh("ip netns del " + host.ns);
    sh("ip link del " + bridge_);
  }
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // "" when namespaces work here, else why not.
  std::string setUp() {
    if (geteuid() != 0) return "needs root to create network namespaces";
    if (ipBinary().empty()) return "needs `ip` (iproute2)";
    if (!sh("ip link add " + bridge_ + " type bridge") || !sh("ip link set " + bridge_ + " up"))
      return "cannot create a bridge (ip link add type bridge failed)";
    return "";
  }
  // Adds host `name` at 10.77.0.<octet>; returns "" or the failing command.
  std::string addHost(const std::string& name, int octet) {
    Host h{"nsqt-" + tag_ + "-" + name, "nq" + tag_ + name, "10.77.0." + std::to_string(octet)};
    hosts_[name] = h;
    const std::string inner = "nqi" + tag_ + name;
    for (const std::string& cmd :
         {"ip netns add " + h.ns, "ip link add " + h.veth + " type veth peer name " + inner,
          "ip link set " + inner + " netns " + h.ns, "ip link set " + h.veth + " master " + bridge_,
          "ip link set " + h.veth + " up", "ip -n " + h.ns + " addr add " + h.ip + "/24 dev " + inner,
          "ip -n " + h.ns + " link set " + inner + " up", "ip -n " + h.ns + " link set lo up"})
      if (!sh(cmd)) return cmd;
    return "";
  }
  const std::string& ip(const std::string& host) const { return hosts_.at(host).ip; }
  const std::string& ns(const std::string& host) const { return hosts_.at(host).ns; }
  // A partition: the host's end of the link on the bridge goes down (and back up).
  void setLink(const std::string& host, bool up) {
    ASSERT_TRUE(sh("ip link set dev " + hosts_.at(host).veth + (up ? " up" : " down")));
  }
  // Runs fn on a thread inside the host's namespace (a thread's network namespace is its own).
  template <class F>
  auto inside(const std::string& host, F fn) -> decltype(fn()) {
    decltype(fn()) result{};
    std::thread t([&] {
      int fd = open(("/run/netns/" + ns(host)).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        if (fd >= 0) close(fd);
        return;
      }
      close(fd);
      result = fn();
    });
    t.join();
    return result;
  }

 private:
  struct Host {
    std::string ns, veth, ip;
  };
  std::string tag_, bridge_;
  std::map<std::string, Host> hosts_;
};

const std::vector<std::string> kNsqds{"n1", "n2", "n3"};
const std::vector<std::string> kLookupds{"l1", "l2"};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = net.setUp();
    if (!why.empty()) GTEST_SKIP() << "network namespaces unavailable: " << why;
    int octet = 11;
    for (const char* h : {"l1", "l2", "n1", "n2", "n3", "prod", "cons"}) {
      std::string failed = net.addHost(h, octet++);
      if (!failed.empty()) GTEST_SKIP() << "network namespaces unavailable: `" << failed << "` failed";
    }
  }

  // A binary started inside host's namespace; its pid is the binary's (ip netns exec execs it).
  std::unique_ptr<Process> runIn(const std::string& host, const std::string& binary, std::vector<std::string> args) {
    args.insert(args.begin(), {"netns", "exec", net.ns(host), binary});
    std::filesystem::create_directories(logs.path() + "/" + host);
    return std::make_unique<Process>(ipBinary(), args, logs.path() + "/" + host);
  }
  static std::string clientBinary() { return std::string(NSQ_BIN_DIR) + "/tests/cluster_client"; }
  bool listening(const std::string& host, int port) {
    return net.inside(host, [&] { return waitForPort(port, 10s); });
  }

  void startLookupd(const std::string& h) {
    daemons[h] = runIn(h, binaryPath("nsqlookupd"), {"--tcp-address=0.0.0.0:4160", "--http-address=0.0.0.0:4161"});
    ASSERT_TRUE(listening(h, 4160) && listening(h, 4161)) << daemons[h]->stderrText();
  }
  void startNsqd(const std::string& h) {
    std::vector<std::string> args{"--tcp-address=0.0.0.0:4150", "--http-address=0.0.0.0:4151",
                                  "--broadcast-address=" + net.ip(h), "--data-path=" + dataDirs[h]->path(),
                                  "--mem-queue-size=0", "--sync-every=1",
                                  // A delivery cut off by a partition stays in flight on the far
                                  // nsqd until its timeout: 10 s, not the default 60 s, so that the
                                  // final 30 s wait covers it (at load 18 one such message was
                                  // still in flight at the check once, and counted as lost).
                                  "--msg-timeout=10s"};
    for (const auto& l : kLookupds) args.push_back("--lookupd-tcp-address=" + net.ip(l) + ":4160");
    daemons[h] = runIn(h, binaryPath("nsqd"), args);
    ASSERT_TRUE(listening(h, 4150) && listening(h, 4151)) << daemons[h]->stderrText();
  }
  void kill9(const std::string& h) { daemons[h]->stop(9); }

  // The nsqd broadcast addresses lookupd `l` lists for the topic.
  std::set<std::string> lookup(const std::string& l) {
    std::string body = net.inside(l, [&] {
      try {
        return httpRequest(4161, "GET", "/lookup?topic=t").body;
      } catch (const std::exception&) {
        return std::string();
      }
    });
    std::set<std::string> out;
    for (const auto& h : kNsqds)
      if (body.find("\"broadcast_address\":\"" + net.ip(h) + "\"") != std::string::npos) out.insert(h);
    return out;
  }

  // Lines of a process's stdout, from line `from` on.
  static std::vector<std::string> lines(Process& p, std::size_t from = 0) {
    std::istringstream in(p.stdoutText());
    std::vector<std::string> out;
    std::string line;
    for (std::size_t i = 0; std::getline(in, line); ++i)
      if (i >= from && !line.empty()) out.push_back(line);
    return out;
  }
  // Acknowledged bodies from producer line `from` on, by nsqd host.
  std::map<std::string, std::set<std::string>> ackedSince(std::size_t from) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& l : lines(*producer, from)) {
      std::istringstream in(l);
      std::string ack, body, addr;
      in >> ack >> body >> addr;
      for (const auto& h : kNsqds)
        if (addr == net.ip(h) + ":4150") out[h].insert(body);
    }
    return out;
  }
  // Pipes `records` (one a line) into to_nsq on the producer host, publishing to every nsqd;
  // returns {exit status (waitpid), stderr}.
  std::pair<int, std::string> toNsq(const std::string& records) {
    std::string cmd = "printf '" + records + "' | exec " + ipBinary() + " netns exec " + net.ns("prod") + " " +
                      binaryPath("to_nsq") + " --topic=t --producer-opt=read_timeout,3s";
    for (const auto& n : kNsqds) cmd += " --nsqd-tcp-address=" + net.ip(n) + ":4150";
    std::filesystem::create_directories(logs.path() + "/to_nsq");
    Process p("/bin/sh", {"-c", cmd}, logs.path() + "/to_nsq");
    eventually([&] { return !p.running(); }, 20s);
    return {p.stop(9), p.stderrText()};
  }
  // How many times the consumer received `body`.
  std::size_t deliveriesOf(const std::string& body) {
    auto v = lines(*consumer);
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), body));
  }
  std::set<std::string> received() {
    auto v = lines(*consumer);
    return {v.begin(), v.end()};
  }

  // The cluster still works: messages acknowledged from now on by each of `reachable` reach the
  // consumer (at least 10 from each).
  void expectFlowFrom(const std::set<std::string>& reachable, const std::string& step) {
    std::size_t mark = lines(*producer).size();
    bool ok = eventually(
        [&] {
          auto acked = ackedSince(mark);
          auto got = received();
          for (const auto& h : reachable) {
            int n = 0;
            for (const auto& b : acked[h]) n += got.count(b) ? 1 : 0;
            if (n < 10) return false;
          }
          return true;
        },
        30s);
    auto acked = ackedSince(mark);
    std::ostringstream counts;
    for (const auto& h : kNsqds) counts << " " << h << "=" << acked[h].size();
    std::cout << "[ cluster ] " << step << ": acknowledged since" << counts.str() << std::endl;
    EXPECT_TRUE(ok) << step << ": the consumer did not receive from every reachable nsqd;"
                    << " acknowledged since the step:" << counts.str() << "\nconsumer log:\n"
                    << consumer->stderrText() << "\nproducer log:\n" << producer->stderrText();
  }

  Network net;  // destroyed last: the processes below die first
  TempDir logs;
  std::map<std::string, std::unique_ptr<TempDir>> dataDirs;
  std::map<std::string, std::unique_ptr<Process>> daemons;
  std::unique_ptr<Process> producer, consumer;
};

}  // namespace

TEST_F(ClusterTest, SurvivesKilledDaemonsAnEmptyLookupdAndAPartitionLosingNothing) {
  for (const auto& l : kLookupds) ASSERT_NO_FATAL_FAILURE(startLookupd(l));
  for (const auto& n : kNsqds) {
    dataDirs[n] = std::make_unique<TempDir>();
    ASSERT_NO_FATAL_FAILURE(startNsqd(n));
    // The topic and a durable channel exist before the first publish, so nothing waits for a
    // subscriber, and every nsqd registers them with both lookupds.
    ASSERT_EQ(net.inside(n, [] { return httpRequest(4151, "POST", "/topic/create?topic=t").status; }), 200);
    ASSERT_EQ(net.inside(n, [] { return httpRequest(4151, "POST", "/channel/create?topic=t&channel=c").status; }), 200);
  }
  for (const auto& l : kLookupds)
    ASSERT_TRUE(eventually([&] { return lookup(l).size() == 3; })) << l << " does not list all three nsqd";

  std::vector<std::string> producerArgs{"produce", "t"};
  for (const auto& n : kNsqds) producerArgs.push_back(net.ip(n) + ":4150");
  std::vector<std::string> consumerArgs{"consume", "t", "c"};
  for (const auto& l : kLookupds) consumerArgs.push_back(net.ip(l) + ":4161");
  consumer = runIn("cons", clientBinary(), consumerArgs);
  producer = runIn("prod", clientBinary(), producerArgs);

  expectFlowFrom({"n1", "n2", "n3"}, "healthy");

  // An nsqd dies: the producer moves on to the others, the consumer keeps the others.
  kill9("n2");
  expectFlowFrom({"n1", "n3"}, "nsqd n2 killed -9");
  // to_nsq publishes each record to every nsqd (as the original): with one down it fails, naming it.
  auto [downStatus, downErr] = toNsq("down-1\\n");
  EXPECT_TRUE(WIFEXITED(downStatus) && WEXITSTATUS(downStatus) == 1) << downStatus << " " << downErr;
  EXPECT_NE(downErr.find(net.ip("n2")), std::string::npos) << downErr;
  ASSERT_NO_FATAL_FAILURE(startNsqd("n2"));
  expectFlowFrom({"n1", "n2", "n3"}, "nsqd n2 restarted");

  // A lookupd dies: discovery goes on through the other; restarted empty, it is taught again.
  kill9("l1");
  expectFlowFrom({"n1", "n2", "n3"}, "lookupd l1 killed -9");
  ASSERT_NO_FATAL_FAILURE(startLookupd("l1"));
  EXPECT_TRUE(eventually([&] { return lookup("l1").size() == 3; }, 20s))
      << "the nsqd did not re-register with the empty lookupd l1";

  // A partition: n3's link goes down; the rest carries on; on heal n3 is back in both lookupds
  // and its messages (including those it held during the partition) flow again.
  net.setLink("n3", false);
  expectFlowFrom({"n1", "n2"}, "nsqd n3 partitioned");
  net.setLink("n3", true);
  for (const auto& l : kLookupds)
    EXPECT_TRUE(eventually([&] { return lookup(l).count("n3") == 1; }, 30s)) << l << " lost n3 after the heal";
  expectFlowFrom({"n1", "n2", "n3"}, "partition healed");
  // With all three back, to_nsq gets every record acknowledged by each nsqd: three copies arrive.
  auto [status, err] = toNsq("tonsq-1\\ntonsq-2\\n");
  EXPECT_EQ(status, 0) << err;
  EXPECT_TRUE(eventually([&] { return deliveriesOf("tonsq-1") == 3 && deliveriesOf("tonsq-2") == 3; }, 20s))
      << "to_nsq records: " << deliveriesOf("tonsq-1") << " and " << deliveriesOf("tonsq-2") << " copies";

  // Nothing acknowledged is lost.
  producer->stop(15);
  std::set<std::string> acked;
  for (const auto& [h, bodies] : ackedSince(0)) acked.insert(bodies.begin(), bodies.end());
  std::vector<std::string> missing;
  eventually(
      [&] {
        auto got = received();
        missing.clear();
        for (const auto& b : acked)
          if (!got.count(b)) missing.push_back(b);
        return missing.empty();
      },
      30s);
  auto deliveries = lines(*consumer).size();
  std::cout << "[ cluster ] acknowledged=" << acked.size() << " received(distinct)=" << received().size()
            << " deliveries=" << deliveries << " lost=" << missing.size() << std::endl;
  EXPECT_GT(acked.size(), 100u);
  EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged messages lost, e.g. " << missing.front();
}

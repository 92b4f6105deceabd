#pragma once
// LookupRegistrar: nsqd's side of discovery (NSQ-COMPAT §4.8). One thread keeps a V1 TCP
// connection to each --lookupd-tcp-address: lazy connect, IDENTIFY, REGISTER of every topic and
// channel, PING every 15 s, REGISTER/UNREGISTER as topics and channels come and go, and after any
// error a reconnect (with backoff) that replays the full IDENTIFY/REGISTER. Every socket
// operation has a 1 s deadline, and exactly one reply is read per command.
//
// It also answers "which channels does the cluster know for topic T?" for new topics, by asking
// each lookupd's HTTP /channels (address from its IDENTIFY reply), so nsqd can pre-create them.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace nsq::nsqd {

class Nsqd;

class LookupRegistrar {
 public:
  LookupRegistrar(Nsqd& nsqd, std::vector<std::string> addresses);
  ~LookupRegistrar();
  void start();
  void stop();

  // Queue a registration change (any thread, never blocks on the network).
  void registerTopic(const std::string& topic, const std::string& channel = "");
  void unregisterTopic(const std::string& topic, const std::string& channel = "");
  // Queue a channel discovery for a new topic; the registrar creates the channels it finds and
  // then starts the topic.
  void discoverChannels(const std::string& topic);
  // True once any lookupd has answered IDENTIFY (so HTTP addresses are known).
  bool anyConnected() const;
  // Replaces the set of lookupds at run time (PUT /config/nsqlookupd_tcp_addresses): new ones
  // are connected and taught everything, removed ones are disconnected. Any thread.
  void setAddresses(const std::vector<std::string>& addresses);
  std::vector<std::string> addresses() const;

 private:
  struct Peer;
  struct Job {
    enum Kind { Register, Unregister, Discover } kind;
    std::string topic, channel;
  };
  void run();
  bool connectPeer(Peer& p);
  bool command(Peer& p, const std::string& line, const std::string* body, std::string* reply);
  void closePeer(Peer& p);
  void discover(const std::string& topic);
  void applyAddresses();

  Nsqd& nsqd_;
  std::vector<std::unique_ptr<Peer>> peers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<std::string> wanted_;  // guarded by mu_; applied to peers_ by the thread
  bool addressesChanged_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nsq::nsqd

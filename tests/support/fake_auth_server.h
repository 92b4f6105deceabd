#pragma once
// FakeAuthServer: an NSQ auth server for tests (POCO HTTPServer on 127.0.0.1, port 0). It
// answers per secret (GET query or POST JSON body, as nsqd sends them), can hang a reply until
// released, and records every request it got. Optionally over HTTPS.
#include <Poco/Net/HTTPServer.h>

#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nsq::test {

class FakeAuthServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    bool hang = false;  // answer only when released (or after 30 s)
  };
  struct Request {
    std::string method, path, contentType, accept, body;
    std::map<std::string, std::string> fields;  // common_name, remote_ip, secret, tls
  };

  // Plain HTTP, or HTTPS with the given certificate and key (PEM files).
  FakeAuthServer(const std::string& certFile = "", const std::string& keyFile = "");
  ~FakeAuthServer();
  FakeAuthServer(const FakeAuthServer&) = delete;
  FakeAuthServer& operator=(const FakeAuthServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // What a secret gets; unknown secrets get 403.
  void set(const std::string& secret, Reply reply);
  void set(const std::string& secret, const std::string& body) { set(secret, Reply{200, body, false}); }
  // Lets hanging replies go.
  void release();
  std::vector<Request> requests() const;
  std::size_t count() const { return requests().size(); }

  // A reply granting one topic regex: {"ttl","identity":"alice","identity_url",
  // "authorizations":[{"topic","channels","permissions"}]}; channels and permissions are JSON.
  static std::string grant(const std::string& topic, const std::string& channels,
                           const std::string& permissions, int ttl = 3600);

 private:
  class Handler;
  class Factory;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::map<std::string, Reply> replies_;
  std::vector<Request> requests_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace nsq::test

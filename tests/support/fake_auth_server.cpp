// FakeAuthServer: see the header.
#include "support/fake_auth_server.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <chrono>

namespace nsq::test {

class FakeAuthServer::Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(FakeAuthServer& s) : s_(s) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
    Request r;
    r.method = req.getMethod();
    Poco::URI uri(req.getURI());
    r.path = uri.getPath();
    r.contentType = req.getContentType();
    r.accept = req.get("Accept", "");
    Poco::StreamCopier::copyToString(req.stream(), r.body);
    if (r.method == "GET") {
      for (const auto& [k, v] : uri.getQueryParameters()) r.fields[k] = v;
    } else {
      try {
        auto obj = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
        for (const auto& name : obj->getNames()) r.fields[name] = obj->getArray(name)->getElement<std::string>(0);
      } catch (const std::exception&) {
      }
    }
    Reply reply{403, "{\"message\":\"unknown secret\"}", false};
    {
      std::unique_lock lock(s_.mu_);
      s_.requests_.push_back(r);
      auto it = s_.replies_.find(r.fields["secret"]);
      if (it != s_.replies_.end()) reply = it->second;
      if (reply.hang) s_.cv_.wait_for(lock, std::chrono::seconds(30), [this] { return s_.released_; });
    }
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
    resp.setContentType("application/json");
    resp.sendBuffer(reply.body.data(), reply.body.size());
  }

 private:
  FakeAuthServer& s_;
};

class FakeAuthServer::Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(FakeAuthServer& s) : s_(s) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(s_);
  }

 private:
  FakeAuthServer& s_;
};

FakeAuthServer::FakeAuthServer(const std::string& certFile, const std::string& keyFile) {
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(16);
  // One request per connection: a client that keeps connections idle (Go's, in the original
  // nsqd, opens a new one per query) would otherwise hold a server thread each.
  params->setKeepAlive(false);
  Poco::Net::SocketAddress any("127.0.0.1", 0);
  if (certFile.empty()) {
    Poco::Net::ServerSocket socket(any);
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
  } else {
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, keyFile, certFile, "",
                                                         Poco::Net::Context::VERIFY_NONE);
    Poco::Net::SecureServerSocket socket(any, 64, ctx);
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
  }
  server_->start();
}

FakeAuthServer::~FakeAuthServer() {
  release();
  server_->stopAll(true);
}

void FakeAuthServer::set(const std::string& secret, Reply reply) {
  std::lock_guard lock(mu_);
  replies_[secret] = std::move(reply);
}

void FakeAuthServer::release() {
  std::lock_guard lock(mu_);
  released_ = true;
  cv_.notify_all();
}

std::vector<FakeAuthServer::Request> FakeAuthServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::string FakeAuthServer::grant(const std::string& topic, const std::string& channels,
                                  const std::string& permissions, int ttl) {
  return R"({"ttl":)" + std::to_string(ttl) + R"(,"identity":"alice","identity_url":"https://auth.test/alice",)" +
         R"("authorizations":[{"topic":")" + topic + R"(","channels":)" + channels + R"(,"permissions":)" +
         permissions + "}]}";
}

}  // namespace nsq::test

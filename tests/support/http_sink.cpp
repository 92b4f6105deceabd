// HttpSink: the recording HTTP server of nsq_to_http's tests, on Poco's HTTPServer with a
// handler that reads the whole request, asks the policy for a status and counts concurrency.
#include "support/http_sink.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <cctype>
#include <condition_variable>
#include <set>
#include <thread>

namespace nsq::test {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

std::string SinkRequest::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

struct HttpSink::Impl : Poco::Net::HTTPRequestHandlerFactory {
  Policy policy;
  std::chrono::milliseconds delay;
  std::mutex mutex;
  std::vector<SinkRequest> requests;
  std::map<std::string, int> seen, accepted;
  std::set<std::string> peers;
  int connections = 0;
  int current = 0, maxConcurrent = 0;
  int active = 0;  // handlers running; the destructor waits for 0 (they use this object)
  std::condition_variable idle;
  std::unique_ptr<Poco::Net::HTTPServer> server;

  struct Handler : Poco::Net::HTTPRequestHandler {
    Impl& impl;
    explicit Handler(Impl& i) : impl(i) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
      {
        std::lock_guard lock(impl.mutex);
        ++impl.active;
      }
      struct Done {
        Impl& impl;
        ~Done() {
          std::lock_guard lock(impl.mutex);
          if (--impl.active == 0) impl.idle.notify_all();
        }
      } done{impl};
      SinkRequest r;
      r.method = req.getMethod();
      r.uri = req.getURI();
      Poco::StreamCopier::copyToString(req.stream(), r.body);
      for (const auto& [k, v] : req) r.headers[lower(k)] = v;
      const std::string key = r.method == "GET" ? r.uri : r.body;
      int before;
      {
        std::lock_guard lock(impl.mutex);
        impl.current += 1;
        impl.maxConcurrent = std::max(impl.maxConcurrent, impl.current);
        before = impl.seen[key]++;
        std::string peer = req.clientAddress().toString();
        if (impl.peers.insert(peer).second) ++impl.connections;
      }
      if (impl.delay.count() > 0) std::this_thread::sleep_for(impl.delay);
      int status = impl.policy ? impl.policy(r, before) : 200;
      {
        std::lock_guard lock(impl.mutex);
        impl.current -= 1;
        if (status >= 200 && status < 300) impl.accepted[key] += 1;
        impl.requests.push_back(std::move(r));
      }
      resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
      resp.setContentLength(2);
      resp.send() << "ok";
    }
  };
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(*this);
  }
};

RefusingPort::RefusingPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot reserve a loopback port");
  port_ = ntohs(a.sin_port);
}

RefusingPort::~RefusingPort() { release(); }

void RefusingPort::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

HttpSink::HttpSink(Policy policy, std::chrono::milliseconds delay, int port, const std::string& certFile,
                   const std::string& keyFile)
    : impl_(std::make_unique<Impl>()), tls_(!certFile.empty()) {
  impl_->policy = std::move(policy);
  impl_->delay = delay;
  const Poco::Net::SocketAddress at("127.0.0.1", static_cast<uint16_t>(port));
  Poco::Net::ServerSocket socket =
      tls_ ? Poco::Net::SecureServerSocket(at, 64,
                                           new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, keyFile,
                                                                  certFile, "", Poco::Net::Context::VERIFY_NONE))
           : Poco::Net::ServerSocket(at);
  port_ = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(64);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  params->setKeepAliveTimeout(Poco::Timespan(30, 0));
  // The factory is owned by the server: hand it a non-owning shim around impl_.
  struct Shim : Poco::Net::HTTPRequestHandlerFactory {
    Impl& impl;
    explicit Shim(Impl& i) : impl(i) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& r) override {
      return impl.createRequestHandler(r);
    }
  };
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(new Shim(*impl_), socket, params);
  impl_->server->start();
}

HttpSink::~HttpSink() {
  impl_->server->stopAll(true);
  // Poco's stop does not join the handler threads: wait until none is inside impl_.
  std::unique_lock lock(impl_->mutex);
  impl_->idle.wait_for(lock, std::chrono::seconds(30), [&] { return impl_->active == 0; });
}

std::string HttpSink::url(const std::string& target) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) + target;
}

std::vector<SinkRequest> HttpSink::requests() {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::map<std::string, int> HttpSink::accepted() {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

int HttpSink::maxConcurrent() {
  std::lock_guard lock(impl_->mutex);
  return impl_->maxConcurrent;
}

int HttpSink::connections() {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

}  // namespace nsq::test

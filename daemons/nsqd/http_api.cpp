// HttpApi: placeholder being replaced by the full implementation (only /ping for now).
#include "http_api.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include "nsqd.h"

namespace nsq::nsqd {

namespace {
class PingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) override {
    resp.setContentType("text/plain; charset=utf-8");
    resp.send() << "OK";
  }
};
class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new PingHandler;
  }
};
}  // namespace

HttpApi::HttpApi(Nsqd& nsqd) : nsqd_(nsqd) {}
HttpApi::~HttpApi() { stop(); }

int HttpApi::start(const std::string& address) {
  Poco::Net::ServerSocket socket{Poco::Net::SocketAddress(address)};
  int port = socket.address().port();
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory, socket, new Poco::Net::HTTPServerParams);
  server_->start();
  return port;
}

void HttpApi::stop() {
  if (server_) {
    server_->stopAll(true);
    server_.reset();
  }
}

}  // namespace nsq::nsqd

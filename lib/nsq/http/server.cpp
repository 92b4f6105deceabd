// Server: the per-connection state machine is Reading -> Busy (a worker runs the handler,
// input paused) -> Writing -> Reading. Pausing input while Busy is what bounds a pipelining
// client: the kernel's buffer fills, not ours.
#include "nsq/http/server.h"

namespace nsq::http {

namespace {

class HttpConnection : public net::Protocol {
 public:
  HttpConnection(const ServerOptions& options, net::WorkerPool& pool, const Handler& handler)
      : options_(options), pool_(pool), handler_(handler), parser_(options.limits) {}

  void onOpen(net::Connection& c) override { c.setDeadline(net::Clock::now() + options_.readTimeout); }

  void onInput(net::Connection& c) override {
    if (state_ != State::Reading) return;
    switch (parser_.parse(c.input())) {
      case RequestParser::Status::NeedMore:
        if (parser_.wantsContinue() && !continueSent_) {
          c.send("HTTP/1.1 100 Continue\r\n\r\n");
          continueSent_ = true;
        }
        return;
      case RequestParser::Status::Error: {
        Response r;
        r.status = parser_.errorStatus();
        r.set("Content-Type", "text/plain; charset=utf-8");
        r.body = std::to_string(r.status) + " " + std::string(reasonPhrase(r.status)) + ": " +
                 parser_.errorText();
        c.server().log(LogLevel::Debug, options_.name + ": client(" + c.remoteAddress() +
                                            ") bad request: " + parser_.errorText());
        respond(c, r, false, true);
        return;
      }
      case RequestParser::Status::Complete:
        dispatch(c);
        return;
    }
  }

  void onDrained(net::Connection& c) override {
    if (state_ != State::Writing) return;
    state_ = State::Reading;
    c.pauseInput(false);
    c.setDeadline(net::Clock::now() + options_.readTimeout);
    if (!c.input().empty()) onInput(c);  // a pipelined request already here
  }

  void onPeerClosed(net::Connection& c) override {
    peerClosed_ = true;
    if (state_ == State::Reading) c.close();  // an unfinished request is dropped
    // Busy or Writing: the response still goes out, then the connection closes.
  }

  void respond(net::Connection& c, const Response& r, bool headOnly, bool close) {
    close = close || peerClosed_;
    c.send(serializeResponse(r, headOnly, close));
    state_ = State::Writing;
    c.clearDeadline();
    if (close) c.closeAfterWrite();
  }

 private:
  enum class State { Reading, Busy, Writing };

  void dispatch(net::Connection& c) {
    auto req = std::make_shared<Request>(std::move(parser_.request()));
    parser_.reset();
    continueSent_ = false;
    req->remoteAddress = c.remoteAddress();
    req->remoteHost = c.remoteHost();
    req->secure = c.secure();
    state_ = State::Busy;
    c.pauseInput(true);
    c.clearDeadline();
    bool headOnly = req->method == "HEAD";
    bool close = req->bodyTooLarge || !req->keepAlive();
    net::EventServer* server = &c.server();
    uint64_t id = c.id();
    const Handler* handler = &handler_;
    std::string name = options_.name;
    bool queued = pool_.submit([server, id, req, handler, headOnly, close, name] {
      auto resp = std::make_shared<Response>();
      try {
        *resp = (*handler)(*req);
      } catch (const std::exception& e) {
        server->log(LogLevel::Error, name + ": " + req->method + " " + req->target + " failed: " + e.what());
        *resp = Response{};
        resp->status = 500;
        resp->body = "500 Internal Server Error";
        resp->close = true;
      }
      server->post(id, [resp, headOnly, close](net::Connection& conn) {
        static_cast<HttpConnection&>(conn.protocol()).respond(conn, *resp, headOnly, close || resp->close);
      });
    });
    if (!queued) {
      Response r;
      r.status = 503;
      r.set("Content-Type", "text/plain; charset=utf-8");
      r.set("Retry-After", "1");
      r.body = "503 Service Unavailable: too many requests queued";
      respond(c, r, headOnly, true);
    }
  }

  const ServerOptions& options_;
  net::WorkerPool& pool_;
  const Handler& handler_;
  RequestParser parser_;
  State state_ = State::Reading;
  bool continueSent_ = false;
  bool peerClosed_ = false;
};

}  // namespace

Server::Server(ServerOptions options, net::WorkerPool& pool, Handler handler)
    : options_(std::move(options)), pool_(pool), handler_(std::move(handler)) {
  net::EventServer::Options eo;
  eo.name = options_.name;
  eo.maxConnections = options_.maxConnections;
  eo.writeTimeout = options_.writeTimeout;
  eo.tls = options_.tls;
  eo.log = options_.log;
  events_ = std::make_unique<net::EventServer>(std::move(eo), [this](net::Connection&) {
    return std::make_unique<HttpConnection>(options_, pool_, handler_);
  });
}

Server::~Server() { stop(); }

int Server::listen(const Poco::Net::SocketAddress& address) { return events_->listen(address); }
void Server::start() { events_->start(); }
void Server::stop() { events_->stop(); }

}  // namespace nsq::http

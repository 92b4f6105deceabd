// NsqLookupd: binds the listeners first (so the real ports are known before either server
// answers anything), then starts two event loops: TCP (protocol V1, commands run on the loop)
// and HTTP (whole requests handed to a pool of kHttpWorkers threads).
#include "nsqlookupd/nsqlookupd.h"

#include "nsqlookupd/net_address.h"

namespace nsq::lookupd {

namespace {
constexpr std::size_t kHttpWorkers = 4;  // handlers are short: RegistrationDB reads and writes
constexpr std::size_t kHttpMaxQueued = 1024;

Poco::Net::SocketAddress listenAddress(const std::string& flag, const std::string& address) {
  std::string err;
  auto addr = parseListenAddress(address, &err);
  if (!addr) throw nsq::OptionError("flag --" + flag + ": " + err);
  return *addr;
}
}  // namespace

NsqLookupd::NsqLookupd(const Options& opts, Logger& log)
    : opts_(opts),
      log_(log),
      tcpCtx_{db_, log_},
      httpCtx_{db_, log_, opts.inactiveProducerTimeout, opts.tombstoneLifetime} {
  tcpCtx_.broadcastAddress = opts.broadcastAddress.empty() ? hostname() : opts.broadcastAddress;
  tcpCtx_.hostname = hostname();
}

NsqLookupd::~NsqLookupd() { stop(); }

void NsqLookupd::start() {
  net::raiseOpenFileLimit();
  net::LogSink sink = [this](LogLevel level, const std::string& text) { log_.log(level, text); };

  net::EventServer::Options tcp;
  tcp.name = "TCP";
  tcp.maxConnections = static_cast<std::size_t>(opts_.tcpMaxConnections);
  tcp.log = sink;
  tcpServer_ = std::make_unique<net::EventServer>(
      std::move(tcp), [this](net::Connection&) { return std::make_unique<V1Connection>(tcpCtx_); });

  httpPool_ = std::make_unique<net::WorkerPool>("lookupd-http", kHttpWorkers, kHttpMaxQueued);
  http::ServerOptions web;
  web.name = "HTTP";
  web.maxConnections = static_cast<std::size_t>(opts_.httpMaxConnections);
  web.readTimeout = std::chrono::duration_cast<std::chrono::milliseconds>(opts_.httpReadTimeout);
  web.limits.maxBodyBytes = 64 * 1024;  // no endpoint takes a body
  http::applyHeaderFlags(opts_.httpHeaders, web.limits);
  web.log = sink;
  httpServer_ = std::make_unique<http::Server>(std::move(web), *httpPool_, [this](http::Request& req) {
    return handleHttp(httpCtx_, req);
  });

  tcpCtx_.tcpPort = tcpServer_->listen(listenAddress("tcp-address", opts_.tcpAddress));
  tcpCtx_.httpPort = httpServer_->listen(listenAddress("http-address", opts_.httpAddress));
  tcpServer_->start();
  log_.info("TCP: listening on " + opts_.tcpAddress + " (port " + std::to_string(tcpCtx_.tcpPort) + ")");
  httpServer_->start();
  log_.info("HTTP: listening on " + opts_.httpAddress + " (port " + std::to_string(tcpCtx_.httpPort) + ")");
}

void NsqLookupd::stop() {
  if (stopped_ || !tcpServer_) return;
  stopped_ = true;
  tcpServer_->stop();
  httpServer_->stop();
  httpPool_->stop();  // before the server goes: its tasks refer to it
  log_.info("TCP: closing " + std::to_string(tcpCtx_.tcpPort));
}

}  // namespace nsq::lookupd

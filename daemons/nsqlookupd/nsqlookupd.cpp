// NsqLookupd: binds the listeners first (so the real ports are known before either server
// answers anything), then starts the two Poco servers on their own fixed-size pools.
#include "nsqlookupd.h"

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>

#include "net_address.h"

namespace nsq::lookupd {

namespace {
// One TCP connection per nsqd: 128 covers large clusters; beyond that connections queue.
constexpr int kTcpMaxThreads = 128;
constexpr int kTcpMaxQueued = 64;
constexpr int kHttpMaxThreads = 16;
constexpr int kHttpMaxQueued = 64;

Poco::Net::ServerSocket listen(const std::string& flag, const std::string& address) {
  std::string err;
  auto addr = parseListenAddress(address, &err);
  if (!addr) throw nsq::OptionError("flag --" + flag + ": " + err);
  Poco::Net::ServerSocket socket;
  socket.bind(*addr, true);
  socket.listen(64);
  return socket;
}
}  // namespace

NsqLookupd::NsqLookupd(const Options& opts, Logger& log)
    : opts_(opts),
      log_(log),
      tcpCtx_{db_, log_},
      httpCtx_{db_, log_, opts.inactiveProducerTimeout, opts.tombstoneLifetime},
      tcpPool_(1, kTcpMaxThreads),
      httpPool_(1, kHttpMaxThreads) {
  tcpCtx_.broadcastAddress = opts.broadcastAddress.empty() ? hostname() : opts.broadcastAddress;
  tcpCtx_.hostname = hostname();
}

NsqLookupd::~NsqLookupd() { stop(); }

void NsqLookupd::start() {
  auto tcpSocket = listen("tcp-address", opts_.tcpAddress);
  auto httpSocket = listen("http-address", opts_.httpAddress);
  tcpCtx_.tcpPort = tcpSocket.address().port();
  tcpCtx_.httpPort = httpSocket.address().port();

  auto tcpParams = new Poco::Net::TCPServerParams;
  tcpParams->setMaxThreads(kTcpMaxThreads);
  tcpParams->setMaxQueued(kTcpMaxQueued);
  tcpServer_ = std::make_unique<Poco::Net::TCPServer>(new LookupConnectionFactory(tcpCtx_),
                                                      tcpPool_, tcpSocket, tcpParams);

  auto httpParams = new Poco::Net::HTTPServerParams;
  httpParams->setMaxThreads(kHttpMaxThreads);
  httpParams->setMaxQueued(kHttpMaxQueued);
  httpParams->setTimeout(Poco::Timespan(10, 0));
  httpParams->setKeepAlive(true);
  httpParams->setKeepAliveTimeout(Poco::Timespan(10, 0));
  httpParams->setServerName("nsqlookupd");
  httpServer_ = std::make_unique<Poco::Net::HTTPServer>(new HttpApiFactory(httpCtx_), httpPool_,
                                                        httpSocket, httpParams);
  tcpServer_->start();
  log_.info("TCP: listening on " + tcpSocket.address().toString());
  httpServer_->start();
  log_.info("HTTP: listening on " + httpSocket.address().toString());
}

void NsqLookupd::stop() {
  if (stopped_ || !tcpServer_) return;
  stopped_ = true;
  tcpCtx_.stopping.store(true);  // connection loops notice within one poll slice
  tcpServer_->stop();
  httpServer_->stopAll(true);
  tcpPool_.joinAll();
  httpPool_.joinAll();
  log_.info("TCP: closing " + std::to_string(tcpCtx_.tcpPort));
}

}  // namespace nsq::lookupd

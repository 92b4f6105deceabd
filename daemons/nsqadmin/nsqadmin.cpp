// NsqAdmin: wiring. Threading model:
//   - HTTP: one event-loop thread reads whole requests (30 s deadline, 1 MiB bodies) and hands
//     them to a fixed pool of kHttpWorkers handler threads (503 past kHttpMaxQueued). A handler
//     may wait on cluster queries: each fans out on at most kMaxParallel short-lived threads,
//     every request bounded by --http-client-connect-timeout / --http-client-request-timeout.
//   - history poller: one thread; every --history-interval it asks the cluster for /stats (the
//     same fan-out) and records one point per topic and channel.
//   - notifier: one thread POSTing admin actions from a bounded queue.
// Shutdown: stop the poller and the HTTP loop, then the pool, then the notifier.
#include "nsqadmin/nsqadmin.h"

#include <Poco/Net/SocketAddress.h>

#include "nsq/base/host_port.h"
#include "nsq/base/log.h"

namespace nsq::admin {

namespace {
constexpr std::size_t kHttpWorkers = 8;
constexpr std::size_t kHttpMaxQueued = 256;

Poco::Net::Context::Ptr clientTls(const Options& o) {
  bool https = false;
  for (const auto& a : o.lookupdHttpAddresses) https |= a.starts_with("https://");
  for (const auto& a : o.nsqdHttpAddresses) https |= a.starts_with("https://");
  if (!https && o.httpClientTlsRootCaFile.empty() && o.httpClientTlsCert.empty() &&
      !o.httpClientTlsInsecureSkipVerify)
    return nullptr;
  auto verify = o.httpClientTlsInsecureSkipVerify ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_RELAXED;
  Poco::Net::Context::Params params;
  params.privateKeyFile = o.httpClientTlsKey;
  params.certificateFile = o.httpClientTlsCert;
  params.caLocation = o.httpClientTlsRootCaFile;
  params.verificationMode = verify;
  params.loadDefaultCAs = o.httpClientTlsRootCaFile.empty();
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
}

int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

NsqAdmin::NsqAdmin(const Options& opts) : options_(opts) {
  HttpTimeouts t;
  t.connect = std::chrono::duration_cast<std::chrono::milliseconds>(opts.httpClientConnectTimeout);
  t.request = std::chrono::duration_cast<std::chrono::milliseconds>(opts.httpClientRequestTimeout);
  notifier_ = std::make_unique<Notifier>(opts.notificationHttpEndpoint, t);
  const int64_t intervalMs = std::chrono::duration_cast<std::chrono::milliseconds>(opts.historyInterval).count();
  history_ = std::make_unique<History>(static_cast<std::size_t>(3600000 / intervalMs) + 1, intervalMs);
}

NsqAdmin::~NsqAdmin() { stop(); }

void NsqAdmin::start() {
  auto opts = options_.get();
  ctx_ = std::make_unique<ApiContext>(ApiContext{options_, *notifier_, clientTls(*opts), history_.get(), hostname()});
  pool_ = std::make_unique<net::WorkerPool>("admin-http", kHttpWorkers, kHttpMaxQueued);
  http::ServerOptions web;
  web.name = "HTTP";
  web.maxConnections = static_cast<std::size_t>(opts->httpMaxConnections);
  http::applyHeaderFlags(opts->httpHeaders, web.limits);
  web.log = [](LogLevel level, const std::string& text) { logAt(level, text); };
  server_ = std::make_unique<http::Server>(std::move(web), *pool_,
                                           [this](http::Request& req) { return handleHttp(*ctx_, req); });
  auto hp = parseHostPort(opts->httpAddress, 0);
  port_ = server_->listen(Poco::Net::SocketAddress(hp->host.empty() ? "0.0.0.0" : hp->host, hp->port));
  server_->start();
  logInfo("HTTP: listening on ", opts->httpAddress, " (port ", std::to_string(port_), ")");
  poller_ = std::thread([this] { poll(); });
}

void NsqAdmin::poll() {
  for (;;) {
    auto opts = options_.get();
    ClusterInfo ci = clusterFor(*ctx_);
    QueryErrors errs;
    auto producers = ci.producers(errs);
    auto stats = ci.nsqdStats(producers, "", "", true, errs);
    for (const auto& e : errs.partial) logDebug("history: ", e);
    if (errs.fatal) logDebug("history: ", *errs.fatal);
    history_->record(unixMs(), stats.topics);
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, opts->historyInterval, [&] { return stopping_; })) return;
  }
}

void NsqAdmin::stop() {
  if (stopped_ || !server_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (poller_.joinable()) poller_.join();
  server_->stop();
  pool_->stop();
  notifier_->stop();
  logInfo("HTTP: closing ", std::to_string(port_));
}

}  // namespace nsq::admin

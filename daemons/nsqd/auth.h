#pragma once
// Authorization (NSQ-COMPAT §1.8): the auth server's reply (AuthState), the query that fetches
// it from one of --auth-http-address (Authorizer::query), and a small worker pool that runs
// those queries off the IO threads (Authorizer::submit). HTTP publishing uses the same query
// with a short cache keyed by secret, remote IP and TLS (Authorizer::cachedQuery).
#include <Poco/Net/Context.h>
#include <Poco/RegularExpression.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "nsq/client/lookupd_client.h"

namespace nsq::nsqd {

struct NsqdOptions;

// One entry of the reply's "authorizations": regexes as the server sent them, compiled once.
struct Authorization {
  std::string topic;
  std::vector<std::string> channels;
  bool subscribe = false;
  bool publish = false;
  std::shared_ptr<const Poco::RegularExpression> topicRegex;
  std::vector<std::shared_ptr<const Poco::RegularExpression>> channelRegexes;

  // Publishes ask with channel "": they need "publish", SUB needs "subscribe". The topic regex
  // and one channel regex must match somewhere in the name (unanchored, as Go's MatchString).
  bool isAllowed(std::string_view topic, std::string_view channel) const;
};

// A validated reply. Immutable once built; shared between a session and its queries.
struct AuthState {
  int64_t ttlSeconds = 0;
  std::string identity;
  std::string identityUrl;
  std::vector<Authorization> authorizations;
  int64_t expiresMono = 0;  // monotonic ns: fetch time + ttl

  bool isAllowed(std::string_view topic, std::string_view channel) const;
  bool expired(int64_t nowMono) const { return nowMono > expiresMono; }
};
using AuthStatePtr = std::shared_ptr<const AuthState>;

// Parses and checks a reply body as the original does: a JSON object, known permissions only
// ("subscribe", "publish"), regexes that compile, ttl > 0. Returns null and sets *error (in
// the original's words) otherwise. nowMono stamps the expiry.
AuthStatePtr parseAuthReply(std::string_view body, int64_t nowMono, std::string* error);

// What nsqd tells the auth server about a client.
struct AuthRequest {
  std::string remoteIp;
  bool tls = false;
  std::string commonName;  // subject CN of the client's TLS certificate, if any
  std::string secret;
};

// The HTTP request for one server: GET <endpoint>?common_name=&remote_ip=&secret=&tls=, or a
// POST of {"common_name":[..],"remote_ip":[..],"secret":[..],"tls":[..]}. The endpoint is
// http://<address>/auth, or address itself when it contains "://".
HttpCall makeAuthCall(const std::string& address, const AuthRequest& request, bool post);

struct AuthResult {
  AuthStatePtr state;  // null on failure
  std::string error;   // why, naming every server tried (for the log, never for the client)
};

class Authorizer {
 public:
  // Reads --auth-http-address, --auth-http-request-method, the HTTP client timeouts and, for
  // https:// servers, --tls-root-ca-file and --tls-min-version.
  explicit Authorizer(const NsqdOptions& opts);
  ~Authorizer();
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  bool enabled() const { return !addresses_.empty(); }
  const std::vector<std::string>& addresses() const { return addresses_; }

  // Asks each server in turn, from a random start, until one gives a valid reply. Blocks for
  // at most (connect or request timeout) per server. Any thread but an IO thread.
  AuthResult query(const AuthRequest& request) const;

  // Runs query() on one of at most kWorkers threads and then calls done(result) on that
  // thread. Returns false (done is not called) when kMaxQueued queries are already waiting or
  // the pool has stopped. Any thread.
  using Done = std::function<void(AuthResult)>;
  bool submit(AuthRequest request, Done done);

  // query() through a cache of successful replies, each kept until its ttl expires (at most
  // kMaxCached entries). For HTTP publishing, whose requests carry no session. Any thread.
  AuthResult cachedQuery(const AuthRequest& request, int64_t nowMono);

  // Drops waiting queries (their callbacks are destroyed uncalled) and joins the workers
  // after their current query. Idempotent.
  void stop();

  static constexpr std::size_t kWorkers = 8;
  static constexpr std::size_t kMaxQueued = 1024;
  static constexpr std::size_t kMaxCached = 1024;

 private:
  void work();

  std::vector<std::string> addresses_;
  bool post_ = false;
  HttpTimeouts timeouts_;
  Poco::Net::Context::Ptr tls_;  // client context for https:// servers

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<AuthRequest, Done>> queue_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;

  std::mutex cacheMu_;
  std::map<std::tuple<std::string, std::string, bool, std::string>, AuthStatePtr> cache_;
};

}  // namespace nsq::nsqd

// Authorization: reply parsing and matching, the query to the auth servers, and the worker pool
// that keeps those blocking HTTP calls off the IO threads. A session submits a query and
// pauses its input; the worker posts the result back through the session's IoLoop mailbox.
// Regexes are PCRE (Poco::RegularExpression) where the original uses Go's RE2: the same for
// the patterns auth servers send (anchors, classes, alternation, repetition); PCRE also
// accepts look-arounds and back-references, which Go would refuse as E_AUTH_FAILED.
#include "nsqd/auth.h"

#include <openssl/ssl.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <random>

#include "nsq/base/json_text.h"
#include "nsq/base/log.h"
#include "nsq/base/number.h"
#include "nsqd/clock.h"
#include "nsq/base/json_fields.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

namespace {

bool unanchoredMatch(const Poco::RegularExpression& re, std::string_view subject) {
  Poco::RegularExpression::Match m;
  return re.match(std::string(subject), 0, m) > 0;
}

// Reads an optional string member; false when present with another type (null = absent).
bool readString(const Poco::JSON::Object::Ptr& obj, const char* key, std::string& out) {
  if (!obj->has(key) || obj->isNull(key)) return true;
  Poco::Dynamic::Var v = obj->get(key);
  if (!v.isString()) return false;
  out = v.convert<std::string>();
  return true;
}

// Reads an optional array of strings; false on any other shape.
bool readStrings(const Poco::JSON::Object::Ptr& obj, const char* key, std::vector<std::string>& out) {
  if (!obj->has(key) || obj->isNull(key)) return true;
  Poco::JSON::Array::Ptr arr = obj->getArray(key);
  if (!arr) return false;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    Poco::Dynamic::Var v = arr->get(static_cast<unsigned>(i));
    if (!v.isString()) return false;
    out.push_back(v.convert<std::string>());
  }
  return true;
}

std::shared_ptr<const Poco::RegularExpression> compile(const std::string& pattern, const char* what,
                                                       std::string* error) {
  try {
    return std::make_shared<const Poco::RegularExpression>(pattern);
  } catch (const Poco::Exception& e) {
    *error = std::string("unable to compile ") + what + " " + jsonQuote(pattern) + " " + e.displayText();
    return nullptr;
  }
}

bool parseAuthorization(const Poco::Dynamic::Var& v, Authorization& a, std::string* error) {
  if (v.isEmpty()) return true;  // null: an authorization that allows nothing
  Poco::JSON::Object::Ptr obj;
  try {
    obj = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    obj = nullptr;
  }
  std::vector<std::string> permissions;
  if (obj) foldJsonKeys(*obj, {"topic", "channels", "permissions"});
  if (!obj || !readString(obj, "topic", a.topic) || !readStrings(obj, "channels", a.channels) ||
      !readStrings(obj, "permissions", permissions)) {
    *error = "invalid authorization in reply";
    return false;
  }
  for (const auto& p : permissions) {
    if (p == "subscribe") a.subscribe = true;
    else if (p == "publish") a.publish = true;
    else {
      *error = "unknown permission " + p;
      return false;
    }
  }
  a.topicRegex = compile(a.topic, "topic", error);
  if (!a.topicRegex) return false;
  for (const auto& c : a.channels) {
    auto re = compile(c, "channel", error);
    if (!re) return false;
    a.channelRegexes.push_back(std::move(re));
  }
  return true;
}

std::mt19937& rng() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return gen;
}

}  // namespace

bool Authorization::isAllowed(std::string_view topicName, std::string_view channel) const {
  if (!(channel.empty() ? publish : subscribe)) return false;
  if (!topicRegex || !unanchoredMatch(*topicRegex, topicName)) return false;
  for (const auto& re : channelRegexes)
    if (unanchoredMatch(*re, channel)) return true;
  return false;
}

bool AuthState::isAllowed(std::string_view topic, std::string_view channel) const {
  for (const auto& a : authorizations)
    if (a.isAllowed(topic, channel)) return true;
  return false;
}

AuthStatePtr parseAuthReply(std::string_view body, int64_t nowMono, std::string* error) {
  Poco::JSON::Object::Ptr obj;
  try {
    // Poco would read such a number wrapped (2^64 as 0): refuse the reply instead.
    if (!findUnrepresentableJsonInteger(body))
      obj = Poco::JSON::Parser().parse(std::string(body)).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    obj = nullptr;
  }
  if (!obj) {
    *error = "invalid JSON reply";
    return nullptr;
  }
  foldJsonKeys(*obj, {"ttl", "identity", "identity_url", "authorizations"});  // as Go decodes
  auto state = std::make_shared<AuthState>();
  if (obj->has("ttl") && !obj->isNull("ttl")) {
    // A Go int in the original: 2^63 (which made convert<int64_t>() throw here) or a fraction
    // does not decode.
    ParsedInt ttl = jsonInt(obj->get("ttl"));
    if (!ttl || obj->get("ttl").type() == typeid(double)) {
      *error = "invalid ttl in reply";
      return nullptr;
    }
    state->ttlSeconds = *ttl;
  }
  if (!readString(obj, "identity", state->identity) || !readString(obj, "identity_url", state->identityUrl)) {
    *error = "invalid identity in reply";
    return nullptr;
  }
  if (obj->has("authorizations") && !obj->isNull("authorizations")) {
    Poco::JSON::Array::Ptr arr = obj->getArray("authorizations");
    if (!arr) {
      *error = "invalid authorizations in reply";
      return nullptr;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      Authorization a;
      if (!parseAuthorization(arr->get(static_cast<unsigned>(i)), a, error)) return nullptr;
      state->authorizations.push_back(std::move(a));
    }
  }
  if (state->ttlSeconds <= 0) {
    *error = "invalid TTL " + std::to_string(state->ttlSeconds) + " (must be >0)";
    return nullptr;
  }
  constexpr int64_t kMaxTtl = INT64_MAX / 2'000'000'000;  // keeps the expiry from overflowing
  state->expiresMono = nowMono + std::min(state->ttlSeconds, kMaxTtl) * 1'000'000'000;
  return state;
}

HttpCall makeAuthCall(const std::string& address, const AuthRequest& r, bool post) {
  HttpCall call;
  call.url = address.find("://") != std::string::npos ? address : "http://" + address + "/auth";
  const char* tls = r.tls ? "true" : "false";
  if (post) {
    call.method = "POST";
    call.contentType = "application/json";
    call.body = "{\"common_name\":[" + jsonQuote(r.commonName) + "],\"remote_ip\":[" + jsonQuote(r.remoteIp) +
                "],\"secret\":[" + jsonQuote(r.secret) + "],\"tls\":[\"" + tls + "\"]}";
  } else {
    call.url += call.url.find('?') == std::string::npos ? '?' : '&';
    call.url += "common_name=" + urlEncode(r.commonName) + "&remote_ip=" + urlEncode(r.remoteIp) +
                "&secret=" + urlEncode(r.secret) + "&tls=" + tls;
  }
  return call;
}

Authorizer::Authorizer(const NsqdOptions& o)
    : addresses_(o.authHttpAddresses), post_(o.authHttpRequestMethod == "post") {
  timeouts_.connect = std::chrono::duration_cast<std::chrono::milliseconds>(o.httpClientConnectTimeout);
  timeouts_.request = std::chrono::duration_cast<std::chrono::milliseconds>(o.httpClientRequestTimeout);
  bool https = false;
  for (const auto& a : addresses_) https |= a.starts_with("https://");
  if (https) {
    // As the original's client TLS config: --tls-root-ca-file, else the system's CAs.
    tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, o.tlsRootCaFile,
                                  Poco::Net::Context::VERIFY_RELAXED, 9, o.tlsRootCaFile.empty());
    int minVersion = o.tlsMinVersion == "tls1.1"   ? TLS1_1_VERSION
                     : o.tlsMinVersion == "tls1.2" ? TLS1_2_VERSION
                     : o.tlsMinVersion == "tls1.3" ? TLS1_3_VERSION
                                                   : TLS1_VERSION;
    SSL_CTX_set_min_proto_version(tls_->sslContext(), minVersion);
  }
}

Authorizer::~Authorizer() { stop(); }

AuthResult Authorizer::query(const AuthRequest& request) const {
  AuthResult result;
  if (addresses_.empty()) {
    result.error = "no auth servers";
    return result;
  }
  std::size_t n = addresses_.size();
  std::size_t start = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng());
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& address = addresses_[(start + i) % n];
    std::string error;
    try {
      HttpCall call = makeAuthCall(address, request, post_);
      call.timeouts = timeouts_;
      call.tls = tls_;
      HttpReply reply = httpFetch(call);
      if (reply.status != 200)
        error = "got response " + std::to_string(reply.status) + " " + jsonQuote(reply.body.substr(0, 200));
      else
        result.state = parseAuthReply(reply.body, monoNanos(), &error);
    } catch (const HttpError& e) {
      error = e.what();
    }
    if (result.state) return result;
    result.error += (result.error.empty() ? "" : "; ") + ("failed to auth against " + address + " - " + error);
  }
  return result;
}

bool Authorizer::submit(AuthRequest request, Done done) {
  std::lock_guard lock(mu_);
  if (stopping_ || queue_.size() >= kMaxQueued) return false;
  queue_.emplace_back(std::move(request), std::move(done));
  if (idle_ == 0 && threads_.size() < kWorkers)
    threads_.emplace_back([this] { work(); });
  else
    cv_.notify_one();
  return true;
}

void Authorizer::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    auto job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    // The last-resort handler of this worker: nothing may escape the thread. A query that
    // throws still answers (as a failed query); a callback that throws is only logged.
    AuthResult result;
    try {
      result = query(job.first);
    } catch (const std::exception& e) {
      result = {};
      result.error = std::string("auth query failed - ") + e.what();
    } catch (...) {
      result = {};
      result.error = "auth query failed - unknown exception";
    }
    try {
      job.second(std::move(result));
    } catch (const std::exception& e) {
      logError("AUTH: reply handler failed - ", e.what());
    } catch (...) {
      logError("AUTH: reply handler failed - unknown exception");
    }
    try {
      job = {};  // drop the callback (and what it holds) before waiting again
    } catch (...) {
      logError("AUTH: dropping a finished query failed");
    }
    lock.lock();
  }
}

AuthResult Authorizer::cachedQuery(const AuthRequest& request, int64_t nowMono) {
  auto key = std::make_tuple(request.secret, request.remoteIp, request.tls, request.commonName);
  {
    std::lock_guard lock(cacheMu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && !it->second->expired(nowMono)) return {it->second, ""};
  }
  AuthResult result = query(request);
  if (!result.state) return result;
  std::lock_guard lock(cacheMu_);
  if (cache_.size() >= kMaxCached) {
    std::erase_if(cache_, [nowMono](const auto& entry) { return entry.second->expired(nowMono); });
    if (cache_.size() >= kMaxCached) cache_.clear();
  }
  cache_[key] = result.state;
  return result;
}

void Authorizer::stop() {
  std::vector<std::thread> threads;
  std::deque<std::pair<AuthRequest, Done>> dropped;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

}  // namespace nsq::nsqd

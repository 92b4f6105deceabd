// HttpPublisher: the HTTP side of nsq_to_http. Each endpoint's URL is split once, at start, into
// scheme, host, port and the raw request target (for GET, the text before and after "%s"), so a
// message costs one target string and the request itself. Idle sessions wait in a per-endpoint
// free list; a session taken from it may have been closed by the server meanwhile, so a request
// that fails on a reused session is tried once more on a fresh connection (within the same
// deadline) before it counts as a failure.
#include "nsq_to_http/http_publisher.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/URI.h>

#include <algorithm>
#include <stdexcept>

#include "nsq/client/lookupd_client.h"

namespace nsq::tools {

namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::size_t countPlaceholders(const std::string& s) {
  std::size_t n = 0;
  for (std::size_t at = s.find("%s"); at != std::string::npos; at = s.find("%s", at + 2)) ++n;
  return n;
}

// The parts of one URL, or an error.
struct SplitUrl {
  bool https = false;
  std::string host;
  uint16_t port = 0;
  std::string authority;  // as written, for messages
  std::string target;     // raw path?query, "/" when empty
  std::string error;
};

SplitUrl splitUrl(const std::string& url, bool get) {
  SplitUrl u;
  std::size_t schemeEnd = url.find("://");
  std::string scheme = schemeEnd == std::string::npos ? "" : url.substr(0, schemeEnd);
  if (scheme != "http" && scheme != "https") {
    u.error = "\"" + url + "\": URL must start with http:// or https://";
    return u;
  }
  u.https = scheme == "https";
  std::size_t authStart = schemeEnd + 3;
  std::size_t authEnd = url.find_first_of("/?#", authStart);
  if (authEnd == std::string::npos) authEnd = url.size();
  u.authority = url.substr(authStart, authEnd - authStart);
  u.target = url.substr(authEnd);
  if (!u.target.empty() && u.target[0] == '#') u.target.clear();
  if (u.target.empty() || u.target[0] != '/') u.target.insert(0, "/");
  if (get && countPlaceholders(url) != 1) {
    u.error = "\"" + url + "\": a GET URL must hold exactly one %s (replaced by the message)";
    return u;
  }
  if (u.authority.find("%s") != std::string::npos || u.authority.empty()) {
    u.error = "\"" + url + "\": URL has no host";
    return u;
  }
  try {
    Poco::URI uri(scheme + "://" + u.authority + "/");
    u.host = uri.getHost();
    u.port = uri.getPort();
    if (u.host.empty()) u.error = "\"" + url + "\": URL has no host";
  } catch (const Poco::Exception& e) {
    u.error = "\"" + url + "\": " + e.displayText();
  }
  return u;
}

}  // namespace

bool parseHeader(const std::string& text, std::pair<std::string, std::string>* out) {
  std::size_t colon = text.find(':');
  if (colon == std::string::npos) return false;
  std::string name = trim(text.substr(0, colon));
  std::string value = trim(text.substr(colon + 1));
  if (name.empty() || value.empty()) return false;
  *out = {std::move(name), std::move(value)};
  return true;
}

std::string checkEndpointUrl(const std::string& url, bool get) { return splitUrl(url, get).error; }

struct HttpPublisher::Endpoint {
  std::string url;
  SplitUrl parts;
  std::string before, after;  // GET: the target around "%s"
  std::mutex mutex;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle;
};

HttpPublisher::HttpPublisher(HttpPublisherConfig cfg) : cfg_(std::move(cfg)) {
  const bool get = cfg_.method == HttpPublisherConfig::Method::Get;
  for (const auto& url : cfg_.urls) {
    auto e = std::make_unique<Endpoint>();
    e->url = url;
    e->parts = splitUrl(url, get);
    if (!e->parts.error.empty()) throw std::invalid_argument(e->parts.error);
    if (get) {
      std::size_t at = e->parts.target.find("%s");
      e->before = e->parts.target.substr(0, at);
      e->after = e->parts.target.substr(at + 2);
    }
    endpoints_.push_back(std::move(e));
  }
}

HttpPublisher::~HttpPublisher() = default;

const std::string& HttpPublisher::url(std::size_t i) const { return endpoints_.at(i)->url; }

std::unique_ptr<Poco::Net::HTTPClientSession> HttpPublisher::acquire(Endpoint& e, bool* reused) {
  {
    std::lock_guard lock(e.mutex);
    if (!e.idle.empty()) {
      auto s = std::move(e.idle.back());
      e.idle.pop_back();
      *reused = true;
      return s;
    }
  }
  *reused = false;
  std::unique_ptr<Poco::Net::HTTPClientSession> s;
  if (e.parts.https) {
    s = std::make_unique<Poco::Net::HTTPSClientSession>(e.parts.host, e.parts.port, systemCaContext());
  } else {
    s = std::make_unique<Poco::Net::HTTPClientSession>(e.parts.host, e.parts.port);
  }
  s->setKeepAlive(true);
  return s;
}

void HttpPublisher::release(Endpoint& e, std::unique_ptr<Poco::Net::HTTPClientSession> s) {
  std::lock_guard lock(e.mutex);
  e.idle.push_back(std::move(s));
}

std::string HttpPublisher::publish(std::size_t i, std::string_view body) {
  Endpoint& e = *endpoints_.at(i);
  const bool get = cfg_.method == HttpPublisherConfig::Method::Get;
  const auto deadline = std::chrono::steady_clock::now() + cfg_.requestTimeout;
  std::string target = get ? e.before + queryEscape(body) + e.after : e.parts.target;
  Poco::Net::HTTPRequest req(get ? Poco::Net::HTTPRequest::HTTP_GET : Poco::Net::HTTPRequest::HTTP_POST, target,
                             Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(true);
  req.set("User-Agent", cfg_.userAgent);
  if (!get) {
    req.setContentType(cfg_.contentType);
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  for (const auto& [name, value] : cfg_.headers) req.set(name, value);
  const std::string_view sent = get ? std::string_view() : body;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    auto session = acquire(e, &reused);
    try {
      bool keepAlive = false;
      HttpReply r = httpExchange(*session, req, sent, deadline, cfg_.connectTimeout, 0, true, e.parts.authority,
                                 &keepAlive);
      if (keepAlive) release(e, std::move(session));
      if (r.status < 200 || r.status >= 300) return "got status code " + std::to_string(r.status);
      return "";
    } catch (const HttpError& err) {
      // A kept-alive connection the server closed while idle fails at once: try a fresh one.
      if (reused && attempt == 0 && std::chrono::steady_clock::now() < deadline) continue;
      return err.what();
    } catch (const std::exception& err) {
      return e.parts.authority + ": " + err.what();
    }
  }
}

}  // namespace nsq::tools

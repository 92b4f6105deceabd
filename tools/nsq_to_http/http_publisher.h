#pragma once
// HttpPublisher: nsq_to_http's requests. Each --get/--post URL is an Endpoint; publish() sends
// one message body to one endpoint (POST: the body as the request body, with --content-type;
// GET: the body, URL-escaped as Go's url.QueryEscape does, in place of the URL's single "%s")
// with the --header values and nsq_to_http's User-Agent, and reports success only for a 2xx
// answer. Connections are kept alive: each endpoint keeps a pool of idle sessions, one per
// concurrent caller at most, so the number of connections is bounded by the worker count.
// https:// endpoints are verified against the system CA store.
//
// Thread-safe: publish() may be called from any number of threads at once.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace nsq::tools {

// "Name:value" as --header takes it: split at the first ':', both sides trimmed and non-empty.
// Returns false (out unchanged) otherwise.
bool parseHeader(const std::string& text, std::pair<std::string, std::string>* out);

struct HttpPublisherConfig {
  enum class Method { Get, Post };
  Method method = Method::Post;
  std::vector<std::string> urls;  // GET: each holds exactly one "%s"
  std::string contentType = "application/octet-stream";  // POST only
  std::vector<std::pair<std::string, std::string>> headers;
  std::string userAgent;
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds requestTimeout{20000};  // the whole exchange, connect included
};

class HttpPublisher {
 public:
  // Throws std::invalid_argument naming the URL when one is not http(s)://host[:port]/... or a
  // GET URL does not hold exactly one "%s".
  explicit HttpPublisher(HttpPublisherConfig cfg);
  ~HttpPublisher();
  HttpPublisher(const HttpPublisher&) = delete;
  HttpPublisher& operator=(const HttpPublisher&) = delete;

  std::size_t size() const { return endpoints_.size(); }
  const std::string& url(std::size_t i) const;

  // Sends body to endpoint i and returns "" for a 2xx answer, else why not ("got status code
  // 500", "127.0.0.1:8080: connection refused", "...: request timed out"). Never throws.
  std::string publish(std::size_t i, std::string_view body);

 private:
  struct Endpoint;
  std::unique_ptr<Poco::Net::HTTPClientSession> acquire(Endpoint& e, bool* reused);
  void release(Endpoint& e, std::unique_ptr<Poco::Net::HTTPClientSession> s);

  HttpPublisherConfig cfg_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

// Checks one --get / --post URL as HttpPublisher will use it; returns "" or the problem.
std::string checkEndpointUrl(const std::string& url, bool get);

}  // namespace nsq::tools

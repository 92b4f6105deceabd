#pragma once
// HttpSink: a small HTTP/1.1 server on 127.0.0.1 (Poco HTTPServer, keep-alive on) that records
// every request and answers with the status its policy picks, for nsq_to_http's end-to-end
// tests. The policy sees each request and how many times the same body was seen before it;
// it runs on the server's thread and may sleep to hold a request open.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nsq::test {

struct SinkRequest {
  std::string method;
  std::string uri;   // the raw request target
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string header(const std::string& name) const;
};

// A loopback TCP port bound but not listening: a connection to it is refused, and no other
// test's server can take it (as could happen to a freePort() left closed) until release().
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }
  void release();  // frees the port, e.g. right before a server binds it

 private:
  int fd_ = -1;
  int port_ = 0;
};

class HttpSink {
 public:
  // status: what to answer (e.g. 500 the first time a body is seen). delay: how long to wait
  // before answering (to hold requests open).
  using Policy = std::function<int(const SinkRequest&, int seenBefore)>;
  // port 0: any free port. With certFile and keyFile it serves HTTPS with that certificate.
  explicit HttpSink(Policy policy = {}, std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                    int port = 0, const std::string& certFile = "", const std::string& keyFile = "");
  ~HttpSink();
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& target = "/") const;  // http:// or https://

  std::vector<SinkRequest> requests();  // every request so far, in arrival order
  // Bodies (GET: the uri) answered 2xx, counted.
  std::map<std::string, int> accepted();
  int maxConcurrent();  // most requests being handled at one time
  int connections();    // TCP connections accepted so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace nsq::test

#pragma once
// One HTTP/1.x request as a handler sees it: complete (head and body read before any handler
// runs), and one response built in memory. No sockets here: nsq::http::Server reads and writes.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nsq::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;   // "GET"
  std::string target;   // "/pub?topic=t", as sent
  std::string version;  // "HTTP/1.1"
  Headers headers;      // in arrival order, names as sent
  std::string body;     // de-chunked
  // The declared or received body was larger than the server's body limit: body holds at most
  // limit + 1 bytes of it (nothing when Content-Length alone said so), and the connection is
  // closed after the response, since the rest was never read.
  bool bodyTooLarge = false;
  std::string remoteAddress;  // "ip:port"
  std::string remoteHost;     // "ip"
  bool secure = false;        // arrived over TLS

  // Case-insensitive; the first value, or nullptr.
  const std::string* header(std::string_view name) const;
  std::string header(std::string_view name, std::string_view fallback) const;
  bool keepAlive() const;  // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Length, Date and Connection are added by the server
  std::string body;
  bool close = false;  // close the connection after this response

  void set(std::string name, std::string value);
};

// "OK" for 200, "Not Found" for 404, ...; "Unknown" for codes the table lacks.
std::string_view reasonPhrase(int status);

// The status line, headers (with Content-Length, Date, Connection: close when closing) and,
// unless headOnly, the body.
std::string serializeResponse(const Response& response, bool headOnly, bool closing);

}  // namespace nsq::http

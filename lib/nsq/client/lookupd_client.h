#pragma once
// HTTP side of the client library: GET requests to nsqlookupd (/lookup, /topics) and nsqd
// (/stats, /info) with connect and request timeouts, and the JSON shapes the tools read
// (NSQ-COMPAT §2.4, §2.5, §3.3); httpFetch() is the general request they share (nsqd's auth
// queries use it too). Every request sends the NSQ V1 Accept header.
//
// Failures throw HttpError whose message starts with the address that failed. Any thread.
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>

namespace Poco::Net {
class HTTPClientSession;
class HTTPRequest;
}  // namespace Poco::Net

namespace nsq {

class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpTimeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds request{5000};
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request to a full URL (http:// or https://). The request timeout bounds the whole
// exchange, connect included (as Go's http.Client.Timeout); the connect timeout bounds the
// connect alone.
struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::string body;         // sent when non-empty (or when method is POST)
  std::string contentType;  // for the body
  HttpTimeouts timeouts;
  std::size_t maxBody = 1 << 20;  // a longer reply throws HttpError
  Poco::Net::Context::Ptr tls;    // https: client context; null = verify against system CAs
};

// Throws HttpError (message starts with host:port) on a bad URL, connection failure, timeout
// or an oversized reply; any status is returned.
HttpReply httpFetch(const HttpCall& call);

// One request on a session that may already be connected (keep-alive): sets the session's
// timeouts (connect: connectTimeout; send and receive: what is left until deadline), sends req
// and body, and reads the whole reply. A reply body longer than maxBody throws, unless
// discardBody, when it is read and dropped (the reply's body is then empty). *keepAlive (when
// given) says whether the server left the connection open. Throws HttpError starting with
// `where` (connection refused, timeout, reset, malformed reply).
HttpReply httpExchange(Poco::Net::HTTPClientSession& session, Poco::Net::HTTPRequest& req, std::string_view body,
                       std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds connectTimeout,
                       std::size_t maxBody, bool discardBody, const std::string& where, bool* keepAlive = nullptr);

// The client context for https:// URLs: peers verified against the system CA store (and
// their host name checked), TLS 1.2 or later. Built once; any thread.
Poco::Net::Context::Ptr systemCaContext();

// GET http://<address><target>; address is host:port (an http:// prefix is accepted). Throws
// HttpError on connection failure or timeout; any status is returned.
HttpReply httpGet(const std::string& address, const std::string& target, const HttpTimeouts& t);

// GET and parse a JSON object; non-200 or invalid JSON throws HttpError (with the status and
// the {"message"} of the reply).
Poco::JSON::Object::Ptr httpGetJson(const std::string& address, const std::string& target, const HttpTimeouts& t);

// A producer as nsqlookupd lists it.
struct ProducerInfo {
  std::string broadcastAddress;
  int tcpPort = 0;
  int httpPort = 0;
  std::string hostname;
  std::string version;
  std::string tcpAddress() const;   // broadcast_address:tcp_port ([v6] bracketed)
  std::string httpAddress() const;  // broadcast_address:http_port
};

// The JSON object of a reply body: the object itself or, from a pre-1.0 daemon, the "data"
// object of its {"status_code","status_txt","data"} wrapper (go-nsq reads both). Keys in
// another case are read as Go reads them (docs/leniency.md). Throws std::exception when the
// body is not a JSON object.
Poco::JSON::Object::Ptr replyObject(const std::string& body);
// The producers of a /lookup reply object (replyObject()); keys in another case are renamed in
// place. Throws std::exception on a bad entry.
std::vector<ProducerInfo> parseProducers(Poco::JSON::Object& reply);

// /lookup?topic=T. A 404 (topic unknown) is no producers, and sets *topicUnknown when given.
std::vector<ProducerInfo> lookupProducers(const std::string& lookupd, const std::string& topic, const HttpTimeouts& t,
                                          bool* topicUnknown = nullptr);
// /topics.
std::vector<std::string> lookupTopics(const std::string& lookupd, const HttpTimeouts& t);

// Percent-encodes a query value (every byte but A-Z a-z 0-9 - _ . ~; space as %20).
std::string urlEncode(const std::string& s);
// Go's url.QueryEscape: as urlEncode, but a space becomes '+'.
std::string queryEscape(std::string_view s);

}  // namespace nsq

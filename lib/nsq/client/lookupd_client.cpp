// HTTP client for nsqlookupd and nsqd's HTTP API, on Poco's HTTPClientSession. One session per
// request: the tools poll every few seconds at most, so keep-alive is not worth its state.
#include "nsq/client/lookupd_client.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/URI.h>

#include <algorithm>
#include <memory>

#include "nsq/base/json_fields.h"
#include "nsq/base/program.h"
#include "nsq/base/number.h"
#include "nsq/client/connection.h"

namespace nsq {

namespace {
std::string stripScheme(const std::string& a) {
  if (a.rfind("http://", 0) == 0) return a.substr(7);
  return a;
}
}  // namespace

std::string ProducerInfo::tcpAddress() const { return joinHostPort(broadcastAddress, tcpPort); }
std::string ProducerInfo::httpAddress() const { return joinHostPort(broadcastAddress, httpPort); }

namespace {
std::string percentEncode(std::string_view s, bool spaceAsPlus) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ' && spaceAsPlus) {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::string urlEncode(const std::string& s) { return percentEncode(s, false); }
std::string queryEscape(std::string_view s) { return percentEncode(s, true); }

namespace {

Poco::Timespan timespan(std::chrono::steady_clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return Poco::Timespan(std::max<int64_t>(us, 1000));
}

}  // namespace

Poco::Net::Context::Ptr systemCaContext() {
  static const Poco::Net::Context::Ptr ctx = [] {
    Poco::Net::Context::Ptr c =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
    c->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    return c;
  }();
  return ctx;
}

HttpReply httpExchange(Poco::Net::HTTPClientSession& session, Poco::Net::HTTPRequest& req, std::string_view body,
                       std::chrono::steady_clock::time_point deadline, std::chrono::milliseconds connectTimeout,
                       std::size_t maxBody, bool discardBody, const std::string& where, bool* keepAlive) {
  using Clock = std::chrono::steady_clock;
  auto remaining = [&] { return deadline - Clock::now(); };
  try {
    if (remaining() <= Clock::duration::zero()) throw Poco::TimeoutException();
    session.setTimeout(timespan(std::min<Clock::duration>(connectTimeout, remaining())), timespan(remaining()),
                       timespan(remaining()));
    if (session.connected()) {  // a kept-alive connection keeps the timeouts of its first request
      session.socket().setSendTimeout(timespan(remaining()));
      session.socket().setReceiveTimeout(timespan(remaining()));
    }
    session.sendRequest(req).write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse resp;
    session.socket().setReceiveTimeout(timespan(remaining()));
    std::istream& in = session.receiveResponse(resp);
    HttpReply r;
    r.status = static_cast<int>(resp.getStatus());
    char buf[8192];
    std::size_t total = 0;
    for (;;) {
      if (remaining() <= Clock::duration::zero()) throw Poco::TimeoutException();
      session.socket().setReceiveTimeout(timespan(remaining()));
      in.read(buf, sizeof buf);
      auto got = static_cast<std::size_t>(in.gcount());
      total += got;
      if (!discardBody) {
        r.body.append(buf, got);
        if (total > maxBody) throw HttpError(where + ": reply longer than " + std::to_string(maxBody) + " bytes");
      }
      if (!in) break;
    }
    if (keepAlive) *keepAlive = resp.getKeepAlive();
    return r;
  } catch (const Poco::TimeoutException&) {
    throw HttpError(where + ": request timed out");
  } catch (const Poco::Net::ConnectionRefusedException&) {
    throw HttpError(where + ": connection refused");
  } catch (const Poco::Exception& e) {
    throw HttpError(where + ": " + e.displayText());
  }
}

HttpReply httpFetch(const HttpCall& call) {
  const auto deadline = std::chrono::steady_clock::now() + call.timeouts.request;
  std::string where = call.url;
  try {
    Poco::URI uri(call.url);
    where = uri.getAuthority();
    bool https = uri.getScheme() == "https";
    if (!https && uri.getScheme() != "http") throw HttpError(where + ": unsupported URL scheme in " + call.url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (https) {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                call.tls ? call.tls : systemCaContext());
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    std::string target = uri.getPathEtc();
    if (target.empty()) target.push_back('/');  // (assigning "/" trips GCC 12's -Wrestrict at -O2+)
    Poco::Net::HTTPRequest req(call.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Accept", "application/vnd.nsq; version=1.0");
    req.set("User-Agent", userAgent());
    if (!call.body.empty() || call.method == Poco::Net::HTTPRequest::HTTP_POST) {
      if (!call.contentType.empty()) req.setContentType(call.contentType);
      req.setContentLength(static_cast<std::streamsize>(call.body.size()));
    }
    return httpExchange(*session, req, call.body, deadline, call.timeouts.connect, call.maxBody, false, where);
  } catch (const Poco::Exception& e) {
    throw HttpError(where + ": " + e.displayText());
  }
}

HttpReply httpGet(const std::string& address, const std::string& target, const HttpTimeouts& t) {
  std::string addr = stripScheme(address);
  std::string error;
  auto hp = dialAddress(addr, &error);
  if (!hp) throw HttpError(addr + ": " + error);
  HttpCall call;
  call.url = "http://" + joinHostPort(hp->host, hp->port) + target;
  call.timeouts = t;
  call.maxBody = 64 << 20;  // /stats of a big node
  return httpFetch(call);
}

Poco::JSON::Object::Ptr replyObject(const std::string& body) {
  auto obj = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  if (!obj) throw std::runtime_error("null reply");
  foldJsonKeys(*obj, {"status_code", "status_txt", "data", "message"});
  if (obj->has("status_code") && obj->has("data") && obj->isObject("data")) {
    auto data = obj->getObject("data");
    if (data) obj = data;
  }
  return obj;
}

std::vector<ProducerInfo> parseProducers(Poco::JSON::Object& reply) {
  std::vector<ProducerInfo> out;
  foldJsonKeys(reply, {"producers"});
  auto arr = reply.getArray("producers");
  for (std::size_t i = 0; arr && i < arr->size(); ++i) {
    auto p = arr->getObject(static_cast<unsigned>(i));
    if (!p) throw std::runtime_error("producer " + std::to_string(i) + " is not an object");
    foldJsonKeys(*p, {"broadcast_address", "tcp_port", "http_port", "hostname", "version"});
    ProducerInfo info;
    info.broadcastAddress = p->getValue<std::string>("broadcast_address");
    ParsedInt tcpPort = jsonInt(p->get("tcp_port"), 0, 65535);
    ParsedInt httpPort = jsonInt(p->get("http_port"), 0, 65535);
    if (!tcpPort || !httpPort) throw std::runtime_error("producer with an invalid port");
    info.tcpPort = static_cast<int>(*tcpPort);
    info.httpPort = static_cast<int>(*httpPort);
    if (p->has("hostname")) info.hostname = p->getValue<std::string>("hostname");
    if (p->has("version")) info.version = p->getValue<std::string>("version");
    out.push_back(info);
  }
  return out;
}

Poco::JSON::Object::Ptr httpGetJson(const std::string& address, const std::string& target, const HttpTimeouts& t) {
  HttpReply r = httpGet(address, target, t);
  std::string addr = stripScheme(address);
  Poco::JSON::Object::Ptr obj;
  try {
    obj = replyObject(r.body);
  } catch (const std::exception&) {
    if (r.status != 200) throw HttpError(addr + ": GET " + target + " returned " + std::to_string(r.status));
    throw HttpError(addr + ": GET " + target + ": invalid JSON reply");
  }
  if (r.status != 200) {
    std::string msg = obj && obj->has("message") ? obj->getValue<std::string>("message") : "";
    throw HttpError(addr + ": GET " + target + " returned " + std::to_string(r.status) + (msg.empty() ? "" : " " + msg));
  }
  return obj;
}

std::vector<ProducerInfo> lookupProducers(const std::string& lookupd, const std::string& topic, const HttpTimeouts& t,
                                          bool* topicUnknown) {
  std::string target = "/lookup?topic=" + urlEncode(topic);
  HttpReply r = httpGet(lookupd, target, t);
  if (topicUnknown) *topicUnknown = r.status == 404;
  if (r.status == 404) return {};
  std::vector<ProducerInfo> out;
  try {
    if (r.status != 200) throw HttpError("status " + std::to_string(r.status));
    out = parseProducers(*replyObject(r.body));
  } catch (const std::exception& e) {
    throw HttpError(stripScheme(lookupd) + ": GET " + target + ": bad reply: " + e.what());
  }
  return out;
}

std::vector<std::string> lookupTopics(const std::string& lookupd, const HttpTimeouts& t) {
  auto obj = httpGetJson(lookupd, "/topics", t);
  std::vector<std::string> out;
  auto arr = obj->getArray("topics");
  for (std::size_t i = 0; arr && i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(static_cast<unsigned>(i)));
  return out;
}

}  // namespace nsq

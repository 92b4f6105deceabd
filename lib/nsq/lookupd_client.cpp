// HTTP client for nsqlookupd and nsqd's HTTP API, on Poco's HTTPClientSession. One session per
// request: the tools poll every few seconds at most, so keep-alive is not worth its state.
#include "nsq/lookupd_client.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>

#include <sstream>

#include "nsq/connection.h"

namespace nsq {

namespace {
std::string stripScheme(const std::string& a) {
  if (a.rfind("http://", 0) == 0) return a.substr(7);
  return a;
}
std::string joinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}
}  // namespace

std::string ProducerInfo::tcpAddress() const { return joinHostPort(broadcastAddress, tcpPort); }
std::string ProducerInfo::httpAddress() const { return joinHostPort(broadcastAddress, httpPort); }

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpReply httpGet(const std::string& address, const std::string& target, const HttpTimeouts& t) {
  std::string addr = stripScheme(address);
  std::pair<std::string, uint16_t> hp;
  try {
    hp = splitHostPort(addr);
  } catch (const ConnectionError& e) {
    throw HttpError(e.what());
  }
  try {
    Poco::Net::HTTPClientSession session(hp.first, hp.second);
    session.setTimeout(Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(t.connect).count()),
                       Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(t.request).count()),
                       Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(t.request).count()));
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, target, Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Accept", "application/vnd.nsq; version=1.0");
    req.set("User-Agent", std::string("nsq-cpp/") + NSQ_VERSION);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    HttpReply r;
    r.status = static_cast<int>(resp.getStatus());
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    r.body = body.str();
    return r;
  } catch (const Poco::TimeoutException&) {
    throw HttpError(addr + ": request timed out");
  } catch (const Poco::Net::ConnectionRefusedException&) {
    throw HttpError(addr + ": connection refused");
  } catch (const Poco::Exception& e) {
    throw HttpError(addr + ": " + e.displayText());
  }
}

Poco::JSON::Object::Ptr httpGetJson(const std::string& address, const std::string& target, const HttpTimeouts& t) {
  HttpReply r = httpGet(address, target, t);
  std::string addr = stripScheme(address);
  Poco::JSON::Object::Ptr obj;
  try {
    obj = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
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

std::vector<ProducerInfo> lookupProducers(const std::string& lookupd, const std::string& topic, const HttpTimeouts& t) {
  std::string target = "/lookup?topic=" + urlEncode(topic);
  HttpReply r = httpGet(lookupd, target, t);
  if (r.status == 404) return {};
  std::vector<ProducerInfo> out;
  try {
    if (r.status != 200) throw HttpError("status " + std::to_string(r.status));
    auto obj = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
    auto arr = obj->getArray("producers");
    for (std::size_t i = 0; arr && i < arr->size(); ++i) {
      auto p = arr->getObject(static_cast<unsigned>(i));
      ProducerInfo info;
      info.broadcastAddress = p->getValue<std::string>("broadcast_address");
      info.tcpPort = p->getValue<int>("tcp_port");
      info.httpPort = p->getValue<int>("http_port");
      if (p->has("hostname")) info.hostname = p->getValue<std::string>("hostname");
      if (p->has("version")) info.version = p->getValue<std::string>("version");
      out.push_back(info);
    }
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

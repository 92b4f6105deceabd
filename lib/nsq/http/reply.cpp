// Reply: building handler answers and turning them into responses, shared by nsqd's and
// nsqlookupd's HTTP APIs so both write the same headers the same way.
#include "nsq/http/reply.h"

#include "nsq/base/json_text.h"

namespace nsq::http {

Reply makeReply(int status, Reply::Kind kind, std::string body, bool nsqHeader) {
  Reply r;
  r.status = status;
  r.kind = kind;
  r.body = std::move(body);
  r.nsqHeader = nsqHeader;
  return r;
}

Reply emptyReply() { return {}; }
Reply jsonReply(std::string body) { return makeReply(200, Reply::Kind::Json, std::move(body)); }
Reply textReply(std::string body) { return makeReply(200, Reply::Kind::Text, std::move(body)); }

Reply errorReply(int status, std::string_view message) {
  return makeReply(status, Reply::Kind::Json, "{\"message\":" + jsonQuote(message) + "}");
}

Reply plainReply(int status, std::string body) {
  return makeReply(status, Reply::Kind::Text, std::move(body), false);
}

Response toResponse(Reply reply) {
  Response resp;
  resp.status = reply.status;
  if (!reply.contentType.empty())
    resp.set("Content-Type", reply.contentType);
  else if (reply.kind == Reply::Kind::Json)
    resp.set("Content-Type", "application/json; charset=utf-8");
  else if (reply.kind == Reply::Kind::Text)
    resp.set("Content-Type", "text/plain; charset=utf-8");
  if (reply.nsqHeader) resp.set("X-NSQ-Content-Type", "nsq; version=1.0");
  if (!reply.allow.empty()) resp.set("Allow", reply.allow);
  if (!reply.wwwAuthenticate.empty()) resp.set("WWW-Authenticate", reply.wwwAuthenticate);
  resp.body = std::move(reply.body);
  return resp;
}

}  // namespace nsq::http

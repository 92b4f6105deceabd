#pragma once
// Reply: what an nsqd or nsqlookupd handler answers, before headers. The NSQ conventions
// (NSQ-COMPAT §2.1) live here once: JSON and text bodies, the {"message":"..."} error body,
// X-NSQ-Content-Type on everything but /ping-style plain replies, Allow on 405 and OPTIONS.
// Plain values; any thread.
#include <string>
#include <string_view>

#include "nsq/http/request.h"

namespace nsq::http {

struct Reply {
  enum class Kind { Json, Text, Empty };
  int status = 200;
  Kind kind = Kind::Empty;
  std::string body;
  bool nsqHeader = true;        // X-NSQ-Content-Type: nsq; version=1.0
  std::string allow;            // Allow header (405 and OPTIONS)
  std::string contentType;      // overrides the kind's Content-Type when set
  std::string wwwAuthenticate;  // 401 only
};

Reply makeReply(int status, Reply::Kind kind, std::string body, bool nsqHeader = true);
Reply emptyReply();                   // 200, no body
Reply jsonReply(std::string body);    // 200 application/json
Reply textReply(std::string body);    // 200 text/plain
// {"message":"<message>"} as JSON with status, upstream's error body ("TOPIC_NOT_FOUND").
Reply errorReply(int status, std::string_view message);
// Plain text without X-NSQ-Content-Type, as /ping answers.
Reply plainReply(int status, std::string body);

// The response for reply: Content-Type from contentType or kind (none for Empty), then
// X-NSQ-Content-Type, Allow and WWW-Authenticate when set, and the body.
Response toResponse(Reply reply);

}  // namespace nsq::http

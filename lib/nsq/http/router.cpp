// Router helpers: target splitting, path-parameter keys and the 405 / OPTIONS answer, shared
// by nsqd's and nsqlookupd's route tables (the table itself is a template in router.h).
#include "nsq/http/router.h"

namespace nsq::http {

std::optional<std::string> decodeTargetPath(std::string_view target, std::string_view* query) {
  std::string_view t = target;
  if (auto scheme = t.find("://"); scheme != std::string_view::npos && !t.starts_with("/")) {
    auto slash = t.find('/', scheme + 3);
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  auto q = t.find('?');
  *query = q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
  return percentDecode(t.substr(0, q), false);
}

bool routeKeyMatches(std::string_view key, std::string_view path) {
  auto param = key.rfind("/:");
  if (param == std::string_view::npos) return key == path;
  std::string_view prefix = key.substr(0, param + 1);  // "/config/"
  return path.size() > prefix.size() && path.starts_with(prefix) &&
         path.find('/', prefix.size()) == std::string_view::npos;
}

Reply methodNotAllowed(std::string_view method, const std::vector<std::string>& methods, bool advertiseMethods) {
  if (!advertiseMethods) return errorReply(405, "METHOD_NOT_ALLOWED");
  Reply reply = method == "OPTIONS" ? emptyReply() : errorReply(405, "METHOD_NOT_ALLOWED");
  if (method == "OPTIONS") reply.nsqHeader = false;
  for (const auto& m : methods) reply.allow += (reply.allow.empty() ? "" : ", ") + m;
  reply.allow += ", OPTIONS";
  return reply;
}

}  // namespace nsq::http

// host:port parsing and joining: the one copy of what nsqd's listeners, its lookupd registrar,
// statsd, nsqlookupd's options and the client library each used to split by hand.
#include "nsq/base/host_port.h"

#include <unistd.h>

#include "nsq/base/number.h"

namespace nsq {

ParsedHostPort parseHostPort(std::string_view text, uint16_t minPort) {
  ParsedHostPort out;
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    out.error = HostPortError::MissingPort;
    return out;
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const ParsedInt number = parseInt(port, minPort, 65535);
  if (!number || port.find_first_not_of("0123456789") != std::string_view::npos) {
    out.error = HostPortError::InvalidPort;
    return out;
  }
  out.value.host = std::string(host);
  out.value.port = static_cast<uint16_t>(*number);
  return out;
}

std::string joinHostPort(std::string_view host, int port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out = "[";
    out += host;
    out += "]";
  } else {
    out = host;
  }
  return out + ":" + std::to_string(port);
}

std::string hostname(std::string_view fallback) {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return std::string(fallback);
  return buf;
}

}  // namespace nsq

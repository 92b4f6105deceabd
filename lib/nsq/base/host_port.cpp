// host:port parsing and joining: the one copy of what nsqd's listeners, its lookupd registrar,
// statsd, nsqlookupd's options and the client library each used to split by hand.
#include "nsq/base/host_port.h"

#include <unistd.h>

#include "nsq/base/number.h"
#include "nsq/base/options.h"

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

std::string hostPortProblem(std::string_view text, uint16_t minPort, bool allowScheme) {
  std::string_view address = text;
  if (allowScheme) {
    for (std::string_view scheme : {"http://", "https://"})
      if (address.starts_with(scheme)) address.remove_prefix(scheme.size());
    if (address.ends_with('/')) address.remove_suffix(1);
  }
  ParsedHostPort hp = parseHostPort(address, minPort);
  if (hp) return "";
  if (hp.error == HostPortError::MissingPort) return "invalid address " + std::string(text) + " (want host:port)";
  return "invalid port in address " + std::string(text) + " (want " + std::to_string(minPort) + "-65535)";
}

void requireHostPortFlag(std::string_view flag, std::string_view value, uint16_t minPort, bool allowScheme) {
  std::string problem = hostPortProblem(value, minPort, allowScheme);
  if (!problem.empty()) throw OptionError("flag --" + std::string(flag) + ": " + problem);
}

void requireHostPortFlags(std::string_view flag, const std::vector<std::string>& values, uint16_t minPort,
                          bool allowScheme) {
  for (const auto& v : values) requireHostPortFlag(flag, v, minPort, allowScheme);
}

void requirePortFlag(std::string_view flag, int64_t value) {
  if (value < 0 || value > 65535)
    throw OptionError("flag --" + std::string(flag) + ": port " + std::to_string(value) + " out of range 0-65535");
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

// Listen address parsing: Poco resolves host names; an empty host means 0.0.0.0 as in Go.
#include "nsqlookupd/net_address.h"

#include <Poco/Exception.h>

#include "nsq/base/host_port.h"

namespace nsq::lookupd {

std::optional<Poco::Net::SocketAddress> parseListenAddress(const std::string& text,
                                                           std::string* err) {
  ParsedHostPort hp = parseHostPort(text);
  if (hp.error == HostPortError::MissingPort) {
    *err = "address \"" + text + "\" is missing a port (use <addr>:<port>)";
    return std::nullopt;
  }
  if (!hp) {
    *err = "address \"" + text + "\" has an invalid port";
    return std::nullopt;
  }
  try {
    return Poco::Net::SocketAddress(hp->host.empty() ? "0.0.0.0" : hp->host, hp->port);
  } catch (const Poco::Exception& e) {
    *err = "address \"" + text + "\": " + e.displayText();
    return std::nullopt;
  }
}

}  // namespace nsq::lookupd

// Listen address parsing: Poco resolves host names; an empty host means 0.0.0.0 as in Go.
#include "nsqlookupd/net_address.h"

#include <Poco/Exception.h>

#include "nsq/base/number.h"

namespace nsq::lookupd {

std::optional<Poco::Net::SocketAddress> parseListenAddress(const std::string& text,
                                                           std::string* err) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    *err = "address \"" + text + "\" is missing a port (use <addr>:<port>)";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  ParsedInt portNumber = parseInt(port, 0, 65535);
  if (!portNumber || port.find_first_not_of("0123456789") != std::string::npos) {  // no sign
    *err = "address \"" + text + "\" has an invalid port";
    return std::nullopt;
  }
  try {
    return Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(*portNumber));
  } catch (const Poco::Exception& e) {
    *err = "address \"" + text + "\": " + e.displayText();
    return std::nullopt;
  }
}

}  // namespace nsq::lookupd

#pragma once
// Listen addresses as Go writes them: "host:port", ":port" (all interfaces), "[v6]:port".
#include <Poco/Net/SocketAddress.h>

#include <optional>
#include <string>

namespace nsq::lookupd {

// Returns the address, or nullopt with *err set to a one-line reason.
std::optional<Poco::Net::SocketAddress> parseListenAddress(const std::string& text,
                                                           std::string* err);

}  // namespace nsq::lookupd

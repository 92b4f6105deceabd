#pragma once
// host:port as Go writes it: "host:port", "[v6]:port", ":port" (empty host: all interfaces, or
// the caller's default). The one parser for addresses from flags, config, lookupd replies and
// HTTP bodies: the port is range-checked and an error is returned, never thrown.
#include <cstdint>
#include <string>
#include <string_view>

namespace nsq {

struct HostPort {
  std::string host;  // brackets of "[v6]" removed; may be empty
  uint16_t port = 0;
};

enum class HostPortError {
  None,
  MissingPort,  // no ':' at all
  InvalidPort,  // what follows the last ':' is not decimal digits within [minPort, 65535]
};

struct ParsedHostPort {
  HostPortError error = HostPortError::None;
  HostPort value;  // meaningful only when error == None

  explicit operator bool() const { return error == HostPortError::None; }
  const HostPort& operator*() const { return value; }
  const HostPort* operator->() const { return &value; }
};

// Splits text at its last ':'. The port must be plain decimal digits (no sign, no spaces) within
// [minPort, 65535]: 0 for a listen address (any free port), 1 for one to dial. Never throws; any
// thread.
[[nodiscard]] ParsedHostPort parseHostPort(std::string_view text, uint16_t minPort = 0);

// "host:port", with host bracketed when it holds a ':' (Go's net.JoinHostPort).
std::string joinHostPort(std::string_view host, int port);

// This machine's host name (gethostname), or fallback when it cannot be read.
std::string hostname(std::string_view fallback = "localhost");

}  // namespace nsq

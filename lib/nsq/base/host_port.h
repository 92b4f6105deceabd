#pragma once
// host:port as Go writes it: "host:port", "[v6]:port", ":port" (empty host: all interfaces, or
// the caller's default). The one parser for addresses from flags, config, lookupd replies and
// HTTP bodies: the port is range-checked and an error is returned, never thrown.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// The one check behind every address flag of every binary: "" when text is host:port with a
// port in [minPort, 65535] (0 for a listen address, 1 for one to dial), else the problem:
// "invalid address <text> (want host:port)" or "invalid port in address <text> (want 0-65535)".
// An http:// or https:// prefix (and a trailing '/') is accepted when allowScheme: the tools'
// --lookupd-http-address and --nsqd-http-address take URLs too. Never throws.
[[nodiscard]] std::string hostPortProblem(std::string_view text, uint16_t minPort, bool allowScheme = false);

// For the validate() step of every main(): throws OptionError("flag --<flag>: <problem>").
void requireHostPortFlag(std::string_view flag, std::string_view value, uint16_t minPort, bool allowScheme = false);
// Each value of a list flag; empty lists pass.
void requireHostPortFlags(std::string_view flag, const std::vector<std::string>& values, uint16_t minPort,
                          bool allowScheme = false);
// A bare port flag (--broadcast-tcp-port): throws OptionError unless 0 <= value <= 65535.
void requirePortFlag(std::string_view flag, int64_t value);

// "host:port", with host bracketed when it holds a ':' (Go's net.JoinHostPort).
std::string joinHostPort(std::string_view host, int port);

// This machine's host name (gethostname), or fallback when it cannot be read.
std::string hostname(std::string_view fallback = "localhost");

}  // namespace nsq

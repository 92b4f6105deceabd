#pragma once
// ErrorCode mirrors the E_* codes of the nsqd TCP protocol (NSQ-COMPAT §1.10). Per-command code
// returns one of these instead of throwing; the session turns it into an error frame and
// isFatal() decides whether the connection closes afterwards.
#include <string>
#include <string_view>

namespace nsq {

enum class ErrorCode {
  None,
  Invalid,        // E_INVALID
  BadBody,        // E_BAD_BODY
  BadTopic,       // E_BAD_TOPIC
  BadChannel,     // E_BAD_CHANNEL
  BadMessage,     // E_BAD_MESSAGE
  IdentifyFailed, // E_IDENTIFY_FAILED
  SubFailed,      // E_SUB_FAILED
  PubFailed,      // E_PUB_FAILED
  MpubFailed,     // E_MPUB_FAILED
  DpubFailed,     // E_DPUB_FAILED
  FinFailed,      // E_FIN_FAILED
  ReqFailed,      // E_REQ_FAILED
  TouchFailed,    // E_TOUCH_FAILED
  AuthFirst,      // E_AUTH_FIRST
  AuthDisabled,   // E_AUTH_DISABLED
  AuthFailed,     // E_AUTH_FAILED
  Unauthorized,   // E_UNAUTHORIZED
  AuthError,      // E_AUTH_ERROR
  BadProtocol,    // E_BAD_PROTOCOL
  TopicFull,      // E_PUB_FAILED for a topic at its max_depth (nsqd's policies): not fatal
  // A publish refused by --max-topics (ours): the command's own code, not fatal.
  PubRefused,     // E_PUB_FAILED
  MpubRefused,    // E_MPUB_FAILED
  DpubRefused,    // E_DPUB_FAILED
  TooManyConnections,  // E_TOO_MANY_CONNECTIONS: --tcp-max-connections reached (ours)
};

// The wire token, e.g. "E_INVALID". None -> "".
std::string_view errorCodeName(ErrorCode code);

// FIN/REQ/TOUCH failures, a full topic and a publish past --max-topics keep the connection;
// every other error closes it.
constexpr bool isFatal(ErrorCode code) {
  return code != ErrorCode::None && code != ErrorCode::FinFailed && code != ErrorCode::ReqFailed &&
         code != ErrorCode::TouchFailed && code != ErrorCode::TopicFull && code != ErrorCode::PubRefused &&
         code != ErrorCode::MpubRefused && code != ErrorCode::DpubRefused;
}

// The non-fatal twin of a publish failure code (PubFailed -> PubRefused, ...).
constexpr ErrorCode refusedCode(ErrorCode failCode) {
  switch (failCode) {
    case ErrorCode::MpubFailed: return ErrorCode::MpubRefused;
    case ErrorCode::DpubFailed: return ErrorCode::DpubRefused;
    default: return ErrorCode::PubRefused;
  }
}

// A code with its human description; the error frame body is "<E_CODE> <description>".
// The data-plane result in nsqd (Channel/Topic up to ClientSession): [[nodiscard]], so a
// failure cannot be dropped silently; only the session turns it into an E_* frame.
struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::None;
  std::string description;

  explicit operator bool() const { return code != ErrorCode::None; }
  std::string frameText() const;
};

}  // namespace nsq

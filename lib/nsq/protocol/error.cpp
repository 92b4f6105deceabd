// Names of the E_* protocol error codes.
#include "nsq/protocol/error.h"

namespace nsq {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::None: return "";
    case ErrorCode::Invalid: return "E_INVALID";
    case ErrorCode::BadBody: return "E_BAD_BODY";
    case ErrorCode::BadTopic: return "E_BAD_TOPIC";
    case ErrorCode::BadChannel: return "E_BAD_CHANNEL";
    case ErrorCode::BadMessage: return "E_BAD_MESSAGE";
    case ErrorCode::IdentifyFailed: return "E_IDENTIFY_FAILED";
    case ErrorCode::SubFailed: return "E_SUB_FAILED";
    case ErrorCode::PubFailed: return "E_PUB_FAILED";
    case ErrorCode::MpubFailed: return "E_MPUB_FAILED";
    case ErrorCode::DpubFailed: return "E_DPUB_FAILED";
    case ErrorCode::FinFailed: return "E_FIN_FAILED";
    case ErrorCode::ReqFailed: return "E_REQ_FAILED";
    case ErrorCode::TouchFailed: return "E_TOUCH_FAILED";
    case ErrorCode::AuthFirst: return "E_AUTH_FIRST";
    case ErrorCode::AuthDisabled: return "E_AUTH_DISABLED";
    case ErrorCode::AuthFailed: return "E_AUTH_FAILED";
    case ErrorCode::Unauthorized: return "E_UNAUTHORIZED";
    case ErrorCode::AuthError: return "E_AUTH_ERROR";
    case ErrorCode::BadProtocol: return "E_BAD_PROTOCOL";
    case ErrorCode::TopicFull: return "E_PUB_FAILED";
    case ErrorCode::PubRefused: return "E_PUB_FAILED";
    case ErrorCode::MpubRefused: return "E_MPUB_FAILED";
    case ErrorCode::DpubRefused: return "E_DPUB_FAILED";
    case ErrorCode::TooManyConnections: return "E_TOO_MANY_CONNECTIONS";
  }
  return "E_INVALID";
}

std::string Error::frameText() const {
  std::string out(errorCodeName(code));
  if (!description.empty()) {
    out += ' ';
    out += description;
  }
  return out;
}

}  // namespace nsq

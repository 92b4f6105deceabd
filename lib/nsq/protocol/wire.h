#pragma once
// Frame and command codec for the nsqd TCP protocol V2 (NSQ-COMPAT §1). Bytes in, structs out;
// nothing here touches a socket.
//
// Server frame:            Command:
//   +--------+--------+------+     NAME[ param]*\n             (optional \r stripped)
//   | int32  | int32  | data |     then, for IDENTIFY AUTH PUB MPUB DPUB:
//   | size   | type   |      |       +--------+------------+
//   +--------+--------+------+       | int32  | size bytes |
//   size = 4 + len(data); type 0 response, 1 error, 2 message
//
// MPUB body: [int32 n] then n x ([int32 size][size bytes]).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/error.h"
#include "nsq/protocol/message.h"

namespace nsq {

constexpr std::string_view kMagicV2 = "  V2";
constexpr std::string_view kMagicV1 = "  V1";
constexpr std::size_t kMaxLineLength = 16 * 1024;
constexpr std::string_view kHeartbeat = "_heartbeat_";
constexpr std::string_view kOk = "OK";
constexpr std::string_view kCloseWait = "CLOSE_WAIT";

enum class FrameType : int32_t { Response = 0, Error = 1, Message = 2 };

enum class CommandName { Identify, Auth, Sub, Pub, Mpub, Dpub, Rdy, Fin, Req, Touch, Cls, Nop, Unknown };

struct CommandLine {
  CommandName name = CommandName::Unknown;
  std::string_view nameText;
  static constexpr int kMaxParams = 4;
  std::array<std::string_view, kMaxParams> params{};
  int paramCount = 0;  // may exceed kMaxParams: extra params are counted, not kept
  bool hasBody() const {
    return name == CommandName::Identify || name == CommandName::Auth || name == CommandName::Pub ||
           name == CommandName::Mpub || name == CommandName::Dpub;
  }
};

// Splits a command line (without its '\n'; a trailing '\r' is stripped) on single spaces.
// The views point into `line`.
CommandLine parseCommandLine(std::string_view line);

// Appends [size][type][data].
void appendFrame(std::string& out, FrameType type, std::string_view data);
// Appends a message frame: [size][2][ts][attempts][id][body] without building the payload first.
void appendMessageFrame(std::string& out, const Message& msg);

// Splits an MPUB body into message bodies (views into `body`), validating every count and size
// first (all-or-nothing). Error codes: BadBody for the count, BadMessage for a message size.
Error parseMpubBody(std::string_view body, int64_t maxMsgSize, int64_t maxBodySize,
                    std::vector<std::string_view>& out);

// Client side: one decoded server frame.
struct Frame {
  FrameType type;
  std::string_view data;
};
// Decodes the frame at the start of buf. Returns the bytes consumed, 0 when more bytes are
// needed, or -1 for a malformed size.
long decodeFrame(std::string_view buf, Frame& out, std::size_t maxFrameSize = 64 * 1024 * 1024);

}  // namespace nsq

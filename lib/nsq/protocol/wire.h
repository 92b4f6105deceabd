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

// MPUB as the original reads it (NSQ-COMPAT §1): the message count and each length-prefixed
// message come from the stream itself; the declared body size before them is only range-checked
// by the caller, never used to cut the stream (squeaky, for one, declares only the sum of the
// message bodies). Our own bound on top: the bytes read for one MPUB (count, sizes and bodies)
// never exceed maxBodySize, so one MPUB cannot make us hold count x max-msg-size.
struct MpubProgress {
  std::size_t pos = 0;   // bytes of the MPUB read so far (the count, then whole messages)
  int32_t count = -1;    // -1 until the count is read
  int32_t index = 0;     // messages read so far
  std::size_t want = 4;  // bytes of the stream needed before the next step can run
};
enum class MpubStatus { Done, NeedMore, Failed };

// Resumable: `stream` starts at the message count; each call sees what the last one saw and
// perhaps more. Done: progress.pos bytes form the MPUB. NeedMore: call again with at least
// progress.want bytes. Failed: `error` holds the reply (BadBody for the count and the bound,
// BadMessage for a message size). No allocation; pure.
MpubStatus readMpub(std::string_view stream, int64_t maxMsgSize, int64_t maxBodySize, MpubProgress& progress,
                    Error& error);

// Splits a complete MPUB (all of it in `body`; bytes after the last message are ignored, as the
// original ignores them on HTTP) into message bodies (views into `body`), validating every
// count and size first (all-or-nothing). Running out of bytes is an error here ("failed to read").
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

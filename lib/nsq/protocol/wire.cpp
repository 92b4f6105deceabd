// V2 command and frame codec.
#include "nsq/protocol/wire.h"

#include <cstring>

namespace nsq {

namespace {
CommandName lookupName(std::string_view n) {
  switch (n.size()) {
    case 3:
      if (n == "PUB") return CommandName::Pub;
      if (n == "SUB") return CommandName::Sub;
      if (n == "RDY") return CommandName::Rdy;
      if (n == "FIN") return CommandName::Fin;
      if (n == "REQ") return CommandName::Req;
      if (n == "CLS") return CommandName::Cls;
      if (n == "NOP") return CommandName::Nop;
      break;
    case 4:
      if (n == "MPUB") return CommandName::Mpub;
      if (n == "DPUB") return CommandName::Dpub;
      if (n == "AUTH") return CommandName::Auth;
      break;
    case 5:
      if (n == "TOUCH") return CommandName::Touch;
      break;
    case 8:
      if (n == "IDENTIFY") return CommandName::Identify;
      break;
    default: break;
  }
  return CommandName::Unknown;
}
}  // namespace

CommandLine parseCommandLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  CommandLine cmd;
  std::size_t sp = line.find(' ');
  cmd.nameText = line.substr(0, sp);
  cmd.name = lookupName(cmd.nameText);
  while (sp != std::string_view::npos) {
    std::size_t start = sp + 1;
    sp = line.find(' ', start);
    std::string_view p = line.substr(start, sp == std::string_view::npos ? sp : sp - start);
    if (cmd.paramCount < CommandLine::kMaxParams) cmd.params[cmd.paramCount] = p;
    ++cmd.paramCount;
  }
  return cmd;
}

void appendFrame(std::string& out, FrameType type, std::string_view data) {
  char header[8];
  putUint32(header, static_cast<uint32_t>(4 + data.size()));
  putUint32(header + 4, static_cast<uint32_t>(type));
  out.append(header, 8);
  out.append(data);
}

void appendMessageFrame(std::string& out, const Message& msg) {
  char header[8 + kMessageHeaderLength];
  putUint32(header, static_cast<uint32_t>(4 + kMessageHeaderLength + msg.body.size()));
  putUint32(header + 4, static_cast<uint32_t>(FrameType::Message));
  putUint64(header + 8, static_cast<uint64_t>(msg.timestamp));
  putUint16(header + 16, msg.attempts);
  std::memcpy(header + 18, msg.id.bytes.data(), kMessageIdLength);
  out.append(header, sizeof header);
  out.append(msg.body.view());
}

Error parseMpubBody(std::string_view body, int64_t maxMsgSize, int64_t maxBodySize,
                    std::vector<std::string_view>& out) {
  out.clear();
  if (body.size() < 4) return {ErrorCode::BadBody, "MPUB failed to read message count"};
  int32_t n = static_cast<int32_t>(getUint32(body.data()));
  int64_t maxMessages = (maxBodySize - 4) / 5;
  if (n <= 0 || n > maxMessages)
    return {ErrorCode::BadBody, "MPUB invalid message count " + std::to_string(n)};
  std::size_t pos = 4;
  out.reserve(static_cast<std::size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    std::string index = "(" + std::to_string(i) + ")";
    if (body.size() - pos < 4) {
      out.clear();
      return {ErrorCode::BadMessage, "MPUB failed to read message" + index + " body size"};
    }
    int32_t size = static_cast<int32_t>(getUint32(body.data() + pos));
    pos += 4;
    if (size <= 0) {
      out.clear();
      return {ErrorCode::BadMessage, "MPUB invalid message" + index + " body size " + std::to_string(size)};
    }
    if (size > maxMsgSize) {
      out.clear();
      return {ErrorCode::BadMessage,
              "MPUB message too big " + std::to_string(size) + " > " + std::to_string(maxMsgSize)};
    }
    if (body.size() - pos < static_cast<std::size_t>(size)) {
      out.clear();
      return {ErrorCode::BadMessage, "MPUB failed to read message body"};
    }
    out.push_back(body.substr(pos, static_cast<std::size_t>(size)));
    pos += static_cast<std::size_t>(size);
  }
  return {};
}

long decodeFrame(std::string_view buf, Frame& out, std::size_t maxFrameSize) {
  if (buf.size() < 4) return 0;
  uint32_t size = getUint32(buf.data());
  if (size < 4 || size > maxFrameSize) return -1;
  if (buf.size() < 4 + static_cast<std::size_t>(size)) return 0;
  out.type = static_cast<FrameType>(static_cast<int32_t>(getUint32(buf.data() + 4)));
  out.data = buf.substr(8, size - 4);
  return static_cast<long>(4 + size);
}

}  // namespace nsq

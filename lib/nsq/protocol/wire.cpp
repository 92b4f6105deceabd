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

MpubStatus readMpub(std::string_view stream, int64_t maxMsgSize, int64_t maxBodySize, MpubProgress& p,
                    Error& error) {
  auto fail = [&error](ErrorCode code, std::string text) {
    error = {code, std::move(text)};
    return MpubStatus::Failed;
  };
  auto needMore = [&p](std::size_t want) {
    p.want = want;
    return MpubStatus::NeedMore;
  };
  if (p.count < 0) {
    if (stream.size() < 4) return needMore(4);
    int32_t n = static_cast<int32_t>(getUint32(stream.data()));
    int64_t maxMessages = (maxBodySize - 4) / 5;  // 4 for the count, 5 for a size and one byte
    if (n <= 0 || n > maxMessages) return fail(ErrorCode::BadBody, "MPUB invalid message count " + std::to_string(n));
    p.count = n;
    p.pos = 4;
  }
  while (p.index < p.count) {
    if (stream.size() - p.pos < 4) return needMore(p.pos + 4);
    int32_t size = static_cast<int32_t>(getUint32(stream.data() + p.pos));
    if (size <= 0)
      return fail(ErrorCode::BadMessage,
                  "MPUB invalid message(" + std::to_string(p.index) + ") body size " + std::to_string(size));
    if (size > maxMsgSize)
      return fail(ErrorCode::BadMessage,
                  "MPUB message too big " + std::to_string(size) + " > " + std::to_string(maxMsgSize));
    const std::size_t end = p.pos + 4 + static_cast<std::size_t>(size);
    if (end > static_cast<std::size_t>(maxBodySize))
      return fail(ErrorCode::BadBody,
                  "MPUB body too big " + std::to_string(end) + " > " + std::to_string(maxBodySize));
    if (stream.size() < end) return needMore(end);
    p.pos = end;
    ++p.index;
  }
  p.want = p.pos;
  return MpubStatus::Done;
}

Error parseMpubBody(std::string_view body, int64_t maxMsgSize, int64_t maxBodySize,
                    std::vector<std::string_view>& out) {
  out.clear();
  MpubProgress p;
  Error error;
  switch (readMpub(body, maxMsgSize, maxBodySize, p, error)) {
    case MpubStatus::Failed: return error;
    case MpubStatus::NeedMore:
      // What the original answers when the stream ends at that point.
      if (p.count < 0) return {ErrorCode::BadBody, "MPUB failed to read message count"};
      if (p.want == p.pos + 4)
        return {ErrorCode::BadMessage, "MPUB failed to read message(" + std::to_string(p.index) + ") body size"};
      return {ErrorCode::BadMessage, "MPUB failed to read message body"};
    case MpubStatus::Done: break;
  }
  out.reserve(static_cast<std::size_t>(p.count));
  for (std::size_t pos = 4; pos < p.pos;) {
    std::size_t size = getUint32(body.data() + pos);
    out.push_back(body.substr(pos + 4, size));
    pos += 4 + size;
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

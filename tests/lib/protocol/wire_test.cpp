// Wire codec and message layout: command-line parsing, unsigned numbers, exact frame bytes,
// client-side frame decoding, MPUB body validation, the §1.2 payload and Body refcounting.
#include "nsq/protocol/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nsq/protocol/message.h"

namespace nsq {
namespace {

using namespace std::string_literals;

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  putUint32(s.data(), v);
  return s;
}

// Builds an MPUB body: [int32 n] then [int32 size][bytes] per message.
std::string mpubBody(const std::vector<std::string>& msgs) {
  std::string out = be32(static_cast<uint32_t>(msgs.size()));
  for (const auto& m : msgs) out += be32(static_cast<uint32_t>(m.size())) + m;
  return out;
}

// ---------------------------------------------------------------------------------------------
// parseCommandLine

TEST(Wire, ParsesEveryCommandName) {
  const std::pair<const char*, CommandName> cases[] = {
      {"IDENTIFY", CommandName::Identify}, {"AUTH", CommandName::Auth}, {"SUB", CommandName::Sub},
      {"PUB", CommandName::Pub},           {"MPUB", CommandName::Mpub}, {"DPUB", CommandName::Dpub},
      {"RDY", CommandName::Rdy},           {"FIN", CommandName::Fin},   {"REQ", CommandName::Req},
      {"TOUCH", CommandName::Touch},       {"CLS", CommandName::Cls},   {"NOP", CommandName::Nop},
  };
  for (const auto& [text, name] : cases) {
    CommandLine cmd = parseCommandLine(text);
    EXPECT_EQ(cmd.name, name) << text;
    EXPECT_EQ(cmd.nameText, text);
    EXPECT_EQ(cmd.paramCount, 0) << text;
  }
}

TEST(Wire, UnknownAndWrongCaseNamesAreUnknown) {
  for (const char* text : {"PUBX", "pub", "Sub", "IDENTIFYX", "FOO", "MPU", "TOUCHE", "X"}) {
    CommandLine cmd = parseCommandLine(text);
    EXPECT_EQ(cmd.name, CommandName::Unknown) << text;
    EXPECT_EQ(cmd.nameText, text);
  }
}

TEST(Wire, EmptyLineIsUnknownWithEmptyName) {
  CommandLine cmd = parseCommandLine("");
  EXPECT_EQ(cmd.name, CommandName::Unknown);
  EXPECT_EQ(cmd.nameText, "");
  EXPECT_EQ(cmd.paramCount, 0);

  CommandLine cr = parseCommandLine("\r");
  EXPECT_EQ(cr.name, CommandName::Unknown);
  EXPECT_EQ(cr.nameText, "");
  EXPECT_EQ(cr.paramCount, 0);
}

TEST(Wire, StripsOneTrailingCarriageReturn) {
  CommandLine cmd = parseCommandLine("SUB topic chan\r");
  EXPECT_EQ(cmd.name, CommandName::Sub);
  ASSERT_EQ(cmd.paramCount, 2);
  EXPECT_EQ(cmd.params[0], "topic");
  EXPECT_EQ(cmd.params[1], "chan");

  EXPECT_EQ(parseCommandLine("NOP\r").name, CommandName::Nop);
  // Only one \r goes; a second one stays part of the name.
  CommandLine twice = parseCommandLine("NOP\r\r");
  EXPECT_EQ(twice.name, CommandName::Unknown);
  EXPECT_EQ(twice.nameText, "NOP\r");
}

TEST(Wire, SplitsParamsOnSingleSpacesKeepingEmptyOnes) {
  CommandLine cmd = parseCommandLine("REQ  abc 0");
  EXPECT_EQ(cmd.name, CommandName::Req);
  ASSERT_EQ(cmd.paramCount, 3);
  EXPECT_EQ(cmd.params[0], "");
  EXPECT_EQ(cmd.params[1], "abc");
  EXPECT_EQ(cmd.params[2], "0");

  CommandLine trailing = parseCommandLine("RDY ");
  EXPECT_EQ(trailing.name, CommandName::Rdy);
  ASSERT_EQ(trailing.paramCount, 1);
  EXPECT_EQ(trailing.params[0], "");

  CommandLine leading = parseCommandLine(" NOP");
  EXPECT_EQ(leading.name, CommandName::Unknown);
  EXPECT_EQ(leading.nameText, "");
  ASSERT_EQ(leading.paramCount, 1);
  EXPECT_EQ(leading.params[0], "NOP");
}

TEST(Wire, ParamsAreViewsIntoTheLine) {
  std::string line = "PUB mytopic";
  CommandLine cmd = parseCommandLine(line);
  ASSERT_EQ(cmd.paramCount, 1);
  EXPECT_EQ(cmd.params[0].data(), line.data() + 4);
  EXPECT_EQ(cmd.nameText.data(), line.data());
}

TEST(Wire, CountsParamsBeyondMaxWithoutKeepingThem) {
  CommandLine cmd = parseCommandLine("SUB a b c d e f");
  EXPECT_EQ(cmd.name, CommandName::Sub);
  EXPECT_EQ(cmd.paramCount, 6);
  ASSERT_EQ(CommandLine::kMaxParams, 4);
  EXPECT_EQ(cmd.params[0], "a");
  EXPECT_EQ(cmd.params[1], "b");
  EXPECT_EQ(cmd.params[2], "c");
  EXPECT_EQ(cmd.params[3], "d");

  CommandLine exact = parseCommandLine("X 1 2 3 4");
  EXPECT_EQ(exact.paramCount, 4);
  EXPECT_EQ(exact.params[3], "4");
}

TEST(Wire, OnlyIdentifyAuthPubMpubDpubHaveABody) {
  const std::pair<const char*, bool> cases[] = {
      {"IDENTIFY", true}, {"AUTH", true},  {"PUB t", true}, {"MPUB t", true}, {"DPUB t 1", true},
      {"SUB t c", false}, {"RDY 1", false}, {"FIN x", false}, {"REQ x 0", false},
      {"TOUCH x", false}, {"CLS", false},  {"NOP", false},  {"BOGUS", false}, {"", false},
  };
  for (const auto& [text, body] : cases) EXPECT_EQ(parseCommandLine(text).hasBody(), body) << text;
}


// ---------------------------------------------------------------------------------------------
// appendFrame / appendMessageFrame

TEST(Wire, AppendFrameWritesBigEndianSizeTypeAndData) {
  std::string out = "prefix";
  appendFrame(out, FrameType::Response, "OK");
  EXPECT_EQ(out, "prefix"s + "\x00\x00\x00\x06"s + "\x00\x00\x00\x00"s + "OK");

  std::string err;
  appendFrame(err, FrameType::Error, "E_INVALID x");
  EXPECT_EQ(err, "\x00\x00\x00\x0f"s + "\x00\x00\x00\x01"s + "E_INVALID x");

  std::string empty;
  appendFrame(empty, FrameType::Response, "");
  EXPECT_EQ(empty, "\x00\x00\x00\x04"s + "\x00\x00\x00\x00"s);
}

TEST(Wire, AppendFrameEncodesLargeSizesBigEndian) {
  std::string data(0x10203, 'z');  // size field = 4 + 0x10203 = 0x00010207
  std::string out;
  appendFrame(out, FrameType::Message, data);
  ASSERT_EQ(out.size(), 8 + data.size());
  EXPECT_EQ(out.substr(0, 8), "\x00\x01\x02\x07"s + "\x00\x00\x00\x02"s);
}

TEST(Wire, AppendMessageFrameHasExactLayout) {
  Message m;
  m.timestamp = 0x0102030405060708;
  m.attempts = 0x0a0b;
  ASSERT_TRUE(MessageId::parse("0123456789abcdef", m.id));
  m.body = Body("hi");
  std::string out = "x";
  appendMessageFrame(out, m);
  std::string expected = "x"s +
                         "\x00\x00\x00\x20"s +                  // size = 4 + 26 + 2 = 32
                         "\x00\x00\x00\x02"s +                  // type message
                         "\x01\x02\x03\x04\x05\x06\x07\x08"s +  // timestamp
                         "\x0a\x0b"s +                          // attempts
                         "0123456789abcdef" + "hi";
  EXPECT_EQ(out, expected);

  // The frame data is byte for byte the §1.2 payload.
  std::string payload;
  m.appendPayload(payload);
  EXPECT_EQ(out.substr(1 + 8), payload);
}

TEST(Wire, AppendMessageFrameWithNegativeTimestampAndEmptyBody) {
  Message m;
  m.timestamp = -1;
  m.attempts = 65535;
  m.id = MessageId::fromGuid(1);
  std::string out;
  appendMessageFrame(out, m);
  EXPECT_EQ(out, "\x00\x00\x00\x1e"s + "\x00\x00\x00\x02"s + std::string(8, '\xff') + "\xff\xff"s +
                     "0000000000000001");
}

// ---------------------------------------------------------------------------------------------
// decodeFrame

TEST(Wire, DecodeFrameNeedsAllBytes) {
  std::string frame;
  appendFrame(frame, FrameType::Response, "_heartbeat_");
  Frame f{};
  for (std::size_t n = 0; n < frame.size(); ++n)
    EXPECT_EQ(decodeFrame(std::string_view(frame).substr(0, n), f), 0) << n;
  EXPECT_EQ(decodeFrame(frame, f), static_cast<long>(frame.size()));
  EXPECT_EQ(f.type, FrameType::Response);
  EXPECT_EQ(f.data, "_heartbeat_");
}

TEST(Wire, DecodeFrameConsumesExactlyOneFrame) {
  std::string buf;
  appendFrame(buf, FrameType::Error, "E_BAD_TOPIC bad");
  std::size_t first = buf.size();
  appendFrame(buf, FrameType::Response, "OK");
  Frame f{};
  long n = decodeFrame(buf, f);
  ASSERT_EQ(n, static_cast<long>(first));
  EXPECT_EQ(f.type, FrameType::Error);
  EXPECT_EQ(f.data, "E_BAD_TOPIC bad");
  EXPECT_EQ(f.data.data(), buf.data() + 8);  // a view, no copy
  n = decodeFrame(std::string_view(buf).substr(first), f);
  EXPECT_EQ(n, 10);
  EXPECT_EQ(f.type, FrameType::Response);
  EXPECT_EQ(f.data, "OK");
}

TEST(Wire, DecodeFrameRejectsMalformedSizes) {
  Frame f{};
  EXPECT_EQ(decodeFrame(be32(0) + be32(0), f), -1);   // size smaller than the type word
  EXPECT_EQ(decodeFrame(be32(3) + "abcd", f), -1);
  EXPECT_EQ(decodeFrame(be32(0xffffffff), f), -1);    // negative as int32, huge as uint32
  EXPECT_EQ(decodeFrame(be32(101) + be32(0), f, 100), -1);  // over maxFrameSize
  EXPECT_EQ(decodeFrame(be32(100) + be32(0), f, 100), 0);   // at the limit: just incomplete
  EXPECT_EQ(decodeFrame(be32(4) + be32(1), f), 8);          // size 4: empty data is fine
  EXPECT_EQ(f.type, FrameType::Error);
  EXPECT_EQ(f.data, "");
}

// ---------------------------------------------------------------------------------------------
// parseMpubBody

constexpr int64_t kMaxMsg = 100;
constexpr int64_t kMaxBody = 1000;

TEST(Wire, MpubSplitsValidBody) {
  std::string body = mpubBody({"ab", "cde", std::string(kMaxMsg, 'm')});
  std::vector<std::string_view> out;
  Error err = parseMpubBody(body, kMaxMsg, kMaxBody, out);
  EXPECT_FALSE(err) << err.description;
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "ab");
  EXPECT_EQ(out[1], "cde");
  EXPECT_EQ(out[2], std::string(kMaxMsg, 'm'));
  EXPECT_EQ(out[0].data(), body.data() + 8);  // views into the body
}

TEST(Wire, MpubIgnoresBytesAfterTheLastMessage) {
  std::string body = mpubBody({"a"}) + "trailing";
  std::vector<std::string_view> out;
  EXPECT_FALSE(parseMpubBody(body, kMaxMsg, kMaxBody, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "a");
}

// Runs parseMpubBody with a pre-filled `out` and checks the code and that out is left empty.
void expectMpubError(const std::string& body, ErrorCode code, const std::string& desc,
                     int64_t maxMsg = kMaxMsg, int64_t maxBody = kMaxBody) {
  std::vector<std::string_view> out{"stale"};
  Error err = parseMpubBody(body, maxMsg, maxBody, out);
  EXPECT_EQ(err.code, code) << err.description;
  EXPECT_EQ(err.description, desc);
  EXPECT_TRUE(out.empty());
}

TEST(Wire, MpubRejectsShortCount) {
  expectMpubError("", ErrorCode::BadBody, "MPUB failed to read message count");
  expectMpubError("\x00\x00\x01"s, ErrorCode::BadBody, "MPUB failed to read message count");
}

TEST(Wire, MpubRejectsZeroAndNegativeCounts) {
  expectMpubError(be32(0), ErrorCode::BadBody, "MPUB invalid message count 0");
  expectMpubError(be32(0xffffffff) + be32(1) + "a", ErrorCode::BadBody,
                  "MPUB invalid message count -1");
  expectMpubError(be32(0x80000000), ErrorCode::BadBody, "MPUB invalid message count -2147483648");
}

TEST(Wire, MpubRejectsCountOverBodyLimit) {
  // maxBody 24 -> at most (24-4)/5 = 4 messages.
  std::vector<std::string> four(4, "x"), five(5, "x");
  std::vector<std::string_view> out;
  EXPECT_FALSE(parseMpubBody(mpubBody(four), kMaxMsg, 24, out));
  EXPECT_EQ(out.size(), 4u);
  expectMpubError(mpubBody(five), ErrorCode::BadBody, "MPUB invalid message count 5", kMaxMsg, 24);
}

TEST(Wire, MpubRejectsBadMessageSizes) {
  expectMpubError(be32(2) + be32(1) + "a" + be32(0), ErrorCode::BadMessage,
                  "MPUB invalid message(1) body size 0");
  expectMpubError(be32(1) + be32(0xfffffffe) + "a", ErrorCode::BadMessage,
                  "MPUB invalid message(0) body size -2");
  expectMpubError(mpubBody({"ok", std::string(kMaxMsg + 1, 'x')}), ErrorCode::BadMessage,
                  "MPUB message too big 101 > 100");
}

TEST(Wire, MpubRejectsTruncatedSizeAndBody) {
  expectMpubError(be32(2) + be32(1) + "a" + "\x00\x00"s, ErrorCode::BadMessage,
                  "MPUB failed to read message(1) body size");
  expectMpubError(be32(1), ErrorCode::BadMessage, "MPUB failed to read message(0) body size");
  expectMpubError(be32(2) + be32(1) + "a" + be32(5) + "abcd", ErrorCode::BadMessage,
                  "MPUB failed to read message body");
}

// readMpub: the stream as it arrives, one byte more per call, resumes where it stopped and
// asks for exactly the bytes its next step needs.
TEST(Wire, ReadMpubResumesByteByByteAndStopsAtTheLastMessage) {
  const std::string stream = mpubBody({"one", "three"}) + "NOP\n";
  const std::size_t length = 4 + 4 + 3 + 4 + 5;
  MpubProgress p;
  Error error;
  std::vector<std::size_t> wants;
  for (std::size_t n = 0; n <= stream.size(); ++n) {
    MpubStatus status = readMpub(std::string_view(stream).substr(0, n), kMaxMsg, kMaxBody, p, error);
    ASSERT_NE(status, MpubStatus::Failed) << error.description;
    if (status == MpubStatus::Done) {
      EXPECT_EQ(n, length);
      break;
    }
    if (wants.empty() || wants.back() != p.want) wants.push_back(p.want);
  }
  EXPECT_EQ(p.pos, length);
  EXPECT_EQ(p.index, 2);
  EXPECT_EQ(wants, (std::vector<std::size_t>{4, 8, 11, 15, 20}));
}

TEST(Wire, ReadMpubRefusesReadingPastMaxBodySizeBeforeTheBytesArrive) {
  // maxBody 30: the second message would end at 4 + 14 + 14 = 32.
  const std::string stream = mpubBody({std::string(10, 'x'), std::string(10, 'y')});
  MpubProgress p;
  Error error;
  EXPECT_EQ(readMpub(std::string_view(stream).substr(0, 4 + 14 + 4), kMaxMsg, 30, p, error), MpubStatus::Failed);
  EXPECT_EQ(error.code, ErrorCode::BadBody);
  EXPECT_EQ(error.description, "MPUB body too big 32 > 30");
  std::vector<std::string_view> out;
  EXPECT_FALSE(parseMpubBody(stream, kMaxMsg, 32, out)) << "exactly the limit is allowed";
}

TEST(Wire, ReadMpubChecksTheCountAndSizesAsTheyArrive) {
  MpubProgress p;
  Error error;
  EXPECT_EQ(readMpub(be32(0), kMaxMsg, kMaxBody, p, error), MpubStatus::Failed);
  EXPECT_EQ(error.description, "MPUB invalid message count 0");
  p = {};
  EXPECT_EQ(readMpub(be32(3) + be32(0), kMaxMsg, kMaxBody, p, error), MpubStatus::Failed);
  EXPECT_EQ(error.code, ErrorCode::BadMessage);
  EXPECT_EQ(error.description, "MPUB invalid message(0) body size 0");
}

// ---------------------------------------------------------------------------------------------
// Message, MessageId, Body

TEST(Message, HeaderIs26Bytes) { EXPECT_EQ(kMessageHeaderLength, 26u); }

TEST(Message, PayloadRoundTripsEveryField) {
  Message m;
  m.id = MessageId::fromGuid(0x0fedcba987654321ULL);
  m.timestamp = 1700000000123456789;
  m.attempts = 513;
  m.body = Body("hello\0world"s);
  std::string p = "pre";
  m.appendPayload(p);
  ASSERT_EQ(p.size(), 3 + 26 + 11u);
  EXPECT_EQ(p.size() - 3, m.payloadSize());
  EXPECT_EQ(p.substr(3 + 8, 2), "\x02\x01"s);  // attempts big-endian
  EXPECT_EQ(p.substr(3 + 10, 16), "0fedcba987654321");

  Message back;
  ASSERT_TRUE(Message::parsePayload(std::string_view(p).substr(3), back));
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.timestamp, m.timestamp);
  EXPECT_EQ(back.attempts, 513);
  EXPECT_EQ(back.body.view(), "hello\0world"s);
}

TEST(Message, ParsePayloadNeedsTheWholeHeader) {
  Message m;
  m.id = MessageId::fromGuid(42);
  m.attempts = 1;
  std::string p;
  m.appendPayload(p);
  ASSERT_EQ(p.size(), 26u);
  Message back;
  EXPECT_TRUE(Message::parsePayload(p, back));  // header only: empty body
  EXPECT_EQ(back.body.size(), 0u);
  EXPECT_EQ(back.attempts, 1);
  EXPECT_FALSE(Message::parsePayload(std::string_view(p).substr(0, 25), back));
  EXPECT_FALSE(Message::parsePayload("", back));
}

TEST(Message, IdFromGuidIsSixteenLowercaseHexDigitsBigEndian) {
  EXPECT_EQ(MessageId::fromGuid(0x0123456789abcdefULL).view(), "0123456789abcdef");
  EXPECT_EQ(MessageId::fromGuid(0xfedcba9876543210ULL).view(), "fedcba9876543210");
  EXPECT_EQ(MessageId::fromGuid(255).view(), "00000000000000ff");
  EXPECT_EQ(MessageId::fromGuid(0).view(), "0000000000000000");
  EXPECT_EQ(MessageId::fromGuid(UINT64_MAX).view(), "ffffffffffffffff");
}

TEST(Message, IdToGuidInvertsFromGuidAndRefusesOtherForms) {
  for (uint64_t g : {uint64_t{0}, uint64_t{255}, uint64_t{0xfedcba9876543210ULL}, UINT64_MAX}) {
    uint64_t back = 1;
    ASSERT_TRUE(MessageId::fromGuid(g).toGuid(back));
    EXPECT_EQ(back, g);
  }
  for (const char* text : {"00000000000000FF", "ZZZZ-any-bytes!!", "0123456789abcde ", "g000000000000000"}) {
    MessageId id;
    ASSERT_TRUE(MessageId::parse(text, id));
    uint64_t out = 42;
    EXPECT_FALSE(id.toGuid(out)) << text;
    EXPECT_EQ(out, 42u);
  }
}

// Every byte value at every position, against a digit-by-digit reference: only 0-9 and a-f
// are taken (not A-F, not bytes with the top bit set whose low bits look like a digit).
TEST(Message, IdToGuidChecksEveryByteAtEveryPosition) {
  auto reference = [](const MessageId& id, uint64_t& out) {
    uint64_t v = 0;
    for (char c : id.bytes) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = (v << 4) | static_cast<uint64_t>(d);
    }
    out = v;
    return true;
  };
  const MessageId base = MessageId::fromGuid(0x0123456789abcdefULL);
  int taken = 0;
  for (std::size_t pos = 0; pos < kMessageIdLength; ++pos) {
    for (int b = 0; b < 256; ++b) {
      MessageId id = base;
      id.bytes[pos] = static_cast<char>(b);
      uint64_t want = 0, got = 0;
      const bool ok = reference(id, want);
      ASSERT_EQ(id.toGuid(got), ok) << "position " << pos << " byte " << b;
      if (ok) {
        EXPECT_EQ(got, want) << "position " << pos << " byte " << b;
        ++taken;
      }
    }
  }
  EXPECT_EQ(taken, 16 * 16);
}

TEST(Message, IdParseRequiresExactlySixteenBytes) {
  MessageId id = MessageId::fromGuid(7);
  EXPECT_FALSE(MessageId::parse("", id));
  EXPECT_FALSE(MessageId::parse("0123456789abcde", id));
  EXPECT_FALSE(MessageId::parse("0123456789abcdef0", id));
  EXPECT_EQ(id.view(), "0000000000000007");  // untouched on failure
  ASSERT_TRUE(MessageId::parse("ZZZZ-any-bytes!!", id));  // opaque: only the length matters
  EXPECT_EQ(id.view(), "ZZZZ-any-bytes!!");
  MessageId other;
  ASSERT_TRUE(MessageId::parse("ZZZZ-any-bytes!!", other));
  EXPECT_EQ(id, other);
  EXPECT_EQ(MessageIdHash{}(id), MessageIdHash{}(other));
}

TEST(Body, DefaultIsEmpty) {
  Body b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.view(), "");
  Body e("");
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.view(), "");
}

TEST(Body, CopiesShareTheBlock) {
  Body a("payload");
  Body b(a);
  EXPECT_EQ(b.view(), "payload");
  EXPECT_EQ(a.view().data(), b.view().data());
  Body c;
  c = b;
  EXPECT_EQ(c.view().data(), a.view().data());
  {
    Body d(c);
    (void)d;
  }
  a = Body("other");  // drops one reference, b and c keep the old block alive
  EXPECT_EQ(a.view(), "other");
  EXPECT_EQ(b.view(), "payload");
  EXPECT_EQ(c.view(), "payload");
}

TEST(Body, MovesTransferWithoutCopying) {
  Body a("move me");
  const char* data = a.view().data();
  Body b(std::move(a));
  EXPECT_EQ(b.view().data(), data);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  Body c("old");
  c = std::move(b);
  EXPECT_EQ(c.view().data(), data);
  EXPECT_EQ(c.view(), "move me");
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

TEST(Body, SelfAssignmentKeepsTheBlock) {
  Body a("self");
  Body& ref = a;
  a = ref;
  EXPECT_EQ(a.view(), "self");
  a = std::move(ref);
  EXPECT_EQ(a.view(), "self");
}

TEST(Body, CopiesReleasedOnManyThreadsFreeOnce) {
  Body shared("shared across threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = shared] {
      for (int i = 0; i < 10000; ++i) {
        Body local(copy);
        Body moved(std::move(local));
        ASSERT_EQ(moved.view(), "shared across threads");
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.view(), "shared across threads");
}

TEST(Body, MessageCopiesShareTheBody) {
  Message m;
  m.body = Body("fan-out");
  Message copy = m;
  EXPECT_EQ(copy.body.view().data(), m.body.view().data());
  copy.attempts = 3;
  EXPECT_EQ(m.attempts, 0);
}

}  // namespace
}  // namespace nsq

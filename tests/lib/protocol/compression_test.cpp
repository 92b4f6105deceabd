// Stream codecs: round trips through both directions, the exact Snappy framing bytes, and
// refusal of corrupt streams and decompression bombs.
#include "nsq/protocol/compression.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

using namespace nsq;

namespace {
std::string sample(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng() % (i % 7 == 0 ? 26 : 3)));
  return s;
}

// Feeds `wire` to a decoder in pieces of `step` bytes, as a socket would.
std::string decodeInPieces(StreamCodec& c, const std::string& wire, std::size_t step) {
  std::string out, err;
  for (std::size_t i = 0; i < wire.size(); i += step)
    EXPECT_TRUE(c.decode(std::string_view(wire).substr(i, step), out, 1 << 30, &err)) << err;
  return out;
}
}  // namespace

class CodecRoundTrip : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<StreamCodec> make() { return GetParam() == "deflate" ? makeDeflateCodec(6) : makeSnappyCodec(); }
};

TEST_P(CodecRoundTrip, SeveralFlushesDecodeToTheSameBytesWhateverTheChunking) {
  auto sender = make(), receiver = make();
  std::string wire, plain;
  for (std::size_t n : {1u, 100u, 70000u, 5u, 200000u}) {
    std::string part = sample(n, static_cast<unsigned>(n));
    plain += part;
    sender->encode(part, wire);
  }
  EXPECT_LT(wire.size(), plain.size()) << "compressible data did not shrink";
  EXPECT_EQ(decodeInPieces(*receiver, wire, 1), plain);
  auto again = make();
  EXPECT_EQ(decodeInPieces(*again, wire, 4096), plain);
}

TEST_P(CodecRoundTrip, EachFlushIsDecodableOnItsOwn) {
  auto sender = make(), receiver = make();
  std::string out, err;
  for (int i = 0; i < 5; ++i) {
    std::string wire;
    std::string msg = "frame " + std::to_string(i);
    sender->encode(msg, wire);
    out.clear();
    ASSERT_TRUE(receiver->decode(wire, out, 1 << 20, &err)) << err;
    EXPECT_EQ(out, msg) << "a flush must not leave bytes buffered in the encoder";
  }
}

TEST_P(CodecRoundTrip, RefusesOutputPastTheLimit) {
  auto sender = make(), receiver = make();
  std::string wire, out, err;
  sender->encode(std::string(1 << 20, 'z'), wire);
  EXPECT_FALSE(receiver->decode(wire, out, 64 * 1024, &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
}

TEST_P(CodecRoundTrip, RejectsGarbage) {
  auto receiver = make();
  std::string out, err;
  std::string garbage(64, '\x07');
  EXPECT_FALSE(receiver->decode(garbage, out, 1 << 20, &err));
  EXPECT_FALSE(err.empty());
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecRoundTrip, ::testing::Values("deflate", "snappy"));

TEST(Snappy, StreamStartsWithTheIdentifierChunk) {
  auto c = makeSnappyCodec();
  std::string wire;
  c->encode("hi", wire);
  ASSERT_GE(wire.size(), 10u);
  EXPECT_EQ(wire.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
  // "hi" does not compress: an uncompressed chunk (type 1) of 4 CRC bytes + 2 data bytes.
  EXPECT_EQ(static_cast<unsigned char>(wire[10]), 0x01);
  EXPECT_EQ(wire.substr(11, 3), std::string("\x06\x00\x00", 3));
  EXPECT_EQ(wire.substr(18), "hi");
}

TEST(Snappy, RejectsABadChecksumAndAMissingIdentifier) {
  auto sender = makeSnappyCodec();
  std::string wire;
  sender->encode("hello hello hello hello", wire);
  std::string bad = wire;
  bad[14] ^= 0x55;  // a CRC byte of the first data chunk
  auto r1 = makeSnappyCodec();
  std::string out, err;
  EXPECT_FALSE(r1->decode(bad, out, 1 << 20, &err));
  EXPECT_NE(err.find("checksum"), std::string::npos) << err;
  auto r2 = makeSnappyCodec();
  EXPECT_FALSE(r2->decode(wire.substr(10), out, 1 << 20, &err));
  EXPECT_NE(err.find("identifier"), std::string::npos) << err;
}

TEST(Deflate, IsRawDeflateReadableByZlib) {
  auto c = makeDeflateCodec(9);
  std::string wire;
  c->encode("raw deflate, no zlib header", wire);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, -15), Z_OK);
  char buf[256];
  z.next_in = reinterpret_cast<Bytef*>(wire.data());
  z.avail_in = static_cast<uInt>(wire.size());
  z.next_out = reinterpret_cast<Bytef*>(buf);
  z.avail_out = sizeof buf;
  int rc = inflate(&z, Z_SYNC_FLUSH);
  EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR);
  EXPECT_EQ(std::string(buf, sizeof buf - z.avail_out), "raw deflate, no zlib header");
  inflateEnd(&z);
}

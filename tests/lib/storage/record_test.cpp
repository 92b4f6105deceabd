// Record framing: the byte layout both the disk queue and the journal write, round trips, and
// the three ways a record fails validation (short/torn, length out of range, bad checksum).
#include "nsq/storage/record.h"

#include <gtest/gtest.h>

#include "nsq/base/crc32c.h"
#include "nsq/protocol/message.h"

namespace nsq {
namespace {

TEST(Record, LayoutIsBigEndianLengthThenCrcOfLengthAndBody) {
  std::string out;
  appendRecord(out, "hello");
  ASSERT_EQ(out.size(), kRecordHeaderSize + 5u);
  EXPECT_EQ(getUint32(out.data()), 5u);
  EXPECT_EQ(getUint32(out.data() + 4), crc32c(crc32c(0, out.data(), 4), "hello", 5));
  EXPECT_EQ(out.substr(8), "hello");
}

TEST(Record, FileHeaderIsMagicVersionAndZeroReserved) {
  std::string out;
  appendFileHeader(out, 0xD14E5144, 1);
  EXPECT_EQ(out, std::string("\xD1\x4E\x51\x44\x00\x01\x00\x00", 8));
}

TEST(Record, RoundTripsAndSealedInPlaceEqualsAppended) {
  std::string appended, sealed = "prefix";
  appendRecord(appended, "body bytes");
  std::size_t start = beginRecord(sealed);
  EXPECT_EQ(start, 6u);
  sealed += "body bytes";
  sealRecord(sealed, start);
  EXPECT_EQ(sealed.substr(6), appended);
  RecordCheck r = checkRecord(appended, 1, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.bodyLength, 10);
  EXPECT_EQ(appended.substr(kRecordHeaderSize, r.bodyLength), "body bytes");
}

TEST(Record, ABodyInTwoPartsIsTheSameRecordAsTheJoinedBody) {
  for (std::size_t cut : {0u, 1u, 26u, 200u, 201u}) {
    std::string body(201, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + 3);
    std::string joined, parts = "x";
    appendRecord(joined, body);
    appendRecord(parts, std::string_view(body).substr(0, cut), std::string_view(body).substr(cut));
    EXPECT_EQ(parts.substr(1), joined) << "cut at " << cut;
  }
}

TEST(Record, EmptyBodyIsAValidRecordWhenTheMinimumAllowsIt) {
  std::string out;
  appendRecord(out, "");
  EXPECT_TRUE(checkRecord(out, 0, 10));
  EXPECT_EQ(checkRecord(out, 1, 10).status, RecordStatus::BadLength);
}

TEST(Record, ATornRecordIsShort) {
  std::string out;
  appendRecord(out, "0123456789");
  for (std::size_t cut = 0; cut < out.size(); ++cut)
    EXPECT_EQ(checkRecord(std::string_view(out).substr(0, cut), 1, 100).status, RecordStatus::Short) << cut;
}

TEST(Record, LengthOutsideTheBoundsIsBadLength) {
  std::string out;
  appendRecord(out, "0123456789");
  EXPECT_EQ(checkRecord(out, 11, 100).status, RecordStatus::BadLength);
  EXPECT_EQ(checkRecord(out, 1, 9).status, RecordStatus::BadLength);
  putUint32(out.data(), 0xFFFFFFFF);  // a huge length is refused before any bounds check
  EXPECT_EQ(checkRecord(out, 1, 100).status, RecordStatus::BadLength);
}

TEST(Record, AnyFlippedBitIsDetected) {
  std::string good;
  appendRecord(good, "payload");
  for (std::size_t i = 0; i < good.size(); ++i) {
    if (i < 4) continue;  // a changed length is BadLength or Short, covered above
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_EQ(checkRecord(bad, 1, 100).status, RecordStatus::BadChecksum) << i;
    EXPECT_FALSE(recordChecksumMatches(bad.data(), 7));
  }
}

TEST(Record, AChangedLengthCannotPassAsAShorterRecord) {
  std::string out;
  appendRecord(out, "0123456789");
  putUint32(out.data(), 9);
  EXPECT_EQ(checkRecord(out, 1, 100).status, RecordStatus::BadChecksum);
}

TEST(Record, TrailingBytesAfterAWholeRecordAreIgnored) {
  std::string out;
  appendRecord(out, "abc");
  out += "next record";
  RecordCheck r = checkRecord(out, 1, 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.bodyLength, 3);
  EXPECT_EQ(recordBodyLength(out.data()), 3u);
}

}  // namespace
}  // namespace nsq

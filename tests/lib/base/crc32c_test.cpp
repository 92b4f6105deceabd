// crc32c: the check value, continuation, and the hardware/table paths against a bitwise reference.
#include "nsq/base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace nsq {
namespace {

// CRC-32C one bit at a time: what every fast path must agree with.
uint32_t reference(uint32_t crc, const unsigned char* p, std::size_t n) {
  crc = ~crc;
  while (n-- > 0) {
    crc ^= *p++;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Crc32c, MatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
  std::string s(1000, 'x');
  EXPECT_EQ(crc32c(crc32c(0, s.data(), 333), s.data() + 333, 667), crc32c(0, s.data(), s.size()));
}

TEST(Crc32c, MatchesABitwiseReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<unsigned char> buf(300);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (std::size_t off = 0; off < 9; ++off)
    for (std::size_t n = 0; n + off <= buf.size(); n += 7)
      ASSERT_EQ(crc32c(0, buf.data() + off, n), reference(0, buf.data() + off, n)) << off << "+" << n;
}

TEST(Crc32c, MatchesTheReferenceOnLongBuffersAndContinuations) {
  // Long enough for the three-stream rounds (3 x 256 and 3 x 64 bytes), from any start value.
  std::mt19937 rng(11);
  std::vector<unsigned char> buf(4000 + 2);  // the longest run (3999) from each offset (0..2)
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (std::size_t n : {191u, 192u, 193u, 234u, 767u, 768u, 769u, 1050u, 1535u, 1536u, 2500u, 3999u})
    for (std::size_t off = 0; off < 3; ++off) {
      const uint32_t start = rng();
      ASSERT_EQ(crc32c(start, buf.data() + off, n), reference(start, buf.data() + off, n)) << off << "+" << n;
    }
}

}  // namespace
}  // namespace nsq

// Message payload codec and the Body block (its memory comes from body_pool.h).
#include "nsq/protocol/message.h"

#include <cstring>
#include <new>

#include "nsq/protocol/body_pool.h"

namespace nsq {

namespace {
// Number to hex a byte at a time (hex to number: hexWord below): the memory queue turns every ID
// it holds into its number and back (memory_queue.h), so both run once per queued message.
struct HexTables {
  char pairs[256][2];
  constexpr HexTables() : pairs{} {
    constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      pairs[b][0] = kHex[b >> 4];
      pairs[b][1] = kHex[b & 0xf];
    }
  }
};
constexpr HexTables kHexTables;
}  // namespace

MessageId MessageId::fromGuid(uint64_t guid) {
  MessageId id;
  for (std::size_t i = kMessageIdLength; i > 0; i -= 2, guid >>= 8)
    std::memcpy(&id.bytes[i - 2], kHexTables.pairs[guid & 0xff], 2);
  return id;
}

namespace {
// Eight ASCII hex digits (p[0] the most significant) -> their value, all eight bytes tested and
// converted at once in one register (SWAR). False if any byte is not one of 0-9a-f. The
// byte-at-a-time table walk it replaces was 3.2% of nsqd's CPU in the fan-out benchmark (every
// channel's memory queue converts each ID it holds).
bool hexWord(const char* p, uint32_t& out) {
  constexpr uint64_t kL = 0x0101010101010101ULL, kH = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, 8);  // little-endian: p[0] in the low byte
  // With the top bit of every byte set, (xh - n) per byte keeps its top bit exactly when the
  // byte is >= n (n < 0x80: no borrow crosses into the next byte).
  const uint64_t xh = x | kH;
  const uint64_t digit = (xh - 0x30 * kL) & ~(xh - 0x3A * kL) & kH;  // '0' <= b <= '9'
  const uint64_t lower = (xh - 0x61 * kL) & ~(xh - 0x67 * kL) & kH;  // 'a' <= b <= 'f'
  if ((x & kH) != 0 || (digit | lower) != kH) return false;
  const uint64_t nib = (x & 0x0F0F0F0F0F0F0F0FULL) + (lower >> 7) * 9;  // 'a'..'f': 1..6 + 9
  // Pairs of nibbles into bytes, bytes into a 32-bit word, then most significant first.
  const uint64_t bytes16 = ((nib & 0x000F000F000F000FULL) << 4) | ((nib >> 8) & 0x000F000F000F000FULL);
  const uint64_t bytes32 = (bytes16 | (bytes16 >> 8)) & 0x0000FFFF0000FFFFULL;
  out = __builtin_bswap32(static_cast<uint32_t>(bytes32 | (bytes32 >> 16)));
  return true;
}
}  // namespace

bool MessageId::toGuid(uint64_t& out) const {
  uint32_t hi, lo;
  if (!hexWord(bytes.data(), hi) || !hexWord(bytes.data() + 8, lo)) return false;
  out = (static_cast<uint64_t>(hi) << 32) | lo;
  return true;
}

bool MessageId::parse(std::string_view text, MessageId& out) {
  if (text.size() != kMessageIdLength) return false;
  std::memcpy(out.bytes.data(), text.data(), kMessageIdLength);
  return true;
}

Body::Body(std::string_view bytes) {
  block_ = static_cast<Block*>(allocateBodyBlock(sizeof(Block) + bytes.size()));
  new (&block_->refs) std::atomic<uint32_t>(1);
  block_->size = static_cast<uint32_t>(bytes.size());
  if (!bytes.empty()) std::memcpy(reinterpret_cast<char*>(block_ + 1), bytes.data(), bytes.size());
}

void Body::release() noexcept {
  // A count of 1 seen from here is our own reference: no other thread holds one it could copy or
  // drop, so the block is freed without the locked decrement (the last release of every body,
  // at FIN or when a drained disk record's copy goes).
  if (block_ && (block_->refs.load(std::memory_order_acquire) == 1 ||
                 block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)) {
    const std::size_t bytes = sizeof(Block) + block_->size;
    block_->refs.~atomic();
    freeBodyBlock(block_, bytes);
  }
  block_ = nullptr;
}

void Message::encodeHeader(char (&out)[kMessageHeaderLength]) const {
  putUint64(out, static_cast<uint64_t>(timestamp));
  putUint16(out + 8, attempts);
  std::memcpy(out + 10, id.bytes.data(), kMessageIdLength);
}

void Message::appendPayload(std::string& out) const {
  char header[kMessageHeaderLength];
  encodeHeader(header);
  out.append(header, sizeof(header));
  out.append(body.view());
}

bool Message::parsePayload(std::string_view payload, Message& out) {
  if (payload.size() < kMessageHeaderLength) return false;
  out.timestamp = static_cast<int64_t>(getUint64(payload.data()));
  out.attempts = getUint16(payload.data() + 8);
  std::memcpy(out.id.bytes.data(), payload.data() + 10, kMessageIdLength);
  out.body = Body(payload.substr(kMessageHeaderLength));
  return true;
}

}  // namespace nsq

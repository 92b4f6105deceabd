// Message payload codec and the Body block (its memory comes from body_pool.h).
#include "nsq/protocol/message.h"

#include <new>

#include "nsq/protocol/body_pool.h"

namespace nsq {

namespace {
// Hex both ways a byte at a time: the memory queue turns every ID it holds into its number and
// back (memory_queue.h), so these run twice per queued message.
struct HexTables {
  char pairs[256][2];
  int8_t digit[256];
  constexpr HexTables() : pairs{}, digit{} {
    constexpr char kHex[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      pairs[b][0] = kHex[b >> 4];
      pairs[b][1] = kHex[b & 0xf];
      digit[b] = -1;
    }
    for (int d = 0; d < 16; ++d) digit[static_cast<unsigned char>(kHex[d])] = static_cast<int8_t>(d);
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

bool MessageId::toGuid(uint64_t& out) const {
  uint64_t v = 0;
  int bad = 0;
  for (char c : bytes) {
    int d = kHexTables.digit[static_cast<unsigned char>(c)];
    bad |= d;  // negative once any byte is not a lowercase hex digit
    v = (v << 4) | static_cast<uint64_t>(d & 0xf);
  }
  if (bad < 0) return false;
  out = v;
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

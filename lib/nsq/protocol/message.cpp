// Message payload codec and the Body block allocator.
#include "nsq/protocol/message.h"

#include <cstdlib>
#include <new>

namespace nsq {

MessageId MessageId::fromGuid(uint64_t guid) {
  static constexpr char kHex[] = "0123456789abcdef";
  MessageId id;
  for (int i = 15; i >= 0; --i, guid >>= 4) id.bytes[i] = kHex[guid & 0xf];
  return id;
}

bool MessageId::parse(std::string_view text, MessageId& out) {
  if (text.size() != kMessageIdLength) return false;
  std::memcpy(out.bytes.data(), text.data(), kMessageIdLength);
  return true;
}

Body::Body(std::string_view bytes) {
  void* mem = std::malloc(sizeof(Block) + bytes.size());
  if (!mem) throw std::bad_alloc();
  block_ = static_cast<Block*>(mem);
  new (&block_->refs) std::atomic<uint32_t>(1);
  block_->size = static_cast<uint32_t>(bytes.size());
  if (!bytes.empty()) std::memcpy(reinterpret_cast<char*>(block_ + 1), bytes.data(), bytes.size());
}

void Body::release() noexcept {
  if (block_ && block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->refs.~atomic();
    std::free(block_);
  }
  block_ = nullptr;
}

void Message::appendPayload(std::string& out) const {
  char header[kMessageHeaderLength];
  putUint64(header, static_cast<uint64_t>(timestamp));
  putUint16(header + 8, attempts);
  std::memcpy(header + 10, id.bytes.data(), kMessageIdLength);
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

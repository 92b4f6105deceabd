#pragma once
// Message: the unit a topic stores and a channel delivers. Its serialized payload is the same on
// the wire (inside a message frame) and on disk (inside a disk-queue record), NSQ-COMPAT §1.2:
//
//   0         8          10                    26
//   +---------+----------+---------------------+----------------+
//   | int64   | uint16   | 16 bytes ASCII hex   | body (N bytes) |
//   | ts (ns) | attempts | message ID           |                |
//   +---------+----------+---------------------+----------------+
//   big-endian integers
//
// The body is held in a refcounted, immutable Body block allocated once per publish; each
// channel's copy of a message shares it, so fan-out to many channels copies 48 bytes, not bodies.
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace nsq {

constexpr std::size_t kMessageIdLength = 16;
constexpr std::size_t kMessageHeaderLength = 8 + 2 + kMessageIdLength;  // 26

struct MessageId {
  std::array<char, kMessageIdLength> bytes{};

  static MessageId fromGuid(uint64_t guid);  // 16 lowercase hex chars of the big-endian guid
  // The inverse of fromGuid(): false (out untouched) unless all 16 bytes are lowercase hex.
  bool toGuid(uint64_t& out) const;
  static bool parse(std::string_view text, MessageId& out);  // false unless exactly 16 bytes
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  // Two 8-byte compares: std::array's == became a call to memcmp, 4.6% of nsqd's CPU while it
  // drained a disk backlog (journal lookups on every pop and FIN).
  bool operator==(const MessageId& o) const {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, bytes.data(), 8);
    std::memcpy(&a1, bytes.data() + 8, 8);
    std::memcpy(&b0, o.bytes.data(), 8);
    std::memcpy(&b1, o.bytes.data() + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
};

struct MessageIdHash {
  // IDs are hex of a time-ordered counter: consecutive ones differ only in the last bytes, which
  // land in the high bits of b. A full avalanche (murmur3's fmix64) spreads them over the low
  // bits a table indexes by; a plain multiply would not (it carries only upwards). Two 8-byte
  // loads: the byte-wise FNV-1a it replaces was 7.8% of nsqd's CPU draining a disk backlog.
  std::size_t operator()(const MessageId& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.bytes.data(), 8);
    std::memcpy(&b, id.bytes.data() + 8, 8);
    return static_cast<std::size_t>(mix(a, b));
  }
  // The two words' mix: every input bit moves about half the output bits.
  static uint64_t mix(uint64_t a, uint64_t b) noexcept {
    uint64_t h = b ^ (a * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
  }
};

// Immutable refcounted byte block: one allocation (body_pool.h) holds the count, the size and
// the bytes.
class Body {
 public:
  Body() = default;
  explicit Body(std::string_view bytes);
  Body(const Body& o) noexcept : block_(o.block_) { retain(); }
  Body(Body&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
  Body& operator=(const Body& o) noexcept {
    if (this != &o) {
      release();
      block_ = o.block_;
      retain();
    }
    return *this;
  }
  Body& operator=(Body&& o) noexcept {
    if (this != &o) {
      release();
      block_ = std::exchange(o.block_, nullptr);
    }
    return *this;
  }
  ~Body() { release(); }

  std::string_view view() const { return block_ ? std::string_view(block_->data(), block_->size) : ""; }
  std::size_t size() const { return block_ ? block_->size : 0; }

 private:
  struct Block {
    std::atomic<uint32_t> refs;
    uint32_t size;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }  // bytes follow
  };
  void retain() const noexcept {
    if (block_) block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept;
  Block* block_ = nullptr;
};

struct Message {
  MessageId id;
  int64_t timestamp = 0;  // ns since epoch, set at publish
  uint16_t attempts = 0;  // incremented just before each delivery
  Body body;

  std::size_t payloadSize() const { return kMessageHeaderLength + body.size(); }
  // Appends the §1.2 payload to out.
  void appendPayload(std::string& out) const;
  // The payload's header (timestamp, attempts, ID); the body follows it.
  void encodeHeader(char (&out)[kMessageHeaderLength]) const;
  // Parses a §1.2 payload; false if shorter than the header.
  static bool parsePayload(std::string_view payload, Message& out);
};

inline void putUint16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void putUint32(char* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
}
inline void putUint64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
}
inline uint16_t getUint16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint32_t getUint32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t getUint64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace nsq

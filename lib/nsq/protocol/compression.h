#pragma once
// Stream compression for NSQ connections (NSQ-COMPAT §1.7): raw DEFLATE (RFC 1951, no zlib
// header, sync-flushed on every flush) and the Snappy framing format (stream identifier, then
// compressed/uncompressed chunks of at most 64 KiB with masked CRC-32C). One codec object per
// connection direction pair; not thread-safe.
//
// Snappy framing chunk:
//   +------+-----------------+------------------------+------------------+
//   | type | length (3B, LE) | masked CRC-32C (4B, LE) | data             |
//   +------+-----------------+------------------------+------------------+
//   type 0xff stream identifier ("sNaPpY"), 0x00 compressed, 0x01 uncompressed,
//   0x80-0xfe skippable; length counts CRC + data.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace nsq {

class StreamCodec {
 public:
  virtual ~StreamCodec() = default;
  // Compresses `plain` and appends the bytes to send (flushed: the peer can decode all of it).
  virtual void encode(std::string_view plain, std::string& out) = 0;
  // Decompresses received bytes, appending plaintext to out. Keeps partial input for the next
  // call. Returns false with *error on corrupt input or when one call would produce more than
  // maxOutput bytes (a decompression bomb).
  virtual bool decode(std::string_view wire, std::string& out, std::size_t maxOutput, std::string* error) = 0;
  virtual const char* name() const = 0;
};

// level 1..9
std::unique_ptr<StreamCodec> makeDeflateCodec(int level);
std::unique_ptr<StreamCodec> makeSnappyCodec();

}  // namespace nsq

// Fuzz target: the snappy and deflate stream decoders a client's bytes pass through once
// IDENTIFY negotiated compression. The first byte picks the codec and where to cut the input
// into two reads; the output bound (a decompression bomb's limit) must hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nsq/protocol/compression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto codec = (data[0] & 1) ? nsq::makeSnappyCodec() : nsq::makeDeflateCodec(6);
  std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = wire.empty() ? 0 : (data[0] >> 1) % (wire.size() + 1);
  constexpr std::size_t kMaxOutput = 64 * 1024;
  std::string out, error;
  if (codec->decode(wire.substr(0, cut), out, kMaxOutput, &error)) {
    std::size_t first = out.size();
    if (first > kMaxOutput) std::abort();
    if (codec->decode(wire.substr(cut), out, kMaxOutput, &error) && out.size() - first > kMaxOutput) std::abort();
  }
  // Round trip: what we encode, the same codec kind decodes to the same bytes.
  auto enc = (data[0] & 1) ? nsq::makeSnappyCodec() : nsq::makeDeflateCodec(6);
  auto dec = (data[0] & 1) ? nsq::makeSnappyCodec() : nsq::makeDeflateCodec(6);
  std::string packed, back;
  enc->encode(wire, packed);
  if (!dec->decode(packed, back, wire.size() + 1, &error) || back != wire) std::abort();
  return 0;
}
